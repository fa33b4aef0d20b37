"""The wheel's build hook (the rest of the project's metadata is in pyproject.toml).

The top-level styles/, mapproxy.yaml and config/pygeoapi.yml stay the sources in the repository;
`build_py` copies them into the wheel as publish/packaged/… (publish.resources finds them there
once installed). An editable install reads them from the checkout, so nothing is copied for it.
The viewer's built assets (publish/viewer/static, built from web/ by `make`) must exist.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RESOURCES = ("styles", "mapproxy.yaml", "config/pygeoapi.yml")  # publish/resources.py lists them
VIEWER_PAGE = ROOT / "publish" / "viewer" / "static" / "index.html"


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        if not VIEWER_PAGE.is_file():
            raise SystemExit(f"{VIEWER_PAGE} is missing: build the viewer first (make install)")
        packaged = Path(self.build_lib) / "publish" / "packaged"
        shutil.rmtree(packaged, ignore_errors=True)
        for name in RESOURCES:
            source, target = ROOT / name, packaged / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, target)


setup(cmdclass={"build_py": BuildWithResources})
