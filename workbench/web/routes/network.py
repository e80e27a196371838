"""The network view: a Cytoscape.js page whose data comes from the graph layer's JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from workbench.schema import registry
from workbench.store import entities as store
from workbench.store.permissions import Actor
from workbench.web.deps import current_actor, get_session, templates

router = APIRouter(include_in_schema=False)


@router.get("/entities/{entity_id}/network")
def network_page(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session)):
    entity = store.get_entity(session, entity_id)
    return templates.TemplateResponse(request, "network.html", {
        "entity": entity, "link_kinds": list(registry().link_kinds.values())})
