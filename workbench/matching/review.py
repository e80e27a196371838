"""Screening hits as review items: confirm (create the mapped records), reject (remember), or leave unsure.

A rejected (name, entity) pair is remembered in ``pair_decisions`` so the same hit is not raised again,
and the open hits of the same pair already in the same queue (the owner's other rows) are rejected with it.
A later job's match of a rejected pair is kept as a ``hidden`` item, out of the queue: the job's page
counts and lists them with the rejection that hid them, for "0 hits" alone would read as "not in the
workbench". Lifting the rejection (undo, or confirming the pair elsewhere) puts them in their queues.
A confirmed item asks the importers' tabular mapper to create the row's entities and links, bound to
the matched entity and citing the screened file and row, with the job and the reviewer who confirmed it
("row 12 (screening job 1a2b3c4d, confirmed by rita)"). The decision's audit entry keeps the file name,
row number, job and importer version, as an import's citations and source notes do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workbench.matching.normalize import name_key
from workbench.schema import ValidationError
from workbench.store import audit
from workbench.store.entities import Conflict, NotFound, get_entity, surviving
from workbench.store.models import Entity, PairDecision, ReviewItem, ScreeningJob
from workbench.store.permissions import Actor, require

VERDICTS = ("confirmed", "rejected", "unsure")
FINAL = ("confirmed", "rejected")  # only an open or unsure hit can still be decided
HIDDEN = "hidden"  # a match of a pair rejected earlier: not in the queue, but counted and listed on the job


def _rejection(session: Session, query_key: str, entity_id: str) -> PairDecision | None:
    """The rejection of this name against this entry, or against an entry merged with it since: a name
    rejected for X is rejected for the entry X was merged into (the same person), until the merge is undone."""
    decisions = list(session.scalars(select(PairDecision).where(PairDecision.query_key == query_key,
                                                                PairDecision.verdict == "rejected")))
    exact = next((d for d in decisions if d.entity_id == entity_id), None)
    if exact is not None or not decisions:
        return exact
    here = surviving(session, session.get(Entity, entity_id))
    return next((d for d in decisions
                 if here is not None and surviving(session, session.get(Entity, d.entity_id)) is here), None)


def create_review_items(session: Session, actor: Actor, job_id: str | None, hits) -> int:
    """hits: dicts with row_number, row_data, query_name, entity_id, matched_name, score, explanation.

    Returns the hits raised. A job's hit of a rejected pair is stored hidden, with who rejected the pair
    and when, so the job can say what it left out; outside a job there is no page to say it on."""
    require(actor, "edit", "create review items")
    created = 0
    for hit in hits:
        key = name_key(hit["query_name"])[:500]
        rejected = _rejection(session, key, hit["entity_id"])
        if rejected is not None and job_id is None:
            continue
        item = ReviewItem(job_id=job_id, row_number=hit["row_number"], row_data=hit.get("row_data") or {},
                          query_name=hit["query_name"][:500], query_key=key, entity_id=hit["entity_id"],
                          matched_name=hit.get("matched_name"), score=float(hit["score"]),
                          explanation=hit.get("explanation"))
        if rejected is not None:
            item.status, item.decided_by, item.decided_at = HIDDEN, rejected.user, rejected.created_at
        else:
            created += 1
        session.add(item)
    session.flush()
    return created


def open_items(session: Session, job_id: str | None = None) -> list[ReviewItem]:
    query = select(ReviewItem).where(ReviewItem.status == "open")
    if job_id is not None:
        query = query.where(ReviewItem.job_id == job_id)
    return list(session.execute(query.order_by(ReviewItem.score.desc(), ReviewItem.id)).scalars())


@dataclass
class Decision:
    """A recorded decision and the open hits of the same pair in the same queue it closed too."""

    item: ReviewItem
    also_rejected: list[ReviewItem] = field(default_factory=list)
    # What a confirmation left out of the row's values (an address that does not fit, say): the
    # confirmation stands, and the reviewer is told.
    warnings: list[str] = field(default_factory=list)
    # The hit already had this verdict (a form sent twice, the back button, a second reviewer agreeing):
    # nothing was recorded, and ``item`` says who decided it and when.
    already: bool = False


def decided_phrase(item: ReviewItem, actor: Actor | None = None, you: bool = True, at: bool = True) -> str:
    """'confirmed by rita (at 2024-05-01 14:02 UTC)', 'marked unsure by you (at ...)': who decided a hit
    and when, as the queue's messages say it (``you``: the actor's own decision says "you")."""
    verb = "marked unsure" if item.status == "unsure" else item.status
    mine = you and actor is not None and item.decided_by == actor.username
    who = "you" if mine else (item.decided_by or "someone")
    when = item.decided_at
    if when is None or not at:
        return f"{verb} by {who}"
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return f"{verb} by {who} (at {when.strftime('%Y-%m-%d %H:%M')} UTC)"


def decide(session: Session, actor: Actor, item_id: int, verdict: str, expected_version: int | None = None) -> ReviewItem:
    return record_decision(session, actor, item_id, verdict, expected_version).item


def record_decision(session: Session, actor: Actor, item_id: int, verdict: str,
                    expected_version: int | None = None) -> Decision:
    """Decide one hit; a rejection also rejects the same pair's other open hits of the job.

    Deciding a hit again with the verdict it already has (a form sent twice, the back button, another
    reviewer who agrees) records nothing: the Decision says ``already``, with who decided it and when.
    Another verdict on a decided hit is refused, naming who decided it and when."""
    require(actor, "edit", "decide screening hits")
    if verdict not in VERDICTS:
        raise ValidationError({"verdict": [f"verdict must be one of {', '.join(VERDICTS)}"]})
    # Queue before reading the hit and its entry: a merge or a delete committed meanwhile is seen, so the
    # row's records go to the entry kept (they went to the one merged away), and a deleted entry's hit is
    # gone (it was a server error).
    audit.begin_change(session)
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(f"no review item {item_id}: the hit is gone (its entry or its job was deleted)")
    if item.status == verdict:  # before the version check: the version moved with this very decision
        return Decision(item, already=True)
    if item.status in FINAL:  # confirming again would lose the list of records it created
        raise Conflict(f"this hit was already {decided_phrase(item, actor, you=False)}: the decision stands")
    if expected_version is not None and item.version != expected_version:
        raise Conflict(_changed_since(item, actor))
    if item.status == HIDDEN:  # no one saw it in the queue: the rejection that hid it is lifted first
        raise Conflict(f"this hit is hidden by {item.decided_by}'s earlier rejection of the same name and entry: "
                       "'Raise it again' lifts that rejection and puts it in the queue")
    before = {"status": item.status}
    if not _claim(session, item, verdict, actor):  # the same verdict, recorded at the same moment
        return Decision(item, already=True)
    provenance: dict = {}
    if verdict == "confirmed" and item.job_id:
        job = session.get(ScreeningJob, item.job_id)
        from workbench.sources.bulk import IMPORTER_VERSION, ImportSummary
        from workbench.sources.tabular import apply_row, load_mapping

        mapping = load_mapping(job.mapping, job.file_name)
        locator = confirmation_locator(item.row_number, job.id, actor.username)
        # The hit's entity may have been merged since the job ran: the row's records go to the entry
        # it was merged into, the one people see.
        target = surviving(session, get_entity(session, item.entity_id))
        summary = ImportSummary()
        item.created_entities = apply_row(session, actor, mapping, item.row_data, item.row_number, job.source_id,
                                          bind={mapping.screen_entity: target.id}, cite_as=(locator, None),
                                          summary=summary)
        warnings = [message for _where, message in summary.warnings]
        provenance = {"job": job.id, "file": job.file_name, "row": item.row_number, "citation": locator,
                      "importer": IMPORTER_VERSION}
        if target.id != item.entity_id:
            provenance["merged_into"] = target.id
    if verdict in FINAL:
        # A rejection keeps the pair from being raised again; a later confirmation of the same pair
        # lifts it (the reviewer has seen it is the same person after all).
        existing = session.scalar(select(PairDecision).where(PairDecision.query_key == item.query_key,
                                                             PairDecision.entity_id == item.entity_id))
        if existing is None and verdict == "rejected":
            session.add(PairDecision(query_key=item.query_key, entity_id=item.entity_id, verdict=verdict,
                                     user=actor.username))
        elif existing is not None:
            lifted = existing.verdict == "rejected" and verdict == "confirmed"
            existing.verdict, existing.user = verdict, actor.username
            if lifted:
                _reopen_hidden(session, actor, item.query_key, item.entity_id)
    item.status = verdict
    item.decided_by = actor.username
    item.decided_at = datetime.now(UTC)
    session.flush()
    entry = audit.record(session, actor.username, "review.decide", "review_item", str(item.id), before,
                         {"status": verdict, "entity": item.entity_id, "query": item.query_name, **provenance})
    also = _reject_alike(session, actor, item, entry.seq) if verdict == "rejected" else []
    return Decision(item, also, warnings if verdict == "confirmed" and item.job_id else [])


def undo_rejection(session: Session, actor: Actor, item_id: int, expected_version: int | None = None) -> ReviewItem:
    """Open a rejected hit again and forget the rejection of its pair, so later screens raise it again.

    A hidden hit (a later job's match of the rejected pair) is undone the same way, from its own job's
    page; either way the pair's other hidden hits go to their queues too, as nothing hides them now."""
    require(actor, "edit", "decide screening hits")
    audit.begin_change(session)
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(f"no review item {item_id}: the hit is gone (its entry or its job was deleted)")
    if expected_version is not None and item.version != expected_version:
        raise Conflict("this hit was decided by someone else since you opened it; reload it")
    if item.status not in ("rejected", HIDDEN):
        raise Conflict(f"this hit is {item.status}, not rejected: there is no rejection to undo")
    before = {"status": item.status, "decided_by": item.decided_by}
    pair = _rejection(session, item.query_key, item.entity_id)
    if pair is not None:
        session.delete(pair)
    if item.status == HIDDEN:
        _count_raised(session, [item])
    item.status, item.decided_by, item.decided_at = "open", None, None
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("this hit was decided by someone else at the same moment; reload it") from None
    audit.record(session, actor.username, "review.undo", "review_item", str(item.id), before,
                 {"status": "open", "entity": item.entity_id, "query": item.query_name,
                  "pair_rejection_lifted": pair is not None})
    _reopen_hidden(session, actor, item.query_key, item.entity_id)
    return item


def _reopen_hidden(session: Session, actor: Actor, query_key: str, entity_id: str) -> list[ReviewItem]:
    """Put the pair's hidden hits in their queues: the rejection that hid them is lifted. Each gets an audit
    entry, and its job counts it as a hit (the job page's count and its queue agree)."""
    hidden = list(session.execute(select(ReviewItem).where(
        ReviewItem.query_key == query_key, ReviewItem.entity_id == entity_id, ReviewItem.status == HIDDEN)
        .order_by(ReviewItem.id)).scalars())
    _count_raised(session, hidden)
    for other in hidden:
        before = {"status": HIDDEN, "decided_by": other.decided_by}
        other.status, other.decided_by, other.decided_at = "open", None, None
        session.flush()
        audit.record(session, actor.username, "review.undo", "review_item", str(other.id), before,
                     {"status": "open", "entity": other.entity_id, "query": other.query_name,
                      "pair_rejection_lifted": True})
    return hidden


def _count_raised(session: Session, items: list[ReviewItem]) -> None:
    """Count hits taken out of hiding as their jobs' hits, in the database: the job may still be running,
    and its thread adds its own hits the same way (matching.jobs._commit_batch), so neither count is lost."""
    for job_id, raised in Counter(i.job_id for i in items if i.job_id).items():  # one update per job
        session.execute(update(ScreeningJob).where(ScreeningJob.id == job_id)
                        .values(hits=ScreeningJob.hits + raised))


def _changed_since(item: ReviewItem, actor: Actor) -> str:
    """Why a decision from a page older than the hit's last change is refused, naming who changed it."""
    if item.decided_by is None:  # opened again (a rejection undone): no decision to name
        return "this hit was changed since you opened it; reload it"
    if item.decided_by == actor.username:
        return f"this hit was {decided_phrase(item, actor)} since this page was loaded; reload it"
    return f"this hit was decided by someone else since you opened it: {decided_phrase(item, actor)}; reload it"


def _claim(session: Session, item: ReviewItem, verdict: str, actor: Actor) -> bool:
    """Take the hit for this decision in the database before anything else is written: two reviewers
    deciding it at the same moment both passed the version check above, and the second then created
    the row's records again (a server error) or stored a rejection beside the confirmation. The update
    matches only the version this reviewer saw, so exactly one of them gets it; the other is told so,
    unless the one recorded is the same verdict (a form sent twice at once): False, nothing to record."""
    claimed = session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item.id, ReviewItem.version == item.version, ReviewItem.status.not_in(FINAL))
        .values(version=ReviewItem.version + 1, status=verdict, decided_by=actor.username)
        .execution_options(synchronize_session=False))
    session.refresh(item)  # the version it holds now: the writes below are checked against it
    if claimed.rowcount != 1:
        if item.status == verdict:
            return False
        raise Conflict("this hit was decided by someone else at the same moment"
                       f"{f': {decided_phrase(item, actor)}' if item.decided_by else ''}; "
                       "reload it to see their decision")
    return True


def _reject_alike(session: Session, actor: Actor, item: ReviewItem, decision_seq: int) -> list[ReviewItem]:
    """Reject the job's other open hits of the same owner name and entity: the pair decision keeps later
    jobs from raising the pair, and these were raised before it. Each gets its own audit entry naming the
    hit and the audit entry of the decision it follows; hits marked unsure keep the reviewer's doubt."""
    query = select(ReviewItem).where(ReviewItem.query_key == item.query_key, ReviewItem.entity_id == item.entity_id,
                                     ReviewItem.status == "open", ReviewItem.id != item.id)
    query = query.where(ReviewItem.job_id == item.job_id) if item.job_id is not None \
        else query.where(ReviewItem.job_id.is_(None))
    alike = list(session.execute(query.order_by(ReviewItem.row_number, ReviewItem.id)).scalars())
    for other in alike:
        other.status = "rejected"
        other.decided_by = actor.username
        other.decided_at = item.decided_at
    try:
        session.flush()
    except StaleDataError:  # another reviewer decided one of them meanwhile
        raise Conflict("another reviewer decided a hit of the same name and entity meanwhile; reload the queue") \
            from None
    for other in alike:
        audit.record(session, actor.username, "review.decide", "review_item", str(other.id), {"status": "open"},
                     {"status": "rejected", "entity": other.entity_id, "query": other.query_name,
                      "follows": {"review_item": item.id, "row": item.row_number, "audit_seq": decision_seq}})
    return alike


def confirmation_locator(row_number: int, job_id: str, username: str) -> str:
    """Where a confirmed hit's records come from, as a citation reads after the source's title:
    'row 12 (screening job 1a2b3c4d, confirmed by rita)'. Job ids are long hex strings: the first eight
    characters name the job on a page (its full id is in the decision's audit entry)."""
    return f"row {row_number} (screening job {str(job_id)[:8]}, confirmed by {username})"
