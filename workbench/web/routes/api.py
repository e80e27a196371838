"""The JSON API under /api/: entities, links, sources, citations, search, graph (dossiers: api_dossiers). Same sign-in and roles as
the pages (session cookie with the X-CSRF-Token header, or an API token); the domain layer checks roles.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.orm import Session

from workbench.schema import ValidationError, registry
from workbench.store import entities as store
from workbench.store.models import as_utc
from workbench.store.permissions import Actor
from workbench.text import unstorable
from workbench.web import engines, readmodels
from workbench.web.deps import RowId, current_actor, get_session, page_headers
from workbench.web.engines import EngineMissing
from workbench.web.uploads import UploadRejected, add_uploaded_source

router = APIRouter(prefix="/api", tags=["api"])
CitationId = RowId  # the one type of every integer id in an address (deps.RowId)
CITATION_PAGE, MAX_CITATION_PAGE = 1000, 10_000  # /api/citations: default and largest page
SOURCE_PAGE, MAX_SOURCE_PAGE = 100, 1000  # /api/sources: default and largest page
MAX_OFFSET = 2**31 - 1  # beyond what SQLite and PostgreSQL take as an OFFSET (a 500 before)

Values = dict[str, list[str] | str]


class ApiIn(BaseModel):
    """Every JSON body the API takes. A field the request does not have is refused (422 naming it), not
    dropped: a typo ('releaseable') would otherwise leave the default in force unseen. Text no database
    can store (a NUL, a lone surrogate: JSON can spell '\\ud800') is refused naming its field, before an
    id holding it is looked up (the database driver cannot even send it: a 500 before). Property values
    are checked by the schema, which names the property."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, str) and (problem := unstorable(value)):
            raise PydanticCustomError("unstorable_text", problem)
        return value


class EntityIn(ApiIn):
    kind: str = Field(description="a concrete entity kind from /api/schema")
    properties: Values = Field(default_factory=dict, description="{property: value or [values]}")
    id: str | None = Field(default=None, description="optional stable id")


VERSION_HELP = ("the version you read (optimistic locking: 409 when the record changed since); required, so "
                "that a change made meanwhile is never overwritten unseen")


def _version_field() -> Any:
    # Strict: a JSON integer, not true (read as 1) nor "3".
    return Field(..., ge=1, strict=True, description=VERSION_HELP)


class EntityUpdate(ApiIn):
    properties: Values
    version: int = _version_field()


class EntityOut(BaseModel):
    id: str
    kind: str
    caption: str
    properties: dict[str, list[str]]
    version: int
    warnings: dict[str, list[str]] = Field(default_factory=dict)


class EntityList(BaseModel):
    total: int
    offset: int
    results: list[EntityOut]


class CitationOut(BaseModel):
    id: int
    source_id: str
    entity_id: str | None
    link_id: str | None
    prop: str | None
    value: str | None
    excerpt: str | None
    page: str | None
    locator: str | None
    created_at: datetime | None = None  # when it was cited: for an import, the import time
    created_by: str | None = None


class LinkIn(ApiIn):
    kind: str
    source_id: str
    target_id: str
    properties: Values = Field(default_factory=dict)


class LinkUpdate(ApiIn):
    properties: Values
    version: int = _version_field()


class LinkOut(BaseModel):
    id: str
    kind: str
    source_id: str
    target_id: str
    properties: dict[str, list[str]]
    start_date: str | None
    end_date: str | None
    version: int
    warnings: dict[str, list[str]] = Field(default_factory=dict)


class EntityDetail(EntityOut):
    names: list[dict[str, str]]
    links: list[LinkOut]
    citations: list[CitationOut]
    sanction_status: Literal["designated", "delisted", "none"]
    merged_into: str | None = Field(None, description=(
        "the id of the entry this one was merged into (after any later merge of that one), or null. A merged "
        "entry is kept as it was at the merge, so that the merge can be undone: read, edit, cite and link the "
        "entry named here instead, as the entity page says"))


class SourceIn(ApiIn):
    url: str
    title: str
    publisher: str | None = None
    published_at: str | None = None
    source_type: str = "other"
    reliability: str = "F"
    releasable: bool | None = Field(None, description="may a released package cite it; left out: not for a "
                                                       "leak (schema/vocabularies.yml withheld_source_types), yes "
                                                       "for the other types")
    notes: str | None = None


class SourceUpdate(ApiIn):
    """The fields sent replace the stored ones; those left out are kept. The stored file never changes."""

    version: int = _version_field()
    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    published_at: str | None = None
    source_type: str | None = None
    reliability: str | None = None
    releasable: bool | None = None
    notes: str | None = None

    @field_validator("title", "source_type", "reliability", "releasable")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep the stored value")
        return value


class SourceOut(BaseModel):
    id: str
    url: str | None
    sha256: str | None
    file_name: str | None
    media_type: str | None
    size: int | None
    title: str
    publisher: str | None
    published_at: str | None
    retrieved_at: datetime | None
    source_type: str
    reliability: str
    releasable: bool
    notes: str | None
    version: int


class SameFileOut(BaseModel):
    id: str
    title: str


class SourceUploadOut(SourceOut):
    same_file_as: list[SameFileOut] = Field(
        default_factory=list, description="other sources that hold the same bytes (the page names them too): "
                                          "cite one of them rather than the same document under two sources")


class CitationIn(ApiIn):
    source_id: str
    entity_id: str | None = None
    link_id: str | None = None
    prop: str | None = None
    value: str | None = None
    excerpt: str | None = None
    page: str | None = None


class SearchResult(BaseModel):
    entity_id: str
    kind: str
    caption: str
    matched_name: str
    score: float
    explanation: dict[str, Any]
    sanction_status: str


class Suggestion(BaseModel):
    id: str
    kind: str
    caption: str
    matched_name: str
    score: float


class DuplicateQuery(ApiIn):
    kind: str
    properties: Values
    exclude_id: str | None = None


def _entity_out(entity, warnings=None) -> EntityOut:
    return EntityOut(id=entity.id, kind=entity.kind, caption=entity.caption, properties=entity.properties,
                     version=entity.version, warnings=warnings or {})


def _link_out(link, warnings=None) -> LinkOut:
    return LinkOut(id=link.id, kind=link.kind, source_id=link.source_id, target_id=link.target_id,
                   properties=link.properties, start_date=link.start_date, end_date=link.end_date,
                   version=link.version, warnings=warnings or {})


def _citation_out(c) -> CitationOut:
    return CitationOut(id=c.id, source_id=c.source_id, entity_id=c.entity_id, link_id=c.link_id, prop=c.prop,
                       value=c.value, excerpt=c.excerpt, page=c.page, locator=c.locator,
                       created_at=as_utc(c.created_at), created_by=c.created_by)


def _source_out(s) -> SourceOut:
    out = SourceOut.model_validate(s, from_attributes=True)
    out.retrieved_at = as_utc(out.retrieved_at)
    return out


def _engine(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except EngineMissing as exc:
        raise HTTPException(503, str(exc)) from exc


@router.get("/schema", summary="Entity kinds, link kinds and legal bases from schema/")
def schema(actor: Actor = Depends(current_actor)) -> dict:
    return registry().as_json()


# ---- entities --------------------------------------------------------------------------------

@router.get("/entities", response_model=EntityList)
def entities(kind: str | None = None, offset: int = Query(0, ge=0, le=MAX_OFFSET), limit: int = Query(50, ge=1, le=500),
             actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    if kind:
        registry().entity_kind(kind)
    rows, total = readmodels.list_entities(session, kind, offset=offset, limit=limit)
    return EntityList(total=total, offset=offset, results=[_entity_out(e) for e in rows])


@router.post("/entities", response_model=EntityOut, status_code=201)
def entity_create(body: EntityIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    saved = store.create_entity(session, actor, body.kind, body.properties, entity_id=body.id)
    return _entity_out(saved.obj, saved.warnings)


@router.get("/entities/suggest", response_model=list[Suggestion], summary="Name autocomplete")
def suggest(q: str = Query(..., min_length=1), kinds: str = "", limit: int = Query(10, ge=1, le=50),
            actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    kind_list = [k for k in kinds.split(",") if k] or None
    hits = _engine(readmodels.suggest, session, q, kinds=kind_list, limit=limit)
    return [Suggestion(id=h.entity_id, kind=h.kind, caption=h.caption, matched_name=h.matched_name,
                       score=round(h.score, 3)) for h in hits]


@router.post("/entities/duplicates", response_model=list[Suggestion], summary="Possible duplicates of new input")
def duplicates(body: DuplicateQuery, actor: Actor = Depends(current_actor),
               session: Session = Depends(get_session)):
    registry().entity_kind(body.kind)
    props = {k: (v if isinstance(v, list) else [v]) for k, v in body.properties.items()}
    props = {k: [x for x in v if x.strip()] for k, v in props.items()}
    hits = engines.find_duplicates(session, body.kind, {k: v for k, v in props.items() if v},
                                   exclude_id=body.exclude_id)
    return [Suggestion(id=h.entity_id, kind=h.kind, caption=h.caption, matched_name=h.matched_name,
                       score=round(h.score, 3)) for h in hits]


class JudgementOut(BaseModel):
    verdict: str
    user: str
    at: datetime


class JudgedPairOut(BaseModel):
    other_id: str
    other_caption: str | None
    current: JudgementOut
    earlier: list[JudgementOut]


class JudgementIn(ApiIn):
    other_id: str
    verdict: str  # same (merges the other entry into this one) / different / unsure


def _judgement_out(j) -> JudgementOut:
    return JudgementOut(verdict=j.verdict, user=j.user, at=as_utc(j.created_at))


@router.get("/entities/{entity_id}/judgements", response_model=list[JudgedPairOut],
            summary="Every duplicate judgement about this entity, with who made it, when, and what it replaced")
def judgements(entity_id: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    entity = store.get_entity(session, entity_id)
    return [JudgedPairOut(other_id=p.other_id, other_caption=p.other.caption if p.other else None,
                          current=_judgement_out(p.current), earlier=[_judgement_out(e) for e in p.earlier])
            for p in readmodels.judged_pairs(session, entity)]


@router.post("/entities/{entity_id}/judgements", response_model=list[JudgedPairOut], status_code=201,
             summary="Judge (or judge again) this entity and another: same merges the other into this one")
def judge(entity_id: str, body: JudgementIn, actor: Actor = Depends(current_actor),
          session: Session = Depends(get_session)):
    engines.judge_pair(session, actor, entity_id, body.other_id, body.verdict)
    return judgements(entity_id, actor, session)


@router.get("/entities/{entity_id}", response_model=EntityDetail)
def entity(entity_id: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    page = readmodels.entity_page(session, entity_id, history_limit=0)
    kept = store.surviving(session, page.entity) if page.entity.merged_into else None
    links = [row.link for _, rows in page.link_groups for row in rows]
    citations = page.whole_citations + [c for f in page.facts + page.identifiers + page.former for c in f.citations] + \
        [c for _, rows in page.link_groups for row in rows for c in row.citations]
    unique = {c.id: c for c in citations}
    return EntityDetail(**_entity_out(page.entity).model_dump(),
                        names=[{"name": n.name, "kind": n.name_kind, "property": n.prop} for n in page.names],
                        links=[_link_out(l) for l in links],
                        citations=[_citation_out(c) for c in sorted(unique.values(), key=lambda c: c.id)],
                        sanction_status=page.status, merged_into=kept.id if kept is not None else None)


@router.put("/entities/{entity_id}", response_model=EntityOut)
def entity_update(entity_id: str, body: EntityUpdate, actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session)):
    saved = store.update_entity(session, actor, entity_id, body.properties, expected_version=body.version)
    return _entity_out(saved.obj, saved.warnings)


@router.delete("/entities/{entity_id}", status_code=204)
def entity_delete(entity_id: str, version: int = Query(..., ge=1, description=VERSION_HELP),
                  actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
    store.delete_entity(session, actor, entity_id, expected_version=version)
    return Response(status_code=204)


# ---- links -----------------------------------------------------------------------------------

@router.post("/links", response_model=LinkOut, status_code=201)
def link_create(body: LinkIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    saved = store.create_link(session, actor, body.kind, body.source_id, body.target_id, body.properties)
    return _link_out(saved.obj, saved.warnings)


@router.get("/links/{link_id}", response_model=LinkOut)
def link(link_id: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    return _link_out(store.get_link(session, link_id))


@router.put("/links/{link_id}", response_model=LinkOut)
def link_update(link_id: str, body: LinkUpdate, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    saved = store.update_link(session, actor, link_id, body.properties, expected_version=body.version)
    return _link_out(saved.obj, saved.warnings)


@router.delete("/links/{link_id}", status_code=204)
def link_delete(link_id: str, version: int = Query(..., ge=1, description=VERSION_HELP),
                actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
    store.delete_link(session, actor, link_id, expected_version=version)
    return Response(status_code=204)


# ---- sources and citations -------------------------------------------------------------------

@router.get("/sources", response_model=list[SourceOut])
def sources(q: str | None = None, offset: int = Query(0, ge=0, le=MAX_OFFSET, description="skip this many"),
            limit: int = Query(SOURCE_PAGE, ge=1, le=MAX_SOURCE_PAGE, description="at most this many"),
            *, request: Request, response: Response,
            actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """The newest sources first (or those whose title, URL or publisher holds ``q``), a page at a time:
    ``X-Total-Count`` says how many there are, and a ``Link: <...>; rel="next"`` header where the next page is."""
    rows = readmodels.list_sources(session, q, limit=limit, offset=offset)
    page_headers(request, response, offset, len(rows), readmodels.count_sources(session, q), limit)
    return [_source_out(s) for s in rows]


@router.post("/sources", response_model=SourceOut, status_code=201, summary="Add a source by URL")
def source_create(body: SourceIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    return _source_out(store.create_source(session, actor, **body.model_dump()))


@router.post("/sources/upload", response_model=SourceUploadOut, status_code=201,
             summary="Add a source by uploading its file (PDF, HTML, image or UTF-8 plain text; checked by content)")
async def source_upload(file: UploadFile = File(description="the document"),
                        title: str | None = Form(None, description="defaults to the file name"),
                        url: str | None = Form(None), publisher: str | None = Form(None),
                        published_at: str | None = Form(None), source_type: str = Form("other"),
                        reliability: str = Form("F"),
                        releasable: bool | None = Form(None, description="left out: not for a leak, yes otherwise"),
                        notes: str | None = Form(None),
                        actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    fields = {"title": title, "url": url or None, "publisher": publisher or None,
              "published_at": published_at or None, "source_type": source_type, "reliability": reliability,
              "releasable": releasable, "notes": notes or None}
    try:
        source = await add_uploaded_source(session, actor, file, fields)
    except UploadRejected as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    twins = [{"id": twin.id, "title": twin.title} for twin in readmodels.same_file_sources(session, source)]
    return SourceUploadOut(**_source_out(source).model_dump(), same_file_as=twins)


@router.get("/sources/{source_id}", response_model=SourceOut)
def source(source_id: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    return _source_out(store.get_source(session, source_id))


@router.put("/sources/{source_id}", response_model=SourceOut, summary="Correct a source's description")
def source_update(source_id: str, body: SourceUpdate, actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session)):
    fields = body.model_dump(exclude_unset=True, exclude={"version"})
    return _source_out(store.update_source(session, actor, source_id, expected_version=body.version, **fields))


@router.get("/citations", response_model=list[CitationOut],
            summary="The citations of one entity (not of its links), one link or one source")
def citations(entity_id: str | None = None, link_id: str | None = None, source_id: str | None = None,
              offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Skip this many (oldest first)."),
              limit: int = Query(CITATION_PAGE, ge=1, le=MAX_CITATION_PAGE,
                                 description=f"At most this many (default {CITATION_PAGE})."),
              *, request: Request, response: Response,
              actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """An imported list cites tens of thousands of facts: citations come a page at a time (an entity's or a
    link's too). ``X-Total-Count`` says how many there are, and a ``Link: <...>; rel="next"`` header where the
    next page is, so a script that reads pages until no next link is given misses none."""
    given = [name for name, value in (("entity_id", entity_id), ("link_id", link_id), ("source_id", source_id))
             if value]
    if len(given) != 1:
        raise ValidationError({"query": ["give exactly one of entity_id, link_id or source_id"
                                         + (f" (got {', '.join(given)})" if given else "")]})
    if entity_id or link_id:
        every = (store.citations_for(session, entity_id=store.get_entity(session, entity_id).id) if entity_id
                 else store.citations_for(session, link_ids=[store.get_link(session, link_id).id]))
        rows, total = every[offset:offset + limit], len(every)  # one entry's: a few, loaded whole
    else:
        rows, total = readmodels.citations_of_source(session, store.get_source(session, source_id).id,
                                                     offset=offset, limit=limit)
    page_headers(request, response, offset, len(rows), total, limit)
    return [_citation_out(c) for c in rows]


@router.post("/citations", response_model=CitationOut, status_code=201)
def citation_create(body: CitationIn, actor: Actor = Depends(current_actor),
                    session: Session = Depends(get_session)):
    return _citation_out(store.cite(session, actor, body.source_id, entity_id=body.entity_id, link_id=body.link_id,
                                    prop=body.prop, value=body.value, excerpt=body.excerpt, page=body.page))


@router.get("/citations/{citation_id}", response_model=CitationOut)
def citation(citation_id: CitationId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    return _citation_out(store.get_citation(session, citation_id))


@router.delete("/citations/{citation_id}", status_code=204,
               summary="Remove a citation (the audit log keeps what it said)")
def citation_delete(citation_id: CitationId, actor: Actor = Depends(current_actor),
                    session: Session = Depends(get_session)) -> Response:
    store.delete_citation(session, actor, citation_id)
    return Response(status_code=204)


# ---- search and graph ------------------------------------------------------------------------

@router.get("/search", response_model=list[SearchResult])
def search(q: str = Query(..., min_length=1), kind: str | None = None, state: str | None = None,
           topic: str | None = None, sanction: Literal["designated", "delisted", "none"] | None = None,
           limit: int = Query(20, ge=1, le=200), actor: Actor = Depends(current_actor),
           session: Session = Depends(get_session)):
    """Fuzzy search over names and aliases. Without ``kind``, records about other entities (a
    Sanction, named after its target) are left out, as on the Search page; name the kind to get them."""
    if kind:
        registry().entity_kind(kind)
    rows = _engine(readmodels.search, session, q, kind=kind, state=state, topic=topic, sanction=sanction,
                   limit=limit).rows
    return [SearchResult(entity_id=r.entity.id, kind=r.entity.kind, caption=r.entity.caption,
                         matched_name=r.matched_name, score=round(r.score, 4), explanation=r.explanation,
                         sanction_status=r.status) for r in rows]


@router.get("/graph/{entity_id}", summary="Neighbourhood in Cytoscape.js JSON")
def graph(entity_id: str, depth: int = Query(1, ge=1, le=3), kinds: str = "",
          actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> dict:
    store.get_entity(session, entity_id)
    kind_list = [k for k in kinds.split(",") if k] or None
    return _engine(engines.ego_network, session, entity_id, depth=depth, link_kinds=kind_list)


@router.get("/graph/{entity_id}/path", summary="Shortest path to the nearest designated party")
def graph_path(entity_id: str, max_length: int = Query(6, ge=1, le=8), actor: Actor = Depends(current_actor),
               session: Session = Depends(get_session)) -> dict:
    store.get_entity(session, entity_id)
    result = _engine(engines.path_to_designated, session, entity_id, max_length=max_length)
    if result is None:
        return {"found": False, "nodes": [], "steps": [], "designated_id": None, "length": None}
    return {"found": True, "nodes": list(result.nodes), "steps": list(result.steps),
            "designated_id": result.designated_id, "length": result.length}
