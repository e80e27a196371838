"""QA round 7 (a researcher's walk through the workbench): form help read out with its field, messages
that read as sentences, and errors that name the parameter the caller sent. All names are FICTIONAL."""

from __future__ import annotations

import re

import pytest
from test_web_accessibility import controls_of
from test_web_entities import create
from web_helpers import csrf_of, signed_in_client


@pytest.fixture
def client(db_url):
    return signed_in_client(db_url, "rita", "researcher")


def test_a_fields_help_is_tied_to_its_first_input_for_screen_readers(client):
    """The help under a field (the date format, SCHEME:VALUE) was only visible: a screen reader moving
    from input to input never heard it."""
    page = controls_of(client.get("/entities/new?kind=Person").text)
    birth = next(c for c in page.controls if c.get("id") == "f-birthDate-0")
    assert birth.get("aria-describedby") == "f-birthDate-help" and "f-birthDate-help" in page.ids
    token = csrf_of(client, "/entities/new?kind=Person")
    refused = client.post("/entities/new", data={"csrf_token": token, "kind": "Person", "decision": "new",
                                                 "p.name": "Fulano (FICTIONAL)", "p.birthDate": "1990-13"})
    assert refused.status_code == 422
    controls = controls_of(refused.text).controls
    birth = next(c for c in controls if c.get("id") == "f-birthDate-0")
    assert birth["aria-describedby"] == "f-birthDate-help f-birthDate-errors" and birth["aria-invalid"] == "true"
    spare = next(c for c in controls if c.get("id") == "f-birthDate-1")  # the empty "another value" input
    assert "aria-describedby" not in spare


def test_a_name_ending_in_an_initial_is_not_followed_by_a_second_period(client):
    made = create(client, "Person", name="NUNEZ IBANEZ, Jose A. (FICTIONAL) Jr.")
    page = client.get(f"/entities/{made}").text
    assert "Created NUNEZ IBANEZ, Jose A. (FICTIONAL) Jr." in page and "Jr.." not in page


def test_the_graph_api_names_the_kinds_parameter_it_was_sent(client):
    person = create(client, "Person", name="Ana Roja (FICTIONAL)")
    response = client.get(f"/api/graph/{person}", params={"kinds": "Bogus"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert list(errors) == ["kinds"] and "unknown link kind 'Bogus'" in errors["kinds"][0]
    assert "Membership" in errors["kinds"][0]  # the kinds it knows, to pick from


def test_the_territory_form_explains_the_part_of_link_in_words_the_page_uses(client):
    text = client.get("/entities/new").text  # the list of kinds to choose from, each with its help
    help_text = re.search(r'<td>(Countries, Mexican states.*?)</td>', text).group(1)
    assert "part of" in help_text and "`" not in help_text and "TerritoryParent" not in help_text
