"""SSH targets of `release push`: `[user@]host:/absolute/path`, a node's tiles folder reached
with OpenSSH.

Each step of the push (publish.release.node) runs on the node as `python -m publish release-node
STEP --tiles PATH --release ID`, with the package the node serves from: the checks, the sha256
verification and the atomic switch are the node's own code, on its own disk. The files go as one
tar stream into `release-node receive`'s standard input (modes and times kept); nothing but
`ssh` is needed on this side, and nothing but the installed package on the node.

The ssh command line (`--ssh`, else $PUBLISH_SSH_COMMAND, else `ssh`) is split like a shell's,
so it carries the port, the identity and any `-o` option: `--ssh "ssh -p 2222 -i
~/.ssh/onemap_push"`; `-o BatchMode=yes -o ConnectTimeout=20` follow it (a push never waits for a
password, nor long for a node that does not answer; an option of the command wins). The node's
Python (`--remote-python`, else $PUBLISH_REMOTE_PYTHON, else `python3`) is the one of the
environment the package is installed in on the node, e.g. /opt/onemap/venv/bin/python.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from publish.errors import ReleaseError
from publish.release.node import Prepared

DEFAULT_SSH = "ssh"
DEFAULT_REMOTE_PYTHON = "python3"
# after the user's own options, which win (ssh takes the first value of each option)
_SSH_DEFAULTS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=20")
# user@host:/path or host:/path; the host a name, an IPv4 address or [an IPv6 address]
_SSH_TARGET = re.compile(
    r"^(?:(?P<user>[A-Za-z0-9._][A-Za-z0-9._-]*)@)?"
    r"(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]):(?P<path>.*)$"
)


def looks_like_ssh(text: str) -> bool:
    """An SSH target (`host:path`, `user@host:path`) rather than a local path: a colon
    before the first slash, as scp and rsync read it."""
    head = text.split("/", 1)[0]
    return ":" in head


@dataclass(frozen=True)
class SshOptions:
    """How to reach the nodes: the ssh command line, and the Python on the node."""

    command: tuple[str, ...] = (DEFAULT_SSH,)
    remote_python: str = DEFAULT_REMOTE_PYTHON

    @classmethod
    def from_text(cls, command: str | None, remote_python: str | None) -> SshOptions:
        try:
            words = tuple(shlex.split(command or DEFAULT_SSH))
        except ValueError as exc:
            raise ReleaseError(f"--ssh {command!r}: {exc}") from None
        if not words:
            raise ReleaseError("--ssh is empty (give the ssh command, e.g. 'ssh -p 2222')")
        return cls(words, remote_python or DEFAULT_REMOTE_PYTHON)


class SshTarget:
    """A tiles folder on a node, reached over SSH (see the module)."""

    def __init__(self, text: str, options: SshOptions) -> None:
        match = _SSH_TARGET.match(text)
        if match is None:
            raise ReleaseError(
                f"target {text!r} is not a folder or an SSH target ([user@]host:/absolute/path)"
            )
        path = match["path"]
        if not path.startswith("/"):
            raise ReleaseError(
                f"target {text!r}: the path on the node must be absolute ([user@]host:/path)"
            )
        self.text = text
        self.destination = f"{match['user']}@{match['host']}" if match["user"] else match["host"]
        self.path = str(PurePosixPath(path))
        self.options = options

    @property
    def name(self) -> str:
        return self.text

    @property
    def key(self) -> object:
        return (self.destination, self.path)

    # -- the steps, on the node ------------------------------------------------------------

    def prepare(self, rid: str, size: int) -> Prepared:
        answer = self._run("prepare", rid, "--bytes", str(size))
        return Prepared(answer.get("before"), bool(answer.get("held")), bool(answer.get("replace")))

    def receive(self, release: Path, files: Sequence[str]) -> None:
        """Stream the files as a tar archive into `release-node receive` on the node."""
        argv = self._argv("receive", release.name)
        with tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err
                )
            except OSError as exc:
                raise ReleaseError(f"cannot run {argv[0]}: {exc}") from exc
            assert proc.stdin is not None
            try:
                with tarfile.open(fileobj=proc.stdin, mode="w|") as tar:
                    for rel in files:
                        tar.add(release / rel, arcname=rel, recursive=False)
            except BrokenPipeError:
                pass  # the node stopped reading: its status and message say why
            finally:
                proc.stdin.close()
            status = proc.wait()
            err.seek(0)
            message = err.read().decode("utf-8", "replace")
        if status != 0:
            raise ReleaseError(_failure(message, status))

    def verify(self, rid: str) -> None:
        self._run("verify", rid)

    def install(self, rid: str, replace: bool) -> None:
        self._run("install", rid, *(["--replace"] if replace else []))

    def switch(self, rid: str) -> None:
        self._run("switch", rid)

    def discard(self, rid: str) -> None:
        self._run("discard", rid)

    def current_id(self) -> str | None:
        current = self._run("status", None).get("current")
        return str(current) if current else None

    # -- running them ----------------------------------------------------------------------

    def _argv(self, step: str, rid: str | None, *extra: str) -> list[str]:
        remote = [self.options.remote_python, "-m", "publish", "release-node", step]
        remote += ["--tiles", self.path, *(["--release", rid] if rid else []), *extra]
        return [*self.options.command, *_SSH_DEFAULTS, self.destination, shlex.join(remote)]

    def _run(self, step: str, rid: str | None, *extra: str) -> dict[str, Any]:
        argv = self._argv(step, rid, *extra)
        try:
            done = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, check=False)
        except OSError as exc:
            raise ReleaseError(f"cannot run {argv[0]}: {exc}") from exc
        if done.returncode != 0:
            raise ReleaseError(_failure(done.stderr.decode("utf-8", "replace"), done.returncode))
        lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
        try:
            answer = json.loads(lines[-1])
        except (IndexError, ValueError):
            raise ReleaseError(
                f"release-node {step} on the node answered {done.stdout[-200:]!r}, not JSON "
                "(is the package installed there? see --remote-python)"
            ) from None
        if not isinstance(answer, dict):
            raise ReleaseError(f"release-node {step} on the node answered {answer!r}")
        return answer


def _failure(stderr: str, status: int) -> str:
    """The node's own error line (`error: …`), else what ssh said, else the exit status."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error: "):
            return line.removeprefix("error: ")
    if lines:
        return f"ssh exited {status}: {lines[-1]}"
    return f"ssh exited {status}"
