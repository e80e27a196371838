"""Pages: correct a source (Edit) and remove a citation attached to the wrong fact (Remove citation).

Every scenario here is FICTIONAL (example.org sources, invented names).
"""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_helpers import csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store.models import AuditEntry, Citation, Source

PAYLOAD = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def add_source(client, title="Gaceta Municipal 12 (FICTIONAL)", **fields) -> str:
    data = {"csrf_token": client.headers["X-CSRF-Token"], "url": "https://example.org/gaceta/12", "title": title,
            "publisher": "Ayuntamiento", "published_at": "2020-01-15", "source_type": "official", "reliability": "B",
            "releasable": "1", **fields}
    made = client.post("/sources/new", data=data, follow_redirects=False)
    assert made.status_code == 303, made.text
    return made.headers["location"].rsplit("/", 1)[-1]


def create_person(client, name="Rosa Elena Mendez (FICTIONAL)", **props) -> str:
    data = {"csrf_token": client.headers["X-CSRF-Token"], "kind": "Person", "decision": "new", "p.name": name}
    data.update({f"p.{k}": v for k, v in props.items()})
    made = client.post("/entities/new", data=data, follow_redirects=False)
    assert made.status_code == 303, made.text
    return made.headers["location"].rsplit("/", 1)[-1]


def edit_form(client, source_id) -> dict:
    page = client.get(f"/sources/{source_id}/edit")
    assert page.status_code == 200
    return form_of(client, page)


def form_of(client, page) -> dict:
    """What the browser posts from the edit form on this page."""
    fields = dict(re.findall(r'<input id="src-[^"]+" name="([^"]+)"[^>]*value="([^"]*)"', page.text))
    fields.update(re.findall(r'<textarea id="src-notes" name="(notes)" rows="2">([^<]*)</textarea>', page.text))
    for name in ("source_type", "reliability"):
        select_html = re.search(rf'<select id="src-[^"]+" name="{name}">(.*?)</select>', page.text).group(1)
        fields[name] = re.search(r'<option value="([^"]+)" selected>', select_html).group(1)
    if re.search(r'name="releasable" value="1"[^>]* checked', page.text):
        fields["releasable"] = "1"
    fields["version"] = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    base = re.search(r'name="base" value="([^"]*)"', page.text)
    if base:
        fields["base"] = base.group(1)
    fields["csrf_token"] = client.headers["X-CSRF-Token"]
    return {k: html.unescape(v) for k, v in fields.items()}


def stored(db_url, source_id) -> Source:
    with store_db.session_scope(db_url) as s:
        source = s.get(Source, source_id)
        s.expunge(source)
        return source


# ---- edit a source ---------------------------------------------------------------------------

def test_edit_form_shows_the_source_and_saving_corrects_it(db_url, client):
    source_id = add_source(client, title="Gaceta 12")
    view = client.get(f"/sources/{source_id}").text
    assert f'href="/sources/{source_id}/edit">Edit</a>' in view
    form = edit_form(client, source_id)
    assert (form["title"], form["publisher"], form["published_at"]) == ("Gaceta 12", "Ayuntamiento", "2020-01-15")
    assert (form["source_type"], form["reliability"], form["releasable"], form["version"]) == ("official", "B", "1", "1")
    form.update(title="Gaceta Municipal 12 de Culiacan (FICTIONAL)", published_at="2020-01-16")
    del form["releasable"]  # unticked: may not be released
    saved = client.post(f"/sources/{source_id}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/sources/{source_id}"
    page = client.get(saved.headers["location"]).text
    assert "Saved source Gaceta Municipal 12 de Culiacan (FICTIONAL)." in page
    assert "<h1>Gaceta Municipal 12 de Culiacan (FICTIONAL)</h1>" in page
    source = stored(db_url, source_id)
    assert (source.published_at, source.releasable, source.version) == ("2020-01-16", False, 2)
    assert source.url == "https://example.org/gaceta/12" and source.publisher == "Ayuntamiento"


def test_a_refused_edit_keeps_what_was_typed_and_changes_nothing(db_url, client):
    source_id = add_source(client)
    form = edit_form(client, source_id)
    form.update(title="", publisher="Ayuntamiento de Navolato (FICTIONAL)", published_at="2020-02-30")
    refused = client.post(f"/sources/{source_id}/edit", data=form)
    assert refused.status_code == 422
    assert re.search(r'id="src-title-errors"><li>a source needs a title', refused.text)
    assert 'id="src-published-errors"><li>' in refused.text
    assert 'value="Ayuntamiento de Navolato (FICTIONAL)"' in refused.text and 'value="2020-02-30"' in refused.text
    assert 'name="version" value="1"' in refused.text
    source = stored(db_url, source_id)
    assert (source.title, source.publisher, source.version) == ("Gaceta Municipal 12 (FICTIONAL)", "Ayuntamiento", 1)


def test_a_url_only_source_cannot_lose_its_url(db_url, client):
    source_id = add_source(client)
    form = edit_form(client, source_id)
    form["url"] = ""
    refused = client.post(f"/sources/{source_id}/edit", data=form)
    assert refused.status_code == 422
    assert re.search(r'id="src-url-errors"><li>a source without a stored file needs its URL', refused.text)
    assert stored(db_url, source_id).url == "https://example.org/gaceta/12"


def test_a_stale_edit_gets_a_conflict_that_keeps_the_users_input(db_url, client):
    source_id = add_source(client)
    mine = edit_form(client, source_id)
    other = signed_in_client(db_url, "olga", "researcher")  # another researcher, at the same time
    other.headers["X-CSRF-Token"] = csrf_of(other, "/")
    theirs = edit_form(other, source_id)
    theirs["publisher"] = "Cabildo (FICTIONAL)"
    assert other.post(f"/sources/{source_id}/edit", data=theirs, follow_redirects=False).status_code == 303
    mine["title"] = "Gaceta Municipal 12, corrected (FICTIONAL)"
    conflict = client.post(f"/sources/{source_id}/edit", data=mine)
    assert conflict.status_code == 409
    assert "was changed by someone else since you opened it" in conflict.text
    assert "Changed by the other person (now shown): Publisher." in conflict.text
    assert 'value="Gaceta Municipal 12, corrected (FICTIONAL)"' in conflict.text
    assert 'value="Cabildo (FICTIONAL)"' in conflict.text  # their change is in the form, not undone by it
    assert 'name="version" value="2"' in conflict.text  # having seen the conflict, saving again applies it
    assert stored(db_url, source_id).title == "Gaceta Municipal 12 (FICTIONAL)"
    again = form_of(client, conflict)
    assert client.post(f"/sources/{source_id}/edit", data=again, follow_redirects=False).status_code == 303
    source = stored(db_url, source_id)
    assert (source.title, source.publisher, source.version) == ("Gaceta Municipal 12, corrected (FICTIONAL)",
                                                                "Cabildo (FICTIONAL)", 3)


def test_an_uploaded_file_is_shown_but_cannot_be_replaced(db_url, client):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    made = client.post("/sources/new", data={"csrf_token": client.headers["X-CSRF-Token"], "title": "Escritura"},
                       files={"file": ("escritura.pdf", pdf, "application/pdf")}, follow_redirects=False)
    source_id = made.headers["location"].rsplit("/", 1)[-1]
    page = client.get(f"/sources/{source_id}/edit").text
    assert 'type="file"' not in page and "multipart/form-data" not in page
    assert "escritura.pdf" in page and "never replaced" in page
    form = edit_form(client, source_id) | {"title": "Escritura 2019 (FICTIONAL)"}
    assert client.post(f"/sources/{source_id}/edit", data=form, follow_redirects=False).status_code == 303
    source = stored(db_url, source_id)
    assert source.title == "Escritura 2019 (FICTIONAL)" and source.file_name == "escritura.pdf" and source.sha256


def test_a_hostile_title_is_shown_as_text_on_the_edit_page(client):
    source_id = add_source(client, title=PAYLOAD, publisher=PAYLOAD, notes=PAYLOAD)
    page = client.get(f"/sources/{source_id}/edit").text
    assert "<script>alert" not in page
    assert page.count(ESCAPED) >= 4  # <title>, heading, title field, publisher field, notes
    refused = client.post(f"/sources/{source_id}/edit", data=edit_form(client, source_id) | {"published_at": "x"})
    assert refused.status_code == 422 and "<script>alert" not in refused.text and ESCAPED in refused.text


def test_edit_needs_sign_in_and_the_csrf_token(db_url, client):
    source_id = add_source(client)
    anonymous = TestClient(__import__("workbench.web.app", fromlist=["create_app"]).create_app())
    opened = anonymous.get(f"/sources/{source_id}/edit", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].startswith("/login")
    form = edit_form(client, source_id) | {"title": "Hijacked"}
    del form["csrf_token"]
    del client.headers["X-CSRF-Token"]
    assert client.post(f"/sources/{source_id}/edit", data=form).status_code == 403
    assert stored(db_url, source_id).title == "Gaceta Municipal 12 (FICTIONAL)"


# ---- remove a citation -----------------------------------------------------------------------

def cite(client, entity_id, source_id, target="entity", excerpt="", page=""):
    response = client.post(f"/entities/{entity_id}/cite", data={
        "csrf_token": client.headers["X-CSRF-Token"], "source_id": source_id, "target": target,
        "excerpt": excerpt, "page": page}, follow_redirects=False)
    assert response.status_code == 303


def remove_buttons(page: str) -> list[tuple[str, str]]:
    """(citation id, page to return to) of every Remove citation button."""
    forms = re.findall(r'<form method="post" action="/citations/(\d+)/delete" class="inline" data-confirm="[^"]*">'
                       r'<input type="hidden" name="csrf_token" value="[^"]+">'
                       r'<input type="hidden" name="back" value="([^"]+)">'
                       r'<button type="submit" class="link"[^>]*>Remove citation</button></form>', page)
    return forms


def test_a_citation_on_the_wrong_fact_is_removed_from_the_entity_page(db_url, client):
    source_id = add_source(client)
    person = create_person(client, birthDate="1979-02-13")
    cite(client, person, source_id, "prop:birthDate:0", excerpt="nacida en 1980", page="7")
    page = client.get(f"/entities/{person}").text
    buttons = remove_buttons(page)
    assert len(buttons) == 1 and buttons[0][1] == f"/entities/{person}"
    assert 'data-confirm="Remove this citation of Gaceta Municipal 12 (FICTIONAL)? The source itself stays."' in page
    citation_id = buttons[0][0]
    removed = client.post(f"/citations/{citation_id}/delete", data={
        "csrf_token": client.headers["X-CSRF-Token"], "back": f"/entities/{person}"}, follow_redirects=False)
    assert removed.status_code == 303 and removed.headers["location"] == f"/entities/{person}"
    after = client.get(removed.headers["location"]).text
    assert "Citation of Gaceta Municipal 12 (FICTIONAL) removed; the audit log keeps what it said." in after
    # The entity's own history says what was cited and what was removed, by source title and fact label.
    history = after[after.index('id="h-history"'):]
    assert "Removed the citation of Gaceta Municipal 12 (FICTIONAL) for Date of birth: 1979-02-13, p. 7" in history
    assert "Cited Gaceta Municipal 12 (FICTIONAL) for Date of birth: 1979-02-13, p. 7" in history
    assert remove_buttons(after) == [] and "nacida en 1980" not in after
    with store_db.session_scope(db_url) as s:
        assert s.get(Citation, int(citation_id)) is None
        assert s.get(Source, source_id) is not None  # only the citation goes
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "citation.delete")).scalar_one()
        assert entry.actor == "rita" and entry.after is None
        assert (entry.before["entity"], entry.before["prop"], entry.before["value"]) == (person, "birthDate",
                                                                                         "1979-02-13")
        assert (entry.before["excerpt"], entry.before["page"]) == ("nacida en 1980", "7")


def test_link_citations_have_a_remove_button_on_the_entity_page(db_url, client):
    source_id = add_source(client)
    person = create_person(client)
    company = client.post("/entities/new", data={"csrf_token": client.headers["X-CSRF-Token"], "kind": "Company",
                                                 "decision": "new", "p.name": "Costa SA (FICTIONAL)"},
                          follow_redirects=False).headers["location"].rsplit("/", 1)[-1]
    client.post("/links/new", data={"csrf_token": client.headers["X-CSRF-Token"], "kind": "Ownership",
                                    "entity": person, "direction": "out", "other_id": company})
    target = re.search(r'<option value="(link:[^"]+)">', client.get(f"/entities/{person}").text).group(1)
    cite(client, person, source_id, target, excerpt="socia mayoritaria")
    links_table = re.search(r'<table class="dense links">(.*?)</table>', client.get(f"/entities/{person}").text,
                            re.DOTALL).group(1)
    [(citation_id, back)] = remove_buttons(links_table)
    assert back == f"/entities/{person}"
    # the company's page shows the same link citation, with its own way back
    assert remove_buttons(client.get(f"/entities/{company}").text) == [(citation_id, f"/entities/{company}")]
    client.post(f"/citations/{citation_id}/delete", data={"csrf_token": client.headers["X-CSRF-Token"], "back": back})
    assert "socia mayoritaria" not in client.get(f"/entities/{person}").text
    with store_db.session_scope(db_url) as s:
        assert s.scalar(select(Citation).where(Citation.id == int(citation_id))) is None


def test_citations_can_be_removed_from_the_source_page_and_back_stays_on_this_site(client):
    source_id = add_source(client)
    person = create_person(client)
    cite(client, person, source_id, excerpt="uno")
    cite(client, person, source_id, excerpt="dos")
    buttons = remove_buttons(client.get(f"/sources/{source_id}").text)
    assert [back for _, back in buttons] == [f"/sources/{source_id}"] * 2
    first = client.post(f"/citations/{buttons[0][0]}/delete", data={
        "csrf_token": client.headers["X-CSRF-Token"], "back": f"/sources/{source_id}"}, follow_redirects=False)
    assert first.headers["location"] == f"/sources/{source_id}"
    elsewhere = client.post(f"/citations/{buttons[1][0]}/delete", data={
        "csrf_token": client.headers["X-CSRF-Token"], "back": "//evil.example.org/entities/x"}, follow_redirects=False)
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == f"/entities/{person}"
    assert "Not cited yet." in client.get(f"/sources/{source_id}").text


def test_removing_is_refused_without_csrf_for_unknown_ids_and_when_the_role_may_not_edit(db_url, client,
                                                                                          monkeypatch):
    from workbench.store import permissions

    source_id = add_source(client)
    person = create_person(client)
    cite(client, person, source_id, excerpt="uno")
    [(citation_id, _)] = remove_buttons(client.get(f"/entities/{person}").text)
    token = client.headers.pop("X-CSRF-Token")
    assert client.post(f"/citations/{citation_id}/delete", data={"back": f"/entities/{person}"}).status_code == 403
    unknown = client.post("/citations/999999/delete", data={"csrf_token": token})
    assert unknown.status_code == 404 and "no citation 999999" in unknown.text
    assert client.post(f"/citations/{2**40}/delete", data={"csrf_token": token}).status_code == 404
    anonymous = TestClient(__import__("workbench.web.app", fromlist=["create_app"]).create_app())
    assert anonymous.post(f"/citations/{citation_id}/delete", data={"csrf_token": token},
                          follow_redirects=False).status_code in (303, 403)

    monkeypatch.setitem(permissions.PERMISSIONS, "edit", frozenset({"admin"}))
    page = client.get(f"/entities/{person}").text
    assert "uno" in page and remove_buttons(page) == []  # no button for a role that may not remove
    assert remove_buttons(client.get(f"/sources/{source_id}").text) == []
    refused = client.post(f"/citations/{citation_id}/delete", data={"csrf_token": token})
    assert refused.status_code == 403 and "rita (researcher) is not allowed to remove citations" in refused.text
    with store_db.session_scope(db_url) as s:
        assert s.get(Citation, int(citation_id)) is not None


def test_a_hostile_source_title_in_the_remove_confirmation_is_escaped(client):
    source_id = add_source(client, title=PAYLOAD)
    person = create_person(client)
    cite(client, person, source_id)
    page = client.get(f"/entities/{person}").text
    assert "<script>alert" not in page
    assert f'data-confirm="Remove this citation of {ESCAPED}? The source itself stays."' in page


def test_an_edit_posted_without_its_version_is_refused_with_what_was_typed(db_url, client):
    source_id = add_source(client)
    for version in (None, "abc"):
        form = edit_form(client, source_id)
        form.pop("version")
        if version:
            form["version"] = version
        form["publisher"] = "Ayuntamiento de Culiacán (FICTIONAL)"
        refused = client.post(f"/sources/{source_id}/edit", data=form)
        assert refused.status_code == 422
        assert "could not be checked" in refused.text
        assert 'value="Ayuntamiento de Culiacán (FICTIONAL)"' in refused.text
    assert (stored(db_url, source_id).publisher, stored(db_url, source_id).version) == ("Ayuntamiento", 1)


def test_a_citation_a_dossier_under_review_rests_on_is_not_offered_for_removal(db_url, client):
    """QA round 12: 'Remove citation' was offered for a citation a submitted or approved dossier's exhibit rests on,
    and refused only after its confirmation; the pages now say why it stays instead."""
    from test_dossier_scenario import build_scenario, complete_dossier

    from workbench.dossiers import workflow
    from workbench.store.permissions import Actor

    author = Actor("rosa", "researcher")
    with store_db.session_scope(db_url) as s:
        sc = build_scenario(s, author)
        dossier_id = complete_dossier(s, author, sc)
        workflow.move(s, author, dossier_id, "submit")
        held = s.get(Citation, sc.associate_citation)
        court, title = held.source_id, s.get(Source, held.source_id).title  # the court record
    page = client.get(f"/sources/{court}").text
    assert title and "kept: evidence of exhibit 3 of dossier" in page and "under review" in page
    forms = re.findall(r'action="/citations/(\d+)/delete"', page)
    assert str(sc.associate_citation) not in forms
    entity = client.get(f"/entities/{sc.target}").text
    assert "kept: evidence of exhibit 3 of dossier" in entity
    assert f'action="/citations/{sc.associate_citation}/delete"' not in entity
