"""What the review (成果审查) finds: one :class:`Finding` per problem, gathered in a :class:`Review`.

A finding is plain data (it round-trips through JSON), names the layer and the feature (its id
field, e.g. BSM, or its 1-based row "#12" when it has none) and, where there is one, a point on
the problem in EPSG:4326 longitude/latitude.

Reports stay readable on a million bad features: :class:`FindingLimiter` keeps at most ``limit``
findings of each kind in each layer and stands one "... and N more" finding for the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from publish.checks.rules import BY_KIND, RULES

__all__ = [
    "KINDS",
    "Finding",
    "FindingLimiter",
    "Review",
    "Severity",
    "severity_of",
]


class Severity(StrEnum):  # a str and an Enum, as (str, Enum), with str() = value
    BLOCKING = "blocking"  # the release is not published
    WARNING = "warning"  # published, but someone should look


KINDS = tuple(rule.kind for rule in RULES)  # the rules' order (publish.checks.rules)
KIND_ZH = {rule.kind: rule.zh for rule in RULES}  # the kinds in Chinese, for the report


def severity_of(kind: str) -> Severity:
    """The severity every finding of a kind has."""
    rule = BY_KIND.get(kind)
    if rule is None:
        raise ValueError(f"unknown finding kind {kind!r} (known: {', '.join(KINDS)})")
    return Severity.BLOCKING if rule.blocking else Severity.WARNING


@dataclass(frozen=True)
class Finding:
    """One problem found by the review."""

    kind: str
    severity: Severity
    layer: str
    message: str  # English: names the layer, the feature and the problem
    message_zh: str
    feature: str | None = None  # id_field value as text, or "#row" (1-based) without one
    other_layer: str | None = None
    other_feature: str | None = None
    lonlat: tuple[float, float] | None = None  # EPSG:4326, 6 decimals
    area_m2: float | None = None
    field: str | None = None
    value: str | None = None
    omitted: int = 0  # > 0 on the "... and N more" finding: how many findings it stands for

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["lonlat"] = list(self.lonlat) if self.lonlat is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        lonlat = data.get("lonlat")
        area = data.get("area_m2")
        return cls(
            kind=str(data["kind"]),
            severity=Severity(data["severity"]),
            layer=str(data["layer"]),
            message=str(data["message"]),
            message_zh=str(data.get("message_zh", "")),
            feature=_text(data.get("feature")),
            other_layer=_text(data.get("other_layer")),
            other_feature=_text(data.get("other_feature")),
            lonlat=(float(lonlat[0]), float(lonlat[1])) if lonlat is not None else None,
            area_m2=float(area) if area is not None else None,
            field=_text(data.get("field")),
            value=_text(data.get("value")),
            omitted=int(data.get("omitted") or 0),
        )

    @property
    def count(self) -> int:
        """How many problems this finding stands for: 1, or N for "... and N more"."""
        return self.omitted if self.omitted else 1


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def make_finding(
    kind: str,
    layer: str,
    message: str,
    message_zh: str,
    **details: Any,
) -> Finding:
    """A finding with the severity its kind has."""
    return Finding(
        kind=kind,
        severity=severity_of(kind),
        layer=layer,
        message=message,
        message_zh=message_zh,
        **details,
    )


class FindingLimiter:
    """Keeps at most ``limit`` findings per (layer, kind) and counts the rest.

    ``add`` is cheap to call for findings it will drop; :meth:`would_keep` lets a caller skip
    building them at all. :meth:`findings` returns the kept ones followed by one
    "... and N more" finding for each (layer, kind) that went over the limit.
    """

    def __init__(self, limit: int = 200) -> None:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit!r}")
        self.limit = limit
        self._kept: list[Finding] = []
        self._listed: Counter[tuple[str, str]] = Counter()
        self._seen: Counter[tuple[str, str]] = Counter()

    def seen(self, layer: str, kind: str) -> int:
        """How many findings of a kind in a layer were added or counted so far."""
        return self._seen[(layer, kind)]

    def room(self, layer: str, kind: str) -> int:
        """How many more findings of a kind in a layer would still be listed."""
        return max(self.limit - self._listed[(layer, kind)], 0)

    def would_keep(self, layer: str, kind: str) -> bool:
        return self.room(layer, kind) > 0

    def count(self, layer: str, kind: str, n: int = 1) -> None:
        """Count ``n`` findings that were not built (the caller knew they would be dropped)."""
        self._seen[(layer, kind)] += n

    def add(self, finding: Finding) -> None:
        key = (finding.layer, finding.kind)
        if self._listed[key] < self.limit:
            self._kept.append(finding)
            self._listed[key] += 1
        self._seen[key] += 1

    def findings(self) -> list[Finding]:
        result = list(self._kept)
        for (layer, kind), seen in self._seen.items():
            more = seen - self._listed[(layer, kind)]
            if more > 0:
                result.append(
                    make_finding(
                        kind,
                        layer,
                        f"layer {layer}: ... and {more} more {kind} findings (not listed)",
                        f"图层 {layer}：另有 {more} 处“{KIND_ZH[kind]}”未逐条列出",
                        value=str(more),
                        omitted=more,
                    )
                )
        return result


@dataclass
class Review:
    """All findings of one build's review."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.findings.extend(findings)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.BLOCKING]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        """True when nothing blocks the release."""
        return not self.blocking

    def summary(self) -> dict[str, Any]:
        """Counts of problems by severity, by kind and by layer (× severity).

        An "... and N more" finding counts for the N problems it stands for, so the counts are
        those of the problems found; ``listed`` is the number of findings in the review.
        """
        by_severity = {severity.value: 0 for severity in Severity}
        by_kind: Counter[str] = Counter()
        by_layer: dict[str, dict[str, int]] = {}
        for finding in self.findings:
            n = finding.count
            by_severity[finding.severity.value] += n
            by_kind[finding.kind] += n
            layer = by_layer.setdefault(finding.layer, {s.value: 0 for s in Severity})
            layer[finding.severity.value] += n
        return {
            "ok": self.ok,
            "total": sum(by_severity.values()),
            "listed": len(self.findings),
            "by_severity": by_severity,
            "by_kind": dict(sorted(by_kind.items())),
            "by_layer": dict(sorted(by_layer.items())),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "findings": [finding.to_dict() for finding in self.findings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Review:
        return cls(findings=[Finding.from_dict(item) for item in data.get("findings", [])])
