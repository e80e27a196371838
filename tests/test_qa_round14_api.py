"""QA round 14, the JSON API as a script writer meets it: text no database can store sent as an id, a typo'd
field, paging sources and an entity's citations, a merged entry read by its old id, an unknown id in a body,
a token that is not valid, and the OpenAPI document. All names and sources are FICTIONAL."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from workbench.store import db as store_db
from workbench.store.models import Citation, Dossier, Entity, Link, Source
from workbench.store.permissions import SYSTEM
from workbench.store.users import add_user, create_token, revoke_tokens

SURROGATE = "lone surrogate"


@pytest.fixture
def token(db_url) -> str:
    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "rita", "researcher", "correct horse battery")
        return create_token(s, SYSTEM, "script", "rita")


@pytest.fixture
def api(token):
    from workbench.web.app import create_app

    client = TestClient(create_app(), raise_server_exceptions=False)  # a 500 is an answer the test reads
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _surrogate_json(data: dict) -> bytes:
    """``data`` as JSON with a lone surrogate ('\\ud800', which JSON can spell) wherever it says SURROGATE."""
    return json.dumps(data).replace("SURROGATE", "\\ud800").encode("ascii")


def post_surrogate(api, path: str, data: dict):
    return api.post(path, content=_surrogate_json(data), headers={"content-type": "application/json"})


def person(api, name: str = "Ana Ruiz (FICTIONAL)") -> str:
    made = api.post("/api/entities", json={"kind": "Person", "properties": {"name": name}})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def source(api, title: str = "Gaceta (FICTIONAL)", url: str = "https://example.org/gaceta") -> str:
    made = api.post("/api/sources", json={"url": url, "title": title})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def count(db_url, model) -> int:
    with store_db.session_scope(db_url) as s:
        return s.query(model).count()


# ---- 1. a lone surrogate in an id: 422 naming the field, never a server error ----------------------------

def test_a_lone_surrogate_in_an_id_field_of_a_body_is_a_422_naming_that_field(api, db_url):
    ana, gaceta = person(api), source(api)
    refused = {
        ("/api/links", "source_id"): {"kind": "Ownership", "source_id": "SURROGATE", "target_id": ana},
        ("/api/links", "target_id"): {"kind": "Ownership", "source_id": ana, "target_id": "SURROGATE"},
        ("/api/citations", "source_id"): {"source_id": "SURROGATE", "entity_id": ana},
        ("/api/citations", "entity_id"): {"source_id": gaceta, "entity_id": "SURROGATE"},
        ("/api/dossiers", "target_id"): {"target_id": "SURROGATE", "legal_basis": "kingpin-b2"},
        (f"/api/entities/{ana}/judgements", "other_id"): {"other_id": "SURROGATE", "verdict": "different"},
        ("/api/entities", "id"): {"kind": "Person", "id": "SURROGATE", "properties": {"name": "Eva (FICTIONAL)"}},
    }
    for (path, field), body in refused.items():
        answer = post_surrogate(api, path, body)
        assert answer.status_code == 422, (path, answer.status_code, answer.text)
        assert SURROGATE in answer.json()["errors"][field][0], (path, answer.text)
    assert (count(db_url, Link), count(db_url, Citation), count(db_url, Dossier), count(db_url, Entity)) == (0, 0, 0, 1)


def test_a_lone_surrogate_in_a_reconciliation_batch_is_refused_with_its_field_and_the_cors_header(api, db_url):
    person(api, "Rosa Mendez (FICTIONAL)")

    def reconcile(**form):
        return api.post("/reconcile", data={k: _surrogate_json(v).decode("ascii") for k, v in form.items()})

    alone = reconcile(queries={"q0": {"query": "SURROGATE"}})
    assert alone.status_code == 422 and SURROGATE in alone.json()["errors"]["queries.q0.query"][0], alone.text
    assert alone.headers["access-control-allow-origin"] == "*"  # OpenRefine's page can read why
    # With a query that can be read, the batch is answered and the other query gets no candidates of its own.
    mixed = reconcile(queries={"q0": {"query": "SURROGATE"}, "q1": {"query": "Rosa Mendez"},
                               "q2": {"query": "Rosa", "properties": [{"pid": "nationality", "v": "SURROGATE"}]}})
    assert mixed.status_code == 200, mixed.text
    assert mixed.json()["q0"]["result"] == [] and mixed.json()["q2"]["result"] == []
    assert mixed.json()["q1"]["result"][0]["name"] == "Rosa Mendez (FICTIONAL)"
    keyed = reconcile(queries={"SURROGATE": {"query": "Rosa Mendez"}})  # the answer could not repeat that key
    assert keyed.status_code == 422 and keyed.headers["access-control-allow-origin"] == "*", keyed.text
    assert SURROGATE in keyed.json()["detail"] and "key" in keyed.json()["detail"]
    extended = reconcile(extend={"ids": ["SURROGATE"], "properties": [{"id": "nationality"}]})
    assert extended.status_code == 422 and SURROGATE in extended.json()["errors"]["extend.ids"][0], extended.text


def _get_raw_path(app, path: str, token: str) -> tuple[int, dict]:
    """GET an address holding a lone surrogate, straight into the app: no HTTP client can send one."""
    sent: list[dict] = []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode("utf-8", "surrogatepass"), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_a_lone_surrogate_in_an_address_is_a_422_not_a_server_error(api, token):
    for path, field in (("/api/entities/\ud800", "entity_id"), ("/api/links/\ud800", "link_id"),
                        ("/api/sources/\ud800", "source_id")):
        status, body = _get_raw_path(api.app, path, token)
        assert status == 422 and SURROGATE in body["errors"][field][0], (path, status, body)
    # Over HTTP the bytes of half a character arrive as replacement characters: an unknown id, as any other.
    assert api.get("/api/entities/%ED%A0%80").status_code == 404


# ---- 2. a field the request does not have is refused, not dropped ----------------------------------------

def test_a_typo_in_a_new_sources_field_is_refused_and_nothing_is_created(api, db_url):
    typo = api.post("/api/sources", json={"url": "https://example.org/leak", "title": "Filtracion (FICTIONAL)",
                                          "releaseable": False})
    assert typo.status_code == 422 and "releaseable" in typo.json()["errors"], typo.text
    assert "not a field" in typo.json()["errors"]["releaseable"][0]
    assert count(db_url, Source) == 0


def test_every_json_body_refuses_a_field_it_does_not_have(api, db_url):
    ana, gaceta = person(api), source(api)
    read = api.get(f"/api/entities/{ana}").json()
    kind_change = api.put(f"/api/entities/{ana}", json={"kind": "Company", "version": read["version"],
                                                        "properties": read["properties"]})
    assert kind_change.status_code == 422 and "kind" in kind_change.json()["errors"], kind_change.text
    assert api.get(f"/api/entities/{ana}").json()["kind"] == "Person"
    eva = person(api, "Eva Soto (FICTIONAL)")
    extras = {
        "/api/entities": {"kind": "Person", "properties": {"name": "Luz (FICTIONAL)"}, "notes": "x"},
        "/api/links": {"kind": "Associate", "source_id": ana, "target_id": eva, "start_date": "2020"},
        "/api/citations": {"source_id": gaceta, "entity_id": ana, "excerpts": "typo"},
        "/api/entities/duplicates": {"kind": "Person", "properties": {"name": "Ana Ruiz"}, "exclude": ana},
        f"/api/entities/{ana}/judgements": {"other_id": eva, "verdict": "different", "note": "x"},
    }
    for path, body in extras.items():
        extra = next(iter(body.keys() - {"kind", "properties", "source_id", "target_id", "entity_id", "other_id",
                                         "verdict"}))
        answer = api.post(path, json=body)
        assert answer.status_code == 422 and extra in answer.json()["errors"], (path, answer.text)
    assert (count(db_url, Entity), count(db_url, Link), count(db_url, Citation)) == (2, 0, 0)


# ---- 3. paging: sources from an offset with the total, an entity's citations to a limit ------------------

def test_sources_come_a_page_at_a_time_from_an_offset_with_the_total_and_the_next_page(api, db_url):
    made = [source(api, f"Gaceta {n} (FICTIONAL)", f"https://example.org/g{n}") for n in range(5)]
    with store_db.session_scope(db_url) as s:  # made in the same instant: the order must still be one order
        s.execute(update(Source).values(created_at=s.get(Source, made[0]).created_at))
    seen, page = [], api.get("/api/sources", params={"limit": 2})
    while True:
        assert page.status_code == 200 and page.headers["x-total-count"] == "5", page.text
        seen += [row["id"] for row in page.json()]
        if "link" not in page.headers:
            break
        page = api.get(re.fullmatch(r'<([^>]+)>; rel="next"', page.headers["link"]).group(1))
    assert sorted(seen) == sorted(made) and len(seen) == 5
    beyond = api.get("/api/sources", params={"limit": 2, "offset": 100})
    assert beyond.status_code == 200 and beyond.json() == [] and beyond.headers["x-total-count"] == "5"
    assert [r["id"] for r in api.get("/api/sources", params={"offset": 4}).json()] == seen[4:]


def test_an_entitys_citations_honour_the_limit(api):
    ana, gaceta = person(api), source(api)
    cited = [api.post("/api/citations", json={"source_id": gaceta, "entity_id": ana, "page": str(n)}).json()["id"]
             for n in range(3)]
    first = api.get("/api/citations", params={"entity_id": ana, "limit": 1})
    assert [c["id"] for c in first.json()] == cited[:1] and first.headers["x-total-count"] == "3", first.text
    rest = api.get(re.fullmatch(r'<([^>]+)>; rel="next"', first.headers["link"]).group(1))
    assert [c["id"] for c in rest.json()] == cited[1:2]
    assert [c["id"] for c in api.get("/api/citations", params={"entity_id": ana}).json()] == cited


# ---- 4. a merged entry read by its old id says where it went -----------------------------------------------

def test_an_entry_merged_into_another_names_the_kept_entry(api):
    kept, gone = person(api, "Ana Ruiz Soto (FICTIONAL)"), person(api, "Ana Ruiz (FICTIONAL)")
    merged = api.post(f"/api/entities/{kept}/judgements", json={"other_id": gone, "verdict": "same"})
    assert merged.status_code == 201, merged.text
    old = api.get(f"/api/entities/{gone}")
    assert old.status_code == 200 and old.json()["merged_into"] == kept, old.text
    assert api.get(f"/api/entities/{kept}").json()["merged_into"] is None


# ---- 5. an unknown id in a body is a refused field; in the address, a 404 -----------------------------------

def test_an_unknown_id_in_a_body_is_a_422_naming_the_field_as_sent(api, db_url):
    ana, gaceta = person(api), source(api)
    refused = {
        ("/api/links", "target_id"): {"kind": "Ownership", "source_id": ana, "target_id": "nope"},
        ("/api/citations", "entity_id"): {"source_id": gaceta, "entity_id": "nope"},
        ("/api/citations", "source_id"): {"source_id": "nope", "entity_id": ana},
        ("/api/dossiers", "target_id"): {"target_id": "nope", "legal_basis": "kingpin-b2"},
        (f"/api/entities/{ana}/judgements", "other_id"): {"other_id": "nope", "verdict": "different"},
    }
    for (path, field), body in refused.items():
        answer = api.post(path, json=body)
        assert answer.status_code == 422, (path, answer.text)
        assert list(answer.json()["errors"]) == [field] and "nope" in answer.json()["errors"][field][0]
    assert api.post("/api/entities/nope/judgements", json={"other_id": ana, "verdict": "different"}).status_code == 404
    assert api.get("/api/entities/nope").status_code == 404


# ---- 6. a token that is not valid is told apart from none -----------------------------------------------------

def test_a_revoked_or_mistyped_token_is_told_it_is_not_valid(api, db_url):
    mistyped = api.get("/api/entities", headers={"Authorization": "Bearer not-a-token"})
    assert mistyped.status_code == 401 and "not valid" in mistyped.json()["detail"], mistyped.text
    assert "send an API token" not in mistyped.json()["detail"]
    with store_db.session_scope(db_url) as s:
        revoke_tokens(s, SYSTEM, "rita")
    revoked = api.get("/api/entities")
    assert revoked.status_code == 401 and "not valid" in revoked.json()["detail"]
    from workbench.web.app import create_app

    none = TestClient(create_app()).get("/api/entities")
    assert none.status_code == 401 and "send an API token" in none.json()["detail"]


# ---- 7. the OpenAPI document offers Bearer sign-in and says what a 422 holds ----------------------------------

def test_the_openapi_document_has_a_bearer_scheme_and_the_real_refusal_body(api):
    document = api.get("/openapi.json").json()
    bearer = document["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")  # Swagger's Authorize button takes a token
    assert {"bearer": []} in document["security"]
    refusal = document["paths"]["/api/sources"]["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    shape = document["components"]["schemas"][refusal["$ref"].rsplit("/", 1)[1]]
    assert set(shape["properties"]) == {"detail", "errors"}
    assert "HTTPValidationError" not in json.dumps(document)
