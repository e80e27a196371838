"""A small hand-built network, made through the domain services, shared by the graph tests.

Two states: Sinaloa (Culiacán below it) and Michoacán (Uruapan below it). Designated parties:
boss X and cartel K (active Sanctions); Y's Sanction is delisted, so Y is not designated.

    A (mayor of Culiacán)       --Family-->     X (designated)
    B (police chief, Culiacán)  --Associate-->  Z --Membership--> K (designated)
    B                           --Associate-->  W --Associate--> X
    W --Associate--> Z
    E (treasurer, Culiacán)     --Associate-->  Z
    C (governor of Sinaloa)     --Associate-->  Y (delisted)
    D (mayor of Uruapan)        --Family--> M --Directorship--> CO1 <--Control-- K

    A --Ownership 60%--> CO2 --Ownership 50%--> H1 (house)
    A --Ownership 100%--> H2
    CO2 --Control--> V1 (vehicle, share unknown)
    CO2 --Ownership 40%--> CO3 --Ownership 25%--> H3
"""

from __future__ import annotations


from workbench.graph import analysis, projection
from workbench.store import audit
from workbench.store import entities as svc
from workbench.store.models import Entity


def build_network(session, actor) -> dict[str, str]:
    def entity(entity_id: str, kind: str, **props) -> str:
        svc.create_entity(session, actor, kind, props, entity_id=entity_id)
        return entity_id

    def link(kind: str, source: str, target: str, **props) -> str:
        return svc.create_link(session, actor, kind, source, target, props).obj.id

    entity("sinaloa", "Territory", name="Sinaloa", level="state")
    entity("culiacan", "Territory", name="Culiacán", level="municipality")
    entity("michoacan", "Territory", name="Michoacán", level="state")
    entity("uruapan", "Territory", name="Uruapan", level="municipality")
    link("TerritoryParent", "culiacan", "sinaloa")
    link("TerritoryParent", "uruapan", "michoacan")
    for pid, name, territory in [("pos-mayor-cln", "Mayor of Culiacán", "culiacan"),
                                 ("pos-police-cln", "Police chief of Culiacán", "culiacan"),
                                 ("pos-treasurer-cln", "Treasurer of Culiacán", "culiacan"),
                                 ("pos-governor-sin", "Governor of Sinaloa", "sinaloa"),
                                 ("pos-mayor-upn", "Mayor of Uruapan", "uruapan")]:
        entity(pid, "Position", name=name)
        link("Jurisdiction", pid, territory)
    for eid, name in [("a-mayor", "Alma Mayor"), ("b-police", "Bruno Police"), ("e-treasurer", "Elena Treasurer"),
                      ("c-governor", "Carlos Governor"), ("d-uruapan", "Diego Uruapan"), ("x-boss", "Xavier Boss"),
                      ("y-delisted", "Yolanda Delisted"), ("z-member", "Zeta Member"), ("w-fixer", "Walter Fixer"),
                      ("m-brother", "Mario Brother")]:
        entity(eid, "Person", name=name)
    entity("k-cartel", "Organization", name="Cartel K", topics=["crime.cartel"])
    for holder, position in [("a-mayor", "pos-mayor-cln"), ("b-police", "pos-police-cln"),
                             ("e-treasurer", "pos-treasurer-cln"), ("c-governor", "pos-governor-sin"),
                             ("d-uruapan", "pos-mayor-upn")]:
        link("Occupancy", holder, position, startDate="2021-10-01")
    entity("s-x", "Sanction", name="SDN X", authority="OFAC", program="SDNTK", status="active")
    entity("s-k", "Sanction", name="SDN K", authority="OFAC", program="SDNTK", status="active")
    entity("s-y", "Sanction", name="SDN Y", authority="OFAC", program="SDNTK", status="delisted")
    link("SanctionOf", "s-x", "x-boss")
    link("SanctionOf", "s-k", "k-cartel")
    link("SanctionOf", "s-y", "y-delisted")

    ids = {
        "a_x": link("Family", "a-mayor", "x-boss", relationship="cousin"),
        "b_z": link("Associate", "b-police", "z-member"),
        "z_k": link("Membership", "z-member", "k-cartel"),
        "b_w": link("Associate", "b-police", "w-fixer"),
        "w_x": link("Associate", "w-fixer", "x-boss"),
        "w_z": link("Associate", "w-fixer", "z-member"),
        "e_z": link("Associate", "e-treasurer", "z-member"),
        "c_y": link("Associate", "c-governor", "y-delisted"),
        "d_m": link("Family", "d-uruapan", "m-brother"),
    }
    entity("co1", "Company", name="Comercializadora Uno S.A. de C.V.")
    entity("co2", "Company", name="Inmobiliaria Dos S.A. de C.V.")
    entity("co3", "Company", name="Tres Holdings LLC")
    entity("h1", "RealEstate", name="House One")
    entity("h2", "RealEstate", name="House Two")
    entity("h3", "RealEstate", name="House Three")
    entity("v1", "Vehicle", name="Truck One")
    ids.update({
        "m_co1": link("Directorship", "m-brother", "co1"),
        "k_co1": link("Control", "k-cartel", "co1"),
        "a_co2": link("Ownership", "a-mayor", "co2", percentage="60"),
        "co2_h1": link("Ownership", "co2", "h1", percentage="50"),
        "a_h2": link("Ownership", "a-mayor", "h2", percentage="100"),
        "co2_v1": link("Control", "co2", "v1"),
        "co2_co3": link("Ownership", "co2", "co3", percentage="40"),
        "co3_h3": link("Ownership", "co3", "h3", percentage="25"),
    })
    source = svc.create_source(session, actor, url="https://example.org/report", title="Press report on Z",
                               source_type="press", reliability="C")
    svc.cite(session, actor, source.id, link_id=ids["b_z"], excerpt="B was seen with Z")
    ids["source"] = source.id
    return ids


# ---- tests of the projection itself ----------------------------------------------------------


def test_projection_carries_schema_attributes(session, network):
    graph = projection.graph_for(session)
    assert graph.nodes["a-mayor"]["kind"] == "Person"
    assert graph.nodes["a-mayor"]["caption"] == "Alma Mayor"
    assert graph.nodes["culiacan"]["level"] == "municipality"
    assert graph.nodes["k-cartel"]["topics"] == "crime.cartel"
    edge = graph.edges["a-mayor", "co2", network["a_co2"]]
    assert edge["kind"] == "Ownership" and edge["label"] == "owns" and edge["percentage"] == 60.0
    occupancy = next(d for _, _, d in graph.out_edges("a-mayor", data=True) if d["kind"] == "Occupancy")
    assert occupancy["start_date"] == "2021-10-01"
    assert analysis.designated_ids(session) == {"x-boss", "k-cartel"}


def test_edits_are_applied_incrementally_from_the_audit_log(session, researcher, network):
    first = projection.projection_for(session)
    assert analysis.path_to_designated(session, "a-mayor").length == 1

    # Cut A's family tie to X and delist K: A now has no path, B reaches X only through W.
    svc.delete_link(session, researcher, network["a_x"])
    svc.update_entity(session, researcher, "s-k", {"status": "delisted"}, replace=False)
    svc.create_entity(session, researcher, "Person", {"name": "New Contact"}, entity_id="n-new")
    svc.create_link(session, researcher, "Associate", "n-new", "x-boss")
    session.commit()

    assert analysis.path_to_designated(session, "a-mayor") is None
    assert analysis.designated_ids(session) == {"x-boss"}
    assert analysis.path_to_designated(session, "b-police").nodes == ["b-police", "w-fixer", "x-boss"]
    assert analysis.path_to_designated(session, "n-new").nodes == ["n-new", "x-boss"]
    refreshed = projection.projection_for(session)
    assert refreshed is first and refreshed.rebuilds == 1 and refreshed.incremental_updates >= 1
    # The incremental graph equals a graph rebuilt from scratch.
    rebuilt = projection.build(session).graph
    assert set(rebuilt.nodes) == set(refreshed.graph.nodes)
    assert set(rebuilt.edges(keys=True)) == set(refreshed.graph.edges(keys=True))
    assert dict(rebuilt.nodes(data=True)) == dict(refreshed.graph.nodes(data=True))


def test_a_note_keeps_the_analyses_already_computed(session, researcher, network):
    """The home page ranks officials with betweenness centrality (seconds on a large network): a note
    or a citation, which change no link, used to throw it away, so every write made the next home
    page slow. A link change still does."""
    def ranked(memo) -> bool:  # the centrality kept for the officials ranked (keyed by who they are)
        return any(isinstance(key, tuple) and key[0] == "centrality" for key in memo)

    analysis.exposure(session)
    proj = projection.projection_for(session)
    assert ranked(proj.memo)
    svc.add_note(session, researcher, "a-mayor", "seen at the port")
    session.commit()
    assert projection.projection_for(session) is proj and ranked(proj.memo)
    svc.create_link(session, researcher, "Associate", "a-mayor", "b-police")
    session.commit()
    assert not ranked(projection.projection_for(session).memo)


def test_merged_entities_are_absent(session, researcher, network):
    assert "w-fixer" in projection.graph_for(session)
    # What a merge does to the store: the loser points at the winner; the change is audited.
    loser = session.get(Entity, "w-fixer")
    loser.merged_into = "z-member"
    session.flush()
    audit.record(session, researcher.username, "entity.merge", "merge", "1", None,
                 {"winner": "z-member", "loser": "w-fixer"})
    session.commit()
    graph = projection.graph_for(session)
    assert "w-fixer" not in graph
    assert not any("w-fixer" in (u, v) for u, v in graph.edges())
    assert analysis.resolve_entity(session, "Walter Fixer") == "z-member"
    # B's only path to X went through W; the shortest is now via Z to K.
    assert [p.nodes for p in analysis.paths_to_designated(session, "b-police")] == [
        ["b-police", "z-member", "k-cartel"]]


def test_rolled_back_changes_do_not_linger(session, researcher, network):
    projection.graph_for(session)
    svc.create_entity(session, researcher, "Person", {"name": "Ghost"}, entity_id="ghost")
    assert "ghost" in projection.graph_for(session)  # visible inside the uncommitted transaction
    session.rollback()
    assert "ghost" not in projection.graph_for(session)
