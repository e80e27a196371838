"""Dossier pages: list, create, the dossier page (live completeness, narrative, exhibits, comments,
workflow buttons), the reviewers' queue, and exports. Thin: every rule lives in workbench.dossiers.
A refused form (409 changed meanwhile, 422 incomplete or invalid) shows the dossier page again with the
reason and what was typed; other domain errors (403 four eyes, 404) reach the app's handlers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from workbench.dossiers import compare, evidence, exports, service, snapshot, workflow
from workbench.schema import ValidationError, registry
from workbench.store.entities import Conflict, NotFound, rebase_edit
from workbench.store.permissions import Actor
from workbench.web import engines, readmodels
from workbench.web.deps import (
    RowId,
    current_actor,
    flash,
    get_session,
    posted_form,
    require_role,
    templates,
    wants_json,
)
from workbench.web.forms import conflict_messages, field_errors, form_int, form_value, form_version

router = APIRouter(include_in_schema=False)


def _page(dossier_id: str) -> RedirectResponse:
    return RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)


def _summary(dossier) -> dict:
    return {"id": dossier.id, "title": dossier.title, "state": dossier.state, "version": dossier.number,
            "row_version": dossier.version, "legal_basis": dossier.legal_basis, "target_id": dossier.target_id,
            "snapshot_hash": dossier.snapshot_hash}


@router.get("/dossiers")
def dossier_list(request: Request, state: list[str] = Query([]), author: str = "", page: int = 1,
                 actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """Every dossier, or those in the ticked states and/or by one author (the home page links here
    with the user's drafts and returned dossiers), PAGE_SIZE a page, most recently updated first."""
    states = [s for s in dict.fromkeys(state) if s]
    author = author.strip()
    total = service.count_dossiers(session, states, author=author or None)
    page, last, first = readmodels.page_of(total, page)
    rows = service.list_dossiers(session, states, author=author or None, offset=first, limit=readmodels.PAGE_SIZE)
    here = "/dossiers" + ("?" + urlencode([("state", s) for s in states] + ([("author", author)] if author else []))
                          if states or author else "")
    if wants_json(request):  # a page of them, as the HTML list; the next one is named as the API names it
        headers = {"X-Total-Count": str(total)}
        if page < last:
            headers["Link"] = f'<{here}{"&" if "?" in here else "?"}page={page + 1}>; rel="next"'
        return JSONResponse([_summary(d) for d in rows], headers=headers)
    return templates.TemplateResponse(request, "dossiers/list.html", {
        "rows": rows, "selected": states, "author": author, "states": service.STATES,
        "bases": registry().legal_bases, "me": actor.username,
        "superseded": service.superseded_among(session, rows),
        "total": total, "page": page, "last": last, "first": first + 1, "here": here,
    })


@router.get("/dossiers/new")
def dossier_new(request: Request, q: str = "", target: str = "", actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    """Choose the target, then the legal basis. A target merged into another entry is said so up front,
    and the form is about the kept entry (a dossier on the merged one would have no page)."""
    return _new_form(request, session, q, target)


def _new_form(request: Request, session: Session, q: str, target: str, typed: dict | None = None,
              refused: Exception | None = None) -> Response:
    """The new-dossier page. ``typed``: what a refused form held (title, legal basis), kept in it;
    ``refused``: why it was refused (a merged or deleted target, an invalid basis or title)."""
    reg = registry()
    # Only kinds some legal basis applies to can be targets; a person typing a surname ('guzman')
    # expects the search page's partial matches, not only whole-name hits.
    target_kinds = service.target_kinds()
    found = engines.search_entities(session, q, kinds=target_kinds or None, limit=15, partial=True) \
        if q.strip() else []
    # Each hit as the picker lists it: the entry, its kind, and the name that matched when it is not the
    # entry's own. A raw score means little here: a surname alone matches a full name poorly ('0.06')
    # though it is the very person sought, and the list is in the search's order already.
    hits = [{"entity_id": h.entity_id, "caption": h.caption,
             "kind_label": reg.entity_kinds[h.kind].label if h.kind in reg.entity_kinds else h.kind,
             "matched_name": h.matched_name if h.matched_name and h.matched_name != h.caption else None}
            for h in found]
    chosen = merged = None
    problem = ""  # why the target asked for cannot be the target (deleted, never existed)
    status = 200
    if target:
        try:
            chosen = service.live_target(session, target)
        except service.TargetMerged as exc:
            chosen, merged = exc.kept, exc.merged
        except (NotFound, ValidationError) as exc:
            problem = exc.messages() if isinstance(exc, ValidationError) else str(exc)
            status = 404 if isinstance(exc, NotFound) else 422
    bases = [b for b in reg.legal_bases.values() if chosen is None or service.applies_to(b, chosen.kind)]
    notice = None
    if refused is not None:
        status = 422
        errors = refused.errors if isinstance(refused, ValidationError) else {"target": [str(refused)]}
        typed = typed or {}
        notice = {"target": errors.get("target", []),
                  "errors": field_errors({k: v for k, v in errors.items() if k != "target"}),
                  # with no form to hold it (no target to create the dossier on), the title is listed
                  "typed": [("Title", typed["title"])] if chosen is None and typed.get("title") else []}
    return templates.TemplateResponse(request, "dossiers/new.html", {
        "q": q, "hits": hits, "chosen": chosen, "bases": bases, "target_kinds": target_kinds,
        "kind_label": reg.entity_kind(chosen.kind).label if chosen else "", "merged": merged, "problem": problem,
        "asked": target, "refused": notice, "typed": typed or {},
    }, status_code=status)


@router.post("/dossiers/new")
def dossier_create(request: Request, actor: Actor = Depends(current_actor),
                   session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    """Create the dossier; a refused form (the target merged or deleted since the form was opened, an
    invalid basis or title) comes back with the reason and what was typed (JSON clients get the error)."""
    target_id, basis, title = form_value(form, "target_id"), form_value(form, "legal_basis"), form_value(form, "title")
    try:
        dossier = service.create_dossier(session, actor, target_id, basis, title=title or None)
    except (ValidationError, NotFound) as exc:
        if wants_json(request):
            raise
        session.rollback()
        return _new_form(request, session, "", target_id, {"title": title, "legal_basis": basis}, exc)
    if wants_json(request):
        return JSONResponse(_summary(dossier), status_code=201)
    flash(request, f"Created dossier {dossier.title}.")
    return _page(dossier.id)


@router.get("/dossiers/review")
def review_queue(request: Request, actor: Actor = Depends(require_role("reviewer")),
                 session: Session = Depends(get_session)):
    return templates.TemplateResponse(request, "dossiers/review.html", {
        "items": workflow.review_queue(session, actor),
    })


@router.get("/dossiers/{dossier_id}")
def dossier_page(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session)):
    dossier = service.get_dossier(session, dossier_id)
    if wants_json(request):
        doc = exports.document(session, dossier)
        # content_hash: what a script approving the dossier must send back (see workflow._check_seen).
        return JSONResponse(dict(_summary(dossier), completeness=doc["completeness"],
                                 content_hash=doc["meta"]["snapshot_hash"]))
    return _view(request, session, actor, dossier)


def _view(request: Request, session: Session, actor: Actor, dossier, status_code: int = 200,
          refused: dict | None = None, refill: dict | None = None) -> Response:
    """The dossier page; ``refused``: why a form posted from it was refused, and what was typed into it;
    ``refill``: the refused form's fields as they go back into it (see ``_refill``)."""
    doc = exports.document(session, dossier)
    refill = refill or {}
    comments = service.comments_for(session, dossier.id)
    review_blocked = workflow.may_review(session, actor, dossier) if dossier.state == "submitted" else None
    moves = workflow.allowed_moves(session, actor, dossier, review_blocked)
    # One version is opened from each at most: once it exists, work goes on there.
    can_new_version = dossier.state in ("approved", "returned") and service.successor_of(session, dossier) is None
    versions = service.version_chain(session, dossier)
    # The discussion of earlier versions (read-only here: it is answered on this version), which the
    # export document reads with this version's own; an exhibit's earlier comments are pointed at from it.
    earlier = [c for c in doc["comments"] if not c["this_version"]]
    return templates.TemplateResponse(request, "dossiers/view.html", {
        "d": dossier, "doc": doc, "moves": moves, "workflow_form": _workflow_form(dossier, moves, can_new_version),
        "review_blocked": review_blocked,
        "withdrawal": workflow.withdrawal(dossier), "returned": workflow.last_return(dossier),
        "editable": dossier.state in service.EDITABLE_STATES and actor.can("edit"),
        "comments": [c for c in comments if c.exhibit_id is None],
        "exhibit_comments": {ex.id: [c for c in comments if c.exhibit_id == ex.id] for ex in dossier.exhibits},
        "choices": evidence.picker_labels(session, service.exhibit_choices(session, dossier, doc))
        if dossier.state in service.EDITABLE_STATES else None,
        "sections": service.NARRATIVE_SECTIONS, "visa_fields": service.VISA_FIELDS,
        "statement_types": service.STATEMENT_TYPES, "versions": versions,
        "previous": next((v for v in versions if v.id == dossier.previous_id), None),
        "earlier_comments": earlier,
        "earlier_exhibit_comments": {ex.number: [c for c in earlier if c["exhibit_here"]
                                                 and c["exhibit_number"] == ex.number] for ex in dossier.exhibits},
        "formats": {code: exports.FORMAT_LABELS[code] for code in exports.FORMATS},
        "can_new_version": can_new_version,
        "refused": refused,
        "target_changes": snapshot.target_changes(session, dossier),
        # The narrative form holds the stored text, or what a refused save of it held.
        "narrative_form": refill.get("narrative") or _narrative_form(dossier),
        "refill": refill,
    }, status_code=status_code)


def _workflow_form(dossier, moves: list, can_new_version: bool) -> dict:
    """What the workflow section offers: the moves made from the one form with a comment (``ordinary``) and
    the final ones, each with a form of its own (``final``); what the comment field says, which names the
    moves that need a comment only to those who are offered one of them; and a one-line hint for each of
    two ways on from a returned dossier (reopen it, or open a new version), so that the choice is clear."""
    ordinary = [m for m in moves if not m.final]
    needing = [m.name for m in ordinary if m.needs_comment]
    label = f"Comment (required to {' or '.join(needing)})" if needing else "Comment (optional)"
    following = f"version {dossier.number + 1}"
    hints = {}
    if any(m.name == "reopen" for m in ordinary):
        hints["reopen"] = (f"the usual answer to a return; make the changes asked for in this version "
                           f"(version {dossier.number}), then submit it again.")
    if can_new_version and dossier.state == "returned":
        hints["new_version"] = (f"leaves version {dossier.number} as returned, for the record, and opens a copy "
                                f"of it, {following}, as a draft to change and submit instead.")
    elif can_new_version:
        hints["new_version"] = (f"opens a copy, {following}, as a draft to change; this version stays approved "
                                f"until {following} is approved.")
    return {"ordinary": ordinary, "final": [m for m in moves if m.final], "comment_label": label, "hints": hints}


def _form_labels() -> dict[str, str]:
    """What the dossier page's forms call their fields, by the name each field posts."""
    labels = {"comment": "Comment", "text": "Comment", "statement": "What it shows", "excerpt": "Excerpt",
              "page": "Page", "title": "Title", "identifier_notes": "Identifier notes",
              "evidence": "Citation or source", "citation": "Citation or source", "source": "Citation or source",
              "element": "Element", "statement_type": "Fact or allegation"}
    labels.update({f"narrative_{k}": v for k, v in service.NARRATIVE_SECTIONS.items()})
    labels.update({f"visa_{k}": v for k, v in service.VISA_FIELDS.items()})
    return labels


def _stored_fields(dossier) -> dict[str, str]:
    """The narrative form's fields as stored: title, narrative sections, identifier notes, visa data."""
    narrative, visa = dossier.narrative or {}, dossier.visa_data or {}
    fields = {"title": dossier.title or ""}
    fields.update({f"narrative_{k}": narrative.get(k, "") for k in service.NARRATIVE_SECTIONS})
    fields["identifier_notes"] = dossier.identifier_notes or ""
    fields.update({f"visa_{k}": visa.get(k, "") for k in service.VISA_FIELDS})
    return fields


def _field_of(key: str) -> str:
    """The form field a service's error key is about: 'narrative.summary' -> 'narrative_summary',
    'visa_data.issue_date' -> 'visa_issue_date'; other keys name their field already."""
    head, _, tail = key.partition(".")
    if tail and head in ("narrative", "visa_data"):
        return f"{'narrative' if head == 'narrative' else 'visa'}_{tail}"
    return key


def _field_errors(errors: dict | None) -> dict[str, list[str]]:
    """A refusal's messages by the form field they are about."""
    out: dict[str, list[str]] = {}
    for key, messages in (errors or {}).items():
        out.setdefault(_field_of(key), []).extend(str(m) for m in messages)
    return out


def _error_pairs(errors: dict | None) -> list[tuple[str, str]]:
    """(field, message) pairs for the refusal's list, each field named as the form labels it (a message
    that starts with that label already does not say it twice)."""
    labels = _form_labels()
    pairs = []
    for field, messages in _field_errors(errors).items():
        label = labels.get(field)
        if label is None:
            pairs.extend(field_errors({field: messages}))
            continue
        pairs.extend((label, m.removeprefix(f"{label}: ")) for m in messages)
    return list(dict.fromkeys(pairs))


def _narrative_form(dossier, form=None, conflict: bool = False, errors: dict | None = None) -> dict:
    """What the narrative form holds: ``shown`` in its fields, ``opened`` what it showed when opened
    (its hidden ``opened_*``), ``errors`` by field, ``notes`` after a conflict.

    Without ``form``: the stored text. After a refused save: exactly what was typed in every field the form
    sent, so that correcting the one refused field and saving again saves the rest as typed (the form held
    the stored text again, and saving it dropped the edits). After a conflict (someone saved meanwhile) the
    form is carried over onto the newer version (store.rebase_edit): the fields the user changed hold what
    was typed, the others what the other person saved, so that saving again undoes neither."""
    stored = _stored_fields(dossier)
    out = {"shown": dict(stored), "opened": dict(stored), "errors": _field_errors(errors), "notes": []}
    if form is None:
        return out
    posted = {k: form.get(k) for k in stored if isinstance(form.get(k), str)}
    opened = {}
    for key in stored:
        was = form.get(f"opened_{key}")
        opened[key] = was if isinstance(was, str) else stored[key]
    if not conflict:
        out["shown"].update(posted)
        out["opened"] = opened
        return out
    clean = service.clean_text
    mine = {k: clean(posted.get(k, opened[k])) for k in stored}
    rebased = rebase_edit({k: clean(v) for k, v in opened.items()}, mine, stored, list(stored))
    out["shown"] = {k: rebased.values[k] or "" for k in stored}
    labels = _form_labels()
    # The first message says what happened (``_refusal`` words it, who changed the dossier included); the
    # others, which fields the other change touched (worded for the user's own other tab by ``_refusal``).
    out["notes"] = conflict_messages(f"Dossier {dossier.title!r}", rebased, labels.__getitem__)[1:]
    out["carried"] = {"theirs": [labels[k] for k in rebased.theirs], "both": [labels[k] for k in rebased.both]}
    return out


def _refill(kind: str, form, dossier, conflict: bool, errors: dict | None) -> dict:
    """The refused form's fields as they go back into it: ``kind`` names the form (narrative, exhibit,
    comment, move); what was typed is never dropped."""
    if kind == "narrative":
        return {"narrative": _narrative_form(dossier, form, conflict, errors)}
    typed = {k: v for k, v in form.multi_items() if isinstance(v, str) and k not in ("csrf_token", "version")}
    return {kind: dict(typed, errors=_field_errors(errors))}


def _typed(form, dossier) -> list[tuple[str, str]]:
    """What the user typed into a refused form, labelled. The narrative form posts every field, and
    what it showed when opened (``opened_*``): only the fields the user changed are listed, so that
    copying them back cannot undo what someone else saved meanwhile."""
    labels = _form_labels()
    stored = _stored_fields(dossier)
    out = []
    for key, value in form.multi_items():
        if key not in _TYPED or not isinstance(value, str) or not value.strip():
            continue
        was = form.get(f"opened_{key}")
        was = stored.get(key) if was is None else was
        if value.strip() != (was or "").strip():
            out.append((labels[key], value))
    return out


# The fields whose text a refusal lists as typed (a menu's choice is no typing to copy back).
_TYPED = {"comment", "text", "statement", "excerpt", "page", "title", "identifier_notes",
          *(f"narrative_{k}" for k in service.NARRATIVE_SECTIONS), *(f"visa_{k}" for k in service.VISA_FIELDS)}


def _posted(request: Request, session: Session, actor: Actor, dossier_id: str, form, act,
            kind: str = "") -> Response:
    """Run a form's change; a refusal (invalid input, four eyes aside, or a dossier changed meanwhile)
    shows the dossier page again with the reason and what was typed, instead of an error page that
    loses both (JSON clients still get the app's error responses). ``kind``: which form of the page was
    posted (narrative, exhibit, comment, move), refilled with what was typed."""
    try:
        return act()
    except (ValidationError, Conflict) as exc:
        if wants_json(request):
            raise
        session.rollback()
        dossier = service.get_dossier(session, dossier_id)
        conflict = isinstance(exc, Conflict)
        errors = None if conflict else exc.errors
        refill = _refill(kind, form, dossier, conflict, errors) if kind else {}
        refused = _refusal(exc, dossier, actor, form, refill)
        return _view(request, session, actor, dossier, 409 if conflict else 422, refused, refill)


def _sentence(text: str) -> str:
    """A message begun as a sentence: 'you changed ...' -> 'You changed ...'."""
    text = str(text).strip()
    return text[:1].upper() + text[1:]


def _refusal(exc: Exception, dossier, actor: Actor, form, refill: dict) -> dict:
    """What the refused form's page says: a title, the reason, the fields at fault (``errors``), notes, and
    what the form below holds now (``after``).

    A conflict over the dossier's version says who changed it (the user, in another tab or with a second
    click, or someone else), as ``service.check_version`` decides it; the narrative form was carried over
    onto the newer version (``_narrative_form``), so the page says so and asks for saving again, as an
    entity's form does after a conflict, rather than to make the change again. A submission refused as
    incomplete is no typing at fault: it names what the completeness check still misses."""
    typed = _typed(form, dossier)
    carried = bool(refill.get("narrative", {}).get("carried"))
    if isinstance(exc, Conflict):
        posted = form.get("version")
        stale = isinstance(posted, str) and posted.strip().isdigit() and int(posted) != dossier.version
        last = dossier.events[-1] if dossier.events else None
        mine = stale and last is not None and last.user == actor.username
        if stale and mine:
            title = "Changed since this page was opened"
            what = (f"You changed dossier {dossier.title!r} since this page was opened (in another tab, or with a "
                    f"second click): it is now {dossier.state}, version {dossier.version} (this page had version "
                    f"{posted.strip()}).")
        elif stale:
            title = "Changed by someone else"
            what = (f"Dossier {dossier.title!r} was changed by someone else since you opened it: it is now "
                    f"{dossier.state}, version {dossier.version} (your page had version {posted.strip()}).")
        else:  # a change at the same moment, or to what the dossier shows (a verdict's content hash)
            title = "Changed meanwhile"
            what = (f"Dossier {dossier.title!r} was changed by another save at the same moment." if carried
                    else _sentence(exc))
        if carried:
            message = (f"{what} Nothing was saved: the narrative form below holds the current version with your "
                       "changes carried over onto it; check it and save again.")
            after = None
        else:
            said = "nothing was" in what.lower()
            message = what + ("" if said else " Nothing was saved.")
            after = ("Check the dossier as it is now; the form below holds what you typed, to send again if "
                     "it is still needed.") if refill else None
        notes = refill.get("narrative", {}).get("notes", [])  # which fields each of you changed
        if carried and mine:  # the other change was the user's own: no 'other person', no 'both of you'
            fields = refill["narrative"]["carried"]
            notes = [*([f"Changed in your other save (now shown): {', '.join(fields['theirs'])}."]
                       if fields["theirs"] else []),
                     *([f"Changed in both saves (what you typed here is shown; check it): {', '.join(fields['both'])}."]
                       if fields["both"] else [])]
        return {"title": title, "message": message, "errors": [], "notes": notes, "typed": typed, "after": after}
    if isinstance(exc, service.Incomplete):
        return {"title": "Not submitted", "message": exc.lead, "errors": [("Missing", m) for m in exc.missing],
                "notes": [], "typed": typed,
                "after": "Nothing you typed is at fault: the dossier needs what is listed (the Completeness "
                         "section below lists it too). Once every check is met, submit it again."}
    errors = _error_pairs(exc.errors)
    after = None
    if refill:
        after = "The form below holds what you typed" + (": correct what is listed, and send it again."
                                                          if errors else ".")
    return {"title": "Not saved", "message": exc.lead, "errors": errors, "notes": [], "typed": typed,
            "after": after}


@router.get("/dossiers/{dossier_id}/compare")
def dossier_compare(dossier_id: str, request: Request, other: str = Query("", alias="with"),
                    actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """What changed between this version and the one it was opened from (``?with=ID``: another version of
    the same package), as ``compare.compare`` works it out from the two versions' views. Anyone who may
    read the dossier may read this page."""
    dossier = service.get_dossier(session, dossier_id)
    older, newer = compare.versions_to_compare(session, dossier, other)
    return templates.TemplateResponse(request, "dossiers/compare.html", {
        "d": dossier, "older": older, "newer": newer, "diff": compare.compare(session, older, newer),
        "versions": service.version_chain(session, dossier),
    })


@router.get("/dossiers/{dossier_id}/completeness")
def dossier_completeness(dossier_id: str, actor: Actor = Depends(current_actor),
                         session: Session = Depends(get_session)):
    dossier = service.get_dossier(session, dossier_id)
    return JSONResponse(exports.document(session, dossier)["completeness"])


@router.post("/dossiers/{dossier_id}/edit")
def dossier_edit(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    dossier = service.get_dossier(session, dossier_id)

    def act():
        narrative = dict(dossier.narrative or {})
        for key in service.NARRATIVE_SECTIONS:
            if f"narrative_{key}" in form:
                narrative[key] = form_value(form, f"narrative_{key}")
        # Only what the form sent changes: a script posting the title alone must not wipe the identifier
        # notes or the visa holder's data, any more than it wipes the narrative.
        changes = {"narrative": narrative, "title": form_value(form, "title") if "title" in form else dossier.title}
        if "identifier_notes" in form:
            changes["identifier_notes"] = form_value(form, "identifier_notes")
        sent_visa = [k for k in service.VISA_FIELDS if f"visa_{k}" in form]
        if service.basis_of(dossier).visa and sent_visa:
            visa = dict(dossier.visa_data or {})
            visa.update({k: form_value(form, f"visa_{k}") for k in sent_visa})
            changes["visa_data"] = visa
        service.update_dossier(session, actor, dossier.id, expected_version=form_version(form, "the dossier"),
                               **changes)
        flash(request, "Saved.")
        return _page(dossier.id)

    return _posted(request, session, actor, dossier_id, form, act, "narrative")


@router.post("/dossiers/{dossier_id}/exhibits")
def exhibit_add(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    pick = form_value(form, "evidence")  # "citation:12" or "source:abc"
    kind, _, ref = pick.partition(":")

    def act():
        exhibit = service.add_exhibit(
            session, actor, dossier_id, element=form_value(form, "element"), statement=form_value(form, "statement"),
            statement_type=form_value(form, "statement_type"),
            citation_id=int(ref) if kind == "citation" and ref.isascii() and ref.isdigit() else None,
            source_id=ref if kind == "source" else None,
            excerpt=form_value(form, "excerpt") or None, page=form_value(form, "page") or None,
            expected_version=form_version(form, "the dossier"),
        )
        flash(request, f"Added exhibit {exhibit.number}.")
        return _page(dossier_id)

    return _posted(request, session, actor, dossier_id, form, act, "exhibit")


@router.post("/dossiers/{dossier_id}/exhibits/{exhibit_id}/remove")
def exhibit_remove(dossier_id: str, exhibit_id: RowId, request: Request, actor: Actor = Depends(current_actor),
                   session: Session = Depends(get_session), form: FormData = Depends(posted_form)):

    def act():
        service.remove_exhibit(session, actor, dossier_id, exhibit_id,
                               expected_version=form_version(form, "the dossier"))
        flash(request, "Removed the exhibit.")
        return _page(dossier_id)

    return _posted(request, session, actor, dossier_id, form, act)


@router.post("/dossiers/{dossier_id}/comments")
def comment_add(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session), form: FormData = Depends(posted_form)):

    def act():
        service.add_comment(session, actor, dossier_id, form_value(form, "text"), form_int(form, "exhibit_id"))
        flash(request, "Comment added.")
        return _page(dossier_id)

    return _posted(request, session, actor, dossier_id, form, act, "comment")


@router.post("/dossiers/{dossier_id}/move")
def dossier_move(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    name = form_value(form, "action")

    def act():
        # The workflow buttons send the dossier's version; scripts moving a dossier (JSON) may leave it
        # out, but one that is no whole number is refused (form_int), never read as 'not given'. They
        # send the content hash of the page too: an approval must name the content it approves.
        dossier = workflow.move(session, actor, dossier_id, name, form_value(form, "comment") or None,
                                expected_version=form_int(form, "version"),
                                seen_hash=form_value(form, "content_hash") or None, require_seen=True)
        if wants_json(request):
            return JSONResponse(_summary(dossier))
        flash(request, f"Dossier is now {dossier.state}.")
        return _page(dossier.id)

    return _posted(request, session, actor, dossier_id, form, act, "move")


@router.post("/dossiers/{dossier_id}/new-version")
def dossier_new_version(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                        session: Session = Depends(get_session), form: FormData = Depends(posted_form)):

    def act():
        dossier = service.new_version(session, actor, dossier_id, form_value(form, "comment") or None)
        flash(request, f"Opened version {dossier.number} as a draft.")
        return _page(dossier.id)

    return _posted(request, session, actor, dossier_id, form, act)


@router.get("/dossiers/{dossier_id}/export")
def dossier_export(dossier_id: str, format: str = "html", releasable: bool = False, download: str = "",
                   actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """``releasable`` is read as the JSON API reads it: a value that is not yes or no (1/0, true/false, on/off,
    yes/no in any case) is refused, never taken for 'no', which would hand out the full export."""
    return export_response(session, dossier_id, format, releasable=releasable,
                           inline=format in ("html", "pdf") and not download)


def export_response(session: Session, dossier_id: str, format: str, *, releasable: bool, inline: bool) -> Response:
    """An export as a download (or shown in the browser: ``inline``), for the page and the JSON API alike."""
    result = exports.export_dossier(session, dossier_id, format, releasable=releasable)
    headers = {"Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{result.filename}"'}
    if format == "html":
        # The standalone summary carries its own print stylesheet; nothing else may load or run.
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return Response(result.content, media_type=result.media_type, headers=headers)
