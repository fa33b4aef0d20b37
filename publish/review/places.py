"""Where each finding is, for a reader without a GIS: the layer's title, the feature's name,
a link that opens the staff viewer there, and a small map image of the feature among its
neighbours in the plan's own style (the first IMAGES_PER_KIND findings of each kind)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from publish.checks.findings import Review
from publish.review.inputs import ReportInputs

__all__ = ["IMAGES_PER_KIND", "FindingPlace", "place_findings"]

IMAGES_PER_KIND = 50


@dataclass(frozen=True)
class FindingPlace:
    """One finding's place, in the order of the review's findings."""

    layer_title_zh: str
    layer_title_en: str
    name: str | None = None  # the feature's name (the layer's name_field), if it has one
    link: str | None = None  # the staff viewer at the finding: /internal/#map=…
    image: bytes | None = None  # PNG; None beyond IMAGES_PER_KIND or without a location

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer_title": {"zh": self.layer_title_zh, "en": self.layer_title_en},
            "name": self.name,
            "link": self.link,
            "image": self.image is not None,
        }


def place_findings(review: Review, inputs: ReportInputs) -> list[FindingPlace]:
    """One FindingPlace per finding of `review`, same order."""
    titles = {spec.id: (spec.title_zh, spec.title_en) for spec in inputs.catalog.layers}
    places = []
    for finding in review.findings:
        zh, en = titles.get(finding.layer, (finding.layer, finding.layer))
        places.append(FindingPlace(zh, en))
    return places


def no_places(review: Review) -> Sequence[FindingPlace]:
    """Places for a report written without its inputs (layer ids stand for the titles)."""
    return [FindingPlace(f.layer, f.layer) for f in review.findings]
