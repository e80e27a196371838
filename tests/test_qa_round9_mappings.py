"""QA round 9: a mapping with a value of the wrong shape (a number where a mapping is due, a list where
a column name is due) answered the screening form with a server error. It is now refused with the key
at fault, and no job starts. FICTIONAL rows."""

from __future__ import annotations

import re

import pytest
from test_web_screening import start
from web_helpers import csrf_of, signed_in_client

HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"
ROW = 'FICT-9-1,"1 Test St",P,FICTIONAL Persona Nueve,"PO BOX 1",01/01/2020,1\n'
BASE = "entities:\n  owner:\n    kind: Person\n    keys: [OWNER_NAME]\n    properties:\n      name: OWNER_NAME\n"


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


@pytest.mark.parametrize("mapping, named", [
    ("query: 1\n", "query: expected a mapping holding 'entities', not int 1"),
    (BASE + "links: 5\n", "links: expected a list of links"),
    (BASE.replace("keys: [OWNER_NAME]", "keys: {a: 1}"), "entities.owner.keys: expected a column name"),
    (BASE.replace("kind: Person", "kind: [Person]"), "entities.owner.kind: expected an entity kind, not a list"),
    (BASE.replace("name: OWNER_NAME", "name: {column: [OWNER_NAME]}"),
     "entities.owner.properties.name.column: expected a column name, not a list"),
    (BASE + "screen: [owner]\n", "screen: expected a mapped entity's name, not a list"),
    (BASE.replace("    properties:\n      name: OWNER_NAME\n", "    properties: 5\n"),
     "entities.owner.properties: expected a mapping of properties"),
    (BASE + "source: {title: true}\n", "source.title: expected a text, not true/false"),
    (BASE + "source: {publisher: [a]}\n", "source.publisher: expected a text, not a list"),
])
def test_a_mapping_value_of_the_wrong_shape_is_named_not_a_server_error(client, mapping, named):
    jobs_before = client.get("/screening").text.count("/screening/")
    response = start(client, data=(HEADER + ROW).encode(), name="roll_FICTIONAL.csv", mapping_text=mapping)
    assert response.status_code == 422, response.status_code
    errors = " ".join(re.findall(r'class="field-errors"[^>]*>(.*?)</ul>', response.text, re.DOTALL))
    assert named in errors.replace("&#39;", "'"), errors
    assert client.get("/screening").text.count("/screening/") == jobs_before
