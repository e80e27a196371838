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


def sanctions_of(session: Session, entity_ids: Iterable[str]) -> dict[str, list[Entity]]:
    """Sanction entities designating each of the given entities (via SanctionOf links)."""
    ids = list(set(entity_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Link.target_id, Entity).join(Entity, Entity.id == Link.source_id)
        .where(Link.kind == "SanctionOf", Link.target_id.in_(ids))
    ).all()
    result: dict[str, list[Entity]] = defaultdict(list)
    for target_id, sanction in rows:
        result[target_id].append(sanction)
    return result


def sanction_status(sanctions: list[Entity]) -> str:
    """'designated', 'delisted' or 'none' for display and filtering."""
    if not sanctions:
        return "none"
    return "designated" if any(sanction_active(s) for s in sanctions) else "delisted"


def every_status(session: Session) -> dict[str, str]:
    """The status of every entry a Sanction record names ('designated' or 'delisted'; an entry absent here
    has none), in one query: a screened roll's hits are looked up in it."""
    active: dict[str, bool] = {}
    for target_id, sanction in session.execute(
            select(Link.target_id, Entity).join(Entity, Entity.id == Link.source_id).where(Link.kind == "SanctionOf")):
        active[target_id] = active.get(target_id, False) or sanction_active(sanction)
    return {entity_id: "designated" if listed else "delisted" for entity_id, listed in active.items()}
