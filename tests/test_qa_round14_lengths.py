"""QA round 14: text a user may type is kept, or refused naming its field, alike on SQLite and PostgreSQL.

A page locator of 47 characters ('p. 12, párrafo tercero, línea 4 a 9 del anexo B', the kind the README invites)
and a cited value of 2,500 characters were stored by SQLite and answered with a server error by PostgreSQL, so a
SQLite store's backup would not restore into PostgreSQL. Every record here is FICTIONAL."""

from __future__ import annotations

import pytest
from test_dossier_scenario import build_scenario, complete_dossier

from workbench.dossiers import service
from workbench.schema import ValidationError
from workbench.store.entities import MAX_PAGE, cite, create_entity, create_source

LOCATOR = "p. 12, párrafo tercero, línea 4 a 9 del anexo B"


def test_a_long_page_locator_and_a_long_cited_value_are_kept(session, researcher):
    source = create_source(session, researcher, url="https://example.org/gaceta", title="Gaceta (FICTIONAL)")
    description = "Descripción (FICTIONAL). " * 100  # 2,500 characters
    person = create_entity(session, researcher, "Person", {"name": "Persona Ficticia (FICTIONAL)",
                                                            "description": description}).obj
    cited = cite(session, researcher, source.id, entity_id=person.id, prop="description",
                 value=person.properties["description"][0], page=LOCATOR)
    session.commit()
    session.expire_all()
    assert (cited.page, len(cited.value)) == (LOCATOR, len(person.properties["description"][0]))


def test_a_page_locator_too_long_is_refused_naming_the_field_for_citations_and_exhibits(session, researcher):
    sc = build_scenario(session, researcher)
    too_long = "p. " + "1" * MAX_PAGE
    with pytest.raises(ValidationError) as refused:
        cite(session, researcher, sc.official, entity_id=sc.target, page=too_long)
    assert list(refused.value.errors) == ["page"] and f"at most {MAX_PAGE} characters" in str(refused.value)
    dossier_id = complete_dossier(session, researcher, sc)
    with pytest.raises(ValidationError) as refused:
        service.add_exhibit(session, researcher, dossier_id, element="foreign_person", statement_type="fact",
                            statement="Holds office (TEST).", source_id=sc.official, page=too_long)
    assert "page" in refused.value.errors
    exhibit = service.add_exhibit(session, researcher, dossier_id, element="foreign_person", statement_type="fact",
                                  statement="Holds office (TEST).", source_id=sc.official, page=LOCATOR)
    session.commit()
    assert exhibit.page == LOCATOR


def test_the_api_refuses_a_long_page_with_422_not_a_server_error(db_url, session, researcher):
    from web_helpers import api_client

    sc = build_scenario(session, researcher)
    session.commit()
    client = api_client(db_url, "rita", "researcher")
    answer = client.post("/api/citations", json={"source_id": sc.official, "entity_id": sc.target,
                                                 "page": "1" * 300})
    assert answer.status_code == 422 and "page" in answer.json()["errors"]


def test_an_edit_that_lost_a_race_with_a_delete_is_a_conflict_and_the_id_says_it_was_deleted(db_url):
    """QA round 14: an edit sent as another user deleted the entry got 404 'no entity with id ...', as if the id
    were mistyped, where the README promises the loser of an edit against a delete a 409; the deleted entry's
    address said nothing of the delete either."""
    from web_helpers import api_client, api_entity

    rita, olga = api_client(db_url, "rita", "researcher"), api_client(db_url, "olga", "researcher")
    entity_id = api_entity(rita, "Company", name="Constructora Borrada (FICTIONAL)")
    link_target = api_entity(rita, "Company", name="Tenedora Ficticia (FICTIONAL)")
    link = rita.post("/api/links", json={"kind": "Ownership", "source_id": link_target, "target_id": entity_id})
    assert link.status_code == 201, link.text
    link_id = link.json()["id"]
    assert olga.delete(f"/api/links/{link_id}?version=1").status_code == 204
    assert olga.delete(f"/api/entities/{entity_id}?version=1").status_code == 204

    late = rita.put(f"/api/entities/{entity_id}", json={"properties": {"name": "Renamed (FICTIONAL)"}, "version": 1})
    assert late.status_code == 409 and "was deleted by olga" in late.json()["detail"]
    late_link = rita.put(f"/api/links/{link_id}", json={"properties": {"percentage": "50"}, "version": 1})
    assert late_link.status_code == 409 and "was deleted by olga" in late_link.json()["detail"]
    gone = rita.get(f"/api/entities/{entity_id}")
    assert gone.status_code == 404 and "was deleted by olga" in gone.json()["detail"]
    never = rita.get("/api/entities/never-there")
    assert never.status_code == 404 and "no entity with id 'never-there'" in never.json()["detail"]


def test_a_name_typed_with_combining_accents_is_the_same_name_as_typed_whole(db_url):
    """QA round 14: 'José Núñez' typed with combining accents (NFD, as some keyboards and PDFs give it) was stored
    as typed: an entry held it and the precomposed spelling as two identical-looking aliases."""
    from web_helpers import api_client, api_entity

    client = api_client(db_url, "rita", "researcher")
    entity_id = api_entity(client, "Person", name="José Núñez (FICTIONAL)",
                           alias=["Jose\u0301 Nu\u0301n\u0303ez (FICTIONAL)", "Chepe (FICTIONAL)"])
    stored = client.get(f"/api/entities/{entity_id}").json()["properties"]
    assert stored["name"] == ["José Núñez (FICTIONAL)"]
    assert stored["alias"] == ["José Núñez (FICTIONAL)", "Chepe (FICTIONAL)"]  # composed: the name's spelling
