"""Villages, planning zones, planned land use (central city) and current land use (whole city).

Land use is coded with the national classification (用地用海分类); the current-use parcels are
the third land survey's parcels converted to it (基数转换), as plans compare them.
"""

from __future__ import annotations

import numpy as np
import shapely
import shapely.affinity
from numpy.typing import NDArray
from shapely.geometry import Point, Polygon

from publish.sample.controls import Controls, Feature
from publish.sample.geography import Geography
from publish.sample.names import village_names
from publish.sample.networks import Line
from publish.sample.noise import blob
from publish.standards import land_use_classes

VILLAGES = 866
# 规划分区 codes (our convention, see README): 1x ecological, 3x farmland, 4x urban, 5x rural,
# 7x mining and energy.
ZONES = {
    "10": "生态保护区",
    "20": "生态控制区",
    "30": "农田保护区",
    "41": "城镇集中建设区",
    "42": "城镇弹性发展区",
    "43": "特别用途区",
    "51": "村庄建设区",
    "52": "一般农业区",
    "53": "林业发展区",
    "70": "矿产能源发展区",
}


def class_name(code: str) -> str:
    return land_use_classes()[code].name


def build_villages(rng: np.random.Generator, geo: Geography, controls: Controls) -> list[Feature]:
    """866 villages and communities, spread over the townships by area, mostly in the valleys."""
    red = shapely.union_all([f.geometry for f in controls.red_line])
    urban = shapely.union_all([f.geometry for f in controls.urban])
    for g in (red, urban, controls.valleys):
        shapely.prepare(g)
    areas = np.array([t.geometry.area for t in geo.townships])
    quota = np.floor(areas / areas.sum() * VILLAGES).astype(int)
    for i in np.argsort(-(areas / areas.sum() * VILLAGES - quota))[: VILLAGES - quota.sum()]:
        quota[i] += 1
    names = village_names(rng, VILLAGES, community_share=0.08)
    communities = [n for n in names if n.endswith("社区")]
    villages = [n for n in names if n.endswith("村")]
    features: list[Feature] = []
    for town, count in zip(geo.townships, quota, strict=True):
        minx, miny, maxx, maxy = town.geometry.bounds
        shapely.prepare(town.geometry)
        placed: list[Point] = []
        while len(placed) < count:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if not shapely.contains_xy(town.geometry, x, y) or shapely.contains_xy(red, x, y):
                continue
            in_valley = shapely.contains_xy(controls.valleys, x, y)
            if rng.random() > (0.9 if in_valley else 0.15):
                continue
            placed.append(Point(x, y))
        for n, point in enumerate(placed, start=1):
            in_town = bool(shapely.contains_xy(urban, point.x, point.y))
            pool = communities if (in_town and communities) or not villages else villages
            name = pool.pop()
            features.append(
                Feature(
                    point,
                    {
                        "CJDM": f"{town.code}{n:03d}",
                        "CJMC": name,
                        "LX": "社区" if name.endswith("社区") else "行政村",
                        "SSXZ": town.name,
                        "XZQDM": town.code,
                        "XZQMC": town.name,
                        "CZRK": int(rng.integers(300, 4_000)),
                    },
                )
            )
    return features


def build_zones(
    rng: np.random.Generator, geo: Geography, controls: Controls, villages: list[Feature]
) -> list[Feature]:
    """规划分区: a coverage of the whole city, built by successive differences."""
    red = shapely.union_all([f.geometry for f in controls.red_line])
    urban_parts = [(str(f.props["GHFQDM"]), f.geometry) for f in controls.urban]
    urban = shapely.union_all([g for _, g in urban_parts])
    farms = shapely.union_all([f.geometry for f in controls.farmland])
    farm_zone = farms.buffer(150, quad_segs=2).buffer(-110, quad_segs=2)
    rest = geo.city.difference(shapely.union_all([red, urban]))
    pieces: list[tuple[str, shapely.Geometry]] = [("10", red), *urban_parts]
    farm_zone = farm_zone.intersection(rest)
    pieces.append(("30", farm_zone))
    rest = rest.difference(farm_zone)
    mines = shapely.union_all(
        [
            blob(rng, (p.x, p.y), 1_200, 0.3)
            for p in (t.seat for t in rng.permutation(np.array(geo.townships, dtype=object))[:4])
        ]
    ).intersection(rest)
    pieces.append(("70", mines))
    rest = rest.difference(mines)
    hamlets = shapely.union_all([v.geometry.buffer(260, quad_segs=4) for v in villages])
    hamlets = hamlets.intersection(rest)
    pieces.append(("51", hamlets))
    rest = rest.difference(hamlets)
    control = red.buffer(1_500, quad_segs=2).intersection(rest)
    pieces.append(("20", control))
    rest = rest.difference(control)
    pieces.append(("rest", rest))  # 林业发展区 or 一般农业区, by the township's terrain
    towns = np.array([t.geometry for t in geo.townships])
    tree = shapely.STRtree(towns)
    for town in towns:
        shapely.prepare(town)
    features = []
    for zone, geom in pieces:
        for part in shapely.get_parts(geom):
            for index in tree.query(part, predicate="intersects"):
                code = zone
                # most parts lie inside one township: clip only those that cross a boundary
                inside = shapely.contains_properly(towns[index], part)
                piece_geom = part if inside else shapely.intersection(part, towns[index])
                town = geo.townships[int(index)]
                if code == "rest":
                    high = controls.mountains(np.array(town.seat.x), np.array(town.seat.y)) > 0
                    code = "53" if high else "52"
                for piece in shapely.get_parts(piece_geom):
                    if isinstance(piece, Polygon) and piece.area > 0:
                        props = {"GHFQDM": code, "GHFQMC": ZONES[code], "township": town}
                        features.append(Feature(piece, props))
    return _absorb_slivers(features, 100.0)


def _absorb_slivers(features: list[Feature], min_area: float) -> list[Feature]:
    """Merge overlay slivers into the neighbour they share most boundary with: a coverage keeps
    no gaps, and no zone is a few square metres."""
    geoms = np.array([f.geometry for f in features])
    small = set(np.flatnonzero(shapely.area(geoms) < min_area).tolist())
    tree = shapely.STRtree(geoms)
    for index in sorted(small):
        candidates = [int(j) for j in tree.query(geoms[index]) if j != index and j not in small]
        if not candidates:
            continue
        shared = [geoms[index].intersection(geoms[j]).length for j in candidates]
        target = candidates[int(np.argmax(shared))]
        if max(shared) > 0:
            merged = shapely.union(geoms[target], geoms[index])
            geoms[target] = merged
            features[target].geometry = merged
    return [f for i, f in enumerate(features) if i not in small]


def build_planned_use(
    rng: np.random.Generator,
    geo: Geography,
    controls: Controls,
    rivers: list[Line],
    roads: list[Line],
) -> list[Feature]:
    """用地用海 for the central city: blocks on a rotated jittered grid, urban codes inside the
    urban development boundary, rural ones outside, the river and main roads as their own land."""
    seat = geo.seats["430802"]
    region = blob(rng, (seat.x, seat.y), 7_000, 0.2, 1.4, rng.uniform(0, np.pi))
    region = region.intersection(geo.city)
    urban = shapely.union_all([f.geometry for f in controls.urban]).intersection(region)
    red = shapely.union_all([f.geometry for f in controls.red_line]).intersection(region)
    farms = shapely.union_all([f.geometry for f in controls.farmland]).intersection(region)
    river = shapely.union_all([r.geometry for r in rivers]).buffer(90).intersection(region)
    road = shapely.union_all([r.geometry for r in roads]).buffer(18).intersection(region)
    road = road.difference(river)
    blocks = _jittered_blocks(rng, region, 300.0)
    rest = region.difference(shapely.union_all([river, road]))
    features: list[Feature] = []

    def add(code: str, geom: shapely.Geometry) -> None:
        for piece in shapely.get_parts(geom):
            if isinstance(piece, Polygon) and piece.area > 50:
                features.append(Feature(piece, {"YDYHFLDM": code, "YDYHFLMC": class_name(code)}))

    add("1701", river)
    add("1207", road.intersection(urban))
    add("1202", road.difference(urban))
    inside = shapely.intersection(blocks, rest.intersection(urban))
    outside = shapely.intersection(blocks, rest.difference(urban))
    east = seat.x + 1_500
    for block in inside:
        if block.is_empty:
            continue
        c = block.centroid
        d = c.distance(seat)
        if d < 1_300:
            code = rng.choice(
                ["0901", "0902", "0801", "070102", "1403"], p=[0.35, 0.2, 0.15, 0.2, 0.1]
            )
        elif c.x > east and rng.random() < 0.6:
            code = rng.choice(["100101", "100102", "1101"], p=[0.5, 0.3, 0.2])
        elif c.distance(river) < 250:
            code = rng.choice(["1402", "1401"], p=[0.5, 0.5])
        else:
            code = rng.choice(
                ["070102", "070101", "0804", "0806", "1401", "0805", "1301", "0702", "120803"],
                p=[0.5, 0.1, 0.1, 0.05, 0.1, 0.03, 0.04, 0.05, 0.03],
            )
        add(str(code), block)
    shapely.prepare(red)
    shapely.prepare(farms)
    for block in outside:
        if block.is_empty:
            continue
        c = block.representative_point()
        if red.contains(c):
            code = "0301"
        elif farms.contains(c) or farms.intersection(block).area > 0.3 * block.area:
            code = rng.choice(["0101", "0103"], p=[0.6, 0.4])
        else:
            code = rng.choice(
                ["0301", "0103", "0201", "0703", "0304"], p=[0.4, 0.25, 0.1, 0.2, 0.05]
            )
        add(str(code), block)
    return features


def _jittered_blocks(rng: np.random.Generator, region: Polygon, size: float) -> NDArray[np.object_]:
    """A rotated grid of quadrilaterals on shared jittered corners: tiles the region exactly."""
    minx, miny, maxx, maxy = region.buffer(size * 3).bounds
    span = max(maxx - minx, maxy - miny)
    n = int(span / size) + 2
    gx, gy = np.meshgrid(np.arange(n + 1) * size, np.arange(n + 1) * size)
    gx = gx + rng.uniform(-0.2, 0.2, gx.shape) * size
    gy = gy + rng.uniform(-0.2, 0.2, gy.shape) * size
    corners = np.stack(
        [
            np.stack([gx[:-1, :-1], gy[:-1, :-1]], -1),
            np.stack([gx[:-1, 1:], gy[:-1, 1:]], -1),
            np.stack([gx[1:, 1:], gy[1:, 1:]], -1),
            np.stack([gx[1:, :-1], gy[1:, :-1]], -1),
        ],
        axis=2,
    ).reshape(-1, 4, 2)
    quads = shapely.polygons(corners)
    cx, cy = region.centroid.x, region.centroid.y
    quads = shapely.transform(quads, lambda xy: xy - (n * size / 2, n * size / 2) + (cx, cy))
    quads = np.array([shapely.affinity.rotate(q, 17, origin=(cx, cy)) for q in quads])
    return quads[shapely.intersects(quads, region)]


# current land use: the code mix by setting
_CURRENT_MIX: dict[str, tuple[list[str], list[float]]] = {
    "urban": (["0701", "0901", "1001", "1207", "0804", "1401", "0806", "1101"],
              [0.38, 0.14, 0.12, 0.14, 0.06, 0.08, 0.03, 0.05]),
    "red": (["0301", "0302", "0303", "0401", "2307", "1703"], [0.62, 0.12, 0.14, 0.06, 0.04, 0.02]),
    "farm": (["0101", "0103", "0102", "2303"], [0.55, 0.35, 0.05, 0.05]),
    "valley": (["0103", "0101", "0201", "0202", "0703", "0301", "1202", "1704", "0601"],
               [0.2, 0.15, 0.1, 0.08, 0.17, 0.18, 0.05, 0.04, 0.03]),
    "mountain": (["0301", "0302", "0303", "0304", "0401", "0703", "0103", "2307"],
                 [0.55, 0.1, 0.12, 0.05, 0.06, 0.04, 0.05, 0.03]),
    "river": (["1701"], [1.0]),
}  # fmt: skip


def build_current_use(
    rng: np.random.Generator,
    geo: Geography,
    controls: Controls,
    rivers: list[Line],
    count: int,
) -> tuple[NDArray[np.object_], NDArray[np.str_], NDArray[np.int64]]:
    """`count` parcels tiling the whole city: Voronoi cells of points denser in the valleys and
    towns. Returns (geometries, codes, township index of each parcel)."""
    urban = shapely.union_all([f.geometry for f in controls.urban])
    red = shapely.union_all([f.geometry for f in controls.red_line])
    farms = shapely.union_all([f.geometry for f in controls.farmland])
    river = shapely.union_all([r.geometry for r in rivers]).buffer(120)
    dense = shapely.union_all([controls.valleys, urban])
    for g in (geo.city, urban, red, farms, river, dense):
        shapely.prepare(g)
    xy = _sample(rng, geo.city, count // 2)
    xy = np.vstack([xy, _sample(rng, dense.intersection(geo.city), count - len(xy))])
    cells = _voronoi_cells(xy, geo.city)
    x, y = xy[:, 0], xy[:, 1]
    setting = np.full(count, "mountain", dtype=object)
    setting[shapely.contains_xy(controls.valleys, x, y)] = "valley"
    setting[shapely.contains_xy(farms, x, y)] = "farm"
    setting[shapely.contains_xy(red, x, y)] = "red"
    setting[shapely.contains_xy(river, x, y)] = "river"
    setting[shapely.contains_xy(urban, x, y)] = "urban"
    codes = np.empty(count, dtype=object)
    for name, (options, weights) in _CURRENT_MIX.items():
        mask = setting == name
        codes[mask] = rng.choice(options, size=int(mask.sum()), p=weights)
    towns = np.array([t.geometry for t in geo.townships])
    tree = shapely.STRtree(towns)
    hit = tree.query(shapely.points(xy), predicate="within")
    town_index = np.zeros(count, dtype=np.int64)
    town_index[hit[0]] = hit[1]
    return cells, codes.astype(str), town_index


def _sample(rng: np.random.Generator, area: shapely.Geometry, count: int) -> NDArray[np.float64]:
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    out = np.empty((0, 2))
    while len(out) < count:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(max(count, 1000), 2))
        out = np.vstack([out, cand[shapely.contains_xy(area, cand[:, 0], cand[:, 1])]])
    return out[:count]


def _voronoi_cells(xy: NDArray[np.float64], city: shapely.Geometry) -> NDArray[np.object_]:
    points = shapely.points(xy)
    regions = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=city.envelope)
    )
    tree = shapely.STRtree(regions)
    hit = tree.query(points, predicate="within")
    cells = np.empty(len(points), dtype=object)
    cells[hit[0]] = regions[hit[1]]
    # only the cells on the city's edge need clipping; the rest lie inside whole
    edge = ~shapely.contains(city, cells)
    cells[edge] = shapely.intersection(cells[edge], city)
    return cells
