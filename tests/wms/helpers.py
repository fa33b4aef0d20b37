"""What the WMS/WMTS tests look at: places in the sample with known colours, and pixels."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image
from pyproj import Transformer

from publish.styles.expressions import match_table

Rgba = tuple[int, int, int, int]
WEB_MERCATOR_HALF = 20037508.342789244


@dataclass(frozen=True)
class Place:
    """A lon/lat point with the colour a layer's rendering has there."""

    lon: float
    lat: float
    colour: tuple[int, int, int]
    layer: str
    note: str = ""


@dataclass(frozen=True)
class Probes:
    land_use: Place  # deep inside a planned land-use block (layer ydyh), its class colour
    red_line: Place  # on the ecological red line's boundary (layer stbhhx), the line colour
    red_line_fid: int
    land_use_fid: int
    land_use_code: str
    spxm: tuple[float, float]  # inside an internal-only feature (layer spxm)
    nowhere: tuple[float, float, float, float]  # a lon/lat box with no data at all


def hex_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def style_paint(style: dict[str, Any], layer_id: str, key: str) -> Any:
    for layer in style["layers"]:
        if layer["id"] == layer_id:
            return layer["paint"][key]
    raise AssertionError(f"style has no layer {layer_id}")


def land_use_colour(style: dict[str, Any], code: str) -> tuple[int, int, int]:
    table, fallback = match_table(style_paint(style, "ydyh-fill", "fill-color"))
    return hex_rgb(table.get(code, fallback))


def image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGBA")


def close(pixel: Rgba, colour: tuple[int, int, int], tolerance: int = 8) -> bool:
    return pixel[3] > 200 and all(
        abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True)
    )


def near(
    img: Image.Image, px: float, py: float, colour: tuple[int, int, int], radius: int = 2
) -> bool:
    """Whether a pixel within `radius` of (px, py) is opaque and close to `colour`."""
    cx, cy = int(px), int(py)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            x, y = cx + dx, cy + dy
            if 0 <= x < img.width and 0 <= y < img.height and close(img.getpixel((x, y)), colour):
                return True
    return False


def rgba_pixels(img: Image.Image) -> list[Rgba]:
    data = img.tobytes()
    return [(data[i], data[i + 1], data[i + 2], data[i + 3]) for i in range(0, len(data), 4)]


def all_transparent(img: Image.Image) -> bool:
    alpha = img.getchannel("A")
    return alpha.getextrema()[1] == 0


_TO = {
    code: Transformer.from_crs("EPSG:4326", code, always_xy=True)
    for code in ("EPSG:3857", "EPSG:4546")
}


def project(code: str, lon: float, lat: float) -> tuple[float, float]:
    """(x, y) east/north of a lon/lat point in `code` (lon/lat itself for geographic codes)."""
    if code in ("EPSG:4326", "EPSG:4490", "CRS:84"):
        return lon, lat
    x, y = _TO[code].transform(lon, lat)
    return float(x), float(y)


def box_around(
    code: str, lon: float, lat: float, half_m: float
) -> tuple[float, float, float, float]:
    """A box (east/north order) of about 2·half_m metres centred on the point, in `code`."""
    x, y = project(code, lon, lat)
    if code in ("EPSG:4326", "EPSG:4490"):
        dlat = half_m / 111_320
        dlon = half_m / (111_320 * math.cos(math.radians(lat)))
        return x - dlon, y - dlat, x + dlon, y + dlat
    scale = 1 / math.cos(math.radians(lat)) if code == "EPSG:3857" else 1.0
    return x - half_m * scale, y - half_m * scale, x + half_m * scale, y + half_m * scale


def pixel_of(
    bbox: tuple[float, float, float, float], size: tuple[int, int], x: float, y: float
) -> tuple[float, float]:
    minx, miny, maxx, maxy = bbox
    return (x - minx) / (maxx - minx) * size[0], (maxy - y) / (maxy - miny) * size[1]


def xyz_tile(lon: float, lat: float, z: int) -> tuple[int, int, float, float]:
    """The XYZ tile holding the point and the point's pixel in it (256 px)."""
    n = 1 << z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int(fx), int(fy), (fx % 1) * 256, (fy % 1) * 256


def geodetic_tile(lon: float, lat: float, level: int) -> tuple[int, int, float, float]:
    """The cgcs2000 (TianDiTu) tile holding the point: column, row and the pixel in it."""
    res = 1.40625 / (1 << level)
    fx = (lon + 180) / (256 * res)
    fy = (90 - lat) / (256 * res)
    return int(fx), int(fy), (fx % 1) * 256, (fy % 1) * 256
