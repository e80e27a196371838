"""Duplicate judgements (same / different / unsure) and reversible merges.

A judgement records who said what and when; judging the pair again supersedes (never deletes) the
earlier verdict, so the history of opinions stays. A merge keeps everything: the loser entity stays
in the store pointing at the winner (``merged_into``), its names are added to the winner as aliases
and its other values (identifiers, dates, topics, ...) that the winner lacks are added too (the
citations that move with them support those values, so the winner's page must show them), and its
links, citations and notes are re-pointed, each listed in ``Merge.moved`` so that ``unmerge`` puts
exactly those back. Two merges into one entry may bring the same value: each records it (a value the
winner held only because an earlier merge brought it is recorded again), and undoing one removes only
what nothing still in place provides (``_still_provided``): the winner's own values, those a user
entered since, and those of the other merges into it. Dossiers about the loser follow it to the
winner (a dossier's event log says so), or their pages would point at an entity that no longer shows. Audit entries are never
touched: both entities keep their history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from workbench.schema import ValidationError, registry
from workbench.store import audit
from workbench.store.entities import NAME_TARGET, Conflict, NotFound, get_entity, surviving, update_entity
from workbench.store.models import (
    AuditEntry,
    Citation,
    Dossier,
    DossierEvent,
    Entity,
    Judgement,
    Link,
    Merge,
    Note,
)
from workbench.store.permissions import Actor, require

VERDICTS = ("same", "different", "unsure")


def _ordered(a: str, b: str) -> tuple[str, str]:
    if a == b:
        raise ValidationError({"right": ["an entity cannot be judged against itself"]})
    return (a, b) if a < b else (b, a)


def current_judgement(session: Session, a: str, b: str) -> Judgement | None:
    left, right = _ordered(a, b)
    return session.execute(
        select(Judgement).where(Judgement.left_id == left, Judgement.right_id == right,
                                Judgement.superseded_by.is_(None)).order_by(Judgement.id.desc())
    ).scalars().first()


def judgement_history(session: Session, a: str, b: str) -> list[Judgement]:
    left, right = _ordered(a, b)
    return list(session.execute(
        select(Judgement).where(Judgement.left_id == left, Judgement.right_id == right).order_by(Judgement.id)
    ).scalars())


def judgements_of(session: Session, entity_id: str) -> list[tuple[Judgement, list[Judgement]]]:
    """The current judgement of every pair the entity is in (newest first), each with the pair's
    earlier judgements (newest first): who decided what, when, and what it replaced."""
    by_pair: dict[tuple[str, str], list[Judgement]] = {}
    for j in session.execute(select(Judgement).where(or_(Judgement.left_id == entity_id,
                                                         Judgement.right_id == entity_id))
                             .order_by(Judgement.id.desc())).scalars():
        by_pair.setdefault((j.left_id, j.right_id), []).append(j)
    out = []
    for history in by_pair.values():  # newest pair first, as the query ordered them
        current = next((j for j in history if j.superseded_by is None), None)
        if current is not None:
            out.append((current, [j for j in history if j is not current]))
    return out


def judge(session: Session, actor: Actor, a: str, b: str, verdict: str, score: float | None = None) -> Judgement:
    """Record a verdict on two entities; a new verdict supersedes the previous one (which is kept)."""
    require(actor, "edit", "judge duplicates")
    if verdict not in VERDICTS:
        raise ValidationError({"verdict": [f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}"]})
    left, right = _ordered(a, b)
    one, other = get_entity(session, left), get_entity(session, right)
    if verdict != "same" and (one.merged_into or other.merged_into) and \
            surviving(session, one).id == surviving(session, other).id:
        # The merge is what 'same' did: a verdict against it must undo it, not sit beside it.
        raise Conflict(f"{one.caption} and {other.caption} are merged: undo the merge to judge them otherwise")
    previous = current_judgement(session, left, right)
    judgement = Judgement(left_id=left, right_id=right, verdict=verdict, score=score, user=actor.username)
    session.add(judgement)
    session.flush()
    if previous is not None:
        previous.superseded_by = judgement.id
    audit.record(session, actor.username, "judgement.create", "judgement", f"{left}|{right}",
                 {"verdict": previous.verdict, "id": previous.id} if previous else None,
                 {"verdict": verdict, "id": judgement.id, "score": score})
    session.flush()
    return judgement


def merge(session: Session, actor: Actor, winner_id: str, loser_id: str) -> Merge:
    """Merge ``loser`` into ``winner``, keeping every name, link, citation, note and audit entry."""
    require(actor, "edit", "merge entities")
    if winner_id == loser_id:
        raise ValidationError({"loser": ["an entity cannot be merged into itself"]})
    # Before reading the two entries: two opposite merges sent at once each saw the other unmerged
    # and made a cycle (each merged into the other, both gone from search, neither undoable).
    audit.begin_change(session)
    winner, loser = get_entity(session, winner_id), get_entity(session, loser_id)
    for entity in (winner, loser):
        if entity.merged_into is not None:
            raise Conflict(f"{entity.caption} was already merged into {entity.merged_into}; undo that merge first")
    reg = registry()
    if not (reg.entity_kind(winner.kind).is_a(loser.kind) or reg.entity_kind(loser.kind).is_a(winner.kind)):
        raise ValidationError({"loser": [f"a {loser.kind} cannot be merged into a {winner.kind}"]})
    _refuse_under_review(session, (winner, loser), "a merge")
    moved: dict = {"names": [], "values": [], "links": [], "citations": [], "notes": []}

    # Names: every name of the loser becomes a name of the winner (those the winner lacks are recorded).
    # A value the winner holds only because an earlier merge brought it is recorded too: this merge brings
    # it as well, so undoing the earlier one must leave it while this one stands (and undoing this one
    # after that removes it).
    winner_props = reg.entity_kind(winner.kind).properties
    brought = _brought_by_merges(session, winner.id)
    additions: dict[str, list[str]] = {}
    recorded: set[tuple[str, str]] = set()

    def bring(into: str, prop: str, value: str) -> None:
        if (prop, value) in recorded:
            return
        if value not in winner.properties.get(prop, []):
            additions.setdefault(prop, []).append(value)
        elif (prop, value) not in brought:
            return  # the winner's own value: no merge brought it, no undo takes it
        recorded.add((prop, value))
        moved[into].append({"prop": prop, "value": value})

    for prop, target in NAME_TARGET.items():
        if target not in winner_props:
            continue
        for value in loser.properties.get(prop, []):
            if value not in winner.properties.get("name", []):
                bring("names", target, value)
    for prop, values in loser.properties.items():  # every other value the winner's kind can hold
        if prop in NAME_TARGET or prop not in winner_props:
            continue
        for value in values:
            bring("values", prop, value)
    # The audit entry (seq) of the update adding them: by it the winner's history tells what merges brought.
    moved["update"] = None
    if additions:
        merged_props = {k: list(winner.properties.get(k, [])) + v for k, v in additions.items()}
        if update_entity(session, actor, winner.id, merged_props, replace=False).changed:
            moved["update"] = session.scalar(select(func.max(AuditEntry.seq)).where(
                AuditEntry.object_type == "entity", AuditEntry.object_id == winner.id,
                AuditEntry.action == "entity.update"))

    links = session.execute(
        select(Link).where(or_(Link.source_id == loser.id, Link.target_id == loser.id))
    ).scalars().all()
    for link in links:
        other = link.target_id if link.source_id == loser.id else link.source_id
        if other == winner.id:
            continue  # a link between the two stays as it is (it would become a self-link)
        for end in ("source_id", "target_id"):
            if getattr(link, end) == loser.id:
                setattr(link, end, winner.id)
                moved["links"].append({"id": link.id, "end": end})
                audit.record(session, actor.username, "link.repoint", "link", link.id,
                             {end: loser.id}, {end: winner.id})
    for citation in session.execute(select(Citation).where(Citation.entity_id == loser.id)).scalars():
        citation.entity_id = winner.id
        item: int | dict = citation.id
        target = NAME_TARGET.get(citation.prop or "")
        if target and citation.value is not None and citation.value not in winner.properties.get(citation.prop, []) \
                and citation.value in winner.properties.get(target, []):
            # The loser's name is the winner's alias now: its citation supports the alias.
            item = {"id": citation.id, "prop": citation.prop}
            citation.prop = target
        moved["citations"].append(item)
    for note in session.execute(select(Note).where(Note.entity_id == loser.id)).scalars():
        note.entity_id = winner.id
        moved["notes"].append(note.id)
    # After the head's lock (begin_change): a dossier created on the loser before this merge has committed
    # (creating one appends to the log), so it is found and moved too, never left on a merged entry.
    # Each entry by its id too: two records of one person often bear the same caption.
    moved["dossiers"] = _retarget_dossiers(session, actor, loser, winner,
                                           f"its target {loser.caption} ({loser.id}) was merged into "
                                           f"{winner.caption} ({winner.id})")

    loser.merged_into = winner.id
    record = Merge(winner_id=winner.id, loser_id=loser.id, moved=moved, created_by=actor.username)
    session.add(record)
    session.flush()
    audit.record(session, actor.username, "entity.merge", "entity", loser.id, None,
                 {"merged_into": winner.id, "merge": record.id})
    audit.record(session, actor.username, "merge.create", "merge", str(record.id), None,
                 {"winner": winner.id, "loser": loser.id, "moved": moved})
    if (current := current_judgement(session, winner.id, loser.id)) is None or current.verdict != "same":
        judge(session, actor, winner.id, loser.id, "same")
    session.flush()
    return record


def unmerge(session: Session, actor: Actor, merge_id: int) -> Merge:
    """Undo a merge: put back exactly what it moved; the pair's "same" gives way to "unsure" (its history
    stays)."""
    require(actor, "edit", "undo merges")
    audit.begin_change(session)
    record = session.get(Merge, merge_id)
    if record is None:
        raise NotFound(f"no merge {merge_id}")
    if record.undone_at is not None:
        raise Conflict(f"merge {merge_id} was already undone")
    winner, loser = get_entity(session, record.winner_id), get_entity(session, record.loser_id)
    _refuse_under_review(session, (winner, loser), "undoing the merge")
    if winner.merged_into is not None:
        # What this merge moved now sits on the entity the winner went into: undo that merge first.
        later = session.scalar(select(Merge.id).where(Merge.loser_id == winner.id, Merge.undone_at.is_(None)))
        raise Conflict(f"{winner.caption} was merged into another entry after this merge: undo that merge "
                       f"(merge {later}) first, then this one")
    moved = record.moved or {}
    for item in moved.get("links", []):
        link = session.get(Link, item["id"])
        if link is not None and getattr(link, item["end"]) == winner.id:
            setattr(link, item["end"], loser.id)
            audit.record(session, actor.username, "link.repoint", "link", link.id,
                         {item["end"]: winner.id}, {item["end"]: loser.id})
    for item in moved.get("citations", []):
        citation_id, prop = (item["id"], item["prop"]) if isinstance(item, dict) else (item, None)
        citation = session.get(Citation, citation_id)
        if citation is not None and citation.entity_id == winner.id:
            citation.entity_id = loser.id
            if prop is not None:
                citation.prop = prop
    for note_id in moved.get("notes", []):
        note = session.get(Note, note_id)
        if note is not None and note.entity_id == winner.id:
            note.entity_id = loser.id
    _retarget_dossiers(session, actor, winner, loser,
                       f"the merge of {loser.caption} ({loser.id}) into {winner.caption} ({winner.id}) was undone",
                       only=moved.get("dossiers", []))
    removals: dict[str, list[str]] = {}
    kept = _still_provided(session, winner, record)
    for item in moved.get("names", []) + moved.get("values", []):
        if (item["prop"], item["value"]) not in kept:
            removals.setdefault(item["prop"], []).append(item["value"])
    if removals:
        props = {prop: [v for v in winner.properties.get(prop, []) if v not in values]
                 for prop, values in removals.items()}
        update_entity(session, actor, winner.id, props, replace=False)
    loser.merged_into = None
    record.undone_at = datetime.now(UTC)
    record.undone_by = actor.username
    session.flush()
    audit.record(session, actor.username, "entity.unmerge", "entity", loser.id, {"merged_into": winner.id}, None)
    audit.record(session, actor.username, "merge.undo", "merge", str(record.id),
                 {"winner": winner.id, "loser": loser.id}, None)
    # The pair is two entries again, so "same" no longer stands: undoing the merge withdraws it, and the
    # pair waits for a new verdict. The earlier verdicts stay in its history.
    if (current := current_judgement(session, winner.id, loser.id)) is not None and current.verdict == "same":
        judge(session, actor, winner.id, loser.id, "unsure")
    session.flush()
    return record


# Entries of a merge's own change between its update of the winner and its ``merge.create`` entry.
_MERGE_STEPS = ("link.repoint", "dossier.retarget", "entity.merge")


def _pairs(state) -> set[tuple[str, str]]:
    """An entity state's values (an audit entry's before or after) as (property, value) pairs."""
    properties = (state.get("properties") if isinstance(state, dict) else None) or {}
    return {(prop, value) for prop, values in properties.items() for value in (values or [])}


def _merge_updates(session: Session, winner_id: str) -> set[int]:
    """The audit entries (seq) in which merges into this entry added the merged entries' values to it, as
    each merge recorded it (``moved["update"]``, None when it added nothing). A merge made before they
    recorded it: the last update of the winner before its ``merge.create``, with only the merge's own
    steps between them."""
    found: set[int] = set()
    merge_ids = []
    for record in session.scalars(select(Merge).where(Merge.winner_id == winner_id)):
        moved = record.moved or {}
        if "update" not in moved:
            merge_ids.append(str(record.id))
        elif moved["update"] is not None:
            found.add(moved["update"])
    if not merge_ids:
        return found
    for created in session.scalars(select(AuditEntry.seq).where(
            AuditEntry.action == "merge.create", AuditEntry.object_type == "merge",
            AuditEntry.object_id.in_(merge_ids))):
        update = session.scalar(select(func.max(AuditEntry.seq)).where(
            AuditEntry.object_type == "entity", AuditEntry.object_id == winner_id,
            AuditEntry.action == "entity.update", AuditEntry.seq < created))
        if update is None:
            continue
        between = session.scalars(select(AuditEntry.action).where(AuditEntry.seq > update,
                                                                  AuditEntry.seq < created)).all()
        if all(action in _MERGE_STEPS for action in between):
            found.add(update)
    return found


def _brought_by_merges(session: Session, winner_id: str) -> set[tuple[str, str]]:
    """The (property, value) pairs the entry holds because a merge brought them: those whose latest
    addition to it (its history, oldest first) was a merge's. A value it was created with, or one a user
    (or an import) entered since, even one a merge had brought before, is its own."""
    merges = _merge_updates(session, winner_id)
    if not merges:
        return set()
    latest: dict[tuple[str, str], bool] = {}
    for seq, before, after in session.execute(
            select(AuditEntry.seq, AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.object_type == "entity", AuditEntry.object_id == winner_id,
                   AuditEntry.action.in_(("entity.create", "entity.update"))).order_by(AuditEntry.seq)):
        for pair in _pairs(after) - _pairs(before):
            latest[pair] = seq in merges
    return {pair for pair, by_merge in latest.items() if by_merge}


def _still_provided(session: Session, winner: Entity, record: Merge) -> set[tuple[str, str]]:
    """The values the winner keeps when ``record`` is undone: its own (``_brought_by_merges``), and those
    another merge into it still in place brings: what that merge recorded, and (for a merge recorded
    before merges recorded values the winner held) its merged entry's values as the merge maps them."""
    held = _pairs({"properties": winner.properties})
    kept = held - _brought_by_merges(session, winner.id)
    known = registry().entity_kind(winner.kind).properties
    for other in session.scalars(select(Merge).where(Merge.winner_id == winner.id, Merge.undone_at.is_(None),
                                                     Merge.id != record.id)):
        moved = other.moved or {}
        kept |= {(item["prop"], item["value"]) for item in moved.get("names", []) + moved.get("values", [])}
        loser = session.get(Entity, other.loser_id)
        for prop, values in ((loser.properties if loser is not None else None) or {}).items():
            target = NAME_TARGET.get(prop, prop)
            if target in known:
                kept |= {(target, value) for value in values}
    return kept & held


def _refuse_under_review(session: Session, entities, what: str) -> None:
    """A dossier under review is about what its reviewer reads: a merge would change its target (or the
    names and identifiers it shows) between reading and verdict, and a reviewer who merged could approve
    a package they reshaped themselves. The merge waits until the dossier is returned or decided."""
    ids = [e.id for e in entities]
    found = session.scalars(select(Dossier).where(Dossier.target_id.in_(ids), Dossier.state == "submitted")
                            .order_by(Dossier.created_at, Dossier.id)).first()
    if found is not None:
        about = next(e for e in entities if e.id == found.target_id)
        raise Conflict(f"{about.caption} is the target of dossier {found.title!r} ({found.id}), which is submitted for "
                       f"review: {what} would change what its reviewer approves. Nothing was merged or moved: "
                       "ask for the dossier to be returned, or wait for the verdict, then try again")


def _retarget_dossiers(session: Session, actor: Actor, old, new, why: str, only: list[str] | None = None) -> list[str]:
    """Point the dossiers about ``old`` (or just ``only``) at ``new``; each one's events say why."""
    if only == []:
        return []
    query = select(Dossier).where(Dossier.target_id == old.id)
    if only is not None:
        query = query.where(Dossier.id.in_(only))
    moved = []
    for dossier in session.execute(query).scalars():
        dossier.target_id = new.id
        session.add(DossierEvent(dossier_id=dossier.id, event="target changed", user=actor.username, comment=why,
                                 at=datetime.now(UTC)))
        audit.record(session, actor.username, "dossier.retarget", "dossier", dossier.id, {"target_id": old.id},
                     {"target_id": new.id, "why": why})
        moved.append(dossier.id)
    return moved
