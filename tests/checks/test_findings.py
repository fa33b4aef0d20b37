from __future__ import annotations

import json

import pytest

from publish.checks.findings import (
    KINDS,
    Finding,
    FindingLimiter,
    Review,
    Severity,
    make_finding,
    severity_of,
)


def _finding(kind: str = "duplicate_id", layer: str = "a", feature: str | None = "1") -> Finding:
    return make_finding(
        kind, layer, f"layer {layer}: {kind}", f"图层 {layer}：{kind}", feature=feature
    )


def test_severity_of_each_kind() -> None:
    warnings = {"invalid_geometry", "plan_conflict"}
    for kind in warnings:
        assert severity_of(kind) is Severity.WARNING
    for kind in KINDS:
        if kind not in warnings:
            assert severity_of(kind) is Severity.BLOCKING
    with pytest.raises(ValueError, match="unknown finding kind"):
        severity_of("no_such_kind")


def test_finding_round_trips_through_json() -> None:
    finding = Finding(
        kind="control_line_overlap",
        severity=Severity.BLOCKING,
        layer="yjjbnt",
        message="layer yjjbnt, feature 4 overlaps layer stbhhx, feature 3",
        message_zh="永久基本农田要素 4 与生态保护红线要素 3 重叠",
        feature="4",
        other_layer="stbhhx",
        other_feature="3",
        lonlat=(110.123456, 29.654321),
        area_m2=7194.5,
        field=None,
        value=None,
    )
    text = json.dumps(finding.to_dict(), ensure_ascii=False)
    back = Finding.from_dict(json.loads(text))
    assert back == finding
    assert isinstance(back.lonlat, tuple)
    assert json.loads(text)["severity"] == "blocking"


def test_limiter_keeps_limit_and_adds_and_n_more() -> None:
    limiter = FindingLimiter(limit=3)
    for i in range(10):
        limiter.add(_finding(feature=str(i)))
    limiter.add(_finding(layer="b"))
    limiter.count("a", "duplicate_id", 5)  # counted without being built
    found = limiter.findings()
    in_a = [f for f in found if f.layer == "a"]
    assert [f.feature for f in in_a[:3]] == ["0", "1", "2"]
    more = in_a[3]
    assert len(in_a) == 4
    assert more.kind == "duplicate_id" and more.severity is Severity.BLOCKING
    assert more.value == "12" and more.omitted == 12 and more.count == 12
    assert "and 12 more" in more.message and "12" in more.message_zh
    assert [f.layer for f in found].count("b") == 1


def test_review_summary_counts_and_round_trip() -> None:
    limiter = FindingLimiter(limit=1)
    for _ in range(4):
        limiter.add(_finding("empty_geometry", "a"))
    review = Review()
    review.extend(limiter.findings())
    review.add(_finding("invalid_geometry", "b"))
    assert not review.ok
    assert len(review.blocking) == 2 and len(review.warnings) == 1
    summary = review.summary()
    assert summary["by_severity"] == {"blocking": 4, "warning": 1}
    assert summary["total"] == 5 and summary["listed"] == 3
    assert summary["by_kind"] == {"empty_geometry": 4, "invalid_geometry": 1}
    assert summary["by_layer"] == {
        "a": {"blocking": 4, "warning": 0},
        "b": {"blocking": 0, "warning": 1},
    }
    back = Review.from_dict(json.loads(json.dumps(review.to_dict())))
    assert back.findings == review.findings
    assert back.summary() == summary


def test_review_with_warnings_only_is_ok() -> None:
    review = Review([_finding("invalid_geometry")])
    assert review.ok and review.summary()["ok"] is True
