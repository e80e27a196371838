"""A networkx projection of the store, cached per database and kept current from the audit log.

Analyses (paths, exposure, ego networks) need the whole network in memory: a breadth-first search
over SQL joins is hundreds of times slower. Rebuilding the graph for every request would cost
seconds on a large store, so one projection per database URL lives in the process and is brought
up to date from the audit log: ``audit_head.seq`` counts every change, and the audit rows after
the last seq we applied name the entities and links that changed. Only when the gap is large (a
bulk import) or the log no longer matches what we saw (rollback, truncated test database) is
the graph rebuilt from scratch.

Nodes are live entities (merged duplicates are absent), keyed by entity id, with ``kind``,
``caption`` and a few schema-defined attributes the analyses use. Edges are links, keyed by link
id, with ``kind``, ``label`` (the link kind's label from ``schema/links.yml``), ``start_date``,
``end_date`` and ``percentage`` where the link kind has a percentage property.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import Session

from workbench.schema import Registry, registry
from workbench.store.models import AuditEntry, AuditHead, Entity, Link

# Beyond this many audit entries since the last refresh, a rebuild is cheaper than replaying them.
REBUILD_GAP = 5000
# Entity properties copied onto nodes (first value), because analyses filter on them.
NODE_PROPERTIES = ("level", "status")
# Audit object types that never change the network (citations are read live by the analyses).
NON_GRAPH_OBJECTS = frozenset({
    "source", "citation", "user", "api_token", "token", "dossier", "exhibit", "comment", "review_item",
    "screening_job", "import_run", "stored_file", "pair_decision", "judgement", "note",
})


@dataclass
class Projection:
    """One database's graph, the audit position it reflects, and indexes for incremental updates."""

    graph: nx.MultiDiGraph
    seq: int
    head_hash: str
    edge_ends: dict[str, tuple[str, str]] = field(default_factory=dict)
    by_kind: dict[str, set[str]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    version: int = 0
    _designated: set[str] | None = None
    rebuilds: int = 0
    incremental_updates: int = 0
    # Derived data analyses reuse until the next change (e.g. the set of hub nodes).
    memo: dict[str, Any] = field(default_factory=dict)

    def nodes_of(self, kinds: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for kind in kinds:
            found |= self.by_kind.get(kind, set())
        return found

    @property
    def designated(self) -> set[str]:
        """Targets of a SanctionOf link from a Sanction whose status is not delisted."""
        if self._designated is None:
            reg = registry()
            result: set[str] = set()
            for sanction in self.nodes_of(reg.kinds_descending_from(["Sanction"])):
                if self.graph.nodes[sanction].get("status", "").strip().lower() == "delisted":
                    continue
                for _, target, data in self.graph.out_edges(sanction, data=True):
                    if data.get("kind") == "SanctionOf":
                        result.add(target)
            self._designated = result
        return self._designated

    def changed(self) -> None:
        self.version += 1
        self._designated = None
        self.memo.clear()


_cache: dict[str, Projection] = {}
_cache_lock = threading.Lock()


def database_key(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=False)


def forget(session_or_url: Session | str | None = None) -> None:
    """Drop the cached projection of one database (or all): the next call rebuilds."""
    with _cache_lock:
        if session_or_url is None:
            _cache.clear()
        else:
            key = session_or_url if isinstance(session_or_url, str) else database_key(session_or_url)
            _cache.pop(key, None)


# ---- building -------------------------------------------------------------------------------

def _percentage_link_kinds(reg: Registry) -> dict[str, list[str]]:
    """Link kinds with percentage-typed properties, and those property names (from the schema)."""
    return {
        kind.name: [p.name for p in kind.properties.values() if p.type.name == "percentage"]
        for kind in reg.link_kinds.values()
        if any(p.type.name == "percentage" for p in kind.properties.values())
    }


def _to_float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def node_attributes(kind: str, caption: str, properties: dict[str, Any] | None) -> dict[str, Any]:
    attrs: dict[str, Any] = {"kind": sys.intern(kind), "caption": caption}
    properties = properties or {}
    for prop in NODE_PROPERTIES:
        values = properties.get(prop)
        if values:
            attrs[prop] = values[0]
    topics = properties.get("topics")
    if topics:
        attrs["topics"] = ";".join(topics)
    return attrs


def edge_attributes(reg: Registry, kind: str, start_date: str | None, end_date: str | None,
                    percentage: float | None) -> dict[str, Any]:
    spec = reg.link_kinds.get(kind)
    attrs: dict[str, Any] = {"kind": sys.intern(kind), "label": spec.label if spec else kind}
    if start_date:
        attrs["start_date"] = start_date
    if end_date:
        attrs["end_date"] = end_date
    if percentage is not None:
        attrs["percentage"] = percentage
    return attrs


def _link_percentage(properties: dict[str, Any] | None, props: list[str]) -> float | None:
    for prop in props:
        values = (properties or {}).get(prop)
        if values:
            return _to_float(values[0])
    return None


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    return (int(row[0]), row[1] or "") if row else (0, "")


def build(session: Session) -> Projection:
    """Read every live entity and link into a fresh projection."""
    # Hundreds of thousands of new dicts trigger the cyclic GC over and over (it scans the whole
    # growing graph each time); nothing built here is cyclic garbage, so pause it meanwhile.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(session)
    finally:
        if was_enabled:
            gc.enable()


def _build(session: Session) -> Projection:
    reg = registry()
    seq, head_hash = _head(session)
    graph = nx.MultiDiGraph()
    by_kind: dict[str, set[str]] = {}
    # Properties come as text and are decoded only when they hold a property nodes carry: most
    # entities have none, and decoding 100 000 JSON documents is a good part of the build time.
    rows = session.execute(
        select(Entity.id, Entity.kind, Entity.caption, cast(Entity.properties, Text))
        .where(Entity.merged_into.is_(None))
    )
    markers = tuple(f'"{prop}"' for prop in (*NODE_PROPERTIES, "topics"))
    nodes = []
    for entity_id, kind, caption, raw in rows:
        if isinstance(raw, dict):  # a driver that decodes JSON even when cast
            properties = raw
        else:
            properties = json.loads(raw) if raw and any(m in raw for m in markers) else None
        nodes.append((entity_id, node_attributes(kind, caption, properties)))
        by_kind.setdefault(kind, set()).add(entity_id)
    graph.add_nodes_from(nodes)
    del nodes

    pct_kinds = _percentage_link_kinds(reg)
    percentages: dict[str, float | None] = {}
    if pct_kinds:
        for link_id, kind, properties in session.execute(
            select(Link.id, Link.kind, Link.properties).where(Link.kind.in_(list(pct_kinds)))
        ):
            percentages[link_id] = _link_percentage(properties, pct_kinds[kind])

    edge_ends: dict[str, tuple[str, str]] = {}
    edges = []
    has_node = graph._node  # plain dict membership: this loop runs once per link
    for link_id, kind, source_id, target_id, start_date, end_date in session.execute(
        select(Link.id, Link.kind, Link.source_id, Link.target_id, Link.start_date, Link.end_date)
    ):
        if source_id not in has_node or target_id not in has_node:
            continue  # an endpoint was merged away
        edges.append((source_id, target_id, link_id,
                      edge_attributes(reg, kind, start_date, end_date, percentages.get(link_id))))
        edge_ends[link_id] = (source_id, target_id)
    graph.add_edges_from(edges)
    return Projection(graph=graph, seq=seq, head_hash=head_hash, edge_ends=edge_ends, by_kind=by_kind)


# ---- incremental refresh --------------------------------------------------------------------

def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _remove_node(proj: Projection, node: str) -> None:
    graph = proj.graph
    if node not in graph:
        return
    for link_id in [k for _, _, k in graph.out_edges(node, keys=True)] + [k for _, _, k in graph.in_edges(node, keys=True)]:
        proj.edge_ends.pop(link_id, None)
    kind = graph.nodes[node].get("kind")
    proj.by_kind.get(kind, set()).discard(node)
    graph.remove_node(node)


def _remove_edge(proj: Projection, link_id: str) -> None:
    ends = proj.edge_ends.pop(link_id, None)
    if ends and proj.graph.has_edge(ends[0], ends[1], key=link_id):
        proj.graph.remove_edge(ends[0], ends[1], key=link_id)


def _add_links(session: Session, proj: Projection, links: Iterable[Link], reg: Registry) -> None:
    pct_kinds = _percentage_link_kinds(reg)
    for link in links:
        _remove_edge(proj, link.id)
        if link.source_id not in proj.graph or link.target_id not in proj.graph:
            continue
        pct = _link_percentage(link.properties, pct_kinds[link.kind]) if link.kind in pct_kinds else None
        proj.graph.add_edge(link.source_id, link.target_id, key=link.id,
                            **edge_attributes(reg, link.kind, link.start_date, link.end_date, pct))
        proj.edge_ends[link.id] = (link.source_id, link.target_id)


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def apply_changes(session: Session, proj: Projection, entity_ids: set[str], link_ids: set[str]) -> None:
    """Bring the named entities (with all their links) and links in line with the database."""
    reg = registry()
    graph = proj.graph
    touched_entities: list[str] = []
    for chunk in _chunks(sorted(entity_ids)):
        found = {e.id: e for e in session.execute(select(Entity).where(Entity.id.in_(chunk))).scalars()}
        for entity_id in chunk:
            entity = found.get(entity_id)
            if entity is None or entity.merged_into is not None:
                _remove_node(proj, entity_id)
                continue
            attrs = node_attributes(entity.kind, entity.caption, entity.properties)
            if entity_id in graph:
                old_kind = graph.nodes[entity_id].get("kind")
                if old_kind != entity.kind:
                    proj.by_kind.get(old_kind, set()).discard(entity_id)
                graph.nodes[entity_id].clear()
                graph.nodes[entity_id].update(attrs)
            else:
                graph.add_node(entity_id, **attrs)
            proj.by_kind.setdefault(entity.kind, set()).add(entity_id)
            touched_entities.append(entity_id)
    # Re-read every link of a touched entity: a revived (unmerged) entity gets its links back.
    for chunk in _chunks(touched_entities):
        links = session.execute(
            select(Link).where(or_(Link.source_id.in_(chunk), Link.target_id.in_(chunk)))
        ).scalars().all()
        _add_links(session, proj, links, reg)
    for chunk in _chunks(sorted(link_ids)):
        found_links = {link.id: link for link in session.execute(select(Link).where(Link.id.in_(chunk))).scalars()}
        for link_id in chunk:
            if link_id not in found_links:
                _remove_edge(proj, link_id)
        _add_links(session, proj, found_links.values(), reg)
    if entity_ids or link_ids:  # a note or a citation changes no analysis: keep what was computed
        proj.changed()


def _refresh(session: Session, proj: Projection, seq: int, head_hash: str) -> bool:
    """Replay audit entries after proj.seq; False if the log does not continue what we saw."""
    if proj.seq:
        seen = session.execute(select(AuditEntry.hash).where(AuditEntry.seq == proj.seq)).scalar_one_or_none()
        if seen != proj.head_hash:
            return False
    entity_ids: set[str] = set()
    link_ids: set[str] = set()
    unknown: set[str] = set()
    for action, object_type, object_id, before, after in session.execute(
        select(AuditEntry.action, AuditEntry.object_type, AuditEntry.object_id, AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.seq > proj.seq).order_by(AuditEntry.seq)
    ):
        if action.partition(".")[0] in NON_GRAPH_OBJECTS:  # 'note.create' is filed under its entity
            continue
        if object_type == "entity":
            entity_ids.add(object_id)
        elif object_type == "link":
            link_ids.add(object_id)
        elif object_type not in NON_GRAPH_OBJECTS:
            # A change we do not know (e.g. a merge): refresh anything it names.
            unknown.add(object_id)
            unknown.update(s for s in _strings(before) if len(s) <= 120)
            unknown.update(s for s in _strings(after) if len(s) <= 120)
    if unknown:
        candidates = sorted(unknown)
        for chunk in _chunks(candidates):
            entity_ids.update(session.execute(select(Entity.id).where(Entity.id.in_(chunk))).scalars())
            link_ids.update(session.execute(select(Link.id).where(Link.id.in_(chunk))).scalars())
        entity_ids.update(c for c in candidates if c in proj.graph)
        link_ids.update(c for c in candidates if c in proj.edge_ends)
    apply_changes(session, proj, entity_ids, link_ids)
    proj.seq, proj.head_hash = seq, head_hash
    proj.incremental_updates += 1
    return True


def projection_for(session: Session) -> Projection:
    """The cached projection of this session's database, brought up to date."""
    key = database_key(session)
    with _cache_lock:
        proj = _cache.get(key)
    seq, head_hash = _head(session)
    if proj is not None:
        with proj.lock:
            if proj.seq == seq and proj.head_hash == head_hash:
                return proj
            if proj.seq < seq and seq - proj.seq <= REBUILD_GAP and _refresh(session, proj, seq, head_hash):
                return proj
    fresh = build(session)
    fresh.rebuilds = (proj.rebuilds if proj else 0) + 1
    with _cache_lock:
        _cache[key] = fresh
    return fresh


def graph_for(session: Session) -> nx.MultiDiGraph:
    """The store as a MultiDiGraph (shared: treat it as read-only)."""
    return projection_for(session).graph


@contextmanager
def use_projection(session: Session) -> Iterator[Projection]:
    """The current projection, locked so that no refresh changes it while an analysis reads it."""
    proj = projection_for(session)
    with proj.lock:
        yield proj
