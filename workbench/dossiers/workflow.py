"""The review workflow: the only moves a dossier can make, who may make them, and four eyes.

draft -> submitted -> approved | returned | rejected; returned -> draft (reopen); draft, submitted and
returned -> withdrawn. Every move is a typed DossierEvent (user, time, comment) and an audit entry
in the same transaction. Reviewing (approve, return, reject) needs the 'review' permission and is
refused to anyone who authored or edited the dossier, judged from its events, its exhibits and the
audit log, so the rule holds whatever the entry point (web, API, CLI). Withdrawal is final, so it is
open only to the dossier's authors, reviewers and admins, and it needs a reason. A verdict (approve,
reject) is given on what the reviewer read: it carries the content hash of their page and is refused
when the live content (target, links, sources, citations) changed since.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.dossiers import completeness, snapshot
from workbench.dossiers.service import (
    Incomplete,
    InvalidMove,
    add_event,
    check_version,
    conflict_safe,
    dossier_state,
    get_dossier,
    touch,
)
from workbench.schema import ValidationError
from workbench.store import audit, users
from workbench.store.entities import Conflict
from workbench.store.models import AuditEntry, Dossier, DossierEvent
from workbench.store.permissions import Actor, PermissionDenied, require


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    event: str
    sources: tuple[str, ...]
    target: str
    permission: str
    review: bool = False
    needs_comment: bool = False
    # What the required comment is for, in the refusal when it is missing.
    comment_hint: str = "the comment is sent to its authors"
    # A final move cannot be undone: the page says so before the user confirms it.
    final: str | None = None
    # A verdict on the content (approve, reject): refused when what the dossier shows changed since the
    # reviewer's page was opened. A return is not, since it hands the package back to its authors anyway.
    verdict: bool = False


MOVES: dict[str, Move] = {m.name: m for m in (
    Move("submit", "Submit for review", "submitted", ("draft",), "submitted", "edit"),
    Move("approve", "Approve", "approved", ("submitted",), "approved", "review", review=True, verdict=True),
    Move("return", "Return for changes", "returned", ("submitted",), "returned", "review", review=True,
         needs_comment=True),
    Move("reject", "Reject", "rejected", ("submitted",), "rejected", "review", review=True, needs_comment=True,
         verdict=True),
    Move("reopen", "Reopen as draft", "reopened", ("returned",), "draft", "edit"),
    Move("withdraw", "Withdraw", "withdrawn", ("draft", "submitted", "returned"), "withdrawn", "edit",
         needs_comment=True, comment_hint="the reason is recorded and shown on the dossier's page",
         final="Withdrawal is final: a withdrawn dossier cannot be reopened, edited, submitted or given a new "
               "version. To change a dossier, edit it or ask for it to be returned instead."),
)}

# Events and audit actions that make their user an author or editor of the dossier. A merge or its undo
# that moved the dossier to another target changed what it is about: its user edited it.
EDITING_EVENTS = frozenset({"created", "edited", "exhibit_added", "exhibit_removed", "submitted", "reopened",
                            "target changed"})
EDITING_ACTIONS = frozenset({"dossier.create", "dossier.update", "dossier.exhibit_add", "dossier.exhibit_remove",
                             "dossier.version", "dossier.submit", "dossier.reopen", "dossier.retarget"})


class FourEyesViolation(PermissionDenied):
    """A reviewer tried to review a dossier they authored or edited."""


def contributors(session: Session, dossier: Dossier) -> set[str]:
    """Everyone who authored or edited the dossier (its content, not its discussion).

    A new version starts as a copy of the one before (title, narrative, identifier notes, exhibits),
    so whoever wrote an earlier version wrote part of this one too: the earlier versions count."""
    people: set[str] = set()
    for version in _versions(session, dossier):
        people |= _own_contributors(session, version)
    return people


def _versions(session: Session, dossier: Dossier) -> Iterator[Dossier]:
    """The dossier and the versions it was opened from, newest first."""
    seen: set[str] = set()
    current: Dossier | None = dossier
    while current is not None and current.id not in seen:
        seen.add(current.id)
        yield current
        current = session.get(Dossier, current.previous_id) if current.previous_id else None


def _own_contributors(session: Session, dossier: Dossier) -> set[str]:
    """The authors and editors of one version, from its row, events, exhibits and the audit log."""
    people = {dossier.created_by}
    people |= {e.user for e in dossier.events if e.event in EDITING_EVENTS}
    people |= {ex.created_by for ex in dossier.exhibits}
    people |= set(session.execute(
        select(AuditEntry.actor).where(AuditEntry.object_type == "dossier", AuditEntry.object_id == dossier.id,
                                       AuditEntry.action.in_(EDITING_ACTIONS))
    ).scalars())
    return people


def may_review(session: Session, actor: Actor, dossier: Dossier) -> str | None:
    """None if the actor may review the dossier now; otherwise the reason, in plain words."""
    if not actor.can("review"):
        return f"{actor.username} ({actor.role}) is not a reviewer: only reviewers approve, return or reject dossiers"
    authors = contributors(session, dossier)
    if actor.username in authors:
        return (f"four eyes: {actor.username} authored or edited dossier {dossier.title!r} and cannot review it; "
                "another reviewer must")
    set_by = users.credentials_set_by(session, actor.username, actor.credential_since)
    if set_by is not None and set_by.by in authors:
        since = " (the change made since needed that password)" if set_by.changed_since else ""
        token = " when the API token in use was made" if actor.credential_since else ""
        return (f"four eyes: {actor.username}'s password was set by {set_by.by} on {set_by.at:%Y-%m-%d}{token}{since}, "
                f"and {set_by.by} authored or edited dossier {dossier.title!r}, so could be acting as "
                f"{actor.username}; another reviewer must review it, or another admin reset {actor.username}'s "
                "password (and they make a new token)")
    changed = changed_under_review(session, actor.username, dossier)
    if changed:
        return (f"four eyes: {actor.username} changed what dossier {dossier.title!r} shows since it was submitted "
                f"({', '.join(changed[:3])}{' and more' if len(changed) > 3 else ''}) and cannot review it; "
                "another reviewer must")
    return None


# Keys of the dossier's view that hold the id of a stored record: an entry, a link or a source.
_ID_KEYS = frozenset({"id", "link_id", "source", "target", "designated_id"})


def _shown_ids(value, out: set[str]) -> set[str]:
    """The stored records a dossier's view is made of (entries, links, sources, and the entries on the
    chains to designated parties), wherever they stand in it. (A citation's audit entries name the
    entry or link it is on.)"""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _ID_KEYS and isinstance(item, str):
                out.add(item)
            elif key == "nodes" and isinstance(item, list):
                out.update(n for n in item if isinstance(n, str))
            else:
                _shown_ids(item, out)
    elif isinstance(value, list):
        for item in value:
            _shown_ids(item, out)
    return out


def changed_under_review(session: Session, username: str, dossier: Dossier) -> list[str]:
    """What this user changed, since the dossier was last submitted, of the records its page shows (the
    target, its links and assets, the chains to designated parties, the sources and citations of its
    evidence), or removed from it (a link from or to one of them, deleted): a reviewer who reshaped the
    evidence under review is its editor, not its second pair of eyes. Empty when nothing."""
    if dossier.state != "submitted":
        return []
    # The submission's own audit entry (found by the dossier's id, which is indexed) bounds the search to
    # what came after it by sequence number: the log's primary key, not a scan of the user's history.
    submitted = session.scalar(select(func.max(AuditEntry.seq)).where(
        AuditEntry.object_id == dossier.id, AuditEntry.object_type == "dossier", AuditEntry.action == "dossier.submit"))
    if submitted is None:
        return []
    mine = session.execute(
        select(AuditEntry.object_type, AuditEntry.object_id, AuditEntry.action, AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.seq > submitted, AuditEntry.actor == username, AuditEntry.object_type != "dossier")
        .order_by(AuditEntry.seq)).all()
    if not mine:  # most reviewers changed nothing meanwhile: no view to build
        return []
    shown = _shown_ids(snapshot.live_view(session, dossier), {dossier.target_id})
    changes = []
    for object_type, object_id, action, before, after in mine:
        ends = {state.get(end) for state in (before, after) if isinstance(state, dict) for end in ("source", "target")}
        if object_id in shown or (object_type == "link" and ends & shown):
            state = after if isinstance(after, dict) else before if isinstance(before, dict) else {}
            changes.append((object_type, object_id, action, state))
    return _change_labels(session, changes)


_DONE = {"create": "added", "update": "changed", "delete": "removed"}


def _change_labels(session: Session, changes: list[tuple[str, str, str, dict]]) -> list[str]:
    """'a citation on GUZMAN LOERA, Joaquin (added)', not 'citation a4164e42... (citation.create)': the
    reviewer refused must recognise what they changed. Captions come in one query."""
    from workbench.store.models import Entity, Link, Source

    source_ids = [object_id for kind, object_id, _action, _state in changes if kind == "source"]
    titles = dict(session.execute(select(Source.id, Source.title).where(Source.id.in_(source_ids))).all()) \
        if source_ids else {}
    link_ids = [object_id for kind, object_id, _action, _state in changes if kind in ("link", "citation")]
    links = {link.id: link for link in session.scalars(select(Link).where(Link.id.in_(link_ids)))} if link_ids else {}
    ids = {object_id for _kind, object_id, _action, _state in changes}
    ids |= {state.get(end) for _kind, _id, _action, state in changes for end in ("source", "target") if state.get(end)}
    ids |= {end for link in links.values() for end in (link.source_id, link.target_id)}
    captions = dict(session.execute(select(Entity.id, Entity.caption).where(Entity.id.in_(ids))).all()) if ids else {}

    def link_words(link_id: str, state: dict) -> str:
        link = links.get(link_id)
        source, target = (link.source_id, link.target_id) if link else (state.get("source"), state.get("target"))
        kind = link.kind if link else state.get("kind") or "link"
        return f"{captions.get(source, source)} – {kind} – {captions.get(target, target)}"

    found: list[str] = []
    for object_type, object_id, action, state in changes:
        done = _DONE.get(action.rsplit(".", 1)[-1], action)
        if object_type == "entity":
            label = f"{captions.get(object_id, object_id)} ({done})"
        elif object_type == "link":
            label = f"the link {link_words(object_id, state)} ({done})"
        elif object_type == "source":
            label = f"the source {titles.get(object_id, object_id)!r} ({done})"
        elif object_type == "citation":
            on = f"the link {link_words(object_id, {})}" if object_id in links else captions.get(object_id, object_id)
            label = f"a citation on {on} ({done})"
        else:
            label = f"{object_type} {object_id} ({done})"
        if label not in found:
            found.append(label)
    return found


def authors(session: Session, dossier: Dossier) -> set[str]:
    """Who opened the dossier or one of its versions (not everyone who edited it since)."""
    return {version.created_by for version in _versions(session, dossier)}


def may_withdraw(session: Session, actor: Actor, dossier: Dossier) -> str | None:
    """None if the actor may withdraw the dossier; otherwise the reason. Withdrawal cannot be undone, so
    it is for the dossier's authors (who opened it or one of its versions) and for reviewers and admins:
    not for any researcher, and not for one who edited it once (any researcher can make an edit)."""
    if actor.can("withdraw_any") or actor.username in authors(session, dossier):
        return None
    return (f"{actor.username} ({actor.role}) did not open dossier {dossier.title!r} or a version of it: only its "
            "authors, a reviewer or an admin may withdraw it")


def _refusal(session: Session, actor: Actor, spec: Move, dossier: Dossier) -> str | None:
    """Why this actor may not make this move on this dossier (beyond role and state), or None."""
    if spec.review:
        return may_review(session, actor, dossier)
    if spec.name == "withdraw":
        return may_withdraw(session, actor, dossier)
    return None


def _blocked(session: Session, spec: Move, dossier: Dossier) -> str | None:
    """Why the move cannot be made on this dossier now, whoever asks (beyond the states it starts from)."""
    return superseded(session, dossier) if spec.name == "reopen" else None


def superseded(session: Session, dossier: Dossier) -> str | None:
    """Why a returned dossier may not be reopened: a newer version of it is open already (two drafts
    of one package could both be approved, the older one without the newer one's edits)."""
    successor = session.scalar(select(Dossier.id).where(Dossier.previous_id == dossier.id))
    if successor:
        return (f"version {dossier.number + 1} of this dossier ({successor}) was opened from it: "
                "work on that version instead")
    return None


_UNKNOWN = object()


def allowed_moves(session: Session, actor: Actor, dossier: Dossier, review_refusal: object = _UNKNOWN) -> list[Move]:
    """The moves the actor can make on the dossier in its current state (buttons on the page).

    Approve, return and reject share one refusal (``may_review``, which may build the dossier's view):
    it is worked out once, or taken from a caller that has it."""
    out = []
    for move in MOVES.values():
        if dossier.state not in move.sources or not actor.can(move.permission) or _blocked(session, move, dossier):
            continue
        if move.review:
            if review_refusal is _UNKNOWN:
                review_refusal = may_review(session, actor, dossier)
            refused = review_refusal
        else:
            refused = _refusal(session, actor, move, dossier)
        if refused is not None:
            continue
        out.append(move)
    return out


def last_return(dossier: Dossier) -> DossierEvent | None:
    """The event that returned the dossier (who, when, what to change), while it waits on its authors
    (returned, or reopened as a draft after it): its page shows the reason at the top, not only in the
    history at the bottom."""
    if dossier.state not in ("returned", "draft"):
        return None
    for event in reversed(dossier.events):
        if event.event == "returned":
            return event
        if event.event in ("submitted", "approved", "rejected"):
            return None  # resubmitted since: the return was answered
    return None


def withdrawal(dossier: Dossier) -> DossierEvent | None:
    """The event that withdrew the dossier (who, when, why), or None: its page shows the reason."""
    if dossier.state != "withdrawn":
        return None
    return next((e for e in reversed(dossier.events) if e.event == "withdrawn"), None)


def _check_seen(session: Session, spec: Move, dossier: Dossier, seen_hash: str | None, require_seen: bool) -> None:
    """Refuse a verdict on content the reviewer was not shown. A submitted dossier's own row is frozen,
    but the target, its links, the sources and the citations it shows are live: the version check does
    not see them change, the content hash does. ``require_seen``: an approval from outside (pages,
    scripts) must say what it approved; in-process callers build no page and may leave it out."""
    if not spec.verdict:
        return
    if not seen_hash:
        if require_seen and spec.name == "approve":
            raise ValidationError({"content_hash": [
                "an approval must say which content was reviewed: send content_hash, the hash of the package as "
                "you read it (the dossier page's form sends it; the dossier's JSON gives it as content_hash). "
                "Nothing was approved"]})
        return
    now = snapshot.live_hash(session, dossier)
    if seen_hash.strip().lower() != now:
        raise Conflict(f"the package changed since you opened it: what dossier {dossier.title!r} shows (its target, "
                       f"links, sources, citations or exhibits) now hashes to {now[:12]}, not {seen_hash[:12]} as on "
                       f"your page. Reload it and review again; nothing was {spec.target}.")


@conflict_safe
def move(session: Session, actor: Actor, dossier_id: str, name: str, comment: str | None = None,
         expected_version: int | None = None, seen_hash: str | None = None, require_seen: bool = False) -> Dossier:
    """Make one workflow move, or refuse it with a message that says why. ``seen_hash``: the content hash
    of the page the reviewer read (see _check_seen)."""
    spec = MOVES.get(name)
    if spec is None:
        raise InvalidMove(f"unknown move {name!r} (use {', '.join(MOVES)})")
    # Before the checks: an edit that committed between the check of the hash the reviewer read and
    # the freeze went into the approved snapshot unseen (PostgreSQL, 17 races in 20).
    audit.begin_change(session)
    dossier = get_dossier(session, dossier_id)
    check_version(dossier, expected_version, actor)
    require(actor, spec.permission, f"{spec.label.lower()} dossiers")
    if dossier.state not in spec.sources:
        raise InvalidMove(f"cannot {name} dossier {dossier.title!r}: it is {dossier.state} "
                          f"({name} is allowed only from {' or '.join(spec.sources)})")
    blocked = _blocked(session, spec, dossier)
    if blocked:
        raise InvalidMove(f"cannot {name} dossier {dossier.title!r}: {blocked}")
    reason = _refusal(session, actor, spec, dossier)
    if reason:
        raise FourEyesViolation(reason) if spec.review else PermissionDenied(reason)
    _check_seen(session, spec, dossier, seen_hash, require_seen)
    comment = (comment or "").strip() or None
    if spec.needs_comment and not comment:
        raise ValidationError({"comment": [f"say why you {name} the dossier ({spec.comment_hint})"]})
    if name == "submit":
        result = completeness.check(snapshot.live_view(session, dossier))
        if not result.complete:
            raise Incomplete(result.missing)
    before = dossier_state(dossier)
    from_state = dossier.state
    dossier.state = spec.target
    add_event(session, dossier, actor, spec.event, comment, from_state=from_state, to_state=spec.target)
    if name == "approve":
        snapshot.freeze(session, dossier)
    touch(session, dossier)
    after = dossier_state(dossier)
    if comment:
        after["comment"] = comment  # the reason for a return, rejection or withdrawal belongs to the record
    audit.record(session, actor.username, f"dossier.{name}", "dossier", dossier.id, before, after)
    return dossier


def submit(session, actor, dossier_id, comment=None, expected_version=None) -> Dossier:
    return move(session, actor, dossier_id, "submit", comment, expected_version)


def approve(session, actor, dossier_id, comment=None, expected_version=None) -> Dossier:
    return move(session, actor, dossier_id, "approve", comment, expected_version)


def return_for_changes(session, actor, dossier_id, comment=None, expected_version=None) -> Dossier:
    return move(session, actor, dossier_id, "return", comment, expected_version)


def reject(session, actor, dossier_id, comment=None, expected_version=None) -> Dossier:
    return move(session, actor, dossier_id, "reject", comment, expected_version)


def withdraw(session, actor, dossier_id, comment=None, expected_version=None) -> Dossier:
    return move(session, actor, dossier_id, "withdraw", comment, expected_version)


def reopen(session, actor, dossier_id, comment=None, expected_version=None) -> Dossier:
    return move(session, actor, dossier_id, "reopen", comment, expected_version)


def review_queue(session: Session, actor: Actor) -> list[dict]:
    """Submitted dossiers, oldest first, each with whether this reviewer may take it (and why not)."""
    require(actor, "read", "see the review queue")
    rows = session.execute(select(Dossier).where(Dossier.state == "submitted").order_by(Dossier.updated_at)).scalars()
    out = []
    for dossier in rows:
        submitted = [e for e in dossier.events if e.event == "submitted"]
        out.append({"dossier": dossier, "submitted_by": submitted[-1].user if submitted else None,
                    "submitted_at": submitted[-1].at if submitted else None,
                    "blocked": may_review(session, actor, dossier)})
    return out
