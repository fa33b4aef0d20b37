"""Read a catalog layer's source file into a GeoDataFrame in EPSG:4326 (lon/lat).

All reading goes through pyogrio. The catalog (:class:`~publish.catalog.LayerSpec`) is the
authority over what the file itself says:

* ``encoding``: passed to pyogrio, which then decodes every string itself and turns GDAL's
  own recoding off (for Shapefiles it sets ``SHAPE_ENCODING=""``), so the catalog's encoding
  wins over a ``.cpg`` file, including one that lies.
* ``crs``: declares the CRS of a source that has none and overrides the one a source has
  (``set_crs(allow_override=True)``: the coordinates are relabelled, never transformed).
* ``crs: GCJ-02``: the coordinates are GCJ-02 longitude/latitude; they are converted to WGS84
  with :func:`publish.crs.gcj02.gcj02_to_wgs84` and labelled EPSG:4326. GCJ-02 is not a CRS
  pyproj knows, so for such a layer :func:`layer_crs` reports EPSG:4326 (the CRS the layer is
  in once the datum offset is removed) and :func:`is_gcj02` tells the two cases apart.

Reprojection uses :meth:`geopandas.GeoDataFrame.to_crs`, which always works in
longitude/latitude (``always_xy``) order, so geographic CRSs whose authority axis order is
latitude first (EPSG:4490, EPSG:4326) come out right.

Every failure (missing or unreadable file, unknown layer, ambiguous multi-layer file, no CRS,
wrong encoding) is raised as :class:`~publish.errors.SourceError` naming the layer id and the
file. Nothing happens at import time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import geopandas as gpd
import pyogrio
import pyogrio.errors
from pyproj import CRS
from pyproj.exceptions import CRSError

from publish.catalog import GCJ02, LayerSpec
from publish.crs.gcj02 import transform_geometry_gcj02_to_wgs84
from publish.errors import NoCrsError, SourceError

__all__ = [
    "OUTPUT_CRS",
    "is_gcj02",
    "iter_batches",
    "layer_crs",
    "missing_fields",
    "read_layer",
    "read_layer_native",
    "source_fields",
]

OUTPUT_CRS = "EPSG:4326"


def is_gcj02(spec: LayerSpec) -> bool:
    """True when the catalog declares the layer's coordinates to be GCJ-02 lon/lat."""
    return spec.crs is not None and spec.crs.strip().upper() == GCJ02


def _where(spec: LayerSpec) -> str:
    return f"layer {spec.id!r} ({spec.source})"


def _declared_crs(spec: LayerSpec) -> CRS | None:
    """The catalog's CRS as a pyproj CRS (EPSG:4326 for GCJ-02), or None if not declared."""
    if not spec.crs:
        return None
    if is_gcj02(spec):
        return CRS.from_user_input(OUTPUT_CRS)
    try:
        return CRS.from_user_input(spec.crs)
    except CRSError as exc:
        raise SourceError(f"{_where(spec)}: catalog crs {spec.crs!r} is not a known CRS") from exc


def _translate(spec: LayerSpec, exc: Exception) -> SourceError:
    """Turn a pyogrio/GDAL/decoding failure into a SourceError that names layer and file."""
    where = _where(spec)
    if isinstance(exc, UnicodeDecodeError):
        used = spec.encoding or "the encoding detected by GDAL (.cpg or UTF-8)"
        return SourceError(
            f"{where}: text attributes cannot be decoded with {used} ({exc.reason}); "
            "set the right 'encoding' (e.g. GBK) in the catalog"
        )
    if isinstance(exc, LookupError):
        return SourceError(f"{where}: unknown encoding {spec.encoding!r}")
    if isinstance(exc, pyogrio.errors.DataLayerError):
        return SourceError(f"{where}: layer {spec.layer!r} cannot be opened ({exc})")
    if isinstance(exc, pyogrio.errors.DataSourceError):
        return SourceError(f"{where}: file cannot be read ({exc})")
    return SourceError(f"{where}: cannot be read ({type(exc).__name__}: {exc})")


def _info(spec: LayerSpec) -> dict[str, Any]:
    """Check the file and layer exist and return pyogrio's layer info."""
    if not spec.source.exists():
        raise SourceError(f"{_where(spec)}: source file does not exist")
    try:
        layers = pyogrio.list_layers(spec.source)
        if spec.layer is None and len(layers) > 1:
            names = ", ".join(str(name) for name in layers[:, 0])
            raise SourceError(
                f"{_where(spec)}: the file holds several layers ({names}); "
                "set 'layer' in the catalog"
            )
        info: dict[str, Any] = pyogrio.read_info(
            spec.source, layer=spec.layer, encoding=spec.encoding
        )
    except SourceError:
        raise
    except Exception as exc:
        raise _translate(spec, exc) from exc
    return info


def _effective_crs(spec: LayerSpec, file_crs: Any) -> CRS:
    declared = _declared_crs(spec)
    if declared is not None:
        return declared
    if file_crs:
        try:
            return CRS.from_user_input(file_crs)
        except CRSError as exc:
            raise SourceError(f"{_where(spec)}: the file's CRS {file_crs!r} is not usable") from exc
    raise NoCrsError(
        f"{_where(spec)}: the source has no CRS and the catalog declares none; "
        "set 'crs' in the catalog (e.g. EPSG:4546)"
    )


def layer_crs(spec: LayerSpec) -> CRS:
    """The layer's effective source CRS: the catalog's ``crs`` if set, else the file's.

    For a GCJ-02 layer this is EPSG:4326 (see :func:`is_gcj02`). Raises SourceError when
    neither the catalog nor the file gives a CRS.
    """
    if spec.crs:
        # Still check the file and layer are there, so the answer is about a readable layer.
        _info(spec)
        return _effective_crs(spec, None)
    return _effective_crs(spec, _info(spec).get("crs"))


def _columns(spec: LayerSpec, info: dict[str, Any], columns: Sequence[str] | None) -> list[str]:
    """The requested columns that exist in the source, in the request's order."""
    if columns is None:
        return [str(name) for name in info["fields"]]
    present = {str(name) for name in info["fields"]}
    return [name for name in columns if name in present]


def _read_native(
    spec: LayerSpec,
    info: dict[str, Any],
    crs: CRS,
    columns: Sequence[str] | None,
    skip_features: int = 0,
    max_features: int | None = None,
) -> gpd.GeoDataFrame:
    try:
        frame = pyogrio.read_dataframe(
            spec.source,
            layer=spec.layer,
            encoding=spec.encoding,
            columns=_columns(spec, info, columns),
            skip_features=skip_features,
            max_features=max_features,
        )
    except Exception as exc:
        raise _translate(spec, exc) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise SourceError(f"{_where(spec)}: the layer has no geometry column")
    frame = frame.set_crs(crs, allow_override=True)
    if is_gcj02(spec) and len(frame):
        frame = frame.set_geometry(
            gpd.GeoSeries(
                transform_geometry_gcj02_to_wgs84(frame.geometry.array),
                index=frame.index,
                crs=crs,
            )
        )
    return frame


def _to_output(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is not None and CRS.from_user_input(frame.crs) == CRS.from_user_input(OUTPUT_CRS):
        return frame.set_crs(OUTPUT_CRS, allow_override=True)
    return frame.to_crs(OUTPUT_CRS)  # geopandas transforms with always_xy (lon, lat) order


def read_layer_native(spec: LayerSpec, columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Read the layer in its effective source CRS (:func:`layer_crs`), before reprojection.

    The catalog's ``crs`` is applied as a label (override, not transform); GCJ-02 coordinates
    are already converted to WGS84 (EPSG:4326). ``columns`` that the source lacks are skipped.
    """
    info = _info(spec)
    return _read_native(spec, info, _effective_crs(spec, info.get("crs")), columns)


def read_layer(spec: LayerSpec, columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Read the layer into a GeoDataFrame in EPSG:4326 (longitude, latitude).

    ``columns`` limits the attributes read (default: all); names the source lacks are skipped
    (see :func:`missing_fields`). Raises SourceError naming the layer id and the file.
    """
    return _to_output(read_layer_native(spec, columns))


def iter_batches(
    spec: LayerSpec, batch_size: int = 50_000, columns: Sequence[str] | None = None
) -> Iterator[gpd.GeoDataFrame]:
    """Yield the layer in EPSG:4326 as consecutive frames of at most ``batch_size`` features.

    Only one batch is held at a time. The index of each batch continues from the previous one,
    so concatenating the batches gives the same index as :func:`read_layer`.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    info = _info(spec)
    crs = _effective_crs(spec, info.get("crs"))
    skip = 0
    while True:
        batch = _read_native(spec, info, crs, columns, skip_features=skip, max_features=batch_size)
        if len(batch) == 0:
            return
        batch.index = batch.index + skip
        yield _to_output(batch)
        skip += len(batch)
        if len(batch) < batch_size:
            return


def source_fields(spec: LayerSpec) -> list[str]:
    """The attribute names the layer's source has (raises SourceError if it cannot be opened)."""
    return [str(name) for name in _info(spec)["fields"]]


def missing_fields(spec: LayerSpec, frame: gpd.GeoDataFrame) -> list[str]:
    """The catalog ``fields`` of the layer that the frame does not have, in catalog order."""
    present = set(frame.columns)
    return [name for name in spec.fields if name not in present]
