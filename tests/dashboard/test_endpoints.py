"""The dashboard's data endpoints on three releases of the sample: /indicators/{audience}.json
holds the current release's documents as the release carries them and the trend read from each
kept release's own file; the CSV and the XLSX hold the same numbers; the public side names no
internal layer or indicator; the internal side needs the token; a release without monitoring
is a 404 saying so; odd languages and hosts break nothing."""

from __future__ import annotations

import csv
import io
import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from publish.dashboard.table import COLUMNS
from publish.server.settings import Settings
from publish.server.stack import GZIP_MINIMUM_SIZE
from publish.viewer import STATIC_DIR
from tests.dashboard.conftest import INTERNAL_INDICATOR, INTERNAL_WORDS, Releases, read_json
from tests.server.helpers import TestClient, make_client, point_current
from tests.viewer.bundle import dynamic_chunks, needed_chunks

pytestmark = pytest.mark.slow


def _files(releases: Releases, rid: str, audience: str) -> tuple[dict, dict]:
    root = releases.release(rid)
    return (
        read_json(root / "monitoring" / f"{audience}.json"),
        read_json(root / "conflicts" / f"{audience}.json"),
    )


def test_json_holds_the_current_release_documents_and_the_trend(
    client: TestClient, releases: Releases
) -> None:
    r = client.get("/indicators/public.json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-onemap-release"] == releases.ids[-1]
    doc = r.json()
    assert set(doc) == {"release", "monitoring", "conflicts", "trend"}
    monitoring, conflicts = _files(releases, releases.ids[-1], "public")
    assert doc["release"] == releases.ids[-1]
    assert doc["monitoring"] == monitoring and doc["conflicts"] == conflicts
    assert monitoring["schema"] == "onemap-indicators/1"
    # the trend: every kept release, oldest first, each with its own file's values
    assert [p["release"] for p in doc["trend"]] == list(releases.ids)
    assert [p["note"] for p in doc["trend"]] == [None, "第2版", "第3版"]  # the first: none
    for point in doc["trend"]:
        own, _ = _files(releases, point["release"], "public")
        expected = {
            (r["indicator"], f"{r['scope']}:{r['code']}"): r["value"] for r in own["results"]
        }
        got = {(i, key): v for i, values in point["values"].items() for key, v in values.items()}
        assert got == expected
        assert point["time"] and point["time"] <= doc["trend"][-1]["time"]
    # the revisions grew the urban boundary and moved the red line between counties: the trend
    # is not three copies of one figure
    city = f"city:{monitoring['scopes'][0]['code']}"
    urban = [p["values"]["urban_boundary_area"][city] for p in doc["trend"]]
    assert urban == sorted(urban) and len(set(urban)) == 3
    counties = [f"county:{s['code']}" for s in monitoring["scopes"] if s["scope"] == "county"]
    red = {tuple(p["values"]["red_line_area"][c] for c in counties) for p in doc["trend"]}
    assert len(red) == 3
    # the delta of the current release is against the release it replaced (the second)
    second = {
        (x["indicator"], x["code"]): x["value"]
        for x in _files(releases, releases.ids[1], "public")[0]["results"]
    }
    for result in monitoring["results"]:
        assert result["previous"] == second[(result["indicator"], result["code"])]


def test_the_trend_stops_at_the_current_release(releases: Releases, tmp_path: Path) -> None:
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    (tiles / "releases").symlink_to(releases.tiles / "releases")
    point_current(tiles, releases.ids[1])
    with make_client(Settings(tiles_dir=tiles)) as c:
        doc = c.get("/indicators/public.json").json()
    assert doc["release"] == releases.ids[1]
    assert [p["release"] for p in doc["trend"]] == list(releases.ids[:2])


def _rows_by_key(rows: list[dict]) -> dict[tuple[str, str, str], dict]:
    return {(str(r["indicator"]), str(r["scope"]), str(r["code"])): r for r in rows}


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


def _target_cell(text: str) -> float | list[float] | None:
    """A CSV target cell as the document writes it: a number, or `lo–hi` for a `between`."""
    if "–" in text:
        return [float(part) for part in text.split("–")]
    return _number(text)


def test_csv_and_xlsx_hold_the_json_numbers(client: TestClient, releases: Releases) -> None:
    monitoring = client.get("/indicators/public.json").json()["monitoring"]
    results = {(r["indicator"], r["scope"], r["code"]): r for r in monitoring["results"]}

    r = client.get("/indicators/public.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())  # Excel reads the Chinese names
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == len(results) and tuple(rows[0]) == COLUMNS
    for key, row in _rows_by_key(rows).items():
        result = results[key]
        assert _number(row["value"]) == result["value"]
        assert _number(row["delta"]) == result["delta"]
        assert row["status"] == (result["status"] or "")
        # the status stands for the first target year at or after the data's year
        year = min(y for y in monitoring["target_years"] if y >= monitoring["year"])
        target = next((t for t in result["targets"] if t["year"] == year), None)
        if target is None:  # an indicator without targets (the red line's share, the villages)
            assert (row["target_year"], row["target"], row["status"]) == ("", "", "")
        else:
            assert row["target_year"] == str(year)
            assert _target_cell(row["target"]) == target["target"]
    names = {s["code"]: s["name"] for s in monitoring["scopes"]}
    assert {row["name"] for row in rows} == set(names.values())

    r = client.get("/indicators/public.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0] == COLUMNS and len(table) == len(results) + 1
    cells = [dict(zip(COLUMNS, row, strict=True)) for row in table[1:]]
    for key, row in _rows_by_key(cells).items():
        result = results[key]
        assert row["value"] == result["value"] and row["previous"] == result["previous"]
        assert row["delta"] == result["delta"] and row["status"] == result["status"]
        assert isinstance(row["value"], int | float)  # a number, not text


def _csv(client: TestClient, path: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(client.get(path).content.decode("utf-8-sig"))))


def test_a_target_year_chooses_the_targets_of_the_table(client: TestClient) -> None:
    monitoring = client.get("/indicators/public.json").json()["monitoring"]
    assert monitoring["target_years"] == [2025, 2035]
    rows = _csv(client, "/indicators/public.csv?year=2035")
    later = {
        (r["indicator"], r["code"]): next((t for t in r["targets"] if t["year"] == 2035), None)
        for r in monitoring["results"]
    }
    assert len(rows) == len(later)
    for row in rows:
        target = later[(row["indicator"], row["code"])]
        if target is None:  # an indicator without targets
            assert (row["target_year"], row["target"], row["status"]) == ("", "", "")
            continue
        assert row["target_year"] == "2035" and row["status"] == target["status"]
        assert _target_cell(row["target"]) == target["target"]
    # the year changes what the table says: the sample's targets that rise by 2035 (its
    # construction land and forest cover) differ, every other one is the same in both years
    first = _csv(client, "/indicators/public.csv?year=2025")
    assert [(r["indicator"], r["code"]) for r in first] == [
        (r["indicator"], r["code"]) for r in rows
    ]
    moved = {a["indicator"] for a, b in zip(first, rows, strict=True) if a["target"] != b["target"]}
    assert moved == {"construction_land", "forest_cover"}
    for bad, why in (("2030", "not a target year"), ("20x5", "a year such as"), ("-1", "a year")):
        r = client.get(f"/indicators/public.xlsx?year={bad}")
        assert r.status_code == 400 and why in r.json()["description"]


def test_public_names_no_internal_layer_or_indicator(
    client: TestClient, auth: dict[str, str]
) -> None:
    for fmt in ("json", "csv"):
        text = client.get(f"/indicators/public.{fmt}").text
        assert not [w for w in INTERNAL_WORDS if w in text]
    internal = client.get("/indicators/internal.json", headers=auth).json()
    assert INTERNAL_INDICATOR in [i["id"] for i in internal["monitoring"]["indicators"]]
    assert INTERNAL_INDICATOR in internal["trend"][0]["values"]
    public = client.get("/indicators/public.json").json()
    assert INTERNAL_INDICATOR not in public["trend"][0]["values"]


def test_internal_needs_the_token(client: TestClient, auth: dict[str, str]) -> None:
    for fmt in ("json", "csv", "xlsx"):
        r = client.get(f"/indicators/internal.{fmt}")
        assert r.status_code == 401, fmt
        assert client.get(f"/indicators/internal.{fmt}", headers=auth).status_code == 200
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.get("/indicators/internal.json", headers=bad).status_code == 401
    assert client.get("/indicators/nobody.json").status_code == 404
    # the internal page itself is open (it asks for the token) and holds no data
    page = client.get("/internal/dashboard")
    assert page.status_code == 200 and INTERNAL_INDICATOR not in page.text
    assert client.get("/dashboard").text == page.text


def test_no_monitoring_is_a_404_saying_so(releases: Releases) -> None:
    with make_client(Settings(tiles_dir=releases.bare)) as c:
        for fmt in ("json", "csv", "xlsx"):
            r = c.get(f"/indicators/public.{fmt}")
            assert r.status_code == 404
            assert "no indicator monitoring" in r.json()["description"]
        assert c.get("/dashboard").status_code == 200  # the page says it (tested in Chromium)


def test_documents_revalidate_with_their_etag(client: TestClient) -> None:
    for fmt in ("json", "csv", "xlsx"):
        r = client.get(f"/indicators/public.{fmt}")
        assert r.headers["cache-control"] == "public, no-cache"
        again = client.get(
            f"/indicators/public.{fmt}", headers={"If-None-Match": r.headers["etag"]}
        )
        assert again.status_code == 304


@pytest.mark.parametrize("language", ["zh-TW", "fr-FR", "*", "zh-Hant;q=0.9, en;q=0.1", "x;q=y"])
def test_any_language_gets_the_page_and_the_data(client: TestClient, language: str) -> None:
    headers = {"Accept-Language": language}
    for path in ("/dashboard", "/indicators/public.json", "/indicators/public.csv"):
        assert client.get(path, headers=headers).status_code == 200, path


def test_a_foreign_host_is_refused_not_crashed(client: TestClient) -> None:
    for path in ("/dashboard", "/indicators/public.json"):
        r = client.get(path, headers={"Host": "evil.example.com"})
        assert r.status_code == 400


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    audience=st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", max_size=16),
    fmt=st.sampled_from(["json", "csv", "xlsx"]),
    year=st.one_of(st.none(), st.text(max_size=12)),
    language=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)
def test_no_client_input_gives_a_5xx(
    client: TestClient, audience: str, fmt: str, year: str | None, language: str
) -> None:
    params = {} if year is None else {"year": year}
    r = client.get(
        f"/indicators/{audience}.{fmt}", params=params, headers={"Accept-Language": language}
    )
    assert r.status_code in (200, 400, 401, 404), (r.status_code, r.text)


def test_the_page_assets_go_out_compressed_and_cached(client: TestClient) -> None:
    page = client.get("/dashboard").text
    assets = re.findall(r'<(?:script|link)\b[^>]*?(?:src|href)="(/[^"]*)"', page)
    assets += re.findall(r'name="onemap-worker" content="([^"]+)"', page)
    (script,) = re.findall(r'<script type="module" src="/static/([^"]+)"', page)
    preloaded = re.findall(r'<link rel="modulepreload" href="/static/([^"]+)"', page)
    assert sorted(preloaded) == sorted(needed_chunks(STATIC_DIR, script))
    assert len(assets) == 3 + len(preloaded) and all(a.startswith("/static/") for a in assets)
    for asset in assets:
        r = client.get(asset, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200
        small = len(r.content) < GZIP_MINIMUM_SIZE  # a tiny chunk goes as it is
        assert r.headers.get("content-encoding") == (None if small else "gzip"), asset
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    # MapLibre comes in chunks the script loads when the map comes into view, not with the page
    body = client.get(f"/static/{script}").text
    (lazy,) = dynamic_chunks(body)
    later = [c for c in [lazy, *needed_chunks(STATIC_DIR, lazy)] if c not in preloaded]
    library = "".join(client.get(f"/static/{c}").text for c in later)
    assert "maplibregl-map" in library
    assert len(body.encode()) < 700_000 < len(library.encode())
