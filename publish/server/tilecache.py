"""An in-memory LRU of tile lookups, bounded in bytes, keyed by the archive's identity.

A new release's archives have new identities, so their tiles never meet the old release's
entries, which fall out as the cache fills. Empty and not-found answers are cached too (they
count a small fixed size), so scanning clients do not reach the archive every time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from publish.tiles.archive import Archive, TileResult, lookup

ENTRY_OVERHEAD = 160  # bytes a cached answer costs beyond its tile bytes (key, tuple, links)
_MAX_SHARE = 16  # a single tile may take at most 1/16 of the cache


class TileCache:
    """`get(archive, z, x, y)` answers like `lookup`, from memory when it can. Entries are
    added and taken out under a lock; a hit takes none (a tile request's commonest case, on the
    event loop): the OrderedDict's get and move_to_end are each atomic under the GIL. Its
    counts are exact when lookups come from one thread, as the server's do."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be ≥ 0")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, int, int, int], TileResult] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, archive: Archive, z: int, x: int, y: int) -> TileResult:
        key = (archive.identity, z, x, y)
        entries = self._entries
        result = entries.get(key)
        if result is not None:  # a hit takes no lock: see the class's text
            try:  # noqa: SIM105 (suppress() costs a context manager a hit)
                entries.move_to_end(key)
            except KeyError:  # taken out meanwhile by another thread: still the answer
                pass
            self.hits += 1
            return result
        self.misses += 1
        result = lookup(archive, z, x, y)
        size = ENTRY_OVERHEAD + (len(result.data) if result.data is not None else 0)
        if size * _MAX_SHARE > self.max_bytes:
            return result
        with self._lock:
            if key not in self._entries:
                self._entries[key] = result
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, old = self._entries.popitem(last=False)
                    self._bytes -= ENTRY_OVERHEAD + (len(old.data) if old.data else 0)
        return result

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def info(self) -> dict[str, Any]:
        return {
            "entries": len(self._entries),
            "bytes": self._bytes,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
        }
