"""The map style: each audience's MapLibre style (styles/<audience>.json), generated from the
catalog (and the conflict kinds its archive's `conflicts` layer holds). Checked as a MapLibre
style that draws only the audience's layers and the extra layers of its archive (`labels`,
`conflicts`), and, for the public, names no internal URL; the server serves the parsed document."""

from __future__ import annotations

import json
from typing import Any

from publish.domain import INTERNAL
from publish.errors import ReleaseError
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput
from publish.release.outputs.conflicts import drawn_kinds
from publish.styles.served import source_layers, source_urls

TILES_URL = "/tiles/{audience}.json"
GLYPHS_URL = "/fonts/{fontstack}/{range}.pbf"


def write(job: ReleaseJob) -> dict[str, str]:
    from publish.styles import build_style

    out = {}
    for audience, _specs in job.audiences():
        style = build_style(
            job.catalog,
            audience,
            tiles_url=TILES_URL.format(audience=audience),
            glyphs_url=GLYPHS_URL,
            conflict_kinds=drawn_kinds(job, audience),
            styles_dir=job.styles_dir,
        )
        out[audience] = f"styles/{audience}.json"
        job.path(out[audience]).write_text(
            json.dumps(style, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    return out


def read_style(part: OutputPart) -> dict[str, Any]:
    """The style document; ReleaseError when it is not a MapLibre style."""
    path = part.file()
    try:
        style = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"style unreadable: {exc}") from exc
    if not isinstance(style, dict) or style.get("version") != 8:
        raise ReleaseError("not a MapLibre style (version 8)")
    if not isinstance(style.get("sources"), dict) or not isinstance(style.get("layers"), list):
        raise ReleaseError("style has no sources or layers")
    return style


def check(part: OutputPart) -> list[str]:
    try:
        style = read_style(part)
    except ReleaseError as exc:
        return [f"{part.entry}: {exc}"]
    problems = []
    extra = sorted(set(source_layers(style)) - part.layers - _extra_layers(part))
    if extra:
        problems.append(f"style draws layers not listed for {part.audience}: {extra}")
    if not part.restricted:
        problems += [f"public style refers to {u}" for u in source_urls(style) if INTERNAL in u]
    return problems


def _extra_layers(part: OutputPart) -> set[str]:
    """The layers the audience's archive holds besides its catalog layers (e.g. `labels`)."""
    audience = (part.manifest.get("audiences") or {}).get(part.audience) or {}
    tiles = audience.get("tiles") if isinstance(audience, dict) else None
    return set(tiles.get("extra_layers") or ()) if isinstance(tiles, dict) else set()


STYLE = ReleaseOutput("style", write, check=check, load=read_style)
