"""`python -m publish deploy nginx --nodes H:P,H:P --public-url URL [...]`: prints the nginx
configuration for the nodes (publish.deploy.nginx) on stdout."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from publish.deploy.nginx import (
    DEFAULT_ACCESS_LOG,
    DEFAULT_CACHE_DIR,
    DEFAULT_CACHE_SIZE,
    DEFAULT_SITE_CHECK_RATE,
    DEFAULT_TILE_STORE,
    NginxOptions,
    nginx_config,
    nodes_argument,
)


def add_commands(subparsers: Any) -> None:
    """Add `deploy nginx` to an argparse subparsers object; it sets `run`."""
    deploy = subparsers.add_parser(
        "deploy", help="configuration for running on several servers (nginx in front of nodes)"
    )
    targets = deploy.add_subparsers(dest="target", required=True)
    nginx = targets.add_parser(
        "nginx", help="print the nginx configuration in front of the nodes (deploy/README.md)"
    )
    nginx.add_argument(
        "--nodes", required=True, help="the nodes' HOST:PORT, comma-separated (`serve` on each)"
    )
    nginx.add_argument(
        "--public-url", required=True, help="http(s)://HOST[:PORT] the clients use (nginx's)"
    )
    nginx.add_argument("--listen", help="PORT or ADDRESS:PORT (default: the public URL's port)")
    nginx.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR, help="nginx's cache folder")
    nginx.add_argument("--cache-size", default=DEFAULT_CACHE_SIZE, help="cache bound (10g, 500m)")
    nginx.add_argument(
        "--tile-store",
        default=DEFAULT_TILE_STORE,
        help="folder of the public versioned tiles nginx keeps as files, or off",
    )
    nginx.add_argument(
        "--site-check-rate",
        default=DEFAULT_SITE_CHECK_RATE,
        help="site checks a client may run (2r/s, 30r/m; a burst of 10 more)",
    )
    nginx.add_argument("--access-log", default=DEFAULT_ACCESS_LOG, help="a file, or off")
    nginx.add_argument("--tls-cert", help="certificate (chain) file: nginx terminates TLS")
    nginx.add_argument("--tls-key", help="the certificate's key file")
    nginx.set_defaults(run=run_nginx)


def run_nginx(args: argparse.Namespace) -> int:
    """Print the configuration (each option is the argument of the same name)."""
    values = {option.name: getattr(args, option.name) for option in fields(NginxOptions)}
    values["nodes"] = nodes_argument(args.nodes)
    print(nginx_config(NginxOptions(**values)), end="")
    return 0
