"""The look of the build's own pages (the review report, the release diff): one self-contained
HTML page, inline CSS, no scripts, no external resources, lang zh-CN, every text escaped by the
caller.

The pages print: on A4 (@page), every table within the page's width (cells wrap, long words
and paths break anywhere), headings kept with what follows them, rows and images never split
across pages. A section's own CSS (the findings' images, the inventory's tables) adds to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["context_list", "html_page"]

_CSS = """
body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
       margin: 2rem; color: #1d1d1f; line-height: 1.45; overflow-wrap: anywhere; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
.status { display: inline-block; padding: .2rem .7rem; border-radius: .3rem; font-weight: 600; }
.status.ok { background: #e3f4e1; color: #1e6b1a; }
.status.blocked { background: #fde2e1; color: #a01c14; }
table { border-collapse: collapse; margin-top: .5rem; font-size: .9rem; max-width: 100%; }
th, td { border: 1px solid #d0d0d5; padding: .3rem .55rem; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #f2f2f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: normal; }
tr.blocking td.severity { color: #a01c14; font-weight: 600; }
tr.warning td.severity { color: #8a5a00; font-weight: 600; }
.en { color: #555; }
code, a { overflow-wrap: anywhere; word-break: break-word; }
pre { white-space: pre-wrap; }
img, svg, figure { max-width: 100%; height: auto; break-inside: avoid; page-break-inside: avoid; }
dl.context { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2rem 1rem; }
dl.context dt { font-weight: 600; }
dl.context dd { margin: 0; min-width: 0; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; font-size: 10pt; line-height: 1.35; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  h2 { margin-top: 1.2rem; }
  table { width: 100%; font-size: 8pt; }
  th, td { padding: .15rem .3rem; min-width: 4em; }  /* a short word stays whole */
  tr, img, figure { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
"""


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
