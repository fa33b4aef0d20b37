"""The review refuses the defective sample: status 3, nothing published, every defect named;
the terminal says what blocks, and every refused build gets a report folder of its own."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

import publish.pipeline.build as pipeline
from publish.errors import ReviewFailedError
from publish.pipeline.progress import Reporter

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def refused(defective_sample_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("refused")
    proc = subprocess.run(
        [sys.executable, str(REPO / "build_tiles.py"), "--catalog",
         str(defective_sample_dir / "layers.yml"), "--out", str(out)],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    return proc, out


def test_exit_status_3_and_nothing_published(
    refused: tuple[subprocess.CompletedProcess, Path],
) -> None:
    proc, out = refused
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert not (out / "current").exists()
    assert not (out / "releases").exists() or not any((out / "releases").iterdir())
    assert "blocking" in proc.stderr and "Traceback" not in proc.stderr


def test_report_names_every_defect(
    refused: tuple[subprocess.CompletedProcess, Path], defective_sample_dir: Path
) -> None:
    _proc, out = refused
    reports = sorted((out / "reports").glob("*/review.json"))
    assert len(reports) == 1
    findings = json.loads(reports[0].read_text(encoding="utf-8"))["findings"]
    assert (reports[0].parent / "review.html").is_file()
    defects = json.loads((defective_sample_dir / "defects.json").read_text(encoding="utf-8"))
    kinds = {
        "control_line_overlap": "control_line_overlap",
        "invalid_geometry": "invalid_geometry",
        "unknown_code": "unknown_code",
        "area_mismatch": "area_mismatch",
        "duplicate_bsm": "duplicate_id",
    }
    for defect in defects:
        hits = [
            f for f in findings
            if f["kind"] == kinds[defect["kind"]] and f["layer"] == defect["layer"]
            and str(defect["bsm"]) in {str(f.get("feature")), str(f.get("other_feature"))}
        ]  # fmt: skip
        assert hits, defect


@pytest.fixture
def missing_source(tmp_path: Path) -> Path:
    """A catalog whose one layer, hl, names a file that is not there."""
    catalog = {"layers": [
        {"id": "hl", "title": {"zh": "河流", "en": "Rivers"}, "source": "hl.geojson",
         "geometry": "line", "access": "public", "role": "other", "fields": ["BSM", "HLMC"]},
    ]}  # fmt: skip
    path = tmp_path / "layers.yml"
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True), "utf-8")
    return path


def test_the_terminal_shows_the_blocking_message(missing_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "tiles"
    proc = subprocess.run(
        [sys.executable, str(REPO / "build_tiles.py"), "--catalog", str(missing_source),
         "--out", str(out)],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr[-2000:]
    (report,) = (out / "reports").glob("*/review.json")
    (finding,) = json.loads(report.read_text(encoding="utf-8"))["findings"]
    expected = f"layer 'hl' ({missing_source.parent / 'hl.geojson'}): source file does not exist"
    assert expected in finding["message"]
    lines = [line for line in proc.stderr.splitlines() if expected in line]
    assert lines, proc.stderr
    assert lines[0].strip() == f"source_error: {finding['message']}"


def test_refused_builds_in_the_same_second_keep_their_own_reports(
    missing_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "_now", lambda: datetime(2026, 11, 28, 14, 0, 55, tzinfo=UTC))
    out = tmp_path / "tiles"
    pages = []
    for _ in range(2):
        with pytest.raises(ReviewFailedError) as info:
            pipeline.build(
                pipeline.BuildOptions(catalog=missing_source, out=out),
                Reporter(io.StringIO(), rich=False),
            )
        pages.append(str(info.value))
    folders = sorted((out / "reports").iterdir())
    assert len(folders) == 2
    for folder in folders:
        assert folder.name.startswith("20261128T140055Z-")
        review = json.loads((folder / "review.json").read_text(encoding="utf-8"))
        assert review["context"]["report"] == folder.name, "each report is its own build's"
        assert (folder / "review.html").is_file()
        # each build's error names its own report
        assert sum(str(folder / "review.html") in page for page in pages) == 1
