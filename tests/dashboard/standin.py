"""STAND-IN, to be removed by the lead when the indicator model (slice "model") of issue 14 lands:
writes `monitoring/<audience>.json` into a built release, shaped as /work/notes/contract14.md
says, ONLY if the release has no `monitoring` entry yet — and `conflicts/<audience>.json` only
where the release has no conflicts of its own (the conflicts slice writes them now) — and adds
their manifest entries (the manifest's digests rewritten, as the build writes them).

The figures are real, computed here from the release's own feature store with shapely in the
release's working CRS (manifest `crs`): areas of the red line, the urban boundary and the
farmland per county, the count of the internal projects (an internal-only indicator: the public
file must not name it), and two conflict kinds (current construction inside the red line and
inside the farmland). The targets are set from the first release's figures so that the counties
fall in every status. The dashboard's server never depends on how these files were made.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from publish.domain import AUDIENCES, PUBLIC
from publish.release.manifest import read_manifest, write_manifest

YEAR = 2025
TARGET_YEARS = (2025, 2035)
BAND = 0.02
CONSTRUCTION = ("05", "06", "07", "08", "09", "10")  # 三调 construction classes (prefixes)

# (id, zh, en, unit, kind, formula, layers, rule); the last one is internal only
INDICATORS = (
    ("red_line_area", "生态保护红线面积", "Ecological protection red line area", "km²",
     "binding", "area(stbhhx)", ("stbhhx",), "at_least"),
    ("farmland_area", "永久基本农田保护面积", "Permanent basic farmland protected", "km²",
     "binding", "area(yjjbnt)", ("yjjbnt",), "at_least"),
    ("urban_boundary_area", "城镇开发边界面积", "Urban development boundary area", "km²",
     "expected", "area(czkfbj)", ("czkfbj",), "at_most"),
    ("approved_projects", "在审建设项目数", "Projects under review", "count",
     "expected", "count(spxm)", ("spxm",), "at_most"),
)  # fmt: skip
CONFLICT_KINDS = (
    ("current_construction_in_red_line", "现状建设用地占用生态保护红线",
     "Current construction land inside the red line", ("dltb", "stbhhx")),
    ("current_construction_in_farmland", "现状建设用地占用永久基本农田",
     "Current construction land inside permanent farmland", ("dltb", "yjjbnt")),
)  # fmt: skip
# how far each county's target sits from its first figure: ok, warning, breach, ok
TARGET_FACTORS = (0.97, 1.015, 1.08, 0.9)


def _frame(release: Path, audience: str, layer: str, crs: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(release / "features" / f"{audience}.gpkg", layer=layer)
    return frame.to_crs(crs)


def _units(release: Path, crs: str) -> gpd.GeoDataFrame:
    return _frame(release, PUBLIC, "xzq_xian", crs).sort_values("XZQDM").reset_index(drop=True)


def _status(value: float, rule: str, target: float) -> str:
    if rule == "at_least":
        return "ok" if value >= target else "warning" if value >= target * (1 - BAND) else "breach"
    return "ok" if value <= target else "warning" if value <= target * (1 + BAND) else "breach"


def _values(release: Path, audience: str, crs: str, units: gpd.GeoDataFrame) -> dict[str, Any]:
    """{indicator: [city value, county values...]} for the indicators the audience sees."""
    layers = set(read_manifest(release)["audiences"][audience]["layers"])
    out: dict[str, Any] = {}
    for ident, *_, used, _rule in INDICATORS:
        if not set(used) <= layers:
            continue
        frame = _frame(release, audience, used[0], crs)
        if ident == "approved_projects":
            inside = shapely.contains(np.asarray(units.geometry)[:, None], frame.geometry.values)
            counties = inside.sum(axis=1).astype(float)
            out[ident] = [float(len(frame)), *counties]
        else:
            whole = shapely.union_all(frame.geometry.values)
            counties = shapely.area(shapely.intersection(units.geometry.values, whole)) / 1e6
            out[ident] = [float(shapely.area(whole)) / 1e6, *counties]
    return out


def _conflicts(
    release: Path, audience: str, crs: str, units: gpd.GeoDataFrame, release_id: str
) -> dict[str, Any]:
    layers = set(read_manifest(release)["audiences"][audience]["layers"])
    city = _city(release)
    doc: dict[str, Any] = {
        "schema": "onemap-conflicts/1",
        "release": release_id,
        "audience": audience,
        "kinds": [],
        "areas": [],
    }
    current = _frame(release, audience, "dltb", crs)
    built = current[current["DLBM"].astype(str).str.startswith(CONSTRUCTION)]
    built_union = shapely.union_all(built.geometry.values)
    for ident, zh, en, used in CONFLICT_KINDS:
        if not set(used) <= layers:
            continue
        doc["kinds"].append({"id": ident, "name": {"zh": zh, "en": en}, "layers": list(used)})
        other = shapely.union_all(_frame(release, audience, used[1], crs).geometry.values)
        overlap = shapely.intersection(built_union, other)
        parts = shapely.get_parts(overlap)
        county_areas = shapely.area(shapely.intersection(units.geometry.values, overlap))
        counts = shapely.intersects(np.asarray(units.geometry)[:, None], parts).sum(axis=1)
        rows = [("city", city["code"], city["name"], float(shapely.area(overlap)), len(parts))]
        rows += [
            ("county", code, name, float(a), int(n))
            for code, name, a, n in zip(
                units["XZQDM"], units["XZQMC"], county_areas, counts, strict=True
            )
        ]
        for scope, code, name, area, count in rows:
            doc["areas"].append(
                {
                    "kind": ident,
                    "scope": scope,
                    "code": str(code),
                    "name": name,
                    "area_m2": round(area, 1),
                    "area_ha": round(area / 1e4, 4),
                    "features": count,
                }
            )
    return doc


def _city(release: Path) -> dict[str, str]:
    import yaml

    catalog = yaml.safe_load((release / "catalog.yml").read_text(encoding="utf-8"))
    city = catalog.get("city") or {}
    return {"code": str(city.get("code")), "name": str(city.get("name"))}


def _previous(release: Path, audience: str) -> dict[tuple[str, str, str], float | None]:
    against = (read_manifest(release).get("changes") or {}).get("against")
    if not against:
        return {}
    path = release.parent / against / "monitoring" / f"{audience}.json"
    if not path.is_file():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {(r["indicator"], r["scope"], r["code"]): r["value"] for r in doc["results"]}


def _targets(first: dict[str, Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """Targets from the first release's figures (the same ones in every later release)."""
    base = first if first is not None else values
    return {
        ident: [v * TARGET_FACTORS[i % len(TARGET_FACTORS)] for i, v in enumerate(base[ident])]
        for ident in values
    }


def _monitoring(
    release: Path,
    audience: str,
    crs: str,
    units: gpd.GeoDataFrame,
    release_id: str,
    first_targets: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    values = _values(release, audience, crs, units)
    targets = first_targets or _targets(None, values)
    previous = _previous(release, audience)
    city = _city(release)
    scopes = [{"scope": "city", **city}] + [
        {"scope": "county", "code": str(code), "name": name}
        for code, name in zip(units["XZQDM"], units["XZQMC"], strict=True)
    ]
    indicators, results = [], []
    for ident, zh, en, unit, kind, formula, used, rule in INDICATORS:
        if ident not in values:
            continue
        indicators.append(
            {
                "id": ident,
                "name": {"zh": zh, "en": en},
                "unit": unit,
                "kind": kind,
                "formula": formula,
                "layers": list(used),
                "additive": True,
            }
        )
        for scope, value, target in zip(scopes, values[ident], targets[ident], strict=True):
            value = round(float(value), 4)
            entries = [
                {
                    "year": year,
                    "rule": rule,
                    "target": round(target * (1 if year == 2035 else 0.99), 4),
                    "band": BAND,
                    "status": _status(value, rule, target * (1 if year == 2035 else 0.99)),
                }
                for year in TARGET_YEARS
            ]
            before = previous.get((ident, scope["scope"], scope["code"]))
            results.append(
                {
                    "indicator": ident,
                    "scope": scope["scope"],
                    "code": scope["code"],
                    "value": value,
                    "targets": entries,
                    "status": entries[0]["status"],  # 2025: the first target year >= YEAR
                    "previous": before,
                    "delta": None if before is None else round(value - before, 4),
                }
            )
    doc = {
        "schema": "onemap-indicators/1",
        "release": release_id,
        "audience": audience,
        "year": YEAR,
        "target_years": list(TARGET_YEARS),
        "indicators": indicators,
        "scopes": scopes,
        "results": results,
    }
    return doc, targets


def add_monitoring(release: Path, targets: dict[str, dict[str, Any]] | None = None) -> Any:
    """Write the stand-in files into `release` unless it has monitoring already; returns the
    targets used per audience (pass them for the next release, so targets stay put)."""
    manifest = read_manifest(release)
    if all("monitoring" in manifest["audiences"][a] for a in AUDIENCES):
        return targets
    crs = str(manifest["crs"])
    units = _units(release, crs)
    used: dict[str, dict[str, Any]] = {}
    for audience in AUDIENCES:
        monitoring, used[audience] = _monitoring(
            release, audience, crs, units, manifest["release"], (targets or {}).get(audience)
        )
        documents = {"monitoring": monitoring}
        if "conflicts" not in manifest["audiences"][audience]:  # the conflicts output's own wins
            documents["conflicts"] = _conflicts(release, audience, crs, units, manifest["release"])
        for key, doc in documents.items():
            path = release / key / f"{audience}.json"
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
            manifest["audiences"][audience][key] = f"{key}/{audience}.json"
    write_manifest(release, manifest)
    return used


__all__ = ["add_monitoring"]
