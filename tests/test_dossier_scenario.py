"""A small FICTIONAL scenario shared by the dossier tests, and checks of what the dossier reads from the graph.

The target (a municipal official) is an Associate of a designated cartel (sourced by a court record),
owns a company that owns a house, and has a valid CURP. Sources: official and court (releasable),
a leak (NOT releasable).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.dossiers import service, snapshot
from workbench.store.entities import cite, create_entity, create_link, create_source
from workbench.store.permissions import Actor

VALID_CURP = "CURP:VIIM750312HSLLBR08"
BAD_CURP = "CURP:VIIM750312HSLLBR09"
LEAK_TITLE = "Leaked ledger page (TEST, unreleasable)"
LEAK_EXCERPT = "ledger line: plaza payment 250000"


@dataclass
class Scenario:
    target: str
    cartel: str
    company: str
    house: str
    associate_link: str
    associate_citation: int
    leak_citation: int
    official: str
    court: str
    leak: str
    registry: str


def build_scenario(session, actor: Actor, identifiers=(VALID_CURP,), cite_associate: bool = True) -> Scenario:
    official = create_source(session, actor, url="https://example.org/test/gazette", title="Municipal gazette (TEST)",
                             source_type="official", reliability="A").id
    court = create_source(session, actor, url="https://example.org/test/court", title="Court record 17 (TEST)",
                          source_type="court", reliability="B").id
    leak = create_source(session, actor, url="https://example.org/test/leak", title=LEAK_TITLE, source_type="leak",
                         reliability="D", releasable=False).id
    registry_src = create_source(session, actor, url="https://example.org/test/deed", title="County deed (TEST)",
                                 source_type="registry", reliability="A").id
    target = create_entity(session, actor, "Person", {
        "name": "Ramiro Testigo Ficticio (FICTIONAL)", "alias": ["El Ficticio"], "nationality": "mx",
        "birthDate": "1975-03-12", "identifier": list(identifiers), "topics": ["fictional"],
    }).obj.id
    cartel = create_entity(session, actor, "Organization", {"name": "Cartel de Prueba (TEST)"}).obj.id
    sanction = create_entity(session, actor, "Sanction", {"name": "OFAC designation (TEST)", "authority": "OFAC",
                                                          "program": "SDNTK", "status": "active"}).obj.id
    create_link(session, actor, "SanctionOf", sanction, cartel)
    associate = create_link(session, actor, "Associate", target, cartel, {"relationship": "protection payments"}).obj.id
    associate_citation = leak_citation = None
    if cite_associate:
        associate_citation = cite(session, actor, court, link_id=associate, excerpt="testimony: monthly payments").id
    leak_citation = cite(session, actor, leak, link_id=associate, excerpt=LEAK_EXCERPT).id
    company = create_entity(session, actor, "Company", {"name": "Inmobiliaria Prueba (TEST)",
                                                        "identifier": "STATE_FILE:0801"}).obj.id
    house = create_entity(session, actor, "RealEstate", {
        "name": "House on Example St (TEST)", "address": "1 Example St, Laredo, TX", "parcelNumber": "TEST-APN-1",
        "identifier": "APN:TEST-APN-1"}).obj.id
    own_company = create_link(session, actor, "Ownership", target, company, {"percentage": "60"}).obj.id
    own_house = create_link(session, actor, "Ownership", company, house, {"percentage": "100"}).obj.id
    cite(session, actor, registry_src, link_id=own_house, excerpt="grantee Inmobiliaria Prueba")
    cite(session, actor, registry_src, link_id=own_company)
    cite(session, actor, official, entity_id=target, prop="name")
    session.flush()
    return Scenario(target, cartel, company, house, associate, associate_citation, leak_citation, official, court,
                    leak, registry_src)


def complete_dossier(session, actor: Actor, sc: Scenario, basis: str = "kingpin-b2") -> str:
    """A dossier on the scenario's target with every element supported (exhibit 4 cites the leak)."""
    dossier = service.create_dossier(session, actor, sc.target, basis, narrative={"summary": "Test summary."})
    service.add_exhibit(session, actor, dossier.id, element="foreign_person", statement_type="fact",
                        statement="Mexican national holding municipal office.", source_id=sc.official, page="3")
    service.add_exhibit(session, actor, dossier.id, element="sfnt_link", statement_type="fact",
                        statement="The cartel is designated under the Kingpin Act.", source_id=sc.official)
    service.add_exhibit(session, actor, dossier.id, element="material_support", statement_type="allegation",
                        statement="Received monthly payments to protect the cartel.",
                        citation_id=sc.associate_citation)
    service.add_exhibit(session, actor, dossier.id, element="material_support", statement_type="allegation",
                        statement="Ledger records a payment from the cartel.", citation_id=sc.leak_citation)
    return dossier.id


def test_view_shows_the_sourced_link_and_the_assets_with_owner_chain(session, researcher):
    sc = build_scenario(session, researcher)
    dossier = service.get_dossier(session, complete_dossier(session, researcher, sc))
    view = snapshot.live_view(session, dossier)

    [path] = view["designated_links"]
    assert path["designated_id"] == sc.cartel and path["qualifies"]
    assert path["sanctions"][0]["program"] == "SDNTK"
    titles = {c["title"] for c in path["steps"][0]["citations"]}
    assert titles == {"Court record 17 (TEST)", LEAK_TITLE}

    assets = {a["id"]: a for a in view["assets"]}
    assert set(assets) == {sc.company, sc.house}
    house = assets[sc.house]
    assert house["parcel_number"] == "TEST-APN-1"
    assert [l["owned"] for l in house["chains"][0]["links"]] == [sc.company, sc.house]
    assert house["chains"][0]["effective_percentage"] == 60.0
    assert any(s["title"] == "County deed (TEST)" for s in house["sources"])


def test_path_without_citation_does_not_qualify(session, researcher):
    sc = build_scenario(session, researcher, cite_associate=False)
    # The leak citation alone still sources the link; remove it to leave the chain unsourced.
    from workbench.store.entities import delete_citation

    delete_citation(session, researcher, sc.leak_citation)
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    [path] = snapshot.live_view(session, dossier)["designated_links"]
    assert not path["sourced"] and not path["qualifies"]


def test_an_uncited_duplicate_link_does_not_hide_the_sourced_one(session, researcher):
    sc = build_scenario(session, researcher)
    # The same relationship entered twice, the copy without a source; its id sorts first.
    duplicate = create_link(session, researcher, "Associate", sc.target, sc.cartel, {}, link_id="0000-uncited-copy").obj.id
    assert duplicate < sc.associate_link
    dossier = service.get_dossier(session, complete_dossier(session, researcher, sc))
    view = snapshot.live_view(session, dossier)
    [path] = view["designated_links"]
    assert path["qualifies"] and path["steps"][0]["link_id"] == sc.associate_link


def test_an_eo14059_derivative_prong_needs_a_party_blocked_under_eo14059_not_under_the_kingpin_act(session, researcher):
    """QA round 12: the E.O. 14059 support prong passed on a link to a party designated under the Kingpin
    Act (SDNTK) only, and every export said it qualified."""
    from workbench.dossiers import completeness

    sc = build_scenario(session, researcher)  # the cartel is designated under SDNTK alone
    eo = service.create_dossier(session, researcher, sc.target, "eo14059-support")
    view = snapshot.live_view(session, eo)
    [path] = view["designated_links"]
    assert path["sourced"] and path["kinds_accepted"] and not path["qualifies"]
    link_check = next(c for c in completeness.check(view).checks if c.key == "designated_link")
    # The support prong may rest on the activity itself (QA round 15): no chain qualifies, and the checklist
    # warns that the package then rests on the exhibits showing the activity, rather than refusing it.
    assert link_check.status == "warning" and not link_check.problems
    assert "No sourced link to a party designated under ILLICIT-DRUGS-EO14059" in link_check.warnings[0]
    assert ("may rest on the activity itself instead: the exhibits for 'Blocked person or activity supported' "
            "must show it.") in link_check.warnings[0]
    assert any("is designated under SDNTK, not ILLICIT-DRUGS-EO14059" in note for note in link_check.notes)
    # The owned-or-controlled prong has no such alternative: a blocked owner it needs.
    owned = snapshot.live_view(session, service.create_dossier(session, researcher, sc.target, "eo14059-owned"))
    owned_check = next(c for c in completeness.check(owned).checks if c.key == "designated_link")
    assert owned_check.status == "missing" and not owned_check.warnings
    # The leader prong reaches a leader of an entity that engaged in the activity, designated or not.
    leader = snapshot.live_view(session, service.create_dossier(session, researcher, sc.target, "eo14059-leader"))
    leader_check = next(c for c in completeness.check(leader).checks if c.key == "designated_link")
    assert leader_check.status == "warning" and "the exhibits for 'Blocked or engaged entity'" in \
        leader_check.warnings[0]
    kingpin = snapshot.live_view(session, service.create_dossier(session, researcher, sc.target, "kingpin-b2"))
    assert kingpin["designated_links"][0]["qualifies"]  # the same link serves the Kingpin Act's prong

    eo_sanction = create_entity(session, researcher, "Sanction", {  # typed in lower case: the same program
        "name": "OFAC designation (TEST, E.O. 14059)", "authority": "OFAC", "program": "illicit-drugs-eo14059",
        "status": "active"}).obj.id
    create_link(session, researcher, "SanctionOf", eo_sanction, sc.cartel)
    [path] = snapshot.live_view(session, eo)["designated_links"]
    assert path["qualifies"]
