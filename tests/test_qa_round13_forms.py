"""QA round 13: the Person form offered 'Founded / incorporated' and 'Jurisdiction' (FtM's LegalEntity gives them
to people): a researcher entering an official met fields about companies."""

from __future__ import annotations

import re

import pytest
from web_helpers import csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store import entities as store
from workbench.store.permissions import SYSTEM


@pytest.fixture
def client(db_url):
    return signed_in_client(db_url, "rita", "researcher")


def test_the_person_form_leaves_out_what_only_an_organisation_has_and_the_company_form_keeps_it(client):
    person = client.get("/entities/new?kind=Person").text
    company = client.get("/entities/new?kind=Company").text
    assert "Date of birth" in person and "Founded / incorporated" not in person and 'name="p.jurisdiction"' not in person
    assert "Founded / incorporated" in company and 'name="p.jurisdiction"' in company


def test_a_person_holding_such_a_value_shows_it_on_the_form_and_keeps_it_when_saved(db_url, client):
    with store_db.session_scope(db_url) as s:
        store.create_entity(s, SYSTEM, "Person", {"name": ["FICTIONAL Persona Importada"], "jurisdiction": ["mx"]},
                            entity_id="imported-person")
    form = client.get("/entities/imported-person/edit").text
    assert 'name="p.jurisdiction"' in form
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    saved = client.post("/entities/imported-person/edit", follow_redirects=False, data={
        "csrf_token": csrf_of(client, "/entities/imported-person/edit"), "version": version,
        "p.name": "FICTIONAL Persona Importada", "p.jurisdiction": "mx", "p.birthDate": "1970"})
    assert saved.status_code == 303, saved.text
    with store_db.session_scope(db_url) as s:
        held = store.get_entity(s, "imported-person").properties
    assert held["jurisdiction"] == ["mx"] and held["birthDate"] == ["1970"]


def test_a_kind_cannot_leave_a_required_or_unknown_property_out_of_its_form(tmp_path):
    import shutil

    from workbench.schema import Registry, SchemaError, schema_dir

    for name in schema_dir().glob("*.yml"):
        shutil.copy(name, tmp_path / name.name)
    entities = tmp_path / "entities.yml"
    entities.write_text(entities.read_text(encoding="utf-8").replace(
        "form_omits: [jurisdiction, incorporationDate]", "form_omits: [name]"), encoding="utf-8")
    with pytest.raises(SchemaError, match="Person.form_omits names 'name', which is not an optional property"):
        Registry(tmp_path)


def test_an_entry_cannot_take_an_id_its_own_page_address_uses_for_something_else(db_url):
    """QA round 13 (security review): POST /api/entities {"id": "new"} made an entry whose page, /entities/new,
    is the new-entry form: it could never be opened."""
    from web_helpers import api_client

    client = api_client(db_url)
    for reserved in ("new", "suggest"):
        refused = client.post("/api/entities", json={"id": reserved, "kind": "Person",
                                                     "properties": {"name": ["FICTIONAL Persona"]}})
        assert refused.status_code == 422 and f"an id cannot be '{reserved}'" in refused.text, reserved
    assert client.post("/api/entities", json={"id": "new-2", "kind": "Person",
                                              "properties": {"name": ["FICTIONAL Persona"]}}).status_code == 201
