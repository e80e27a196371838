"""Fuzzy search over every name in the store, and duplicate detection while entering entities.

The candidate index is cached per database and kept current from the audit log: ``audit_head.seq``
counts changes, and the audit rows since the last seen seq name the entities to re-index. If the log
no longer matches what was seen (a restored or truncated database), the index is rebuilt.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from workbench.matching.entity_score import score_entities
from workbench.matching.index import Hit, NameIndex, young_collections_only
from workbench.matching.normalize import FAMILY, PERSON, NameForm, normalize
from workbench.matching.score import NameScore, align, score_forms
from workbench.schema import ValidationError, registry
from workbench.store.models import AuditEntry, AuditHead, Entity, Name
from workbench.types import NAME_MAX_CHARS, compact_identifier, format_identifier, split_identifier

REBUILD_AFTER = 5000  # more changed entities than this: rebuilding is cheaper than patching
# Interactive search scores at most this many of the best pre-scored candidates in full: on a large
# store a common name can have thousands, and a person reads the first twenty.
INTERACTIVE_CANDIDATES = 400


@dataclass
class SearchHit:
    entity_id: str
    kind: str
    caption: str
    matched_name: str
    score: float
    explanation: dict = field(default_factory=dict)


WEAK = "weak"  # the name kind of a weak alias / nickname (schema/vocabularies.yml: name_kinds)


class StoreIndex:
    def __init__(self):
        self.index = NameIndex()
        self.kinds: dict[str, str] = {}
        self.seq = -1
        self.hash = ""
        self.lock = threading.Lock()

    def _add_entity(self, entity_id: str, kind: str, caption: str, names: list[str]) -> None:
        self.kinds[entity_id] = kind
        for name in names:
            self.index.add(entity_id, name, caption, kind)

    def _rebuild(self, session: Session) -> None:
        self.index = NameIndex()
        self.kinds = {}
        rows = session.execute(
            select(Name.entity_id, Name.name, Entity.kind, Entity.caption, Name.name_kind)
            .join(Entity, Entity.id == Name.entity_id)
            .where(Entity.merged_into.is_(None))
            .order_by(Name.entity_id, Name.id)
        )
        with young_collections_only():
            for entity_id, name, kind, caption, name_kind in rows:
                self.kinds[entity_id] = kind
                self.index.add(entity_id, name, caption, kind, weak=name_kind == WEAK)

    def _reindex(self, session: Session, entity_ids: set[str]) -> None:
        for entity_id in entity_ids:
            self.index.remove(entity_id)
            self.kinds.pop(entity_id, None)
        if not entity_ids:
            return
        rows = session.execute(
            select(Name.entity_id, Name.name, Entity.kind, Entity.caption, Name.name_kind)
            .join(Entity, Entity.id == Name.entity_id)
            .where(Entity.id.in_(list(entity_ids)), Entity.merged_into.is_(None))
            .order_by(Name.entity_id, Name.id)
        )
        for entity_id, name, kind, caption, name_kind in rows:
            self.kinds[entity_id] = kind
            self.index.add(entity_id, name, caption, kind, weak=name_kind == WEAK)

    def refresh(self, session: Session) -> StoreIndex:
        with self.lock:
            head = session.get(AuditHead, 1)
            seq, digest = (head.seq, head.hash) if head is not None else (0, "")
            if seq == self.seq and digest == self.hash:
                return self
            still_valid = self.seq >= 0 and seq >= self.seq and (
                self.seq == 0 or session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == self.seq)) == self.hash)
            changed: set[str] = set()
            if still_valid:
                for object_type, object_id, before, after in session.execute(
                    select(AuditEntry.object_type, AuditEntry.object_id, AuditEntry.before, AuditEntry.after)
                    .where(AuditEntry.seq > self.seq)
                ):
                    if object_type == "entity":
                        changed.add(object_id)
                    elif object_type == "merge":  # a merge/unmerge touches both entities
                        for state in (before, after):
                            if isinstance(state, dict):
                                changed.update(str(v) for k, v in state.items() if k in ("winner", "loser"))
            if not still_valid or len(changed) > REBUILD_AFTER:
                self._rebuild(session)
            else:
                self._reindex(session, changed)
            self.seq, self.hash = seq, digest
            return self

    def snapshot(self, kinds: list[str] | None = None) -> NameIndex:
        """The index (of the entities of ``kinds`` only, when given: a view, the cache stays whole)."""
        if kinds is None:
            return self.index
        wanted = set(kinds)
        return self.index.restricted(lambda entry: entry.schema in wanted)


_INDEXES: dict[str, StoreIndex] = {}
_GLOBAL_LOCK = threading.Lock()


def store_index(session: Session) -> StoreIndex:
    """The up-to-date candidate index of the session's database."""
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    with _GLOBAL_LOCK:
        index = _INDEXES.get(url)
        if index is None:
            index = _INDEXES[url] = StoreIndex()
    return index.refresh(session)


def _kind_filter(kinds: list[str] | None):
    if not kinds:
        return lambda kind: True
    reg = registry()

    def accept(kind: str) -> bool:
        try:
            spec = reg.entity_kind(kind)
        except Exception:
            return False
        return any(spec.is_a(k) for k in kinds)

    return accept


def search_entities(session: Session, query: str, kinds: list[str] | None = None, limit: int = 20,
                    threshold: float = 0.5, partial: bool = False, together: bool = False) -> list[SearchHit]:
    """Fuzzy search over every name and alias in the store; one hit per entity, best first.

    ``partial`` (what a person typing in a search box expects): names that hold every word typed
    follow the hits, whatever their score: 'guzman' lists the Guzmáns, whose full names it matches
    poorly. Screening leaves it off: a roll owner's surname alone is no hit. ``partial`` or
    ``together`` (reconciliation: a spreadsheet of names from the press) also reads each person's
    names together (``names_together``): 'Mayo Zambada'. Screening leaves both off, since it would
    have to score every owner's weaker candidates in full. ``partial`` also puts first the entries
    holding the query as a value (``holding_value``: a CURP, a parcel number)."""
    if not (query or "").strip():
        return []
    wide = partial or together
    if wide and len(query) > 2 * NAME_MAX_CHARS:
        # What a person typed (or a spreadsheet cell): no stored name is this long, and scoring its weaker
        # candidates in full would take seconds each. Screening keeps its owners, as long as they come.
        raise ValidationError({"q": [f"a name searched for is at most {2 * NAME_MAX_CHARS} characters, "
                                     f"not {len(query):,}"]})
    idx = store_index(session)
    accept = _kind_filter(kinds)
    schema = kinds[0] if kinds and len(kinds) == 1 else None
    hits = idx.index.search(query, schema, top=max(limit * 3, limit), threshold=0.0 if wide else threshold,
                            max_candidates=INTERACTIVE_CANDIDATES)
    if wide:  # one search: the hits (names read together), then (partial) the names holding every word typed
        form = normalize(query, schema)
        hits = [(names_together(idx.index, form, h) or h) if h.result.unmatched_query else h for h in hits]
        hits = (sorted((h for h in hits if h.score >= threshold), key=lambda h: (-h.score, h.primary))
                + ([h for h in hits if h.score < threshold and not h.result.unmatched_query] if partial else []))
    out = holding_value(session, query, accept, limit) if partial else []
    held = {h.entity_id for h in out}
    for hit in hits:
        if len(out) >= limit:
            break
        kind = idx.kinds.get(hit.record_id, "")
        if not accept(kind) or hit.record_id in held:
            continue
        out.append(SearchHit(hit.record_id, kind, hit.primary, hit.matched_name, round(hit.score, 4),
                             hit.result.explanation()))
    return out


_DATE_LIKE = re.compile(r"\d{4}(-\d{2}){0,2}")
IDENTIFIER_MIN, IDENTIFIER_MAX = 5, 64  # what a CURP, an RFC, a parcel or an account number can be


def holding_value(session: Session, query: str, accept=None, limit: int = 20) -> list[SearchHit]:
    """Live entries holding the query as one of their values: a CURP, an RFC, a parcel number, an
    account number. A researcher often has only the number (from a deed, a court record, a
    declaration), and no name matches it. Asked only for something that looks like a number (a digit,
    not a date, 5 to 64 characters); compared as written, in capitals, and as an identifier is stored
    (SCHEME:NUMBER without separators)."""
    text = (query or "").strip()
    if not IDENTIFIER_MIN <= len(text) <= IDENTIFIER_MAX or not any(c.isdigit() for c in text) \
            or _DATE_LIKE.fullmatch(text):
        return []
    compact = compact_identifier(text)
    variants = set(filter(None, (text, text.upper(), compact)))
    column = cast(Entity.properties, String)
    condition = or_(*[column.contains(f'"{v}"', autoescape=True) for v in variants],
                    *[column.contains(f':{v}"', autoescape=True) for v in variants])
    reg = registry()
    hits = []
    for entity in session.scalars(select(Entity).where(Entity.merged_into.is_(None), condition).limit(200)):
        if accept is not None and not accept(entity.kind):
            continue
        for prop, values in (entity.properties or {}).items():
            held = next((v for v in values or [] if isinstance(v, str) and (
                v in variants or (":" in v and compact_identifier(split_identifier(v)[1]) == compact))), None)
            if held is not None:
                spec = reg.entity_kinds.get(entity.kind)
                label = spec.properties[prop].label if spec and prop in spec.properties else prop
                hits.append(SearchHit(entity.id, entity.kind, entity.caption, held, 1.0,
                                      {"identifiers": f"holds {held} ({label}) exactly"}))
                break
        if len(hits) >= limit:
            break
    return hits


TOGETHER_PART_SIMILARITY = 0.8  # a query word another name holds: the same, a variant, a sound or a close spelling


def _held(result: NameScore) -> dict[str, str]:
    """The query's words an aligned name holds, each with the name's own spelling of it."""
    return {a.query: a.candidate for a in result.aligned if a.similarity >= TOGETHER_PART_SIMILARITY}


def names_together(index: NameIndex, form: NameForm, hit: Hit) -> Hit | None:
    """A person's names read together: 'Mayo Zambada', 'El Mencho Oseguera'.

    The press joins a nickname to the surnames, so no stored name holds every word: 'El Mayo' holds
    one, 'ZAMBADA GARCIA, Ismael' the other, and each alone scores too low to be shown. When two names
    of one entry hold every word between them, the query is scored against the name they make
    together: the nickname in place of the given names, before the surnames ('ZAMBADA GARCIA,
    Mayo'). None when no two names of the entry do."""
    wanted = {t.text for t in form.tokens}
    if len(wanted) < 2 or form.kind not in (PERSON, None):
        return None
    names = [index.entries[idx] for idx in index.by_record.get(hit.record_id, ())]
    names = [entry for entry in names if entry.alive and entry.form.kind == PERSON]
    if len(names) < 2:
        return None
    # What each name holds is the alignment's business alone: no name is scored until they are read together.
    scored = [(entry, _held(align(form, entry.form, index.stats)[0])) for entry in names]
    # The name holding most words, the fuller one of two holding as many ('Ismael Zambada García', not
    # 'El Mayo'): its surnames stay, and the other name's words take the place of its given names.
    main, main_held = max(scored, key=lambda item: (len(item[1]), len(item[0].form.tokens)))
    rest = wanted - main_held.keys()
    if not main_held or not rest:
        return None
    others = [item for item in scored if item[0] is not main and rest <= item[1].keys()]
    if not others:
        return None
    other, other_held = min(others, key=lambda item: len(item[0].form.tokens))  # the nickname: the shortest
    nickname = [other_held[word] for word in (t.text for t in form.tokens) if word in rest]
    texts = [t.text for t in main.form.tokens]
    family = [t.text for t in main.form.tokens if t.role == FAMILY]
    if main.form.ordered and family:
        together = f"{' '.join(family)}, {' '.join(nickname)}"
    else:  # written given names first: the nickname takes the place of those before the first word held
        start = min(i for i, text in enumerate(texts) if text in main_held.values())
        together = " ".join(nickname + texts[start:])
    result = score_forms(form, normalize(together, "Person"), index.stats)
    if result.score <= hit.score:
        return None
    result.features.append({"feature": "names together", "effect": 0.0,
                            "detail": f"'{other.name}' and '{main.name}' are names of the same entry, "
                                      f"read together as '{together}'"})
    return Hit(hit.record_id, hit.primary, f"{other.name} + {main.name}", result.score, result, hit.schema)


def _same_family(a: str, b: str) -> bool:
    reg = registry()
    try:
        ka, kb = reg.entity_kind(a), reg.entity_kind(b)
    except Exception:
        return a == b
    return ka.is_a(b) or kb.is_a(a)


def _holding_identifiers(session: Session, properties: dict, exclude_id: str | None) -> list[str]:
    """Live entities whose stored properties hold one of these identifiers of a one-per-holder scheme."""
    from workbench.matching.entity_score import UNIQUE_SCHEMES

    wanted = []
    for raw in properties.get("identifier", []) or []:
        if ":" not in str(raw):
            continue
        scheme, number = split_identifier(str(raw))
        number = compact_identifier(number)
        if scheme in UNIQUE_SCHEMES and number:
            wanted.append(format_identifier(scheme, number))  # as stored
    wanted = wanted[:10]
    if not wanted:
        return []
    text = cast(Entity.properties, String)
    query = select(Entity.id).where(Entity.merged_into.is_(None),
                                    or_(*[text.contains(f'"{value}"', autoescape=True) for value in wanted]))
    if exclude_id:
        query = query.where(Entity.id != exclude_id)
    return list(session.scalars(query.limit(50)))


def find_duplicates(session: Session, kind: str, properties: dict, limit: int = 5, exclude_id: str | None = None,
                    threshold: float = 0.7) -> list[SearchHit]:
    """Existing entities that look like the one being entered ('this looks like X (0.93)')."""
    from workbench.matching.entity_score import NAME_PROPS

    # A name over the limit cannot be saved (the save says so); looking it up would only cost time.
    names = [n for p in NAME_PROPS for n in properties.get(p, []) or []
             if str(n).strip() and len(str(n)) <= NAME_MAX_CHARS]
    if not names:
        return []
    idx = store_index(session)
    # An entry holding the same CURP, RFC... is a candidate whatever its names (a nickname entered
    # first, a married name): the entity score rates an equal unique identifier near-certain.
    candidate_ids: set[str] = set(_holding_identifiers(session, properties, exclude_id))
    for name in names:
        for hit in idx.index.search(name, kind, top=20, threshold=max(0.0, threshold - 0.3),
                                    max_candidates=INTERACTIVE_CANDIDATES):
            if hit.record_id != exclude_id and _same_family(kind, idx.kinds.get(hit.record_id, "")):
                candidate_ids.add(hit.record_id)
    if not candidate_ids:
        return []
    entities = session.execute(select(Entity).where(Entity.id.in_(list(candidate_ids)))).scalars().all()
    hits = []
    for entity in entities:
        if entity.merged_into is not None:
            continue
        result = score_entities(properties, entity.properties, kind)
        if result.score >= threshold:
            hits.append(SearchHit(entity.id, entity.kind, entity.caption, result.matched_candidate,
                                  round(result.score, 4), result.explanation()))
    hits.sort(key=lambda h: (-h.score, h.caption))
    return hits[:limit]
