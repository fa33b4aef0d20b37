"""A collection's queryables (OGC API – Features Part 3) with what pygeoapi cannot say: the
fields' titles and the national land-use classification's codes and names.

pygeoapi writes the queryables document from the provider's published fields (their JSON Schema
types), each titled with its code. `described` titles the fields the planning database standard
names (publish/standards/fields.csv: MJ → 面积 / Area) in the request's language, and gives a
land-use layer's code field an `enum` of the codes and a `oneOf` with each code's name
(`{"const": "0101", "title": "水田"}`), so a client can offer a pick list.
"""

from __future__ import annotations

import copy
from typing import Any

from publish.standards import land_use_classes
from publish.standards.fields import standard_field_titles


def code_schema() -> dict[str, Any]:
    """The JSON Schema of a national land-use code: its codes, each with its name."""
    classes = sorted(land_use_classes().values(), key=lambda c: c.code)
    return {
        "type": "string",
        "enum": [c.code for c in classes],
        "oneOf": [{"const": c.code, "title": c.name} for c in classes],
    }


def described(doc: Any, code_field: str | None, language: str) -> Any:
    """A copy of the queryables document `doc` whose fields have the standard's titles in
    `language` (zh: Chinese, else English), and whose `code_field` (if any) lists the national
    codes and their names. `doc` as it is when it has no properties."""
    properties = doc.get("properties") if isinstance(doc, dict) else None
    if not isinstance(properties, dict):
        return doc
    out = copy.deepcopy(doc)
    titles = standard_field_titles()
    for name, schema in out["properties"].items():
        if isinstance(schema, dict) and name in titles:
            zh, en = titles[name]
            schema["title"] = zh if language == "zh" else en
    if code_field and isinstance(out["properties"].get(code_field), dict):
        out["properties"][code_field].update(code_schema())
    return out
