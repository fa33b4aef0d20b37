"""Objects opened from files (GeoPackages, archives), shared by path between requests.

pygeoapi makes a new provider object for every request, so providers must not open their files
themselves. `SharedFiles.get(path)` returns the object already open for that file while anyone
holds it (a loaded release holds its own), plus the few most recently used, and opens the file
again when it was replaced (device, inode, mtime or size changed). Objects nobody holds any more
are collected, which closes their files.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
Stamp = tuple[int, int, int, int]


def _stamp(path: str) -> Stamp:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


class SharedFiles(Generic[T]):
    """Open files by path with `opener`; keep the `keep` most recently used alive."""

    def __init__(self, opener: Callable[[str], T], keep: int = 4) -> None:
        self._opener = opener
        self._keep = keep
        self._open: weakref.WeakValueDictionary[str, T] = weakref.WeakValueDictionary()
        self._stamps: dict[str, Stamp] = {}
        self._recent: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str | os.PathLike[str]) -> T:
        """The object for the file at `path`; OSError when it cannot be read, or whatever
        the opener raises."""
        key = os.path.abspath(path)
        stamp = _stamp(key)
        with self._lock:
            obj = self._open.get(key)
            if obj is None or self._stamps.get(key) != stamp:
                obj = self._opener(key)
                self._open[key] = obj
                self._stamps[key] = stamp
            self._recent[key] = obj
            self._recent.move_to_end(key)
            while len(self._recent) > self._keep:
                self._recent.popitem(last=False)
            for gone in [k for k in self._stamps if k not in self._open]:
                del self._stamps[gone]
            return obj

    def __len__(self) -> int:
        return len(self._open)
