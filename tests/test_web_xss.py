"""A script payload typed into every text field comes back as text, never as markup."""

from __future__ import annotations

import re

from web_helpers import csrf_of, signed_in_client

PAYLOAD = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


def assert_escaped(html: str, where: str) -> None:
    assert "<script>alert" not in html, f"raw script in {where}"
    assert ESCAPED in html, f"payload not shown as text in {where}"


def test_payload_in_every_text_field_renders_escaped(db_url):
    from workbench.schema import registry

    client = signed_in_client(db_url, "ada", "admin")
    token = csrf_of(client, "/")
    kind = registry().entity_kind("Company")
    data = {"csrf_token": token, "kind": "Company", "decision": "new"}
    for name, prop in kind.properties.items():
        if prop.type.validator in ("name", "string", "text"):
            data[f"p.{name}"] = f"{name} {PAYLOAD}"
    created = client.post("/entities/new", data=data, follow_redirects=False)
    assert created.status_code == 303, created.text
    company = created.headers["location"].rsplit("/", 1)[-1]
    page = client.get(f"/entities/{company}").text
    assert_escaped(page, "entity page")
    for name in data:
        if name.startswith("p."):
            assert f"{name[2:]} {ESCAPED}" in page, name
    assert_escaped(client.get(f"/entities/{company}/edit").text, "edit form")
    assert_escaped(client.get("/entities").text, "entity list")

    person = client.post("/entities/new", data={"csrf_token": token, "kind": "Person", "decision": "new",
                                                "p.name": "Ana " + PAYLOAD}, follow_redirects=False)
    person_id = person.headers["location"].rsplit("/", 1)[-1]
    client.post("/links/new", data={"csrf_token": token, "kind": "Ownership", "entity": person_id,
                                    "direction": "out", "other_id": company, "p.summary": PAYLOAD,
                                    "p.ownershipType": PAYLOAD})
    source = client.post("/sources/new", data={"csrf_token": token, "url": "https://example.org/a",
                                               "title": PAYLOAD, "publisher": PAYLOAD, "notes": PAYLOAD},
                         follow_redirects=False)
    source_id = source.headers["location"].rsplit("/", 1)[-1]
    client.post(f"/entities/{person_id}/cite", data={"csrf_token": token, "source_id": source_id,
                                                     "target": "entity", "excerpt": PAYLOAD, "page": PAYLOAD})
    client.post(f"/entities/{person_id}/notes", data={"csrf_token": token, "text": PAYLOAD})
    person_page = client.get(f"/entities/{person_id}").text
    assert_escaped(person_page, "person page")
    assert person_page.count(ESCAPED) >= 6  # name, caption, link summary/type, citation, excerpt, note
    assert_escaped(client.get(f"/sources/{source_id}").text, "source page")
    assert_escaped(client.get("/sources").text, "source list")

    bad = client.post("/admin/users", data={"csrf_token": token, "username": PAYLOAD, "role": "researcher",
                                            "password": "long enough password"})
    assert bad.status_code == 422
    assert_escaped(bad.text, "admin form")
    search = client.get("/search", params={"q": PAYLOAD}).text
    assert "<script>alert" not in search


def test_pages_send_a_content_security_policy_without_inline_scripts(db_url):
    client = signed_in_client(db_url, "ada", "admin")
    response = client.get("/entities")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)


def test_pages_exports_and_files_are_not_kept_in_caches_but_the_style_sheet_may_be(db_url, tmp_path):
    """QA round 9: a dossier's page, its exports and its JSON carried no Cache-Control, so a browser or a
    shared proxy could keep allegations about named people after the sign-out (the rule is the app's,
    for every path but /static/)."""
    from test_dossier_scenario import build_scenario, complete_dossier

    from workbench.store import db as store_db
    from workbench.store.permissions import Actor

    with store_db.session_scope(db_url) as s:
        sc = build_scenario(s, Actor("rita", "researcher"))
        dossier_id = complete_dossier(s, Actor("rita", "researcher"), sc)
    client = signed_in_client(db_url, "rita", "researcher")
    for path in (f"/dossiers/{dossier_id}", f"/dossiers/{dossier_id}/export?format=md", "/entities",
                 f"/api/dossiers/{dossier_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers.get("cache-control") == "no-store", path
    style = client.get("/static/style.css")
    assert style.status_code == 200 and "no-store" not in style.headers.get("cache-control", "")
