"""The diff's totals: per layer, per county, per first-level land-use class, and the indicator
deltas. Everything here works on the per-feature change tables (pandas), grouped, never per
feature in Python.

The change tables are publish.history.changes's (one row per changed feature).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from publish.catalog import CONTROL_LINE_ROLES
from publish.features.indicators import COUNTY_CODE, COUNTY_NAME
from publish.history.changes import ADDED, CHANGED, KINDS, REMOVED
from publish.standards import land_use_classes

__all__ = [
    "Counties",
    "class_totals",
    "county_totals",
    "indicator_deltas",
    "layer_totals",
]

_M2_PER_HA = 10_000.0


def _m2(value: float) -> float:
    return round(float(value), 2)


def _ha(value: float) -> float:
    return round(float(value) / _M2_PER_HA, 4)


def area_figures(gained: float, lost: float) -> dict[str, float]:
    """Gained, lost and net area in m² and 公顷 (hectares)."""
    return {
        "gained_m2": _m2(gained),
        "lost_m2": _m2(lost),
        "net_m2": _m2(gained - lost),
        "gained_ha": _ha(gained),
        "lost_ha": _ha(lost),
        "net_ha": _ha(gained - lost),
    }


def layer_totals(changes: pd.DataFrame, *, polygons: bool) -> dict[str, Any]:
    """Counts by kind (and of changed geometries and attributes) and, for polygons, the area
    gained and lost."""
    kinds = changes["kind"].value_counts()
    changed = changes["kind"] == CHANGED
    out: dict[str, Any] = {kind: int(kinds.get(kind, 0)) for kind in KINDS}
    out["geometry_changed"] = int((changed & changes["geometry"]).sum())
    out["attributes_changed"] = int((changed & changes["attributes"]).sum())
    if polygons:
        out.update(
            area_figures(
                float(np.nansum(changes["gained_m2"])), float(np.nansum(changes["lost_m2"]))
            )
        )
    return out


# -- counties ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counties:
    """The county layer (the administrative layer with the fewest features), in lon/lat."""

    layer: str
    codes: np.ndarray  # object, one per polygon
    names: dict[str, str | None]  # code -> name
    geometries: np.ndarray

    @classmethod
    def from_frame(cls, layer: str, frame: pd.DataFrame) -> Counties | None:
        """From a frame with XZQDM, XZQMC and a lon/lat geometry; None without those columns."""
        if COUNTY_CODE not in frame.columns or COUNTY_NAME not in frame.columns:
            return None
        codes = frame[COUNTY_CODE].astype(str).to_numpy(dtype=object)
        names: dict[str, str | None] = {}
        for code, name in zip(codes, frame[COUNTY_NAME], strict=True):
            if names.get(code) is None:
                names[code] = None if pd.isna(name) else str(name)
        geometries = np.asarray(frame.geometry.array, dtype=object)
        shapely.prepare(geometries)  # many points against a few large polygons
        return cls(layer, codes, dict(sorted(names.items())), geometries)

    def assign(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """The county code of each point (None outside every county or without a point)."""
        out = np.full(len(lon), None, dtype=object)
        present = ~(np.isnan(lon) | np.isnan(lat))
        if not present.any() or not len(self.geometries):
            return out
        idx = np.flatnonzero(present)
        tree = shapely.STRtree(self.geometries)
        hit, poly = tree.query(shapely.points(lon[idx], lat[idx]), predicate="intersects")
        first = np.unique(hit, return_index=True)[1]  # a point on a shared border: one county
        out[idx[hit[first]]] = self.codes[poly[first]]
        return out


def county_totals(
    counties: Counties, layers: Mapping[str, tuple[pd.DataFrame, bool]]
) -> dict[str, Any]:
    """Per county, the totals of each layer that changed there. `layers` maps a layer id to
    its change table (with a ``county`` column) and whether it holds polygons. Features whose
    point lies in no county are totalled under the code None."""
    units: list[dict[str, Any]] = [
        {"code": code, "name": name, "layers": {}} for code, name in counties.names.items()
    ]
    outside: dict[str, Any] = {"code": None, "name": None, "layers": {}}
    by_code = {unit["code"]: unit for unit in units}
    for layer_id, (changes, polygons) in layers.items():
        if not len(changes):
            continue
        keys = changes["county"].fillna("")
        for code, group in changes.groupby(keys, sort=True):
            unit = by_code.get(code, outside) if code else outside
            unit["layers"][layer_id] = layer_totals(group, polygons=polygons)
    if outside["layers"]:
        units.append(outside)
    return {"layer": counties.layer, "field": COUNTY_CODE, "units": units}


# -- land-use classes ----------------------------------------------------------------------------


def _first_level(codes: pd.Series) -> pd.Series:
    return codes.map(lambda v: "" if v is None or pd.isna(v) else str(v).strip()[:2])


def class_totals(changes: pd.DataFrame) -> list[dict[str, Any]]:
    """Area gained and lost per first-level class (the code's first two digits) of a land-use
    layer's changes. A recoded feature moves its whole area from the old class to the new one;
    a feature whose class stayed gains and loses what its geometry did."""
    if not len(changes):
        return []
    old_class, new_class = _first_level(changes["old_code"]), _first_level(changes["new_code"])
    kind = changes["kind"]
    recoded = (kind == CHANGED) & (old_class != new_class)
    gained = np.select(
        [kind == ADDED, recoded, kind == CHANGED],
        [changes["new_area_m2"], changes["new_area_m2"], changes["gained_m2"]],
        0.0,
    )
    lost = np.select(
        [kind == REMOVED, recoded, kind == CHANGED],
        [changes["old_area_m2"], changes["old_area_m2"], changes["lost_m2"]],
        0.0,
    )
    moves = pd.concat(
        [
            pd.DataFrame({"code": new_class, "gained": gained, "lost": 0.0}),
            pd.DataFrame({"code": old_class, "gained": 0.0, "lost": lost}),
        ]
    )
    sums = moves.groupby("code", sort=True)[["gained", "lost"]].sum()
    names = land_use_classes()
    rows = []
    for code, row in sums.iterrows():
        if row["gained"] == 0 and row["lost"] == 0:
            continue
        entry = names.get(str(code))
        rows.append(
            {
                "code": str(code),
                "name": entry.name if entry is not None else None,
                **area_figures(row["gained"], row["lost"]),
            }
        )
    return rows


# -- indicators ----------------------------------------------------------------------------------


def _figure(unit: Mapping[str, Any] | None, role: str) -> tuple[Any, Any]:
    value = (unit or {}).get(role)
    if not isinstance(value, Mapping):
        return None, None
    return value.get("area_km2"), value.get("share")


def _unit_deltas(
    code: Any, name: Any, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "name": name}
    for role in CONTROL_LINE_ROLES:
        (old_km2, old_share), (new_km2, new_share) = _figure(old, role), _figure(new, role)
        if old_km2 is None and new_km2 is None:
            continue
        delta = None if old_km2 is None or new_km2 is None else round(new_km2 - old_km2, 4)
        out[role] = {
            "old_km2": old_km2,
            "new_km2": new_km2,
            "delta_km2": delta,
            "old_share": old_share,
            "new_share": new_share,
        }
    return out


def indicator_deltas(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The control lines' areas (红线, 永久基本农田, 城镇开发边界) old → new, for the city and each
    county (matched by code), from two releases' indicators for one audience."""
    old, new = old or {}, new or {}
    old_city, new_city = old.get("city") or {}, new.get("city") or {}
    city = _unit_deltas(
        new_city.get("code", old_city.get("code")),
        new_city.get("name", old_city.get("name")),
        old_city,
        new_city,
    )
    old_units = {u.get("code"): u for u in old.get("counties") or ()}
    new_units = {u.get("code"): u for u in new.get("counties") or ()}
    counties = []
    for code in sorted(set(old_units) | set(new_units), key=str):
        o, n = old_units.get(code), new_units.get(code)
        counties.append(_unit_deltas(code, (n or o or {}).get("name"), o, n))
    return {"city": city, "counties": counties}
