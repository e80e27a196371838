"""The JSON API: the same rules as the pages, with JSON errors and OpenAPI docs behind sign-in."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_helpers import csrf_of, signed_in_client


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def test_entity_crud_with_validation_and_optimistic_locking(client):
    bad = client.post("/api/entities", json={"kind": "Person", "properties": {"birthDate": "1979-13"}})
    assert bad.status_code == 422
    assert "name" in bad.json()["errors"] and "birthDate" in bad.json()["errors"]
    made = client.post("/api/entities", json={"kind": "Person", "properties": {
        "name": "Rosa Elena Mendez", "identifier": ["CURP:MERR790213MSLNZS01"]}})
    assert made.status_code == 201
    body = made.json()
    assert body["caption"] == "Rosa Elena Mendez" and body["version"] == 1
    assert body["warnings"]["identifier"]  # check-digit warning, value kept
    entity_id = body["id"]
    updated = client.put(f"/api/entities/{entity_id}", json={"properties": {"name": "Rosa E. Mendez"}, "version": 1})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = client.put(f"/api/entities/{entity_id}", json={"properties": {"name": "Other"}, "version": 1})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    detail = client.get(f"/api/entities/{entity_id}").json()
    assert detail["caption"] == "Rosa E. Mendez" and detail["sanction_status"] == "none"
    assert {"name": "Rosa E. Mendez", "kind": "primary", "property": "name"} in detail["names"]
    assert client.delete(f"/api/entities/{entity_id}", params={"version": 2}).status_code == 204
    assert client.get(f"/api/entities/{entity_id}").status_code == 404


def test_links_sources_and_citations(client):
    person = client.post("/api/entities", json={"kind": "Person", "properties": {"name": "Rosa Mendez"}}).json()
    company = client.post("/api/entities", json={"kind": "Company", "properties": {"name": "Costa SA"}}).json()
    wrong = client.post("/api/links", json={"kind": "Ownership", "source_id": company["id"],
                                            "target_id": person["id"]})
    assert wrong.status_code == 422
    link = client.post("/api/links", json={"kind": "Ownership", "source_id": person["id"],
                                           "target_id": company["id"], "properties": {"percentage": "50"}})
    assert link.status_code == 201
    source = client.post("/api/sources", json={"url": "https://example.org/registry/1", "title": "Registry",
                                               "source_type": "registry", "reliability": "A"})
    assert source.status_code == 201
    cite = client.post("/api/citations", json={"source_id": source.json()["id"], "link_id": link.json()["id"],
                                               "excerpt": "socio 50%"})
    assert cite.status_code == 201
    detail = client.get(f"/api/entities/{person['id']}").json()
    assert [l["kind"] for l in detail["links"]] == ["Ownership"]
    assert detail["citations"][0]["excerpt"] == "socio 50%"
    listed = client.get("/api/entities", params={"kind": "Organization"}).json()
    assert [e["caption"] for e in listed["results"]] == ["Costa SA"]


def test_cookie_session_api_writes_need_the_csrf_header(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    response = client.post("/api/entities", json={"kind": "Person", "properties": {"name": "X Y"}})
    assert response.status_code == 403


def test_openapi_docs_are_behind_sign_in_and_served_without_a_cdn(db_url, client):
    from workbench.web.app import create_app

    anonymous = TestClient(create_app())
    assert anonymous.get("/openapi.json").status_code == 401
    spec = client.get("/openapi.json").json()
    for path in ("/api/entities", "/api/links", "/api/sources", "/api/search", "/api/citations"):
        assert path in spec["paths"], path
    docs = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn." not in docs
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_unknown_kind_is_a_clear_422(client):
    response = client.get("/api/entities", params={"kind": "Spaceship"})
    assert response.status_code == 422 and "unknown entity kind 'Spaceship'" in response.json()["detail"]


def test_second_pass_api_details_a_script_notices(client):
    """A malformed body names the body, not a bare offset; a stale link delete is refused; timestamps keep UTC."""
    broken = client.post("/api/entities", content='{"kind": "Person", "properties": {', headers={
        "content-type": "application/json"})
    assert broken.status_code == 422
    assert list(broken.json()["errors"]) == ["body"] and "not valid JSON at character" in broken.json()["errors"]["body"][0]
    person = client.post("/api/entities", json={"kind": "Person", "properties": {"name": "Rosa Mendez"}}).json()
    company = client.post("/api/entities", json={"kind": "Company", "properties": {"name": "Costa SA"}}).json()
    link = client.post("/api/links", json={"kind": "Ownership", "source_id": person["id"], "target_id": company["id"],
                                           "properties": {"percentage": "50"}}).json()
    assert client.put(f"/api/links/{link['id']}", json={"properties": {"percentage": "60"}, "version": 1}).status_code == 200
    stale = client.delete(f"/api/links/{link['id']}", params={"version": 1})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    assert client.delete(f"/api/links/{link['id']}", params={"version": 2}).status_code == 204
    made = client.post("/api/sources", json={"url": "https://example.org/gazette/7", "title": "Gazette 7"}).json()
    listed = client.get("/api/sources", params={"q": "Gazette 7"}).json()
    read = client.get(f"/api/sources/{made['id']}").json()
    assert made["retrieved_at"] == listed[0]["retrieved_at"] == read["retrieved_at"]


def test_direction_controls_are_refused_and_invisible_spaces_dropped_from_names(client):
    """'\u202eevil' displays reversed: a page or a dossier would show a name other than the one
    stored. Zero-width spaces made two names that look the same differ."""
    spoof = client.post("/api/entities", json={"kind": "Person", "properties": {"name": "\u202eevil\u202c Name"}})
    assert spoof.status_code == 422 and "U+202E" in spoof.json()["detail"]
    made = client.post("/api/entities", json={"kind": "Person", "properties": {
        "name": "Zero\u200bWidth Hern\u2060andez", "notes": "plain note"}})
    assert made.status_code == 201, made.text
    assert made.json()["caption"] == "ZeroWidth Hernandez"
    note = client.post("/api/entities", json={"kind": "Person", "properties": {"name": "Ana", "notes": "x\u2067y"}})
    assert note.status_code == 422 and "U+2067" in note.json()["detail"]
    # identifiers lose every invisible format character (one CURP stays one); sources and notes refuse them
    curp = client.post("/api/entities", json={"kind": "Person", "properties": {
        "name": "Ana Curp", "identifier": ["CURP:\u202eGULO900329\u200bHSLZPV09"]}})
    assert curp.status_code == 201 and curp.json()["properties"]["identifier"] == ["CURP:GULO900329HSLZPV09"]
    source = client.post("/api/sources", json={"title": "Src \u202eevil", "url": "https://example.org/s"})
    assert source.status_code == 422 and "U+202E" in source.text
