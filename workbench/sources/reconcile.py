"""W3C / OpenRefine Reconciliation API v0.2 over the workbench store.

An analyst reconciles a spreadsheet column (names, optionally with a type and other columns as
properties) against the workbench from OpenRefine: candidates come from the matching engine's
``search_entities``; property values that agree raise the score, ones that disagree lower it.
Routes in ``workbench/web/routes/reconcile.py`` only translate HTTP to these functions. A batch holds
at most ``MAX_QUERIES`` queries and an extension request at most ``MAX_EXTEND_IDS`` ids; an unknown
type is refused (422) rather than read as every type.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.schema import ValidationError, registry
from workbench.sources.countries import country_code
from workbench.store.entities import get_entity
from workbench.store.models import Entity
from workbench.store.permissions import Actor, require
from workbench.text import fold
from workbench.types import compact_identifier, split_identifier

SERVICE_NAME = "Sanctions workbench"
IDENTIFIER_SPACE = "https://workbench.invalid/entities/"
SCHEMA_SPACE = "https://workbench.invalid/schema/"
MATCH_THRESHOLD = 0.9  # a candidate this good, and clearly ahead of the next, is an automatic match
MAX_LIMIT = 50
# OpenRefine sends small batches (ten queries by default); a request beyond these limits is refused
# with a 422 that says the limit, rather than left to hold a worker (queries) or cut short unseen (ids).
MAX_QUERIES = 500
MAX_EXTEND_IDS = 1000


def _type(kind: str) -> dict:
    spec = registry().entity_kinds.get(kind)
    return {"id": kind, "name": spec.label if spec else kind}


def manifest(base_url: str, token_query: str = "") -> dict:
    """The service manifest; ``token_query`` ('?token=...') is appended to the URLs OpenRefine calls."""
    base = base_url.rstrip("/")
    suffix = token_query
    joiner = "&" if suffix else "?"
    return {
        "versions": ["0.2"],
        "name": SERVICE_NAME,
        "identifierSpace": IDENTIFIER_SPACE,
        "schemaSpace": SCHEMA_SPACE,
        "defaultTypes": [_type(kind) for kind in registry().default_kinds()],
        "view": {"url": f"{base}/entities/{{{{id}}}}"},
        "preview": {"url": f"{base}/reconcile/preview{suffix}{joiner}id={{{{id}}}}", "width": 430, "height": 200},
        "suggest": {
            "entity": {"service_url": base, "service_path": f"/reconcile/suggest/entity{suffix}"},
            "type": {"service_url": base, "service_path": f"/reconcile/suggest/type{suffix}"},
            "property": {"service_url": base, "service_path": f"/reconcile/suggest/property{suffix}"},
        },
        "extend": {
            "propose_properties": {"service_url": base, "service_path": f"/reconcile/extend/propose{suffix}"},
            "property_settings": [],
        },
    }


def _kinds_for(type_id: str | list | None) -> list[str]:
    if not type_id:
        return registry().default_kinds()
    ids = type_id if isinstance(type_id, list) else [type_id]
    kinds = [t for t in ids if isinstance(t, str) and t in registry().entity_kinds]
    if not kinds:
        raise ValidationError({"type": [f"unknown type {', '.join(map(str, ids))!r}"]})
    return kinds


# How spreadsheets write dates; a day and a month both up to 12 are read both ways (either may agree).
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y", "%d %B %Y",
                 "%b %d, %Y", "%B %d, %Y", "%d/%m/%y", "%m/%d/%y")


def _dates(text: str) -> set[str] | None:
    """ISO forms a written date may stand for (a year, a year-month, or whole dates); None: unreadable."""
    text = text.strip()
    if re.fullmatch(r"\d{4}(-\d{2})?", text):
        return {text}
    found = set()
    try:  # OpenRefine sends date cells as ISO date-times ('1954-12-25T00:00:00Z')
        found.add(datetime.fromisoformat(text).date().isoformat())
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if fmt.endswith("%y") and day > date.today():  # '57' is 1957, not 2057: no record is dated ahead
            day = day.replace(year=day.year - 100)
        found.add(day.isoformat())
    return found or None


def _values_agree(prop: str, wanted: str, have: list[str], value_type: str | None = None) -> bool | None:
    """Whether a value from the spreadsheet agrees with the entity's; None when it cannot be read as
    the property's type ('Mexico' is a country, 'mx' too; '25/12/1954' a date): neither for nor against."""
    if prop == "identifier":
        wanted_number = compact_identifier(split_identifier(wanted)[1] if ":" in wanted else wanted)
        return any(compact_identifier(split_identifier(h)[1]) == wanted_number for h in have)
    if value_type == "country":
        code = country_code(wanted)
        return None if code is None else code in {h.lower() for h in have}
    if value_type == "date":
        dates = _dates(wanted)
        if dates is None:
            return None
        return any(d.startswith(h) or h.startswith(d) for d in dates for h in have)
    target = fold(wanted)
    return any(fold(h) == target or (len(target) >= 4 and target in fold(h)) for h in have)


def _property_factor(entity: Entity, properties: list[dict]) -> tuple[float, list[dict]]:
    """Agreeing values lift the score, disagreeing ones lower it; missing ones are neutral."""
    factor = 1.0
    features = []
    for item in properties:
        pid = str(item.get("pid") or item.get("p") or "")
        values = item.get("v")
        values = values if isinstance(values, list) else [values]
        wanted = [str(v.get("id") if isinstance(v, dict) else v) for v in values if v not in (None, "")]
        have = entity.properties.get(pid) or []
        if not pid or not wanted or not have:
            continue
        spec = registry().entity_kind(entity.kind).properties.get(pid)
        verdicts = [_values_agree(pid, w, have, spec.type.validator if spec else None) for w in wanted]
        if all(v is None for v in verdicts):
            continue  # nothing in the cell reads as this property's type
        agree = any(verdicts)
        factor *= 1.15 if agree else 0.8
        features.append({"id": f"property:{pid}", "value": 1.0 if agree else 0.0})
    return factor, features


def _identified(score: float, entity: Entity, properties: list[dict]) -> float:
    """The name score after the entity scorer's identifier rule: an equal CURP or RFC is near-certain,
    a different one (a scheme a party holds once) rules the candidate out, whatever the name says."""
    from workbench.matching.entity_score import identifier_effect

    wanted = [str(v.get("id") if isinstance(v, dict) else v) for item in properties
              if str(item.get("pid") or item.get("p") or "") == "identifier"
              for v in (item.get("v") if isinstance(item.get("v"), list) else [item.get("v")]) if v not in (None, "")]
    if not wanted:
        return score
    return identifier_effect(score, {"identifier": wanted}, entity.properties)[0]


def _limit(query: dict) -> int:
    raw = query.get("limit") or 5
    try:
        limit = int(raw)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 parses as infinity
        raise ValidationError({"limit": [f"expected a whole number, not {raw!r}"]}) from None
    if limit < 1:
        raise ValidationError({"limit": [f"expected at least 1 result, not {limit}"]})
    return min(limit, MAX_LIMIT)


def _query_properties(query: dict) -> list[dict]:
    properties = query.get("properties") or []
    if not isinstance(properties, list) or not all(isinstance(p, dict) for p in properties):
        raise ValidationError({"properties": ['expected a list of {"pid": ..., "v": ...}']})
    return properties


def reconcile_one(session: Session, query: dict) -> list[dict]:
    from workbench.matching.search import search_entities

    text = str(query.get("query") or "").strip()
    if not text:
        return []
    limit = _limit(query)
    kinds = _kinds_for(query.get("type"))
    properties = _query_properties(query)
    if properties:  # a property id from nowhere would be ignored, and its column would seem to agree
        known = {name for kind in kinds for name in registry().entity_kind(kind).properties}
        unknown = sorted({str(p.get("pid") or p.get("p") or "") for p in properties} - known)
        if unknown:
            raise ValidationError({"properties": [f"unknown property {', '.join(map(repr, unknown))} "
                                                  "(/reconcile/suggest/property lists them)"]})
    hits = search_entities(session, text, kinds=kinds, limit=max(limit * 2, 10), threshold=0.5, together=True)
    entities = {}
    if hits:
        ids = [h.entity_id for h in hits]
        entities = {e.id: e for e in session.execute(select(Entity).where(Entity.id.in_(ids))).scalars()}
    results = []
    for hit in hits:
        entity = entities.get(hit.entity_id)
        if entity is None:
            continue
        factor, features = _property_factor(entity, properties) if properties else (1.0, [])
        score = max(0.0, min(1.0, _identified(hit.score, entity, properties) * factor))
        results.append({
            "id": hit.entity_id,
            "name": hit.caption,
            "type": [_type(hit.kind)],
            "score": round(score * 100, 2),
            "description": f"matched {hit.matched_name}" if hit.matched_name != hit.caption else "",
            "features": [{"id": "name", "value": round(hit.score, 4)}, *features],
            "match": False,
        })
    results.sort(key=lambda r: -r["score"])
    results = results[:limit]
    if results and results[0]["score"] >= MATCH_THRESHOLD * 100:
        second = results[1]["score"] if len(results) > 1 else 0.0
        results[0]["match"] = results[0]["score"] - second >= 5
    return results


def reconcile(session: Session, actor: Actor, queries: dict[str, Any]) -> dict:
    """A batch of queries ({key: {query, type, limit, properties}}) -> {key: {result: [...]}}."""
    require(actor, "read", "reconcile")
    if not isinstance(queries, dict):
        raise ValidationError({"queries": ["expected a JSON object of queries"]})
    if len(queries) > MAX_QUERIES:
        message = f"at most {MAX_QUERIES:,} queries a batch, not {len(queries):,}: send them in smaller batches"
        raise ValidationError({"queries": [message]})
    out = {}
    for key, query in queries.items():
        if not isinstance(query, dict):
            raise ValidationError({f"queries.{key}": ["expected an object with 'query'"]})
        try:
            out[key] = {"result": reconcile_one(session, query)}
        except ValidationError as exc:  # name the query, as OpenRefine sends a batch
            raise ValidationError({f"queries.{key}.{field}": msgs for field, msgs in exc.errors.items()}) from None
    return out


def preview(session: Session, actor: Actor, entity_id: str) -> dict:
    """What the preview card shows: caption, kind, names, a few facts, designation status."""
    require(actor, "read", "preview entities")
    entity = get_entity(session, entity_id)
    spec = registry().entity_kind(entity.kind)
    facts = []
    for prop in spec.properties.values():
        if prop.name in ("name", "notes") or prop.type.matchable:
            continue
        values = entity.properties.get(prop.name)
        if values:
            facts.append((prop.label, ", ".join(values[:3])))
    names = [n for p in ("alias", "weakAlias", "previousName") for n in entity.properties.get(p, [])]
    return {"id": entity.id, "caption": entity.caption, "kind": spec.label, "names": names[:8], "facts": facts[:8]}


def suggest_kinds(actor: Actor, type_id: str | None) -> list[str]:
    """The kinds an entity suggestion may have (checked before the web layer's autocomplete runs):
    the same as a query's, so 'search for match' offers what reconciliation would."""
    require(actor, "read", "search")
    return _kinds_for(type_id)


def entity_suggestions(hits: list[Any]) -> dict:
    """Autocomplete hits (``entity_id``, ``kind``, ``caption``) as the suggest service answers them."""
    kinds = registry().entity_kinds
    return {"result": [{"id": h.entity_id, "name": h.caption,
                        "description": kinds[h.kind].label if h.kind in kinds else h.kind} for h in hits]}


def suggest_type(prefix: str, limit: int = 20) -> dict:
    needle = fold(prefix or "")
    result = [{"id": k.name, "name": k.label} for k in registry().concrete_kinds()
              if not needle or needle in fold(k.name) or needle in fold(k.label)]
    return {"result": result[:limit]}


def _properties_of(type_id: str | None) -> list[tuple[str, str]]:
    """The properties of one type, or of every concrete kind when no type is given. An unknown type is
    refused: answering every kind's properties would look like that type's."""
    reg = registry()
    if type_id and type_id not in reg.entity_kinds:
        raise ValidationError({"type": [f"unknown type {type_id!r} (/reconcile/suggest/type lists the types)"]})
    kinds = [reg.entity_kinds[type_id]] if type_id else reg.concrete_kinds()
    seen: dict[str, str] = {}
    for kind in kinds:
        for prop in kind.properties.values():
            seen.setdefault(prop.name, prop.label)
    return list(seen.items())


def suggest_property(prefix: str, type_id: str | None = None, limit: int = 20) -> dict:
    needle = fold(prefix or "")
    result = [{"id": pid, "name": label} for pid, label in _properties_of(type_id)
              if not needle or needle in fold(pid) or needle in fold(label)]
    return {"result": result[:limit]}


def propose_properties(type_id: str | None, limit: int = 50) -> dict:
    limit = max(0, limit)  # a negative limit must not slice from the end
    return {"type": type_id or "", "properties": [{"id": pid, "name": label}
                                                  for pid, label in _properties_of(type_id)][:limit]}


def extend(session: Session, actor: Actor, request: dict) -> dict:
    """Data extension: property values of reconciled entities, as OpenRefine asks for them."""
    require(actor, "read", "extend")
    shape = "expected {\"ids\": [...], \"properties\": [{\"id\": ...}]}"
    if not isinstance(request, dict) or not isinstance(request.get("ids"), list):
        raise ValidationError({"extend": [shape]})
    if not isinstance(request.get("properties") or [], list):
        raise ValidationError({"extend.properties": [shape]})
    wanted = [str(p.get("id")) for p in request.get("properties") or [] if isinstance(p, dict) and p.get("id")]
    if len(request["ids"]) > MAX_EXTEND_IDS:
        message = f"at most {MAX_EXTEND_IDS:,} ids a request, not {len(request['ids']):,}: send them in smaller batches"
        raise ValidationError({"extend.ids": [message]})
    labels = dict(_properties_of(None))
    ids = [str(i) for i in request["ids"]]
    entities = {e.id: e for e in session.execute(select(Entity).where(Entity.id.in_(ids))).scalars()} if ids else {}
    rows = {}
    for entity_id in ids:
        entity = entities.get(entity_id)
        row = {}
        for pid in wanted:
            values = entity.properties.get(pid, []) if entity is not None else []
            row[pid] = [{"str": v} for v in values]
        rows[entity_id] = row
    return {"meta": [{"id": pid, "name": labels.get(pid, pid)} for pid in wanted], "rows": rows}
