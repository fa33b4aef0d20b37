"""The sample city's frame: outline, four county-level units and about 70 townships.

Built in EPSG:4546 metres. Townships are grown from relaxed Voronoi cells inside a noisy outline,
grouped into counties by area-balanced growth from the real county seats, then the shared linework
is warped and polygonized again, so boundaries look natural and still tile the city exactly.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from publish.sample.names import township_names
from publish.sample.noise import Warp, blob, scale_about

CITY_CODE = "430800"
CITY_NAME = "张家界市"
CITY_AREA_M2 = 9_534e6  # so that the red line's 2,964.15 km² is 31.09 % of it


@dataclass(frozen=True)
class CountySpec:
    code: str
    name: str
    seat: tuple[float, float]  # lon, lat
    area_km2: float
    townships: int
    streets: int  # 街道 among the townships, around the seat


COUNTIES = (
    CountySpec("430802", "永定区", (110.480, 29.129), 2174, 16, 4),
    CountySpec("430811", "武陵源区", (110.543, 29.351), 398, 4, 2),
    CountySpec("430821", "慈利县", (111.127, 29.426), 3492, 25, 1),
    CountySpec("430822", "桑植县", (110.159, 29.403), 3475, 25, 1),
)

_TO_PLANE = Transformer.from_crs("EPSG:4326", "EPSG:4546", always_xy=True)
_TO_LONLAT = Transformer.from_crs("EPSG:4546", "EPSG:4326", always_xy=True)


def to_plane(lon: float, lat: float) -> tuple[float, float]:
    x, y = _TO_PLANE.transform(lon, lat)
    return float(x), float(y)


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = _TO_LONLAT.transform(x, y)
    return float(lon), float(lat)


@dataclass
class Township:
    code: str
    name: str
    county: CountySpec
    seat: Point  # the township's seat (镇政府驻地), inside its polygon
    geometry: Polygon


@dataclass
class Geography:
    city: Polygon
    counties: dict[str, Polygon]  # code → polygon
    townships: list[Township]
    seats: dict[str, Point]  # county code → seat in EPSG:4546
    centre: tuple[float, float]

    def township_at(self, x: float, y: float) -> Township | None:
        for town in self.townships:
            if shapely.intersects_xy(town.geometry, x, y):
                return town
        return None


def build_geography(rng: np.random.Generator) -> Geography:
    centre = to_plane(110.50, 29.34)
    outline = _outline(rng, centre)
    cells = _cells(rng, outline, 1400)
    seats = {c.code: Point(*to_plane(*c.seat)) for c in COUNTIES}
    warp = Warp.random(rng, amplitude=900.0, wavelengths=[26_000.0, 9_000.0, 3_000.0])
    # the cells are grown in unwarped space: find where each real seat comes from
    seat_xy = np.array([[p.x, p.y] for p in seats.values()])
    unwarped = dict(zip(seats, warp.inverse_coords(seat_xy), strict=True))
    county_of = _grow(cells, {code: Point(*xy) for code, xy in unwarped.items()}, _county_targets())
    town_of: list[int] = [-1] * len(cells)
    town_specs: list[tuple[CountySpec, str]] = []
    for county in COUNTIES:
        members = [i for i, c in enumerate(county_of) if c == county.code]
        kinds = ["街道"] * county.streets + _town_kinds(rng, county.townships - county.streets)
        groups = _split_county(rng, cells, members, Point(*unwarped[county.code]), kinds)
        for local, cell_ids in enumerate(groups):
            for cell in cell_ids:
                town_of[cell] = len(town_specs) + local
        town_specs.extend((county, kind) for kind in kinds)
    town_polys = [
        shapely.coverage_union_all([cells[i] for i in range(len(cells)) if town_of[i] == t])
        for t in range(len(town_specs))
    ]
    warped = _warp_coverage(town_polys, warp)
    # exact city area: one uniform scaling about the centre keeps the coverage intact
    factor = float(np.sqrt(CITY_AREA_M2 / sum(p.area for p in warped)))
    warped = [scale_about(p, factor, centre) for p in warped]
    taken: set[str] = set()
    townships: list[Township] = []
    counters: dict[str, int] = {}
    names = township_names(rng, [kind for _, kind in town_specs], taken)
    for (county, kind), name, poly in zip(town_specs, names, warped, strict=True):
        counters[county.code] = counters.get(county.code, 0) + 1
        number = counters[county.code] + (0 if kind == "街道" else 100)
        seat = _township_seat(rng, poly, seats[county.code] if kind == "街道" else None)
        townships.append(Township(f"{county.code}{number:03d}", name, county, seat, poly))
    counties = {
        c.code: shapely.coverage_union_all([t.geometry for t in townships if t.county is c])
        for c in COUNTIES
    }
    city = shapely.coverage_union_all(list(counties.values()))
    for town in townships:
        shapely.prepare(town.geometry)
    return Geography(city, counties, townships, seats, centre)


def _outline(rng: np.random.Generator, centre: tuple[float, float]) -> Polygon:
    """A noisy oval over the real extent (about 159 km east-west, 101 km north-south) that
    holds every county seat well inside it."""
    seats = shapely.points([to_plane(*c.seat) for c in COUNTIES])
    while True:
        shape = blob(rng, centre, radius=49_000, roughness=0.22, aspect=1.55, vertices=720)
        shape = scale_about(shape, float(np.sqrt(CITY_AREA_M2 / shape.area)), centre)
        if shapely.contains(shape.buffer(-6_000), seats).all():
            return shape


def _cells(rng: np.random.Generator, outline: Polygon, count: int) -> list[shapely.Geometry]:
    """Voronoi cells of points spread evenly (two Lloyd steps) inside the outline."""
    minx, miny, maxx, maxy = outline.bounds
    shapely.prepare(outline)
    xy = np.empty((0, 2))
    while len(xy) < count:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(count, 2))
        xy = np.vstack([xy, cand[shapely.contains_xy(outline, cand[:, 0], cand[:, 1])]])
    xy = xy[:count]
    for _ in range(2):
        cells = _voronoi(xy, outline)
        xy = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    return _voronoi(xy, outline)


def _voronoi(xy: np.ndarray, outline: Polygon) -> list[Polygon]:
    points = shapely.points(xy)
    regions = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=outline.envelope)
    parts = list(shapely.get_parts(regions))
    # voronoi_polygons does not keep input order: match each region to its point
    tree = shapely.STRtree(parts)
    idx = tree.query(points, predicate="within")
    order = np.empty(len(points), dtype=int)
    order[idx[0]] = idx[1]
    return list(shapely.intersection(np.array(parts)[order], outline))


def _county_targets() -> dict[str, float]:
    total = sum(c.area_km2 for c in COUNTIES)
    return {c.code: c.area_km2 / total for c in COUNTIES}


def _adjacency(cells: list[Polygon]) -> list[set[int]]:
    tree = shapely.STRtree(cells)
    pairs = tree.query(cells, predicate="intersects")
    neighbours: list[set[int]] = [set() for _ in cells]
    for a, b in zip(*pairs, strict=True):
        if a != b and cells[a].intersection(cells[b]).length > 1.0:
            neighbours[a].add(int(b))
    return neighbours


def _grow(
    cells: list[Polygon], seeds: dict[str, Point], share: dict[str, float]
) -> list[str | None]:
    """Area-balanced region growing: the region furthest below its share takes the free
    neighbouring cell nearest its seed. Regions stay connected by construction."""
    neighbours = _adjacency(cells)
    total = sum(c.area for c in cells)
    owner: list[str | None] = [None] * len(cells)
    area = dict.fromkeys(seeds, 0.0)
    frontier: dict[str, list[tuple[float, int]]] = {k: [] for k in seeds}

    def take(region: str, cell: int) -> None:
        owner[cell] = region
        area[region] += cells[cell].area
        for n in neighbours[cell]:
            if owner[n] is None:
                d = cells[n].centroid.distance(seeds[region])
                heapq.heappush(frontier[region], (d, n))

    for region, seed in seeds.items():
        start = min(range(len(cells)), key=lambda i: cells[i].centroid.distance(seed))
        take(region, start)
    while any(o is None for o in owner):
        open_regions = [r for r in seeds if frontier[r]]
        region = min(open_regions, key=lambda r: area[r] / (share[r] * total))
        while frontier[region]:
            _, cell = heapq.heappop(frontier[region])
            if owner[cell] is None:
                take(region, cell)
                break
    return owner


def _split_county(
    rng: np.random.Generator,
    cells: list[Polygon],
    members: list[int],
    seat: Point,
    kinds: list[str],
) -> list[list[int]]:
    """Split a county's cells into townships: 街道 small around the seat, towns elsewhere."""
    sub = [cells[i] for i in members]
    # seeds: the streets near the seat, the rest spread by farthest-point sampling
    by_distance = sorted(range(len(sub)), key=lambda i: sub[i].centroid.distance(seat))
    streets = kinds.count("街道")
    seed_ids = by_distance[: max(streets, 1)][:streets] if streets else []
    if not seed_ids:
        seed_ids = [by_distance[0]]
    while len(seed_ids) < len(kinds):
        far = max(
            range(len(sub)),
            key=lambda i: (
                min(sub[i].centroid.distance(sub[s].centroid) for s in seed_ids)
                * rng.uniform(0.8, 1.0)
            ),
        )
        seed_ids.append(far)
    weights = np.array([0.35 if k == "街道" else rng.uniform(0.8, 1.3) for k in kinds])
    share = {str(i): float(w / weights.sum()) for i, w in enumerate(weights)}
    seeds = {str(i): sub[s].centroid for i, s in enumerate(seed_ids)}
    owner = _grow(sub, seeds, share)
    groups: list[list[int]] = [[] for _ in kinds]
    for local, region in enumerate(owner):
        groups[int(region or 0)].append(members[local])
    return groups


def _town_kinds(rng: np.random.Generator, count: int) -> list[str]:
    return ["镇" if rng.random() < 0.6 else "乡" for _ in range(count)]


def _warp_coverage(polygons: list[Polygon], warp: Warp, spacing: float = 250.0) -> list[Polygon]:
    """Warp a coverage without opening gaps: warp its noded linework once, polygonize, and give
    each face back to the polygon it came from."""
    lines = shapely.unary_union([p.boundary for p in polygons])
    lines = shapely.segmentize(lines, spacing)
    faces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(warp.geometry(lines)))))
    # a face's interior point, unwarped, lies inside exactly one source polygon
    probes = np.array([[f.point_on_surface().x, f.point_on_surface().y] for f in faces])
    origins = shapely.points(warp.inverse_coords(probes))
    tree = shapely.STRtree(polygons)
    hits = tree.query(origins, predicate="within")
    owner = np.full(len(faces), -1)
    owner[hits[0]] = hits[1]
    out = []
    for index in range(len(polygons)):
        mine = [faces[i] for i in np.flatnonzero(owner == index)]
        out.append(shapely.coverage_union_all(mine))
    return out


def _township_seat(rng: np.random.Generator, poly: Polygon, near: Point | None) -> Point:
    if near is not None and poly.contains(near):
        return near
    inner = poly.buffer(-800)
    if inner.is_empty:
        inner = poly
    return inner.centroid if inner.contains(inner.centroid) else inner.point_on_surface()
