"""QA round 13, accessibility audit (WCAG 2.2 AA), what the markup decides; the browser's side (focus, scrolling,
scripts) is in browser/test_qa_round13_a11y_browser.py.

M1/L3. Every refused form has a summary at its top (role=alert: app.js moves focus to it) linking to each
       refused field; the field is aria-invalid and points at its message; the page title starts with
       "Error: " (password, Add a user, API tokens, Cite, Add exhibit, narrative, new dossier, entity, link).
M5.    The autocomplete has a polite live region for the number of suggestions.
M6.    The users' and tokens' row actions name their user or token; Disable asks for confirmation.
L6.    The network diagram's name says whose it is and where its text alternative is.

Each test failed before its fix. Every name is FICTIONAL."""

from __future__ import annotations

import html
import re

import pytest
from test_dossier_scenario import build_scenario
from test_web_entities import create
from web_helpers import csrf_of, signed_in_client

from workbench.dossiers import service
from workbench.store.permissions import Actor

RESEARCHER = Actor("rosa", "researcher")


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


@pytest.fixture
def admin(db_url):
    client = signed_in_client(db_url, "ada", "admin")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def _title(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?) · ", page).group(1))


def _summary(page: str, ident: str = "error-summary") -> str:
    """The refused form's summary: its opening tag says role=alert, and its text."""
    found = re.search(rf'<div class="flash error" role="alert" id="{ident}">(.*?)</div>', page, re.DOTALL)
    assert found, f"no #{ident} summary"
    return found.group(1)


def _tag(page: str, ident: str) -> str:
    """The opening tag of the element with id ``ident``."""
    found = re.search(rf'<(?:input|select|textarea|button)\b[^>]*\bid="{ident}"[^>]*>', page)
    assert found, ident
    return found.group(0)


def _points_at_its_message(page: str, ident: str, message: str) -> None:
    tag = _tag(page, ident)
    assert 'aria-invalid="true"' in tag, tag
    described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
    texts = []
    for target in described:
        found = re.search(rf'<(ul|li|p)\b[^>]*\bid="{target}"[^>]*>(.*?)</\1>', page, re.DOTALL)
        assert found, (ident, target)
        texts.append(html.unescape(re.sub(r"<[^>]+>", "", found.group(2))))
    assert any(message in t for t in texts), (ident, texts)


# ---- M1/L3: account, users, tokens ---------------------------------------------------------------------------

def test_a_refused_password_change_has_a_summary_linking_its_fields_and_says_error_in_its_title(client):
    assert _title(client.get("/account/password").text) == "Change your password"
    refused = client.post("/account/password", data={
        "csrf_token": client.headers["X-CSRF-Token"], "current_password": "wrong",
        "new_password": "a long enough new passphrase", "new_password_again": "another passphrase entirely"})
    assert refused.status_code == 422
    assert _title(refused.text) == "Error: Change your password"
    summary = _summary(refused.text)
    assert re.search(r'<li><a href="#new-password-again">New password again</a>: the two new passwords differ',
                     summary), summary
    _points_at_its_message(refused.text, "new-password-again", "the two new passwords differ")
    # the summary comes before the form it speaks of
    assert refused.text.index('id="error-summary"') < refused.text.index('action="/account/password"')


def test_a_refused_new_user_has_a_summary_linking_its_fields_and_says_error_in_its_title(admin):
    page = admin.get("/admin/users").text
    assert _title(page) == "Users" and 'id="error-summary"' not in page
    refused = admin.post("/admin/users", data={"csrf_token": admin.headers["X-CSRF-Token"],
                                                "username": "Not A Name!", "role": "researcher", "password": "short"})
    assert refused.status_code == 422
    assert _title(refused.text) == "Error: Users"
    summary = _summary(refused.text)
    assert re.search(r'<li><a href="#new-username">User name</a>: use the letters a-z', summary), summary
    _points_at_its_message(refused.text, "new-username", "use the letters a-z")
    short = admin.post("/admin/users", data={"csrf_token": admin.headers["X-CSRF-Token"],
                                              "username": "nuevo", "role": "researcher", "password": "short"})
    assert short.status_code == 422
    assert re.search(r'<li><a href="#new-password">Initial password</a>: a password needs at least',
                     _summary(short.text))
    _points_at_its_message(short.text, "new-password", "a password needs at least")


def test_a_refused_disable_of_oneself_is_linked_to_its_button(admin):
    refused = admin.post("/admin/users/ada/active", data={"csrf_token": admin.headers["X-CSRF-Token"], "active": "0"})
    assert refused.status_code == 422 and _title(refused.text) == "Error: Users"
    summary = _summary(refused.text)
    button = re.search(r'<a href="#(active-\d+)">Disable ada</a>: you cannot disable your own account', summary)
    assert button, summary
    _points_at_its_message(refused.text, button.group(1), "you cannot disable your own account")


def test_a_refused_token_label_has_a_summary_linking_the_field(client):
    refused = client.post("/account/tokens", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                    "once": re.search(r'name="once" value="([^"]+)"',
                                                                      client.get("/account/tokens").text).group(1),
                                                    "label": "x" * 300})
    assert refused.status_code == 422 and _title(refused.text).startswith("Error: ")
    assert re.search(r'<li><a href="#token-label">Label</a>: at most', _summary(refused.text))
    _points_at_its_message(refused.text, "token-label", "at most")


# ---- M6: row actions name their user or token; Disable asks first ---------------------------------------------

def test_the_users_row_actions_name_their_user_and_disable_asks_first(admin, db_url):
    signed_in_client(db_url, "rita", "researcher")
    page = admin.get("/admin/users").text
    row = re.search(r'<tr>\s*<th scope="row">rita</th>.*?</tr>', page, re.DOTALL)
    assert row, "the user name is the row's header cell"
    row = row.group(0)
    assert 'aria-label="Change role of rita">Change role</button>' in row
    assert re.search(r'aria-label="Disable rita"[^>]*>Disable</button>', row)
    assert 'aria-label="API tokens of rita">API tokens</a>' in row
    assert 'aria-label="Reset password of rita">Reset password</a>' in row
    disable = re.search(r'<form method="post" action="/admin/users/rita/active"[^>]*>', row).group(0)
    assert 'data-confirm="Disable rita?' in disable
    # enabling takes nothing away: it asks nothing
    admin.post("/admin/users/rita/active", data={"csrf_token": admin.headers["X-CSRF-Token"], "active": "0"})
    row = re.search(r'<th scope="row">rita</th>.*?</tr>', admin.get("/admin/users").text, re.DOTALL).group(0)
    assert re.search(r'aria-label="Enable rita"[^>]*>Enable</button>', row)
    assert "data-confirm" not in re.search(r'<form method="post" action="/admin/users/rita/active"[^>]*>', row).group(0)


def test_a_tokens_revoke_button_names_its_token(client, admin):
    once = re.search(r'name="once" value="([^"]+)"', client.get("/account/tokens").text).group(1)
    made = client.post("/account/tokens", data={"csrf_token": client.headers["X-CSRF-Token"], "once": once,
                                                 "label": "OpenRefine"})
    assert made.status_code == 201
    for page, named in ((client.get("/account/tokens").text, "Revoke token 1 (OpenRefine)"),
                        (admin.get("/admin/users/rita/tokens").text, "Revoke token 1 (OpenRefine) of rita")):
        assert f'aria-label="{named}">Revoke</button>' in page
        assert '<th scope="row">1</th>' in page


# ---- M1/L3: entity, link and cite forms ------------------------------------------------------------------------

def test_a_refused_entity_or_link_form_says_error_in_its_title(client):
    token = csrf_of(client, "/entities/new?kind=Person")
    assert _title(client.get("/entities/new?kind=Person").text) == "New Person"
    refused = client.post("/entities/new", data={"csrf_token": token, "kind": "Person", "decision": "new",
                                                  "p.name": "Zutano Titulo (FICTIONAL)", "p.birthDate": "1990-13"})
    assert refused.status_code == 422 and _title(refused.text) == "Error: New Person"
    person = create(client, "Person", name="Zutano Titulo (FICTIONAL)")
    post = create(client, "Position", name="Cargo Titulo (FICTIONAL)")
    edit = client.post(f"/entities/{person}/edit", data={
        "csrf_token": token, "kind": "Person", "version": "1", "p.name": "Zutano Titulo (FICTIONAL)",
        "p.birthDate": "1990-13"})
    assert edit.status_code == 422 and _title(edit.text) == "Error: Edit Zutano Titulo (FICTIONAL)"
    link = client.post("/links/new", data={"csrf_token": token, "kind": "Occupancy", "entity": person,
                                           "direction": "out", "other_id": post, "other_name": "",
                                           "p.startDate": "2019-13-01"})
    assert link.status_code == 422 and _title(link.text) == "Error: New link"


def test_a_refused_citation_links_to_the_field_it_is_about_and_says_error_in_its_title(client):
    person = create(client, "Person", name="Citada Campos (FICTIONAL)")
    source = client.post("/sources/new", data={"csrf_token": client.headers["X-CSRF-Token"],
                                               "title": "Gaceta de Campos (FICTIONAL)", "source_type": "registry",
                                               "url": "https://example.org/test/campos", "reliability": "B"},
                         follow_redirects=False)
    assert source.status_code == 303, source.text
    source_id = source.headers["location"].rsplit("/", 1)[-1].split("?")[0]
    page = client.get(f"/entities/{person}").text
    assert _title(page) == "Citada Campos (FICTIONAL)" and 'id="cite-error"' not in page

    no_source = client.post(f"/entities/{person}/cite", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                               "source_id": "", "target": "entity"})
    assert no_source.status_code == 422 and _title(no_source.text) == "Error: Citada Campos (FICTIONAL)"
    box = re.search(r'<div id="cite-error" class="error-summary">(.*?)</div>', no_source.text, re.DOTALL)
    assert box and '<a href="#cite-source">Go to Source</a>' in box.group(1), no_source.text[-3000:]
    _points_at_its_message(no_source.text, "cite-source", "choose a source")
    assert 'aria-invalid' not in _tag(no_source.text, "cite-target")

    wrong_fact = client.post(f"/entities/{person}/cite", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                                "source_id": source_id, "target": "value:name:X"})
    assert wrong_fact.status_code == 422
    assert '<a href="#cite-target">Go to Fact</a>' in wrong_fact.text
    _points_at_its_message(wrong_fact.text, "cite-target", "unknown fact")
    assert 'aria-invalid' not in _tag(wrong_fact.text, "cite-source")


# ---- M1/L3: dossiers --------------------------------------------------------------------------------------------

@pytest.fixture
def researcher_client(db_url):
    return signed_in_client(db_url, RESEARCHER.username, "researcher")


def test_a_refused_exhibit_links_each_refused_field_and_says_error_in_its_title(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    page = researcher_client.get(url).text
    assert not _title(page).startswith("Error")
    refused = researcher_client.post(f"{url}/exhibits", data={
        "csrf_token": csrf_of(researcher_client, url), "version": str(dossier.version), "evidence": "",
        "element": "foreign_person", "statement_type": "fact", "statement": "   "})
    assert refused.status_code == 422
    assert _title(refused.text).startswith("Error: ")
    box = _summary(refused.text, "refused")
    assert re.search(r'<a href="#x-statement">What it shows</a>: say what the exhibit shows', box), box
    assert re.search(r'<a href="#x-evidence">Citation or source</a>: pick a source', box), box
    _points_at_its_message(refused.text, "x-statement", "say what the exhibit shows")
    _points_at_its_message(refused.text, "x-evidence", "pick a source")


def test_a_refused_narrative_links_its_field_and_says_error_in_its_title(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    refused = researcher_client.post(f"{url}/edit", data={
        "csrf_token": csrf_of(researcher_client, url), "version": str(dossier.version), "title": "T" * 400})
    assert refused.status_code == 422 and _title(refused.text).startswith("Error: ")
    box = _summary(refused.text, "refused")
    assert re.search(r'<a href="#f-title">Title</a>: a title is at most', box), box
    _points_at_its_message(refused.text, "f-title", "a title is at most")


def test_a_refused_workflow_comment_links_its_field(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    page = researcher_client.get(url).text
    refused = researcher_client.post(f"{url}/move", data={
        "csrf_token": csrf_of(researcher_client, url), "version": str(dossier.version), "action": "withdraw",
        "comment": ""})
    if 'id="withdraw-comment"' not in page:
        pytest.skip("no withdraw form on a draft here")
    assert refused.status_code == 422
    box = _summary(refused.text, "refused")
    assert re.search(r'<a href="#withdraw-comment">Comment</a>: say why you withdraw', box), box
    _points_at_its_message(refused.text, "withdraw-comment", "say why you withdraw")


def test_a_refused_new_dossier_links_its_field_and_says_error_in_its_title(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    session.commit()
    path = f"/dossiers/new?target={sc.target}"
    assert not _title(researcher_client.get(path).text).startswith("Error")
    refused = researcher_client.post("/dossiers/new", data={
        "csrf_token": csrf_of(researcher_client, path), "target_id": sc.target, "legal_basis": "no-such-basis",
        "title": "Prueba"})
    assert refused.status_code == 422 and _title(refused.text).startswith("Error: New dossier")
    box = _summary(refused.text, "refused")
    assert re.search(r'<li id="refused-1"><a href="#basis">Legal basis</a>: unknown legal basis', box), box
    _points_at_its_message(refused.text, "basis", "unknown legal basis")


def test_the_dossier_refusal_and_the_cite_error_are_focused_by_the_script(client):
    script = client.get("/static/app.js").text
    assert 'getElementById("refused")' in script and '"main .error-summary"' in script


# ---- M5, L6 -------------------------------------------------------------------------------------------------------

def test_the_autocomplete_has_a_polite_live_region_for_its_count(client):
    person = create(client, "Person", name="Vivo Region (FICTIONAL)")
    for path, listbox in ((f"/links/new?entity={person}&kind=Ownership:out", "other-suggestions"),
                          (f"/entities/{person}/path", "to-suggestions")):
        page = client.get(path).text
        region = re.search(rf'<p id="{listbox}-status"[^>]*>', page)
        assert region, path
        assert 'role="status"' in region.group(0) and 'aria-live="polite"' in region.group(0)
        assert 'class="visually-hidden"' in region.group(0)


def test_the_network_diagram_is_named_after_its_entity_and_points_at_its_text_alternative(client):
    person = create(client, "Person", name="Red Nombrada (FICTIONAL)")
    page = client.get(f"/entities/{person}/network").text
    label = html.unescape(re.search(r'<div id="cy"[^>]*aria-label="([^"]+)"', page).group(1))
    assert label.startswith("Network diagram of Red Nombrada (FICTIONAL)")
    assert "list of entities" in label and "table of edges" in label
    css = client.get("/static/style.css").text
    assert "grid-template-columns: 20rem minmax(0, 1fr)" in css and "scroll-padding-top" in css
