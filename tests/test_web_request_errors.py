"""A bad value in a page's address is refused in the words the workbench's forms use, naming the value (QA round
16: 'String should match pattern '^(graphml|gexf|json)$'', 'unable to parse string as an integer', 'Input should
be a valid boolean' spoke to a programmer)."""

from __future__ import annotations

import html
import re

import pytest
from web_helpers import api_client, api_entity


@pytest.fixture
def client(db_url):
    return api_client(db_url)


def _said(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def test_a_bad_value_in_the_address_is_explained_in_plain_words(client):
    cartel = api_entity(client, "Organization", name="Cartel de Prueba (FICTIONAL)")
    bad_format = client.get(f"/entities/{cartel}/network/export", params={"format": "xyz"})
    assert bad_format.status_code == 422
    assert "must be one of graphml, gexf, json (got 'xyz')" in _said(bad_format)
    bad_depth = client.get(f"/entities/{cartel}/network/export", params={"depth": "abc"})
    assert "must be a whole number (got 'abc')" in _said(bad_depth)
    too_deep = client.get(f"/entities/{cartel}/network/export", params={"depth": "99"})
    assert re.search(r"must be at most \d+ \(got '99'\)", _said(too_deep))
    bad_page = client.get("/entities", params={"page": "abc"})
    assert "must be a whole number (got 'abc')" in _said(bad_page)
    for response in (bad_format, bad_depth, too_deep, bad_page):
        assert "should match pattern" not in response.text and "unable to parse" not in response.text


def test_the_api_answers_the_same_words_as_json(client):
    cartel = api_entity(client, "Organization", name="Cartel de Prueba (FICTIONAL)")
    response = client.get(f"/entities/{cartel}/network/export", params={"format": "xyz"},
                          headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert "must be one of graphml, gexf, json (got 'xyz')" in response.text
