"""The files the package reads at run time that live at the top of the repository: the style
symbols (`styles/`), the MapProxy template (`mapproxy.yaml`) and the pygeoapi server metadata
(`config/pygeoapi.yml`).

They stay the sources in the repository; the wheel carries copies in `publish/packaged/`
(setup.py copies them there when it builds the wheel). `resource_path(name)` finds them: the
packaged copy in an installed package, the repository's file when running from a checkout (an
editable install). An operator who wants their own copies names them on the command line
(`build --styles-dir`, `build --server-config`, `serve`/`seed --mapproxy-template`).
"""

from __future__ import annotations

from pathlib import Path

from publish.errors import PublishError

__all__ = ["PACKAGED_DIR", "RESOURCES", "ResourceMissingError", "resource_path"]

# relative to the repository's root, and to PACKAGED_DIR in a wheel (setup.py lists the same)
RESOURCES = ("styles", "mapproxy.yaml", "config/pygeoapi.yml")
PACKAGED_DIR = Path(__file__).resolve().parent / "packaged"
_CHECKOUT = Path(__file__).resolve().parents[1]


class ResourceMissingError(PublishError):
    """A resource is neither in the installed package nor in a checkout."""


def resource_path(name: str) -> Path:
    """The file or folder `name` (one of RESOURCES): the packaged copy when the package was
    installed from a wheel, else the checkout's."""
    if name not in RESOURCES:
        raise ResourceMissingError(f"unknown resource {name!r} (one of {', '.join(RESOURCES)})")
    for path in (PACKAGED_DIR / name, _CHECKOUT / name):
        if path.exists():
            return path
    raise ResourceMissingError(
        f"{name} is neither in {PACKAGED_DIR} (an installed wheel) nor in {_CHECKOUT} "
        "(a checkout): reinstall the package"
    )
