"""Implementation monitoring (实施监督): the catalog's indicator model (publish.indicators)
computed per audience — the public from the indicators whose layers are all public, staff
every indicator — written as monitoring/<audience>.json (publish.indicators.document), as the
`indicators` and `indicators_map` tables of the audience's feature store
(publish.indicators.tables; the OGC API serves the map as the collection `indicators`), and
named in the manifest as audiences[<audience>]["monitoring"]. `previous` and `delta` come from
the replaced release's own monitoring file, and so are the figures of an indicator none of whose
inputs changed (publish.indicators.reuse). A catalog without `indicators:` has no entry.
Checked: the file parses, and a public one names no internal layer."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from publish.domain import PUBLIC
from publish.errors import PublishError
from publish.indicators.compute import Evaluator, Result, evaluate
from publish.indicators.document import SCHEMA, monitoring_document
from publish.indicators.model import Indicator
from publish.indicators.reuse import reused_results
from publish.indicators.scopes import ScopeUnit, scope_layers, scope_units
from publish.indicators.tables import write_map_table, write_results_table
from publish.release.manifest import read_manifest
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput

MONITORING_KEY = "monitoring"


def monitoring_file(audience: str) -> str:
    return f"{MONITORING_KEY}/{audience}.json"


Previous = tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]


def _previous(previous: Path | None, audience: str) -> Previous:
    """The replaced release's manifest and monitoring document for `audience` (None, None when
    there is none; the manifest alone when it has no monitoring)."""
    if previous is None:
        return None, None
    try:
        manifest = read_manifest(previous)
    except PublishError:
        return None, None
    try:
        entry = ((manifest.get("audiences") or {}).get(audience) or {}).get(MONITORING_KEY)
        if not isinstance(entry, str):
            return manifest, None
        doc = json.loads((previous / entry).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return manifest, None
    return manifest, (doc if isinstance(doc, dict) else None)


def _results(
    job: ReleaseJob,
    evaluator: Evaluator,
    indicators: Sequence[Indicator],
    units: Sequence[ScopeUnit],
    scope_ids: Sequence[str],
    previous: Previous,
) -> tuple[list[Result], list[str]]:
    """Each indicator's results, reused from the replaced release when nothing they depend on
    changed (publish.indicators.reuse), else computed; and the ids of those reused."""
    results: list[Result] = []
    reused: list[str] = []
    for indicator in indicators:
        kept = reused_results(
            indicator,
            units,
            scope_ids,
            manifest=job.manifest,
            previous_manifest=previous[0],
            previous_doc=previous[1],
        )
        if kept is not None:
            reused.append(indicator.id)
        results += kept if kept is not None else evaluate(evaluator, [indicator], units)
    return results, reused


def unmatched_targets(indicators: Sequence[Indicator], units: Sequence[ScopeUnit]) -> list[str]:
    """The targets naming a county or township no admin feature has (they are not shown)."""
    known = {u.key for u in units}
    return [
        f"{i.id}: a {t.year} target names {t.scope} {t.code}, which no admin feature has"
        for i in indicators
        for t in i.targets
        if t.scope != "city" and (t.scope, t.code) not in known
    ]


def write(job: ReleaseJob) -> dict[str, str]:
    model = job.model
    if model is None:
        return {}
    evaluator = Evaluator(
        job.catalog, lambda lid: job.frame(job.layers[lid]), model, coverage=job.coverage
    )
    out = {}
    for audience, specs in job.audiences():
        visible = {s.id for s in specs}
        with job.stages.stage(f"monitoring ({audience})"):
            counts = {lid: job.layers[lid].count for lid in visible}
            county, township = scope_layers(
                job.catalog, counts, model.county_layer, model.township_layer
            )
            units = scope_units(
                job.catalog,
                job.frame(job.layers[county]) if county else None,
                job.frame(job.layers[township]) if township else None,
            )
            indicators = [i for i in model.for_audience(audience) if set(i.layers) <= visible]
            for line in unmatched_targets(indicators, units):
                job.stages.log(f"monitoring ({audience}): {line}")
            previous = _previous(job.previous, audience)
            scope_ids = [lid for lid in (county, township) if lid]
            results, reused = _results(job, evaluator, indicators, units, scope_ids, previous)
            if reused:
                job.stages.log(f"monitoring ({audience}): figures taken over: {', '.join(reused)}")
            doc = monitoring_document(
                model, results, units, release=job.release_id, audience=audience,
                previous=previous[1],
            )  # fmt: skip
            out[audience] = monitoring_file(audience)
            job.path(out[audience]).write_text(
                json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8"
            )
            store = job.staged / job.entry("features", audience)
            write_results_table(store, doc)
            counties = [u for u in units if u.scope == "county"]
            write_map_table(store, doc, counties, job.catalog.crs)
    return out


def check(part: OutputPart) -> list[str]:
    try:
        doc = json.loads(part.file().read_text(encoding="utf-8"))
    except (OSError, ValueError, PublishError) as exc:
        return [f"{part.entry}: unreadable ({exc})"]
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        return [f"{part.entry}: not a {SCHEMA} document"]
    if part.audience != PUBLIC:
        return []
    internal = {
        lid
        for lid, info in (part.manifest.get("layers") or {}).items()
        if (info or {}).get("access") != PUBLIC
    }
    named = {lid for i in doc.get("indicators") or () for lid in i.get("layers") or ()}
    text = json.dumps(doc.get("indicators") or [], ensure_ascii=False)
    mentioned = {lid for lid in internal if re.search(rf"\b{re.escape(lid)}\b", text)}
    leak = sorted((named & internal) | mentioned)
    return [f"{part.entry}: the public monitoring names internal layers {leak}"] if leak else []


MONITORING = ReleaseOutput(MONITORING_KEY, write, check=check)
