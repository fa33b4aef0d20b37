"""Immutable, versioned URLs: the current release's TileJSON and styles name only URLs that
never change what they answer (tiles and TileJSON under /releases/<id>/, glyphs with their
version), those answer `immutable`, the documents themselves are revalidated; after a switch a
reloaded style names the new release, and the old URLs keep answering the old release's bytes."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from publish.fonts.glyphs import FontMissingError, glyphs_version
from publish.server import glyphs as glyph_routes
from publish.server.glyphs import GLYPH_CACHE_CONTROL
from publish.server.settings import Settings
from publish.styles.served import source_urls
from publish.tiles.archive import Archive, TileResult, TileStatus, lookup
from tests.server.helpers import (
    Built,
    Probe,
    TestClient,
    decode,
    make_client,
    point_current,
)
from tests.server.test_release_switch import health, wait_for

IMMUTABLE = "max-age=31536000, immutable"
BASE = "http://testserver"
FONTSTACK = quote("Noto Sans Regular")


def audience_headers(audience: str, auth: dict[str, str]) -> dict[str, str]:
    return auth if audience == "internal" else {}


def tile_url(template: str, zxy: tuple[int, int, int]) -> str:
    z, x, y = zxy
    return template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def style_tiles(client: TestClient, audience: str, headers: dict[str, str]) -> tuple[str, str]:
    """(the release the style names, its tile URL template), followed as MapLibre does: the
    style's source URL, then that TileJSON's `tiles`."""
    style = client.get(f"/styles/{audience}.json", headers=headers).json()
    (source,) = [s["url"] for s in style["sources"].values() if "url" in s]
    tilejson = client.get(source, headers=headers).json()
    (template,) = tilejson["tiles"]
    return tilejson["onemap:release"], template


@pytest.mark.parametrize("audience", ["public", "internal"])
def test_the_current_documents_name_only_versioned_urls(
    client: TestClient, built_releases: Built, auth: dict[str, str], audience: str
) -> None:
    rid = built_releases.first
    headers = audience_headers(audience, auth)
    scope = "private" if audience == "internal" else "public"
    versioned = f"{BASE}/releases/{rid}/"

    tilejson = client.get(f"/tiles/{audience}.json", headers=headers)
    assert tilejson.json()["tiles"] == [f"{versioned}tiles/{audience}/{{z}}/{{x}}/{{y}}.mvt"]
    style = client.get(f"/styles/{audience}.json", headers=headers)
    doc = style.json()
    assert list(source_urls(doc)) == [f"{versioned}tiles/{audience}.json"]
    assert doc["glyphs"] == f"{BASE}/fonts/{{fontstack}}/{{range}}.pbf?v={glyphs_version()}"
    assert "sprite" not in doc  # the styles use no sprite: nothing else to version

    for path, r in ((f"tiles/{audience}.json", tilejson), (f"styles/{audience}.json", style)):
        # the documents themselves change at a switch: revalidated with their ETag
        assert r.status_code == 200 and r.headers["cache-control"] == f"{scope}, no-cache"
        again = client.get(f"/{path}", headers={**headers, "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
        # the same bytes as the release's documents by id, which are immutable
        by_id = client.get(f"/releases/{rid}/{path}", headers=headers)
        assert by_id.content == r.content and by_id.headers["etag"] == r.headers["etag"]
        assert by_id.headers["cache-control"] == f"{scope}, {IMMUTABLE}"


@pytest.mark.parametrize("audience", ["public", "internal"])
def test_versioned_tiles_are_the_stored_bytes_and_immutable(
    client: TestClient,
    built_releases: Built,
    probe: Probe,
    auth: dict[str, str],
    settings: Settings,
    audience: str,
) -> None:
    headers = audience_headers(audience, auth)
    scope = "private" if audience == "internal" else "public"
    rid, template = style_tiles(client, audience, headers)
    assert rid == built_releases.first
    zxy = probe.internal_only if audience == "internal" else probe.public
    url = tile_url(template, zxy)
    assert url.startswith(f"{BASE}/releases/{rid}/tiles/{audience}/")

    versioned = client.get(url, headers=headers)
    plain = client.get(tile_url(f"/tiles/{audience}/{{z}}/{{x}}/{{y}}.mvt", zxy), headers=headers)
    assert versioned.status_code == plain.status_code == 200
    assert versioned.content == plain.content and versioned.headers["etag"] == plain.headers["etag"]
    stored = stored_tile(built_releases, rid, audience, zxy)
    assert versioned.content == gzip.decompress(stored.data or b"")
    assert versioned.headers["etag"] == f'"{stored.etag}"'
    assert versioned.headers["x-onemap-release"] == rid
    assert versioned.headers["cache-control"] == f"{scope}, {IMMUTABLE}"
    # the unversioned URL keeps today's short max-age
    assert plain.headers["cache-control"] == f"{scope}, max-age={settings.cache_max_age}"
    if audience == "internal":
        assert "spxm" in decode(versioned.content, gzipped=False)
        assert client.get(url).status_code == 401  # no token
        r = client.get(url, headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401 and "immutable" not in r.headers.get("cache-control", "")

    # an empty tile inside the bounds: 204 there as here; one outside: 404
    empty = client.get(tile_url(template, probe.empty), headers=headers)
    assert empty.status_code == 204 and empty.headers["cache-control"] == f"{scope}, {IMMUTABLE}"
    outside = client.get(tile_url(template, (probe.maxzoom, 0, 0)), headers=headers)
    assert outside.status_code == 404 and "immutable" not in outside.headers["cache-control"]


def test_after_a_switch_the_reloaded_style_names_the_new_release_and_old_urls_stay_old(
    client: TestClient,
    tiles_dir: Path,
    built_releases: Built,
    probe: Probe,
    settings: Settings,
) -> None:
    first, second = built_releases.first, built_releases.second
    rid, old_template = style_tiles(client, "public", {})
    assert rid == first
    old_url = tile_url(old_template, probe.public)
    before = client.get(old_url)

    point_current(tiles_dir, second)
    wait_for(lambda: health(client)["release"] == second, settings.reload_interval_s + 5)
    # the release the switch replaced is held open at once: its URLs are in clients' styles
    held = client.app.state.server.kept.opened(first)  # type: ignore[attr-defined]
    assert held is not None and held.id == first
    assert all(not audience.services for audience in held.audiences.values())  # tiles, style

    rid, new_template = style_tiles(client, "public", {})
    assert rid == second
    assert new_template == old_template.replace(f"/releases/{first}/", f"/releases/{second}/")
    new = client.get(tile_url(new_template, probe.public))
    assert new.status_code == 200 and new.headers["x-onemap-release"] == second

    after = client.get(old_url)
    assert after.status_code == 200 and after.headers["x-onemap-release"] == first
    assert after.content == before.content
    assert after.headers["cache-control"] == f"public, {IMMUTABLE}"
    # never another release's tile under a versioned URL: each is its own archive's bytes
    for release, response in ((first, after), (second, new)):
        stored = stored_tile(built_releases, release, "public", probe.public)
        assert response.content == gzip.decompress(stored.data or b"")
        assert response.headers["etag"] == f'"{stored.etag}"'


def stored_tile(built: Built, release: str, audience: str, zxy: tuple[int, int, int]) -> TileResult:
    with Archive(built.archive_path(release, audience)) as archive:
        found = lookup(archive, *zxy)
    assert found.status is TileStatus.OK and found.data is not None
    return found


@pytest.mark.parametrize(
    "release",
    ["20200101T000000Z-deadbeef", "not-a-release", "..x", "current", "%2e%2e", "releases"],
)
def test_a_versioned_tile_of_no_kept_release_is_a_404_naming_the_list(
    client: TestClient, probe: Probe, release: str
) -> None:
    z, x, y = probe.public
    r = client.get(f"/releases/{release}/tiles/public/{z}/{x}/{y}.mvt")
    assert r.status_code == 404
    assert "/releases" in r.json()["description"] and "Traceback" not in r.text
    assert "immutable" not in r.headers["cache-control"]


def test_a_release_of_another_tiles_folder_is_a_404(
    built_releases: Built, tmp_path: Path, settings: Settings, probe: Probe
) -> None:
    """A folder that keeps only the first release knows nothing of the second, though the
    second is a real release id (of the build's folder)."""
    out = tmp_path / "other"
    (out / "releases").mkdir(parents=True)
    (out / "releases" / built_releases.first).symlink_to(
        built_releases.release(built_releases.first)
    )
    point_current(out, built_releases.first)
    z, x, y = probe.public
    with make_client(Settings(**{**settings.__dict__, "tiles_dir": out})) as client:
        for path in (
            f"/releases/{built_releases.second}/tiles/public/{z}/{x}/{y}.mvt",
            f"/releases/{built_releases.second}/tiles/public.json",
        ):
            r = client.get(path)
            assert r.status_code == 404, path
            assert built_releases.second in r.json()["description"]
        ok = client.get(f"/releases/{built_releases.first}/tiles/public/{z}/{x}/{y}.mvt")
        assert ok.status_code == 200


def test_a_pruned_release_held_open_is_a_404(
    built_releases: Built, tmp_path: Path, settings: Settings, probe: Probe
) -> None:
    """The release a switch replaced is held open, but once pruned its URLs are 404s, as on a
    server that never held it."""
    out = tmp_path / "own"
    (out / "releases").mkdir(parents=True)
    for rid in (built_releases.first, built_releases.second):
        (out / "releases" / rid).symlink_to(built_releases.release(rid))
    point_current(out, built_releases.first)
    own = Settings(**{**settings.__dict__, "tiles_dir": out})
    z, x, y = probe.public
    old = f"/releases/{built_releases.first}/tiles/public/{z}/{x}/{y}.mvt"
    with make_client(own) as client:
        point_current(out, built_releases.second)
        wait_for(
            lambda: health(client)["release"] == built_releases.second,
            settings.reload_interval_s + 5,
        )
        assert client.get(old).status_code == 200
        (out / "releases" / built_releases.first).unlink()  # pruned
        r = client.get(old)
        assert r.status_code == 404 and built_releases.first in r.json()["description"]


def test_glyph_urls_as_the_style_names_them_are_immutable(client: TestClient) -> None:
    template = client.get("/styles/public.json").json()["glyphs"]
    assert re.fullmatch(r".*\?v=[0-9a-f]{16}", template)
    url = template.replace("{fontstack}", FONTSTACK).replace("{range}", "0-255")
    r = client.get(url)
    assert r.status_code == 200 and r.content
    assert r.headers["cache-control"] == f"public, {IMMUTABLE}"
    again = client.get(url, headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == r.headers["cache-control"]
    # without the version, or with another (a style cached before the fonts changed): a day
    plain = client.get(f"/fonts/{FONTSTACK}/0-255.pbf")
    stale = client.get(f"/fonts/{FONTSTACK}/0-255.pbf?v=0000000000000000")
    for other in (plain, stale):
        assert other.status_code == 200 and other.content == r.content
        assert other.headers["cache-control"] == GLYPH_CACHE_CONTROL


def test_without_the_fonts_the_style_keeps_an_unversioned_glyph_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing() -> str:
        raise FontMissingError("font NotoSans-Regular.ttf not found")

    monkeypatch.setattr(glyph_routes, "glyphs_version", missing)
    style = {"version": 8, "glyphs": "https://map.example/fonts/{fontstack}/{range}.pbf"}
    assert glyph_routes.with_glyphs_version(style) == style
    assert glyph_routes.with_glyphs_version({"version": 8}) == {"version": 8}
