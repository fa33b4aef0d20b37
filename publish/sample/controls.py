"""The three control lines and the protected areas of the sample city (EPSG:4546 metres).

Built in an order that keeps the lines apart: urban development boundary around the seats and
larger towns, protected areas in Wulingyuan and the north-west, permanent basic farmland in the
valleys (kept off the urban boundary), then the ecological red line in the mountains, sized to the
plan's 2,964.15 km² and kept off the other two by a small margin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.affinity
import shapely.ops
from shapely.geometry import Point, Polygon

from publish.sample.geography import Geography, Township, to_plane
from publish.sample.networks import Line
from publish.sample.noise import SmoothField, blob

RED_LINE_M2 = 2_964.15e6
HERITAGE_CORE_M2 = 264e6
HERITAGE_BUFFER_M2 = 126.8e6
FOREST_PARK_M2 = 48.1e6

# 城镇开发边界 internal zones (planning-zone codes, see README: our convention)
URBAN_ZONES = {"41": "城镇集中建设区", "42": "城镇弹性发展区", "43": "特别用途区"}


@dataclass
class Feature:
    geometry: shapely.Geometry
    props: dict[str, object] = field(default_factory=dict)


@dataclass
class Controls:
    urban: list[Feature]  # 城镇开发边界, one feature per zone piece
    protected: list[Feature]  # 自然保护地
    farmland: list[Feature]  # 永久基本农田
    red_line: list[Feature]  # 生态保护红线
    valleys: shapely.Geometry  # where farms and villages are
    mountains: Callable[[np.ndarray, np.ndarray], np.ndarray]  # higher = steeper, wilder


def solve(area_of: Callable[[float], float], target: float, lo: float, hi: float) -> float:
    """Find k with area_of(k) ≈ target (0.01 %) for a growing area_of: regula falsi with the
    Illinois step, a few evaluations where bisection would need fifteen."""
    f_lo, f_hi = area_of(lo) - target, area_of(hi) - target
    side = 0
    k = (lo + hi) / 2
    for _ in range(60):
        k = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else (lo + hi) / 2
        f_k = area_of(k) - target
        if abs(f_k) < target * 1e-4:
            return k
        if f_k > 0:
            hi, f_hi = k, f_k
            if side == -1:
                f_lo /= 2
            side = -1
        else:
            lo, f_lo = k, f_k
            if side == 1:
                f_hi /= 2
            side = 1
    return k


def build_controls(
    rng: np.random.Generator, geo: Geography, rivers: list[Line], roads: list[Line]
) -> Controls:
    mountains = _mountain_field(rng, geo)
    urban = _urban_boundary(rng, geo, rivers)
    urban_all = shapely.union_all([f.geometry for f in urban])
    protected = _protected_areas(rng, geo, urban_all)
    mains = shapely.union_all([r.geometry for r in rivers if r.grade != "二级支流"])
    others = shapely.union_all([r.geometry for r in rivers if r.grade == "二级支流"])
    roads_all = shapely.union_all([r.geometry for r in roads])
    valleys = shapely.union_all(
        [mains.buffer(3_500), others.buffer(1_200), roads_all.buffer(700), urban_all.buffer(2_500)]
    ).intersection(geo.city)
    heritage = shapely.union_all(
        [f.geometry for f in protected if f.props["ZRBHDLX"] != "国家级自然保护区"]
    )
    farm_area = valleys.difference(
        shapely.union_all([urban_all.buffer(100), heritage.buffer(100), mains.buffer(80)])
    )
    farmland = _farmland(rng, geo, farm_area, mountains)
    farm_all = shapely.union_all([f.geometry for f in farmland])
    red = _red_line(rng, geo, protected, urban_all, farm_all, valleys, mountains)
    return Controls(urban, protected, farmland, red, valleys, mountains)


def _mountain_field(
    rng: np.random.Generator, geo: Geography
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    noise = SmoothField.random(rng, [30_000.0, 10_000.0, 4_000.0])
    minx, miny, maxx, maxy = geo.city.bounds
    cx, cy = geo.centre

    def field(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # north-west (桑植, 武陵源) is the high country; the south-east is lower
        nw = ((cx - x) / (maxx - minx) + (y - cy) / (maxy - miny)) * 1.6
        return 0.8 * noise(x, y) + np.clip(nw, -1, 1)

    return field


def _urban_boundary(rng: np.random.Generator, geo: Geography, rivers: list[Line]) -> list[Feature]:
    """Blobs around the county seats (the central city largest) and some larger towns, each split
    into its concentrated construction zone, flexible development zone and special-use zone."""
    lishui = rivers[0].geometry
    centres: list[tuple[Point, float, Township | None]] = []
    for code, seat in geo.seats.items():
        size = {"430802": 78e6, "430811": 9e6, "430821": 22e6, "430822": 18e6}[code]
        centres.append((seat, size, None))
    towns = sorted(
        (t for t in geo.townships if not t.name.endswith("街道")),
        key=lambda t: t.seat.distance(lishui),
    )[:10]
    for town in towns:
        centres.append((town.seat, rng.uniform(1.5e6, 4.5e6), town))
    features: list[Feature] = []
    taken = Polygon()
    for seat, size, _ in centres:
        aspect = rng.uniform(1.2, 1.8)
        shape = blob(rng, (seat.x, seat.y), 1.0, 0.3, aspect, rng.uniform(0, np.pi), 128)
        shape = shapely.affinity.scale(shape, *(2 * [np.sqrt(size / shape.area)]), origin=seat)
        shape = shape.intersection(geo.city.buffer(-200)).difference(taken.buffer(300))
        if shape.is_empty:
            continue
        taken = taken.union(shape)
        core = shapely.affinity.scale(shape, 0.82, 0.82, origin=seat).intersection(shape)
        ring = shape.difference(core)
        angle = rng.uniform(0, 2 * np.pi)
        half = shapely.affinity.rotate(
            shapely.box(0, -50_000, 50_000, 50_000), angle, origin=(0, 0), use_radians=True
        )
        half = shapely.affinity.translate(half, seat.x, seat.y)
        special = ring.intersection(shapely.affinity.scale(half, 1, 0.35, origin=seat))
        flexible = ring.difference(special)
        for code, part in (("41", core), ("42", flexible), ("43", special)):
            for piece in shapely.get_parts(part):
                if piece.area > 1_000:
                    features.append(Feature(piece, {"GHFQDM": code, "GHFQMC": URBAN_ZONES[code]}))
    return features


def _protected_areas(
    rng: np.random.Generator, geo: Geography, urban: shapely.Geometry
) -> list[Feature]:
    keep_out = urban.buffer(300)
    allowed = geo.city.buffer(-100).difference(keep_out)

    def sized(shape: Polygon, origin: Point, target: float, within: shapely.Geometry) -> Polygon:
        def area(k: float) -> float:
            return shapely.affinity.scale(shape, k, k, origin=origin).intersection(within).area

        k = solve(area, target, 0.05, 20.0)
        return shapely.affinity.scale(shape, k, k, origin=origin).intersection(within)

    core_centre = Point(*to_plane(110.44, 29.38))
    core = sized(blob(rng, (core_centre.x, core_centre.y), 9_000, 0.25, 1.3, 0.4), core_centre,
                 HERITAGE_CORE_M2, allowed)  # fmt: skip
    ring_within = allowed.difference(core)
    buffer_zone = core.buffer(
        solve(lambda d: core.buffer(d).intersection(ring_within).area, HERITAGE_BUFFER_M2, 10, 9e3)
    ).intersection(ring_within)
    park_centre = Point(*to_plane(110.44, 29.35))
    park = sized(blob(rng, (park_centre.x, park_centre.y), 3_000, 0.2), park_centre,
                 FOREST_PARK_M2, core)  # fmt: skip
    reserve_centre = geo.city.buffer(-9_000).representative_point()
    _minx, _, _, _maxy = geo.city.bounds
    for lon_lat in ((110.0, 29.66), (110.05, 29.62), (110.15, 29.6)):
        candidate = Point(*to_plane(*lon_lat))
        if geo.city.buffer(-9_000).contains(candidate):
            reserve_centre = candidate
            break
    reserve = sized(blob(rng, (reserve_centre.x, reserve_centre.y), 7_000, 0.3, 1.2),
                    reserve_centre, 217e6, allowed.difference(core.buffer(5_000)))  # fmt: skip
    return [
        Feature(core, {"ZRBHDMC": "武陵源世界自然遗产地", "ZRBHDLX": "世界自然遗产",
                       "GNFQ": "核心区", "JB": "世界级"}),
        Feature(buffer_zone, {"ZRBHDMC": "武陵源世界自然遗产地", "ZRBHDLX": "世界自然遗产",
                              "GNFQ": "缓冲区", "JB": "世界级"}),
        Feature(park, {"ZRBHDMC": "张家界国家森林公园", "ZRBHDLX": "森林公园",
                       "GNFQ": "", "JB": "国家级"}),
        Feature(reserve, {"ZRBHDMC": "八大公山国家级自然保护区", "ZRBHDLX": "国家级自然保护区",
                          "GNFQ": "", "JB": "国家级"}),
    ]  # fmt: skip


def _farmland(
    rng: np.random.Generator,
    geo: Geography,
    farm_area: shapely.Geometry,
    mountains: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> list[Feature]:
    """Small quadrilateral parcels on a jittered grid in the valleys: disjoint by construction."""
    cell = 420.0
    minx, miny, maxx, maxy = farm_area.bounds
    xs = np.arange(minx, maxx, cell)
    ys = np.arange(miny, maxy, cell)
    grid_x, grid_y = np.meshgrid(xs, ys)
    gx, gy = grid_x.ravel(), grid_y.ravel()
    shapely.prepare(farm_area)
    inside = shapely.contains_xy(farm_area, gx + cell / 2, gy + cell / 2)
    keep = inside & (rng.random(gx.size) < 0.55 - 0.25 * mountains(gx, gy))
    gx, gy = gx[keep], gy[keep]
    # four corners pulled in by 8–30 % of the cell: irregular quads with field paths between
    inset = rng.uniform(0.08, 0.3, size=(gx.size, 4, 2)) * cell
    corners = np.array([[0, 0], [cell, 0], [cell, cell], [0, cell]], dtype=float)
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=float)
    rings = corners[None] + signs[None] * inset + np.stack([gx, gy], axis=1)[:, None, :]
    parcels = shapely.polygons(rings)
    # parcels that cross the valley's edge are left out whole (cheaper than clipping thousands)
    parcels = parcels[shapely.contains(farm_area, parcels)]
    return [Feature(p) for p in parcels]


def _red_line(
    rng: np.random.Generator,
    geo: Geography,
    protected: list[Feature],
    urban: shapely.Geometry,
    farmland: shapely.Geometry,
    valleys: shapely.Geometry,
    mountains: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> list[Feature]:
    minx, miny, maxx, maxy = geo.city.bounds
    cand = rng.uniform((minx, miny), (maxx, maxy), size=(6_000, 2))
    shapely.prepare(geo.city)
    shapely.prepare(valleys)
    ok = shapely.contains_xy(geo.city, cand[:, 0], cand[:, 1]) & ~shapely.contains_xy(
        valleys, cand[:, 0], cand[:, 1]
    )
    cand = cand[ok]
    weight = np.exp(3.0 * mountains(cand[:, 0], cand[:, 1]))
    picks = cand[rng.choice(len(cand), size=160, replace=False, p=weight / weight.sum())]
    blobs = [
        blob(rng, (x, y), 1.0, 0.35, rng.uniform(1, 2.2), rng.uniform(0, np.pi), 64)
        for x, y in picks
    ]
    radii = rng.uniform(1_200, 4_500, size=len(blobs))
    cores = [f.geometry for f in protected if f.props["GNFQ"] != "缓冲区"]
    allowed = geo.city.difference(shapely.union_all([urban.buffer(50), farmland.buffer(30)]))
    protected_part = shapely.union_all(cores).intersection(allowed)

    def red(k: float) -> shapely.Geometry:
        grown = [
            shapely.affinity.scale(b, r * k, r * k, origin=(x, y))
            for b, r, (x, y) in zip(blobs, radii, picks, strict=True)
        ]
        return shapely.union_all([*grown, protected_part]).intersection(allowed)

    k = solve(lambda k: red(k).area, RED_LINE_M2, 0.2, 4.0)
    area = red(k)
    # one feature per piece and township, as a county's red-line database holds them
    features = []
    for town in geo.townships:
        for piece in shapely.get_parts(area.intersection(town.geometry)):
            if isinstance(piece, Polygon) and piece.area > 0:
                features.append(Feature(piece, {"township": town}))
    return features
