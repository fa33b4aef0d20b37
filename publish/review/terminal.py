"""The review on the terminal: a few plain lines (or a rich table) with one row per layer and
the first message of each blocking kind, so the person at the keyboard knows what to fix."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from publish.checks.findings import Finding, Review, Severity

if TYPE_CHECKING:
    from rich.console import Group

__all__ = ["first_blocking", "summary_lines", "summary_renderable"]


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


def first_blocking(review: Review) -> str | None:
    """The first blocking finding's message in full (one line), to name in the build's error."""
    for finding in review.findings:
        if finding.severity is Severity.BLOCKING and not finding.omitted:
            return f"{finding.layer}: " + " ".join(finding.message.splitlines())
    return None
