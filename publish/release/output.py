"""A release output: one part of a release, declared once — what the build writes, its manifest
entry, how it is checked and what the server loads from it.

Every part of a release (the tiles, the feature store, the indicators, the OGC API
configuration, the map style, the review report, the catalog) is one `ReleaseOutput` in the
registry, publish.release.outputs.RELEASE_OUTPUTS. The build calls each output's `write` in
the registry's order; `verify_release` (publish.release.verify) runs each `check`; the server
runs `check` then `load` for each per-audience output and keeps what `load` returned as
`audience.services[key]`.

An output is either per audience — `write` returns {audience: entry}, stored as
manifest["audiences"][audience][key] — or for the whole release — `write` returns one entry,
stored as manifest[key].
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from publish.catalog import Catalog, LayerSpec
from publish.checks.findings import Finding, Review
from publish.domain import AUDIENCES, PUBLIC
from publish.errors import ReleaseError

if TYPE_CHECKING:
    import geopandas as gpd

    from publish.indicators.model import Model


class LayerResult(Protocol):
    """What the build made of one layer (publish.pipeline.layer.LayerOutput)."""

    @property
    def spec(self) -> LayerSpec: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def bounds(self) -> tuple[float, float, float, float] | None: ...
    @property
    def features_path(self) -> Path: ...
    @property
    def tiles_path(self) -> Path: ...
    @property
    def geometry(self) -> str | None: ...
    @property
    def area_m2(self) -> float: ...
    @property
    def findings(self) -> list[Finding]: ...
    @property
    def checked(self) -> dict[str, int] | None: ...  # per rule kind; None: not kept (old cache)
    @property
    def kept(self) -> gpd.GeoDataFrame | None: ...  # in the working CRS, from the build's read


class Stages(Protocol):
    """Where the build reports progress (publish.pipeline.progress.Reporter)."""

    def stage(self, description: str, total: int | None = None) -> AbstractContextManager[Any]: ...
    def log(self, message: str) -> None: ...


@dataclass
class ReleaseJob:
    """Everything the outputs' writers read: the staged folder and what the build made."""

    staged: Path  # the release folder being written (DIR/.staging/<id>/)
    release_id: str
    # the manifest so far: the build's entries, then each output's as soon as it is written
    manifest: dict[str, Any]
    previous: Path | None  # the release this one replaces (the current one), if any
    catalog: Catalog
    catalog_source: Path  # the catalog file as the build was given it
    layers: Mapping[str, LayerResult]  # by layer id, every layer of the catalog
    review: Review
    top_zoom: int
    server_config: Mapping[str, Any]  # config/pygeoapi.yml
    stages: Stages
    frame: Callable[[LayerResult], gpd.GeoDataFrame]  # a layer in the working CRS, read once
    model: Model | None = None  # the catalog's indicator model (publish.indicators), if any
    # what the cross-layer checks measured (publish.pipeline.build: checked features per rule
    # and layer, the control lines' areas and overlaps), for the review report
    cross: Mapping[str, Any] = field(default_factory=dict)
    # what an output made for a later one (not for the manifest), by the output's key
    made: dict[str, Any] = field(default_factory=dict)
    styles_dir: Path | None = None  # the style symbols (build --styles-dir; None: the package's)
    # a layer id → whether its polygons overlap nowhere, when the build has already tested it
    # (publish.indicators.compute.is_coverage, run in the background once the layer is read)
    coverage: Callable[[str], bool | None] = field(default=lambda _layer: None)

    def audiences(self) -> Iterator[tuple[str, tuple[LayerSpec, ...]]]:
        """Each audience with its layers, in catalog order."""
        for audience in AUDIENCES:
            yield audience, self.catalog.for_audience(audience)

    def entry(self, key: str, audience: str | None = None) -> Any:
        """What an earlier output wrote: its manifest entry (per audience: that audience's)."""
        if audience is None:
            return self.manifest[key]
        return self.manifest["audiences"][audience][key]

    def path(self, relpath: str) -> Path:
        """A file of the staged release (its folder made)."""
        path = self.staged / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class OutputPart:
    """One output's entry in a written release, as `check` and `load` see it."""

    root: Path  # the release folder
    entry: Any  # the manifest's value for the output's key (per audience: that audience's)
    manifest: Mapping[str, Any]
    audience: str | None = None  # None for a release-wide output
    layers: frozenset[str] = frozenset()  # the audience's layers (every layer if release-wide)

    @property
    def restricted(self) -> bool:
        return self.audience != PUBLIC

    def file(self, relpath: Any = None) -> Path:
        """The file `relpath` (default: the entry itself) inside the release; ReleaseError when
        the entry is not a relative path inside it."""
        rel = self.entry if relpath is None else relpath
        if not isinstance(rel, str) or not rel:
            raise ReleaseError(f"manifest entry {rel!r} is not a file of the release")
        root = self.root.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root):
            raise ReleaseError(f"manifest entry {rel!r} points outside the release")
        return path


def _nothing_wrong(part: OutputPart) -> list[str]:
    return []


@dataclass(frozen=True)
class ReleaseOutput:
    """One part of a release (see the module docstring)."""

    key: str
    write: Callable[[ReleaseJob], Any]  # → the manifest entry ({audience: entry} per audience)
    per_audience: bool = True
    check: Callable[[OutputPart], list[str]] = _nothing_wrong  # problems, [] if none
    load: Callable[[OutputPart], Any] | None = None  # what the server serves from

    def parts(self, root: Path, manifest: Mapping[str, Any]) -> Iterator[OutputPart]:
        """This output's entries in the release at `root` (none if it has no entry)."""
        if not self.per_audience:
            if manifest.get(self.key) is not None:
                every = frozenset((manifest.get("layers") or {}).keys())
                yield OutputPart(root, manifest[self.key], manifest, None, every)
            return
        for audience in AUDIENCES:
            yield from self.audience_part(root, manifest, audience)

    def audience_part(
        self, root: Path, manifest: Mapping[str, Any], audience: str
    ) -> Iterator[OutputPart]:
        entry = ((manifest.get("audiences") or {}).get(audience) or {}).get(self.key)
        if entry is not None:
            layers = frozenset((manifest["audiences"][audience] or {}).get("layers") or ())
            yield OutputPart(root, entry, manifest, audience, layers)
