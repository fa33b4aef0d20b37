"""review.html as a planner reads and prints it, in Chromium: at 1,200 px nothing is wider than
the window; printed on A4 nothing is wider than the page's content (no cut column) and the PDF
has as many pages as the content needs (no blank or lost pages); and no folder of the build
machine appears in the page or in review.json — for the refused build's report and the clean
release's."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.review.conftest import BuiltReport

# A4 (210 × 297 mm) less publish.review.page's @page margins (12 mm sides, 14 mm top and bottom),
# in CSS pixels (96 per inch)
MM = 96 / 25.4
CONTENT_WIDTH = math.floor((210 - 2 * 12) * MM)
CONTENT_HEIGHT = (297 - 2 * 14) * MM

# every element's right edge past the document's width (its tag, class and edge)
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scroller = document.scrollingElement;
  const past = [...document.body.querySelectorAll('*')]
    .filter((e) => e.getBoundingClientRect().right > width + 0.5)
    .map((e) => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`);
  return {scroll: scroller.scrollWidth, client: scroller.clientWidth,
          height: scroller.scrollHeight, past: past.slice(0, 10)};
}"""


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def test_the_page_fits_a_1200px_window(page: Any, built_report: BuiltReport) -> None:
    page.goto((built_report.folder / "review.html").as_uri())
    layout = page.evaluate(OVERFLOW)
    assert layout["client"] == 1200
    assert layout["scroll"] <= layout["client"], layout
    assert layout["past"] == [], layout


def test_the_page_prints_on_a4_without_a_cut_column(page: Any, built_report: BuiltReport) -> None:
    page.goto((built_report.folder / "review.html").as_uri())
    page.emulate_media(media="print")
    page.set_viewport_size({"width": CONTENT_WIDTH, "height": round(CONTENT_HEIGHT)})
    layout = page.evaluate(OVERFLOW)
    assert layout["scroll"] <= CONTENT_WIDTH, layout
    assert layout["past"] == [], layout
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    # as many pages as the printed height needs, a few more where rows and images are kept whole
    needed = math.ceil(layout["height"] / CONTENT_HEIGHT)
    assert needed <= pages <= needed + max(1, needed // 4), (pages, layout["height"])
    # the style's print rules are what was printed: the page's own margins, not the screen's
    body_margin = page.evaluate("getComputedStyle(document.body).marginLeft")
    assert body_margin == "0px"


def test_no_folder_of_the_build_machine_in_the_page_or_document(
    built_report: BuiltReport,
) -> None:
    for name in ("review.html", "review.json"):
        text = (built_report.folder / name).read_text(encoding="utf-8")
        for path in built_report.machine:
            assert str(path) not in text, (name, path)
            assert path.as_uri() not in text, (name, path)
