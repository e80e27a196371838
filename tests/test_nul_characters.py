"""A NUL character (\\x00) cannot be stored in PostgreSQL text (SQLite would keep it): whatever way it
comes in, the user gets a message naming the field and nothing is written, on both databases.
All names are FICTIONAL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from workbench.store import db as store_db
from workbench.store.models import Entity, Note, Source
from workbench.store.permissions import SYSTEM
from workbench.store.users import add_user, create_token


@pytest.fixture
def api(db_url):
    from workbench.web.app import create_app

    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "rita", "researcher", "correct horse battery")
        token = create_token(s, SYSTEM, "script", "rita")
    client = TestClient(create_app())
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_a_nul_in_an_entity_name_is_a_422_naming_the_property(api, db_url):
    response = api.post("/api/entities", json={"kind": "Person", "properties": {"name": "FICTIONAL Ana\x00 Ruiz"}})
    assert response.status_code == 422, response.text
    assert "NUL" in response.text and "name" in response.json()["errors"]
    with store_db.session_scope(db_url) as s:
        assert s.query(Entity).count() == 0


def test_a_nul_in_a_source_title_or_a_note_is_refused_and_nothing_is_written(api, db_url):
    response = api.post("/api/sources", json={"title": "FICTIONAL Gaceta\x00", "url": "https://example.org/g"})
    assert response.status_code == 422 and "title" in response.json()["errors"], response.text
    person = api.post("/api/entities", json={"kind": "Person", "properties": {"name": "FICTIONAL Ana Ruiz"}}).json()
    from workbench.store.entities import add_note
    from workbench.store.permissions import Actor
    from workbench.schema import ValidationError

    with pytest.raises(ValidationError) as refused, store_db.session_scope(db_url) as s:
        add_note(s, Actor("rita", "researcher"), person["id"], "met on\x00 Tuesday")
    assert "text" in refused.value.errors
    with store_db.session_scope(db_url) as s:
        assert s.query(Source).count() == 0 and s.query(Note).count() == 0
