from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from rich.console import Console

from publish.checks.findings import FindingLimiter, Review, make_finding
from publish.review.report import new_report_folder, read_review, write_report
from publish.review.terminal import summary_lines, summary_renderable
from tests.checks.helpers import check_html_lists_review, parse_html


def _review() -> Review:
    limiter = FindingLimiter(limit=2)
    for i in range(5):
        limiter.add(
            make_finding(
                "empty_geometry",
                "yjjbnt",
                f"layer yjjbnt, feature {i}: the geometry is empty",
                f"图层 yjjbnt 要素 {i}：几何为空",
                feature=str(i),
            )
        )
    review = Review(limiter.findings())
    review.add(
        make_finding(
            "unknown_code",
            "ydyh",
            "layer ydyh, feature 7: YDYHFLDM = '<script>alert(1)</script>' & more",
            "图层 ydyh 要素 7：代码 <b>不在</b> 值域内",
            feature="7",
            field="YDYHFLDM",
            value="<script>alert(1)</script>",
            lonlat=(110.5, 29.25),
        )
    )
    review.add(
        make_finding(
            "control_line_overlap",
            "yjjbnt",
            "layer yjjbnt, feature 9 overlaps layer stbhhx, feature 3 by 7,194.5 m²",
            "永久基本农田要素 9 与生态保护红线要素 3 重叠 7,194.5 m²",
            feature="9",
            other_layer="stbhhx",
            other_feature="3",
            area_m2=7194.5,
            lonlat=(110.274733, 29.598663),
        )
    )
    review.add(
        make_finding(
            "invalid_geometry",
            "yjjbnt",
            "layer yjjbnt, feature 11: invalid geometry; repaired",
            "图层 yjjbnt 要素 11：几何无效，已修复",
            feature="11",
        )
    )
    return review


def test_write_report_json_round_trip(tmp_path: Path) -> None:
    review = _review()
    built = datetime(2026, 11, 28, 12, 0, 0)
    context = {"catalog": tmp_path / "layers.yml", "built": built, "layers": ["yjjbnt", "ydyh"]}
    files = write_report(review, tmp_path / "out", title="成果审查报告", context=context)
    json_path, html_path = files.json, files.html
    assert json_path == tmp_path / "out" / "review.json" and html_path.name == "review.html"
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["ok"] is False and doc["title"] == "成果审查报告"
    assert doc["context"] == {
        "catalog": str(tmp_path / "layers.yml"),
        "built": str(built),
        "layers": ["yjjbnt", "ydyh"],
    }
    assert doc["summary"]["by_severity"] == {"blocking": 7, "warning": 1}
    back = read_review(json_path)
    assert back.findings == review.findings


def test_html_lists_every_finding_escaped(tmp_path: Path) -> None:
    review = _review()
    html_path = write_report(review, tmp_path, title="审查 <test>", context={"catalog": "x"}).html
    page = check_html_lists_review(html_path, review)
    text = html_path.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<b>" not in text
    assert "<title>审查 &lt;test&gt;</title>" in text
    overlap = next(card for card in page.cards if "control_line_overlap" in card["kind"])
    assert overlap["feature"] == "9 / stbhhx:3"
    assert overlap["area"] == "7,194.5 m²" and overlap["location"] == "110.274733, 29.598663"
    assert page.cards[0]["severity"].endswith("blocking")  # blocking first
    assert page.cards[-1]["severity"].endswith("warning")
    assert "控制线重叠<br><span class='en'>control lines overlap</span>" in text  # the rules' names


def test_html_of_an_empty_review(tmp_path: Path) -> None:
    html_path = write_report(Review(), tmp_path, title="t", context={}).html
    page = parse_html(html_path)
    assert page.cards == [] and "审查通过" in html_path.read_text(encoding="utf-8")


def test_summary_lines_and_table() -> None:
    review = _review()
    lines = summary_lines(review)
    assert lines[0].startswith("Review BLOCKED") and "7 blocking, 1 warning " in lines[0]
    assert any(
        line.strip().startswith("yjjbnt: 6 blocking, 1 warning ") and "empty_geometry 5" in line
        for line in lines
    )
    # under each layer, the first message of each blocking kind, and how many more there are
    at = lines.index(next(line for line in lines if line.strip().startswith("yjjbnt:")))
    assert lines[at + 1 : at + 3] == [
        "    empty_geometry: layer yjjbnt, feature 0: the geometry is empty (and 4 more)",
        "    control_line_overlap: layer yjjbnt, feature 9 overlaps layer stbhhx, feature 3"
        " by 7,194.5 m²",
    ]
    assert not any("invalid geometry; repaired" in line for line in lines), "warnings: counts"
    console = Console(record=True, width=120)
    console.print(summary_renderable(review))
    text = console.export_text()
    assert "BLOCKED" in text and "ydyh" in text and "unknown_code 1" in text
    # the message as it is: not read as rich markup
    assert (
        "ydyh unknown_code: layer ydyh, feature 7: YDYHFLDM = '<script>alert(1)</script>'" in text
    )
    assert "yjjbnt empty_geometry: layer yjjbnt, feature 0: the geometry is empty" in text
    assert summary_lines(Review())[0].startswith("Review passed")


def test_a_message_with_rich_markup_is_printed_as_it_is() -> None:
    review = Review()
    review.add(
        make_finding(
            "source_error",
            "hl",
            "layer hl: [bold]hl[/bold].geojson:\ncannot be read",
            "图层 hl：数据源无法读取",
        )
    )
    console = Console(record=True, width=200)
    console.print(summary_renderable(review))
    assert "hl source_error: layer hl: [bold]hl[/bold].geojson: cannot be read" in (
        console.export_text()
    )
    assert summary_lines(review)[-1] == (
        "    source_error: layer hl: [bold]hl[/bold].geojson: cannot be read"
    )


def test_report_folders_are_new_for_every_report(tmp_path: Path) -> None:
    """Two reports in the same second: two folders, both named by that second."""
    when = datetime(2026, 11, 28, 14, 0, 55)
    first = new_report_folder(tmp_path / "reports", when)
    second = new_report_folder(tmp_path / "reports", when)
    assert first != second and first.is_dir() and second.is_dir()
    assert first.name.startswith("20261128T140055Z-") and second.name.startswith(
        "20261128T140055Z-"
    )
    assert not any(first.iterdir()) and not any(second.iterdir())
