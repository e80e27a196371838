"""Reconciling a column of names with no type: the candidates are parties and assets (the manifest's
default types), never the Sanction record that carries the same name. All names are FICTIONAL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from workbench.store import db as store_db
from workbench.store.entities import create_entity, create_link
from workbench.store.permissions import SYSTEM, Actor
from workbench.store.users import add_user, create_token

ACTOR = Actor("rita", "researcher")
NAME = "FICTIONAL Ramiro Ejemplar Quintero"


@pytest.fixture
def api(db_url):
    from workbench.web.app import create_app

    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "rita", "researcher", "correct horse battery")
        token = create_token(s, SYSTEM, "openrefine", "rita")
        create_entity(s, ACTOR, "Person", {"name": NAME}, entity_id="p-ramiro")
        create_entity(s, ACTOR, "Sanction", {"name": f"OFAC designation: {NAME}", "authority": "OFAC",
                                             "program": "SDNTK"}, entity_id="s-ramiro")
        create_link(s, ACTOR, "SanctionOf", "s-ramiro", "p-ramiro")
        create_entity(s, ACTOR, "RealEstate", {"name": "FICTIONAL Rancho Ejemplar Quintero"}, entity_id="re-rancho")
    client = TestClient(create_app())
    return client, {"Authorization": f"Bearer {token}"}


def _reconcile(client, auth, **query) -> list[dict]:
    response = client.post("/reconcile", data={"queries": json.dumps({"q": query})}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["q"]["result"]


def test_an_untyped_query_offers_the_person_not_their_sanction_record(api):
    client, auth = api
    ids = [r["id"] for r in _reconcile(client, auth, query=NAME, limit=10)]
    assert "p-ramiro" in ids and "s-ramiro" not in ids
    suggested = client.get("/reconcile/suggest/entity", params={"prefix": "FICTIONAL Ramiro"}, headers=auth).json()
    assert {r["id"] for r in suggested["result"]} == {"p-ramiro"}


def test_an_untyped_query_still_finds_assets(api):
    client, auth = api
    ids = [r["id"] for r in _reconcile(client, auth, query="Rancho Ejemplar Quintero")]
    assert ids[:1] == ["re-rancho"]


def test_untyped_candidates_are_the_manifests_default_types(api):
    client, auth = api
    manifest = client.get("/reconcile", headers=auth).json()
    defaults = {t["id"] for t in manifest["defaultTypes"]}
    assert {"Person", "Company", "RealEstate"} <= defaults and "Sanction" not in defaults
    for result in _reconcile(client, auth, query="FICTIONAL Ejemplar Quintero", limit=10):
        assert result["type"][0]["id"] in defaults


def test_a_query_typed_sanction_still_finds_the_sanction_record(api):
    client, auth = api
    types = client.get("/reconcile/suggest/type", params={"prefix": "sanc"}, headers=auth).json()["result"]
    assert {"id": "Sanction", "name": "Sanction"} in types  # the service offers the type
    ids = [r["id"] for r in _reconcile(client, auth, query=NAME, type="Sanction")]
    assert ids == ["s-ramiro"]


def test_a_suggestion_typed_with_an_abstract_kind_covers_the_kinds_under_it(api):
    """OpenRefine may pass a family ('LegalEntity') as the type: a person is one; before, the exact
    kind comparison found nothing as soon as the prefix was typed."""
    client, auth = api
    suggested = client.get("/reconcile/suggest/entity", params={"prefix": "quint", "type": "LegalEntity"},
                           headers=auth).json()
    assert [r["id"] for r in suggested["result"]] == ["p-ramiro"]
