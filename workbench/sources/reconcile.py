"""W3C / OpenRefine Reconciliation API v0.2 over the workbench store.

An analyst reconciles a spreadsheet column (names, optionally with a type and other columns as
properties) against the workbench from OpenRefine. Candidates come from the matching engine's
``search_entities`` (an entity id given as the query finds that entity; a query with properties
only finds the entries holding their values); ``_weigh`` scores them with the properties and
``_decide`` says whether the best one is an automatic match. Routes in
``workbench/web/routes/reconcile.py`` only translate HTTP to these functions. A batch holds at most
``MAX_QUERIES`` queries and an extension request at most ``MAX_EXTEND_IDS`` ids; an unknown type is
refused rather than read as every type. A query that cannot be read gets an empty result of its own
(OpenRefine would lose its whole batch otherwise); a batch with no query that can be read is refused (422).
Text no database can store (a lone surrogate: JSON can spell '\\ud800') is refused like any other text
that cannot be read, naming its field, before it reaches the database (whose driver cannot send it).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.labels import value_label
from workbench.matching.score import (
    DIFFERENT_NUMBERS_CAP,
    GENERATION_CAP,
    ONE_SIDED_GENERATION_CAP,
    ONE_SIDED_NUMBER_CAP,
    WEAK_ALIAS_CAP,
)
from workbench.schema import EntityKind, Property, ValidationError, registry
from workbench.sources.countries import country_code
from workbench.store.entities import get_entity, surviving
from workbench.store.models import Entity
from workbench.store.permissions import Actor, require
from workbench.text import fold, unstorable
from workbench.types import NAME_MAX_CHARS, compact_identifier, split_identifier

log = logging.getLogger(__name__)

SERVICE_NAME = "Sanctions workbench"
IDENTIFIER_SPACE = "https://workbench.invalid/entities/"
SCHEMA_SPACE = "https://workbench.invalid/schema/"
# OpenRefine takes a candidate with match: true without the analyst seeing the row ("auto-match
# candidates with high confidence" is on by default). The matching engine keeps some pairs below a cap
# as "a hit to review" (a 'Jr.'/'hijo' on one name only: a father and a son; a number on one
# organisation's name only): a name must score above every such cap to match. (Names with the same
# parts in another order score REORDERED_SCORE, 0.97: no cap, one person's names are often written so.)
REVIEW_CAPS = (ONE_SIDED_GENERATION_CAP, ONE_SIDED_NUMBER_CAP, GENERATION_CAP, DIFFERENT_NUMBERS_CAP)
MATCH_THRESHOLD = round(max(REVIEW_CAPS) + 0.01, 4)
MATCH_MARGIN = 5.0  # points the match must be ahead of the runner-up (scores are 0-100)
DISAGREEMENT_FACTOR = 0.8  # a property whose value disagrees multiplies the score by this
AGREEMENT_LIFT = 0.5  # the share of the way to 100 an agreeing value closes, when it tells every candidate apart
MAX_LIFT = 0.5  # the most the agreeing values close together
ID_VARIANT_SCORE = 0.9  # an id in other letter case, or merged into the entry offered: high, never a match
# A name found only as a weak alias / nickname ('DR. IBRAHIM', 'EL MAYO') is never a match (_decide), and scores
# at most score.WEAK_ALIAS_CAP (90), below any name matched in full, as in screening: at 100 it tied with, and was
# listed before, the entry whose own name the query was (titles dropped, 'IBRAHIM, Haji' and 'DR. IBRAHIM' read
# alike); OpenRefine takes the first candidate as the best, and an analyst filtering on 100 took the wrong person.
DESCRIPTION_FACTS = 3  # facts a candidate's description names (the preview shows more)
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Every query searches this many candidates, whatever its limit: the scores and the match decision look
# at all of them, so a client asking to see one candidate is told the same as one asking for ten.
CANDIDATES = 25
MAX_LIMIT = CANDIDATES
DEFAULT_LIMIT = 5
# OpenRefine sends small batches (ten queries by default); a request beyond these limits is refused
# with a 422 that says the limit, rather than left to hold a worker (queries) or cut short unseen (ids).
MAX_QUERIES = 500
# A query's properties are compared with its candidates; a query with properties only looks each value up
# in the whole store (a scan of every entry's values): bounded per query and per batch, or one request of
# a thousand values held a worker for seconds per value.
MAX_PROPERTIES = 20  # properties a query may send
MAX_VALUES = 10  # values a property may send
MAX_HOLDER_VALUES = 5  # values a query with properties only may look up
MAX_BATCH_LOOKUPS = 500  # values the queries with properties only of one batch may look up in all
MAX_EXTEND_IDS = 1000
SUGGEST_PAGE = 10  # entity suggestions a request returns
MAX_SUGGEST_CURSOR = 200  # paging beyond this many entity suggestions offers nothing more
# The preview is advertised as 430x200 px: a title and PREVIEW_LINES one-line rows fit. The facts that
# tell namesakes apart come first; the rest follow in the schema's order while rows are left.
PREVIEW_SIZE = (430, 200)
PREVIEW_LINES = 7
PREVIEW_MIN_FACTS = 4
PREVIEW_FIRST = ("nationality", "citizenship", "gender", "birthDate", "birthDateCirca", "identifier",
                 "birthPlace", "country", "jurisdiction", "incorporationDate", "registrationNumber", "address")
PREVIEW_SKIP = frozenset({"notes", "description", "sourceUrl"})


def _type(kind: str) -> dict:
    spec = registry().entity_kinds.get(kind)
    return {"id": kind, "name": spec.label if spec else kind}


def _types(kind: str) -> list[dict]:
    """A candidate's types: its kind, then the kinds it is one of (a Company is an Organization). OpenRefine
    marks a candidate 'type match' only when the type it asked for is in this list: listing the kind alone,
    every company reconciled against Organization showed 'type match: false'."""
    spec = registry().entity_kinds.get(kind)
    return [_type(kind)] + [_type(parent) for parent in (spec.ancestors if spec else ())]


def manifest(base_url: str, token_query: str = "") -> dict:
    """The service manifest; ``token_query`` ('?token=...') is appended to the URLs OpenRefine calls."""
    base = base_url.rstrip("/")
    suffix = token_query
    joiner = "&" if suffix else "?"
    width, height = PREVIEW_SIZE
    return {
        "versions": ["0.2"],
        "name": SERVICE_NAME,
        "batchSize": MAX_QUERIES,
        "identifierSpace": IDENTIFIER_SPACE,
        "schemaSpace": SCHEMA_SPACE,
        "defaultTypes": [_type(kind) for kind in registry().default_kinds()],
        "view": {"url": f"{base}/entities/{{{{id}}}}"},
        "preview": {"url": f"{base}/reconcile/preview{suffix}{joiner}id={{{{id}}}}", "width": width, "height": height},
        "suggest": {
            "entity": {"service_url": base, "service_path": f"/reconcile/suggest/entity{suffix}"},
            "type": {"service_url": base, "service_path": f"/reconcile/suggest/type{suffix}"},
            "property": {"service_url": base, "service_path": f"/reconcile/suggest/property{suffix}"},
        },
        "extend": {
            "propose_properties": {"service_url": base, "service_path": f"/reconcile/extend/propose{suffix}"},
            "property_settings": [],
        },
    }


def _kinds_for(type_id: str | list | None) -> list[str]:
    """The kinds a query's type (one, or a list) names; none: the default kinds. A type the schema does
    not know is refused, alone or in a list: dropping it would answer for the others as if that were asked."""
    if not type_id:
        return registry().default_kinds()
    ids = type_id if isinstance(type_id, list) else [type_id]
    unknown = [t for t in ids if not isinstance(t, str) or t not in registry().entity_kinds]
    if unknown:
        message = f"unknown type {', '.join(map(repr, unknown))} (/reconcile/suggest/type lists the types)"
        raise ValidationError({"type": [message]})
    return list(dict.fromkeys(ids))


def _accepts(kind: str, kinds: list[str]) -> bool:
    spec = registry().entity_kinds.get(kind)
    return spec is not None and spec.is_a_any(kinds)


# How spreadsheets write dates; a day and a month both up to 12 are read both ways (either may agree).
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y", "%d %B %Y",
                 "%b %d, %Y", "%B %d, %Y", "%d/%m/%y", "%m/%d/%y")


def _dates(text: str) -> set[str] | None:
    """ISO forms a written date may stand for (a year, a year-month, or whole dates); None: unreadable."""
    text = text.strip()
    if re.fullmatch(r"\d{4}(-\d{2})?", text):
        return {text}
    found = set()
    try:  # OpenRefine sends date cells as ISO date-times ('1954-12-25T00:00:00Z')
        found.add(datetime.fromisoformat(text).date().isoformat())
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if fmt.endswith("%y") and day > date.today():  # '57' is 1957, not 2057: no record is dated ahead
            day = day.replace(year=day.year - 100)
        found.add(day.isoformat())
    return found or None


# How rolls write a gender, where the schema's choices are male and female. 'M' is left out on purpose:
# English rolls write it for male, Mexican ones (as the CURP does, with 'H' for hombre) for mujer.
_GENDER_WORDS = {"male": frozenset({"male", "man", "h", "hombre", "masculino", "masc", "varon"}),
                 "female": frozenset({"female", "woman", "f", "mujer", "femenino", "fem"})}


def _choice(prop: Property, written: str) -> str | None:
    """The schema choice a written value stands for: the choice itself, its label, or (for a gender) a
    common word or abbreviation of it. None: none of them, so the value says nothing either way."""
    reg = registry()
    choices = reg.choices_for(prop.spec)
    labels = reg.vocabularies.get(prop.spec["choices_from"] or "", {})
    key = fold(written)
    for choice in choices:
        if key in (fold(choice), fold(str(labels.get(choice, choice)))):
            return choice
    if {"male", "female"} <= set(choices):
        return next((choice for choice, words in _GENDER_WORDS.items() if key in words), None)
    return None


def _identifier_number(written: str) -> str | None:
    """The number a written identifier holds (its scheme dropped, compacted); None for a placeholder
    ('N/A', '-', 'sin dato'): an identifier without a digit is none."""
    number = compact_identifier(split_identifier(written)[1] if ":" in written else written)
    return number if any(ch.isdigit() for ch in number) else None


def _values_agree(pid: str, prop: Property | None, wanted: str, have: list[str]) -> bool | None:
    """Whether a value from the spreadsheet agrees with the entity's; None when it cannot be read as
    the property's type ('Mexico' is a country, 'mx' too; '25/12/1954' a date; 'H' a gender, 'N/A'
    no identifier): neither for nor against."""
    value_type = prop.type.validator if prop is not None else None
    if pid == "identifier" or value_type == "identifier":
        number = _identifier_number(wanted)
        if number is None:
            return None
        return any(compact_identifier(split_identifier(h)[1] if ":" in h else h) == number for h in have)
    if value_type == "country":
        code = country_code(wanted)
        return None if code is None else code in {h.lower() for h in have}
    if value_type == "date":
        dates = _dates(wanted)
        if dates is None:
            return None
        return any(d.startswith(h) or h.startswith(d) for d in dates for h in have)
    if value_type == "choice" and prop is not None:
        choice = _choice(prop, wanted)
        return None if choice is None else any(fold(h) == fold(choice) for h in have)
    target = fold(wanted)
    if not target:
        return None
    return any(fold(h) == target or (len(target) >= 4 and target in fold(h)) for h in have)


def _wanted(properties: list[dict]) -> list[tuple[str, list[str]]]:
    """(property id, the values written for it) of a query's properties ({"pid": ..., "v": ...})."""
    out = []
    for item in properties:
        pid = str(item.get("pid") or item.get("p") or "")
        values = item.get("v")
        values = values if isinstance(values, list) else [values]
        wanted = [str(v.get("id") if isinstance(v, dict) else v) for v in values if v not in (None, "")]
        if pid and wanted:
            out.append((pid, wanted))
    return out


def _lookups(properties: list[dict]) -> int:
    """How many values a query with properties only looks up in the store (each a scan: bounded)."""
    return sum(len(values) for _pid, values in _wanted(properties))


def _verdicts(entity: Entity, properties: list[dict]) -> dict[str, bool]:
    """For each property of the query the entity holds and the query's value can be read as: whether
    they agree. A property the entity lacks, or a value unreadable as its type, is left out (neutral)."""
    spec = registry().entity_kinds.get(entity.kind)
    out: dict[str, bool] = {}
    for pid, wanted in _wanted(properties):
        have = [str(h) for h in entity.properties.get(pid) or []]
        if not have:
            continue
        prop = spec.properties.get(pid) if spec is not None else None
        readable = [v for v in (_values_agree(pid, prop, w, have) for w in wanted) if v is not None]
        if readable:
            out[pid] = out.get(pid, False) or any(readable)
    return out


def _identified(score: float, entity: Entity, properties: list[dict]) -> float:
    """The score after the entity scorer's identifier rule: an equal CURP or RFC is near-certain, a
    different one (a scheme a party holds once) rules the candidate out, whatever the name says. A
    placeholder ('CURP:N/A') is no identifier, and so no conflict."""
    from workbench.matching.entity_score import identifier_effect

    wanted = [w for pid, values in _wanted(properties) if pid == "identifier"
              for w in values if _identifier_number(w) is not None]
    if not wanted:
        return score
    return identifier_effect(score, {"identifier": wanted}, entity.properties)[0]


def _limit(query: dict) -> int:
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 parses as infinity
        raise ValidationError({"limit": [f"expected a whole number, not {raw!r}"]}) from None
    if limit < 1:  # 0 too: it asks for no candidate, not for the default number
        raise ValidationError({"limit": [f"expected at least 1 result, not {limit}"]})
    return min(limit, MAX_LIMIT)


def _query_text(query: dict) -> str:
    """The name searched for; a query may have none (properties only). Text over the search's limit is
    refused here, naming the field as the protocol does ('query')."""
    raw = query.get("query")
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValidationError({"query": [f"expected text, not {type(raw).__name__} {raw!r}"[:200]]})
    if problem := unstorable(raw):
        raise ValidationError({"query": [problem]})
    text = raw.strip()
    if len(text) > 2 * NAME_MAX_CHARS:
        message = f"a name searched for is at most {2 * NAME_MAX_CHARS} characters, not {len(text):,}"
        raise ValidationError({"query": [message]})
    return text


def _query_properties(query: dict, kinds: list[str]) -> list[dict]:
    properties = query.get("properties") or []
    if not isinstance(properties, list) or not all(isinstance(p, dict) for p in properties):
        raise ValidationError({"properties": ['expected a list of {"pid": ..., "v": ...}']})
    if len(properties) > MAX_PROPERTIES:
        raise ValidationError({"properties": [f"at most {MAX_PROPERTIES} properties a query, not {len(properties):,}"]})
    for pid, values in _wanted(properties):
        if len(values) > MAX_VALUES:
            message = f"at most {MAX_VALUES} values a property, not {len(values):,} for {pid[:80]!r}"
            raise ValidationError({"properties": [message]})
        if any(len(value) > NAME_MAX_CHARS for value in values):
            raise ValidationError({"properties": [f"a value of {pid[:80]!r} is over {NAME_MAX_CHARS:,} characters"]})
        if problem := next(filter(None, map(unstorable, values)), None):
            raise ValidationError({"properties": [f"a value of {pid[:80]!r} {problem}"]})
    if properties:  # a property id from nowhere would be ignored, and its column would seem to agree
        known = {name for kind in kinds for name in registry().entity_kind(kind).properties}
        unknown = sorted({str(p.get("pid") or p.get("p") or "") for p in properties} - known)
        if unknown:
            message = f"unknown property {', '.join(map(repr, unknown))} (/reconcile/suggest/property lists them)"
            raise ValidationError({"properties": [message]})
    return properties


@dataclass
class _Candidate:
    """An entry offered for a query, with what its score and the match decision rest on."""

    entity: Entity
    name: float | None  # the name's score; None when a property value alone found the entry
    found_by: str = ""  # the result's description
    weak: bool = False  # found by a weak alias / nickname (alone, or read together with another name)
    verdicts: dict[str, bool] = field(default_factory=dict)
    vetoed: bool = False  # a property disagrees, or an identifier of a one-per-holder scheme differs
    score: float = 0.0
    match: bool = False

    @property
    def points(self) -> float:
        return round(self.score * 100, 2)

    def result(self) -> dict:
        features = [{"id": "name", "value": round(self.name, 4)}] if self.name is not None else []
        if self.weak:
            features.append({"id": "weak_alias", "value": 1.0})
        features += [{"id": f"property:{pid}", "value": 1.0 if agree else 0.0} for pid, agree in self.verdicts.items()]
        return {"id": self.entity.id, "name": self.entity.caption, "type": _types(self.entity.kind),
                "score": self.points, "description": self.description(), "features": features, "match": self.match}

    def description(self) -> str:
        """How the entry was found (a nickname, an identifier), then the facts that tell namesakes apart (date
        of birth, nationality, country), so two exact namesakes differ in OpenRefine's list without a preview."""
        spec = registry().entity_kinds.get(self.entity.kind)
        facts = [f"{label.lower()} {value}" for label, value in _facts(self.entity, spec)[:DESCRIPTION_FACTS]] \
            if spec else []
        return "; ".join(filter(None, [self.found_by, ", ".join(facts)]))


def _load(session: Session, ids: list[str]) -> dict[str, Entity]:
    return {e.id: e for e in session.execute(select(Entity).where(Entity.id.in_(ids))).scalars()} if ids else {}


def _by_id(session: Session, text: str, kinds: list[str]) -> list[_Candidate]:
    """The entity a query names by its id ('ofac-37256', from an earlier export). Its own id scores as
    a name written alike; the id in other letter case, or of an entry since merged into the one offered,
    scores ID_VARIANT_SCORE, below any match: that cell deserves a look."""
    if len(text) > 120 or any(ch.isspace() for ch in text):
        return []
    for asked in dict.fromkeys((text, text.lower())):
        entity = session.get(Entity, asked)
        if entity is None:
            continue
        kept = surviving(session, entity) or entity
        if not _accepts(kept.kind, kinds):
            return []
        if kept.id == text:
            return [_Candidate(kept, 1.0, "entity id")]
        note = f"{entity.id} was merged into this entry" if kept is not entity else f"entity id {entity.id}"
        return [_Candidate(kept, ID_VARIANT_SCORE, note)]
    return []


def _weak_alias(entity: Entity, matched: str) -> str | None:
    """The label of the weak name property ('Weak alias / nickname') when the name a hit matched is one
    of the entry's weak aliases and none of its other names, alone or read together with another name
    ('EL TIGRE + QUINTANILLA SALCIDO, Ramiro': search.names_together); else None."""
    spec = registry().entity_kinds.get(entity.kind)
    if spec is None:
        return None
    weak: dict[str, str] = {}
    strong: set[str] = set()
    for prop in spec.name_properties:
        for value in entity.properties.get(prop.name) or []:
            if prop.name_kind == "weak":
                weak.setdefault(value, prop.label)
            else:
                strong.add(value)
    parts = [matched] if matched in weak or matched in strong else matched.split(" + ")
    return next((weak[part] for part in parts if part in weak and part not in strong), None)


def _named(session: Session, text: str, kinds: list[str]) -> list[_Candidate]:
    """The entries whose names match the query, best first (CANDIDATES of them)."""
    from workbench.matching.search import search_entities

    hits = search_entities(session, text, kinds=kinds, limit=CANDIDATES, threshold=0.5, together=True)
    entities = _load(session, [h.entity_id for h in hits])
    out = []
    for hit in hits:
        entity = entities.get(hit.entity_id)
        if entity is None:
            continue
        weak = _weak_alias(entity, hit.matched_name)
        found_by = f"matched {hit.matched_name}" if hit.matched_name != entity.caption else ""
        score = min(hit.score, WEAK_ALIAS_CAP) if weak else hit.score  # names read together with a nickname too
        out.append(_Candidate(entity, score, found_by + (f" ({weak.lower()})" if weak else ""), bool(weak)))
    return out


def _holders(session: Session, properties: list[dict], kinds: list[str]) -> list[_Candidate]:
    """For a query with properties only (spec 0.2): the entries holding one of its values under that
    property (a column of CURPs or RFCs reconciles on its own). Asked for values that look like numbers
    (search.holding_value). No name was compared, so none of them is a match by itself (``_decide``)."""
    from workbench.matching.search import holding_value

    looked_up = _lookups(properties)
    if looked_up > MAX_HOLDER_VALUES:
        message = (f"a query without a name may look up at most {MAX_HOLDER_VALUES} values, not {looked_up:,}: "
                   "add the name, or send fewer values")
        raise ValidationError({"properties": [message]})
    found: dict[str, tuple[str, str, str]] = {}
    for pid, values in _wanted(properties):
        for value in values:
            for hit in holding_value(session, value, lambda kind: _accepts(kind, kinds), CANDIDATES):
                found.setdefault(hit.entity_id, (pid, value, hit.matched_name))
    entities = _load(session, list(found))
    out = []
    for entity_id, (pid, value, held) in found.items():
        entity = entities.get(entity_id)
        if entity is not None and _verdicts(entity, [{"pid": pid, "v": value}]).get(pid):
            out.append(_Candidate(entity, None, f"holds {held}"))
    return out[:CANDIDATES]


def _telling(candidates: list[_Candidate], me: _Candidate, pid: str) -> float:
    """How far agreeing on ``pid`` tells ``me`` apart from the other candidates: the share of those
    holding a readable value of it whose value disagrees (0 when no other holds one)."""
    others = [c.verdicts[pid] for c in candidates if c is not me and pid in c.verdicts]
    return sum(1 for agree in others if not agree) / len(others) if others else 0.0


def _weigh(candidates: list[_Candidate], properties: list[dict]) -> None:
    """Each candidate's score, from its name's (1 for an entry found holding a value asked for).

    The identifier rule first (``_identified``: an equal CURP near-certain, a different one rules the
    candidate out); then DISAGREEMENT_FACTOR for each property whose value disagrees; then, for each
    property that agrees, a lift of AGREEMENT_LIFT x ``_telling`` of the way to 100 (MAX_LIFT at most,
    all properties together). Agreement on a value every candidate shares (Mexican nationality among
    Mexican namesakes, a gender) so lifts nothing, a value a candidate lacks is neutral (a sparse record
    is not pushed below a complete one), and a lifted score never reaches 100 from below, so candidates
    keep the order their names gave them unless a property tells them apart."""
    for candidate in candidates:
        candidate.verdicts = _verdicts(candidate.entity, properties) if properties else {}
    for candidate in candidates:
        base = 1.0 if candidate.name is None else candidate.name
        identified = _identified(base, candidate.entity, properties) if properties else base
        disagreeing = sum(1 for agree in candidate.verdicts.values() if not agree)
        candidate.vetoed = identified < base or disagreeing > 0
        lowered = max(0.0, identified) * DISAGREEMENT_FACTOR ** disagreeing
        lift = min(MAX_LIFT, sum(AGREEMENT_LIFT * _telling(candidates, candidate, pid)
                                 for pid, agree in candidate.verdicts.items() if agree))
        candidate.score = min(1.0, lowered + (1.0 - lowered) * lift)


def _decide(ranked: list[_Candidate]) -> None:
    """Whether the best candidate is an automatic match: its name scores MATCH_THRESHOLD or more (above
    every review cap of the matching engine), the name it matched is no weak alias, no property value
    disagrees with it and no identifier conflicts, and its score is MATCH_MARGIN points ahead of the
    runner-up's among every candidate found (before the list is cut to the query's limit). Agreeing
    properties may reorder candidates and open the gap, but never make a match of a name below the
    threshold; an entry found by a property value alone (no name compared) is never one."""
    if not ranked:
        return
    top = ranked[0]
    second = ranked[1].points if len(ranked) > 1 else 0.0
    top.match = (top.name is not None and top.name >= MATCH_THRESHOLD and not top.weak and not top.vetoed
                 and top.points - second >= MATCH_MARGIN)


def _unique(candidates: list[_Candidate]) -> list[_Candidate]:
    """Each entry once, where first found (the id asked for before the names matching it)."""
    unique: dict[str, _Candidate] = {}
    for candidate in candidates:
        unique.setdefault(candidate.entity.id, candidate)
    return list(unique.values())


def reconcile_one(session: Session, query: Any) -> list[dict]:
    """One query's candidates, best first: scored and decided on every candidate found, then cut to the
    query's limit (a client asking for one candidate is told the same match as one asking for ten)."""
    if not isinstance(query, dict):
        raise ValidationError({"": ["expected an object with 'query' and/or 'properties'"]})
    text = _query_text(query)
    limit = _limit(query)
    kinds = _kinds_for(query.get("type"))
    properties = _query_properties(query, kinds)
    if text:
        candidates = _unique(_by_id(session, text, kinds) + _named(session, text, kinds))
    elif properties:
        candidates = _holders(session, properties, kinds)
    else:
        return []
    _weigh(candidates, properties)
    # Stable: equal scores keep the names' order, an entry found by a nickname after one found by another name.
    ranked = sorted(candidates, key=lambda c: (-c.points, c.weak))
    _decide(ranked)
    return [c.result() for c in ranked[:limit]]


def reconcile(session: Session, actor: Actor, queries: dict[str, Any]) -> dict:
    """A batch of queries ({key: {query, type, limit, properties}}) -> {key: {result: [...]}}.

    OpenRefine leaves every row of a refused batch without candidates, so a query that cannot be read
    (too long, a bad limit, an unknown type or property) gets an empty result of its own and the reason
    is logged. A batch in which no query can be read is refused (422, each query's field named), as is
    one that is no object or holds more than MAX_QUERIES: there is nothing in it to answer."""
    require(actor, "read", "reconcile")
    if not isinstance(queries, dict):
        raise ValidationError({"queries": ["expected a JSON object of queries"]})
    if len(queries) > MAX_QUERIES:
        message = f"at most {MAX_QUERIES:,} queries a batch, not {len(queries):,}: send them in smaller batches"
        raise ValidationError({"queries": [message]})
    nameless = [q["properties"] for q in queries.values() if isinstance(q, dict) and not q.get("query")
                and isinstance(q.get("properties"), list) and all(isinstance(p, dict) for p in q["properties"])]
    lookups = sum(map(_lookups, nameless))
    if lookups > MAX_BATCH_LOOKUPS:
        message = (f"the queries without a name look up {lookups:,} values, at most {MAX_BATCH_LOOKUPS} a batch: "
                   "send them in smaller batches")
        raise ValidationError({"queries": [message]})
    # The answer repeats each query's key: one no answer can encode cannot be answered, even with no candidates.
    unsendable = {f"queries.{key}": [f"this query's key {problem}"] for key in queries if (problem := unstorable(key))}
    if unsendable:
        raise ValidationError(unsendable)
    out: dict[str, dict] = {}
    refused: dict[str, list[str]] = {}  # 'queries.KEY.FIELD' -> messages, for a batch refused whole
    unread: set[str] = set()
    for key, query in queries.items():
        try:
            out[key] = {"result": reconcile_one(session, query)}
        except ValidationError as exc:
            named = {f"queries.{key}.{name}" if name else f"queries.{key}": msgs for name, msgs in exc.errors.items()}
            log.warning("reconciliation query answered with no candidates: %s", ValidationError(named))
            refused.update(named)
            unread.add(key)
            out[key] = {"result": []}
    if unread and len(unread) == len(queries):
        raise ValidationError(refused)
    return out


def _designation(session: Session, entity: Entity) -> str:
    """'Designated: SDNTK, listed 2009-05-06 (OFAC)' from the entry's Sanction records ('Delisted: ...'
    when every one is delisted); '' when none names it. Programmes first: the line is cut at the frame's edge."""
    from workbench.dossiers.evidence import sanction_records

    records = sanction_records(session, entity.id)
    if not records:
        return ""
    active = [r for r in records if r["status"] != "delisted"]
    shown = active or records
    programs = ", ".join(dict.fromkeys(r["program"] or r["caption"] for r in shown))
    listed = min((str(r["listing_date"]) for r in shown if r["listing_date"]), default="")
    authorities = ", ".join(dict.fromkeys(r["authority"] for r in shown if r["authority"]))
    return (f"{'Designated' if active else 'Delisted'}: {programs}" + (f", listed {listed}" if listed else "")
            + (f" ({authorities})" if authorities else ""))


def _facts(entity: Entity, spec: EntityKind) -> list[tuple[str, str]]:
    """(label, values as a reader reads them: countries by name) for the card, PREVIEW_FIRST first."""
    order = [p for p in PREVIEW_FIRST if p in spec.properties] + [p for p in spec.properties if p not in PREVIEW_FIRST]
    facts = []
    for name in order:
        prop = spec.properties[name]
        if prop.type.matchable or name in PREVIEW_SKIP or not entity.properties.get(name):
            continue
        values = [value_label(prop, str(v)) for v in entity.properties[name]]
        more = f" (+{len(values) - 3} more)" if len(values) > 3 else ""
        facts.append((prop.label, ", ".join(values[:3]) + more))
    return facts


def preview(session: Session, actor: Actor, entity_id: str) -> dict:
    """What the preview card shows in OpenRefine's frame (PREVIEW_SIZE): caption and kind; the entry an
    id merged away now stands for, saying so (a cell reconciled before the merge keeps the old id);
    designation status and programmes; other names; then the facts that tell namesakes apart, as
    many as the frame holds (PREVIEW_LINES rows in all)."""
    require(actor, "read", "preview entities")
    if problem := unstorable(entity_id):
        raise ValidationError({"id": [problem]})
    asked = get_entity(session, entity_id)
    entity = surviving(session, asked) or asked
    spec = registry().entity_kind(entity.kind)
    merged = f"{asked.id} was merged into {entity.caption} ({entity.id})" if entity is not asked else ""
    designation = _designation(session, entity)
    names = [n for p in ("alias", "weakAlias", "previousName") for n in entity.properties.get(p, [])][:8]
    used = sum(1 for line in (merged, designation, names) if line)
    facts = _facts(entity, spec)[:max(PREVIEW_MIN_FACTS, PREVIEW_LINES - used)]
    return {"id": entity.id, "caption": entity.caption, "kind": spec.label, "merged": merged,
            "designation": designation, "names": names, "facts": facts}


def suggest_kinds(actor: Actor, type_id: str | None) -> list[str]:
    """The kinds an entity suggestion may have (checked before the web layer's autocomplete runs):
    the same as a query's, so 'search for match' offers what reconciliation would."""
    require(actor, "read", "search")
    return _kinds_for(type_id)


def _cursor(cursor: int) -> int:
    if cursor < 0:
        raise ValidationError({"cursor": [f"expected the number of suggestions to skip (0 or more), not {cursor}"]})
    return cursor


def suggest_entities(session: Session, actor: Actor, prefix: str, type_id: str | None, cursor: int,
                     complete: Callable[..., list[Any]]) -> dict:
    """Entity suggestions for what is typed so far, the first ``cursor`` skipped (spec 0.2). An entity's
    id typed whole comes first; then ``complete``'s hits (the pages' autocomplete: the web layer passes
    it in, as this layer does not import the web's). Paging stops at MAX_SUGGEST_CURSOR."""
    kinds = suggest_kinds(actor, type_id)
    start = _cursor(cursor)
    if len(prefix) > 2 * NAME_MAX_CHARS:  # as a query's name is refused, naming this protocol's field
        message = f"a name to complete is at most {2 * NAME_MAX_CHARS} characters, not {len(prefix):,}"
        raise ValidationError({"prefix": [message]})
    if problem := unstorable(prefix):
        raise ValidationError({"prefix": [problem]})
    if not prefix.strip() or start > MAX_SUGGEST_CURSOR:
        return {"result": []}
    rows = {c.entity.id: (c.entity.caption, c.entity.kind) for c in _by_id(session, prefix.strip(), kinds)}
    for hit in complete(session, prefix, kinds=kinds, limit=start + SUGGEST_PAGE):
        rows.setdefault(hit.entity_id, (hit.caption, hit.kind))
    labels = registry().entity_kinds
    return {"result": [{"id": entity_id, "name": caption, "description": labels[kind].label if kind in labels else kind}
                       for entity_id, (caption, kind) in list(rows.items())[start:start + SUGGEST_PAGE]]}


def suggest_type(prefix: str, cursor: int = 0) -> dict:
    """Every type matching the prefix from ``cursor`` on: there are few enough to send them all."""
    needle = fold(prefix or "")
    result = [{"id": k.name, "name": k.label} for k in registry().concrete_kinds()
              if not needle or needle in fold(k.name) or needle in fold(k.label)]
    return {"result": result[_cursor(cursor):]}


def _properties_of(type_id: str | None) -> list[tuple[str, str]]:
    """The properties of one type, or of every concrete kind when no type is given. An unknown type is
    refused: answering every kind's properties would look like that type's."""
    reg = registry()
    if type_id and type_id not in reg.entity_kinds:
        raise ValidationError({"type": [f"unknown type {type_id!r} (/reconcile/suggest/type lists the types)"]})
    kinds = [reg.entity_kinds[type_id]] if type_id else reg.concrete_kinds()
    seen: dict[str, str] = {}
    for kind in kinds:
        for prop in kind.properties.values():
            seen.setdefault(prop.name, prop.label)
    return list(seen.items())


def suggest_property(prefix: str, type_id: str | None = None, cursor: int = 0) -> dict:
    """Every property of the type matching the prefix from ``cursor`` on: a cap below their number
    would hide some (a Person's nationality and gender come late in the schema's order)."""
    needle = fold(prefix or "")
    result = [{"id": pid, "name": label} for pid, label in _properties_of(type_id)
              if not needle or needle in fold(pid) or needle in fold(label)]
    return {"result": result[_cursor(cursor):]}


def propose_properties(type_id: str | None, limit: int = 50) -> dict:
    limit = max(0, limit)  # a negative limit must not slice from the end
    return {"type": type_id or "", "properties": [{"id": pid, "name": label}
                                                  for pid, label in _properties_of(type_id)][:limit]}


def extend(session: Session, actor: Actor, request: dict) -> dict:
    """Data extension: property values of reconciled entities, as OpenRefine asks for them. An id merged
    into another entry answers with the entry it now stands for (a cell reconciled before the merge
    keeps the old id); an unknown property is refused, as a query's is (an empty column would read as
    'no data')."""
    require(actor, "read", "extend")
    shape = "expected {\"ids\": [...], \"properties\": [{\"id\": ...}]}"
    if not isinstance(request, dict) or not isinstance(request.get("ids"), list):
        raise ValidationError({"extend": [shape]})
    if not isinstance(request.get("properties") or [], list):
        raise ValidationError({"extend.properties": [shape]})
    for index, entry in enumerate(request.get("properties") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise ValidationError({f"extend.properties[{index}]": ['expected {"id": "a property id"}']})
    for index, asked in enumerate(request["ids"]):
        if not isinstance(asked, str):
            raise ValidationError({f"extend.ids[{index}]": [f"expected an entity id as text, not {json.dumps(asked)}"]})
    wanted = [p["id"] for p in request.get("properties") or []]
    if len(request["ids"]) > MAX_EXTEND_IDS:
        message = f"at most {MAX_EXTEND_IDS:,} ids a request, not {len(request['ids']):,}: send them in smaller batches"
        raise ValidationError({"extend.ids": [message]})
    labels = dict(_properties_of(None))
    unknown = [pid for pid in dict.fromkeys(wanted) if pid not in labels]
    if unknown:
        message = f"unknown property {', '.join(map(repr, unknown))} (/reconcile/extend/propose lists them)"
        raise ValidationError({"extend.properties": [message]})
    ids = list(request["ids"])
    if problem := next(filter(None, map(unstorable, ids)), None):
        raise ValidationError({"extend.ids": [f"an id {problem}"]})
    entities = _load(session, ids)
    rows = {}
    for entity_id in ids:
        entity = surviving(session, entities.get(entity_id))
        known = registry().entity_kind(entity.kind).properties if entity is not None else {}
        rows[entity_id] = {pid: [_extended(known.get(pid), v) for v in (entity.properties.get(pid, [])
                                                                      if entity is not None else [])]
                           for pid in wanted}
    return {"meta": [{"id": pid, "name": labels[pid]} for pid in wanted], "rows": rows}


def _extended(prop: Property | None, value: str) -> dict:
    """A value as data extension types it (spec 0.2): a full date as a date, so OpenRefine makes a date cell
    it can facet and sort; everything else, a partial date ('1957') included, as text (no entity property
    holds a number: amounts carry their currency)."""
    validator = prop.type.validator if prop is not None else None
    if validator == "date" and _FULL_DATE.fullmatch(value):
        return {"date": f"{value}T00:00:00Z"}
    return {"str": value}
