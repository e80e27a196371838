"""Tabular import (CSV/XLSX) with a YAML mapping, in the spirit of Aleph's entity mappings.

A mapping names the entities one row produces and the links between them::

    name: County property roll
    source: {title: ..., publisher: ..., source_type: registry, reliability: B}
    screen: owner                      # the mapped entity whose names screening checks
    entities:
      parcel:
        kind: RealEstate
        keys: [APN]                    # stable id: the same row re-imported updates in place
        properties:
          parcelNumber: APN            # a column
          name: {template: "Parcel {APN}"}
          address: {columns: [SITUS_STREET, SITUS_CITY], join: ", "}
      owner:
        kind_from: {column: OWNER_TYPE, map: {P: Person, C: Company}}
        properties:
          name: OWNER_NAME
          identifier: {column: RFC, scheme: RFC}
    links:
      - {kind: Ownership, source: owner, target: parcel,
         properties: {acquisitionDate: {column: DEED_DATE, date_format: "%m/%d/%Y"}, price: SALE_PRICE}}

``kind_from`` reads each row's kind from a code column. A row whose code the ``map`` does not list
(or whose code cell is blank while the entity's other columns are filled) is rejected, naming the
column, the value and the codes the mapping knows; ``default: Company`` in ``kind_from`` names the
kind of every such code instead. A ``kind`` beside ``kind_from`` is not such a default. Where no column
says the kind (a registry's registered agent, a person or a company), ``kind_from: {column: REGISTERED_AGENT,
legal_form: Company, default: Person}`` reads it from the name: one with a legal form ('... INC', '... LLC',
'CT CORPORATION SYSTEM') is the ``legal_form`` kind, any other the ``default``.

A property's value comes from one of:

* ``COLUMN`` (or ``{column: COLUMN}``): the cell;
* ``{columns: [A, B], join: ", "}``: the non-blank cells joined (a space by default);
* ``{template: "Parcel {APN}"}``: text with cells put in (a template with any blank cell gives no value);
* ``{literal: Webb}``: a fixed value for every row (a number is read as its text);

each optionally with ``split: ";"`` (one value per non-blank part: 'GARCIA; LOPEZ' gives two names),
``scheme: RFC`` (an identifier: written ``RFC:value``, checked as the scheme says) and ``date_format:
"%m/%d/%Y"`` (or ``format:``; the cell's date, stored as YYYY-MM-DD). ``keys`` name columns, or properties
of the entity with a ``literal`` (``keys: [APN, county]`` with ``county: {literal: Webb}``: parcel numbers
repeat from county to county). A cell that says "no value" in words (``N/A``, ``n/d``, ``s/d``, ``-``, ...)
reads as blank; a mapping's top-level ``empty_values: [...]`` replaces that list (``[]``: every cell is a
value). The header is the first of the first 20 rows holding every column the mapping reads (a title or
blank rows above it are passed over). ``source:`` describes the file's Source (title, publisher,
source_type, reliability); ``screen: owner`` names the mapped entity whose names the screening page checks.

Rows go through the domain services (validation, permissions, audit) and every created entity,
value and link cites the file's Source with the locator ``row N`` (N counts data rows, from the
first under the header). Messages name the line a user finds in an editor, with the data row:
``roll.csv, line 4 (data row 3): ...`` (``sheet row 4`` in an XLSX workbook).

An XLSX workbook is read from its first sheet, or from the sheet the mapping names (``sheet: Roll``; a
name the workbook lacks is refused with the sheets it has, and a header that lacks the mapping's
columns is refused naming the sheet read and the others). Cells are read as a spreadsheet program
shows them: a number formatted as a percentage in percent (0.5 shown as 50% reads '50'), a date as
YYYY-MM-DD. A formula cell the file holds no computed value for (a workbook a program wrote and no
spreadsheet program saved) is never read as blank: a required value in it (a name, a key) rejects the
row naming the cell, an optional one is left out with a warning naming it, and a screening upload is
refused until the file is saved from a spreadsheet program.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.labels import counted, more_rows
from workbench.matching.owners import names_a_company
from workbench.schema import Registry, ValidationError, registry
from workbench.sources.bulk import CHUNK, IMPORTER_VERSION, BulkWriter, ImportSummary
from workbench.sources.files import store_file
from workbench.store.entities import NotFound
from workbench.store.models import Link
from workbench.store.permissions import Actor, require


class MappingError(ValueError):
    """The mapping YAML is wrong; the message names the line or key at fault."""


@dataclass(frozen=True)
class Place:
    """Where a data row is: the line of a CSV (the row of an XLSX sheet) a user finds in an editor,
    and the data row counted from the first under the header, which citations ('row 3') and the
    screening review name."""

    row: int
    line: int
    unit: str = "line"  # "sheet row" in a workbook

    def __str__(self) -> str:
        return f"{self.unit} {self.line} (data row {self.row})"


BAD_ROWS_SHOWN = 10  # bad rows an upload check reports at once


class TableError(ValueError):
    """The table cannot be read; names the file, the line (``where``) and what is wrong."""

    def __init__(self, file: str, where: Place | str | None, message: str):
        self.file = file
        self.where = where
        self.message = message
        super().__init__(self.named(file))

    def named(self, file: str) -> str:
        """The message under another file name: an upload is stored under its hash, and the user knows
        it by the name it was uploaded with."""
        return f"{file}, {self.where}: {self.message}" if self.where else f"{file}: {self.message}"


@dataclass
class ValueSpec:
    column: str | None = None
    columns: list[str] = field(default_factory=list)
    join: str = " "
    literal: str | None = None
    template: str | None = None
    split: str | None = None
    scheme: str | None = None
    date_format: str | None = None

    def referenced(self) -> list[str]:
        cols = list(self.columns)
        if self.column:
            cols.append(self.column)
        if self.template:
            cols.extend(_TEMPLATE_FIELD.findall(self.template))
        return cols

    def _date(self, value: str) -> str:
        """The date as YYYY-MM-DD. A spreadsheet's own date cells arrive in that form already (the
        reader writes them so), and are taken whatever ``date_format`` says, which is for text."""
        try:
            return datetime.strptime(value, self.date_format).date().isoformat()
        except ValueError:
            pass
        try:
            if _ISO_DATE.fullmatch(value):
                return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
        example = datetime(2019, 3, 15).strftime(self.date_format)
        where = f"{self.column}: " if self.column else ""
        raise ValueError(f"{where}{value!r} is not a date written like {example} ({self.date_format})")

    def values(self, row: dict) -> list[str]:
        if self.literal is not None:
            raw = [self.literal]
        elif self.template is not None:
            # A template with a blank cell says nothing: its text would state what the row does not give
            # ('{SALE_PRICE} USD' with no price is not ' USD', '{VALOR} {MONEDA}' with no value is not 'MXN',
            # 'Parcel {APN}' with no number is no parcel's name), and one such row must not refuse the file.
            used = _TEMPLATE_FIELD.findall(self.template)
            if used and not all(str(row.get(c) or "").strip() for c in used):
                return []
            text = _TEMPLATE_FIELD.sub(lambda m: str(row.get(m.group(1)) or ""), self.template)
            raw = [text] if text.strip() else []
        elif self.columns:
            parts = [str(row.get(c) or "").strip() for c in self.columns]
            joined = self.join.join(p for p in parts if p)
            raw = [joined] if joined else []
        else:
            value = row.get(self.column)
            raw = [str(value).strip()] if value is not None and str(value).strip() else []
        if self.split:
            raw = [p.strip() for v in raw for p in v.split(self.split) if p.strip()]
        out = []
        for value in raw:
            if self.date_format:
                value = self._date(value)
            if self.scheme:
                value = f"{self.scheme}:{value}"
            out.append(value)
        return out


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A template's fields are column names as the header writes them ('{Parcel No.}'), not Python's
# format fields (where '.', '[' and '!' mean something else).
_TEMPLATE_FIELD = re.compile(r"{([^{}]+)}")


@dataclass
class EntityMapping:
    key: str
    kind: str | None
    kind_column: str | None
    kind_map: dict[str, str]
    keys: list[str]
    properties: dict[str, ValueSpec]
    kind_default: str | None = None  # kind_from's ``default``: the kind of a code the map does not list
    # kind_from's ``legal_form``: the kind of a row whose column holds a name with a legal form ('... INC')
    kind_legal_form: str | None = None

    def kind_for(self, row: dict) -> str | None:
        if self.kind_column:
            raw = str(row.get(self.kind_column) or "").strip()
            if self.kind_legal_form and raw not in self.kind_map and names_a_company(raw):
                return self.kind_legal_form
            return self.kind_map.get(raw, self.kind_default)
        return self.kind

    def possible_kinds(self) -> list[str]:
        """Every kind a row may give this entity, without repeats."""
        return list(dict.fromkeys(k for k in [self.kind, *self.kind_map.values(), self.kind_legal_form,
                                              self.kind_default] if k))

    def unlisted_code(self, row: dict) -> str | None:
        """Why the row's kind code cannot be read, or None. A code the map does not list is refused
        rather than read as some kind: an OWNER_TYPE 'T' (trust) taken for a Person would be screened
        and linked as one. A row that maps nothing for this entity (no second owner) is no problem."""
        if not self.kind_column or self.kind_default:
            return None
        raw = str(row.get(self.kind_column) or "").strip()
        if raw in self.kind_map or (not raw and not self.has_values(row)):
            return None
        value = f"{raw!r}" if raw else "empty"
        return (f"{self.kind_column} is {value}, a code the mapping does not list (it knows "
                f"{', '.join(map(repr, self.kind_map))}); add it to kind_from's map, or give kind_from a default")

    def key_columns(self) -> list[str]:
        """The keys read from the row's cells (the others name a fixed value of this entity: see _key_value)."""
        return [k for k in self.keys if k not in self.properties or self.properties[k].literal is None]

    def has_values(self, row: dict) -> bool:
        """Does the row fill any column this entity reads (literals do not count: every row has them)?"""
        return any(str(row.get(column) or "").strip()
                   for spec in self.properties.values() for column in spec.referenced())


@dataclass
class LinkMapping:
    kind: str
    source: str
    target: str
    properties: dict[str, ValueSpec]


# What rolls, registries and declarations write in a cell that has no value: 'N/A', 'n/d' (no disponible),
# 's/d' (sin dato), a dash. A mapping's ``empty_values`` replaces the list (``[]``: every cell is a value).
# Not 'NA', 'ND' or 'NONE': a country code (Namibia), a state (North Dakota) or a name a cell may really hold.
DEFAULT_EMPTY_VALUES = frozenset({"n/a", "n.a.", "n/d", "n.d.", "s/d", "sin dato", "no disponible",
                                  "-", "--", "---", "null"})


@dataclass
class TableMapping:
    name: str
    entities: dict[str, EntityMapping]
    links: list[LinkMapping]
    screen_entity: str | None
    source: dict[str, Any]
    sheet: str | None = None
    text: str = ""
    # Cells that say "no value" in words (compared trimmed and case-blind): read as blank cells, so a sale
    # price of 'N/A' leaves the price out rather than rejecting the row, and with it its owner's screening.
    empty_values: frozenset[str] = field(default_factory=lambda: DEFAULT_EMPTY_VALUES)

    def columns(self) -> set[str]:
        cols: set[str] = set()
        for entity in self.entities.values():
            for spec in entity.properties.values():
                cols.update(spec.referenced())
            cols.update(entity.key_columns())
            if entity.kind_column:
                cols.add(entity.kind_column)
        for link in self.links:
            for spec in link.properties.values():
                cols.update(spec.referenced())
        return cols

    def literals(self) -> Iterator[tuple[EntityMapping | LinkMapping, str, str]]:
        """(mapped entity or link, property, value) of every fixed value: what the mapping writes whatever
        a row says (a county, a topic, the kind of an ownership)."""
        for owner in [*self.entities.values(), *self.links]:
            for prop, spec in owner.properties.items():
                if spec.literal is not None:
                    yield owner, prop, spec.literal

    def demo_literals(self) -> list[tuple[str, str, str]]:
        """(record, property, value) of every fixed value marked FICTIONAL (``is_demo_value``): a mapping
        written for a sample file stamps them on whatever it imports."""
        return [(owner.key if isinstance(owner, EntityMapping) else f"{owner.kind} link", prop, value)
                for owner, prop, value in self.literals() if is_demo_value(value)]

    def screen_names(self, row: dict) -> list[str]:
        """The names to screen for a row: the screened entity's name-typed properties."""
        if not self.screen_entity:
            return []
        entity = self.entities[self.screen_entity]
        kind = entity.kind_for(row) or entity.kind
        spec = registry().entity_kinds.get(kind) if kind else None
        name_props = {p.name for p in spec.name_properties} if spec else {"name"}
        names: list[str] = []
        for prop, value_spec in entity.properties.items():
            if prop in name_props:
                for value in value_spec.values(row):
                    if value not in names:
                        names.append(value)
        return names


def is_demo_value(text: str) -> bool:
    """The sample mappings mark what they create FICTIONAL (the topic 'fictional', 'FICTIONAL Example
    County'): the marker the demo data keeps, and exactly what must not reach a user's records."""
    return "fictional" in text.lower()


def is_sample_file(path: str | Path) -> bool:
    """The shipped samples, and copies of them, say FICTIONAL in their file name (``X_FICTIONAL.csv``)."""
    return "fictional" in Path(path).name.lower()


def _line_of(node: Any) -> str:
    return ""


def _text(where: str, value: Any, what: str = "a text") -> Any:
    """``value`` when it is a text (or absent): a list or number where a name is due is refused here,
    named, rather than failing later where it is used as one."""
    if value is not None and not isinstance(value, str):
        raise MappingError(f"{where}: expected {what}, not {_shape(value)}")
    return value


def _texts(where: str, value: Any) -> list[str]:
    """A text or a list of texts (``keys: APN`` or ``keys: [APN, COUNTY]``), as a list."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                              for v in value):
        raise MappingError(f"{where}: expected a column name or a list of column names, not {_shape(value)}")
    return [str(v) for v in value]


def _shape(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false"}.get(type(value), f"{type(value).__name__} {value!r}")


def _value_spec(where: str, raw: Any) -> ValueSpec:
    if isinstance(raw, str):
        return ValueSpec(column=raw)
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: expected a column name or a mapping (column/columns/literal/template)")
    allowed = {"column", "columns", "join", "literal", "template", "split", "scheme", "date_format", "format"}
    unknown = set(raw) - allowed
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(allowed))})")
    sources = [k for k in ("column", "columns", "literal", "template") if k in raw]
    if len(sources) != 1:
        raise MappingError(f"{where}: give exactly one of column, columns, literal, template")
    for key, what in (("column", "a column name"), ("literal", "a text"), ("split", "a separator"),
                      ("scheme", "an identifier scheme"), ("join", "a separator"), ("date_format", "a date format"),
                      ("format", "a date format")):
        if key == "literal" and isinstance(raw.get(key), (int, float)) and not isinstance(raw.get(key), bool):
            continue  # literal: 100 is the text '100'
        _text(f"{where}.{key}", raw.get(key), what)
    columns = _texts(f"{where}.columns", raw.get("columns"))
    scheme = raw.get("scheme")
    if scheme and scheme.upper() not in registry().identifier_schemes:
        raise MappingError(f"{where}: unknown identifier scheme {scheme!r}")
    template = raw.get("template")
    if template is not None:
        if not isinstance(template, str) or any(brace in _TEMPLATE_FIELD.sub("", template) for brace in "{}"):
            raise MappingError(f"{where}.template: {template!r} has a brace without its pair: write columns as "
                               "{COLUMN NAME}")
        if not _TEMPLATE_FIELD.search(template):
            raise MappingError(f"{where}.template: {template!r} names no column (use literal: for fixed text)")
    date_format = raw.get("date_format") or raw.get("format")
    if date_format is not None:
        sample = datetime(2019, 3, 15)
        try:
            if datetime.strptime(sample.strftime(str(date_format)), str(date_format)).date() != sample.date():
                raise ValueError
        except ValueError:
            raise MappingError(f"{where}.date_format: {date_format!r} cannot read a date back (use codes such as "
                               "%d/%m/%Y or %m/%d/%Y)") from None
    return ValueSpec(column=raw.get("column"), columns=columns, join=str(raw.get("join", " ")),
                     literal=None if raw.get("literal") is None else str(raw["literal"]), template=template,
                     split=raw.get("split"), scheme=scheme.upper() if scheme else None, date_format=date_format)


def _check_link_ends(where: str, reg, spec, source: EntityMapping, target: EntityMapping) -> None:
    """A link whose ends no row could ever fit (an Ownership from a parcel) is refused with the mapping,
    before any file is stored or row read."""
    for end, mapped, allowed in (("source", source, spec.source), ("target", target, spec.target)):
        kinds = mapped.possible_kinds()
        if kinds and not any(reg.entity_kind(k).is_a_any(allowed) for k in kinds):
            raise MappingError(f"{where}.{end}: {spec.name} links cannot {'start' if end == 'source' else 'end'} at "
                               f"{mapped.key} ({' or '.join(kinds)}; allowed: {', '.join(allowed)})")


def _check_kind_from(where: str, kind_from: Any) -> None:
    """A misspelt key ('defualt') would otherwise be ignored, and unlisted codes refused for no clear reason."""
    if not isinstance(kind_from, dict):
        raise MappingError(f"{where}: expected a mapping (column, map, default)")
    unknown = set(kind_from) - {"column", "map", "default", "legal_form"}
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                           "(allowed: column, default, legal_form, map)")
    if kind_from.get("legal_form"):
        # A name column (a registered agent: a person or a company, no code says which).
        if not kind_from.get("column") or not kind_from.get("default") or \
                not isinstance(kind_from.get("map") or {}, dict):
            raise MappingError(f"{where}: 'legal_form' needs a 'column' holding the names and a 'default': the "
                               "kind of a name without a legal form")
    elif not kind_from.get("column") or not isinstance(kind_from.get("map") or {}, dict):
        raise MappingError(f"{where}: needs a 'column' and a 'map' from its codes to entity kinds")
    _text(f"{where}.column", kind_from["column"], "a column name")
    _text(f"{where}.default", kind_from.get("default"), "an entity kind")
    _text(f"{where}.legal_form", kind_from.get("legal_form"), "an entity kind")
    for code, kind in (kind_from.get("map") or {}).items():
        _text(f"{where}.map.{code}", kind, "an entity kind")


def _check_source_fields(name: str, source: dict) -> None:
    """The mapping's description of the table's source, checked now: a bad grade found only when the
    source is created would fail after the file was stored, and not at all when it already exists."""
    from workbench.store.entities import SOURCE_FIELDS, validate_source_fields

    unknown = set(source) - set(SOURCE_FIELDS)
    if unknown:
        raise MappingError(f"{name}: source: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                           f"(allowed: {', '.join(SOURCE_FIELDS)})")
    for key, value in source.items():  # a flag only where the field is one; a list or mapping nowhere
        if isinstance(value, (list, dict)) or (isinstance(value, bool) and key != "releasable"):
            raise MappingError(f"{name}: source.{key}: expected a text, not {_shape(value)}")
    try:
        texts = {k: v if v is None or isinstance(v, bool) else str(v) for k, v in source.items()}
        validate_source_fields({"title": "x", **texts}, registry())
    except ValidationError as exc:
        key, messages = next(iter(exc.errors.items()))
        raise MappingError(f"{name}: source.{key}: {'; '.join(messages)}") from None


class _MappingLoader(yaml.SafeLoader):
    """YAML without aliases: a mapping is a few dozen lines, and aliases nested a few levels deep
    expand to gigabytes when read ('billion laughs'); mappings come from web uploads too."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a mapping: write "
                                              "the value out", event.start_mark)
        return super().compose_node(parent, index)


MAX_MAPPING_BYTES = 256 * 1024


def load_mapping(text: str, name: str = "mapping") -> TableMapping:
    """Parse and check a mapping against schema/; MappingError names the line or key at fault."""
    if len(text) > MAX_MAPPING_BYTES:
        raise MappingError(f"{name}: a mapping is at most {MAX_MAPPING_BYTES // 1024} KB ({len(text) // 1024} KB given)")
    try:
        data = yaml.load(text, Loader=_MappingLoader)  # noqa: S506 - a SafeLoader without aliases
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}, line {mark.line + 1}" if mark is not None else name
        raise MappingError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc
    if not isinstance(data, dict):
        raise MappingError(f"{name}: expected a mapping with 'entities'")
    reg = registry()
    query = data.get("query")
    if query is not None and not isinstance(query, dict):
        raise MappingError(f"{name}: query: expected a mapping holding 'entities', not {_shape(query)}")
    raw_entities = data.get("entities") or (query or {}).get("entities")
    if not isinstance(raw_entities, dict) or not raw_entities:
        raise MappingError(f"{name}: 'entities' must map names to entity definitions")
    entities: dict[str, EntityMapping] = {}
    for key, spec in raw_entities.items():
        where = f"{name}: entities.{key}"
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: expected a mapping")
        kind = _text(f"{where}.kind", spec.get("kind") or spec.get("schema"), "an entity kind")
        kind_from = spec.get("kind_from") or {}
        if kind is None and not kind_from:
            raise MappingError(f"{where}: needs 'kind' (or 'kind_from')")
        if kind_from:
            _check_kind_from(f"{where}.kind_from", kind_from)
        kinds = [kind] if kind else []
        kinds.extend((kind_from.get("map") or {}).values())
        for extra in ("legal_form", "default"):
            if kind_from.get(extra):
                kinds.append(kind_from[extra])
        for k in kinds:
            if k not in reg.entity_kinds:
                raise MappingError(f"{where}.kind: unknown entity kind {k!r}")
            if reg.entity_kinds[k].abstract:
                raise MappingError(f"{where}.kind: {k} is abstract")
        properties: dict[str, ValueSpec] = {}
        raw_properties = spec.get("properties") or {}
        if not isinstance(raw_properties, dict):
            raise MappingError(f"{where}.properties: expected a mapping of properties, not {_shape(raw_properties)}")
        for prop, raw in raw_properties.items():
            if not any(prop in reg.entity_kinds[k].properties for k in kinds):
                raise MappingError(f"{where}.properties.{prop}: {'/'.join(kinds)} has no property {prop!r}")
            properties[prop] = _value_spec(f"{where}.properties.{prop}", raw)
        keys = _texts(f"{where}.keys", spec.get("keys"))
        entities[key] = EntityMapping(key, kind, kind_from.get("column"),
                                      {str(k): str(v) for k, v in (kind_from.get("map") or {}).items()},
                                      [str(k) for k in keys], properties, kind_from.get("default"),
                                      kind_from.get("legal_form"))
    links: list[LinkMapping] = []
    raw_links = data.get("links") or []
    if not isinstance(raw_links, list):
        raise MappingError(f"{name}: links: expected a list of links, not {_shape(raw_links)}")
    for index, spec in enumerate(raw_links):
        where = f"{name}: links[{index}]"
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: expected a mapping")
        kind = _text(f"{where}.kind", spec.get("kind") or spec.get("schema"), "a link kind")
        if kind not in reg.link_kinds:
            raise MappingError(f"{where}.kind: unknown link kind {kind!r}")
        for end in ("source", "target"):
            if _text(f"{where}.{end}", spec.get(end), "a mapped entity's name") not in entities:
                raise MappingError(f"{where}.{end}: {spec.get(end)!r} is not one of the mapped entities")
        props = {}
        raw_props = spec.get("properties") or {}
        if not isinstance(raw_props, dict):
            raise MappingError(f"{where}.properties: expected a mapping of properties, not {_shape(raw_props)}")
        for prop, raw in raw_props.items():
            if prop not in reg.link_kinds[kind].properties:
                raise MappingError(f"{where}.properties.{prop}: {kind} has no property {prop!r}")
            props[prop] = _value_spec(f"{where}.properties.{prop}", raw)
        _check_link_ends(where, reg, reg.link_kinds[kind], entities[spec["source"]], entities[spec["target"]])
        links.append(LinkMapping(kind, spec["source"], spec["target"], props))
    screen = _text(f"{name}: screen", data.get("screen"), "a mapped entity's name")
    _text(f"{name}: sheet", data.get("sheet"), "a sheet name")
    if screen is not None and screen not in entities:
        raise MappingError(f"{name}: screen: {screen!r} is not one of the mapped entities")
    source = data.get("source") or {}
    if not isinstance(source, dict):
        raise MappingError(f"{name}: source: expected a mapping (title, publisher, source_type, reliability)")
    _check_source_fields(name, source)
    empty = data.get("empty_values", None)
    if empty is None:
        empty_values = DEFAULT_EMPTY_VALUES
    elif isinstance(empty, list):
        bad = next((n for n, v in enumerate(empty, 1) if not isinstance(v, (str, int, float)) or isinstance(v, bool)
                    or not str(v).strip()), None)
        if bad is not None:
            raise MappingError(f"{name}: empty_values: item {bad} is {_shape(empty[bad - 1])}, not a text: list the "
                               "texts that mean 'no value' (e.g. ['N/A', '-']); a blank cell is always blank")
        empty_values = frozenset(str(v).strip().casefold() for v in empty)
    else:
        raise MappingError(f"{name}: empty_values: expected a list of texts (e.g. ['N/A', '-']), not {_shape(empty)}")
    return TableMapping(str(data.get("name") or name), entities, links, screen, source, data.get("sheet"), text,
                        empty_values)


# ---- reading -------------------------------------------------------------------------------

def is_workbook(path: Path) -> bool:
    """XLSX by name or by content: uploads are stored under their SHA-256, without a suffix, and an
    XLSX file is a ZIP archive, which no CSV file starts like."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


# A workbook's XML compresses about ten times; a 'zip bomb' (one cell's text repeated millions of
# times) hundreds of times, and parsing what it unpacks to takes minutes and gigabytes. Checked from
# the archive's directory, before a byte is inflated, by every reader of workbooks: the importer
# (`workbench import table`) and the web upload alike.
MAX_UNPACK_RATIO = 100
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
# The sheets are read as a stream, but a workbook's other parts, its shared strings above all (every
# distinct text of its cells), are held in memory whole, at about 1.3x their unpacked size: 412 MB of
# them took a server to 1.5 GB with three uploads. 100 MB holds some two million distinct owner names
# and addresses.
MAX_SHARED_STRINGS_BYTES = 100 * 1024 * 1024


def unpacked_problem(path: Path) -> str | None:
    """Why a workbook is refused before it is opened (None: it may be read)."""
    import zipfile

    try:
        size = Path(path).stat().st_size
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        return f"not a readable XLSX workbook ({exc})"
    unpacked = sum(info.file_size for info in members)
    # Every part but the sheets, whatever its name: the reader finds the shared strings by their content
    # type, so a renamed part ('xl/s.xml') holds them as well as 'xl/sharedStrings.xml' does.
    shared = sum(info.file_size for info in members if not info.filename.lower().startswith("xl/worksheets/"))
    if shared > MAX_SHARED_STRINGS_BYTES:
        return (f"the workbook's shared strings and other parts (all but its sheets: the text of its cells) unpack "
                f"to {shared / (1024 * 1024):.0f} MB, over {MAX_SHARED_STRINGS_BYTES // (1024 * 1024)} MB, which "
                "the reader would hold in memory whole: give it as CSV, or split it")
    too_big = unpacked > MAX_UNPACKED_BYTES
    if too_big or unpacked > MAX_UNPACK_RATIO * max(size, 1):
        limit = (f"over {MAX_UNPACKED_BYTES // (1024 * 1024)} MB" if too_big
                 else f"over {MAX_UNPACK_RATIO}x its size")
        return (f"the workbook unpacks to {unpacked / (1024 * 1024):.0f} MB from {size / 1024:.0f} KB, {limit}: "
                "refused as a possible zip bomb; save it again from a spreadsheet program, or give it as CSV")
    return None


def check_workbook(path: Path) -> None:
    """Raise TableError naming the file if the workbook must not be opened."""
    problem = unpacked_problem(path)
    if problem:
        raise TableError(Path(path).name, None, problem)


def located_rows(path: str | Path, mapping: TableMapping | None = None) -> Iterator[tuple[Place, dict]]:
    """Stream (place, row) from CSV or XLSX: every message about a row names its place."""
    path = Path(path)
    rows = _xlsx_rows(path, mapping) if is_workbook(path) else _csv_rows(path, mapping)
    empty = mapping.empty_values if mapping is not None else frozenset()
    if not empty:
        yield from rows
        return
    for place, row in rows:
        for column, value in row.items():
            if type(value) is str and value.strip().casefold() in empty:  # not a FormulaCell: its reason stands
                row[column] = None
        yield place, row


def read_rows(path: str | Path, mapping: TableMapping | None = None) -> Iterator[tuple[int, dict]]:
    """Stream (row number, row) from CSV or XLSX; row numbers count data rows from 1."""
    for place, row in located_rows(path, mapping):
        yield place.row, row


def check_table(path: str | Path, mapping: TableMapping, name: str | None = None) -> int:
    """Read every row and try the mapping on it without writing anything; return the row count.

    Screening uploads are checked so before the job starts: a value the mapping cannot read (a date
    in another format) or that the schema refuses would otherwise surface only when a reviewer
    confirms that row's hit. Raises TableError naming the file (``name``) and line."""
    name = name or Path(path).name
    count = 0
    bad: list[tuple[Place, str]] = []  # the first few bad rows, so one upload shows what to correct
    try:
        for place, row in located_rows(path, mapping):
            problems = row_problems(mapping, row)
            if problems:
                bad.append((place, "; ".join(problems)))
                if len(bad) > BAD_ROWS_SHOWN:
                    break
            count = place.row
    except TableError as exc:  # the reader names the stored file; the user knows it as ``name``
        raise TableError(name, exc.where, exc.message) from None
    if bad:
        (first, message), others = bad[0], bad[1:BAD_ROWS_SHOWN]
        if others:
            message += "; also " + "; ".join(f"{place}: {problem}" for place, problem in others)
        if len(bad) > BAD_ROWS_SHOWN:
            message += f" (and more rows after these; {BAD_ROWS_SHOWN} shown)"
        raise TableError(name, first, message)
    return count


def row_problems(mapping: TableMapping, row: dict) -> list[str]:
    """What apply_row would refuse in this row, found without writing."""
    problems: list[str] = []
    reg = registry()
    for key, entity in mapping.entities.items():
        unlisted = _formula_reason(row, [entity.kind_column] if entity.kind_column else []) or entity.unlisted_code(row)
        if unlisted:
            problems.append(f"{key}: {unlisted}")
            continue
        kind = entity.kind_for(row)
        if kind is None:
            continue
        spec = reg.entity_kind(kind)
        props, unreadable = _mapped_values(entity.properties, row, spec.properties)
        problems += [f"{key} {prop}: {reason}" for prop, reason in unreadable.items()]
        held = _formula_reason(row, entity.keys)
        if held and held not in unreadable.values():
            problems.append(f"{key} keys: {held}")
        problems += _refused(kind, props, spec.properties, key)
    for link in mapping.links:
        spec = reg.link_kind(link.kind)
        props, unreadable = _mapped_values(link.properties, row)
        problems += [f"{link.kind} {prop}: {reason}" for prop, reason in unreadable.items()]
        problems += _refused(link.kind, props, spec.properties, link.kind)
    return problems


def _mapped_values(specs: dict[str, ValueSpec], row: dict, known: dict | None = None,
                   formulas: dict[str, str] | None = None) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The row's values by property (only the properties in ``known``, when given), and the
    properties whose value the mapping cannot read, with the reason (a date in another format).

    A property read from a workbook's formula cell that holds no computed value (``FormulaCell``) is
    unreadable, with the reason naming the cell; when ``formulas`` is given it goes there instead, so
    that the caller refuses the row for a required value and leaves an optional one out, saying so."""
    props: dict[str, list[str]] = {}
    unreadable: dict[str, str] = {}
    for prop, value_spec in specs.items():
        if known is not None and prop not in known:
            continue
        formula = _formula_reason(row, value_spec.referenced())
        if formula:
            (unreadable if formulas is None else formulas)[prop] = formula
            continue
        try:
            values = value_spec.values(row)
        except ValueError as exc:
            unreadable[prop] = str(exc)
            continue
        if values:
            props[prop] = values
    return props, unreadable


def _formula_reason(row: dict, columns: list[str]) -> str | None:
    """Why the first of ``columns`` that is a formula cell without a computed value cannot be read, or None."""
    for column in columns:
        cell = row.get(column)
        if isinstance(cell, FormulaCell):
            return cell.reason
    return None


def _refused(kind: str, props: dict[str, list[str]], known: dict, label: str) -> list[str]:
    if not props:
        return []
    try:
        registry().validate_properties(kind, props, known, partial=True)
    except ValidationError as exc:
        return [f"{label} {prop}: {message}" for prop, messages in exc.errors.items() for message in messages]
    return []


def _check_header(path: Path, header: list[str], mapping: TableMapping | None) -> None:
    if not header or not any(h.strip() for h in header):
        raise TableError(path.name, None, "no header row")
    if mapping is not None:
        twice = sorted({h for h in header if h and header.count(h) > 1} & mapping.columns())
        if twice:
            places = "; ".join(f"{name!r} is columns {', '.join(str(i + 1) for i, h in enumerate(header) if h == name)}"
                               for name in twice)
            raise TableError(path.name, None, f"the header names a column the mapping reads more than once ({places}): "
                                              "rename one of them")
        missing = sorted(c for c in mapping.columns() if c not in header)
        if missing:
            raise TableError(path.name, None, f"missing column(s) {', '.join(missing)} "
                                              f"(the file has: {', '.join(h for h in header if h)})")


def _csv_rows(path: Path, mapping: TableMapping | None) -> Iterator[tuple[Place, dict]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TableError(path.name, None, f"cannot read ({exc.strerror})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise TableError(path.name, f"line {line}", f"not UTF-8 text (byte {column} of the line); "
                                                    "save the file as UTF-8") from exc
    skipped, text = _csv_preamble(text, mapping)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise TableError(path.name, None, "the file is empty") from None
    _check_header(path, header, mapping)
    number = 0
    # The last line read, counted in the whole file; a record starts on the next (and may span several).
    ended = skipped + reader.line_num
    try:
        for cells in reader:
            ended_before = ended
            place, ended = Place(number + 1, ended + 1), skipped + reader.line_num
            if not any(c.strip() for c in cells):
                continue
            number += 1
            if len(cells) != len(header):
                # As the reader split them (only on an error), counted in the whole file.
                lines = [""] * skipped + io.StringIO(text, newline="").readlines()
                if _unclosed_quote(lines[ended_before:ended], len(cells) < len(header), ended >= len(lines)):
                    first = ended_before + 1
                    swallowed = f"lines {first}-{ended} were read as one row" if ended > first \
                        else "the rest of the file was read as one cell"
                    raise TableError(path.name, place, f"a quoted cell opened on line {first} is never closed: "
                                                       f'{swallowed} (a stray " in a value?)')
                raise TableError(path.name, place, f"has {len(cells)} cells, the header has {len(header)}"
                                                   + _more_ragged(reader, len(header), number, ended, skipped))
            yield place, dict(zip(header, cells))
    except csv.Error as exc:
        raise TableError(path.name, Place(number + 1, ended + 1), f"malformed CSV: {exc}") from exc


def _more_ragged(reader, width: int, number: int, ended: int, skipped: int) -> str:
    """The other rows of the file with the wrong number of cells, read on past the first (without their
    values): fixing one a time, upload after upload, is how a user would otherwise find them. '' if none;
    the first BAD_ROWS_SHOWN are named. A row the reader cannot split ends the search."""
    found: list[str] = []
    total = 0
    try:
        for cells in reader:
            place, ended = Place(number + 1, ended + 1), skipped + reader.line_num
            if not any(c.strip() for c in cells):
                continue
            number += 1
            if len(cells) != width:
                total += 1
                if len(found) < BAD_ROWS_SHOWN:
                    found.append(f"{place.unit} {place.line} (data row {place.row}, {counted(len(cells), 'cell')})")
    except csv.Error:
        pass
    return more_rows(found, total)


def _csv_preamble(text: str, mapping: TableMapping | None) -> tuple[int, str]:
    """(lines passed over, the text from the header on). A county export or a declaration saved as CSV
    often opens with a title, a date or blank lines; as in a workbook (``_sheet_header``), the header is
    the first of the first HEADER_ROWS_SCANNED lines holding every column the mapping reads. A file whose
    first line holds them, or where no line does (``_check_header`` then names the missing columns of the
    first), is read from its first line, as it always was. Line numbers stay those of the whole file."""
    wanted = mapping.columns() if mapping is not None else set()
    lines = text.splitlines(keepends=True)[:HEADER_ROWS_SCANNED]
    if not wanted or not lines or wanted <= _line_cells(lines[0]):
        return 0, text
    offset = 0
    for number, line in enumerate(lines):
        if number and wanted <= _line_cells(line):
            return number, text[offset:]
        offset += len(line)
    return 0, text


def _line_cells(line: str) -> set[str]:
    """The cells one line holds, split by whichever of the delimiters CSV files use gives the most."""
    best: list[str] = []
    for delimiter in ",;\t|":
        try:
            cells = next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(cells) > len(best):
            best = cells
    return {c.strip() for c in best}


def _unclosed_quote(record_lines: list[str], short: bool, at_end: bool) -> bool:
    """Whether a short row is a quote never closed: it ran to the end of the file, and its lines hold an odd
    number of quote marks. 'Has 2 cells' named the symptom at the file's last line."""
    return short and at_end and sum(line.count('"') for line in record_lines) % 2 == 1


HEADER_ROWS_SCANNED = 20  # how far down a sheet its header may start (a title, a date, blank rows above it)


def _sheet_header(path: Path, rows: Iterator, mapping: TableMapping | None) -> tuple[int, list[str]]:
    """The sheet's header row (its number, its names): the first row holding every column the mapping reads,
    within the first HEADER_ROWS_SCANNED rows, so a title or blank rows above the table (as declarations and
    county exports have them) are passed over; else the first row that is not blank, whose missing columns
    ``_check_header`` then names."""
    wanted = mapping.columns() if mapping is not None else set()
    first: tuple[int, list[str]] | None = None
    for sheet_row, cells in enumerate(rows, start=1):
        names = [h.strip() if isinstance(h, str) else "" for h in cells]
        if any(names):
            if first is None:
                first = (sheet_row, names)
            if wanted <= set(names):
                return sheet_row, names
        if sheet_row >= HEADER_ROWS_SCANNED:
            break
    if first is None:
        raise TableError(path.name, None, "the sheet is empty")
    return first


def _xlsx_rows(path: Path, mapping: TableMapping | None) -> Iterator[tuple[Place, dict]]:
    from openpyxl import load_workbook

    check_workbook(path)  # before openpyxl inflates a byte of it
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed with the workbook; openpyxl refuses a path without .xlsx
    except OSError as exc:
        raise TableError(path.name, None, f"cannot read ({exc.strerror})") from exc
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for non-workbooks
        handle.close()
        raise TableError(path.name, None, f"not a readable XLSX workbook ({exc.__class__.__name__})") from exc
    opened: list = []  # the sheet's rows, closed (with the part of the archive they read) before the workbook
    try:
        sheet_name = mapping.sheet if mapping is not None and mapping.sheet else None
        if sheet_name and sheet_name not in book.sheetnames:
            raise TableError(path.name, None, f"no sheet {sheet_name!r}, which the mapping's sheet: names (the "
                                              f"workbook's sheets: {', '.join(map(repr, book.sheetnames))})")
        sheet = book[sheet_name] if sheet_name else book.worksheets[0]
        rows = _sheet_rows(book, sheet)
        opened.append(rows)
        try:
            header_row, header = _sheet_header(path, rows, mapping)
            _check_header(path, header, mapping)
        except TableError as exc:  # a README before the table: say which sheet was read, and how to name another
            raise TableError(exc.file, exc.where, f"{exc.message}; {_which_sheet(book, sheet, mapping)}") from None
        merged = _merged_ranges(book, sheet)
        number = 0
        for sheet_row, cells in enumerate(rows, start=header_row + 1):
            if merged is not None:
                cells = merged.fill(cells, sheet_row)
            if not any(isinstance(c, _NotComputed) or (c is not None and c.strip()) for c in cells):
                continue
            number += 1
            row = {}
            for name, cell in zip(header, cells):
                if isinstance(cell, _NotComputed):
                    cell = FormulaCell(f"{name} (cell {cell.coordinate}) {NOT_COMPUTED}")
                row[name] = "" if cell is None else cell
            yield Place(number, sheet_row, "sheet row"), row
    finally:
        for rows in opened:
            rows.close()
        book.close()
        handle.close()


def _which_sheet(book, sheet, mapping: TableMapping | None) -> str:
    """Which sheet of the workbook was read, its others, and how a mapping names the one to read: a workbook
    whose first sheet is a README otherwise reads as a table with the README's first line for a header."""
    others = [name for name in book.sheetnames if name != sheet.title]
    if mapping is not None and mapping.sheet:
        said = f"this is the sheet {sheet.title!r}, which the mapping's sheet: names"
    elif others:
        said = f"this is the workbook's first sheet, {sheet.title!r}"
    else:
        return f"this is the workbook's only sheet, {sheet.title!r}"
    if not others:
        return f"{said}, and the workbook has no other"
    said += f", and its other sheets are {', '.join(map(repr, others))}"
    fits = _sheet_with_columns(book, others, mapping)
    if fits:
        return f"{said}: the sheet {fits!r} has the mapping's columns; name it in the mapping (sheet: {fits})"
    return f"{said}: name the sheet to read in the mapping (sheet: NAME)"


def _sheet_with_columns(book, names: list[str], mapping: TableMapping | None) -> str | None:
    """The first of the sheets ``names`` whose header row holds every column the mapping reads."""
    if mapping is None:
        return None
    wanted = mapping.columns()
    for name in names:
        rows = _sheet_rows(book, book[name])
        try:
            first = next(rows, ())
        except Exception:  # noqa: BLE001, S112 - a sheet that cannot be read is no suggestion; the error stands
            continue
        finally:
            rows.close()
        if wanted <= {h.strip() for h in first if isinstance(h, str)}:
            return name
    return None


NOT_COMPUTED = ("is a formula Excel has not computed: open and save the file in Excel or LibreOffice, or export "
                "it as CSV")


class FormulaCell(str):
    """A formula cell the workbook holds no computed value for (a workbook a program wrote, which no spreadsheet
    program has saved since). It reads as blank wherever a blank cell is read, and ``reason`` names the cell,
    so a value the mapping reads from it is refused or left out with that reason, never taken for empty."""

    reason: str

    def __new__(cls, reason: str) -> Self:
        cell = super().__new__(cls, "")
        cell.reason = reason
        return cell


@dataclass(frozen=True)
class _NotComputed:
    """The reader's mark for a formula cell without a computed value (the row names it by its header)."""

    coordinate: str


def _sheet_rows(book, sheet) -> Iterator[tuple]:
    """The sheet's rows as text, from its row 1, the way read-only openpyxl's ``iter_rows(values_only=True)``
    gives them (a row missing from the file is a blank one; rows are as wide as the sheet's dimension says),
    each cell read by _cell_text, or marked _NotComputed: read-only openpyxl reads a formula cell without a
    computed value as a blank cell, and its cells do not carry their number format."""
    max_col, max_row = sheet.max_column, sheet.max_row
    blank = (None,) * max_col if max_col else ()
    counter = index = 1
    with sheet._get_source() as source:
        for index, cells in _cell_parser()(source, book, sheet).parse():
            if max_row is not None and index > max_row:
                break
            while counter < index:
                counter += 1
                yield blank
            if counter <= index:
                counter += 1
                if not cells and not max_col:
                    yield ()
                    continue
                out = [None] * (max_col or cells[-1]["column"])
                for cell in cells:
                    if 1 <= cell["column"] <= len(out):
                        out[cell["column"] - 1] = cell["value"]
                yield tuple(out)
    if max_row is not None and max_row < index:
        for _ in range(counter, max_row + 1):
            yield blank


@functools.cache
def _cell_parser() -> type:
    """openpyxl's sheet parser, reading each cell's computed value as text (``_cell_text``, with the cell's
    number format) and marking a formula cell whose computed value the file lacks. (Made on first use:
    openpyxl is imported only when a workbook is read.)"""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class CellParser(WorkSheetParser):
        def __init__(self, source, book, sheet):
            super().__init__(source, sheet._shared_strings, data_only=True, epoch=book.epoch,
                             date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
            self.book = book
            self.formats: dict[int, str] = {}

        def number_format(self, style_id: int) -> str:
            """A cell style's number format, found as openpyxl's read-only cells find it."""
            found = self.formats.get(style_id)
            if found is None:
                try:
                    format_id = self.book._cell_styles[style_id].numFmtId
                    found = (BUILTIN_FORMATS.get(format_id, "General") if format_id < BUILTIN_FORMATS_MAX_SIZE
                             else self.book._number_formats[format_id - BUILTIN_FORMATS_MAX_SIZE])
                except (IndexError, AttributeError, TypeError):
                    found = "General"
                self.formats[style_id] = found
            return found

        def parse_cell(self, element):
            cell = super().parse_cell(element)
            value = cell["value"]
            if value is None:
                # A formula whose result is an empty text is written t="str" with an empty value; any other
                # formula without a value was never computed (openpyxl and other libraries write them so).
                if element.find(FORMULA_TAG) is not None and element.get("t") != "str":
                    cell["value"] = _NotComputed(f"{get_column_letter(cell['column'])}{cell['row']}")
            else:
                cell["value"] = _cell_text(value, self.number_format(cell["style_id"] or 0))
            return cell

    return CellParser


def _cell_text(value: Any, number_format: str = "General") -> str:
    """A workbook cell's value as text, as a spreadsheet program shows it where that matters: a date as
    YYYY-MM-DD, a whole number without '.0', and a number formatted as a percentage in percent (0.5 shown
    as 50% is '50', 0.125 shown as 12.5% is '12.5': the cell holds the fraction)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if _is_percentage(number_format, value) and math.isfinite(value):
            return _plain(Decimal(repr(value)) * 100)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
    return str(value)


def _plain(number: Decimal) -> str:
    """A decimal without exponent or trailing zeros ('50', '12.5')."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _is_percentage(number_format: str, value: float) -> bool:
    """Does the format section that shows ``value`` multiply it by 100 (a '%' that is not quoted text, an
    escaped character or inside brackets)? Sections are positive;negative;zero;text."""
    if "%" not in number_format:
        return False
    sections: list[bool] = []
    percent = quoted = bracket = literal = False
    for char in number_format:
        if literal:
            literal = False
        elif quoted:
            quoted = char != '"'
        elif bracket:
            bracket = char != "]"
        elif char in "\\_*":  # the next character is shown (\), spaced (_) or repeated (*), as written
            literal = True
        elif char == '"':
            quoted = True
        elif char == "[":
            bracket = True
        elif char == ";":
            sections.append(percent)
            percent = False
        elif char == "%":
            percent = True
    sections.append(percent)
    if value < 0 and len(sections) > 1:
        return sections[1]
    if value == 0 and len(sections) > 2:
        return sections[2]
    return sections[0]


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+):([A-Z]+[0-9]+)"')


def _merged_ranges(book, sheet) -> _MergedCells | None:
    """The sheet's merged cells, or None when it has none.

    A spreadsheet shows a merged cell's value across the range, and registries merge an owner over
    the rows of each of its properties; read-only openpyxl gives the other cells as blank, which would
    drop those rows' owners without a word. The ranges are listed after the sheet's data, so the
    sheet's XML is scanned for them in chunks (a large roll is not held in memory twice)."""
    from openpyxl.utils.cell import range_boundaries

    path = getattr(sheet, "_worksheet_path", None)
    archive = getattr(book, "_archive", None)
    if not path or archive is None:
        return None
    refs: set[tuple[bytes, bytes]] = set()  # a range declared twice is one range
    tail = b""
    with archive.open(path) as xml:
        while chunk := xml.read(1 << 20):
            data = tail + chunk
            cut = data.rfind(b"<")
            complete, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            refs.update(_MERGE_REF.findall(complete))
        refs.update(_MERGE_REF.findall(tail))
    ranges = []
    for first, last in refs:
        min_col, min_row, max_col, max_row = range_boundaries(f"{first.decode()}:{last.decode()}")
        ranges.append((min_row, max_row, min_col, max_col))
    return _MergedCells(ranges) if ranges else None


class _MergedCells:
    """Merged ranges met row by row as the sheet is read: a range is held from its first row to its
    last, so memory follows the number of ranges, never the rows they claim. (Expanding each range
    into its rows let a 5 KB workbook declaring A2:A1048576 a few times take a gigabyte.)"""

    def __init__(self, ranges: list[tuple[int, int, int, int]]):
        self.ranges = sorted(ranges)  # (first row, last row, first column, last column)
        self.next = 0
        self.open: list[tuple[int, int, int, int]] = []
        self.anchors: dict[tuple[int, int], Any] = {}

    def fill(self, cells: tuple, sheet_row: int) -> tuple:
        """The row's cells with each merged range's value in every cell of the range."""
        while self.next < len(self.ranges) and self.ranges[self.next][0] <= sheet_row:
            self.open.append(self.ranges[self.next])
            self.next += 1
        if not self.open:
            return cells
        self.open = [r for r in self.open if r[1] >= sheet_row]
        out = list(cells)
        for first_row, _last_row, first_col, last_col in self.open:
            if sheet_row == first_row:
                self.anchors[(first_row, first_col)] = out[first_col - 1] if first_col <= len(out) else None
            value = self.anchors.get((first_row, first_col))
            for col in range(first_col, min(last_col, len(out)) + 1):
                if out[col - 1] is None:
                    out[col - 1] = value
        return tuple(out)


# ---- applying ------------------------------------------------------------------------------

def _key_value(entity: EntityMapping, row: dict, key: str) -> str:
    """A key's value in the row: its column's cell, or the fixed value of the entity's property of that name
    (``keys: [APN, county]`` with ``county: {literal: Webb}``: parcel numbers are unique within a county)."""
    spec = entity.properties.get(key)
    if spec is not None and spec.literal is not None:
        return spec.literal.strip()
    return str(row.get(key) or "").strip()


def _unkept_values(key: str, kind: str, entity: EntityMapping, row: dict, known: dict) -> list[str]:
    """What the row gives for properties this row's kind does not have (a declared holding's value, mapped
    for real estate, on a company): said, not dropped unsaid."""
    notes = []
    for prop, spec in entity.properties.items():
        if prop in known or spec.literal is not None or _formula_reason(row, spec.referenced()):
            continue
        try:
            values = spec.values(row)
        except ValueError:
            values = []
        if values:
            notes.append(f"{key} {prop} left out: a {kind} has no {prop} ({', '.join(values)})")
    return notes


def _entity_id(mapping: TableMapping, entity: EntityMapping, row: dict, row_number: int, source_id: str) -> str:
    if entity.keys:
        key_values = [_key_value(entity, row, k) for k in entity.keys]
        if all(key_values):
            basis = "|".join([mapping.name, entity.key, *key_values])
            return "tbl-" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:24]
    basis = "|".join([mapping.name, entity.key, source_id, str(row_number)])
    return "tbl-" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:24]


@dataclass
class RowPlan:
    """What one row becomes, worked out and validated before anything is written, so that a row
    either goes in whole or is rejected whole without a savepoint."""

    ids: dict[str, str] = field(default_factory=dict)  # mapped entity -> its id (planned or bound)
    # (id, kind, checked values, warnings)
    entities: list[tuple[str, str, dict[str, list[str]], dict[str, list[str]]]] = field(default_factory=list)
    links: list[tuple[str, str, str, str, dict[str, list[str]]]] = field(default_factory=list)  # id, kind, ends, values
    # A bound entity's values read from the row's own cells (an owner's mailing address), added beside its
    # own and each cited to the row: (id, kind, values, warnings).
    additions: list[tuple[str, str, dict[str, list[str]], dict[str, list[str]]]] = field(default_factory=list)
    # What was left out of a bound entity's values when nothing of them was kept (said all the same).
    notes: list[str] = field(default_factory=list)


def plan_row(writer: BulkWriter, mapping: TableMapping, row: dict, row_number: int, source_id: str,
             bind: dict[str, str] | None = None) -> RowPlan:
    """The row's entities and links, each value checked as the domain services check it.

    An entity already stored under the row's id keeps its kind (its values are checked against
    it). Raises ValidationError when a value does not fit, NotFound for a ``bind`` to no entity."""
    bind = bind or {}
    reg = writer.reg
    plan = RowPlan()
    kinds: dict[str, str] = {}
    for key, entity in mapping.entities.items():
        if key in bind:
            kind = writer.kind_of(bind[key])
            if kind is None:
                raise NotFound(f"no entity with id {bind[key]!r}")
            plan.ids[key], kinds[key] = bind[key], kind
            values, warned = _bound_values(writer, entity, row, kind)
            if values:
                plan.additions.append((bind[key], kind, values, warned))
            else:
                plan.notes += [message for messages in warned.values() for message in messages]
            continue
        code = _formula_reason(row, [entity.kind_column] if entity.kind_column else [])
        if code:
            raise ValidationError({f"{key}.kind_from": [code]})
        unlisted = entity.unlisted_code(row)
        if unlisted:
            raise ValidationError({key: [unlisted]})
        kind = entity.kind_for(row)
        if kind is None:
            continue
        spec = reg.entity_kind(kind)
        formulas: dict[str, str] = {}
        props, unreadable = _mapped_values(entity.properties, row, spec.properties, formulas)
        if unreadable:
            raise ValidationError({key: list(unreadable.values())[:1]})
        _refuse_required_formulas(key, formulas, spec.properties)
        held = _formula_reason(row, entity.keys)
        if held:  # the entity cannot be found again by its keys
            raise ValidationError({f"{key}.keys": [held]})
        left_out = [f"{key} {prop} left out: {reason}" for prop, reason in formulas.items()]
        if not props.get("name") and "name" in spec.properties and spec.properties["name"].required:
            if not entity.has_values(row):
                # Nothing in this row for this entity (no second owner, no registered agent): its
                # literals (a topic every row gets) do not make it one.
                plan.notes += left_out
                continue
            raise ValidationError({f"{key}.name": ["is empty in this row"]})
        plan.notes += left_out
        plan.notes += _unkept_values(key, kind, entity, row, spec.properties)
        blank = [k for k in entity.keys if not _key_value(entity, row, k)]
        if blank:  # a declaration that redacts the CURP: one record per row, which screening checks apart
            plan.notes.append(f"{key}: {', '.join(blank)} blank, so this row's {key} is a record of its own, not "
                              "found again by other rows or files")
        entity_id = writer.surviving(_entity_id(mapping, entity, row, row_number, source_id))
        stored = writer.kind_of(entity_id)
        if stored is not None:
            kind, spec = stored, reg.entity_kind(stored)
        if spec.abstract:
            raise ValidationError({key: [f"{kind} is abstract: choose one of its concrete kinds"]})
        cleaned, warnings = writer.validate(kind, props, spec.properties, partial=stored is not None)
        plan.ids[key], kinds[key] = entity_id, kind
        plan.entities.append((entity_id, kind, cleaned, warnings))
    for link in mapping.links:
        if link.source not in plan.ids or link.target not in plan.ids:
            continue
        formulas = {}
        props, unreadable = _mapped_values(link.properties, row, None, formulas)
        if unreadable:
            prop, reason = next(iter(unreadable.items()))
            raise ValidationError({f"{link.kind}.{prop}": [reason]})
        source, target = plan.ids[link.source], plan.ids[link.target]
        if source == target:
            raise ValidationError({link.kind: ["an entity cannot be linked to itself"]})
        spec = reg.link_kind(link.kind)
        _refuse_required_formulas(link.kind, formulas, spec.properties)
        plan.notes += [f"{link.kind} {prop} left out: {reason}" for prop, reason in formulas.items()]
        reg.check_endpoints(spec, kinds[link.source], kinds[link.target])
        cleaned, _ = writer.validate(link.kind, props, spec.properties)
        basis = "|".join([link.kind, source, target, mapping.name, source_id, str(row_number)])
        link_id = "tbl-" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:24]
        plan.links.append((link_id, link.kind, source, target, cleaned))
    return plan


def _refuse_required_formulas(label: str, formulas: dict[str, str], known: dict) -> None:
    """A required value (a name) in a formula cell without a computed value rejects the row, naming the cell."""
    for prop, reason in formulas.items():
        if prop in known and known[prop].required:
            raise ValidationError({f"{label}.{prop}": [reason]})


def _bound_values(writer: BulkWriter, entity: EntityMapping, row: dict, kind: str) -> tuple[dict, dict]:
    """What the row says of an entity it is bound to (a confirmed screening match): where the owner is
    reached, read from the row's cells (the mailing address, which ties a U.S. parcel to the official:
    the property types schema/ marks ``contact``), checked as any value is. Nothing else of the row is
    written on the entry: its names and name parts stay as the researcher keeps them (the roll's 'SMITH
    JOHN ET AL', a declaration's 'JOSE MA.'), a declared job title is the declaration's word, and a
    mapping's fixed values (a literal) say nothing of this row's owner. A value that does not fit is
    left out with a warning: the confirmation stands."""
    known = writer.reg.entity_kind(kind).properties
    specs = {name: spec for name, spec in entity.properties.items()
             if name in known and known[name].type.contact and spec.referenced()}
    if not specs:
        return {}, {}
    props, unreadable = _mapped_values(specs, row, known)
    kept: dict[str, list[str]] = {}
    # Each message names its property: the reviewer reads them beside the confirmation, not a form.
    warnings: dict[str, list[str]] = {prop: [f"{known[prop].label} left out: {reason}"]
                                      for prop, reason in unreadable.items()}
    for name, values in props.items():
        try:
            cleaned, said = writer.validate(kind, {name: values}, known, partial=True)
        except ValidationError as exc:
            warnings.setdefault(name, []).extend(f"{known[name].label} {values[0]!r} left out: {m}"
                                                 for msgs in exc.errors.values() for m in msgs)
            continue
        kept.update(cleaned)
        for prop, messages in said.items():
            warnings.setdefault(prop, []).extend(f"{known[prop].label}: {m}" for m in messages)
    return kept, warnings


IMPORTED_BY = f"imported by {IMPORTER_VERSION}"  # the excerpt of a table row's citations


def _row_locator(row_number: int) -> str:
    return f"row {row_number}"


class _SameLinks:
    """Finds a link that already states a planned link's fact (same kind, ends and values), so that
    the same fact from another copy of the file, another row or another confirmation of the same
    hit cites the link already there instead of doubling it."""

    def __init__(self, writer: BulkWriter):
        self.writer = writer
        self.known: dict[tuple, str] = {}
        self.new_entities: set[str] = set()  # created by this import: no link elsewhere can name them

    @staticmethod
    def _key(kind: str, source: str, target: str, props: dict) -> tuple:
        return kind, source, target, tuple(sorted((k, tuple(sorted(v))) for k, v in props.items() if v))

    def find(self, kind: str, source: str, target: str, props: dict) -> str | None:
        key = self._key(kind, source, target, props)
        found = self.known.get(key)
        if found is None and source not in self.new_entities and target not in self.new_entities:
            for link_id, stored in self.writer.session.execute(
                    select(Link.id, Link.properties).where(Link.kind == kind, Link.source_id == source,
                                                           Link.target_id == target).order_by(Link.id)):
                if self._key(kind, source, target, stored or {}) == key:
                    found = self.known[key] = link_id
                    break
        return found

    def add(self, link_id: str, kind: str, source: str, target: str, props: dict) -> None:
        self.known.setdefault(self._key(kind, source, target, props), link_id)


def _cite_values(writer: BulkWriter, source_id: str, entity_id: str, values: dict[str, list[str]], locator: str,
                 excerpt: str | None) -> None:
    for prop, prop_values in values.items():
        for value in prop_values:
            writer.cite(source_id, entity_id=entity_id, prop=prop, value=value, locator=locator, excerpt=excerpt)


def apply_plan(writer: BulkWriter, plan: RowPlan, source_id: str, locator: str, excerpt: str | None, where: str,
               same: _SameLinks) -> list[str]:
    """Plan the row's writes (nothing is rejected here: plan_row checked every value); return new ids.

    A stored entity gains the row's values beside its own (nothing it holds is dropped)."""
    created: list[str] = []
    writer.summary.warnings += [(where, note) for note in plan.notes]
    for entity_id, kind, values, warnings in plan.entities:
        names = tuple(writer.reg.entity_kind(kind).properties)
        status = writer.entity(entity_id, kind, values, where, keep=names, merge=names, checked=(values, warnings))
        if status == "created":
            created.append(entity_id)
            same.new_entities.add(entity_id)
        if status == "created" or writer.cites(source_id, entity_id=entity_id, locator=locator):
            writer.cite(source_id, entity_id=entity_id, locator=locator, excerpt=excerpt)  # the row made the entry
        else:  # an entry found again by its keys (a parcel in a corrected roll): each value cites its own row
            _cite_values(writer, source_id, entity_id, values, locator, excerpt)
    for entity_id, kind, values, warnings in plan.additions:
        names = tuple(writer.reg.entity_kind(kind).properties)
        writer.entity(entity_id, kind, values, where, keep=names, merge=names, checked=(values, warnings))
        _cite_values(writer, source_id, entity_id, values, locator, excerpt)  # the row supports these values
    for link_id, kind, source, target, props in plan.links:
        if not writer.has_link(link_id):
            existing = same.find(kind, source, target, props)
            if existing is not None:
                link_id = existing
            else:
                writer.link(link_id, kind, source, target, props, where)
                same.add(link_id, kind, source, target, props)
                created.append(link_id)
        writer.cite(source_id, link_id=link_id, locator=locator, excerpt=excerpt)
    return created


def apply_row(session: Session, actor: Actor, mapping: TableMapping, row: dict, row_number: int, source_id: str,
              bind: dict[str, str] | None = None, summary: ImportSummary | None = None,
              cite_as: tuple[str, str | None] | None = None, where: str | None = None) -> list[str]:
    """Create (or update) one row's entities and links; return the new ids.

    ``bind`` maps a mapped entity to an existing entity id (e.g. a confirmed screening match):
    that entity is linked, not created. ``cite_as`` is the (locator, excerpt) of the row's citations
    when the caller has its own words for them (a screening confirmation names its job and reviewer).
    ``where`` is how the summary's warnings name the row (the file and line), else its locator.
    Raises ValidationError when the row's values do not fit (nothing is written then).
    """
    locator = _row_locator(row_number)
    cite_locator, cite_excerpt = cite_as or (locator, IMPORTED_BY)
    writer = BulkWriter(session, actor, summary, marks=False)  # a researcher's confirmation, not an import
    plan = plan_row(writer, mapping, row, row_number, source_id, bind)
    created = apply_plan(writer, plan, source_id, cite_locator, cite_excerpt, where or locator, _SameLinks(writer))
    writer.flush()
    return created


def source_for_table(session: Session, actor: Actor, path: Path, mapping: TableMapping) -> str:
    """The Source for a table file: stored by content hash, reused when the same bytes come again."""
    from workbench.store.entities import create_source, source_with_file

    media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
             if is_workbook(path) else "text/csv")
    stored = store_file(session, actor, path, path.name, media)
    existing = source_with_file(session, stored.sha256)
    if existing is not None:
        return existing.id
    fields = {k: mapping.source[k] for k in ("title", "publisher", "published_at", "source_type", "reliability",
                                             "releasable", "url") if k in mapping.source}
    fields.setdefault("title", f"{mapping.name}: {path.name}")
    fields.setdefault("source_type", "registry")
    fields["notes"] = f"Imported by {IMPORTER_VERSION} with mapping {mapping.name!r}"
    return create_source(session, actor, sha256=stored.sha256, file_name=path.name, media_type=media,
                         size=stored.size, **fields).id


def import_table(session: Session, actor: Actor, path: str | Path, mapping: TableMapping,
                 progress: Callable[[int, int | None], None] | None = None) -> ImportSummary:
    """Import every row; a row whose values do not fit is rejected with its reason, the rest go in.

    A file that cannot be read (encoding, ragged row, missing column) raises TableError and, as
    the caller's transaction rolls back, leaves the database as it was. Rows are planned and
    checked one by one, then written in batches (workbench.sources.bulk): the same checks, audit
    entries and citations as the domain services, at a roll's scale.
    """
    require(actor, "edit", "import data")
    path = Path(path)
    rows = list(located_rows(path, mapping))
    if not rows:  # a source and a stored file for a table that gave nothing would read as an import made
        raise TableError(path.name, None, "the file has a header but no data rows: there is nothing to import")
    summary = ImportSummary()
    source_id = source_for_table(session, actor, path, mapping)
    writer = BulkWriter(session, actor, summary)
    writer.load_existing(prefix="tbl-")
    same = _SameLinks(writer)
    repeats = _RepeatedKeys()
    for place, row in rows:
        where = f"{path.name} {place}"
        try:
            plan = plan_row(writer, mapping, row, place.row, source_id)
        except ValidationError as exc:
            summary.reject(where, str(exc))
        else:
            apply_plan(writer, plan, source_id, _row_locator(place.row), IMPORTED_BY, where, same)
            repeats.add(plan, place.row)
        if writer.pending() >= CHUNK:
            writer.flush()
        if progress:
            progress(place.row, len(rows))
    writer.flush()
    writer.tell_user_values()  # values researchers added to entries the table names, kept (README: as a list's)
    summary.warnings += [(path.name, message) for message in repeats.messages(writer.reg)]
    summary.details["rows"] = len(rows)
    return summary


class _RepeatedKeys:
    """Records the file gives again under the same keys with other values (one APN on 513 rows, each with
    another address): every value is kept, each cited to its row, and the summary says so once per record,
    since a key column that repeats where it should not (a wrong column mapped) otherwise passes unseen."""

    SHOWN_ROWS = 5

    def __init__(self):
        self.first: dict[str, tuple[int, dict[str, list[str]]]] = {}  # id -> (first row, its values)
        self.differing: dict[str, tuple[str, str, set[str], list[int]]] = {}  # id -> (kind, caption, props, rows)

    def add(self, plan: RowPlan, row_number: int) -> None:
        for entity_id, kind, values, _warnings in plan.entities:
            seen = self.first.get(entity_id)
            if seen is None:
                self.first[entity_id] = (row_number, values)
                continue
            props = {p for p in set(values) | set(seen[1]) if values.get(p) and seen[1].get(p)
                     and set(values[p]) != set(seen[1][p])}
            if props:
                entry = self.differing.setdefault(entity_id, (kind, (seen[1].get("name") or [entity_id])[0],
                                                              set(), [seen[0]]))
                entry[2].update(props)
                entry[3].append(row_number)

    def messages(self, reg: Registry) -> list[str]:
        out = []
        for kind, caption, props, rows in self.differing.values():
            known = reg.entity_kind(kind).properties
            labels = ", ".join(sorted(known[p].label.lower() if p in known else p for p in props))
            shown = ", ".join(map(str, rows[:self.SHOWN_ROWS])) + (f" and {len(rows) - self.SHOWN_ROWS} more"
                                                                  if len(rows) > self.SHOWN_ROWS else "")
            out.append(f"{caption} ({kind}) is given on {len(rows)} rows ({shown}) with different {labels}: every "
                       "value is kept, each cited to its row; check the mapping's keys if these are not one record")
        return out
