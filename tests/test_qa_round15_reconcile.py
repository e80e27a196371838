"""QA round 15 on the Reconciliation API, checked against the W3C v0.2 specification and OpenRefine, driven
over HTTP as OpenRefine drives it. Every person and company here is FICTIONAL.

- A weak alias (titles dropped: 'DR. IBRAHIM') scored 100, as the entry whose own name the query was, and was
  listed first: OpenRefine's best candidate, and with limit 1 the right entry was not offered at all.
- Deeply nested JSON was a 500 with no CORS header.
- A company reconciled against Organization carried only the type Company: OpenRefine's 'type match' was false.
- The manifest did not say how many queries a batch may hold.
- Data extension answered dates as text, and ids that are no text under Python's spelling of them.
- Candidates' descriptions were empty, so exact namesakes looked the same in OpenRefine's list.
"""

from __future__ import annotations

import pytest
from test_reconcile import api  # noqa: F401 - the app with rita's token and three FICTIONAL entries
from test_reconcile_qa11 import _add, _ask, _post


def test_the_entry_named_exactly_comes_before_one_found_by_a_nickname_even_with_limit_one(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-haji", "Person", {"name": "IBRAHIM, Haji", "nationality": "af"}),
         ("p-badri", "Person", {"name": "FICTIONAL AL-BADRI, Ibrahim Awwad", "weakAlias": "DR. IBRAHIM"}))

    answer = _ask(client, token, {"all": {"query": "IBRAHIM, Haji", "type": "Person"},
                                  "one": {"query": "IBRAHIM, Haji", "type": "Person", "limit": 1}})

    assert [r["id"] for r in answer["one"]] == ["p-haji"]
    first, *rest = answer["all"]
    assert first["id"] == "p-haji" and first["score"] == 100
    nickname = next(r for r in rest if r["id"] == "p-badri")
    assert nickname["score"] < 100 and nickname["match"] is False
    assert "weak alias / nickname" in nickname["description"]


@pytest.mark.parametrize("field, body", [("queries", "[" * 50_000), ("extend", '{"a":' * 30_000)])
def test_json_nested_too_deeply_is_refused_with_a_reason_and_the_cors_header(api, field, body):  # noqa: F811
    client, token = api
    response = client.post(f"/reconcile?token={token}", data={field: body})
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert response.headers["access-control-allow-origin"] == "*"


def test_a_company_reconciled_against_organization_carries_that_type(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("c-anglo", "Company", {"name": "FICTIONAL ANGLO-CARIBE EJEMPLO CO., LTD."}))
    answer = _ask(client, token, {"q": {"query": "FICTIONAL ANGLO-CARIBE EJEMPLO CO., LTD.", "type": "Organization"}})
    best = answer["q"][0]
    types = [t["id"] for t in best["type"]]
    assert best["id"] == "c-anglo" and types[0] == "Company" and "Organization" in types


def test_the_manifest_says_how_many_queries_a_batch_may_hold_and_a_larger_one_is_refused(api):  # noqa: F811
    client, token = api
    limit = client.get(f"/reconcile?token={token}").json()["batchSize"]
    too_many = {f"q{i}": {"query": "FICTIONAL Nadie"} for i in range(limit + 1)}
    refused = _post(client, token, queries=too_many)
    assert refused.status_code == 422 and f"at most {limit}" in refused.text


def test_extend_gives_a_full_date_as_a_date_and_a_partial_one_as_text(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-dates", "Person", {"name": "FICTIONAL Fechas Ejemplo", "birthDate": ["1961-08-04", "1962"]}))
    response = _post(client, token, extend={"ids": ["p-dates"], "properties": [{"id": "birthDate"}]})
    assert response.status_code == 200, response.text
    assert response.json()["rows"]["p-dates"]["birthDate"] == [{"date": "1961-08-04T00:00:00Z"}, {"str": "1962"}]


@pytest.mark.parametrize("request_body, field", [
    ({"ids": ["p-1", 123], "properties": [{"id": "name"}]}, "extend.ids[1]"),
    ({"ids": [None], "properties": [{"id": "name"}]}, "extend.ids[0]"),
    ({"ids": ["p-1"], "properties": ["name"]}, "extend.properties[0]"),
])
def test_extend_refuses_ids_that_are_no_text_and_properties_that_are_no_objects(api, request_body, field):  # noqa: F811
    client, token = api
    response = _post(client, token, extend=request_body)
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_exact_namesakes_are_told_apart_by_their_descriptions(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-twin-1", "Person", {"name": "FICTIONAL Hassan Gemelo Ejemplo", "birthDate": "1935-01-01",
                                         "nationality": "so"}),
         ("p-twin-2", "Person", {"name": "FICTIONAL Hassan Gemelo Ejemplo", "birthDate": "1972-06-30",
                                 "nationality": "ke"}))
    answer = _ask(client, token, {"q": {"query": "FICTIONAL Hassan Gemelo Ejemplo", "type": "Person"}})
    described = {r["id"]: r["description"] for r in answer["q"]}
    assert "1935-01-01" in described["p-twin-1"] and "Somalia" in described["p-twin-1"]
    assert "1972-06-30" in described["p-twin-2"] and "Kenya" in described["p-twin-2"]


@pytest.mark.parametrize("asked, status, reason", [
    ("id=nope", 404, "no entity with id"),
    ("id=p-1&token=not-a-token", 401, "this API token is not valid"),
])
def test_a_refused_preview_says_why_in_a_card_openrefines_frame_may_show(api, asked, status, reason):  # noqa: F811
    client, token = api
    query = asked if "token=" in asked else f"{asked}&token={token}"
    response = client.get(f"/reconcile/preview?{query}")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert reason in response.text
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
    assert response.headers["access-control-allow-origin"] == "*"
