"""The review report: review.json for machines, review.html for people, a summary for the terminal.

review.html is one self-contained page (inline CSS, no scripts, no external resources, lang
zh-CN): a summary by layer and severity, then every finding. All text is escaped.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from publish.checks.findings import KIND_ZH, Finding, Review, Severity
from publish.checks.rules import BY_KIND

if TYPE_CHECKING:
    from rich.console import Group

__all__ = [
    "context_list",
    "html_page",
    "new_report_folder",
    "summary_lines",
    "summary_renderable",
    "write_report",
]

REVIEW_JSON = "review.json"
REVIEW_HTML = "review.html"

_SEVERITY_ZH = {Severity.BLOCKING: "阻断", Severity.WARNING: "警告"}

_CSS = """
body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
       margin: 2rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
.status { display: inline-block; padding: .2rem .7rem; border-radius: .3rem; font-weight: 600; }
.status.ok { background: #e3f4e1; color: #1e6b1a; }
.status.blocked { background: #fde2e1; color: #a01c14; }
table { border-collapse: collapse; margin-top: .5rem; font-size: .9rem; }
th, td { border: 1px solid #d0d0d5; padding: .3rem .55rem; text-align: left; vertical-align: top; }
th { background: #f2f2f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.blocking td.severity { color: #a01c14; font-weight: 600; }
tr.warning td.severity { color: #8a5a00; font-weight: 600; }
.en { color: #555; }
dl.context { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dl.context dt { font-weight: 600; }
dl.context dd { margin: 0; }
"""


def new_report_folder(parent: Path, when: datetime) -> Path:
    """A new, empty folder parent/<UTC time>-<random suffix> for one report, created
    exclusively (tempfile.mkdtemp), so two builds in the same second each get their own folder
    and no report ever overwrites another. Readable by others, as the releases are."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=when.strftime("%Y%m%dT%H%M%SZ-"), dir=parent))
    folder.chmod(0o755)
    return folder


def write_report(
    review: Review, out_dir: Path, *, title: str, context: Mapping[str, Any]
) -> tuple[Path, Path]:
    """Write out_dir/review.json and out_dir/review.html; return both paths.

    ``context`` (e.g. catalog path, build time, layers) goes into both files; values that
    JSON cannot hold (paths, datetimes) are written as text.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = review.to_dict()
    doc["title"] = title
    doc["context"] = dict(context)
    json_path = out_dir / REVIEW_JSON
    json_path.write_text(
        json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    html_path = out_dir / REVIEW_HTML
    html_path.write_text(render_html(review, title=title, context=context), encoding="utf-8")
    return json_path, html_path


def read_review(path: Path) -> Review:
    """The review stored in a review.json."""
    return Review.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def html_page(title: str, body: Sequence[str], *, css: str = "") -> str:
    """A self-contained page in the review report's style (inline CSS plus `css`, no scripts,
    no external resources, lang zh-CN): `title` escaped as its title and heading, then `body`
    (HTML the caller has escaped). The release diff's page (publish.history.page) uses it too."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}{css}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)}</h1>",
        *body,
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def render_html(review: Review, *, title: str, context: Mapping[str, Any]) -> str:
    summary = review.summary()
    body = [
        _status(review, summary),
        context_list(context),
        "<h2>汇总 Summary</h2>",
        _summary_table(summary),
        "<h2>问题清单 Findings</h2>",
        _findings_table(review.findings),
    ]
    return html_page(title, body)


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


def context_list(context: Mapping[str, Any]) -> str:
    """Key/value pairs as the report's definition list (lists joined with commas), escaped."""
    if not context:
        return ""
    rows = []
    for key, value in context.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        rows.append(f"<dt>{escape(str(key))}</dt><dd>{escape(str(value))}</dd>")
    return '<dl class="context">' + "".join(rows) + "</dl>"


def _summary_table(summary: Mapping[str, Any]) -> str:
    by_layer: Mapping[str, Mapping[str, int]] = summary["by_layer"]
    if not by_layer:
        return "<p>没有发现问题。No findings.</p>"
    head = (
        "<tr><th>图层 Layer</th><th>阻断 Blocking</th><th>警告 Warning</th><th>合计 Total</th></tr>"
    )
    rows = [head]
    for layer, counts in by_layer.items():
        rows.append(
            f"<tr><td>{escape(layer)}</td><td class='num'>{counts['blocking']}</td>"
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


_COLUMNS = (
    "严重程度 Severity",
    "类型 Kind",
    "图层 Layer",
    "要素 Feature",
    "字段 Field",
    "值 Value",
    "面积 Area (m²)",
    "位置 Location (lon,lat)",
    "说明 Message",
)


def _findings_table(findings: list[Finding]) -> str:
    if not findings:
        return "<p>没有发现问题。No findings.</p>"
    head = "<tr>" + "".join(f"<th>{escape(c)}</th>" for c in _COLUMNS) + "</tr>"
    order = sorted(
        range(len(findings)),
        key=lambda i: (findings[i].severity is not Severity.BLOCKING, findings[i].layer, i),
    )
    return (
        '<table id="findings" class="findings">'
        + head
        + "".join(_finding_row(findings[i]) for i in order)
        + "</table>"
    )


def _finding_row(f: Finding) -> str:
    feature = f.feature or ""
    if f.other_feature is not None:
        other = (
            f"{f.other_layer}:{f.other_feature}" if f.other_layer != f.layer else f.other_feature
        )
        feature = f"{feature} / {other}"
    location = f"{f.lonlat[0]:.6f},{f.lonlat[1]:.6f}" if f.lonlat is not None else ""
    area = f"{f.area_m2:,.1f}" if f.area_m2 is not None else ""
    cells = [
        ("severity", f"{_SEVERITY_ZH[f.severity]} {f.severity.value}"),
        ("kind", f.kind),
        ("layer", f.layer),
        ("feature", feature),
        ("field", f.field or ""),
        ("value", f.value or ""),
        ("num area", area),
        ("location", location),
    ]
    tds = "".join(f'<td class="{cls}">{escape(text)}</td>' for cls, text in cells)
    message = (
        f'<td class="message"><div class="zh">{escape(f.message_zh)}</div>'
        f'<div class="en">{escape(f.message)}</div></td>'
    )
    return (
        f'<tr class="finding {f.severity.value}" data-kind="{escape(f.kind)}">{tds}{message}</tr>'
    )


def summary_lines(review: Review) -> list[str]:
    """A short plain-text summary for the terminal: counts by layer and kind, and under each
    layer the first message of each blocking kind (what to fix, not only its kind)."""
    summary = review.summary()
    counts = summary["by_severity"]
    status = "passed" if review.ok else "BLOCKED (nothing is published)"
    lines = [
        f"Review {status}: {counts['blocking']} blocking, {_warnings(counts['warning'])} "
        f"({summary['listed']} findings listed)"
    ]
    kinds = _kinds_by_layer(review)
    blocking = _blocking_messages(review)
    for layer, layer_counts in summary["by_layer"].items():
        detail = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds[layer].items()))
        lines.append(
            f"  {layer}: {layer_counts['blocking']} blocking, "
            f"{_warnings(layer_counts['warning'])} ({detail})"
        )
        lines += [f"    {line}" for line in blocking.get(layer, [])]
    return lines


def _warnings(n: int) -> str:
    return f"{n} warning" if n == 1 else f"{n} warnings"


def summary_renderable(review: Review) -> Group:
    """The summary as rich shows it on a terminal: a table with one row per layer (counts by
    severity and by kind), then the first message of each blocking kind in each layer."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    summary = review.summary()
    status = "[green]passed[/]" if review.ok else "[bold red]BLOCKED[/]"
    table = Table(title=f"Review {status}", title_justify="left")
    table.add_column("Layer")
    table.add_column("Blocking", justify="right", style="red")
    table.add_column("Warning", justify="right", style="yellow")
    table.add_column("Kinds")
    kinds = _kinds_by_layer(review)
    for layer, counts in summary["by_layer"].items():
        detail = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds[layer].items()))
        table.add_row(layer, str(counts["blocking"]), str(counts["warning"]), detail)
    totals = summary["by_severity"]
    table.add_row("Total", str(totals["blocking"]), str(totals["warning"]), "", style="bold")
    # messages are data (file names, values): Text, never parsed as rich markup
    messages = [
        Text(f"{layer} {line}", style="red")
        for layer, lines in _blocking_messages(review).items()
        for line in lines
    ]
    return Group(table, *messages)


def _blocking_messages(review: Review) -> dict[str, list[str]]:
    """Per layer, one line per blocking kind: "kind: <its first finding's message>", with how
    many more findings of that kind there are (listed in the report or not)."""
    first: dict[tuple[str, str], Finding] = {}
    for finding in review.findings:  # a listed finding before an "... and N more" one
        key = (finding.layer, finding.kind)
        if finding.severity is Severity.BLOCKING and (
            key not in first or (first[key].omitted and not finding.omitted)
        ):
            first[key] = finding
    kinds = _kinds_by_layer(review)
    lines: dict[str, list[str]] = {}
    for (layer, kind), finding in first.items():
        more = kinds[layer][kind] - finding.count
        text = " ".join(finding.message.splitlines())
        if more > 0:
            text += f" (and {more} more)"
        lines.setdefault(layer, []).append(f"{kind}: {text}")
    return lines


def _kinds_by_layer(review: Review) -> dict[str, Counter[str]]:
    kinds: dict[str, Counter[str]] = {}
    for finding in review.findings:
        kinds.setdefault(finding.layer, Counter())[finding.kind] += finding.count
    return kinds
