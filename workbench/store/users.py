"""Users, roles, password hashes (argon2 via pwdlib) and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from workbench.schema import ValidationError
from workbench.store import audit
from workbench.store.entities import MAX_ROW_ID, NotFound
from workbench.store.models import ApiToken, AuditEntry, User, as_utc
from workbench.store.permissions import ROLES, Actor, PermissionDenied, require

_hasher = PasswordHash.recommended()
# Verifying against this keeps sign-in time the same whether or not the user exists.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte "password" is a mistake or an attack
MAX_USERNAME = 80  # the users.username column
MAX_TOKEN_LABEL = 120  # the api_tokens.label column


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationError({"role": [f"unknown role {role!r} (use {', '.join(ROLES)})"]})


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError({"password": [f"a password needs at least {MIN_PASSWORD} characters"]})
    if len(password) > MAX_PASSWORD:
        raise ValidationError({"password": [f"a password has at most {MAX_PASSWORD} characters"]})


def check_new_password(password: str, repeated: str) -> None:
    """A new password typed twice on a form: the same rules as everywhere (``_check_password``), and the two
    the same. Cheap, so a form checks it before a current password is verified (and counted, see
    web.routes.account): a mistyped repetition does not use up the user's sign-in attempts."""
    _check_password(password)
    if password != repeated:
        raise ValidationError({"new_password_again": ["the two new passwords differ: type the same one twice"]})


class WrongPassword(ValidationError):
    """The current password given to change it was wrong: nothing changed. The web page counts it as a failed
    sign-in (a stolen session must not be a way round the sign-in throttle to guess the password)."""


@dataclass(frozen=True)
class PasswordChange:
    """What a password change did, for the one who made it to be told."""

    session_epoch: int  # the user's new session generation: every older session cookie is signed out
    live_tokens: int  # API tokens that still work (a password change leaves them alone: scripts keep running)
    password: str | None = None  # a generated password (reset_password), to show once; never stored in clear


def _check_username(username: str) -> None:
    """The column holds 80 characters: a longer name is a message here, not a database error (PostgreSQL)."""
    # ASCII only: a Cyrillic 'а' makes an 'аdmin' that reads as 'admin' in the user list and the audit log.
    if not username or not username.isascii() or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValidationError({"username": ["use the letters a-z, digits, '.', '-' or '_'"]})
    if len(username) > MAX_USERNAME:
        raise ValidationError({"username": [f"at most {MAX_USERNAME} characters (this one has {len(username)})"]})


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True)))


def _existing_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def list_users(session: Session, actor: Actor) -> list[User]:
    require(actor, "admin", "list users")
    return list(session.execute(select(User).order_by(User.username)).scalars())


def add_user(session: Session, actor: Actor, username: str, role: str, password: str) -> User:
    require(actor, "admin", "add users")
    username = (username or "").strip()
    _check_username(username)
    _check_role(role)
    _check_password(password)
    password_hash = hash_password(password)  # ~0.1 s: before the lock, which every other writer waits for
    # Checked after the lock: two adds of one name at once both found it free, and the second died on
    # the unique index with a traceback instead of this message.
    audit.begin_change(session)
    # 'Rita' beside 'rita' would read as one person in the audit log: names are compared without case.
    alike = session.scalar(select(User.username).where(func.lower(User.username) == username.lower()))
    if alike is not None:
        case = "" if alike == username else " (user names must differ by more than upper and lower case)"
        raise ValidationError({"username": [f"user {alike!r} already exists{case}"]})
    user = User(username=username, role=role, password_hash=password_hash)
    session.add(user)
    session.flush()
    audit.record(session, actor.username, "user.create", "user", username, None, {"role": role})
    return user


def _end_sessions(user: User) -> None:
    """Sign the user out of every browser session (their cookies carry an older generation)."""
    user.session_epoch = (user.session_epoch or 0) + 1


def set_role(session: Session, actor: Actor, username: str, role: str) -> User:
    """A new role ends the user's sessions: a copied cookie must not carry the old one's rights on.

    The log's lock is taken before the admins are counted: two admins demoting each other at once each
    counted two admins and both passed (PostgreSQL), leaving none."""
    require(actor, "admin", "change roles")
    _check_role(role)
    audit.begin_change(session)
    user = _existing_user(session, username)
    if user.role == "admin" and role != "admin" and user.active and _active_admins(session) <= 1:
        raise ValidationError({"role": [f"{username} is the only active admin: make another admin first"]})
    before = {"role": user.role, "active": user.active, "session_epoch": user.session_epoch}
    if user.role != role:
        _end_sessions(user)
    user.role = role
    session.flush()
    audit.record(session, actor.username, "user.role", "user", username, before,
                 {"role": role, "active": user.active, "session_epoch": user.session_epoch})
    return user


def set_active(session: Session, actor: Actor, username: str, active: bool) -> int:
    """Disable or enable a user; how many API tokens the disable revoked (0 for an enable).

    A disable revokes the user's tokens for good (recorded as ``token.revoke``): an admin disabling a
    departed user expects their scripts dead, and an enable used to bring every old token back. After an
    enable the user needs a new token. The log's lock is taken before the admins are counted (see set_role:
    two admins disabling each other at once left no active admin)."""
    require(actor, "admin", "enable or disable users")
    if username == actor.username and not active:
        raise ValidationError({"active": ["you cannot disable your own account"]})
    audit.begin_change(session)
    user = _existing_user(session, username)
    if not active and user.active and user.role == "admin" and _active_admins(session) <= 1:
        # The CLI acts under a name that is no user, so "not yourself" alone does not keep an admin.
        raise ValidationError({"active": [f"{username} is the only active admin: make another admin first"]})
    before = {"role": user.role, "active": user.active, "session_epoch": user.session_epoch}
    if user.active != active:  # a cookie from before a disable stays dead after the enable
        _end_sessions(user)
    user.active = active
    session.flush()
    audit.record(session, actor.username, "user.active", "user", username, before,
                 {"role": user.role, "active": active, "session_epoch": user.session_epoch})
    if active:
        return 0
    revoked = _revoke_live_tokens(session, user)  # also any made while the user was disabled
    if revoked:
        audit.record(session, actor.username, "token.revoke", "user", username, None,
                     {"revoked": revoked, "reason": "user disabled"})
    return revoked


def set_password(session: Session, actor: Actor, username: str, password: str) -> PasswordChange:
    """Set a user's password (an admin's reset from the CLI): their sessions end; their API tokens keep working,
    and ``live_tokens`` says how many, so the admin can be told to revoke them if the password leaked."""
    if actor.username != username:
        require(actor, "admin", "reset other users' passwords")
    _check_password(password)
    password_hash = hash_password(password)  # before the lock (see add_user)
    audit.begin_change(session)
    return _store_password(session, actor, _existing_user(session, username), password_hash)


def change_own_password(session: Session, actor: Actor, current: str, password: str) -> PasswordChange:
    """A signed-in user changes their own password, giving the current one (a session left open on a shared
    computer must not be enough to take the account over). A wrong current password raises WrongPassword
    and changes nothing. Both argon2 runs (~0.1 s each) happen before the log's lock, which every writer
    waits for; the hash verified is compared again under the lock, so a reset made meanwhile is not undone."""
    if actor.via_token:  # a leaked token must not become the account
        raise PermissionDenied("an API token cannot change a password: sign in to do it")
    _check_password(password)
    user = _existing_user(session, actor.username)
    verified = user.password_hash
    if not _hasher.verify(current or "", verified):
        raise WrongPassword({"current_password": ["that is not your current password: nothing was changed"]})
    password_hash = hash_password(password)
    audit.begin_change(session)
    user = _existing_user(session, actor.username)
    if user.password_hash != verified:
        raise ValidationError({"current_password": [("your password was changed at the same moment (by an admin?): "
                                                     "nothing was changed here; sign in again with the new one")]})
    return _store_password(session, actor, user, password_hash)


def reset_password(session: Session, actor: Actor, username: str) -> PasswordChange:
    """An admin resets another user's password to one the workbench generates, returned once in
    ``password`` (only its hash is stored; the audit entry holds neither). The user's sessions end.
    Admins change their own on the account page, which asks for the current password: a session left open
    must not let anyone set an admin's password without knowing it."""
    require(actor, "admin", "reset other users' passwords")
    if username == actor.username:
        raise ValidationError({"username": [("change your own password on your account page (/account/password), "
                                             "which asks for the current one")]})
    password = random_password()
    password_hash = hash_password(password)
    audit.begin_change(session)
    change = _store_password(session, actor, _existing_user(session, username), password_hash, generated=True)
    return PasswordChange(change.session_epoch, change.live_tokens, password)


def _store_password(session: Session, actor: Actor, user: User, password_hash: str,
                    generated: bool = False) -> PasswordChange:
    """Store a new password hash and end the user's sessions (whoever held the old password, or a cookie
    signed in with it, is out). The audit entry says so without the password or its hash."""
    before = {"session_epoch": user.session_epoch}
    user.password_hash = password_hash
    _end_sessions(user)
    session.flush()
    after = {"session_epoch": user.session_epoch} | ({"generated": True} if generated else {})
    audit.record(session, actor.username, "user.password", "user", user.username, before, after)
    return PasswordChange(user.session_epoch, live_tokens(session, user))


@dataclass(frozen=True)
class CredentialsSetBy:
    by: str  # the user who set the password
    at: datetime
    changed_since: bool  # the user changed it since (with the password ``by`` had set)


def credentials_set_by(session: Session, username: str, as_of: datetime | None = None) -> CredentialsSetBy | None:
    """Who else last set this user's password (an admin adding the account or resetting its password) before
    ``as_of`` (when the API token in use was made; None: now), and when; None when nobody but the user ever did.
    A change the user made since does not clear it: changing a password needs the current one, which whoever
    set it knew, so that person could have made the change too. A later reset by someone else moves it to them,
    for credentials made after it: a token made while the first password was in force was made by whoever held
    it. Only users count: the CLI and the demo loader sign in as nobody. (The four-eyes rule reads it: an admin
    who resets a reviewer's password could sign in, or make a token, as that reviewer.)"""
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.at).where(
            AuditEntry.object_type == "user", AuditEntry.object_id == username,
            AuditEntry.action.in_(("user.create", "user.password"))).order_by(AuditEntry.seq.desc())).all()
    changed_since = False
    for actor, at in rows:
        at = as_utc(at)
        if as_of is not None and at > as_of:
            continue
        if actor == username:
            changed_since = True
        elif get_user(session, actor) is not None:
            return CredentialsSetBy(actor, at, changed_since)
        else:
            return None  # set by the operator (CLI, demo loader): nobody who signs in knew it
    return None


def authenticate(session: Session, username: str, password: str) -> Actor | None:
    """The actor for valid, active credentials; None otherwise (same cost either way)."""
    user = get_user(session, (username or "").strip())
    if user is None or not user.active:
        _hasher.verify(password or "", _DUMMY_HASH)
        return None
    valid, new_hash = _hasher.verify_and_update(password or "", user.password_hash)
    if not valid:
        return None
    if new_hash:
        user.password_hash = new_hash
    return Actor(user.username, user.role)


def session_epoch(session: Session, username: str) -> int:
    """The generation a session cookie issued now carries (see ``actor_for``)."""
    return _existing_user(session, username).session_epoch or 0


def actor_for(session: Session, username: str, epoch: object) -> Actor | None:
    """The actor of a session cookie, or None when the cookie no longer signs anyone in: the user
    is gone or disabled, or the cookie's generation ``epoch`` is not the user's current one (they
    signed out, or their password, role or active state changed since it was issued). A cookie
    without a generation predates them all and is signed out too."""
    user = get_user(session, username)
    if user is None or not user.active:
        return None
    if type(epoch) is not int or epoch != (user.session_epoch or 0):
        return None
    return Actor(user.username, user.role)


def sign_out(session: Session, username: str, epoch: object) -> None:
    """End every session of the user, as signing out of one must (a copied cookie dies with it).

    Only a cookie of the current generation can do so: an old copy, already signed out, cannot sign
    the user out of the sessions opened since. One UPDATE, so two tabs signing out at once both
    succeed; the row's version is left alone (this is no edit an admin could be overwriting)."""
    if type(epoch) is not int:
        return
    session.execute(update(User).where(User.username == username, User.session_epoch == epoch)
                    .values(session_epoch=User.session_epoch + 1)
                    .execution_options(synchronize_session=False))


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require_token_maker(actor: Actor, username: str) -> None:
    """Who may make a token for ``username`` (PermissionDenied otherwise): the user, signed in, or the server's
    operator on the console. A token acts as its user: an admin who could mint one for a reviewer could approve
    their own dossier under the reviewer's name."""
    if actor.via_token:  # a leaked token must not mint another that outlives its revocation
        raise PermissionDenied("an API token cannot create tokens: sign in to do it, or use `workbench users token`")
    if username != actor.username:
        require(actor, "admin", "create tokens for other users")
        if not actor.operator:
            raise PermissionDenied(f"a token acts as its user: only {username} (signed in, under API tokens) or the "
                                   f"server's operator (`workbench users token {username}`) creates one; an admin "
                                   "may list and revoke it")


def may_create_token(actor: Actor, username: str) -> bool:
    """Whether ``actor`` may make a token for ``username`` (what create_token checks, for a page to offer)."""
    try:
        _require_token_maker(actor, username)
    except PermissionDenied:
        return False
    return True


def create_token(session: Session, actor: Actor, label: str, username: str | None = None) -> str:
    """Create an API token; the clear text is returned once and never stored."""
    username = username or actor.username
    _require_token_maker(actor, username)
    label = (label or "").strip() or "token"
    if len(label) > MAX_TOKEN_LABEL:
        raise ValidationError({"label": [f"at most {MAX_TOKEN_LABEL} characters (this one has {len(label)})"]})
    user = _existing_user(session, username)
    token = "wbt_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, label=label, token_hash=_token_digest(token))
    session.add(row)
    session.flush()
    audit.record(session, actor.username, "token.create", "user", username, None, {"label": label, "token_id": row.id})
    return token


def list_tokens(session: Session, actor: Actor, username: str) -> list[ApiToken]:
    """A user's tokens (id, label, dates, revoked), newest first; never the token or its hash."""
    if username != actor.username:
        require(actor, "admin", "list other users' tokens")
    user = _existing_user(session, username)
    return list(session.execute(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).scalars())


def revoke_token(session: Session, actor: Actor, username: str, token_id: int) -> ApiToken:
    """Revoke one token (a leaked script's) and leave the user's others working."""
    if username != actor.username:
        require(actor, "admin", "revoke other users' tokens")
    user = _existing_user(session, username)
    row = session.execute(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
                          ).scalar_one_or_none() if 0 < token_id <= MAX_ROW_ID else None
    if row is None:
        raise NotFound(f"{username} has no token {token_id}")
    if not row.revoked:
        row.revoked = True
        session.flush()
        audit.record(session, actor.username, "token.revoke", "user", username, {"token_id": row.id, "revoked": False},
                     {"token_id": row.id, "label": row.label, "revoked": True})
    return row


TOKEN_USE_RESOLUTION = timedelta(minutes=1)  # how finely a token's "last used" is kept


def actor_for_token(session: Session, token: str) -> Actor | None:
    """The token's user, or None. Its "last used" time moves at most once a minute: each move is a write,
    and OpenRefine sends batch after batch (the caller commits it at once, see web.deps)."""
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _token_digest(token or ""), ApiToken.revoked.is_(False))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    now = datetime.now(UTC)
    last = as_utc(row.last_used_at)
    if last is None or now - last >= TOKEN_USE_RESOLUTION:
        row.last_used_at = now
    return Actor(row.user.username, row.user.role, via_token=True, credential_since=as_utc(row.created_at))


def live_tokens(session: Session, user: User) -> int:
    """How many of the user's API tokens are not revoked."""
    return session.scalar(select(func.count()).select_from(ApiToken)
                          .where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False)))


def _revoke_live_tokens(session: Session, user: User) -> int:
    rows = session.execute(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))).scalars().all()
    for row in rows:
        row.revoked = True
    session.flush()
    return len(rows)


def revoke_tokens(session: Session, actor: Actor, username: str) -> int:
    if username != actor.username:
        require(actor, "admin", "revoke other users' tokens")
    audit.begin_change(session)
    user = _existing_user(session, username)
    revoked = _revoke_live_tokens(session, user)
    audit.record(session, actor.username, "token.revoke", "user", username, None, {"revoked": revoked})
    return revoked


def random_password() -> str:
    return secrets.token_urlsafe(12)
