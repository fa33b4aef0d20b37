"""Checks of the WMS/WMTS request MapProxy would fail on with a 500 (it parses parameters without
catching errors) or answer with the client's input echoed in plain text: a BBOX that is not four
numbers, a size or pixel that is not a whole number, an empty image, a CRS no one knows, a
VERSION that is not a version, a BGCOLOR or SCALE it cannot read, a control character (its XML
exceptions would echo it, and no XML can hold it), a path under /wmts that is no WMTS resource. A malformed parameter is a 400 naming the parameter; a path that names nothing is
the server's plain 404; everything else (a CRS we do not offer, a huge image, an unknown layer,
…) is MapProxy's to judge (publish.wms.servers)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import lru_cache

from publish.server.errors import BadRequestError, NotFoundError

_INTEGERS = (
    *("WIDTH", "HEIGHT", "I", "J", "X", "Y", "FEATURE_COUNT"),
    *("TILEMATRIX", "TILEROW", "TILECOL"),
)
_POSITIVE = ("WIDTH", "HEIGHT", "FEATURE_COUNT")
_MAX_INTEGER = 1_000_000
# MapProxy keeps every version it has parsed in a class-level dict: one digit a part bounds it
_VERSION = re.compile(r"\d\.\d\.\d")
_BGCOLOR = re.compile(r"0x[0-9A-Fa-f]{6}")  # WMS: hexadecimal red, green, blue
# characters XML 1.0 cannot hold, even escaped: MapProxy's exceptions echo values
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# The RESTful WMTS resources under /wmts (MapProxy's default templates): capabilities, a tile
# /{Layer}/{TileMatrixSet}/{TileMatrix}/{TileCol}/{TileRow}.{Format} and feature info
# …/{TileRow}/{I}/{J}.{InfoFormat}. MapProxy's own matching finds them anywhere in the path.
CAPABILITIES_PATH = "/wmts/1.0.0/WMTSCapabilities.xml"
_NAME = r"[A-Za-z0-9_.:-]{1,100}"
_PART = r"[^/]{1,20}"  # a number, checked below to say what is wrong with it
_TILE_PATH = re.compile(
    rf"/wmts/(?P<layer>{_NAME})/(?P<set>{_NAME})/(?P<numbers>{_PART}/{_PART}/{_PART}"
    rf"(?:/{_PART}/{_PART})?)\.(?P<ext>[A-Za-z0-9]{{1,10}})"
)


@lru_cache(maxsize=64)
def _known_crs(code: str) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(code)
    except CRSError:
        return False
    return True


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def check_query(items: Iterable[tuple[str, str]]) -> None:
    """BadRequestError for the first malformed parameter."""
    for key, value in items:
        name = key.upper()
        if _NOT_XML.search(key) or _NOT_XML.search(value):
            raise BadRequestError("query parameters must not hold control characters")
        if name == "BBOX":
            parts = value.split(",")
            if len(parts) != 4 or not all(_is_number(p) for p in parts):
                raise BadRequestError(
                    f"BBOX must be four numbers separated by commas (got {value!r})"
                )
        elif name in _INTEGERS:
            text = value.strip()
            if not (text.isascii() and text.lstrip("-").isdigit()) or abs(int(text)) > _MAX_INTEGER:
                raise BadRequestError(f"{name} must be a whole number (got {value!r})")
            if name in _POSITIVE and int(text) < 1:
                raise BadRequestError(f"{name} must be at least 1 (got {value!r})")
        elif name in ("CRS", "SRS") and not _known_crs(value.strip()[:64]):
            raise BadRequestError(f"{name} {value!r} is not a known coordinate reference system")
        elif name in ("VERSION", "WMTVER") and not _VERSION.fullmatch(value):
            raise BadRequestError(f"{name} must be a version such as 1.3.0 (got {value!r})")
        elif name == "BGCOLOR" and not _BGCOLOR.fullmatch(value):
            raise BadRequestError(f"BGCOLOR must be 0xRRGGBB (got {value!r})")
        elif name == "SCALE" and not _is_number(value):
            raise BadRequestError(f"SCALE must be a number (got {value!r})")


def check_wmts_path(path: str) -> None:
    """NotFoundError unless `path` (/wms, /wmts or below /wmts) is a WMTS resource; BadRequestError
    unless the numbers of a tile or feature info path are whole numbers."""
    if path in ("/wms", "/wmts", CAPABILITIES_PATH):
        return
    match = _TILE_PATH.fullmatch(path)
    if match is None:
        raise NotFoundError()
    for value in match["numbers"].split("/"):
        if not (value.isascii() and value.isdigit() and len(value) <= 10):
            raise BadRequestError(
                "a WMTS tile path is /wmts/{layer}/{TileMatrixSet}/{TileMatrix}/{TileCol}/"
                "{TileRow}.png (feature info: …/{TileRow}/{I}/{J}.json) with whole numbers"
            )
