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


# ---- lone surrogates: JSON can spell half a character ('\ud800'), which no database can store --------

def _json_with_surrogate(data: dict) -> bytes:
    """``data`` as JSON holding a lone surrogate where it has the text SURROGATE (json.dumps escapes it)."""
    import json

    return json.dumps(data).replace("SURROGATE", "\\ud800").encode("ascii")


def test_a_lone_surrogate_in_an_entity_name_or_a_source_is_a_422_naming_the_field(api, db_url):
    headers = {"content-type": "application/json"}
    response = api.post("/api/entities", content=_json_with_surrogate(
        {"kind": "Person", "properties": {"name": ["FICTIONAL Ana SURROGATE Ruiz"]}}), headers=headers)
    assert response.status_code == 422, response.text
    assert "lone surrogate" in response.text and "name" in response.json()["errors"]
    source = api.post("/api/sources", content=_json_with_surrogate(
        {"title": "FICTIONAL Gaceta SURROGATE", "url": "https://example.org/g"}), headers=headers)
    assert source.status_code == 422 and "title" in source.json()["errors"], source.text
    with store_db.session_scope(db_url) as s:
        assert s.query(Entity).count() == 0 and s.query(Source).count() == 0


def test_an_ftm_line_with_a_lone_surrogate_is_rejected_with_its_line(db_url, tmp_path):
    from typer.testing import CliRunner

    from workbench.cli import app

    path = tmp_path / "FICTIONAL.ftm.json"
    path.write_bytes(_json_with_surrogate({"id": "fict-1", "schema": "Person",
                                           "properties": {"name": ["FICTIONAL Ana"]}}) + b"\n"
                     + _json_with_surrogate({"id": "fict-2", "schema": "Person",
                                             "properties": {"name": ["FICTIONAL SURROGATE"]}}) + b"\n")
    result = CliRunner().invoke(app, ["import", "ftm", str(path)])
    assert result.exit_code == 3, result.output
    assert "FICTIONAL.ftm.json line 2: contains a lone surrogate" in " ".join(result.output.split())
    with store_db.session_scope(db_url) as s:
        assert [e.id for e in s.query(Entity)] == ["fict-1"]
