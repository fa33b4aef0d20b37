"""The heaviest requests the server takes, for the overload test and bench/overload.py."""

from __future__ import annotations

import json
import math

from pyproj import Transformer

CITY_SEAT = (110.48, 29.13)  # the sample city's seat (lon, lat)


def largest_site(lon: float = CITY_SEAT[0], lat: float = CITY_SEAT[1]) -> bytes:
    """An execute request for the largest site the check takes: ~99 km², 9,990 vertices,
    surroundings 5 km (publish.sitecheck.inputs.InputLimits), around (lon, lat). The circle is
    drawn in EPSG:4546 metres, the sample city's working CRS."""
    to_m = Transformer.from_crs(4326, 4546, always_xy=True)
    to_deg = Transformer.from_crs(4546, 4326, always_xy=True)
    cx, cy = to_m.transform(lon, lat)
    r, n = math.sqrt(99e6 / math.pi), 9_990
    ring = [
        to_deg.transform(
            cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)
        )
        for i in range(n)
    ]
    ring.append(ring[0])
    geometry = {"type": "Polygon", "coordinates": [ring]}
    return json.dumps({"inputs": {"geometry": geometry, "surroundings_m": 5000}}).encode()


def large_map(lon: float = CITY_SEAT[0], lat: float = CITY_SEAT[1]) -> str:
    """A 2048×2048 WMS 1.3.0 GetMap of the whole plan over 0.5° × 0.5°, in EPSG:4490."""
    bbox = f"{lat - 0.25},{lon - 0.25},{lat + 0.25},{lon + 0.25}"
    return (
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=plan&STYLES=&CRS=EPSG:4490"
        f"&BBOX={bbox}&WIDTH=2048&HEIGHT=2048&FORMAT=image/png"
    )
