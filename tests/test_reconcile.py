"""The Reconciliation API as OpenRefine uses it: token required, batched queries, preview, suggest, extend."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from workbench.store import db as store_db
from workbench.store.entities import create_entity
from workbench.store.permissions import SYSTEM, Actor
from workbench.store.users import add_user, create_token

ACTOR = Actor("rita", "researcher")


@pytest.fixture
def api(db_url):
    from workbench.web.app import create_app

    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "rita", "researcher", "correct horse battery")
        token = create_token(s, SYSTEM, "openrefine", "rita")
        create_entity(s, ACTOR, "Person", {"name": "FICTIONAL Joaquin Ejemplo Muestra", "birthDate": "1957-04-04",
                                           "nationality": "mx", "alias": "FICTIONAL El Ejemplo <b>"},
                      entity_id="p-1")
        create_entity(s, ACTOR, "Person", {"name": "FICTIONAL Joaquin Ejemplo Lopez", "birthDate": "1970-01-01",
                                           "nationality": "co"}, entity_id="p-2")
        create_entity(s, ACTOR, "Company", {"name": "FICTIONAL Ejemplo Holdings LLC", "jurisdiction": "us"},
                      entity_id="c-1")
    client = TestClient(create_app())
    return client, token


def test_every_endpoint_needs_a_token(api):
    client, token = api
    for path in ("/reconcile", "/reconcile/preview?id=p-1", "/reconcile/suggest/entity?prefix=Joa",
                 "/reconcile/suggest/type?prefix=Per", "/reconcile/suggest/property?prefix=bir",
                 "/reconcile/extend/propose?type=Person"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"Authorization": "Bearer wbt_wrong"}).status_code == 401, path
    # Without credentials a POST is refused too, saying what is missing: the token, not a form's CSRF field.
    refused = client.post("/reconcile", data={"queries": "{}"})
    assert refused.status_code == 401 and "needs an API token" in refused.text
    assert client.post("/reconcile", data={"queries": "{}"},
                       headers={"Authorization": "Bearer wbt_wrong"}).status_code == 401
    assert client.get("/reconcile", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get(f"/reconcile?token={token}").status_code == 200


def test_manifest(api):
    client, token = api
    manifest = client.get("/reconcile", headers={"Authorization": f"Bearer {token}"}).json()
    assert manifest["versions"] == ["0.2"]
    assert {"id": "Person", "name": "Person"} in manifest["defaultTypes"]
    assert manifest["preview"]["url"].endswith("/reconcile/preview?id={{id}}")
    assert manifest["suggest"]["entity"]["service_path"] == "/reconcile/suggest/entity"
    assert manifest["extend"]["propose_properties"]["service_path"] == "/reconcile/extend/propose"
    with_query = client.get(f"/reconcile?token={token}").json()
    assert f"token={token}" in with_query["preview"]["url"]  # OpenRefine cannot send headers to the preview


def test_the_manifest_builds_its_token_urls_from_the_configured_address_not_the_host_header(api, monkeypatch):
    from workbench.settings import reset_settings

    client, token = api
    spoofed = client.get(f"/reconcile?token={token}", headers={"Host": "evil.example"}).json()
    assert spoofed["preview"]["url"].startswith("http://evil.example/")  # unset: the request's own address
    monkeypatch.setenv("WORKBENCH_PUBLIC_URL", "https://workbench.example.org/")
    reset_settings()
    answered = client.get(f"/reconcile?token={token}", headers={"Host": "evil.example"}).json()
    assert answered["preview"]["url"].startswith(f"https://workbench.example.org/reconcile/preview?token={token}")
    assert "evil.example" not in str(answered)


def test_batched_queries_with_type_and_properties(api):
    client, token = api
    queries = {
        "q0": {"query": "Joaquin Ejemplo", "type": "Person", "limit": 5,
               "properties": [{"pid": "nationality", "v": "mx"}, {"pid": "birthDate", "v": "1957-04-04"}]},
        "q1": {"query": "Ejemplo Holdings", "type": "Company"},
        "q2": {"query": "Nobody Atall Zzyzx"},
    }
    response = client.post("/reconcile", data={"queries": json.dumps(queries)},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json()
    q0 = body["q0"]["result"]
    assert [r["id"] for r in q0][:2] == ["p-1", "p-2"]  # the agreeing birth date and nationality decide
    assert q0[0]["score"] > q0[1]["score"] and q0[0]["type"][0] == {"id": "Person", "name": "Person"}
    assert all(r["type"][0]["id"] == "Person" for r in q0)
    assert body["q1"]["result"][0]["id"] == "c-1"
    assert body["q2"]["result"] == []
    get = client.get("/reconcile", params={"queries": json.dumps({"a": {"query": "Ejemplo Holdings LLC"}}),
                                           "token": token})
    assert get.json()["a"]["result"][0]["id"] == "c-1"
    bad = client.post("/reconcile", data={"queries": "{not json"}, headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400
    unknown = client.post("/reconcile", data={"queries": json.dumps({"q": {"query": "x", "type": "Spaceship"}})},
                          headers={"Authorization": f"Bearer {token}"})
    assert unknown.status_code == 422


def test_preview_escapes_and_suggest(api):
    client, token = api
    auth = {"Authorization": f"Bearer {token}"}
    preview = client.get("/reconcile/preview", params={"id": "p-1"}, headers=auth)
    assert preview.status_code == 200 and "FICTIONAL Joaquin Ejemplo Muestra" in preview.text
    assert "El Ejemplo &lt;b&gt;" in preview.text and "<b>" not in preview.text
    assert client.get("/reconcile/preview", params={"id": "nope"}, headers=auth).status_code == 404
    entities = client.get("/reconcile/suggest/entity", params={"prefix": "Ejemplo Holdings"}, headers=auth).json()
    assert entities["result"][0]["id"] == "c-1"
    types = client.get("/reconcile/suggest/type", params={"prefix": "comp"}, headers=auth).json()
    assert {"id": "Company", "name": "Company"} in types["result"]
    props = client.get("/reconcile/suggest/property", params={"prefix": "birth", "type": "Person"}, headers=auth)
    assert {"id": "birthDate", "name": "Date of birth"} in props.json()["result"]


def test_extend(api):
    client, token = api
    auth = {"Authorization": f"Bearer {token}"}
    proposed = client.get("/reconcile/extend/propose", params={"type": "Person"}, headers=auth).json()
    assert {"id": "birthDate", "name": "Date of birth"} in proposed["properties"]
    request = {"ids": ["p-1", "c-1"], "properties": [{"id": "birthDate"}, {"id": "jurisdiction"}]}
    body = client.post("/reconcile", data={"extend": json.dumps(request)}, headers=auth).json()
    assert body["meta"] == [{"id": "birthDate", "name": "Date of birth"}, {"id": "jurisdiction", "name": "Jurisdiction"}]
    assert body["rows"]["p-1"]["birthDate"] == [{"date": "1957-04-04T00:00:00Z"}]  # a date cell in OpenRefine
    assert body["rows"]["c-1"] == {"birthDate": [], "jurisdiction": [{"str": "us"}]}


def test_openrefine_can_post_queries_with_the_token_in_the_url(api):
    """OpenRefine sends no headers: a POST to /reconcile?token=... must work, and a wrong token must not."""
    client, token = api
    queries = json.dumps({"q0": {"query": "Ejemplo Holdings", "type": "Company"}})
    response = client.post(f"/reconcile?token={token}", data={"queries": queries})
    assert response.status_code == 200 and response.json()["q0"]["result"][0]["id"] == "c-1"
    wrong = client.post("/reconcile?token=wbt_wrong", data={"queries": queries})
    assert wrong.status_code == 401 and "this API token is not valid" in wrong.text


def test_a_revoked_token_is_told_apart_from_a_missing_one(api, db_url):
    from workbench.store.users import revoke_tokens

    client, token = api
    with store_db.session_scope(db_url) as s:
        revoke_tokens(s, SYSTEM, "rita")
    for response in (client.get(f"/reconcile?token={token}"),
                     client.get("/reconcile", headers={"Authorization": f"Bearer {token}"})):
        assert response.status_code == 401
        assert "not valid (unknown, revoked, or its user is disabled)" in response.text
    assert "needs an API token" in client.get("/reconcile").text


def test_a_signed_in_browser_cannot_be_made_to_post_with_a_bogus_token(api, db_url):
    """The token in the URL replaces the cookie; it never lets a cookie session skip the CSRF check."""
    from web_helpers import sign_in

    client, _ = api
    assert sign_in(client, "rita", "correct horse battery").status_code == 303
    queries = json.dumps({"q0": {"query": "Ejemplo Holdings"}})
    assert client.post("/reconcile?token=bogus", data={"queries": queries}).status_code == 401
    assert client.post("/reconcile", data={"queries": queries}).status_code == 403


def test_malformed_queries_get_a_message_naming_the_query_not_a_server_error(api):
    """OpenRefine users hand-edit service calls; a wrong limit or properties shape was a 500."""
    client, token = api
    auth = {"Authorization": f"Bearer {token}"}
    for query, field in (({"query": "Ejemplo", "limit": "abc"}, "limit"),
                         ({"query": "Ejemplo", "properties": {"pid": "nationality", "v": "mx"}}, "properties"),
                         ({"query": "Ejemplo", "properties": ["nationality"]}, "properties"),
                         ({"query": "Ejemplo", "type": {"id": "Person"}}, "type")):
        response = client.post("/reconcile", data={"queries": json.dumps({"q7": query})}, headers=auth)
        assert response.status_code == 422, (query, response.text)
        assert f"queries.q7.{field}" in response.json()["errors"], response.json()
    bad = client.post("/reconcile", data={"queries": '{"q0": {"query": "x",}}'}, headers=auth)
    assert bad.status_code == 400 and "line 1, column" in bad.json()["detail"]


def test_suggest_completes_what_is_typed_so_far(api):
    """OpenRefine's 'search for match' box sends a prefix ('Ejem'); it found nothing, unlike the pages."""
    client, token = api
    auth = {"Authorization": f"Bearer {token}"}
    found = client.get("/reconcile/suggest/entity", params={"prefix": "Ejem"}, headers=auth).json()["result"]
    assert {r["id"] for r in found} >= {"p-1", "p-2", "c-1"}
    people = client.get("/reconcile/suggest/entity", params={"prefix": "Ejem", "type": "Person"}, headers=auth)
    assert {r["id"] for r in people.json()["result"]} == {"p-1", "p-2"}
    assert {"id": "c-1", "name": "FICTIONAL Ejemplo Holdings LLC", "description": "Company"} in found


def test_an_identifier_decides_over_the_name(api, db_url):
    """The entity scorer's rule: an equal CURP is near-certain, a different CURP rules the candidate out
    even when name, birth date and nationality agree (an automatic match would wrongly be made)."""
    client, token = api
    with store_db.session_scope(db_url) as s:
        create_entity(s, ACTOR, "Person", {"name": "FICTIONAL Ramona Prueba Ejemplar",
                                           "identifier": "CURP:PUER570404MSLRJM09", "nationality": "mx"},
                      entity_id="p-9")

    def ask(curp):
        queries = {"q": {"query": "FICTIONAL Ramona Prueba Ejemplar", "type": "Person",
                         "properties": [{"pid": "nationality", "v": "mx"}, {"pid": "identifier", "v": curp}]}}
        response = client.post("/reconcile", data={"queries": json.dumps(queries)},
                               headers={"Authorization": f"Bearer {token}"})
        return {r["id"]: r for r in response.json()["q"]["result"]}

    same = ask("CURP:PUER570404MSLRJM09")["p-9"]
    assert same["match"] is True and same["score"] >= 99
    other = ask("CURP:GOAL800101HSLRRN05").get("p-9")
    assert other is not None and other["match"] is False and other["score"] < 20


def test_queries_openrefine_would_not_send_are_refused_with_a_reason(api):
    client, token = api
    as_json = client.post(f"/reconcile?token={token}", json={"queries": {"q0": {"query": "Ejemplo"}}})
    assert as_json.status_code == 400 and "form field 'queries'" in as_json.text
    for query, reason in (({"query": "Ejemplo", "limit": -1}, "expected at least 1 result"),
                          ({"query": "Ejemplo", "type": "Person", "properties": [{"pid": "wingspan", "v": "2"}]},
                           "unknown property 'wingspan'")):
        refused = client.post(f"/reconcile?token={token}", data={"queries": json.dumps({"q0": query})})
        assert refused.status_code == 422 and reason in refused.text, refused.text
    fine = client.post(f"/reconcile?token={token}", data={"queries": json.dumps(
        {"q0": {"query": "Ejemplo Muestra", "type": "Person", "properties": [{"pid": "birthDate", "v": "1957-04-04"}]}})})
    assert fine.status_code == 200 and fine.json()["q0"]["result"][0]["id"] == "p-1"


def test_a_browser_may_ask_before_sending_a_bearer_token(db_url):
    from fastapi.testclient import TestClient

    from workbench.web.app import create_app

    client = TestClient(create_app())
    answer = client.options("/reconcile", headers={"Origin": "http://127.0.0.1:3333",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "authorization"})
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert client.get("/reconcile").status_code == 401  # the service itself still needs the token


def test_countries_and_dates_are_compared_as_what_they_mean(api):
    """A spreadsheet writes 'Mexico' and '04/04/1957'; the workbench stores 'mx' and '1957-04-04'."""
    client, token = api

    def first(properties):
        queries = {"q": {"query": "Joaquin Ejemplo", "type": "Person", "properties": properties}}
        answer = client.post("/reconcile", data={"queries": json.dumps(queries)},
                             headers={"Authorization": f"Bearer {token}"}).json()["q"]["result"]
        return answer[0]["id"], {f["id"]: f["value"] for f in answer[0].get("features", [])}

    top, features = first([{"pid": "nationality", "v": "Mexico"}])
    assert top == "p-1" and features["property:nationality"] == 1.0
    assert first([{"pid": "nationality", "v": "Colombia"}])[0] == "p-2"
    for written in ("04/04/1957", "1957-04-04T00:00:00Z", "4/4/57"):
        assert first([{"pid": "birthDate", "v": written}])[1].get("property:birthDate") == 1.0, written
    # A value that is no country at all says nothing either way.
    assert "property:nationality" not in first([{"pid": "nationality", "v": "n/a"}])[1]


def test_a_nickname_before_a_surname_reconciles_to_the_person(api, db_url):
    """A spreadsheet from the press writes 'El Tigre Quintanilla': the nickname is one stored name and
    the surname another; reconciliation reads them together, as the search page does."""
    client, token = api
    with store_db.session_scope(db_url) as s:
        create_entity(s, ACTOR, "Person", {"name": "FICTIONAL Ramiro Quintanilla Salcido",
                                           "weakAlias": "El Tigre"}, entity_id="p-tigre")
    queries = json.dumps({"q0": {"query": "El Tigre Quintanilla", "type": "Person"},
                          "q1": {"query": "El Tigre Ejemplo", "type": "Person"}})
    answer = client.post("/reconcile", data={"queries": queries}, headers={"Authorization": f"Bearer {token}"}).json()
    best = answer["q0"]["result"][0]
    assert best["id"] == "p-tigre" and best["score"] >= 50
    # The given names are a nickname's (a weak alias): a candidate to look at, marked so, never a match.
    assert best["description"] == "matched El Tigre + FICTIONAL Ramiro Quintanilla Salcido (weak alias / nickname)"
    assert best["match"] is False and {"id": "weak_alias", "value": 1.0} in best["features"]
    # A nickname of one person and a surname of another are not read together.
    assert all(r["id"] != "p-tigre" or r["score"] < 50 for r in answer["q1"]["result"])
