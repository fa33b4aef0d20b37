"""A release's features GeoPackage as the site check reads it: layers by role, candidates.

`SiteStore(gpkg_path, catalog_layers, crs)` keeps only the catalog layers whose table is in the
file, so the public GeoPackage never yields an internal layer. `crs` is the city's working CRS,
which `open_site_store` reads from the release's catalog. Candidates are the features whose
envelope meets a query area (in the working CRS), returned in the working CRS for exact
computation, from one of two places:

- resident layers — every layer of at most `resident_features` features (control lines, zones,
  admin units, roads, rivers, villages: thousands, not millions) is read once, projected, prepared
  and indexed in memory (a shapely STRtree) on first use;
- larger layers (the land-survey parcels) are read per request from the table's R-tree by the
  area's lon/lat box and projected then.

Prepared resident geometries make the check's "does this feature contain the whole site?" test
cheap, which spares the overlay of a small site with a large polygon.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from publish.catalog import LayerSpec, load_catalog
from publish.gpkg.geometry import from_blobs
from publish.gpkg.reader import Bbox, GeoPackage, open_geopackage
from publish.sitecheck.inputs import project, transformer

RESIDENT_FEATURES = 200_000  # layers up to this size are held in memory, projected and indexed


@dataclass
class Candidates:
    """Features of one layer whose envelope meets an area: ids, attributes, geometries in the
    working CRS (prepared when the layer is resident)."""

    spec: LayerSpec
    ids: list[int]
    bsm: list[Any]
    names: list[Any]
    codes: list[Any]
    geometries: np.ndarray

    def take(self, index: np.ndarray) -> Candidates:
        return Candidates(
            spec=self.spec,
            ids=[self.ids[i] for i in index],
            bsm=[self.bsm[i] for i in index],
            names=[self.names[i] for i in index],
            codes=[self.codes[i] for i in index],
            geometries=self.geometries[index],
        )


@dataclass
class _Resident:
    """A whole layer in memory: its candidates and an STRtree over their geometries."""

    everything: Candidates
    tree: shapely.STRtree


def lonlat_bbox(area: BaseGeometry, crs: str) -> Bbox:
    """The lon/lat box of a geometry in `crs` (edges densified, so it holds the geometry)."""
    minx, miny, maxx, maxy = area.bounds
    bounds = transformer(crs, "EPSG:4326").transform_bounds(minx, miny, maxx, maxy)
    return (bounds[0], bounds[1], bounds[2], bounds[3])


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

    def __init__(
        self,
        gpkg_path: str | Path,
        catalog_layers: Iterable[LayerSpec],
        *,
        crs: str,
        resident_features: int = RESIDENT_FEATURES,
    ) -> None:
        self.gpkg: GeoPackage = open_geopackage(gpkg_path)
        self.crs = crs  # the city's working CRS: sites, candidates and areas are in it
        present = self.gpkg.feature_tables()
        self.layers: tuple[LayerSpec, ...] = tuple(s for s in catalog_layers if s.id in present)
        self.resident_features = resident_features
        self._resident: dict[str, _Resident | None] = {}
        self._lock = threading.Lock()
        # GEOS prepared geometries build their indexes lazily on first use and are not safe to
        # use from two threads at once (two concurrent site checks crashed the server with a
        # segfault in shapely.intersects): one check at a time uses the resident layers.
        self.check_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SiteStore {str(self.gpkg.path)!r} {[s.id for s in self.layers]}>"

    def by_role(self, role: str) -> tuple[LayerSpec, ...]:
        return tuple(s for s in self.layers if s.role == role)

    def candidates(self, spec: LayerSpec, area: BaseGeometry) -> Candidates:
        """Features of `spec` whose envelope meets the envelope of `area` (working CRS)."""
        resident = self._resident_layer(spec)
        if resident is not None:
            return resident.everything.take(np.sort(resident.tree.query(shapely.box(*area.bounds))))
        return self._read(spec, lonlat_bbox(area, self.crs))

    def _resident_layer(self, spec: LayerSpec) -> _Resident | None:
        """The layer in memory when it is small enough (loaded on first use), else None."""
        try:
            return self._resident[spec.id]
        except KeyError:
            pass
        with self._lock:
            if spec.id not in self._resident:
                count = self.gpkg.count_in_box(spec.id, None)
                resident = None
                if count <= self.resident_features:
                    everything = self._read(spec, None)
                    shapely.prepare(everything.geometries)
                    resident = _Resident(everything, shapely.STRtree(everything.geometries))
                self._resident[spec.id] = resident
            return self._resident[spec.id]

    def _read(self, spec: LayerSpec, bbox: Bbox | None) -> Candidates:
        """Features of `spec` from the GeoPackage — those whose R-tree envelope meets `bbox`
        (lon/lat), or all of them — in the working CRS."""
        table = self.gpkg.table(spec.id)
        wanted: list[str | None] = [
            spec.id_field if spec.id_field in table.columns else None,
            _name_column(spec, table.columns),
            spec.code_field if spec.code_field in table.columns else None,
        ]
        rows = self.gpkg.rows_in_box(spec.id, wanted, bbox)
        geometries = from_blobs([row[4] for row in rows])
        if len(geometries):
            geometries = np.asarray(project(geometries, "EPSG:4326", self.crs), dtype=object)
        return Candidates(
            spec=spec,
            ids=[int(row[0]) for row in rows],
            bsm=[row[1] for row in rows],
            names=[row[2] for row in rows],
            codes=[row[3] for row in rows],
            geometries=geometries,
        )


def open_site_store(gpkg_path: str | Path, catalog_path: str | Path) -> SiteStore:
    """The store of `gpkg_path` with the layers and the working CRS of the release catalog at
    `catalog_path`."""
    catalog = load_catalog(catalog_path)
    return SiteStore(gpkg_path, catalog.layers, crs=catalog.crs)
