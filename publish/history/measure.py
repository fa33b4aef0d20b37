"""How much a feature's geometry changed, measured in the city's working CRS (metres).

The tables store lon/lat (EPSG:4326); every measure here is taken after projecting to the
catalog's ``city.crs``. Only the geometries the diff needs are parsed and projected: the added,
the removed and the matched features whose rows differ.

A matched feature's geometry *changed* when:

* its blob differs and ``shapely.equals_exact`` (vertex for vertex, in lon/lat) says the shapes
  differ too, and
* polygons: the area of the symmetric difference of old and new is above both
  ``Tolerance.area_m2`` and ``Tolerance.shift_m`` × the mean of the two perimeters. The second
  bound is what a boundary moved everywhere by at most ``shift_m`` can add up to, so
  re-digitising noise on a long boundary is not a change while a real change of a small parcel is;
* lines and points: the Hausdorff distance between old and new is above ``Tolerance.shift_m``.

Area gained and lost by a changed polygon come from one symmetric difference: with
``sym = area(old △ new)`` and ``net = area(new) − area(old)``, gained = area(new − old) =
(sym + net) / 2 and lost = area(old − new) = (sym − net) / 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer

from publish.gpkg.errors import GeometryBlobError
from publish.gpkg.geometry import from_blobs

__all__ = ["GeometryChange", "Projector", "Tolerance", "compare_geometries", "parse"]

STORE_CRS = "EPSG:4326"
_EMPTY = shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")


@dataclass(frozen=True)
class Tolerance:
    """Below these a geometry difference is noise, not a change (see the module docstring)."""

    area_m2: float = 1.0
    shift_m: float = 0.01

    def to_dict(self) -> dict[str, float]:
        return {"area_m2": self.area_m2, "shift_m": self.shift_m}


@lru_cache(maxsize=8)
def _transformer(crs: str) -> Transformer:
    """lon/lat → `crs` (made once per CRS: pyproj takes tens of milliseconds to make one)."""
    return Transformer.from_crs(STORE_CRS, crs, always_xy=True)


@dataclass(frozen=True)
class Projector:
    """lon/lat geometries into the working CRS, vectorised."""

    crs: str

    def project(self, geoms: np.ndarray) -> np.ndarray:
        if not len(geoms):
            return geoms
        transformer = _transformer(self.crs)

        def move(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return np.asarray(shapely.transform(geoms, move), dtype=object)


def parse(blobs: Sequence[bytes | None], where: str) -> np.ndarray:
    """Shapely geometries (None for NULL or empty) from GeoPackage blobs; GeometryBlobError
    naming `where` when one cannot be read."""
    try:
        return from_blobs(blobs)
    except GeometryBlobError as exc:
        raise GeometryBlobError(f"{where}: {exc}") from exc


def areas(projected: np.ndarray) -> np.ndarray:
    """Areas in m², 0 for a missing geometry."""
    return np.nan_to_num(shapely.area(projected), nan=0.0)


def points(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A representative point (on the surface) of each geometry: x and y (NaN when missing)."""
    present = ~shapely.is_missing(geoms)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    if present.any():
        on = shapely.point_on_surface(geoms[present])
        x[present], y[present] = shapely.get_x(on), shapely.get_y(on)
    return x, y


@dataclass(frozen=True)
class GeometryChange:
    """Per matched pair: whether the geometry changed, and (polygons) areas in m²."""

    changed: np.ndarray  # bool
    old_area: np.ndarray  # float; 0 for lines and points
    new_area: np.ndarray
    gained: np.ndarray  # 0 where the geometry did not change
    lost: np.ndarray
    shift_m: np.ndarray  # lines and points: Hausdorff distance where it was measured, else NaN


def _valid(geoms: np.ndarray) -> np.ndarray:
    filled = np.where(shapely.is_missing(geoms), _EMPTY, geoms)
    invalid = ~shapely.is_valid(filled)
    if invalid.any():
        filled[invalid] = shapely.make_valid(filled[invalid])
    return filled


def compare_geometries(
    old: np.ndarray,
    new: np.ndarray,
    blob_differs: np.ndarray,
    *,
    polygons: bool,
    projector: Projector,
    tolerance: Tolerance,
) -> GeometryChange:
    """Compare matched lon/lat geometries (aligned arrays); `blob_differs` marks the pairs
    whose stored bytes differ, the only ones that can have changed."""
    n = len(new)
    candidate = np.asarray(blob_differs, dtype=bool).copy()
    if candidate.any():
        same = shapely.equals_exact(old[candidate], new[candidate], tolerance=0)
        same &= ~(shapely.is_missing(old[candidate]) ^ shapely.is_missing(new[candidate]))
        candidate[np.flatnonzero(candidate)[same]] = False
    old_m = projector.project(old)
    new_m = projector.project(new)
    zeros = np.zeros(n)
    old_area = areas(old_m) if polygons else zeros
    new_area = areas(new_m) if polygons else zeros.copy()
    changed = np.zeros(n, dtype=bool)
    gained, lost = zeros.copy(), zeros.copy()
    shift = np.full(n, np.nan)
    idx = np.flatnonzero(candidate)
    if len(idx) and polygons:
        a, b = _valid(old_m[idx]), _valid(new_m[idx])
        sym = areas(shapely.symmetric_difference(a, b))
        perimeter = (shapely.length(a) + shapely.length(b)) / 2
        real = (sym > tolerance.area_m2) & (sym > tolerance.shift_m * perimeter)
        net = new_area[idx] - old_area[idx]
        changed[idx] = real
        gained[idx] = np.where(real, np.clip((sym + net) / 2, 0, None), 0.0)
        lost[idx] = np.where(real, np.clip((sym - net) / 2, 0, None), 0.0)
    elif len(idx):
        a, b = old_m[idx], new_m[idx]
        one_missing = shapely.is_missing(a) ^ shapely.is_missing(b)
        distance = np.where(one_missing, np.inf, shapely.hausdorff_distance(_valid(a), _valid(b)))
        shift[idx] = distance
        changed[idx] = distance > tolerance.shift_m
    return GeometryChange(changed, old_area, new_area, gained, lost, shift)
