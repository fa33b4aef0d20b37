"""The indicators: each audience's plan indicators (city and county areas, control-line areas,
land use by first-level class), computed from the layers the audience sees, written into its
feature store's `plan_areas` table and kept in the manifest as {audience: indicators}."""

from __future__ import annotations

from typing import Any

from publish.catalog import CONTROL_LINE_ROLES
from publish.features.indicators import (
    compute_indicators,
    county_layer,
    write_indicators_table,
)
from publish.release.output import ReleaseJob, ReleaseOutput


def _inputs(job: ReleaseJob, visible: set[str]) -> tuple[Any, ...]:
    """Which layers the indicators of an audience seeing `visible` are computed from."""
    control = tuple(
        (role, specs[0].id)
        for role in CONTROL_LINE_ROLES
        if (specs := [s for s in job.catalog.by_role(role) if s.id in visible])
    )
    land_use = next((s.id for s in job.catalog.by_role("land_use") if s.id in visible), None)
    counts = {lid: job.layers[lid].count for lid in visible}
    return county_layer(job.catalog, counts), control, land_use


def _compute(job: ReleaseJob, inputs: tuple[Any, ...]) -> dict[str, Any]:
    county, control, land_use = inputs
    city = job.catalog.meta.get("city") or {}
    return compute_indicators(
        city_area=None,
        counties=job.frame(job.layers[county]) if county else None,
        control_lines={role: job.frame(job.layers[lid]) for role, lid in control},
        land_use=job.frame(job.layers[land_use]) if land_use else None,
        land_use_field=job.catalog.layer(land_use).code_field if land_use else None,
        city_code=str(city.get("code")) if city.get("code") else None,
        city_name=str(city.get("name")) if city.get("name") else None,
        crs=job.catalog.crs,
    )


def write(job: ReleaseJob) -> dict[str, Any]:
    computed: dict[tuple[Any, ...], dict[str, Any]] = {}
    out = {}
    for audience, specs in job.audiences():
        with job.stages.stage(f"indicators ({audience})"):
            inputs = _inputs(job, {s.id for s in specs})
            # the audiences usually see the same inputs (all public): computed once then
            if inputs not in computed:
                computed[inputs] = _compute(job, inputs)
            out[audience] = computed[inputs]
            write_indicators_table(job.staged / job.entry("features", audience), out[audience])
    return out


INDICATORS = ReleaseOutput("indicators", write, per_audience=False)
