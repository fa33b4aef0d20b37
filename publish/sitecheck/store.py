"""A release's features GeoPackage as the site check reads it: layers by role, R-tree candidates.

`SiteStore(gpkg_path, catalog_layers)` keeps only the catalog layers whose table is in the file, so
the public GeoPackage never yields an internal layer. Candidates come from the table's R-tree by a
lon/lat box and are returned projected to EPSG:4546 for exact computation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from publish.catalog import LayerSpec, load_catalog
from publish.features.gpkg import quote
from publish.ogc.geometry import from_blobs
from publish.ogc.geopackage import GeoPackage, GeoPackageError, open_geopackage
from publish.sitecheck.inputs import WORK_CRS, project

Bbox = tuple[float, float, float, float]


@dataclass
class Candidates:
    """Features of one layer whose envelope meets a box: ids, attributes, EPSG:4546 geometries."""

    spec: LayerSpec
    ids: list[int]
    bsm: list[Any]
    names: list[Any]
    codes: list[Any]
    geometries: np.ndarray


def _name_column(spec: LayerSpec, columns: Iterable[str]) -> str | None:
    """The layer's name field, else the code field's 名称 twin (GHFQDM → GHFQMC, DLBM → DLMC)."""
    present = set(columns)
    if spec.name_field and spec.name_field in present:
        return spec.name_field
    code = spec.code_field
    if code and code[-2:] in ("DM", "BM") and code[:-2] + "MC" in present:
        return code[:-2] + "MC"
    return None


class SiteStore:
    """One audience's features GeoPackage, read-only, with the catalog layers it holds."""

    def __init__(self, gpkg_path: str | Path, catalog_layers: Iterable[LayerSpec]) -> None:
        self.gpkg: GeoPackage = open_geopackage(gpkg_path)
        present = {
            str(row[0])
            for row in self.gpkg.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'"
            )
        }
        self.layers: tuple[LayerSpec, ...] = tuple(s for s in catalog_layers if s.id in present)

    def __repr__(self) -> str:
        return f"<SiteStore {str(self.gpkg.path)!r} {[s.id for s in self.layers]}>"

    def by_role(self, role: str) -> tuple[LayerSpec, ...]:
        return tuple(s for s in self.layers if s.role == role)

    def candidates(self, spec: LayerSpec, bbox: Bbox) -> Candidates:
        """Features of `spec` whose R-tree envelope meets `bbox` (lon/lat), in EPSG:4546."""
        table = self.gpkg.table(spec.id)
        if table.rtree is None:
            raise GeoPackageError(f"{self.gpkg.path}: {spec.id} has no spatial index")
        wanted: list[str | None] = [
            spec.id_field if spec.id_field in table.columns else None,
            _name_column(spec, table.columns),
            spec.code_field if spec.code_field in table.columns else None,
        ]
        select = ", ".join(["t." + quote(c) if c else "NULL" for c in wanted])
        minx, miny, maxx, maxy = bbox
        rows: Sequence[Any] = self.gpkg.execute(
            f"SELECT t.{quote(table.id_column)}, {select}, t.{quote(table.geometry)} "
            f"FROM {quote(table.rtree)} AS r CROSS JOIN {quote(table.name)} AS t "
            f"ON t.{quote(table.id_column)} = r.id "
            "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?",
            [minx, maxx, miny, maxy],
        )
        geometries = from_blobs([row[4] for row in rows])
        if len(geometries):
            geometries = np.asarray(project(geometries, "EPSG:4326", WORK_CRS), dtype=object)
        return Candidates(
            spec=spec,
            ids=[int(row[0]) for row in rows],
            bsm=[row[1] for row in rows],
            names=[row[2] for row in rows],
            codes=[row[3] for row in rows],
            geometries=geometries,
        )


def open_site_store(gpkg_path: str | Path, catalog_path: str | Path) -> SiteStore:
    """The store of `gpkg_path` with the layers of the release catalog at `catalog_path`."""
    return SiteStore(gpkg_path, load_catalog(catalog_path).layers)
