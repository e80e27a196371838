"""The W3C / OpenRefine Reconciliation API v0.2 at /reconcile (thin: workbench.sources.reconcile decides).

OpenRefine cannot sign in through a form, so every endpoint takes an API token: the
``Authorization: Bearer`` header, or ``?token=`` in the service URL for clients that cannot set
headers (the manifest then carries the token into the preview and suggest URLs it advertises).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from workbench.settings import get_settings
from workbench.sources import reconcile as service
from workbench.store import users
from workbench.store.permissions import Actor
from workbench.web import readmodels
from workbench.web.deps import get_session, optional_actor, templates

# OpenRefine's page (another origin, e.g. http://127.0.0.1:3333) fetches the manifest, suggestions and
# previews itself, so every answer here, errors included, allows any origin to read it. No cookie ever
# counts for such a read: credentials are not allowed with '*', and the session cookie is SameSite=Lax.
OPENREFINE_HEADERS = {"Access-Control-Allow-Origin": "*"}
# The preview card is shown in OpenRefine's iframe; it has no forms or scripts to click-jack.
PREVIEW_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *; base-uri 'none'; "
                  "form-action 'none'")


class OpenRefineRoute(APIRoute):
    """A route whose answers (and error answers, made by the app's handlers) carry the CORS header."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:  # noqa: BLE001 - handled as the app would, then re-raised if unknown
                response = await _handled(request, exc)
            response.headers.update(OPENREFINE_HEADERS)
            return response

        return answer


class PreviewRoute(OpenRefineRoute):
    """The preview is shown in OpenRefine's iframe: a refusal (an unknown id, a revoked token) answers as a small
    card saying why, framed as the preview is. As JSON from a page that may not be framed, it showed the
    browser's 'refused to connect' box instead of the reason."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            response = await handler(request)
            if response.status_code < 400:
                return response
            headers = {**OPENREFINE_HEADERS, "Content-Security-Policy": PREVIEW_POLICY}
            if "www-authenticate" in response.headers:
                headers["WWW-Authenticate"] = response.headers["www-authenticate"]
            return templates.TemplateResponse(request, "reconcile/preview_error.html",
                                              {"reason": _reason(response)}, status_code=response.status_code,
                                              headers=headers)

        return answer


def _reason(response: Response) -> str:
    """The refusal's own words (the 'detail' of the app's JSON error answer)."""
    try:
        detail = json.loads(response.body).get("detail")
    except (ValueError, AttributeError):
        detail = None
    return detail if isinstance(detail, str) and detail else "this entry cannot be shown"


async def _handled(request: Request, exc: Exception) -> Response:
    for cls in type(exc).__mro__:
        handle = request.app.exception_handlers.get(cls)
        if handle is not None:
            return await handle(request, exc)
    raise exc


router = APIRouter(prefix="/reconcile", tags=["reconcile"], route_class=OpenRefineRoute)


def reconcile_actor(request: Request, token: str | None = None, session: Session = Depends(get_session)) -> Actor:
    actor = users.actor_for_token(session, token) if token else optional_actor(request, session)
    if actor is None:
        given = token or request.headers.get("authorization", "").lower().startswith("bearer ")
        detail = ("this API token is not valid (unknown, revoked, or its user is disabled): make a new one under "
                  "API tokens (/account/tokens), signed in as its user" if given else
                  "the reconciliation service needs an API token (Authorization: Bearer ..., or ?token=...)")
        raise HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})
    return actor


def _json_field(raw: str | None, name: str):
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise HTTPException(status_code=400, detail=f"'{name}' must be JSON: {exc.msg} at line {exc.lineno}, "
                                                    f"column {exc.colno}") from None
    except TypeError:
        raise HTTPException(status_code=400, detail=f"'{name}' must be JSON") from None
    except RecursionError:  # '[[[[...' thousands deep: the decoder gives up, as a 500 with no CORS header it was
        raise HTTPException(status_code=400, detail=f"'{name}' must be JSON: nested too deeply") from None


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _answer(request: Request, session: Session, actor: Actor, token: str | None) -> JSONResponse:
    params = dict(request.query_params)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()  # media types ignore case
    if request.method == "POST" and media_type and media_type not in FORM_TYPES:
        # The protocol posts a form; answering a JSON (or text) body with the manifest would look like success.
        raise HTTPException(status_code=400, detail="post the queries as the form field 'queries' "
                                                    "(application/x-www-form-urlencoded), as OpenRefine does")
    if request.method == "POST":
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    if "queries" in params:
        # A batch scores up to 500 names: off the event loop, so other requests are answered meanwhile.
        queries = _json_field(params["queries"], "queries")
        return JSONResponse(await run_in_threadpool(service.reconcile, session, actor, queries))
    if "extend" in params:
        extend = _json_field(params["extend"], "extend")
        return JSONResponse(await run_in_threadpool(service.extend, session, actor, extend))
    base = (get_settings().public_url or str(request.base_url)).rstrip("/")
    return JSONResponse(service.manifest(base, f"?token={quote(token)}" if token else ""))


@router.options("")
@router.options("/{rest:path}")
def reconcile_preflight(rest: str = "") -> Response:
    """A browser asks before it sends 'Authorization: Bearer' from another origin (CORS preflight).
    The answer says what may be sent; it reveals nothing, so it needs no token (a browser cannot
    send one with it)."""
    return Response(status_code=204, headers={"Access-Control-Allow-Methods": "GET, POST",
                                              "Access-Control-Allow-Headers": "Authorization, Content-Type",
                                              "Access-Control-Max-Age": "600"})


@router.get("")
@router.get("/", include_in_schema=False)  # a service address written with a trailing slash
async def reconcile_get(request: Request, token: str | None = None, session: Session = Depends(get_session),
                        actor: Actor = Depends(reconcile_actor)) -> JSONResponse:
    return await _answer(request, session, actor, token)


@router.post("")
@router.post("/", include_in_schema=False)
async def reconcile_post(request: Request, token: str | None = None, session: Session = Depends(get_session),
                         actor: Actor = Depends(reconcile_actor)) -> JSONResponse:
    return await _answer(request, session, actor, token)


def reconcile_preview(request: Request, id: str, session: Session = Depends(get_session),
                      actor: Actor = Depends(reconcile_actor)):
    card = service.preview(session, actor, id)
    return templates.TemplateResponse(request, "reconcile/preview.html", {"card": card},
                                      headers={"Content-Security-Policy": PREVIEW_POLICY})


router.add_api_route("/preview", reconcile_preview, methods=["GET"], response_class=HTMLResponse,
                     route_class_override=PreviewRoute)


@router.get("/suggest/entity")
def suggest_entity(prefix: str = "", type: str | None = None, cursor: int = 0, session: Session = Depends(get_session),
                   actor: Actor = Depends(reconcile_actor)) -> dict:
    # OpenRefine sends what is typed so far ('Guzm'): the pages' autocomplete answers it, not a full search.
    return service.suggest_entities(session, actor, prefix, type, cursor, complete=readmodels.suggest)


@router.get("/suggest/type")
def suggest_type(prefix: str = "", cursor: int = 0, actor: Actor = Depends(reconcile_actor)) -> dict:
    return service.suggest_type(prefix, cursor)


@router.get("/suggest/property")
def suggest_property(prefix: str = "", type: str | None = None, cursor: int = 0,
                     actor: Actor = Depends(reconcile_actor)) -> dict:
    return service.suggest_property(prefix, type, cursor)


@router.get("/extend/propose")
def extend_propose(type: str | None = None, limit: int = 50, actor: Actor = Depends(reconcile_actor)) -> dict:
    return service.propose_properties(type, limit)


# Last, so that every address above is matched first. Without these, an unknown address under
# /reconcile matched only the preflight route above and got a 405 ("target of a form") with no CORS
# header, which OpenRefine's page cannot read; now it is a 404 it can read (after the token check, as
# every address of the service).
@router.get("/{rest:path}", include_in_schema=False)
@router.post("/{rest:path}", include_in_schema=False)
def reconcile_unknown(rest: str, actor: Actor = Depends(reconcile_actor)) -> Response:
    raise HTTPException(status_code=404, detail="no such address of the reconciliation service (the manifest at "
                                                "/reconcile lists its addresses)")
