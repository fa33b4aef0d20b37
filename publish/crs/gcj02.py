"""GCJ-02 ("Mars coordinates") ⇄ WGS84 / CGCS2000 conversion, vectorised with numpy.

GCJ-02 (国测局坐标, "火星坐标") is the obfuscated datum that Chinese regulations require of
consumer web maps: AMap (高德), Tencent maps and DataV boundary downloads publish longitude /
latitude in GCJ-02, not in WGS84. It is WGS84 plus a deliberately irregular, non-linear offset
(polynomials plus sines of longitude and latitude), of the order of **a few hundred metres**
(in Zhangjiajie a GCJ-02 position lies about 480 m east and 316 m south of the WGS84 one).
Overlaying GCJ-02 data on WGS84 or CGCS2000 data without conversion therefore misplaces it by
a city block or more. WGS84 and CGCS2000 agree to a few centimetres, far below anything this
module resolves, so "WGS84" here stands for both.

The forward transform (WGS84 → GCJ-02) used here is the widely published reconstruction
(eviltransform, coordtransform: Krasovsky semi-major axis ``a = 6378245.0``,
``ee = 0.00669342162296594323``); it reproduces those projects' published test vectors
exactly. It applies only inside a rough bounding box of China; outside it, coordinates are
returned unchanged.

There is no closed-form inverse. The usual one-step approximation (``w = 2g - f(g)``) leaves
errors of one to a few metres. :func:`gcj02_to_wgs84` instead solves ``f(w) = g`` by
fixed-point iteration, which converges quickly because the offset varies slowly (its
derivative is of order 1e-3); the default tolerance of 1e-7 degrees is about 1 cm.

No I/O happens here; everything is pure functions of numpy arrays or Python floats.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt
import shapely

__all__ = [
    "gcj02_to_wgs84",
    "out_of_china",
    "transform_geometry_gcj02_to_wgs84",
    "wgs84_to_gcj02",
]

FloatArray = npt.NDArray[np.float64]

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as used by the GCJ-02 reconstruction
_EE = 0.00669342162296594323  # Krasovsky first eccentricity squared

# Rough bounding box of China inside which the offset is applied (lon_min, lon_max, lat_min,
# lat_max), identical to the one in eviltransform / coordtransform.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271


def _is_scalar(lon: npt.ArrayLike, lat: npt.ArrayLike) -> bool:
    """True when both inputs are plain scalars (Python/numpy numbers), not arrays."""
    return (
        not isinstance(lon, np.ndarray)
        and not isinstance(lat, np.ndarray)
        and np.ndim(lon) == 0
        and np.ndim(lat) == 0
    )


def _as_float_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Broadcast the inputs against each other as float64 arrays (copies, never views)."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Boolean mask of points outside the rough China box, where GCJ-02 equals WGS84."""
    x, y = _as_float_arrays(lon, lat)
    return (x < _LON_MIN) | (x > _LON_MAX) | (y < _LAT_MIN) | (y > _LAT_MAX)


def _offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS84, in degrees, at WGS84 point(s) ``(lon, lat)``; no China-box test."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0

    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lat += common
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0

    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    d_lon += common
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0

    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """Convert WGS84 longitude/latitude (degrees) to GCJ-02.

    Accepts Python floats (returns floats) or array-likes of any broadcastable shape (returns
    float64 arrays of the broadcast shape). Points outside the China box are returned unchanged.
    """
    x, y = _as_float_arrays(lon, lat)
    d_lon, d_lat = _offset(x, y)
    outside = out_of_china(x, y)
    gx = np.where(outside, x, x + d_lon)
    gy = np.where(outside, y, y + d_lat)
    if _is_scalar(lon, lat):
        return float(gx), float(gy)
    return gx, gy


@overload
def gcj02_to_wgs84(
    lon: float, lat: float, tol: float = ..., max_iter: int = ...
) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, tol: float = ..., max_iter: int = ...
) -> tuple[FloatArray, FloatArray]: ...
def gcj02_to_wgs84(lon: Any, lat: Any, tol: float = 1e-7, max_iter: int = 30) -> tuple[Any, Any]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS84 by exact (iterative) inversion.

    Solves ``wgs84_to_gcj02(w) == g`` by the fixed-point iteration
    ``w ← w − (f(w) − g)`` starting from ``w = g`` (so the first step is the classic one-step
    approximation ``2g − f(g)``). Iteration stops once the largest residual ``|f(w) − g|`` over
    all finite points, in degrees, is below ``tol``; the step just computed is still applied,
    so the returned points are even closer (the error shrinks ~100-1000x per step).

    Points whose GCJ-02 coordinates are outside the China box are returned unchanged, as the
    forward transform leaves them unchanged. Inside the box the offset formula is inverted
    without re-testing the box, so points within a few hundred metres of its edge still
    converge. NaN inputs give NaN outputs and do not affect convergence.

    Accepts Python floats (returns floats) or array-likes of any broadcastable shape (returns
    float64 arrays of the broadcast shape).

    Raises:
        ValueError: if ``tol`` is not positive or ``max_iter`` is below 1.
        RuntimeError: if the iteration has not converged after ``max_iter`` steps (only
            conceivable for a ``tol`` near machine precision).
    """
    if not tol > 0.0:
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")

    gx, gy = _as_float_arrays(lon, lat)
    inside = ~out_of_china(gx, gy) & np.isfinite(gx) & np.isfinite(gy)
    g_lon = gx[inside]
    g_lat = gy[inside]
    w_lon = g_lon.copy()
    w_lat = g_lat.copy()

    converged = g_lon.size == 0
    for _ in range(max_iter):
        if converged:
            break
        d_lon, d_lat = _offset(w_lon, w_lat)
        r_lon = w_lon + d_lon - g_lon
        r_lat = w_lat + d_lat - g_lat
        w_lon -= r_lon
        w_lat -= r_lat
        converged = max(float(np.max(np.abs(r_lon))), float(np.max(np.abs(r_lat)))) < tol
    if not converged:
        raise RuntimeError(
            f"GCJ-02 → WGS84 inversion did not reach tol={tol!r} in {max_iter} iterations"
        )

    wx = gx.copy()
    wy = gy.copy()
    wx[inside] = w_lon
    wy[inside] = w_lat
    if _is_scalar(lon, lat):
        return float(wx), float(wy)
    return wx, wy


def _gcj02_to_wgs84_coords(coords: FloatArray, tol: float, max_iter: int) -> FloatArray:
    """Shapely transformation callback: convert columns 0-1 of an (N, 2|3) array, keep z."""
    out = np.array(coords, dtype=np.float64, copy=True)
    out[:, 0], out[:, 1] = gcj02_to_wgs84(coords[:, 0], coords[:, 1], tol=tol, max_iter=max_iter)
    return out


def transform_geometry_gcj02_to_wgs84(geom: Any, *, tol: float = 1e-7, max_iter: int = 30) -> Any:
    """Convert a shapely geometry (or array of geometries) from GCJ-02 to WGS84.

    Uses :func:`shapely.transform`, so all coordinates are converted in one vectorised call;
    the structure (parts, rings, vertex counts) is unchanged and Z values, if present, are
    kept. The offset is smooth and nearly constant over a few metres, so valid polygons stay
    valid except in degenerate cases (rings touching within ~1e-9 degrees).
    """
    return shapely.transform(
        geom,
        lambda coords: _gcj02_to_wgs84_coords(coords, tol, max_iter),
        include_z=None,
    )
