"""Objects opened from files (PMTiles archives, GeoPackages), shared by path between requests.

pygeoapi makes a new provider object for every request, so providers must not open their files
themselves. `FileCache.get(path)` returns the object already open for that file while anyone
holds it (a loaded release holds its own), plus the `keep` most recently used, and opens the file
again when it was replaced or rewritten (device, inode, mtime or size changed). Objects nobody
holds any more are collected, which closes their files.

A `get` costs one `os.stat` of the path and one short lock. The tile hot path does not come here:
a loaded release keeps its own `Archive`, and the server answers tiles from that.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["FileCache", "FileStamp"]

T = TypeVar("T")
FileStamp = tuple[int, int, int, int]  # device, inode, mtime (ns), size


def _stamp(path: str) -> FileStamp:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


class FileCache(Generic[T]):
    """Open files by absolute path with `opener`; keep the `keep` most recently used alive.

    The file is stat'ed before it is opened, so a file replaced in between is opened again on
    the next `get` rather than served stale. Opening happens under the lock: two requests for a
    new file open it once.
    """

    def __init__(self, opener: Callable[[str], T], keep: int = 4) -> None:
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.keep = keep
        self._opener = opener
        self._open: dict[str, tuple[FileStamp, weakref.ref[T]]] = {}
        self._recent: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str | os.PathLike[str]) -> T:
        """The object for the file at `path`; FileNotFoundError (which forgets the path) or
        another OSError when it cannot be read, or whatever the opener raises."""
        key = os.path.abspath(path)
        try:
            stamp = _stamp(key)
        except FileNotFoundError:
            with self._lock:
                self._open.pop(key, None)
                self._recent.pop(key, None)
            raise
        with self._lock:
            entry = self._open.get(key)
            obj = entry[1]() if entry is not None and entry[0] == stamp else None
            if obj is None:
                obj = self._opener(key)
                self._open[key] = (stamp, weakref.ref(obj))
                for gone in [k for k, (_, ref) in self._open.items() if ref() is None]:
                    del self._open[gone]
            self._recent[key] = obj
            self._recent.move_to_end(key)
            while len(self._recent) > self.keep:
                self._recent.popitem(last=False)
            return obj

    def __len__(self) -> int:
        """How many of the objects opened here are still open (held here or elsewhere)."""
        with self._lock:
            return sum(ref() is not None for _, ref in self._open.values())

    def close(self) -> None:
        """Close every object that has a `close()` now (when nothing is in flight: tests)."""
        with self._lock:
            for _, ref in self._open.values():
                close = getattr(ref(), "close", None)
                if callable(close):
                    close()
            self._open.clear()
            self._recent.clear()
