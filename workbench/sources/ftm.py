"""FollowTheMoney JSON lines out and in, driven by the ``ftm`` mapping in ``schema/``.

Export: each entity becomes an FtM entity of its kind's ``ftm`` schema, each property goes to
its ``ftm`` property, identifiers go to their scheme's ``ftm_property``; each link becomes an
entity of the link kind's ``ftm`` schema with its two ends in ``ftm_source``/``ftm_target``,
except SanctionOf, which FtM expresses as the Sanction's ``entity`` property. Each identifier of a
person or organisation also travels as an FtM ``Identification`` (holder, number, type = our scheme):
FtM's ``idNumber`` or ``taxNumber`` keep the number but not which scheme it is (a CURP, a voter card,
a Colombian cédula), and dossiers check identifiers by scheme; a digital currency address travels as an
FtM ``CryptoWallet`` instead. A link whose FtM schema reserves an end for people (Associate) and holds an
organisation there travels as an ``UnknownLink``. Import reverses the same tables, so a round trip keeps
everything FtM can carry; it reads an FtM schema the workbench does not map through its nearest mapped
ancestor (``FTM_EXTENDS``), and a link line whose ends are lists as a link for each pair. No followthemoney import here:
the package is only needed by the tests that validate the output.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.schema import Registry, registry
from workbench.sources.bulk import BulkWriter, ImportSummary
from workbench.sources.files import store_file
from workbench.sources.ftm_schemata import FTM_ABSTRACT, FTM_EXTENDS, FTM_PROPERTIES, FTM_RANGES, FTM_TOPICS
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


class SummaryNote(str):
    """A warning the import summary always prints in full: one line per FtM schema and property (or per
    Identification type), never per value, and the only word about values that did not land where the
    file put them (the CLI shortens the list of the other warnings)."""


@cache
def ftm_ancestors(schema: str) -> tuple[str, ...]:
    """The FtM schemata ``schema`` extends, nearest first (breadth first, in FtM's order)."""
    found: list[str] = []
    queue = list(FTM_EXTENDS.get(schema, ()))
    while queue:
        parent = queue.pop(0)
        if parent not in found:
            found.append(parent)
            queue.extend(FTM_EXTENDS.get(parent, ()))
    return tuple(found)


def ftm_is_a(schema: str, other: str) -> bool:
    return schema == other or other in ftm_ancestors(schema)


def ftm_common_schema(left: str, right: str) -> str | None:
    """The more specific of two schemata when one extends the other (followthemoney's
    ``model.common_schema``: LegalEntity and Person are a Person), else None."""
    if ftm_is_a(left, right):
        return left
    if ftm_is_a(right, left):
        return right
    return None


IDENTIFICATION = "Identification"  # FtM's schema for an identity document (Passport extends it)
WALLET = "CryptoWallet"  # FtM's schema for a digital currency address; its holder is a LegalEntity
WALLET_ADDRESS = "publicKey"  # the property FtM's CryptoWallet holds the address in ...
WALLET_ADDRESSES = ("publicKey", "cryptoAddress")  # ... and the ones an import reads it from
WALLET_CURRENCIES = ("currency", "currencySymbol")
GENERIC_SCHEME = "OTHER"  # identifiers.yml's scheme for a number of a kind the workbench does not know
# The link schema a link travels as when its own FtM schema cannot hold one of its ends (an Associate
# between a person and an organisation: FtM's Associate is for people only), and the end FtM reserves
# for people. An Ownership of a plain Organization (FtM's asset range is Asset) still travels as an
# Ownership: it is one, and falling back would lose its share; only a person-only end falls back.
FALLBACK_LINK = "UnknownLink"
PEOPLE_ONLY = "Person"


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
        # Link kinds whose FtM schema reserves an end for people while the kind admits organisations there
        # (Associate): such a link, between a person and an organisation, travels as FtM's UnknownLink with
        # its kind's label in `description` and FtM's schema name in `role`, and is read back by them.
        self.fallback_ends = tuple(FTM_RANGES.get(FALLBACK_LINK, {}))
        self.fallback_kinds: set[str] = set()
        for link in reg.link_kinds.values():
            ranges = FTM_RANGES.get(link.ftm or "", {})
            if link.ftm == FALLBACK_LINK or len(self.fallback_ends) != 2 or not link.ftm_source or not any(
                    ranges.get(end) == PEOPLE_ONLY and any(not self.is_person_kind(k) for k in ends)
                    for end, ends in ((link.ftm_source, link.source), (link.ftm_target, link.target))):
                continue
            self.fallback_kinds.add(link.name)
            self.link_for_schema.setdefault(FALLBACK_LINK, []).append((link.name, *self.fallback_ends))
        self._reading: dict[int, dict[str, str]] = {}
        self._not_carried: dict[int, tuple[str, ...]] = {}
        self._shared: dict[int, list[list[str]]] = {}
        # ftm property -> identifier scheme guesses on import.
        self.schemes_for_prop: dict[str, list[str]] = {}
        for scheme in reg.identifier_schemes.values():
            self.schemes_for_prop.setdefault(scheme.ftm_property, []).append(scheme.name)
        # Schemes FtM holds as a CryptoWallet of their own (a digital currency address), not as a property
        # of the holder: CRYPTO_XBT -> the wallet's currency XBT.
        wallet = FTM_PROPERTIES.get(WALLET, frozenset())
        self.wallet_currency: dict[str, str] = {
            scheme.name: scheme.name.partition("_")[2] or scheme.name for scheme in reg.identifier_schemes.values()
            if scheme.ftm_property in wallet and scheme.ftm_property not in FTM_PROPERTIES.get("LegalEntity", ())}

    def is_person_kind(self, kind_name: str) -> bool:
        """Whether every entity of a workbench kind (or of the kinds extending it) is an FtM Person."""
        kinds = [k for k in self.reg.entity_kinds.values() if k.is_a(kind_name)]
        return bool(kinds) and all(ftm_is_a(k.ftm or "", PEOPLE_ONLY) for k in kinds if not k.abstract)

    def kind_for(self, schema: str) -> str | None:
        """The workbench kind an FtM schema is read as: its own, else its nearest ancestor's."""
        for candidate in (schema, *ftm_ancestors(schema)):
            if candidate in self.kind_for_schema:
                return self.kind_for_schema[candidate]
            if candidate in self.link_for_schema or candidate in (IDENTIFICATION, WALLET):
                return None  # read as a link, an Identification or a wallet
        return None

    def links_for(self, schema: str) -> tuple[str, list[tuple[str, str, str]]] | None:
        """(the FtM schema, its candidate link kinds) a link schema or its nearest ancestor is read as."""
        for candidate in (schema, *ftm_ancestors(schema)):
            if candidate in self.link_for_schema:
                return candidate, self.link_for_schema[candidate]
            if candidate in self.kind_for_schema:
                return None
        return None


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
    known = FTM_PROPERTIES.get(kind.ftm)
    apart = ftm_is_a(kind.ftm, "LegalEntity")  # its identifiers also travel as Identifications or wallets
    for name, values in (entity.properties or {}).items():
        prop = kind.properties.get(name)
        if prop is None:
            continue
        if name == "identifier":
            for value in values:
                scheme_name, number = split_identifier(value)
                scheme = maps.reg.identifier_schemes.get(scheme_name)
                ftm_prop = scheme.ftm_property if scheme else "idNumber"
                if known is not None and ftm_prop not in known:
                    # A digital currency address is a CryptoWallet of its own (FtM's idNumber holds at most
                    # 64 characters, a Monero address 95); a number FtM's schema has no property for
                    # travels only as an Identification: of a thing that is no LegalEntity, it is left out.
                    if not apart and left_out is not None:
                        left_out[(entity.kind, name)] = left_out.get((entity.kind, name), 0) + 1
                    continue
                bucket = props.setdefault(ftm_prop, [])
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


# Files exported before 2026-12 said an Identification's number was the identifier alone (no other property of
# the holder held it) in its summary, text Aleph and OpenSanctions show: still understood on import. The
# export now says it by the Identification's id, `<holder>-idn-only-<digest>` (``_identification_id``).
IDENTIFIER_ONLY = "workbench: identifier only"

# FtM's LegalEntity and the schemata that extend it.
FTM_LEGAL_ENTITIES = frozenset({"LegalEntity", "Person", "Organization", "Company", "PublicBody"})


def _identification_id(holder: str, value: str, alone: bool) -> str:
    """A stable id for the Identification of one identifier ('SCHEME:number') of ``holder``; ``alone``:
    the number was the identifier alone, though FtM's number property brings it back into a property
    of ours (a Company's registrationNumber) too. The id says so where no reader sees it as text."""
    digest = hashlib.sha1(value.encode("utf-8")).hexdigest()[:12]
    return f"{holder}-idn-only-{digest}" if alone else f"{holder}-idn-{digest}"


def _wallet_id(holder: str, value: str) -> str:
    return f"{holder}-wallet-{hashlib.sha1(value.encode('utf-8')).hexdigest()[:12]}"


def identifications_to_ftm(entity: Entity, maps: _Maps) -> Iterator[dict]:
    """Each identifier of a person or organisation as an FtM Identification whose ``type`` is its scheme;
    a digital currency address as an FtM CryptoWallet (address, currency, holder)."""
    kind = maps.reg.entity_kinds.get(entity.kind)
    if kind is None or kind.ftm not in FTM_LEGAL_ENTITIES:  # what FtM's Identification may hold
        return
    properties = entity.properties or {}
    by_ftm = maps.reading(kind)
    for value in properties.get("identifier") or []:
        scheme, number = split_identifier(value)
        if scheme and number:
            if scheme in maps.wallet_currency:
                yield {"id": _wallet_id(entity.id, value), "schema": WALLET, "properties": {
                    "holder": [entity.id], WALLET_ADDRESS: [number], "currency": [maps.wallet_currency[scheme]]}}
                continue
            props = {"holder": [entity.id], "number": [number], "type": [scheme]}
            spec = maps.reg.identifier_schemes.get(scheme)
            plain = by_ftm.get(spec.ftm_property) if spec else None
            # The number also lands in FtM's property of that name, which a property of ours reads back
            # (a Company's registrationNumber): the id says it was the identifier alone.
            alone = bool(plain) and number not in properties.get(plain, [])
            yield {"id": _identification_id(entity.id, value, alone), "schema": IDENTIFICATION, "properties": props}


def _falls_back(maps: _Maps, spec, kinds: Callable[[str], str | None] | None, link) -> bool:
    """Whether a link's FtM schema cannot hold one of its ends: an end FtM reserves for people
    (Associate.person, Associate.associate) holding an organisation."""
    if spec.name not in maps.fallback_kinds or kinds is None:
        return False
    ranges = FTM_RANGES.get(spec.ftm, {})
    for end, entity_id in ((spec.ftm_source, link.source_id), (spec.ftm_target, link.target_id)):
        kind = maps.reg.entity_kinds.get(kinds(entity_id) or "")
        if ranges.get(end) == PEOPLE_ONLY and kind is not None and not ftm_is_a(kind.ftm or "", PEOPLE_ONLY):
            return True
    return False


def _role_marker(spec) -> str:
    """The `role` a link travelling as an UnknownLink carries: its own FtM schema's name ('associate')."""
    return (spec.ftm or spec.name).lower()


def _in_role(spec) -> list[str]:
    """A fallback link kind's properties whose FtM property UnknownLink lacks (Associate's relationship):
    they travel in the UnknownLink's `role`, after its marker."""
    room = FTM_PROPERTIES.get(FALLBACK_LINK, frozenset())
    return [name for name, prop in spec.properties.items() if _carried(spec, prop) and prop.ftm not in room]


def link_to_ftm(link: Link, maps: _Maps, left_out: dict[tuple[str, str], int] | None = None,
                folded: dict[tuple[str, str, str], int] | None = None,
                kinds: Callable[[str], str | None] | None = None) -> dict | None:
    """``left_out`` counts, by (link kind, property), the values FtM has no place for; ``folded``, those
    read back as another property. ``kinds`` gives an entity's kind: a link whose FtM schema reserves an
    end for people and holds an organisation there (an Associate of a cartel) travels as an UnknownLink."""
    spec = maps.reg.link_kinds.get(link.kind)
    if spec is None or not spec.ftm or not spec.ftm_source or not spec.ftm_target:
        return None
    fallback = _falls_back(maps, spec, kinds, link)
    schema = FALLBACK_LINK if fallback else spec.ftm
    source_prop, target_prop = maps.fallback_ends if fallback else (spec.ftm_source, spec.ftm_target)
    props: dict[str, list[str]] = {source_prop: [link.source_id], target_prop: [link.target_id]}
    in_role = _in_role(spec) if fallback else []
    if fallback:
        props["role"] = [_role_marker(spec)]
    for name, values in (link.properties or {}).items():
        prop = spec.properties.get(name)
        if prop is not None and not _carried(spec, prop):
            if left_out is not None and values:
                left_out[(link.kind, name)] = left_out.get((link.kind, name), 0) + len(values)
            continue
        if prop is not None and prop.ftm:
            _count_folded(folded, maps, spec, link.kind, name, prop, values)
            bucket = props.setdefault("role" if name in in_role else prop.ftm, [])
            bucket.extend(v for v in values if v not in bucket)
    if (fallback or link.kind in maps.described_link_kinds) and "description" not in props:
        props["description"] = [spec.label]
    return {"id": link.id, "schema": schema, "properties": _fits(schema, props)}


def export_ftm(session: Session, entity_ids: Iterable[str] | None = None,
               skipped: list[str] | None = None, left_out: dict[tuple[str, str], int] | None = None,
               folded: dict[tuple[str, str, str], int] | None = None) -> Iterator[dict]:
    """Yield FtM entity dicts for the given entities (or all) and the links among them; ``left_out``
    counts the values of properties FtM has no place for, by (kind, property), and ``folded`` those a
    store without the entry reads back as another property, by (kind, property, read back as)."""
    maps = ftm_maps()
    wanted = set(entity_ids) if entity_ids is not None else None
    travelling = {k.name for k in maps.reg.entity_kinds.values() if k.ftm and k.ftm not in FTM_ABSTRACT}
    # Entities FtM can carry, with their kinds; a link is only exported when both of its ends are.
    exported: dict[str, str] = {
        entity_id: kind for entity_id, kind in session.execute(
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
        data = link_to_ftm(link, maps, left_out, folded, exported.get) \
            if link.source_id in exported and link.target_id in exported else None
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


def _scheme_for_type(maps: _Maps, text: str) -> str | None:
    """The scheme an Identification's ``type`` names: a scheme's name ('CURP', 'National ID' for
    NATIONAL_ID) or its label, exactly; never a guess from what the words resemble."""
    key = re.sub(r"[\s\-]+", "_", text.strip()).upper()
    if key in maps.reg.identifier_schemes:
        return key
    folded = text.strip().casefold()
    return next((s.name for s in maps.reg.identifier_schemes.values() if s.label.casefold() == folded), None)


def _wallet_scheme(maps: _Maps, currency: str) -> str | None:
    """The scheme of a wallet's currency: CRYPTO_XBT for 'XBT' (or 'Bitcoin', as its label says)."""
    folded = currency.strip().casefold()
    for scheme, code in maps.wallet_currency.items():
        label = maps.reg.identifier_schemes[scheme].label
        named = label[label.find("(") + 1:label.rfind(")")].split(",") if "(" in label else []
        if folded == code.casefold() or folded in (n.strip().casefold() for n in named):
            return scheme
    return None


@dataclass
class _Held:
    """What the file's Identifications (and Passports) and CryptoWallets say of their holders."""

    identifiers: dict[str, list[tuple[str, bool]]]  # holder -> ('SCHEME:number', the identifier alone)
    countries: dict[str, list[tuple[str, str]]]  # holder -> (schema, country) the Identifications name
    lines: dict[str, list[tuple[str, int]]]  # holder -> (schema, numbers) its lines brought
    not_schemes: dict[tuple[str, str], int]  # (schema, type or currency) no scheme of ours -> numbers
    no_holder: dict[str, int]  # schema -> numbers of lines naming no holder


def _identifications(maps: _Maps, rows: list[tuple[int, dict]],
                     left_out: dict[tuple[str, str, bool], int] | None = None) -> _Held:
    """Identifier values ('SCHEME:number') by holder, from the file's Identification entities (and those
    of schemata extending it: a Passport's passportNumber) and CryptoWallets, each with whether the
    number was the identifier alone (our export says so by the Identification's id). A ``type`` that is
    none of our schemes makes the number an OTHER identifier (counted, for the summary); no type at all,
    a guess from the number, as FtM's idNumber is read. An Identification's country is its holder's (as
    the SDN import keeps an identifier's country); its other values are counted in ``left_out``."""
    held = _Held({}, {}, {}, {}, {})
    for _number, data in rows:
        schema = str(data.get("schema"))
        wallet = ftm_is_a(schema, WALLET)
        if not wallet and not ftm_is_a(schema, IDENTIFICATION):
            continue
        props = data.get("properties") or {}
        holders = [str(v) for v in props.get("holder") or []]
        if wallet:
            read = {"holder", *WALLET_ADDRESSES, *WALLET_CURRENCIES}
            numbers = [str(v) for name in WALLET_ADDRESSES for v in props.get(name) or []]
            named = [str(v) for name in WALLET_CURRENCIES for v in props.get(name) or []]
            scheme = next((found for c in named if (found := _wallet_scheme(maps, c))), None)
        else:
            # A subschema's own number property (Passport.passportNumber, deprecated and hidden in FtM 4 but
            # what older files write) holds its number too.
            extra = [p for p in props if schema != IDENTIFICATION and p in maps.schemes_for_prop
                     and p not in FTM_PROPERTIES.get(IDENTIFICATION, ())]
            read = {"holder", "number", "type", "country", *extra}
            numbers = [str(v) for name in ("number", *extra) for v in props.get(name) or []]
            named = [str(t) for t in props.get("type") or [] if str(t).strip()]
            scheme = next((found for t in named if (found := _scheme_for_type(maps, t))), None)
            if scheme is None and schema != IDENTIFICATION:
                scheme = _scheme_for_type(maps, schema)  # a Passport's number is a PASSPORT whatever its type
        numbers = list(dict.fromkeys(numbers))
        if scheme is None and (named or wallet) and numbers:
            what = named[0] if named else ""  # a wallet naming no currency
            held.not_schemes[(schema, what)] = held.not_schemes.get((schema, what), 0) + len(numbers) * max(
                len(holders), 1)
            scheme = GENERIC_SCHEME
        if left_out is not None:
            known = FTM_PROPERTIES.get(schema)
            for prop, values in props.items():
                if prop in read or not values:
                    continue
                if prop == "summary" and not wallet:
                    values = [v for v in values if v != IDENTIFIER_ONLY]
                    if not values:
                        continue
                key = (schema, prop, known is None or prop in known)
                left_out[key] = left_out.get(key, 0) + len(values)
        for holder in holders:
            held.lines.setdefault(holder, []).append((schema, len(numbers)))
            for code in [] if wallet else props.get("country") or []:
                held.countries.setdefault(holder, []).append((schema, str(code)))
            for number in numbers:
                value = f"{scheme}:{number}" if scheme else _identifier(maps, "idNumber", number, "")
                alone = not wallet and (IDENTIFIER_ONLY in (props.get("summary") or [])
                                        or str(data["id"]) == _identification_id(holder, value, True))
                if all(value != known for known, _ in held.identifiers.setdefault(holder, [])):
                    held.identifiers[holder].append((value, alone))
        if not holders and numbers:
            held.no_holder[schema] = held.no_holder.get(schema, 0) + len(numbers)
    return held


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
    first line's place. Lines of one id with two schemata, one extending the other (OpenSanctions writes
    a LegalEntity, then a Person), are joined as the more specific one, as followthemoney's
    ``model.common_schema`` reads them; a line giving the id an unrelated schema is left out, with a warning."""
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
        common = ftm_common_schema(str(seen_data.get("schema")), str(data.get("schema")))
        if common is not None:
            seen_data["schema"] = common
        else:
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
    writer.load_existing(ids=[data["id"] for _, data in rows if not _held_apart(data["schema"])])
    left_out: dict[tuple[str, str, bool], int] = {}  # (schema, property, known to FtM) -> values
    held = _identifications(maps, rows, left_out)
    claimed: set[str] = set()  # holders of the file's Identifications and wallets that the file holds
    total = len(rows)
    deferred: list[tuple[int, dict]] = []
    sanction_entities: list[tuple[int, str, list[str]]] = []
    for index, (number, data) in enumerate(rows, 1):
        where = f"{path.name} line {number}"
        schema = data["schema"]
        if _held_apart(schema):  # read above, into its holder's identifiers
            continue
        kind = maps.kind_for(schema)
        if kind is None:
            if maps.links_for(schema):
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
        spec = maps.reg.entity_kind(kind)
        if entity_id in held.lines:
            claimed.add(entity_id)
            if entity_id in held.identifiers:
                _restore_identifiers(maps, kind, properties, held.identifiers[entity_id])
            for id_schema, code in held.countries.get(entity_id, []):
                if "country" in spec.properties:  # as the SDN import keeps an identifier's country
                    if code not in properties.setdefault("country", []):
                        properties["country"].append(code)
                else:
                    key = (id_schema, "country", True)
                    left_out[key] = left_out.get(key, 0) + 1
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
        _import_link(maps, writer, summary, source_id, path.name, number, data, left_out)
    # FtM names a Sanction's entity, not the link: a stored SanctionOf between the two is that link,
    # whatever its id (the SDN importer's 'ofac-N-sanctionof', the demo's own).
    sanction_links = {(row.source_id, row.target_id): row.id for row in session.execute(
        select(Link.id, Link.source_id, Link.target_id).where(Link.kind == "SanctionOf"))} \
        if sanction_entities else {}
    _say_left_out(summary, path.name, left_out, held, claimed)
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


def _held_apart(schema: str) -> bool:
    """Whether an FtM schema is read into its holder's identifiers (Identification, Passport, CryptoWallet)."""
    return ftm_is_a(schema, IDENTIFICATION) or ftm_is_a(schema, WALLET)


def _pair_link_id(link_id: str, source: str, target: str) -> str:
    """The id of the link an FtM link line makes between one more pair of its ends (an Ownership with two
    owners): the line's id and a digest of the pair, stable whatever order the file lists them in."""
    digest = hashlib.sha1(f"{link_id}\x00{source}\x00{target}".encode()).hexdigest()[:12]
    return f"{link_id[:MAX_ID - len(digest) - 1]}-{digest}"


def _import_link(maps: _Maps, writer: BulkWriter, summary: ImportSummary, source_id: str, file_name: str,
                 number: int, data: dict, left_out: dict[tuple[str, str, bool], int]) -> None:
    """One FtM link line: a link for each (source, target) pair its ends name (FtM's ends are lists: an
    Ownership of an asset by two owners is two links). The first pair's link keeps the line's id, as
    before multi-valued ends were read, so a file imported then adds nothing now but the other pairs;
    each link is cited to the line."""
    where = f"{file_name} line {number}"
    schema, candidates = maps.links_for(data["schema"])
    props = data.get("properties") or {}
    _, source_prop, target_prop = candidates[0]
    sources = list(dict.fromkeys(str(v) for v in props.get(source_prop) or []))
    targets = list(dict.fromkeys(str(v) for v in props.get(target_prop) or []))
    if not sources or not targets:
        summary.reject(where, f"{data['schema']} lacks {source_prop} or {target_prop}")
        return
    described = [str(v) for v in props.get("description") or []]
    labels = {maps.reg.link_kind(name).label for name, _, _ in candidates}
    known = FTM_PROPERTIES.get(data["schema"])
    for position, (source, target) in enumerate((s, t) for s in sources for t in targets):
        link_kind = _fitting_link(maps, writer, candidates, source, target, described)
        spec = maps.reg.link_kind(link_kind)
        fallback = spec.ftm != schema and link_kind in maps.fallback_kinds  # an Associate sent as an UnknownLink
        by_ftm = maps.reading(spec)
        in_role = _in_role(spec) if fallback else []
        marker = _role_marker(spec) if fallback else None
        link_props: dict[str, list[str]] = {}
        unread: dict[str, int] = {}
        for name, values in props.items():
            values = [str(v) for v in values]
            if name in (source_prop, target_prop) or not values:
                continue
            if name == "description":
                values = [v for v in values if v not in labels]  # the kind's label, as our export writes it
                if values:
                    unread[name] = len(values)
            elif name == "role" and fallback:
                # 'associate', then what the kind's own relationship property held (FtM's role is free text)
                values = [v for v in values if v != marker]
                into = in_role[0] if in_role else by_ftm.get(name)
                if into:
                    link_props.setdefault(into, []).extend(values)
                elif values:
                    unread[name] = len(values)
            elif name in by_ftm:
                link_props.setdefault(by_ftm[name], []).extend(values)
            else:
                unread[name] = len(values)
        if position == 0:
            for name, count in unread.items():
                key = (data["schema"], name, known is None or name in known)
                left_out[key] = left_out.get(key, 0) + count
        link_id = str(data["id"]) if position == 0 else _pair_link_id(str(data["id"]), source, target)
        stored = writer.existing_links.get(link_id) if writer.has_link(link_id) else None
        if in_role and marker in (props.get("role") or []) and stored and marker in (stored[3].get(in_role[0]) or []):
            link_props.setdefault(in_role[0], []).append(marker)  # the stored relationship was the marker's word
        link_props = {k: v for k, v in link_props.items() if v}
        link_props = _as_stored(maps, spec, link_props, stored[3] if stored else None)
        if writer.link(link_id, link_kind, source, target, link_props, where,
                       keep=maps.not_carried(spec)) is not None:
            writer.cite(source_id, link_id=link_id, locator=f"line {number}")


def _say_left_out(summary: ImportSummary, file_name: str, left_out: dict[tuple[str, str, bool], int],
                  held: _Held, claimed: set[str]) -> None:
    """One summary line per FtM schema and property the import left out (SummaryNotes: always printed),
    per Identification type or wallet currency stored as OTHER, and per schema whose numbers name a
    holder the file does not hold."""
    for (schema, prop, known), count in sorted(left_out.items()):
        summary.warnings.append((file_name, SummaryNote(f"{schema}.{prop}: " + (
            f"no workbench property holds it; {count} value(s) left out" if known else
            f"FtM's {schema} has no such property; {count} value(s) left out"))))
    for (schema, named), count in sorted(held.not_schemes.items()):
        what = "currency" if ftm_is_a(schema, WALLET) else "type"
        said = f"{schema}.{what} {named!r} is no identifier scheme of the workbench" if named else \
            f"{schema} names no {what}"
        summary.warnings.append((file_name, SummaryNote(
            f"{said}: {count} number(s) stored as {GENERIC_SCHEME} identifiers" + (
                f" (the {what} itself is not kept)" if named else ""))))
    orphans = dict(held.no_holder)
    for holder, lines in held.lines.items():
        if holder not in claimed:
            for schema, count in lines:
                orphans[schema] = orphans.get(schema, 0) + count
    for schema, count in sorted(orphans.items()):
        if count:
            summary.warnings.append((file_name, SummaryNote(
                f"{schema}: {count} number(s) whose holder is not an entity of this file left out")))
