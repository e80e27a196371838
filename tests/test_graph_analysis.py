"""Each analysis on the hand-built network of test_graph_network, checked exactly."""

from __future__ import annotations

import pytest

from workbench.graph import analysis, projection
from workbench.schema import ValidationError
from workbench.store import entities as svc
from workbench.store.entities import NotFound


def test_shortest_path_to_designated_with_links_and_citations(session, network):
    result = analysis.path_to_designated(session, "b-police")
    # Two paths of length 2 (to K via Z, to X via W): the tie goes to the smaller id.
    assert result.nodes == ["b-police", "z-member", "k-cartel"]
    assert result.designated_id == "k-cartel" and result.length == 2
    assert [(s["link_id"], s["kind"], s["source"], s["target"]) for s in result.steps] == [
        (network["b_z"], "Associate", "b-police", "z-member"),
        (network["z_k"], "Membership", "z-member", "k-cartel"),
    ]
    first, second = result.steps
    assert first["citations"] == [{"source_id": network["source"], "title": "Press report on Z",
                                   "url": "https://example.org/report", "excerpt": "B was seen with Z",
                                   "page": None}]
    assert second["citations"] == []
    assert analysis.path_to_designated(session, "a-mayor").nodes == ["a-mayor", "x-boss"]


def test_paths_never_run_through_territories_positions_or_delisted_sanctions(session, network):
    # C is tied only to Y, whose sanction is delisted; his office links him to Sinaloa and, through
    # it, to every Culiacán official, but an office or a state is not a relationship.
    assert analysis.path_to_designated(session, "c-governor") is None
    assert analysis.paths_to_designated(session, "c-governor") == []
    assert analysis.path_to_designated(session, "d-uruapan").nodes == ["d-uruapan", "m-brother", "co1", "k-cartel"]
    assert analysis.path_to_designated(session, "d-uruapan", max_length=2) is None


def test_all_simple_paths_to_designated(session, network):
    paths = analysis.paths_to_designated(session, "b-police", max_length=4)
    assert [p.nodes for p in paths] == [
        ["b-police", "z-member", "k-cartel"],
        ["b-police", "w-fixer", "x-boss"],
        ["b-police", "w-fixer", "z-member", "k-cartel"],
        ["b-police", "z-member", "w-fixer", "x-boss"],
    ]
    assert [p.designated_id for p in paths] == ["k-cartel", "x-boss", "k-cartel", "x-boss"]
    assert [s["link_id"] for s in paths[2].steps] == [network["b_w"], network["w_z"], network["z_k"]]
    assert [p.nodes for p in analysis.paths_to_designated(session, "b-police", max_length=4, limit=1)] == [
        ["b-police", "z-member", "k-cartel"]]
    assert len(analysis.paths_to_designated(session, "e-treasurer", max_length=4)) == 3


def test_shortest_path_between_any_two_entities(session, network):
    result = analysis.shortest_path(session, "a-mayor", "b-police")
    assert result.nodes == ["a-mayor", "x-boss", "w-fixer", "b-police"]
    assert result.designated_id is None
    assert analysis.shortest_path(session, "a-mayor", "c-governor") is None
    with pytest.raises(NotFound):
        analysis.shortest_path(session, "a-mayor", "nobody")


def test_ownership_chains_multiply_percentages(session, network):
    """Chains end at assets and at the companies held on the way (a blocking order reaches both)."""
    chains = analysis.ownership_chains(session, "a-mayor")
    assert [(c.asset_id, c.effective_percentage) for c in chains] == [
        ("h2", 100.0), ("co2", 60.0), ("h1", 30.0), ("co3", 24.0), ("h3", 6.0), ("v1", None)]
    h3 = chains[4]
    assert h3.nodes == ["a-mayor", "co2", "co3", "h3"]
    assert h3.link_ids == [network["a_co2"], network["co2_co3"], network["co3_h3"]]
    assert h3.percentages == [60.0, 40.0, 25.0]
    assert chains[5].kinds == ["Ownership", "Control"]
    # From the intermediate company the same houses are held at its own shares.
    assert [(c.asset_id, c.effective_percentage) for c in analysis.ownership_chains(session, "co2")] == [
        ("h1", 50.0), ("co3", 40.0), ("h3", 10.0), ("v1", None)]
    assert [c.asset_id for c in analysis.ownership_chains(session, "a-mayor", max_depth=2)] == [
        "h2", "co2", "h1", "co3", "v1"]


def test_exposure_ranks_officials_per_state(session, network):
    rows = analysis.exposure(session)
    table = [(r["state"], r["rank"], r["entity_id"], r["distance"], r["independent_paths"], r["nearest_designated_id"])
             for r in rows]
    assert table == [
        ("Michoacán", 1, "d-uruapan", 3, 1, "k-cartel"),
        ("Sinaloa", 1, "a-mayor", 1, 1, "x-boss"),
        ("Sinaloa", 2, "b-police", 2, 2, "k-cartel"),
        ("Sinaloa", 3, "e-treasurer", 2, 1, "k-cartel"),
        ("Sinaloa", 4, "c-governor", None, 0, None),
    ]
    assert rows[2]["positions"] == ["Police chief of Culiacán"]
    assert all(0.0 <= r["centrality"] <= 1.0 for r in rows)
    michoacan = analysis.exposure(session, state="michoacan")
    assert [r["entity_id"] for r in michoacan] == ["d-uruapan"]
    with pytest.raises(NotFound):
        analysis.exposure(session, state="Atlantis")


def test_centrality_breaks_ties_in_exposure(session, researcher, network):
    # F and G both reach X in two steps through a single intermediary; F also sits between two
    # groups (brokers more paths), so F ranks above G.
    for eid, name in [("f-official", "Fidel Official"), ("g-official", "Gloria Official"), ("p1", "P One"),
                      ("q1", "Q One"), ("q2", "Q Two")]:
        svc.create_entity(session, researcher, "Person", {"name": name}, entity_id=eid)
    for eid in ("f-official", "g-official"):
        svc.create_entity(session, researcher, "Position", {"name": f"Post of {eid}"}, entity_id=f"pos-{eid}")
        svc.create_link(session, researcher, "Jurisdiction", f"pos-{eid}", "michoacan")
        svc.create_link(session, researcher, "Occupancy", eid, f"pos-{eid}")
    svc.create_link(session, researcher, "Associate", "f-official", "p1")
    svc.create_link(session, researcher, "Associate", "g-official", "p1")
    svc.create_link(session, researcher, "Associate", "p1", "x-boss")
    svc.create_link(session, researcher, "Associate", "f-official", "q1")
    svc.create_link(session, researcher, "Associate", "q1", "q2")
    session.commit()
    ranked = [(r["entity_id"], r["distance"], r["independent_paths"]) for r in analysis.exposure(session, "Michoacán")]
    assert ranked == [("f-official", 2, 1), ("g-official", 2, 1), ("d-uruapan", 3, 1)]


def test_ego_network_in_cytoscape_json(session, network):
    ego = analysis.ego_network(session, "b-police", depth=1)
    nodes = {n["data"]["id"]: n["data"] for n in ego["nodes"]}
    assert set(nodes) == {"b-police", "z-member", "w-fixer", "pos-police-cln"}
    assert nodes["z-member"]["label"] == "Zeta Member" and nodes["z-member"]["kind"] == "Person"
    assert nodes["z-member"]["designated"] is False
    edges = {e["data"]["id"]: e["data"] for e in ego["edges"]}
    assert set(edges) >= {network["b_z"], network["b_w"], network["w_z"]}
    assert edges[network["b_z"]] == {"id": network["b_z"], "source": "b-police", "target": "z-member",
                                     "kind": "Associate", "label": "associate of"}
    deeper = analysis.ego_network(session, "b-police", depth=2, link_kinds=["Associate", "Membership"])
    ids = {n["data"]["id"] for n in deeper["nodes"]}
    assert ids == {"b-police", "z-member", "w-fixer", "x-boss", "k-cartel", "e-treasurer"}
    assert {n["data"]["id"] for n in deeper["nodes"] if n["data"]["designated"]} == {"x-boss", "k-cartel"}
    assert {e["data"]["kind"] for e in deeper["edges"]} == {"Associate", "Membership"}
    # A territory is shown but not expanded: the mayor's ego network does not pull in all of Sinaloa.
    mayor = analysis.ego_network(session, "pos-mayor-cln", depth=3)
    assert "culiacan" in {n["data"]["id"] for n in mayor["nodes"]}
    assert "sinaloa" not in {n["data"]["id"] for n in mayor["nodes"]}
    capped = analysis.ego_network(session, "b-police", depth=3, max_nodes=3)
    assert len(capped["nodes"]) == 3 and capped["truncated"] is True
    with pytest.raises(ValidationError):
        analysis.ego_network(session, "b-police", link_kinds=["Friendship"])


def test_resolve_entity_by_id_or_exact_name(session, researcher, network):
    assert analysis.resolve_entity(session, "a-mayor") == "a-mayor"
    assert analysis.resolve_entity(session, "Alma Mayor") == "a-mayor"
    svc.create_entity(session, researcher, "Person", {"name": "Alma Mayor"}, entity_id="a-other")
    session.commit()
    with pytest.raises(ValidationError, match="names 2 entities"):
        analysis.resolve_entity(session, "Alma Mayor")
    with pytest.raises(NotFound):
        analysis.resolve_entity(session, "Nobody At All")


def test_louvain_finds_the_two_cells_of_a_cartel_network(session, researcher):
    projection.forget()
    cells = {"north": [f"n{i}" for i in range(6)], "south": [f"s{i}" for i in range(6)]}
    for members in cells.values():
        for eid in members:
            svc.create_entity(session, researcher, "Person", {"name": f"Member {eid}"}, entity_id=eid)
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                svc.create_link(session, researcher, "Associate", a, b)
    svc.create_link(session, researcher, "Associate", "n0", "s0")  # one courier between the cells
    svc.create_entity(session, researcher, "Person", {"name": "Loner"}, entity_id="loner")
    session.commit()
    groups = analysis.communities(session)
    assert sorted(g["members"] for g in groups) == [sorted(cells["north"]), sorted(cells["south"])]
    assert [g["size"] for g in groups] == [6, 6] and [g["id"] for g in groups] == [1, 2]
    around = analysis.communities(session, around="n3", depth=1)
    assert [g["members"] for g in around] == [sorted(cells["north"])]
    projection.forget()


def test_exposure_centrality_is_the_whole_networks_though_only_the_officials_components_are_searched(
        session, researcher, network):
    """QA round 14: betweenness was computed over the whole store (a home page after any change took 90 s with a
    20,000-parcel roll beside the SDN list). Only the components holding officials are searched now: a
    component of its own (a parcel roll's owners) changes no official's value, and each value is still the
    betweenness over the whole relational network, as networkx computes it there."""
    import networkx as nx

    for i in range(40):  # an owner and its parcels, tied to nobody else: a component without officials
        svc.create_entity(session, researcher, "Person" if i == 0 else "Company", {"name": f"Roll owner {i}"},
                          entity_id=f"roll-{i}")
        if i:
            svc.create_link(session, researcher, "Associate", "roll-0", f"roll-{i}")
    session.commit()
    rows = analysis.exposure(session)
    with projection.use_projection(session) as proj:
        allowed, hubs = analysis._link_filter(None), analysis._hubs(proj)
        whole = nx.Graph([(u, v) for u, v, data in proj.graph.edges(data=True)
                          if u not in hubs and v not in hubs and allowed(data["kind"])])
    expected = nx.betweenness_centrality(whole, normalized=True)
    assert rows and any(row["centrality"] > 0 for row in rows)
    for row in rows:
        assert row["centrality"] == round(expected.get(row["entity_id"], 0.0), 6), row["entity_id"]


def test_the_server_builds_its_caches_before_the_first_request_needs_them(db_url, session, network):
    """QA round 14: the first search after a start built the name index (40-60 s on a 67k-entry store) and the
    first home page the graph: `serve` now warms both while it starts."""
    from workbench.cli import warm_caches
    from workbench.matching import search

    search._INDEXES.clear()
    projection.forget(db_url)
    warm_caches(db_url)
    index = search.store_index(session)
    assert index.seq >= 0 and "b-police" in index.kinds  # built, and current: nothing left to build
    with projection._cache_lock:
        assert projection.database_key(session) in projection._cache
