"""GeoPackage feature providers are made once per collection of a served release (not per
request), follow a release switch, and are shared by threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from publish.ogc.features import GeoPackageProvider
from publish.ogc.providers import KeptProviders
from publish.server.settings import Settings
from tests.server.helpers import Built, TestClient, point_current


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The `data` of every GeoPackageProvider made from now on."""
    out: list[str] = []
    original = GeoPackageProvider.__init__

    def counted(self: GeoPackageProvider, provider_def: dict[str, Any]) -> None:
        out.append(f"{provider_def['data']}:{provider_def['table']}")
        original(self, provider_def)

    monkeypatch.setattr(GeoPackageProvider, "__init__", counted)
    return out


def test_a_collection_keeps_its_provider_until_the_release_changes(
    client: TestClient,
    made: list[str],
    tiles_dir: Path,
    built_releases: Built,
    settings: Settings,
) -> None:
    paths = [
        "/ogc/collections/hl/items?limit=2",
        "/ogc/collections/hl/items?limit=3&offset=1&filter=" + "fid%20%3E%200",
        "/ogc/collections/hl/items/1",
        "/ogc/collections/hl/queryables",
        "/ogc/collections/hl/items?limit=2&f=html",
    ]
    first = [client.get(path) for path in paths * 2]
    assert [r.status_code for r in first] == [200, 400, 200, 200, 200] * 2  # fid: unpublished
    assert len(made) == 1 and f"releases/{built_releases.first}/" in made[0]
    assert made[0].endswith(":hl")
    other = {"host": "localhost"}  # another base URL: another API, the same providers
    assert client.get("/ogc/collections/stbhhx/items?limit=1", headers=other).status_code == 200
    assert len(made) == 2  # another collection
    assert client.get("/ogc/collections/hl/items?limit=1", headers=other).status_code == 200
    assert len(made) == 2

    point_current(tiles_dir, built_releases.second)
    deadline = time.monotonic() + settings.reload_interval_s + 3
    while client.get("/healthz").json()["release"] != built_releases.second:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    after = [client.get(path) for path in paths]
    assert [r.status_code for r in after] == [200, 400, 200, 200, 200]
    assert after[0].headers["x-onemap-release"] == built_releases.second
    assert len(made) == 3 and f"releases/{built_releases.second}/" in made[2]
    assert after[0].json()["features"] == first[0].json()["features"]


def test_kept_providers_by_definition() -> None:
    kept = KeptProviders()
    calls: list[dict[str, Any]] = []

    def make(definition: dict[str, Any]) -> object:
        calls.append(definition)
        return object()

    one = {"name": "x", "data": "/a.gpkg", "table": "hl", "crs": ["CRS84"]}
    provider = kept.provider(one, make)
    assert kept.provider(one, make) is provider
    assert kept.provider(dict(one), make) is provider  # another API's equal copy
    other = kept.provider({**one, "table": "dl"}, make)
    assert other is not provider and len(calls) == 2

    copies = [dict(one) for _ in range(300)]  # many APIs' copies: the shortcut stays bounded
    assert all(kept.provider(copy, make) is provider for copy in copies)
    assert len(kept._by_object) <= 256 and len(calls) == 2

    def refuse(definition: dict[str, Any]) -> object:
        raise RuntimeError("cannot open")

    with pytest.raises(RuntimeError):
        kept.provider({**one, "table": "none"}, refuse)
    assert kept.provider({**one, "table": "none"}, make) is not None  # a failure is not kept


def test_threads_share_one_provider() -> None:
    kept = KeptProviders()
    start = threading.Barrier(8)
    got: list[object] = []

    def make(definition: dict[str, Any]) -> object:
        time.sleep(0.01)  # threads race past the lookup
        return object()

    def ask() -> None:
        definition = {"name": "x", "table": "hl"}  # each thread its own equal copy
        start.wait()
        got.append(kept.provider(definition, make))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8 and len({id(p) for p in got}) == 1
