"""Settings from the environment, validated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from publish.server.errors import SettingsError
from publish.server.settings import Settings, env_value


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
        (
            {"PUBLISH_TILES_DIR": "/t", "PUBLISH_RASTER_WARMUP": "maybe"},
            "PUBLISH_RASTER_WARMUP='maybe' is not 1/0, true/false, yes/no or on/off",
        ),
    ],
)
def test_invalid_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_data_folder_defaults_to_the_tiles_folders() -> None:
    s = Settings(tiles_dir=Path("/srv/tiles"))
    assert s.data_dir == Path("/srv/tiles/.data")
    assert s.glyphs_dir == Path("/srv/tiles/.data/glyphs")
    assert s.mapproxy_template is None
    named = Settings.from_env(
        {
            "PUBLISH_TILES_DIR": "/srv/tiles",
            "PUBLISH_DATA_DIR": "/var/lib/onemap",
            "PUBLISH_MAPPROXY_TEMPLATE": "/etc/onemap/mapproxy.yaml",
        }
    )
    assert named.data_dir == Path("/var/lib/onemap")
    assert named.glyphs_dir == Path("/var/lib/onemap/glyphs")
    assert named.mapproxy_template == Path("/etc/onemap/mapproxy.yaml")
    assert Settings.from_env(named.to_env()) == named
    assert Settings.from_env(s.to_env()) == s


def test_env_value_is_the_one_reader() -> None:
    assert env_value("TILES_DIR", {"PUBLISH_TILES_DIR": " /srv/tiles "}) == "/srv/tiles"
    assert env_value("TILES_DIR", {"PUBLISH_TILES_DIR": " "}) is None
    assert env_value("TILES_DIR", {"TILES_DIR": "/srv"}) is None


def test_no_module_reads_publish_variables_itself() -> None:
    """Every PUBLISH_* variable is read by publish.server.settings (Settings.from_env and
    env_value), never by the module that needs it."""
    package = Path(__file__).resolve().parents[2] / "publish"
    readers = [
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(
            r"environ(\.get)?\(?\[?\s*[\"']PUBLISH_|getenv\(\s*[\"']PUBLISH_",
            path.read_text("utf-8"),
        )
    ]
    assert readers == []
