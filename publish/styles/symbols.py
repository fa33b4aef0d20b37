"""The symbol definitions of the planning map: the YAML files in the top-level styles/ folder.

`load_symbols(folder)` reads and checks basemap.yml, control_lines.yml, planning_zones.yml and
land_use_names_en.yml into frozen dataclasses. Every problem is a BuildError naming the file and
the key, so a planner who edits a colour sees what is wrong without reading code. The files are
read when asked, never at import.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from publish.catalog import CONTROL_LINE_ROLES
from publish.errors import BuildError

__all__ = [
    "Circle",
    "ControlLine",
    "Fill",
    "Kind",
    "Label",
    "Level",
    "Line",
    "LineClass",
    "SymbolFile",
    "Symbols",
    "Zone",
    "default_styles_dir",
    "load_symbols",
]

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
GEOMETRIES = ("polygon", "line", "point")
SURFACE_ROLES = ("current_use", "land_use", "planning_zone")


@dataclass(frozen=True)
class Fill:
    colour: str
    opacity: float = 1.0


@dataclass(frozen=True)
class LineClass:
    value: str  # the attribute value, e.g. 高速公路
    en: str
    colour: str | None = None  # None: the line's own colour
    width: float | None = None  # None: the line's own width


@dataclass(frozen=True)
class Line:
    colour: str
    width: float  # pixels at zoom 10
    dash: tuple[float, ...] | None = None
    field: str | None = None  # classify by this attribute, when the layer publishes it
    classes: tuple[LineClass, ...] = ()
    other: tuple[str, str] | None = None  # legend label (zh, en) of the unclassified rest


@dataclass(frozen=True)
class Circle:
    colour: str
    radius: float
    stroke: str | None = None
    stroke_width: float = 0.0


@dataclass(frozen=True)
class Label:
    size: float
    colour: str
    halo: str | None = None
    minzoom: int = 0
    maxzoom: int | None = None
    offset: float | None = None  # ems below the point (for labels beside a circle)


@dataclass(frozen=True)
class Kind:
    """How catalog layers of role 'other' of one kind (river, road, ...) are drawn."""

    name: str
    geometry: str
    role: str = "other"
    fields: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    fill: Fill | None = None
    line: Line | None = None
    circle: Circle | None = None
    label: Label | None = None


@dataclass(frozen=True)
class Level:
    """One administrative level: its boundary line and its name label."""

    line: Line
    label: Label | None = None


@dataclass(frozen=True)
class Zone:
    code: str
    zh: str
    en: str
    colour: str


@dataclass(frozen=True)
class ControlLine:
    role: str
    fill: Fill | None
    line: Line | None


@dataclass(frozen=True)
class Symbols:
    background: str
    font: tuple[str, ...]
    default_surface: str
    land_use_opacity: float
    fallback: str
    edges: Line
    edges_minzoom: int
    kinds: tuple[Kind, ...]
    generic: Mapping[str, Kind]  # by geometry
    admin: tuple[Level, ...]
    control_lines: tuple[ControlLine, ...]
    zone_field: str
    zone_opacity: float
    zones: tuple[Zone, ...]
    land_use_en: Mapping[str, str]
    folder: Path


def default_styles_dir() -> Path:
    """The styles/ folder the package ships (the repository's in a checkout)."""
    from publish.resources import resource_path

    return resource_path("styles")


def load_symbols(folder: str | Path | None = None) -> Symbols:
    """Read the four symbol files of `folder` (default: the repository's styles/)."""
    folder = Path(folder) if folder is not None else default_styles_dir()
    base = SymbolFile.read(folder / "basemap.yml")
    controls = SymbolFile.read(folder / "control_lines.yml")
    zones = SymbolFile.read(folder / "planning_zones.yml")
    names = SymbolFile.read(folder / "land_use_names_en.yml")

    surfaces = base.sub("surfaces")
    edges = surfaces.sub("edges")
    generic = base.sub("generic")
    kinds = tuple(_kind(base.at(f"kinds[{i}]", item)) for i, item in enumerate(base.items("kinds")))
    if len({k.name for k in kinds}) != len(kinds):
        raise base.error("kinds", "names a kind twice")
    if surfaces.text("default") not in SURFACE_ROLES:
        raise surfaces.error("default", f"must be one of {', '.join(SURFACE_ROLES)}")
    control_lines = tuple(
        _control_line(controls.at(f"lines[{i}]", item))
        for i, item in enumerate(controls.items("lines"))
    )
    if sorted(c.role for c in control_lines) != sorted(CONTROL_LINE_ROLES):
        raise controls.error("lines", f"must give each of {', '.join(CONTROL_LINE_ROLES)} once")
    zone_list = tuple(
        _zone(zones.at(f"zones[{i}]", item)) for i, item in enumerate(zones.items("zones"))
    )
    if len({z.code for z in zone_list}) != len(zone_list):
        raise zones.error("zones", "lists a code twice")
    return Symbols(
        background=base.colour("background"),
        font=tuple(base.strings("font")),
        default_surface=surfaces.text("default"),
        land_use_opacity=surfaces.number("land_use_opacity", 1.0),
        fallback=surfaces.colour("fallback"),
        edges=_line(edges),
        edges_minzoom=edges.zoom("minzoom", 0),
        kinds=kinds,
        generic={
            geometry: _kind(generic.sub(geometry), name=f"generic_{geometry}", geometry=geometry)
            for geometry in GEOMETRIES
        },
        admin=tuple(
            Level(line=_line(level.sub("line")), label=_label(level.opt_sub("label")))
            for level in (base.at(f"admin[{i}]", x) for i, x in enumerate(base.items("admin")))
        ),
        control_lines=control_lines,
        zone_field=zones.text("field"),
        zone_opacity=zones.number("opacity", 1.0),
        zones=zone_list,
        land_use_en={str(code): str(name) for code, name in names.data.items()},
        folder=folder,
    )


class SymbolFile:
    """A mapping read from one YAML file, with checked getters that name file and key."""

    def __init__(self, path: Path, where: str, data: Mapping[str, Any]) -> None:
        self.path, self.where, self.data = path, where, data

    @classmethod
    def read(cls, path: Path) -> SymbolFile:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise BuildError(f"{path}: cannot read the symbol file ({exc.strerror})") from exc
        except yaml.YAMLError as exc:
            raise BuildError(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(data, dict):
            raise BuildError(f"{path}: expected a mapping of keys")
        return cls(path, "", data)

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def error(self, key: str, problem: str) -> BuildError:
        return BuildError(
            f"{self.path}: key {self._key(key)!r} {problem} (got {self.data.get(key)!r})"
        )

    def at(self, where: str, data: Any) -> SymbolFile:
        if not isinstance(data, dict):
            raise BuildError(f"{self.path}: {where} must be a mapping of keys (got {data!r})")
        return SymbolFile(self.path, where, data)

    def sub(self, key: str) -> SymbolFile:
        if key not in self.data:
            raise self.error(key, "is required")
        return self.at(self._key(key), self.data[key])

    def opt_sub(self, key: str) -> SymbolFile | None:
        return None if self.data.get(key) is None else self.sub(key)

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.error(key, "must be a non-empty list")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "is required")
        if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
            raise self.error(key, "must be a text")
        return str(value)

    def opt_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)

    def strings(self, key: str, required: bool = True) -> list[str]:
        value = self.data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.error(key, "must be a list of texts")
        return value

    def colour(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str) or not _COLOUR.match(value):
            raise self.error(key, 'must be a colour "#RRGGBB"')
        return value.upper()

    def opt_colour(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.colour(key)

    def number(self, key: str, default: float | None = None, top: float = 1e3) -> float:
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "is required")
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= top:
            raise self.error(key, f"must be a number from 0 to {top:g}")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        return None if self.data.get(key) is None else self.number(key)

    def zoom(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 24:
            raise self.error(key, "must be an integer zoom from 0 to 24")
        return value


def _fill(doc: SymbolFile | None) -> Fill | None:
    if doc is None:
        return None
    return Fill(doc.colour("colour"), doc.number("opacity", 1.0, top=1.0))


def _line(doc: SymbolFile) -> Line:
    dash = doc.data.get("dash")
    if dash is not None and (
        not isinstance(dash, list)
        or len(dash) < 2
        or not all(isinstance(d, int | float) and not isinstance(d, bool) and d >= 0 for d in dash)
    ):
        raise doc.error("dash", "must be a list of at least two non-negative numbers")
    classes = tuple(
        LineClass(
            value=item.text("value"),
            en=item.text("en", default=item.text("value")),
            colour=item.opt_colour("colour"),
            width=item.opt_number("width"),
        )
        for item in (
            doc.at(f"{doc._key('classes')}[{i}]", x)
            for i, x in enumerate(doc.data.get("classes") or [])
        )
    )
    if len({c.value for c in classes}) != len(classes):
        raise doc.error("classes", "lists a value twice")
    if classes and not doc.opt_text("field"):
        raise doc.error("field", "is required with 'classes'")
    other = doc.opt_sub("other")
    return Line(
        colour=doc.colour("colour"),
        width=doc.number("width"),
        dash=tuple(float(d) for d in dash) if dash is not None else None,
        field=doc.opt_text("field"),
        classes=classes,
        other=(other.text("zh"), other.text("en")) if other is not None else None,
    )


def _circle(doc: SymbolFile | None) -> Circle | None:
    if doc is None:
        return None
    return Circle(
        colour=doc.colour("colour"),
        radius=doc.number("radius"),
        stroke=doc.opt_colour("stroke"),
        stroke_width=doc.number("stroke_width", 0.0),
    )


def _label(doc: SymbolFile | None) -> Label | None:
    if doc is None:
        return None
    maxzoom = doc.data.get("maxzoom")
    return Label(
        size=doc.number("size"),
        colour=doc.colour("colour"),
        halo=doc.opt_colour("halo"),
        minzoom=doc.zoom("minzoom", 0),
        maxzoom=None if maxzoom is None else doc.zoom("maxzoom"),
        offset=doc.opt_number("offset"),
    )


def _kind(doc: SymbolFile, name: str | None = None, geometry: str | None = None) -> Kind:
    geometry = geometry or doc.text("geometry")
    if geometry not in GEOMETRIES:
        raise doc.error("geometry", f"must be one of {', '.join(GEOMETRIES)}")
    line = doc.opt_sub("line")
    kind = Kind(
        name=name or doc.text("name"),
        geometry=geometry,
        role=doc.text("role", default="other"),
        fields=tuple(doc.strings("fields", required=False)),
        ids=tuple(doc.strings("ids", required=False)),
        fill=_fill(doc.opt_sub("fill")),
        line=_line(line) if line is not None else None,
        circle=_circle(doc.opt_sub("circle")),
        label=_label(doc.opt_sub("label")),
    )
    needs = {"polygon": ("fill", "line"), "line": ("line",), "point": ("circle",)}[geometry]
    if not any(getattr(kind, part) is not None for part in needs):
        raise doc.error(needs[0], f"is required for a {geometry} kind")
    return kind


def _control_line(doc: SymbolFile) -> ControlLine:
    line = doc.opt_sub("line")
    control = ControlLine(
        role=doc.text("role"),
        fill=_fill(doc.opt_sub("fill")),
        line=_line(line) if line is not None else None,
    )
    if control.fill is None and control.line is None:
        raise doc.error("line", "or 'fill' is required")
    return control


def _zone(doc: SymbolFile) -> Zone:
    return Zone(doc.text("code"), doc.text("zh"), doc.text("en"), doc.colour("colour"))
