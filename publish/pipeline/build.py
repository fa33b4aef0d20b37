"""The build: catalog → checks → tiles and features → release.

The catalog is read once: the release's catalog.yml, the release id's content hash and the
manifest all come from the loaded `Catalog`, so the release holds what was checked. Areas (the
checks, the indicators) are measured in the catalog's working CRS (`city.crs`).

layers   each layer is read once, in batches: checked, written to its feature table and
         to tippecanoe's input; tippecanoe then tiles it in the background while the
         next layer is read. Unchanged layers come from the layer cache instead. The
         layers the analysis reads (cross checks, indicators, the model, conflicts) are
         kept in the working CRS as they are read, not read back from their tables; a
         large layer the model reads is tested for overlaps (coverage) in a thread while
         the next layers are read.
review   cross-layer checks (control lines, zone coverage); any blocking finding stops the
         build here: the report goes to a new DIR/reports/<time>-<random>/, nothing is
         published (exit status 3).
release  the audiences' archives are joined from the layers' archives, their GeoPackages
         assembled from the layers' tables; indicators, pygeoapi configs, styles, the
         review report and manifest.json are written into DIR/.staging/<id>/ (an extra
         tile layer made by an output, the conflicts, is tiled in the background while
         the next outputs are written), which is
         then renamed to DIR/releases/<id>/ and made `current` atomically.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import pyogrio

from publish.catalog import CONTROL_LINE_ROLES, Catalog, LayerSpec, load_catalog
from publish.checks.cross import (
    ZONE_KINDS,
    check_control_lines,
    check_zone_coverage,
    measure_control_lines,
)
from publish.checks.findings import Finding, Review
from publish.checks.rules import rule_versions
from publish.domain import AUDIENCES, REPORTS_FOLDER
from publish.errors import BuildError, ReviewFailedError
from publish.features.indicators import county_layer
from publish.indicators.compute import COVERAGE_TEST_FROM, is_coverage
from publish.indicators.model import load_model
from publish.ogc.config import load_server_config
from publish.pipeline.fingerprint import layer_fingerprint, tool_versions
from publish.pipeline.layer import LayerBuild, LayerOutput, load_cached
from publish.pipeline.progress import Reporter
from publish.release.manifest import read_manifest, write_manifest
from publish.release.output import LayerResult, ReleaseJob
from publish.release.outputs import RELEASE_OUTPUTS
from publish.release.outputs.tiles import discard_extra_tiles, start_extra_tiles
from publish.release.store import ReleaseStore, new_release_id
from publish.resources import resource_path
from publish.review.inputs import ReportInputs
from publish.review.report import new_report_folder, write_report
from publish.review.terminal import first_blocking, summary_lines, summary_renderable
from publish.styles.symbols import load_symbols

T = TypeVar("T")


@dataclass(frozen=True)
class BuildOptions:
    catalog: Path
    out: Path
    only: tuple[str, ...] = ()
    keep: int | None = None
    server_config: Path | None = None  # pygeoapi server metadata (None: the package's)
    styles_dir: Path | None = None  # the style symbols (None: the package's styles/)
    batch_size: int = 50_000
    keep_inputs: bool = False  # keep each layer's tippecanoe input in the layer cache
    note: str | None = None  # why the release was made (release list, /releases)
    author: str | None = None


@dataclass(frozen=True)
class BuildResult:
    release_id: str
    path: Path
    rebuilt: tuple[str, ...]
    reused: tuple[str, ...]
    review: Review


def _now() -> datetime:
    return datetime.now(UTC)


def _top_zoom(catalog: Catalog) -> int:
    return max(spec.maxzoom for spec in catalog.layers)


def _source_size(spec: LayerSpec) -> int:
    try:
        return spec.source.stat().st_size
    except OSError:
        return 0


def _read_in(output: LayerResult, crs: str) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(output.features_path, layer=output.spec.id, fid_as_index=True)
    return frame.to_crs(crs)


class Build:
    def __init__(self, options: BuildOptions, reporter: Reporter | None = None) -> None:
        self.options = options
        self.report = reporter or Reporter()
        self.out = Path(options.out)
        self.cache = self.out / "cache"
        self.store = ReleaseStore(self.out)
        self.catalog = load_catalog(options.catalog)
        self.catalog_text = self.catalog.document_text()  # the release's catalog.yml
        self.model = load_model(self.catalog)  # the indicator model: ModelError before any work
        for layer_id in options.only:
            self.catalog.layer(layer_id)  # CatalogError for an unknown id
        self.server = load_server_config(
            options.server_config or resource_path("config/pygeoapi.yml")
        )
        load_symbols(options.styles_dir)  # a bad symbol file stops the build before any work
        self.versions = tool_versions()
        self.top_zoom = _top_zoom(self.catalog)
        self._frames: dict[tuple[str, str], gpd.GeoDataFrame] = {}
        self._indicator_cache: dict[Any, dict[str, Any]] = {}
        # the model's large layers' coverage tests, run in a thread of their own as soon as a
        # layer is read (GEOS leaves the GIL: it overlaps the reading of the next layers)
        self._tests: ThreadPoolExecutor | None = None
        self._coverage: dict[str, Future[tuple[bool, float]]] = {}
        # what the cross checks measured, for the report (publish.review.inventory)
        self._cross: dict[str, Any] = {}

    # -- layers ----------------------------------------------------------------------------------

    def _previous_fingerprints(self) -> dict[str, str]:
        current = self.store.current_path()
        if current is None:
            return {}
        try:
            doc = read_manifest(current)
        except Exception:
            return {}
        return {lid: entry["fingerprint"] for lid, entry in doc.get("layers", {}).items()}

    def _plan(self) -> tuple[list[LayerOutput], list[tuple[LayerSpec, str]]]:
        """Layers reused from the cache, and layers to build with their fingerprints."""
        previous = self._previous_fingerprints() if self.options.only else {}
        reused: list[LayerOutput] = []
        fresh: list[tuple[LayerSpec, str]] = []
        for spec in self.catalog.layers:
            fingerprint = layer_fingerprint(
                spec, top_zoom=self.top_zoom, versions=self.versions, crs=self.catalog.crs
            )
            if self.options.only and spec.id not in self.options.only:
                # --only: every other layer stays as the current release published it.
                kept = previous.get(spec.id)
                cached = load_cached(self.cache, spec, kept) if kept else None
                if cached is None:
                    cached = load_cached(self.cache, spec, fingerprint)
                if cached is None:
                    raise BuildError(
                        f"--only: layer {spec.id} has no earlier build output to reuse; "
                        "run a full build first"
                    )
                reused.append(cached)
                continue
            # --only ID always reads the layer again, even when its cache entry matches
            cached = (
                None if spec.id in self.options.only else load_cached(self.cache, spec, fingerprint)
            )
            if cached is not None:
                reused.append(cached)
            else:
                fresh.append((spec, fingerprint))
        return reused, fresh

    def _model_layers(self) -> set[str]:
        """The layers the indicator model's formulas read."""
        return {lid for i in self.model.indicators for lid in i.layers} if self.model else set()

    def _analysed(self) -> set[str]:
        """The layers the cross checks, indicators, model and conflicts read in the working CRS:
        kept in memory from their first read (LayerOutput.kept), not read back."""
        roles = {*CONTROL_LINE_ROLES, "planning_zone", "land_use", "current_use", "admin"}
        return {s.id for s in self.catalog.layers if s.role in roles} | self._model_layers()

    def _build_layers(self, fresh: Sequence[tuple[LayerSpec, str]]) -> list[LayerBuild]:
        builds: list[LayerBuild] = []
        analysed, named = self._analysed(), self._model_layers()
        # The biggest source first: its tippecanoe run then overlaps the reading of the others.
        for spec, fingerprint in sorted(fresh, key=lambda item: -_source_size(item[0])):
            build = LayerBuild(
                spec,
                self.cache,
                fingerprint,
                top_zoom=self.top_zoom,
                crs=self.catalog.crs,
                batch_size=self.options.batch_size,
                keep_input=self.options.keep_inputs,
                keep_frame=spec.id in analysed,
            )
            builds.append(build)
            with self.report.stage(f"read and check {spec.id}") as task:
                output = build.prepare(on_batch=task.advance)
            if (
                spec.id in named
                and output.kept is not None
                and len(output.kept) >= COVERAGE_TEST_FROM
            ):
                self._coverage[spec.id] = self._test_pool().submit(_timed, is_coverage, output.kept)
            state = "blocked" if output.blocked else f"{output.count} features"
            self.report.log(f"{spec.id}: rebuilt ({state}, fingerprint {fingerprint[:12]})")
            if not output.blocked:
                build.start_tiles()
        return builds

    def _test_pool(self) -> ThreadPoolExecutor:
        if self._tests is None:
            self._tests = ThreadPoolExecutor(1, thread_name_prefix="coverage")
        return self._tests

    def _known_coverage(self, layer_id: str) -> bool | None:
        """The layer's coverage test, if the build started one (waits for it; the log says how
        long it ran in the background and how long it was waited for)."""
        test = self._coverage.pop(layer_id, None)
        if test is None:
            return None
        start = time.monotonic()
        verdict, seconds = test.result()
        self.report.log(
            f"coverage test of {layer_id}: {seconds:.1f} s in the background, "
            f"waited {time.monotonic() - start:.1f} s ({'a coverage' if verdict else 'overlaps'})"
        )
        return verdict

    # -- review ----------------------------------------------------------------------------------

    def _cross_checks(
        self, outputs: dict[str, LayerOutput]
    ) -> tuple[list[Finding], dict[str, Any]]:
        """Cross-layer findings and what the checks measured (the report's inventory: each
        rule's checked features per layer, the control lines' areas and overlaps), computed
        again only when a layer taking part has changed."""
        # Every layer that could be read takes part, blocked or not: the report should name
        # every problem at once, not one layer's at a time.
        usable = {lid: o for lid, o in outputs.items() if o.count and o.features_path.is_file()}
        roles = {*CONTROL_LINE_ROLES, "planning_zone", "admin"}
        inputs = sorted(
            (s.id, s.role, usable[s.id].fingerprint)
            for s in self.catalog.layers
            if s.role in roles and s.id in usable
        )
        # what the findings depend on: the layers, the CRS they are measured in, the rules
        depends = {"layers": inputs, "crs": self.catalog.crs, "rules": rule_versions("cross")}
        key = hashlib.sha256(json.dumps(depends, sort_keys=True).encode()).hexdigest()[:24]
        cached = self.cache / "cross" / f"{key}.json"
        try:
            doc = json.loads(cached.read_text("utf-8"))
            found = [Finding.from_dict(f) for f in doc["findings"]]
            measured = {"checked": doc["checked"], "control_lines": doc["control_lines"]}
            self.report.log("cross-layer checks: inputs unchanged, findings reused")
            return found, measured
        except (OSError, ValueError, KeyError, TypeError):  # none, or an older entry's list
            pass
        found, measured = self._compute_cross_checks(usable)
        cached.parent.mkdir(parents=True, exist_ok=True)
        for old in cached.parent.glob("*.json"):
            old.unlink(missing_ok=True)
        tmp = cached.with_suffix(".tmp")
        doc = {"findings": [f.to_dict() for f in found], **measured}
        tmp.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
        os.replace(tmp, cached)
        return found, measured

    def _compute_cross_checks(
        self, usable: dict[str, LayerOutput]
    ) -> tuple[list[Finding], dict[str, Any]]:
        specs = self.catalog.layers
        findings: list[Finding] = []
        checked: dict[str, dict[str, int]] = {}  # {rule kind: {layer id: features checked}}
        lines = [s for s in specs if s.role in CONTROL_LINE_ROLES and s.id in usable]
        frames = {s.id: self._frame(usable[s.id]) for s in lines}
        if len({s.role for s in lines}) > 1:
            findings += check_control_lines(frames, lines, crs=self.catalog.crs)
            checked["control_line_overlap"] = {s.id: usable[s.id].count for s in lines}
        county = county_layer(self.catalog, {lid: o.count for lid, o in usable.items()})
        zones = [s for s in specs if s.role == "planning_zone" and s.id in usable]
        admin_frame = None
        if county is not None:
            admin_frame = self._frame(usable[county])
            for spec in zones:
                findings += check_zone_coverage(
                    self._frame(usable[spec.id]), admin_frame, layer=spec.id, crs=self.catalog.crs
                )
                for kind in ZONE_KINDS:
                    per_layer = checked.setdefault(kind, {})
                    for lid in (spec.id, county):
                        per_layer[lid] = per_layer.get(lid, 0) + usable[lid].count
        figures = measure_control_lines(frames, lines, crs=self.catalog.crs, city=admin_frame)
        figures["city_layer"] = county
        return findings, {"checked": checked, "control_lines": figures}

    # -- release ---------------------------------------------------------------------------------

    def _frame(self, output: LayerResult) -> gpd.GeoDataFrame:
        """A layer in the working CRS, read once per build (cross checks and both audiences'
        indicators use the same small layers)."""
        if output.kept is not None:  # read and projected once, while the layer was streamed
            return output.kept
        key = (output.spec.id, output.fingerprint)
        if key not in self._frames:
            self._frames[key] = _read_in(output, self.catalog.crs)
        return self._frames[key]

    def _write_release(
        self,
        staged: Path,
        outputs: dict[str, LayerOutput],
        review: Review,
        manifest: dict[str, Any],
    ) -> None:
        """Every output of the registry written into `staged`, its entry into `manifest` as
        soon as it is written (a later output may read an earlier one's)."""
        for audience in AUDIENCES:
            if not self.catalog.for_audience(audience):
                raise BuildError(f"the catalog has no layer for the {audience} audience")
        job = ReleaseJob(
            staged=staged,
            release_id=manifest["release"],
            manifest=manifest,
            previous=self.store.current_path(),
            catalog=self.catalog,
            catalog_source=Path(self.options.catalog),
            layers=outputs,
            review=review,
            top_zoom=self.top_zoom,
            server_config=self.server,
            stages=self.report,
            frame=self._frame,
            model=self.model,
            coverage=self._known_coverage,
            cross=self._cross,
            styles_dir=self.options.styles_dir,
        )
        audiences: dict[str, dict[str, Any]] = {
            audience: {"layers": [s.id for s in specs]} for audience, specs in job.audiences()
        }
        manifest["audiences"] = audiences
        try:
            for output in RELEASE_OUTPUTS:
                written = output.write(job)
                if output.per_audience:
                    for audience, entry in written.items():
                        audiences[audience][output.key] = entry
                else:
                    manifest[output.key] = written
                start_extra_tiles(job)  # an extra layer made by now is tiled meanwhile
        finally:
            discard_extra_tiles(job)

    # -- the whole build -------------------------------------------------------------------------

    def run(self) -> BuildResult:
        self.out.mkdir(parents=True, exist_ok=True)
        with _exclusive(self.out / ".build.lock"):
            try:
                return self._run()
            finally:
                if self._tests is not None:
                    self._tests.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> BuildResult:
        started = _now()
        self.store.clean_staging()
        for stale in (self.cache / "layers").glob("*/*.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed build
        reused, fresh = self._plan()
        for output in reused:
            self.report.log(
                f"{output.spec.id}: unchanged, reused (fingerprint {output.fingerprint[:12]})"
            )
        builds = self._build_layers(fresh)
        try:
            outputs = {o.spec.id: o for o in reused}
            outputs.update({b.out.spec.id: b.out for b in builds})
            review = Review()
            for spec in self.catalog.layers:
                review.extend(outputs[spec.id].findings)
            with self.report.stage("cross-layer checks"):
                found, self._cross = self._cross_checks(outputs)
                review.extend(found)
            if review.blocking:
                self._refuse(review, outputs, started)
            with self.report.stage("tile layers (tippecanoe)", total=len(builds)) as task:
                for build in builds:
                    build.finish()
                    task.advance()
        except BaseException:
            for build in builds:
                build.abandon()
            raise
        content = hashlib.sha256(
            json.dumps(
                {lid: outputs[lid].fingerprint for lid in sorted(outputs)}, sort_keys=True
            ).encode()
            + self.catalog_text.encode()
        ).hexdigest()
        release_id = new_release_id(content, started)
        staged = self.store.staging_dir(release_id)
        try:
            manifest: dict[str, Any] = {
                "release": release_id,
                "created": started.isoformat(timespec="seconds"),
                "note": self.options.note,
                "author": self.options.author,
                "crs": self.catalog.crs,
                "tools": self.versions,
                "top_zoom": self.top_zoom,
                "layers": {
                    spec.id: {
                        "access": spec.access,
                        "role": spec.role,
                        "fingerprint": outputs[spec.id].fingerprint,
                        "rebuilt": not outputs[spec.id].reused,
                        "features": outputs[spec.id].count,
                        "geometry": outputs[spec.id].geometry,
                        "fields": outputs[spec.id].fields,
                        "bounds": outputs[spec.id].bounds,
                        "area_m2": round(outputs[spec.id].area_m2, 2),
                    }
                    for spec in self.catalog.layers
                },
            }
            self._write_release(staged, outputs, review, manifest)
            manifest["finished"] = _now().isoformat(timespec="seconds")
            manifest["log"] = list(self.report.lines)
            write_manifest(staged, manifest)
            final = self.store.commit(staged, release_id)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        self.report.log(f"release {release_id} is current ({final})")
        if self.options.keep:
            for rid in self.store.prune(self.options.keep):
                self.report.log(f"pruned release {rid}")
        self._prune_cache(outputs)
        self.report.print_renderable(summary_renderable(review), summary_lines(review))
        return BuildResult(
            release_id,
            final,
            tuple(b.out.spec.id for b in builds),
            tuple(o.spec.id for o in reused),
            review,
        )

    def _refuse(self, review: Review, outputs: dict[str, LayerOutput], started: datetime) -> None:
        folder = new_report_folder(self.out / REPORTS_FOLDER, _now())
        files = write_report(
            review,
            folder,
            ReportInputs(
                catalog=self.catalog,
                catalog_source=Path(self.options.catalog),
                layers=outputs,
                when=started,
                tools=self.versions,
                frame=self._frame,
                cross=self._cross,
                styles_dir=self.options.styles_dir,
            ),
            context={"report": folder.name},
        )
        self.report.print_renderable(summary_renderable(review), summary_lines(review))
        raise ReviewFailedError(
            f"the review found {len(review.blocking)} blocking finding(s); nothing was "
            f"published. First: {first_blocking(review)}. "
            f"Report: {files.html} (and {files.json.name})"
        )

    def _prune_cache(self, outputs: dict[str, LayerOutput]) -> None:
        """Keep, per layer, only the cache entry the new release used."""
        layers = self.cache / "layers"
        if not layers.is_dir():
            return
        for folder in layers.iterdir():
            keep = outputs.get(folder.name)
            for entry in folder.iterdir():
                if keep is None or entry != keep.folder:
                    shutil.rmtree(entry, ignore_errors=True)


def _timed(function: Callable[..., T], *args: Any) -> tuple[T, float]:
    start = time.monotonic()
    return function(*args), time.monotonic() - start


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One build at a time per tiles folder (the lock goes with the process, even on SIGKILL)."""
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"another build is running on {path.parent}") from None
        yield


def build(options: BuildOptions, reporter: Reporter | None = None) -> BuildResult:
    return Build(options, reporter).run()
