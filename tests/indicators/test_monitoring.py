"""The monitoring output of a release: monitoring/<audience>.json, the `indicators` and
`indicators_map` tables, the OGC collection `indicators` (read by GDAL through OAPIF), the
public audience never naming the internal layer, and a catalog without a model."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import pytest
import yaml

from publish.indicators.tables import MAP_TABLE, RESULTS_TABLE
from publish.pipeline.build import BuildOptions, BuildResult, build
from publish.pipeline.progress import Reporter
from publish.release.manifest import read_manifest
from publish.release.output import OutputPart
from publish.release.outputs.monitoring import MONITORING
from publish.release.verify import verify_release
from publish.server.auth import append_token_hash, new_token
from tests.server.helpers import serve


def none(value: Any) -> Any:
    """A value as the JSON has it: a missing one (NaN, None) as None."""
    return None if value is None or pd.isna(value) else value


def monitoring(release: Path, audience: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (release / "monitoring" / f"{audience}.json").read_text(encoding="utf-8")
    )
    return doc


def test_the_documents(full_release: BuildResult) -> None:
    manifest = read_manifest(full_release.path)
    for audience in ("public", "internal"):
        assert manifest["audiences"][audience]["monitoring"] == f"monitoring/{audience}.json"
        doc = monitoring(full_release.path, audience)
        assert doc["schema"] == "onemap-indicators/1"
        assert (doc["release"], doc["audience"]) == (full_release.release_id, audience)
        assert doc["year"] == 2025 and doc["target_years"] == [2025, 2035]
        assert doc["scopes"][0] == {"scope": "city", "code": "430800", "name": "张家界市"}
        assert [s["scope"] for s in doc["scopes"][1:5]] == ["county"] * 4
        ids = [i["id"] for i in doc["indicators"]]
        assert len(doc["results"]) == sum(
            (71 + 4 if r in ("red_line_area", "farmland_protection") else 5) for r in ids
        )
        for row in doc["results"]:
            assert row["previous"] is None and row["delta"] is None  # the folder's first release
            statuses = [t["status"] for t in row["targets"]]
            if row["targets"]:
                first = next(
                    t for t in sorted(row["targets"], key=lambda t: t["year"]) if t["year"] >= 2025
                )
                assert row["status"] == first["status"] and statuses
            else:
                assert row["status"] is None
    public, internal = (monitoring(full_release.path, a) for a in ("public", "internal"))
    assert "spxm" not in json.dumps(public, ensure_ascii=False)
    assert "projects_under_review" not in {i["id"] for i in public["indicators"]}
    assert {i["id"] for i in internal["indicators"]} == {i["id"] for i in public["indicators"]} | {
        "projects_under_review"
    }


def test_the_sample_has_a_warning_and_a_breach(full_release: BuildResult) -> None:
    doc = monitoring(full_release.path, "public")
    county = {r["status"] for r in doc["results"] if r["scope"] == "county"}
    assert {"ok", "warning", "breach"} <= county
    breached = {r["indicator"] for r in doc["results"] if r["status"] == "breach"}
    assert breached


def test_the_tables(full_release: BuildResult) -> None:
    for audience in ("public", "internal"):
        gpkg = full_release.path / "features" / f"{audience}.gpkg"
        doc = monitoring(full_release.path, audience)
        table = pyogrio.read_dataframe(gpkg, layer=RESULTS_TABLE)
        assert len(table) == len(doc["results"])
        assert list(table.columns[:9]) == [
            "indicator", "name_zh", "name_en", "unit", "kind", "scope", "code", "name", "value",
        ]  # fmt: skip
        for row, result in zip(table.itertuples(), doc["results"], strict=True):
            assert (row.indicator, row.scope, row.code) == (
                result["indicator"], result["scope"], result["code"],
            )  # fmt: skip
            assert row.value == pytest.approx(result["value"])
            assert none(row.status) == result["status"]
        between = table[table["rule"] == "between"]
        assert len(between) and (between["target_high"] > between["target"]).all()
        counties = pyogrio.read_dataframe(gpkg, layer=MAP_TABLE)
        assert counties["code"].tolist() == ["430802", "430811", "430821", "430822"]
        for indicator in doc["indicators"]:
            for county in counties.itertuples():
                (result,) = [
                    r for r in doc["results"]
                    if (r["indicator"], r["scope"], r["code"]) == (indicator["id"], "county", county.code)
                ]  # fmt: skip
                assert getattr(county, indicator["id"]) == pytest.approx(result["value"])
                assert none(getattr(county, f"{indicator['id']}_status")) == result["status"]
        with sqlite3.connect(gpkg) as db:
            kinds = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        assert kinds[RESULTS_TABLE] == "attributes" and kinds[MAP_TABLE] == "features"
    assert verify_release(full_release.path, digests=False) == []


def test_the_check_finds_an_internal_layer_in_public(
    full_release: BuildResult, tmp_path: Path
) -> None:
    manifest = read_manifest(full_release.path)
    doc = monitoring(full_release.path, "internal")
    (tmp_path / "monitoring").mkdir()
    (tmp_path / "monitoring" / "public.json").write_text(json.dumps(doc), encoding="utf-8")
    part = OutputPart(tmp_path, "monitoring/public.json", manifest, "public")
    assert MONITORING.check(part) == [
        "monitoring/public.json: the public monitoring names internal layers ['spxm']"
    ]
    assert (
        MONITORING.check(OutputPart(tmp_path, "monitoring/public.json", manifest, "internal")) == []
    )
    (tmp_path / "monitoring" / "public.json").write_text("{", encoding="utf-8")
    assert "unreadable" in MONITORING.check(part)[0]


def test_gdal_reads_the_collection_through_oapif(full_release: BuildResult, tmp_path: Path) -> None:
    tiles = full_release.path.parents[1]
    token = new_token()
    append_token_hash(tmp_path / "tokens", token)
    public = monitoring(full_release.path, "public")
    with serve(tiles, tmp_path / "tokens", tmp_path / "server.log") as (base, _proc):
        frame = pyogrio.read_dataframe(f"OAPIF:{base}/ogc/", layer="indicators")
        staff = pyogrio.read_dataframe(
            f"OAPIF:{base}/internal/ogc/", layer="indicators", USERPWD=f"gis:{token}"
        )
    assert sorted(frame["code"]) == ["430802", "430811", "430821", "430822"]
    assert frame.crs is not None and frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert "projects_under_review" not in frame.columns and "projects_under_review" in staff.columns
    by_code = frame.set_index("code")
    for row in public["results"]:
        if row["scope"] == "county":
            got = by_code.loc[row["code"], row["indicator"]]
            assert got == pytest.approx(row["value"])
            assert none(by_code.loc[row["code"], f"{row['indicator']}_status"]) == row["status"]
    assert by_code.loc["430802", "name"] == "永定区"


def test_a_catalog_without_a_model(sample_dir: Path, tmp_path: Path) -> None:
    doc = yaml.safe_load((sample_dir / "layers.yml").read_text(encoding="utf-8"))
    doc.pop("indicators")
    doc["layers"] = [
        {**layer, "source": str(sample_dir / layer["source"])}
        for layer in doc["layers"]
        if layer["id"] in ("xzq_xian", "stbhhx", "hl", "spxm")
    ]
    catalog = tmp_path / "layers.yml"
    catalog.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    built = build(
        BuildOptions(catalog=catalog, out=tmp_path / "tiles"), Reporter(io.StringIO(), rich=False)
    )
    manifest = read_manifest(built.path)
    assert all("monitoring" not in manifest["audiences"][a] for a in ("public", "internal"))
    assert not (built.path / "monitoring").exists()
    tables = {str(n) for n in pyogrio.list_layers(built.path / "features" / "public.gpkg")[:, 0]}
    assert tables == {"xzq_xian", "stbhhx", "hl", "plan_areas"}
    ogc = yaml.safe_load((built.path / "ogc" / "public.yml").read_text(encoding="utf-8"))
    assert "indicators" not in ogc["resources"]
    assert manifest["indicators"]["public"]["city"]["red_line"]["area_km2"] > 0  # as before
    assert verify_release(built.path) == []
    shutil.rmtree(tmp_path / "tiles")
