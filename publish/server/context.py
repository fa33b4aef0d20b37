"""What a request for one audience works with, fixed at its start: the server's state, the
release it started on (a swap never changes it mid-request) and that release's audience, if
the request may see it (else the same 404 as for an audience that never existed)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from publish.server.guard import audience_for
from publish.server.release import AudienceRelease, Release
from publish.server.state import ServerState, server_state


@dataclass(frozen=True)
class RequestContext:
    state: ServerState
    release: Release
    audience: AudienceRelease


def request_context(request: Request, audience: str) -> RequestContext:
    """NoReleaseError (503) before a release is loaded; NotFoundError for an audience the
    request may not see."""
    state = server_state(request)
    release = state.holder.require()
    return RequestContext(state, release, audience_for(request, release, audience))
