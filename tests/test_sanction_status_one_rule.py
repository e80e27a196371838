"""Whether a party is designated is read by one rule (store.sanctions) wherever it is shown: the entity page and
screening, the dossier's links to designated parties, the reconciliation card. A Sanction record whose status a
researcher typed 'Delisted' had read as delisted on the entity page but as designated in a dossier. Made-up names."""

from workbench.dossiers.evidence import designated_under, sanction_records
from workbench.sources.reconcile import _designation
from workbench.store import entities as svc
from workbench.store.sanctions import sanction_status, sanctions_of


def _party_with_sanction(session, actor, status: str) -> str:
    svc.create_entity(session, actor, "Person", {"name": ["Rosendo Tamayo Ibarra"]}, entity_id="p-tamayo")
    svc.create_entity(session, actor, "Sanction", {"name": ["SDN Tamayo"], "authority": ["OFAC"],
                                                   "program": ["SDNTK"], "status": [status],
                                                   "listingDate": ["2011-03-04"]}, entity_id="s-tamayo")
    svc.create_link(session, actor, "SanctionOf", "s-tamayo", "p-tamayo", {})
    session.commit()
    return "p-tamayo"


def test_a_sanction_typed_delisted_in_capitals_is_delisted_everywhere(session, researcher):
    party = _party_with_sanction(session, researcher, "Delisted")
    assert sanction_status(sanctions_of(session, [party])[party]) == "delisted"
    records = sanction_records(session, party)
    assert [r["status"] for r in records] == ["delisted"]
    assert designated_under(records, None) is False
    assert designated_under(records, "SDNTK") is False
    assert _designation(session, svc.get_entity(session, party)).startswith("Delisted: SDNTK")


def test_an_active_sanction_keeps_the_status_as_written(session, researcher):
    party = _party_with_sanction(session, researcher, "Active")
    records = sanction_records(session, party)
    assert [r["status"] for r in records] == ["Active"]
    assert designated_under(records, "SDNTK") is True
    assert _designation(session, svc.get_entity(session, party)).startswith("Designated: SDNTK, listed 2011-03-04")
