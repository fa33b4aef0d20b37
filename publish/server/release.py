"""A release as the server holds it: immutable, with its archives open and documents parsed.

`load_release(tiles_dir, target, services)` reads DIR/<target> (what DIR/current points at) and
refuses a release that cannot be served as it is: a missing or resized file, an archive `verify`
finds fault with, a style that is not a MapLibre style, or anything that would show an internal
layer to the public. The wings add their own parts of a release through `services`: for each
manifest key they name (e.g. "ogc": the OGC API's pygeoapi configuration, publish.ogc.service),
a loader opens and checks what the audience's entry points at, and the result belongs to the
`AudienceRelease` (`services[key]`), so that a request keeps using the release it started on.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from publish.domain import AUDIENCES, INTERNAL, PUBLIC
from publish.errors import PublishError
from publish.release.manifest import read_manifest, verify_release
from publish.server.errors import ReleaseLoadError
from publish.server.styles import source_layers, source_urls
from publish.tiles.archive import Archive, verify
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


def _read_style(path: Path) -> dict[str, Any]:
    try:
        style = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise _refuse(path, f"style unreadable: {exc}") from exc
    if not isinstance(style, dict) or style.get("version") != 8:
        raise _refuse(path, "not a MapLibre style (version 8)")
    if not isinstance(style.get("sources"), dict) or not isinstance(style.get("layers"), list):
        raise _refuse(path, "style has no sources or layers")
    return style


# A wing's loader: (release folder, the audience entry's value for its key, the audience's
# layers) → what it serves from; PublishError when that cannot be served.
ServiceLoader = Callable[[Path, str, frozenset[str]], Any]


def _load_audience(
    root: Path,
    release_id: str,
    name: str,
    manifest: Mapping[str, Any],
    loaders: Mapping[str, ServiceLoader],
) -> AudienceRelease:
    entry = (manifest.get("audiences") or {}).get(name)
    if not isinstance(entry, dict):
        raise _refuse(root, f"manifest lists no audience {name!r}")
    try:
        layers = frozenset(entry["layers"])
        archive_path = root / entry["tiles"]["path"]
        style_path = root / entry["style"]
    except (KeyError, TypeError) as exc:
        raise _refuse(root, f"manifest audience {name!r} lacks {exc}") from None
    restricted = name != PUBLIC
    if not restricted:
        access = {lid: (info or {}).get("access") for lid, info in manifest["layers"].items()}
        internal = sorted(lid for lid in layers if access.get(lid) != PUBLIC)
        if internal:
            raise _refuse(root, f"public audience lists non-public layers {internal}")

    problems = verify(archive_path)
    if problems:
        raise _refuse(archive_path, "; ".join(problems[:5]))
    archive = Archive(archive_path)
    extra = sorted(set(archive.vector_layers()) - layers)
    if extra:
        raise _refuse(archive_path, f"archive holds layers not listed for {name}: {extra}")

    style = _read_style(style_path)
    extra = sorted(set(source_layers(style)) - layers)
    if extra:
        raise _refuse(style_path, f"style draws layers not listed for {name}: {extra}")
    if not restricted:
        for url in source_urls(style):
            if INTERNAL in url:
                raise _refuse(style_path, f"public style refers to {url}")

    services: dict[str, Any] = {}
    for key, loader in loaders.items():
        if entry.get(key) is not None:
            try:
                services[key] = loader(root, str(entry[key]), layers)
            except PublishError as exc:
                raise _refuse(root / str(entry[key]), str(exc)) from exc

    return AudienceRelease(
        name=name,
        restricted=restricted,
        layers=layers,
        archive=archive,
        archive_path=archive_path,
        archive_stat=os.stat(archive_path),
        tilejson=MappingProxyType(
            build_tilejson(archive, layers=layers, extra={"onemap:release": release_id})
        ),
        style=MappingProxyType(style),
        services=MappingProxyType(services),
    )


def load_release(
    tiles_dir: Path, target: str, services: Mapping[str, ServiceLoader] = MappingProxyType({})
) -> Release:
    """Load DIR/<target> (`target` as read from the DIR/current symlink), with the wings'
    `services`, or raise ReleaseLoadError saying why it cannot be served."""
    root = (Path(tiles_dir) / target).resolve()
    try:
        manifest = read_manifest(root)
        problems = verify_release(root, digests=False)
        if problems:
            raise _refuse(root, "; ".join(problems[:5]))
        release_id = str(manifest["release"])
        if release_id != root.name:
            raise _refuse(root, f"manifest is for release {release_id}")
        audiences = {
            name: _load_audience(root, release_id, name, manifest, services) for name in AUDIENCES
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
