"""The two reports the review tests read: the clean sample's release (its review.json and
review.html are in the release folder, `full_release.path`) and the defective sample's refused
build (a report folder under reports/), built once per session."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from publish.errors import ReviewFailedError


@pytest.fixture(scope="session")
def refused_report(defective_sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder of the defective sample's refused build (review.json, review.html, …)."""
    from publish.pipeline.build import BuildOptions, build
    from publish.pipeline.progress import Reporter

    out = tmp_path_factory.mktemp("refused")
    with pytest.raises(ReviewFailedError):
        build(
            BuildOptions(catalog=defective_sample_dir / "layers.yml", out=out),
            Reporter(io.StringIO(), rich=False),
        )
    (folder,) = (out / "reports").iterdir()
    return folder
