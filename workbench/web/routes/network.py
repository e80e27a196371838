"""The network view: a Cytoscape.js page whose data comes from the graph layer's JSON."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from workbench.graph.export import FORMATS, MEDIA_TYPES, export_bytes
from workbench.schema import registry
from workbench.store import entities as store
from workbench.store.permissions import Actor
from workbench.text import filename_safe
from workbench.web import readmodels
from workbench.web.deps import current_actor, get_session, templates

router = APIRouter(include_in_schema=False)


@router.get("/entities/{entity_id}/network")
def network_page(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session)):
    entity = store.get_entity(session, entity_id)
    return templates.TemplateResponse(request, "network.html", {
        "entity": entity, "link_kinds": list(registry().link_kinds.values()), "formats": FORMAT_LABELS,
        "depths": EXPORT_DEPTHS})


EXPORT_DEPTHS = (1, 2, 3)  # as the diagram's own neighbourhoods (/api/graph); the whole network: `workbench graph export`
FORMAT_LABELS = {"graphml": "GraphML", "gexf": "GEXF", "json": "JSON (node-link)"}


@router.get("/entities/{entity_id}/network/export")
def network_export(entity_id: str, format: str = Query("graphml", pattern="^(" + "|".join(FORMATS) + ")$"),
                   depth: int = Query(1, ge=1, le=max(EXPORT_DEPTHS)), actor: Actor = Depends(current_actor),
                   session: Session = Depends(get_session)):
    """The neighbourhood as a file for Gephi, yEd or Cytoscape desktop (as `workbench graph export --around`)."""
    # An entry merged into another is exported as the entry kept, as its network page draws it.
    entity_id = readmodels.surviving_entity(session, store.get_entity(session, entity_id)).id
    data = export_bytes(session, format, around=entity_id, depth=depth)
    return Response(data, media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="network-{filename_safe(entity_id)}-depth{depth}.{format}"'})


@router.get("/entities/{entity_id}/path")
def path_page(entity_id: str, request: Request, to: str = "", to_name: str = "",
              max_length: int = Query(6, ge=1, le=max(readmodels.PATH_LENGTHS)),
              actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """How this entity is connected to another one the user names (the CLI's `graph path A B`), as a page that
    works without the diagram: each link of the chain with its sources."""
    max_length = readmodels.path_length(max_length)
    view = readmodels.path_view(session, entity_id, to, to_name.strip(), max_length)
    return templates.TemplateResponse(request, "path.html", {
        "view": view, "to_value": to_name or (view.target.caption if view.target else ""), "max_length": max_length,
        "lengths": readmodels.PATH_LENGTHS})
