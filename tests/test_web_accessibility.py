"""Every form control of the main forms has an accessible name, and a field with errors points at
them: what a screen-reader user needs to fill in a form (the pages are plain server-rendered HTML)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from web_helpers import csrf_of, signed_in_client
from test_web_entities import create

_UNNAMED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Controls(HTMLParser):
    """Form controls with their accessible name (label for=, a wrapping label, aria-label), and ids."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self._in_label = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "label":
            self._in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type") not in _UNNAMED_TYPES:
            self.controls.append({**a, "tag": tag, "wrapped": self._in_label > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self._in_label -= 1


def controls_of(html: str) -> _Controls:
    parser = _Controls()
    parser.feed(html)
    return parser


def unnamed(html: str) -> list[str]:
    page = controls_of(html)
    return [c.get("id") or c.get("name") for c in page.controls
            if not (c["wrapped"] or c.get("aria-label") or c.get("id") in page.label_for)]


@pytest.fixture
def client(db_url):
    return signed_in_client(db_url, "rita", "researcher")


def test_every_control_of_the_edit_forms_has_a_name(client):
    """The edit forms show a blank extra input under each multi-valued property: those had no label."""
    person = create(client, "Person", name="Ana Roja", alias="La Roja")
    other = create(client, "Company", name="Roja Holdings LLC")
    pages = [f"/entities/{person}/edit", "/entities/new?kind=Company", "/sources/new", "/screening",
             f"/links/new?entity={person}&kind=Ownership:out", f"/dossiers/new?target={person}"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert unnamed(response.text) == [], path
    page = controls_of(client.get(f"/entities/{person}/edit").text)
    aliases = [c for c in page.controls if c.get("name") == "p.alias"]
    assert len(aliases) == 2 and aliases[1]["aria-label"] == "Alias (strong a.k.a.), another value"
    assert other


def test_a_field_with_errors_points_at_its_messages(client):
    token = csrf_of(client, "/sources/new")
    response = client.post("/sources/new", data={"csrf_token": token, "title": "", "url": "not a url",
                                                 "source_type": "web", "reliability": "B", "back": "/sources"})
    assert response.status_code == 422
    page = controls_of(response.text)
    for control_id in ("src-url", "src-title"):
        control = next(c for c in page.controls if c.get("id") == control_id)
        assert control.get("aria-invalid") == "true"
        described = control["aria-describedby"].split()  # a list of ids: the messages, and any help text
        assert f"{control_id}-errors" in described and all(i in page.ids for i in described), control_id


def test_filtered_and_targeted_pages_say_what_they_show_in_their_title(client):
    """A page title is what a screen reader announces first and what a browser tab shows."""
    import re

    person = create(client, "Person", name="Ana Roja")

    def title(path):
        return re.search(r"<title>(.*?) · ", client.get(path).text).group(1)

    assert title("/entities?kind=Person") == "Entities: People"
    assert title("/search?q=Roja") == "Search: Roja"
    assert title(f"/dossiers/new?target={person}") == "New dossier on Ana Roja"
    assert title("/search") == "Search"
