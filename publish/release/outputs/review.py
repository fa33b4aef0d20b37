"""The review report: the checks' findings (review.json, review.html, in Chinese and English),
summarised in the manifest's `review` entry."""

from __future__ import annotations

from typing import Any

from publish.checks.report import REVIEW_HTML, REVIEW_JSON, read_review, write_report
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput


def write(job: ReleaseJob) -> dict[str, Any]:
    write_report(
        job.review,
        job.staged,
        title=f"成果审查报告 Review report — {job.release_id}",
        context={"catalog": str(job.catalog_source), "release": job.release_id},
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
