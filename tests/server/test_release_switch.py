"""Switching releases: in process (TestClient) new releases load and broken ones are refused; with
a real server, a switch under tile and feature load fails no request."""

from __future__ import annotations

import gc
import json
import os
import shutil
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from publish.server.holder import ReleaseHolder
from publish.server.settings import Settings
from publish.tiles.archive import TileStatus, lookup
from tests.server.helpers import Built, Probe, TestClient, decode, make_client, point_current


def wait_for(predicate: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - start


def health(client: TestClient) -> dict[str, object]:
    body: dict[str, object] = client.get("/healthz").json()
    return body


def test_switch_is_seen_within_the_interval(
    client: TestClient, tiles_dir: Path, built_releases: Built, settings: Settings, probe: Probe
) -> None:
    z, x, y = probe.public
    before = client.get(f"/tiles/public/{z}/{x}/{y}.mvt")
    assert before.headers["x-onemap-release"] == built_releases.first
    point_current(tiles_dir, built_releases.second)
    seconds = wait_for(
        lambda: health(client)["release"] == built_releases.second,
        settings.reload_interval_s + 2,
    )
    assert seconds <= settings.reload_interval_s + 1.5
    after = client.get(f"/tiles/public/{z}/{x}/{y}.mvt")
    assert after.status_code == 200
    assert after.headers["x-onemap-release"] == built_releases.second
    assert client.get("/tiles/public.json").json()["onemap:release"] == built_releases.second


def broken_copy(tiles_dir: Path, built: Built, damage: Callable[[Path], None]) -> None:
    """A damaged copy of the first release under DIR/broken/<id>, made current."""
    copy = tiles_dir / "broken" / built.first
    shutil.copytree(built.release(built.first), copy)
    damage(copy)
    tmp = tiles_dir / ".current.tmp"
    os.symlink(f"broken/{built.first}", tmp)
    os.replace(tmp, tiles_dir / "current")


def _missing_style(root: Path) -> None:
    (root / "styles" / "public.json").unlink()


def _garbage_archive(root: Path) -> None:
    path = root / "tiles" / "public.pmtiles"
    path.write_bytes(b"\0" * path.stat().st_size)  # same size: only verify() can tell


def _leaking_manifest(root: Path) -> None:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    manifest["audiences"]["public"]["tiles"]["path"] = "tiles/internal.pmtiles"
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _leaking_style(root: Path) -> None:
    path = root / "styles" / "public.json"
    style = json.loads(path.read_text(encoding="utf-8"))
    style["layers"].append({"id": "x", "type": "fill", "source": "plan", "source-layer": "spxm"})
    text = json.dumps(style)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["styles/public.json"]["bytes"] = len(text.encode())
    path.write_text(text, encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_missing_style, "styles/public.json: missing"),
        (_garbage_archive, "not a PMTiles archive"),
        (_leaking_manifest, "spxm"),
        (_leaking_style, "style draws layers not listed for public: ['spxm']"),
    ],
    ids=["missing-file", "garbage-archive", "leaking-archive", "leaking-style"],
)
def test_a_broken_release_is_refused_and_the_old_one_serves(
    client: TestClient,
    tiles_dir: Path,
    built_releases: Built,
    probe: Probe,
    damage: Callable[[Path], None],
    reason: str,
    auth: dict[str, str],
) -> None:
    z, x, y = probe.public
    broken_copy(tiles_dir, built_releases, damage)
    wait_for(lambda: health(client)["last_error"] is not None, 3)
    status = health(client)
    assert status["release"] == built_releases.first
    # the public status says a release was refused, not why (the reason may name internal layers)
    assert reason not in str(status["last_error"]) and "refused" in str(status["last_error"])
    detail = client.get("/internal/healthz", headers=auth).json()
    assert reason in str(detail["last_error"])
    assert client.get("/healthz").status_code == 200
    r = client.get(f"/tiles/public/{z}/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["x-onemap-release"] == built_releases.first
    # a good release clears the error
    point_current(tiles_dir, built_releases.second)
    wait_for(lambda: health(client)["release"] == built_releases.second, 3)
    assert health(client)["last_error"] is None


def test_a_refused_release_is_retried_on_wake_only(
    client: TestClient, tiles_dir: Path, built_releases: Built
) -> None:
    broken_copy(tiles_dir, built_releases, _missing_style)
    wait_for(lambda: health(client)["last_error"] is not None, 3)
    holder: ReleaseHolder = client.app.state.server.holder  # type: ignore[attr-defined]
    # repaired in place: the link did not change, so the watcher does not look again …
    shutil.copy(
        built_releases.release(built_releases.first) / "styles" / "public.json",
        tiles_dir / "broken" / built_releases.first / "styles" / "public.json",
    )
    time.sleep(0.6)
    assert health(client)["last_error"] is not None
    # … until woken (what SIGHUP does)
    client.portal.call(holder.wake)  # type: ignore[union-attr]
    wait_for(lambda: health(client)["last_error"] is None, 3)
    current = holder.current
    assert current is not None and current.path.parent.name == "broken"


def test_requests_in_flight_keep_their_release(
    tiles_dir: Path, built_releases: Built, probe: Probe
) -> None:
    holder = ReleaseHolder(tiles_dir)
    assert holder.check()
    old = holder.require()
    point_current(tiles_dir, built_releases.second)
    assert holder.check()
    assert holder.require().id == built_releases.second
    # what a request that started before the switch still holds works to its end
    archive = old.audiences["public"].archive
    assert lookup(archive, *probe.public).status is TileStatus.OK
    assert not archive.closed
    # and once nobody holds it, its files close
    ref = weakref.ref(archive)
    del old, archive
    gc.collect()
    assert ref() is None
    assert not holder.check(), "an unchanged link loads nothing"


def test_current_vanishing_keeps_the_release(tiles_dir: Path, built_releases: Built) -> None:
    with make_client(Settings(tiles_dir=tiles_dir, reload_interval_s=0.1)) as client:
        (tiles_dir / "current").unlink()
        wait_for(lambda: health(client)["last_error"] is not None, 3)
        assert health(client)["release"] == built_releases.first
        assert client.get("/tiles/public.json").status_code == 200


def test_switch_under_tile_and_feature_load(
    tiles_dir: Path, tmp_path: Path, token: str, built_releases: Built, probe: Probe
) -> None:
    """A real server (uvicorn, 2 workers) while clients ask for tiles and OGC API features in a
    loop: no request fails during the switch, and every request started once the check interval
    (plus a loaded machine's slack) has passed is answered from the new release."""
    from tests.server.test_uvicorn import INTERVAL, serve

    bearer = {"Authorization": f"Bearer {token}"}
    z, x, y = probe.internal_only
    urls: list[tuple[str, dict[str, str]]] = [
        (f"/tiles/public/{z}/{x}/{y}.mvt", {}),
        ("/ogc/collections/stbhhx/items?bbox=110.3,29.0,110.7,29.4&limit=5", {}),
        ("/ogc/collections/hl/items?limit=5&crs=http://www.opengis.net/def/crs/EPSG/0/4490", {}),
        ("/ogc/collections/xzq_xian/items/1", {}),
        (f"/tiles/internal/{z}/{x}/{y}.mvt", bearer),
        ("/internal/ogc/collections/spxm/items?limit=10", bearer),
    ]
    answers: list[tuple[float, str, str]] = []  # (started, url, release)
    failures: list[str] = []
    stop = threading.Event()
    old, new = built_releases.first, built_releases.second

    def count(url: str, release: str) -> int:
        return sum(1 for _, u, rid in list(answers) if u == url and rid == release)

    def check(url: str, r: httpx.Response) -> str | None:
        if r.status_code != 200:
            return f"{r.status_code} {r.text[:200]}"
        if url.endswith(".mvt"):
            layers = decode(r.content, gzipped=False)
            if ("spxm" in layers) != ("internal" in url):
                return f"layers {sorted(layers)}"
        elif "/items/" in url:
            if r.json()["id"] != 1:
                return "wrong item"
        else:
            body = r.json()
            if not body["features"] or body["numberMatched"] < len(body["features"]):
                return f"{body.get('numberMatched')} matched, {len(body['features'])} returned"
        return None

    def client_loop(base: str) -> None:
        with httpx.Client(base_url=base, timeout=20) as client:
            while not stop.is_set():
                for url, headers in urls:
                    started = time.monotonic()
                    try:
                        r = client.get(url, headers=headers)
                    except httpx.HTTPError as exc:
                        failures.append(f"{url}: {exc!r}")
                        continue
                    problem = check(url, r)
                    if problem is not None:
                        failures.append(f"{url}: {problem}")
                    else:
                        answers.append((started, url, r.headers["x-onemap-release"]))

    log = tmp_path / "server.log"
    with serve(tiles_dir, tmp_path / "tokens", log, workers=2) as (base, _proc):
        threads = [threading.Thread(target=client_loop, args=(base,)) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            # warm up (each worker builds pygeoapi's API on its first OGC request), switch, and
            # keep going until every URL has been answered from the new release a few times
            wait_for(lambda: all(count(url, old) >= 3 for url, _ in urls) or bool(failures), 90)
            point_current(tiles_dir, new)
            switched = time.monotonic()
            wait_for(lambda: all(count(url, new) >= 3 for url, _ in urls) or bool(failures), 90)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
    assert failures == []
    # the last request answered from the old release started within the interval (+ slack)
    last_old = max(started for started, _, rid in answers if rid == old)
    assert last_old - switched <= INTERVAL + 2.5
    # and once a request got the new release, no later-started one went back to the old
    first_new = min(started for started, _, rid in answers if rid == new)
    assert all(started <= first_new + INTERVAL + 2.5 for started, _, rid in answers if rid == old)
    text = log.read_text()
    assert "serving release " + new in text
    assert token not in text and "Traceback" not in text
