"""One layer through the build: read in batches, check, write its feature table and tiles.

A layer's outputs live in the layer cache, one folder per content fingerprint:

    cache/layers/<id>/<fingerprint[:16]>/features.gpkg   the layer's table (EPSG:4326, area_m2)
                                        /tiles.pmtiles   the layer alone, tiled by tippecanoe
                                        /layer.json      stats, the layer's own findings and
                                                         each rule's checked count

A layer of a role with a low-zoom overview (publish.tiles.overview: planning zones, planned land
use, farmland) is tiled with its features from the overview's detail zoom and, below it, the
layer dissolved per code, both in the one tile layer.

The folder is assembled under a temporary name and renamed when complete, so a killed build
never leaves an entry that looks finished. Feature ids are the 1-based row numbers of the source:
the same number is the GeoPackage fid, the MVT feature id and the OGC API item id.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from publish.catalog import POLYGON_ROLES, LayerSpec
from publish.checks.findings import Finding, Severity, make_finding
from publish.checks.layer import LayerChecker, source_error_finding
from publish.errors import BuildError, SourceError
from publish.features.store import AREA_COLUMN, LayerTableWriter
from publish.sources import iter_batches, source_fields
from publish.tiles.inputs import LayerInput, write_geojsonseq
from publish.tiles.job import TippecanoeJob
from publish.tiles.overview import Overview, overview_for, write_overview
from publish.tiles.stack import stack_archives
from publish.tiles.tippecanoe import LOW_ZOOM_DETAIL, LOW_ZOOMS_BELOW

FEATURES = "features.gpkg"
TILES = "tiles.pmtiles"
INFO = "layer.json"
SEQ = "input.geojsonseq"
OVERVIEW_SEQ = "overview.geojsonseq"  # a dense layer's low-zoom overview (publish.tiles.overview)
LOW_TILES = "low.pmtiles"  # the zooms below LOW_ZOOMS_BELOW (publish.tiles.tippecanoe) …
DETAIL_TILES = "detail.pmtiles"  # … and those above, until stacked into TILES

_KIND_BY_TYPE = {0: "point", 4: "point", 1: "line", 5: "line", 3: "polygon", 6: "polygon"}


@dataclass
class LayerOutput:
    """What the rest of the build needs from a layer (fresh or from the cache)."""

    spec: LayerSpec
    fingerprint: str
    folder: Path
    reused: bool
    count: int = 0
    bounds: tuple[float, float, float, float] | None = None
    area_m2: float = 0.0
    geometry: str | None = None
    findings: list[Finding] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    # per layer rule: how many features (or, for a layer-wide rule, layers: 1) it checked;
    # None when unknown (a cache entry written before the counts were kept)
    checked: dict[str, int] | None = None
    # the layer in the working CRS as the build read it (index fid, the table's columns), kept
    # in memory when asked (LayerBuild keep_frame) so the analysis does not read it back
    kept: gpd.GeoDataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def blocked(self) -> bool:
        return any(f.severity is Severity.BLOCKING for f in self.findings)

    @property
    def features_path(self) -> Path:
        return self.folder / FEATURES

    @property
    def tiles_path(self) -> Path:
        return self.folder / TILES

    def to_info(self) -> dict[str, Any]:
        return {
            "id": self.spec.id,
            "fingerprint": self.fingerprint,
            "count": self.count,
            "bounds": list(self.bounds) if self.bounds else None,
            "area_m2": self.area_m2,
            "geometry": self.geometry,
            "fields": self.fields,
            "findings": [f.to_dict() for f in self.findings],
            "checked": self.checked,
        }


def cache_folder(cache: Path, spec: LayerSpec, fingerprint: str) -> Path:
    return cache / "layers" / spec.id / fingerprint[:16]


def load_cached(cache: Path, spec: LayerSpec, fingerprint: str) -> LayerOutput | None:
    """The layer's earlier output for this fingerprint, if complete."""
    folder = cache_folder(cache, spec, fingerprint)
    try:
        info = json.loads((folder / INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("fingerprint") != fingerprint:
        return None
    if not (folder / FEATURES).is_file() or not (folder / TILES).is_file():
        return None
    return LayerOutput(
        spec=spec,
        fingerprint=fingerprint,
        folder=folder,
        reused=True,
        count=int(info["count"]),
        bounds=tuple(info["bounds"]) if info.get("bounds") else None,
        area_m2=float(info["area_m2"]),
        geometry=info.get("geometry"),
        findings=[Finding.from_dict(f) for f in info.get("findings", [])],
        fields=list(info.get("fields", [])),
        checked=_checked(info.get("checked")),
    )


def _checked(value: Any) -> dict[str, int] | None:
    """layer.json's checked counts, None when the entry has none (or not as expected)."""
    if not isinstance(value, dict):
        return None
    try:
        return {str(kind): int(n) for kind, n in value.items()}
    except (TypeError, ValueError):
        return None


def _kind(spec: LayerSpec, frame: gpd.GeoDataFrame) -> str | None:
    if spec.geometry:
        return spec.geometry
    if spec.role in POLYGON_ROLES:
        return "polygon"
    types = shapely.get_type_id(frame.geometry.to_numpy())
    for type_id in types:
        if int(type_id) in _KIND_BY_TYPE:
            return _KIND_BY_TYPE[int(type_id)]
    return None


def _working(
    frame: gpd.GeoDataFrame, projected: np.ndarray, columns: list[str], crs: str
) -> gpd.GeoDataFrame:
    """A checked batch (EPSG:4326) as the analysis reads the layer's table back: index fid,
    the table's columns, geometries in the working CRS — the checker's projected polygons,
    the other geometries projected here."""
    geoms = projected.copy()
    rest = np.flatnonzero(pd.isna(geoms) & ~shapely.is_missing(frame.geometry.array))
    if len(rest):
        others = gpd.GeoSeries(frame.geometry.array[rest], crs=frame.crs).to_crs(crs)
        geoms[rest] = np.asarray(others.array)
    data = {name: frame[name].to_numpy() for name in [*columns, AREA_COLUMN]}
    index = pd.Index(frame["fid"].to_numpy(), name="fid")
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, index=index, crs=crs), index=index)


class LayerBuild:
    """Prepare one layer (read, check, write features and tippecanoe input), then tile it."""

    def __init__(
        self,
        spec: LayerSpec,
        cache: Path,
        fingerprint: str,
        *,
        top_zoom: int,
        crs: str,
        batch_size: int = 50_000,
        keep_input: bool = False,
        keep_frame: bool = False,
    ) -> None:
        self.spec = spec
        self.crs = crs  # the city's working CRS: the checks' areas (and area_m2) are in it
        self.final = cache_folder(cache, spec, fingerprint)
        self.work = self.final.with_name(f"{self.final.name}.tmp-{os.getpid()}")
        self.top_zoom = top_zoom
        self.batch_size = batch_size
        self.keep_input = keep_input  # keep tippecanoe's input (bench/build.py reuses it)
        self.keep_frame = keep_frame  # keep the layer in the working CRS (LayerOutput.kept)
        self.out = LayerOutput(spec, fingerprint, self.work, reused=False)
        self._jobs: list[TippecanoeJob] = []
        self._input: LayerInput | None = None
        self._low: LayerInput | None = None  # the low zooms' own run, when there is one

    def prepare(self, on_batch: Any = None) -> LayerOutput:
        """Stream the source once: check each batch, append it to the feature table and the
        tippecanoe input. Source errors become blocking findings, not exceptions."""
        spec = self.spec
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        checker = LayerChecker(spec, crs=self.crs)
        counts = self.out.checked = {"source_error": 1}  # every layer's source is opened
        wanted = list(dict.fromkeys([*spec.fields, spec.id_field, "MJ", spec.code_field or ""]))
        columns = [c for c in wanted if c]
        writer: LayerTableWriter | None = None
        kept: list[gpd.GeoDataFrame] = []
        try:
            names = set(source_fields(spec))
        except SourceError as exc:
            self.out.findings = [source_error_finding(spec, exc)]
            return self.out
        counts["no_crs"] = 1  # a readable source's CRS: the catalog's or the file's
        present = [f for f in spec.fields if f in names]

        def checked() -> Iterator[gpd.GeoDataFrame]:
            nonlocal writer
            for batch in iter_batches(spec, self.batch_size, columns):
                frame = checker.check_batch(batch)
                frame["fid"] = frame.index.to_numpy() + 1
                if writer is None:
                    self.out.geometry = _kind(spec, frame)
                    writer = LayerTableWriter(
                        self.work / FEATURES,
                        spec.id,
                        present,
                        self.out.geometry or "polygon",
                        indexed=spec.query_indexes,
                    )
                writer.append(frame)
                if self.keep_frame:
                    kept.append(_working(frame, checker.projected, present, self.crs))
                if on_batch is not None:
                    on_batch(len(frame))
                yield frame

        seq = self.work / SEQ
        # a dense layer's features start at its detail zoom; its overview goes below
        overview = overview_for(spec)
        detail = overview.detail_zoom if overview is not None else None
        try:
            written = write_geojsonseq(checked(), seq, present, id_field="fid", minzoom=detail)
        except SourceError as exc:
            self.out.findings = [source_error_finding(spec, exc)]
            counts.update(checker.checked)
            return self.out
        findings = checker.finish()
        counts.update(checker.checked)
        counts["empty_layer"] = 1
        self.out.findings = list(findings)
        if written == 0 and not self.out.blocked:
            self.out.findings.append(
                make_finding(
                    "empty_layer",
                    spec.id,
                    f"layer {spec.id}: the source has no feature with a geometry",
                    f"图层 {spec.id}：数据源中没有带几何的要素",
                )
            )
        self.out.fields = present
        if writer is None:  # an empty layer: an empty table still gets written
            self.out.geometry = spec.geometry or ("polygon" if spec.role in POLYGON_ROLES else None)
            writer = LayerTableWriter(
                self.work / FEATURES,
                spec.id,
                present,
                self.out.geometry or "polygon",
                indexed=spec.query_indexes,
            )
        info = writer.close()
        if written and not self.out.blocked:
            self._low = self._low_zooms(seq, written, overview)
        if kept and not self.out.blocked:
            self.out.kept = (
                gpd.GeoDataFrame(pd.concat(kept), crs=self.crs) if len(kept) > 1 else kept[0]
            )
        self.out.count = int(info.count)
        self.out.bounds = info.bounds if info.count else None
        self.out.area_m2 = float(info.area_m2)
        self._input = LayerInput(
            spec.id,
            seq,
            minzoom=spec.minzoom if self._low is None else self._low.maxzoom + 1,
            maxzoom=self.top_zoom,
            geometry=self.out.geometry,
            features=written,
            description=spec.title_zh,
            complete_zoom=spec.maxzoom,
        )
        return self.out

    def _low_zooms(self, seq: Path, written: int, overview: Overview | None) -> LayerInput | None:
        """The run of the layer's zooms below LOW_ZOOMS_BELOW (its overview's, if it has one),
        or None when the layer's check zoom is below them or its zooms all above."""
        spec = self.spec
        if overview is not None:
            seq = self.work / OVERVIEW_SEQ
            written = write_overview(self.work / FEATURES, seq, spec, overview)
            below = overview.detail_zoom
        elif spec.minzoom < LOW_ZOOMS_BELOW <= spec.maxzoom:
            below = LOW_ZOOMS_BELOW
        else:
            return None
        geometry, title = self.out.geometry, spec.title_zh
        return LayerInput(spec.id, seq, spec.minzoom, below - 1, geometry, written, title)

    def start_tiles(self) -> None:
        if self._input is None or self._input.features == 0:
            return
        if self._low is None:
            self._jobs = [TippecanoeJob([self._input], self.work / TILES, self.spec.id)]
        else:  # two runs, stacked by `finish`: the low zooms at a coarser tile extent
            self._jobs = [
                TippecanoeJob([self._input], self.work / DETAIL_TILES, self.spec.id),
                TippecanoeJob(
                    [self._low],
                    self.work / LOW_TILES,
                    self.spec.id,
                    require_complete=False,  # below the check zoom (an overview has no ids)
                    low_zoom_detail=LOW_ZOOM_DETAIL,
                    base_zoom=self._input.check_zoom,  # the same points as in one run
                ),
            ]
        for job in self._jobs:
            job.start()

    def finish(self) -> LayerOutput:
        """Wait for tippecanoe, check its archive, and move the layer into the cache."""
        for job in self._jobs:
            job.wait()
        if len(self._jobs) > 1:
            parts = [job.out_path for job in self._jobs]
            stack_archives(parts, self.work / TILES)
            for part in parts:
                part.unlink()
        if not self.keep_input:
            (self.work / SEQ).unlink(missing_ok=True)
            (self.work / OVERVIEW_SEQ).unlink(missing_ok=True)
        if not (self.work / TILES).is_file():
            raise BuildError(f"layer {self.spec.id}: no features to tile")
        (self.work / INFO).write_text(
            json.dumps(self.out.to_info(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        if self.final.exists():
            shutil.rmtree(self.final)
        os.rename(self.work, self.final)
        self.out.folder = self.final
        return self.out

    def abandon(self) -> None:
        for job in self._jobs:
            job.kill()
        shutil.rmtree(self.work, ignore_errors=True)
