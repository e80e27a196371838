"""The signed-in user's own account (every role): changing their password, and their API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from workbench.schema import ValidationError
from workbench.store import users
from workbench.store.permissions import Actor
from workbench.web.deps import (
    SESSION_EPOCH,
    RowId,
    current_actor,
    flash,
    get_session,
    posted_form,
    templates,
    use_once,
)
from workbench.web.forms import form_value

router = APIRouter(prefix="/account", include_in_schema=False)


def signed_in(actor: Actor = Depends(current_actor)) -> Actor:
    """A person signed in: an API token (in a script, or in a web-server log) never changes a password."""
    if actor.via_token:
        raise HTTPException(status_code=403, detail="an API token cannot change a password: sign in as "
                                                    f"{actor.username} to do it")
    return actor


def _secret(form: FormData, name: str) -> str:
    """A password field as typed: never stripped (spaces may be part of it), never echoed back."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _page(request: Request, actor: Actor, errors=None, status: int = 200, headers=None):
    return templates.TemplateResponse(request, "account/password.html", {
        "username": actor.username, "errors": errors or {}, "min_length": users.MIN_PASSWORD,
    }, status_code=status, headers=headers)


@router.get("/password")
def password_page(request: Request, actor: Actor = Depends(signed_in)):
    return _page(request, actor)


@router.post("/password")
def password_change(request: Request, actor: Actor = Depends(signed_in), session: Session = Depends(get_session),
                    form: FormData = Depends(posted_form)):
    """Change one's own password. A wrong current password counts as a failed sign-in of the user from this
    address (the sign-in throttle's own count): a session left open must not be a way to guess the password
    faster than the sign-in page allows. The new one is checked first, so a mistyped repetition costs no
    attempt. Every other session of the user ends; this one is carried on to the new session generation."""
    current, new = _secret(form, "current_password"), _secret(form, "new_password")
    try:
        users.check_new_password(new, _secret(form, "new_password_again"))
    except ValidationError as exc:
        return _page(request, actor, exc.errors, status=422)
    throttle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.attempt(actor.username, address)
    if wait:
        return _page(request, actor, {"current_password": [
            f"too many wrong passwords: nothing was changed. Try again in {wait} seconds"]},
            status=429, headers={"Retry-After": str(wait)})
    try:
        change = users.change_own_password(session, actor, current, new)
    except ValidationError as exc:  # a WrongPassword among them: its attempt stays counted against the name
        session.rollback()
        return _page(request, actor, exc.errors, status=422)
    throttle.succeeded(actor.username, address)
    request.session[SESSION_EPOCH] = change.session_epoch  # this session stays signed in
    tokens = change.live_tokens
    flash(request, "Your password is changed. Every other session of yours (other browsers, other devices) is "
                   "signed out." + (f" Your {tokens} API token{' still works' if tokens == 1 else 's still work'}: "
                                    f"revoke {'it' if tokens == 1 else 'them'} under API tokens if your old password "
                                    "leaked." if tokens else ""))
    return RedirectResponse("/account/password", status_code=303)


# ---- API tokens ------------------------------------------------------------------------------------

def _tokens_page(request: Request, session: Session, actor: Actor, **kwargs):
    from workbench.web.routes.admin import tokens_page

    return tokens_page(request, session, actor, actor.username, own=True, **kwargs)


@router.get("/tokens")
def token_list(request: Request, actor: Actor = Depends(signed_in), session: Session = Depends(get_session)):
    """Every user's own tokens: a token acts as its user, so its user is the one who makes it (for OpenRefine's
    reconciliation service, or a script)."""
    return _tokens_page(request, session, actor)


@router.post("/tokens")
def token_create(request: Request, actor: Actor = Depends(signed_in), session: Session = Depends(get_session),
                 form: FormData = Depends(posted_form)):
    """The new token is shown on the answer itself, never in a flash (the cookie is signed, not encrypted); a
    reload would post again, which the one-time key stops."""
    label = form_value(form, "label")
    if not use_once(request, form_value(form, "once")):
        return _tokens_page(request, session, actor, label=label, status=409, errors={
            "label": ["this form was already sent (the page was reloaded, or opened long ago): no new token was "
                      "created; the one created then was shown once. Create another with this form if needed"]})
    try:
        token = users.create_token(session, actor, label)
    except ValidationError as exc:
        session.rollback()
        return _tokens_page(request, session, actor, errors=exc.errors, label=label, status=422)
    return _tokens_page(request, session, actor, new_token=token, status=201)


@router.post("/tokens/{token_id}/revoke")
def token_revoke(token_id: RowId, request: Request, actor: Actor = Depends(signed_in),
                 session: Session = Depends(get_session)):
    row = users.revoke_token(session, actor, actor.username, token_id)
    flash(request, f"Revoked token {row.id} ({row.label}): scripts using it now get 401.")
    return RedirectResponse("/account/tokens", status_code=303)
