"""A site-check request parsed and checked: the site as a polygon in the city's working CRS
(metres; the release catalog's `city.crs`, EPSG:4546 for the sample city).

Accepted: a GeoJSON Polygon or MultiPolygon, or a Point with `buffer_m`; `crs` CRS84 (default),
EPSG:4490 (coordinates lat,lon as in OGC API), the working CRS or EPSG:3857; an optional national
land-use code `intended_use`; `surroundings_m`. Every problem raises SiteCheckInputError naming it.
A self-intersecting polygon is repaired with make_valid and the input says so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from publish.crs.names import CRS84_URI, epsg_uri
from publish.errors import PublishError
from publish.standards import is_valid_code

_CRS84 = "OGC:CRS84"
_LAT_FIRST = "EPSG:4490"  # given lat,lon, as the OGC API gives it
_WEB_MERCATOR = "EPSG:3857"

_GEOMETRY_TYPES = ("Polygon", "MultiPolygon", "Point")


class SiteCheckInputError(PublishError):
    """A site-check request that cannot be checked; the message names the problem."""


@dataclass(frozen=True)
class InputLimits:
    """Bounds on a request (configurable by the process definition)."""

    max_area_m2: float = 100e6
    max_vertices: int = 10_000
    max_buffer_m: float = 5_000.0
    max_surroundings_m: float = 5_000.0
    default_surroundings_m: float = 1_000.0


@dataclass(frozen=True)
class SiteInput:
    """A checked request. `geometry` is a valid (Multi)Polygon in the working CRS's metres."""

    geometry: BaseGeometry
    crs: str  # the CRS the site was given in
    work_crs: str  # the CRS of `geometry`: the city's working CRS
    intended_use: str | None = None
    surroundings_m: float = 1_000.0
    buffer_m: float | None = None
    repaired: bool = False


@lru_cache(maxsize=8)
def transformer(source: str, target: str) -> Transformer:
    """A cached always-xy transformer (x = longitude or easting)."""
    return Transformer.from_crs(source, target, always_xy=True)


def project(geometry: Any, source: str, target: str) -> Any:
    """Geometry (or array of geometries) from `source` to `target`, vertex by vertex."""
    tr = transformer(source, target)

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, move)


def input_crs_names(work_crs: str) -> tuple[str, ...]:
    """The CRSs a site may be given in: CRS84, EPSG:4490, the working CRS and EPSG:3857."""
    return tuple(dict.fromkeys(("CRS84", _LAT_FIRST, work_crs, _WEB_MERCATOR)))


@lru_cache(maxsize=8)
def _spellings(work_crs: str) -> dict[str, tuple[str, str, bool]]:
    """Every accepted spelling (upper case), to (canonical name, pyproj id, lat first)."""
    names = {name: (name, name, name == _LAT_FIRST) for name in input_crs_names(work_crs)}
    names["CRS84"] = ("CRS84", _CRS84, False)
    spellings = {}
    for name, entry in names.items():
        uri = CRS84_URI if name == "CRS84" else epsg_uri(name)
        for spelling in {name, entry[1], uri}:
            spellings[spelling.upper()] = entry
    return spellings


def _crs(value: Any, work_crs: str) -> tuple[str, str, bool]:
    names = _spellings(work_crs)
    if value is None:
        return names["CRS84"]
    if not isinstance(value, str) or value.strip().upper() not in names:
        accepted = ", ".join(input_crs_names(work_crs))
        raise SiteCheckInputError(f"unknown CRS {value!r}: accepted are {accepted}")
    return names[value.strip().upper()]


def _geojson(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SiteCheckInputError(f"geometry is not GeoJSON: {exc}") from exc
    if isinstance(value, Mapping) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, Mapping) or "type" not in value or "coordinates" not in value:
        raise SiteCheckInputError(
            "geometry is not GeoJSON: expected an object with 'type' and 'coordinates'"
        )
    if value["type"] not in _GEOMETRY_TYPES:
        raise SiteCheckInputError(
            f"geometry has the wrong type {value['type']!r}: expected Polygon, MultiPolygon "
            "or Point (with buffer_m)"
        )
    return dict(value)


def _shape(obj: dict[str, Any]) -> BaseGeometry:
    try:
        geometry = shapely.from_geojson(
            json.dumps({"type": obj["type"], "coordinates": obj["coordinates"]})
        )
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise SiteCheckInputError(f"geometry is not GeoJSON: {exc}") from exc
    if geometry is None or geometry.is_empty:
        raise SiteCheckInputError("geometry is not GeoJSON: it is empty")
    return geometry


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SiteCheckInputError(f"{key} must be a number, not {value!r}")
    return float(value)


def _check_coordinates(xy: np.ndarray, crs: str, name: str) -> None:
    """Coordinates (x = longitude/easting) inside `crs`'s area of use, else an error."""
    if not np.isfinite(xy).all():
        raise SiteCheckInputError(f"coordinates are outside the valid area of {name}: not finite")
    area = CRS(crs).area_of_use
    assert area is not None
    west, south, east, north = area.bounds
    if CRS(crs).is_projected:
        lon, lat = transformer(crs, _CRS84).transform(xy[:, 0], xy[:, 1], errcheck=False)
    else:
        lon, lat = xy[:, 0], xy[:, 1]
    lon, lat = np.asarray(lon), np.asarray(lat)
    tol = 1e-9
    inside = (
        np.isfinite(lon)
        & np.isfinite(lat)
        & (lon >= west - tol)
        & (lon <= east + tol)
        & (lat >= south - tol)
        & (lat <= north + tol)
    )
    if crs == _WEB_MERCATOR:  # the projection's own extent (its area of use is the world)
        half = 20037508.342789244
        inside &= (np.abs(xy[:, 0]) <= half) & (np.abs(xy[:, 1]) <= half)
    if not inside.all():
        x, y = xy[int(np.argmin(inside))]
        order = "lat,lon " if name == _LAT_FIRST else ""
        shown = f"{y}, {x}" if name == _LAT_FIRST else f"{x}, {y}"
        raise SiteCheckInputError(
            f"coordinates are outside the valid area of {name}: ({order}{shown}) is outside "
            f"lon {west}..{east}, lat {south}..{north}"
        )


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The polygonal part of a repaired geometry."""
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def parse_site(
    data: Mapping[str, Any], limits: InputLimits | None = None, *, work_crs: str
) -> SiteInput:
    """The checked request from the process's inputs, the site in `work_crs` (the city's
    working CRS); SiteCheckInputError naming the problem."""
    limits = limits or InputLimits()
    if not isinstance(data, Mapping):
        raise SiteCheckInputError("inputs must be a JSON object")
    if data.get("geometry") is None:
        raise SiteCheckInputError("geometry is missing")
    name, crs, lat_first = _crs(data.get("crs"), work_crs)
    obj = _geojson(data["geometry"])
    geometry = _shape(obj)
    vertices = int(shapely.get_num_coordinates(geometry))
    if vertices > limits.max_vertices:
        raise SiteCheckInputError(
            f"too many vertices: {vertices} (the limit is {limits.max_vertices})"
        )
    if lat_first:
        geometry = shapely.transform(geometry, lambda xy: xy[:, ::-1])
    _check_coordinates(shapely.get_coordinates(geometry), crs, name)
    site = geometry if crs == work_crs else project(geometry, crs, work_crs)

    buffer_m = _number(data, "buffer_m")
    if site.geom_type == "Point":
        if buffer_m is None or not 0 < buffer_m <= limits.max_buffer_m:
            raise SiteCheckInputError(
                f"a Point needs buffer_m between 0 and {limits.max_buffer_m:g} m, "
                f"not {data.get('buffer_m')!r}"
            )
        site = site.buffer(buffer_m, quad_segs=16)
    elif buffer_m is not None:
        raise SiteCheckInputError("buffer_m is for a Point only")

    repaired = False
    if not site.is_valid:
        site = _polygonal(shapely.make_valid(site))
        repaired = True
    if site.is_empty or site.area <= 0:
        raise SiteCheckInputError("geometry has no area")
    if site.area > limits.max_area_m2:
        raise SiteCheckInputError(
            f"site area {site.area / 1e6:.2f} km² is above the limit of "
            f"{limits.max_area_m2 / 1e6:g} km²"
        )

    intended = data.get("intended_use")
    if intended is not None and not is_valid_code(intended):
        raise SiteCheckInputError(
            f"intended_use {intended!r} is not a national land-use code (e.g. '1001')"
        )
    radius = _number(data, "surroundings_m")
    if radius is None:
        radius = limits.default_surroundings_m
    if not 0 <= radius <= limits.max_surroundings_m:
        raise SiteCheckInputError(
            f"surroundings_m must be between 0 and {limits.max_surroundings_m:g}, not {radius:g}"
        )
    return SiteInput(
        geometry=site,
        crs=name,
        intended_use=intended,
        surroundings_m=radius,
        buffer_m=buffer_m,
        repaired=repaired,
        work_crs=work_crs,
    )
