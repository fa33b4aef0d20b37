"""The review reports on the server: staff only (the public side has no route to them, the
internal one needs the token), a kept release's report and the refused builds' (DIR/reports),
as a page, a document and the findings' exports; immutable where a report cannot change; a page
whose inline style its CSP allows by hash — and a browser that really applies it."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from publish.review.report import REVIEW_HTML
from tests.review.conftest import chromium, refused_report
from tests.server.helpers import Built, TestClient
from tests.viewer.browser import RECORD_CSP_VIOLATIONS, serve

__all__ = ["chromium", "refused_report"]  # tests/review's: its refused report, Chromium

EXPORTS = ("findings.xlsx", "findings.gpkg")
OLDER = "20200101T000000Z-older0"  # a second refusal, older than the real one


@pytest.fixture
def reports(tiles_dir: Path, refused_report: Path) -> list[str]:
    """The refused report (and an older copy) in this test's tiles folder: newest first."""
    shutil.copytree(refused_report, tiles_dir / "reports" / refused_report.name)
    shutil.copytree(refused_report, tiles_dir / "reports" / OLDER)
    return [refused_report.name, OLDER]


def _report_paths(built: Built, report: str) -> list[str]:
    release = f"/releases/{built.first}/review"
    return [
        release,
        f"{release}?f=json",
        *(f"{release}/{name}" for name in EXPORTS),
        "/reviews",
        f"/reviews/{report}",
        *(f"/reviews/{report}/{name}" for name in EXPORTS),
    ]


def _style_hashes(page: str) -> set[str]:
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in re.findall(r"<style[^>]*>(.*?)</style>", page, re.DOTALL)
    }


def _check_csp(response: Any) -> None:
    """The page's CSP allows exactly its inline style(s), by hash, nothing unsafe."""
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    hashes = _style_hashes(response.text)
    assert hashes
    assert set(directives["style-src"].split()) == {"'self'", *hashes}
    assert directives["script-src"] == "'self'"
    assert "unsafe" not in csp


def test_the_public_side_has_no_report(
    client: TestClient, built_releases: Built, reports: list[str], auth: dict[str, str]
) -> None:
    for path in _report_paths(built_releases, reports[0]):
        for headers in ({}, auth):
            r = client.get(path, headers=headers)
            assert r.status_code == 404, path
            assert r.json()["description"] == "not found"


def test_the_internal_reports_need_the_token(
    client: TestClient, built_releases: Built, reports: list[str], auth: dict[str, str]
) -> None:
    release_folder = built_releases.release(built_releases.first)
    report_folder = client.app.state.server.settings.tiles_dir / "reports" / reports[0]
    files = {
        f"/internal/releases/{built_releases.first}/review": release_folder / REVIEW_HTML,
        f"/internal/releases/{built_releases.first}/review?f=json": release_folder / "review.json",
        f"/internal/reviews/{reports[0]}": report_folder / REVIEW_HTML,
        f"/internal/reviews/{reports[0]}?f=json": report_folder / "review.json",
        **{
            f"/internal/releases/{built_releases.first}/review/{name}": release_folder / name
            for name in EXPORTS
        },
        **{f"/internal/reviews/{reports[0]}/{name}": report_folder / name for name in EXPORTS},
    }
    for path, file in files.items():
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        r = client.get(path, headers=auth)
        assert r.status_code == 200, path
        assert r.content == file.read_bytes(), path
        # a report never changes: a release's, and a refused build's folder (never reused)
        assert r.headers["cache-control"] == "private, max-age=31536000, immutable", path
    assert client.get("/internal/reviews").status_code == 401
    xlsx = client.get(f"/internal/reviews/{reports[0]}/findings.xlsx", headers=auth)
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in xlsx.headers["content-disposition"]


def test_the_refused_builds_are_listed_newest_first(
    client: TestClient, reports: list[str], auth: dict[str, str], tiles_dir: Path
) -> None:
    (tiles_dir / "reports" / "stray.txt").write_text("not a report")
    (tiles_dir / "reports" / "20990101T000000Z-link").symlink_to(tiles_dir / "reports" / OLDER)
    r = client.get("/internal/reviews", headers=auth)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, no-cache"
    listed = r.json()["reports"]
    assert [entry["report"] for entry in listed] == reports
    newest = listed[0]
    assert newest["ok"] is False and newest["summary"]["by_severity"]["blocking"] == 6
    for link in newest["links"].values():
        assert client.get(link, headers=auth).status_code == 200, link
    page = client.get("/internal/reviews", headers={**auth, "Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.index(reports[0]) < page.text.index(OLDER)
    _check_csp(page)


def test_an_unknown_release_or_report_is_a_404_naming_it(
    client: TestClient, reports: list[str], auth: dict[str, str], tiles_dir: Path
) -> None:
    (tiles_dir / "reports" / "20990101T000000Z-link").symlink_to(tiles_dir / "releases")
    gone = "20990101T000000Z-0badc0de"
    r = client.get(f"/internal/releases/{gone}/review", headers=auth)
    assert r.status_code == 404 and gone in r.json()["description"]
    assert "/releases" in r.json()["description"]
    r = client.get(f"/internal/reviews/{gone}/findings.xlsx", headers=auth)
    assert r.status_code == 404 and gone in r.json()["description"]
    assert "/internal/reviews" in r.json()["description"]
    for name in ("%2e%2e", "...", "..%2F..%2Fetc", "20990101T000000Z-link", "reports", "*"):
        r = client.get(f"/internal/reviews/{name}", headers=auth)
        assert r.status_code == 404, name
        assert "root" not in r.text and str(tiles_dir) not in r.text
    r = client.get(f"/internal/reviews/{reports[0]}?f=pdf", headers=auth)
    assert r.status_code == 400 and "f must be one of" in r.json()["description"]


def test_languages_and_a_foreign_host(
    client: TestClient, built_releases: Built, reports: list[str], auth: dict[str, str]
) -> None:
    paths = [f"/internal/releases/{built_releases.first}/review", f"/internal/reviews/{reports[0]}"]
    for path in paths:
        for language in ("zh-TW", "fr-FR", "*", "zh-TW,fr-FR;q=0.8,*;q=0.1"):
            r = client.get(path, headers={**auth, "Accept-Language": language})
            assert r.status_code == 200, (path, language)
        assert client.get(path, headers={**auth, "Host": "evil.example"}).status_code == 400


def test_the_pages_csp_allows_their_style_by_hash(
    client: TestClient, built_releases: Built, reports: list[str], auth: dict[str, str]
) -> None:
    pages = [
        f"/internal/releases/{built_releases.first}/review",
        f"/internal/reviews/{reports[0]}",
        # the release diff's page has the same inline style: the same CSP
        f"/releases/{built_releases.second}/diff?f=html",
        f"/internal/releases/{built_releases.second}/diff?f=html",
        "/releases?f=html",
    ]
    for path in pages:
        r = client.get(path, headers=auth)
        assert r.status_code == 200, path
        _check_csp(r)


# -- in Chromium: the style is applied -------------------------------------------------------


def test_chromium_applies_the_pages_style(
    chromium: Any,
    built_releases: Built,
    tiles_dir: Path,
    reports: list[str],
    token: str,
    tmp_path: Path,
) -> None:
    pages = [
        f"/internal/reviews/{reports[0]}",
        f"/internal/releases/{built_releases.first}/review",
        f"/releases/{built_releases.second}/diff?f=html",
    ]
    with serve(tiles_dir, tmp_path / "tokens", token, tmp_path / "serve.log") as server:
        context = chromium.new_context(
            viewport={"width": 1200, "height": 800},
            extra_http_headers={"Authorization": f"Bearer {token}"},
        )
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        try:
            page = context.new_page()
            for path in pages:
                assert page.goto(server.base + path).status == 200
                styled = page.evaluate(
                    """() => ({
                      h1: getComputedStyle(document.querySelector('h1')).fontSize,
                      root: getComputedStyle(document.documentElement).fontSize,
                      collapse: getComputedStyle(document.querySelector('table')).borderCollapse,
                    })"""
                )
                # the browser's default h1 is 2em (32 px); the report's 1.5rem (24 px)
                assert styled["h1"] != "32px" and styled["root"] == "16px", (path, styled)
                assert styled["collapse"] == "collapse", path
                assert page.evaluate("window.__cspViolations") == [], path
        finally:
            context.close()
