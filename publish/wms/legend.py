"""GetLegendGraphic: the legend publish.styles.legend reads from the release's style, drawn
as a PNG (a swatch and a label per entry) or given as JSON.

Labels are Chinese and English when a font with Chinese characters is installed (WenQuanYi or
Noto CJK), else English only; the swatch draws the entry as the map does (fill with its
outline, line with its width and dash, point as a dot).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from publish.raster.style import PLAN, visible_layer_ids
from publish.styles.legend import build_legend

SWATCH_W, SWATCH_H, ROW_H, PAD, TEXT_X = 24, 14, 20, 4, 34
CJK_FONTS = (
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansSC-Regular.otf",
    "DroidSansFallbackFull.ttf",
)
LATIN_FONTS = ("DejaVuSans.ttf", "NotoSans-Regular.ttf")


def legend_items(style: Mapping[str, Any], layer: str) -> list[dict[str, Any]]:
    """The legend items of one catalog layer, or of the layers the whole map shows (PLAN)."""
    items = build_legend(dict(style))
    wanted = set(visible_layer_ids(style)) if layer == PLAN else {layer}
    return [item for item in items if item["layer"] in wanted]


def legend_json(style: Mapping[str, Any], layer: str) -> str:
    return json.dumps(legend_items(style, layer), ensure_ascii=False)


@cache
def _fonts() -> tuple[Any, bool]:
    """(a PIL font, whether it draws Chinese)."""
    from PIL import ImageFont

    for name in CJK_FONTS:
        try:
            return ImageFont.truetype(name, 12), True
        except OSError:
            continue
    for name in LATIN_FONTS:
        try:
            return ImageFont.truetype(name, 12), False
        except OSError:
            continue
    return ImageFont.load_default(), False


def _rgba(colour: Any, opacity: float = 1.0) -> tuple[int, int, int, int]:
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(str(colour))
    except ValueError:
        rgb = (128, 128, 128)
    alpha = rgb[3] if len(rgb) == 4 else 255
    return rgb[0], rgb[1], rgb[2], round(alpha * opacity)


def _label(item: Mapping[str, Any], entry: Mapping[str, Any] | None, chinese: bool) -> str:
    if entry is None:
        title = item.get("title") or {}
        zh, en = str(title.get("zh", item["layer"])), str(title.get("en", ""))
    else:
        zh, en = str(entry.get("label_zh", "")), str(entry.get("label_en", ""))
    return f"{zh} {en}".strip() if chinese else (en or item["layer"])


def _swatch(draw: Any, top: int, entry: Mapping[str, Any]) -> None:
    x0, y0, x1, y1 = PAD, top + 3, PAD + SWATCH_W, top + 3 + SWATCH_H
    colour = _rgba(entry.get("colour"), float(entry.get("opacity", 1.0)))
    kind = entry.get("kind")
    if kind == "fill":
        draw.rectangle((x0, y0, x1, y1), fill=colour)
        if entry.get("outline"):
            draw.rectangle((x0, y0, x1, y1), outline=_rgba(entry["outline"]), width=2)
    elif kind == "line":
        width = max(1, round(float(entry.get("width") or 1.5)))
        mid = (y0 + y1) // 2
        dash = entry.get("dash")
        if dash:
            on, off = max(2, round(dash[0] * width)), max(1, round(dash[1] * width))
            x = x0
            while x < x1:
                draw.line((x, mid, min(x + on, x1), mid), fill=colour, width=width)
                x += on + off
        else:
            draw.line((x0, mid, x1, mid), fill=colour, width=width)
    else:
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill=colour, outline=(255, 255, 255, 255))


def legend_png(style: Mapping[str, Any], layer: str) -> bytes:
    """The legend of `layer` (or PLAN) as a transparent PNG: a title row per catalog layer,
    then a row per entry."""
    from PIL import Image, ImageDraw

    font, chinese = _fonts()
    rows: list[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = []
    for item in legend_items(style, layer):
        if layer == PLAN:
            rows.append((item, None))
        rows += [(item, entry) for entry in _entries(item)]
    rows = rows or [({"layer": layer}, None)]
    texts = [_label(item, entry, chinese) for item, entry in rows]
    width = TEXT_X + max(int(draw_length(font, t)) for t in texts) + PAD
    image = Image.new("RGBA", (max(width, 64), ROW_H * len(rows) + PAD), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for i, ((_item, entry), text) in enumerate(zip(rows, texts, strict=True)):
        top = PAD // 2 + i * ROW_H
        if entry is None:
            draw.text((PAD, top + 3), text, fill=(0, 0, 0, 255), font=font)
        else:
            _swatch(draw, top, entry)
            draw.text((TEXT_X, top + 3), text, fill=(40, 40, 40, 255), font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _entries(item: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    return list(item.get("entries") or [])


def draw_length(font: Any, text: str) -> float:
    try:
        return float(font.getlength(text))
    except AttributeError:  # a bitmap font
        return 7.0 * len(text)
