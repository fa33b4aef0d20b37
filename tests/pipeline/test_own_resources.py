"""An operator's own copies of the packaged resources: `--styles-dir` and `--server-config`
make the release's styles and OGC metadata; a bad styles folder stops the build before any
work, naming the file."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
import yaml

from publish.cli import main
from publish.pipeline.build import BuildOptions, BuildResult, build
from publish.pipeline.progress import Reporter
from publish.resources import resource_path

BACKGROUND = "#123456"
TITLE = "Own title"


def test_own_styles_and_server_config_make_the_release(
    sample_dir: Path, built: BuildResult, tmp_path: Path
) -> None:
    styles = tmp_path / "styles"
    shutil.copytree(resource_path("styles"), styles)
    basemap = styles / "basemap.yml"
    text = basemap.read_text("utf-8")
    assert text.count('background: "#F7F5EF"') == 1
    basemap.write_text(text.replace('background: "#F7F5EF"', f'background: "{BACKGROUND}"'))
    server = yaml.safe_load(resource_path("config/pygeoapi.yml").read_text("utf-8"))
    server["metadata"]["identification"]["title"] = {"zh": TITLE, "en": TITLE}
    config = tmp_path / "pygeoapi.yml"
    config.write_text(yaml.safe_dump(server, allow_unicode=True), "utf-8")
    tiles = tmp_path / "tiles"  # the built folder with its layer cache: every layer is reused
    shutil.copytree(built.path.parents[1], tiles, symlinks=True)

    result = build(
        BuildOptions(
            catalog=sample_dir / "layers.yml", out=tiles, styles_dir=styles, server_config=config
        ),
        Reporter(io.StringIO(), rich=False),
    )
    assert result.rebuilt == ()
    for audience in ("public", "internal"):
        style = json.loads((result.path / "styles" / f"{audience}.json").read_bytes())
        [background] = [layer for layer in style["layers"] if layer["type"] == "background"]
        assert background["paint"]["background-color"] == BACKGROUND
        ogc = yaml.safe_load((result.path / "ogc" / f"{audience}.yml").read_text("utf-8"))
        assert ogc["metadata"]["identification"]["title"]["en"] == TITLE
    default = json.loads((built.path / "styles" / "public.json").read_bytes())
    assert BACKGROUND not in json.dumps(default)


def test_a_bad_styles_folder_stops_the_build_first(
    sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tiles"
    args = ["build", "--catalog", str(sample_dir / "layers.yml"), "--out", str(out)]
    assert main([*args, "--styles-dir", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "nowhere/basemap.yml: cannot read the symbol file" in err and "Traceback" not in err
    assert not (out / "releases").exists()
