"""Domain services for dossiers: create, edit, exhibits, comments, new versions.

A dossier is a candidate designation package; it is edited only while it is a draft, so that what a
reviewer reads is what was submitted. Every change bumps the dossier's version (optimistic locking:
two people editing the same dossier get a Conflict, not a silent overwrite), records a typed
DossierEvent, and writes the audit entry in the caller's transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workbench.schema import LegalBasis, ValidationError, registry
from workbench.store import audit
from workbench.store.entities import (
    MAX_ROW_ID,
    Conflict,
    NotFound,
    check_page,
    get_source,
    still_held,
    surviving,
)
from workbench.store.models import (
    AuditEntry,
    Citation,
    Comment,
    Dossier,
    DossierEvent,
    Entity,
    Exhibit,
    Link,
    as_utc,
    new_id,
)
from workbench.store.permissions import Actor, require
from workbench.types import direction_control_error

STATES = ("draft", "submitted", "approved", "returned", "rejected", "withdrawn")
EDITABLE_STATES = ("draft",)
# States in which a dossier waits on its author: the home page's "your drafts and returned dossiers".
AUTHOR_STATES = ("draft", "returned")
STATEMENT_TYPES = {"fact": "Established fact", "allegation": "Allegation"}

# The sections of a case summary, in the order they are printed. Dossiers may carry others.
NARRATIVE_SECTIONS = {
    "summary": "Summary",
    "background": "Background",
    "legal_analysis": "Analysis against the legal criteria",
    "assets": "Assets and blocking considerations",
    "recommendation": "Recommendation",
}
VISA_FIELDS = {
    "visa_class": "Visa class",
    "visa_number": "Visa (foil) number",
    "issuing_post": "Issuing post",
    "issue_date": "Issue date",
    "expiry_date": "Expiry date",
}


class InvalidMove(ValidationError):
    """A workflow move that the state machine does not allow, or an edit in a frozen state."""

    lead = "Nothing was changed."

    def __init__(self, message: str, field: str = "state"):
        # ``field``: what the page labels the refusal with; not every refusal is about the state.
        super().__init__({field: [message]})
        self.message = message

    def __str__(self) -> str:
        return self.message


class TargetMerged(ValidationError):
    """A dossier pointed at an entry merged into another: its page, completeness and exports would answer
    404 (they show live entries only). ``merged`` is the entry named, ``kept`` the one it went into."""

    lead = "Nothing was changed."

    def __init__(self, merged: Entity, kept: Entity, advice: str | None = None):
        self.merged, self.kept = merged, kept
        advice = advice or f"create the dossier on {kept.caption}"
        super().__init__({"target": [f"{merged.caption} ({merged.id}) was merged into {kept.caption} ({kept.id}): "
                                     f"{advice}"]})


class Incomplete(ValidationError):
    """Submission refused: ``missing`` lists, in plain words, what the dossier still lacks."""

    lead = "The dossier is not complete, so it was not submitted. It still needs:"

    def __init__(self, missing: list[str]):
        super().__init__({"completeness": missing})
        self.missing = missing

    def __str__(self) -> str:
        return "the dossier is not complete: " + "; ".join(self.missing)


# ---- helpers ---------------------------------------------------------------------------------

def dossier_state(dossier: Dossier) -> dict:
    """The audited state of a dossier row (exhibits are audited one by one)."""
    return {
        "title": dossier.title, "target": dossier.target_id, "legal_basis": dossier.legal_basis,
        "state": dossier.state, "number": dossier.number, "previous": dossier.previous_id,
        "narrative": dossier.narrative, "visa_data": dossier.visa_data,
        "identifier_notes": dossier.identifier_notes, "fictional": dossier.fictional,
        "snapshot_hash": dossier.snapshot_hash,
    }


def exhibit_state(exhibit: Exhibit) -> dict:
    return {
        "number": exhibit.number, "source": exhibit.source_id, "citation": exhibit.citation_id,
        "element": exhibit.element, "statement": exhibit.statement, "statement_type": exhibit.statement_type,
        "excerpt": exhibit.excerpt, "page": exhibit.page,
    }


def basis_of(dossier: Dossier) -> LegalBasis:
    return registry().legal_basis(dossier.legal_basis)


def get_dossier(session: Session, dossier_id: str) -> Dossier:
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound(f"no dossier with id {dossier_id!r}")
    return dossier


def _filtered(query, state: str | Iterable[str] | None, target_id: str | None, author: str | None):
    """The dossier filters shared by the list and the counts (one state or several, a target, an author)."""
    states = [state] if isinstance(state, str) else [s for s in state or () if s]
    unknown = [s for s in states if s not in STATES]
    if unknown:
        raise ValidationError({"state": [f"unknown state {s!r} (use {', '.join(STATES)})" for s in unknown]})
    if states:
        query = query.where(Dossier.state.in_(states))
    if target_id:
        query = query.where(Dossier.target_id == target_id)
    if author:
        query = query.where(Dossier.created_by == author)
    return query


def list_dossiers(session: Session, state: str | Iterable[str] | None = None, target_id: str | None = None,
                  author: str | None = None, offset: int = 0, limit: int | None = None) -> list[Dossier]:
    """The dossiers, most recently updated first; ``offset``/``limit``: a page of them (the lists page them,
    ``count_dossiers`` says how many there are)."""
    query = _filtered(select(Dossier), state or None, target_id, author)
    return list(session.execute(query.order_by(Dossier.updated_at.desc(), Dossier.id)
                                .offset(offset).limit(limit)).scalars())


def count_dossiers(session: Session, state: str | Iterable[str] | None = None, author: str | None = None,
                   target_id: str | None = None) -> int:
    query = _filtered(select(func.count()).select_from(Dossier), state or None, target_id, author)
    return int(session.scalar(query) or 0)


def check_version(dossier: Dossier, expected_version: int | None, actor: Actor | None = None) -> None:
    """Refuse a change made from a page older than the dossier, saying who changed it: a second click
    or another tab of the same user must not read as someone else's doing."""
    if expected_version is not None and dossier.version != int(expected_version):
        last = dossier.events[-1] if dossier.events else None
        if actor is not None and last is not None and last.user == actor.username:
            who = f"you changed dossier {dossier.title!r} since this page was opened (another tab, or a second click)"
        else:
            who = f"dossier {dossier.title!r} was changed by someone else since you opened it"
        # 'Revision' is the row's count of saves; 'version' is the package's number (v1, v2) a reader knows.
        raise Conflict(f"{who}: version {dossier.number} is now {dossier.state}, at revision {dossier.version} (the "
                       f"page had revision {expected_version}). Reload it, check it, and make your change again if "
                       "it is still needed.")


def _require_editable(dossier: Dossier) -> None:
    if dossier.state not in EDITABLE_STATES:
        hint = " (reopen it as a draft first)" if dossier.state == "returned" else (
            " (open a new version to change it)" if dossier.state == "approved" else "")
        raise InvalidMove(f"dossier {dossier.title!r} is {dossier.state} and cannot be edited{hint}")


def add_event(session: Session, dossier: Dossier, actor: Actor, event: str, comment: str | None = None,
              from_state: str | None = None, to_state: str | None = None) -> DossierEvent:
    row = DossierEvent(dossier_id=dossier.id, event=event, from_state=from_state, to_state=to_state,
                       user=actor.username, comment=clean_text(comment, "comment") or None,
                       at=datetime.now(UTC))
    # Loading the events to append to would flush the change in progress first, and every flush of a
    # changed dossier raises its version: one edit showed up as two ("your version 6, now 8").
    with session.no_autoflush:
        dossier.events.append(row)
    return row


def conflict_safe(func):
    """Turn a concurrent update detected at any flush (optimistic lock) into a Conflict."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StaleDataError as exc:
            raise Conflict("the dossier was changed by someone else at the same time; reload it and retry") from exc

    return wrapper


def touch(session: Session, dossier: Dossier) -> None:
    """Bump the dossier's version (every change, exhibits included, is a change to the package)."""
    title = dossier.title  # read now: after a failed flush the session can load nothing more
    dossier.updated_at = datetime.now(UTC)
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"dossier {title!r} was changed by someone else at the same time; reload and retry") from exc


MAX_TEXT = 100_000  # characters in one piece of dossier text (some 30 pages): every export renders it whole


def clean_text(text: object, field: str | None = None) -> str:
    """Dossier text as stored. Browsers post a textarea's line breaks as CR LF, while the page and every
    export split paragraphs on an empty line of bare LFs: kept as typed, a browser's paragraphs ran
    together into one. ``field``: what a text over MAX_TEXT is refused as (every export renders the whole
    text, for every reader who opens it: a PDF took 2.4 s with a 100,000-character section and 6.6 s with
    400,000, and grows with the text)."""
    cleaned = ("" if text is None else str(text)).replace("\r\n", "\n").replace("\r", "\n").strip()
    if field is not None and (problem := direction_control_error(cleaned)):  # as entity values refuse it
        raise ValidationError({field: problem})
    if field is not None and len(cleaned) > MAX_TEXT:
        raise ValidationError({field: [f"at most {MAX_TEXT:,} characters (this one has {len(cleaned):,}): "
                                       "put a long text in a source and cite it"]})
    return cleaned


def _clean_text_map(values: dict[str, Any] | None, field: str) -> dict[str, str]:
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValidationError({field: ["expected a mapping of section -> text"]})
    cleaned: dict[str, str] = {}
    for key, text in values.items():
        key = str(key).strip()
        if not key:
            raise ValidationError({field: ["a section needs a name"]})
        text = clean_text(text, f"{field}.{key}")
        if text:
            cleaned[key] = text
    return cleaned


VISA_DATES = ("issue_date", "expiry_date")
MAX_TITLE = 300


def _clean_narrative(values: dict[str, Any] | None) -> dict[str, str]:
    """The narrative's sections, each one the page has a field for: a section under another name (a typo
    in a script's 'sumary') would be stored and exported, but never shown on the page to edit."""
    cleaned = _clean_text_map(values, "narrative")
    unknown = sorted(set(cleaned) - set(NARRATIVE_SECTIONS))
    if unknown:
        raise ValidationError({"narrative": [f"unknown narrative section(s): {', '.join(unknown)} "
                                             f"(use {', '.join(NARRATIVE_SECTIONS)})"]})
    return cleaned


def _clean_visa(values: dict[str, Any] | None) -> dict[str, str] | None:
    """The visa fields, their dates checked as an entity's are (1979, 1979-02 or 1979-02-13): the
    visa CSV goes to consular staff, who must not get '31/31/2020' or an expiry before the issue."""
    from workbench.types import check_date

    cleaned = _clean_text_map(values, "visa_data")
    unknown = sorted(set(cleaned) - set(VISA_FIELDS))
    if unknown:
        raise ValidationError({"visa_data": [f"unknown visa field(s): {', '.join(unknown)} "
                                             f"(use {', '.join(VISA_FIELDS)})"]})
    errors: dict[str, list[str]] = {}
    for key in VISA_DATES:
        if cleaned.get(key):
            checked = check_date(cleaned[key], {}, registry())
            if checked.errors:
                errors[f"visa_{key}"] = [f"{VISA_FIELDS[key]}: {e}" for e in checked.errors]
            else:
                cleaned[key] = checked.value
    issued, expires = cleaned.get("issue_date"), cleaned.get("expiry_date")
    if not errors and issued and expires and expires < issued[:len(expires)]:
        errors["visa_expiry_date"] = [f"the expiry date {expires} is before the issue date {issued}"]
    if errors:
        raise ValidationError(errors)
    return cleaned or None


def _title(text: str | None) -> str:
    """A title as typed, refused (not cut) when it is too long: a cut title would be saved unseen."""
    title = " ".join((text or "").split())
    if problem := direction_control_error(title):
        raise ValidationError({"title": problem})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": [f"a title is at most {MAX_TITLE} characters (this one has {len(title)})"]})
    return title


# ---- dossiers --------------------------------------------------------------------------------

def applies_to(basis: LegalBasis, kind: str) -> bool:
    """Whether a legal basis can designate an entity of this kind (no ``target_kinds``: any kind)."""
    return not basis.target_kinds or registry().entity_kind(kind).is_a_any(basis.target_kinds)


def target_kinds() -> list[str]:
    """The kinds some legal basis applies to, i.e. what a dossier's target may be ([]: any kind)."""
    bases = registry().legal_bases.values()
    if any(not b.target_kinds for b in bases):
        return []
    return sorted({k for b in bases for k in b.target_kinds})


def live_target(session: Session, target_id: str | None, advice: str | None = None) -> Entity:
    """The entity a dossier may be about: one that exists and was not merged into another. A merged entry
    is refused naming the entry it went into (TargetMerged; a merge moves the dossiers already about it,
    and a dossier pointed at it afterwards would have no page); a deleted one is NotFound."""
    target_id = (target_id or "").strip()
    if not target_id:
        raise ValidationError({"target": ["choose the entity the dossier is about"]})
    target = session.get(Entity, target_id)
    if target is None:
        raise NotFound(f"no entity with id {target_id!r}: it was deleted, or never existed. Choose the target again")
    _refuse_merged(session, target, advice)
    return target


def _refuse_merged(session: Session, target: Entity, advice: str | None = None) -> None:
    """TargetMerged (naming the kept entry) when ``target`` was merged into another entry."""
    if not target.merged_into:
        return
    kept = surviving(session, target)
    if kept is None or kept.merged_into:  # a broken chain: nothing to offer instead
        raise ValidationError({"target": [f"{target.caption} ({target.id}) was merged into another entry: "
                                          "choose the target again"]})
    raise TargetMerged(target, kept, advice)


def create_dossier(session: Session, actor: Actor, target_id: str, legal_basis: str, *, title: str | None = None,
                   narrative: dict[str, str] | None = None, visa_data: dict[str, str] | None = None,
                   identifier_notes: str | None = None, fictional: bool | None = None,
                   dossier_id: str | None = None) -> Dossier:
    require(actor, "edit", "create dossiers")
    audit.begin_change(session)
    reg = registry()
    target = live_target(session, target_id)
    basis = reg.legal_basis(legal_basis)
    if not applies_to(basis, target.kind):
        raise ValidationError({"target": [f"{basis.label} applies to {', '.join(basis.target_kinds)}, "
                                          f"not to a {target.kind} ({target.caption})"]})
    if visa_data and not basis.visa:
        raise ValidationError({"visa_data": [f"visa data belongs in a visa dossier, not under {basis.label}"]})
    if fictional is None:
        fictional = "fictional" in target.properties.get("topics", [])
    dossier = Dossier(
        id=dossier_id or new_id(),
        title=_title(title) or f"{target.caption} - {basis.label}"[:MAX_TITLE],
        target_id=target.id, legal_basis=basis.key, state="draft", number=1,
        narrative=_clean_narrative(narrative), visa_data=_clean_visa(visa_data),
        identifier_notes=clean_text(identifier_notes, "identifier_notes") or None, fictional=bool(fictional),
        created_by=actor.username,
    )
    session.add(dossier)
    add_event(session, dossier, actor, "created", to_state="draft")
    session.flush()
    audit.record(session, actor.username, "dossier.create", "dossier", dossier.id, None, dossier_state(dossier))
    # Appending waited for any merge that had appended first: if one merged the target meanwhile (it
    # could not see this dossier to move it), read afresh now and refuse, as live_target would have.
    session.refresh(target, ["merged_into"])
    _refuse_merged(session, target)
    return dossier


_UNSET: Any = object()


@conflict_safe
def update_dossier(session: Session, actor: Actor, dossier_id: str, *, expected_version: int | None = None,
                   title: str | None = _UNSET, narrative: dict[str, str] | None = _UNSET,
                   visa_data: dict[str, str] | None = _UNSET, identifier_notes: str | None = _UNSET,
                   comment: str | None = None) -> Dossier:
    """Change the dossier's own fields (narrative sections are replaced as a whole)."""
    require(actor, "edit", "edit dossiers")
    audit.begin_change(session)
    dossier = get_dossier(session, dossier_id)
    check_version(dossier, expected_version, actor)
    _require_editable(dossier)
    before = dossier_state(dossier)
    changed: list[str] = []
    if title is not _UNSET:
        title = _title(title)
        if not title:
            raise ValidationError({"title": ["a dossier needs a title"]})
        if title != dossier.title:
            dossier.title = title
            changed.append("title")
    if narrative is not _UNSET:
        cleaned = _clean_narrative(narrative)
        if cleaned != (dossier.narrative or {}):
            dossier.narrative = cleaned
            changed.append("narrative")
    if visa_data is not _UNSET:
        cleaned_visa = _clean_visa(visa_data)
        if cleaned_visa and not basis_of(dossier).visa:
            raise ValidationError({"visa_data": ["visa data belongs in a visa dossier"]})
        if cleaned_visa != dossier.visa_data:
            dossier.visa_data = cleaned_visa
            changed.append("visa data")
    if identifier_notes is not _UNSET:
        notes = clean_text(identifier_notes, "identifier_notes") or None
        if notes != dossier.identifier_notes:
            dossier.identifier_notes = notes
            changed.append("identifier notes")
    if not changed:
        return dossier
    add_event(session, dossier, actor, "edited", comment or "changed " + ", ".join(changed))
    touch(session, dossier)
    audit.record(session, actor.username, "dossier.update", "dossier", dossier.id, before, dossier_state(dossier))
    return dossier


# ---- exhibits --------------------------------------------------------------------------------

@conflict_safe
def add_exhibit(session: Session, actor: Actor, dossier_id: str, *, element: str, statement: str,
                statement_type: str = "allegation", source_id: str | None = None, citation_id: int | None = None,
                excerpt: str | None = None, page: str | None = None,
                expected_version: int | None = None) -> Exhibit:
    """Add an exhibit: an existing citation (or a source) supporting one element of the basis."""
    require(actor, "edit", "add exhibits")
    audit.begin_change(session)
    dossier = get_dossier(session, dossier_id)
    check_version(dossier, expected_version, actor)
    _require_editable(dossier)
    basis = basis_of(dossier)
    errors: dict[str, list[str]] = {}
    if element not in basis.elements:
        errors["element"] = [f"{element!r} is not an element of {basis.label} (use {', '.join(basis.elements)})"]
    if statement_type not in STATEMENT_TYPES:
        errors["statement_type"] = ["say whether the exhibit states an established fact or an allegation"]
    statement = clean_text(statement, "statement")
    if not statement:
        errors["statement"] = ["say what the exhibit shows"]
    citation = None
    if citation_id not in (None, ""):
        number = int(citation_id)
        # An id PostgreSQL's 32-bit column cannot hold names no citation (asking would be a server error).
        citation = session.get(Citation, number) if 0 < number <= MAX_ROW_ID else None
        if citation is None:
            errors["citation"] = [f"no citation {citation_id}"]
        elif source_id and source_id != citation.source_id:
            errors["citation"] = ["the citation belongs to a different source than the one chosen"]
        elif not _shown_in_dossier(session, dossier, basis, citation):
            errors["citation"] = [f"citation {number} supports a fact the dossier does not show (not about the "
                                  "target, its links, its chains to designated parties or its assets): choose one "
                                  "of those, or the source itself"]
        elif not still_held(citation, (session.get(Link, citation.link_id) if citation.link_id else
                                       session.get(Entity, citation.entity_id)).properties):
            errors["citation"] = [f"citation {number} supports {citation.prop} {citation.value!r}, a value its entry "
                                  "no longer holds (it was corrected or removed): cite the value held now, or the "
                                  "source itself"]
    elif not source_id:
        errors["source"] = ["pick a source or one of its citations"]
    try:
        check_page((page or "").strip() or None)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    source = get_source(session, citation.source_id if citation else source_id)
    number = _last_exhibit_number(session, dossier) + 1
    exhibit = Exhibit(
        dossier_id=dossier.id, number=number, source_id=source.id, citation_id=citation.id if citation else None,
        element=element, statement=statement, statement_type=statement_type,
        excerpt=clean_text(excerpt, "excerpt") or (citation.excerpt if citation else None),
        page=(page or "").strip() or (citation.page if citation else None), created_by=actor.username,
    )
    dossier.exhibits.append(exhibit)
    # The event names no source: events appear in the releasable export too.
    add_event(session, dossier, actor, "exhibit_added", f"exhibit {number} ({basis.element_label(element)})")
    touch(session, dossier)
    audit.record(session, actor.username, "dossier.exhibit_add", "dossier", dossier.id, None, exhibit_state(exhibit))
    return exhibit


def _last_exhibit_number(session: Session, dossier: Dossier) -> int:
    """The highest number the package ever gave an exhibit, removed ones included (the audit log keeps
    them): a number is never given twice, so 'Exhibit 2' in a narrative or a comment means one thing.
    Every earlier version counts too: a reviewer's 'see exhibit 3' on version 1 must not come to name a
    new exhibit of version 2."""
    ids = [version.id for version in version_chain(session, dossier)]
    held = session.scalar(select(func.max(Exhibit.number)).where(Exhibit.dossier_id.in_(ids))) or 0
    removed = [entry.before.get("number") or 0 for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.action == "dossier.exhibit_remove", AuditEntry.object_id.in_(ids)))
        if isinstance(entry.before, dict)]
    return max([held, *removed])


@conflict_safe
def remove_exhibit(session: Session, actor: Actor, dossier_id: str, exhibit_id: int,
                   expected_version: int | None = None) -> None:
    """Remove an exhibit; the others keep their numbers, so citations in the narrative stay right."""
    require(actor, "edit", "remove exhibits")
    audit.begin_change(session)
    dossier = get_dossier(session, dossier_id)
    check_version(dossier, expected_version, actor)
    _require_editable(dossier)
    exhibit = next((e for e in dossier.exhibits if e.id == int(exhibit_id)), None)
    if exhibit is None:
        raise NotFound(f"dossier {dossier.title!r} has no exhibit {exhibit_id}")
    before = exhibit_state(exhibit)
    # The discussion of the exhibit stays on the dossier, saying which exhibit it was about.
    for comment in session.scalars(select(Comment).where(Comment.exhibit_id == exhibit.id)):
        comment.exhibit_id = None
        comment.text = f"[on exhibit {exhibit.number}, since removed] {comment.text}"
    session.flush()
    dossier.exhibits.remove(exhibit)
    add_event(session, dossier, actor, "exhibit_removed", f"exhibit {exhibit.number} removed")
    touch(session, dossier)
    audit.record(session, actor.username, "dossier.exhibit_remove", "dossier", dossier.id, before, None)


# ---- comments --------------------------------------------------------------------------------

def add_comment(session: Session, actor: Actor, dossier_id: str, text: str, exhibit_id: int | None = None) -> Comment:
    """Discussion on a dossier or one exhibit. Allowed in every state: reviewers comment on frozen ones."""
    require(actor, "read", "comment on dossiers")
    audit.begin_change(session)
    dossier = get_dossier(session, dossier_id)
    text = clean_text(text, "text")
    if not text:
        raise ValidationError({"text": ["a comment cannot be empty"]})
    if exhibit_id not in (None, ""):
        exhibit_id = int(exhibit_id)
        if not any(e.id == exhibit_id for e in dossier.exhibits):
            raise NotFound(f"dossier {dossier.title!r} has no exhibit {exhibit_id}")
    else:
        exhibit_id = None
    comment = Comment(dossier_id=dossier.id, exhibit_id=exhibit_id, author=actor.username, text=text)
    session.add(comment)
    session.flush()
    audit.record(session, actor.username, "dossier.comment", "dossier", dossier.id, None,
                 {"comment": comment.id, "exhibit": exhibit_id, "text": text})
    return comment


def comments_for(session: Session, dossier_id: str) -> list[Comment]:
    return list(session.execute(
        select(Comment).where(Comment.dossier_id == dossier_id).order_by(Comment.created_at, Comment.id)
    ).scalars())


def comments_across_versions(session: Session, dossier: Dossier) -> list[dict]:
    """The review discussion a version carries: its own comments, then those made on each earlier version
    (the newest earlier version first), each oldest first, as plain records.

    A reviewer's 'direction reversed' on exhibit 3 of version 1 is what version 2 was opened to answer, so
    version 2's page and exports must still show it. Each record says which version it was made on and,
    for a comment on an exhibit, that exhibit's number there (numbers are never given twice in a package,
    so ``exhibit_here`` says whether this version still holds the same exhibit). Later versions' comments
    are not included: they were not part of the discussion this version answers.

    Comments are never part of the dossier's view, so they never change the content hash a reviewer
    approves (a comment may be added in every state, on frozen dossiers too): callers read them at render
    time, as ``exports.document`` does."""
    chain = version_chain(session, dossier)
    versions = [dossier, *reversed(chain[:chain.index(dossier)])]
    number_of = {v.id: v.number for v in versions}
    ids = list(number_of)
    exhibits = dict(session.execute(select(Exhibit.id, Exhibit.number).where(Exhibit.dossier_id.in_(ids))).all())
    here = {ex.number for ex in dossier.exhibits}
    rows = session.scalars(select(Comment).where(Comment.dossier_id.in_(ids))
                           .order_by(Comment.created_at, Comment.id))
    by_version: dict[str, list[dict]] = {v: [] for v in ids}
    for c in rows:
        number = exhibits.get(c.exhibit_id) if c.exhibit_id is not None else None
        by_version[c.dossier_id].append({
            "id": c.id, "dossier_id": c.dossier_id, "version": number_of[c.dossier_id],
            "this_version": c.dossier_id == dossier.id, "exhibit_number": number,
            "exhibit_here": number is not None and number in here,
            "author": c.author, "at": as_utc(c.created_at).astimezone(UTC).isoformat() if c.created_at else None,
            "text": c.text,
        })
    return [record for version_id in ids for record in by_version[version_id]]


# ---- versions --------------------------------------------------------------------------------

@conflict_safe
def new_version(session: Session, actor: Actor, dossier_id: str, comment: str | None = None) -> Dossier:
    """Open version number+1 as a draft from an approved or returned dossier, copying its content."""
    require(actor, "edit", "open a new dossier version")
    audit.begin_change(session)
    old = get_dossier(session, dossier_id)
    if old.state not in ("approved", "returned"):
        raise InvalidMove(f"a new version can be opened from an approved or returned dossier, not a {old.state} one")
    successor = session.scalar(select(Dossier).where(Dossier.previous_id == old.id))
    if successor:
        raise InvalidMove(f"version {successor.number} of this dossier already exists ({successor.id}, "
                          f"{successor.state}), opened from version {old.number}: work on that version instead",
                          "new_version")
    # A merge moves every dossier about the merged entry; one left on it (written before dossiers were
    # refused a merged target) must not hand the fault on to its next version.
    live_target(session, old.target_id, "open the new version once the merge is undone, or create a dossier "
                                        "on the kept entry")
    # Opening a version changes the old one (it is versioned now): its row version moves, so a second
    # request opening another version, or reopening it, at the same moment conflicts instead of
    # leaving two drafts of one package (the unique index on previous_id holds the rule as well).
    title = old.title
    touch(session, old)
    dossier = Dossier(
        id=new_id(), title=old.title, target_id=old.target_id, legal_basis=old.legal_basis, state="draft",
        number=old.number + 1, previous_id=old.id, narrative=dict(old.narrative or {}),
        visa_data=dict(old.visa_data) if old.visa_data else None, identifier_notes=old.identifier_notes,
        fictional=old.fictional, created_by=actor.username,
    )
    for ex in old.exhibits:
        dossier.exhibits.append(Exhibit(
            number=ex.number, source_id=ex.source_id, citation_id=ex.citation_id, element=ex.element,
            statement=ex.statement, statement_type=ex.statement_type, excerpt=ex.excerpt, page=ex.page,
            created_by=ex.created_by,
        ))
    session.add(dossier)
    add_event(session, dossier, actor, "created", comment or f"version {dossier.number}, opened from version "
              f"{old.number} ({old.state})", to_state="draft")
    add_event(session, old, actor, "versioned", f"version {dossier.number} opened: {dossier.id}")
    try:
        session.flush()
    except IntegrityError as exc:  # another writer's next version went in first
        raise Conflict(f"another version of dossier {title!r} was opened at the same moment; reload it") from exc
    audit.record(session, actor.username, "dossier.version", "dossier", dossier.id,
                 {"previous": old.id}, dossier_state(dossier))
    return dossier


def version_chain(session: Session, dossier: Dossier) -> list[Dossier]:
    """Every version of the package, oldest first."""
    chain = [dossier]
    current = dossier
    while current.previous_id:
        current = get_dossier(session, current.previous_id)
        chain.insert(0, current)
    current = dossier
    while True:
        nxt = successor_of(session, current)
        if nxt is None:
            break
        chain.append(nxt)
        current = nxt
    return chain


def successor_of(session: Session, dossier: Dossier) -> Dossier | None:
    """The version opened from this one, if any (one at most: new_version refuses a second)."""
    return session.scalar(select(Dossier).where(Dossier.previous_id == dossier.id).limit(1))


def superseded_by(session: Session, dossier: Dossier) -> Dossier | None:
    """The newest later version that was approved, for an approved dossier: its exports and page must not
    read as the package in force. A later draft or returned version supersedes nothing yet."""
    if dossier.state != "approved":
        return None
    chain = version_chain(session, dossier)
    return next((v for v in reversed(chain[chain.index(dossier) + 1:]) if v.state == "approved"), None)


def superseded_among(session: Session, dossiers: Iterable[Dossier]) -> dict[str, Dossier]:
    """``superseded_by`` for a list of dossiers at once (one query): approved id -> its newest approved
    later version, so that a list does not show a superseded package as plainly 'approved'."""
    approved = [d for d in dossiers if d.state == "approved"]
    if not approved:
        return {}
    successor = {d.previous_id: d for d in session.scalars(select(Dossier).where(Dossier.previous_id.is_not(None)))}
    found: dict[str, Dossier] = {}
    for dossier in approved:
        newest, current = None, successor.get(dossier.id)
        while current is not None:
            if current.state == "approved":
                newest = current
            current = successor.get(current.id)
        if newest is not None:
            found[dossier.id] = newest
    return found


def _shown_in_dossier(session: Session, dossier: Dossier, basis, citation: Citation) -> bool:
    """Whether the citation is about something the dossier shows (what exhibit_choices offers)."""
    from workbench.dossiers.evidence import evidence_subjects

    if citation.entity_id == dossier.target_id:
        return True
    entities, links = evidence_subjects(session, dossier.target_id, basis)
    return citation.entity_id in entities if citation.entity_id is not None else citation.link_id in links


def exhibit_choices(session: Session, dossier: Dossier, view: dict | None = None) -> dict:
    """What the add-exhibit form offers: citations of what the dossier shows (the target, its links,
    its chains to designated parties with their designations, its assets), and all sources.
    ``view``: the dossier's live view when the caller has built it (the page has)."""
    from workbench.dossiers.evidence import cited_facts, cited_words, evidence_subjects
    from workbench.store.entities import citations_for
    from workbench.store.models import Source

    entity_ids, link_ids = evidence_subjects(session, dossier.target_id, basis_of(dossier), view)
    citations = citations_for(session, entity_ids=sorted(entity_ids), link_ids=sorted(link_ids))
    links = {l.id: l for l in session.execute(select(Link).where(Link.id.in_(sorted(link_ids)))).scalars()}
    holders = {e.id: e for e in session.execute(select(Entity).where(Entity.id.in_(sorted(entity_ids)))).scalars()}
    # What each citation cites, named as the exhibits built on it name it (evidence.cited_words).
    facts = cited_facts(session, citations)

    def held(c: Citation) -> bool:
        holder = links.get(c.link_id) if c.link_id else holders.get(c.entity_id)
        return holder is not None and still_held(c, holder.properties)

    sources = list(session.execute(select(Source).order_by(Source.title).limit(500)).scalars())
    return {
        # A citation of a value no longer held is not offered (add_exhibit refuses it); one the same source
        # gave twice (a roll screened twice) is told apart by where in the source it is.
        "citations": [
            {"id": c.id, "source_id": c.source_id, "title": c.source.title,
             "about": cited_words(facts[c.id], dossier.target_id, short=True),
             "excerpt": c.excerpt, "page": c.page, "locator": c.locator}
            for c in citations if held(c)
        ],
        "sources": [{"id": s.id, "title": s.title, "releasable": s.releasable} for s in sources],
    }
