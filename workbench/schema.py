"""The typed registry built from ``schema/*.yml``.

``schema/`` is the single source of truth for entity kinds, link kinds, property types,
identifier schemes, vocabularies and legal bases. Code asks the registry; it never keeps its own
list of kinds. The registry is loaded once per process (``registry()``) and validated strictly at
load time, so a typo in the YAML fails start-up with the file and key named.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from workbench.text import unstorable
from workbench.types import VALIDATORS, Checked, split_identifier, stdnum_check


class SchemaError(Exception):
    """The YAML under ``schema/`` is inconsistent (names the file and key)."""


class ValidationError(ValueError):
    """Input does not fit the schema. ``errors`` maps a field name to its messages; ``lead`` is the line an
    error page shows above them (the message itself is the errors run together, for scripts and logs)."""

    lead = "Nothing was changed. Correct what is listed below and try again."

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        text = "; ".join(f"{key}: {', '.join(msgs)}" for key, msgs in errors.items())
        super().__init__(text)

    def messages(self) -> str:
        """The messages alone, run together: what a flash on the page the form was on says."""
        return "; ".join(m for msgs in self.errors.values() for m in msgs)


_SHIPPED_SCHEMA = Path(__file__).resolve().parent.parent / "schema"


def schema_dir() -> Path:
    override = os.environ.get("WORKBENCH_SCHEMA_DIR")
    if override:
        return Path(override)
    return _SHIPPED_SCHEMA


@dataclass(frozen=True)
class PropertyType:
    name: str
    label: str
    validator: str
    ftm_type: str | None
    matchable: bool = False
    help: str | None = None
    choices: tuple[str, ...] = ()
    choices_from: str | None = None
    contact: bool = False  # where an entity is reached: a confirmed screening hit adds such values (tabular)


@dataclass(frozen=True)
class Property:
    name: str
    type: PropertyType
    label: str
    ftm: str | None = None
    required: bool = False
    help: str | None = None
    choices: tuple[str, ...] = ()
    choices_from: str | None = None
    owner: str = ""
    name_kind: str | None = None
    until: str | None = None  # a date property that this one's dates should not come after (startDate: endDate)
    past: bool = False  # a date that cannot lie ahead (a birth, an incorporation)

    @cached_property
    def spec(self) -> dict:
        """What the validator needs; built once (an import checks ~10^5 values)."""
        return {
            "choices": self.choices or self.type.choices,
            "choices_from": self.choices_from or self.type.choices_from,
        }


@dataclass(frozen=True)
class IdentifierScheme:
    name: str
    label: str
    country: str | None = None
    check: str | None = None
    pattern: str | None = None
    ftm_property: str = "idNumber"
    applies_to: tuple[str, ...] = ()
    # Stored as written, not upper-cased: a Bitcoin address is base58, where 'a' and 'A' are other addresses.
    case_sensitive: bool = False

    def check_warnings(self, number: str) -> list[str]:
        """Format and check-digit problems, as warnings: real registries contain both."""
        warnings: list[str] = []
        if self.pattern and not re.match(self.pattern, number):
            warnings.append(f"{self.name} {number} does not have the expected format")
        if self.check:
            module, separate_check_digits = _check_module(self.check)
            if separate_check_digits:
                problem = stdnum_check_with(module, number, check_digits=False)
                if problem:
                    warnings.append(f"{self.name} {number} looks malformed: {problem}")
                elif stdnum_check_with(module, number, check_digits=True):
                    warnings.append(f"{self.name} {number} fails its check digit (kept; verify the source)")
            else:
                problem = stdnum_check(self.check, number)
                if problem:
                    warnings.append(f"{self.name} {number} fails validation: {problem} (kept; verify the source)")
        return warnings


@cache
def _check_module(path: str) -> tuple[Any, bool]:
    """The stdnum module and whether it can skip the check digit; found once (inspect is slow,
    and an import checks thousands of identifiers)."""
    module = importlib.import_module(path)
    return module, "validate_check_digits" in inspect.signature(module.validate).parameters


def stdnum_check_with(module: Any, number: str, check_digits: bool) -> str | None:
    try:
        module.validate(number, validate_check_digits=check_digits)
    except Exception as exc:
        return getattr(exc, "message", None) or str(exc)
    return None


@dataclass
class EntityKind:
    name: str
    label: str
    plural: str
    abstract: bool
    parent: str | None
    ftm: str | None
    caption: tuple[str, ...]
    help: str | None
    properties: dict[str, Property] = field(default_factory=dict)
    ancestors: tuple[str, ...] = ()
    record: bool = False  # a record about another entity, named after it (see Registry.default_kinds)
    # An abstract kind's FtM schema read on import as this concrete kind (FtM's LegalEntity, which
    # other tools send for a party they cannot tell person from organisation).
    ftm_import_as: str | None = None
    # Inherited properties the entry form does not offer for this kind ('Founded / incorporated' for a person:
    # FtM's LegalEntity gives it to people too). A value an import or the API gave is still shown and edited.
    form_omits: tuple[str, ...] = ()

    def form_properties(self, values: dict | None = None) -> dict[str, Property]:
        """The properties the entry form offers: all but ``form_omits``, unless the entry holds a value of one."""
        values = values or {}
        return {name: prop for name, prop in self.properties.items()
                if name not in self.form_omits or values.get(name)}

    def is_a(self, other: str) -> bool:
        return other == self.name or other in self.ancestors

    def is_a_any(self, bases: Iterable[str]) -> bool:
        return any(self.is_a(base) for base in bases)

    @cached_property
    def name_properties(self) -> list[Property]:
        """Properties whose values are names of the entity (feed the names table); the kind is
        complete once the registry has loaded, and nothing reads this before."""
        return [p for p in self.properties.values() if p.type.matchable and p.name_kind]


@dataclass
class LinkKind:
    name: str
    label: str
    reverse: str
    source: tuple[str, ...]
    target: tuple[str, ...]
    symmetric: bool
    ftm: str | None
    ftm_source: str | None
    ftm_target: str | None
    properties: dict[str, Property] = field(default_factory=dict)


LINK_DIRECTIONS = ("from_designated", "to_designated")


@dataclass(frozen=True)
class LegalBasis:
    key: str
    authority: str
    authority_label: str
    label: str
    citation: str
    program: str | None
    derivative: bool
    visa: bool
    link_kinds: tuple[str, ...]
    target_kinds: tuple[str, ...]
    elements: dict[str, str]  # key -> what must be shown
    element_labels: dict[str, str] = field(default_factory=dict)  # key -> what a reader calls it
    # Link kind -> which way it must run on a chain walked from the target to the designated party:
    # 'from_designated' (its source is on the designated party's side: the SFNT owns, controls, directs) or
    # 'to_designated' (its source is on the target's side: the target is the SFNT's employee or member).
    link_direction: dict[str, str] = field(default_factory=dict)
    # The element whose exhibits support a visa basis's visa data (what the releasable export withholds with it).
    visa_element: str | None = None
    # A derivative basis that may rest on the activity itself instead of a designated party (E.O. 14059's support
    # and leader prongs): the element whose exhibits must then show that activity. Without a qualifying chain its
    # checklist warns rather than refuses.
    activity_element: str | None = None

    def element_label(self, key: str) -> str:
        """The element's label; an exhibit of an element since dropped from the schema keeps its key."""
        return self.element_labels.get(key, key)


_ELEMENT_KEYS = frozenset({"label", "text"})
_PROPERTY_KEYS = frozenset({"type", "label", "ftm", "required", "help", "choices", "choices_from", "name_kind",
                            "until", "past"})


def date_after(a: str, b: str) -> bool:
    """Whether partial ISO date ``a`` lies after ``b`` as far as both go ('2005' after '2001-05'): so today lies
    after an end date of '2024-06' once June 2024 is over, and not yet after '2025' during 2025."""
    n = min(len(a), len(b))
    return a[:n] > b[:n]


def _date_order_warnings(cleaned: dict[str, list[str]], known: dict[str, Property],
                         warnings: dict[str, list[str]]) -> None:
    """Dates in an impossible order are kept (the source may say so) but never pass unseen: a membership
    ending before it starts, a company dissolved before it was founded, a birth in the future."""
    today = None
    for name, values in cleaned.items():
        prop = known.get(name)
        if prop is None or prop.type.validator != "date":
            continue
        if prop.past:
            today = today or date.today().isoformat()
            for value in values:
                if date_after(value, today):
                    warnings.setdefault(name, []).append(f"{prop.label} {value} is in the future")
        later = known.get(prop.until) if prop.until else None
        if later is not None and cleaned.get(later.name):
            first, last = min(values), max(cleaned[later.name])
            if date_after(first, last):
                warnings.setdefault(name, []).append(f"{prop.label} {first} is after {later.label} {last}")


def date_order_warnings(values: dict[str, list[str]], known: dict[str, Property]) -> list[str]:
    """What ``_date_order_warnings`` says of stored values, for a reader of them (an export)."""
    warnings: dict[str, list[str]] = {}
    _date_order_warnings(values, known, warnings)
    return [message for messages in warnings.values() for message in messages]


class Registry:
    """Everything ``schema/`` declares, typed and cross-checked."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.property_types: dict[str, PropertyType] = {}
        self.identifier_schemes: dict[str, IdentifierScheme] = {}
        # (generic scheme, country) -> (pattern, scheme): a Russian 'Tax ID No.' of 10 or 12 digits is an INN.
        self.refinements: dict[tuple[str, str], list[tuple[re.Pattern, str]]] = {}
        self.vocabularies: dict[str, dict[str, str]] = {}
        self.entity_kinds: dict[str, EntityKind] = {}
        self.link_kinds: dict[str, LinkKind] = {}
        self.legal_bases: dict[str, LegalBasis] = {}
        self.authorities: dict[str, dict] = {}
        self._load()

    # ---- loading -------------------------------------------------------------------------
    def _read(self, filename: str) -> dict:
        path = self.directory / filename
        try:
            with path.open(encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
        except FileNotFoundError as exc:
            raise SchemaError(f"{path}: missing") from exc
        except yaml.YAMLError as exc:
            raise SchemaError(f"{path}: invalid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise SchemaError(f"{path}: expected a mapping at the top level")
        return data

    def _load(self) -> None:
        self.vocabularies = {
            key: {str(k): str(v) for k, v in (values or {}).items()}
            for key, values in self._read("vocabularies.yml").items()
        }
        for name, spec in self._read("property_types.yml").get("types", {}).items():
            validator = spec.get("validator", name)
            if validator not in VALIDATORS:
                raise SchemaError(f"property_types.yml: type '{name}' names unknown validator '{validator}'")
            choices_from = spec.get("choices_from")
            if choices_from and choices_from not in self.vocabularies:
                raise SchemaError(f"property_types.yml: type '{name}' uses unknown vocabulary '{choices_from}'")
            self.property_types[name] = PropertyType(
                name=name,
                label=spec.get("label", name),
                validator=validator,
                ftm_type=spec.get("ftm_type"),
                matchable=bool(spec.get("matchable", False)),
                contact=bool(spec.get("contact", False)),
                help=spec.get("help"),
                choices=tuple(spec.get("choices", ())),
                choices_from=choices_from,
            )
        for name, spec in self._read("identifiers.yml").get("schemes", {}).items():
            check = spec.get("check")
            if check:
                try:
                    importlib.import_module(check)
                except ImportError as exc:
                    raise SchemaError(f"identifiers.yml: scheme '{name}' check module '{check}' not found") from exc
            self.identifier_schemes[name] = IdentifierScheme(
                name=name,
                label=spec.get("label", name),
                country=spec.get("country"),
                check=check,
                pattern=spec.get("pattern"),
                ftm_property=spec.get("ftm_property", "idNumber"),
                applies_to=tuple(spec.get("applies_to", ())),
                case_sensitive=bool(spec.get("case_sensitive", False)),
            )
            refines = spec.get("refines")
            if refines:
                base, country, pattern = refines.get("scheme"), refines.get("country"), refines.get("pattern")
                if not base or not country or not pattern:
                    raise SchemaError(f"identifiers.yml: scheme '{name}' refines needs scheme, country and pattern")
                self.refinements.setdefault((base, country), []).append((re.compile(pattern), name))
        for base, _country in self.refinements:
            if base not in self.identifier_schemes:
                raise SchemaError(f"identifiers.yml: a refines names unknown scheme '{base}'")
        self._load_entities(self._read("entities.yml").get("entities", {}))
        self._load_links(self._read("links.yml"))
        self._load_legal_bases(self._read("legal_bases.yml"))

    def _property(self, filename: str, owner: str, name: str, spec: dict) -> Property:
        unknown = sorted(str(k) for k in spec if k not in _PROPERTY_KEYS)
        if unknown:  # typically a label with commas in a {flow: mapping}, which YAML splits into keys
            raise SchemaError(f"{filename}: {owner}.{name} has unknown key(s) {', '.join(map(repr, unknown))}; "
                              "quote a label that holds commas")
        type_name = spec.get("type")
        if type_name not in self.property_types:
            raise SchemaError(f"{filename}: {owner}.{name} has unknown type '{type_name}'")
        choices_from = spec.get("choices_from")
        if choices_from and choices_from not in self.vocabularies:
            raise SchemaError(f"{filename}: {owner}.{name} uses unknown vocabulary '{choices_from}'")
        name_kind = spec.get("name_kind")
        if name_kind and name_kind not in self.vocabularies.get("name_kinds", {}):
            raise SchemaError(f"{filename}: {owner}.{name} has unknown name_kind '{name_kind}'")
        return Property(
            name=name,
            type=self.property_types[type_name],
            label=spec.get("label", name),
            ftm=spec.get("ftm"),
            required=bool(spec.get("required", False)),
            help=spec.get("help"),
            choices=tuple(spec.get("choices", ())),
            choices_from=choices_from,
            owner=owner,
            name_kind=spec.get("name_kind"),
            until=spec.get("until"),
            past=bool(spec.get("past", False)),
        )

    def _load_entities(self, specs: dict) -> None:
        for name, spec in specs.items():
            parent = spec.get("extends")
            if parent and parent not in specs:
                raise SchemaError(f"entities.yml: {name} extends unknown kind '{parent}'")

        def ancestors(name: str) -> tuple[str, ...]:
            chain: list[str] = []
            current = specs[name].get("extends")
            while current:
                if current in chain or current == name:
                    raise SchemaError(f"entities.yml: inheritance cycle at {name}")
                chain.append(current)
                current = specs[current].get("extends")
            return tuple(chain)

        for name, spec in specs.items():
            chain = ancestors(name)
            properties: dict[str, Property] = {}
            for ancestor in reversed(chain):
                for pname, pspec in (specs[ancestor].get("properties") or {}).items():
                    properties[pname] = self._property("entities.yml", ancestor, pname, pspec)
            for pname, pspec in (spec.get("properties") or {}).items():
                properties[pname] = self._property("entities.yml", name, pname, pspec)
            caption = spec.get("caption")
            if caption is None:
                for ancestor in chain:
                    caption = specs[ancestor].get("caption")
                    if caption:
                        break
            caption = tuple(caption or ("name",))
            for cap in caption:
                if cap not in properties:
                    raise SchemaError(f"entities.yml: {name} caption names unknown property '{cap}'")
            form_omits = tuple(spec.get("form_omits") or ())
            for omitted in form_omits:
                if omitted not in properties or properties[omitted].required:
                    raise SchemaError(f"entities.yml: {name}.form_omits names {omitted!r}, which is not an optional "
                                      f"property of {name}")
            self.entity_kinds[name] = EntityKind(
                name=name,
                label=spec.get("label", name),
                plural=spec.get("plural", spec.get("label", name) + "s"),
                abstract=bool(spec.get("abstract", False)),
                parent=spec.get("extends"),
                ftm=spec.get("ftm"),
                caption=caption,
                help=spec.get("help"),
                properties=properties,
                ancestors=chain,
                record=bool(spec.get("record", False)),
                ftm_import_as=spec.get("ftm_import_as"),
                form_omits=form_omits,
            )
        for kind in self.entity_kinds.values():
            target = self.entity_kinds.get(kind.ftm_import_as or "")
            if kind.ftm_import_as and (target is None or target.abstract or not target.is_a(kind.name)):
                raise SchemaError(f"entities.yml: {kind.name}.ftm_import_as must name a concrete kind extending "
                                  f"{kind.name}, not {kind.ftm_import_as!r}")

    def _load_links(self, data: dict) -> None:
        common = data.get("common_properties") or {}
        for name, spec in (data.get("links") or {}).items():
            for end in ("source", "target"):
                for kind in spec.get(end) or []:
                    if kind not in self.entity_kinds:
                        raise SchemaError(f"links.yml: {name}.{end} names unknown entity kind '{kind}'")
                if not spec.get(end):
                    raise SchemaError(f"links.yml: {name} declares no {end} kinds")
            properties = {p: self._property("links.yml", name, p, s) for p, s in common.items()}
            for pname, pspec in (spec.get("properties") or {}).items():
                properties[pname] = self._property("links.yml", name, pname, pspec)
            self.link_kinds[name] = LinkKind(
                name=name,
                label=spec.get("label", name),
                reverse=spec.get("reverse", spec.get("label", name)),
                source=tuple(spec["source"]),
                target=tuple(spec["target"]),
                symmetric=bool(spec.get("symmetric", False)),
                ftm=spec.get("ftm"),
                ftm_source=spec.get("ftm_source"),
                ftm_target=spec.get("ftm_target"),
                properties=properties,
            )

    def _load_legal_bases(self, data: dict) -> None:
        self.authorities = data.get("authorities") or {}
        # The element that says the target is no U.S. person (its checklist warns on a U.S. country).
        self.foreign_person_element: str | None = data.get("foreign_person_element")
        for key, spec in (data.get("bases") or {}).items():
            authority = spec.get("authority")
            if authority not in self.authorities:
                raise SchemaError(f"legal_bases.yml: {key} names unknown authority '{authority}'")
            elements = spec.get("elements") or {}
            if not elements:
                raise SchemaError(f"legal_bases.yml: {key} has no elements")
            texts, labels = self._elements(key, elements)
            for kind in spec.get("link_kinds") or []:
                if kind not in self.link_kinds:
                    raise SchemaError(f"legal_bases.yml: {key} names unknown link kind '{kind}'")
            for kind in spec.get("target_kinds") or []:
                if kind not in self.entity_kinds:
                    raise SchemaError(f"legal_bases.yml: {key} names unknown entity kind '{kind}'")
            for field_name in ("visa_element", "activity_element"):
                if spec.get(field_name) and spec[field_name] not in elements:
                    raise SchemaError(f"legal_bases.yml: {key}.{field_name} names no element of it: "
                                      f"{spec[field_name]!r}")
            if spec.get("activity_element") and not spec.get("derivative"):
                raise SchemaError(f"legal_bases.yml: {key}.activity_element is for a derivative basis")
            directions = spec.get("link_direction") or {}
            for kind, way in directions.items():
                if kind not in (spec.get("link_kinds") or []) or way not in LINK_DIRECTIONS:
                    raise SchemaError(f"legal_bases.yml: {key}.link_direction: {kind}: {way!r} (a kind of its "
                                      f"link_kinds, and one of {', '.join(LINK_DIRECTIONS)})")
            self.legal_bases[key] = LegalBasis(
                key=key,
                authority=authority,
                authority_label=self.authorities[authority].get("label", authority),
                label=spec.get("label", key),
                citation=spec.get("citation", ""),
                program=spec.get("program", self.authorities[authority].get("program")),
                derivative=bool(spec.get("derivative", False)),
                visa=bool(spec.get("visa", False)),
                link_kinds=tuple(spec.get("link_kinds") or ()),
                target_kinds=tuple(spec.get("target_kinds") or ()),
                elements=texts,
                element_labels=labels,
                link_direction=dict(directions),
                visa_element=spec.get("visa_element"),
                activity_element=spec.get("activity_element"),
            )

    @staticmethod
    def _elements(basis: str, elements: dict) -> tuple[dict[str, str], dict[str, str]]:
        """Each element's text and label. Both are required: a page shows the label, never the stored key."""
        texts: dict[str, str] = {}
        labels: dict[str, str] = {}
        for name, spec in elements.items():
            where = f"legal_bases.yml: {basis}.elements.{name}"
            if not isinstance(spec, dict):
                raise SchemaError(f"{where} must be a mapping with a label and a text")
            unknown = sorted(str(k) for k in spec if k not in _ELEMENT_KEYS)
            if unknown:
                raise SchemaError(f"{where} has unknown key(s) {', '.join(map(repr, unknown))} (use label, text)")
            for part in sorted(_ELEMENT_KEYS):
                if not str(spec.get(part) or "").strip():
                    raise SchemaError(f"{where} has no {part}")
            texts[str(name)] = str(spec["text"]).strip()
            labels[str(name)] = str(spec["label"]).strip()
        return texts, labels

    # ---- queries -------------------------------------------------------------------------
    def refined_scheme(self, scheme: str, country: str | None, number: str) -> str:
        """The country's own scheme a generic one stands for ('TAX_ID' of Russia, 10 or 12 digits: INN), as
        identifiers.yml's `refines` says; else the scheme as given."""
        for pattern, refined in self.refinements.get((scheme, country or ""), ()):
            if pattern.match(number):
                return refined
        return scheme

    def entity_kind(self, name: str) -> EntityKind:
        try:
            return self.entity_kinds[name]
        except KeyError:
            raise ValidationError({"kind": [f"unknown entity kind '{name}'"]}) from None

    def link_kind(self, name: str) -> LinkKind:
        try:
            return self.link_kinds[name]
        except KeyError:
            raise ValidationError({"kind": [f"unknown link kind '{name}'"]}) from None

    def legal_basis(self, key: str) -> LegalBasis:
        try:
            return self.legal_bases[key]
        except KeyError:
            raise ValidationError({"legal_basis": [f"unknown legal basis '{key}'"]}) from None

    def concrete_kinds(self, base: str | None = None) -> list[EntityKind]:
        return [k for k in self.entity_kinds.values() if not k.abstract and (base is None or k.is_a(base))]

    def default_kinds(self) -> list[str]:
        """The kinds a search or a reconciliation query without a kind looks in: every concrete kind
        but the records about other entities (``record: true`` in entities.yml, e.g. a Sanction,
        whose name is its target's), so a surname lists the people who bear it, not their sanction
        records. Naming the kind still finds those."""
        return [k.name for k in self.concrete_kinds() if not k.record]

    def kinds_descending_from(self, bases: Iterable[str]) -> list[str]:
        bases = tuple(bases)
        return [k.name for k in self.entity_kinds.values() if any(k.is_a(b) for b in bases)]

    def choices_for(self, spec: dict) -> list[str]:
        if spec.get("choices"):
            return list(spec["choices"])
        vocab = spec.get("choices_from")
        return list(self.vocabularies.get(vocab, {})) if vocab else []

    def identifier_warnings(self, value: str) -> list[str]:
        """Check-digit and format warnings for a stored ``SCHEME:VALUE`` identifier."""
        scheme_name, number = split_identifier(value)
        scheme = self.identifier_schemes.get(scheme_name)
        if scheme is None:
            return [f"unknown identifier scheme {scheme_name}"]
        return scheme.check_warnings(number)

    def identifier_passed(self, value: str) -> str:
        """What a stored ``SCHEME:VALUE`` identifier without warnings passed, in words the entity page and the
        dossier's checklist share: a check digit, a format only, or no check at all (an unknown scheme, or
        one with no format), so 'ok' never claims a check that was not made."""
        scheme = self.identifier_schemes.get(split_identifier(value)[0])
        if scheme is not None and scheme.check:
            return "format and check digit ok"  # python-stdnum checks both
        if scheme is not None and scheme.pattern:
            return "format ok (no check digit to verify)"
        return "not checked (no format known for this scheme)"

    def check_value(self, prop: Property, raw: Any) -> Checked:
        if isinstance(raw, str) and (problem := unstorable(raw)):  # no database text can hold it (see store.db)
            return Checked(None, errors=[problem])
        return VALIDATORS[prop.type.validator](raw, prop.spec, self)

    def validate_properties(
        self, owner: str, properties: dict[str, Any], known: dict[str, Property], partial: bool = False,
        memo: dict[int, dict[Any, Checked]] | None = None,
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Validate a ``{property: value or [values]}`` mapping.

        Returns the cleaned mapping (lists of strings, empty properties dropped) and warnings;
        raises ValidationError naming every bad field. Importers pass ``memo`` (one dict for the
        whole import): a check depends only on the property and the value, and lists repeat the
        same authority, program and country values thousands of times, so each is checked once.
        """
        check = self.check_value
        cleaned: dict[str, list[str]] = {}
        errors: dict[str, list[str]] = {}
        warnings: dict[str, list[str]] = {}
        for name, raw in (properties or {}).items():
            prop = known.get(name)
            if prop is None:
                errors.setdefault(name, []).append(f"{owner} has no property '{name}'")
                continue
            values = raw if isinstance(raw, (list, tuple)) else (raw,)
            if memo is None:
                seen = None
            elif (seen := memo.get(id(prop))) is None:
                seen = memo[id(prop)] = {}
            kept: list[str] = []
            for value in values:
                if seen is None:
                    checked = check(prop, value)
                elif (checked := seen.get(value)) is None:
                    checked = seen[value] = check(prop, value)
                if checked.errors:
                    errors.setdefault(name, []).extend(checked.errors)
                elif (stored := checked.value) is not None and stored not in kept:
                    kept.append(stored)
                if checked.warnings:
                    warnings.setdefault(name, []).extend(checked.warnings)
            if kept:
                cleaned[name] = kept
        if not partial:
            for name, prop in known.items():
                if prop.required and not cleaned.get(name) and name not in errors:
                    errors.setdefault(name, []).append(f"{prop.label} is required")
        if errors:
            raise ValidationError(errors)
        _date_order_warnings(cleaned, known, warnings)
        return cleaned, warnings

    def check_endpoints(self, link: LinkKind, source_kind: str, target_kind: str) -> None:
        errors: dict[str, list[str]] = {}
        if not self.entity_kind(source_kind).is_a_any(link.source):
            errors["source"] = [f"{link.name} cannot start at a {source_kind} (allowed: {', '.join(link.source)})"]
        if not self.entity_kind(target_kind).is_a_any(link.target):
            errors["target"] = [f"{link.name} cannot end at a {target_kind} (allowed: {', '.join(link.target)})"]
        if errors:
            raise ValidationError(errors)

    def as_json(self) -> dict:
        """A plain description for the API and the web forms."""
        return {
            "entities": {
                k.name: {
                    "label": k.label,
                    "abstract": k.abstract,
                    "extends": k.parent,
                    "ftm": k.ftm,
                    "properties": {p.name: {"type": p.type.name, "label": p.label} for p in k.properties.values()},
                }
                for k in self.entity_kinds.values()
            },
            "links": {
                l.name: {"label": l.label, "source": list(l.source), "target": list(l.target)}
                for l in self.link_kinds.values()
            },
            "legal_bases": {b.key: {"label": b.label, "elements": b.elements, "element_labels": b.element_labels}
                            for b in self.legal_bases.values()},
        }


@lru_cache(maxsize=4)
def _registry_for(path: str) -> Registry:
    return Registry(Path(path))


def registry() -> Registry:
    """The process-wide registry (loaded once per schema directory). Called for nearly every value
    a request or an import handles, so ``schema_dir`` touches no file system (the shipped path is
    resolved once, at import)."""
    return _registry_for(str(schema_dir()))
