"""tippecanoe run in the background: start it, go on working, wait for it, keep what it wrote.

`TippecanoeJob` runs the command (publish.tiles.tippecanoe) beside the output file, checks the
archive it wrote (publish.tiles.check) and renames it into place, or raises BuildError quoting
the end of tippecanoe's stderr; `run_tippecanoe` does all of it in one call.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Unpack

from publish.errors import BuildError
from publish.tiles.check import check_archive
from publish.tiles.inputs import LayerInput
from publish.tiles.tippecanoe import CommandOptions, tile_command

__all__ = ["JobOptions", "TippecanoeJob", "run_tippecanoe"]

_STDERR_TAIL = 2000  # characters of tippecanoe's stderr quoted in a BuildError


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGKILL tippecanoe when the build process dies, so a killed build leaves no worker."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class TippecanoeJob:
    """One tippecanoe run in the background: `start` it, go on working, then `wait` for it.

    tippecanoe writes beside `out_path`; `wait` checks what it wrote (see `check_archive`) and
    renames it into place, or raises BuildError. `kill` stops it and removes its files.
    """

    def __init__(
        self,
        inputs: Sequence[LayerInput],
        out_path: Path,
        name: str,
        *,
        require_complete: bool = True,
        **options: Unpack[CommandOptions],
    ) -> None:
        out_path = Path(out_path)
        if out_path.suffix != ".pmtiles":
            raise BuildError(f"{out_path}: the output must be a .pmtiles file")
        for layer in inputs:
            if not layer.path.is_file():
                raise BuildError(f"layer {layer.id}: input {layer.path} does not exist")
        self.inputs = list(inputs)
        self.out_path = out_path
        self.require_complete = require_complete
        self.tmp = out_path.with_name(f".{out_path.stem}.{os.getpid()}.tmp.pmtiles")
        self._cmd = tile_command(
            inputs, self.tmp, name, temporary_directory=out_path.parent, **options
        )
        self._stderr_path = out_path.with_name(f".{out_path.stem}.{os.getpid()}.stderr")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> TippecanoeJob:
        # stderr to a file, not a pipe: no deadlock on long output; the child keeps its own copy
        with open(self._stderr_path, "wb") as stderr:
            try:
                self._proc = subprocess.Popen(
                    self._cmd,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    preexec_fn=_die_with_parent,
                )
            except OSError as exc:
                self._cleanup()
                raise BuildError(f"tippecanoe could not run: {exc}") from exc
        return self

    def _stderr(self) -> str:
        try:
            return self._stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _cleanup(self) -> None:
        self.tmp.unlink(missing_ok=True)
        self._stderr_path.unlink(missing_ok=True)

    def poll(self) -> bool:
        """True once tippecanoe has exited."""
        return self._proc is not None and self._proc.poll() is not None

    def wait(self, timeout: float | None = None) -> None:
        if self._proc is None:
            self.start()
        assert self._proc is not None
        try:
            try:
                code = self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                self._proc.kill()
                self._proc.wait()
                raise BuildError(f"tippecanoe took longer than {timeout} s") from exc
            stderr = self._stderr()
            if code != 0:
                raise BuildError(
                    f"tippecanoe exited with {code} building {self.out_path.name}: {_tail(stderr)}"
                )
            problems = check_archive(self.tmp, self.inputs, require_complete=self.require_complete)
            if problems:
                raise BuildError(
                    f"tippecanoe wrote a bad archive for {self.out_path.name}: "
                    + "; ".join(problems)
                    + (f" (tippecanoe said: {_tail(stderr)})" if stderr.strip() else "")
                )
            os.replace(self.tmp, self.out_path)
        finally:
            self._cleanup()

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._cleanup()


class JobOptions(CommandOptions, total=False):
    """`TippecanoeJob`'s keyword options, for `run_tippecanoe` to pass on."""

    require_complete: bool


def run_tippecanoe(
    inputs: Sequence[LayerInput],
    out_path: Path,
    name: str,
    *,
    timeout: float | None = None,
    **options: Unpack[JobOptions],
) -> None:
    """Tile `inputs` into `out_path` (written beside it, checked, then renamed into place).

    Raises BuildError when tippecanoe fails or the archive it wrote does not hold what was
    asked: a sound PMTiles file, the requested zoom span, exactly the given layers, real bounds,
    tiles for every layer that has features and, with `require_complete`, every feature of a
    layer (by distinct id) at its check zoom. Temporary files go in `out_path`'s folder.
    """
    TippecanoeJob(inputs, out_path, name, **options).start().wait(timeout)


def _tail(text: str) -> str:
    """The end of tippecanoe's stderr without its "Merging ..." progress lines."""
    lines = (line.rstrip() for line in text.splitlines())
    text = "\n".join(line for line in lines if line and not line.startswith("Merging ")).strip()
    if not text:
        return "(no output on stderr)"
    return text if len(text) <= _STDERR_TAIL else "…" + text[-_STDERR_TAIL:]
