"""The changes since the release this one replaces (动态更新): each audience's diff
(diff/<audience>/diff.json and diff.html, publish.history) and the manifest's `changes` entry —
{"against": <the replaced release>, "summary": {audience: one line}, "diff": {audience: {"json",
"html"}}} — that release lists and /releases show. The first release of a folder replaces none
and has no entry. A public diff is checked to name no layer the release keeps internal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from publish.domain import AUDIENCES, PUBLIC
from publish.errors import PublishError
from publish.history.diff import compare_releases
from publish.history.report import DIFF_HTML, DIFF_JSON, summary_line, summary_lines, write_diff
from publish.history.snapshot import open_snapshot
from publish.release.output import OutputPart, ReleaseJob, ReleaseOutput

CHANGES_KEY = "changes"


def write(job: ReleaseJob) -> dict[str, Any] | None:
    if job.previous is None:
        return None
    with job.stages.stage(f"changes since {job.previous.name}"):
        try:
            diffs = compare_releases(job.previous, open_snapshot(job.staged, job.manifest))
        except PublishError as exc:  # the replaced release unreadable, or another city's
            job.stages.log(f"no diff against {job.previous.name}: {exc}")
            return None
        entry: dict[str, Any] = {"against": job.previous.name, "summary": {}, "diff": {}}
        for audience in AUDIENCES:
            folder = f"diff/{audience}"
            write_diff(diffs[audience], job.path(f"{folder}/{DIFF_JSON}").parent)
            entry["diff"][audience] = {
                "json": f"{folder}/{DIFF_JSON}",
                "html": f"{folder}/{DIFF_HTML}",
            }
            entry["summary"][audience] = summary_line(diffs[audience])
    for line in summary_lines(diffs[AUDIENCES[-1]]):
        job.stages.log(line)
    return entry


def diff_files(manifest: Mapping[str, Any], audience: str) -> dict[str, str] | None:
    """The audience's diff files ({"json", "html"}, relative paths) in a release's manifest."""
    files = ((manifest.get(CHANGES_KEY) or {}).get("diff") or {}).get(audience)
    return files if isinstance(files, dict) else None


def check(part: OutputPart) -> list[str]:
    problems = []
    internal_only = {
        lid
        for lid, info in (part.manifest.get("layers") or {}).items()
        if (info or {}).get("access") != PUBLIC
    }
    for audience in AUDIENCES:
        files = diff_files(part.manifest, audience)
        if files is None:
            problems.append(f"no diff for the {audience} audience")
            continue
        try:
            doc = json.loads(part.file(files.get("json")).read_text(encoding="utf-8"))
            part.file(files.get("html")).stat()
        except (OSError, ValueError, PublishError) as exc:
            problems.append(f"{audience} diff unreadable: {exc}")
            continue
        named = {str(layer.get("id")) for layer in doc.get("layers") or []}
        if audience == PUBLIC and (leak := sorted(named & internal_only)):
            problems.append(f"the public diff names internal layers {leak}")
    return problems


CHANGES = ReleaseOutput(CHANGES_KEY, write, per_audience=False, check=check)
