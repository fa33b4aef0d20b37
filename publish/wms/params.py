"""Checks of the WMS/WMTS query parameters MapProxy would fail on with a 500 (it parses them
without catching errors): a BBOX that is not four numbers, a size or pixel that is not a whole
number, an empty image, a CRS no one knows. A failed check is a 400 naming the parameter;
everything else (a CRS we do not offer, a huge image, …) is MapProxy's to judge."""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

from publish.server.errors import BadRequestError

_INTEGERS = (
    *("WIDTH", "HEIGHT", "I", "J", "X", "Y", "FEATURE_COUNT"),
    *("TILEMATRIX", "TILEROW", "TILECOL"),
)
_POSITIVE = ("WIDTH", "HEIGHT")
_MAX_INTEGER = 1_000_000


@lru_cache(maxsize=64)
def _known_crs(code: str) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(code)
    except CRSError:
        return False
    return True


def check_query(items: Iterable[tuple[str, str]]) -> None:
    """BadRequestError for the first malformed BBOX or integer parameter."""
    for key, value in items:
        name = key.upper()
        if name == "BBOX":
            parts = value.split(",")
            try:
                numbers = [float(p) for p in parts]
            except ValueError:
                numbers = []
            if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
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


def check_wmts_path(path: str) -> None:
    """BadRequestError unless a RESTful WMTS tile or feature info path
    (/wmts/{layer}/{set}/{matrix}/{col}/{row}.{ext} or …/{row}/{i}/{j}.{ext}) has whole numbers
    where MapProxy expects them."""
    parts = path.strip("/").split("/")
    if len(parts) not in (6, 8) or parts[0] != "wmts":
        return
    numbers = parts[3:]
    numbers[-1] = numbers[-1].rsplit(".", 1)[0]
    for value in numbers:
        if not (value.isascii() and value.isdigit() and len(value) <= 10):
            raise BadRequestError(
                "a WMTS tile path is /wmts/{layer}/{TileMatrixSet}/{TileMatrix}/{TileCol}/"
                f"{{TileRow}}.png with whole numbers (got {path!r})"
            )
