"""The review reports, for staff only: a kept release's (/internal/releases/{release}/review)
and the refused builds' (/internal/reviews, /internal/reviews/{report}), each as its page
(review.html, the default, or ?f=html), its document (?f=json: review.json) and its findings'
exports (…/findings.xlsx, …/findings.gpkg).

There is no public route: a report names features and internal layers, so /releases/{id}/review
and /reviews/… are 404 for everybody, and the guard asks for the token on every path here (they
are under /internal). A release and a refused build's report folder never change: their files
are cached as immutable; the list of refusals changes with every build and is revalidated.

A refused build's report is read from DIR/reports/<folder>/ (publish.pipeline.build), a folder
named only if it is one of the folders there (no path of a client's making is ever opened). The
page's inline style is allowed by its hash in the response's own Content-Security-Policy.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from publish.domain import REPORTS_FOLDER
from publish.review.exports import FINDINGS_GPKG, FINDINGS_XLSX
from publish.review.page import html_page
from publish.review.report import REVIEW_HTML, REVIEW_JSON
from publish.server.errors import BadRequestError, NotFoundError
from publish.server.headers import page_csp, page_file_csp
from publish.server.kept import RELEASES_URL, UnknownReleaseError
from publish.server.state import server_state

__all__ = ["REVIEWS_URL", "UnknownReportError", "review_routes"]

REVIEWS_URL = "/internal/reviews"
_RELEASE_REVIEW = "/internal" + RELEASES_URL + "/{release}/review"
_FORMATS = ("html", "json")
_EXPORTS = {
    FINDINGS_XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FINDINGS_GPKG: "application/geopackage+sqlite3",
}
_HTML = "text/html; charset=utf-8"
_LIST_TITLE = "未通过审查的构建 Refused builds"
_FOLDER = re.compile(r"^\d{8}T\d{6}Z-[A-Za-z0-9_]{1,32}$")  # new_report_folder's names


class UnknownReportError(NotFoundError):
    def __init__(self, folder: str) -> None:
        shown = f"report {folder}" if _FOLDER.match(folder) else "report with this name"
        super().__init__(
            f"no refused build's {shown} is kept here; they are listed at {REVIEWS_URL}"
        )


class MissingExportError(NotFoundError):
    def __init__(self, what: str, name: str) -> None:
        super().__init__(f"{what} has no {name} (it was built before the exports existed)")


def _format(request: Request) -> str:
    asked = request.query_params.get("f", "html")
    if asked not in _FORMATS:
        raise BadRequestError(f"f must be one of {', '.join(_FORMATS)} (got {asked!r})")
    return asked


def _report_response(folder: Path, request: Request, *, what: str) -> Response:
    """review.html (with a CSP allowing its style) or review.json of a report folder."""
    fmt = _format(request)
    name = REVIEW_HTML if fmt == "html" else REVIEW_JSON
    path = folder / name
    if not path.is_file():
        raise MissingExportError(what, name)
    headers = {"Cache-Control": server_state(request).kept_cache_control(True)}
    if fmt == "html":
        headers["Content-Security-Policy"] = page_file_csp(path)
        return FileResponse(path, headers=headers, media_type=_HTML)
    return FileResponse(path, headers=headers, media_type="application/json")


def _export_response(
    folder: Path, request: Request, name: str, *, what: str, label: str
) -> Response:
    path = folder / name
    if not path.is_file():
        raise MissingExportError(what, name)
    return FileResponse(
        path,
        headers={"Cache-Control": server_state(request).kept_cache_control(True)},
        media_type=_EXPORTS[name],
        filename=f"{label}-{name}",
    )


# -- a kept release's report -------------------------------------------------------------------


def _release_folder(request: Request) -> tuple[Path, str]:
    store = server_state(request).kept.store
    release_id = str(request.path_params["release"])
    if release_id not in store.ids():
        raise UnknownReleaseError(release_id)
    return store.releases / release_id, release_id


async def release_review(request: Request) -> Response:
    folder, release_id = _release_folder(request)
    return _report_response(folder, request, what=f"release {release_id}")


async def release_export(request: Request, name: str) -> Response:
    folder, release_id = _release_folder(request)
    what = f"release {release_id}"
    return _export_response(folder, request, name, what=what, label=f"review-{release_id}")


# -- the refused builds' reports ---------------------------------------------------------------


def _reports_dir(request: Request) -> Path:
    return Path(server_state(request).settings.tiles_dir) / REPORTS_FOLDER


def report_folders(reports: Path) -> list[Path]:
    """The refused builds' report folders under `reports`, newest first (by their names, which
    start with the build's UTC time); symbolic links and stray files are not reports."""
    if not reports.is_dir():
        return []
    folders = [p for p in reports.iterdir() if p.is_dir() and not p.is_symlink()]
    return sorted(folders, key=lambda p: p.name, reverse=True)


def _report_folder(request: Request) -> Path:
    name = str(request.path_params["report"])
    for folder in report_folders(_reports_dir(request)):
        if folder.name == name:
            return folder
    raise UnknownReportError(name)


def _listed(folder: Path) -> dict[str, Any]:
    """One refused build as the list shows it (its review.json's title and counts)."""
    url = f"{REVIEWS_URL}/{folder.name}"
    entry: dict[str, Any] = {"report": folder.name, "title": None, "ok": None, "summary": None}
    try:
        doc = json.loads((folder / REVIEW_JSON).read_text(encoding="utf-8"))
        entry.update(title=doc.get("title"), ok=doc.get("ok"), summary=doc.get("summary"))
    except (OSError, ValueError, AttributeError):
        entry["error"] = f"{REVIEW_JSON} cannot be read"
    entry["links"] = {
        "html": f"{url}?f=html",
        "json": f"{url}?f=json",
        **{name.rsplit(".", 1)[1]: f"{url}/{name}" for name in _EXPORTS},
    }
    return entry


async def reviews(request: Request) -> Response:
    doc = {"reports": [_listed(folder) for folder in report_folders(_reports_dir(request))]}
    headers = {"Cache-Control": "private, no-cache"}
    asked = request.query_params.get("f")
    if asked is None:
        asked = "html" if "text/html" in request.headers.get("accept", "") else "json"
    if asked not in _FORMATS:
        raise BadRequestError(f"f must be one of {', '.join(_FORMATS)} (got {asked!r})")
    if asked == "json":
        return JSONResponse(doc, headers=headers)
    page = _reviews_page(doc)
    headers["Content-Security-Policy"] = page_csp(page)
    return Response(page, headers=headers, media_type=_HTML)


def _reviews_page(doc: dict[str, Any]) -> str:
    rows = []
    for entry in doc["reports"]:
        counts = (entry.get("summary") or {}).get("by_severity") or {}
        links = entry["links"]
        files = " ".join(
            f'<a href="{html.escape(links[key])}">{key}</a>' for key in ("json", "xlsx", "gpkg")
        )
        rows.append(
            f'<tr><td><a href="{html.escape(links["html"])}">'
            f"<code>{html.escape(entry['report'])}</code></a></td>"
            f"<td>{html.escape(str(entry.get('title') or entry.get('error') or ''))}</td>"
            f"<td class='num'>{html.escape(str(counts.get('blocking', '')))}</td>"
            f"<td class='num'>{html.escape(str(counts.get('warning', '')))}</td>"
            f"<td>{files}</td></tr>"
        )
    if not rows:
        return html_page(_LIST_TITLE, ["<p>没有未通过审查的构建。No refused builds.</p>"])
    head = (
        "<tr><th>报告 Report</th><th>标题 Title</th><th>阻断 Blocking</th>"
        "<th>警告 Warning</th><th>文件 Files</th></tr>"
    )
    return html_page(_LIST_TITLE, ['<table class="reports">' + head + "".join(rows) + "</table>"])


async def report_review(request: Request) -> Response:
    folder = _report_folder(request)
    return _report_response(folder, request, what=f"report {folder.name}")


async def report_export(request: Request, name: str) -> Response:
    folder = _report_folder(request)
    what = f"report {folder.name}"
    return _export_response(folder, request, name, what=what, label=f"review-{folder.name}")


def _export(
    endpoint: Callable[[Request, str], Awaitable[Response]], name: str
) -> Callable[[Request], Awaitable[Response]]:
    """`endpoint` for the export `name` (findings.xlsx or findings.gpkg)."""

    async def one_export(request: Request) -> Response:
        return await endpoint(request, name)

    return one_export


def review_routes() -> list[BaseRoute]:
    """The routes, all under /internal (the guard asks for the token)."""
    read = ["GET", "HEAD"]
    return [
        Route(_RELEASE_REVIEW, release_review, methods=read),
        *(
            Route(f"{_RELEASE_REVIEW}/{name}", _export(release_export, name), methods=read)
            for name in _EXPORTS
        ),
        Route(REVIEWS_URL, reviews, methods=read),
        Route(REVIEWS_URL + "/{report}", report_review, methods=read),
        *(
            Route(f"{REVIEWS_URL}/{{report}}/{name}", _export(report_export, name), methods=read)
            for name in _EXPORTS
        ),
    ]
