"""A release as the server holds it: immutable, with its archives open and documents parsed.

`load_release(tiles_dir, target, outputs)` reads DIR/<target> (what DIR/current points at) and
refuses a release that cannot be served as it is: a missing or resized file, anything that
would show an internal layer to the public, or a part of the release its output's check finds
fault with (publish.release.outputs: an archive `verify` faults, a style that is not a MapLibre
style, a store or configuration holding another audience's layers). What each output's `load`
returns is the audience's to serve from: the archive and the style here, the wings' parts
(e.g. "ogc": publish.ogc.service.OgcService) as `AudienceRelease.services[key]`, so that a
request keeps using the release it started on.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from publish.domain import AUDIENCES, PUBLIC
from publish.errors import PublishError
from publish.release.manifest import read_manifest, verify_files
from publish.release.output import OutputPart, ReleaseOutput
from publish.release.outputs import RELEASE_OUTPUTS
from publish.release.outputs.style import STYLE
from publish.release.outputs.tiles import TILES
from publish.server.errors import ReleaseLoadError
from publish.tiles.archive import Archive
from publish.tiles.tilejson import build_tilejson

RELEASE_HEADER = "X-Onemap-Release"  # every answer from a release names it
PMTILES_MEDIA_TYPE = "application/vnd.pmtiles"
_DOCUMENTS_KEPT = 16  # rendered documents per audience (one per base URL and kind)


@dataclass(frozen=True, eq=False)
class AudienceRelease:
    """One audience's part of a release. `restricted` audiences need a token."""

    name: str
    restricted: bool
    layers: frozenset[str]
    archive: Archive
    archive_path: Path
    archive_stat: os.stat_result
    tilejson: Mapping[str, Any]  # without `tiles` (that depends on the request's base URL)
    style: Mapping[str, Any]
    # what the wings loaded for this audience, by manifest key (absent: the release has none)
    services: Mapping[str, Any] = field(default_factory=dict)
    _documents: OrderedDict[tuple[str, str], bytes] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def archive_etag(self) -> str:
        """The archive file's quoted ETag (its path, mtime and size: the `Archive.identity`)."""
        return f'"{self.archive.identity}"'

    def document(self, kind: str, base_url: str, render: Callable[[], bytes]) -> bytes:
        """The rendered document `kind` for `base_url`, rendered once and kept (bounded)."""
        key = (kind, base_url)
        with self._lock:
            body = self._documents.get(key)
            if body is not None:
                self._documents.move_to_end(key)
                return body
        body = render()
        with self._lock:
            self._documents[key] = body
            while len(self._documents) > _DOCUMENTS_KEPT:
                self._documents.popitem(last=False)
        return body


@dataclass(frozen=True, eq=False)
class Release:
    """A loaded release: never changed after loading; dropped when no request holds it."""

    id: str
    path: Path
    target: str
    loaded_at: datetime
    audiences: Mapping[str, AudienceRelease]


def _refuse(where: Path, reason: str) -> ReleaseLoadError:
    return ReleaseLoadError(f"{where}: {reason}")


def _loaded(output: ReleaseOutput, part: OutputPart) -> Any:
    """What `output` serves from for `part`, after its check; ReleaseLoadError if it cannot."""
    where = part.root / str(part.entry) if isinstance(part.entry, str) else part.root
    try:
        problems = output.check(part)
        if problems:
            raise _refuse(where, "; ".join(problems[:5]))
        return None if output.load is None else output.load(part)
    except PublishError as exc:
        raise _refuse(where, str(exc)) from exc


def _load_audience(
    root: Path,
    release_id: str,
    name: str,
    manifest: Mapping[str, Any],
    outputs: Sequence[ReleaseOutput],
) -> AudienceRelease:
    entry = (manifest.get("audiences") or {}).get(name)
    if not isinstance(entry, dict):
        raise _refuse(root, f"manifest lists no audience {name!r}")
    try:
        layers = frozenset(entry["layers"])
    except (KeyError, TypeError) as exc:
        raise _refuse(root, f"manifest audience {name!r} lacks {exc}") from None
    restricted = name != PUBLIC
    if not restricted:
        access = {lid: (info or {}).get("access") for lid, info in manifest["layers"].items()}
        internal = sorted(lid for lid in layers if access.get(lid) != PUBLIC)
        if internal:
            raise _refuse(root, f"public audience lists non-public layers {internal}")
    for required in (TILES, STYLE):
        if entry.get(required.key) is None:
            raise _refuse(root, f"manifest audience {name!r} lacks {required.key!r}")

    services: dict[str, Any] = {}
    for output in outputs:
        for part in output.audience_part(root, manifest, name) if output.per_audience else ():
            loaded = _loaded(output, part)
            if loaded is not None:
                services[output.key] = loaded
    archive: Archive = services.pop(TILES.key)
    style: dict[str, Any] = services.pop(STYLE.key)
    return AudienceRelease(
        name=name,
        restricted=restricted,
        layers=layers,
        archive=archive,
        archive_path=archive.path,
        archive_stat=os.stat(archive.path),
        tilejson=MappingProxyType(
            build_tilejson(
                archive,
                layers=layers | frozenset(entry[TILES.key].get("extra_layers") or ()),
                extra={"onemap:release": release_id},
            )
        ),
        style=MappingProxyType(style),
        services=MappingProxyType(services),
    )


def load_release(
    tiles_dir: Path, target: str, outputs: Sequence[ReleaseOutput] = RELEASE_OUTPUTS
) -> Release:
    """Load DIR/<target> (`target` as read from the DIR/current symlink) with its `outputs`
    checked and loaded, or raise ReleaseLoadError saying why it cannot be served."""
    root = (Path(tiles_dir) / target).resolve()
    try:
        manifest = read_manifest(root)
        problems = verify_files(root, manifest, digests=False)
        if problems:
            raise _refuse(root, "; ".join(problems[:5]))
        for output in outputs:  # the release-wide ones; each audience's come with it
            for part in () if output.per_audience else output.parts(root, manifest):
                _loaded(output, part)
        release_id = str(manifest["release"])
        if release_id != root.name:
            raise _refuse(root, f"manifest is for release {release_id}")
        audiences = {
            name: _load_audience(root, release_id, name, manifest, outputs) for name in AUDIENCES
        }
    except ReleaseLoadError:
        raise
    except (PublishError, OSError, KeyError, TypeError, ValueError) as exc:
        raise _refuse(root, f"{type(exc).__name__}: {exc}") from exc
    return Release(
        id=release_id,
        path=root,
        target=target,
        loaded_at=datetime.now(UTC),
        audiences=MappingProxyType(audiences),
    )
