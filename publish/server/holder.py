"""The release being served, and the watcher that swaps it when DIR/current changes.

A request reads `holder.current` once, at its start, and keeps that `Release` to the end: a swap
only replaces the holder's reference, so requests in flight finish on the old release (its
archives close when the last of them lets go; the server's `on_swap` hands it to the kept
releases, which hold its tiles open for the styles clients still draw: publish.server.kept). The watcher reads the `current` symlink (one
readlink) every `interval` seconds and whenever `wake()` is called (SIGHUP); a new target is
loaded in a worker thread. A release that fails to load is refused — the old one keeps serving,
the reason is logged and shown on /healthz — and is not tried again until `current` changes or a
SIGHUP forces a new attempt.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from publish.errors import PublishError
from publish.release.store import CURRENT
from publish.server.errors import NoReleaseError
from publish.server.release import Release, load_release

log = logging.getLogger("publish.server")

_UNSET = object()


class ReleaseHolder:
    """Holds the current `Release` of the tiles folder `tiles_dir`."""

    def __init__(
        self,
        tiles_dir: Path,
        loader: Callable[[Path, str], Release] = load_release,
        on_swap: Callable[[Release], None] | None = None,
    ) -> None:
        self.tiles_dir = Path(tiles_dir)
        self._loader = loader
        self._on_swap = on_swap  # called with the release a new one replaced
        self._current: Release | None = None
        self._attempted: object = _UNSET  # the target of the last load attempt
        self._lock = threading.Lock()
        self._wake: anyio.Event | None = None
        self.last_error: str | None = None
        self.checked_at: datetime | None = None

    @property
    def current(self) -> Release | None:
        return self._current

    def require(self) -> Release:
        """The current release; NoReleaseError (503) when none has loaded yet."""
        release = self._current
        if release is None:
            raise NoReleaseError()
        return release

    def read_target(self) -> str | None:
        """Where DIR/current points (relative, as written by the build); None if it is missing.
        A plain directory named `current` is served as it is."""
        link = self.tiles_dir / CURRENT
        try:
            return os.readlink(link)
        except OSError:
            return CURRENT if link.is_dir() else None

    def check(self, *, force: bool = False) -> bool:
        """Load the release DIR/current points at if that changed (or if `force`); True when a
        new release is now served. Never raises: a failure is logged and kept in `last_error`."""
        target = self.read_target()
        with self._lock:
            self.checked_at = datetime.now(UTC)
            if target == self._attempted and not force:
                return False
            self._attempted = target
            if target is None:
                self._fail(f"{self.tiles_dir / CURRENT} does not exist (no release built yet?)")
                return False
            try:
                release = self._loader(self.tiles_dir, target)
            except Exception as exc:  # any failure: keep serving the old release
                if not isinstance(exc, PublishError):
                    log.exception("loading %s failed unexpectedly", target)
                self._fail(str(exc) or type(exc).__name__)
                return False
            old, self._current, self.last_error = self._current, release, None
        if old is not None and old.id != release.id and self._on_swap is not None:
            self._on_swap(old)
        log.info("serving release %s (was %s)", release.id, "none" if old is None else old.id)
        return True

    def _fail(self, reason: str) -> None:
        self.last_error = reason
        serving = "nothing" if self._current is None else f"release {self._current.id}"
        log.error("release refused: %s; still serving %s", reason, serving)

    def status(self, *, detail: bool = False) -> dict[str, Any]:
        """What /healthz shows. The reason a release was refused can name internal layers, so
        only `detail` (the token-guarded /internal/healthz) shows it; the public status says
        that a release was refused and where to look."""
        release = self._current
        error = self.last_error
        if error is not None and not detail:
            attempted = self._attempted
            if isinstance(attempted, str | os.PathLike):
                name = Path(attempted).name
                error = f"release {name} was refused; the reason is in the server log"
            else:
                error = "no release is published yet"
        return {
            "status": "ok" if release is not None else "unavailable",
            "release": None if release is None else release.id,
            "loaded_at": None if release is None else release.loaded_at.isoformat(),
            "last_error": error,
        }

    # -- watching ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Check now and load even an unchanged target (SIGHUP); call from the event loop."""
        if self._wake is not None:
            self._wake.set()

    async def watch(self, interval: float) -> None:
        """Check every `interval` seconds and on `wake()`, until cancelled."""
        self._wake = anyio.Event()
        while True:
            with anyio.move_on_after(interval):
                await self._wake.wait()
            forced = self._wake.is_set()
            if forced:
                self._wake = anyio.Event()
            await anyio.to_thread.run_sync(partial(self.check, force=forced))
