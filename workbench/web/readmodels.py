"""The read side of the pages: assembles what an entity page, a list or the search page shows.

Routes stay free of queries: they call these functions (and the domain services for writes).
Everything here is read-only and returns plain data classes or dicts for templates and the API.
Fuzzy search and graph data come from the matching and graph layers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from workbench.labels import counted, page_label, property_label, shortened, value_label
from workbench.schema import Property, ValidationError, date_after, date_order_warnings, registry
from workbench.store import audit
from workbench.store.entities import NotFound, citations_for, exhibited_citations, get_entity, links_of, surviving
from workbench.store.models import AuditEntry, Citation, Entity, Link, Name, Note, ScreeningJob, Source
from workbench.store.sanctions import sanction_status, sanctions_of
from workbench.text import sort_key
from workbench.types import NAME_MAX_CHARS

PAGE_SIZE = 100
# Link dates have their own columns on the entity page; the other link properties are its details.
LINK_DATE_PROPERTIES = ("startDate", "endDate")


MAX_PAGE = 10**9  # a larger page number in a URL would overflow the database's OFFSET


def page_number(page: int) -> int:
    """A page number from a URL, as one the lists can serve (past the end they show the last page)."""
    return min(max(1, page), MAX_PAGE)


def last_page(total: int, page_size: int = PAGE_SIZE) -> int:
    """The number of the last page of ``total`` items (1 when there are none)."""
    return max(1, (total + page_size - 1) // page_size)


def page_of(total: int, page: int, page_size: int = PAGE_SIZE) -> tuple[int, int, int]:
    """(page, last page, offset) of a list of ``total`` items asked for at ``page``: past the end, the last
    page, not an empty one."""
    last = last_page(total, page_size)
    page = min(page_number(page), last)
    return page, last, (page - 1) * page_size


def labelled_messages(props: Mapping[str, Property], messages: Mapping[str, list[str]]) -> list[str]:
    """``{property: [message]}`` (a service's warnings) as 'Label: message' lines for a flash; a message that
    names its property already ('Start 2024-01-01 is after End 2021-12-31') is not named twice."""
    lines = []
    for name, texts in messages.items():
        label = property_label(props, name)
        lines.extend(text if text.startswith(f"{label} ") else f"{label}: {text}" for text in texts)
    return lines


# ---- lists -----------------------------------------------------------------------------------

def list_entities(session: Session, kind: str | None = None, offset: int = 0,
                  limit: int = PAGE_SIZE) -> tuple[list[Entity], int]:
    query = select(Entity).where(Entity.merged_into.is_(None))
    count = select(func.count()).select_from(Entity).where(Entity.merged_into.is_(None))
    if kind:
        kinds = registry().kinds_descending_from([kind])
        query = query.where(Entity.kind.in_(kinds))
        count = count.where(Entity.kind.in_(kinds))
    rows = session.execute(query.order_by(Entity.sort_key, Entity.caption, Entity.id)
                           .offset(offset).limit(limit)).scalars().all()
    return list(rows), int(session.scalar(count) or 0)


def kind_breakdown(session: Session, kind: str) -> str | None:
    """How a list of ``kind`` (which takes in the kinds under it) divides by kind, as the home page counts
    them: '4 organizations, 3 companies' for Organization; None when it holds one kind only."""
    reg = registry()
    rows = session.execute(select(Entity.kind, func.count()).where(
        Entity.merged_into.is_(None), Entity.kind.in_(reg.kinds_descending_from([kind])))
        .group_by(Entity.kind)).all()
    counts = {k: int(n) for k, n in rows if n}
    if len(counts) < 2:
        return None
    order = [k for k in reg.kinds_descending_from([kind]) if k in counts]  # the schema's order: the kind first
    parts = []
    for name in order:
        spec = reg.entity_kinds.get(name)
        parts.append(counted(counts[name], spec.label.lower(), spec.plural.lower()) if spec else f"{counts[name]:,} {name}")
    return ", ".join(parts)


def _sources_matching(query: str | None):
    """Sources whose title, URL or publisher holds ``query`` (every source without one)."""
    stmt = select(Source)
    if query:
        like = f"%{query.strip()}%"
        stmt = stmt.where(or_(Source.title.ilike(like), Source.url.ilike(like), Source.publisher.ilike(like)))
    return stmt


def list_sources(session: Session, query: str | None = None, limit: int = 200,
                 keep: str | None = None, *, offset: int = 0) -> list[Source]:
    """The newest sources (or those matching ``query``), ``limit`` of them from ``offset`` (sources made in
    the same instant in id order, so that pages neither repeat nor skip one); ``keep``: a source id a refused
    form had chosen, listed first even if it is older than the rest, so the form comes back with it."""
    page = _sources_matching(query).order_by(Source.created_at.desc(), Source.id.desc()).offset(offset).limit(limit)
    found = list(session.execute(page).scalars())
    if keep and all(source.id != keep for source in found):
        kept = session.get(Source, keep)
        found = [kept, *found] if kept is not None else found
    return found


def count_sources(session: Session, query: str | None = None) -> int:
    """How many sources ``list_sources`` pages through (the API's ``X-Total-Count``)."""
    return session.scalar(select(func.count()).select_from(_sources_matching(query).subquery())) or 0


def same_file_sources(session: Session, source: Source) -> list[Source]:
    """Other sources holding the same bytes (an upload of a file added before): the page says so, so
    that one document does not end up cited under two sources."""
    if not source.sha256:
        return []
    return list(session.scalars(select(Source).where(Source.sha256 == source.sha256, Source.id != source.id)
                                .order_by(Source.created_at).limit(5)))


def entities_by_id(session: Session, ids: Iterable[str]) -> dict[str, Entity]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {e.id: e for e in session.execute(select(Entity).where(Entity.id.in_(ids))).scalars()}


def links_by_id(session: Session, ids: Iterable[str]) -> dict[str, Link]:
    """Links with both ends loaded, so pages can name a link by its entities instead of its id."""
    ids = list(set(ids))
    if not ids:
        return {}
    query = select(Link).where(Link.id.in_(ids)).options(selectinload(Link.source), selectinload(Link.target))
    return {link.id: link for link in session.execute(query).scalars()}


def citations_of_source(session: Session, source_id: str, offset: int = 0,
                        limit: int = PAGE_SIZE) -> tuple[list[Citation], int]:
    """One page of the citations of a source, and how many there are (an imported list cites
    tens of thousands of facts)."""
    total = session.scalar(select(func.count()).select_from(Citation).where(Citation.source_id == source_id)) or 0
    rows = session.execute(select(Citation).where(Citation.source_id == source_id)
                           .order_by(Citation.id).offset(offset).limit(limit)).scalars()
    return list(rows), int(total)


def cited_fact_labels(citations: Iterable[Citation], subjects: Mapping[str, Entity]) -> dict[int, str]:
    """For the source page: the label of the property each citation supports, by citation id."""
    kinds = registry().entity_kinds
    labels = {}
    for citation in citations:
        subject = subjects.get(citation.entity_id or "")
        if citation.prop and subject is not None:
            kind = kinds.get(subject.kind)
            labels[citation.id] = property_label(kind.properties if kind else {}, citation.prop)
    return labels


JOBS_PAGE_SIZE = 50  # screening jobs listed a page at a time, newest first
UNDECIDED = ("open", "unsure")  # a hit still waiting for a decision (the home page counts both)


def _jobs_query(query, waiting: bool):
    """``waiting``: only the jobs with a hit still to decide (open or unsure), as the home page counts them."""
    if not waiting:
        return query
    from workbench.store.models import ReviewItem

    return query.where(ScreeningJob.id.in_(select(ReviewItem.job_id).where(ReviewItem.status.in_(UNDECIDED))))


def list_jobs(session: Session, limit: int = JOBS_PAGE_SIZE, offset: int = 0,
              waiting: bool = False) -> list[ScreeningJob]:
    """The newest jobs (or those with hits to decide), a page at a time."""
    query = _jobs_query(select(ScreeningJob), waiting)
    return list(session.execute(query.order_by(ScreeningJob.created_at.desc(), ScreeningJob.id.desc())
                                .offset(offset).limit(limit)).scalars())


def count_jobs(session: Session, waiting: bool = False) -> int:
    return int(session.scalar(_jobs_query(select(func.count()).select_from(ScreeningJob), waiting)) or 0)


# ---- sanctions -------------------------------------------------------------------------------

def badge_status(entity: Entity, sanctions: list[Entity]) -> str:
    """What a page's sanctions badge says: the sanction status, or 'record' for a record about another
    entity (``record: true`` in schema/, a Sanction): it is the sanction, and 'not sanctioned' on it
    would read as a finding."""
    spec = registry().entity_kinds.get(entity.kind)  # None: a kind schema/ no longer declares
    return "record" if spec is not None and spec.record else sanction_status(sanctions)


# ---- the entity page -------------------------------------------------------------------------

@dataclass
class FactRow:
    prop: str
    label: str
    value: str
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    display: str = ""  # what the page shows: the value, or its vocabulary label / country name
    passed: str = ""  # an identifier without warnings: what it passed (Registry.identifier_passed)

    def __post_init__(self) -> None:
        self.display = self.display or self.value


@dataclass
class LinkRow:
    link: Link
    direction: str  # "out" (this entity is the source) or "in"
    label: str
    other: Entity
    citations: list[Citation] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)  # (property label, values) beside the dates
    # Its dates in an impossible order (an end before the start): kept as the source says, flagged on the row.
    warnings: list[str] = field(default_factory=list)


@dataclass
class Change:
    label: str
    before: list[str]
    after: list[str]


@dataclass
class HistoryRow:
    """One audit entry of the entity as its page shows it: changed properties by their labels."""

    entry: AuditEntry
    changes: list[Change] = field(default_factory=list)
    text: str | None = None  # a note's text


@dataclass
class EntityPage:
    entity: Entity
    kind_label: str
    facts: list[FactRow]
    names: list[Any]
    identifiers: list[FactRow]
    link_groups: list[tuple[str, list[LinkRow]]]
    whole_citations: list[Citation]
    history: list[HistoryRow]
    notes: list[Note]
    sanctions: list[Entity]
    status: str
    merged_into: Entity | None = None
    badge: str = ""  # badge_status: what the page's badge says
    # Citations of values the entity no longer holds (a date corrected since): the source said it, and
    # the page must not show the corrected fact as if it had never been sourced otherwise.
    former: list[FactRow] = field(default_factory=list)
    history_more: bool = False  # older changes than those listed exist (the page offers them all)
    # Citations that are the evidence of a dossier under review or approved, and why: not removable, said so.
    exhibited: dict[int, str] = field(default_factory=dict)


def entity_page(session: Session, entity_id: str, history_limit: int | None = 100) -> EntityPage:
    """``history_limit``: the newest changes listed (None: all of them, 0: none)."""
    reg = registry()
    entity = get_entity(session, entity_id)
    kind = reg.entity_kind(entity.kind)
    links = links_of(session, entity.id)
    citations = citations_for(session, entity_id=entity.id, link_ids=[l.id for l in links])
    by_value: dict[tuple[str, str], list[Citation]] = defaultdict(list)
    by_prop: dict[str, list[Citation]] = defaultdict(list)
    whole: list[Citation] = []
    by_link: dict[str, list[Citation]] = defaultdict(list)
    for citation in citations:
        if citation.link_id:
            by_link[citation.link_id].append(citation)
        elif citation.prop and citation.value is not None:
            by_value[(citation.prop, citation.value)].append(citation)
        elif citation.prop:
            by_prop[citation.prop].append(citation)
        else:
            whole.append(citation)

    facts: list[FactRow] = []
    identifiers: list[FactRow] = []
    dated = date_warnings_by_property(entity.properties, kind.properties)
    for name, prop in kind.properties.items():
        for index, value in enumerate(entity.properties.get(name, [])):
            row = FactRow(name, prop.label, value, by_value.get((name, value), []) + by_prop.get(name, []),
                          display=value_label(prop, value))
            if prop.type.validator == "identifier":
                row.warnings = reg.identifier_warnings(value)
                row.passed = "" if row.warnings else reg.identifier_passed(value)
                identifiers.append(row)
            else:
                row.warnings = dated.get(name, []) if index == 0 else []  # said once, on the property's first row
                facts.append(row)
    for name, values in entity.properties.items():  # values the schema no longer declares
        if name not in kind.properties:
            facts.extend(FactRow(name, property_label(kind.properties, name), v, by_value.get((name, v), []))
                         for v in values)
    held = {(name, v) for name, values in entity.properties.items() for v in values}
    former = [FactRow(name, property_label(kind.properties, name), value, cited,
                      display=value_label(kind.properties.get(name), value))
              for (name, value), cited in by_value.items() if (name, value) not in held]

    others = entities_by_id(session, [l.target_id if l.source_id == entity.id else l.source_id for l in links])
    groups: dict[str, list[LinkRow]] = defaultdict(list)

    def other_caption(link: Link) -> str:
        other = others.get(link.target_id if link.source_id == entity.id else link.source_id)
        return sort_key(other.caption) if other else ""

    # Within a kind, by date, then by the other entry's name: an entry with 200 owned parcels lists them
    # in an order one can scan (by id, it was random).
    for link in sorted(links, key=lambda l: (l.kind, l.start_date or "", other_caption(l), l.id)):
        spec = reg.link_kinds.get(link.kind)
        outgoing = link.source_id == entity.id
        label = (spec.label if outgoing else spec.reverse) if spec else link.kind
        other = others.get(link.target_id if outgoing else link.source_id)
        if other is None:
            continue
        heading = spec.label.capitalize() if spec and outgoing else (spec.reverse.capitalize() if spec else link.kind)
        props = spec.properties if spec else {}
        details = [(property_label(props, name), ", ".join(value_label(props.get(name), v) for v in values))
                   for name, values in link.properties.items() if name not in LINK_DATE_PROPERTIES]
        groups[f"{link.kind}: {heading}"].append(
            LinkRow(link, "out" if outgoing else "in", label, other, by_link.get(link.id, []), details,
                    date_order_warnings(link.properties, props)))

    notes = list(session.execute(select(Note).where(Note.entity_id == entity.id).order_by(Note.id.desc())).scalars())
    sanctions = sanctions_of(session, [entity.id]).get(entity.id, [])
    merged_into = session.get(Entity, entity.merged_into) if entity.merged_into else None
    history = entity_history(session, entity.id, limit=_ALL if history_limit is None else history_limit + 1) \
        if history_limit != 0 else []
    history_more = history_limit is not None and len(history) > history_limit
    history = history[:history_limit]
    return EntityPage(
        exhibited=exhibited_citations(session, [c.id for c in citations]),
        entity=entity, kind_label=kind.label, facts=facts,
        names=sorted(entity.names, key=lambda n: (n.name_kind != "primary", n.name_kind, n.name)),
        identifiers=identifiers, link_groups=sorted(groups.items()), whole_citations=whole,
        history=history_rows(history, kind.properties, _cited_sources(session, history),
                             _merge_captions(session, history)),
        notes=notes, sanctions=sanctions,
        status=sanction_status(sanctions), badge=badge_status(entity, sanctions), merged_into=merged_into,
        former=former, history_more=history_more,
    )


def date_warnings_by_property(values: Mapping[str, list[str]], props: Mapping[str, Property]) -> dict[str, list[str]]:
    """What schema.date_order_warnings says of stored dates (a start after the end, a birth in the future), by
    the property whose row the page flags: the earlier one of a pair ('Founded' after 'Dissolved')."""
    found: dict[str, list[str]] = {}
    for name, prop in props.items():
        if prop.type.validator != "date" or not values.get(name):
            continue
        subset, known = {name: list(values[name])}, {name: prop}
        later = props.get(prop.until) if prop.until else None
        if later is not None and values.get(later.name):
            # The later date only as the bound of this one: its own warnings go on its own row.
            subset[later.name], known[later.name] = list(values[later.name]), replace(later, past=False, until=None)
        messages = date_order_warnings(subset, known)
        if messages:
            found[name] = messages
    return found


_ALL = 10**9  # no limit, as the queries below take one


def last_edited_by(session: Session, object_type: str, object_id: str, username: str) -> bool:
    """Whether the newest edit of an entity, link or source ('entity', 'link', 'source') was ``username``'s: a
    save refused as stale says whether the change it met was the user's own (another tab) or someone else's.
    Only its edits count, not a citation or a note added to it, which leave its version as it was."""
    newest = session.scalar(select(AuditEntry.actor).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id == object_id,
        AuditEntry.action == f"{object_type}.update").order_by(AuditEntry.seq.desc()).limit(1))
    return newest == username


def entity_history(session: Session, entity_id: str, limit: int = 100) -> list[AuditEntry]:
    """The entity's audit entries, newest first, with those of the merges into it.

    A merge files ``entity.merge`` under the merged entity and ``merge.create`` / ``merge.undo``
    under the merge: the kept entity's own entries only show the names and values it gained. The
    merges it kept are found through the merges table, so merges made before this page showed them
    appear too, and no audit entry is written or changed for it (the log is a hash chain)."""
    own = audit.history(session, entity_id, limit=limit)
    if limit <= 0:
        return own
    from workbench.store.models import Merge

    merge_ids = [str(i) for i in session.execute(select(Merge.id).where(Merge.winner_id == entity_id)).scalars()]
    kept: list[AuditEntry] = []
    if merge_ids:
        merges = session.execute(
            select(AuditEntry).where(AuditEntry.object_type == "merge", AuditEntry.object_id.in_(merge_ids),
                                     AuditEntry.action.in_(("merge.create", "merge.undo")))
            .order_by(AuditEntry.seq.desc()).limit(limit)).scalars().all()
        kept = [e for e in merges if _state(e).get("winner") == entity_id]
    return sorted([*own, *kept, *_link_entries(session, entity_id, limit)], key=lambda e: e.seq, reverse=True)[:limit]


def _link_entries(session: Session, entity_id: str, limit: int) -> list[AuditEntry]:
    """The entity's links as they were added, changed and removed (links are filed under their own ids):
    those it holds by id, and removed ones (fewer, and gone from the links table) by the ends they had."""
    # A removed link's entry names its ends in its JSON, written as json.dumps writes them (non-ASCII
    # escaped): that narrows the search in the database, and the ends themselves decide.
    removed = [e for e in session.execute(
        select(AuditEntry).where(AuditEntry.action == "link.delete",
                                 cast(AuditEntry.before, String).contains(json.dumps(entity_id), autoescape=True))
        .order_by(AuditEntry.seq.desc())).scalars()
        if entity_id in (_state(e).get("source"), _state(e).get("target"))]
    removed_ids = {e.object_id for e in removed}
    ids = [link.id for link in links_of(session, entity_id)] + sorted(removed_ids)
    found: list[AuditEntry] = []
    for start in range(0, len(ids), 500):
        found += session.execute(
            select(AuditEntry).where(AuditEntry.object_type == "link", AuditEntry.object_id.in_(ids[start:start + 500]))
            .order_by(AuditEntry.seq.desc()).limit(limit)).scalars().all()
    # A held link's whole story counts (edits made while a merge had moved it included); a removed
    # link's only while it was at this entity (the same id may have been another link since).
    return [e for e in {e.seq: e for e in [*found, *removed]}.values()
            if e.object_id not in removed_ids or entity_id in (_state(e).get("source"), _state(e).get("target"))]


def _state(entry: AuditEntry) -> dict:
    """What the entry recorded: the state after the change, or before it for a removal."""
    state = entry.after if entry.after is not None else entry.before
    return state if isinstance(state, dict) else {}


def _cited(entry: AuditEntry) -> list[dict]:
    """The citations a citation entry names: one (a page's cite or removal) or a list (an import's)."""
    state = _state(entry)
    cited = state.get("citations") if "citations" in state else [state]
    return [c for c in cited or [] if isinstance(c, dict) and c]


def _merge_captions(session: Session, entries: list[AuditEntry]) -> dict[str, str]:
    """Captions of the entities the merge and link entries among ``entries`` name (kept and merged, ends)."""
    ids: set[str] = set()
    for entry in entries:
        if entry.object_type == "link":  # both states: a merge's repoint names the end it moved from
            for state in (entry.before, entry.after):
                if isinstance(state, dict):
                    ids.update(str(state[k]) for k in ("source", "target", "source_id", "target_id")
                               if state.get(k))
        elif entry.object_type == "merge":
            ids.update(str(v) for k, v in _state(entry).items() if k in ("winner", "loser") and v)
        elif entry.action in ("entity.merge", "entity.unmerge"):
            ids.update(str(v) for v in _state(entry).values() if isinstance(v, str) and v)
    captions = {i: e.caption for i, e in entities_by_id(session, ids).items()}
    gone = ids - set(captions)
    if gone:  # deleted since: named as they were when deleted
        for entry in session.scalars(select(AuditEntry).where(AuditEntry.action == "entity.delete",
                                                              AuditEntry.object_id.in_(gone))):
            captions[entry.object_id] = f"{_state(entry).get('caption') or entry.object_id} (deleted)"
    return captions


def _merge_text(entry: AuditEntry, captions: Mapping[str, str]) -> str | None:
    """'Merged X into this entity' / 'Merge of X undone' on the kept entity's page; 'Merged into Y' /
    'Merge into Y undone' on the merged one's."""
    state = _state(entry)
    if entry.action == "merge.create" and state.get("loser"):
        return f"Merged {captions.get(state['loser'], state['loser'])} into this entity"
    if entry.action == "merge.undo" and state.get("loser"):
        return f"Merge of {captions.get(state['loser'], state['loser'])} undone"
    if entry.action == "entity.merge" and state.get("merged_into"):
        return f"Merged into {captions.get(state['merged_into'], state['merged_into'])}"
    if entry.action == "entity.unmerge" and state.get("merged_into"):
        return f"Merge into {captions.get(state['merged_into'], state['merged_into'])} undone"
    return None


def history_rows(entries: Iterable[AuditEntry], props: Mapping[str, Property],
                 source_titles: Mapping[str, str] | None = None,
                 entity_captions: Mapping[str, str] | None = None) -> list[HistoryRow]:
    """Audit entries with what changed between before and after, property by property, in the
    schema's order (then any property it no longer declares), each named by its label; citations
    added or removed say which source, for which fact (``source_titles``: id -> title); merges name
    the other entity (``entity_captions``: id -> caption)."""
    rows = []
    titles = source_titles or {}
    for entry in entries:
        before, after = entry.before, entry.after
        row = HistoryRow(entry)
        if entry.object_type == "citation":
            row.text = _citation_text(entry.action, _cited(entry), props, titles)
        elif entry.object_type == "link":
            row.text, row.changes = _link_text(entry, entity_captions or {})
        elif (merged := _merge_text(entry, entity_captions or {})) is not None:
            row.text = merged
        elif isinstance(before, dict) and isinstance(after, dict) and "properties" in before and "properties" in after:
            row.changes = _changes(before["properties"] or {}, after["properties"] or {}, props)
        elif isinstance(after, dict) and "text" in after:
            row.text = after["text"]
        rows.append(row)
    return rows


def _changes(old: dict, new: dict, props: Mapping[str, Property]) -> list[Change]:
    """The values that differ, property by property in the schema's order (then any it no longer
    declares), each named by its label."""
    names = [n for n in props if n in old or n in new]
    names += [n for n in dict.fromkeys([*old, *new]) if n not in props]
    return [Change(property_label(props, n), [value_label(props.get(n), v) for v in old.get(n) or []],
                   [value_label(props.get(n), v) for v in new.get(n) or []])
            for n in names if old.get(n) != new.get(n)]


def _link_text(entry: AuditEntry, captions: Mapping[str, str]) -> tuple[str, list[Change]]:
    """'Link added: A member of B (Role: jefe)', 'Link removed: ...', or 'Link changed: ...' with its
    changed values by their labels."""
    if entry.action == "link.repoint":  # a merge (or its undoing) moved one end; the entry holds only that end
        before = entry.before if isinstance(entry.before, dict) else {}
        after = entry.after if isinstance(entry.after, dict) else {}
        moved = "; ".join(f"its {end.removesuffix('_id')} end from {captions.get(before.get(end), before.get(end))} "
                          f"to {captions.get(after.get(end), after.get(end))}" for end in ("source_id", "target_id")
                          if end in after)
        return f"Link moved by a merge or its undoing: {moved}", []
    state = _state(entry)
    spec = registry().link_kinds.get(state.get("kind", ""))
    props = spec.properties if spec else {}
    ends = (f"{captions.get(state.get('source'), state.get('source'))} {spec.label if spec else state.get('kind')} "
            f"{captions.get(state.get('target'), state.get('target'))}")
    values = state.get("properties") or {}
    if entry.action == "link.update" and isinstance(entry.before, dict) and isinstance(entry.after, dict):
        return f"Link changed: {ends}", _changes(entry.before.get("properties") or {},
                                                  entry.after.get("properties") or {}, props)
    details = "; ".join(f"{property_label(props, n)}: {', '.join(value_label(props.get(n), v) for v in vs)}"
                        for n, vs in values.items() if vs)
    verb = "Link removed" if entry.action == "link.delete" else "Link added"
    return f"{verb}: {ends}" + (f" ({details})" if details else ""), []


def _citation_text(action: str, cited: list[dict], props: Mapping[str, Property], titles: Mapping[str, str]) -> str:
    """'Cited Gaceta Municipal 12 for Birth date: 1979-02-13, p. 4' or 'Removed the citation of ...'."""
    parts = []
    for c in cited:
        text = titles.get(c.get("source") or "", c.get("source") or "a source")
        if c.get("prop"):
            text += f" for {property_label(props, c['prop'])}"
            if c.get("value"):
                text += f": {value_label(props.get(c['prop']), c['value'])}"
        elif c.get("link"):
            text += " for a link"
        if c.get("page"):
            text += f", {page_label(c['page'])}"
        parts.append(text)
    verb = "Removed the citation of" if action.endswith(".delete") else "Cited"
    return f"{verb} {'; '.join(parts)}" if parts else verb


def _cited_sources(session: Session, entries: list[AuditEntry]) -> dict[str, str]:
    """Titles of the sources the citation entries among ``entries`` name."""
    ids = {c["source"] for entry in entries if entry.object_type == "citation" for c in _cited(entry)
           if c.get("source")}
    if not ids:
        return {}
    return dict(session.execute(select(Source.id, Source.title).where(Source.id.in_(ids))).all())


def cite_targets(page: EntityPage) -> list[tuple[str, str]]:
    """Every fact of the page's entity a citation can attach to: (value for the form, label)."""
    entity = page.entity
    kind = registry().entity_kind(entity.kind)
    options = [("entity", f"{entity.caption} (the entity as a whole)")]
    for name, values in entity.properties.items():
        label = property_label(kind.properties, name)
        for index, value in enumerate(values):
            options.append((f"prop:{name}:{index}", f"{label}: {shortened(value_label(kind.properties.get(name), value))}"))
    for _heading, rows in page.link_groups:
        for row in rows:
            options.append((f"link:{row.link.id}", f"Link: {row.label} {row.other.caption}"))
    return options


# ---- search ----------------------------------------------------------------------------------

@dataclass
class SearchRow:
    entity: Entity
    matched_name: str
    score: float
    explanation: dict
    status: str
    badge: str = ""  # badge_status: what the page shows


def territory_scope(session: Session, territory_id: str, depth: int = 3) -> set[str]:
    """Entities within a few links of a territory or the territories inside it (its 'state').

    Other territories are walls, never passed through: Sinaloa's parent is Mexico, whose other states
    (and everything tied to them) are two links away, and a search limited to Sinaloa found Jalisco's
    municipalities. A territory inside the state is in scope from the start."""
    territories = {territory_id}
    frontier = {territory_id}
    while frontier:  # territories contained in it (TerritoryParent points child -> parent)
        rows = session.execute(select(Link.source_id).where(Link.kind == "TerritoryParent",
                                                            Link.target_id.in_(frontier))).scalars().all()
        frontier = set(rows) - territories
        territories |= frontier
    territory_kinds = registry().kinds_descending_from(["Territory"])
    seen = set(territories)
    frontier = set(territories)
    for _ in range(depth):
        if not frontier:
            break
        rows = session.execute(select(Link.source_id, Link.target_id).where(
            or_(Link.source_id.in_(frontier), Link.target_id.in_(frontier)))).all()
        reached = list(({a for a, _b in rows} | {b for _a, b in rows}) - seen)
        walls: set[str] = set()
        for start in range(0, len(reached), 900):
            walls.update(session.execute(select(Entity.id).where(Entity.id.in_(reached[start:start + 900]),
                                                                 Entity.kind.in_(territory_kinds))).scalars())
        frontier = set(reached) - walls
        seen |= frontier
    return seen


def territories(session: Session, levels: tuple[str, ...] = ("state",)) -> list[Entity]:
    rows = session.execute(select(Entity).where(Entity.kind.in_(registry().kinds_descending_from(["Territory"])))
                           .order_by(Entity.sort_key, Entity.caption)).scalars().all()
    return [t for t in rows if set(t.properties.get("level", [])) & set(levels)]


@dataclass
class SearchResults:
    rows: list[SearchRow]
    # Matches the state, topic or sanction filter left out: 'no match' would read as 'not in the store'.
    outside_filters: int = 0


def search(session: Session, query: str, kind: str | None = None, state: str | None = None,
           topic: str | None = None, sanction: str | None = None, limit: int = 50,
           threshold: float | None = None) -> SearchResults:
    """The best matches for ``query``. Without ``kind``, records about others (a Sanction carries its
    target's names and would outrank the people who bear them) are left out: they are one choice away."""
    from workbench.web.engines import SEARCH_THRESHOLD, search_entities

    threshold = SEARCH_THRESHOLD if threshold is None else threshold
    reg = registry()
    kinds = reg.kinds_descending_from([kind]) if kind else reg.default_kinds()
    if state:  # an unknown state would filter everything away, and look like 'no matches'
        found = session.get(Entity, state)
        if found is None or found.kind not in reg.kinds_descending_from(["Territory"]):
            raise ValidationError({"state": [f"no state or territory with id {state!r}: choose one from the list"]})
    if topic and topic not in reg.vocabularies["topics"]:  # would filter everything away, like a bad state
        raise ValidationError({"topic": [f"unknown topic {topic!r}: choose one of "
                                         f"{', '.join(reg.vocabularies['topics'])}"]})
    filtered = bool(state or topic or sanction)
    hits = search_entities(session, query, kinds=kinds, limit=limit * (4 if filtered else 1), threshold=threshold,
                           partial=True)
    entities = entities_by_id(session, [h.entity_id for h in hits])
    sanctions = sanctions_of(session, entities)
    scope = territory_scope(session, state) if state else None
    rows: list[SearchRow] = []
    outside = 0
    for hit in hits:
        entity = entities.get(hit.entity_id)
        if entity is None:
            continue
        status = sanction_status(sanctions.get(entity.id, []))
        if ((topic and topic not in entity.properties.get("topics", [])) or (sanction and status != sanction)
                or (scope is not None and entity.id not in scope)):
            outside += 1
            continue
        if len(rows) < limit:
            rows.append(SearchRow(entity, hit.matched_name, hit.score, hit.explanation or {}, status,
                                  badge_status(entity, sanctions.get(entity.id, []))))
    return SearchResults(rows, outside)


# ---- paths between two entities ----------------------------------------------------------------

PATH_LENGTHS = (2, 4, 6, 8)  # the longest chains the path page looks for (links)


@dataclass
class PathStep:
    source: Entity
    target: Entity
    label: str  # the link's label read from the step's direction ('owns', 'member of')
    link_id: str
    start_date: str | None
    end_date: str | None
    citations: list[dict]


@dataclass
class PathView:
    """The path page: from an entity to another, the shortest chain of links with each link's sources; or
    the entities a typed name may mean, to pick one; or why there is no chain."""

    origin: Entity
    target: Entity | None = None
    steps: list[PathStep] = field(default_factory=list)
    found: bool = False
    candidates: list[Any] = field(default_factory=list)  # search hits for a typed name that named no one entity
    problem: str = ""
    notes: list[str] = field(default_factory=list)  # an end merged into another entry: where the chain runs

    @property
    def length_words(self) -> str:
        return counted(len(self.steps), "link")


def surviving_entity(session: Session, entity: Entity) -> Entity:
    """The entry an entity stands for now (itself, or the one it was merged into)."""
    return surviving(session, entity) or entity


def path_length(requested: int) -> int:
    """The longest chain offered that covers the one asked for (a typed ?max_length=3 looks as far as 4)."""
    return next((n for n in PATH_LENGTHS if n >= requested), PATH_LENGTHS[-1])


def path_view(session: Session, origin_id: str, to_id: str = "", to_name: str = "",
              max_length: int = 6) -> PathView:
    """An entry merged into another is looked for as the entry kept (the network holds only that one), and
    the page says so; a target id that names no entity any more is said, with the form, not a bare 404."""
    from workbench.graph.analysis import PATHS_AVOID
    from workbench.web import engines

    origin = get_entity(session, origin_id)
    view = PathView(surviving_entity(session, origin))
    if view.origin.id != origin.id:
        view.notes.append(f"{origin.caption} was merged into {view.origin.caption}: the chain starts there.")
    if not to_id and to_name:
        hits = [h for h in engines.search_entities(session, to_name, limit=9, partial=True)
                if h.entity_id != view.origin.id][:8]
        exact = [h for h in hits if h.score >= 0.9]
        if len(exact) == 1:
            to_id = exact[0].entity_id
        else:
            view.candidates = hits
            view.problem = (f"No single entity is named {to_name!r}: pick one." if hits
                            else f"No entity's name comes close to {to_name!r}.")
            return view
    if not to_id:
        return view
    try:
        named = get_entity(session, to_id)
    except NotFound:
        view.problem = f"No entity has the id {to_id!r} any more (deleted?): name another one."
        return view
    target = surviving_entity(session, named)
    if target.id != named.id:
        view.notes.append(f"{named.caption} was merged into {target.caption}: the chain ends there.")
    view.target = target
    if target.id == view.origin.id:
        view.problem = "That is this entity: pick another one."
        return view
    result = engines.shortest_path(session, view.origin.id, target.id, max_length=max_length)
    if result is None:
        view.problem = (f"No chain of at most {counted(max_length, 'link')} joins {view.origin.caption} and "
                        f"{target.caption} ({PATHS_AVOID}).")
        return view
    ids = {n for step in result.steps for n in (step["source"], step["target"])}
    shown = entities_by_id(session, ids)
    reg = registry()
    nodes = list(result.nodes)
    for step, (here, there) in zip(result.steps, zip(nodes, nodes[1:])):
        kind = reg.link_kinds.get(step["kind"])
        forward = step["source"] == here
        label = step["label"] or step["kind"]
        if kind is not None:
            label = kind.label if forward else kind.reverse
        view.steps.append(PathStep(shown[here], shown[there], label, step["link_id"], step.get("start_date"),
                                   step.get("end_date"), step["citations"]))
    view.found = True
    return view


# ---- screening review ------------------------------------------------------------------------

REVIEW_PAGE_SIZE = 50  # hits on a page of a job's review queue (each row holds its data, explanation, forms)
HIDDEN_SHOWN = 20  # hidden matches listed under the queue; the "hidden" view pages through all of them
# The queue's views: every hit (open ones first), the hits in one state, or the matches hidden by earlier
# rejections. The key is the page's ?show= value.
REVIEW_VIEWS = {"": "All hits", "open": "Open", "unsure": "Unsure", "confirmed": "Confirmed",
                "rejected": "Rejected", "hidden": "Hidden by earlier rejections"}


def review_view(value: str | None) -> str:
    """A ?show= value as a view of the queue (anything unknown: every hit)."""
    return value if value in REVIEW_VIEWS else ""


def _in_view(view: str, status: str) -> bool:
    return status != "hidden" if view == "" else status == view


def _view_filter(job_id: str, view: str) -> list:
    from workbench.store.models import ReviewItem

    return [ReviewItem.job_id == job_id, ReviewItem.status != "hidden" if view == "" else ReviewItem.status == view]


def _view_order(view: str) -> list[tuple[Any, bool, Any]]:
    """The view's ordering as (column, descending, the key's value for an item): open hits first (best score
    first, then by row), then the decided ones; hidden matches by row, as the file has them."""
    from workbench.store.models import ReviewItem

    if view == "hidden":
        return [(ReviewItem.row_number, False, lambda i: i.row_number), (ReviewItem.id, False, lambda i: i.id)]
    keys = [(ReviewItem.score, True, lambda i: i.score), (ReviewItem.row_number, False, lambda i: i.row_number),
            (ReviewItem.id, False, lambda i: i.id)]
    if view == "":
        keys.insert(0, (case((ReviewItem.status == "open", 0), else_=1), False,
                        lambda i: 0 if i.status == "open" else 1))
    return keys


def _beyond(keys: list[tuple[Any, bool, Any]], item: Any, before: bool = False):
    """Rows ordered after ``item`` in ``keys`` (or before it): a lexicographic comparison in SQL."""
    clauses = []
    for n, (column, descending, value_of) in enumerate(keys):
        later = (column < value_of(item)) if descending != before else (column > value_of(item))
        clauses.append(and_(*[c == v(item) for c, _, v in keys[:n]], later))
    return or_(*clauses)


@dataclass
class ReviewPage:
    """One page of a job's review queue, ordered and cut in SQL, with the counts of every view so the page
    says what the other pages hold."""

    view: str
    items: list[Any]  # the ReviewItems of this page (none in the "hidden" view)
    hidden: list[HiddenHit]  # the hidden view's page; elsewhere the first HIDDEN_SHOWN hidden matches
    counts: dict[str, int]  # hits by status, hidden matches included
    total: int  # the hits in this view
    page: int
    last: int
    size: int

    @property
    def first(self) -> int:
        """The number (from 1) of the first hit on this page."""
        return (self.page - 1) * self.size + 1 if self.total else 0

    @property
    def shown_to(self) -> int:
        return min(self.total, self.page * self.size)

    @property
    def summary(self) -> str:
        """What this page holds, in words ('Hits 51–100 of 240: open ones first, ... 50 a page.'), or '' for
        every hit when there are none (the page says so elsewhere)."""
        if not self.total:
            if not self.view:
                return ""
            return f"None {'hidden' if self.view == 'hidden' else REVIEW_VIEWS[self.view].lower()}."
        one = self.first == self.shown_to  # 'Hit 51 of 51', not 'Hits 51–51 of 51'
        what = ("Match" if one else "Matches") if self.view == "hidden" else ("Hit" if one else "Hits")
        span = f"{self.first}" if one else f"{self.first}–{self.shown_to}"
        order = {"": ": open ones first, best score first, then the decided ones",
                 "hidden": " hidden by earlier rejections, by row"}.get(
            self.view, f" {REVIEW_VIEWS[self.view].lower()}, best score first")
        paged = f" {self.size} a page." if self.last > 1 else ""
        return f"{what} {span} of {self.total}{order}.{paged}"

    def count(self, view: str) -> int:
        if view == "":
            return sum(n for status, n in self.counts.items() if status != "hidden")
        return self.counts.get(view, 0)


def review_page(session: Session, job_id: str, view: str = "", page: int = 1,
                size: int = REVIEW_PAGE_SIZE) -> ReviewPage:
    """A page of the job's queue in ``view`` (past the end: the last page). The matches hidden by earlier
    rejections are not in the queue: the "hidden" view pages through them, the others list the first few."""
    from workbench.store.models import ReviewItem

    view = review_view(view)
    counts = review_counts(session, job_id)
    total = sum(n for s, n in counts.items() if _in_view(view, s))
    page, last, offset = page_of(total, page, size)
    if view == "hidden":
        items, hidden = [], hidden_hits(session, job_id, offset=offset, limit=size)
    else:
        order = [column.desc() if descending else column for column, descending, _ in _view_order(view)]
        items = list(session.execute(select(ReviewItem).where(*_view_filter(job_id, view))
                                     .order_by(*order).offset(offset).limit(size)).scalars())
        hidden = hidden_hits(session, job_id, limit=HIDDEN_SHOWN) if counts.get("hidden") else []
    return ReviewPage(view, items, hidden, counts, total, page, last, size)


def review_item_page(session: Session, job_id: str, item_id: int | None, view: str = "",
                     size: int = REVIEW_PAGE_SIZE) -> tuple[str, int] | None:
    """Where a hit of this job is listed: ``view`` if it holds the hit (else every hit, or the hidden
    ones), and the page there. None for a hit of another job or none."""
    from workbench.store.models import ReviewItem

    item = session.get(ReviewItem, item_id) if item_id else None
    if item is None or item.job_id != job_id:
        return None
    view = review_view(view)
    if not _in_view(view, item.status):
        view = "hidden" if item.status == "hidden" else ""
    before = session.scalar(select(func.count()).select_from(ReviewItem)
                            .where(*_view_filter(job_id, view), _beyond(_view_order(view), item, before=True)))
    return view, int(before or 0) // size + 1


def next_to_review(session: Session, item: Any, status: str, view: str = "") -> Any | None:
    """The hit a reviewer goes on to once ``item`` (which was ``status``) is decided: the next hit in that
    state after it in the queue's order, else the first one in that state, else the first undecided hit
    of the view; None when the view has none left."""
    from workbench.store.models import ReviewItem

    view = review_view(view)
    keys = _view_order("open")  # the order within one state, in every view
    order = [column.desc() if descending else column for column, descending, _ in keys]

    def first(*where):
        return session.execute(select(ReviewItem).where(ReviewItem.job_id == item.job_id, ReviewItem.id != item.id,
                                                        *where).order_by(*order).limit(1)).scalar_one_or_none()

    if status in UNDECIDED and _in_view(view, status):
        found = first(ReviewItem.status == status, _beyond(keys, item)) or first(ReviewItem.status == status)
        if found is not None:
            return found
    return next((found for state in UNDECIDED if _in_view(view, state)
                 for found in [first(ReviewItem.status == state)] if found is not None), None)


def review_item(session: Session, item_id: int) -> Any | None:
    from workbench.store.models import ReviewItem

    return session.get(ReviewItem, item_id)


def hit_badges(session: Session, entity_ids: Iterable[str]) -> dict[str, str]:
    """What each hit's sanctions badge says (``badge_status``: 'designated', 'delisted', 'none'), by the id of
    the entry the hit names, read now from its Sanction records (store.sanctions, as entity pages and
    ``workbench screen --against db`` read them): a hit on a delisted entry scored 1.0 read like a live
    designation. An entry merged since reads as the one it was merged into, which holds its Sanction links;
    an entry deleted since has no badge (absent here)."""
    ids = sorted(set(entity_ids))
    loaded: dict[str, Entity] = {}
    for start in range(0, len(ids), 500):
        loaded.update(entities_by_id(session, ids[start:start + 500]))
    kept = {i: surviving(session, e) for i, e in loaded.items()}
    kept_ids = sorted({e.id for e in kept.values() if e is not None})
    sanctions: dict[str, list[Entity]] = {}
    for start in range(0, len(kept_ids), 500):
        sanctions.update(sanctions_of(session, kept_ids[start:start + 500]))
    return {i: badge_status(e, sanctions.get(e.id, [])) for i, e in kept.items() if e is not None}


def delisted_hits(session: Session, job_id: str) -> int:
    """The job's hits (hidden matches aside, as its count of hits) on delisted entries, as
    ``workbench screen --against db`` counts them: one query for the entries hit, one for their sanctions."""
    from workbench.store.models import ReviewItem

    rows = session.execute(select(ReviewItem.entity_id, func.count()).where(
        ReviewItem.job_id == job_id, ReviewItem.status != "hidden").group_by(ReviewItem.entity_id)).all()
    badges = hit_badges(session, [entity_id for entity_id, _ in rows])
    return sum(int(n) for entity_id, n in rows if badges.get(entity_id) == "delisted")


def review_counts(session: Session, job_id: str) -> dict[str, int]:
    from workbench.store.models import ReviewItem

    rows = session.execute(select(ReviewItem.status, func.count()).where(ReviewItem.job_id == job_id)
                           .group_by(ReviewItem.status)).all()
    return {status: int(n) for status, n in rows}


# A verdict's button on the duplicates page.
VERDICT_LABELS = {"same": "Same: merge into this entry", "different": "Different", "unsure": "Unsure"}


@dataclass
class JudgedPair:
    other_id: str
    other: Entity | None
    current: Any  # the pair's Judgement in force
    earlier: list[Any]  # the judgements it replaced, newest first
    offered: list[str]  # the verdicts it may be changed to now (none while either entry is merged)


def judged_pairs(session: Session, entity: Entity) -> list[JudgedPair]:
    """Every pair the entity was judged in, so a verdict can be seen (who, when) and changed."""
    from workbench.matching.judgements import VERDICTS, judgements_of

    rows = judgements_of(session, entity.id)
    others = [j.right_id if j.left_id == entity.id else j.left_id for j, _ in rows]
    found = entities_by_id(session, others)
    pairs = []
    for other_id, (current, earlier) in zip(others, rows):
        other = found.get(other_id)
        open_to_change = other is not None and not other.merged_into and not entity.merged_into
        offered = [v for v in VERDICTS if v != current.verdict] if open_to_change else []
        pairs.append(JudgedPair(other_id, other, current, earlier, offered))
    return pairs


def merges_into(session: Session, entity_id: str) -> list[tuple[Any, Entity | None]]:
    """Merges into this entity that are still in force, with the merged entity, for the undo buttons."""
    from workbench.store.models import Merge

    rows = session.execute(select(Merge).where(Merge.winner_id == entity_id, Merge.undone_at.is_(None))
                           .order_by(Merge.id.desc())).scalars().all()
    losers = entities_by_id(session, [m.loser_id for m in rows])
    return [(m, losers.get(m.loser_id)) for m in rows]


@dataclass
class Queue:
    """A line of the home page's "Waiting for you": what, where to see exactly those items, how many."""

    label: str
    href: str
    count: int


def work_queues(session: Session, actor) -> list[Queue]:
    """What is waiting: undecided (open or unsure) screening hits, dossiers awaiting review, the user's own
    drafts and returned dossiers; each links to a page listing the items it counts (a page the user's role
    may open)."""
    from urllib.parse import urlencode

    from workbench.dossiers import service as dossiers
    from workbench.dossiers import workflow
    from workbench.store.models import ReviewItem

    # An "unsure" hit is still undecided: it waits in the queue as an open one does.
    undecided = int(session.scalar(select(func.count()).select_from(ReviewItem)
                                   .where(ReviewItem.status.in_(("open", "unsure")))) or 0)
    mine = urlencode([("state", s) for s in dossiers.AUTHOR_STATES] + [("author", actor.username)])
    if actor.can("review"):  # four eyes: what this reviewer wrote or edited is not waiting for them
        reviewable = sum(1 for item in workflow.review_queue(session, actor) if not item["blocked"])
        submitted = Queue("Dossiers you may review", "/dossiers/review", reviewable)
    else:
        submitted = Queue("Dossiers submitted for review", "/dossiers?state=submitted",
                          dossiers.count_dossiers(session, "submitted"))
    return [
        Queue("Screening hits to decide (open or unsure)", "/screening?waiting=1#jobs", undecided),
        submitted,
        Queue("Your drafts and returned dossiers", f"/dossiers?{mine}",
              dossiers.count_dossiers(session, dossiers.AUTHOR_STATES, author=actor.username)),
    ]


def _ended(end: str | None, today: str) -> bool:
    """Whether a (partial) end date lies wholly in the past: '2021-12-31' and '2024-06' before 2025-05-01 do,
    '2025' does not (the year is not over)."""
    return bool(end) and date_after(today, end)


def officials_by_state(session: Session, per_state: int = 5, limit: int = 25) -> list[dict[str, Any]]:
    """The home page's officials, ranked per state by closeness to a designated party (graph exposure, the
    first ``per_state`` of each state), each marked ``former`` when every position they held has ended (an
    Occupancy whose end date has passed): still ranked, since a former official's ties matter too, but never
    read as someone in office. ``positions`` say which ended, and when."""
    from datetime import date

    from workbench.web import engines

    rows = [r for r in engines.exposure(session) if r["rank"] <= per_state][:limit]
    people = {r["entity_id"] for r in rows}
    held: dict[str, list[Link]] = defaultdict(list)
    if people:
        for link in session.scalars(select(Link).where(Link.kind == "Occupancy", Link.source_id.in_(people))
                                    .options(selectinload(Link.target))):
            held[link.source_id].append(link)
    today = date.today().isoformat()
    out = []
    for row in rows:
        links = sorted(held.get(row["entity_id"], []), key=lambda l: (l.start_date or "", sort_key(l.target.caption)))
        row = dict(row)
        if links:
            row["positions"] = [f"{l.target.caption} (until {l.end_date})" if _ended(l.end_date, today)
                                else l.target.caption for l in links]
        row["former"] = bool(links) and all(_ended(l.end_date, today) for l in links)
        out.append(row)
    return out


@dataclass
class RecentChange:
    """A line of the home page's "Recent changes": the audit entry, what it changed named as the pages name it,
    and the page where that is now (None when it is gone, or has no page)."""

    entry: AuditEntry
    what: str  # 'entity.create: Rosa Elena Mendez'
    href: str | None


def recent_changes(session: Session, limit: int = 12) -> list[RecentChange]:
    """The newest audit entries, each linking to the entity, link, source, dossier, job or hit it changed while
    that still exists (a link and a citation on its entity's page)."""
    from workbench.store.models import Dossier, Merge, ReviewItem

    entries = list(session.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)).scalars())
    ids: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        kind = entry.object_type
        if kind == "citation":  # filed under what it cites: an entity or a link
            ids["entity"].add(entry.object_id)
            ids["link"].add(entry.object_id)
        elif kind == "judgement":  # 'left|right'
            ids["entity"].add(entry.object_id.partition("|")[0])
        else:
            ids[kind].add(entry.object_id)
    whole = [i for i in ids["merge"] | ids["review_item"] if i.isdigit()]
    found = {
        "entity": entities_by_id(session, ids["entity"]),
        "link": links_by_id(session, ids["link"]),
        "source": {s.id: s for s in session.scalars(select(Source).where(Source.id.in_(ids["source"])))},
        "dossier": {d.id: d for d in session.scalars(select(Dossier).where(Dossier.id.in_(ids["dossier"])))},
        "screening_job": {j.id: j for j in session.scalars(
            select(ScreeningJob).where(ScreeningJob.id.in_(ids["screening_job"])))},
        "merge": {str(m.id): m for m in session.scalars(select(Merge).where(Merge.id.in_([int(i) for i in whole])))},
        "review_item": {str(r.id): r for r in session.scalars(
            select(ReviewItem).where(ReviewItem.id.in_([int(i) for i in whole])))},
    }
    return [_recent_change(entry, found) for entry in entries]


def _recent_change(entry: AuditEntry, found: Mapping[str, Mapping[str, Any]]) -> RecentChange:
    kind, key = entry.object_type, entry.object_id
    entities, links = found["entity"], found["link"]
    state = _state(entry)
    name: str | None = state.get("caption") or state.get("title")  # as it was: a deleted one is named too
    href: str | None = None

    def link_page(link: Link) -> str:  # a link is shown on the page of the entity it starts at
        return f"/entities/{link.source_id}#link-{link.id}"

    if kind == "entity" and key in entities:
        name, href = entities[key].caption, f"/entities/{key}"
    elif kind == "link" and key in links:
        link = links[key]
        spec = registry().link_kinds.get(link.kind)
        name = f"{link.source.caption} {spec.label if spec else link.kind} {link.target.caption}"
        href = link_page(link)
    elif kind == "citation" and key in entities:
        name, href = entities[key].caption, f"/entities/{key}"
    elif kind == "citation" and key in links:
        href = link_page(links[key])
    elif kind == "judgement" and key.partition("|")[0] in entities:
        href = f"/entities/{key.partition('|')[0]}/duplicates#judged"
    elif kind in ("source", "dossier") and key in found[kind]:
        name, href = found[kind][key].title, f"/{kind}s/{key}"
    elif kind == "screening_job" and key in found[kind]:
        name, href = found[kind][key].file_name, f"/screening/{key}"
    elif kind == "merge" and key in found[kind]:
        href = f"/entities/{found[kind][key].winner_id}/duplicates"
    elif kind == "review_item" and key in found[kind] and found[kind][key].job_id:
        item = found[kind][key]
        name, href = item.query_name, f"/screening/{item.job_id}?item={item.id}#item-{item.id}"
    return RecentChange(entry, f"{entry.action}: {name}" if name else entry.action, href)


@dataclass
class Suggestion:
    entity_id: str
    kind: str
    caption: str
    matched_name: str
    score: float


def suggest(session: Session, query: str, kinds: list[str] | None = None, limit: int = 10) -> list[Suggestion]:
    """Autocomplete: names starting with what was typed (or with a word starting with it) come
    first, then fuzzy matches for misspellings; one suggestion per entity."""
    from workbench.text import fold
    from workbench.web.engines import search_entities

    if len(query) > 2 * NAME_MAX_CHARS:  # as the search refuses: no stored name is this long
        too_long = f"a name to complete is at most {2 * NAME_MAX_CHARS} characters, not {len(query):,}"
        raise ValidationError({"q": [too_long]})
    key = fold(query)
    out: dict[str, Suggestion] = {}
    if key:
        pattern = key.replace("\\", "").replace("%", "").replace("_", "")
        condition = or_(Name.normalized.like(f"{pattern}%"), Name.normalized.like(f"% {pattern}%"))
        stmt = (select(Name.entity_id, Name.name, Entity.kind, Entity.caption)
                .join(Entity, Entity.id == Name.entity_id)
                .where(condition, Entity.merged_into.is_(None))
                .order_by(func.length(Name.normalized), Name.normalized).limit(limit * 4))
        if kinds:  # an abstract kind ('LegalEntity') stands for every kind under it, as in the search
            stmt = stmt.where(Entity.kind.in_(registry().kinds_descending_from(kinds)))
        for entity_id, name, kind, caption in session.execute(stmt):
            if entity_id not in out:
                out[entity_id] = Suggestion(entity_id, kind, caption, name, 1.0)
    if len(out) < limit:
        for hit in search_entities(session, query, kinds=kinds, limit=limit):
            if hit.entity_id not in out:
                out[hit.entity_id] = Suggestion(hit.entity_id, hit.kind, hit.caption, hit.matched_name, hit.score)
    return list(out.values())[:limit]


# ---- screening: mappings offered and matches hidden by earlier rejections --------------------

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "mappings"
SAMPLE_SUFFIXES = (".csv", ".xlsx")


@dataclass
class FixedValue:
    """A value a mapping writes on a record whatever the row says (a ``literal``): shown before anything
    is confirmed, because it lands on the user's records unseen (a county, a topic)."""

    record: str  # 'parcel (Real estate)', 'Ownership link (owner → parcel)'
    prop: str  # the property's label
    value: str  # the value as a reader reads it ('FICTIONAL (demo scenario)' for the topic 'fictional')
    demo: bool  # invented for the FICTIONAL sample files: wrong on anyone else's records


@dataclass
class MappingChoice:
    """A shipped mapping as the screening page offers it."""

    file: str
    name: str
    text: str
    sample: str | None  # the FICTIONAL sample file it was written for; None: a mapping for real files
    fixed: list[FixedValue]
    problem: str | None = None  # why the file cannot be read as a mapping

    @property
    def demo_values(self) -> list[FixedValue]:
        return [f for f in self.fixed if f.demo]


def mapping_fixed_values(text: str, name: str = "mapping") -> list[FixedValue]:
    """The fixed values confirming a hit writes with this mapping: those of every mapped entity but the
    screened one (confirming binds it to the matched entry, which gains only values read from the row's
    own cells, never a fixed one: tabular._bound_values), and those of the links. An unreadable mapping
    fixes nothing (the forms report why)."""
    from workbench.sources.tabular import EntityMapping, MappingError, is_demo_value, load_mapping

    try:
        mapping = load_mapping(text, name)
    except MappingError:
        return []
    reg = registry()
    out: list[FixedValue] = []
    for owner, prop, value in mapping.literals():
        if isinstance(owner, EntityMapping):
            if owner.key == mapping.screen_entity:
                continue
            kinds = [reg.entity_kinds[k] for k in owner.possible_kinds() if k in reg.entity_kinds]
            record = f"{owner.key} ({' or '.join(k.label for k in kinds)})"
            found = next((k.properties[prop] for k in kinds if prop in k.properties), None)
        else:
            kind = reg.link_kinds.get(owner.kind)
            record = f"{owner.kind} link ({owner.source} → {owner.target})"
            found = kind.properties.get(prop) if kind else None
        out.append(FixedValue(record, found.label if found else prop, value_label(found, value),
                              is_demo_value(value)))
    return out


def screening_mappings(directory: Path | None = None) -> list[MappingChoice]:
    """The shipped mappings, those for real files first: the first one is preselected, and a mapping
    written for a FICTIONAL sample file (``X.yml`` beside ``X_FICTIONAL.csv``) stamps the demo's fixed
    values on whatever it imports."""
    from workbench.sources.tabular import MappingError, load_mapping

    folder = directory or MAPPINGS_DIR
    if not folder.is_dir():
        return []
    # Parsed once per change of the folder's files: reading the YAML (twice per mapping) took most of the
    # screening page's half second, on every request.
    stats = ((f.name, f.stat()) for f in sorted(folder.iterdir()) if f.is_file())
    key = tuple((name, st.st_mtime_ns, st.st_size) for name, st in stats)
    held = _MAPPINGS_READ.get(folder)
    if held is not None and held[0] == key:
        return list(held[1])
    choices = []
    for path in sorted(folder.glob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        sample = next((f"{path.stem}_FICTIONAL{s}" for s in SAMPLE_SUFFIXES
                       if (folder / f"{path.stem}_FICTIONAL{s}").exists()), None)
        try:
            name, problem = load_mapping(text, path.name).name, None
        except MappingError as exc:
            name, problem = path.name, str(exc)
        choices.append(MappingChoice(path.name, name, text, sample, mapping_fixed_values(text, path.name), problem))
    choices.sort(key=lambda c: (c.sample is not None, c.file))
    _MAPPINGS_READ[folder] = (key, choices)
    return list(choices)


_MAPPINGS_READ: dict[Path, tuple[tuple, list[MappingChoice]]] = {}


@dataclass
class HiddenHit:
    """A row's match that no one was asked about: its pair (the same name and entry) was rejected before."""

    item: Any  # the ReviewItem, status 'hidden'
    entity: Entity | None
    rejected_by: str | None
    rejected_at: Any  # datetime
    earlier: Any | None  # the rejected hit that hid it, when still stored
    earlier_job: ScreeningJob | None


def hidden_hits(session: Session, job_id: str, offset: int = 0, limit: int | None = None) -> list[HiddenHit]:
    """A job's matches hidden by earlier rejections (by row; ``offset``/``limit``: a page of them), each
    with the rejection that hid it (who, when, which row of which job): '0 hits' alone would read as
    'not in the workbench'."""
    from workbench.store.models import ReviewItem

    items = list(session.execute(select(ReviewItem).where(ReviewItem.job_id == job_id, ReviewItem.status == "hidden")
                                 .order_by(ReviewItem.row_number, ReviewItem.id).offset(offset).limit(limit))
                 .scalars())
    entities = entities_by_id(session, [i.entity_id for i in items])
    rejections = _latest_rejections(session, {(i.query_key, i.entity_id) for i in items})
    jobs = {j.id: j for j in session.execute(select(ScreeningJob).where(
        ScreeningJob.id.in_({r.job_id for r in rejections.values() if r.job_id}))).scalars()} if rejections else {}
    out = []
    for item in items:
        earlier = rejections.get((item.query_key, item.entity_id))
        job = jobs.get(earlier.job_id) if earlier is not None and earlier.job_id else None
        who, when = (earlier.decided_by, earlier.decided_at) if earlier is not None \
            else (item.decided_by, item.decided_at)
        out.append(HiddenHit(item, entities.get(item.entity_id), who, when, earlier, job))
    return out


def _latest_rejections(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The latest rejection of each (name, entry) pair, in one query for a page of hidden matches."""
    from workbench.store.models import ReviewItem

    if not pairs:
        return {}
    latest: dict[tuple[str, str], Any] = {}
    rows = session.execute(select(ReviewItem).where(
        ReviewItem.status == "rejected", ReviewItem.entity_id.in_({e for _, e in pairs}),
        ReviewItem.query_key.in_({q for q, _ in pairs}))
        .order_by(ReviewItem.decided_at.desc(), ReviewItem.id.desc())).scalars()
    for row in rows:
        pair = (row.query_key, row.entity_id)
        if pair in pairs:
            latest.setdefault(pair, row)
    return latest


@dataclass
class EarlierConfirmation:
    """A pair (the same name and entry) a reviewer confirmed in another job: said beside the new hit, so
    a roll screened again does not read as news (confirming again still adds the new row's records)."""

    item: Any  # the earlier ReviewItem, confirmed
    job: ScreeningJob | None


def confirmed_before(session: Session, items: Iterable[Any]) -> dict[int, EarlierConfirmation]:
    """For each open hit whose pair was confirmed in another job (or outside one), the latest such
    confirmation: a query for the job's pairs, one for their entries, one for the jobs named.

    An entry is the one it was merged into: a confirmation made on an entry since merged counts for the
    kept one (and for the kept one's hits on the merged entry), until the merge is undone."""
    from workbench.store.models import ReviewItem

    open_items = [i for i in items if i.status == "open"]
    keys = sorted({i.query_key for i in open_items})
    found: list[Any] = []
    for start in range(0, len(keys), 500):
        found.extend(session.execute(
            select(ReviewItem).where(ReviewItem.query_key.in_(keys[start:start + 500]),
                                     ReviewItem.status == "confirmed")
            .order_by(ReviewItem.decided_at.desc(), ReviewItem.id.desc())).scalars())
    ids = sorted({e.entity_id for e in found} | {i.entity_id for i in open_items})
    loaded: dict[str, Entity] = {}
    for start in range(0, len(ids), 500):  # surviving() then follows merges through the session's map
        loaded.update(entities_by_id(session, ids[start:start + 500]))
    kept = {i: getattr(surviving(session, loaded.get(i)), "id", i) for i in ids}
    latest: dict[tuple[str, str], list[Any]] = {}
    for earlier in found:  # newest first within each name's batch, and a pair's rows are all in one batch
        latest.setdefault((earlier.query_key, kept[earlier.entity_id]), []).append(earlier)
    chosen: dict[int, Any] = {}
    for item in open_items:
        earlier = next((e for e in latest.get((item.query_key, kept[item.entity_id]), [])
                        if e.job_id != item.job_id), None)
        if earlier is not None:
            chosen[item.id] = earlier
    job_ids = sorted({e.job_id for e in chosen.values() if e.job_id})
    jobs = {j.id: j for j in session.execute(select(ScreeningJob).where(ScreeningJob.id.in_(job_ids))).scalars()} \
        if job_ids else {}
    return {item_id: EarlierConfirmation(e, jobs.get(e.job_id)) for item_id, e in chosen.items()}


@dataclass
class JobProgress:
    """The job page's progress sentence, each count with its words in the number it takes ('1 hit', not
    '1 hits'): the page's script says the same as the counts change (app.js)."""

    rows: str  # '3 of 8 rows', '1 row'
    hits: str  # '1 hit'
    skipped: str  # what follows the count of rows without a name
    hidden: str  # what follows the count of matches hidden by earlier rejections
    show_hidden: str  # the link to them
    stopped: str = ""  # why a job that is not done runs nowhere here, beside its Resume button ('' when it runs)
    delisted: str = ""  # the hits on delisted entries, said as `workbench screen` says it ('' when none)


def job_progress(job: ScreeningJob, hidden: int, running_here: bool = True, delisted: int = 0) -> JobProgress:
    """``delisted``: the job's hits on delisted entries (``delisted_hits``)."""
    total = job.total_rows or 0
    rows = f"{job.done_rows:,} of {counted(total, 'row')}" if total else counted(job.done_rows or 0, "row")
    one_skipped, one_hidden = job.empty_rows == 1, hidden == 1
    return JobProgress(
        rows=rows, hits=counted(job.hits or 0, "hit"),
        skipped=f"{'row' if one_skipped else 'rows'} had no name to screen and {'was' if one_skipped else 'were'} "
                "skipped.",
        hidden=f"{'match was' if one_hidden else 'matches were'} hidden: "
               f"{'the same name and entry were' if one_hidden else 'the same names and entries were'} rejected "
               "earlier.",
        show_hidden="Show it" if one_hidden else "Show them",
        stopped=_stopped(job, running_here),
        delisted=_delisted_note(delisted))


def _delisted_note(n: int) -> str:
    """'2 hits on delisted entries: ...', as `workbench screen --against db` notes them; '' for none."""
    if not n:
        return ""
    one = n == 1
    return (f"{counted(n, 'hit')} on {'a delisted entry' if one else 'delisted entries'}: no list still "
            f"names {'it' if one else 'them'}. The review queue marks {'it' if one else 'them'} “delisted”.")


def _stopped(job: ScreeningJob, running_here: bool) -> str:
    """A job left 'running' or 'queued' by a server that stopped (restarted, killed) said 'running' with no error,
    and nothing but the Resume button told it was not: say what happened and what Resume does."""
    if running_here or job.status not in ("queued", "running"):
        return ""
    return (f"Not running on this server: it was stopped after {counted(job.done_rows or 0, 'row')} (the server "
            "restarted), or it runs on another server. Resume goes on from there; if another server is running it, "
            "the second run stops at its first batch and no hit is stored twice.")


@dataclass
class JobRow:
    """A screening job as the lists show it: by the title its source was given (three uploads of
    'roll.csv' are told apart), with the hits still open and those hidden by earlier rejections."""

    job: ScreeningJob
    title: str
    open: int = 0
    hidden: int = 0
    unsure: int = 0


def job_rows(session: Session, jobs: list[ScreeningJob]) -> list[JobRow]:
    from workbench.store.models import ReviewItem

    ids = [j.id for j in jobs]
    if not ids:
        return []
    source_ids = [j.source_id for j in jobs if j.source_id]
    titles = dict(session.execute(select(Source.id, Source.title).where(Source.id.in_(source_ids))).all()) \
        if source_ids else {}
    counts = session.execute(select(ReviewItem.job_id, ReviewItem.status, func.count())
                             .where(ReviewItem.job_id.in_(ids), ReviewItem.status.in_(("open", "unsure", "hidden")))
                             .group_by(ReviewItem.job_id, ReviewItem.status)).all()
    by_job: dict[str, dict[str, int]] = defaultdict(dict)
    for job_id, status, n in counts:
        by_job[job_id][status] = int(n)
    return [JobRow(j, titles.get(j.source_id) or j.file_name, by_job[j.id].get("open", 0),
                   by_job[j.id].get("hidden", 0), by_job[j.id].get("unsure", 0)) for j in jobs]
