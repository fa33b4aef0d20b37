"""The review refuses the defective sample: status 3, nothing published, every defect named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
