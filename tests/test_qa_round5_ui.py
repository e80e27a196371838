"""QA round 5: what the pages tell a researcher.

- a refused entity form says so at the top, with a link to each refused input, and marks only the
  inputs holding a refused value (not the spare "another value" input);
- an entry merged into another says "merged into <kept entry>", not "not sanctioned";
- the home page counts the screening hits marked Unsure among those still to decide.

FICTIONAL names throughout.
"""

from __future__ import annotations

import re

import pytest
from test_web_accessibility import controls_of
from test_web_entities import create
from web_helpers import csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store.permissions import SYSTEM


@pytest.fixture
def client(db_url):
    return signed_in_client(db_url, "rita", "researcher")


def _invalid_ids(html: str) -> list[str]:
    return [c["id"] for c in controls_of(html).controls if c.get("aria-invalid") == "true"]


def _summary(html: str) -> str:
    found = re.search(r'<div class="flash error" role="alert" id="error-summary">(.*?)</div>', html, re.DOTALL)
    assert found, "no error summary at the top of the form"
    return found.group(1)


def test_a_refused_new_entity_says_so_at_the_top_and_marks_only_the_bad_input(client):
    token = csrf_of(client, "/entities/new?kind=Person")
    response = client.post("/entities/new", data={
        "csrf_token": token, "kind": "Person", "decision": "new",
        "p.name": "Fulano Fechas Ficticio (FICTIONAL)", "p.birthDate": "1990-13-45"})
    assert response.status_code == 422
    summary = _summary(response.text)
    assert "Not saved: see the messages next to the fields." in summary
    assert re.search(r'<a href="#f-birthDate-0">Date of birth</a>: .*1990-13-45', summary)
    # the summary comes before the form, the link leads to an input that exists
    assert response.text.index('id="error-summary"') < response.text.index('id="entity-form"')
    assert 'id="f-birthDate-0"' in response.text
    # the bad input is marked; the spare "another value" input under it is not
    assert _invalid_ids(response.text) == ["f-birthDate-0"]
    spare = next(c for c in controls_of(response.text).controls if c.get("id") == "f-birthDate-1")
    assert spare.get("value") == "" and "aria-invalid" not in spare and "aria-describedby" not in spare


def test_of_several_values_only_the_refused_one_is_marked_and_linked(client):
    person = create(client, "Person", name="Mengana Valores Ficticia (FICTIONAL)")
    token = csrf_of(client, f"/entities/{person}/edit")
    version = re.search(r'name="version" value="(\d+)"',
                        client.get(f"/entities/{person}/edit").text).group(1)
    response = client.post(f"/entities/{person}/edit", data={
        "csrf_token": token, "kind": "Person", "version": version,
        "p.name": "Mengana Valores Ficticia (FICTIONAL)", "p.birthDate": ["1979", "1979-02-30"]})
    assert response.status_code == 422
    summary = _summary(response.text)
    assert '<a href="#f-birthDate-1">Date of birth</a>' in summary
    assert _invalid_ids(response.text) == ["f-birthDate-1"]  # not 1979 (0), nor the spare input (2)


def test_a_refused_field_without_a_value_marks_its_first_input(client):
    token = csrf_of(client, "/entities/new?kind=Person")
    response = client.post("/entities/new", data={"csrf_token": token, "kind": "Person", "decision": "new",
                                                   "p.birthDate": "1980"})
    assert response.status_code == 422
    assert '<a href="#f-name-0">' in _summary(response.text)
    assert _invalid_ids(response.text) == ["f-name-0"]


def test_a_merged_entry_names_the_entry_it_was_merged_into_not_a_sanctions_status(client, db_url):
    from workbench.matching.judgements import merge

    kept = create(client, "Person", name="Zutano Conservado Ficticio (FICTIONAL)")
    gone = create(client, "Person", name="Zutano Fusionado Ficticio (FICTIONAL)")
    with store_db.session_scope(db_url) as s:
        merge(s, SYSTEM, kept, gone)
    store_db.dispose_all()
    page = client.get(f"/entities/{gone}").text
    heading = re.search(r"<h1>(.*?)</h1>", page, re.DOTALL).group(1)
    assert "not sanctioned" not in heading
    assert re.search(rf'merged into <a href="/entities/{kept}">Zutano Conservado Ficticio \(FICTIONAL\)</a>',
                     heading)
    kept_heading = re.search(r"<h1>(.*?)</h1>", client.get(f"/entities/{kept}").text, re.DOTALL).group(1)
    assert "not sanctioned" in kept_heading and "merged into" not in kept_heading


def test_the_status_badge_shows_nothing_for_a_record_about_another_entity():
    """What the macro does with each status it is given; 'record' is a Sanction record's (it is the sanction)."""
    from workbench.web.deps import templates

    macros = templates.env.get_template("_macros.html").module
    assert "designated" in str(macros.status_badge("designated"))
    assert "delisted" in str(macros.status_badge("delisted"))
    assert "not sanctioned" in str(macros.status_badge("none"))
    assert str(macros.status_badge("record")).strip() == ""


def test_a_sanction_record_carries_no_not_sanctioned_badge(client):
    sanction = create(client, "Sanction", name="SDN Registro Ficticio (FICTIONAL)", authority="OFAC",
                      program="SDNTK", status="active")
    heading = re.search(r"<h1>(.*?)</h1>", client.get(f"/entities/{sanction}").text, re.DOTALL).group(1)
    assert "not sanctioned" not in heading
    found = client.get("/search", params={"q": "SDN Registro Ficticio", "kind": "Sanction"}).text
    row = re.search(r'<table class="dense results">(.*?)</table>', found, re.DOTALL).group(1)
    assert f"/entities/{sanction}" in row and "not sanctioned" not in row
    listed = client.get("/entities", params={"kind": "Sanction"}).text
    assert f"/entities/{sanction}" in listed and "not sanctioned" not in listed


def _queue_count(client) -> int:
    home = client.get("/").text
    row = re.search(r'<a href="/screening\?waiting=1#jobs">Screening hits to decide \(open or unsure\)</a></td>'
                    r'<td class="num">(\d+)</td>', home)
    assert row, "no screening line in 'Waiting for you'"
    return int(row.group(1))


def test_hits_marked_unsure_still_wait_on_the_home_page(client, db_url):
    from workbench.matching.review import decide
    from workbench.store.models import ReviewItem

    person = create(client, "Person", name="Perengano Dudoso Ficticio (FICTIONAL)")
    with store_db.session_scope(db_url) as s:
        # four rows naming different people (a rejection also closes the same pair's other open hits)
        items = [ReviewItem(row_number=n, row_data={}, query_name=f"Perengano Dudoso {n}",
                            query_key=f"perengano dudoso {n}", entity_id=person,
                            matched_name="Perengano Dudoso Ficticio", score=0.9)
                 for n in range(4)]
        s.add_all(items)
        s.flush()
        ids = [i.id for i in items]
    store_db.dispose_all()
    assert _queue_count(client) == 4
    with store_db.session_scope(db_url) as s:
        decide(s, SYSTEM, ids[0], "unsure")
    store_db.dispose_all()
    assert _queue_count(client) == 4  # unsure: still to decide (it used to drop to 3)
    with store_db.session_scope(db_url) as s:
        decide(s, SYSTEM, ids[1], "rejected")
        decide(s, SYSTEM, ids[0], "rejected")  # an unsure hit decided at last leaves the queue
    store_db.dispose_all()
    assert _queue_count(client) == 2
