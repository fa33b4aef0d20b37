"""The plan's history, end to end: revision 1 then revision 2 of the sample built into one
folder (with a note and an author). The second release carries its diff against the first
(manifest, diff/<audience>/, a `changes` tile layer per audience), `release list` shows it, and
the server lists the kept releases and serves each diff — the public side never naming an
internal layer."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from publish.cli import main
from publish.pipeline.build import BuildOptions, build
from publish.pipeline.progress import Reporter
from publish.release.manifest import read_manifest
from publish.release.verify import verify_release
from publish.sample.generate import generate
from publish.server.auth import append_token_hash, new_token
from publish.server.settings import Settings
from tests.mvt import decoded_tiles
from tests.server.helpers import TestClient, make_client

pytestmark = pytest.mark.slow

PARCELS, SEED = 2_000, 7  # the session's sample_dir is revision 1 of the same city
INTERNAL_WORDS = ("spxm", "在审建设项目")  # the internal layer's id and title


@dataclass(frozen=True)
class History:
    tiles: Path
    first: str
    second: str
    truth: dict  # revision 2's changes.json


@pytest.fixture(scope="module")
def history(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> History:
    revision = tmp_path_factory.mktemp("revision2")
    generate(revision, parcels=PARCELS, seed=SEED, revision=2)
    tiles = tmp_path_factory.mktemp("history")
    reporter = Reporter(io.StringIO(), rich=False)
    first = build(BuildOptions(catalog=sample_dir / "layers.yml", out=tiles), reporter)
    options = BuildOptions(
        catalog=revision / "layers.yml", out=tiles, note="2026年第3批村庄规划入库", author="李四"
    )
    second = build(options, reporter)
    truth = json.loads((revision / "changes.json").read_text(encoding="utf-8"))
    return History(tiles, first.release_id, second.release_id, truth)


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("tokens")
    value = new_token()
    append_token_hash(folder / "tokens", value)
    return folder / "tokens", value


@pytest.fixture(scope="module")
def client(history: History, token: tuple[Path, str]) -> Iterator[TestClient]:
    with make_client(Settings(tiles_dir=history.tiles, tokens_file=token[0])) as c:
        yield c


def _release(history: History, rid: str) -> Path:
    return history.tiles / "releases" / rid


def test_the_new_release_holds_its_diff_and_is_whole(history: History) -> None:
    manifest = read_manifest(_release(history, history.second))
    assert manifest["note"] == "2026年第3批村庄规划入库" and manifest["author"] == "李四"
    changes = manifest["changes"]
    assert changes["against"] == history.first
    assert "stbhhx" in changes["summary"]["public"] and "spxm" in changes["summary"]["internal"]
    assert not any(w in changes["summary"]["public"] for w in INTERNAL_WORDS)
    assert verify_release(_release(history, history.second)) == []
    # the first release replaced none: no diff, and its check does not ask for one
    assert "changes" not in read_manifest(_release(history, history.first)) or (
        read_manifest(_release(history, history.first))["changes"] is None
    )
    internal = json.loads(
        (_release(history, history.second) / changes["diff"]["internal"]["json"]).read_text()
    )
    found = {
        (layer["id"], c["id"], c["kind"]) for layer in internal["layers"] for c in layer["changes"]
    }
    whole = {
        (layer, e["id"], e["kind"])
        for layer, entries in history.truth["layers"].items()
        for e in entries
        if e["kind"] in ("added", "removed")
    }
    assert whole and whole <= found


def _changes_features(archive: Path, zoom: int) -> list[dict]:
    return [
        feature
        for _x, _y, layers in decoded_tiles(archive, zoom)
        for feature in (layers.get("changes") or {}).get("features", [])
    ]


def test_the_changes_are_a_layer_of_each_audience_archive(history: History) -> None:
    root = _release(history, history.second)
    added = {str(e["id"]) for e in history.truth["layers"]["stbhhx"] if e["kind"] == "added"}
    removed = {str(e["id"]) for e in history.truth["layers"]["stbhhx"] if e["kind"] == "removed"}
    project = {str(e["id"]) for e in history.truth["layers"]["spxm"] if e["kind"] == "added"}
    public = _changes_features(root / "tiles" / "public.pmtiles", 12)
    internal = _changes_features(root / "tiles" / "internal.pmtiles", 12)
    red_line = {
        (f["properties"]["id"], f["properties"]["kind"])
        for f in public
        if f["properties"]["layer"] == "stbhhx"
    }
    assert {(i, "added") for i in added} <= red_line
    assert {(i, "removed") for i in removed} <= red_line
    assert not any(f["properties"]["layer"] == "spxm" for f in public)
    internal_projects = {
        f["properties"]["id"] for f in internal if f["properties"]["layer"] == "spxm"
    }
    assert project and project <= internal_projects
    # the first release replaced none: its archives have no changes layer
    assert not _changes_features(_release(history, history.first) / "tiles" / "public.pmtiles", 12)


def test_the_tilejson_names_the_changes_layer(client: TestClient, history: History) -> None:
    for path in ("/tiles/public.json", f"/releases/{history.second}/tiles/public.json"):
        ids = {layer["id"] for layer in client.get(path).json()["vector_layers"]}
        assert "changes" in ids and "spxm" not in ids, path
    first = client.get(f"/releases/{history.first}/tiles/public.json").json()
    assert "changes" not in {layer["id"] for layer in first["vector_layers"]}


def test_release_list_shows_note_author_and_changes(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["release", "list", "--out", str(history.tiles)]) == 0
    out = capsys.readouterr().out
    assert "2026年第3批村庄规划入库" in out and "李四" in out
    line = next(line for line in out.splitlines() if history.second in line)
    assert line.startswith("*")
    assert "layers changed: stbhhx" in out


def test_the_public_list_of_releases(client: TestClient, history: History) -> None:
    r = client.get("/releases")
    assert r.status_code == 200 and r.headers["cache-control"] == "public, no-cache"
    doc = r.json()
    assert doc["current"] == history.second
    assert [e["id"] for e in doc["releases"]] == [history.second, history.first]
    newest = doc["releases"][0]
    assert newest["note"] == "2026年第3批村庄规划入库" and "author" not in newest
    assert newest["replaces"] == history.first and "stbhhx" in newest["changes"]
    assert newest["links"]["diff"] == f"/releases/{history.second}/diff"
    assert "diff" not in doc["releases"][1]["links"]
    page = client.get("/releases", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "2026年第3批村庄规划入库" in page.text and history.first in page.text
    for body in (r.text, page.text):
        assert not any(word in body for word in INTERNAL_WORDS)


def test_the_internal_list_needs_the_token(
    client: TestClient, history: History, token: tuple[Path, str]
) -> None:
    assert client.get("/internal/releases").status_code == 401
    auth = {"Authorization": f"Bearer {token[1]}"}
    doc = client.get("/internal/releases", headers=auth).json()
    newest = doc["releases"][0]
    assert newest["author"] == "李四" and "spxm" in newest["changes"]
    assert newest["links"]["diff"] == f"/internal/releases/{history.second}/diff"


def test_the_diffs(client: TestClient, history: History, token: tuple[Path, str]) -> None:
    r = client.get(f"/releases/{history.second}/diff")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    doc = r.json()
    assert doc["audience"] == "public" and doc["old"]["release"] == history.first
    page = client.get(f"/releases/{history.second}/diff?f=html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for body in (r.text, page.text):
        assert not any(word in body for word in INTERNAL_WORDS)
    path = f"/internal/releases/{history.second}/diff"
    assert client.get(path).status_code == 401
    internal = client.get(path, headers={"Authorization": f"Bearer {token[1]}"})
    assert internal.status_code == 200 and "spxm" in internal.text
    assert internal.headers["cache-control"] == "private, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/releases/{first}/diff", "replaced no release"),
        ("/releases/20200101T000000Z-deadbeef/diff", "/releases"),
        ("/releases/nonsense/diff", "/releases"),
        ("/releases?f=xml", "f must be one of json, html"),
    ],
)
def test_bad_history_requests(client: TestClient, history: History, path: str, says: str) -> None:
    r = client.get(path.format(first=history.first))
    assert r.status_code in (400, 404)
    assert says in r.json()["description"]
