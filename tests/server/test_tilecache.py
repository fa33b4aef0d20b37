"""The tile cache: answers like `lookup`, bounded in bytes, keyed by archive identity."""

from __future__ import annotations

from publish.server.tilecache import ENTRY_OVERHEAD, TileCache
from publish.tiles.archive import Archive, TileStatus, lookup
from tests.server.helpers import Built, Probe


def test_cache_answers_like_lookup_and_stays_bounded(built_releases: Built, probe: Probe) -> None:
    with Archive(built_releases.archive_path(built_releases.first, "public")) as archive:
        tiles = [(z, x, y) for z, x, y, _ in archive.iter_tiles()][:200]
        sizes = [len(archive.get(*t) or b"") for t in tiles]
        bound = sum(sorted(sizes)[:50]) + 50 * ENTRY_OVERHEAD
        cache = TileCache(bound)
        for t in [*tiles, probe.empty]:
            assert cache.get(archive, *t) == lookup(archive, *t)
            assert cache.bytes <= bound
        assert 0 < len(cache) < len(tiles)
        assert cache.get(archive, *probe.empty).status is TileStatus.EMPTY
        hits = cache.hits
        cache.get(archive, *probe.empty)
        assert cache.hits == hits + 1


def test_disabled_cache_still_answers(built_releases: Built, probe: Probe) -> None:
    with Archive(built_releases.archive_path(built_releases.first, "public")) as archive:
        cache = TileCache(0)
        assert cache.get(archive, *probe.public).status is TileStatus.OK
        assert len(cache) == 0 and cache.bytes == 0
