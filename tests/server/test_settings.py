"""Settings from the environment, validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.server.errors import SettingsError
from publish.server.settings import Settings


def test_defaults_need_only_the_tiles_folder() -> None:
    s = Settings.from_env({"PUBLISH_TILES_DIR": "/srv/tiles"})
    assert s == Settings(tiles_dir=Path("/srv/tiles"))
    assert s.reload_interval_s == 2.0 and s.cors_origins == () and s.tokens_file is None


def test_every_variable() -> None:
    s = Settings.from_env(
        {
            "PUBLISH_TILES_DIR": "/srv/tiles",
            "PUBLISH_CACHE_MAX_AGE": "60",
            "PUBLISH_CORS_ORIGINS": "https://a.example, https://b.example,",
            "PUBLISH_TOKENS_FILE": "/etc/onemap/tokens",
            "PUBLISH_RELOAD_INTERVAL": "0.5",
            "PUBLISH_TILE_CACHE_BYTES": "1000000",
            "PUBLISH_PUBLIC_URL": "https://map.example.gov.cn/",
        }
    )
    assert s.cache_max_age == 60
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.tokens_file == Path("/etc/onemap/tokens")
    assert s.reload_interval_s == 0.5
    assert s.tile_cache_bytes == 1_000_000
    assert s.public_url == "https://map.example.gov.cn"
    assert Settings.from_env(s.to_env()) == Settings(
        **{**s.__dict__, "tiles_dir": Path("/srv/tiles"), "tokens_file": Path("/etc/onemap/tokens")}
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "PUBLISH_TILES_DIR is not set"),
        ({"PUBLISH_TILES_DIR": "/t", "PUBLISH_CACHE_MAX_AGE": "soon"}, "not an integer"),
        ({"PUBLISH_TILES_DIR": "/t", "PUBLISH_CACHE_MAX_AGE": "-1"}, "cache_max_age"),
        ({"PUBLISH_TILES_DIR": "/t", "PUBLISH_RELOAD_INTERVAL": "0"}, "reload_interval_s"),
        ({"PUBLISH_TILES_DIR": "/t", "PUBLISH_PUBLIC_URL": "map.example"}, "public_url"),
    ],
)
def test_invalid_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
