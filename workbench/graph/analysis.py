"""Network analyses on the projection: ego networks, paths to designated parties, ownership chains,
exposure of officials, communities.

Paths ignore direction (a relative or an associate exposes both ways) but not meaning: some links
are bookkeeping rather than relationships (a Sanction record, a position's territory, a
municipality's state), and some kinds are hubs that tie together thousands of unrelated people
(everyone in Sinaloa, every holder of an office). A path through them says nothing about a person,
so paths neither follow those links nor pass through those nodes; the constants below name them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

import networkx as nx
from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.graph.projection import Projection, use_projection
from workbench.schema import ValidationError, registry
from workbench.store.entities import NotFound, surviving
from workbench.store.models import Citation, Entity, Name, Source
from workbench.text import fold

# Links that record a fact about an entity rather than a tie between two parties.
NON_RELATIONAL_LINKS = frozenset({"SanctionOf", "Jurisdiction", "TerritoryParent"})
# Kinds (with their descendants) that paths never pass through: they group unrelated people.
HUB_BASES = ("Territory", "Position", "Sanction")
# Why two parties can be unjoined although both are in the network, for the answers that say no path was found.
PATHS_AVOID = ("a path never runs through an office, a territory or a Sanction record: they group people who "
               "need have nothing to do with each other")
# Kinds an ego network shows but does not expand (one state would pull in everything in it).
EGO_LEAF_BASES = ("Territory",)
STATE_LEVEL = "state"


# ---- results --------------------------------------------------------------------------------

@dataclass
class PathResult:
    nodes: list[str]
    steps: list[dict[str, Any]]
    designated_id: str | None
    length: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OwnershipChain:
    owner_id: str
    asset_id: str
    nodes: list[str]
    link_ids: list[str]
    percentages: list[float | None]
    effective_percentage: float | None
    ended: bool = False
    kinds: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- helpers --------------------------------------------------------------------------------

# What an ownership chain can end at: anything a blocking order could reach.
HOLDING_BASES = ("Asset", "Organization")


def _memo_nodes(proj: Projection, name: str, bases: Iterable[str]) -> set[str]:
    key = f"nodes:{name}"
    if key not in proj.memo:
        proj.memo[key] = proj.nodes_of(registry().kinds_descending_from(bases))
    return proj.memo[key]


def _hubs(proj: Projection) -> set[str]:
    return _memo_nodes(proj, "hubs", HUB_BASES)


def _link_filter(link_kinds: Iterable[str] | None):
    if link_kinds is None:
        return lambda kind: kind not in NON_RELATIONAL_LINKS
    allowed = frozenset(link_kinds)
    unknown = [k for k in allowed if k not in registry().link_kinds]
    if unknown:
        raise ValidationError({"kinds": [f"unknown link kind {k!r} (known: {', '.join(registry().link_kinds)})"
                                         for k in sorted(unknown)]})
    return lambda kind: kind in allowed


def _neighbours(graph: nx.MultiDiGraph, node: str, allowed) -> Iterable[str]:
    """Neighbours over either direction through at least one allowed link."""
    for adjacency in (graph._succ[node], graph._pred[node]):
        for other, keyed in adjacency.items():
            for data in keyed.values():
                if allowed(data["kind"]):
                    yield other
                    break


def _links_between(graph: nx.MultiDiGraph, u: str, v: str, allowed) -> list[tuple[str, str, str, dict]]:
    found = []
    for a, b in ((u, v), (v, u)):
        for key, data in graph._succ[a].get(b, {}).items():
            if allowed(data["kind"]):
                found.append((key, a, b, data))
    found.sort(key=lambda item: (item[3]["kind"], item[0]))
    return found


def _require_node(graph: nx.MultiDiGraph, entity_id: str) -> None:
    if entity_id not in graph:
        raise NotFound(f"no entity with id {entity_id!r} in the network (unknown, deleted or merged)")


def _citations(session: Session, link_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    link_ids = sorted(set(link_ids))
    result: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(link_ids), 500):
        chunk = link_ids[start:start + 500]
        rows = session.execute(
            select(Citation.link_id, Citation.source_id, Source.title, Source.url, Citation.excerpt, Citation.page)
            .join(Source, Source.id == Citation.source_id)
            .where(Citation.link_id.in_(chunk))
            .order_by(Citation.id)
        )
        for link_id, source_id, title, url, excerpt, page in rows:
            result.setdefault(link_id, []).append(
                {"source_id": source_id, "title": title, "url": url, "excerpt": excerpt, "page": page}
            )
    return result


def _path_results(session: Session, proj: Projection, node_paths: list[list[str]], allowed,
                  designated: set[str]) -> list[PathResult]:
    graph = proj.graph
    # Where two entities are joined by several links, a step shows a sourced one if there is one
    # (an uncited duplicate must not hide the cited link a dossier's derivative basis needs).
    between = [[_links_between(graph, u, v, allowed) for u, v in pairwise(nodes)] for nodes in node_paths]
    cites = _citations(session, (link[0] for steps in between for links in steps for link in links))
    chosen = [[next((link for link in links if cites.get(link[0])), links[0]) for links in steps]
              for steps in between]
    results = []
    for nodes, links in zip(node_paths, chosen):
        steps = [
            {
                "link_id": key, "kind": data["kind"], "label": data.get("label"), "source": a, "target": b,
                "start_date": data.get("start_date"), "end_date": data.get("end_date"),
                "citations": cites.get(key, []),
            }
            for key, a, b, data in links
        ]
        end = nodes[-1]
        results.append(PathResult(nodes=list(nodes), steps=steps,
                                  designated_id=end if end in designated else None, length=len(nodes) - 1))
    return results


def _bfs_path(graph: nx.MultiDiGraph, start: str, targets: set[str], max_length: int, allowed,
              blocked: set[str]) -> list[str] | None:
    """Shortest path from start to any target; at equal length the smallest target id wins."""
    if start in targets:
        return [start]
    parent: dict[str, str | None] = {start: None}
    frontier = [start]
    for _ in range(max_length):
        following: list[str] = []
        reached: list[str] = []
        for u in frontier:
            for v in _neighbours(graph, u, allowed):
                if v in parent:
                    continue
                if v in targets:
                    parent[v] = u
                    reached.append(v)
                elif v not in blocked:
                    parent[v] = u
                    following.append(v)
        if reached:
            node: str | None = min(reached)
            path = []
            while node is not None:
                path.append(node)
                node = parent[node]
            return path[::-1]
        frontier = following
        if not frontier:
            break
    return None


def _ball(graph: nx.MultiDiGraph, start: str, radius: int, allowed, blocked: set[str],
          stop: set[str]) -> dict[str, int]:
    """Distances from start up to radius; blocked nodes are skipped, stop nodes not expanded."""
    dist = {start: 0}
    frontier = [start]
    for depth in range(1, radius + 1):
        following = []
        for u in frontier:
            if u in stop and u != start:
                continue
            for v in _neighbours(graph, u, allowed):
                if v in dist or (v in blocked and v not in stop):
                    continue
                dist[v] = depth
                following.append(v)
        frontier = following
    return dist


# ---- public analyses ------------------------------------------------------------------------

def designated_ids(session: Session) -> set[str]:
    """Entities that are the subject of a Sanction record that is not delisted."""
    with use_projection(session) as proj:
        return set(proj.designated)


class UnknownEntity(NotFound):
    """No entity answers to a reference typed by a user; ``suggestions`` are (id, kind, caption) of near names."""

    def __init__(self, ref: str, suggestions: list[tuple[str, str, str]]):
        self.ref, self.suggestions = ref, suggestions
        super().__init__(f"no entity with id or name {ref!r}" + _did_you_mean(suggestions))


def _did_you_mean(entities: Iterable[tuple[str, str, str]]) -> str:
    lines = [f"\n  {entity_id}  {kind}  {caption}" for entity_id, kind, caption in entities]
    return "; did you mean:" + "".join(lines) if lines else ""


# A reference that is neither an id, a name nor the start of one is taken for a misspelling of the best
# fuzzy match when it scores at least this and clearly beats the runner-up; the command prints whom it found.
FUZZY_ACCEPT = 0.85  # the score at which the entity form warns "this looks like X"
FUZZY_MARGIN = 0.05
FUZZY_SUGGEST = 0.5
SUGGESTIONS = 8
PREFIX_CAP = 50  # a prefix shared by more entities than this is only reported as ambiguous


def _live(session: Session, ids: Iterable[str]) -> dict[str, Entity]:
    """The entities behind ids, merged duplicates replaced by the entry they were merged into."""
    live: dict[str, Entity] = {}
    for candidate in ids:
        found = surviving(session, session.get(Entity, candidate))
        if found is not None:
            live[found.id] = found
    return live


def _one(ref: str, found: dict[str, Entity], how: str) -> str:
    if len(found) == 1:
        return next(iter(found))
    listed = sorted(found.values(), key=lambda e: (e.caption, e.id))
    hint = "give an id" if how == "names" else "give an id or more of the name"
    raise ValidationError({"entity": [f"{ref!r} {how} {len(found)} entities; {hint}"
                                      + _did_you_mean((e.id, e.kind, e.caption) for e in listed[:SUGGESTIONS])]})


def resolve_entity(session: Session, ref: str) -> str:
    """An entity id from what a user typed: an id, a name or caption (exactly, or ignoring case and
    accents), the unique start of one ('José María Villaseñor' for its '(FICTIONAL)' caption), or a
    clear fuzzy match (the matching engine's search). Merged duplicates resolve to the winner.

    Several entities fitting raises ValidationError, none UnknownEntity; both list the candidates."""
    ref = (ref or "").strip()
    entity = session.get(Entity, ref) if ref else None
    if entity is not None:
        return next(iter(_live(session, [entity.id])))
    key = fold(ref)
    ids = set(session.execute(select(Entity.id).where(Entity.caption == ref)).scalars())
    ids |= set(session.execute(select(Name.entity_id).where(Name.name == ref)).scalars())
    if not ids and key:
        ids = set(session.execute(select(Name.entity_id).where(Name.normalized == key)).scalars())
    if ids and (found := _live(session, ids)):
        return _one(ref, found, "names")
    if key:  # fold() leaves only [a-z0-9 ], so the key needs no LIKE escaping
        ids = set(session.execute(select(Name.entity_id).distinct().where(Name.normalized.like(f"{key}%"))
                                  .limit(PREFIX_CAP)).scalars())
        literal = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        ids |= set(session.execute(select(Entity.id).where(Entity.caption.ilike(f"{literal}%", escape="\\"))
                                   .limit(PREFIX_CAP)).scalars())
        if ids and (found := _live(session, ids)):
            return _one(ref, found, "begins the names of" + (" at least" if len(ids) >= PREFIX_CAP else ""))
    hits = _fuzzy(session, ref)
    if hits and hits[0].score >= FUZZY_ACCEPT and (len(hits) == 1 or hits[0].score - hits[1].score >= FUZZY_MARGIN):
        return hits[0].entity_id
    raise UnknownEntity(ref, [(h.entity_id, h.kind, h.caption) for h in hits if h.score >= FUZZY_SUGGEST])


def _fuzzy(session: Session, ref: str) -> list[Any]:
    """The matching engine's best matches for a reference."""
    from workbench.matching.search import search_entities

    return search_entities(session, ref, limit=SUGGESTIONS, threshold=FUZZY_SUGGEST) if ref else []


def ego_network(session: Session, entity_id: str, depth: int = 1, link_kinds: Iterable[str] | None = None,
                max_nodes: int = 500) -> dict[str, Any]:
    """The entity's neighbourhood in Cytoscape.js JSON (``truncated`` is true if max_nodes was hit)."""
    allowed = _link_filter(link_kinds) if link_kinds is not None else (lambda kind: True)
    with use_projection(session) as proj:
        graph = proj.graph
        _require_node(graph, entity_id)
        leaves = _memo_nodes(proj, "ego_leaves", EGO_LEAF_BASES)
        designated = proj.designated
        level = {entity_id: 0}
        frontier = [entity_id]
        truncated = False
        for d in range(1, max(depth, 0) + 1):
            following = []
            for u in frontier:
                if u in leaves and u != entity_id:
                    continue
                for v in _neighbours(graph, u, allowed):
                    if v in level:
                        continue
                    if len(level) >= max_nodes:
                        truncated = True
                        break
                    level[v] = d
                    following.append(v)
                if truncated:
                    break
            frontier = following
            if truncated:
                break
        nodes = []
        for node, d in level.items():
            attrs = graph.nodes[node]
            nodes.append({"data": {"id": node, "label": attrs.get("caption", node), "kind": attrs.get("kind"),
                                   "designated": node in designated, "depth": d}})
        edges = []
        for node in level:
            for other, keyed in graph._succ[node].items():
                if other not in level:
                    continue
                for key, data in keyed.items():
                    if not allowed(data["kind"]):
                        continue
                    edge = {"id": key, "source": node, "target": other, "kind": data["kind"],
                            "label": data.get("label", data["kind"])}
                    for extra in ("start_date", "end_date", "percentage"):
                        if extra in data:
                            edge[extra] = data[extra]
                    edges.append({"data": edge})
        return {"nodes": nodes, "edges": edges, "truncated": truncated}


def path_to_designated(session: Session, entity_id: str, max_length: int = 6) -> PathResult | None:
    """The shortest chain of relationships from the entity to a designated party."""
    allowed = _link_filter(None)
    with use_projection(session) as proj:
        _require_node(proj.graph, entity_id)
        designated = proj.designated
        nodes = _bfs_path(proj.graph, entity_id, designated, max_length, allowed, _hubs(proj))
        if nodes is None:
            return None
        return _path_results(session, proj, [nodes], allowed, designated)[0]


def shortest_path(session: Session, source_id: str, target_id: str, max_length: int = 8,
                  link_kinds: Iterable[str] | None = None) -> PathResult | None:
    """The shortest chain of relationships between two entities (either may be a hub kind)."""
    allowed = _link_filter(link_kinds)
    with use_projection(session) as proj:
        _require_node(proj.graph, source_id)
        _require_node(proj.graph, target_id)
        nodes = _bfs_path(proj.graph, source_id, {target_id}, max_length, allowed, _hubs(proj) - {source_id})
        if nodes is None:
            return None
        return _path_results(session, proj, [nodes], allowed, proj.designated)[0]


def _extend_paths(graph: nx.MultiDiGraph, allowed, targets: set[str], to_target: dict[str, int], path: list[str],
                  on_path: set[str], length: int, level: list[list[str]], level_cap: int) -> None:
    """Depth-first: append to ``level`` every simple path of exactly ``length`` links ending at a target."""
    depth_now = len(path) - 1
    for v in sorted(set(_neighbours(graph, path[-1], allowed))):
        if len(level) >= level_cap:
            return
        if v in on_path or v not in to_target:
            continue
        if v in targets:
            if depth_now + 1 == length:
                level.append([*path, v])
            continue
        if depth_now + 1 + to_target[v] <= length:
            path.append(v)
            on_path.add(v)
            _extend_paths(graph, allowed, targets, to_target, path, on_path, length, level, level_cap)
            path.pop()
            on_path.discard(v)


def _simple_paths(graph: nx.MultiDiGraph, start: str, targets: set[str], max_length: int, limit: int,
                  allowed, blocked: set[str]) -> list[list[str]]:
    """All simple paths start -> a target (ending at the first target met), shortest first."""
    if start in targets:
        return [[start]]
    ball = _ball(graph, start, max_length, allowed, blocked, targets)
    # Distance from each ball node to the nearest target, inside the ball, without crossing a target.
    to_target = {t: 0 for t in ball if t in targets}
    frontier = list(to_target)
    depth = 0
    while frontier and depth < max_length:
        depth += 1
        following = []
        for u in frontier:
            for v in _neighbours(graph, u, allowed):
                if v in ball and v not in to_target and v not in targets:
                    to_target[v] = depth
                    following.append(v)
        frontier = following
    if start not in to_target:
        return []
    found: list[list[str]] = []
    # Paths of one length are sorted before the limit applies; this caps the work on dense graphs.
    level_cap = max(limit * 20, 1000)
    for length in range(to_target[start], max_length + 1):
        level: list[list[str]] = []
        _extend_paths(graph, allowed, targets, to_target, [start], {start}, length, level, level_cap)
        level.sort(key=lambda p: (p[-1], p))
        found.extend(level)
        if len(found) >= limit:
            break
    return found[:limit]


def paths_to_designated(session: Session, entity_id: str, max_length: int = 4, limit: int = 50) -> list[PathResult]:
    """Every simple path (up to max_length links) to a designated party, shortest first."""
    allowed = _link_filter(None)
    with use_projection(session) as proj:
        _require_node(proj.graph, entity_id)
        designated = proj.designated
        node_paths = _simple_paths(proj.graph, entity_id, designated, max_length, limit, allowed, _hubs(proj))
        return _path_results(session, proj, node_paths, allowed, designated)


def ownership_link_kinds() -> frozenset[str]:
    """Link kinds that convey ownership or control: those the schema maps to FtM Ownership."""
    return frozenset(k.name for k in registry().link_kinds.values() if k.ftm == "Ownership")


def _effective(percentages: list[float | None]) -> float | None:
    if any(p is None for p in percentages):
        return None
    share = 1.0
    for p in percentages:
        share *= p / 100.0
    return round(share * 100.0, 6)


def ownership_chains(session: Session, entity_id: str, max_depth: int = 6) -> list[OwnershipChain]:
    """Chains of ownership/control links from the entity to what could be blocked: assets (real
    estate, accounts, vessels...) and the companies and organisations held on the way, with
    effective ownership. The dossier's assets to block and `workbench graph ownership` both use it.

    Effective ownership multiplies the percentages along the chain (60 % of a company that owns
    50 % of a house = 30 %); it is None when any link's share is unknown (e.g. a Control link).
    """
    kinds = ownership_link_kinds()
    with use_projection(session) as proj:
        graph = proj.graph
        _require_node(graph, entity_id)
        assets = _memo_nodes(proj, "holdings", HOLDING_BASES)
        chains: list[OwnershipChain] = []
        nodes = [entity_id]
        links: list[tuple[str, dict]] = []

        def walk(u: str) -> None:
            if len(links) >= max_depth:
                return
            for v, keyed in graph._succ[u].items():
                if v in nodes:
                    continue
                for key, data in keyed.items():
                    if data["kind"] not in kinds:
                        continue
                    nodes.append(v)
                    links.append((key, data))
                    if v in assets:
                        pcts = [d.get("percentage") for _, d in links]
                        chains.append(OwnershipChain(
                            owner_id=entity_id, asset_id=v, nodes=list(nodes), link_ids=[k for k, _ in links],
                            percentages=pcts, effective_percentage=_effective(pcts),
                            ended=any("end_date" in d for _, d in links), kinds=[d["kind"] for _, d in links],
                        ))
                    walk(v)
                    nodes.pop()
                    links.pop()

        walk(entity_id)
    chains.sort(key=lambda c: (c.effective_percentage is None, -(c.effective_percentage or 0), len(c.link_ids),
                               c.asset_id, c.link_ids))
    return chains


# ---- officials, states, exposure ------------------------------------------------------------

def _state_of(proj: Projection, territory: str, territories: set[str]) -> str | None:
    """Walk TerritoryParent links up from a territory to the first one whose level is 'state'."""
    graph = proj.graph
    seen = set()
    node: str | None = territory
    while node is not None and node not in seen:
        seen.add(node)
        if graph.nodes[node].get("level") == STATE_LEVEL:
            return node
        parents = sorted(v for v, keyed in graph._succ[node].items()
                         if v in territories and any(d["kind"] == "TerritoryParent" for d in keyed.values()))
        node = parents[0] if parents else None
    return None


def officials(session: Session) -> list[dict[str, Any]]:
    """Persons holding a Position (Occupancy), with the positions and the states they fall under."""
    with use_projection(session) as proj:
        return _officials(proj)


def _officials(proj: Projection) -> list[dict[str, Any]]:
    graph = proj.graph
    persons = _memo_nodes(proj, "persons", ("Person",))
    positions = _memo_nodes(proj, "positions", ("Position",))
    territories = _memo_nodes(proj, "territories", ("Territory",))
    result = []
    for person in sorted(persons):
        held = sorted({v for v, keyed in graph._succ[person].items()
                       if v in positions and any(d["kind"] == "Occupancy" for d in keyed.values())})
        if not held:
            continue
        states: set[str] = set()
        for position in held:
            for v, keyed in graph._succ[position].items():
                if v in territories and any(d["kind"] == "Jurisdiction" for d in keyed.values()):
                    state = _state_of(proj, v, territories)
                    if state:
                        states.add(state)
        result.append({"entity_id": person, "positions": held, "states": sorted(states)})
    return result


CENTRALITY_EXACT = 1500  # nodes up to which betweenness is computed exactly; above, from sampled sources
CENTRALITY_WORK = 2_000_000  # node and link visits the sampled sources may take together (each is one search)


def _centrality(proj: Projection, allowed, around: Iterable[str]) -> dict[str, float]:
    """Betweenness on the relational network, for the nodes of the components holding ``around`` (the
    officials ranked), normalised as over the whole network.

    A shortest path never leaves its component, so the components without an official add nothing to an
    official's betweenness: leaving them out changes no value, and spares the search over the whole store
    (a home page after any change took 90 s with a 20,000-parcel roll beside the SDN list). A large component
    is sampled from sources in number to a fixed budget of work (seeded, so ranks are stable)."""
    key = ("centrality", frozenset(around))
    if key in proj.memo:
        return proj.memo[key]
    hubs = _hubs(proj)
    simple = nx.Graph()
    for u, v, data in proj.graph.edges(data=True):
        if u in hubs or v in hubs or not allowed(data["kind"]):
            continue
        simple.add_edge(u, v)
    held: set[str] = set()
    for node in around:
        if node in simple and node not in held:
            held |= nx.node_connected_component(simple, node)
    sub = simple.subgraph(held)
    n, total = sub.number_of_nodes(), simple.number_of_nodes()
    values: dict[str, float] = {}
    if n > 2:
        if n <= CENTRALITY_EXACT:
            values = nx.betweenness_centrality(sub, normalized=True)
        else:
            k = max(10, min(200, CENTRALITY_WORK // (n + sub.number_of_edges())))
            values = nx.betweenness_centrality(sub, k=min(k, n), normalized=True, seed=0)
        scale = (n - 1) * (n - 2) / ((total - 1) * (total - 2))  # as normalised over the whole network
        values = {node: value * scale for node, value in values.items()}
    proj.memo[key] = values
    return values


def _independent_paths(graph: nx.MultiDiGraph, start: str, designated: set[str], radius: int, allowed,
                       hubs: set[str]) -> int:
    """Paths to designated parties that share no entity but the start, within the start's neighbourhood."""
    ball = _ball(graph, start, radius, allowed, hubs, designated)
    targets = [n for n in ball if n in designated and n != start]
    if not targets:
        return 0
    local = nx.Graph()
    for u in ball:
        if u in designated:
            continue
        for v in _neighbours(graph, u, allowed):
            if v in ball:
                local.add_edge(u, v)
    sink = ("__designated__",)
    for t in targets:
        local.add_edge(t, sink)
    return int(nx.algorithms.connectivity.local_node_connectivity(local, start, sink))


class UnknownState(NotFound):
    """No state answers to the name or id a user gave (an input error, like an unknown entity); the
    message offers the states it may have meant, or those the network holds."""

    def __init__(self, state: str, near: list[str], known: list[str]):
        self.state, self.near, self.known = state, near, known
        message = f"no state (a Territory of level 'state') with id or name {state!r}"
        if near:
            message += "; did you mean " + " or ".join(near) + "?"
        elif known:
            shown = ", ".join(known[:STATES_LISTED])
            more = f" and {len(known) - STATES_LISTED} more" if len(known) > STATES_LISTED else ""
            message += f"; the states in the network are {shown}{more}"
        else:
            message += "; the network holds no state yet"
        super().__init__(message)


STATES_LISTED = 12  # an unknown state lists at most this many of the known ones
STATE_NEAR = 70  # rapidfuzz WRatio from which a state's name is offered for a misspelt one


def _unknown_state(graph: nx.MultiDiGraph, states: list[str], state: str) -> UnknownState:
    from rapidfuzz import fuzz

    captions = {t: graph.nodes[t].get("caption") or t for t in states}
    key = fold(state)
    scored = sorted(((fuzz.WRatio(key, fold(c)), c) for c in captions.values()), key=lambda sc: (-sc[0], sc[1]))
    near = [caption for score, caption in scored if key and score >= STATE_NEAR][:5]
    return UnknownState(state, near, sorted(captions.values(), key=fold))


def _states_named(proj: Projection, state: str) -> set[str]:
    """The state-level territories a user means: by id, by name ignoring case and accents, or by the start
    of the name ('Michoacán' for 'Michoacán de Ocampo', 'Sin' for 'Sinaloa', as entity references are
    resolved)."""
    graph = proj.graph
    states = [t for t in _memo_nodes(proj, "territories", ("Territory",)) if graph.nodes[t].get("level") == STATE_LEVEL]
    key = fold(state)
    exact = {t for t in states if t == state or fold(graph.nodes[t].get("caption", "")) == key}
    if exact:
        return exact
    started = {t for t in states if key and fold(graph.nodes[t].get("caption", "")).startswith(key)}
    if not started:
        raise _unknown_state(graph, states, state)
    if len(started) > 1:
        names = ", ".join(sorted(graph.nodes[t].get("caption", t) for t in started))
        raise ValidationError({"state": [f"{state!r} begins the names of several states ({names}): give more of it"]})
    return started


def exposure(session: Session, state: str | None = None, max_length: int = 4) -> list[dict[str, Any]]:
    """Every official's exposure to designated parties, ranked within each state.

    Rank order: shortest distance to a designated party first (none found = last), then more
    independent paths, then higher betweenness centrality, then name. ``state`` filters by the
    state's id, its name or the start of its name; an official whose positions fall under no state is listed
    under None.
    """
    allowed = _link_filter(None)
    with use_projection(session) as proj:
        graph = proj.graph
        states_wanted: set[str] | None = None
        if state is not None:
            states_wanted = _states_named(proj, state)
        designated = proj.designated
        hubs = _hubs(proj)
        listed = _officials(proj)
        if states_wanted is not None:
            listed = [o for o in listed if states_wanted & set(o["states"])]
        centrality = _centrality(proj, allowed, [o["entity_id"] for o in listed]) if listed else {}
        rows_by_state: dict[str | None, list[dict[str, Any]]] = {}
        for official in listed:
            person = official["entity_id"]
            path = _bfs_path(graph, person, designated, max_length, allowed, hubs)
            distance = len(path) - 1 if path else None
            nearest = path[-1] if path else None
            paths = 0 if person in designated else _independent_paths(graph, person, designated, max_length,
                                                                       allowed, hubs)
            row = {
                "entity_id": person,
                "caption": graph.nodes[person].get("caption"),
                "positions": [graph.nodes[p].get("caption") for p in official["positions"]],
                "designated": person in designated,
                "distance": distance,
                "independent_paths": paths,
                "nearest_designated_id": nearest,
                "nearest_designated": graph.nodes[nearest].get("caption") if nearest else None,
                "centrality": round(centrality.get(person, 0.0), 6),
            }
            for state_id in official["states"] or [None]:
                if states_wanted is not None and state_id not in states_wanted:
                    continue
                rows_by_state.setdefault(state_id, []).append(dict(row))
        result = []
        for state_id in sorted(rows_by_state, key=lambda s: (s is None, graph.nodes[s].get("caption", "") if s else "")):
            rows = rows_by_state[state_id]
            rows.sort(key=lambda r: (r["distance"] is None, r["distance"] if r["distance"] is not None else math.inf,
                                     -r["independent_paths"], -r["centrality"], r["caption"] or "", r["entity_id"]))
            for rank, row in enumerate(rows, start=1):
                row.update(rank=rank, state_id=state_id,
                           state=graph.nodes[state_id].get("caption") if state_id else None)
                result.append(row)
        return result


# ---- communities ----------------------------------------------------------------------------

def communities(session: Session, around: str | None = None, depth: int = 2, seed: int = 0,
                resolution: float = 1.0, min_size: int = 2) -> list[dict[str, Any]]:
    """Louvain communities of the relational network (or of one entity's neighbourhood).

    Links are undirected and weighted by how many links join two entities; hub kinds and
    bookkeeping links are left out, as for paths. Largest community first.
    """
    allowed = _link_filter(None)
    with use_projection(session) as proj:
        graph = proj.graph
        hubs = _hubs(proj)
        scope: set[str] | None = None
        if around is not None:
            _require_node(graph, around)
            scope = set(_ball(graph, around, depth, allowed, hubs, set()))
        weighted = nx.Graph()
        for u, v, data in graph.edges(data=True):
            if u in hubs or v in hubs or not allowed(data["kind"]):
                continue
            if scope is not None and (u not in scope or v not in scope):
                continue
            if weighted.has_edge(u, v):
                weighted[u][v]["weight"] += 1
            else:
                weighted.add_edge(u, v, weight=1)
        if weighted.number_of_edges() == 0:
            return []
        groups = nx.community.louvain_communities(weighted, weight="weight", resolution=resolution, seed=seed)
        designated = proj.designated
        result = []
        for members in groups:
            if len(members) < min_size:
                continue
            ordered = sorted(members)
            result.append({
                "size": len(ordered),
                "members": ordered,
                "captions": [graph.nodes[m].get("caption") for m in ordered],
                "designated": [m for m in ordered if m in designated],
            })
        result.sort(key=lambda c: (-c["size"], c["members"][0]))
        for number, community in enumerate(result, start=1):
            community["id"] = number
        return result
