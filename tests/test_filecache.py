"""Tests for publish.filecache: objects shared by path, reopened when their file changes."""

from __future__ import annotations

import gc
import gzip
import os
import shutil
from pathlib import Path

import pytest
from pmtiles.tile import zxy_to_tileid

from publish.filecache import FileCache
from publish.tiles.archive import Archive
from tests.tiles.test_archive import BOUNDS, MAXZOOM, META, MINZOOM, covering, mvt, write_archive


def test_cache_reopens_replaced_files(tmp_path: Path) -> None:
    tiles = {t: mvt(*t) for z in range(MINZOOM, MAXZOOM + 1) for t in covering(z, BOUNDS)}
    path = tmp_path / "zoning.pmtiles"
    write_archive(path, {zxy_to_tileid(*t): b for t, b in tiles.items()}, metadata=META)
    first_tile = next(iter(tiles))
    cache: FileCache[Archive] = FileCache(Archive, keep=2)
    old = cache.get(path)
    assert cache.get(path) is old and cache.get(str(path)) is old

    replacement = tmp_path / "new.pmtiles"
    new_tiles = {zxy_to_tileid(*t): mvt(*t) for t in tiles}
    new_tiles[zxy_to_tileid(*first_tile)] = gzip.compress(b"not the same tile", mtime=0)
    write_archive(replacement, new_tiles, metadata=META)
    os.replace(replacement, path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    new = cache.get(path)
    assert new is not old and new.identity != old.identity
    assert new.get(*first_tile) == new_tiles[zxy_to_tileid(*first_tile)]
    assert old.get(*first_tile) == tiles[first_tile]  # a request still holding it is unharmed

    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))  # touched only
    assert cache.get(path) is not new

    for name in ("a", "b"):
        shutil.copy(path, tmp_path / f"{name}.pmtiles")
        cache.get(tmp_path / f"{name}.pmtiles")
    assert len(cache) == 2
    os.unlink(tmp_path / "b.pmtiles")
    with pytest.raises(FileNotFoundError):
        cache.get(tmp_path / "b.pmtiles")
    assert len(cache) == 1
    cache.close()
    assert len(cache) == 0


class Opened:
    """Stands for a GeoPackage or an archive: what the opener read, and whether it is closed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.text = Path(path).read_text(encoding="utf-8")
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_held_objects_are_shared_beyond_the_recent_ones(tmp_path: Path) -> None:
    paths = [tmp_path / f"{i}.txt" for i in range(3)]
    for p in paths:
        p.write_text(p.stem, encoding="utf-8")
    opened: list[str] = []

    def opener(path: str) -> Opened:
        opened.append(path)
        return Opened(path)

    cache = FileCache(opener, keep=1)
    held = cache.get(paths[0])  # a release holds it
    assert cache.get(paths[1]).text == "1"
    assert cache.get(paths[2]).text == "2"  # only this one is kept by the cache itself
    gc.collect()
    assert len(cache) == 2  # the held one and the recent one; the other was collected
    assert cache.get(paths[0]) is held
    assert cache.get(tmp_path / "." / "0.txt") is held  # one object per file, however named
    assert opened == [str(p) for p in paths]
    cache.get(paths[1])
    assert opened[-1] == str(paths[1])  # collected, so opened again

    paths[0].write_text("changed", encoding="utf-8")
    assert cache.get(paths[0]).text == "changed" and held.text == "0"
    with pytest.raises(ValueError):
        FileCache(opener, keep=0)
    cache.close()
    assert not held.closed  # replaced before: no longer the cache's to close
    assert len(cache) == 0
