"""The review report's folder: review.json for machines, review.html for people (and the
findings' exports beside them).

review.html is one self-contained page (inline CSS, no scripts, no external resources, lang
zh-CN): the outcome, what was checked (publish.review.inventory), a summary by layer and
severity, then every finding with its place (publish.review.listing). All text is escaped, and
no path of the build machine appears in any file (paths are relative to the catalog).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from publish.checks.findings import KIND_ZH, Review
from publish.checks.rules import BY_KIND
from publish.review.exports import write_exports
from publish.review.inputs import ReportInputs
from publish.review.inventory import inventory_html, take_inventory
from publish.review.listing import FINDINGS_CSS, findings_html
from publish.review.page import context_list, html_page
from publish.review.places import FindingPlace, no_places, place_findings

__all__ = [
    "REVIEW_HTML",
    "REVIEW_JSON",
    "ReportFiles",
    "new_report_folder",
    "read_review",
    "report_title",
    "write_report",
]

REVIEW_JSON = "review.json"
REVIEW_HTML = "review.html"


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    html: Path
    exports: Mapping[str, str]  # {format: file name} beside them


def report_title(inputs: ReportInputs) -> str:
    if inputs.release_id is not None:
        return f"成果审查报告 Review report — {inputs.release_id}"
    return f"成果审查报告 Review report — 未发布 {inputs.outcome}"


def new_report_folder(parent: Path, when: datetime) -> Path:
    """A new, empty folder parent/<UTC time>-<random suffix> for one report, created
    exclusively (tempfile.mkdtemp), so two builds in the same second each get their own folder
    and no report ever overwrites another. Readable by others, as the releases are."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=when.strftime("%Y%m%dT%H%M%SZ-"), dir=parent))
    folder.chmod(0o755)
    return folder


def write_report(
    review: Review,
    out_dir: Path,
    inputs: ReportInputs | None = None,
    *,
    title: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> ReportFiles:
    """Write out_dir/review.json, out_dir/review.html and the findings' exports.

    `inputs` (the build's catalog and layers) give the report what was checked and where each
    finding is; without them (the checks' own tests) the report holds the findings only.
    ``context`` (extra key/value lines) goes into both files; values that JSON cannot hold are
    written as text.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if inputs is not None:
        title = title or report_title(inputs)
        context = {
            "catalog": inputs.relative(inputs.catalog_source),
            "outcome": inputs.outcome,
            **(context or {}),
        }
        checked: dict[str, Any] | None = take_inventory(review, inputs)
        places: Sequence[FindingPlace] = place_findings(review, inputs)
    else:
        checked, places = None, no_places(review)
    title = title or "成果审查报告 Review report"
    context = dict(context or {})
    doc = review.to_dict()
    doc["title"] = title
    doc["context"] = context
    if checked is not None:
        doc["checked"] = checked
    doc["places"] = [place.to_dict() for place in places]
    json_path = out_dir / REVIEW_JSON
    json_path.write_text(
        json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    html_path = out_dir / REVIEW_HTML
    html_path.write_text(
        render_html(review, places, checked, title=title, context=context), encoding="utf-8"
    )
    exports = write_exports(review, places, inputs, out_dir)
    return ReportFiles(json_path, html_path, exports)


def read_review(path: Path) -> Review:
    """The review stored in a review.json."""
    return Review.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def render_html(
    review: Review,
    places: Sequence[FindingPlace],
    checked: Mapping[str, Any] | None,
    *,
    title: str,
    context: Mapping[str, Any],
) -> str:
    summary = review.summary()
    body = [
        _status(review, summary),
        context_list(context),
        *(inventory_html(dict(checked)) if checked is not None else []),
        "<h2>汇总 Summary</h2>",
        _summary_table(summary, _layer_titles(review, places)),
        "<h2>问题清单 Findings</h2>",
        findings_html(review.findings, places),
    ]
    return html_page(title, body, css=FINDINGS_CSS)


def _status(review: Review, summary: Mapping[str, Any]) -> str:
    counts = summary["by_severity"]
    text = (
        f"{counts['blocking']} 个阻断问题 blocking, {counts['warning']} 个警告 warnings"
        f"（共列出 {summary['listed']} 条 findings listed）"
    )
    if review.ok:
        label = '<span class="status ok">审查通过 Passed</span>'
    else:
        label = (
            '<span class="status blocked">审查未通过，不予发布 Blocked: nothing is published</span>'
        )
    return f"<p>{label} {escape(text)}</p>"


def _layer_titles(review: Review, places: Sequence[FindingPlace]) -> dict[str, str]:
    """Each layer with findings as the summary names it: its titles and id (escaped HTML)."""
    titles: dict[str, str] = {}
    for finding, place in zip(review.findings, places, strict=True):
        zh, en = place.layer_title_zh, place.layer_title_en
        name = escape(zh) + (f"<br><span class='en'>{escape(en)}</span>" if en != zh else "")
        if zh != finding.layer:
            name += f" <code>{escape(finding.layer)}</code>"
        titles.setdefault(finding.layer, name)
    return titles


def _summary_table(summary: Mapping[str, Any], titles: Mapping[str, str]) -> str:
    by_layer: Mapping[str, Mapping[str, int]] = summary["by_layer"]
    if not by_layer:
        return "<p>没有发现问题。No findings.</p>"
    head = (
        "<tr><th>图层 Layer</th><th>阻断 Blocking</th><th>警告 Warning</th><th>合计 Total</th></tr>"
    )
    rows = [head]
    for layer, counts in by_layer.items():
        rows.append(
            f"<tr><td>{titles.get(layer, escape(layer))}</td><td class='num'>{counts['blocking']}</td>"
            f"<td class='num'>{counts['warning']}</td>"
            f"<td class='num'>{counts['blocking'] + counts['warning']}</td></tr>"
        )
    totals = summary["by_severity"]
    rows.append(
        f"<tr><th>合计 Total</th><th class='num'>{totals['blocking']}</th>"
        f"<th class='num'>{totals['warning']}</th><th class='num'>{summary['total']}</th></tr>"
    )
    by_kind = "".join(
        f"<tr><td>{escape(kind)}</td><td>{escape(KIND_ZH.get(kind, kind))}"
        f"<br><span class='en'>{escape(BY_KIND[kind].en if kind in BY_KIND else '')}</span></td>"
        f"<td class='num'>{count}</td></tr>"
        for kind, count in summary["by_kind"].items()
    )
    return (
        '<table class="summary">' + "".join(rows) + "</table>"
        '<table class="kinds"><tr><th>类型 Kind</th><th>说明</th><th>数量 Count</th></tr>'
        + by_kind
        + "</table>"
    )
