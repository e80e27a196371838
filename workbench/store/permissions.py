"""Who may do what. Enforced in the domain services, so every entry point (web, API, CLI) obeys it.

Roles are part of the security model, not of the data model, so they are defined here; their
labels for display come from ``schema/vocabularies.yml``.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Actor:
    username: str
    role: str

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, frozenset())


SYSTEM = Actor("system", "admin")


def require(actor: Actor, permission: str, what: str = "") -> None:
    if not actor.can(permission):
        action = f" to {what}" if what else ""
        raise PermissionDenied(f"{actor.username} ({actor.role}) is not allowed{action}: needs '{permission}' permission")
