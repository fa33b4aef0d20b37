"""A collection's queryables (OGC API – Features Part 3) with what pygeoapi cannot say: the
national land-use classification's codes and names on a land-use layer's code field.

pygeoapi writes the queryables document from the provider's published fields (their JSON Schema
types); `with_code_names` adds to the code field an `enum` of the codes and a `oneOf` giving each
code's name (`{"const": "0101", "title": "水田"}`), so a client can offer a pick list.
"""

from __future__ import annotations

import copy
from typing import Any

from publish.standards import land_use_classes


def code_schema() -> dict[str, Any]:
    """The JSON Schema of a national land-use code: its codes, each with its name."""
    classes = sorted(land_use_classes().values(), key=lambda c: c.code)
    return {
        "type": "string",
        "enum": [c.code for c in classes],
        "oneOf": [{"const": c.code, "title": c.name} for c in classes],
    }


def with_code_names(doc: Any, code_field: str) -> Any:
    """A copy of the queryables document `doc` whose `code_field` lists the national codes and
    their names (`doc` unchanged when it does not list the field)."""
    properties = doc.get("properties") if isinstance(doc, dict) else None
    if not isinstance(properties, dict) or not isinstance(properties.get(code_field), dict):
        return doc
    out = copy.deepcopy(doc)
    out["properties"][code_field].update(code_schema())
    return out
