"""Domain services for entities, names, links, sources, citations and notes.

Every service validates against ``schema/``, checks the actor's permission, writes its audit entry
in the caller's transaction, and leaves committing to the caller's session scope, so a multi-step
change that fails part-way leaves nothing behind. Routes and CLI commands call these; they never
touch the models directly.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workbench.schema import EntityKind, Registry, ValidationError, registry
from workbench.store import audit
from workbench.store.models import (
    AuditEntry,
    Citation,
    Dossier,
    Entity,
    Exhibit,
    Link,
    Merge,
    Name,
    Note,
    ScreeningJob,
    Source,
    new_id,
)
from workbench.store.permissions import Actor, require
from workbench.text import fold
from workbench.types import direction_control_error


class NotFound(LookupError):
    """No such object (the message names it)."""


class Conflict(Exception):
    """Somebody else changed the object since it was read (optimistic locking)."""


@dataclass
class Saved:
    """What a service returns: the object and any warnings the user should see."""

    obj: Any
    warnings: dict[str, list[str]] = field(default_factory=dict)
    changed: bool = True  # False: the values sent were those stored; nothing was written or recorded


# ---- helpers ---------------------------------------------------------------------------------

def caption_for(kind: EntityKind, properties: dict[str, list[str]]) -> str:
    for prop in kind.caption:
        values = properties.get(prop)
        if values:
            return values[0][:500]
    return kind.label


def entity_state(entity: Entity) -> dict:
    return {"kind": entity.kind, "caption": entity.caption, "properties": entity.properties}


def link_state(link: Link) -> dict:
    return {"kind": link.kind, "source": link.source_id, "target": link.target_id, "properties": link.properties}


def source_state(source: Source) -> dict:
    return {
        column: getattr(source, column)
        for column in ("url", "sha256", "file_name", "title", "publisher", "published_at", "retrieved_at",
                       "source_type", "reliability", "releasable", "notes")
    }


def citation_state(citation: Citation) -> dict:
    """Everything that makes the citation what it is, so an audit entry can restore a removed one.

    Its audit entries are filed under the entity or link it cites (as an import files them), so
    the entity's history shows a citation added or removed; the citation's own id is in the state."""
    return {"id": citation.id, "source": citation.source_id, "entity": citation.entity_id, "link": citation.link_id,
            "prop": citation.prop, "value": citation.value, "excerpt": citation.excerpt, "page": citation.page,
            "locator": citation.locator}


def _check_version(obj: Any, expected_version: int | None, label: str) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise Conflict(
            f"{label} was changed by someone else since you opened it (your version {expected_version}, "
            f"now {obj.version}). Reload it, re-apply your change, and save again."
        )


@dataclass
class Rebased:
    """An edit made against an older version, carried over onto the current one."""

    values: dict[str, Any]  # every field; None where it is empty
    mine: list[str]  # fields the user changed: their values are kept
    theirs: list[str]  # fields only the other person changed: the current values are taken
    both: list[str]  # fields both changed differently: the user's values are shown, to be checked


def rebase_edit(base: dict[str, Any], mine: dict[str, Any], current: dict[str, Any], fields) -> Rebased:
    """Three-way merge of a form after a conflict (``base``: what the user's form was opened with).

    Saving the user's form as it stood would silently undo the other person's change to every field
    the user did not touch; dropping it would lose the user's work. Each field takes whichever side
    changed it; where both did, the user's value stays in the form and the field is named.
    """
    def value(values: dict, name: str):
        found = values.get(name)
        return None if found is None or found == "" or found == [] else found

    out = Rebased({}, [], [], [])
    for name in fields:
        was, new, now = value(base, name), value(mine, name), value(current, name)
        if new != was:
            out.values[name] = new
            out.mine.append(name)
            if now != was and now != new:
                out.both.append(name)
        else:
            out.values[name] = now
            if now != was:
                out.theirs.append(name)
    return out


def _names_for(kind: EntityKind, properties: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    names: list[tuple[str, str, str]] = []
    for prop in kind.name_properties:
        for value in properties.get(prop.name, []):
            names.append((prop.name, prop.name_kind or "alias", value))
    return names


def sync_names(session: Session, entity: Entity, kind: EntityKind) -> None:
    """Make the names table mirror the entity's name properties."""
    wanted = {(p, v): k for p, k, v in _names_for(kind, entity.properties)}
    existing = {(n.prop, n.name): n for n in entity.names}
    for key, row in existing.items():
        if key not in wanted:
            entity.names.remove(row)
    for (prop, value), name_kind in wanted.items():
        row = existing.get((prop, value))
        if row is None:
            entity.names.append(Name(name=value, normalized=fold(value)[:500], name_kind=name_kind, prop=prop))
        elif row.name_kind != name_kind:
            row.name_kind = name_kind


class Deleted(NotFound):
    """The object was there and was deleted (the audit log says by whom and when)."""


def _gone(session: Session, object_type: str, object_id: str) -> NotFound:
    """Why an id names nothing: deleted (by whom, when), or never there. A page or a script holding the id of
    something deleted since is told so, not left to wonder whether the id was mistyped."""
    deleted = session.execute(
        select(AuditEntry.actor, AuditEntry.at).where(
            AuditEntry.object_type == object_type, AuditEntry.object_id == object_id,
            AuditEntry.action == f"{object_type}.delete").order_by(AuditEntry.seq.desc()).limit(1)).first()
    if deleted is None:
        return NotFound(f"no {object_type} with id {object_id!r}")
    return Deleted(f"{object_type} {object_id!r} was deleted by {deleted.actor} on {deleted.at:%Y-%m-%d %H:%M} UTC; "
                   "the audit log keeps what it held")


def _for_change(session: Session, getter, object_id: str, expected_version: int | None):
    """The object a change was asked for. Deleted since the form or script read it (a version in hand): the
    change lost a race with the delete, a conflict (409) like one with an edit, not a missing page."""
    try:
        return getter(session, object_id)
    except Deleted as exc:
        if expected_version is None:
            raise
        raise Conflict(f"{exc}, since you opened it: nothing was saved") from None


def get_entity(session: Session, entity_id: str) -> Entity:
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise _gone(session, "entity", entity_id)
    return entity


# Where each kind of a merged-away entry's names goes on the entry it was merged into (its primary name becomes
# an alias): the merge (matching.judgements) puts them there, and a re-import (sources.bulk) looks for them there.
NAME_TARGET = {"name": "alias", "alias": "alias", "weakAlias": "weakAlias", "previousName": "previousName"}


def surviving(session: Session, entity: Entity | None) -> Entity | None:
    """The entry an entity stands for now: itself, or the one it was merged into (and so on)."""
    seen: set[str] = set()
    while entity is not None and entity.merged_into and entity.id not in seen:
        seen.add(entity.id)
        entity = session.get(Entity, entity.merged_into)
    return entity


def get_live_entity(session: Session, entity_id: str, field: str = "entity") -> Entity:
    """The entity, unless it was merged into another: a change made to a merged-away entry (from a page
    opened before the merge, or an old id in a script) would sit on a record no page or graph shows."""
    entity = get_entity(session, entity_id)
    if entity.merged_into:
        kept = surviving(session, entity) or entity
        raise ValidationError({field: [f"{entity.caption} ({entity.id}) was merged into {kept.caption} ({kept.id}): "
                                       "make the change there, or undo the merge first"]})
    return entity


def get_link(session: Session, link_id: str) -> Link:
    link = session.get(Link, link_id)
    if link is None:
        raise _gone(session, "link", link_id)
    return link


def get_source(session: Session, source_id: str) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound(f"no source with id {source_id!r}")
    return source


# ---- entities --------------------------------------------------------------------------------

MAX_ID = 120  # the id columns of entities and links
_UNSAFE_ID = re.compile(r"[\s/\\?#%\x00-\x1f\x7f\"'<>`]")
# Invisible or unassigned characters: a zero-width space or a right-to-left override in an id makes two
# ids look alike, or reverses what follows it wherever the id is shown.
_INVISIBLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"))


# Words the pages' and the API's own addresses use where an id goes: an entry named so is hidden behind them.
RESERVED_IDS = {"new": "/entities/new and /links/new are the forms for a new entry",
                "suggest": "/api/entities/suggest is the name autocomplete"}


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an entity or link id, or None. An id is part of page and API addresses
    (/entities/{id}): a slash, '?', '#', '%' or a space would make its page unreachable, and a longer
    id than the column holds is a database error on PostgreSQL."""
    if not value:
        return "an id cannot be empty"
    if len(value) > MAX_ID:
        return f"an id has at most {MAX_ID} characters (this one has {len(value)})"
    if value in (".", ".."):
        return f"an id cannot be {value!r} (a step in a web address, not a name)"
    if value in RESERVED_IDS:
        return f"an id cannot be {value!r}: {RESERVED_IDS[value]}, so an entry of that id could never be opened"
    bad = _UNSAFE_ID.search(value)
    if bad:
        return f"an id cannot contain {bad.group()!r} (use letters, digits, '-', '_', '.' or ':')"
    hidden = next((ch for ch in value if unicodedata.category(ch) in _INVISIBLE), None)
    if hidden is not None:
        return (f"an id cannot contain the invisible character U+{ord(hidden):04X} "
                f"({unicodedata.name(hidden, 'unnamed')}; use letters, digits, '-', '_', '.' or ':')")
    return None


def create_entity(session: Session, actor: Actor, kind: str, properties: dict[str, Any],
                  entity_id: str | None = None, reg: Registry | None = None) -> Saved:
    require(actor, "edit", "create entities")
    audit.begin_change(session)
    reg = reg or registry()
    kind_spec = reg.entity_kind(kind)
    if kind_spec.abstract:
        raise ValidationError({"kind": [f"{kind} is abstract: choose one of its concrete kinds"]})
    cleaned, warnings = reg.validate_properties(kind, properties, kind_spec.properties)
    if entity_id is not None and id_problem(entity_id):
        raise ValidationError({"id": [id_problem(entity_id)]})
    if entity_id is not None and session.get(Entity, entity_id) is not None:
        raise ValidationError({"id": [f"an entity with id {entity_id!r} already exists"]})
    entity = Entity(id=entity_id or new_id(), kind=kind, caption=caption_for(kind_spec, cleaned),
                    properties=cleaned, created_by=actor.username)
    session.add(entity)
    sync_names(session, entity, kind_spec)
    session.flush()
    audit.record(session, actor.username, "entity.create", "entity", entity.id, None, entity_state(entity))
    return Saved(entity, warnings)


def _choices_in_stored_order(kind: EntityKind, cleaned: dict[str, list[str]],
                             stored: dict[str, list[str]]) -> dict[str, list[str]]:
    """Values chosen from a vocabulary (topics) come back from a form in the order of its options, not the order
    they were stored in (by an import, the API, the demo data): the same set is no change, and is kept as stored.
    Otherwise saving a note recorded 'Topics: Police, Sanctioned -> Sanctioned, Police' in the history as a
    change nobody made. Typed values keep the order given: there it may be the user's."""
    for name, values in cleaned.items():
        prop = kind.properties.get(name)
        old = stored.get(name)
        if (prop is not None and old and values != old and (prop.spec["choices"] or prop.spec["choices_from"])
                and sorted(values) == sorted(old)):
            cleaned = {**cleaned, name: list(old)}
    return cleaned


def update_entity(session: Session, actor: Actor, entity_id: str, properties: dict[str, Any],
                  expected_version: int | None = None, replace: bool = True,
                  reg: Registry | None = None) -> Saved:
    """Replace (or, with replace=False, merge in) the entity's properties."""
    require(actor, "edit", "edit entities")
    audit.begin_change(session)
    reg = reg or registry()
    entity = _for_change(session, get_live_entity, entity_id, expected_version)
    _check_version(entity, expected_version, entity.caption)
    kind_spec = reg.entity_kind(entity.kind)
    before = entity_state(entity)
    merged = dict(properties) if replace else {**entity.properties, **properties}
    cleaned, warnings = reg.validate_properties(entity.kind, merged, kind_spec.properties)
    cleaned = _choices_in_stored_order(kind_spec, cleaned, entity.properties or {})
    if cleaned == {k: v for k, v in (entity.properties or {}).items() if v}:
        # A form saved as it was opened: no new version, and no empty entry in the history.
        return Saved(entity, warnings, changed=False)
    with session.no_autoflush:
        entity.names  # load before changing, so no autoflush happens outside the conflict check
        entity.properties = cleaned
        entity.caption = caption_for(kind_spec, cleaned)
        entity.updated_at = datetime.now(UTC)
        sync_names(session, entity, kind_spec)
    caption = entity.caption
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"{caption} was changed by someone else at the same time; reload and retry") from exc
    audit.record(session, actor.username, "entity.update", "entity", entity.id, before, entity_state(entity))
    return Saved(entity, warnings)


def delete_entity(session: Session, actor: Actor, entity_id: str, expected_version: int | None = None) -> None:
    require(actor, "edit", "delete entities")
    audit.begin_change(session)
    # A merged-away entry goes with its merge (undo it first).
    entity = _for_change(session, get_live_entity, entity_id, expected_version)
    _check_version(entity, expected_version, entity.caption)
    kept = session.scalars(select(Merge.loser_id).where(Merge.winner_id == entity_id, Merge.undone_at.is_(None))).all()
    if kept:  # the merged entries' names, links and citations are held here: they would go with it, unrecorded
        raise ValidationError({"entity": [f"{entity.caption} holds the merge of {', '.join(kept)}: undo the "
                                          "merge first (its duplicates page), then delete"]})
    dossiers = session.execute(select(Dossier.title).where(Dossier.target_id == entity_id)).scalars().all()
    if dossiers:
        raise ValidationError({"entity": [f"{entity.caption} is the target of dossier(s) {', '.join(map(repr, dossiers))}; "
                                          "a dossier's target cannot be deleted"]})
    links = session.execute(
        select(Link).where(or_(Link.source_id == entity_id, Link.target_id == entity_id))
    ).scalars().all()
    # The database takes the entry's citations and notes with it: each is recorded as removed, as
    # when removed by hand, so the audit log keeps what they said.
    going = citations_for(session, entity_id=entity_id, link_ids=[link.id for link in links])
    refuse_exhibited(session, [c.id for c in going], "entity")
    for citation in going:
        audit.record(session, actor.username, "citation.delete", "citation", citation.entity_id or citation.link_id,
                     citation_state(citation), None)
    for note in session.scalars(select(Note).where(Note.entity_id == entity_id).order_by(Note.id)):
        audit.record(session, actor.username, "note.delete", "entity", entity_id, {"note": note.id, "text": note.text},
                     None)
    for link in links:
        audit.record(session, actor.username, "link.delete", "link", link.id, link_state(link), None)
        session.delete(link)
    audit.record(session, actor.username, "entity.delete", "entity", entity.id, entity_state(entity), None)
    session.delete(entity)
    session.flush()


def add_name(session: Session, actor: Actor, entity_id: str, name: str, prop: str = "alias",
             expected_version: int | None = None) -> Saved:
    require(actor, "edit", "edit entities")
    audit.begin_change(session)
    entity = get_entity(session, entity_id)
    values = list(entity.properties.get(prop, []))
    if name in values:
        return Saved(entity)
    return update_entity(session, actor, entity_id, {prop: values + [name]}, expected_version, replace=False)


def remove_name(session: Session, actor: Actor, entity_id: str, name: str, prop: str = "alias",
                expected_version: int | None = None) -> Saved:
    require(actor, "edit", "edit entities")
    audit.begin_change(session)
    entity = get_entity(session, entity_id)
    values = [v for v in entity.properties.get(prop, []) if v != name]
    if len(values) == len(entity.properties.get(prop, [])):
        raise NotFound(f"{entity.caption} has no {prop} {name!r}")
    return update_entity(session, actor, entity_id, {prop: values}, expected_version, replace=False)


# ---- links -----------------------------------------------------------------------------------

def create_link(session: Session, actor: Actor, kind: str, source_id: str, target_id: str,
                properties: dict[str, Any] | None = None, link_id: str | None = None,
                reg: Registry | None = None) -> Saved:
    require(actor, "edit", "link entities")
    audit.begin_change(session)
    reg = reg or registry()
    link_spec = reg.link_kind(kind)
    if source_id == target_id:
        raise ValidationError({"target": ["an entity cannot be linked to itself"]})
    source = get_live_entity(session, source_id, "source")
    target = get_live_entity(session, target_id, "target")
    reg.check_endpoints(link_spec, source.kind, target.kind)
    cleaned, warnings = reg.validate_properties(kind, properties or {}, link_spec.properties)
    between = _links_between(session, link_spec, source.id, target.id)
    same = next((link for link in between if link.properties == cleaned), None)
    if same is not None:  # a form sent twice (back button, double click) or an API call retried
        raise ValidationError({"link": [f"{source.caption} is already '{link_spec.label}' {target.caption} with "
                                        f"these values (link {same.id}): edit that link instead"]})
    if between:  # two terms of office are two facts; the same one entered twice would count double
        warnings = {**warnings, "link": [
            f"{source.caption} was already '{link_spec.label}' {target.caption} ({_link_summary(between)}): "
            "if this is the same fact, add its dates or citation to that link and delete this one"]}
    link = Link(id=link_id or new_id(), kind=kind, source_id=source.id, target_id=target.id, properties=cleaned,
                start_date=(cleaned.get("startDate") or [None])[0], end_date=(cleaned.get("endDate") or [None])[0],
                created_by=actor.username)
    session.add(link)
    session.flush()
    audit.record(session, actor.username, "link.create", "link", link.id, None, link_state(link))
    return Saved(link, warnings)


def _links_between(session: Session, spec, source_id: str, target_id: str) -> list[Link]:
    """The stored links of this kind between the same ends (either way round for a symmetric kind, such
    as Family), oldest first."""
    ends = [and_(Link.source_id == source_id, Link.target_id == target_id)]
    if spec.symmetric:
        ends.append(and_(Link.source_id == target_id, Link.target_id == source_id))
    return list(session.scalars(select(Link).where(Link.kind == spec.name, or_(*ends))
                                .order_by(Link.created_at, Link.id)))


def _link_summary(links: list[Link]) -> str:
    """'link 3f2a..., 2012-2015' for each stored link, so that the user can tell which one is meant."""
    parts = []
    for link in links[:3]:
        span = "-".join(d for d in (link.start_date, link.end_date) if d) or "no dates"
        parts.append(f"link {link.id}, {span}")
    more = f" and {len(links) - 3} more" if len(links) > 3 else ""
    return "; ".join(parts) + more


def _same_link(session: Session, spec, source_id: str, target_id: str, properties: dict,
               besides: str | None = None) -> Link | None:
    """A stored link of this kind between the same ends holding the same values: the same statement
    made twice."""
    for link in _links_between(session, spec, source_id, target_id):
        if link.properties == properties and link.id != besides:
            return link
    return None


def same_link_exists(session: Session, spec, link: Link, properties: dict) -> bool:
    """Whether another link between the link's ends already states these values."""
    return _same_link(session, spec, link.source_id, link.target_id, properties, besides=link.id) is not None


def update_link(session: Session, actor: Actor, link_id: str, properties: dict[str, Any],
                expected_version: int | None = None, reg: Registry | None = None) -> Saved:
    require(actor, "edit", "edit links")
    audit.begin_change(session)
    reg = reg or registry()
    link = _for_change(session, get_link, link_id, expected_version)
    _check_version(link, expected_version, f"{link.kind} link")
    before = link_state(link)
    spec = reg.link_kind(link.kind)
    cleaned, warnings = reg.validate_properties(link.kind, properties, spec.properties)
    same = _same_link(session, spec, link.source_id, link.target_id, cleaned, besides=link.id)
    if same is not None:  # edited into a copy of another: the same statement twice
        raise ValidationError({"link": [f"link {same.id} already states this with these values: edit or remove "
                                        "that one instead"]})
    link.properties = cleaned
    link.start_date = (cleaned.get("startDate") or [None])[0]
    link.end_date = (cleaned.get("endDate") or [None])[0]
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("the link was changed by someone else at the same time; reload and retry") from exc
    audit.record(session, actor.username, "link.update", "link", link.id, before, link_state(link))
    return Saved(link, warnings)


def delete_link(session: Session, actor: Actor, link_id: str, expected_version: int | None = None) -> None:
    require(actor, "edit", "delete links")
    audit.begin_change(session)
    link = _for_change(session, get_link, link_id, expected_version)
    _check_version(link, expected_version, f"{link.kind} link")
    # The database takes the link's citations with it.
    refuse_exhibited(session, session.scalars(select(Citation.id).where(Citation.link_id == link.id)), "link")
    audit.record(session, actor.username, "link.delete", "link", link.id, link_state(link), None)
    session.delete(link)
    session.flush()


def links_of(session: Session, entity_id: str) -> list[Link]:
    return list(
        session.execute(
            select(Link).where(or_(Link.source_id == entity_id, Link.target_id == entity_id)).order_by(Link.kind)
        ).scalars()
    )


# ---- sources and citations -------------------------------------------------------------------

SOURCE_FIELDS = ("url", "title", "publisher", "published_at", "source_type", "reliability", "releasable", "notes")
SOURCE_LIMITS = {"url": 2000, "title": 500, "publisher": 300}  # the columns' sizes (PostgreSQL enforces them)


def validate_source_fields(fields: dict[str, Any], reg: Registry) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    title = (fields.get("title") or "").strip()
    if not title:
        errors["title"] = ["a source needs a title"]
    for key, limit in SOURCE_LIMITS.items():
        value = (title if key == "title" else fields.get(key)) or ""
        if len(value) > limit:
            errors[key] = [f"at most {limit} characters (this one has {len(value)})"]
    for key in ("title", "publisher", "notes"):
        problem = direction_control_error(str(fields.get(key) or ""))
        if problem:
            errors.setdefault(key, []).extend(problem)
    url = fields.get("url")
    if url:
        from workbench.types import check_url

        checked = check_url(url, {}, reg)
        if checked.errors:
            errors["url"] = checked.errors
    if fields.get("published_at"):
        from workbench.types import check_date

        checked = check_date(fields["published_at"], {}, reg)
        if checked.errors:
            errors["published_at"] = checked.errors
    source_type = fields.get("source_type") or "other"
    if source_type not in reg.vocabularies["source_types"]:
        errors["source_type"] = [f"unknown source type {source_type!r}"]
    reliability = fields.get("reliability") or "F"
    if reliability not in reg.vocabularies["reliability_grades"]:
        errors["reliability"] = [f"unknown reliability grade {reliability!r} (A-F)"]
    if errors:
        raise ValidationError(errors)
    cleaned = {k: fields.get(k) for k in SOURCE_FIELDS if k in fields}
    cleaned.update(title=title, source_type=source_type, reliability=reliability)
    return cleaned


def source_with_file(session: Session, sha256: str) -> Source | None:
    """The source that already holds these bytes: the same file uploaded or imported again is the
    same source, not a second one."""
    return session.scalar(select(Source).where(Source.sha256 == sha256).order_by(Source.created_at).limit(1))


def create_source(session: Session, actor: Actor, *, source_id: str | None = None, sha256: str | None = None,
                  file_name: str | None = None, media_type: str | None = None, size: int | None = None,
                  retrieved_at: datetime | None = None, reg: Registry | None = None, **fields: Any) -> Source:
    require(actor, "edit", "add sources")
    reg = reg or registry()
    if fields.get("releasable") is None:  # not said: withheld for a leak, releasable for the others
        fields["releasable"] = (fields.get("source_type") or "other") not in reg.vocabularies.get(
            "withheld_source_types", {})
    needs_url = "a source needs a URL or an uploaded file"
    try:
        cleaned = validate_source_fields(fields, reg)
    except ValidationError as exc:  # every problem at once: the missing URL or file among the others
        if fields.get("url") or sha256:
            raise
        raise ValidationError({**exc.errors, "url": [*exc.errors.get("url", []), needs_url]}) from None
    if not cleaned.get("url") and not sha256:
        raise ValidationError({"url": [needs_url]})
    source = Source(id=source_id or new_id(), sha256=sha256, file_name=file_name, media_type=media_type, size=size,
                    retrieved_at=retrieved_at or datetime.now(UTC), created_by=actor.username, **cleaned)
    session.add(source)
    session.flush()
    audit.record(session, actor.username, "source.create", "source", source.id, None, source_state(source))
    return source


def update_source(session: Session, actor: Actor, source_id: str, expected_version: int | None = None,
                  reg: Registry | None = None, **fields: Any) -> Source:
    """Change the descriptive fields given (the others are kept). The stored file and its SHA-256 are
    the chain of custody and never change: another file is another source."""
    require(actor, "edit", "edit sources")
    audit.begin_change(session)
    reg = reg or registry()
    source = get_source(session, source_id)
    _check_version(source, expected_version, f"source {source.title!r}")
    before = source_state(source)
    merged = {k: getattr(source, k) for k in SOURCE_FIELDS}
    merged.update((k, v) for k, v in fields.items() if k in SOURCE_FIELDS)
    cleaned = validate_source_fields(merged, reg)
    if not cleaned.get("url") and not source.sha256:
        raise ValidationError({"url": ["a source without a stored file needs its URL"]})
    title = source.title
    for key, value in cleaned.items():
        setattr(source, key, value)
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"source {title!r} was changed by someone else at the same time; reload and retry") from exc
    audit.record(session, actor.username, "source.update", "source", source.id, before, source_state(source))
    return source


def source_rests_on(session: Session, source: Source) -> str | None:
    """Why a source cannot be deleted (cited, a screening job's roll, an exhibit's evidence), or None.
    The delete refuses with it, and the source's page offers no Delete then."""
    cited = session.scalar(select(func.count()).select_from(Citation).where(Citation.source_id == source.id))
    if cited:
        return f"{source.title!r} is cited {cited} time(s): remove those citations first (they are listed on its page)"
    jobs = session.scalar(select(func.count()).select_from(ScreeningJob).where(ScreeningJob.source_id == source.id))
    if jobs:  # the roll a job screens: its hits are confirmed against it, and a resumed job reads it
        return f"{source.title!r} is the roll of {jobs} screening job(s): it cannot be deleted"
    exhibits = session.execute(select(Exhibit.number, Dossier.title).join(Dossier, Dossier.id == Exhibit.dossier_id)
                               .where(Exhibit.source_id == source.id).order_by(Dossier.title, Exhibit.number)).all()
    if exhibits:
        named = "; ".join(f"exhibit {number} of dossier {title!r}" for number, title in exhibits[:3])
        return f"{source.title!r} is the evidence of {named}{' and more' if len(exhibits) > 3 else ''}: it cannot be deleted"
    return None


def delete_source(session: Session, actor: Actor, source_id: str, expected_version: int | None = None) -> str:
    """Delete a source nothing rests on (a second upload of one file, a URL added twice); returns its title.
    The audit entry keeps every field; the stored bytes stay (other sources may hold the same file)."""
    require(actor, "edit", "delete sources")
    audit.begin_change(session)
    source = get_source(session, source_id)
    _check_version(source, expected_version, f"source {source.title!r}")
    reason = source_rests_on(session, source)
    if reason:
        raise ValidationError({"source": [reason]})
    title = source.title
    audit.record(session, actor.username, "source.delete", "source", source.id, source_state(source), None)
    session.delete(source)
    session.flush()
    return title


def cite(session: Session, actor: Actor, source_id: str, *, entity_id: str | None = None,
         link_id: str | None = None, prop: str | None = None, value: str | None = None,
         excerpt: str | None = None, page: str | None = None, locator: str | None = None) -> Citation:
    """Attach a source to an entity (or one of its property values) or to a link."""
    require(actor, "edit", "cite sources")
    audit.begin_change(session)
    if (entity_id is None) == (link_id is None):
        raise ValidationError({"subject": ["cite either an entity or a link"]})
    get_source(session, source_id)
    if excerpt is not None and len(excerpt) > MAX_EXCERPT:
        raise ValidationError({"excerpt": [f"an excerpt is at most {MAX_EXCERPT:,} characters (this one has "
                                           f"{len(excerpt):,}): quote the passage, and give the page"]})
    check_page(page)
    if value is not None and prop is None:
        raise ValidationError({"prop": ["name the property whose value this cites (or leave the value out "
                                        "to cite the whole entry)"]})
    if entity_id is not None:
        entity = get_live_entity(session, entity_id)
        if prop is not None:
            if prop not in registry().entity_kind(entity.kind).properties:
                raise ValidationError({"prop": [f"{entity.kind} has no property {prop!r}"]})
            if value is not None and value not in entity.properties.get(prop, []):
                raise ValidationError({"value": [f"{entity.caption} has no {prop} value {value!r}"]})
    else:
        get_link(session, link_id)
    citation = Citation(source_id=source_id, entity_id=entity_id, link_id=link_id, prop=prop, value=value,
                        excerpt=excerpt, page=page, locator=locator, created_by=actor.username)
    session.add(citation)
    session.flush()
    audit.record(session, actor.username, "citation.create", "citation", citation.entity_id or citation.link_id,
                 None, citation_state(citation))
    return citation


MAX_EXCERPT = 20_000  # characters: a passage quoted from a source, shown inline on the entity's page
MAX_PAGE = 200  # characters in a page locator ('p. 12, párrafo tercero, línea 4 a 9 del anexo B'): its column's
MAX_ROW_ID = 2**31 - 1  # integer ids are 32-bit on PostgreSQL: a larger one names nothing, never an error


def check_page(page: str | None) -> None:
    """A page locator too long for its column is refused, naming the field, on every database (PostgreSQL
    answered a longer one with a server error, SQLite stored it, and the backup then would not restore)."""
    if page is not None and len(page) > MAX_PAGE:
        raise ValidationError({"page": [f"a page locator is at most {MAX_PAGE} characters (this one has "
                                        f"{len(page):,}): give the page, and quote the passage as the excerpt"]})


def get_citation(session: Session, citation_id: int) -> Citation:
    citation = session.get(Citation, citation_id) if 0 < citation_id <= MAX_ROW_ID else None
    if citation is None:
        raise NotFound(f"no citation {citation_id}")
    return citation


# Dossiers whose exhibits must keep their citations: the exhibit's citation would silently become
# NULL (ondelete SET NULL) under a package being reviewed or already approved.
EXHIBIT_HOLDING_STATES = {"submitted": "under review", "approved": "approved"}


def _exhibiting(session: Session, citation_ids: Iterable[int]) -> list:
    """(citation id, exhibit number, dossier id, title, version, state) for each of these citations that is the
    evidence of an exhibit of a dossier under review or approved."""
    ids = sorted(set(citation_ids))
    if not ids:
        return []
    return list(session.execute(
        select(Exhibit.citation_id, Exhibit.number, Dossier.id, Dossier.title, Dossier.number, Dossier.state)
        .join(Dossier, Dossier.id == Exhibit.dossier_id)
        .where(Exhibit.citation_id.in_(ids), Dossier.state.in_(list(EXHIBIT_HOLDING_STATES)))
        .order_by(Exhibit.citation_id, Dossier.title, Dossier.number, Exhibit.number)
    ).all())


def exhibited_citations(session: Session, citation_ids: Iterable[int]) -> dict[int, str]:
    """Which of these citations cannot be removed, and why in a few words ('evidence of exhibit 3 of dossier
    'X', approved'): the pages say so where they would offer 'Remove citation' (which was offered, and refused
    after its confirmation)."""
    held: dict[int, str] = {}
    for cid, exhibit, _dossier_id, title, _version, state in _exhibiting(session, citation_ids):
        held.setdefault(cid, f"evidence of exhibit {exhibit} of dossier {title!r}, {EXHIBIT_HOLDING_STATES[state]}")
    return held


def refuse_exhibited(session: Session, citation_ids: Iterable[int], field: str = "citation") -> None:
    """ValidationError naming the dossier when one of these citations is the evidence of an exhibit of a
    dossier under review or approved: what the reviewer read (and the record of what was approved) must
    not lose its evidence. A draft's or a returned dossier's exhibit may lose it: its authors see that."""
    rows = _exhibiting(session, citation_ids)
    if rows:
        raise ValidationError({field: [
            f"citation {cid} is the evidence of exhibit {exhibit} of dossier {title!r} ({dossier_id}, version "
            f"{version}, {EXHIBIT_HOLDING_STATES[state]}): a dossier under review or approved keeps the evidence "
            "it was reviewed on, so the citation cannot be removed"
            + (" (have the dossier returned and the exhibit removed first)" if state == "submitted" else "")
            for cid, exhibit, dossier_id, title, version, state in rows]})


def delete_citation(session: Session, actor: Actor, citation_id: int) -> None:
    """Remove a citation; its audit entry keeps all of it (excerpt and page included), so nothing is lost."""
    require(actor, "edit", "remove citations")
    audit.begin_change(session)
    citation = get_citation(session, citation_id)
    refuse_exhibited(session, [citation.id])
    audit.record(session, actor.username, "citation.delete", "citation", citation.entity_id or citation.link_id,
                 citation_state(citation), None)
    session.delete(citation)
    session.flush()


def still_held(citation: Citation, properties: dict[str, list[str]] | None) -> bool:
    """Whether the value a citation supports is still one its entry or link holds (a citation of the whole
    entry, or of a property, always is): a corrected date of birth leaves the old one's citation behind,
    shown on the entry's page under values no longer held, and no dossier may rest on it."""
    if not citation.prop or citation.value is None:
        return True
    return citation.value in (properties or {}).get(citation.prop, [])


def citations_for(session: Session, *, entity_id: str | None = None, link_ids: Iterable[str] = (),
                  entity_ids: Iterable[str] = ()) -> list[Citation]:
    conditions = []
    entity_ids = [*([entity_id] if entity_id is not None else []), *entity_ids]
    if entity_ids:
        conditions.append(Citation.entity_id.in_(entity_ids))
    link_ids = list(link_ids)
    if link_ids:
        conditions.append(Citation.link_id.in_(link_ids))
    if not conditions:
        return []
    return list(session.execute(select(Citation).where(or_(*conditions)).order_by(Citation.id)).scalars())


# ---- notes -----------------------------------------------------------------------------------

def add_note(session: Session, actor: Actor, entity_id: str, text: str) -> Note:
    require(actor, "edit", "add notes")
    audit.begin_change(session)
    get_live_entity(session, entity_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": ["a note cannot be empty"]})
    problem = direction_control_error(text)
    if problem:
        raise ValidationError({"text": problem})
    note = Note(entity_id=entity_id, author=actor.username, text=text)
    session.add(note)
    session.flush()
    audit.record(session, actor.username, "note.create", "entity", entity_id, None, {"note": note.id, "text": text})
    return note


# ---- statistics ------------------------------------------------------------------------------

def stats(session: Session) -> dict:
    """The store's contents as lists and pages count them: an entry merged into another is no entry of its own
    (it is counted apart, as ``merged``), so a kind's count and its list agree."""
    entities = dict(session.execute(select(Entity.kind, func.count()).where(Entity.merged_into.is_(None))
                                    .group_by(Entity.kind)).all())
    merged = int(session.scalar(select(func.count()).select_from(Entity).where(Entity.merged_into.is_not(None))) or 0)
    links = dict(session.execute(select(Link.kind, func.count()).group_by(Link.kind)).all())
    return {
        "entities": {k: int(v) for k, v in sorted(entities.items())},
        "links": {k: int(v) for k, v in sorted(links.items())},
        "names": int(session.scalar(select(func.count()).select_from(Name)) or 0),
        "sources": int(session.scalar(select(func.count()).select_from(Source)) or 0),
        "citations": int(session.scalar(select(func.count()).select_from(Citation)) or 0),
        "merged": merged,
    }


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "Conflict",
    "NotFound",
    "Saved",
    "add_name",
    "add_note",
    "citation_state",
    "citations_for",
    "cite",
    "create_entity",
    "create_link",
    "create_source",
    "delete_citation",
    "delete_entity",
    "delete_link",
    "get_citation",
    "get_entity",
    "get_link",
    "get_live_entity",
    "get_source",
    "links_of",
    "remove_name",
    "same_link_exists",
    "stats",
    "sync_names",
    "update_entity",
    "update_link",
    "update_source",
]
