"""The planning map's MapLibre styles and their legend.

`build_style(catalog, audience, tiles_url=..., glyphs_url=...)` makes a style v8 document from
the layer catalog, the national land-use colours (publish.standards) and the symbol files in
the top-level styles/ folder; `build_legend(style)` reads the legend back from a style;
`validate_style(style)` checks one structurally.
"""

from __future__ import annotations

from publish.styles.document import build_style, kind_of
from publish.styles.legend import build_legend
from publish.styles.symbols import Symbols, load_symbols
from publish.styles.validate import validate_style

__all__ = ["Symbols", "build_legend", "build_style", "kind_of", "load_symbols", "validate_style"]
