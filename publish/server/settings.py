"""The server's settings: one frozen dataclass, read from PUBLISH_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from publish.server.errors import SettingsError

ENV_PREFIX = "PUBLISH_"
DEFAULT_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]")
DEFAULT_TRUSTED_PROXIES = ("127.0.0.1",)  # uvicorn's own default
DATA_DIR_NAME = ".data"  # the data folder's default: <tiles_dir>/.data
GLYPHS_FOLDER = "glyphs"  # the label glyph ranges, in the data folder


def env_value(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable PUBLISH_<name> (stripped; None when unset or empty): every PUBLISH_*
    variable is read here, by `Settings.from_env` or a command that needs one before it has
    settings (`seed`'s tiles folder, `token new`'s file)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_PREFIX + name, "").strip() or None


def default_data_dir(tiles_dir: Path) -> Path:
    """Where the server writes when no data folder is named: <tiles_dir>/.data."""
    return Path(tiles_dir) / DATA_DIR_NAME


def glyphs_dir_of(data_dir: Path) -> Path:
    """The folder of label glyph ranges in a data folder."""
    return Path(data_dir) / GLYPHS_FOLDER


@dataclass(frozen=True)
class Settings:
    """What a server needs to know; tests build it explicitly, `serve` reads it from the env.

    tiles_dir         the build's output folder (DIR/current → releases/<id>)
    cache_max_age     seconds a public tile may be cached (Cache-Control max-age)
    cors_origins      origins allowed by CORS; empty disables CORS, ("*",) allows any
    tokens_file       the `sha256:<hex>` lines that admit internal clients (None: nobody)
    reload_interval_s seconds between checks of DIR/current
    tile_cache_bytes  bound of the in-memory cache of tile bytes, per worker (0: no cache)
    public_url        base URL written into TileJSON and styles (None: the request's own)
    allowed_hosts     Host header values answered (TrustedHostMiddleware: `*.example.org`
                      patterns, "*" for any); the public URL's host is always allowed. Other
                      hosts get a 400, so no link is ever built from a client's Host.
    trusted_proxies   addresses whose X-Forwarded-For/-Proto uvicorn applies ("*" for any);
                      X-Forwarded-Host is never taken from a client
    work_slots        site checks, and map renderings, at work at once (each kind), per worker
    work_queue        more of each kind that may wait for a slot; beyond that a 503
    data_dir          everything the server writes (glyph ranges, raster caches and their
                      MapProxy configurations, the metrics folder of several workers); default
                      <tiles_dir>/.data. Nothing is written into the installed package.
    mapproxy_template the MapProxy template (None: the mapproxy.yaml the package ships)
    raster_warmup     start the raster render processes with the server, in the background,
                      and stop them with it (`serve` turns it on); off, they start on the first
                      raster (an app made in process, as the tests make it, starts none)
    """

    tiles_dir: Path
    cache_max_age: int = 3600
    cors_origins: tuple[str, ...] = ()
    tokens_file: Path | None = None
    reload_interval_s: float = 2.0
    tile_cache_bytes: int = 128 * 1024 * 1024
    public_url: str | None = field(default=None)
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    trusted_proxies: tuple[str, ...] = DEFAULT_TRUSTED_PROXIES
    work_slots: int = 2
    work_queue: int = 8
    data_dir: Path = None  # type: ignore[assignment]  # None → <tiles_dir>/.data
    mapproxy_template: Path | None = None
    raster_warmup: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiles_dir", Path(self.tiles_dir))
        data_dir = default_data_dir(self.tiles_dir) if self.data_dir is None else self.data_dir
        object.__setattr__(self, "data_dir", Path(data_dir))
        if self.mapproxy_template is not None:
            object.__setattr__(self, "mapproxy_template", Path(self.mapproxy_template))
        if self.tokens_file is not None:
            object.__setattr__(self, "tokens_file", Path(self.tokens_file))
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))
        if not self.allowed_hosts:
            raise SettingsError("allowed_hosts must name at least one host (or *)")
        if self.cache_max_age < 0:
            raise SettingsError(f"cache_max_age must be ≥ 0, got {self.cache_max_age}")
        if not self.reload_interval_s > 0:
            raise SettingsError(f"reload_interval_s must be > 0, got {self.reload_interval_s}")
        if self.work_slots < 1:
            raise SettingsError(f"work_slots must be ≥ 1, got {self.work_slots}")
        if self.work_queue < 0:
            raise SettingsError(f"work_queue must be ≥ 0, got {self.work_queue}")
        if self.tile_cache_bytes < 0:
            raise SettingsError(f"tile_cache_bytes must be ≥ 0, got {self.tile_cache_bytes}")
        if self.public_url is not None:
            url = self.public_url.rstrip("/")
            if not url.startswith(("http://", "https://")):
                raise SettingsError(f"public_url must start with http:// or https://: {url!r}")
            object.__setattr__(self, "public_url", url)

    @property
    def glyphs_dir(self) -> Path:
        """The label glyph ranges (made on first use): <data_dir>/glyphs."""
        return glyphs_dir_of(self.data_dir)

    @property
    def hosts(self) -> list[str]:
        """The Host values answered: allowed_hosts and the public URL's host."""
        hosts = list(self.allowed_hosts)
        if self.public_url is not None:
            host = urlsplit(self.public_url).hostname
            if host and host not in hosts:
                hosts.append(f"[{host}]" if ":" in host else host)
        return hosts

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from PUBLISH_TILES_DIR (required), PUBLISH_CACHE_MAX_AGE,
        PUBLISH_CORS_ORIGINS, PUBLISH_ALLOWED_HOSTS, PUBLISH_TRUSTED_PROXIES (each
        comma-separated), PUBLISH_TOKENS_FILE, PUBLISH_RELOAD_INTERVAL,
        PUBLISH_TILE_CACHE_BYTES, PUBLISH_WORK_SLOTS, PUBLISH_WORK_QUEUE,
        PUBLISH_PUBLIC_URL, PUBLISH_DATA_DIR, PUBLISH_MAPPROXY_TEMPLATE and
        PUBLISH_RASTER_WARMUP (1/0, true/false, yes/no, on/off)."""

        def get(name: str) -> str | None:
            return env_value(name, environ)

        tiles_dir = get("TILES_DIR")
        if tiles_dir is None:
            raise SettingsError(f"{ENV_PREFIX}TILES_DIR is not set (the build's output folder)")
        kwargs: dict[str, object] = {"tiles_dir": Path(tiles_dir)}
        for name, key, kind in (
            ("CACHE_MAX_AGE", "cache_max_age", int),
            ("RELOAD_INTERVAL", "reload_interval_s", float),
            ("TILE_CACHE_BYTES", "tile_cache_bytes", int),
            ("WORK_SLOTS", "work_slots", int),
            ("WORK_QUEUE", "work_queue", int),
        ):
            text = get(name)
            if text is not None:
                try:
                    kwargs[key] = kind(text)
                except ValueError:
                    raise SettingsError(
                        f"{ENV_PREFIX}{name}={text!r} is not {'an integer' if kind is int else 'a number'}"
                    ) from None
        for name, key in (
            ("CORS_ORIGINS", "cors_origins"),
            ("ALLOWED_HOSTS", "allowed_hosts"),
            ("TRUSTED_PROXIES", "trusted_proxies"),
        ):
            text = get(name)
            if text is not None:
                kwargs[key] = tuple(o.strip() for o in text.split(",") if o.strip())
        tokens = get("TOKENS_FILE")
        if tokens is not None:
            kwargs["tokens_file"] = Path(tokens)
        kwargs["public_url"] = get("PUBLIC_URL")
        for name, key in (("DATA_DIR", "data_dir"), ("MAPPROXY_TEMPLATE", "mapproxy_template")):
            text = get(name)
            if text is not None:
                kwargs[key] = Path(text)
        warmup = get("RASTER_WARMUP")
        if warmup is not None:
            kwargs["raster_warmup"] = _flag(ENV_PREFIX + "RASTER_WARMUP", warmup)
        return cls(**kwargs)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The environment variables that `from_env` turns back into these settings."""
        env = {
            "TILES_DIR": str(self.tiles_dir.resolve()),
            "CACHE_MAX_AGE": str(self.cache_max_age),
            "CORS_ORIGINS": ",".join(self.cors_origins),
            "TOKENS_FILE": "" if self.tokens_file is None else str(self.tokens_file.resolve()),
            "RELOAD_INTERVAL": repr(self.reload_interval_s),
            "TILE_CACHE_BYTES": str(self.tile_cache_bytes),
            "PUBLIC_URL": self.public_url or "",
            "ALLOWED_HOSTS": ",".join(self.allowed_hosts),
            "TRUSTED_PROXIES": ",".join(self.trusted_proxies),
            "WORK_SLOTS": str(self.work_slots),
            "WORK_QUEUE": str(self.work_queue),
            "DATA_DIR": str(self.data_dir.resolve()),
            "MAPPROXY_TEMPLATE": (
                "" if self.mapproxy_template is None else str(self.mapproxy_template.resolve())
            ),
            "RASTER_WARMUP": "1" if self.raster_warmup else "0",
        }
        return {ENV_PREFIX + k: v for k, v in env.items()}


_FLAGS = {"1": True, "true": True, "yes": True, "on": True}
_FLAGS.update({"0": False, "false": False, "no": False, "off": False})


def _flag(name: str, text: str) -> bool:
    try:
        return _FLAGS[text.lower()]
    except KeyError:
        raise SettingsError(f"{name}={text!r} is not 1/0, true/false, yes/no or on/off") from None
