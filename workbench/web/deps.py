"""What every route depends on: the request's database session, the signed-in actor, roles, CSRF.

Routers from every area import these, so sign-in, roles and CSRF are checked the same way
everywhere. Authentication is either the signed session cookie (browser) or an
``Authorization: Bearer`` API token (scripts); API tokens are not ambient credentials, so requests
carrying one are exempt from the CSRF check.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlparse

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from workbench.labels import page_label, pdf_page
from workbench.schema import registry
from workbench.settings import get_settings
from workbench.sources.files import shown_inline
from workbench.store import db as store_db
from workbench.store import users
from workbench.store.entities import MAX_ROW_ID
from workbench.store.permissions import Actor
from workbench.web.explanations import explanation_view

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_USER = "user"
SESSION_EPOCH = "epoch"  # the user's session generation at sign-in (users.actor_for)
# When the session began (seconds since the epoch). The cookie is signed again on every response, so its own
# max-age only ends a session left idle; this ends any session WORKBENCH_SESSION_MAX_AGE after sign-in.
SESSION_SINCE = "since"
SESSION_CSRF = "csrf"
# A token was sent but names no live token: told apart from none sent. Every user makes their own tokens.
INVALID_TOKEN = ("the API token is not valid (revoked, its user disabled, or mistyped): make a new one under "
                 "API tokens (/account/tokens)")


# Every integer id in an address (merges, review items, exhibits, citations). Integer ids are 32-bit on
# PostgreSQL, so a larger one would fail in the database (a 500); one out of range names nothing, and the
# app answers 404 (app.py, invalid_request).
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID, description="a numeric id (1 to 2147483647)")]


class LoginRequired(Exception):
    """A page was requested without sign-in: the app redirects to /login (or answers 401 for the API)."""


class FormRefused(Exception):
    """A form came without a valid CSRF token (signed out in another tab, a session that ended, a page
    opened before the last sign-in). Nothing is saved; the answer gives back what the form sent, so
    that a long text typed into it is not lost with the refusal."""

    def __init__(self, signed_out: bool, sent: list[tuple[str, str]]):
        super().__init__("the form's security token is missing or out of date: reload the page and try again")
        self.signed_out = signed_out
        self.sent = sent


# Fields a form may post (Starlette's default is 1,000): an entity imported from a large roll can hold
# more values than that, and its edit form posts each one.
MAX_FORM_FIELDS = 20_000


def wants_json(request: Request) -> bool:
    """API clients get JSON errors; browsers get pages."""
    path = request.url.path
    if path.startswith("/api/") or path in ("/openapi.json",) or path.startswith("/reconcile"):
        return True
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def page_headers(request: Request, response, offset: int, shown: int, total: int, limit: int) -> None:
    """An API page's ``X-Total-Count`` and, when more follow, ``Link: <...>; rel="next"`` (one way for
    every paged list: citations, dossiers)."""
    response.headers["X-Total-Count"] = str(total)
    if offset + shown < total:
        following = request.url.include_query_params(offset=offset + shown, limit=limit)
        response.headers["Link"] = f'<{following}>; rel="next"'


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the route succeeds, rolled back when it raises.

    FastAPI closes dependencies after the response has been sent, so a browser following a
    redirect could otherwise read before the commit; ``CommitBeforeResponse`` (app.py) commits
    the request's sessions as the response starts, and this exit code only mops up.
    """
    session = store_db.session_factory(get_settings().database_url)()
    request.state.db_sessions = [*getattr(request.state, "db_sessions", []), session]
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def start_session(request: Request, username: str, epoch: int) -> None:
    """Sign ``username`` in on this browser: a fresh session (and CSRF token), no session fixation."""
    request.session.clear()
    request.session[SESSION_USER] = username
    request.session[SESSION_EPOCH] = epoch
    request.session[SESSION_SINCE] = int(time.time())


def _session_expired(request: Request) -> bool:
    """Whether the session began more than WORKBENCH_SESSION_MAX_AGE ago. A session from before sessions said
    when they began (or one a page re-established without saying) starts its clock now."""
    since = request.session.get(SESSION_SINCE)
    now = int(time.time())
    if not isinstance(since, int):
        request.session[SESSION_SINCE] = now
        return False
    return now - since > get_settings().session_max_age


def optional_actor(request: Request, session: Session = Depends(get_session)) -> Actor | None:
    """The signed-in actor or None. Looked up on every request so that a disabled user, a changed
    role or password, or a sign-out elsewhere takes effect at once, not when the cookie expires."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    token = _bearer_token(request)
    actor: Actor | None = None
    if token is not None:
        actor = users.actor_for_token(session, token)
        request.state.via_token = actor is not None
        if session.dirty:
            # The token's "last used" time, written and committed before the request's work: held to its
            # end, the write would lock every other save out while a long reconciliation batch is scored.
            session.commit()
    else:
        username = request.session.get(SESSION_USER)
        if username:
            actor = None if _session_expired(request) else \
                users.actor_for(session, username, request.session.get(SESSION_EPOCH))
            if actor is None:
                request.session.pop(SESSION_USER, None)
                request.session.pop(SESSION_EPOCH, None)
                request.session.pop(SESSION_SINCE, None)
    request.state.actor = actor
    return actor


def current_actor(request: Request, actor: Actor | None = Depends(optional_actor)) -> Actor:
    if actor is None:
        if _bearer_token(request) is not None:
            # A script that sent a token must not be told to send one: it would look for a typo in its header.
            raise HTTPException(status_code=401, detail=INVALID_TOKEN, headers={"WWW-Authenticate": "Bearer"})
        if wants_json(request):
            raise HTTPException(status_code=401, detail="sign in or send an API token (Authorization: Bearer ...)",
                                headers={"WWW-Authenticate": "Bearer"})
        raise LoginRequired()
    return actor


def require_role(*roles: str) -> Callable[..., Actor]:
    """A dependency admitting only the given roles (the domain layer checks permissions again)."""

    def dependency(actor: Actor = Depends(current_actor)) -> Actor:
        if actor.role not in roles:
            raise HTTPException(status_code=403, detail=f"{actor.username} ({actor.role}) may not open this page: "
                                                        f"it needs the role {' or '.join(roles)}")
        return actor

    return dependency


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (every form renders it)."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


SESSION_ONCE = "once"
_ONCE_KEPT = 5  # open forms remembered per session (several tabs)


def form_once(request: Request) -> str:
    """A key for one submission of a form whose effect must not repeat on a reload (a new API token):
    the browser re-sends a reloaded POST with the same key, which ``use_once`` then refuses."""
    key = secrets.token_urlsafe(16)
    request.session[SESSION_ONCE] = [*request.session.get(SESSION_ONCE, [])[-(_ONCE_KEPT - 1):], key]
    return key


def use_once(request: Request, key: str | None) -> bool:
    """Whether ``key`` came from a form this session rendered and has not used yet (it is used now)."""
    kept = list(request.session.get(SESSION_ONCE, []))
    if not key or key not in kept:
        return False
    kept.remove(key)
    request.session[SESSION_ONCE] = kept
    return True


async def csrf_protect(request: Request) -> None:
    """Reject state-changing requests that do not carry the session's CSRF token (403).

    The token comes from the form field ``csrf_token`` or the ``X-CSRF-Token`` header (used by
    the pages' JavaScript). Requests authenticated by a Bearer token skip the check.
    """
    if request.method in SAFE_METHODS or _bearer_token(request) is not None:
        return
    if request.url.path.startswith("/reconcile") and (request.query_params.get("token")
                                                      or not request.session.get(SESSION_USER)):
        # With ?token= the reconciliation service authenticates by that token alone, never by cookie;
        # with neither token nor session it answers 401 "needs an API token", which is the news.
        return
    expected = request.session.get(SESSION_CSRF)
    sent = request.headers.get("x-csrf-token")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            # The form is parsed once, here, for the route too: an entity holding a thousand values
            # posts more fields than Starlette's default of 1,000 (the body size stays limited).
            form = await request.form(max_fields=MAX_FORM_FIELDS)
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        content_type = request.headers.get("content-type", "")
        form_sent: list[tuple[str, str]] = []
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form(max_fields=MAX_FORM_FIELDS)
            # Never a password (a sign-in or new-user form sent with a stale token) nor a token.
            form_sent = [(k, v) for k, v in form.multi_items()
                         if isinstance(v, str) and v.strip() and k not in ("csrf_token", "version")
                         and not any(secret in k.lower() for secret in ("password", "token", "secret"))]
        raise FormRefused(signed_out=not request.session.get(SESSION_USER), sent=form_sent)


async def posted_form(request: Request) -> FormData:
    """The posted form, read on the event loop so that the route itself can be a plain function.

    FastAPI runs plain routes in its thread pool: a save waiting for SQLite's write lock (while an
    import runs) then holds up its own request only, not every page of the server. The form is
    parsed once per request (Starlette keeps it): csrf_protect may have read it already."""
    return await request.form(max_fields=MAX_FORM_FIELDS)


def flash(request: Request, message: str, level: str = "info") -> None:
    """A message shown once on the next page (after a redirect).

    A sentence ending in a name or message that ends its own sentence ('S.A. de C.V.', 'Jose A.') keeps
    one full stop."""
    if message.endswith("..") and not message.endswith("..."):
        message = message[:-1]
    request.session.setdefault("flash", []).append({"level": level, "text": message})
    request.session["flash"] = request.session["flash"]


def pop_flashes(request: Request) -> list[dict]:
    return request.session.pop("flash", []) if "flash" in request.session else []


def referring_page(request: Request) -> str | None:
    """The page of this site the request came from (path and query), for an error page's way back.

    Only a same-site Referer counts, and never the very page that failed (a reload of it would fail again).
    """
    referer = urlparse(request.headers.get("referer", ""))
    if referer.scheme not in ("http", "https") or referer.netloc != request.url.netloc:
        return None
    if not referer.path.startswith("/") or referer.path.startswith("//"):
        return None
    back = referer.path + (f"?{referer.query}" if referer.query else "")
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return None if request.method == "GET" and back == here else back


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.autoescape = True
templates.env.globals.update(
    csrf_token=csrf_token,
    registry=registry,
    pop_flashes=pop_flashes,
    explanation_view=explanation_view,
)


def _actor_of(request: Request) -> Actor | None:
    return getattr(request.state, "actor", None)


templates.env.globals["actor_of"] = _actor_of
templates.env.filters["page_label"] = page_label


def _view_url(citation) -> str | None:
    """Where a citation's source file opens in the browser, at the cited page of a PDF; None when the source
    has no file shown inline (an HTML capture, a URL only)."""
    source = getattr(citation, "source", None)
    if source is None or not getattr(source, "sha256", None) or not shown_inline(source.media_type):
        return None
    page = pdf_page(getattr(citation, "page", None)) if source.media_type == "application/pdf" else None
    return f"/sources/{source.id}/view" + (f"#page={page}" if page else "")


templates.env.filters["view_url"] = _view_url
templates.env.filters["opens_inline"] = shown_inline
