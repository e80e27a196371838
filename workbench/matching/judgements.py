"""Duplicate judgements (same / different / unsure) and reversible merges.

A judgement records who said what and when; judging the pair again supersedes (never deletes) the
earlier verdict, so the history of opinions stays. A merge keeps everything: the loser entity stays
in the store pointing at the winner (``merged_into``), its names are added to the winner as aliases
and its other values (identifiers, dates, topics, ...) that the winner lacks are added too (the
citations that move with them support those values, so the winner's page must show them), and its
links, citations and notes are re-pointed, each listed in ``Merge.moved`` so that ``unmerge`` puts
exactly those back. Dossiers about the loser follow it to the winner (a dossier's event log says
so), or their pages would point at an entity that no longer shows. Audit entries are never
touched: both entities keep their history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workbench.schema import ValidationError, registry
from workbench.store import audit
from workbench.store.entities import Conflict, NotFound, get_entity, surviving, update_entity
from workbench.store.models import Citation, Dossier, DossierEvent, Judgement, Link, Merge, Note
from workbench.store.permissions import Actor, require

VERDICTS = ("same", "different", "unsure")
# Where each kind of the loser's names goes on the winner (primary names become aliases).
NAME_TARGET = {"name": "alias", "alias": "alias", "weakAlias": "weakAlias", "previousName": "previousName"}


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
    winner_props = reg.entity_kind(winner.kind).properties
    additions: dict[str, list[str]] = {}
    for prop, target in NAME_TARGET.items():
        if target not in winner_props:
            continue
        for value in loser.properties.get(prop, []):
            existing = set(winner.properties.get(target, [])) | set(additions.get(target, []))
            if value not in existing and value not in winner.properties.get("name", []):
                additions.setdefault(target, []).append(value)
                moved["names"].append({"prop": target, "value": value})
    for prop, values in loser.properties.items():  # every other value the winner's kind can hold
        if prop in NAME_TARGET or prop not in winner_props:
            continue
        for value in values:
            if value not in winner.properties.get(prop, []) and value not in additions.get(prop, []):
                additions.setdefault(prop, []).append(value)
                moved["values"].append({"prop": prop, "value": value})
    if additions:
        merged_props = {k: list(winner.properties.get(k, [])) + v for k, v in additions.items()}
        update_entity(session, actor, winner.id, merged_props, replace=False)

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
    moved["dossiers"] = _retarget_dossiers(session, actor, loser, winner,
                                           f"its target {loser.caption} was merged into {winner.caption}")

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
    _retarget_dossiers(session, actor, winner, loser, f"the merge of {loser.caption} into {winner.caption} was undone",
                       only=moved.get("dossiers", []))
    removals: dict[str, list[str]] = {}
    for item in moved.get("names", []) + moved.get("values", []):
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
