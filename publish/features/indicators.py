"""The plan's indicators (规划指标): areas of the city, its counties, the three control lines
and the land-use structure, computed on exact geometry in the city's working CRS (metres).

Definitions:

* City area: the union of ``city_area`` if given, else the union of the county polygons.
  A county: the union of the rows sharing its code (``XZQDM``), named by ``XZQMC``.
* A control line's area in a unit (city or county) is the area of the intersection of the
  unit with the union of the line's features, so features that overlap inside one layer are
  counted once and nothing outside the unit counts. Its share is of the unit's area.
* Land-use structure: the planned land-use layer's features clipped to the unit, summed by
  first-level class (the code's first two characters; the name from the national
  classification), each class's share being of the land-use total inside that unit. Features
  without a code are summed under the code "" (name None).
* Invalid geometries are repaired with ``shapely.make_valid`` before any union or clip.
* Areas are reported in km² rounded to 0.0001, shares (0..1) rounded to 0.0001.

:func:`write_indicators_table` stores the result as a non-spatial ``plan_areas`` table in a
GeoPackage (``gpkg_contents.data_type = 'attributes'``), one row per (unit, indicator).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from publish.catalog import CONTROL_LINE_ROLES, Catalog
from publish.errors import BuildError
from publish.standards import land_use_classes

__all__ = [
    "INDICATOR_COLUMNS",
    "compute_indicators",
    "indicator_rows",
    "write_indicators_table",
]

COUNTY_CODE, COUNTY_NAME = "XZQDM", "XZQMC"
INDICATOR_COLUMNS = ("scope", "code", "name", "indicator", "area_km2", "share")
TABLE = "plan_areas"


def county_layer(catalog: Catalog, counts: Mapping[str, int]) -> str | None:
    """The coarsest administrative layer (fewest features) among the layers `counts` counts:
    the counties in a city catalog."""
    admin = [s.id for s in catalog.by_role("admin") if s.id in counts]
    return min(admin, key=lambda lid: counts[lid]) if admin else None


def _km2(area_m2: float) -> float:
    return round(area_m2 / 1e6, 4)


def _share(part: float, whole: float | None) -> float | None:
    if not whole:
        return None
    return round(part / whole, 4)


def _geometries(frame: gpd.GeoDataFrame, what: str, crs: str) -> np.ndarray:
    """The frame's non-empty geometries, repaired where invalid, after checking the CRS."""
    if frame.crs is None or CRS.from_user_input(frame.crs) != CRS.from_user_input(crs):
        raise BuildError(f"indicators: {what} must be in {crs} (metres), got {frame.crs}")
    geoms = np.asarray(frame.geometry.array, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[keep]
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


def _union(frame: gpd.GeoDataFrame, what: str, crs: str) -> shapely.Geometry:
    return shapely.union_all(_geometries(frame, what, crs))


def _counties(
    counties: gpd.GeoDataFrame, crs: str
) -> list[tuple[str, str | None, shapely.Geometry]]:
    """(code, name, geometry) per county code, in code order."""
    for column in (COUNTY_CODE, COUNTY_NAME):
        if column not in counties.columns:
            raise BuildError(f"indicators: the county layer has no {column} column")
    if counties.crs is None or CRS.from_user_input(counties.crs) != CRS.from_user_input(crs):
        raise BuildError(f"indicators: counties must be in {crs}, got {counties.crs}")
    units = []
    for code, rows in counties.groupby(counties[COUNTY_CODE].astype(str), sort=True):
        names = rows[COUNTY_NAME].dropna()
        name = str(names.iloc[0]) if len(names) else None
        units.append((str(code), name, _union(rows, f"county {code}", crs)))
    return units


def _line_figures(
    line: shapely.Geometry, unit: shapely.Geometry | None, unit_area: float | None
) -> dict[str, Any]:
    inside = line if unit is None else shapely.intersection(line, unit)
    area = float(shapely.area(inside))
    return {"area_km2": _km2(area), "share": _share(area, unit_area)}


def _land_use_structure(by_class: Mapping[str, float]) -> list[dict[str, Any]]:
    classes = land_use_classes()
    total = sum(by_class.values())
    rows = []
    for code in sorted(by_class):
        entry = classes.get(code)
        rows.append(
            {
                "code": code,
                "name": entry.name if entry is not None else None,
                "area_km2": _km2(by_class[code]),
                "share": _share(by_class[code], total),
            }
        )
    return rows


def _first_level(values: pd.Series) -> np.ndarray:
    codes = values.astype(object).where(values.notna(), None)
    return np.array(["" if v is None else str(v).strip()[:2] for v in codes], dtype=object)


def compute_indicators(
    *,
    city_area: gpd.GeoDataFrame | None,
    counties: gpd.GeoDataFrame | None,
    control_lines: Mapping[str, gpd.GeoDataFrame],
    land_use: gpd.GeoDataFrame | None,
    land_use_field: str | None,
    city_code: str | None = None,
    city_name: str | None = None,
    crs: str,
) -> dict[str, Any]:
    """The plan's indicators for the city and each county (see the module docstring).

    All frames in ``crs``, the city's working CRS (metres). ``control_lines`` maps a role of CONTROL_LINE_ROLES to that
    layer's frame (roles left out are left out of the result). Returns::

        {"city": {"code", "name", "area_km2", "red_line": {"area_km2", "share"}, ...,
                  "land_use": [{"code": "07", "name": "居住用地", "area_km2", "share"}, ...]},
         "counties": [{"code", "name", "area_km2", "share" (of the city), "red_line": ...,
                       "land_use": [...]}, ...]}

    Without a city area or counties, areas are unclipped and shares None. Raises BuildError
    for a frame in another CRS, an unknown role or a missing column.
    """
    unknown = sorted(set(control_lines) - set(CONTROL_LINE_ROLES))
    if unknown:
        raise BuildError(
            f"indicators: unknown control-line role {unknown[0]!r} "
            f"(expected {', '.join(CONTROL_LINE_ROLES)})"
        )
    units = _counties(counties, crs) if counties is not None else []
    city_geom: shapely.Geometry | None
    if city_area is not None:
        city_geom = _union(city_area, "the city area", crs)
    elif units:
        city_geom = shapely.union_all([geom for _, _, geom in units])
    else:
        city_geom = None
    city_m2 = float(shapely.area(city_geom)) if city_geom is not None else None
    city: dict[str, Any] = {
        "code": city_code,
        "name": city_name,
        "area_km2": _km2(city_m2) if city_m2 is not None else None,
    }
    county_rows: list[dict[str, Any]] = []
    for code, name, geom in units:
        area = float(shapely.area(geom))
        county_rows.append(
            {"code": code, "name": name, "area_km2": _km2(area), "share": _share(area, city_m2)}
        )

    for role in CONTROL_LINE_ROLES:
        if role not in control_lines:
            continue
        line = _union(control_lines[role], f"control line {role!r}", crs)
        city[role] = _line_figures(line, city_geom, city_m2)
        for row, (_, _, geom) in zip(county_rows, units, strict=True):
            row[role] = _line_figures(line, geom, float(shapely.area(geom)))

    city["land_use"] = []
    for row in county_rows:
        row["land_use"] = []
    if land_use is not None:
        if not land_use_field or land_use_field not in land_use.columns:
            raise BuildError(f"indicators: the land-use layer has no code field {land_use_field!r}")
        present = ~(shapely.is_missing(land_use.geometry.array) | land_use.geometry.is_empty)
        frame = land_use[np.asarray(present)]
        geoms = _geometries(frame, "the land-use layer", crs)
        classes = _first_level(frame[land_use_field])
        tree = shapely.STRtree(geoms)
        city["land_use"] = _land_use_structure(_clipped_sums(tree, classes, city_geom))
        for row, (_, _, geom) in zip(county_rows, units, strict=True):
            row["land_use"] = _land_use_structure(_clipped_sums(tree, classes, geom))
    return {"city": city, "counties": county_rows}


def _clipped_sums(
    tree: shapely.STRtree, classes: np.ndarray, unit: shapely.Geometry | None
) -> dict[str, float]:
    """Area (m²) by class of the tree's features inside ``unit`` (all if unit is None)."""
    geoms = np.asarray(tree.geometries, dtype=object)
    if unit is None:
        chosen = np.arange(len(geoms))
        areas = shapely.area(geoms)
    else:
        chosen = tree.query(unit, predicate="intersects")
        areas = shapely.area(shapely.intersection(geoms[chosen], unit))
    sums: dict[str, float] = defaultdict(float)
    for code, area in zip(classes[chosen], areas, strict=True):
        if area > 0:
            sums[str(code)] += float(area)
    return dict(sums)


def indicator_rows(indicators: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The indicators as table rows (INDICATOR_COLUMNS), city first, then counties."""
    rows: list[dict[str, Any]] = []

    def unit_rows(scope: str, unit: Mapping[str, Any], share: float | None) -> None:
        base = {"scope": scope, "code": unit.get("code"), "name": unit.get("name")}
        rows.append({**base, "indicator": "area", "area_km2": unit.get("area_km2"), "share": share})
        for role in CONTROL_LINE_ROLES:
            if role in unit:
                figures = unit[role]
                rows.append(
                    {
                        **base,
                        "indicator": role,
                        "area_km2": figures["area_km2"],
                        "share": figures["share"],
                    }
                )
        for entry in unit.get("land_use", ()):
            rows.append(
                {
                    **base,
                    "indicator": f"land_use:{entry['code']}",
                    "area_km2": entry["area_km2"],
                    "share": entry["share"],
                }
            )

    city = indicators["city"]
    unit_rows("city", city, 1.0 if city.get("area_km2") else None)
    for county in indicators.get("counties", ()):
        unit_rows("county", county, county.get("share"))
    return rows


def write_indicators_table(gpkg: Path, indicators: Mapping[str, Any]) -> None:
    """Write (or replace) the non-spatial ``plan_areas`` table in a GeoPackage.

    Columns: scope ('city'|'county'), code, name, indicator ('area', a control-line role or
    'land_use:<first-level code>'), area_km2, share. The 'area' row's share is the unit's
    share of the city. Other tables in the file are left as they are.
    """
    rows: Sequence[Mapping[str, Any]] = indicator_rows(indicators)
    frame = pd.DataFrame(
        {
            "scope": pd.Series([r["scope"] for r in rows], dtype=object),
            "code": pd.Series([r["code"] for r in rows], dtype=object),
            "name": pd.Series([r["name"] for r in rows], dtype=object),
            "indicator": pd.Series([r["indicator"] for r in rows], dtype=object),
            "area_km2": pd.Series([r["area_km2"] for r in rows], dtype="float64"),
            "share": pd.Series([r["share"] for r in rows], dtype="float64"),
        }
    )
    try:
        pyogrio.write_dataframe(frame, Path(gpkg), layer=TABLE, driver="GPKG")
    except Exception as exc:  # pyogrio raises its own and GDAL's errors
        raise BuildError(f"{gpkg}: cannot write the {TABLE} table ({exc})") from exc
