"""Sign-in, sign-out, the home page and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from workbench.store import entities as store
from workbench.store import users
from workbench.store.permissions import Actor
from workbench.web.deps import (
    SESSION_CSRF,
    SESSION_EPOCH,
    SESSION_USER,
    current_actor,
    get_session,
    optional_actor,
    posted_form,
    start_session,
    templates,
)
from workbench.web.forms import form_value, same_site_path

router = APIRouter()


@router.get("/health", include_in_schema=False)
def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/", actor: Actor | None = Depends(optional_actor)):
    if actor is not None:
        return RedirectResponse(same_site_path(next), status_code=303)
    return templates.TemplateResponse(request, "login.html", {"next": same_site_path(next), "error": None,
                                                              "username": ""})


@router.post("/login", include_in_schema=False)
def login(request: Request, session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    username = form_value(form, "username")
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    target = same_site_path(form_value(form, "next"))
    throttle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.attempt(username, address)
    if wait:
        return templates.TemplateResponse(
            request, "login.html",
            {"next": target, "username": username,
             "error": f"Too many failed sign-in attempts. Try again in {wait} seconds."},
            status_code=429, headers={"Retry-After": str(wait)})
    # argon2 costs ~0.1 s of CPU by design (unknown names too): a plain route, so in the thread pool,
    # off the event loop, or a stream of sign-in attempts would stall every other page.
    actor = users.authenticate(session, username, password)
    if actor is None:
        return templates.TemplateResponse(
            request, "login.html",
            {"next": target, "username": username, "error": "Unknown user name or wrong password."},
            status_code=401)
    throttle.succeeded(username, address)
    start_session(request, actor.username, users.session_epoch(session, actor.username))
    return RedirectResponse(target, status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_session)):
    """Sign out here and everywhere: the cookie is signed, not stored, so a copy of it would otherwise
    keep working until it expires; raising the user's session generation ends every copy."""
    if actor is not None and not getattr(request.state, "via_token", False):
        users.sign_out(session, actor.username, request.session.get(SESSION_EPOCH))
    request.session.pop(SESSION_USER, None)
    request.session.pop(SESSION_CSRF, None)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", include_in_schema=False)
def home(request: Request, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    from workbench.web import readmodels

    jobs = readmodels.list_jobs(session, limit=5)
    return templates.TemplateResponse(request, "home.html", {
        "stats": store.stats(session),
        "jobs": readmodels.job_rows(session, jobs),
        "queues": readmodels.work_queues(session, actor),
        "priorities": readmodels.officials_by_state(session),
        "changes": readmodels.recent_changes(session),
    })
