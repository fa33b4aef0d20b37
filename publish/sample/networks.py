"""Rivers and main roads of the sample city, as meandering lines (EPSG:4546 metres)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import shapely.affinity
import shapely.ops
from shapely.geometry import LineString, Point

from publish.sample.geography import Geography, to_plane
from publish.sample.noise import SmoothField


@dataclass
class Line:
    name: str
    grade: str
    geometry: LineString


# 澧水 runs west to east through 桑植, the city centre and 慈利; 溇水 comes down in the north-east.
_LISHUI = [(109.70, 29.52), (110.159, 29.395), (110.33, 29.20), (110.475, 29.122), (110.72, 29.24),
           (110.95, 29.36), (111.127, 29.418), (111.40, 29.45)]  # fmt: skip
_LOUSHUI = [(110.80, 29.85), (110.93, 29.66), (111.02, 29.53), (111.10, 29.43)]

_TRIBUTARY_NAMES = ["索溪", "金鞭溪", "茅岩河", "杉木溪", "龙潭河", "赤溪", "渫水", "零溪",
                    "西溪", "仙人溪", "细沙溪", "长潭河"]  # fmt: skip


def meander(
    rng: np.random.Generator, points: list[tuple[float, float]], amplitude: float, step: float
) -> LineString:
    """A smooth curve through `points` (Catmull-Rom), displaced sideways by a smooth field."""
    p = np.array(points, dtype=float)
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        n = max(int(np.linalg.norm(p2 - p1) / step), 2)
        t = np.linspace(0, 1, n, endpoint=False)[:, None]
        out.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
            )
        )
    out.append(p[-2][None, :])
    xy = np.vstack(out)
    d = np.gradient(xy, axis=0)
    normal = np.column_stack([-d[:, 1], d[:, 0]])
    normal /= np.linalg.norm(normal, axis=1)[:, None] + 1e-12
    s = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(xy, axis=0), axis=1))])
    wiggle = SmoothField.random(rng, [8_000.0, 2_500.0, 800.0], waves_per_octave=2)
    offset = amplitude * wiggle(s, np.zeros_like(s))
    offset[0] = offset[-1] = 0.0
    return LineString(xy + normal * offset[:, None])


def _clip(line: LineString, area: shapely.Geometry) -> LineString | None:
    part = line.intersection(area)
    if part.is_empty:
        return None
    if isinstance(part, LineString):
        return part
    return max(shapely.get_parts(part), key=lambda g: g.length)


def build_rivers(rng: np.random.Generator, geo: Geography) -> list[Line]:
    rivers: list[Line] = []
    for name, lonlat in (("澧水", _LISHUI), ("溇水", _LOUSHUI)):
        line = _clip(meander(rng, [to_plane(*p) for p in lonlat], 700, 150), geo.city)
        if line is not None:
            rivers.append(Line(name, "干流" if name == "澧水" else "一级支流", line))
    mains = shapely.union_all([r.geometry for r in rivers])
    # tributaries: from township seats far from the main rivers down to the nearest main river
    far = [t for t in geo.townships if t.seat.distance(mains) > 8_000]
    picks = rng.choice(len(far), size=min(len(_TRIBUTARY_NAMES), len(far)), replace=False)
    for name, index in zip(_TRIBUTARY_NAMES, picks, strict=False):
        source = far[int(index)].seat
        mouth = shapely.ops.nearest_points(mains, source)[0]
        mid = Point((source.x + mouth.x) / 2 + rng.normal(0, 2_000), (source.y + mouth.y) / 2)
        line = meander(rng, [(source.x, source.y), (mid.x, mid.y), (mouth.x, mouth.y)], 400, 100)
        clipped = _clip(line, geo.city)
        if clipped is not None:
            rivers.append(Line(name, "二级支流", clipped))
    return rivers


def build_roads(rng: np.random.Generator, geo: Geography) -> list[Line]:
    seat = {code: (p.x, p.y) for code, p in geo.seats.items()}
    yongding, wulingyuan, cili, sangzhi = (
        seat["430802"],
        seat["430811"],
        seat["430821"],
        seat["430822"],
    )
    minx, _, maxx, _ = geo.city.bounds
    specs = [
        ("杭瑞高速", "高速公路", [yongding, (cili[0] - 20_000, cili[1] - 6_000), cili,
                                 (maxx + 5_000, cili[1] + 3_000)]),
        ("张桑高速", "高速公路", [sangzhi, ((sangzhi[0] + yongding[0]) / 2, yongding[1] + 12_000),
                                 yongding]),
        ("G353", "国道", [yongding, wulingyuan]),
        ("G241", "国道", [(cili[0] - 2_000, cili[1] + 40_000), cili, (cili[0] + 5_000, cili[1] - 40_000)]),
        ("S306", "省道", [sangzhi, (minx - 5_000, sangzhi[1] + 10_000)]),
        ("S228", "省道", [wulingyuan, (cili[0] - 30_000, cili[1] + 15_000), cili]),
    ]  # fmt: skip
    roads = []
    for name, grade, points in specs:
        line = _clip(meander(rng, points, 500, 120), geo.city)
        if line is not None:
            roads.append(Line(name, grade, line))
    # county roads: every township seat to the nearest road already drawn
    for index, town in enumerate(geo.townships):
        network = shapely.union_all([r.geometry for r in roads])
        if town.seat.distance(network) < 1_500:
            continue
        target = shapely.ops.nearest_points(network, town.seat)[0]
        line = _clip(
            meander(rng, [(town.seat.x, town.seat.y), (target.x, target.y)], 300, 100), geo.city
        )
        if line is not None:
            roads.append(Line(f"X{100 + index:03d}", "县道", line))
    return roads
