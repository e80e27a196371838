"""The search page: fuzzy search over every name and alias, filtered by kind, state, topic and sanction status."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from workbench.schema import ValidationError, registry
from workbench.store.permissions import Actor
from workbench.web import readmodels
from workbench.web.deps import current_actor, get_session, templates
from workbench.web.engines import EngineMissing
from workbench.web.forms import named_as_sent

router = APIRouter(include_in_schema=False)
STATUSES = {"designated": "Designated (active sanction)", "delisted": "Delisted only", "none": "Not sanctioned"}
RESULTS = 50  # the best matches shown; the page says when there may be more


@router.get("/search")
def search_page(request: Request, q: str = "", kind: str = "", state: str = "", topic: str = "", sanction: str = "",
                actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    reg = registry()
    if kind:
        reg.entity_kind(kind)
    # An unknown filter would be ignored or filter everything away, either way looking like an answer.
    if sanction and sanction not in STATUSES:
        raise ValidationError({"sanction": [f"unknown sanction status {sanction!r}: choose one of "
                                            + ", ".join(STATUSES)]})
    default_kinds = reg.default_kinds()  # what a search without a kind covers (readmodels.search)
    other_kinds = [k.label for k in reg.concrete_kinds() if k.name not in default_kinds]
    rows, outside, problem = [], 0, None
    if q.strip():
        try:
            with named_as_sent({"q": "name"}):  # the page names the field as its form does: 'Name'
                found = readmodels.search(session, q, kind=kind or None, state=state or None, topic=topic or None,
                                          sanction=sanction or None, limit=RESULTS)
            rows, outside = found.rows, found.outside_filters
        except EngineMissing as exc:
            problem = f"Search is not available: {exc}"
    return templates.TemplateResponse(request, "search.html", {
        "q": q, "searched": bool(q.strip()), "more": len(rows) >= RESULTS, "kind": kind, "state": state,
        "topic": topic, "sanction": sanction, "rows": rows, "outside_filters": outside,
        "other_kinds": other_kinds, "any_kind": "Any but " + ", ".join(other_kinds) if other_kinds else "Any",
        "problem": problem, "kinds": [k for k in reg.entity_kinds.values()],
        "states": readmodels.territories(session), "topics": reg.vocabularies["topics"], "statuses": STATUSES,
    })
