"""Dossier pages: list, create, the dossier page (live completeness, narrative, exhibits, comments,
workflow buttons), the reviewers' queue, and exports. Thin: every rule lives in workbench.dossiers.
Domain errors (403 four eyes, 409 conflict, 422 incomplete or invalid move) reach the app's handlers.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from workbench.dossiers import exports, service, workflow
from workbench.schema import registry
from workbench.store.entities import get_entity
from workbench.store.permissions import Actor
from workbench.web import engines
from workbench.web.deps import RowId, current_actor, flash, get_session, require_role, templates, wants_json
from workbench.web.forms import form_int, form_value

router = APIRouter(include_in_schema=False)


def _page(dossier_id: str) -> RedirectResponse:
    return RedirectResponse(f"/dossiers/{dossier_id}", status_code=303)


def _summary(dossier) -> dict:
    return {"id": dossier.id, "title": dossier.title, "state": dossier.state, "version": dossier.number,
            "row_version": dossier.version, "legal_basis": dossier.legal_basis, "target_id": dossier.target_id,
            "snapshot_hash": dossier.snapshot_hash}


@router.get("/dossiers")
def dossier_list(request: Request, state: list[str] = Query([]), author: str = "",
                 actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """Every dossier, or those in the ticked states and/or by one author (the home page links here
    with the user's drafts and returned dossiers)."""
    states = [s for s in dict.fromkeys(state) if s]
    author = author.strip()
    rows = service.list_dossiers(session, states, author=author or None)
    if wants_json(request):
        return JSONResponse([_summary(d) for d in rows])
    return templates.TemplateResponse(request, "dossiers/list.html", {
        "rows": rows, "selected": states, "author": author, "states": service.STATES,
        "bases": registry().legal_bases, "me": actor.username,
    })


@router.get("/dossiers/new")
def dossier_new(request: Request, q: str = "", target: str = "", actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    reg = registry()
    # Only kinds some legal basis applies to can be targets; a person typing a surname ('guzman')
    # expects the search page's partial matches, not only whole-name hits.
    target_kinds = service.target_kinds()
    hits = engines.search_entities(session, q, kinds=target_kinds or None, limit=15, partial=True) \
        if q.strip() else []
    chosen = get_entity(session, target) if target else None
    bases = [b for b in reg.legal_bases.values() if chosen is None or service.applies_to(b, chosen.kind)]
    return templates.TemplateResponse(request, "dossiers/new.html", {
        "q": q, "hits": hits, "chosen": chosen, "bases": bases, "target_kinds": target_kinds,
        "kind_label": reg.entity_kind(chosen.kind).label if chosen else "",
    })


@router.post("/dossiers/new")
async def dossier_create(request: Request, actor: Actor = Depends(current_actor),
                         session: Session = Depends(get_session)):
    form = await request.form()
    dossier = service.create_dossier(session, actor, form_value(form, "target_id"), form_value(form, "legal_basis"),
                                     title=form_value(form, "title") or None)
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
    doc = exports.document(session, dossier)
    if wants_json(request):
        return JSONResponse(dict(_summary(dossier), completeness=doc["completeness"]))
    comments = service.comments_for(session, dossier.id)
    return templates.TemplateResponse(request, "dossiers/view.html", {
        "d": dossier, "doc": doc, "moves": workflow.allowed_moves(session, actor, dossier),
        "review_blocked": workflow.may_review(session, actor, dossier) if dossier.state == "submitted" else None,
        "withdrawal": workflow.withdrawal(dossier),
        "editable": dossier.state in service.EDITABLE_STATES and actor.can("edit"),
        "comments": [c for c in comments if c.exhibit_id is None],
        "exhibit_comments": {ex.id: [c for c in comments if c.exhibit_id == ex.id] for ex in dossier.exhibits},
        "choices": service.exhibit_choices(session, dossier, doc) if dossier.state in service.EDITABLE_STATES
        else None,
        "sections": service.NARRATIVE_SECTIONS, "visa_fields": service.VISA_FIELDS,
        "statement_types": service.STATEMENT_TYPES, "versions": service.version_chain(session, dossier),
        "formats": exports.FORMATS, "can_new_version": dossier.state in ("approved", "returned"),
    })


@router.get("/dossiers/{dossier_id}/completeness")
def dossier_completeness(dossier_id: str, actor: Actor = Depends(current_actor),
                         session: Session = Depends(get_session)):
    dossier = service.get_dossier(session, dossier_id)
    return JSONResponse(exports.document(session, dossier)["completeness"])


@router.post("/dossiers/{dossier_id}/edit")
async def dossier_edit(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                       session: Session = Depends(get_session)):
    form = await request.form()
    dossier = service.get_dossier(session, dossier_id)
    narrative = dict(dossier.narrative or {})
    for key in service.NARRATIVE_SECTIONS:
        if f"narrative_{key}" in form:
            narrative[key] = form_value(form, f"narrative_{key}")
    changes = {"narrative": narrative, "title": form_value(form, "title") or dossier.title,
               "identifier_notes": form_value(form, "identifier_notes")}
    if service.basis_of(dossier).visa:
        changes["visa_data"] = {k: form_value(form, f"visa_{k}") for k in service.VISA_FIELDS}
    service.update_dossier(session, actor, dossier.id, expected_version=form_int(form, "version"), **changes)
    flash(request, "Saved.")
    return _page(dossier.id)


@router.post("/dossiers/{dossier_id}/exhibits")
async def exhibit_add(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                      session: Session = Depends(get_session)):
    form = await request.form()
    pick = form_value(form, "evidence")  # "citation:12" or "source:abc"
    kind, _, ref = pick.partition(":")
    exhibit = service.add_exhibit(
        session, actor, dossier_id, element=form_value(form, "element"), statement=form_value(form, "statement"),
        statement_type=form_value(form, "statement_type"),
        citation_id=int(ref) if kind == "citation" and ref.isdigit() else None,
        source_id=ref if kind == "source" else None,
        excerpt=form_value(form, "excerpt") or None, page=form_value(form, "page") or None,
        expected_version=form_int(form, "version"),
    )
    flash(request, f"Added exhibit {exhibit.number}.")
    return _page(dossier_id)


@router.post("/dossiers/{dossier_id}/exhibits/{exhibit_id}/remove")
async def exhibit_remove(dossier_id: str, exhibit_id: RowId, request: Request, actor: Actor = Depends(current_actor),
                         session: Session = Depends(get_session)):
    form = await request.form()
    service.remove_exhibit(session, actor, dossier_id, exhibit_id, expected_version=form_int(form, "version"))
    flash(request, "Removed the exhibit.")
    return _page(dossier_id)


@router.post("/dossiers/{dossier_id}/comments")
async def comment_add(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                      session: Session = Depends(get_session)):
    form = await request.form()
    service.add_comment(session, actor, dossier_id, form_value(form, "text"), form_int(form, "exhibit_id"))
    flash(request, "Comment added.")
    return _page(dossier_id)


@router.post("/dossiers/{dossier_id}/move")
async def dossier_move(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                       session: Session = Depends(get_session)):
    form = await request.form()
    name = form_value(form, "action")
    dossier = workflow.move(session, actor, dossier_id, name, form_value(form, "comment") or None,
                            expected_version=form_int(form, "version"))
    if wants_json(request):
        return JSONResponse(_summary(dossier))
    flash(request, f"Dossier is now {dossier.state}.")
    return _page(dossier.id)


@router.post("/dossiers/{dossier_id}/new-version")
async def dossier_new_version(dossier_id: str, request: Request, actor: Actor = Depends(current_actor),
                              session: Session = Depends(get_session)):
    form = await request.form()
    dossier = service.new_version(session, actor, dossier_id, form_value(form, "comment") or None)
    flash(request, f"Opened version {dossier.number} as a draft.")
    return _page(dossier.id)


@router.get("/dossiers/{dossier_id}/export")
def dossier_export(dossier_id: str, format: str = "html", releasable: str = "", download: str = "",
                   actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    result = exports.export_dossier(session, dossier_id, format, releasable=releasable in ("1", "true", "on", "yes"))
    inline = format in ("html", "pdf") and not download
    headers = {"Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{result.filename}"'}
    if format == "html":
        # The standalone summary carries its own print stylesheet; nothing else may load or run.
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return Response(result.content, media_type=result.media_type, headers=headers)
