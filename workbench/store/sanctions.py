"""Whether an entry is designated: read from the Sanction records linked to it (SanctionOf), for pages, the API
and screening alike, so a delisted entry reads as such wherever it is shown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.store.models import Entity, Link


def sanction_active(sanction: Entity) -> bool:
    return "delisted" not in [s.lower() for s in sanction.properties.get("status", [])]


def sanctions_of(session: Session, entity_ids: Iterable[str] | None) -> dict[str, list[Entity]]:
    """Sanction entities designating each of the given entities (via SanctionOf links); ``None``: every entry
    a Sanction record names (a screened roll's hits are looked up in them)."""
    query = select(Link.target_id, Entity).join(Entity, Entity.id == Link.source_id).where(Link.kind == "SanctionOf")
    if entity_ids is not None:
        ids = list(set(entity_ids))
        if not ids:
            return {}
        query = query.where(Link.target_id.in_(ids))
    result: dict[str, list[Entity]] = defaultdict(list)
    for target_id, sanction in session.execute(query):
        result[target_id].append(sanction)
    return result


def sanction_status(sanctions: list[Entity]) -> str:
    """'designated', 'delisted' or 'none' for display and filtering."""
    if not sanctions:
        return "none"
    return "designated" if any(sanction_active(s) for s in sanctions) else "delisted"


def every_status(session: Session) -> dict[str, str]:
    """The status of every entry a Sanction record names ('designated' or 'delisted'; an entry absent here has
    none), in one query."""
    return {entity_id: sanction_status(sanctions) for entity_id, sanctions in sanctions_of(session, None).items()}
