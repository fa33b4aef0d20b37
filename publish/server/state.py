"""What the endpoints share: settings, the release holder, the kept releases by id, the tile
cache and the tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from publish.server.auth import TokenStore
from publish.server.holder import ReleaseHolder
from publish.server.kept import KeptReleases
from publish.server.overload import WorkQueue
from publish.server.settings import Settings
from publish.server.tilecache import TileCache


@dataclass(frozen=True)
class ServerState:
    settings: Settings
    holder: ReleaseHolder
    tile_cache: TileCache
    tokens: TokenStore
    kept: KeptReleases  # every release of the folder, by id (/releases/{id}/…)
    site_checks: WorkQueue = field(init=False)  # CPU-heavy requests, bounded (overload.py)
    renderings: WorkQueue = field(init=False)

    def __post_init__(self) -> None:
        slots, waiting = self.settings.work_slots, self.settings.work_queue
        object.__setattr__(self, "site_checks", WorkQueue("site check", slots, waiting))
        object.__setattr__(self, "renderings", WorkQueue("map rendering", slots, waiting))

    def tile_cache_control(self, restricted: bool) -> str:
        scope = "private" if restricted else "public"
        return f"{scope}, max-age={self.settings.cache_max_age}"

    def document_cache_control(self, restricted: bool) -> str:
        """TileJSON, styles and whole archives change with the release: revalidate (ETag)."""
        return "private, no-cache" if restricted else "public, no-cache"

    def kept_cache_control(self, restricted: bool) -> str:
        """Anything served from a release by id: a release never changes."""
        return f"{'private' if restricted else 'public'}, max-age=31536000, immutable"

    def base_url(self, request: Request) -> str:
        """This server's URL as clients see it, without a trailing slash."""
        if self.settings.public_url:
            return self.settings.public_url
        return str(request.base_url).rstrip("/")


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state
