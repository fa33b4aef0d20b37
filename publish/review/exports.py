"""The findings for the reviewer's own tools: findings.xlsx (one row per finding, the format a
reviewer annotates) and findings.gpkg (one feature per finding, opens in any GIS)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from publish.checks.findings import Review
from publish.review.inputs import ReportInputs
from publish.review.places import FindingPlace

__all__ = ["FINDINGS_GPKG", "FINDINGS_XLSX", "write_exports"]

FINDINGS_XLSX = "findings.xlsx"
FINDINGS_GPKG = "findings.gpkg"


def write_exports(
    review: Review, places: Sequence[FindingPlace], inputs: ReportInputs | None, out_dir: Path
) -> dict[str, str]:
    """Write the exports into out_dir; return {format: file name} of those written."""
    return {}
