"""Debian's nginx on the configuration `deploy nginx` prints, in a folder of its own (pid, logs,
temporary files and cache under it), for tests/deploy and bench/deploy.py: the options for
nginx on 127.0.0.1 in front of local nodes, its two files and its command line."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from publish.deploy.nginx import NginxOptions, nginx_config

MAIN_CONFIG = """\
{user}worker_processes {workers};
pcre_jit on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections {connections}; }}
http {{
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{http_extra}    include {prefix}/onemap.conf;
}}
"""


def local_options(prefix: Path, nodes: tuple[str, ...], port: int) -> NginxOptions:
    """nginx on 127.0.0.1:`port` in front of `nodes`, its cache, tile store and log under
    `prefix`."""
    return NginxOptions(
        nodes=nodes,
        public_url=f"http://127.0.0.1:{port}",
        listen=f"127.0.0.1:{port}",
        cache_dir=str(prefix / "cache"),
        tile_store=str(prefix / "tiles"),
        access_log=str(prefix / "access.log"),
    )


def nginx_files(
    prefix: Path,
    options: NginxOptions,
    *,
    workers: int = 2,
    connections: int = 1024,
    http_extra: str = "",
) -> Path:
    """nginx.conf (as Debian's: `include` of the generated file inside http, after the lines of
    `http_extra`) and onemap.conf in `prefix`; returns nginx.conf. Run as root, the workers stay
    root: temporary folders are not open to nginx's default worker user."""
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "onemap.conf").write_text(nginx_config(options), encoding="utf-8")
    conf = prefix / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    extra = "".join(f"    {line}\n" for line in http_extra.splitlines() if line.strip())
    text = MAIN_CONFIG.format(
        prefix=prefix, user=user, workers=workers, connections=connections, http_extra=extra
    )
    conf.write_text(text, encoding="utf-8")
    return conf


def nginx_command(prefix: Path, conf: Path, *extra: str) -> list[str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"  # sbin: not on every user's PATH
    return [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf), *extra]
