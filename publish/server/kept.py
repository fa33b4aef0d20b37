"""Kept releases served by id (/releases/{id}/…): loaded on first use, a few held open.

Every release under DIR/releases/ is immutable once committed, so a kept release is loaded like
the current one (its files and the outputs the by-id routes serve from: tiles and style) and
held in a small LRU; the current release is the holder's own object. The release a switch
replaces is held open at once (`hold`: its tiles and style, not the wings' services): the
styles clients still draw name its versioned tile URLs. An id that is not a release of this
folder (never built, or pruned since) is a 404 naming /releases, where the kept ones are
listed; a kept release that cannot be loaded (damaged) is a 404 too, logged with why.
`opened` answers without loading, for the event loop (the tile fast path).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from publish.errors import PublishError
from publish.release.store import RELEASES, ReleaseStore, is_release_id
from publish.server.errors import NotFoundError
from publish.server.release import Release

log = logging.getLogger("publish.server")

RELEASES_URL = "/releases"
_KEPT_OPEN = 4


def release_path(release_id: str) -> str:
    """Where a release's own URLs start: /releases/<id>."""
    return f"{RELEASES_URL}/{release_id}"


def tiles_and_style(release: Release) -> Release:
    """`release` with what its by-id routes serve from only (the wings' services dropped), as
    a kept release is loaded."""
    audiences = {
        name: replace(audience, services=MappingProxyType({}))
        for name, audience in release.audiences.items()
    }
    return replace(release, audiences=MappingProxyType(audiences))


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
        self._releases = str(self.store.releases)
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

    def _kept(self, release_id: str) -> bool:
        # os.path on a string: a third of pathlib's cost, asked on every kept release's tile
        return is_release_id(release_id) and os.path.isdir(f"{self._releases}/{release_id}")

    def _put(self, release: Release) -> None:
        with self._lock:
            self._open[release.id] = release
            self._open.move_to_end(release.id)
            while len(self._open) > self._kept_open:
                self._open.popitem(last=False)

    def hold(self, release: Release) -> None:
        """Hold `release` open (its tiles and style), as if it had been asked for: the one the
        current release replaced (ReleaseHolder's `on_swap`)."""
        self._put(tiles_and_style(release))

    def opened(self, release_id: str) -> Release | None:
        """The release `release_id` if it is served or held open; None if it would have to be
        loaded first, or is not kept (`get` says which). Never loads: fit for the event loop."""
        current = self._current()
        if current is not None and current.id == release_id:
            return current
        return self._held(release_id) if self._kept(release_id) else None

    def get(self, release_id: str) -> Release:
        """The release `release_id`; UnknownReleaseError (404) if this folder does not keep it."""
        current = self._current()
        if current is not None and current.id == release_id:
            return current
        if not self._kept(release_id):
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
            self._put(release)
        return release
