"""The run-time resources: found in the checkout when running from it, refused by name when
unknown, and used by default by the build, the styles and the WMS."""

from __future__ import annotations

from pathlib import Path

import pytest

from publish.resources import PACKAGED_DIR, RESOURCES, ResourceMissingError, resource_path
from publish.styles.symbols import default_styles_dir
from publish.wms.config import default_template

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_resources_are_the_repositorys() -> None:
    assert not PACKAGED_DIR.exists()  # only a wheel has them (setup.py copies them in)
    for name in RESOURCES:
        assert resource_path(name) == ROOT / name
    assert default_styles_dir() == ROOT / "styles"
    assert default_template() == ROOT / "mapproxy.yaml"


def test_unknown_resource_is_named() -> None:
    with pytest.raises(ResourceMissingError, match=r"unknown resource 'layers\.yml'"):
        resource_path("layers.yml")
