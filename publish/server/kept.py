"""Kept releases served by id (/releases/{id}/…): loaded on first use, a few held open.

Every release under DIR/releases/ is immutable once committed, so a kept release is loaded like
the current one (its files and the outputs the by-id routes serve from: tiles and style) and
held in a small LRU; the current release is the holder's own object. An id that is not a
release of this folder (never built, or pruned since) is a 404 naming /releases, where the kept
ones are listed; a kept release that cannot be loaded (damaged) is a 404 too, logged with why.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from publish.errors import PublishError
from publish.release.store import RELEASES, ReleaseStore, is_release_id
from publish.server.errors import NotFoundError
from publish.server.release import Release

log = logging.getLogger("publish.server")

RELEASES_URL = "/releases"
_KEPT_OPEN = 4


class UnknownReleaseError(NotFoundError):
    def __init__(self, release_id: str) -> None:
        shown = release_id if is_release_id(release_id) else "with this id"
        super().__init__(
            f"no release {shown} is kept here; the kept releases are listed at {RELEASES_URL}"
        )


class KeptReleases:
    """The releases of `tiles_dir` by id; `current()` gives the one being served (or None)."""

    def __init__(
        self,
        tiles_dir: Path,
        loader: Callable[[Path, str], Release],
        current: Callable[[], Release | None],
        kept_open: int = _KEPT_OPEN,
    ) -> None:
        self.store = ReleaseStore(Path(tiles_dir))
        self._loader = loader
        self._current = current
        self._kept_open = kept_open
        self._open: OrderedDict[str, Release] = OrderedDict()
        self._lock = threading.Lock()
        # one load at a time, so a burst of requests loads a release once; an open one is
        # served without waiting for it
        self._loading = threading.Lock()

    def _held(self, release_id: str) -> Release | None:
        with self._lock:
            release = self._open.get(release_id)
            if release is not None:
                self._open.move_to_end(release_id)
            return release

    def get(self, release_id: str) -> Release:
        """The release `release_id`; UnknownReleaseError (404) if this folder does not keep it."""
        current = self._current()
        if current is not None and current.id == release_id:
            return current
        if not is_release_id(release_id) or not (self.store.releases / release_id).is_dir():
            raise UnknownReleaseError(release_id)
        release = self._held(release_id)
        if release is not None:
            return release
        with self._loading:
            release = self._held(release_id)  # loaded while this request waited
            if release is not None:
                return release
            try:
                release = self._loader(self.store.root, f"{RELEASES}/{release_id}")
            except PublishError as exc:
                log.warning("kept release %s cannot be served: %s", release_id, exc)
                raise UnknownReleaseError(release_id) from exc
            with self._lock:
                self._open[release_id] = release
                while len(self._open) > self._kept_open:
                    self._open.popitem(last=False)
        return release
