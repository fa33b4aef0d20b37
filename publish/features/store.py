"""GeoPackages for queries: one layer streamed into its own table, then tables assembled.

:class:`LayerTableWriter` writes one catalog layer, batch by batch, into a single-table
GeoPackage (table = layer id, EPSG:4326 with x = longitude, y = latitude): the feature id
``fid`` as the table's primary key, the catalog fields in catalog order, ``area_m2`` and a
geometry column ``geom`` of one multi type, with an R-tree. :func:`assemble` (from
:mod:`publish.features.assembly`) copies several such tables into the GeoPackage an audience
queries (``public.gpkg``, ``internal.gpkg``).

How the writer works, and why:

* GDAL writes everything (pyogrio), so geometry blobs, column types, metadata rows and the
  R-tree are GDAL's own; nothing here encodes a geometry or builds an index by hand.
* pyogrio cannot append rows with given FIDs: GDAL takes a field named like the FID column as
  the FID only while it creates a table. So each batch is written with one
  ``write_dataframe`` call (first batch: a scratch ``<path>.rows.gpkg``; later ones: a
  ``<path>.part.gpkg``, whose rows are then moved into the scratch table with
  ``INSERT ... SELECT``), all without a spatial index.
* ``close()`` copies the scratch table into the final file in one GDAL session through GDAL's
  Arrow interface (pyogrio ``open_arrow`` → ``write_arrow``, no pyarrow needed): the FID
  column travels as ``fid`` and GDAL keeps it as the FID, and GDAL builds the R-tree in bulk
  at the end of that session. Inserting into an SQLite R-tree entry by entry (what appending
  with an index means) made 1,000,000 polygons take ~39 s instead of ~20 s.
* The fields named ``indexed`` (the catalog's code and name fields and ``indexed_fields``)
  get an SQLite index in the final file, what CQL2 filters and equality queries search; the
  assembly copies it with the rows.
* The first batch fixes the column types; later batches are cast to them (an integer column
  whose later batch holds nulls arrives as floats and goes back to integers; anything in a
  text column is written as text), and a value that cannot be cast raises BuildError.
* The final file is written as ``<path>.tmp.gpkg``, checked (rows, R-tree entries = non-empty
  geometries) and renamed; scratch files are removed, also on failure.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from pyogrio.raw import open_arrow, write_arrow
from pyproj import CRS

from publish.errors import BuildError
from publish.features.assembly import assemble, read_schema, verify_gpkg
from publish.gpkg.schema import (
    connect_for_bulk,
    create_attribute_indexes,
    indexed_geometry_count,
    quote,
    row_count,
)

__all__ = [
    "AREA_COLUMN",
    "FID_COLUMN",
    "GEOMETRY_TYPES",
    "LayerTableInfo",
    "LayerTableWriter",
    "assemble",
    "gdal_fast_writes",
    "verify_gpkg",
]

FID_COLUMN = "fid"
AREA_COLUMN = "area_m2"
GEOMETRY_COLUMN = "geom"  # GDAL's name for the geometry column of a GeoPackage table
STORE_CRS = "EPSG:4326"
# catalog geometry -> the one multi type a table stores, and the shapely type ids it accepts
GEOMETRY_TYPES = {"polygon": "MultiPolygon", "line": "MultiLineString", "point": "MultiPoint"}
_TYPE_IDS = {"polygon": (3, 6), "line": (1, 5), "point": (0, 4)}
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString")
_RESERVED = {FID_COLUMN, AREA_COLUMN, GEOMETRY_COLUMN}
# GDAL's SQLite settings while writing files that are renamed into place only when complete.
_GDAL_FAST = {
    "OGR_SQLITE_SYNCHRONOUS": "OFF",
    "OGR_SQLITE_JOURNAL": "OFF",
    "OGR_SQLITE_CACHE": "256",  # MB
}


@contextmanager
def gdal_fast_writes() -> Iterator[None]:
    """Set GDAL's SQLite options for bulk writing (no fsync, no journal), then restore them."""
    saved = {key: pyogrio.get_gdal_config_option(key) for key in _GDAL_FAST}
    pyogrio.set_gdal_config_options(dict(_GDAL_FAST))
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(saved)


@dataclass(frozen=True)
class LayerTableInfo:
    """What :meth:`LayerTableWriter.close` wrote."""

    path: Path
    table: str
    count: int
    bounds: tuple[float, float, float, float] | None  # minx, miny, maxx, maxy (lon/lat)
    area_m2: float  # sum of area_m2, NaN values left out


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "text"


def _as_text(value: Any) -> str | None:
    """A value for a text column: codes read as floats because of a null lose their '.0'."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


class LayerTableWriter:
    """Stream one layer into its own single-table GeoPackage (see the module docstring).

    ``append`` takes frames in EPSG:4326 holding ``fid`` (integer, unique, the source's 1-based
    row number), every name in ``fields`` and ``area_m2``; other columns are ignored. ``close``
    finishes the file and returns a :class:`LayerTableInfo`. Used as a context manager, an
    exception inside the block removes the unfinished files instead.
    """

    def __init__(
        self,
        path: Path,
        layer_id: str,
        fields: Sequence[str],
        geometry: str,
        indexed: Sequence[str] = (),
    ) -> None:
        if geometry not in GEOMETRY_TYPES:
            raise BuildError(
                f"layer {layer_id!r}: geometry {geometry!r} is not one of "
                f"{', '.join(GEOMETRY_TYPES)}"
            )
        clash = sorted(name for name in fields if name.lower() in _RESERVED)
        if clash:
            raise BuildError(
                f"layer {layer_id!r}: field {clash[0]!r} clashes with a column the store "
                f"adds ({', '.join(sorted(_RESERVED))})"
            )
        if len({name.lower() for name in fields}) != len(fields):
            raise BuildError(f"layer {layer_id!r}: fields repeat a name (SQLite ignores case)")
        self.path = Path(path)
        self.layer_id = layer_id
        self.fields = tuple(fields)
        self.geometry = geometry
        self.indexed = tuple(name for name in indexed if name in self.fields)
        self._columns = (FID_COLUMN, *self.fields, AREA_COLUMN)
        self._rows = self.path.with_name(self.path.name + ".rows.gpkg")
        self._part = self.path.with_name(self.path.name + ".part.gpkg")
        self._final = self.path.with_name(self.path.name + ".tmp.gpkg")
        self._kinds: dict[str, str] | None = None  # fixed by the first batch
        self._count = 0
        self._indexed = 0  # rows with a non-empty geometry: what the R-tree must hold
        self._area = 0.0
        self._bounds = [math.inf, math.inf, -math.inf, -math.inf]
        self._closed = False

    def __enter__(self) -> LayerTableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()

    def _where(self) -> str:
        return f"layer {self.layer_id!r} ({self.path})"

    # -- writing ---------------------------------------------------------------------------

    def append(self, frame: gpd.GeoDataFrame) -> None:
        """Add one batch. Raises BuildError on a wrong CRS, a missing column, a geometry of
        another type, a bad or repeated fid, or a value that does not fit its column."""
        if self._closed:
            raise BuildError(f"{self._where()}: append() after close() or abort()")
        out = self._prepare(frame)
        if len(out) == 0:
            return
        try:
            if self._kinds is None:
                self._scratch_cleanup()
                self._write(out, self._rows)
                self._kinds = {name: _kind(out[name]) for name in self._columns}
            else:
                self._write(out, self._part)
                self._merge_part()
        except (pyogrio.errors.DataSourceError, pyogrio.errors.FieldError, OSError) as exc:
            raise BuildError(f"{self._where()}: GDAL could not write a batch ({exc})") from exc
        finally:
            self._part.unlink(missing_ok=True)
        geoms = np.asarray(out.geometry.array, dtype=object)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        self._count += len(out)
        self._indexed += int(np.count_nonzero(present))
        self._area += float(np.nansum(out[AREA_COLUMN].to_numpy(dtype="float64")))
        if present.any():
            minx, miny, maxx, maxy = shapely.total_bounds(geoms)
            self._bounds = [
                min(self._bounds[0], minx),
                min(self._bounds[1], miny),
                max(self._bounds[2], maxx),
                max(self._bounds[3], maxy),
            ]

    def _prepare(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The batch as the table stores it: fid, fields, area_m2, geometry; checked."""
        where = self._where()
        if not isinstance(frame, gpd.GeoDataFrame):
            raise BuildError(f"{where}: expected a GeoDataFrame, got {type(frame).__name__}")
        if frame.crs is None or CRS.from_user_input(frame.crs) != CRS.from_user_input(STORE_CRS):
            raise BuildError(f"{where}: frames must be in {STORE_CRS}, got {frame.crs}")
        missing = [name for name in self._columns if name not in frame.columns]
        if missing:
            raise BuildError(f"{where}: the frame lacks column(s) {', '.join(missing)}")
        fid = frame[FID_COLUMN]
        if not pd.api.types.is_integer_dtype(fid.dtype) or bool(fid.isna().any()):
            raise BuildError(f"{where}: 'fid' must be integers without nulls, got {fid.dtype}")
        if len(fid) and (int(fid.min()) < 1 or not fid.is_unique):
            raise BuildError(f"{where}: 'fid' must be unique integers from 1")
        geoms = np.asarray(frame.geometry.array, dtype=object)
        types = shapely.get_type_id(geoms)
        empty = shapely.is_empty(geoms)
        accepted = np.isin(types, _TYPE_IDS[self.geometry])
        wrong = (types >= 0) & ~empty & ~accepted
        if wrong.any():
            first = int(np.flatnonzero(wrong)[0])
            type_id = int(types[first])
            name = _TYPE_NAMES[type_id] if type_id < len(_TYPE_NAMES) else "GeometryCollection"
            raise BuildError(
                f"{where}: {int(wrong.sum())} geometries are not {self.geometry}s "
                f"(first: a {name}, fid {int(fid.iloc[first])})"
            )
        # an empty geometry of another type (GEOMETRYCOLLECTION EMPTY) is stored as NULL
        foreign_empty = empty & ~accepted
        if foreign_empty.any():
            geoms = geoms.copy()  # the caller's frame stays as it was
            geoms[foreign_empty] = None
        data = {name: self._conform(name, frame[name]) for name in self._columns}
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=STORE_CRS), crs=STORE_CRS)

    def _conform(self, name: str, series: pd.Series) -> pd.Series:
        """Cast a column to the type the first batch gave the table (area_m2: float)."""
        series = series.reset_index(drop=True)
        if name == AREA_COLUMN:
            try:
                return series.astype("float64")
            except (TypeError, ValueError) as exc:
                raise BuildError(f"{self._where()}: 'area_m2' must be numbers ({exc})") from exc
        if self._kinds is None:
            return series
        want, have = self._kinds[name], _kind(series)
        if want == have:
            return series
        try:
            if have == "text" and bool(series.isna().all()):  # all null: any type will do
                return series.astype({"int": "Int64", "float": "float64"}.get(want, object))
            if want == "int" and have in ("float", "bool"):
                values = series.to_numpy(dtype="float64", na_value=np.nan)
                finite = values[~np.isnan(values)]
                if (finite != np.round(finite)).any():
                    raise ValueError("it has fractions")
                return series.astype("Int64")
            if want == "float" and have in ("int", "bool"):
                return series.astype("float64")
            if want == "text":
                return series.map(_as_text).astype(object)
        except (TypeError, ValueError) as exc:
            raise BuildError(
                f"{self._where()}: column {name!r} holds {have} values that do not fit the "
                f"{want} column the first batch made ({exc})"
            ) from exc
        raise BuildError(
            f"{self._where()}: column {name!r} holds {have} values where the first batch "
            f"made it {want}"
        )

    def _write(self, frame: gpd.GeoDataFrame, path: Path) -> None:
        with gdal_fast_writes():
            pyogrio.write_dataframe(
                frame,
                path,
                layer=self.layer_id,
                driver="GPKG",
                geometry_type=GEOMETRY_TYPES[self.geometry],
                promote_to_multi=True,
                layer_options={"SPATIAL_INDEX": "NO"},
            )

    def _merge_part(self) -> None:
        """Move the part file's rows into the scratch table (page copy, no triggers)."""
        conn = connect_for_bulk(self._rows)
        try:
            conn.execute("ATTACH DATABASE ? AS part", (str(self._part),))
            target = read_schema(conn, self.layer_id)
            source = read_schema(conn, self.layer_id, "part")
            if [c.lower() for c in target.columns] != [c.lower() for c in source.columns]:
                raise BuildError(
                    f"{self._where()}: a batch was written with columns {source.columns}, "
                    f"the first with {target.columns}"
                )
            table = quote(target.name)
            conn.execute("BEGIN")
            for trigger, _ in target.triggers:  # GDAL's feature count: set once below
                conn.execute(f"DROP TRIGGER main.{quote(trigger)}")
            conn.execute(f"INSERT INTO main.{table} SELECT * FROM part.{table}")
            conn.execute(
                "UPDATE gpkg_ogr_contents SET feature_count = "
                f"(SELECT count(*) FROM main.{table}) WHERE lower(table_name) = lower(?)",
                (target.name,),
            )
            conn.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            raise BuildError(f"{self._where()}: a fid repeats one already written ({exc})") from exc
        finally:
            conn.close()

    # -- finishing -------------------------------------------------------------------------

    def close(self) -> LayerTableInfo:
        """Copy the scratch table into the final GeoPackage (GDAL builds the R-tree), check
        it, and rename it to ``path``. Returns count, bounds and total area."""
        if self._closed:
            raise BuildError(f"{self._where()}: close() after close() or abort()")
        try:
            if self._kinds is None:  # nothing appended: an empty table with the columns
                self._scratch_cleanup()
                self._write(self._empty_frame(), self._rows)
            self._final.unlink(missing_ok=True)
            with (
                gdal_fast_writes(),
                open_arrow(
                    self._rows, layer=self.layer_id, return_fids=True, use_pyarrow=False
                ) as (meta, reader),
            ):
                write_arrow(
                    reader,
                    self._final,
                    layer=self.layer_id,
                    driver="GPKG",
                    geometry_name=meta["geometry_name"],
                    geometry_type=GEOMETRY_TYPES[self.geometry],
                    crs=STORE_CRS,
                    layer_options={"SPATIAL_INDEX": "YES"},
                )
            self._check_final()
            self._index_final()
            os.replace(self._final, self.path)
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            self.abort()
            raise BuildError(f"{self._where()}: GDAL could not write the table ({exc})") from exc
        except BaseException:
            self.abort()
            raise
        self._closed = True
        self._scratch_cleanup()
        bounds = None
        if not math.isinf(self._bounds[0]):
            minx, miny, maxx, maxy = (float(v) for v in self._bounds)
            bounds = (minx, miny, maxx, maxy)
        return LayerTableInfo(
            path=self.path,
            table=self.layer_id,
            count=self._count,
            bounds=bounds,
            area_m2=self._area,
        )

    def abort(self) -> None:
        """Give up: remove the unfinished files (a previous file at ``path`` is kept)."""
        self._closed = True
        self._scratch_cleanup()
        self._final.unlink(missing_ok=True)

    def _scratch_cleanup(self) -> None:
        self._rows.unlink(missing_ok=True)
        self._part.unlink(missing_ok=True)

    def _empty_frame(self) -> gpd.GeoDataFrame:
        data: dict[str, Any] = {FID_COLUMN: pd.Series([], dtype="int64")}
        data.update({name: pd.Series([], dtype=object) for name in self.fields})
        data[AREA_COLUMN] = pd.Series([], dtype="float64")
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=STORE_CRS), crs=STORE_CRS)

    def _index_final(self) -> None:
        if not self.indexed:
            return
        conn = connect_for_bulk(self._final)
        try:
            conn.execute("BEGIN")
            create_attribute_indexes(conn, self.layer_id, self.indexed)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _check_final(self) -> None:
        conn = sqlite3.connect(self._final)
        try:
            schema = read_schema(conn, self.layer_id)
            rows = row_count(conn, schema.name)
            if rows != self._count:
                raise BuildError(f"{self._where()}: wrote {self._count} rows, the table has {rows}")
            if schema.rtree is None or schema.geometry_column is None:
                raise BuildError(f"{self._where()}: GDAL wrote no R-tree spatial index")
            entries = row_count(conn, schema.rtree)
            indexed = indexed_geometry_count(conn, schema.name, schema.geometry_column)
            if not entries == indexed == self._indexed:
                raise BuildError(
                    f"{self._where()}: the R-tree holds {entries} entries for {indexed} "
                    f"non-empty geometries ({self._indexed} written)"
                )
        finally:
            conn.close()
