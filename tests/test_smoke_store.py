from workbench.store import audit
from workbench.store.entities import create_entity, create_link, stats


def test_create_and_link_writes_audit(session, researcher):
    person = create_entity(session, researcher, "Person", {"name": "Joaquín Guzmán Loera", "identifier": "CURP:GULO900329HSLZPV09"}).obj
    company = create_entity(session, researcher, "Company", {"name": "Ejemplo S.A. de C.V."}).obj
    create_link(session, researcher, "Ownership", person.id, company.id, {"percentage": "50"})
    session.commit()
    assert stats(session)["links"] == {"Ownership": 1}
    count, broken = audit.verify(session)
    assert count == 3 and broken is None
