"""Figures taken over from the release a build replaces, when nothing they depend on changed.

An indicator's values are reused when the replaced release's monitoring file has the indicator
with the same formula and unit, a value for every unit the build computes it for, and every layer
the formula reads and both scope layers (county, township) have the same fingerprint in both
manifests (a fingerprint covers the source files, the catalog entry and the working CRS). A
formula with value() is always computed again (the values CSV is not fingerprinted; it is cheap).
So an incremental build of a small layer does not read a million parcels again for figures that
cannot have changed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from publish.indicators.compute import Result
from publish.indicators.formulas import formula_values
from publish.indicators.model import Indicator
from publish.indicators.scopes import ScopeUnit

__all__ = ["reused_results"]


def _fingerprints(manifest: Mapping[str, Any]) -> dict[str, str | None]:
    return {
        lid: (info or {}).get("fingerprint") for lid, info in manifest.get("layers", {}).items()
    }


def reused_results(
    indicator: Indicator,
    units: Sequence[ScopeUnit],
    scope_layers: Collection[str],
    *,
    manifest: Mapping[str, Any],
    previous_manifest: Mapping[str, Any] | None,
    previous_doc: Mapping[str, Any] | None,
) -> list[Result] | None:
    """The indicator's results taken from the replaced release, or None when they must be
    computed (see the module docstring)."""
    if not previous_manifest or not previous_doc or formula_values(indicator.formula):
        return None
    now, before = _fingerprints(manifest), _fingerprints(previous_manifest)
    for lid in (*indicator.layers, *scope_layers):
        if now.get(lid) is None or now.get(lid) != before.get(lid):
            return None
    entry = next(
        (i for i in previous_doc.get("indicators") or () if i.get("id") == indicator.id), None
    )
    if not entry or (entry.get("formula"), entry.get("unit")) != (
        indicator.formula_text,
        indicator.unit,
    ):
        return None
    values = {
        (row.get("scope"), row.get("code")): row.get("value")
        for row in previous_doc.get("results") or ()
        if row.get("indicator") == indicator.id
    }
    chosen = [u for u in units if u.scope in indicator.scopes]
    if any(u.key not in values for u in chosen):
        return None
    out = []
    for unit in chosen:
        value = values[unit.key]
        out.append(
            Result(indicator, unit, float(value) if isinstance(value, int | float) else None)
        )
    return out
