"""What a QA pass over the workbench tripped on, each driven the way a researcher meets it.

Every test here reproduces a problem seen through the pages: a link that answered 403, a raw id
where a name belongs, a 500, a form that forgot what was picked, an error page with no way back.
"""

from __future__ import annotations

import html
import re

import pytest
from test_dossier_scenario import build_scenario
from test_web_entities import create
from web_helpers import csrf_of, signed_in_client

from workbench.dossiers import service
from workbench.store.permissions import Actor

pytest.importorskip("workbench.matching.jobs")

RESEARCHER = Actor("rita", "researcher")


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, RESEARCHER.username, "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash [^"]*" role="[^"]*">(.*?)</p>', page, re.DOTALL)


def add_source(client, title: str, back: str = "") -> str:
    made = client.post("/sources/new", data={"csrf_token": client.headers["X-CSRF-Token"], "title": title,
                                             "url": "https://example.org/test/source", "source_type": "registry",
                                             "reliability": "B", "back": back}, follow_redirects=False)
    assert made.status_code == 303, made.text
    return made.headers["location"].rsplit("/", 1)[-1]


def test_home_queue_link_opens_a_page_every_role_may_see(db_url, client):
    home = client.get("/").text
    target = re.search(r'<a href="([^"]+)">Dossiers submitted for review</a>', home).group(1)
    assert client.get(target).status_code == 200  # was /dossiers/review: 403 for researchers and admins
    reviewer = signed_in_client(db_url, "ruben", "reviewer")
    reviewer_home = reviewer.get("/").text
    assert '<a href="/dossiers/review">Dossiers you may review</a>' in reviewer_home


def test_unknown_address_and_a_forms_address_get_pages_not_json(client):
    missing = client.get("/entitys", headers={"accept": "text/html"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "no such page" in missing.text
    form_target = client.get("/logout", headers={"accept": "text/html"})
    assert form_target.status_code == 405 and form_target.headers["content-type"].startswith("text/html")
    assert "target of a form" in form_target.text
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


def test_error_page_links_back_to_the_page_the_form_was_on(db_url, session, client):
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b4")
    session.commit()
    page = f"/dossiers/{dossier.id}"
    refused = client.post(f"{page}/move", data={"csrf_token": client.headers["X-CSRF-Token"], "action": "submit"},
                          headers={"referer": f"http://testserver{page}"})
    assert refused.status_code == 422 and "not complete" in refused.text
    assert 'id="workflow"' in refused.text  # a dossier form refused shows the dossier page again
    elsewhere = client.post(f"{page}/move", data={"csrf_token": client.headers["X-CSRF-Token"], "action": "submit"},
                            headers={"referer": "https://elsewhere.example/phish"})
    assert 'id="error-back"' not in elsewhere.text  # only this site's pages


def test_a_malformed_fact_choice_is_a_message_not_a_server_error(client):
    person = create(client, "Person", name="Rosa Elena Mendez")
    source = add_source(client, "State gazette no. 12")
    response = client.post(f"/entities/{person}/cite", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                             "source_id": source, "target": "prop:name"},
                           follow_redirects=True)
    assert response.status_code == 422
    assert any("Citation not saved" in f for f in flashes(response.text))


def test_a_refused_citation_comes_back_with_what_was_chosen_and_typed(client):
    """QA round 10: the refusal redirected with a message, and the excerpt and page typed were gone."""
    person = create(client, "Person", name="Rosa Elena Mendez")
    source = add_source(client, "State gazette no. 12")
    excerpt = "La C. Rosa Elena Méndez, <síndica> del municipio, firmó el contrato & el anexo."
    response = client.post(f"/entities/{person}/cite", data={
        "csrf_token": client.headers["X-CSRF-Token"], "source_id": source, "target": "value:name:Someone Else",
        "excerpt": excerpt, "page": "14-15"})
    assert response.status_code == 422 and 'id="cite-error"' in response.text
    assert f"<textarea id=\"cite-excerpt\" name=\"excerpt\" rows=\"2\">{html.escape(excerpt, quote=False)}</textarea>" \
        in response.text.replace("&#39;", "'")
    assert 'id="cite-page" name="page" size="6" value="14-15"' in response.text
    assert re.search(rf'<option value="{source}" selected>State gazette no. 12', response.text)


def test_link_form_keeps_the_picked_entity_after_a_validation_error(client):
    person = create(client, "Person", name="Rosa Elena Mendez")
    create(client, "Person", name="Pedro Salas Ruiz")
    twin = create(client, "Person", name="Pedro Salas Ruiz")  # two entries with one name
    data = {"csrf_token": client.headers["X-CSRF-Token"], "kind": "Associate", "entity": person,
            "direction": "out", "other_name": "Pedro Salas Ruiz", "other_id": twin, "p.startDate": "2020-13"}
    refused = client.post("/links/new", data=data)
    assert refused.status_code == 422 and "month 13 does not exist" in refused.text
    # QA round 9: the refusal is announced at the top, each refused field linked, as on the entity form
    summary = re.search(r'<div class="flash error" role="alert" id="error-summary">(.*?)</div>', refused.text,
                        re.DOTALL)
    assert summary and "Not saved: see the messages next to the fields." in summary.group(1)
    assert re.search(r'<li><a href="#f-startDate-0">Start</a>: [^<]*month 13 does not exist', summary.group(1))
    kept = re.search(r'name="other_id" value="([^"]*)"', refused.text).group(1)
    assert kept == twin
    fixed = client.post("/links/new", data={**data, "other_id": kept, "p.startDate": "2020-12"},
                        follow_redirects=False)
    assert fixed.status_code == 303, fixed.text
    assert "Rosa Elena Mendez" in client.get(f"/entities/{twin}").text


def test_without_javascript_a_name_matching_several_entities_offers_them_as_choices(client):
    """The suggestions list needs JavaScript: without it, 'Pedro Salas' (two entries) was refused with
    'pick one from the suggestions', and none were shown. The closest entities come as choices."""
    person = create(client, "Person", name="Rosa Elena Mendez")
    first = create(client, "Person", name="Pedro Salas Ruiz")
    twin = create(client, "Person", name="Pedro Salas Ruiz")
    data = {"csrf_token": client.headers["X-CSRF-Token"], "kind": "Associate", "entity": person,
            "direction": "out", "other_name": "Pedro Salas"}
    refused = client.post("/links/new", data=data)
    assert refused.status_code == 422
    offered = re.findall(r'name="other_pick" value="([^"]+)"', refused.text)
    assert set(offered) == {first, twin} and person not in offered
    chosen = client.post("/links/new", data={**data, "other_pick": twin}, follow_redirects=False)
    assert chosen.status_code == 303, chosen.text
    assert "Rosa Elena Mendez" in client.get(f"/entities/{twin}").text
    assert "Rosa Elena Mendez" not in client.get(f"/entities/{first}").text


def test_link_form_says_where_the_problem_is_when_the_other_end_is_missing(client):
    person = create(client, "Person", name="Rosa Elena Mendez")
    refused = client.post("/links/new", data={"csrf_token": client.headers["X-CSRF-Token"], "kind": "Associate",
                                              "entity": person, "direction": "out", "other_name": "Nobody Known"})
    assert refused.status_code == 422
    assert "Not saved: see the messages next to the fields." in refused.text and "<ul></ul>" not in refused.text
    assert re.search(r'<li><a href="#other-name">The other entity</a>: no single entity matches', refused.text)
    assert re.search(r'id="other-name-errors"><li>no single entity matches', refused.text)


def test_source_form_remembers_the_entity_to_return_to_after_a_refusal(client):
    person = create(client, "Person", name="Rosa Elena Mendez")
    back = f"/entities/{person}#cite"
    form = client.get("/sources/new", params={"back": back}).text
    assert f'name="back" value="{back}"' in form
    refused = client.post("/sources/new", data={"csrf_token": client.headers["X-CSRF-Token"], "title": "",
                                                "url": "https://example.org/x", "source_type": "registry",
                                                "reliability": "B", "back": back})
    assert refused.status_code == 422 and f'name="back" value="{back}"' in refused.text
    saved = client.post("/sources/new", data={"csrf_token": client.headers["X-CSRF-Token"], "title": "Deed",
                                              "url": "https://example.org/x", "source_type": "registry",
                                              "reliability": "B", "back": back}, follow_redirects=False)
    assert saved.headers["location"] == back


def test_source_page_names_a_cited_link_by_its_entities(client):
    person = create(client, "Person", name="Rosa Elena Mendez")
    company = create(client, "Company", name="Transportes del Valle SA")
    token = client.headers["X-CSRF-Token"]
    client.post("/links/new", data={"csrf_token": token, "kind": "Ownership", "entity": person, "direction": "out",
                                    "other_id": company, "p.percentage": "60"})
    source = add_source(client, "County deed 2019")
    link_target = re.search(r'<option value="(link:[^"]+)">', client.get(f"/entities/{person}").text).group(1)
    client.post(f"/entities/{person}/cite", data={"csrf_token": token, "source_id": source, "target": link_target})
    row = re.search(r"<h2>Facts citing it.*?</h2>.*?<tbody>(.*?)</tbody>", client.get(f"/sources/{source}").text,
                    re.DOTALL).group(1)
    assert link_target[5:] not in row  # no raw link id
    assert "Rosa Elena Mendez" in row and "owns" in row and "Transportes del Valle SA" in row


def _screen(client, csv: bytes, name: str) -> tuple[str, str]:
    """Screen a small roll; return the job id and the page of its finished review queue."""
    from test_web_screening import start, wait_until_finished

    response = start(client, data=csv, name=name)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    assert wait_until_finished(client, job_id)["status"] == "done"
    return job_id, client.get(f"/screening/{job_id}").text


ROLL_HEADER = b"APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"


def _decide(client, job_id: str, page: str, verdict: str):
    item_id, body = re.search(r'<tr id="item-(\d+)" class="status-open">(.*?)</tr>', page, re.DOTALL).groups()
    version = re.search(r'name="version" value="(\d+)"', body).group(1)
    return item_id, client.post(f"/screening/items/{item_id}", data={
        "csrf_token": client.headers["X-CSRF-Token"], "verdict": verdict, "job_id": job_id, "version": version},
        follow_redirects=True)


def test_confirmed_hit_lists_what_it_created_by_name(client):
    create(client, "Person", name="Severo Ficticio Mendoza")
    row = b'QA-1,"1 Test St, Laredo, TX",P,Severo Ficticio Mendoza,"Calle 1",03/15/2019,450000\n'
    job_id, page = _screen(client, ROLL_HEADER + row, "roll.csv")
    item_id, confirmed = _decide(client, job_id, page, "confirmed")
    created = re.search(rf'<tr id="item-{item_id}".*?<ul class="created">(.*?)</ul>', confirmed.text,
                        re.DOTALL).group(1)
    assert "Parcel QA-1" in created and "owns" in created and "Severo Ficticio Mendoza" in created
    assert "tbl-" not in re.sub(r'href="[^"]*"', "", created)  # the Ownership link shown by name, not id


def test_a_row_the_mapping_cannot_read_is_refused_at_upload_with_its_row(client):
    """The deed date '13/45/2019' fits no calendar: before, the file was accepted and the row failed only
    when a reviewer confirmed its hit. Now the upload says which row and why, and starts no job."""
    from test_web_screening import start

    create(client, "Person", name="Severo Ficticio Mendoza")
    good = b'QA-8,"8 Test St",P,Severo Ficticio Mendoza,"Calle 8",03/15/2019,1\n'
    bad = b'QA-9,"9 Test St",P,Severo Ficticio Mendoza,"Calle 9",13/45/2019,1\n'  # no 13th month
    jobs_before = client.get("/screening").text.count("/screening/")
    response = start(client, data=ROLL_HEADER + good + bad, name="badroll.csv")
    assert response.status_code == 422
    errors = " ".join(re.findall(r'class="field-errors"[^>]*>(.*?)</ul>', response.text, re.DOTALL))
    assert "badroll.csv, line 3 (data row 2)" in errors and "13/45/2019" in errors
    assert client.get("/screening").text.count("/screening/") == jobs_before


def test_screening_an_xlsx_asset_declaration_from_the_web(client):
    from test_web_screening import MAPPINGS

    workbook = MAPPINGS / "mx_asset_declaration_FICTIONAL.xlsx"
    response = client.post("/screening", data={"csrf_token": client.headers["X-CSRF-Token"],
                                               "mapping_name": "mx_asset_declaration.yml", "threshold": "0.7",
                                               "source_type": "declaration"},
                           files={"file": (workbook.name, workbook.read_bytes(), "application/octet-stream")},
                           follow_redirects=False)
    assert response.status_code == 303, re.findall(r'class="field-errors"[^>]*>(.*?)</ul>', response.text)
    from test_web_screening import wait_until_finished

    status = wait_until_finished(client, response.headers["location"].rsplit("/", 1)[-1])
    assert status["status"] == "done" and status["done_rows"] == status["total_rows"] > 0, status


# ---- polish: labels where keys were, a filtered queue, a confirmation that sticks ----------------

def test_a_saves_warning_names_the_field_by_its_label(client):
    """Saving an identifier that fails its check digit flashed 'identifier: CURP ...'."""
    saved = client.post("/entities/new", data={"csrf_token": client.headers["X-CSRF-Token"], "kind": "Person",
                                               "decision": "new", "p.name": "Rosa Elena Mendez Ruiz",
                                               "p.identifier": "CURP:MERR790213MSLNZS01"}, follow_redirects=True)
    warnings = [f for f in flashes(saved.text) if "CURP" in f]
    assert warnings and all(w.startswith("Identifiers: CURP MERR790213MSLNZS01") for w in warnings), warnings


def test_history_link_details_and_cited_facts_show_labels_not_keys(client):
    token = client.headers["X-CSRF-Token"]
    person = create(client, "Person", name="Rosa Elena Mendez", birthDate="1979")
    company = create(client, "Company", name="Transportes del Valle SA")
    version = re.search(r'name="version" value="(\d+)"', client.get(f"/entities/{person}/edit").text).group(1)
    edited = client.post(f"/entities/{person}/edit", data={"csrf_token": token, "version": version,
                                                           "p.name": "Rosa Elena Mendez", "p.birthDate": "1979-02-13"},
                         follow_redirects=False)
    assert edited.status_code == 303, edited.text
    client.post("/links/new", data={"csrf_token": token, "kind": "Ownership", "entity": person, "direction": "out",
                                    "other_id": company, "p.percentage": "60", "p.acquisitionDate": "2019-03-15"})
    page = client.get(f"/entities/{person}").text

    history = re.search(r'<table class="dense history">(.*?)</table>', page, re.DOTALL).group(1)
    assert "<strong>Date of birth</strong>: 1979 → 1979-02-13" in history
    assert "birthDate" not in history

    links = re.search(r'<table class="dense links">(.*?)</table>', page, re.DOTALL).group(1)
    assert "Share (%): 60" in links and "Acquired: 2019-03-15" in links
    assert "percentage" not in links and "acquisitionDate" not in links

    source = add_source(client, "Civil registry extract")
    form = client.get(f"/entities/{person}").text  # the citation form appears once a source exists
    fact = re.search(r'<option value="(prop:birthDate:0)">Date of birth: 1979-02-13</option>', form).group(1)
    client.post(f"/entities/{person}/cite", data={"csrf_token": token, "source_id": source, "target": fact})
    cited = re.search(r"<h2>Facts citing it.*?</h2>.*?<tbody>(.*?)</tbody>", client.get(f"/sources/{source}").text,
                      re.DOTALL).group(1)
    assert "Date of birth: 1979-02-13" in cited and "birthDate" not in cited


def test_home_drafts_queue_opens_the_users_drafts_and_returned_dossiers(db_url, session, client):
    from html import unescape

    from test_dossier_scenario import complete_dossier

    from workbench.dossiers import workflow

    sc = build_scenario(session, RESEARCHER)
    returned = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, returned)
    workflow.return_for_changes(session, Actor("victor", "reviewer"), returned, "corroborate exhibit 4")
    draft = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b4", title="Rita's draft").id
    submitted = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, submitted)
    others = service.create_dossier(session, Actor("otto", "researcher"), sc.target, "kingpin-b4",
                                    title="Otto's draft").id
    session.commit()

    home = client.get("/").text
    href, count = re.search(r'<a href="([^"]+)">Your drafts and returned dossiers</a></td><td class="num">(\d+)<',
                            home).groups()
    listed = client.get(unescape(href))
    assert listed.status_code == 200
    shown = set(re.findall(r'<a href="/dossiers/([^"/]+)">', listed.text))
    assert shown == {returned, draft} and int(count) == 2
    assert submitted not in shown and others not in shown
    # the filter is visible on the list page, so the user sees why the others are missing
    assert re.search(r'name="state" value="draft" checked', listed.text)
    assert re.search(r'name="state" value="returned" checked', listed.text)
    assert 'name="author" value="rita"' in listed.text


def test_its_different_survives_a_validation_error_on_the_new_entity_form(db_url, client):
    from workbench.matching.judgements import current_judgement
    from workbench.store import db as store_db

    existing = create(client, "Person", name="Rosa Elena Mendez Ruiz")
    token = client.headers["X-CSRF-Token"]
    typed = {"csrf_token": token, "kind": "Person", "p.name": "Rosa Elena Mendez Ruiz", "p.birthDate": "1979-13-01"}
    warned = client.post("/entities/new", data=typed)
    assert "This looks like" in warned.text
    # "it's different" -- but the date has no month 13: the form comes back with the error
    refused = client.post("/entities/new", data={**typed, "decision": "new", "different_from": existing})
    assert refused.status_code == 422 and "month 13 does not exist" in refused.text
    assert "This looks like" not in refused.text
    assert "You confirmed this is a different entry from" in refused.text
    kept = re.findall(r'<input type="hidden" name="confirmed_different" value="([^"]+)">', refused.text)
    assert kept == [existing]
    # the user fixes the date and presses Create: saved, with no second warning about the same entry
    fixed = client.post("/entities/new", data={**typed, "p.birthDate": "1979-12-01", "confirmed_different": kept},
                        follow_redirects=False)
    assert fixed.status_code == 303, fixed.text
    new_id = fixed.headers["location"].rsplit("/", 1)[-1]
    with store_db.session_scope(db_url) as s:
        assert current_judgement(s, new_id, existing).verdict == "different"


def test_a_roll_refused_at_upload_leaves_no_file_behind(client):
    """The row check runs on a temporary copy: before, the roll was stored under its SHA-256 first, so
    every refused upload left its bytes in the data directory with nothing pointing at them."""
    from test_web_screening import start

    from workbench.settings import get_settings

    bad = b'QA-9,"9 Test St",P,Severo Ficticio Mendoza,"Calle 9",13/45/2019,1\n'  # no 13th month
    response = start(client, data=ROLL_HEADER + bad, name="badroll.csv")
    assert response.status_code == 422
    files = get_settings().files_dir
    assert not files.exists() or not [p for p in files.rglob("*") if p.is_file()]
