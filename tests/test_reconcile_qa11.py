"""QA round 11 on the Reconciliation API, driven over HTTP as OpenRefine drives it: form-encoded
``queries=``/``extend=``, the token in the service URL. Every person and company here is FICTIONAL."""

from __future__ import annotations

import json
import logging
import re

import pytest
from test_reconcile import ACTOR, api  # noqa: F401 - the app with rita's token and three FICTIONAL entries

from workbench.store import db as store_db
from workbench.store.entities import create_entity, create_link, update_entity

BROTHERS = ("Martin", "Jose Luis", "Miguel Angel", "Jose Arnoldo")


def _add(db_url, *entities) -> None:
    with store_db.session_scope(db_url) as s:
        for entity_id, kind, properties in entities:
            create_entity(s, ACTOR, kind, properties, entity_id=entity_id)


def _post(client, token, **fields):
    return client.post(f"/reconcile?token={token}", data={k: json.dumps(v) for k, v in fields.items()})


def _ask(client, token, queries: dict) -> dict:
    response = _post(client, token, queries=queries)
    assert response.status_code == 200, response.text
    return {key: answer["result"] for key, answer in response.json().items()}


def _features(result: dict) -> dict:
    return {f["id"]: f["value"] for f in result["features"]}


# ---- F1: the match decision does not depend on the limit ---------------------------------------

def test_a_limit_of_one_does_not_turn_a_tie_into_a_match(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-twin-a", "Person", {"name": "FICTIONAL Ramona Gemela Ejemplar"}),
         ("p-twin-b", "Person", {"name": "FICTIONAL Ramona Gemela Ejemplar", "birthDate": "1980-02-02"}))
    name = "FICTIONAL Ramona Gemela Ejemplar"
    answer = _ask(client, token, {"all": {"query": name}, "one": {"query": name, "limit": 1},
                                  "two": {"query": name, "limit": 2}})
    assert {r["id"] for r in answer["all"][:2]} == {"p-twin-a", "p-twin-b"}
    assert len(answer["one"]) == 1 and answer["one"][0]["score"] == 100
    assert not any(r["match"] for key in answer for r in answer[key])  # two entries bear the name


# ---- F2: a weak alias / nickname alone is never an automatic match --------------------------------

def test_a_hit_on_a_weak_alias_alone_is_a_candidate_marked_as_such_never_a_match(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-zorro", "Person", {"name": "FICTIONAL Evaristo Zorrilla Ejemplar",
                                        "weakAlias": "El Zorrito Ficticio", "alias": "FICTIONAL Vari Zorrilla Fuerte"}))
    answer = _ask(client, token, {"nick": {"query": "El Zorrito Ficticio", "type": "Person"},
                                  "strong": {"query": "FICTIONAL Vari Zorrilla Fuerte", "type": "Person"}})
    nick = answer["nick"][0]
    assert nick["id"] == "p-zorro" and nick["score"] == 90 and nick["match"] is False  # below any name in full
    assert _features(nick)["weak_alias"] == 1.0  # OpenRefine users can see why
    assert "weak alias / nickname" in nick["description"]
    strong = answer["strong"][0]  # a strong a.k.a. is the analyst's own evidence: it still matches
    assert strong["id"] == "p-zorro" and strong["match"] is True and "weak_alias" not in _features(strong)


# ---- F3: a son ('Jr.', 'hijo') or a number on one side only is a hit to review ------------------------

def test_a_review_cap_of_the_matching_engine_is_never_an_automatic_match(api, db_url):  # noqa: F811
    from workbench.matching.score import ONE_SIDED_GENERATION_CAP, ONE_SIDED_NUMBER_CAP
    from workbench.sources.reconcile import MATCH_THRESHOLD

    client, token = api
    _add(db_url, ("p-padre", "Person", {"name": "FICTIONAL Ernesto Padre Ejemplar"}),
         ("c-numero", "Company", {"name": "FICTIONAL Transportes Numerados Ejemplares"}))
    answer = _ask(client, token, {
        "jr": {"query": "FICTIONAL Ernesto Padre Ejemplar Jr.", "type": "Person"},
        "hijo": {"query": "FICTIONAL Ernesto Padre Ejemplar hijo", "type": "Person"},
        "numbered": {"query": "FICTIONAL Transportes Numerados Ejemplares 7", "type": "Company"},
        "father": {"query": "FICTIONAL Ernesto Padre Ejemplar", "type": "Person"}})
    for key, capped, wanted in (("jr", ONE_SIDED_GENERATION_CAP, "p-padre"),
                                ("hijo", ONE_SIDED_GENERATION_CAP, "p-padre"),
                                ("numbered", ONE_SIDED_NUMBER_CAP, "c-numero")):
        best = answer[key][0]
        assert best["id"] == wanted and best["score"] <= capped * 100, (key, best)
        assert best["match"] is False, (key, best)
    assert answer["jr"][0]["score"] == answer["hijo"][0]["score"] == ONE_SIDED_GENERATION_CAP * 100
    assert answer["father"][0]["match"] is True  # the father's own name still matches
    assert MATCH_THRESHOLD > max(ONE_SIDED_GENERATION_CAP, ONE_SIDED_NUMBER_CAP)


# ---- F4: agreement on values every candidate shares does not make a match ------------------------

@pytest.fixture
def brothers(db_url):
    """Four brothers, every one a Mexican man, and a cousin whose record holds no nationality or
    gender (the sparse record the complete ones must not be pushed above by missing data alone)."""
    _add(db_url, *[(f"p-bro-{i}", "Person", {"name": f"FICTIONAL HERMANEZ EJEMPLAR, {given}", "nationality": "mx",
                                             "country": "mx", "gender": "male", "address": "Sinaloa, Mexico"})
                   for i, given in enumerate(BROTHERS)])
    _add(db_url, ("p-primo", "Person", {"name": "FICTIONAL HERMANEZ EJEMPLAR, Martin Rodolfo"}))


def test_shared_property_values_neither_lift_nor_match_an_ambiguous_surname(api, brothers):  # noqa: F811
    client, token = api
    mexican = [{"pid": "nationality", "v": "Mexico"}, {"pid": "country", "v": "Mexico"}]
    everything = mexican + [{"pid": "gender", "v": "male"}, {"pid": "address", "v": "Sinaloa"}]
    surname = {"query": "FICTIONAL Hermanez Ejemplar", "type": "Person", "limit": 10}
    answer = _ask(client, token, {"bare": surname, "mexican": {**surname, "properties": mexican},
                                  "everything": {**surname, "properties": everything}})
    bare = [(r["id"], r["score"]) for r in answer["bare"]]
    assert len(bare) == 5 and bare[0][1] < 90  # a surname: no name is clearly the one
    for key in ("mexican", "everything"):
        # Every brother agrees on every value: nothing tells them apart, so nothing moves and nothing matches
        # (the cousin's record holds none of these values, and is not pushed below the complete ones).
        assert [(r["id"], r["score"]) for r in answer[key]] == bare, key
        assert not any(r["match"] for r in answer[key]), key
        assert sum(1 for r in answer[key] if r["score"] == 100) == 0, key  # never clamped to one indistinguishable 100
    assert _features(answer["everything"][0])["property:nationality"] == 1.0


def test_a_value_that_tells_namesakes_apart_still_decides_between_them(api, brothers, db_url):  # noqa: F811
    """The rule keeps what properties are for: of two entries with the same name, the one whose
    nationality disagrees is lowered (a veto on it), so the other is clearly ahead and matches."""
    client, token = api
    _add(db_url, ("p-bro-co", "Person", {"name": "FICTIONAL HERMANEZ EJEMPLAR, Martin", "nationality": "co"}))
    answer = _ask(client, token, {"q": {"query": "FICTIONAL Hermanez Ejemplar Martin", "type": "Person", "limit": 10,
                                        "properties": [{"pid": "nationality", "v": "Colombia"}]}})["q"]
    best, second = answer[0], answer[1]
    assert best["id"] == "p-bro-co" and best["score"] - second["score"] >= 5 and best["match"] is True
    namesake = next(r for r in answer if r["id"] == "p-bro-0")
    assert _features(namesake)["property:nationality"] == 0.0 and namesake["match"] is False


def test_properties_never_lift_a_name_below_the_threshold_to_a_match(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-solo", "Person", {"name": "FICTIONAL SOLITARIO EJEMPLAR, Anselmo Rigoberto", "birthDate": "1961-06-06",
                                       "nationality": "mx", "gender": "male"}),
         ("p-otro", "Person", {"name": "FICTIONAL SOLITARIO EJEMPLAR, Anselmo", "birthDate": "1970-07-07",
                               "nationality": "gt", "gender": "female"}))
    query = {"query": "FICTIONAL Solitario Ejemplar", "type": "Person",
             "properties": [{"pid": "birthDate", "v": "1961-06-06"}, {"pid": "nationality", "v": "Mexico"},
                            {"pid": "gender", "v": "male"}]}
    best = _ask(client, token, {"q": query})["q"][0]
    assert best["id"] == "p-solo" and _features(best)["name"] < 0.9
    assert best["match"] is False and best["score"] < 100


# ---- F5: a value that cannot be read as its type counts neither for nor against --------------------

def test_unreadable_gender_and_identifier_values_are_neutral(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-genero", "Person", {"name": "FICTIONAL Ernesto Genero Ejemplar", "gender": "male",
                                         "identifier": "CURP:EEGE700101HSLRRR09"}))
    name = "FICTIONAL Ernesto Genero Ejemplar"
    cells = {"M": None, "X": None, "?": None, "H": 1.0, "Hombre": 1.0, "masculino": 1.0, "male": 1.0,
             "F": 0.0, "Mujer": 0.0, "femenino": 0.0}
    answer = _ask(client, token, {f"g{i}": {"query": name, "properties": [{"pid": "gender", "v": cell}]}
                                  for i, cell in enumerate(cells)})
    for i, (cell, verdict) in enumerate(cells.items()):
        best = answer[f"g{i}"][0]
        assert best["id"] == "p-genero" and _features(best).get("property:gender") == verdict, (cell, best)
        assert best["match"] is (verdict != 0.0), (cell, best)
    placeholders = ("N/A", "-", "sin dato", "CURP:N/A", "no aplica")
    answer = _ask(client, token, {f"i{i}": {"query": name, "properties": [{"pid": "identifier", "v": cell}]}
                                  for i, cell in enumerate(placeholders)})
    for i, cell in enumerate(placeholders):
        best = answer[f"i{i}"][0]
        assert best["score"] == 100 and best["match"] is True and "property:identifier" not in _features(best), cell


# ---- F6: one bad query gets an empty result of its own -------------------------------------------------

def test_one_bad_query_does_not_cost_the_rest_of_its_batch(api, caplog):  # noqa: F811
    client, token = api
    good = {"query": "FICTIONAL Ejemplo Holdings LLC", "type": "Company"}
    for bad, field in (({"query": "A" * 1001}, "query"), ({"query": "Ejemplo", "limit": -1}, "limit"),
                       ({"query": "Ejemplo", "limit": 0}, "limit"),
                       ({"query": "Ejemplo", "type": "Person", "properties": [{"pid": "wingspan", "v": "2"}]},
                        "properties")):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="workbench.sources.reconcile"):
            answer = _ask(client, token, {"q0": good, "q1": bad})
        assert answer["q0"][0]["id"] == "c-1" and answer["q1"] == [], bad
        assert f"queries.q1.{field}" in caplog.text, caplog.text
    # A batch with nothing to answer is refused, naming the protocol's field ('query', not 'q').
    alone = _post(client, token, queries={"q1": {"query": "A" * 1001}})
    assert alone.status_code == 422 and "at most 1000 characters" in alone.json()["errors"]["queries.q1.query"][0]
    # A malformed batch is still refused whole.
    assert client.post(f"/reconcile?token={token}", data={"queries": "{not json"}).status_code == 400
    assert _post(client, token, queries=[good]).status_code == 422
    too_many = {f"q{i}": {"query": ""} for i in range(501)}
    assert _post(client, token, queries=too_many).status_code == 422


# ---- F7: extend and preview follow a merge ---------------------------------------------------------------

def test_extend_and_preview_answer_for_the_entry_a_merged_id_now_stands_for(api, db_url):  # noqa: F811
    from workbench.matching.judgements import merge

    client, token = api
    _add(db_url, ("p-kept", "Person", {"name": "FICTIONAL Ramiro Fusion Ejemplar", "gender": "male"}),
         ("p-gone", "Person", {"name": "FICTIONAL Ramiro Fusion Ejemplar"}))
    with store_db.session_scope(db_url) as s:
        merge(s, ACTOR, "p-kept", "p-gone")
        update_entity(s, ACTOR, "p-kept", {"address": "Culiacan, Sinaloa"}, replace=False)
    request = {"ids": ["p-gone", "p-kept"], "properties": [{"id": "gender"}, {"id": "address"}]}
    rows = _post(client, token, extend=request).json()["rows"]
    assert rows["p-gone"] == rows["p-kept"] == {"gender": [{"str": "male"}], "address": [{"str": "Culiacan, Sinaloa"}]}
    preview = client.get(f"/reconcile/preview?token={token}&id=p-gone")
    assert preview.status_code == 200
    assert "p-gone was merged into FICTIONAL Ramiro Fusion Ejemplar (p-kept)" in preview.text
    assert "Culiacan, Sinaloa" in preview.text


# ---- F8: a query with properties only -----------------------------------------------------------------------

def test_a_query_with_only_an_identifier_finds_the_entry_holding_it(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-curp", "Person", {"name": "FICTIONAL Ernesto Curp Ejemplar", "identifier": "CURP:EECE700101HSLRRR09"}))
    answer = _ask(client, token, {
        "bare": {"properties": [{"pid": "identifier", "v": "EECE700101HSLRRR09"}]},
        "schemed": {"properties": [{"pid": "identifier", "v": "CURP:EECE-700101-HSLRRR09"}], "type": "Person"},
        "other": {"properties": [{"pid": "identifier", "v": "ZZZZ700101HSLRRR09"}]}})
    for key in ("bare", "schemed"):
        assert [r["id"] for r in answer[key]] == ["p-curp"], answer[key]
        assert _features(answer[key][0])["property:identifier"] == 1.0
    assert answer["other"] == []


# ---- F9: the service address with a trailing slash, and unknown addresses ------------------------------------

def test_a_trailing_slash_serves_the_service_and_unknown_addresses_are_404s_openrefine_can_read(api):  # noqa: F811
    client, token = api
    manifest = client.get(f"/reconcile/?token={token}", follow_redirects=True)
    assert manifest.status_code == 200 and manifest.json()["versions"] == ["0.2"]
    assert manifest.headers["access-control-allow-origin"] == "*"
    queries = json.dumps({"q0": {"query": "FICTIONAL Ejemplo Holdings LLC"}})
    posted = client.post(f"/reconcile/?token={token}", data={"queries": queries}, follow_redirects=True)
    assert posted.status_code == 200 and posted.json()["q0"]["result"][0]["id"] == "c-1"
    for path in ("/reconcile/flyout?id=p-1", "/reconcile/suggest/nothing"):
        unknown = client.get(f"{path}&token={token}" if "?" in path else f"{path}?token={token}")
        assert unknown.status_code == 404, (path, unknown.status_code, unknown.text)
        assert unknown.headers["access-control-allow-origin"] == "*"
        assert "target of a form" not in unknown.text


# ---- F10: suggest pages with cursor, and lists every property ------------------------------------------------

def test_suggest_takes_a_cursor_and_offers_every_property_of_the_type(api, db_url):  # noqa: F811
    from workbench.schema import registry

    client, token = api
    auth = {"Authorization": f"Bearer {token}"}
    person = [p for p in registry().entity_kind("Person").properties]
    everything = client.get("/reconcile/suggest/property", params={"type": "Person", "prefix": ""}, headers=auth)
    ids = [r["id"] for r in everything.json()["result"]]
    assert ids == person and {"nationality", "gender", "birthPlace"} <= set(ids)
    later = client.get("/reconcile/suggest/property", params={"type": "Person", "prefix": "", "cursor": 20},
                       headers=auth).json()["result"]
    assert [r["id"] for r in later] == person[20:]
    types = client.get("/reconcile/suggest/type", params={"prefix": ""}, headers=auth).json()["result"]
    skipped = client.get("/reconcile/suggest/type", params={"prefix": "", "cursor": 2}, headers=auth).json()["result"]
    assert skipped == types[2:]
    _add(db_url, *[(f"p-cursor-{i:02d}", "Person", {"name": f"FICTIONAL Cursorio Ejemplar {given}"})
                   for i, given in enumerate(("Ana", "Beto", "Carla", "Dario", "Elena", "Fabio", "Gina", "Hugo",
                                              "Ines", "Jaime", "Karla", "Luis"))])
    first = client.get("/reconcile/suggest/entity", params={"prefix": "Cursorio"}, headers=auth).json()["result"]
    second = client.get("/reconcile/suggest/entity", params={"prefix": "Cursorio", "cursor": 10},
                        headers=auth).json()["result"]
    assert len(first) == 10 and len(second) == 2
    assert {r["id"] for r in first} | {r["id"] for r in second} == {f"p-cursor-{i:02d}" for i in range(12)}
    refused = client.get("/reconcile/suggest/entity", params={"prefix": "Cursorio", "cursor": -1}, headers=auth)
    assert refused.status_code == 422 and "cursor" in refused.json()["errors"]


# ---- F11: an entity id as the query or the prefix -----------------------------------------------------------

def test_an_entity_id_as_query_or_prefix_finds_that_entity(api):  # noqa: F811
    client, token = api
    answer = _ask(client, token, {"exact": {"query": "p-1"}, "case": {"query": "P-1"}, "typed": {"query": "c-1",
                                                                                                   "type": "Person"}})
    exact = answer["exact"][0]
    assert exact["id"] == "p-1" and exact["score"] == 100 and exact["match"] is True
    case = answer["case"][0]
    assert case["id"] == "p-1" and 80 <= case["score"] < 100 and case["match"] is False
    assert all(r["id"] != "c-1" for r in answer["typed"])  # a company's id does not answer a Person query
    suggested = client.get("/reconcile/suggest/entity", params={"prefix": "p-1"},
                           headers={"Authorization": f"Bearer {token}"}).json()["result"]
    assert suggested[0]["id"] == "p-1"


# ---- F12: input checks that were inconsistent or silent ------------------------------------------------------

def test_inputs_are_refused_alike(api):  # noqa: F811
    client, token = api
    for query, field, reason in (({"query": "Ejemplo", "limit": 0}, "limit", "expected at least 1 result"),
                                 ({"query": "Ejemplo", "type": ["Person", "Nope"]}, "type", "unknown type 'Nope'"),
                                 ({"query": ["a", "b"]}, "query", "expected text"),
                                 ({"query": 123}, "query", "expected text")):
        refused = _post(client, token, queries={"q": query})
        assert refused.status_code == 422, (query, refused.text)
        assert reason in refused.json()["errors"][f"queries.q.{field}"][0], refused.text
    extend = _post(client, token, extend={"ids": ["p-1"], "properties": [{"id": "bogus"}]})
    assert extend.status_code == 422 and "unknown property 'bogus'" in extend.text
    for content_type in ("application/JSON", "Application/Json; charset=utf-8", "text/plain"):
        posted = client.post(f"/reconcile?token={token}", content=json.dumps({"queries": {"q": {"query": "x"}}}),
                             headers={"Content-Type": content_type})
        assert posted.status_code == 400 and "form field 'queries'" in posted.text, content_type
    upper = client.post(f"/reconcile?token={token}", content="queries=" + json.dumps({"q": {"query": "p-1"}}),
                        headers={"Content-Type": "Application/X-WWW-Form-Urlencoded"})
    assert upper.status_code == 200 and upper.json()["q"]["result"][0]["id"] == "p-1"


# ---- F13: the preview card ------------------------------------------------------------------------------------

def test_the_preview_shows_what_an_analyst_needs_within_the_advertised_size(api, db_url):  # noqa: F811
    client, token = api
    _add(db_url, ("p-card", "Person", {
        "name": "FICTIONAL Ramiro Tarjeta Ejemplar", "alias": "FICTIONAL El Tarjetero", "description": "A long text",
        "country": "mx", "topics": "crime.cartel", "identifier": "CURP:RATE700101HSLRRR09", "email": "r@example.invalid",
        "phone": "+52 667 000 0000", "address": "Culiacan, Sinaloa", "firstName": "Ramiro", "fatherName": "Tarjeta",
        "motherName": "Ejemplar", "birthDate": "1970-01-01", "birthPlace": "Culiacan", "nationality": "mx",
        "citizenship": "us", "gender": "male", "position": "Jefe de plaza"}),
         ("s-card", "Sanction", {"name": "OFAC designation: FICTIONAL Ramiro Tarjeta Ejemplar", "authority": "OFAC",
                                 "program": "SDNTK", "listingDate": "2015-03-03"}))
    with store_db.session_scope(db_url) as s:
        create_link(s, ACTOR, "SanctionOf", "s-card", "p-card")
    card = client.get(f"/reconcile/preview?token={token}&id=p-card").text
    facts = dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", card))
    assert facts["Nationality"] == "Mexico" and facts["Citizenship"] == "United States of America"
    assert facts["Gender"] == "male" and facts["Date of birth"] == "1970-01-01"
    assert facts["Identifiers"] == "CURP:RATE700101HSLRRR09"
    assert ">mx<" not in card
    assert "Designated: SDNTK, listed 2015-03-03 (OFAC)" in card
    from workbench.sources.reconcile import PREVIEW_LINES

    lines = len(re.findall(r"<p\b", card)) + len(facts)
    assert lines <= PREVIEW_LINES  # a title and these one-line rows fit the manifest's 430x200
    assert "white-space:nowrap" in card  # a long value is cut at the frame's edge, never wrapped below it
    manifest = client.get(f"/reconcile?token={token}").json()
    assert (manifest["preview"]["width"], manifest["preview"]["height"]) == (430, 200)


def test_lookups_of_values_without_a_name_are_bounded_per_query_and_per_batch(api, db_url, monkeypatch):  # noqa: F811
    """A query with properties only looks each value up in the whole store: a thousand values in one
    11 KB request held a worker for 7.7 s (on 20,000 entries), and nothing bounded it but the body size."""
    from workbench.matching import search
    from workbench.sources import reconcile

    client, token = api
    _add(db_url, ("p-curp", "Person", {"name": "FICTIONAL Ernesto Curp Ejemplar", "identifier": "CURP:EECE700101HSLRRR09"}))
    looked_up = []
    real = search.holding_value
    monkeypatch.setattr(search, "holding_value", lambda s, value, *a, **k: looked_up.append(value) or real(s, value, *a, **k))
    many = [f"EECE7001{n:02d}HSLRRR09" for n in range(reconcile.MAX_HOLDER_VALUES + 1)]
    answer = _ask(client, token, {"many": {"properties": [{"pid": "identifier", "v": many}]},
                                  "one": {"properties": [{"pid": "identifier", "v": "EECE700101HSLRRR09"}]},
                                  "wide": {"query": "FICTIONAL Ernesto Curp Ejemplar",
                                           "properties": [{"pid": "identifier", "v": "X1"}] * (reconcile.MAX_PROPERTIES + 1)}})
    assert answer["many"] == [] and answer["wide"] == []  # each refused on its own, the rest of the batch answered
    assert [r["id"] for r in answer["one"]] == ["p-curp"]
    assert looked_up == ["EECE700101HSLRRR09"]
    per_query = reconcile.MAX_HOLDER_VALUES
    batch = {f"q{n}": {"properties": [{"pid": "identifier", "v": many[:per_query]}]}
             for n in range(reconcile.MAX_BATCH_LOOKUPS // per_query + 1)}
    refused = _post(client, token, queries=batch)
    assert refused.status_code == 422 and "send them in smaller batches" in refused.text
    assert looked_up == ["EECE700101HSLRRR09"]  # nothing of the refused batch was looked up
