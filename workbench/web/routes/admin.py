"""Admin pages: users, roles, enabling and disabling accounts, password resets, API tokens (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from workbench.schema import ValidationError
from workbench.store import users
from workbench.store.entities import NotFound
from workbench.store.permissions import ROLES, Actor
from workbench.web.deps import (
    RowId,
    flash,
    form_once,
    get_session,
    posted_form,
    require_role,
    templates,
    use_once,
)
from workbench.web.forms import form_value

router = APIRouter(prefix="/admin", include_in_schema=False)
_admin_role = require_role("admin")


def admin_only(actor: Actor = Depends(_admin_role)) -> Actor:
    """Admins, signed in: the services refuse administration by API token too, but no admin page,
    nor its one-time keys, should serve a token at all (store.permissions.NOT_BY_TOKEN)."""
    if actor.via_token:
        raise HTTPException(status_code=403, detail="an API token cannot be used for user administration: sign "
                                                    f"in as {actor.username}, or use `workbench users` on the server")
    return actor


def _page(request: Request, session: Session, actor: Actor, errors=None, values=None, status: int = 200):
    return templates.TemplateResponse(request, "admin/users.html", {
        "users": users.list_users(session, actor), "roles": ROLES, "errors": errors or {},
        "values": values or {}, "me": actor.username,
    }, status_code=status)


@router.get("/users")
def user_list(request: Request, actor: Actor = Depends(admin_only), session: Session = Depends(get_session)):
    return _page(request, session, actor)


@router.post("/users")
def user_add(request: Request, actor: Actor = Depends(admin_only), session: Session = Depends(get_session),
             form: FormData = Depends(posted_form)):
    values = {"username": form_value(form, "username"), "role": form_value(form, "role")}
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    try:
        users.add_user(session, actor, values["username"], values["role"], password)
    except ValidationError as exc:
        session.rollback()
        return _page(request, session, actor, exc.errors, values, status=422)
    flash(request, f"Added {values['username']} ({values['role']}).")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/role")
def user_role(username: str, request: Request, actor: Actor = Depends(admin_only),
              session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    role = form_value(form, "role")
    try:
        users.set_role(session, actor, username, role)
    except ValidationError as exc:
        session.rollback()
        return _page(request, session, actor, {f"role:{username}": sum(exc.errors.values(), [])}, status=422)
    flash(request, f"{username} is now {role}.")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/active")
def user_active(username: str, request: Request, actor: Actor = Depends(admin_only),
                session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    active = form_value(form, "active") == "1"
    try:
        revoked = users.set_active(session, actor, username, active)
    except ValidationError as exc:
        session.rollback()
        return _page(request, session, actor, {f"active:{username}": sum(exc.errors.values(), [])}, status=422)
    if active:
        flash(request, f"{username} is enabled. API tokens revoked when they were disabled stay revoked: create a "
                       "new one on their API tokens page if they need one.")
    else:
        tokens = (f"revoked {revoked} API token{'' if revoked == 1 else 's'} for good (enabling {username} again "
                  "does not bring a token back)" if revoked else "no API token to revoke")
        flash(request, f"{username} is disabled and signed out everywhere; {tokens}.")
    return RedirectResponse("/admin/users", status_code=303)


# ---- password reset --------------------------------------------------------------------------------

def _password_page(request: Request, actor: Actor, username: str, change: users.PasswordChange | None = None,
                   errors=None, status: int = 200):
    response = templates.TemplateResponse(request, "admin/password.html", {
        "username": username, "change": change, "errors": errors or {}, "own": username == actor.username,
        "once": form_once(request),
    }, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # a new password is shown once: no copy in any cache
    return response


@router.get("/users/{username}/password")
def password_reset_page(username: str, request: Request, actor: Actor = Depends(admin_only),
                        session: Session = Depends(get_session)):
    """The reset is a page of its own, with one button: a click on the users page must not reset anyone.
    An admin's own password is changed on the account page, which asks for the current one."""
    if username == actor.username:
        return RedirectResponse("/account/password", status_code=303)
    if users.get_user(session, username) is None:
        raise NotFound(f"no user {username!r}")
    return _password_page(request, actor, username)


@router.post("/users/{username}/password")
def password_reset(username: str, request: Request, actor: Actor = Depends(admin_only),
                   session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    """Show the generated password on the answer itself, never in a redirect's address or a flash (the
    cookie is signed, not encrypted); a reload would post again and reset again, which the one-time key stops."""
    if not use_once(request, form_value(form, "once")):
        return _password_page(request, actor, username, status=409, errors={"once": [(
            "this form was already sent (the page was reloaded, or opened long ago): the password was not reset "
            "again; the one generated then was shown once. Reset it again with this form if needed")]})
    try:
        change = users.reset_password(session, actor, username)
    except ValidationError as exc:
        session.rollback()
        return _password_page(request, actor, username, errors=exc.errors, status=422)
    return _password_page(request, actor, username, change=change)


# ---- API tokens --------------------------------------------------------------------------------

def tokens_page(request: Request, session: Session, actor: Actor, username: str, new_token: str | None = None,
                errors=None, label: str = "", status: int = 200, own: bool = False):
    """A user's tokens, on the admin page (``own`` False) or on the user's own account page."""
    response = templates.TemplateResponse(request, "admin/tokens.html", {
        "username": username, "tokens": users.list_tokens(session, actor, username), "new_token": new_token,
        "errors": errors or {}, "label": label, "once": form_once(request), "own": own,
        "base": "/account/tokens" if own else f"/admin/users/{username}/tokens",
        "can_create": users.may_create_token(actor, username),
    }, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # a new token is shown once: no copy in any cache
    return response


@router.get("/users/{username}/tokens")
def token_list(username: str, request: Request, actor: Actor = Depends(admin_only),
               session: Session = Depends(get_session)):
    return tokens_page(request, session, actor, username)


@router.post("/users/{username}/tokens")
def token_create(username: str, request: Request, actor: Actor = Depends(admin_only),
                 session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    """Show the new token on the answer itself: a flash would carry it in the (signed, not encrypted) cookie.
    So the answer is not a redirect, and a reload would post the form again: its one-time key stops that."""
    label = form_value(form, "label")
    if not use_once(request, form_value(form, "once")):
        return tokens_page(request, session, actor, username, label=label, status=409, errors={
            "label": ["this form was already sent (the page was reloaded, or opened long ago): no new token was "
                      "created; the one created then was shown once. Create another with this form if needed"]})
    try:
        token = users.create_token(session, actor, label, username)
    except ValidationError as exc:
        session.rollback()
        return tokens_page(request, session, actor, username, errors=exc.errors, label=label, status=422)
    return tokens_page(request, session, actor, username, new_token=token, status=201)


@router.post("/users/{username}/tokens/{token_id}/revoke")
def token_revoke(username: str, token_id: RowId, request: Request, actor: Actor = Depends(admin_only),
                 session: Session = Depends(get_session)):
    row = users.revoke_token(session, actor, username, token_id)
    flash(request, f"Revoked token {row.id} ({row.label}) of {username}: scripts using it now get 401.")
    return RedirectResponse(f"/admin/users/{username}/tokens", status_code=303)
