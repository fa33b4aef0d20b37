"""The monitoring results as tables of an audience's feature store (features/<audience>.gpkg).

* `indicators` (non-spatial, gpkg_contents data_type 'attributes'): one row per result —
  indicator, name_zh, name_en, unit, kind, scope, code, name, value, target_year, rule, target
  (the target, or a between's low), target_high (a between's high), status, previous, delta;
  the target columns are those of the target the status is read against.
* `indicators_map` (spatial, EPSG:4326, fid primary key, R-tree): one county polygon per row
  with code, name and, per indicator, a column `<id>` (its value) and `<id>_status`. The OGC
  API serves it as the collection `indicators`, so GIS clients can map the figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from publish.errors import BuildError
from publish.indicators.scopes import ScopeUnit

__all__ = [
    "MAP_TABLE",
    "RESULTS_TABLE",
    "map_frame",
    "results_frame",
    "write_map_table",
    "write_results_table",
]

RESULTS_TABLE = "indicators"
MAP_TABLE = "indicators_map"
STORE_CRS = "EPSG:4326"


def _target_columns(row: Mapping[str, Any], year: int) -> dict[str, Any]:
    targets = sorted(row["targets"], key=lambda t: t["year"])
    chosen = next((t for t in targets if t["year"] >= year), targets[-1] if targets else None)
    if chosen is None:
        return {"target_year": None, "rule": None, "target": None, "target_high": None}
    low, high = (chosen["target"], None) if chosen["rule"] != "between" else chosen["target"]
    return {
        "target_year": chosen["year"],
        "rule": chosen["rule"],
        "target": low,
        "target_high": high,
    }


def results_frame(doc: Mapping[str, Any]) -> pd.DataFrame:
    """The monitoring document's results as the `indicators` table's rows."""
    indicators = {i["id"]: i for i in doc["indicators"]}
    names = {(s["scope"], s["code"]): s.get("name") for s in doc["scopes"]}
    rows = []
    for row in doc["results"]:
        indicator = indicators[row["indicator"]]
        rows.append(
            {
                "indicator": row["indicator"],
                "name_zh": indicator["name"]["zh"],
                "name_en": indicator["name"]["en"],
                "unit": indicator["unit"],
                "kind": indicator["kind"],
                "scope": row["scope"],
                "code": row["code"],
                "name": names.get((row["scope"], row["code"])),
                "value": row["value"],
                **_target_columns(row, int(doc["year"])),
                "status": row["status"],
                "previous": row["previous"],
                "delta": row["delta"],
            }
        )
    text = (
        "indicator",
        "name_zh",
        "name_en",
        "unit",
        "kind",
        "scope",
        "code",
        "name",
        "rule",
        "status",
    )
    numbers = ("value", "target", "target_high", "previous", "delta")
    frame = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in text})
    for column in numbers:
        frame[column] = pd.Series([r[column] for r in rows], dtype="float64")
    frame["target_year"] = pd.Series([r["target_year"] for r in rows], dtype="Int64")
    order = [
        *text[:8],
        "value",
        "target_year",
        "rule",
        "target",
        "target_high",
        "status",
        "previous",
        "delta",
    ]
    return frame[order]


def write_results_table(gpkg: Path, doc: Mapping[str, Any]) -> None:
    """Write (or replace) the non-spatial `indicators` table of the monitoring document."""
    try:
        pyogrio.write_dataframe(results_frame(doc), Path(gpkg), layer=RESULTS_TABLE, driver="GPKG")
    except Exception as exc:  # pyogrio raises its own and GDAL's errors
        raise BuildError(f"{gpkg}: cannot write the {RESULTS_TABLE} table ({exc})") from exc


def map_frame(doc: Mapping[str, Any], counties: Sequence[ScopeUnit], crs: str) -> gpd.GeoDataFrame:
    """One row per county: code, name, `<id>` and `<id>_status` per indicator (EPSG:4326)."""
    by_unit = {(r["indicator"], r["code"]): r for r in doc["results"] if r["scope"] == "county"}
    data: dict[str, Any] = {
        "fid": pd.Series(range(1, len(counties) + 1), dtype="int64"),
        "code": pd.Series([u.code for u in counties], dtype=object),
        "name": pd.Series([u.name for u in counties], dtype=object),
    }
    for indicator in doc["indicators"]:
        rows = [by_unit.get((indicator["id"], u.code)) or {} for u in counties]
        data[indicator["id"]] = pd.Series([r.get("value") for r in rows], dtype="float64")
        data[f"{indicator['id']}_status"] = pd.Series([r.get("status") for r in rows], dtype=object)
    geoms = gpd.GeoSeries([u.geometry for u in counties], crs=crs)
    frame = gpd.GeoDataFrame(data, geometry=geoms, crs=crs)
    return frame.to_crs(STORE_CRS)


def write_map_table(
    gpkg: Path, doc: Mapping[str, Any], counties: Sequence[ScopeUnit], crs: str
) -> None:
    """Write (or replace) the spatial `indicators_map` table (counties in `crs`)."""
    try:
        pyogrio.write_dataframe(
            map_frame(doc, counties, crs),
            Path(gpkg),
            layer=MAP_TABLE,
            driver="GPKG",
            geometry_type="MultiPolygon",
            promote_to_multi=True,
            layer_options={"SPATIAL_INDEX": "YES", "FID": "fid"},
        )
    except Exception as exc:  # pyogrio raises its own and GDAL's errors
        raise BuildError(f"{gpkg}: cannot write the {MAP_TABLE} table ({exc})") from exc
