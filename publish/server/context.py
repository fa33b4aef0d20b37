"""What a request for one audience works with, fixed at its start: the server's state, the
release it started on (a swap never changes it mid-request) or the kept release its path names
(/releases/{release}/…), and that release's audience, if the request may see it (else the same
404 as for an audience that never existed)."""

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
    by_id: bool = False  # a release named in the path (/releases/<id>/…): immutable

    def document_cache_control(self) -> str:
        restricted = self.audience.restricted
        if self.by_id:
            return self.state.kept_cache_control(restricted)
        return self.state.document_cache_control(restricted)

    def tile_cache_control(self) -> str:
        restricted = self.audience.restricted
        if self.by_id:
            return self.state.kept_cache_control(restricted)
        return self.state.tile_cache_control(restricted)


def request_context(request: Request, audience: str) -> RequestContext:
    """NoReleaseError (503) before a release is loaded; NotFoundError for an audience the
    request may not see."""
    state = server_state(request)
    release_id = request.path_params.get("release")
    release = state.holder.require() if release_id is None else state.kept.get(str(release_id))
    by_id = release_id is not None
    return RequestContext(state, release, audience_for(request, release, audience), by_id)
