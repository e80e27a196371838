"""QA round 9, smaller page findings: the author of a returned dossier reads the reviewer's reason at
the top of its page (it was only in the history at the bottom), until the dossier is submitted again.
FICTIONAL scenario."""

from __future__ import annotations

import re

from test_dossier_scenario import build_scenario, complete_dossier
from web_helpers import signed_in_client

from workbench.dossiers import workflow

REASON = "Corroborate exhibit 4:\nthe ledger alone is not enough (FICTIONAL)."


def test_a_returned_dossier_shows_the_reviewers_reason_at_the_top_until_it_is_resubmitted(db_url, session,
                                                                                          researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    workflow.return_for_changes(session, reviewer, dossier_id, REASON)
    session.commit()
    client = signed_in_client(db_url, "rita", "researcher")
    page = client.get(f"/dossiers/{dossier_id}").text
    note = re.search(r'<div class="flash warning" id="return-reason" role="note">(.*?)</div>', page, re.DOTALL)
    assert note and "Returned for changes by <strong>victor</strong>" in note.group(1)
    assert f'<p class="typed">{REASON}</p>' in note.group(1)
    assert page.index('id="return-reason"') < page.index('id="completeness"')

    workflow.reopen(session, researcher, dossier_id)
    session.commit()
    assert 'id="return-reason"' in client.get(f"/dossiers/{dossier_id}").text  # still to answer, as a draft
    workflow.submit(session, researcher, dossier_id)
    session.commit()
    assert 'id="return-reason"' not in client.get(f"/dossiers/{dossier_id}").text


def test_a_roll_with_a_header_and_no_rows_is_refused_not_reported_clear(db_url):
    """It started a job that ended 'done, 0 rows screened, 0 hits', which a researcher could read as 'no
    one on this roll matched'."""
    from test_web_screening import start
    from web_helpers import csrf_of

    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    header = b"APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"
    jobs_before = client.get("/screening").text.count("/screening/")
    response = start(client, data=header, name="empty_roll_FICTIONAL.csv")
    assert response.status_code == 422
    assert "empty_roll_FICTIONAL.csv: the file has a header but no data rows" in response.text
    assert client.get("/screening").text.count("/screening/") == jobs_before


def test_saving_an_entry_unchanged_says_so_and_records_nothing(db_url):
    """Saving the edit form as it was opened wrote an empty 'entity.update' to the history, raised the
    version, and said 'Saved'."""
    from test_web_entities import create
    from web_helpers import csrf_of

    from workbench.store import db as store_db
    from workbench.store.models import AuditEntry, Entity

    client = signed_in_client(db_url, "rita", "researcher")
    entity_id = create(client, "Company", name="Inmobiliaria Costa Ficticia SA de CV", country="mx")
    with store_db.session_scope(db_url) as s:
        version = s.get(Entity, entity_id).version
        entries = s.query(AuditEntry).filter(AuditEntry.object_id == entity_id).count()
    data = {"csrf_token": csrf_of(client, "/"), "version": str(version),
            "p.name": "Inmobiliaria Costa Ficticia SA de CV", "p.country": "mx"}

    page = client.post(f"/entities/{entity_id}/edit", data=data, follow_redirects=True).text

    assert "Nothing changed: Inmobiliaria Costa Ficticia SA de CV already holds these values." in page
    with store_db.session_scope(db_url) as s:
        assert s.get(Entity, entity_id).version == version
        assert s.query(AuditEntry).filter(AuditEntry.object_id == entity_id).count() == entries
    changed = client.post(f"/entities/{entity_id}/edit", data={**data, "p.country": "us"}, follow_redirects=True)
    assert "Saved Inmobiliaria Costa Ficticia SA de CV." in changed.text


def test_row_controls_say_what_they_act_on_to_a_screen_reader(db_url):
    """'Edit', 'Remove' and 'Confirm' repeated on every row said nothing of which row to a screen reader."""
    from test_qa_round7_screening import OFFICIAL, _open_items, _roll, _screen
    from test_web_entities import create
    from web_helpers import api_entity, csrf_of

    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    person = create(client, "Person", name="Rosa Ficticia Mendez")
    company = create(client, "Company", name="Transportes Ficticios SA")
    assert client.post("/api/links", json={"kind": "Ownership", "source_id": person,
                                           "target_id": company}).status_code == 201
    page = client.get(f"/entities/{person}").text
    assert 'aria-label="Edit the link to Transportes Ficticios SA">Edit</a>' in page
    assert 'aria-label="Remove the link to Transportes Ficticios SA">Remove</button>' in page

    official = api_entity(client, "Person", name=OFFICIAL, topics=["role.official"])
    row = f'FICT-555-0901,"9 Sample St, Fictionville, TX 79999",P,{OFFICIAL},"PO BOX 9",04/02/2021,1'
    job_id = _screen(client, _roll([row]), "roll_FICTIONAL.csv", "county_property_roll_real.yml")
    [(_item, body)] = [(i, b) for i, b in _open_items(client.get(f"/screening/{job_id}").text)
                       if f"/entities/{official}" in b]
    assert f'aria-label="Confirm row 1, {OFFICIAL}">Confirm</button>' in body


def test_a_roll_screened_again_says_which_hits_were_confirmed_before(db_url):
    """Screening the same roll again raised every confirmed pair as news, with nothing to say it had been
    confirmed (QA round 9)."""
    from test_qa_round7_screening import OFFICIAL, _decide, _open_items, _roll, _screen
    from web_helpers import api_entity, csrf_of

    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    official = api_entity(client, "Person", name=OFFICIAL, topics=["role.official"])
    row = f'FICT-555-0951,"9 Sample St, Fictionville, TX 79999",P,{OFFICIAL},"PO BOX 9",04/02/2021,1'
    first = _screen(client, _roll([row]), "roll_january_FICTIONAL.csv", "county_property_roll_real.yml")
    [(item_id, body)] = [(i, b) for i, b in _open_items(client.get(f"/screening/{first}").text)
                         if f"/entities/{official}" in b]
    assert "Confirmed before" not in body
    assert "Confirmed" in _decide(client, first, item_id, body, "confirmed").text

    second = _screen(client, _roll([row]), "roll_february_FICTIONAL.csv", "county_property_roll_real.yml")
    [(_again, body)] = [(i, b) for i, b in _open_items(client.get(f"/screening/{second}").text)
                        if f"/entities/{official}" in b]
    assert re.search(r'Confirmed before by rita on \d{4}-\d\d-\d\d \(row 1 of <a href="/screening/'
                     + first + f'\\?item={item_id}#item-{item_id}">roll_january_FICTIONAL.csv</a>\\)', body), body
