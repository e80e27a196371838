"""Entity and link pages: list, view, create and edit forms generated from ``schema/``, notes, citations."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from workbench.labels import country_label
from workbench.schema import Property, ValidationError, registry
from workbench.store import entities as store
from workbench.store.models import Entity
from workbench.store.permissions import Actor
from workbench.web import engines, readmodels
from workbench.web.deps import RowId, current_actor, flash, get_session, posted_form, templates
from workbench.web.forms import (
    conflict_messages,
    fields_for,
    form_value,
    form_version,
    other_errors,
    posted_base,
    properties_from_form,
    same_site_path,
)

router = APIRouter(include_in_schema=False)
DUPLICATE_WARN_SCORE = 0.85


def _flash_warnings(request: Request, warnings: dict[str, list[str]], props: dict[str, Property]) -> None:
    """A save's warnings (a check digit that fails, ...), each named by its property's label."""
    for message in readmodels.labelled_messages(props, warnings):
        flash(request, message, "warning")


# ---- list and view ---------------------------------------------------------------------------

@router.get("/entities")
def entity_list(request: Request, kind: str = "", page: int = 1, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    if kind:
        registry().entity_kind(kind)  # unknown kind -> 422 with the message
    page = readmodels.page_number(page)
    rows, total = readmodels.list_entities(session, kind or None, offset=(page - 1) * readmodels.PAGE_SIZE)
    last = readmodels.last_page(total)
    if page > last:  # past the end: the last page, not an empty one
        page = last
        rows, total = readmodels.list_entities(session, kind or None, offset=(page - 1) * readmodels.PAGE_SIZE)
    statuses = readmodels.sanctions_of(session, [e.id for e in rows])
    return templates.TemplateResponse(request, "entities/list.html", {
        "rows": rows, "total": total, "kind": kind, "page": page, "last": last,
        # A kind's list takes in the kinds under it (companies are organizations), which the home page counts
        # apart: the list says how its total divides, in the home page's numbers.
        "breakdown": readmodels.kind_breakdown(session, kind) if kind else None,
        "status": {e.id: readmodels.badge_status(e, statuses.get(e.id, [])) for e in rows},
        "kinds": list(registry().entity_kinds.values()), "country_label": country_label,
    })


CITE_SOURCES = 200  # sources offered in the cite form at once: the newest, or those matching a search
HISTORY_SHOWN = 100  # changes listed on the page unless the whole history is asked for (?history=all)
CITATIONS_SHOWN = 10  # citations listed per value, link or identifier unless all are asked for (?citations=all)


def entity_view(entity_id: str, request: Request, source_q: str = "", history: str = "", citations: str = "",
                actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """``source_q`` narrows the cite form's sources to those whose title, URL or publisher holds it:
    every screening upload adds a source, and older ones fall off the newest CITE_SOURCES."""
    return _entity_page(request, session, actor, entity_id, source_q, history, all_citations=citations == "all")


def _entity_page(request: Request, session: Session, actor: Actor, entity_id: str, source_q: str = "",
                 history: str = "", cite: dict | None = None, status: int = 200, all_citations: bool = False):
    """The entity page; ``cite``: a refused cite form (what was chosen and typed, and why it was refused)."""
    cite = cite or {}
    page = readmodels.entity_page(session, entity_id, history_limit=None if history == "all" else HISTORY_SHOWN)
    reg = registry()
    kind = reg.entity_kind(page.entity.kind)
    link_kinds = [(lk, d) for lk in reg.link_kinds.values() for d in ("out", "in")
                  if (kind.is_a_any(lk.source) if d == "out" else kind.is_a_any(lk.target))
                  and not (d == "in" and lk.symmetric)]
    return templates.TemplateResponse(request, "entities/view.html", {
        "p": page, "link_kinds": link_kinds, "exhibited": page.exhibited,
        "cite_targets": readmodels.cite_targets(page),
        "sources": readmodels.list_sources(session, source_q.strip() or None, limit=CITE_SOURCES,
                                           keep=cite.get("source_id")),
        "source_q": source_q.strip(), "cite_sources": CITE_SOURCES, "cite": cite,
        "merges": readmodels.merges_into(session, page.entity.id),
        # A merged entry stays as it was, so that the merge can be undone: its page offers no edits.
        "editable": actor.can("edit") and not page.entity.merged_into,
        "citations_shown": None if all_citations else CITATIONS_SHOWN,
    }, status_code=status)


@router.get("/entities/{entity_id}/duplicates")
def entity_duplicates(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
                      session: Session = Depends(get_session)):
    """Possible duplicates of an entry, on their own page: matching every name costs more than
    the entity page should spend on each view."""
    entity = store.get_entity(session, entity_id)
    duplicates = [] if entity.merged_into else engines.find_duplicates(
        session, entity.kind, entity.properties, limit=10, exclude_id=entity.id)
    return templates.TemplateResponse(request, "entities/duplicates.html", {
        "e": entity, "duplicates": [d for d in duplicates if d.score >= DUPLICATE_WARN_SCORE],
        "merges": readmodels.merges_into(session, entity.id),
        "judged": readmodels.judged_pairs(session, entity), "verdict_labels": readmodels.VERDICT_LABELS,
    })


@router.post("/entities/{entity_id}/judge")
def entity_judge(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
                 session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    """Same (merge the other entry into this one), different, or unsure about a possible duplicate."""
    other_id, verdict = form_value(form, "other_id"), form_value(form, "verdict")
    engines.judge_pair(session, actor, entity_id, other_id, verdict)
    other = store.get_entity(session, other_id)
    messages = {"same": f"Merged {other.caption} into this entry; the merge can be undone below.",
                "different": f"Recorded: {other.caption} is a different entry.",
                "unsure": f"Recorded: unsure whether {other.caption} is the same."}
    flash(request, messages.get(verdict, "Recorded."))
    return RedirectResponse(f"/entities/{entity_id}/duplicates", status_code=303)


@router.post("/merges/{merge_id}/undo")
def merge_undo(merge_id: RowId, request: Request, actor: Actor = Depends(current_actor),
               session: Session = Depends(get_session)):
    record = engines.undo_merge(session, actor, merge_id)
    flash(request, "Merge undone: the merged entry, its names, links, citations and notes are back.")
    return RedirectResponse(f"/entities/{record.winner_id}/duplicates", status_code=303)


# ---- create and edit -------------------------------------------------------------------------

def _form(request: Request, kind_name: str, values: dict, errors: dict | None = None, warnings: dict | None = None,
          entity=None, duplicates=None, confirmed: list[Entity] | None = None, status: int = 200,
          base: dict | None = None):
    """``base``: the stored values an edit form starts from, posted back so that a conflicting save
    can be carried over onto the newer version (store.rebase_edit)."""
    kind = registry().entity_kind(kind_name)
    errors = errors or {}
    if entity is not None and base is None:
        base = entity.properties
    return templates.TemplateResponse(request, "entities/form.html", {
        "kind": kind, "fields": fields_for(kind.form_properties(values), values, errors, warnings),
        "form_errors": other_errors(errors, kind.properties), "entity": entity, "duplicates": duplicates or [],
        "confirmed": confirmed or [], "base": json.dumps(base, ensure_ascii=False) if base is not None else None,
    }, status_code=status)


@router.get("/entities/new")
def entity_new(request: Request, kind: str = "", actor: Actor = Depends(current_actor)):
    if not kind:
        return templates.TemplateResponse(request, "entities/choose_kind.html",
                                          {"kinds": registry().concrete_kinds()})
    spec = registry().entity_kind(kind)
    if spec.abstract:
        raise ValidationError({"kind": [f"{kind} is abstract: choose one of its concrete kinds"]})
    return _form(request, kind, {})


def _merge_into(session: Session, actor: Actor, target_id: str, kind_name: str, entered: dict[str, list[str]]):
    """Add what was entered to an existing entity: its other names become aliases."""
    target = store.get_entity(session, target_id)
    props = registry().entity_kind(target.kind).properties
    merged = {k: list(v) for k, v in target.properties.items()}
    for prop, values in entered.items():
        dest = prop
        if prop == "name":
            dest = "alias"
        if dest not in props:
            continue
        for value in values:
            if value not in merged.get(dest, []) and value not in merged.get("name", []):
                merged.setdefault(dest, []).append(value)
    return store.update_entity(session, actor, target.id, merged, expected_version=target.version)


def _confirmed_entities(session: Session, ids: list[str]) -> list[Entity]:
    """The entries the user confirmed are not the one being created, in the order confirmed (gone ones drop out)."""
    found = readmodels.entities_by_id(session, ids)
    return [found[i] for i in ids if i in found]


@router.post("/entities/new")
def entity_create(request: Request, kind: str = "", actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    kind = form_value(form, "kind") or kind
    spec = registry().entity_kind(kind)
    values = properties_from_form(form, spec.properties)
    decision = form_value(form, "decision") or ("merge" if form_value(form, "merge_into") else "")
    if decision == "merge":
        target_id = form_value(form, "merge_into")
        saved = _merge_into(session, actor, target_id, kind, values)
        _flash_warnings(request, saved.warnings, registry().entity_kind(saved.obj.kind).properties)
        flash(request, f"Added what you entered to {saved.obj.caption}.")
        return RedirectResponse(f"/entities/{saved.obj.id}", status_code=303)
    # Entries the user said this one is not: "it's different" confirms the duplicates shown with it, and
    # the confirmation rides along (hidden ``confirmed_different``) when the form comes back with an error,
    # so fixing a typo does not ask again. A duplicate not yet confirmed is still shown.
    confirmed = [c for c in dict.fromkeys(form.getlist("confirmed_different")
                                          + (form.getlist("different_from") if decision == "new" else []))
                 if isinstance(c, str) and c]
    # "It's different" answers for the entries it was shown, not for any other: the same form sent
    # again (back button, a second tab) meets the entry it created the first time, and is asked again.
    duplicates = [d for d in engines.find_duplicates(session, kind, values)
                  if d.score >= DUPLICATE_WARN_SCORE and d.entity_id not in confirmed]
    if duplicates:
        return _form(request, kind, values, duplicates=duplicates,
                     confirmed=_confirmed_entities(session, confirmed), status=200)
    try:
        saved = store.create_entity(session, actor, kind, values)
    except ValidationError as exc:
        session.rollback()
        return _form(request, kind, values, exc.errors, confirmed=_confirmed_entities(session, confirmed),
                     status=422)
    if confirmed:
        engines.record_different(session, actor, saved.obj.id, confirmed)
    _flash_warnings(request, saved.warnings, spec.properties)
    flash(request, f"Created {saved.obj.caption}.")
    return RedirectResponse(f"/entities/{saved.obj.id}", status_code=303)


router.add_api_route("/entities/{entity_id}", entity_view, methods=["GET"])


@router.get("/entities/{entity_id}/edit")
def entity_edit(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session)):
    entity = store.get_entity(session, entity_id)
    return _form(request, entity.kind, entity.properties, entity=entity)


@router.post("/entities/{entity_id}/edit")
def entity_update(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    entity = store.get_entity(session, entity_id)
    spec = registry().entity_kind(entity.kind)
    values = properties_from_form(form, spec.properties)
    base = posted_base(form, lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
    try:
        # The edit form always sends the version it was opened with: without one, nothing is overwritten.
        saved = store.update_entity(session, actor, entity_id, values,
                                    expected_version=form_version(form, entity.caption))
    except ValidationError as exc:
        session.rollback()
        return _form(request, entity.kind, values, exc.errors, entity=store.get_entity(session, entity_id),
                     status=422, base=base)
    except store.Conflict as exc:
        session.rollback()
        current = store.get_entity(session, entity_id)
        if base is None:  # a form from before this was posted: show what was typed, as it was
            return _form(request, entity.kind, values, {"version": [str(exc)]}, entity=current, status=409)
        values, messages = _carried_over(base, values, current.properties, spec.properties, current.caption,
                                         readmodels.last_edited_by(session, "entity", entity_id, actor.username))
        return _form(request, entity.kind, values, {"version": messages},
                     entity=current, status=409)
    _flash_warnings(request, saved.warnings, spec.properties)
    flash(request, f"Saved {saved.obj.caption}." if saved.changed else
          f"Nothing changed: {saved.obj.caption} already holds these values.")
    return RedirectResponse(f"/entities/{entity_id}", status_code=303)


@router.post("/entities/{entity_id}/delete")
def entity_delete(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    entity = store.get_entity(session, entity_id)
    caption = entity.caption
    version = form_version(form, caption)  # a form without it is refused as such (422), not as evidence
    try:
        store.delete_entity(session, actor, entity_id, expected_version=version)
    except ValidationError as exc:  # evidence of a dossier under review: said on the page it was asked from
        return _not_removed(request, session, exc, f"/entities/{entity_id}")
    flash(request, f"Deleted {caption} with its links, citations and notes (the audit log keeps them).")
    return RedirectResponse("/entities", status_code=303)


# ---- notes and citations ---------------------------------------------------------------------

@router.post("/entities/{entity_id}/notes")
def note_add(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
             session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    try:
        store.add_note(session, actor, entity_id, form_value(form, "text"))
    except ValidationError as exc:
        session.rollback()
        flash(request, "Note not saved: " + exc.messages(), "error")
        return RedirectResponse(f"/entities/{entity_id}#notes", status_code=303)
    flash(request, "Note added.")
    return RedirectResponse(f"/entities/{entity_id}#notes", status_code=303)


def parse_cite_target(session: Session, entity_id: str, target: str) -> dict:
    """The form's fact choice -> keyword arguments for ``store.cite``."""
    if target in ("", "entity"):
        return {"entity_id": entity_id}
    if target.startswith("link:"):
        return {"link_id": target[5:]}
    if target.startswith("prop:") and target.count(":") >= 2:
        _, prop, index = target.split(":", 2)
        entity = store.get_entity(session, entity_id)
        values = entity.properties.get(prop, [])
        if not index.isdigit() or int(index) >= len(values):
            raise ValidationError({"target": ["that value has changed since the page was opened: reload"]})
        return {"entity_id": entity_id, "prop": prop, "value": values[int(index)]}
    raise ValidationError({"target": [f"unknown fact {target!r}"]})


@router.post("/entities/{entity_id}/cite")
def cite_add(entity_id: str, request: Request, actor: Actor = Depends(current_actor),
             session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    source_id = form_value(form, "source_id")
    try:
        if not source_id:
            raise ValidationError({"source_id": ["choose a source (add it on the Sources page first)"]})
        subject = parse_cite_target(session, entity_id, form_value(form, "target"))
        store.cite(session, actor, source_id, excerpt=form_value(form, "excerpt") or None,
                   page=form_value(form, "page") or None, **subject)
    except (ValidationError, store.NotFound) as exc:
        session.rollback()
        message = exc.messages() if isinstance(exc, ValidationError) else str(exc)
        # The page again, the form holding what was chosen and typed (a redirect lost the excerpt).
        typed = {name: form_value(form, name) for name in ("target", "source_id", "excerpt", "page")}
        return _entity_page(request, session, actor, entity_id, status=422,
                            cite={**typed, "error": "Citation not saved: " + message})
    flash(request, "Source cited.")
    return RedirectResponse(f"/entities/{entity_id}", status_code=303)


@router.post("/citations/{citation_id}/delete")
def citation_delete(citation_id: RowId, request: Request,
                    actor: Actor = Depends(current_actor), session: Session = Depends(get_session),
                    form: FormData = Depends(posted_form)):
    """Remove a citation attached to the wrong fact; the audit log keeps what it said."""
    citation = store.get_citation(session, citation_id)
    title = citation.source.title
    default = f"/entities/{citation.entity_id}" if citation.entity_id else f"/sources/{citation.source_id}"
    back = same_site_path(form_value(form, "back"), default)
    try:
        store.delete_citation(session, actor, citation_id)
    except ValidationError as exc:
        return _not_removed(request, session, exc, back)
    flash(request, f"Citation of {title} removed; the audit log keeps what it said.")
    return RedirectResponse(back, status_code=303)


def _not_removed(request: Request, session: Session, exc: ValidationError, back: str) -> RedirectResponse:
    """A removal the domain refuses (the evidence of a dossier under review or approved) is reported on
    the page it was asked from, as its other messages are, not on an error page of its own."""
    session.rollback()
    flash(request, f"Not removed: {exc.messages()}", "error")
    return RedirectResponse(back, status_code=303)


# ---- links -----------------------------------------------------------------------------------

def _carried_over(base: dict, typed: dict, current: dict, props: dict[str, Property], what: str, yours: bool):
    """After a conflict, an entity's or a link's form: the current values with the user's own changes
    carried over (the other change stays), and what the form says about it (``yours``: the other change
    was the user's own, from another tab)."""
    rebased = store.rebase_edit(base, typed, current, props)
    values = {name: found for name, found in rebased.values.items() if found}
    return values, conflict_messages(what, rebased, lambda name: props[name].label, yours)


def _link_form(request: Request, kind_name: str, entity, direction: str, values: dict, errors: dict | None = None,
               link=None, other=None, other_name: str = "", other_id: str = "", status: int = 200,
               candidates: list | None = None, base: dict | None = None):
    """``base``: as for entity forms (_form), the stored values an edit form starts from."""
    kind = registry().link_kind(kind_name)
    errors = errors or {}
    if link is not None and base is None:
        base = link.properties
    return templates.TemplateResponse(request, "links/form.html", {
        "kind": kind, "entity": entity, "direction": direction, "link": link, "other": other,
        "base": json.dumps(base, ensure_ascii=False) if base is not None else None,
        "other_name": other_name, "other_id": other_id, "candidates": candidates or [],
        # A link has one start and one end (the store keeps them in its columns): one input each.
        "fields": fields_for(kind.properties, values, errors, single=readmodels.LINK_DATE_PROPERTIES),
        "form_errors": other_errors(errors, kind.properties),
        "other_kinds": ",".join(registry().kinds_descending_from(kind.target if direction == "out" else kind.source)),
    }, status_code=status)


@router.get("/links/new")
def link_new(request: Request, entity: str, kind: str, direction: str = "out",
             actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    if ":" in kind:  # the entity page's picker sends KIND:DIRECTION
        kind, direction = kind.split(":", 1)
    if direction not in ("out", "in"):
        raise HTTPException(422, "direction must be 'out' or 'in'")
    reg = registry()
    link_kind, found = reg.link_kind(kind), store.get_entity(session, entity)
    # A form the save would refuse is refused now: this entity's kind cannot be at this end.
    ends = link_kind.source if direction == "out" else link_kind.target
    if not reg.entity_kind(found.kind).is_a_any(ends):
        raise ValidationError({"kind": [f"a {reg.entity_kind(found.kind).label} cannot be "
                                        f"{'the start' if direction == 'out' else 'the end'} of a "
                                        f"'{link_kind.label}' link (allowed: {', '.join(ends)})"]})
    return _link_form(request, kind, found, direction, {})


def _resolve_other(session: Session, other_id: str, other_name: str, allowed: list[str]) -> str:
    """The other end: the id picked from the suggestions, else an unambiguous name match."""
    if other_id:
        return other_id
    if not other_name:
        raise ValidationError({"other": ["choose the entity at the other end"]})
    hits = engines.search_entities(session, other_name, kinds=allowed, limit=2, threshold=0.9)
    if len(hits) == 1 or (len(hits) > 1 and hits[0].score - hits[1].score > 0.05):
        return hits[0].entity_id
    raise ValidationError({"other": [f"no single entity matches {other_name!r}: pick one from the suggestions "
                                     "or from the entities listed"]})


@router.post("/links/new")
def link_create(request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    kind = registry().link_kind(form_value(form, "kind"))
    entity = store.get_entity(session, form_value(form, "entity"))
    direction = form_value(form, "direction") or "out"
    values = properties_from_form(form, kind.properties)
    other_name = form_value(form, "other_name")
    allowed = registry().kinds_descending_from(kind.target if direction == "out" else kind.source)
    try:
        other_id = _resolve_other(session, form_value(form, "other_id") or form_value(form, "other_pick"),
                                  other_name, allowed)
        source_id, target_id = (entity.id, other_id) if direction == "out" else (other_id, entity.id)
        saved = store.create_link(session, actor, kind.name, source_id, target_id, values)
    except (ValidationError, store.NotFound) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationError) else {"other": [str(exc)]}
        if "source" in errors or "target" in errors:
            errors = {**errors, "other": errors.get("target" if direction == "out" else "source", [])}
        # Keep the entity picked from the suggestions unless it is what was wrong: two entries may
        # share a name, and the name alone would not find it again.
        picked = "" if errors.get("other") else form_value(form, "other_id") or form_value(form, "other_pick")
        # Without a picked entity, the names that come closest are offered as choices: the
        # suggestions list needs JavaScript, and the name alone matched none or several.
        candidates = engines.search_entities(session, other_name, kinds=allowed, limit=8, partial=True) \
            if errors.get("other") and other_name else []
        return _link_form(request, kind.name, store.get_entity(session, entity.id), direction, values, errors,
                          other_name=other_name, other_id=picked, status=422,
                          candidates=[c for c in candidates if c.entity_id != entity.id])
    _flash_warnings(request, saved.warnings, kind.properties)
    other = store.get_entity(session, other_id)
    words = f"{entity.caption} {kind.label} {other.caption}" if direction == "out" else \
        f"{other.caption} {kind.label} {entity.caption}"
    flash(request, f"Linked: {words}.")  # which entry the name typed was taken for, said back
    return RedirectResponse(f"/entities/{entity.id}", status_code=303)


@router.get("/links/{link_id}/edit")
def link_edit(link_id: str, request: Request, entity: str = "", actor: Actor = Depends(current_actor),
              session: Session = Depends(get_session)):
    link = store.get_link(session, link_id)
    here = store.get_entity(session, entity or link.source_id)
    direction = "out" if here.id == link.source_id else "in"
    other = link.target if direction == "out" else link.source
    return _link_form(request, link.kind, here, direction, link.properties, link=link, other=other)


@router.post("/links/{link_id}/edit")
def link_update(link_id: str, request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    link = store.get_link(session, link_id)
    here_id = form_value(form, "entity") or link.source_id
    spec = registry().link_kind(link.kind)
    values = properties_from_form(form, spec.properties)
    base = posted_base(form, lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v))
    try:
        saved = store.update_link(session, actor, link_id, values,
                                  expected_version=form_version(form, f"this {spec.label} link"))
    except (ValidationError, store.Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationError) else {"version": [str(exc)]}
        link = store.get_link(session, link_id)
        if isinstance(exc, store.Conflict) and base is not None:
            values, messages = _carried_over(base, values, link.properties, spec.properties,
                                             f"This {spec.label} link",
                                             readmodels.last_edited_by(session, "link", link_id, actor.username))
            errors = {"version": messages}
            base = None  # the form now starts from the current version
        elif isinstance(exc, store.Conflict):
            # A form from before this was posted: a blind save again must not undo the other change.
            base = None
        here = store.get_entity(session, here_id)
        direction = "out" if here.id == link.source_id else "in"
        return _link_form(request, link.kind, here, direction, values, errors, link=link,
                          other=link.target if direction == "out" else link.source,
                          status=409 if isinstance(exc, store.Conflict) else 422, base=base)
    _flash_warnings(request, saved.warnings, registry().link_kind(saved.obj.kind).properties)
    flash(request, "Link saved.")
    return RedirectResponse(f"/entities/{here_id}", status_code=303)


@router.post("/links/{link_id}/delete")
def link_delete(link_id: str, request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    here_id = form_value(form, "entity")
    back = f"/entities/{here_id}" if here_id else "/entities"
    version = form_version(form, "this link")
    try:
        store.delete_link(session, actor, link_id, expected_version=version)
    except ValidationError as exc:
        return _not_removed(request, session, exc, back)
    flash(request, "Link removed.")
    return RedirectResponse(back, status_code=303)
