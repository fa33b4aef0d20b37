"""The plan's history: the kept releases (/releases, /internal/releases) and each one's diff
against the release it replaced (/releases/{release}/diff, /internal/releases/{release}/diff),
as JSON or an HTML page (?f=html, or a browser's Accept).

The public list and diff come from the public audience's part of each release only (its layers,
its change summary, its diff file), so they never name an internal layer; the internal ones
need the token (their paths are under /internal). A release never changes, so a diff is cached
as immutable; the list changes with every build and is revalidated.
"""

from __future__ import annotations

import html
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from publish.domain import INTERNAL, PUBLIC
from publish.errors import ReleaseError
from publish.release.manifest import read_manifest
from publish.release.output import OutputPart
from publish.release.outputs.changes import CHANGES_KEY, diff_files
from publish.server.errors import BadRequestError, NotFoundError
from publish.server.headers import page_csp, page_file_csp
from publish.server.kept import RELEASES_URL, UnknownReleaseError
from publish.server.state import ServerState, server_state

_FORMATS = ("json", "html")


def _format(request: Request) -> str:
    """json or html: ?f= first, then whether the client prefers HTML (a browser)."""
    asked = request.query_params.get("f")
    if asked is not None:
        if asked not in _FORMATS:
            raise BadRequestError(f"f must be one of {', '.join(_FORMATS)}")
        return asked
    accept = request.headers.get("accept", "")
    return "html" if "text/html" in accept else "json"


def _audience(request: Request) -> str:
    return INTERNAL if request.url.path.startswith("/internal/") else PUBLIC


def _entry(state: ServerState, release_id: str, audience: str) -> dict[str, Any] | None:
    """One kept release as the list shows it to `audience`; None if it cannot be read."""
    try:
        doc = read_manifest(state.kept.store.releases / release_id)
    except ReleaseError:
        return None
    part = (doc.get("audiences") or {}).get(audience) or {}
    changes = doc.get(CHANGES_KEY) or {}
    prefix = f"/releases/{release_id}"
    entry: dict[str, Any] = {
        "id": release_id,
        "created": doc.get("created"),
        "note": doc.get("note"),
        "layers": list(part.get("layers") or []),
        "replaces": changes.get("against"),
        "changes": (changes.get("summary") or {}).get(audience),
        "links": {
            "style": f"{prefix}/styles/{audience}.json",
            "tilejson": f"{prefix}/tiles/{audience}.json",
        },
    }
    if audience != PUBLIC:
        entry["author"] = doc.get("author")
        entry["links"]["review"] = f"/internal{prefix}/review"
    if diff_files(doc, audience):
        entry["links"]["diff"] = ("/internal" if audience != PUBLIC else "") + f"{prefix}/diff"
    return entry


async def releases(request: Request) -> Response:
    state = server_state(request)
    audience = _audience(request)
    current = state.holder.current
    listed = [_entry(state, rid, audience) for rid in reversed(state.kept.store.ids())]
    doc = {
        "current": current.id if current else None,
        "releases": [entry for entry in listed if entry is not None],
    }
    headers = {"Cache-Control": "private, no-cache" if audience != PUBLIC else "public, no-cache"}
    if _format(request) == "html":
        page = _releases_page(doc, audience)
        headers["Content-Security-Policy"] = page_csp(page)  # its inline style, by hash
        return Response(page, headers=headers, media_type=_HTML)
    return JSONResponse(doc, headers=headers)


async def diff(request: Request) -> Response:
    state = server_state(request)
    audience = _audience(request)
    release_id = str(request.path_params["release"])
    if release_id not in state.kept.store.ids():
        raise UnknownReleaseError(release_id)
    root = state.kept.store.releases / release_id
    try:
        manifest = read_manifest(root)
    except ReleaseError as exc:
        raise UnknownReleaseError(release_id) from exc
    files = diff_files(manifest, audience)
    if files is None:
        raise NotFoundError(
            f"release {release_id} has no diff: it replaced no release (see {RELEASES_URL})"
        )
    fmt = _format(request)
    path = OutputPart(root, files.get(fmt), manifest, audience).file()
    restricted = audience != PUBLIC
    headers = {"Cache-Control": state.kept_cache_control(restricted)}
    if fmt == "html":  # its inline style, allowed by hash
        headers["Content-Security-Policy"] = page_file_csp(path)
    return FileResponse(
        path, headers=headers, media_type=_HTML if fmt == "html" else "application/json"
    )


_HTML = "text/html; charset=utf-8"


def _releases_page(doc: dict[str, Any], audience: str) -> str:
    rows = []
    for entry in doc["releases"]:
        current = " (当前 current)" if entry["id"] == doc["current"] else ""
        links = entry["links"]
        diff_link = (
            f'<a href="{html.escape(links["diff"])}?f=html">变化 changes</a>'
            if "diff" in links
            else ""
        )
        cells = [
            f"<code>{html.escape(entry['id'])}</code>{current}",
            html.escape(str(entry.get("created") or "")),
            html.escape(str(entry.get("note") or "")),
            html.escape(str(entry.get("changes") or "")),
            f'<a href="{html.escape(links["style"])}">样式 style</a> {diff_link}',
        ]
        if audience != PUBLIC:
            cells.insert(3, html.escape(str(entry.get("author") or "")))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    heads = ["版本 Release", "时间 Time", "说明 Note", "变化 Changes", "链接 Links"]
    if audience != PUBLIC:
        heads.insert(3, "作者 Author")
    title = "成果版本 Releases" + (" (内部 internal)" if audience != PUBLIC else "")
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
        "</style></head><body>"
        f"<h1>{title}</h1><table><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in heads)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>"
    )


def history_routes() -> list[BaseRoute]:
    read = ["GET", "HEAD"]
    return [
        Route(RELEASES_URL, releases, methods=read),
        Route(f"/internal{RELEASES_URL}", releases, methods=read),
        Route(RELEASES_URL + "/{release}/diff", diff, methods=read),
        Route(f"/internal{RELEASES_URL}" + "/{release}/diff", diff, methods=read),
    ]
