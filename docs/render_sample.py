"""Render the sample city to docs/sample.png for the README.

.venv/bin/python docs/render_sample.py [SAMPLE_DIR]   (default: sample/, from `make sample`)
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from publish.catalog import load_catalog
from publish.sources import read_layer

DRAW = [  # layer id, face colour, edge colour, line width, legend label
    ("xzq_xiang", "#f4f1ea", "#b9b1a0", 0.3, "townships"),
    ("yjjbnt", "#f2d24b", "none", 0, "permanent basic farmland (YJJBNT)"),
    ("stbhhx", "#8fcf8a", "#d7191c", 0.4, "ecological protection red line (STBHHX)"),
    ("czkfbj", "#f08b5c", "#7b2d8e", 0.6, "urban development boundary (CZKFBJ)"),
    ("zrbhd", "none", "#1f5fa8", 0.8, "protected areas"),
    ("xzq_xian", "none", "#333333", 1.2, "county-level units"),
]


def main(sample: Path, out: Path) -> None:
    catalog = load_catalog(sample / "layers.yml")
    fig, ax = plt.subplots(figsize=(12, 7.5), dpi=90)
    handles = []
    for layer_id, face, edge, width, label in DRAW:
        frame = read_layer(catalog.layer(layer_id))
        frame.plot(ax=ax, facecolor=face, edgecolor=edge, linewidth=width)
        handles.append(Patch(facecolor=face, edgecolor=edge, label=label))
    read_layer(catalog.layer("hl")).plot(ax=ax, color="#338ec0", linewidth=1.0)
    read_layer(catalog.layer("dl")).plot(ax=ax, color="#777777", linewidth=0.5)
    villages = read_layer(catalog.layer("cun"))
    villages.plot(ax=ax, color="#444444", markersize=1.5)
    ax.set_title("Sample city modelled on Zhangjiajie (generated data, EPSG:4326)")
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_aspect(1 / 0.875)  # cos(29°): degrees look like the ground
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    sample_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("sample")
    main(sample_dir, Path(__file__).with_name("sample.png"))
