"""The dossier *view*: everything a dossier shows, as one JSON document; frozen on approval.

Pages, the completeness check and every export read this view, so what the reviewer approved is
exactly what is exported later. While a dossier is open the view is built live from the store; on
approval it is stored as canonical JSON with its SHA-256, and from then on the stored copy is
used, so later edits to the target or its links do not change an approved package.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.dossiers import evidence
from workbench.dossiers.service import NARRATIVE_SECTIONS, STATEMENT_TYPES, VISA_FIELDS, basis_of
from workbench.labels import value_label
from workbench.schema import registry
from workbench.store.audit import canonical
from workbench.store.entities import citations_for, get_entity
from workbench.store.models import Citation, Dossier, Name

SNAPSHOT_FORMAT = 1
FROZEN_STATES = ("approved",)


_iso = evidence._utc_iso


def content_hash(view: dict) -> str:
    return hashlib.sha256(canonical(view).encode("utf-8")).hexdigest()


def _target(session: Session, dossier: Dossier) -> dict:
    entity = get_entity(session, dossier.target_id)
    kind = registry().entity_kind(entity.kind)
    names = sorted(entity.names, key=lambda n: (n.name_kind != "primary", n.prop, n.name))
    properties = []
    for name, prop in kind.properties.items():
        values = entity.properties.get(name)
        if values and name != "identifier":
            properties.append({"name": name, "label": prop.label, "values": list(values)})
    cites = citations_for(session, entity_id=entity.id)
    return {
        "id": entity.id, "kind": entity.kind, "kind_label": kind.label, "caption": entity.caption,
        "fictional": "fictional" in entity.properties.get("topics", []),
        "properties": properties,
        "names": [{"name": n.name, "kind": n.name_kind, "property": n.prop} for n in names if isinstance(n, Name)],
        "identifiers": evidence.identifiers_of(entity.properties),
        # The positions the target holds or held (Occupancy links), with their dates and sources.
        "positions": evidence.positions_of(session, entity.id),
        "sources": [dict(evidence.source_record(c.source), citation_id=c.id, prop=c.prop, value=c.value,
                         excerpt=c.excerpt, page=c.page, locator=c.locator) for c in cites],
    }


def _exhibits(session: Session, dossier: Dossier) -> list[dict]:
    basis = basis_of(dossier)
    # What each exhibit's citation cites (an entity and its value, or a link), frozen with the package:
    # a reviewer must see that an element rests on a fact about another entity.
    cites = cited_facts_of(session, [ex.citation_id for ex in dossier.exhibits])
    out = []
    for ex in sorted(dossier.exhibits, key=lambda e: e.number):
        out.append({
            "id": ex.id, "number": ex.number, "element": ex.element,
            "element_label": basis.element_label(ex.element),
            "element_text": basis.elements.get(ex.element, ex.element),
            "statement": ex.statement, "statement_type": ex.statement_type,
            "statement_label": STATEMENT_TYPES.get(ex.statement_type, ex.statement_type),
            "excerpt": ex.excerpt, "page": ex.page, "citation_id": ex.citation_id,
            "cites": cites.get(ex.citation_id),
            "created_by": ex.created_by, "source": evidence.source_record(ex.source),
        })
    return out


def cited_facts_of(session: Session, citation_ids) -> dict[int, dict]:
    """What each of these citations cites (``evidence.cited_facts``), by id; a citation removed since is absent."""
    ids = sorted({i for i in citation_ids if i is not None})
    if not ids:
        return {}
    return evidence.cited_facts(session, session.scalars(select(Citation).where(Citation.id.in_(ids))))


def live_view(session: Session, dossier: Dossier) -> dict:
    """Build the view from the store as it is now."""
    basis = basis_of(dossier)
    narrative = dossier.narrative or {}
    sections = [{"key": k, "label": label, "text": narrative.get(k, "")} for k, label in NARRATIVE_SECTIONS.items()]
    sections += [{"key": k, "label": k.replace("_", " ").capitalize(), "text": v}
                 for k, v in sorted(narrative.items()) if k not in NARRATIVE_SECTIONS]
    visa = None
    if basis.visa:
        data = dossier.visa_data or {}
        visa = [{"key": k, "label": label, "value": data.get(k, "")} for k, label in VISA_FIELDS.items()]
    return {
        "format": SNAPSHOT_FORMAT,
        "dossier": {
            "id": dossier.id, "title": dossier.title, "state": dossier.state, "number": dossier.number,
            "previous_id": dossier.previous_id, "fictional": bool(dossier.fictional),
            "created_by": dossier.created_by, "created_at": _iso(dossier.created_at),
        },
        "legal_basis": {
            "key": basis.key, "label": basis.label, "citation": basis.citation, "authority": basis.authority_label,
            "program": basis.program, "derivative": basis.derivative, "visa": basis.visa,
            "link_kinds": list(basis.link_kinds), "link_direction": dict(basis.link_direction),
            "activity_element": basis.activity_element,
            "elements": [{"key": k, "label": basis.element_label(k), "text": v} for k, v in basis.elements.items()],
        },
        "target": _target(session, dossier),
        "designated_links": evidence.designated_links(session, dossier.target_id, basis),
        "assets": evidence.assets_to_block(session, dossier.target_id),
        "exhibits": _exhibits(session, dossier),
        "narrative": sections,
        "visa_data": visa,
        "identifier_notes": dossier.identifier_notes,
        "events": [
            {"event": e.event, "from_state": e.from_state, "to_state": e.to_state, "user": e.user,
             "at": _iso(e.at), "comment": e.comment}
            for e in sorted(dossier.events, key=lambda e: (e.id is None, e.id or 0))
        ],
    }


def target_values(view: dict) -> dict[str, tuple[str, list[str]]]:
    """The target's values by property, (label, values as a reader reads them): what the approved page says
    changed since freezing and what the compare page says changed between versions are read alike."""
    target = view.get("target") or {}
    kind = registry().entity_kinds.get(target.get("kind"))
    out: dict[str, tuple[str, list[str]]] = {}
    for prop in target.get("properties") or []:
        spec = kind.properties.get(prop["name"]) if kind else None
        out[prop["name"]] = (prop.get("label") or prop["name"], [value_label(spec, v) for v in prop["values"]])
    identifiers = [i["value"] for i in target.get("identifiers") or []]
    if identifiers:
        out["identifier"] = ("Identifiers", identifiers)
    positions = [_held(p) for p in target.get("positions") or []]
    if positions:
        out["positions"] = ("Positions held", positions)
    return out


def _held(position: dict) -> str:
    """A position with its dates: an office left since approval (an end date set) is a change to flag."""
    props = position.get("properties") or {}
    start, end = (props.get("startDate") or [""])[0], (props.get("endDate") or [""])[0]
    if end:
        return f"{position['caption']} ({start or 'start unknown'} to {end})"
    return f"{position['caption']} (since {start})" if start else position["caption"]


def target_changes(session: Session, dossier: Dossier, limit: int = 10) -> list[str]:
    """How the target's record differs now from the one frozen with the dossier (a date of birth corrected since
    the approval): the approved page shows what was approved, and says what the live record holds instead,
    so nobody takes the frozen value for today's. [] for a dossier not frozen, or a target unchanged."""
    frozen = (dossier.snapshot or {}).get("target") if dossier.state in FROZEN_STATES else None
    if not frozen:
        return []
    entity = get_entity(session, dossier.target_id)
    changes = []
    if entity.merged_into:
        changes.append(f"{entity.caption} was merged into another entry ({entity.merged_into}) since")
    then, now = target_values({"target": frozen}), target_values({"target": _target(session, dossier)})
    if "positions" not in frozen:  # frozen before dossiers showed positions: nothing to compare them with
        now.pop("positions", None)
    for name in [*then, *(n for n in now if n not in then)]:
        label, old = then[name] if name in then else (now[name][0], [])
        new = now[name][1] if name in now else []
        if sorted(old) != sorted(new):
            changes.append(f"{label}: {', '.join(old) or 'none'} when frozen, {', '.join(new) or 'none'} now")
    return changes[:limit]


def view_of(session: Session, dossier: Dossier) -> dict:
    """The frozen snapshot of an approved dossier; otherwise the live view."""
    if dossier.state in FROZEN_STATES and dossier.snapshot is not None:
        return dossier.snapshot
    return live_view(session, dossier)


def freeze(session: Session, dossier: Dossier) -> str:
    """Store the view as canonical JSON with its SHA-256; returns the hash."""
    view = json.loads(canonical(live_view(session, dossier)))
    dossier.snapshot = view
    dossier.snapshot_hash = content_hash(view)
    return dossier.snapshot_hash


def reviewed_hash(dossier: Dossier) -> str | None:
    """The content hash the reviewer approved, for an approved dossier: the hash of its page just before the
    approval, which the approval carried (``content_hash``) and was checked against.

    It differs from the snapshot hash by design: the snapshot is frozen at the approval, so it holds the
    approval itself (the state 'approved' and the approval in the history: who, when, the comment), which the
    reviewer's page could not. Both hash the same document otherwise: taking the approval out of the frozen
    snapshot gives back the content reviewed. None when the snapshot does not end with its approval."""
    if dossier.state not in FROZEN_STATES or not isinstance(dossier.snapshot, dict):
        return None
    view = copy.deepcopy(dossier.snapshot)
    events = view.get("events") or []
    if not events or events[-1].get("event") != "approved" or not isinstance(view.get("dossier"), dict):
        return None
    approval = events.pop()
    view["dossier"]["state"] = approval.get("from_state") or "submitted"
    return content_hash(view)


def verify_snapshot(dossier: Dossier) -> bool:
    """True when the stored snapshot still hashes to the stored hash."""
    return dossier.snapshot is not None and content_hash(dossier.snapshot) == dossier.snapshot_hash


def hash_of(session: Session, dossier: Dossier, view: dict | None = None) -> tuple[str, bool]:
    """(hash, frozen): the stored snapshot hash, or the hash of the live view for an open dossier."""
    if dossier.snapshot_hash and dossier.state in FROZEN_STATES:
        return dossier.snapshot_hash, True
    view = view if view is not None else live_view(session, dossier)
    return content_hash(json.loads(canonical(view))), False


def live_hash(session: Session, dossier: Dossier) -> str:
    """The hash of what the dossier shows now, as its page shows it: a reviewer's verdict carries the hash
    of the page they read, and the verdict is refused when the two differ (the target, its links, a
    source or a citation may change under a submitted dossier, whose own row is frozen)."""
    return content_hash(as_json(live_view(session, dossier)))


def as_json(value: Any) -> Any:
    return json.loads(canonical(value))
