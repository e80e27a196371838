"""Load the demo data in ``fixtures/demo/`` (idempotently) and create the demo users.

The demo is ordinary data entered through the domain services, so it is validated and audited
like anything a researcher types. Loading it again changes nothing; if a fixture file was edited,
the changed values are updated in place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.schema import ValidationError, registry
from workbench.store import entities as svc
from workbench.store.models import Citation, Entity, Link, Source
from workbench.store.permissions import Actor
from workbench.store.users import add_user, get_user, random_password

DEMO_USERS = (("researcher", "researcher"), ("reviewer", "reviewer"), ("admin", "admin"))
SOURCE_KEYS = ("url", "title", "publisher", "published_at", "source_type", "reliability", "releasable", "notes")


def fixtures_dir() -> Path:
    override = os.environ.get("WORKBENCH_FIXTURES_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "fixtures" / "demo"


@dataclass
class DemoResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    citations: int = 0
    dossiers: int = 0
    new_users: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class _Item:
    file: str
    data: dict[str, Any]

    def where(self) -> str:
        return f"{self.file}: {self.data.get('id', '?')}"


def _read_fixtures(directory: Path) -> dict[str, list[_Item]]:
    collected: dict[str, list[_Item]] = {"sources": [], "entities": [], "links": []}
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise ValidationError({"fixtures": [f"no demo fixture files in {directory}"]})
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValidationError({path.name: [f"invalid YAML: {exc}"]}) from exc
        for key in collected:
            for item in data.get(key) or []:
                if not isinstance(item, dict) or not item.get("id"):
                    raise ValidationError({path.name: [f"every item under {key} needs an id"]})
                collected[key].append(_Item(path.name, item))
    return collected


def _check_references(items: dict[str, list[_Item]]) -> None:
    sources = {i.data["id"] for i in items["sources"]}
    entities = {i.data["id"] for i in items["entities"]}
    errors: dict[str, list[str]] = {}
    for item in items["entities"] + items["links"]:
        for cite in item.data.get("cite") or []:
            if cite.get("source") not in sources:
                errors.setdefault(item.where(), []).append(f"cites unknown source {cite.get('source')!r}")
    for item in items["links"]:
        for end in ("source", "target"):
            if item.data.get(end) not in entities:
                errors.setdefault(item.where(), []).append(f"{end} {item.data.get(end)!r} is not a demo entity")
    if errors:
        raise ValidationError(errors)


def _load_source(session: Session, actor: Actor, item: _Item, result: DemoResult) -> None:
    data = item.data
    fields = {k: data[k] for k in SOURCE_KEYS if k in data}
    if "published_at" in fields:
        fields["published_at"] = str(fields["published_at"])
    existing = session.get(Source, data["id"])
    if existing is None:
        svc.create_source(session, actor, source_id=data["id"], **fields)
        result.created += 1
    elif any(getattr(existing, k) != v for k, v in fields.items()):
        svc.update_source(session, actor, data["id"], **fields)
        result.updated += 1
    else:
        result.unchanged += 1


def _merged_away(session: Session, *entity_ids: str) -> bool:
    """Whether a user merged one of these demo entries into another: the merge is theirs to keep (the
    names, links and citations went to the kept entry), so loading the demo again leaves it alone."""
    return any((entity := session.get(Entity, entity_id)) is not None and entity.merged_into
               for entity_id in entity_ids)


def _load_entity(session: Session, actor: Actor, item: _Item, result: DemoResult) -> None:
    data = item.data
    reg = registry()
    properties = data.get("properties") or {}
    existing = session.get(Entity, data["id"])
    if existing is not None and existing.merged_into:
        result.unchanged += 1
        return
    try:
        if existing is None:
            svc.create_entity(session, actor, data["kind"], properties, entity_id=data["id"])
            result.created += 1
            return
        kind = reg.entity_kind(existing.kind)
        cleaned, _ = reg.validate_properties(existing.kind, properties, kind.properties)
        # The demo's facts are put back where they went missing, beside whatever users added (a merge
        # into a demo entry brings the merged entry's names): loading the demo again removes nothing.
        wanted = {name: [*values, *(v for v in cleaned.get(name, []) if v not in values)]
                  for name, values in {**{n: [] for n in cleaned}, **existing.properties}.items()}
        if wanted != existing.properties:
            svc.update_entity(session, actor, data["id"], wanted)
            result.updated += 1
        else:
            result.unchanged += 1
    except ValidationError as exc:
        raise ValidationError({item.where(): [str(exc)]}) from exc


def _load_link(session: Session, actor: Actor, item: _Item, result: DemoResult) -> None:
    data = item.data
    reg = registry()
    properties = data.get("properties") or {}
    existing = session.get(Link, data["id"])
    if _merged_away(session, data["source"], data["target"]):
        result.unchanged += 1
        return
    try:
        if existing is None:
            svc.create_link(session, actor, data["kind"], data["source"], data["target"], properties, link_id=data["id"])
            result.created += 1
            return
        spec = reg.link_kind(existing.kind)
        cleaned, _ = reg.validate_properties(existing.kind, properties, spec.properties)
        if cleaned != existing.properties and not svc.same_link_exists(session, spec, existing, cleaned):
            svc.update_link(session, actor, data["id"], properties)
            result.updated += 1
        else:  # as it is, or (after a user's merge) another link states the demo's values already
            result.unchanged += 1
    except ValidationError as exc:
        raise ValidationError({item.where(): [str(exc)]}) from exc


def _load_citations(session: Session, actor: Actor, item: _Item, subject: str, result: DemoResult) -> None:
    ends = [item.data["id"]] if subject == "entity" else [item.data["source"], item.data["target"]]
    if _merged_away(session, *ends):
        return
    for cite in item.data.get("cite") or []:
        key = dict(source_id=cite["source"], prop=cite.get("prop"), value=cite.get("value"),
                   excerpt=cite.get("excerpt"), page=cite.get("page"), locator=cite.get("locator"))
        subject_filter = Citation.entity_id == item.data["id"] if subject == "entity" else Citation.link_id == item.data["id"]
        query = select(Citation.id).where(subject_filter, *(getattr(Citation, k) == v if v is not None
                                                             else getattr(Citation, k).is_(None) for k, v in key.items()))
        if session.execute(query).first() is not None:
            continue
        target = {"entity_id": item.data["id"]} if subject == "entity" else {"link_id": item.data["id"]}
        svc.cite(session, actor, key.pop("source_id"), **target, **key)
        result.citations += 1


def load_demo(session: Session, actor: Actor, directory: Path | None = None, users: bool = True) -> DemoResult:
    """Load every fixture file; all-or-nothing within the caller's transaction."""
    items = _read_fixtures(directory or fixtures_dir())
    _check_references(items)
    result = DemoResult()
    for item in items["sources"]:
        _load_source(session, actor, item, result)
    for item in items["entities"]:
        _load_entity(session, actor, item, result)
    for item in items["links"]:
        _load_link(session, actor, item, result)
    for item in items["entities"]:
        _load_citations(session, actor, item, "entity", result)
    for item in items["links"]:
        _load_citations(session, actor, item, "link", result)
    if users:
        for username, role in DEMO_USERS:
            if get_user(session, username) is None:
                password = random_password()
                add_user(session, actor, username, role, password)
                result.new_users.append((username, role, password))
    try:
        from workbench.dossiers.demo import load_demo_dossiers
    except ImportError:
        load_demo_dossiers = None
    if load_demo_dossiers is not None:
        result.dossiers = load_demo_dossiers(session, actor)
    return result
