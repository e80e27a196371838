"""FollowTheMoney JSON lines out and in, driven by the ``ftm`` mapping in ``schema/``.

Export: each entity becomes an FtM entity of its kind's ``ftm`` schema, each property goes to
its ``ftm`` property, identifiers go to their scheme's ``ftm_property``; each link becomes an
entity of the link kind's ``ftm`` schema with its two ends in ``ftm_source``/``ftm_target``,
except SanctionOf, which FtM expresses as the Sanction's ``entity`` property. Each identifier of a
person or organisation also travels as an FtM ``Identification`` (holder, number, type = our scheme):
FtM's ``idNumber`` or ``taxNumber`` keep the number but not which scheme it is (a CURP, a voter card,
a Colombian cédula), and dossiers check identifiers by scheme. Import reverses the same tables, so a
round trip keeps everything FtM can carry. No followthemoney import here:
the package is only needed by the tests that validate the output.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.schema import Registry, registry
from workbench.sources.bulk import BulkWriter, ImportSummary
from workbench.sources.files import store_file
from workbench.sources.ftm_schemata import FTM_ABSTRACT, FTM_PROPERTIES, FTM_TOPICS
from workbench.sources.json_values import json_error_detail, json_type_name
from workbench.store.entities import MAX_ID, create_source, id_problem, source_with_file
from workbench.store.models import Entity, Link
from workbench.store.permissions import Actor, require
from workbench.types import compact_identifier, split_identifier
from workbench.text import unstorable


def _ftm_topics(values: list[str]) -> tuple[list[str], list[str]]:
    """Topics FtM knows, and the others (kept as FtM keywords so a round trip restores them)."""
    topics, keywords = [], []
    for value in values:
        candidate = value
        while candidate and candidate not in FTM_TOPICS:
            candidate = candidate.rpartition(".")[0]
        if candidate and candidate not in topics:
            topics.append(candidate)
        if candidate != value:
            keywords.append(value)
    return topics, keywords


def _fits(schema: str, props: dict[str, list[str]]) -> dict[str, list[str]]:
    """Drop values for properties the FtM schema lacks, and empty ones."""
    known = FTM_PROPERTIES.get(schema)
    return {k: v for k, v in props.items() if v and (known is None or k in known)}


class FtmError(ValueError):
    """An FtM file cannot be read; the message names the file and line."""


@dataclass
class _Maps:
    reg: Registry

    def __post_init__(self) -> None:
        reg = self.reg
        # FtM schema -> workbench kind: the kind named like the schema, else the first mapped to it.
        self.kind_for_schema: dict[str, str] = {}
        for kind in reg.entity_kinds.values():
            if kind.ftm and not kind.abstract and kind.ftm not in FTM_ABSTRACT \
                    and (kind.name == kind.ftm or kind.ftm not in self.kind_for_schema):
                self.kind_for_schema[kind.ftm] = kind.name
        for kind in reg.entity_kinds.values():
            if kind.ftm and kind.ftm_import_as and kind.ftm not in self.kind_for_schema:
                self.kind_for_schema[kind.ftm] = kind.ftm_import_as
        # FtM interval schema -> candidate (link kind, source prop, target prop), in declaration order;
        # the first whose endpoints fit is used (FtM's Ownership is our Ownership or Control).
        self.link_for_schema: dict[str, list[tuple[str, str, str]]] = {}
        for link in reg.link_kinds.values():
            if link.ftm and link.ftm_source and link.ftm_target and link.ftm not in self.kind_for_schema:
                self.link_for_schema.setdefault(link.ftm, []).append((link.name, link.ftm_source, link.ftm_target))
        # Where one FtM schema carries several link kinds (UnknownLink: Jurisdiction, TerritoryParent,
        # ...), the export names each kind after the schema's first in FtM's `description`, which no
        # link kind maps: the import tells them apart by it where the endpoints alone cannot (the
        # first kind is what the import picks anyway, so plain UnknownLinks and Ownerships carry none).
        self.described_link_kinds = {name for kinds in self.link_for_schema.values() for name, _, _ in kinds[1:]}
        self._reading: dict[int, dict[str, str]] = {}
        self._not_carried: dict[int, tuple[str, ...]] = {}
        self._shared: dict[int, list[list[str]]] = {}
        # ftm property -> identifier scheme guesses on import.
        self.schemes_for_prop: dict[str, list[str]] = {}
        for scheme in reg.identifier_schemes.values():
            self.schemes_for_prop.setdefault(scheme.ftm_property, []).append(scheme.name)


    def reading(self, spec) -> dict[str, str]:
        """FtM property -> the property of an entity or link kind that reads it (the first declared,
        where several map to one), worked out once per kind."""
        found = self._reading.get(id(spec))
        if found is None:
            found = self._reading[id(spec)] = {}
            for prop in spec.properties.values():
                if prop.ftm and prop.ftm not in found:
                    found[prop.ftm] = prop.name
        return found


    def not_carried(self, spec) -> tuple[str, ...]:
        """Properties of a kind that FtM has no place for: an FtM file never holds them, so importing
        one over a stored entity or link keeps them (they are not the file's to remove)."""
        found = self._not_carried.get(id(spec))
        if found is None:
            found = self._not_carried[id(spec)] = tuple(
                name for name, prop in spec.properties.items() if name != "identifier" and not _carried(spec, prop))
        return found

    def shared(self, spec) -> list[list[str]]:
        """Groups of a kind's properties that one FtM property carries (acquisitionDate, startDate)."""
        found = self._shared.get(id(spec))
        if found is None:
            groups: dict[str, list[str]] = {}
            for prop in spec.properties.values():
                if prop.ftm:
                    groups.setdefault(prop.ftm, []).append(prop.name)
            found = self._shared[id(spec)] = [names for names in groups.values() if len(names) > 1]
        return found


def _carried(spec, prop) -> bool:
    """Whether FtM has a place for a property of an entity or link kind (its schema has the property)."""
    return bool(prop.ftm) and prop.ftm in FTM_PROPERTIES.get(spec.ftm or "", {prop.ftm})


def _as_stored(maps: _Maps, spec, incoming: dict[str, list[str]], stored: dict | None) -> dict[str, list[str]]:
    """Where several properties share one FtM property (Ownership's acquisitionDate and startDate
    both travel as FtM startDate, once when equal), each value read back goes to every property
    that already holds it; a new value stays where the import read it."""
    groups = maps.shared(spec)
    if not stored or not groups:
        return incoming
    out = {k: list(v) for k, v in incoming.items()}
    for names in groups:
        if not any(name in out for name in names):
            continue
        brought: dict[str, str] = {}  # value -> the property the import read it into
        for name in names:
            for value in out.pop(name, []):
                brought.setdefault(value, name)
        placed: set[str] = set()
        for name in names:
            held = [value for value in stored.get(name) or [] if value in brought]
            if held:
                out[name] = held
                placed.update(held)
        for value, name in brought.items():
            if value not in placed:
                out.setdefault(name, []).append(value)
    return out


def ftm_maps(reg: Registry | None = None) -> _Maps:
    return _Maps(reg or registry())


def _count_folded(folded: dict[tuple[str, str, str], int] | None, maps: _Maps, spec, kind: str, name: str,
                  prop, values: list) -> None:
    """A value of a property that travels as an FtM property another one of the kind is read back into
    (birthDateCirca as birthDate, acquisitionDate as startDate): counted, by (kind, property, the property
    it is read back as), so the export can say what a store without the entry will make of it."""
    if folded is None or not values or not prop.ftm:
        return
    reader = maps.reading(spec).get(prop.ftm)
    if reader and reader != name:
        folded[(kind, name, reader)] = folded.get((kind, name, reader), 0) + len(values)


def entity_to_ftm(entity: Entity, maps: _Maps, sanction_targets: dict[str, list[str]] | None = None,
                  left_out: dict[tuple[str, str], int] | None = None,
                  folded: dict[tuple[str, str, str], int] | None = None) -> dict | None:
    """``left_out`` counts, by (kind, property), the values FtM has no place for (reported by the CLI);
    ``folded``, those read back as another property (``_count_folded``)."""
    kind = maps.reg.entity_kinds.get(entity.kind)
    if kind is None or not kind.ftm or kind.ftm in FTM_ABSTRACT:
        return None
    props: dict[str, list[str]] = {}
    for name, values in (entity.properties or {}).items():
        prop = kind.properties.get(name)
        if prop is None:
            continue
        if name == "identifier":
            for value in values:
                scheme_name, number = split_identifier(value)
                scheme = maps.reg.identifier_schemes.get(scheme_name)
                bucket = props.setdefault(scheme.ftm_property if scheme else "idNumber", [])
                if number not in bucket:
                    bucket.append(number)
            continue
        if not _carried(kind, prop):
            if left_out is not None and values:
                left_out[(entity.kind, name)] = left_out.get((entity.kind, name), 0) + len(values)
            continue
        if prop.type.ftm_type == "topic":
            topics, keywords = _ftm_topics(values)
            if topics:
                props.setdefault(prop.ftm, []).extend(topics)
            if keywords:
                props.setdefault("keywords", []).extend(keywords)
            continue
        _count_folded(folded, maps, kind, entity.kind, name, prop, values)
        bucket = props.setdefault(prop.ftm, [])
        bucket.extend(v for v in values if v not in bucket)
    if entity.kind == "Sanction" and sanction_targets:
        targets = sanction_targets.get(entity.id)
        if targets:
            props["entity"] = targets
    return {"id": entity.id, "schema": kind.ftm, "properties": _fits(kind.ftm, props)}


IDENTIFIER_ONLY = "workbench: identifier only"  # an Identification whose number no other property held

# FtM's LegalEntity and the schemata that extend it.
FTM_LEGAL_ENTITIES = frozenset({"LegalEntity", "Person", "Organization", "Company", "PublicBody"})


def identifications_to_ftm(entity: Entity, maps: _Maps) -> Iterator[dict]:
    """Each identifier of a person or organisation as an FtM Identification whose ``type`` is its scheme."""
    kind = maps.reg.entity_kinds.get(entity.kind)
    if kind is None or kind.ftm not in FTM_LEGAL_ENTITIES:  # what FtM's Identification may hold
        return
    properties = entity.properties or {}
    by_ftm = maps.reading(kind)
    for value in properties.get("identifier") or []:
        scheme, number = split_identifier(value)
        if scheme and number:
            digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:12]
            props = {"holder": [entity.id], "number": [number], "type": [scheme]}
            spec = maps.reg.identifier_schemes.get(scheme)
            plain = by_ftm.get(spec.ftm_property) if spec else None
            if plain and number not in properties.get(plain, []):
                # The number also lands in FtM's property of that name, which a property of ours
                # reads back (a Company's registrationNumber): say it was the identifier alone.
                props["summary"] = [IDENTIFIER_ONLY]
            yield {"id": f"{entity.id}-idn-{digest}", "schema": "Identification", "properties": props}


def link_to_ftm(link: Link, maps: _Maps, left_out: dict[tuple[str, str], int] | None = None,
                folded: dict[tuple[str, str, str], int] | None = None) -> dict | None:
    """``left_out`` counts, by (link kind, property), the values FtM has no place for; ``folded``, those
    read back as another property."""
    spec = maps.reg.link_kinds.get(link.kind)
    if spec is None or not spec.ftm or not spec.ftm_source or not spec.ftm_target:
        return None
    props: dict[str, list[str]] = {spec.ftm_source: [link.source_id], spec.ftm_target: [link.target_id]}
    for name, values in (link.properties or {}).items():
        prop = spec.properties.get(name)
        if prop is not None and not _carried(spec, prop):
            if left_out is not None and values:
                left_out[(link.kind, name)] = left_out.get((link.kind, name), 0) + len(values)
            continue
        if prop is not None and prop.ftm:
            _count_folded(folded, maps, spec, link.kind, name, prop, values)
            bucket = props.setdefault(prop.ftm, [])
            bucket.extend(v for v in values if v not in bucket)
    if link.kind in maps.described_link_kinds and "description" not in props:
        props["description"] = [spec.label]
    return {"id": link.id, "schema": spec.ftm, "properties": _fits(spec.ftm, props)}


def export_ftm(session: Session, entity_ids: Iterable[str] | None = None,
               skipped: list[str] | None = None, left_out: dict[tuple[str, str], int] | None = None,
               folded: dict[tuple[str, str, str], int] | None = None) -> Iterator[dict]:
    """Yield FtM entity dicts for the given entities (or all) and the links among them; ``left_out``
    counts the values of properties FtM has no place for, by (kind, property), and ``folded`` those a
    store without the entry reads back as another property, by (kind, property, read back as)."""
    maps = ftm_maps()
    wanted = set(entity_ids) if entity_ids is not None else None
    travelling = {k.name for k in maps.reg.entity_kinds.values() if k.ftm and k.ftm not in FTM_ABSTRACT}
    # Entities FtM can carry; a link is only exported when both of its ends are.
    exported: set[str] = {
        entity_id for entity_id, kind in session.execute(
            select(Entity.id, Entity.kind).where(Entity.merged_into.is_(None)))
        if kind in travelling and (wanted is None or entity_id in wanted)
    }
    # Links whose FtM form is a property of their source entity (SanctionOf -> Sanction.entity).
    property_links = {l.name: l for l in maps.reg.link_kinds.values() if l.ftm and not l.ftm_source}
    sanction_targets: dict[str, list[str]] = {}
    if property_links:
        for link in session.execute(select(Link).where(Link.kind.in_(list(property_links)))).scalars():
            if link.source_id in exported and link.target_id in exported:
                sanction_targets.setdefault(link.source_id, []).append(link.target_id)
    query = select(Entity).where(Entity.merged_into.is_(None)).order_by(Entity.id).execution_options(yield_per=2000)
    for entity in session.execute(query).scalars():
        if wanted is not None and entity.id not in wanted:
            continue
        data = entity_to_ftm(entity, maps, sanction_targets, left_out, folded) if entity.id in exported else None
        if data is None:
            if skipped is not None:
                skipped.append(f"{entity.kind} {entity.id}: no concrete FtM schema")
            continue
        yield data
        yield from identifications_to_ftm(entity, maps)
    link_query = select(Link).order_by(Link.id).execution_options(yield_per=2000)
    for link in session.execute(link_query).scalars():
        if link.kind in property_links:
            continue
        if wanted is not None and not (link.source_id in wanted and link.target_id in wanted):
            continue
        data = link_to_ftm(link, maps, left_out, folded) if link.source_id in exported and link.target_id in exported \
            else None
        if data is None:
            if skipped is not None:
                skipped.append(f"{link.kind} link {link.id}: FtM cannot carry it or one of its ends")
            continue
        yield data


def write_ftm(session: Session, handle, entity_ids: Iterable[str] | None = None,
              skipped: list[str] | None = None, left_out: dict[tuple[str, str], int] | None = None,
              folded: dict[tuple[str, str, str], int] | None = None) -> int:
    count = 0
    for data in export_ftm(session, entity_ids, skipped, left_out, folded):
        handle.write(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


# ---- import --------------------------------------------------------------------------------

# How deeply one line may nest: an FtM entity is an object of an object of lists of strings (a stream's
# extra keys, such as "context", add a level or two). Deeper is not FtM, and refused before any code
# walks it (json and _unstorable recurse).
MAX_DEPTH = 32


def _depth_over(value, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _line_problem(data) -> str | None:
    """Why a decoded line is no FtM entity at all (the file is refused, naming the line)."""
    if not isinstance(data, dict):
        return f"not a JSON object but {json_type_name(data)}: an FtM entity is an object with 'id' and 'schema'"
    if _depth_over(data, MAX_DEPTH):
        return f"nested too deeply (more than {MAX_DEPTH} levels): not an FtM entity"
    if data.get("id") is None or data.get("schema") is None:
        return "an FtM entity needs 'id' and 'schema'"
    for key in ("id", "schema"):
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            what = ("empty" if value == "" else "blank") if isinstance(value, str) else json_type_name(value)
            return f"{key!r} must be a non-empty string, not {what}"
    props = data.get("properties", {})
    if props is None:
        props = {}
    if not isinstance(props, dict):
        return f"'properties' must be an object, not {json_type_name(props)}"
    for name, values in props.items():
        if not isinstance(values, list):
            return f"property {name!r} must be a list of values, not {json_type_name(values)}"
    return None


def read_ftm(path: Path) -> list[tuple[int, dict]]:
    """Every line parsed up front, so a bad line fails before anything is written: one that is not an
    object with a string 'id' and 'schema' and 'properties' of lists. (A value in those lists that is
    not a string is the entity's problem: it is rejected with its line, see ``_record_problem``.)"""
    rows: list[tuple[int, dict]] = []
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise FtmError(f"{path}: cannot open ({exc.strerror})") from exc
    with handle:
        for number, raw in enumerate(handle, 1):
            try:  # line by line, so a bad byte is named by its line
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise FtmError(f"{path}, line {number}: not UTF-8 text ({exc.reason})") from exc
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise FtmError(f"{path}, line {number}: not JSON ({json_error_detail(exc, line=False)})") from exc
            except RecursionError:
                raise FtmError(f"{path}, line {number}: nested too deeply (more than {MAX_DEPTH} levels): "
                               "not an FtM entity") from None
            problem = _line_problem(data)
            if problem:
                raise FtmError(f"{path}, line {number}: {problem}")
            rows.append((number, data))
    if not rows:  # as the SDN and table importers say: an empty file is a mistake, not an import of nothing
        raise FtmError(f"{path}: the file is empty")
    return rows


_CURP = re.compile(r"^[A-Z]{4}\d{6}[HM][A-Z]{5}[0-9A-Z]\d$")
_RFC = re.compile(r"^[A-Z&Ñ]{3,4}\d{6}[A-Z0-9]{3}$")


def _identifier(maps: _Maps, ftm_prop: str, value: str, kind: str) -> str:
    compact = re.sub(r"[\s\-./]", "", value).upper()
    schemes = maps.schemes_for_prop.get(ftm_prop, [])
    if "CURP" in schemes and _CURP.match(compact):
        return f"CURP:{value}"
    if "RFC" in schemes and _RFC.match(compact):
        return f"RFC:{value}"
    fitting = [s for s in schemes if kind and maps.reg.identifier_schemes[s].applies_to
               and kind in maps.reg.entity_kinds and maps.reg.entity_kind(kind).is_a_any(
                   maps.reg.identifier_schemes[s].applies_to)]
    if len(fitting) == 1:  # the one scheme of this number's kind for this kind of thing (a parcel's APN)
        return f"{fitting[0]}:{value}"
    preferred = {"passportNumber": "PASSPORT", "taxNumber": "TAX_ID", "idNumber": "NATIONAL_ID",
                 "registrationNumber": "REGISTRATION", "imoNumber": "IMO", "accountNumber": "ACCOUNT"}.get(ftm_prop)
    if preferred in maps.reg.identifier_schemes:
        return f"{preferred}:{value}"
    return f"{schemes[0] if schemes else 'OTHER'}:{value}"


def ftm_to_properties(maps: _Maps, kind: str, ftm_props: dict) -> dict[str, list[str]]:
    spec = maps.reg.entity_kind(kind)
    by_ftm = maps.reading(spec)
    identifier_props = set(maps.schemes_for_prop) if "identifier" in spec.properties else set()
    out: dict[str, list[str]] = {}
    for ftm_name, values in ftm_props.items():
        values = [str(v) for v in (values if isinstance(values, list) else [values]) if v is not None]
        target = by_ftm.get(ftm_name)
        if target is not None:
            out.setdefault(target, []).extend(values)
        elif ftm_name in identifier_props:
            for value in values:
                out.setdefault("identifier", []).append(_identifier(maps, ftm_name, value, kind))
    keywords = [str(k) for k in ftm_props.get("keywords") or []]
    if keywords and "topics" in spec.properties:
        known = set(maps.reg.vocabularies.get("topics", {}))
        restored = [k for k in keywords if k in known]
        parents = {_ftm_topics([k])[0][0] for k in restored if _ftm_topics([k])[0]}
        out["topics"] = [t for t in out.get("topics", []) if t not in parents or t in restored] + restored
    if "name" in spec.properties and not out.get("name"):
        out["name"] = [spec.label]
    return out


def _identifications(maps: _Maps, rows: list[tuple[int, dict]]) -> dict[str, list[tuple[str, bool]]]:
    """Identifier values ('SCHEME:number') by holder, from the file's Identification entities, each
    with whether the number was the identifier alone (our export says so); a ``type`` that is none
    of our schemes is read as the number's FtM property would be."""
    found: dict[str, list[tuple[str, bool]]] = {}
    for _number, data in rows:
        if data.get("schema") != "Identification":
            continue
        props = data.get("properties") or {}
        holders, numbers = props.get("holder") or [], props.get("number") or []
        kinds = [str(t).strip().upper() for t in props.get("type") or []]
        alone = IDENTIFIER_ONLY in (props.get("summary") or [])
        for holder in map(str, holders):
            for number in map(str, numbers):
                scheme = next((k for k in kinds if k in maps.reg.identifier_schemes), None)
                value = f"{scheme}:{number}" if scheme else _identifier(maps, "idNumber", number, "")
                if all(value != known for known, _ in found.setdefault(holder, [])):
                    found[holder].append((value, alone))
    return found


def _restore_identifiers(maps: _Maps, kind: str, props: dict[str, list[str]], exact: list[tuple[str, bool]]) -> None:
    """Put the identifiers the Identifications name in place of the guesses made from FtM's number
    properties (idNumber -> NATIONAL_ID). A number that was the identifier alone also came back in
    the plain property FtM's number property maps to (a Company's registrationNumber): it goes from
    there; a number without that word stays, as nothing says it was not also held there."""
    spec = maps.reg.entity_kind(kind)
    if "identifier" not in spec.properties:
        return
    numbers = {split_identifier(v)[1] for v, _ in exact}
    guessed = [v for v in props.get("identifier", []) if split_identifier(v)[1] not in numbers]
    props["identifier"] = [v for v, _ in exact] + guessed
    by_ftm = maps.reading(spec)
    for value, alone in exact:
        scheme_name, number = split_identifier(value)
        scheme = maps.reg.identifier_schemes.get(scheme_name)
        plain = by_ftm.get(scheme.ftm_property) if scheme else None
        if alone and plain and plain != "identifier" and plain in props:
            props[plain] = [v for v in props[plain] if v != number]
            if not props[plain]:
                del props[plain]


def _drop_identifier_echoes(maps: _Maps, spec, props: dict[str, list[str]], stored: dict) -> None:
    """An identifier whose scheme cannot travel as an Identification (an aircraft's REGISTRATION) comes
    back as the number property FtM holds it in: over a stored entity holding that identifier, the
    echo is no new value."""
    held = {compact_identifier(split_identifier(v)[1]) for v in stored.get("identifier", []) if ":" in v}
    if not held:
        return
    by_ftm = maps.reading(spec)
    for ftm_prop in maps.schemes_for_prop:
        name = by_ftm.get(ftm_prop)
        if not name or name == "identifier" or name not in props:
            continue
        kept = [v for v in props[name] if v in (stored.get(name) or []) or compact_identifier(v) not in held]
        if kept:
            props[name] = kept
        else:
            del props[name]


def _count_left_out(maps: _Maps, kind: str, schema: str, ftm_props: dict, left_out: dict) -> None:
    """Count the values ftm_to_properties will leave out, by property, for one summary warning each."""
    spec = maps.reg.entity_kind(kind)
    mapped = {p.ftm for p in spec.properties.values() if p.ftm}
    if "identifier" in spec.properties:
        mapped |= set(maps.schemes_for_prop)
    mapped |= {"keywords", "entity"}  # topics' keywords, and a Sanction's entity (a SanctionOf link)
    known = FTM_PROPERTIES.get(schema)
    for prop, values in ftm_props.items():
        if prop in mapped or not values:
            continue
        key = (schema, prop, known is None or prop in known)
        left_out[key] = left_out.get(key, 0) + (len(values) if isinstance(values, list) else 1)


def _fitting_link(maps: _Maps, writer: BulkWriter, candidates: list[tuple[str, str, str]], source: str,
                  target: str, described: list[str] = ()) -> str:
    """The link kind for an FtM link: the one its description names (as our export writes it) if
    the endpoints fit it, else the first whose endpoints fit."""
    source_kind, target_kind = writer.kind_of(source), writer.kind_of(target)
    named = [c for c in candidates if maps.reg.link_kind(c[0]).label in described]
    for name, _, _ in named + candidates:
        spec = maps.reg.link_kind(name)
        if source_kind and target_kind and maps.reg.entity_kind(source_kind).is_a_any(spec.source) \
                and maps.reg.entity_kind(target_kind).is_a_any(spec.target):
            return name
    return candidates[0][0]  # the writer rejects it with the endpoint message


def _unstorable(value) -> str | None:
    """Why some text in ``value`` cannot be stored (a NUL, a lone surrogate: JSON spells both), if so."""
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, dict):
        return next((p for k, v in value.items() if (p := _unstorable(k) or _unstorable(v))), None)
    if isinstance(value, list):
        return next((p for v in value if (p := _unstorable(v))), None)
    return None


def _record_problem(data: dict) -> str | None:
    """Why one record cannot be stored at all (it is rejected with its line; the rest goes in).

    The database would refuse these mid-import (PostgreSQL: over-long ids, NUL characters; both: lone surrogates), which
    would abort the whole file with a traceback instead of naming the line."""
    entity_id = str(data["id"])
    problem = id_problem(entity_id)
    if problem:
        return f"id: {problem}"
    if data.get("schema") == "Sanction" and len(entity_id) > MAX_ID - len("-sanctionof-999"):
        return f"id: a Sanction's id has at most {MAX_ID - len('-sanctionof-999')} characters (its links add to it)"
    for prop, values in (data.get("properties") or {}).items():
        for position, value in enumerate(values, 1):
            if not isinstance(value, str):
                return f"{prop}: value {position} is {json_type_name(value)}, not a string (FtM values are strings)"
    return _unstorable(data)


def _fragments_joined(rows: list[tuple[int, dict]], file_name: str, summary: ImportSummary) -> list[tuple[int, dict]]:
    """One entity per id: FtM streams (Aleph, OpenSanctions, `ftm aggregate` input) send an entity as
    several lines with the same id and schema, each with some of its values; they are joined into the
    first line's place. A line giving the id another schema is left out, with a warning."""
    first: dict[str, tuple[int, dict]] = {}
    out: list[tuple[int, dict]] = []
    joined = 0
    for number, data in rows:
        key = str(data["id"])
        seen = first.get(key)
        if seen is None:
            first[key] = (number, data)
            out.append((number, data))
            continue
        seen_number, seen_data = seen
        if seen_data.get("schema") != data.get("schema"):
            summary.warnings.append((f"{file_name} line {number}", f"id {key!r} already came on line {seen_number} as "
                                     f"{seen_data.get('schema')}: this line ({data.get('schema')}) is left out"))
            continue
        merged = seen_data.setdefault("properties", {})
        for prop, values in (data.get("properties") or {}).items():
            values = values if isinstance(values, list) else [values]
            have = merged.setdefault(prop, [])
            if not isinstance(have, list):
                have = merged[prop] = [have]
            have.extend(v for v in values if v not in have)
        joined += 1
    if joined:
        summary.details["fragments_joined"] = joined
    return out


def import_ftm(session: Session, actor: Actor, path: Path | str, progress: Callable[[int, int], None] | None = None,
               source_id: str | None = None) -> ImportSummary:
    """Import FtM JSON lines: entities first, then the relationship entities as links. Over stored
    entities and links, the values users added since their last import are kept beside the file's
    (``BulkWriter``'s three-way merge; the summary names them)."""
    require(actor, "edit", "import data")
    path = Path(path)
    rows = read_ftm(path)
    maps = ftm_maps()
    summary = ImportSummary()
    if source_id is None:
        stored = store_file(session, actor, path, path.name, "application/x-ndjson")
        source = source_with_file(session, stored.sha256) or create_source(
            session, actor, sha256=stored.sha256, file_name=path.name, media_type="application/x-ndjson",
            size=stored.size, title=f"FollowTheMoney file {path.name}", source_type="other")
        source_id = source.id
    # An entity that cannot be stored is rejected with its own line before the fragments of an id are
    # joined (a bad fragment does not take the good ones with it) and before its Identifications are read.
    storable = []
    for number, data in rows:
        problem = _record_problem(data)
        if problem:
            summary.reject(f"{path.name} line {number}", problem)
        else:
            storable.append((number, data))
    rows = _fragments_joined(storable, path.name, summary)
    writer = BulkWriter(session, actor, summary, maps.reg)
    writer.load_existing(ids=[data["id"] for _, data in rows if data.get("schema") != "Identification"])
    identifications = _identifications(maps, rows)
    total = len(rows)
    deferred: list[tuple[int, dict]] = []
    sanction_entities: list[tuple[int, str, list[str]]] = []
    left_out: dict[tuple[str, str, bool], int] = {}  # (schema, property, known to FtM) -> values
    for index, (number, data) in enumerate(rows, 1):
        where = f"{path.name} line {number}"
        schema = data["schema"]
        kind = maps.kind_for_schema.get(schema)
        if schema == "Identification":  # read above, into its holder's identifiers
            continue
        if kind is None:
            if schema in maps.link_for_schema:
                deferred.append((number, data))
            else:
                summary.reject(where, f"FtM schema {schema!r} has no workbench kind")
            continue
        entity_id = str(data["id"])
        stored_kind = writer.kind_of(entity_id)
        if stored_kind and stored_kind != kind and maps.reg.entity_kind(stored_kind).ftm == schema:
            kind = stored_kind  # a Port travels as an Organization: the stored entity stays a Port
        ftm_props = dict(data.get("properties") or {})
        _count_left_out(maps, kind, schema, ftm_props, left_out)
        if kind == "Sanction" and ftm_props.get("entity"):
            sanction_entities.append((number, data["id"], [str(v) for v in ftm_props.pop("entity")]))
        properties = ftm_to_properties(maps, kind, ftm_props)
        if entity_id in identifications:
            _restore_identifiers(maps, kind, properties, identifications[entity_id])
        spec = maps.reg.entity_kind(kind)
        stored_props = writer.existing_properties(entity_id)
        properties = _as_stored(maps, spec, properties, stored_props)
        if stored_props:
            _drop_identifier_echoes(maps, spec, properties, stored_props)
        # A stored entity keeps what FtM cannot carry, and its identifiers (an aircraft's or vessel's
        # scheme cannot travel: FtM's Identification holds people and organisations only).
        if writer.entity(entity_id, kind, properties, where, keep=maps.not_carried(spec),
                         merge=("identifier",) if "identifier" in spec.properties else ()) is not None:
            writer.cite(source_id, entity_id=str(data["id"]), locator=f"line {number}")
        if progress and index % 500 == 0:
            progress(index, total)
    writer.flush()
    for number, data in deferred:
        where = f"{path.name} line {number}"
        candidates = maps.link_for_schema[data["schema"]]
        props = data.get("properties") or {}
        _, source_prop, target_prop = candidates[0]
        sources, targets = props.get(source_prop) or [], props.get(target_prop) or []
        if not sources or not targets:
            summary.reject(where, f"{data['schema']} lacks {source_prop} or {target_prop}")
            continue
        link_kind = _fitting_link(maps, writer, candidates, str(sources[0]), str(targets[0]),
                                  [str(v) for v in props.get("description") or []])
        spec = maps.reg.link_kind(link_kind)
        link_props: dict[str, list[str]] = {}
        by_ftm = maps.reading(spec)
        known = FTM_PROPERTIES.get(data["schema"])
        for name, values in props.items():
            if name in by_ftm and name not in (source_prop, target_prop):
                link_props.setdefault(by_ftm[name], []).extend(map(str, values))
            elif name not in (source_prop, target_prop, "description") and values:
                key = (data["schema"], name, known is None or name in known)
                left_out[key] = left_out.get(key, 0) + (len(values) if isinstance(values, list) else 1)
        link_id = str(data["id"])
        stored = writer.existing_links.get(link_id)
        link_props = _as_stored(maps, spec, link_props, stored[3] if stored else None)
        if writer.link(link_id, link_kind, str(sources[0]), str(targets[0]), link_props, where,
                       keep=maps.not_carried(spec)) is not None:
            writer.cite(source_id, link_id=link_id, locator=f"line {number}")
    # FtM names a Sanction's entity, not the link: a stored SanctionOf between the two is that link,
    # whatever its id (the SDN importer's 'ofac-N-sanctionof', the demo's own).
    sanction_links = {(row.source_id, row.target_id): row.id for row in session.execute(
        select(Link.id, Link.source_id, Link.target_id).where(Link.kind == "SanctionOf"))} \
        if sanction_entities else {}
    for (schema, prop, known), count in sorted(left_out.items()):
        summary.warnings.append((path.name, f"{schema}.{prop}: " + (
            f"no workbench property holds it; {count} value(s) left out" if known else
            f"FtM's {schema} has no such property; {count} value(s) left out")))
    none_travels = tuple(maps.reg.link_kind("SanctionOf").properties)  # FtM's Sanction.entity is the link alone
    for number, sanction, targets in sanction_entities:
        for position, target in enumerate(targets):
            link_id = sanction_links.get((sanction, target)) or (
                f"{sanction}-sanctionof" if position == 0 else f"{sanction}-sanctionof-{position}")
            if writer.link(link_id, "SanctionOf", sanction, target, {}, f"{path.name} line {number}",
                           keep=none_travels) is not None:
                writer.cite(source_id, link_id=link_id, locator=f"line {number}")
    writer.flush()
    if progress:
        progress(total, total)
    return summary
