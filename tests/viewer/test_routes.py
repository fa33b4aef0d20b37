"""The viewer's server side without a browser: the glyph ranges, the pages (the internal page is
open, nothing else under /internal/ is), the assets and the layer list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from publish.catalog import load_catalog
from publish.server.auth import append_token_hash, new_token
from publish.server.settings import Settings
from publish.server.stack import GZIP_MINIMUM_SIZE
from publish.viewer import STATIC_DIR
from tests.fonts.glyphs_proto import decode_range
from tests.server.helpers import TestClient, make_client
from tests.viewer.bundle import needed_chunks
from tests.viewer.internal_words import internal_words, words_in

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult

GLYPHS = "/fonts/Noto%20Sans%20Regular"


@pytest.fixture(scope="module")
def token() -> str:
    return new_token()


@pytest.fixture(scope="module")
def client(
    full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory, token: str
) -> Iterator[TestClient]:
    tokens = tmp_path_factory.mktemp("viewer-routes") / "tokens"
    append_token_hash(tokens, token)
    settings = Settings(tiles_dir=full_release.path.parents[1], tokens_file=tokens)
    with make_client(settings) as c:
        yield c


def test_glyph_range(client: TestClient) -> None:
    r = client.get(f"{GLYPHS}/0-255.pbf", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-protobuf"
    assert r.headers["content-encoding"] == "gzip"
    assert "max-age" in r.headers["cache-control"]
    [stack] = decode_range(r.content).stacks  # httpx has un-gzipped it
    assert stack.name == "Noto Sans Regular" and stack.range == "0-255"
    assert {g.id for g in stack.glyphs} >= set(range(0x30, 0x3A))  # digits
    again = client.get(f"{GLYPHS}/0-255.pbf", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    raw = client.get(f"{GLYPHS}/256-511.pbf", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert decode_range(raw.content).stacks[0].range == "256-511"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"{GLYPHS}/0-25x.pbf", 400),
        (f"{GLYPHS}/0-255.png", 400),
        (f"{GLYPHS}/0-255", 400),
        (f"{GLYPHS}/1-256.pbf", 404),
        (f"{GLYPHS}/65536-65791.pbf", 404),
        ("/fonts/Open%20Sans%20Regular/0-255.pbf", 404),
        ("/fonts/..%2F..%2Fpublish/0-255.pbf", 404),
        ("/fonts/.stamp/0-255.pbf", 404),
    ],
)
def test_bad_glyph_paths(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert r.json()["code"] in ("BadRequest", "NotFound")


def test_pages_and_the_open_internal_page(client: TestClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    public = client.get("/")
    internal = client.get("/internal/")  # no token: the page holds no data
    assert public.status_code == internal.status_code == 200
    assert public.text == internal.text
    assert public.headers["content-type"].startswith("text/html")
    assert public.headers["cache-control"] == "no-cache"
    assert client.get("/", headers={"If-None-Match": public.headers["etag"]}).status_code == 304
    # everything else under /internal/ still needs the token (/internal too: with it, a redirect)
    redirect = client.get("/internal", headers=auth, follow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["location"] == "/internal/"
    for path in ("/internal", "/internal/healthz", "/internal/ogc/collections", "/internal//"):
        assert client.get(path).status_code == 401, path
    assert client.get("/styles/internal.json").status_code == 401
    assert client.get("/styles/internal/layers.json").status_code == 401


def test_page_loads_only_our_assets(client: TestClient) -> None:
    page = client.get("/").text
    assets = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="(/[^"]*)"', page)
    assets += re.findall(r'name="onemap-worker" content="([^"]+)"', page)
    # the script, the style sheet, MapLibre's worker and the chunks the script imports, which
    # the page preloads (all of them: none found only once the script has arrived)
    (script,) = re.findall(r'<script type="module" src="/static/([^"]+)"', page)
    preloaded = re.findall(r'<link rel="modulepreload" href="/static/([^"]+)"', page)
    assert sorted(preloaded) == sorted(needed_chunks(STATIC_DIR, script))
    assert preloaded and len(assets) == 3 + len(preloaded)
    # MapLibre's worker runs on chunks the page has already loaded: the browser's cache has them
    (worker,) = re.findall(r'name="onemap-worker" content="/static/([^"]+)"', page)
    assert set(needed_chunks(STATIC_DIR, worker)) <= set(preloaded)
    assert re.findall(r'<a\b[^>]*href="(/[^"]*)"', page) == ["/dashboard"]  # its only link
    assert all(a.startswith("/static/") for a in assets)
    assert not re.search(r'(?:src|href|content)="(?:https?:)?//', page)
    for asset in assets:
        r = client.get(asset, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, asset
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        small = len(r.content) < GZIP_MINIMUM_SIZE  # a tiny chunk goes as it is
        assert r.headers.get("content-encoding") == (None if small else "gzip"), asset
    assert client.get("/static/../index.html").status_code == 404
    assert client.get("/static/nope.js").status_code == 404


def test_assets_go_in_brotli_to_a_browser_that_accepts_it(client: TestClient) -> None:
    """Chromium asks for `gzip, deflate, br, zstd`: the build's brotli twin goes out as is."""
    page = client.get("/").text
    assets = re.findall(r'(?:src|href)="(/static/[^"]*)"', page)
    assets += re.findall(r'name="onemap-worker" content="([^"]+)"', page)
    for asset in assets:
        twin = (STATIC_DIR / asset.removeprefix("/static/")).with_suffix(Path(asset).suffix + ".br")
        r = client.get(asset, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
        assert r.status_code == 200, asset
        assert (r.headers["content-encoding"], r.headers["vary"]) == ("br", "Accept-Encoding")
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
        assert r.content == twin.read_bytes()  # httpx has no brotli decoder here: raw bytes
        whole = (STATIC_DIR / asset.removeprefix("/static/")).stat().st_size
        assert len(r.content) < (whole / 3 if whole > 10_000 else whole)  # tiny chunks less
        refused = client.get(asset, headers={"Accept-Encoding": "br;q=0, gzip"})
        small = whole < GZIP_MINIMUM_SIZE  # a tiny chunk goes as it is
        assert refused.headers.get("content-encoding") == (None if small else "gzip"), asset
        ranged = client.get(asset, headers={"Accept-Encoding": "br", "Range": "bytes=0-9"})
        assert ranged.status_code == 206 and "content-encoding" not in ranged.headers


def test_layer_list_per_audience(client: TestClient, token: str) -> None:
    public = client.get("/styles/public/layers.json")
    assert public.status_code == 200
    doc = public.json()
    ids = [item["layer"] for item in doc["layers"]]
    assert "spxm" not in ids and "spxm" not in public.text and "在审建设项目" not in public.text
    assert set(ids) == {
        "xzq_xian",
        "xzq_xiang",
        "stbhhx",
        "yjjbnt",
        "czkfbj",
        "ghfq",
        "ydyh",
        "cun",
        "hl",
        "dl",
        "zrbhd",
        "dltb",
        "conflicts",  # not a catalog layer: the archive's conflict analysis (规划分析评价)
    }
    by_id = {item["layer"]: item for item in doc["layers"]}
    conflicts = by_id["conflicts"]
    assert conflicts["group_title"] == {"zh": "规划分析评价", "en": "Plan analysis"}
    assert field_titles(conflicts)["area_m2"] == ("冲突面积", "Conflict area")
    assert not conflicts["visible"] and len(conflicts["entries"]) == 6
    assert by_id["ydyh"]["code_field"] == "YDYHFLDM" and by_id["ydyh"]["group"] == "用地用海"
    assert by_id["cun"]["name_field"] == "CJMC"
    assert by_id["stbhhx"]["entries"][0]["colour"] == "#E60000"
    assert len(doc["bounds"]) == 4 and doc["release"]
    assert (
        client.get(
            "/styles/public/layers.json", headers={"If-None-Match": public.headers["etag"]}
        ).status_code
        == 304
    )
    internal = client.get(
        "/styles/internal/layers.json", headers={"Authorization": f"Bearer {token}"}
    )
    assert internal.status_code == 200
    assert "spxm" in [item["layer"] for item in internal.json()["layers"]]
    assert internal.headers["cache-control"].startswith("private")
    assert client.get("/styles/nope/layers.json").status_code == 404


def field_titles(item: dict) -> dict[str, tuple[str, str]]:
    return {f["name"]: (f["title"]["zh"], f["title"]["en"]) for f in item["fields"]}


def test_layer_list_titles_fields_and_groups_per_audience(
    client: TestClient, token: str, full_release: BuildResult
) -> None:
    """Field and group titles reach the viewer through layers.json, each audience only its own:
    the public list has no word only internal layers use (from the release's catalog)."""
    catalog = load_catalog(full_release.path / "catalog.yml")
    words = internal_words(catalog)
    public = client.get("/styles/public/layers.json")
    assert not words_in(public.text, words)
    by_id = {item["layer"]: item for item in public.json()["layers"]}
    # every published field, in the catalog's order, titled by the database standard
    assert [f["name"] for f in by_id["ydyh"]["fields"]] == list(catalog.layer("ydyh").fields)
    assert field_titles(by_id["ydyh"])["MJ"] == ("面积", "Area")
    assert field_titles(by_id["ydyh"])["YDYHFLDM"] == ("用地用海分类代码", "Land-use class code")
    assert by_id["ydyh"]["group_title"] == {"zh": "用地用海", "en": "Planned land use"}

    internal = client.get(
        "/styles/internal/layers.json", headers={"Authorization": f"Bearer {token}"}
    )
    spxm = {item["layer"]: item for item in internal.json()["layers"]}["spxm"]
    spec = catalog.layer("spxm")
    titles = field_titles(spxm)
    assert list(titles) == list(spec.fields)
    # the approval system's fields carry the catalog's own titles
    assert titles["XMMC"] == ("项目名称", "Project")
    assert titles["SPZT"] == ("审批状态", "Approval status")
    assert titles["BSM"] == ("标识码", "Identifier")
    assert spxm["group_title"] == {"zh": "审批", "en": "Approvals"}
    assert set(words_in(internal.text, words)) == words


def test_viewer_not_built_is_a_clear_503(
    full_release: BuildResult, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import publish.server.viewer as viewer

    assert (STATIC_DIR / "index.html").is_file()  # the real one is built (make install)
    monkeypatch.setattr(viewer, "STATIC_DIR", tmp_path / "missing")
    settings = Settings(tiles_dir=full_release.path.parents[1], tokens_file=tmp_path / "tokens")
    with make_client(settings) as client:
        for path in ("/", "/internal/", "/static/app.js"):
            r = client.get(path)
            assert r.status_code == 503, path
            assert "make install" in r.json()["description"]
