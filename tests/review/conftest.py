"""The two reports the review tests read: the clean sample's release (its review.json and
review.html are in the release folder, `full_release.path`) and the defective sample's refused
build (a report folder under reports/), built once per session."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publish.errors import ReviewFailedError
from support.browser import CHROMIUM, CHROMIUM_ARGS


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


@dataclass(frozen=True)
class BuiltReport:
    folder: Path  # review.json, review.html, findings.xlsx, findings.gpkg
    machine: tuple[Path, ...]  # the build machine's folders: none may appear in the report


@pytest.fixture(params=["refused", "released"])
def built_report(request: pytest.FixtureRequest) -> BuiltReport:
    """Each of the two reports in turn: the defective sample's refused build, the clean
    sample's release — with the sample's and the tiles folder's absolute paths."""
    if request.param == "refused":
        folder: Path = request.getfixturevalue("refused_report")
        sample: Path = request.getfixturevalue("defective_sample_dir")
    else:
        folder = request.getfixturevalue("full_release").path
        sample = request.getfixturevalue("sample_dir")
    return BuiltReport(folder, (sample.resolve(), folder.parents[1].resolve()))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium as the viewer's tests launch it (support.browser), for one module:
    Playwright's sync API holds an event loop while it runs (see tests/viewer/conftest.py)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
