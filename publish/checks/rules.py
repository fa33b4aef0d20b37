"""The review's rules, one entry each: the finding kind it reports, whether it looks at one layer
or across layers, whether it blocks a release, its name in Chinese and English, and its version.

The versions are what makes the build's caches honest: a layer's fingerprint carries the
versions of the layer rules (publish.pipeline.fingerprint), and the cross-layer findings' cache key
those of the cross rules (publish.pipeline.build), so a rule whose behaviour changes gets its
version bumped here and every layer and cross check it touches is checked again — nothing else
is to be remembered. The finding kinds, their severities and names (publish.checks.findings,
the report) are read from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["layer", "cross"]
# what a rule's "checked" count counts (the report's inventory): the features it looked at, or
# the layers (a rule about the layer as a whole: its source, CRS, fields, emptiness)
Unit = Literal["features", "layers"]


@dataclass(frozen=True)
class Rule:
    kind: str
    scope: Scope
    blocking: bool
    zh: str
    en: str
    version: int = 1
    unit: Unit = "features"


RULES: tuple[Rule, ...] = (
    Rule("source_error", "layer", True, "数据源无法读取", "source unreadable", unit="layers"),
    Rule("no_crs", "layer", True, "缺少坐标系", "no coordinate reference system", unit="layers"),
    Rule("empty_layer", "layer", True, "图层没有要素", "layer without features", unit="layers"),
    Rule("missing_field", "layer", True, "缺少字段", "missing field", unit="layers"),
    Rule("empty_geometry", "layer", True, "空几何", "empty geometry"),
    # invalid geometries are repaired (shapely.make_valid) and the repaired ones published
    Rule("invalid_geometry", "layer", False, "几何无效（已修复）", "invalid geometry (repaired)"),
    Rule("wrong_geometry_type", "layer", True, "几何类型错误", "wrong geometry type"),
    Rule("duplicate_id", "layer", True, "标识码重复", "duplicate id"),
    Rule("unknown_code", "layer", True, "代码不在值域内", "code outside its domain"),
    Rule("area_mismatch", "layer", True, "面积不符", "area (MJ) off its geometry"),
    Rule("control_line_overlap", "cross", True, "控制线重叠", "control lines overlap"),
    Rule("zone_gap", "cross", True, "规划分区缝隙", "gap between planning zones"),
    Rule("zone_overlap", "cross", True, "规划分区重叠", "planning zones overlap"),
    Rule("zone_outside", "cross", True, "规划分区超出行政区", "planning zone outside the city"),
    # 规划分析评价: a conflict between the current or planned use and the control lines, per
    # county and kind (publish.indicators.conflicts); reported by the release's conflicts output
    Rule("plan_conflict", "cross", False, "规划冲突", "plan conflict"),
)

BY_KIND = {rule.kind: rule for rule in RULES}


def rule_versions(scope: Scope) -> dict[str, int]:
    """{kind: version} of the rules of `scope`: what a cache of their results depends on."""
    return {rule.kind: rule.version for rule in RULES if rule.scope == scope}
