"""The review's rules registry: kinds, severities and names come from it, and a rule's version
feeds the caches of its results (issue 18: a new or changed check cannot silently not run)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from publish.catalog import load_catalog
from publish.checks import rules
from publish.checks.findings import KIND_ZH, KINDS, Severity, severity_of
from publish.pipeline.fingerprint import layer_fingerprint

CRS = "EPSG:4546"  # the sample city's working CRS


def test_findings_read_the_registry() -> None:
    assert tuple(r.kind for r in rules.RULES) == KINDS
    assert len(set(KINDS)) == len(KINDS)
    for rule in rules.RULES:
        assert KIND_ZH[rule.kind] == rule.zh and rule.en
        expected = Severity.BLOCKING if rule.blocking else Severity.WARNING
        assert severity_of(rule.kind) is expected
    assert severity_of("invalid_geometry") is Severity.WARNING  # repaired and published
    assert set(rules.rule_versions("layer")) | set(rules.rule_versions("cross")) == set(KINDS)


def _bumped(kind: str) -> tuple[rules.Rule, ...]:
    return tuple(replace(r, version=r.version + 1) if r.kind == kind else r for r in rules.RULES)


def test_a_layer_rule_version_changes_every_layer_fingerprint(
    sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = load_catalog(sample_dir / "layers.yml").layer("hl")
    before = layer_fingerprint(spec, top_zoom=14, versions={}, crs=CRS)
    layer_rule, cross_rule = _bumped("area_mismatch"), _bumped("zone_gap")
    monkeypatch.setattr(rules, "RULES", layer_rule)
    assert layer_fingerprint(spec, top_zoom=14, versions={}, crs=CRS) != before
    monkeypatch.setattr(rules, "RULES", cross_rule)  # a cross rule: no layer's output changes
    assert layer_fingerprint(spec, top_zoom=14, versions={}, crs=CRS) == before


def test_viewer_only_catalog_keys_rebuild_no_layer(sample_dir: Path) -> None:
    """A field title or a group name reaches only the viewer's layer list: the layer's
    features, tiles and findings do not change, so its fingerprint does not either."""
    spec = load_catalog(sample_dir / "layers.yml").layer("hl")
    before = layer_fingerprint(spec, top_zoom=14, versions={}, crs=CRS)
    raw = {**spec.raw, "group": {"zh": "水系", "en": "Rivers"}, "field_titles": {}}
    assert layer_fingerprint(replace(spec, raw=raw), top_zoom=14, versions={}, crs=CRS) == before
    renamed = {**spec.raw, "title": {"zh": "河流水系", "en": "Rivers"}}
    assert (
        layer_fingerprint(replace(spec, raw=renamed), top_zoom=14, versions={}, crs=CRS) != before
    )
