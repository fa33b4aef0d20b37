"""A release rolled out to two nodes behind nginx while clients draw the map (issue 15): clients
load the style, follow it to the release's TileJSON and fetch its tiles, in a loop, for 30 s;
`release push` copies a new release (the rivers moved ~1 km) to both nodes and switches them
meanwhile. Not one request fails, and every tile body a client receives is the stored tile of
the release its style named — from a node or from nginx's cache, never a tile of the other."""

from __future__ import annotations

import gzip
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
import yaml

from publish.pipeline.build import BuildOptions, build
from publish.pipeline.progress import Reporter
from publish.release.push import push_release
from publish.server.auth import append_token_hash, new_token
from publish.tiles.archive import Archive
from support.ports import free_port
from tests.deploy.cluster import Node, nginx_in_front
from tests.server.helpers import catalog_subset

LAYERS = ("xzq_xian", "hl")
LOAD_SECONDS = 30
PUSH_AFTER_S = 8


@dataclass
class Built:
    source: Path  # the tiles folder the build wrote
    first: str
    second: str
    tiles: dict[str, dict[tuple[int, int, int], bytes]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def two_releases(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The rivers and the county boundaries, then the rivers moved 0.01° east (`--only hl`);
    each release's stored tiles at zooms 7–10 where both have one and they differ."""
    root = tmp_path_factory.mktemp("rollout")
    catalog = catalog_subset(sample_dir, LAYERS, root / "layers.yml")
    out = root / "tiles"
    reporter = Reporter(io.StringIO(), rich=False)
    first = build(BuildOptions(catalog=catalog, out=out), reporter).release_id
    rivers = gpd.read_file(sample_dir / "hl.geojson")
    rivers["geometry"] = rivers.geometry.translate(xoff=0.01)
    rivers.to_file(root / "hl_moved.geojson", driver="GeoJSON")
    doc = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    for layer in doc["layers"]:
        if layer["id"] == "hl":
            layer["source"] = str(root / "hl_moved.geojson")
    catalog.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    second = build(BuildOptions(catalog=catalog, out=out, only=("hl",)), reporter).release_id
    built = Built(out, first, second)
    for release in (first, second):
        with Archive(out / "releases" / release / "tiles" / "public.pmtiles") as archive:
            built.tiles[release] = {
                (z, x, y): gzip.decompress(data)
                for z, x, y, data in archive.iter_tiles()
                if 7 <= z <= 10
            }
    return built


@dataclass
class Seen:
    tiles: dict[str, int] = field(default_factory=dict)  # release → tiles checked
    failures: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)  # the release each style load named


@pytest.fixture
def nodes(two_releases: Built, tmp_path: Path) -> Iterator[tuple[str, list[Node]]]:
    """Two nodes serving the first release (pushed to each), nginx in front of them."""
    token = new_token()
    append_token_hash(tmp_path / "tokens", token)
    port = free_port()
    env = {
        "PUBLISH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PUBLISH_TRUSTED_PROXIES": "127.0.0.1",
        "PUBLISH_TOKENS_FILE": str(tmp_path / "tokens"),
    }
    folders = [tmp_path / name for name in ("node1", "node2")]
    for folder in folders:
        folder.mkdir()
    report = push_release(two_releases.source, folders, release_id=two_releases.first)
    assert not report.failed, report
    running = [Node(folder, free_port(), env, tmp_path) for folder in folders]
    with nginx_in_front(running, tmp_path / "nginx", port) as base:
        yield base, running


def draw(base: str, built: Built, seen: Seen, stop: threading.Event) -> None:
    """Load the style, its TileJSON, and the tiles it names, until `stop`."""
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            try:
                style = client.get("/styles/public.json")
                style.raise_for_status()
                url = style.json()["sources"]["plan"]["url"]
                tilejson = client.get(url)
                tilejson.raise_for_status()
                template = tilejson.json()["tiles"][0]
                release = template.split("/releases/", 1)[1].split("/", 1)[0]
                seen.styles.append(release)
                for (z, x, y), body in built.tiles[release].items():
                    r = client.get(template.format(z=z, x=x, y=y))
                    if r.status_code != 200:
                        seen.failures.append(f"{r.url}: {r.status_code}")
                    elif r.content != body:
                        seen.failures.append(f"{r.url}: not the tile of {release}")
                    else:
                        seen.tiles[release] = seen.tiles.get(release, 0) + 1
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                seen.failures.append(repr(exc))
            time.sleep(0.01)


def test_a_release_pushed_under_load_never_mixes_tiles(
    two_releases: Built, nodes: tuple[str, list[Node]]
) -> None:
    base, running = nodes
    first, second = two_releases.first, two_releases.second
    # the releases differ where the rivers are: some of the same tiles hold other bytes
    common = set(two_releases.tiles[first]) & set(two_releases.tiles[second])
    assert any(two_releases.tiles[first][k] != two_releases.tiles[second][k] for k in common)
    seen = Seen()
    stop = threading.Event()
    threads = [threading.Thread(target=draw, args=(base, two_releases, seen, stop)) for _ in "ab"]
    for thread in threads:
        thread.start()
    try:
        time.sleep(PUSH_AFTER_S)
        report = push_release(
            two_releases.source, [node.tiles for node in running], release_id=second
        )
        assert not report.failed, report
        time.sleep(LOAD_SECONDS - PUSH_AFTER_S)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert seen.failures == [], seen.failures[:10]
    assert seen.tiles.get(first, 0) > 20 and seen.tiles.get(second, 0) > 20, seen.tiles
    # once both nodes switched (they reload within a second), styles name the new release only
    assert seen.styles[-1] == second
    switched = seen.styles.index(second)
    assert first not in seen.styles[switched + 20 :]
