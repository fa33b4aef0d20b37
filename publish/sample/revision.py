"""Revisions of the sample city: revision N is revision N−1 changed the way a plan is changed.

Each step (2, 3, … N) draws from its own generator, seeded by the sample's seed and the step, so
revision N is the same for the same seed, and revision 1 — the sample as generated — draws
nothing and stays exactly what it was. One step:

* 生态保护红线: a few patches taken out after a review and as much area added elsewhere in the
  mountains, kept off the other two control lines (the total stays near 2,964.15 km²);
* 城镇开发边界: the flexible development zone of two towns grown outwards, around the red line
  and the permanent farmland;
* 用地用海: about 1 % of the planned blocks recoded after detailed plans (e.g. 070102 → 0801);
* 现状: about 0.5 % of the current-use parcels split (the pieces get new ids, the old id goes),
  merged (one id stays, the other goes) or recoded, as the annual change survey does;
* one village added, and one project approved in the internal approvals layer.

Features keep their id (BSM), geometry and attributes unless a step changes them; ids are never
reused. Everything is in the frames' CRS (the catalog's `city.crs`), in metres.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import Point, Polygon

from publish.errors import PublishError
from publish.sample.changes import compare_features
from publish.sample.controls import solve
from publish.sample.edits import ID, LayerEdits, shaped, snap
from publish.sample.geography import Geography, Township
from publish.sample.landuse import class_name
from publish.sample.names import unique_names
from publish.sample.noise import blob
from publish.sample.resurvey import resurvey_parcels
from publish.sample.writer import SOURCE_CRS, LayerOut

RED_LINE_TURNOVER = 3  # red-line patches taken out, and added, per step
PLANNED_SHARE = 0.01
# planned blocks recoded after a detailed plan: from → possible new codes
PLANNED_RECODES: dict[str, tuple[str, ...]] = {
    "070102": ("0801", "0804", "0806", "0901"),
    "070101": ("070102",),
    "0702": ("0804", "0806"),
    "0901": ("0902", "070102"),
    "100101": ("100102", "1101", "0902"),
    "100102": ("1101", "0901"),
    "1101": ("100101",),
    "1401": ("1402", "0805"),
    "0703": ("0103", "0301"),
    "0103": ("0101", "0201"),
    "0201": ("0103",),
}


def check_revision(revision: int, *, with_defects: bool) -> None:
    """A revision the generator can make: 1 or more, and 1 only with the known defects (they
    would be changes that changes.json does not list)."""
    if revision < 1:
        raise PublishError(f"sample: the revision must be at least 1 (got {revision})")
    if with_defects and revision > 1:
        raise PublishError(
            f"sample: --with-defects makes revision 1 only (got --revision {revision}): "
            "the defects would be changes that changes.json does not list"
        )


def revise(
    items: list[LayerOut],
    geo: Geography,
    valleys: shapely.Geometry,
    *,
    seed: int,
    revision: int,
) -> dict[str, Any]:
    """Turn the generated sample (`items`, revision 1) into revision `revision` in place, and
    return the changes document: `layers` lists the changes from revision N−1 to N and
    `since_revision_1` those from revision 1 to N, each as {layer id: entries}
    (publish.sample.changes). Revision 1 changes nothing and lists nothing."""
    check_revision(revision, with_defects=False)
    frames = {item.entry["id"]: item.frame for item in items}
    first = dict(frames)
    layers = LayerEdits(dict(frames), {k: int(f[ID].max()) + 1 for k, f in frames.items()})
    previous = first
    since_first: dict[str, set[int]] = {}
    for step in range(2, revision + 1):
        previous = dict(layers.frames)
        layers.touched = {}
        _revise_once(np.random.default_rng([seed, step]), layers, geo, valleys)
        for layer, ids in layers.touched.items():
            since_first.setdefault(layer, set()).update(ids)
    for item in items:
        item.frame = layers.frames[item.entry["id"]]

    def listed(before: dict[str, gpd.GeoDataFrame], ids: dict[str, set[int]]) -> dict[str, Any]:
        return {
            layer: compare_features(before[layer], layers.frames[layer], ids.get(layer, ()))
            for layer in frames
        }

    return {
        "revision": revision,
        "previous": revision - 1 if revision > 1 else None,
        "seed": seed,
        "crs": SOURCE_CRS,
        "layers": listed(previous, layers.touched),
        "since_revision_1": listed(first, since_first),
    }


def _revise_once(
    rng: np.random.Generator, layers: LayerEdits, geo: Geography, valleys: shapely.Geometry
) -> None:
    _adjust_red_line(rng, layers, geo, valleys)
    _grow_urban_boundary(rng, layers, geo)
    _recode_planned_blocks(rng, layers)
    resurvey_parcels(rng, layers)
    _add_village(rng, layers, geo, valleys)
    _approve_project(rng, layers, geo)


def _polygons(geom: shapely.Geometry, min_area: float) -> list[Polygon]:
    return [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and p.area >= min_area]


def _union_near(geoms: np.ndarray, tree: shapely.STRtree, region: shapely.Geometry) -> Any:
    return shapely.union_all(geoms[tree.query(region)])


# --- 生态保护红线 ---------------------------------------------------------------------------


def _adjust_red_line(
    rng: np.random.Generator, layers: LayerEdits, geo: Geography, valleys: shapely.Geometry
) -> None:
    """Take out a few mid-sized patches and add as much area in new patches near the red line,
    outside the valleys, 50 m off the urban boundary and 30 m off the permanent farmland."""
    red = layers.frames["stbhhx"]
    geoms = red.geometry.to_numpy()
    area = shapely.area(geoms)
    candidates = np.flatnonzero((area > 1e6) & (area < 20e6))
    gone = rng.choice(candidates, size=min(RED_LINE_TURNOVER, len(candidates)), replace=False)
    target = float(area[gone].sum()) / RED_LINE_TURNOVER
    red_all = shapely.union_all(geoms)
    farms = layers.frames["yjjbnt"].geometry.to_numpy()
    farm_tree = shapely.STRtree(farms)
    urban = shapely.union_all(layers.frames["czkfbj"].geometry.to_numpy()).buffer(50)
    keep_off = shapely.union_all([urban, red_all.buffer(200)])
    near_red = red_all.buffer(6_000)
    for g in (valleys, keep_off, near_red, geo.city):
        shapely.prepare(g)
    added: list[dict[str, Any]] = []
    placed = 0
    while placed < RED_LINE_TURNOVER:
        x, y = rng.uniform(geo.city.bounds[:2], geo.city.bounds[2:])
        if not (
            shapely.contains_xy(geo.city, x, y)
            and shapely.contains_xy(near_red, x, y)
            and not shapely.contains_xy(valleys, x, y)
            and not shapely.contains_xy(keep_off, x, y)
        ):
            continue
        shape = blob(rng, (x, y), 1.0, 0.35, rng.uniform(1, 2.2), rng.uniform(0, np.pi), 64)
        reach = 3 * float(np.sqrt(target / shape.area))
        window = shapely.affinity.scale(shape, reach, reach, origin=(x, y))
        allowed = window.intersection(geo.city).difference(
            shapely.union_all([keep_off, _union_near(farms, farm_tree, window).buffer(30)])
        )
        patch = _sized(shape, (x, y), target, allowed, reach)
        if abs(patch.area - target) > 0.05 * target:
            continue  # not enough room here: try another place
        placed += 1
        keep_off = shapely.union_all([keep_off, patch.buffer(200)])
        added.extend(_red_line_rows(rng, layers, geo, patch))
    layers.edit("stbhhx", removed=red[ID].to_numpy()[gone].tolist(), added=added)


def _sized(
    shape: Polygon, at: tuple[float, float], target: float, allowed: Any, reach: float
) -> Any:
    """`shape` scaled about `at` until its part inside `allowed` has the target area."""

    def grown(k: float) -> Any:
        return shapely.affinity.scale(shape, k, k, origin=at).intersection(allowed)

    return grown(solve(lambda k: grown(k).area, target, 0.05 * reach, reach))


def _red_line_rows(
    rng: np.random.Generator, layers: LayerEdits, geo: Geography, patch: shapely.Geometry
) -> list[dict[str, Any]]:
    """One feature per piece and township, as the generated red line has them."""
    pieces: list[tuple[Township, Polygon]] = []
    for town in geo.townships:
        if town.geometry.intersects(patch):
            for piece in _polygons(snap(patch.intersection(town.geometry)), 10_000):
                pieces.append((town, piece))
    rows = []
    for bsm, (town, piece) in zip(layers.new_ids("stbhhx", len(pieces)), pieces, strict=True):
        kind = str(rng.choice(["水源涵养", "水土保持", "生物多样性维护"]))
        rows.append({
            ID: bsm, "YSDM": "2090010100", "HXMC": f"{town.name}{kind}生态保护红线",
            "HXLX": kind, "XZQDM": town.code, "XZQMC": town.name, **shaped(piece),
        })  # fmt: skip
    return rows


# --- 城镇开发边界 ---------------------------------------------------------------------------


def _grow_urban_boundary(rng: np.random.Generator, layers: LayerEdits, geo: Geography) -> None:
    """Grow the flexible development zone (42) of two towns by 150–300 m, around the red line
    (50 m), the permanent farmland (30 m), the other urban zones and the city's edge (200 m)."""
    urban = layers.frames["czkfbj"]
    towns = {t.code for t in geo.townships if not t.name.endswith("街道")}
    flexible = urban[(urban["GHFQDM"] == "42") & urban["XZQDM"].isin(towns)]
    picked = rng.choice(sorted(set(flexible["XZQDM"])), size=2, replace=False)
    geoms = urban.geometry.to_numpy().copy()
    red = shapely.union_all(layers.frames["stbhhx"].geometry.to_numpy()).buffer(50)
    farms = layers.frames["yjjbnt"].geometry.to_numpy()
    farm_tree = shapely.STRtree(farms)
    edge = geo.city.difference(geo.city.buffer(-200))
    changed: dict[int, dict[str, Any]] = {}
    for code in picked:
        for pos in np.flatnonzero((urban["XZQDM"] == code) & (urban["GHFQDM"] == "42")):
            zone = geoms[pos]
            band = zone.buffer(rng.uniform(150, 300))
            others = np.delete(geoms, pos)
            blocked = shapely.union_all([
                red, edge, _union_near(farms, farm_tree, band).buffer(30),
                shapely.union_all(others[shapely.intersects(others, band)]),
            ])  # fmt: skip
            room = band.difference(blocked).difference(zone)
            room = room.buffer(-25).buffer(25).intersection(band.difference(blocked))
            grown = _attached(shapely.union(zone, room), zone)
            if grown.area > zone.area * 1.01:
                geoms[pos] = grown
                changed[int(urban[ID].iloc[pos])] = shaped(grown)
    layers.edit("czkfbj", changed=changed)


def _attached(geom: shapely.Geometry, core: Polygon) -> Polygon:
    """The polygon of `geom` (snapped to the grid) that holds `core`: the growth that touches
    the zone, without the detached bits."""
    inside = core.representative_point()
    return next(p for p in _polygons(snap(geom), 0.0) if p.covers(inside))


# --- 用地用海 --------------------------------------------------------------------------------


def _recode_planned_blocks(rng: np.random.Generator, layers: LayerEdits) -> None:
    planned = layers.frames["ydyh"]
    codes = planned["YDYHFLDM"].to_numpy()
    candidates = np.flatnonzero(np.isin(codes, list(PLANNED_RECODES)))
    count = min(max(1, round(PLANNED_SHARE * len(planned))), len(candidates))
    picked = np.sort(rng.choice(candidates, size=count, replace=False))
    changed = {}
    for pos in picked:
        code = str(rng.choice(PLANNED_RECODES[str(codes[pos])]))
        changed[int(planned[ID].iloc[pos])] = {"YDYHFLDM": code, "YDYHFLMC": class_name(code)}
    layers.edit("ydyh", changed=changed)


# --- 村庄 and 在审建设项目 ------------------------------------------------------------------


def _add_village(
    rng: np.random.Generator, layers: LayerEdits, geo: Geography, valleys: shapely.Geometry
) -> None:
    """A new administrative village in a valley of a township (not a street), 500 m or more
    from the other villages and outside the red line."""
    villages = layers.frames["cun"]
    red = shapely.union_all(layers.frames["stbhhx"].geometry.to_numpy())
    others = shapely.union_all(villages.geometry.to_numpy()).buffer(500)
    for g in (red, others, valleys):
        shapely.prepare(g)
    towns = [t for t in geo.townships if not t.name.endswith("街道")]
    while True:
        town = towns[int(rng.integers(len(towns)))]
        minx, miny, maxx, maxy = town.geometry.bounds
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if (
            shapely.contains_xy(town.geometry, x, y)
            and shapely.contains_xy(valleys, x, y)
            and not shapely.contains_xy(red, x, y)
            and not shapely.contains_xy(others, x, y)
        ):
            break
    mine = villages["CJDM"][villages["XZQDM"] == town.code]
    number = max((int(c[len(town.code) :]) for c in mine), default=0) + 1
    name = unique_names(rng, 1, "村", set(villages["CJMC"]))[0]
    layers.edit("cun", added=[{
        ID: layers.new_ids("cun", 1)[0], "CJDM": f"{town.code}{number:03d}", "CJMC": name,
        "LX": "行政村", "SSXZ": town.name, "XZQDM": town.code, "XZQMC": town.name,
        "CZRK": int(rng.integers(300, 4_000)), "geometry": Point(x, y),
    }])  # fmt: skip


def _approve_project(rng: np.random.Generator, layers: LayerEdits, geo: Geography) -> None:
    """One more project in the internal approvals layer, approved (已批准), next to a
    concentrated construction zone, as the generated projects are."""
    projects = layers.frames["spxm"]
    urban = layers.frames["czkfbj"]
    hosts = urban.geometry[urban["GHFQDM"] == "41"].to_numpy()
    host = hosts[int(rng.integers(len(hosts)))]
    p = host.buffer(600).exterior.interpolate(rng.random(), normalized=True)
    site = blob(rng, (p.x, p.y), float(rng.uniform(80, 300)), 0.15, 1.5, rng.uniform(0, 3))
    site = _polygons(snap(site.intersection(geo.city)), 0.0)[0]
    use = str(rng.choice(["1001", "0701", "0901", "0804", "1101", "1202", "0806"]))
    layers.edit("spxm", added=[{
        ID: layers.new_ids("spxm", 1)[0],
        "XMMC": f"{class_name(use)}建设项目{len(projects) + 1:02d}号",
        "JSDW": f"张家界{rng.choice(['城投', '文旅', '交投', '产业园'])}发展有限公司",
        "SQYT": use, "SPZT": "已批准",
        "SQSJ": f"2026-{int(rng.integers(1, 11)):02d}-{int(rng.integers(1, 28)):02d}",
        "LXR": f"{rng.choice(list('张王李赵刘'))}工", "LXDH": f"1{rng.integers(10**9, 10**10)}",
        **shaped(site),
    }])  # fmt: skip
