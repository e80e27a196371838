"""Who may do what. Enforced in the domain services, so every entry point (web, API, CLI) obeys it.

Roles are part of the security model, not of the data model, so they are defined here; their
labels for display come from ``schema/vocabularies.yml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ROLES = ("researcher", "reviewer", "admin")

# permission -> roles holding it
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "edit": frozenset(ROLES),  # entities, links, sources, citations, notes, imports, screening
    "review": frozenset({"reviewer"}),  # approve / return / reject dossiers
    # Withdraw someone else's dossier. Withdrawal is final, so besides the dossier's own authors
    # (workbench.dossiers.workflow.may_withdraw) only reviewers and admins may make it.
    "withdraw_any": frozenset({"reviewer", "admin"}),
    "admin": frozenset({"admin"}),  # users, roles, tokens of others
}


class PermissionDenied(Exception):
    """The actor's role does not allow the action."""


# What an API token never carries, whatever its user's role. A token lives in scripts and in
# OpenRefine's service address (and so in web-server logs): one leaked must not create users, change
# roles or make tokens. Administration is done signed in, or with `workbench users` on the server.
NOT_BY_TOKEN = frozenset({"admin"})


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    via_token: bool = False  # authenticated by an API token rather than a signed-in session
    # When the API token it used was made: whoever held the password then made it (the four-eyes rule asks who had
    # set the password at that time, users.credentials_set_by). None: a signed-in session, which every password
    # change ends, so the password in force now is the one it signed in with.
    credential_since: datetime | None = None
    # The server's operator at its console (`workbench ...`), who holds the database itself: only they make a
    # token for someone else. An admin on the web manages users but never acts as one of them.
    operator: bool = False

    def can(self, permission: str) -> bool:
        if self.via_token and permission in NOT_BY_TOKEN:
            return False
        return self.role in PERMISSIONS.get(permission, frozenset())


SYSTEM = Actor("system", "admin", operator=True)


def require(actor: Actor, permission: str, what: str = "") -> None:
    if not actor.can(permission):
        action = f" to {what}" if what else ""
        if actor.via_token and permission in NOT_BY_TOKEN and actor.role in PERMISSIONS.get(permission, ()):
            raise PermissionDenied(f"an API token cannot be used{action}: sign in as {actor.username} to do it, "
                                   "or use `workbench users` on the server")
        raise PermissionDenied(f"{actor.username} ({actor.role}) is not allowed{action}: needs '{permission}' permission")
