"""The JSON API for dossiers under /api/dossiers: list, create, read, edit, exhibits, comments, workflow
moves, new versions and exports, documented in OpenAPI.

The dossier pages answer JSON too, but they take forms and redirect; a script building or reviewing
packages (a team's own tooling, a nightly export) needs typed bodies and answers. Same sign-in and
roles as the pages (session cookie with X-CSRF-Token, or an API token); every rule (four eyes, the
completeness gate, frozen states, the reviewed-content hash) lives in workbench.dossiers.

Naming: ``version`` is the optimistic-locking version every change sends back, as in the rest of the
API; ``number`` is the package's version (1, 2, ... as the pages say "version 2").
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from workbench.dossiers import exports, service, workflow
from workbench.schema import ValidationError
from workbench.store.entities import NotFound
from workbench.store.models import as_utc
from workbench.store.permissions import Actor
from workbench.web.deps import RowId, current_actor, get_session, page_headers
from workbench.web.forms import named_as_sent
from workbench.web.routes.api import MAX_OFFSET, VERSION_HELP
from workbench.web.routes.dossiers import export_response

# What every route may answer besides its success (the app's error handlers give each a JSON body with
# ``detail``, and a 422 an ``errors`` mapping of field to messages).
ERRORS = {
    401: {"description": "no signed-in session and no valid API token"},
    403: {"description": "your role may not do this, or four eyes: you authored or edited the dossier"},
    404: {"description": "no such dossier or exhibit"},
    409: {"description": "changed since you read it (the row version, or the content hash of a verdict)"},
    422: {"description": "a field is refused (named in `errors`), the move is not allowed from this state, "
                         "or the dossier is not complete"},
}
router = APIRouter(prefix="/api/dossiers", tags=["dossiers"], responses=ERRORS)
DOSSIER_PAGE, MAX_DOSSIER_PAGE = 100, 1000  # GET /api/dossiers: default and largest page
# A time as stored, in UTC: SQLite gives back stored times without their zone, fresh ones carry it.
Stamp = Annotated[datetime | None, AfterValidator(as_utc)]


def _version_field() -> Any:
    return Field(..., ge=1, strict=True, description=VERSION_HELP)


class DossierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_id: str = Field(description="the entity the package is about")
    legal_basis: str = Field(description="a legal basis key from /api/schema (legal_bases)")
    title: str | None = Field(default=None, description="defaults to the target's name and the basis")
    narrative: dict[str, str] | None = Field(default=None, description="{section: text}")
    identifier_notes: str | None = None
    visa_data: dict[str, str] | None = Field(default=None, description="only under a visa basis")


class DossierUpdate(BaseModel):
    """The fields sent change; those left out are kept. ``narrative`` and ``visa_data`` change the
    sections or fields they name and keep the others (send "" to empty one; ``visa_data: null`` clears
    the visa data)."""

    model_config = ConfigDict(extra="forbid")

    version: int = _version_field()
    title: str | None = None
    narrative: dict[str, str] | None = None
    identifier_notes: str | None = None
    visa_data: dict[str, str] | None = None

    @field_validator("title")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep the stored title")
        return value


class ExhibitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = _version_field()
    element: str = Field(description="an element key of the dossier's legal basis")
    statement: str = Field(description="what the exhibit shows")
    statement_type: str = Field(default="allegation", description="fact or allegation")
    citation_id: int | None = Field(default=None, ge=1, strict=True, description="the citation it rests on")
    source_id: str | None = Field(default=None, description="or a whole source")
    excerpt: str | None = None
    page: str | None = None


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    exhibit_id: int | None = Field(default=None, ge=1, strict=True, description="to comment on one exhibit")


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(description="submit, approve, return, reject, reopen or withdraw")
    version: int = _version_field()
    comment: str | None = Field(default=None, description="required to return, reject or withdraw")
    content_hash: str | None = Field(default=None, description="required to approve (and checked on a "
                                     "rejection): the content_hash of the dossier as you reviewed it")


class NewVersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = None


class DossierSummary(BaseModel):
    id: str
    title: str
    state: str
    number: int = Field(description="the package's version number")
    version: int = Field(description="the row version to send back with a change")
    legal_basis: str
    target_id: str
    fictional: bool
    created_by: str
    created_at: Stamp
    updated_at: Stamp
    snapshot_hash: str | None = Field(description="set once approved: SHA-256 of the frozen package")


class ExhibitOut(BaseModel):
    id: int
    number: int
    element: str
    statement: str
    statement_type: str
    source_id: str
    citation_id: int | None
    excerpt: str | None
    page: str | None
    created_by: str
    created_at: Stamp


class CommentOut(BaseModel):
    id: int
    exhibit_id: int | None
    author: str
    text: str
    created_at: Stamp


class EventOut(BaseModel):
    event: str
    from_state: str | None
    to_state: str | None
    user: str
    comment: str | None
    at: Stamp


class DossierDetail(DossierSummary):
    narrative: dict[str, str]
    identifier_notes: str | None
    visa_data: dict[str, str] | None
    previous_id: str | None
    superseded_by: str | None = Field(description="the later approved version that replaced this one")
    completeness: dict[str, Any]
    content_hash: str = Field(description="hash of the package as it reads now: send it to approve")
    moves: list[str] = Field(description="the workflow moves open to you now")
    exhibits: list[ExhibitOut]
    comments: list[CommentOut]
    events: list[EventOut]


def _summary(dossier) -> DossierSummary:
    return DossierSummary(
        id=dossier.id, title=dossier.title, state=dossier.state, number=dossier.number, version=dossier.version,
        legal_basis=dossier.legal_basis, target_id=dossier.target_id, fictional=dossier.fictional,
        created_by=dossier.created_by, created_at=dossier.created_at, updated_at=dossier.updated_at,
        snapshot_hash=dossier.snapshot_hash)


def _exhibit(ex) -> ExhibitOut:
    return ExhibitOut(id=ex.id, number=ex.number, element=ex.element, statement=ex.statement,
                      statement_type=ex.statement_type, source_id=ex.source_id, citation_id=ex.citation_id,
                      excerpt=ex.excerpt, page=ex.page, created_by=ex.created_by, created_at=ex.created_at)


def _comment(c) -> CommentOut:
    return CommentOut(id=c.id, exhibit_id=c.exhibit_id, author=c.author, text=c.text, created_at=c.created_at)


def _detail(session: Session, actor: Actor, dossier) -> DossierDetail:
    doc = exports.document(session, dossier)
    newer = service.superseded_by(session, dossier)
    return DossierDetail(
        **_summary(dossier).model_dump(),
        narrative=dict(dossier.narrative or {}), identifier_notes=dossier.identifier_notes,
        visa_data=dict(dossier.visa_data) if dossier.visa_data else None, previous_id=dossier.previous_id,
        superseded_by=newer.id if newer else None, completeness=doc["completeness"],
        content_hash=doc["meta"]["snapshot_hash"],
        moves=[m.name for m in workflow.allowed_moves(session, actor, dossier)],
        exhibits=[_exhibit(ex) for ex in sorted(dossier.exhibits, key=lambda e: e.number)],
        comments=[_comment(c) for c in service.comments_for(session, dossier.id)],
        events=[EventOut(event=e.event, from_state=e.from_state, to_state=e.to_state, user=e.user,
                         comment=e.comment, at=e.at) for e in dossier.events],
    )


@router.get("", response_model=list[DossierSummary], summary="Dossiers, optionally by state, author or target")
def dossiers(state: list[str] = Query([], description="repeat to list several states"), author: str | None = None,
             target_id: str | None = None,
             offset: int = Query(0, ge=0, le=MAX_OFFSET, description="skip this many (most recently updated first)"),
             limit: int = Query(DOSSIER_PAGE, ge=1, le=MAX_DOSSIER_PAGE,
                                description=f"at most this many (default {DOSSIER_PAGE})"),
             *, request: Request, response: Response,
             actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """A page of the dossiers, most recently updated first. As ``/api/citations`` does, ``X-Total-Count``
    says how many there are and a ``Link: <...>; rel="next"`` header where the next page is."""
    states = [s for s in dict.fromkeys(state) if s]
    author = (author or "").strip() or None
    rows = service.list_dossiers(session, states, target_id=target_id or None, author=author,
                                 offset=offset, limit=limit)
    total = service.count_dossiers(session, states, author=author, target_id=target_id or None)
    page_headers(request, response, offset, len(rows), total, limit)
    return [_summary(d) for d in rows]


@router.post("", response_model=DossierDetail, status_code=201, summary="Open a draft dossier on a target")
def dossier_create(body: DossierIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    with named_as_sent({"target": "target_id"}):
        dossier = service.create_dossier(session, actor, body.target_id, body.legal_basis, title=body.title,
                                         narrative=body.narrative, visa_data=body.visa_data,
                                         identifier_notes=body.identifier_notes)
    return _detail(session, actor, dossier)


@router.get("/{dossier_id}", response_model=DossierDetail)
def dossier(dossier_id: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    return _detail(session, actor, service.get_dossier(session, dossier_id))


@router.patch("/{dossier_id}", response_model=DossierDetail, summary="Edit a draft's title, narrative, notes")
def dossier_update(dossier_id: str, body: DossierUpdate, actor: Actor = Depends(current_actor),
                   session: Session = Depends(get_session)):
    dossier = service.get_dossier(session, dossier_id)
    sent = body.model_fields_set - {"version"}
    changes: dict[str, Any] = {}
    if "title" in sent:
        changes["title"] = body.title
    if "narrative" in sent:
        changes["narrative"] = {**(dossier.narrative or {}), **(body.narrative or {})}
    if "identifier_notes" in sent:
        changes["identifier_notes"] = body.identifier_notes
    if "visa_data" in sent:
        changes["visa_data"] = None if body.visa_data is None else {**(dossier.visa_data or {}), **body.visa_data}
    dossier = service.update_dossier(session, actor, dossier_id, expected_version=body.version, **changes)
    return _detail(session, actor, dossier)


@router.post("/{dossier_id}/exhibits", response_model=ExhibitOut, status_code=201,
             summary="Add an exhibit (a citation or a source supporting one element)")
def exhibit_add(dossier_id: str, body: ExhibitIn, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    service.get_dossier(session, dossier_id)  # an unknown dossier is a 404; an unknown source is a bad field
    try:
        with named_as_sent({"citation": "citation_id", "source": "source_id"}):
            exhibit = service.add_exhibit(session, actor, dossier_id, element=body.element, statement=body.statement,
                                          statement_type=body.statement_type, citation_id=body.citation_id,
                                          source_id=body.source_id, excerpt=body.excerpt, page=body.page,
                                          expected_version=body.version)
    except NotFound as exc:
        raise ValidationError({"source_id": [str(exc)]}) from exc
    return _exhibit(exhibit)


@router.delete("/{dossier_id}/exhibits/{exhibit_id}", status_code=204, summary="Remove an exhibit from a draft")
def exhibit_remove(dossier_id: str, exhibit_id: RowId, version: int = Query(..., ge=1, description=VERSION_HELP),
                   actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    service.remove_exhibit(session, actor, dossier_id, exhibit_id, expected_version=version)
    return Response(status_code=204)


@router.post("/{dossier_id}/comments", response_model=CommentOut, status_code=201)
def comment_add(dossier_id: str, body: CommentIn, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    return _comment(service.add_comment(session, actor, dossier_id, body.text, body.exhibit_id))


@router.post("/{dossier_id}/moves", response_model=DossierDetail,
             summary="Submit, approve, return, reject, reopen or withdraw")
def dossier_move(dossier_id: str, body: MoveIn, actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session)):
    with named_as_sent({"state": "action"}):
        dossier = workflow.move(session, actor, dossier_id, body.action, body.comment,
                                expected_version=body.version, seen_hash=body.content_hash, require_seen=True)
    return _detail(session, actor, dossier)


@router.post("/{dossier_id}/versions", response_model=DossierDetail, status_code=201,
             summary="Open the next version of an approved or returned dossier as a draft")
def dossier_new_version(dossier_id: str, body: NewVersionIn | None = None, actor: Actor = Depends(current_actor),
                        session: Session = Depends(get_session)):
    """The body (an optional comment) may be left out: a bare POST asked for a body of `{}` (422)."""
    comment = body.comment if body is not None else None
    return _detail(session, actor, service.new_version(session, actor, dossier_id, comment))


@router.get("/{dossier_id}/export", summary="The case summary in one of the export formats",
            response_class=Response)
def dossier_export(dossier_id: str, format: str = Query("json", description=", ".join(exports.FORMATS)),
                   releasable: bool = False, actor: Actor = Depends(current_actor),
                   session: Session = Depends(get_session)):
    return export_response(session, dossier_id, format, releasable=releasable, inline=False)
