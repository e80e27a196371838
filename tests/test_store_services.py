"""Domain services: every change is validated, audited, and all-or-nothing."""

import pytest
from sqlalchemy import func, select

from workbench.schema import ValidationError
from workbench.store import audit
from workbench.store.entities import (
    Conflict,
    NotFound,
    add_name,
    cite,
    create_entity,
    create_link,
    create_source,
    delete_entity,
    remove_name,
    stats,
    update_entity,
)
from workbench.store.models import AuditEntry, Entity, Link, Name
from workbench.store.permissions import Actor, PermissionDenied


def _audit_actions(session):
    return [e.action for e in session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


def test_create_entity_indexes_every_name_and_audits(session, researcher):
    person = create_entity(session, researcher, "Person", {
        "name": "Joaquín Guzmán Loera", "alias": ["GUZMAN LOERA, Joaquin"], "weakAlias": "El Chapo"}).obj
    session.commit()
    names = {(n.name_kind, n.normalized) for n in session.execute(select(Name).where(Name.entity_id == person.id)).scalars()}
    assert names == {("primary", "joaquin guzman loera"), ("alias", "guzman loera joaquin"), ("weak", "el chapo")}
    entry = session.execute(select(AuditEntry)).scalar_one()
    assert (entry.actor, entry.action, entry.object_id) == ("rita", "entity.create", person.id)
    assert entry.before is None and entry.after["properties"]["weakAlias"] == ["El Chapo"]


def test_update_records_before_and_after(session, researcher):
    person = create_entity(session, researcher, "Person", {"name": "Severo Flores"}).obj
    update_entity(session, researcher, person.id, {"name": "Severo Flores Mendoza", "birthDate": "1976-11-09"})
    session.commit()
    entry = session.execute(select(AuditEntry).where(AuditEntry.action == "entity.update")).scalar_one()
    assert entry.before["caption"] == "Severo Flores" and entry.after["caption"] == "Severo Flores Mendoza"
    assert session.get(Entity, person.id).caption == "Severo Flores Mendoza"


def test_stale_version_is_a_conflict_and_changes_nothing(session, researcher):
    person = create_entity(session, researcher, "Person", {"name": "A Person"}).obj
    session.commit()
    update_entity(session, researcher, person.id, {"name": "First edit"}, expected_version=1)
    session.commit()
    with pytest.raises(Conflict) as info:
        update_entity(session, researcher, person.id, {"name": "Second edit from old form"}, expected_version=1)
    assert "changed by someone else" in str(info.value)
    session.rollback()
    assert session.get(Entity, person.id).caption == "First edit"


def test_add_and_remove_names(session, researcher):
    person = create_entity(session, researcher, "Person", {"name": "Ismael Zambada García"}).obj
    add_name(session, researcher, person.id, "El Mayo", prop="weakAlias")
    assert "el mayo" in {n.normalized for n in person.names}
    remove_name(session, researcher, person.id, "El Mayo", prop="weakAlias")
    session.commit()
    assert {n.normalized for n in person.names} == {"ismael zambada garcia"}
    with pytest.raises(NotFound):
        remove_name(session, researcher, person.id, "Nope", prop="alias")


def test_link_validates_endpoints_and_properties(session, researcher):
    person = create_entity(session, researcher, "Person", {"name": "Owner"}).obj
    company = create_entity(session, researcher, "Company", {"name": "Holding LLC"}).obj
    house = create_entity(session, researcher, "RealEstate", {"name": "House", "parcelNumber": "123-45"}).obj
    link = create_link(session, researcher, "Ownership", company.id, house.id, {"percentage": "100", "startDate": "2022-03"}).obj
    assert link.start_date == "2022-03"
    with pytest.raises(ValidationError) as info:
        create_link(session, researcher, "Occupancy", company.id, house.id)
    assert "cannot start at a Company" in str(info.value)
    with pytest.raises(ValidationError) as info:
        create_link(session, researcher, "Ownership", person.id, company.id, {"percentage": "150"})
    assert "between 0 and 100" in str(info.value)


def test_delete_entity_removes_its_links_with_audit(session, researcher):
    a = create_entity(session, researcher, "Person", {"name": "A"}).obj
    b = create_entity(session, researcher, "Person", {"name": "B"}).obj
    create_link(session, researcher, "Associate", a.id, b.id)
    session.commit()
    delete_entity(session, researcher, a.id)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Link)) == 0
    assert _audit_actions(session)[-2:] == ["link.delete", "entity.delete"]
    assert audit.verify(session)[1] is None


def test_citations_attach_to_a_value_or_a_link(session, researcher):
    person = create_entity(session, researcher, "Person", {"name": "A", "birthDate": "1979"}).obj
    org = create_entity(session, researcher, "Organization", {"name": "Cartel"}).obj
    link = create_link(session, researcher, "Membership", person.id, org.id).obj
    source = create_source(session, researcher, title="Court record", url="https://example.org/r", source_type="court",
                           reliability="B")
    cite(session, researcher, source.id, entity_id=person.id, prop="birthDate", value="1979", page="4")
    cite(session, researcher, source.id, link_id=link.id, excerpt="member since 2010")
    with pytest.raises(ValidationError):
        cite(session, researcher, source.id, entity_id=person.id, prop="birthDate", value="1980")
    session.commit()
    assert stats(session)["citations"] == 2


def test_multi_step_change_that_fails_part_way_leaves_nothing(db_url, researcher):
    from workbench.store.db import session_scope

    with pytest.raises(ValidationError), session_scope(db_url) as s:
        owner = create_entity(s, researcher, "Person", {"name": "Owner"}).obj
        company = create_entity(s, researcher, "Company", {"name": "Holding LLC"}).obj
        create_link(s, researcher, "Ownership", owner.id, company.id, {"percentage": "60"})
        create_link(s, researcher, "Occupancy", company.id, owner.id)  # not allowed: fails
    with session_scope(db_url) as s:
        assert stats(s) == {"entities": {}, "links": {}, "names": 0, "sources": 0, "citations": 0, "merged": 0}
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_roles_are_enforced_in_the_domain_layer(session):
    nobody = Actor("mallory", "guest")
    with pytest.raises(PermissionDenied) as info:
        create_entity(session, nobody, "Person", {"name": "X"})
    assert "not allowed to create entities" in str(info.value)


def test_abstract_kind_cannot_be_created(session, researcher):
    with pytest.raises(ValidationError) as info:
        create_entity(session, researcher, "LegalEntity", {"name": "X"})
    assert "abstract" in str(info.value)


def test_a_dossier_target_cannot_be_deleted(session, researcher):
    from workbench.store.models import Dossier

    person = create_entity(session, researcher, "Person", {"name": "Target"}).obj
    session.add(Dossier(title="Candidate package", target_id=person.id, legal_basis="kingpin-b4", created_by="rita"))
    session.commit()
    with pytest.raises(ValidationError) as info:
        delete_entity(session, researcher, person.id)
    assert "target of dossier(s) 'Candidate package'" in str(info.value)
