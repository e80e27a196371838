"""Sources: add by URL or by upload (stored by SHA-256 outside the web root), edit, list, view, download."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from workbench.schema import ValidationError, registry
from workbench.settings import get_settings
from workbench.store import entities as store
from workbench.store.permissions import Actor
from workbench.web import readmodels
from workbench.web.deps import current_actor, flash, get_session, posted_form, templates
from workbench.web.forms import conflict_messages, form_value, form_version, posted_base
from workbench.web.uploads import UploadRejected, add_uploaded_source

router = APIRouter(include_in_schema=False)
FIELDS = ("url", "title", "publisher", "published_at", "source_type", "reliability", "notes")


def _vocab():
    reg = registry()
    return {"source_types": reg.vocabularies["source_types"], "grades": reg.vocabularies["reliability_grades"]}


def _form(request: Request, values: dict, errors: dict | None = None, status: int = 200, back: str | None = None,
          source=None, version: int | None = None, base: dict | None = None):
    """The form; ``back`` is the entity page to return to after saving (kept across a refused post).
    With ``source`` it edits that source, carrying the ``version`` the user read and the values it
    was read with (``base``), from which a conflicting save is carried over (store.rebase_edit)."""
    if source is not None and base is None:
        base = _stored_values(source)
    return templates.TemplateResponse(request, "sources/form.html", {
        "values": values, "errors": errors or {}, "max_mb": get_settings().upload_max_bytes // (1024 * 1024),
        "back": request.query_params.get("back", "") if back is None else back, "source": source,
        "version": source.version if source is not None and version is None else version,
        "base": json.dumps(base, ensure_ascii=False) if base is not None else None, **_vocab()},
        status_code=status)


LABELS = {"url": "URL", "title": "Title", "publisher": "Publisher", "published_at": "Published",
          "source_type": "Type", "reliability": "Reliability", "notes": "Notes", "releasable": "May be released"}


def _stored_values(source) -> dict:
    """The source's descriptive fields as the form posts them (text, or a flag)."""
    values = {key: getattr(source, key) for key in (*FIELDS, "releasable")}
    return {k: v if v is None or isinstance(v, bool) else str(v) for k, v in values.items()}


def _posted_values(form) -> dict:
    """The descriptive fields as typed (blank means none); an unticked checkbox is not releasable."""
    values = {key: form_value(form, key) or None for key in FIELDS}
    values["releasable"] = form_value(form, "releasable") == "1"
    return values


@router.get("/sources")
def source_list(request: Request, q: str = "", actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    return templates.TemplateResponse(request, "sources/list.html", {
        "rows": readmodels.list_sources(session, q or None), "q": q, **_vocab()})


@router.get("/sources/new")
def source_new(request: Request, actor: Actor = Depends(current_actor)):
    # "May be released" starts unticked: a leak saved with the box left as it came would go into releasable
    # exports. Releasing is said, never assumed.
    return _form(request, {"source_type": "other", "reliability": "F", "releasable": False})


@router.post("/sources/new")
async def source_create(request: Request, actor: Actor = Depends(current_actor),
                        session: Session = Depends(get_session)):
    form = await request.form()
    values = _posted_values(form)
    upload = form.get("file")
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            source = await add_uploaded_source(session, actor, upload, values)
        else:
            source = await run_in_threadpool(store.create_source, session, actor, **values)
    except UploadRejected as exc:
        session.rollback()
        return _form(request, values, {"file": [str(exc)]}, status=422, back=form_value(form, "back"))
    except ValidationError as exc:
        session.rollback()
        return _form(request, values, exc.errors, status=422, back=form_value(form, "back"))
    flash(request, f"Source added: {source.title}.")
    for twin in readmodels.same_file_sources(session, source):
        flash(request, f"The same file (SHA-256 {source.sha256[:12]}...) is also the source '{twin.title}', added "
                       f"{twin.created_at:%Y-%m-%d}: cite one of them, or delete this copy (Delete source, "
                       "on its page, while nothing cites it).", "warning")
    back = form_value(form, "back")
    if back.startswith("/entities/"):
        return RedirectResponse(back, status_code=303)
    return RedirectResponse(f"/sources/{source.id}", status_code=303)


@router.get("/sources/{source_id}/edit")
def source_edit(source_id: str, request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    source = store.get_source(session, source_id)
    return _form(request, _stored_values(source), source=source)


@router.post("/sources/{source_id}/edit")
def source_update(source_id: str, request: Request, actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    """Save the corrected description. A refused save shows what was typed; after a conflict the form
    carries the current version, with the other person's changes and the user's carried over."""
    values = _posted_values(form)
    version = None
    base = posted_base(form, lambda v: v is None or isinstance(v, (str, bool)))
    try:
        version = form_version(form, "this source")
        source = store.update_source(session, actor, source_id, expected_version=version, **values)
    except ValidationError as exc:
        session.rollback()
        return _form(request, values, exc.errors, status=422, source=store.get_source(session, source_id),
                     version=version, base=base)
    except store.Conflict as exc:
        session.rollback()
        current = store.get_source(session, source_id)
        if base is None:  # a form from before this was posted: show what was typed, as it was
            return _form(request, values, {"version": [f"{exc} The form shows what you entered."]}, status=409,
                         source=current)
        rebased = store.rebase_edit(base, values, _stored_values(current), (*FIELDS, "releasable"))
        carried = dict(rebased.values, releasable=bool(rebased.values.get("releasable")))
        messages = conflict_messages(f"Source {current.title!r}", rebased, LABELS.__getitem__,
                                     readmodels.last_edited_by(session, "source", source_id, actor.username))
        return _form(request, carried, {"version": messages}, status=409, source=current)
    flash(request, f"Saved source {source.title}.")
    return RedirectResponse(f"/sources/{source_id}", status_code=303)


@router.get("/sources/{source_id}")
def source_view(source_id: str, request: Request, page: int = 1, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    source = store.get_source(session, source_id)
    page = readmodels.page_number(page)
    citations, total = readmodels.citations_of_source(session, source_id, offset=(page - 1) * readmodels.PAGE_SIZE)
    last = readmodels.last_page(total)
    if page > last:  # past the end (an old link, a typed number): the last page, not an empty one
        page = last
        citations, total = readmodels.citations_of_source(session, source_id,
                                                          offset=(page - 1) * readmodels.PAGE_SIZE)
    subjects = readmodels.entities_by_id(session, [c.entity_id for c in citations if c.entity_id])
    links = readmodels.links_by_id(session, [c.link_id for c in citations if c.link_id])
    return templates.TemplateResponse(request, "sources/view.html", {
        "source": source, "citations": citations, "subjects": subjects, "links": links,
        "page": page, "total": total, "last": last,
        "fact_labels": readmodels.cited_fact_labels(citations, subjects), "can_edit": actor.can("edit"),
        "exhibited": store.exhibited_citations(session, [c.id for c in citations]),
        "deletable": actor.can("edit") and store.source_rests_on(session, source) is None,
        **_vocab()})


@router.post("/sources/{source_id}/delete")
def source_delete(source_id: str, request: Request, actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    try:
        title = store.delete_source(session, actor, source_id, expected_version=form_version(form, "this source"))
    except ValidationError as exc:  # cited, or an exhibit's evidence: said on the source's page
        session.rollback()
        flash(request, "Not deleted: " + exc.messages(), "error")
        return RedirectResponse(f"/sources/{source_id}", status_code=303)
    flash(request, f"Deleted the source {title!r}; the audit log keeps what it said.")
    return RedirectResponse("/sources", status_code=303)


def _stored(session: Session, source_id: str):
    """The source and the path of its stored file, its bytes checked against its SHA-256 (NotFound: it has
    none, or storage lost it; Conflict: the bytes were altered since capture)."""
    from workbench.sources.files import intact_path

    source = store.get_source(session, source_id)
    if not source.sha256:
        raise store.NotFound(f"source {source.title!r} has no stored file")
    return source, intact_path(source.sha256, f"source {source.title!r}")


@router.get("/sources/{source_id}/file")
def source_file(source_id: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """The stored bytes, as a download (never rendered inline: an uploaded HTML page must not run here)."""
    source, path = _stored(session, source_id)
    return FileResponse(path, media_type="application/octet-stream", filename=source.file_name or source.sha256,
                        content_disposition_type="attachment")


@router.get("/sources/{source_id}/view")
def source_file_inline(source_id: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """The stored file opened in the browser, for reading a cited page without saving a copy: a PDF, an image
    or plain text only (their type was read from their bytes at upload), under a policy that lets nothing in
    them load or run. Any other type is refused with the way to download it."""
    from workbench.sources.files import INLINE_TYPES, shown_inline

    source = store.get_source(session, source_id)
    if not shown_inline(source.media_type):  # said before the file is read and hashed
        raise store.NotFound(f"the file of source {source.title!r} ({source.media_type or 'of unknown type'}) is not "
                             "opened in the browser, where a captured web page could run its scripts: download it "
                             "from the source's page")
    _, path = _stored(session, source_id)
    media = f"{source.media_type}; charset=utf-8" if source.media_type == "text/plain" else source.media_type
    return FileResponse(path, media_type=media, filename=source.file_name or source.sha256,
                        content_disposition_type="inline",
                        headers={"Content-Security-Policy": INLINE_TYPES[source.media_type]})
