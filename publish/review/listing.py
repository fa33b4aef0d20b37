"""The findings as review.html lists them: one card per finding with its severity, kind, the
layer's title, the feature (id and name), the field and value, the area, where it is (a map
image and a link into the staff viewer) and the message in Chinese and English.

A card is one narrow block (facts beside the image, the message below; stacked on a narrow
screen), so the section fits an A4 portrait page and a 1,200 px window without a wide table.
Its CSS is FINDINGS_CSS (class names start with `finding`); the page's own look is page.py's.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

from publish.checks.findings import KIND_ZH, Finding, Severity
from publish.checks.rules import BY_KIND
from publish.review.maps import HEIGHT, WIDTH
from publish.review.places import FindingPlace

__all__ = ["FINDINGS_CSS", "findings_html"]

_SEVERITY_ZH = {Severity.BLOCKING: "阻断", Severity.WARNING: "警告"}

FINDINGS_CSS = f"""
.findings {{ display: grid; gap: .8rem; max-width: 62rem; }}
.finding {{ display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, {WIDTH}px);
  grid-template-areas: "head head" "facts map" "message message"; gap: .35rem 1rem;
  border: 1px solid #d0d0d5; border-left: 4px solid #8a5a00; border-radius: .3rem;
  padding: .55rem .75rem; break-inside: avoid; page-break-inside: avoid; }}
.finding.blocking {{ border-left-color: #a01c14; }}
.finding-head {{ grid-area: head; margin: 0; font-size: 1rem; font-weight: 600; }}
.finding-severity {{ margin-right: .5rem; }}
.finding.blocking .finding-severity {{ color: #a01c14; }}
.finding.warning .finding-severity {{ color: #8a5a00; }}
.finding-kind code, .finding-layer code {{ font-weight: normal; color: #555; }}
.finding-facts {{ grid-area: facts; display: grid; grid-template-columns: max-content minmax(0, 1fr);
  gap: .15rem .8rem; margin: 0; font-size: .9rem; align-content: start; }}
.finding-facts dt {{ color: #555; }}
.finding-facts dd {{ margin: 0; overflow-wrap: anywhere; }}
.finding-map {{ grid-area: map; margin: 0; }}
.finding-map img {{ display: block; width: 100%; max-width: {WIDTH}px; height: auto;
  border: 1px solid #d0d0d5; }}
.finding-message {{ grid-area: message; overflow-wrap: anywhere; }}
.finding-message p {{ margin: .1rem 0; }}
@media (max-width: 40rem) {{
  .finding {{ grid-template-columns: minmax(0, 1fr); grid-template-areas: "head" "facts" "map"
    "message"; }}
}}
@media print {{
  .findings {{ max-width: none; }}
  .finding-link {{ color: inherit; text-decoration: none; }}
}}
"""


def findings_html(findings: Sequence[Finding], places: Sequence[FindingPlace]) -> str:
    """The findings section (escaped): one card per finding, blocking ones first."""
    if not findings:
        return "<p>没有发现问题。No findings.</p>"
    order = sorted(
        range(len(findings)),
        key=lambda i: (findings[i].severity is not Severity.BLOCKING, findings[i].layer, i),
    )
    cards = "".join(_card(findings[i], places[i]) for i in order)
    return f'<section id="findings" class="findings">{cards}</section>'


def _card(f: Finding, place: FindingPlace) -> str:
    rule = BY_KIND.get(f.kind)
    head = (
        f'<h3 class="finding-head"><span class="finding-severity">'
        f"{_SEVERITY_ZH[f.severity]} {f.severity.value}</span>"
        f'<span class="finding-kind">{escape(KIND_ZH.get(f.kind, f.kind))} '
        f'<span class="en">{escape(rule.en if rule else "")}</span> '
        f"<code>{escape(f.kind)}</code></span></h3>"
    )
    facts = [
        (
            "图层 Layer",
            "layer",
            f'{escape(place.layer_title_zh)} <span class="en">{escape(place.layer_title_en)}</span>'
            f" <code>{escape(f.layer)}</code>",
        ),
        ("要素 Feature", "feature", _feature(f, place)),
    ]
    if f.field is not None or f.value is not None:
        value = escape(f.field or "") + (f" = {escape(f.value)}" if f.value is not None else "")
        facts.append(("字段 Field", "field", value))
    if f.area_m2 is not None:
        facts.append(("面积 Area", "area", f"{f.area_m2:,.1f} m²"))
    if f.lonlat is not None:
        where = f"{f.lonlat[0]:.6f}, {f.lonlat[1]:.6f}"
        if place.link is not None:
            where += (
                f' <a class="finding-link" href="{escape(place.link)}">'
                "在内部地图中查看 Open in the staff map</a>"
            )
        facts.append(("位置 Location", "location", where))
    facts_html = "".join(
        f'<dt>{escape(label)}</dt><dd class="finding-{cls}">{value}</dd>'
        for label, cls, value in facts
    )
    message = (
        f'<div class="finding-message"><p class="zh">{escape(f.message_zh)}</p>'
        f'<p class="en">{escape(f.message)}</p></div>'
    )
    return (
        f'<article class="finding {f.severity.value}" data-kind="{escape(f.kind)}" '
        f'data-layer="{escape(f.layer)}">{head}<dl class="finding-facts">{facts_html}</dl>'
        f"{_image(f, place)}{message}</article>"
    )


def _feature(f: Finding, place: FindingPlace) -> str:
    """The feature's id, then its name, then the feature it conflicts with."""
    text = escape(f.feature or "")
    if place.name:
        text += f" {escape(place.name)}"
    if f.other_feature is not None:
        other = (
            f"{f.other_layer}:{f.other_feature}" if f.other_layer != f.layer else f.other_feature
        )
        text += f" / {escape(other)}"
    return text


def _image(f: Finding, place: FindingPlace) -> str:
    if place.image is None:
        return ""
    data = base64.b64encode(place.image).decode("ascii")
    named = " ".join(x for x in (f.feature, place.name) if x)
    alt = f"{place.layer_title_zh} {named} 位置图 map of {place.layer_title_en} {named}"
    return (
        f'<figure class="finding-map"><img src="data:image/png;base64,{data}" '
        f'width="{WIDTH}" height="{HEIGHT}" alt="{escape(alt)}"></figure>'
    )
