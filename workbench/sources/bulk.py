"""Bulk upserts for importers: the same rules as the domain services, at list scale.

An OFAC import writes ~100k rows (entities, names, links, citations, audit entries). Going
through ``create_entity`` one row at a time costs a flush and an audit round trip per row, so
the importers plan their changes here instead: every value is validated against ``schema/``
exactly as the services do, link endpoints are checked, each change gets its audit entry (one
chained batch via ``audit.record_many``), and rows go to the database with executemany in the
caller's transaction. Stable ids make a re-import compare and update in place.

A re-import never drops what users entered since the last import: each stored entity or link it
changes is merged three ways (``BulkWriter._keep_user_values``) from base, the values the last
import of it gave (its audit entry: the importer marks its own with ``"import"``), ours, the values
stored now, and theirs, what the file says. Each property becomes theirs followed by the values of
ours that are not in base (a user's), and the summary says so; a value the file no longer gives and
no user added goes, as before. The importer's audit entry names the users' values it kept, so the
next import still tells them from the file's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from workbench.faults import checkpoint
from workbench.schema import Registry, ValidationError, registry
from workbench.store import audit
from workbench.store.entities import NAME_TARGET, Conflict, _names_for, caption_for
from workbench.store.models import AuditEntry, Citation, Entity, Link, Name
from workbench.store.permissions import Actor, require
from workbench.text import fold, sort_key

IMPORTER_VERSION = "workbench.sources 0.1"
CHUNK = 2000
# Planned inserts are tuples in these column orders (audit.bulk_insert takes them as they are).
_ENTITY_COLUMNS = ("id", "kind", "caption", "properties", "created_at", "updated_at", "created_by", "version",
                   "sort_key")
_NAME_COLUMNS = ("entity_id", "name", "normalized", "name_kind", "prop")
_LINK_COLUMNS = ("id", "kind", "source_id", "target_id", "properties", "start_date", "end_date", "created_at",
                 "updated_at", "created_by", "version")
_CITATION_COLUMNS = ("source_id", "entity_id", "link_id", "prop", "value", "excerpt", "locator", "created_at",
                     "created_by")
# What the importer adds to the state of each entity entry it writes ("import"), so that the next
# import finds what this one wrote (the base of its three-way merge); with "user_values" (property ->
# values) when the state holds values users added, which are not the file's.
_IMPORTED = {"importer": IMPORTER_VERSION}
_IMPORTED_TEXT = audit.canonical_state(_IMPORTED)


@dataclass
class ImportSummary:
    """What the user is told at the end: created, updated, skipped and rejected (with reasons)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    details: dict[str, int] = field(default_factory=dict)

    def reject(self, where: str, reason: str) -> None:
        self.rejected.append((where, reason))

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "skipped": self.skipped,
                "rejected": [{"where": w, "reason": r} for w, r in self.rejected],
                "warnings": len(self.warnings), **self.details}


def _merged(kind_spec, old: dict, new: dict, keep: Iterable[str], merge: Iterable[str]) -> dict[str, list[str]]:
    """The new values, with ``keep``'s stored properties the new ones lack and ``merge``'s stored
    values before the new ones they do not repeat."""
    merged = dict(new)
    for prop in keep:
        if prop in old and prop not in merged and prop in kind_spec.properties:
            merged[prop] = old[prop]
    for prop in merge:
        if prop in old and prop in kind_spec.properties:
            stored = list(old[prop])
            merged[prop] = stored + [v for v in merged.get(prop, []) if v not in stored]
    return merged


def _import_base(action: str, before: Any, after: Any) -> dict[str, list[str]] | None:
    """The values an import wrote, from its audit entry (of an entity or a link): the state's
    properties less the users' values it kept; None when a user (a page, the API, a merge) wrote the
    entry. Entries an importer wrote before it marked them are told by their shape where they can be:
    an import's entity update records the state before it without a caption (the services' with
    one), and an import's create holds the citations it made. (An unmarked link update cannot be told
    from a user's: it counts as a user's, so its values are kept rather than lost.)"""
    if not isinstance(after, dict):
        return None
    mark = after.get("import")
    if mark is False:  # written through an importer's writer by a user (a screening confirmation)
        return None
    if isinstance(mark, dict):
        users = mark.get("user_values") or {}
        return {prop: [v for v in values if v not in users.get(prop, ())]
                for prop, values in (after.get("properties") or {}).items()}
    if (action == "entity.update" and isinstance(before, dict) and "caption" not in before) or \
            (action in ("entity.create", "link.create") and "citations" in after):
        return after.get("properties") or {}
    return None


@dataclass
class _ThreeWay:
    """A stored entity's or link's values merged with what users added since the last import."""

    merged: dict[str, list[str]]  # theirs, then the users' values theirs lacks
    users: dict[str, list[str]]  # ours less base: what users added (all of it in ``merged``)
    kept: dict[str, int]  # of the users' values, how many theirs lacked, by property
    back: dict[str, int]  # values users removed since the last import that theirs gives again, by property

    def told(self) -> list[str]:
        """What the summary says about the users' values (nothing when none was at stake)."""
        out = []
        if self.kept:
            out.append(f"kept {sum(self.kept.values())} value(s) a user added since the last import "
                       f"({', '.join(sorted(self.kept))})")
        if self.back:
            out.append(f"{sum(self.back.values())} value(s) a user removed since the last import are back: the file "
                       f"still gives them ({', '.join(sorted(self.back))})")
        return out


def _three_way(base: dict[str, list[str]], ours: dict[str, list[str]], theirs: dict[str, list[str]],
               known: Iterable[str]) -> _ThreeWay:
    """Each property: theirs, followed by the values of ours that are not in base (in ours' order,
    without repeats); ``known``: the properties the kind has (a kind changed by the file holds no others)."""
    merged = {prop: list(values) for prop, values in theirs.items()}
    result = _ThreeWay(merged, {}, {}, {})
    for prop, values in ours.items():
        if not values or prop not in known:
            continue
        given = set(base.get(prop, ()))
        added = [v for v in values if v not in given]
        if not added:
            continue
        result.users[prop] = added
        have = merged.setdefault(prop, [])
        held = set(have)
        for value in added:
            if value not in held:
                held.add(value)
                have.append(value)
                result.kept[prop] = result.kept.get(prop, 0) + 1
    for prop, values in base.items():
        held, given = set(ours.get(prop, ())), set(theirs.get(prop, ()))
        count = sum(1 for v in values if v not in held and v in given)
        if count:
            result.back[prop] = count
    return result


def _same_values(stored: dict[str, Any], planned: dict[str, list[str]]) -> bool:
    """The same values under the same properties, in any order: a file listing a stored entity's
    topics in another order (an FtM export read back) changes nothing, and its order stays."""
    stored = {k: v for k, v in stored.items() if v}
    planned = {k: v for k, v in planned.items() if v}
    return stored.keys() == planned.keys() and all(sorted(stored[k]) == sorted(planned[k]) for k in planned)


@dataclass
class _CreatedState:
    """An entity's create-audit state, assembled as canonical JSON text without re-serialising."""

    caption: str
    kind: str
    properties: str
    marked: bool = True  # an importer's entry, or a screening confirmation's ("import": false)

    def text(self, citations: list[dict] | None) -> audit.RawJSON:
        parts = ['{"caption":', audit.canonical_state(self.caption)]
        if citations:
            parts += [',"citations":', audit.canonical_state(citations)]
        parts += [',"import":', _IMPORTED_TEXT if self.marked else "false"]
        parts += [',"kind":', audit.canonical_state(self.kind), ',"properties":', self.properties, "}"]
        return audit.RawJSON("".join(parts))


class BulkWriter:
    """Collects planned upserts and writes them in bulk; nothing is committed here."""

    def __init__(self, session: Session, actor: Actor, summary: ImportSummary | None = None,
                 reg: Registry | None = None, marks: bool = True):
        """``marks``: this writer is an importer's, whose audit entries are the base the next import
        merges against. A screening confirmation writes through it too, unmarked: what a researcher
        confirms is theirs, and a later import of the list must keep it."""
        require(actor, "edit", "import data")
        # Queue with every other writer before reading anything: a merge or a delete a user commits while the
        # import plans is seen, and waits for the import. (An import of a file already held as a source took
        # the lock only at its first write, so its links landed on an entry merged away meanwhile.)
        audit.begin_change(session)
        self.session = session
        self.actor = actor
        self.marks = marks
        # An unmarked entry says so ("import": false): the shape by which entries written before imports
        # were marked are told (_import_base) would otherwise take it for an import's.
        self._mark = {"import": _IMPORTED if marks else False}
        self.reg = reg or registry()
        self.summary = summary or ImportSummary()
        self.now = datetime.now(UTC)
        self.existing: dict[str, tuple[str, dict, int]] = {}
        self.existing_links: dict[str, tuple[str, str, str, dict, int]] = {}
        self.kinds: dict[str, str] = {}
        self._entity_inserts: list[dict] = []
        self._entity_updates: list[dict] = []
        self._name_rows: dict[str, list[tuple]] = {}  # entity id -> its planned names (replaced whole)
        self._names_to_replace: list[str] = []
        # Where this batch plans an entity's insert (insert, audit entry) or update (update, audit
        # entry, the stored version, the stored state), to fold a later change of it into them.
        self._planned_insert: dict[str, tuple[int, int]] = {}
        self._planned_update: dict[str, tuple[int, int, int, dict]] = {}
        self._planned_link_update: dict[str, tuple[int, int, int, dict]] = {}  # the same for links
        self._updates_counted: dict[str, int] = {}  # stored entity or link -> the updates the summary counts of it
        self._user_warnings = 0  # warnings about users' values, put before the others
        self._link_inserts: list[dict] = []
        self._link_updates: list[dict] = []
        self._citations: list[dict] = []
        self._cited: set[tuple] = set()
        self._cited_loaded: set[str] = set()
        self._audit: list[tuple[str, str, str, Any, Any]] = []
        self.pending_ids: set[str] = set()
        self._new_props: dict[str, dict] = {}
        self._new_link_props: dict[str, dict] = {}
        self._folded: dict[str, str] = {}
        self._checked: dict[int, dict] = {}
        self._endpoints_ok: set[tuple[str, str, str]] = set()
        # Set once every stored row whose id starts with it has been loaded (prefix mode): ids with
        # this prefix need no lookup.
        self._complete: str | None = None
        self._looked_up: set[str] = set()
        self._merged_into: dict[str, str] = {}  # stored entities a user merged into another
        self._told_merged: set[str] = set()  # merged-away entries whose change this import has said
        # Stored entities this import names, with every value it gave them (over all its rows), for
        # ``tell_user_values``: a table import adds to what is stored, so users' values never differ from
        # what it writes, and only what the file gave tells them apart.
        self._given: dict[str, dict[str, list[str]]] = {}

    # ---- loading what is already there -----------------------------------------------------
    def load_existing(self, *, prefix: str | None = None, ids: Iterable[str] | None = None) -> None:
        query = select(Entity.id, Entity.kind, Entity.properties, Entity.version, Entity.merged_into)
        link_query = select(Link.id, Link.kind, Link.source_id, Link.target_id, Link.properties, Link.version)
        if prefix is not None:
            self._complete = prefix
            query = query.where(Entity.id.like(prefix + "%"))
            link_query = link_query.where(Link.id.like(prefix + "%"))
        elif ids is not None:
            wanted = list(ids)
            self._looked_up.update(wanted)
            for start in range(0, len(wanted), 900):
                chunk = wanted[start:start + 900]
                for row in self.session.execute(query.where(Entity.id.in_(chunk))):
                    self._keep_stored(row.id, row)
                for row in self.session.execute(link_query.where(Link.id.in_(chunk))):
                    self.existing_links[row.id] = (row.kind, row.source_id, row.target_id, row.properties or {},
                                                   row.version)
            return
        for row in self.session.execute(query):
            self._keep_stored(row.id, row)
        for row in self.session.execute(link_query):
            self.existing_links[row.id] = (row.kind, row.source_id, row.target_id, row.properties or {}, row.version)

    def _loaded(self, object_id: str) -> bool:
        return object_id in self._looked_up or (self._complete is not None and object_id.startswith(self._complete))

    def _stored_entity(self, entity_id: str) -> tuple[str, dict, int] | None:
        """(kind, properties, version) of an entity in the database, looked up once when not loaded."""
        found = self.existing.get(entity_id)
        if found is None and entity_id not in self.pending_ids and not self._loaded(entity_id):
            self._looked_up.add(entity_id)
            row = self.session.execute(select(Entity.kind, Entity.properties, Entity.version, Entity.merged_into)
                                       .where(Entity.id == entity_id)).first()
            if row is not None:
                found = self._keep_stored(entity_id, row)
        return found

    def _keep_stored(self, entity_id: str, row) -> tuple[str, dict, int]:
        found = self.existing[entity_id] = (row.kind, row.properties or {}, row.version)
        self.kinds[entity_id] = row.kind
        if row.merged_into:
            self._merged_into[entity_id] = row.merged_into
        return found

    def surviving(self, entity_id: str) -> str:
        """The entry a stored entity stands for now: itself, or the one a user merged it into (and so
        on). A row about a parcel merged into another belongs to the kept parcel, the one pages show."""
        self.kind_of(entity_id)  # looked up once, with what it was merged into
        seen: list[str] = []
        while entity_id in self._merged_into and entity_id not in seen:  # a chain of merges, never a loop
            seen.append(entity_id)
            entity_id = self._merged_into[entity_id]
            self.kind_of(entity_id)
        return entity_id

    def _stored_link(self, link_id: str) -> tuple[str, str, str, dict, int] | None:
        found = self.existing_links.get(link_id)
        if found is None and link_id not in self.pending_ids and not self._loaded(link_id):
            self._looked_up.add(link_id)
            row = self.session.execute(select(Link.kind, Link.source_id, Link.target_id, Link.properties,
                                              Link.version).where(Link.id == link_id)).first()
            if row is not None:
                found = self.existing_links[link_id] = (row.kind, row.source_id, row.target_id, row.properties or {},
                                                        row.version)
        return found

    def kind_of(self, entity_id: str) -> str | None:
        """The kind of an entity already stored or planned in this import (None: neither)."""
        kind = self.kinds.get(entity_id)
        if kind is None:
            found = self._stored_entity(entity_id)
            kind = found[0] if found else None
        return kind

    def has_link(self, link_id: str) -> bool:
        """Whether the link is stored or planned in this import."""
        return link_id in self.pending_ids or self._stored_link(link_id) is not None

    def existing_properties(self, entity_id: str) -> dict | None:
        """The entity's properties as they will be after the next flush (planned or stored)."""
        if entity_id in self._new_props:
            return self._new_props[entity_id]
        found = self.existing.get(entity_id)
        return found[1] if found else None

    def validate(self, owner: str, properties: dict[str, Any], known: dict, partial: bool = False) -> tuple[dict, dict]:
        """Registry.validate_properties with each (property, value) checked once per import."""
        return self.reg.validate_properties(owner, properties, known, partial=partial, memo=self._checked)

    def _without_failing(self, kind: str, kind_spec, properties: dict[str, Any], exc: ValidationError,
                         where: str) -> dict[str, Any]:
        """The properties less each value that fails on its own (warned); raises ``exc`` again when a
        failing property is required or unknown, or when nothing could be told apart."""
        kept = {k: v for k, v in properties.items() if k not in exc.errors}
        for prop in exc.errors:
            spec = kind_spec.properties.get(prop)
            if spec is None or spec.required or prop not in properties:
                raise exc
            values = properties[prop] if isinstance(properties[prop], list) else [properties[prop]]
            good = []
            for value in values:
                try:
                    self.validate(kind, {**kept, prop: [value]}, kind_spec.properties)
                    good.append(value)
                except ValidationError as one:
                    reason = "; ".join(one.errors.get(prop, [])) or str(one)
                    self.summary.warnings.append((where, f"{prop} {value!r} left out: {reason}"))
            if good:
                kept[prop] = good
            else:
                kept.pop(prop)
        return kept

    # ---- planning ---------------------------------------------------------------------------
    def entity(self, entity_id: str, kind: str, properties: dict[str, Any], where: str,
               keep: Iterable[str] = (), merge: Iterable[str] = (), lenient: bool = False,
               checked: tuple[dict, dict] | None = None) -> str | None:
        """Create or update one entity; ``keep`` names properties a re-import must not drop, and
        ``merge`` properties whose stored values it adds to rather than replaces (the files that
        carried the rest of them were not given this time). ``lenient``: a value that fails its
        check (a 'DOB 31 Feb 1970' in OFAC's remarks) is left out with a warning, and the entity
        goes in without it; only a required property's failure rejects the entity.

        ``checked`` is (cleaned values, warnings) of ``properties`` when the caller has validated them
        already (with ``validate``): a row-by-row importer checks a whole row before planning any of it.

        Returns "created", "updated", "unchanged", or None when the values were rejected. An update
        is planned with the file's values; ``flush`` adds the values users entered since the last
        import (``_keep_user_values``), and leaves the entity as stored (counted unchanged) when
        they were all the difference.
        """
        kind_spec = self.reg.entity_kind(kind)
        if checked is not None:
            cleaned, warnings = checked
        else:
            try:
                if kind_spec.abstract:
                    raise ValidationError({"kind": [f"{kind} is abstract"]})
                try:
                    cleaned, warnings = self.validate(kind, properties, kind_spec.properties)
                except ValidationError as exc:
                    if not lenient:
                        raise
                    properties = self._without_failing(kind, kind_spec, properties, exc, where)
                    cleaned, warnings = self.validate(kind, properties, kind_spec.properties)
            except ValidationError as exc:
                self.summary.reject(where, str(exc))
                return None
        for prop, messages in warnings.items():
            for message in messages:
                self.summary.warnings.append((where, message))
        found = self._stored_entity(entity_id)
        if found is None and entity_id in self.pending_ids:
            return self._into_planned_insert(entity_id, kind_spec, cleaned, keep, merge)
        if found is None:
            caption = caption_for(kind_spec, cleaned)
            # Serialised once: the same canonical text is the stored column and part of the audit entry.
            text = audit.RawJSON(audit.canonical_state(cleaned))
            self._planned_insert[entity_id] = (len(self._entity_inserts), len(self._audit))
            self._entity_inserts.append((entity_id, kind, caption, text, self.now, self.now, self.actor.username, 1,
                                         self.sort_key(caption)))
            self._add_names(entity_id, kind_spec, cleaned)
            self._audit.append(("entity.create", "entity", entity_id, None, _CreatedState(caption, kind, text, self.marks)))
            self._new_props[entity_id] = cleaned
            self.kinds[entity_id] = kind
            self.pending_ids.add(entity_id)
            self.summary.created += 1
            return "created"
        old_kind, old_props, version = found
        if self.marks and merge:  # an import adding to what is stored (a table's): for tell_user_values
            given = self._given.setdefault(entity_id, {})
            for prop, values in cleaned.items():
                have = given.setdefault(prop, [])
                have += [v for v in values if v not in have]
        merged = _merged(kind_spec, old_props, cleaned, keep, merge)
        if old_kind == kind and _same_values(old_props, merged):
            self.summary.skipped += 1
            return "unchanged"
        if entity_id in self._merged_into:
            self._tell_merged_away(entity_id, kind_spec, old_props, merged, where)
        caption = caption_for(kind_spec, merged)
        update = {"b_id": entity_id, "kind": kind, "caption": caption, "sort_key": self.sort_key(caption),
                  "properties": merged,
                  "updated_at": self.now, "version": version + 1, "b_version": version}
        planned = self._planned_update.get(entity_id)
        if planned is not None:
            # Updated again in this batch (a roll naming one owner on many rows): one update and one
            # audit entry from the stored state to the last, not one per row, each repeating every value.
            at_update, at_audit, first_version, before = planned
            update.update(version=first_version + 1, b_version=first_version)
            self._entity_updates[at_update] = update
            self._audit[at_audit] = ("entity.update", "entity", entity_id, before,
                                     {"kind": kind, "caption": caption, "properties": merged, **self._mark})
            version = first_version
        else:
            before = {"kind": old_kind, "properties": old_props}
            self._planned_update[entity_id] = (len(self._entity_updates), len(self._audit), version, before)
            self._entity_updates.append(update)
            self._names_to_replace.append(entity_id)
            self._audit.append(("entity.update", "entity", entity_id, before,
                                {"kind": kind, "caption": caption, "properties": merged, **self._mark}))
        self._add_names(entity_id, kind_spec, merged)
        self.existing[entity_id] = (kind, merged, version + 1)
        self.kinds[entity_id] = kind
        self.summary.updated += 1
        self._updates_counted[entity_id] = self._updates_counted.get(entity_id, 0) + 1
        return "updated"

    def _tell_merged_away(self, entity_id: str, kind_spec, old: dict, new: dict, where: str) -> None:
        """A change to an entry a user merged into another lands on the merged record, which no page shows
        (undoing the merge brings it back as the source now has it); the kept entry is the user's to edit. So
        the change is said, first among the warnings, naming the kept entry and what changed: a newer list's
        new place of birth or dropped alias would otherwise pass unseen."""
        if entity_id in self._told_merged:
            return
        self._told_merged.add(entity_id)
        changed = [spec.label.lower() for prop, spec in kind_spec.properties.items()
                   if set(old.get(prop, ())) != set(new.get(prop, ()))]
        kept = self.surviving(entity_id)
        kept_kind, kept_props, _version = self._stored_entity(kept) or (kind_spec.name, {}, 0)
        kept_caption = caption_for(self.reg.entity_kind(kept_kind), kept_props)
        message = (f"{caption_for(kind_spec, new)} ({entity_id}) was merged into {kept_caption} ({kept}): this "
                   f"import changed its {', '.join(changed) or 'values'} on the merged record only, which pages "
                   "do not show; compare the two and add to the kept entry what it lacks, or undo the merge")
        self.summary.warnings.insert(self._user_warnings, (where, message))
        self._user_warnings += 1

    def _into_planned_insert(self, entity_id: str, kind_spec, cleaned: dict, keep: Iterable[str],
                             merge: Iterable[str]) -> str:
        """An entity created earlier in this batch, named again (a new owner on several rows): the
        values ``merge`` lets it add go into the planned insert; else it is left as planned."""
        planned = self._new_props[entity_id]
        merged = _merged(kind_spec, planned, cleaned, keep, merge) if merge else planned
        if _same_values(planned, merged):
            self.summary.skipped += 1
            return "unchanged"
        at_insert, at_audit = self._planned_insert[entity_id]
        caption = caption_for(kind_spec, merged)
        text = audit.RawJSON(audit.canonical_state(merged))
        self._entity_inserts[at_insert] = (entity_id, kind_spec.name, caption, text, self.now, self.now,
                                           self.actor.username, 1, self.sort_key(caption))
        self._audit[at_audit] = ("entity.create", "entity", entity_id, None, _CreatedState(caption, kind_spec.name, text, self.marks))
        self._add_names(entity_id, kind_spec, merged)
        self._new_props[entity_id] = merged
        self.summary.updated += 1
        return "updated"

    def fold(self, text: str) -> str:
        """``fold``, remembered for the import: a list folds each name again to resolve references."""
        folded = self._folded.get(text)
        if folded is None:
            folded = self._folded[text] = fold(text)
        return folded

    def sort_key(self, caption: str) -> str:
        return sort_key(caption, self.fold(caption))  # the caption is one of the names just folded

    def _add_names(self, entity_id: str, kind_spec, properties: dict) -> None:
        seen = set()
        rows = self._name_rows[entity_id] = []
        for prop, name_kind, value in _names_for(kind_spec, properties):
            if (prop, value) in seen:
                continue
            seen.add((prop, value))
            rows.append((entity_id, value, self.fold(value)[:500], name_kind, prop))

    def link(self, link_id: str, kind: str, source_id: str, target_id: str, properties: dict[str, Any],
             where: str, keep: Iterable[str] = ()) -> str | None:
        """Create or update one link; ``keep`` names properties an update must not drop."""
        try:
            spec = self.reg.link_kind(kind)
            # A link to an entry a user merged into another goes to the entry kept, the one pages show.
            source_id, target_id = self.surviving(source_id), self.surviving(target_id)
            if source_id == target_id:
                raise ValidationError({"target": ["an entity cannot be linked to itself"]})
            source_kind, target_kind = self.kind_of(source_id), self.kind_of(target_id)
            if source_kind is None or target_kind is None:
                missing = source_id if source_kind is None else target_id
                raise ValidationError({"endpoint": [f"no entity {missing!r}"]})
            if (kind, source_kind, target_kind) not in self._endpoints_ok:  # same few kind pairs, 10^4 links
                self.reg.check_endpoints(spec, source_kind, target_kind)
                self._endpoints_ok.add((kind, source_kind, target_kind))
            cleaned, _ = self.validate(kind, properties or {}, spec.properties)
        except ValidationError as exc:
            self.summary.reject(where, str(exc))
            return None
        found = self._stored_link(link_id)
        if found is not None and keep:
            cleaned = _merged(spec, found[3], cleaned, keep, ())
        state = {"kind": kind, "source": source_id, "target": target_id, "properties": cleaned, **self._mark}
        start = (cleaned.get("startDate") or [None])[0]
        end = (cleaned.get("endDate") or [None])[0]
        if found is None:
            if link_id in self.pending_ids:
                return "unchanged"
            self._link_inserts.append((link_id, kind, source_id, target_id, audit.RawJSON(audit.column_json(cleaned)),
                                       start, end, self.now, self.now, self.actor.username, 1))
            self._new_link_props[link_id] = cleaned
            self._audit.append(("link.create", "link", link_id, None, state))
            self.pending_ids.add(link_id)
            self.summary.details["links_created"] = self.summary.details.get("links_created", 0) + 1
            return "created"
        old_kind, old_source, old_target, old_props, version = found
        if (old_kind, old_source, old_target) == (kind, source_id, target_id) and _same_values(old_props, cleaned):
            return "unchanged"
        update = {"b_id": link_id, "kind": kind, "source_id": source_id, "target_id": target_id,
                  "properties": cleaned, "start_date": start, "end_date": end,
                  "updated_at": self.now, "version": version + 1, "b_version": version}
        planned = self._planned_link_update.get(link_id)
        if planned is not None:  # updated again in this batch: one update from the stored state, as for entities
            at_update, at_audit, version, before = planned
            update.update(version=version + 1, b_version=version)
            self._link_updates[at_update] = update
            self._audit[at_audit] = ("link.update", "link", link_id, before, state)
        else:
            before = {"kind": old_kind, "source": old_source, "target": old_target, "properties": old_props}
            self._planned_link_update[link_id] = (len(self._link_updates), len(self._audit), version, before)
            self._link_updates.append(update)
            self._audit.append(("link.update", "link", link_id, before, state))
        self.existing_links[link_id] = (kind, source_id, target_id, cleaned, version + 1)
        self.summary.details["links_updated"] = self.summary.details.get("links_updated", 0) + 1
        self._updates_counted[link_id] = self._updates_counted.get(link_id, 0) + 1
        return "updated"

    def cites(self, source_id: str, *, entity_id: str | None = None, link_id: str | None = None,
              prop: str | None = None, value: str | None = None, locator: str | None = None) -> bool:
        """Whether this citation exists or is planned (for an entry merged into another: on the entry kept)."""
        self._load_citations(source_id)
        return self._cited_key(source_id, entity_id, link_id, prop, value, locator)[0] in self._cited

    def _cited_key(self, source_id: str, entity_id: str | None, link_id: str | None, prop: str | None,
                   value: str | None, locator: str | None) -> tuple[tuple, bool]:
        """The citation's key where it belongs, and whether it may be made there.

        A citation of an entry a user merged into another belongs to the entry kept, as the merge moved the
        entry's own citations there (so those count as present), and a merged-away entry takes no more.
        The merge made the entry's names the kept entry's aliases: a name's citation is the alias's. A
        value the kept entry does not hold is cited nowhere (it would support nothing shown)."""
        if entity_id is None or entity_id in self.pending_ids:
            return (source_id, entity_id, link_id, prop, value, locator), True
        kept = self.surviving(entity_id)
        if kept == entity_id:
            return (source_id, entity_id, link_id, prop, value, locator), True
        if prop is None or value is None:
            return (source_id, kept, link_id, prop, value, locator), True
        held = self.existing_properties(kept) or {}
        for where in (prop, NAME_TARGET.get(prop)):
            if where is not None and value in held.get(where, ()):
                return (source_id, kept, link_id, where, value, locator), True
        return (source_id, kept, link_id, prop, value, locator), False

    def _load_citations(self, source_id: str) -> None:
        if source_id not in self._cited_loaded:
            for row in self.session.execute(
                select(Citation.entity_id, Citation.link_id, Citation.prop, Citation.value, Citation.locator)
                .where(Citation.source_id == source_id)
            ):
                self._cited.add((source_id, *row))
            self._cited_loaded.add(source_id)

    def cite(self, source_id: str, *, entity_id: str | None = None, link_id: str | None = None,
             prop: str | None = None, value: str | None = None, locator: str | None = None,
             excerpt: str | None = None) -> bool:
        """Plan a citation unless the same one exists (re-imports add nothing); one of an entry merged into
        another goes to the entry kept (``_cited_key``)."""
        self._load_citations(source_id)
        key, allowed = self._cited_key(source_id, entity_id, link_id, prop, value, locator)
        if key in self._cited or not allowed:
            return False
        self._cited.add(key)
        _source, entity_id, link_id, prop, value, locator = key
        self._citations.append((source_id, entity_id, link_id, prop, value, excerpt, locator, self.now,
                                self.actor.username))
        return True

    # ---- what users entered since the last import -----------------------------------------
    def imported_values(self, entity_ids: list[str]) -> dict[str, dict[str, list[str]]]:
        """The values the last import of each entity gave it (what a list can be said to have dropped: a value a
        user entered since was never the list's)."""
        return self._import_bases("entity", entity_ids)

    def _import_bases(self, object_type: str, object_ids: list[str]) -> dict[str, dict[str, list[str]]]:
        """For each entity (or link), the values the last import of it gave (``_import_base`` of the
        newest import entry in its history), in one query per 900; one no import wrote has none."""
        bases: dict[str, dict[str, list[str]]] = {}
        actions = (f"{object_type}.create", f"{object_type}.update")
        query = select(AuditEntry.object_id, AuditEntry.action, AuditEntry.before, AuditEntry.after) \
            .where(AuditEntry.object_type == object_type, AuditEntry.action.in_(actions))
        for start in range(0, len(object_ids), 900):
            chunk = object_ids[start:start + 900]
            for object_id, action, before, after in self.session.execute(
                    query.where(AuditEntry.object_id.in_(chunk)).order_by(AuditEntry.seq.desc())):
                if object_id not in bases:
                    base = _import_base(action, before, after)
                    if base is not None:
                        bases[object_id] = base
        return bases

    def _keep_user_values(self) -> None:
        """Three-way merge of the stored entities and links this batch updates, before anything is written.

        base: what the last import of it gave; ours: the values stored (the state the update starts
        from); theirs: the values planned from the file (``_three_way``). Only what the file would
        change gets here (the rest is unchanged), and the bases come in a few queries. Where the
        users' values were all the difference, the update is dropped and counted unchanged. The
        summary names each entry whose users' values were kept, or whose values a user removed came
        back because the file still gives them, ahead of the file's own warnings.
        """
        told: list[tuple[str, str]] = []
        if self._planned_update:
            bases = self._import_bases("entity", list(self._planned_update))
            dropped: set[str] = set()
            for entity_id, (at_update, at_audit, version, before) in self._planned_update.items():
                update = self._entity_updates[at_update]
                kind_spec = self.reg.entity_kind(update["kind"])
                ours = before["properties"]
                three = _three_way(bases.get(entity_id, {}), ours, update["properties"], kind_spec.properties)
                told += self._told(f"{caption_for(kind_spec, ours)} ({entity_id})", three)  # by name, as tables say
                if not three.users:
                    continue
                if update["kind"] == before["kind"] and _same_values(ours, three.merged):
                    # The file gives what it gave: the users' values are the whole difference.
                    dropped.add(entity_id)
                    self._entity_updates[at_update] = self._audit[at_audit] = None
                    self._name_rows.pop(entity_id, None)
                    self.existing[entity_id] = (before["kind"], ours, version)
                    self._count_unchanged(entity_id, "entity")
                    continue
                caption = caption_for(kind_spec, three.merged)
                update.update(properties=three.merged, caption=caption, sort_key=self.sort_key(caption))
                self._audit[at_audit] = ("entity.update", "entity", entity_id, before,
                                         {"kind": update["kind"], "caption": caption, "properties": three.merged,
                                          "import": {**_IMPORTED, "user_values": three.users}})
                self._add_names(entity_id, kind_spec, three.merged)
                self.existing[entity_id] = (update["kind"], three.merged, version + 1)
            if dropped:
                self._entity_updates = [u for u in self._entity_updates if u is not None]
                self._names_to_replace = [i for i in self._names_to_replace if i not in dropped]
        if self._planned_link_update:
            bases = self._import_bases("link", list(self._planned_link_update))
            for link_id, (at_update, at_audit, version, before) in self._planned_link_update.items():
                update = self._link_updates[at_update]
                ours = before["properties"]
                three = _three_way(bases.get(link_id, {}), ours, update["properties"],
                                   self.reg.link_kind(update["kind"]).properties)
                told += self._told(link_id, three)
                if not three.users:
                    continue
                ends = (update["kind"], update["source_id"], update["target_id"])
                if ends == (before["kind"], before["source"], before["target"]) and _same_values(ours, three.merged):
                    self._link_updates[at_update] = self._audit[at_audit] = None
                    self.existing_links[link_id] = (*ends, ours, version)
                    self._count_unchanged(link_id, "link")
                    continue
                merged = three.merged
                update.update(properties=merged, start_date=(merged.get("startDate") or [None])[0],
                              end_date=(merged.get("endDate") or [None])[0])
                self._audit[at_audit] = ("link.update", "link", link_id, before,
                                         {"kind": ends[0], "source": ends[1], "target": ends[2], "properties": merged,
                                          "import": {**_IMPORTED, "user_values": three.users}})
                self.existing_links[link_id] = (*ends, merged, version + 1)
            self._link_updates = [u for u in self._link_updates if u is not None]
        if told:  # about the users' own values: before the file's warnings, which may be many
            self.summary.warnings[self._user_warnings:self._user_warnings] = told
            self._user_warnings += len(told)

    def tell_user_values(self) -> None:
        """After the last flush of an import that adds to stored entities rather than replacing their values
        (a table: ``keep`` and ``merge`` every property), name each stored entity it named whose values users
        added since the last import it kept, and count them (``user values kept``), as a list import does.

        Such an import writes what is stored plus what the file gives, so the values users added are never
        the difference ``_keep_user_values`` sees: they are what the entity holds beyond the file's values
        (all its rows') and the last import's (``_import_bases``; after this import's own update of it, that
        update's, which names the users' values it kept). Run once, at the end: a later row of the file may
        give a value an earlier one did not. The warnings name the entry by its caption and id."""
        candidates: list[str] = []
        for entity_id, given in self._given.items():
            found = self.existing.get(entity_id)
            if found is None:
                continue
            known = self.reg.entity_kind(found[0]).properties
            if any(v not in given.get(prop, ()) for prop, values in found[1].items() if prop in known
                   for v in values):
                candidates.append(entity_id)
        if not candidates:
            return
        bases = self._import_bases("entity", candidates)
        told: list[tuple[str, str]] = []
        for entity_id in candidates:
            kind, ours, _version = self.existing[entity_id]
            kind_spec = self.reg.entity_kind(kind)
            three = _three_way(bases.get(entity_id, {}), ours, self._given[entity_id], kind_spec.properties)
            three.back = {}  # said by the flush that wrote them back, against the values before the import
            caption = caption_for(kind_spec, ours)
            told += [(f"{caption} ({entity_id})", message) for _, message in self._told(entity_id, three)]
        self.summary.warnings[self._user_warnings:self._user_warnings] = told
        self._user_warnings += len(told)

    def _told(self, object_id: str, three: _ThreeWay) -> list[tuple[str, str]]:
        """The warnings about one entry's users' values; the kept ones also count in the details."""
        if three.kept:
            self.summary.details["user_values_kept"] = \
                self.summary.details.get("user_values_kept", 0) + sum(three.kept.values())
        return [(object_id, message) for message in three.told()]

    def _count_unchanged(self, object_id: str, object_type: str) -> None:
        """An update planned (and counted) that turned out to change nothing: counted as such."""
        counted = self._updates_counted.get(object_id, 1)
        if object_type == "entity":
            self.summary.updated -= counted
            self.summary.skipped += counted
        else:
            self.summary.details["links_updated"] -= counted
            if not self.summary.details["links_updated"]:
                del self.summary.details["links_updated"]

    # ---- writing ----------------------------------------------------------------------------
    @staticmethod
    def _updated_all(result, rows: list[dict]) -> None:
        """Updates carry the version the import read: a row someone saved meanwhile (a page, on
        PostgreSQL, during a long import) is not overwritten; the whole import stops instead."""
        if result.context.dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
            raise Conflict(f"{len(rows) - result.rowcount} of the records this import updates were changed by "
                           "someone else while it ran; nothing was imported: run the import again")

    def pending(self) -> int:
        return len(self._entity_inserts) + len(self._entity_updates) + len(self._link_inserts) + len(self._citations)

    def flush(self) -> None:
        """Write everything planned so far (entities before links before citations)."""
        session = self.session
        session.flush()
        if self.marks:
            self._keep_user_values()
        entity_table = Entity.__table__
        link_table = Link.__table__
        audit.bulk_insert(session, entity_table, self._entity_inserts, columns=_ENTITY_COLUMNS)
        if self._entity_updates:
            stmt = (update(entity_table).where(entity_table.c.id == bindparam("b_id"),
                                               entity_table.c.version == bindparam("b_version"))
                    .values(kind=bindparam("kind"), caption=bindparam("caption"), sort_key=bindparam("sort_key"),
                            properties=bindparam("properties"), updated_at=bindparam("updated_at"),
                            version=bindparam("version")))
            self._updated_all(session.connection().execute(stmt, self._entity_updates), self._entity_updates)
        for start in range(0, len(self._names_to_replace), 900):
            session.execute(delete(Name.__table__).where(
                Name.__table__.c.entity_id.in_(self._names_to_replace[start:start + 900])))
        audit.bulk_insert(session, Name.__table__, [row for rows in self._name_rows.values() for row in rows],
                          columns=_NAME_COLUMNS)
        checkpoint("import-flush", 1)  # entities and names written, links and citations not yet
        audit.bulk_insert(session, link_table, self._link_inserts, columns=_LINK_COLUMNS)
        if self._link_updates:
            stmt = (update(link_table).where(link_table.c.id == bindparam("b_id"))
                    .values(kind=bindparam("kind"), source_id=bindparam("source_id"),
                            target_id=bindparam("target_id"), properties=bindparam("properties"),
                            start_date=bindparam("start_date"), end_date=bindparam("end_date"),
                            updated_at=bindparam("updated_at"), version=bindparam("version")))
            stmt = stmt.where(link_table.c.version == bindparam("b_version"))
            self._updated_all(session.connection().execute(stmt, self._link_updates), self._link_updates)
        audit.bulk_insert(session, Citation.__table__, self._citations, columns=_CITATION_COLUMNS)
        if self._citations:  # a re-import of a newer list cites it for every entry it still carries
            self.summary.details["citations_added"] = self.summary.details.get("citations_added", 0) + \
                len(self._citations)
        # Citations of an object created in this batch go into its create entry; others get one
        # citation.create entry per cited object (object_id names the entity or link either way).
        grouped: dict[str, list[dict]] = {}
        for source_id, entity_id, link_id, prop, value, _excerpt, locator, _at, _by in self._citations:
            cited = grouped.get(entity_id or link_id)
            if cited is None:
                cited = grouped[entity_id or link_id] = []
            cited.append({"source": source_id, "entity": entity_id, "link": link_id, "prop": prop, "value": value,
                          "locator": locator})
        entries = []
        for action, object_type, object_id, before, after in filter(None, self._audit):
            if action in ("entity.create", "link.create"):
                cites = grouped.pop(object_id, None)
                if isinstance(after, _CreatedState):
                    after = after.text(cites)
                elif cites:
                    after = {**after, "citations": cites}
            entries.append((action, object_type, object_id, before, after))
        for subject, rows in grouped.items():
            entries.append(("citation.create", "citation", subject, None, {"citations": rows}))
        audit.record_many(session, self.actor.username, entries)
        for row in self._entity_inserts:
            self.existing[row[0]] = (row[1], self._new_props.pop(row[0]), 1)
        for row in self._link_inserts:
            self.existing_links[row[0]] = (row[1], row[2], row[3], self._new_link_props.pop(row[0]), 1)
        self._entity_inserts.clear()
        self._entity_updates.clear()
        self._name_rows.clear()
        self._names_to_replace.clear()
        self._planned_insert.clear()
        self._planned_update.clear()
        self._planned_link_update.clear()
        self._updates_counted.clear()
        self._link_inserts.clear()
        self._link_updates.clear()
        self._citations.clear()
        self._audit.clear()
        self.pending_ids.clear()
        # Core statements bypass the identity map: forget any stale ORM copies.
        session.expire_all()
