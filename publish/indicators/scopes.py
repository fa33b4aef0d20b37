"""The scope units indicators are computed for: the city, its counties and its townships.

A unit is the union of the admin features sharing its code (`XZQDM`, named by `XZQMC`). The
county layer is the model's `scopes.county`, else the admin layer with the fewest features; the
township layer is the model's `scopes.township`, else the other admin layer (none when the
catalog has one). The city is the union of the counties, with the catalog's city code and name.
A township's parent is the county whose code starts its code, else the county holding a point
of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from publish.catalog import Catalog
from publish.errors import BuildError
from publish.features.indicators import COUNTY_CODE, COUNTY_NAME, county_layer

__all__ = ["ScopeUnit", "scope_layers", "scope_units"]


@dataclass(frozen=True)
class ScopeUnit:
    scope: str  # city | county | township
    code: str
    name: str | None
    geometry: shapely.Geometry  # in the catalog's working CRS
    parent: str | None = None  # a township's county

    @property
    def key(self) -> tuple[str, str]:
        return (self.scope, self.code)

    def document(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {"scope": self.scope, "code": self.code, "name": self.name}
        if self.scope == "township":
            out["parent"] = self.parent
        return out


def scope_layers(
    catalog: Catalog,
    counts: Mapping[str, int],
    county: str | None = None,
    township: str | None = None,
) -> tuple[str | None, str | None]:
    """The county and township layers among the layers `counts` counts (an audience's)."""
    admin = [s.id for s in catalog.by_role("admin") if s.id in counts]
    county = county if county in admin else county_layer(catalog, counts)
    if township not in admin:
        others = [lid for lid in admin if lid != county]
        township = others[0] if len(others) == 1 else None
    return county, (township if township != county else None)


def _units(frame: gpd.GeoDataFrame, scope: str) -> list[ScopeUnit]:
    for column in (COUNTY_CODE, COUNTY_NAME):
        if column not in frame.columns:
            raise BuildError(f"indicators: the {scope} layer has no {column} column")
    geoms = np.asarray(frame.geometry.array, dtype=object)
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad])
    codes = frame[COUNTY_CODE].astype(str).to_numpy()
    names = frame[COUNTY_NAME].to_numpy()
    units = []
    for code in sorted(set(codes)):
        mine = codes == code
        named = [str(n) for n in names[mine] if isinstance(n, str) and n]
        units.append(
            ScopeUnit(scope, code, named[0] if named else None, shapely.union_all(geoms[mine]))
        )
    return units


def _parent(township: ScopeUnit, counties: Sequence[ScopeUnit]) -> str | None:
    for county in counties:
        if township.code.startswith(county.code):
            return county.code
    point = shapely.point_on_surface(township.geometry)
    return next((c.code for c in counties if shapely.contains(c.geometry, point)), None)


def scope_units(
    catalog: Catalog,
    counties: gpd.GeoDataFrame | None,
    townships: gpd.GeoDataFrame | None,
) -> list[ScopeUnit]:
    """The city, then its counties, then its townships, each by code (frames in catalog.crs).
    No counties: no units."""
    if counties is None:
        return []
    county_units = _units(counties, "county")
    city = catalog.meta.get("city") or {}
    units = [
        ScopeUnit(
            "city",
            str(city.get("code") or ""),
            str(city["name"]) if city.get("name") else None,
            shapely.union_all([u.geometry for u in county_units]),
        ),
        *county_units,
    ]
    if townships is not None:
        for unit in _units(townships, "township"):
            units.append(
                ScopeUnit(
                    unit.scope, unit.code, unit.name, unit.geometry, _parent(unit, county_units)
                )
            )
    return units
