"""The review report: the checks' findings (review.json, review.html, in Chinese and English),
summarised in the manifest's `review` entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput
from publish.review.inputs import ReportInputs
from publish.review.report import REVIEW_HTML, REVIEW_JSON, read_review, write_report


def write(job: ReleaseJob) -> dict[str, Any]:
    write_report(
        job.review,
        job.staged,
        ReportInputs(
            catalog=job.catalog,
            catalog_source=job.catalog_source,
            layers=job.layers,
            when=datetime.fromisoformat(job.manifest["created"]),
            release_id=job.release_id,
            tools=job.manifest.get("tools", {}),
            frame=job.frame,
            cross=job.cross,
            styles_dir=job.styles_dir,
        ),
    )
    return job.review.summary()


def check(part: OutputPart) -> list[str]:
    try:
        read_review(part.file(REVIEW_JSON))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{REVIEW_JSON}: unreadable: {exc}"]
    if not part.file(REVIEW_HTML).is_file():
        return [f"{REVIEW_HTML}: missing"]
    return []


REVIEW = ReleaseOutput("review", write, per_audience=False, check=check)
