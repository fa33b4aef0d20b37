"""`deploy nginx`: the configuration it prints (checked in as deploy/onemap.conf, accepted by
`nginx -t`), what nginx does with it in front of stand-in nodes (what it caches and never
caches, headers, GET retried and POST not, TLS), and a real deployment: Debian's nginx in front of two `serve` nodes on the session's full
release — GDAL's OAPIF driver, tiles, styles, viewer and WMS through it, internal paths never
cached, public versioned tiles cached, the site check rate-limited, a node killed under load."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import httpx
import pytest

from publish.catalog import load_catalog
from publish.cli import main
from publish.deploy.nginx import BODY_LIMIT_BYTES
from publish.server.auth import append_token_hash, new_token
from support.ports import free_port
from tests.deploy.cluster import (
    REPO,
    Node,
    closing_node,
    local_options,
    nginx_command,
    nginx_files,
    nginx_in_front,
    recording_node,
    running_nginx,
    self_signed,
    tiles_folder,
)
from tests.server.helpers import decode, find_tile
from tests.wms.helpers import all_transparent
from tests.wms.helpers import image as png

if TYPE_CHECKING:
    from publish.pipeline.build import BuildResult

# The arguments deploy/onemap.conf was generated with (its first lines say so too).
EXAMPLE_ARGS = [
    *("--nodes", "10.0.0.11:8000,10.0.0.12:8000"),
    *("--public-url", "https://map.example.gov.cn"),
    *("--tls-cert", "/etc/ssl/onemap/fullchain.pem"),
    *("--tls-key", "/etc/ssl/onemap/privkey.pem"),
]
SITE_CHECK = "/ogc/processes/site-check/execution"


def cache_status(r: httpx.Response) -> str | None:
    return r.headers.get("x-cache-status")


def settled(probe: Any, timeout: float = 10) -> Any:
    """`probe()`'s first truthy answer, waiting for it: nginx renames a stored tile and writes
    its access line after the last byte went out, so a client can be ahead of both."""
    deadline = time.monotonic() + timeout
    while not (found := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


# -- the configuration ----------------------------------------------------------------------


def test_the_checked_in_configuration_is_the_generators(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["deploy", "nginx", *EXAMPLE_ARGS]) == 0
    printed = capsys.readouterr().out
    assert (REPO / "deploy" / "onemap.conf").read_text(encoding="utf-8") == printed
    for line in ("server 10.0.0.11:8000 ", "server 10.0.0.12:8000 ", "listen 443 ssl"):
        assert line in printed
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nodes", "10.0.0.11", "--public-url", "http://x"], "--nodes: '10.0.0.11' is not"),
        (["--nodes", "a:1,a:1", "--public-url", "http://x"], "a node is named twice"),
        (["--nodes", "a:99999", "--public-url", "http://x"], "--nodes: 'a:99999' is not"),
        (["--nodes", "a b:80", "--public-url", "http://x"], "is not HOST:PORT"),
        (["--nodes", ",", "--public-url", "http://x"], "--nodes: '' is not"),
        (["--nodes", "a:1", "--public-url", "ftp://x"], "--public-url must be http(s)"),
        (["--nodes", "a:1", "--public-url", "http://x/map"], "must not have a path"),
        (["--nodes", "a:1", "--public-url", "https://x"], "give --tls-cert and --tls-key"),
        (["--nodes", "a:1", "--public-url", "http://x", "--listen", "0"], "--listen: port 0"),
        (["--nodes", "a:1", "--public-url", "http://x", "--cache-dir", "c"], "--cache-dir must"),
        (
            ["--nodes", "a:1", "--public-url", "http://x", "--cache-dir", "/a;b"],
            "--cache-dir must be an absolute path",
        ),
        (["--nodes", "a:1", "--public-url", "http://x", "--cache-size", "10x"], "--cache-size"),
        (
            ["--nodes", "a:1", "--public-url", "http://x", "--site-check-rate", "2"],
            "--site-check-rate must be",
        ),
        (
            ["--nodes", "a:1", "--public-url", "http://x", "--tls-cert", "/c", "--tls-key", "/k"],
            "go together, with an https --public-url",
        ),
    ],
)
def test_bad_arguments_exit_2_naming_the_problem(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "nginx", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and message in captured.err, captured.err


def test_the_body_limit_is_the_apps() -> None:
    from publish.ogc.routes import MAX_EXECUTE_BODY

    assert BODY_LIMIT_BYTES == MAX_EXECUTE_BODY


def test_nginx_accepts_every_variant(tmp_path: Path) -> None:
    """`nginx -t` on the plain, TLS (a self-signed certificate) and one-node variants."""
    cert, key = self_signed(tmp_path, "localhost")
    plain = local_options(tmp_path / "plain", ("127.0.0.1:8001", "[::1]:8002"), free_port())
    variants = {
        "plain": plain,
        "tls": replace(
            plain,
            public_url="https://localhost",
            listen=None,
            tls_cert=str(cert),
            tls_key=str(key),
        ),
        "one": replace(plain, nodes=("localhost:8001",), access_log="off"),
    }
    for name, options in variants.items():
        prefix = tmp_path / name
        conf = nginx_files(prefix, options)
        checked = subprocess.run(nginx_command(prefix, conf, "-t"), capture_output=True, text=True)
        assert checked.returncode == 0, (name, checked.stderr)
    text = (tmp_path / "tls" / "onemap.conf").read_text()
    assert "listen 443 ssl http2;" in text and "return 301 https://localhost$request_uri;" in text


# -- nginx in front of stand-in nodes --------------------------------------------------------


def test_forwarded_headers_are_nginxs_own(tmp_path: Path) -> None:
    """X-Forwarded-For is the address nginx saw, whatever the client sent; X-Forwarded-Host
    and Forwarded never reach a node; Host is the client's."""
    port = free_port()
    with recording_node() as (node, seen):
        options = local_options(tmp_path, (node,), port)
        with running_nginx(tmp_path, options, "/ready") as base:
            spoofed = {
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "evil.example",
                "Forwarded": "for=203.0.113.9;host=evil.example",
            }
            r = httpx.get(base + "/tiles/public.json", headers=spoofed)
            assert r.status_code == 200
    request = seen[-1]
    assert request.path == "/tiles/public.json"
    assert request.headers["x-forwarded-for"] == "127.0.0.1"
    assert request.headers["x-forwarded-proto"] == "http"
    assert "x-forwarded-host" not in request.headers and "forwarded" not in request.headers
    assert request.headers["host"] == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", request.headers["x-request-id"])


def test_what_nginx_caches_and_what_it_never_does(tmp_path: Path) -> None:
    """A stand-in node marks every answer `public, max-age=60` (`private` when the path says
    so): nginx stores them on the cached paths only, and never for credentials, an internal
    segment, a private answer or a POST."""
    with recording_node() as (node, seen):
        options = local_options(tmp_path, (node,), free_port())
        with running_nginx(tmp_path, options, "/ready") as base, httpx.Client() as client:

            def statuses(path: str, method: str = "GET", **kwargs: Any) -> list[str | None]:
                return [
                    cache_status(client.request(method, base + path, **kwargs)) for _ in range(2)
                ]

            seen.clear()
            assert statuses("/fonts/Noto/0-255.pbf") == ["MISS", "HIT"]
            assert statuses("/static/app.js") == ["MISS", "HIT"]
            # a release's public tiles are kept as files (with an Origin: the cache)
            assert statuses("/releases/r1/tiles/public/1/2/3.mvt") == ["MISS", "STORED"]
            assert (tmp_path / "tiles/releases/r1/tiles/public/1/2/3.mvt").is_file()
            origin = {"Origin": "https://other.example"}
            assert statuses("/releases/r1/tiles/public/1/2/4.mvt", headers=origin) == [
                "MISS",
                "HIT",
            ]
            assert statuses("/releases/r1/tiles/public/1/2/5.mvt", "HEAD") == ["MISS", "MISS"]
            assert statuses("/releases/r1/styles/public.json") == ["MISS", "HIT"]
            assert statuses("/wmts/plan/webmercator/02/3/1.png") == ["MISS", "HIT"]
            # never looked up, never stored: credentials, internal, then the same anonymously
            auth = {"Authorization": "Bearer secret"}
            assert statuses("/fonts/a.pbf", headers=auth) == ["BYPASS", "BYPASS"]
            assert statuses("/fonts/a.pbf") == ["MISS", "HIT"]
            assert statuses("/fonts/b.pbf", params={"token": "t"}) == ["BYPASS", "BYPASS"]
            assert statuses("/fonts/c.pbf", headers={"Cookie": "token=t"}) == ["BYPASS", "BYPASS"]
            for path in ("/static/internal/app.js", "/fonts/INTERNAL.pbf", "/static/internal"):
                assert statuses(path) == ["BYPASS", "BYPASS"], path
            assert statuses("/fonts/private.pbf") == ["MISS", "MISS"]
            assert statuses("/fonts/d.pbf", "POST") == [None, None]
            # anything else is never cached: not a path said so
            for path in (
                "/tiles/public/1/2/3.mvt",
                "/tiles/public.json",
                "/styles/public.json",
                "/releases/r1/tiles/internal/1/2/3.mvt",
                "/internal/wmts/plan/webmercator/02/3/1.png",
                "/wmts/1.0.0/WMTSCapabilities.xml",
                "/",
            ):
                assert statuses(path) == [None, None], path
    paths = [s.path for s in seen]
    assert paths.count("/fonts/Noto/0-255.pbf") == 1 and paths.count("/fonts/a.pbf") == 3
    assert paths.count("/releases/r1/tiles/public/1/2/3.mvt") == 1
    assert paths.count("/releases/r1/tiles/public/1/2/4.mvt") == 1
    # nothing stored from a HEAD (no body)
    assert paths.count("/releases/r1/tiles/public/1/2/5.mvt") == 2
    assert not (tmp_path / "tiles/releases/r1/tiles/public/1/2/5.mvt").exists()
    assert paths.count("/fonts/private.pbf") == 2 and paths.count("/tiles/public.json") == 2
    assert paths.count("/fonts/d.pbf") == 2
    assert [s.headers.get("authorization") for s in seen if s.path == "/fonts/a.pbf"][:2] == [
        "Bearer secret"
    ] * 2  # the node, not nginx, decides what a token may see


def test_a_failed_get_is_retried_and_a_failed_post_is_not(tmp_path: Path) -> None:
    """A node that drops requests unanswered (as one dying mid-request): every GET still
    succeeds (tried again on the other node), a POST it dropped fails with 502 and never
    reaches the other node. A fresh nginx for each method: after 3 failures nginx leaves the
    dropping node out for a while."""
    with closing_node() as dropping, recording_node() as (node, seen):
        for method in ("GET", "POST"):
            prefix = tmp_path / method
            options = local_options(prefix, (dropping, node), free_port())
            with running_nginx(prefix, options, "/ready") as base, httpx.Client() as client:
                seen.clear()
                statuses = [
                    client.request(method, f"{base}/ogc/jobs/{i}", content=b"{}").status_code
                    for i in range(6)
                ]
            tried = [
                line.split(" node=")[1].split(" cache=")[0]
                for line in (prefix / "access.log").read_text().splitlines()
                if f'"{method} /ogc/jobs/' in line
            ]
            # least_conn alternates between the nodes: the dropping node had every other one
            received = [s for s in seen if s.method == method and s.path.startswith("/ogc/jobs/")]
            if method == "GET":
                assert statuses == [200] * 6
                assert len(received) == 6
                assert f"{dropping}, {node} node_status=502, 200" in tried, tried
            else:
                assert 502 in statuses, statuses
                assert f"{dropping} node_status=502" in tried, tried
                assert len(received) == statuses.count(200)  # none sent twice


def test_tls_is_terminated_by_nginx(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "127.0.0.1")
    port = free_port()
    with recording_node() as (node, seen):
        options = replace(
            local_options(tmp_path, (node,), port),
            public_url=f"https://127.0.0.1:{port}",
            tls_cert=str(cert),
            tls_key=str(key),
        )
        conf = nginx_files(tmp_path, options)
        assert "listen 80" not in conf.with_name("onemap.conf").read_text()  # not on port 443
        with running_nginx(tmp_path, options, "/healthz") as base:
            assert base.startswith("https://")
    assert seen[-1].headers["x-forwarded-proto"] == "https"


# -- a deployment: nginx in front of two nodes on the full release ---------------------------


@dataclass
class Deployment:
    base: str  # nginx, the public URL
    nodes: list[Node]
    token: str
    release: BuildResult
    prefix: Path  # nginx's folder (access.log)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def archive(self, audience: str) -> Path:
        return self.release.path / "tiles" / f"{audience}.pmtiles"


@pytest.fixture(scope="module")
def deployment(
    full_release: BuildResult, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deploy")
    token = new_token()
    append_token_hash(root / "tokens", token)
    port = free_port()
    env = {
        "PUBLISH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PUBLISH_TRUSTED_PROXIES": "127.0.0.1",  # nginx's address
        "PUBLISH_TOKENS_FILE": str(root / "tokens"),
    }
    nodes = [
        Node(
            tiles_folder(full_release.path.parent, full_release.release_id, root / name),
            free_port(),
            env,
            root,
        )
        for name in ("node1", "node2")
    ]
    with nginx_in_front(nodes, root / "nginx", port) as base:
        yield Deployment(base, nodes, token, full_release, root / "nginx")


def test_gdal_lists_and_copies_a_collection_through_nginx(
    deployment: Deployment, sample_dir: Path, tmp_path: Path
) -> None:
    source = f"OAPIF:{deployment.base}/ogc"
    listed = subprocess.run(["ogrinfo", "-ro", "-q", source], capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    names = set(re.findall(r"^\d+: (\S+)", listed.stdout, flags=re.MULTILINE))
    catalog = load_catalog(sample_dir / "layers.yml")
    public = {layer.id for layer in catalog.layers if layer.is_public}
    internal = {layer.id for layer in catalog.layers if not layer.is_public}
    assert public <= names and not internal & names, listed.stdout  # (and the indicators)
    out = tmp_path / "xzq_xiang.gpkg"
    copied = subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(out), source, "xzq_xiang", "-oo", "PAGE_SIZE=25"],
        capture_output=True,
        text=True,
    )
    assert copied.returncode == 0, copied.stderr
    spec = next(layer for layer in catalog.layers if layer.id == "xzq_xiang")
    expected = gpd.read_file(spec.source, layer=spec.layer, ignore_geometry=True)
    got = gpd.read_file(out)
    assert len(got) == len(expected) == 70
    assert sorted(map(str, got["BSM"])) == sorted(map(str, expected["BSM"]))
    assert got.geometry.notna().all() and got.crs.is_geographic
    # the pages' next links are the public URL's: GDAL followed them through nginx
    log = deployment.prefix / "access.log"

    def pages() -> list[str]:
        lines = log.read_text().splitlines()
        return [line for line in lines if '"GET /ogc/collections/xzq_xiang/items' in line]

    assert len(settled(lambda: len(pages()) >= 3 and pages()) or pages()) >= 3, pages()


def test_tiles_styles_viewer_and_wms_answer_through_nginx(deployment: Deployment) -> None:
    base = deployment.base
    with httpx.Client(base_url=base, timeout=60) as client:
        tilejson = client.get("/tiles/public.json")
        assert tilejson.status_code == 200
        assert all(url.startswith(base + "/") for url in tilejson.json()["tiles"])
        style = client.get("/styles/public.json")
        assert style.status_code == 200
        assert style.json()["glyphs"].startswith(base + "/fonts/")
        z, x, y = find_tile(deployment.archive("public"), 8)
        tile = client.get(f"/tiles/public/{z}/{x}/{y}.mvt")
        assert tile.status_code == 200
        layers = decode(tile.content, gzipped=False)
        assert layers and "spxm" not in layers
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
        assert assets
        for asset in assets:
            assert client.get(asset).status_code == 200, asset
        caps = client.get("/wms", params={"SERVICE": "WMS", "REQUEST": "GetCapabilities"})
        assert caps.status_code == 200 and f"{base}/wms?" in caps.text
        image = client.get(
            "/wms",
            params={
                "SERVICE": "WMS",
                "VERSION": "1.3.0",
                "REQUEST": "GetMap",
                "LAYERS": "plan",
                "STYLES": "",
                "CRS": "EPSG:4326",
                "BBOX": "28.5,109.5,30.0,111.5",
                "WIDTH": "256",
                "HEIGHT": "192",
                "FORMAT": "image/png",
            },
        )
        assert image.status_code == 200, image.text[:500]
        assert image.headers["content-type"] == "image/png"
        assert not all_transparent(png(image.content))  # the plan, drawn
        # each node's metrics are scraped at the node, never through nginx
        assert client.get("/metrics").status_code == 404
    node = deployment.nodes[1].address
    assert httpx.get(f"http://{node}/metrics").status_code == 200


def test_internal_paths_need_a_token_and_are_never_cached(deployment: Deployment) -> None:
    z, x, y = find_tile(deployment.archive("internal"), 10, layer="spxm")
    rid = deployment.release.release_id
    paths = [
        f"/releases/{rid}/tiles/internal/{z}/{x}/{y}.mvt",
        f"/tiles/internal/{z}/{x}/{y}.mvt",
        "/tiles/internal.json",
        "/styles/internal.json",
        "/internal/ogc/collections/spxm/items?limit=2",
        "/internal/wms?SERVICE=WMS&REQUEST=GetCapabilities",
    ]
    with httpx.Client(base_url=deployment.base, timeout=60) as client:
        for path in paths:
            for _ in range(2):
                staff = client.get(path, headers=deployment.auth)
                assert staff.status_code == 200, (path, staff.text[:300])
                assert cache_status(staff) in (None, "BYPASS"), path
                anonymous = client.get(path)
                assert anonymous.status_code == 401, (path, anonymous.status_code)
                assert cache_status(anonymous) in (None, "BYPASS"), path
            if path.endswith(".mvt"):
                assert "spxm" in decode(staff.content, gzipped=False)
        # a cached location with an `internal` segment is not even looked up
        assert cache_status(client.get("/static/internal/app.js")) == "BYPASS"


def test_public_versioned_tiles_glyphs_assets_and_wmts_are_cached(
    deployment: Deployment,
) -> None:
    rid = deployment.release.release_id
    z, x, y = find_tile(deployment.archive("public"), 9)
    with httpx.Client(base_url=deployment.base, timeout=60) as client:
        style = client.get("/styles/public.json").json()
        glyphs = style["glyphs"].replace("{fontstack}", "Noto Sans Regular")
        # (a query of its own: the viewer test fetched the asset, and the key holds the query)
        asset = re.findall(r'src="(/static/[^"]+)"', client.get("/").text)[0] + "?fresh"
        tile = f"/releases/{rid}/tiles/public/{z}/{x}/{y}.mvt"
        # with credentials: answered by a node, neither looked up nor stored
        with_token = client.get(tile, headers=deployment.auth)
        assert with_token.status_code == 200 and cache_status(with_token) == "BYPASS"
        assert cache_status(client.get(tile, params={"token": "x"})) == "BYPASS"
        # kept as a file by nginx: the node's answer, then nginx's copy with the node's headers
        first = client.get(tile)
        assert first.status_code == 200 and cache_status(first) == "MISS"
        stored = deployment.prefix / "tiles" / tile.lstrip("/")
        assert settled(stored.exists), stored
        assert decode(stored.read_bytes()) == decode(first.content, gzipped=False)
        again = client.get(tile)
        assert cache_status(again) == "STORED" and again.content == first.content
        # its access line: the fields of every line, nginx's own answer's values
        log = deployment.prefix / "access.log"
        stored_line = f'"GET {tile}" 200 {stored.stat().st_size} node=- node_status=- cache=STORED '
        assert settled(lambda: stored_line in log.read_text()), stored_line
        same = ("content-type", "content-encoding", "content-length", "cache-control")
        same += ("x-onemap-release", "x-content-type-options", "referrer-policy")
        assert {k: again.headers.get(k) for k in same} == {k: first.headers.get(k) for k in same}
        assert again.headers["x-onemap-release"] == rid
        assert decode(again.content, gzipped=False)  # httpx undid the gzip the header names
        # with an Origin (CORS answers depend on it): the cache, as for the other paths
        origin = {"Origin": "https://other.example"}
        assert cache_status(client.get(tile, headers=origin)) == "MISS"
        assert cache_status(client.get(tile, headers=origin)) == "HIT"
        for path in (
            f"/releases/{rid}/tiles/public.json",
            f"/releases/{rid}/styles/public.json",
            glyphs.replace(deployment.base, "").replace("{range}", "0-255"),
            asset,
            "/wmts/plan/webmercator/02/3/1.png",
        ):
            first = client.get(path)
            assert first.status_code == 200, (path, first.text[:300])
            assert cache_status(first) == "MISS", path
            again = client.get(path)
            assert cache_status(again) == "HIT", path
            assert again.content == first.content
            assert again.headers.get("x-onemap-release") == first.headers.get("x-onemap-release")
        node = deployment.nodes[0].address
        direct = httpx.get(f"http://{node}{tile}")
        assert client.get(tile).content == direct.content
        assert direct.headers["cache-control"] == "public, max-age=31536000, immutable"
        # the current release's tiles and documents change at a switch: never cached
        for path in (f"/tiles/public/{z}/{x}/{y}.mvt", "/tiles/public.json", "/"):
            for _ in range(2):
                r = client.get(path)
                assert r.status_code == 200 and cache_status(r) is None, path


def test_the_site_check_is_rate_limited(deployment: Deployment) -> None:
    """20 site checks at once from one address: the burst (10) and the first pass to the nodes
    (an empty site: 400), most of the rest get nginx's 429; a body above the node's limit
    never reaches a node."""
    url = deployment.base + SITE_CHECK
    big = httpx.post(url, content=b"x" * (BODY_LIMIT_BYTES + 1), timeout=60)
    assert big.status_code == 413

    def check(_: int) -> int:
        return httpx.post(url, json={"inputs": {}}, timeout=60).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(check, range(20)))
    assert statuses.count(429) >= 5, statuses
    assert statuses.count(400) >= 5, statuses  # a node's own answer
    assert set(statuses) <= {400, 429, 503}, statuses  # 503: a node's queue was full


def test_nginx_logs_the_node_and_cache_but_no_query_string(deployment: Deployment) -> None:
    r = httpx.get(deployment.base + "/tiles/public.json", params={"token": "secret-in-query"})
    assert r.status_code == 200
    log = deployment.prefix / "access.log"
    rid = r.headers["x-request-id"]
    line = settled(lambda: next((t for t in log.read_text().splitlines() if rid in t), None))
    assert line, rid
    lines = log.read_text().splitlines()
    assert '"GET /tiles/public.json" 200' in line
    assert any(f"node={node.address} " in line for node in deployment.nodes)
    assert "secret-in-query" not in "\n".join(lines)
    # the node's own access line carries nginx's request id and sees nginx as the client
    deadline = time.monotonic() + 5
    while True:
        found = [
            json.loads(text)
            for node in deployment.nodes
            for text in node.access_lines()
            if r.headers["x-request-id"] in text
        ]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(found) == 1 and found[0]["client"] == "127.0.0.1"


def test_a_node_killed_under_load_costs_no_get_and_rejoins(deployment: Deployment) -> None:
    """Two clients issue GETs through nginx for ~10 s; node 1 is killed with SIGKILL after 2 s
    and started again after 5 s: not one GET fails, and the restarted node answers again."""
    z, x, y = find_tile(deployment.archive("public"), 8)
    paths = [
        f"/tiles/public/{z}/{x}/{y}.mvt",
        "/tiles/public.json",
        "/ogc/collections/xzq_xian/items?limit=2",
        "/styles/public.json",
    ]
    failures: list[str] = []
    done = [0]
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=deployment.base, timeout=30) as client:
            while not stop.is_set():
                for path in paths:
                    try:
                        r = client.get(path)
                    except httpx.HTTPError as exc:
                        failures.append(f"{path}: {exc!r}")
                        continue
                    if r.status_code != 200:
                        failures.append(f"{path}: {r.status_code} {r.text[:200]}")
                    done[0] += 1
                time.sleep(0.005)

    killed, other = deployment.nodes
    threads = [threading.Thread(target=load) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        before = done[0]
        killed.kill()
        time.sleep(3)
        during = done[0] - before
        killed.start()  # the same port; its own log
        deadline = time.monotonic() + 30
        # back in the rotation: nginx tries it again after fail_timeout (5 s)
        while time.monotonic() - started < 10 or served_load(killed, paths) < 20:
            assert time.monotonic() < deadline, "the restarted node got too few requests"
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert failures == [], failures[:10]
    assert during > 50  # the other node answered while this one was down
    assert served_load(other, paths) > 50
    # requests the killed node had (refused or cut off) were answered by the other
    retried = f"node={killed.address}, {other.address} node_status=502, 200"
    assert retried in (deployment.prefix / "access.log").read_text()


def served_load(node: Node, paths: list[str]) -> int:
    """How many of `paths` the node's latest start answered (its access lines are written
    within a second)."""
    wanted = {path.split("?")[0] for path in paths}
    records = [json.loads(line) for line in node.access_lines()]
    return sum(r.get("path") in wanted and r.get("status") == 200 for r in records)
