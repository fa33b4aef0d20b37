"""The monitoring document, monitoring/<audience>.json (schema "onemap-indicators/1"): the
model's indicators, the scope units and one result per (indicator, unit), each with its targets'
statuses and the delta against the release this one replaced (see /work/notes/contract14.md,
"monitoring/<aud>.json").

A result's `status` is against the first target year >= the model's `year`, else the last.
`previous` is the same result (indicator, scope, code) in the replaced release's own monitoring
file, None when that release has none or lacks the result; `delta` = value − previous.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from publish.indicators.compute import Result
from publish.indicators.model import Model
from publish.indicators.rules import Target
from publish.indicators.scopes import ScopeUnit

__all__ = ["SCHEMA", "monitoring_document", "previous_values", "result_row", "status_target"]

SCHEMA = "onemap-indicators/1"
Key = tuple[str, str, str]  # indicator, scope, code


def status_target(targets: Sequence[Target], year: int) -> Target | None:
    """The target a result's status is read against: the first year >= `year`, else the last."""
    ordered = sorted(targets, key=lambda t: t.year)
    return next((t for t in ordered if t.year >= year), ordered[-1] if ordered else None)


def previous_values(doc: Mapping[str, Any] | None) -> dict[Key, float | None]:
    """(indicator, scope, code) → value in an earlier monitoring document (empty if None)."""
    if not doc or doc.get("schema") != SCHEMA:
        return {}
    out: dict[Key, float | None] = {}
    for row in doc.get("results") or ():
        if isinstance(row, dict):
            value = row.get("value")
            key = (str(row.get("indicator")), str(row.get("scope")), str(row.get("code")))
            out[key] = float(value) if isinstance(value, int | float) else None
    return out


def result_row(result: Result, year: int, previous: Mapping[Key, float | None]) -> dict[str, Any]:
    unit, indicator = result.unit, result.indicator
    targets = indicator.targets_for(unit.scope, unit.code)
    chosen = status_target(targets, year)
    before = previous.get((indicator.id, unit.scope, unit.code))
    delta = None
    if result.value is not None and before is not None:
        delta = round(result.value - before, 4)
    return {
        "indicator": indicator.id,
        "scope": unit.scope,
        "code": unit.code,
        "value": result.value,
        "targets": [t.document(result.value) for t in targets],
        "status": chosen.status(result.value) if chosen else None,
        "previous": before,
        "delta": delta,
    }


def monitoring_document(
    model: Model,
    results: Sequence[Result],
    units: Sequence[ScopeUnit],
    *,
    release: str,
    audience: str,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The document for one audience's `results` (model order, then unit order)."""
    before = previous_values(previous)
    computed = {r.indicator.id for r in results}
    scopes = {r.unit.key for r in results}
    return {
        "schema": SCHEMA,
        "release": release,
        "audience": audience,
        "year": model.year,
        "target_years": model.target_years,
        "indicators": [i.document() for i in model.indicators if i.id in computed],
        "scopes": [u.document() for u in units if u.key in scopes],
        "results": [result_row(r, model.year, before) for r in results],
    }
