"""QA round 13: a researcher reads the cited page of a stored source in the browser, without saving a copy;
a captured web page is still only downloaded."""

from __future__ import annotations

import pytest
from web_helpers import signed_in_client

from tests.test_web_sources import PDF, upload
from workbench.store import db as store_db
from workbench.store import entities as store
from workbench.store.permissions import Actor


@pytest.fixture
def client(db_url):
    return signed_in_client(db_url, "rita", "researcher")


def _source(client, name, data, content_type, title) -> str:
    response = upload(client, name, data, content_type, title=title)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def _cited_entity(db_url, source_id: str, page: str | None) -> str:
    actor = Actor("rita", "researcher")
    with store_db.session_scope(db_url) as s:
        saved = store.create_entity(s, actor, "Person", {"name": ["FICTIONAL Persona Ejemplo"]})
        store.cite(s, actor, source_id, entity_id=saved.obj.id, prop="name", value="FICTIONAL Persona Ejemplo",
                   page=page)
        return saved.obj.id


def test_a_pdf_opens_in_the_browser_under_a_policy_that_lets_nothing_load(client):
    source_id = _source(client, "deed.pdf", PDF, "application/pdf", "Grant deed 2019 (FICTIONAL)")
    assert f'href="/sources/{source_id}/view">Open in the browser' in client.get(f"/sources/{source_id}").text
    shown = client.get(f"/sources/{source_id}/view")
    assert shown.status_code == 200 and shown.content == PDF
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.headers["content-security-policy"].startswith("default-src 'none'")
    assert shown.headers["x-content-type-options"] == "nosniff"


def test_a_cited_page_of_a_pdf_links_to_that_page(db_url, client):
    source_id = _source(client, "deed.pdf", PDF, "application/pdf", "Grant deed 2019 (FICTIONAL)")
    entity_id = _cited_entity(db_url, source_id, "12")
    page = client.get(f"/entities/{entity_id}").text
    assert f'<a href="/sources/{source_id}/view#page=12" title="Open the file at this page">p. 12</a>' in page
    assert f'href="/sources/{source_id}/view#page=12"' in client.get(f"/sources/{source_id}").text


def test_plain_text_is_shown_sandboxed_as_utf8(client):
    source_id = _source(client, "notes.txt", "Acta de cabildo (FICTIONAL): sesión ordinaria\n".encode(),
                        "text/plain", "Acta (FICTIONAL)")
    shown = client.get(f"/sources/{source_id}/view")
    assert shown.status_code == 200 and shown.headers["content-type"] == "text/plain; charset=utf-8"
    assert "sandbox" in shown.headers["content-security-policy"]
    assert "sesión ordinaria" in shown.text


def test_a_captured_web_page_is_never_opened_in_the_browser_and_its_citations_link_nowhere(db_url, client):
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script>FICTIONAL</body></html>"
    source_id = _source(client, "page.html", html, "text/html", "Press page (FICTIONAL)")
    assert "Open in the browser" not in client.get(f"/sources/{source_id}").text
    refused = client.get(f"/sources/{source_id}/view")
    assert refused.status_code == 404 and "is not opened in the browser" in refused.text
    assert "<script>alert(1)" not in refused.text
    entity_id = _cited_entity(db_url, source_id, "3")
    assert "/view" not in client.get(f"/entities/{entity_id}").text
    assert client.get(f"/sources/{source_id}/file").headers["content-disposition"].startswith("attachment")


def test_signed_out_nobody_opens_a_stored_file(db_url, client):
    from fastapi.testclient import TestClient

    from workbench.web.app import create_app

    source_id = _source(client, "deed.pdf", PDF, "application/pdf", "Grant deed 2019 (FICTIONAL)")
    response = TestClient(create_app()).get(f"/sources/{source_id}/view", follow_redirects=False)
    assert response.status_code in (302, 303, 401) and PDF not in response.content


@pytest.mark.parametrize(("page", "opened"), [("12", 12), ("7-8", 7), ("p. 3", 3), ("pp. 4–5", 4), ("3, 9", 3),
                                              ("párr. 3", None), ("Anexo B", None), ("xii", None), ("0", None)])
def test_the_pdf_page_opened_is_the_first_number_of_a_cited_page(page, opened):
    from workbench.labels import pdf_page

    assert pdf_page(page) == opened
