"""The FastAPI application: middleware, error pages, static files, and every router under routes/.

Routers are discovered with pkgutil, so each area adds a module defining ``router`` under
``workbench/web/routes/`` without touching this file. The domain layer's exceptions are turned
into the status codes a user or script expects (403, 404, 409, 422) in one place.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.sessions import SessionMiddleware

from workbench.schema import ValidationError
from workbench.settings import get_settings
from workbench.sources.files import StorageError
from workbench.store.db import unstorable_in
from workbench.store.entities import MAX_ROW_ID, Conflict, NotFound
from workbench.store.permissions import Actor, PermissionDenied
from workbench.text import SURROGATE_MESSAGE, encodable
from workbench.web import routes as routes_pkg
from workbench.web.deps import (
    FormRefused,
    LoginRequired,
    csrf_protect,
    current_actor,
    login_url,
    referring_page,
    templates,
    wants_json,
)
from workbench.web.forms import field_errors, request_error_message
from workbench.web.throttle import LoginThrottle

STATIC_DIR = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)


class CommitBeforeResponse:
    """Commit (or, for an error status, roll back) the request's database sessions just before
    the response starts, so whatever the client does next sees the change."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_after_commit(message):
            if message["type"] == "http.response.start":
                sessions = (scope.get("state") or {}).get("db_sessions") or []
                for session in sessions:
                    finish = session.commit if message["status"] < 400 else session.rollback
                    await run_in_threadpool(finish)
            await send(message)

        await self.app(scope, receive, send_after_commit)


def _error(request: Request, status: int, title: str, message: str, errors: dict | None = None,
           lead: str | None = None) -> Response:
    """JSON for scripts (``detail`` plus ``errors``); a page for people. A ValidationError's message is
    its field errors run together, so the page puts ``lead`` above the list instead of saying it all twice."""
    # A message may quote what was sent, a lone surrogate included, which no answer can encode.
    message, lead = encodable(message), lead and encodable(lead)
    if errors is not None:
        errors = {encodable(str(k)): [encodable(str(m)) for m in (v if isinstance(v, list) else [v])]
                  for k, v in errors.items()}
    if wants_json(request):
        body: dict = {"detail": message}
        if errors is not None:
            body["errors"] = errors
        return JSONResponse(body, status_code=status)
    return templates.TemplateResponse(request, "error.html", {
        "title": title, "message": lead or message, "errors": field_errors(errors), "status": status,
        "back": referring_page(request)}, status_code=status)


async def _json_body(request: Request) -> object:
    """The request's JSON body as the route read it (Starlette keeps it), or None."""
    if not request.headers.get("content-type", "").split(";")[0].strip().lower().endswith("json"):
        return None
    try:
        return await request.json()
    except Exception:  # noqa: BLE001 - not JSON, or a body no longer there to read: nothing to name
        return None


async def _body_field_of(request: Request, missing: NotFound) -> str | None:
    """The JSON body's field holding the id a NotFound names (``{"target_id": "nope"}``), when no id in the
    address is the one missing: a refused field of the request, named as it was sent (422), where an unknown
    address stays a 404. The services quote the id they did not find (``no entity with id 'nope'``)."""
    if not wants_json(request) or request.method not in ("POST", "PUT", "PATCH"):
        return None
    message = str(missing)
    if any(repr(value) in message for value in request.path_params.values() if isinstance(value, str)):
        return None
    body = await _json_body(request)
    if not isinstance(body, dict):
        return None
    return next((key for key, value in body.items() if isinstance(value, str) and value and repr(value) in message),
                None)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(request), status_code=303)

    @app.exception_handler(FormRefused)
    async def form_refused(request: Request, exc: FormRefused) -> Response:
        if wants_json(request) or not exc.sent:
            return _error(request, 403, "Not allowed", str(exc))
        back = referring_page(request)
        if exc.signed_out:
            message = ("You are no longer signed in (the session ended, or you signed out in another tab), so "
                       "nothing was saved. What the form sent is below: copy what you typed, sign in again in a "
                       "new tab, and send the form from there.")
        else:
            message = ("The form's security token is out of date (the page was opened before you last signed in), "
                       "so nothing was saved. What the form sent is below: copy what you typed, reload the page "
                       "and send it again.")
        sign_in = f"/login?next={quote(back or '/', safe='')}" if exc.signed_out else None
        return templates.TemplateResponse(request, "error.html", {
            "title": "Not saved", "message": message, "errors": [], "status": 403, "back": back,
            "sent": [(encodable(k), encodable(v)) for k, v in exc.sent], "sign_in": sign_in}, status_code=403)

    @app.exception_handler(PermissionDenied)
    async def permission_denied(request: Request, exc: PermissionDenied) -> Response:
        return _error(request, 403, "Not allowed", str(exc))

    @app.exception_handler(StorageError)
    async def storage_error(request: Request, exc: StorageError) -> Response:
        # The server's folder, not the user's input: 503, with what the administrator must fix.
        return _error(request, 503, "Cannot store the file", exc.strerror or str(exc))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        field = await _body_field_of(request, exc)
        if field is not None:
            refused = ValidationError({field: [str(exc)]})
            return _error(request, 422, "Invalid input", str(refused), refused.errors, lead=refused.lead)
        return _error(request, 404, "Not found", str(exc))

    @app.exception_handler(UnicodeEncodeError)
    async def unencodable(request: Request, exc: UnicodeEncodeError) -> Response:
        # A lone surrogate (JSON can spell '\ud800') that no check caught before it reached the database
        # driver or an answer: the input models and services refuse it naming the field; this is the net
        # under them, so that such text is a 422, never a server error. Anything else stays a 500.
        if not isinstance(exc.object, str) or "surrogate" not in exc.reason:
            raise exc
        log.warning("text with a lone surrogate reached %s %s unchecked", request.method,
                    encodable(request.url.path), exc_info=exc)
        sent = {**request.path_params, **request.query_params}
        found = unstorable_in(sent, "request") or unstorable_in(await _json_body(request), "body")
        field, message = found if found else ("request", SURROGATE_MESSAGE)
        refused = ValidationError({field: [message]})
        return _error(request, 422, "Invalid input", str(refused), refused.errors, lead=refused.lead)

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> Response:
        # Optimistic locking, or a state that forbids the step (already merged, already decided):
        # the message says which.
        return _error(request, 409, "Conflict", str(exc))

    @app.exception_handler(ValidationError)
    async def invalid(request: Request, exc: ValidationError) -> Response:
        # A page that only reads (a search or list with a bad filter) changed nothing to begin with.
        lead = exc.lead if request.method not in ("GET", "HEAD") else "Correct what is listed below and try again."
        return _error(request, 422, "Invalid input", str(exc), exc.errors, lead=lead)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        items = exc.errors()
        out_of_range = ("greater_than_equal", "less_than_equal")
        if items and all(item.get("loc", ())[:1] == ("path",) and item.get("type") in out_of_range for item in items):
            # A whole number outside 1..MAX_ROW_ID in the address (deps.RowId) names nothing, like any other
            # unknown id; an id that is no number at all stays a 422 below.
            item = items[0]
            thing = str(item["loc"][-1]).removesuffix("_id").replace("_", " ")
            return _error(request, 404, "Not found", f"no {thing} {item.get('input')} (an id is a whole number "
                                                     f"from 1 to {MAX_ROW_ID})")
        errors: dict[str, list[str]] = {}
        for item in items:
            if item.get("type") == "json_invalid":  # loc is ('body', character offset), not a field
                where, why = item["loc"][-1], (item.get("ctx") or {}).get("error", "")
                errors.setdefault("body", []).append(f"not valid JSON at character {where}: {why}".rstrip(": "))
                continue
            key = ".".join(str(part) for part in item.get("loc", ())[1:]) or "request"
            if item.get("type") == "extra_forbidden":  # a typo would otherwise leave a default in force unseen
                errors.setdefault(key, []).append("not a field of this request: check its spelling "
                                                  "(/docs lists the fields)")
                continue
            errors.setdefault(key, []).append(request_error_message(item))
        return _error(request, 422, "Invalid input", "the request does not have the expected fields", errors)

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> Response:
        if getattr(exc.orig, "sqlstate", None) in ("40P01", "40001"):
            # PostgreSQL chose this change to give way to another (a deadlock or a serialisation failure):
            # nothing of it was saved, as for any other change that met someone else's.
            return _error(request, 409, "Conflict", "someone else changed the same records at the same moment; "
                                                    "nothing was saved: reload and try again")
        if "database is locked" not in str(exc.orig):
            raise exc  # any other database failure is a server error (500)
        response = _error(request, 503, "Database busy",
                          "another job (an import or a restore) is writing to the database, and this change waited "
                          f"{get_settings().sqlite_busy_seconds:g} s for it. Nothing was saved. Try again in a "
                          "minute: the browser's Back button returns to the form with what you typed.")
        response.headers["Retry-After"] = "30"
        return response

    # Starlette's class, so that the router's own 404 (unknown address) and 405 (a form's address
    # opened as a page) get the same pages as the routes' errors; FastAPI's HTTPException is a subclass.
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {401: "Sign-in required", 403: "Not allowed", 404: "Not found", 405: "Not a page", 409: "Conflict",
                  413: "Too large", 429: "Too many attempts"}
        detail = exc.detail if isinstance(exc.detail, str) else ""
        if exc.status_code == 404 and detail in ("", "Not Found"):
            detail = "no such page"
        elif exc.status_code == 405:
            detail = (f"{request.url.path} does not answer {request.method} requests"
                      + (": it is the target of a form; use the button on its page" if request.method == "GET" else ""))
        response = _error(request, exc.status_code, titles.get(exc.status_code, "Error"), detail)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response


def _include_routers(app: FastAPI) -> None:
    for module_info in sorted(pkgutil.iter_modules(routes_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes_pkg.__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)


# The body of every refusal (app's handlers, _error): what the OpenAPI document gives each 422.
REFUSAL_SCHEMA = {
    "title": "Refusal", "type": "object", "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "what is wrong, in one line"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "each refused field, named as the request sent it, with its messages"},
    },
}


def _describe_api(app: FastAPI) -> None:
    """The OpenAPI document as the API answers: scripts authenticate with a Bearer token (Swagger's
    Authorize button; a signed-in browser's cookie works too), and a 422 has the body ``_error`` gives it,
    not FastAPI's default (a list of pydantic errors)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {})["bearer"] = {
                "type": "http", "scheme": "bearer", "description": "an API token (API tokens, in the page header)"}
            schema["security"] = [{"bearer": []}]
            components.setdefault("schemas", {})["Refusal"] = REFUSAL_SCHEMA
            for operation in (op for item in schema.get("paths", {}).values() for op in item.values()
                              if isinstance(op, dict)):
                refused = operation.get("responses", {}).get("422")
                if refused is not None:
                    refused["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}
            for unused in ("HTTPValidationError", "ValidationError"):
                components["schemas"].pop(unused, None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_docs(app: FastAPI) -> None:
    """OpenAPI and Swagger UI behind sign-in, with Swagger's files served locally (no CDN)."""
    _describe_api(app)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(actor: Actor = Depends(current_actor)) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(actor: Actor = Depends(current_actor)) -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Workbench API",
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")
        # FastAPI's page opens with a bare <html>: say its language, as every other page does (WCAG 3.1.1).
        html = re.sub(r"<html(?=[\s>])(?![^>]*\blang=)", '<html lang="en"', bytes(page.body).decode("utf-8"), count=1)
        return HTMLResponse(html, status_code=page.status_code)


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Sanctions research workbench", version="0.1.0", docs_url=None, redoc_url=None,
                  openapi_url=None, dependencies=[Depends(csrf_protect)])
    app.state.login_throttle = LoginThrottle(settings.login_attempts_per_minute)
    app.state.jobs = {}

    # The Content-Length check below refuses an announced large body at once; a chunked body announces
    # nothing, and would be read whole (by the CSRF check or the JSON parser, before anyone signed in)
    # before anything refused it: Starlette's limit counts the bytes as they arrive. Added first, it is
    # the innermost middleware: the route reads through it directly, so its 413 reaches the error
    # handlers as itself (through the other middlewares' receive it would arrive wrapped, as a 500).
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.upload_max_bytes + 64 * 1024)

    @app.middleware("http")
    async def limits_and_headers(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.upload_max_bytes + 64 * 1024:
            return _error(request, 413, "Too large",
                          f"the upload is larger than the limit of {settings.upload_max_bytes // (1024 * 1024)} MB")
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if "frame-ancestors" not in response.headers.get("Content-Security-Policy", ""):
            # A page that says who may frame it (OpenRefine's preview iframe) is not contradicted here.
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static/"):
            # Pages, exports and files name people and allegations: no copy in a browser's or a shared
            # proxy's cache outlives the sign-out. (The style sheet and scripts may be cached.)
            response.headers.setdefault("Cache-Control", "no-store")
        if not request.url.path.startswith("/docs"):
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
            )
        return response

    app.add_middleware(CommitBeforeResponse)
    app.add_middleware(SessionMiddleware, secret_key=settings.signing_key(), session_cookie="workbench_session",
                       max_age=settings.session_max_age, same_site="lax", https_only=settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    _install_error_handlers(app)
    _install_docs(app)
    _include_routers(app)
    return app
