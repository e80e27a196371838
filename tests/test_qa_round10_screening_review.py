"""QA round 10, screening review: an earlier confirmation survives a merge of its entry, and deciding a hit
again (a double submit, the back button) is told apart from someone else's decision. FICTIONAL data."""

from __future__ import annotations

import html
import re

import pytest
from test_qa_round7_screening import _decide, _open_items, _roll, _screen
from web_helpers import csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store.models import AuditEntry, Entity, Merge, ReviewItem

pytest.importorskip("workbench.matching.review")

ROW_1_OWNER = "FICTIONAL PERSON Cuatro Ejemplo"
ROW_2_OWNER = "FICTIONAL PERSON Siete Muestrario"
ROWS = [f'FICT-610-0001,"1 Sample St, Fictionville, TX 79999",P,{ROW_1_OWNER},"PO BOX 1",04/02/2021,1',
        f'FICT-610-0002,"2 Sample St, Fictionville, TX 79999",P,{ROW_2_OWNER},"PO BOX 2",04/02/2021,1']
MAPPING = "county_property_roll_real.yml"
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"


def _client(db_url, username: str):
    client = signed_in_client(db_url, username, "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def _person(client, name: str) -> str:
    response = client.post("/api/entities", json={"kind": "Person", "properties": {
        "name": [name], "topics": ["role.official"]}})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _hit(page: str, row: int, entity_id: str) -> tuple[str, str]:
    """The open hit of a row on an entity: its item id and table row."""
    found = [(i, b) for i, b in _open_items(page)
             if re.search(r'<td class="num">(\d+)</td>', b).group(1) == str(row) and f"/entities/{entity_id}\"" in b]
    assert len(found) == 1, f"row {row} did not hit {entity_id} once: {found}"
    return found[0]


def _text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", response.text))


# ---- 1. a confirmation made on an entry merged into the kept one counts for the kept one --------------

def test_a_confirmation_made_on_an_entry_merged_into_another_counts_for_the_kept_entry(db_url):
    """After X (confirmed for row 1) was merged into Y, a new job's hit of row 1 on Y no longer said
    'Confirmed before by ...' (row 2, whose entry was not merged, still did)."""
    client = _client(db_url, "rita")
    x = _person(client, ROW_1_OWNER)
    y = _person(client, "Cuatro Ejemplo Duplicado FICTIONAL")  # a duplicate entry of the same person
    z = _person(client, ROW_2_OWNER)
    roll = _roll(ROWS)
    first = _screen(client, roll, "roll_march_FICTIONAL.csv", MAPPING)
    page = client.get(f"/screening/{first}").text
    item_1, body_1 = _hit(page, 1, x)
    item_2, body_2 = _hit(page, 2, z)
    assert "Confirmed" in _decide(client, first, item_1, body_1, "confirmed").text
    assert "Confirmed" in _decide(client, first, item_2, body_2, "confirmed").text

    merged = client.post(f"/entities/{y}/judge", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                        "other_id": x, "verdict": "same"}, follow_redirects=True)
    assert merged.status_code == 200 and "Merged" in merged.text
    with store_db.session_scope(db_url) as s:
        assert s.get(Entity, x).merged_into == y

    second = _screen(client, roll, "roll_april_FICTIONAL.csv", MAPPING)
    page = client.get(f"/screening/{second}").text
    _again_1, body = _hit(page, 1, y)
    assert re.search(r'Confirmed before by rita on \d{4}-\d\d-\d\d \(row 1 of <a href="/screening/'
                     + first + f'\\?item={item_1}#item-{item_1}">roll_march_FICTIONAL.csv</a>\\), for <a href="/entities/{x}">'
                     + f'{ROW_1_OWNER}</a>, an entry merged with this one since:', body), body
    _again_2, body = _hit(page, 2, z)  # the entry that was not merged: as before
    assert re.search(r'Confirmed before by rita on \d{4}-\d\d-\d\d \(row 2 of <a href="/screening/'
                     + first + f'\\?item={item_2}#item-{item_2}">roll_march_FICTIONAL.csv</a>\\)', body), body

    # Undoing the merge puts things back: X and Y are two entries, and row 1 was confirmed for X only.
    with store_db.session_scope(db_url) as s:
        merge_id = s.query(Merge).filter(Merge.loser_id == x, Merge.undone_at.is_(None)).one().id
    undone = client.post(f"/merges/{merge_id}/undo", data={"csrf_token": client.headers["X-CSRF-Token"]},
                         follow_redirects=True)
    assert undone.status_code == 200 and "Merge undone" in undone.text
    page = client.get(f"/screening/{second}").text
    _again_1, body = _hit(page, 1, y)
    assert "Confirmed before" not in body, body
    _again_2, body = _hit(page, 2, z)
    assert "Confirmed before by rita" in body


# ---- 2. deciding a decided hit again -------------------------------------------------------------

def _decisions(db_url, item_id: str) -> int:
    with store_db.session_scope(db_url) as s:
        return s.query(AuditEntry).filter(AuditEntry.action == "review.decide",
                                          AuditEntry.object_id == str(item_id)).count()


def _job_with_a_hit(db_url):
    rita = _client(db_url, "rita")
    official = _person(rita, ROW_1_OWNER)
    job = _screen(rita, _roll(ROWS[:1]), "roll_may_FICTIONAL.csv", MAPPING)
    item_id, body = _hit(rita.get(f"/screening/{job}").text, 1, official)
    return rita, official, job, item_id, body


def test_posting_your_own_confirm_again_is_a_no_op_that_says_you_confirmed_it(db_url):
    """A double submit (or the back button and Confirm again) said 'this hit was decided by someone else'."""
    rita, _official, job, item_id, body = _job_with_a_hit(db_url)
    first = _decide(rita, job, item_id, body, "confirmed")
    assert "Confirmed: row 1" in first.text
    with store_db.session_scope(db_url) as s:
        created = list(s.get(ReviewItem, int(item_id)).created_entities)
        entities = s.query(Entity).count()
    assert created and _decisions(db_url, item_id) == 1

    again = _decide(rita, job, item_id, body, "confirmed")  # the same form, sent again
    assert again.status_code == 200
    text = _text(again)
    assert "someone else" not in text and "Not recorded" not in text, text
    assert re.search(r"Row 1 \(" + ROW_1_OWNER + r"\) was already confirmed by you \(at " + WHEN + r"\): "
                     r"nothing more was recorded; it stays as it was, already confirmed by rita\.", text), text
    with store_db.session_scope(db_url) as s:
        item = s.get(ReviewItem, int(item_id))
        assert item.status == "confirmed" and item.decided_by == "rita" and list(item.created_entities) == created
        assert s.query(Entity).count() == entities  # no second parcel
    assert _decisions(db_url, item_id) == 1


def test_marking_your_own_hit_unsure_again_records_nothing_more(db_url):
    rita, _official, job, item_id, body = _job_with_a_hit(db_url)
    assert "Marked unsure: row 1" in _decide(rita, job, item_id, body, "unsure").text
    text = _text(_decide(rita, job, item_id, body, "unsure"))
    assert re.search(r"was already marked unsure by you \(at " + WHEN + r"\): nothing more was recorded", text), text
    assert _decisions(db_url, item_id) == 1


def test_the_same_verdict_by_someone_else_names_who_decided_and_when(db_url):
    rita, _official, job, item_id, body = _job_with_a_hit(db_url)
    _decide(rita, job, item_id, body, "confirmed")
    bob = _client(db_url, "bob")
    page = bob.get(f"/screening/{job}")  # bob had the queue open before rita confirmed: the same form
    assert page.status_code == 200
    text = _text(_decide(bob, job, item_id, body, "confirmed"))
    assert "someone else" not in text and "Not recorded" not in text, text
    assert re.search(r"Row 1 \(" + ROW_1_OWNER + r"\) was already confirmed by rita \(at " + WHEN + r"\): "
                     r"nothing more was recorded\.", text), text
    assert _decisions(db_url, item_id) == 1
    with store_db.session_scope(db_url) as s:
        assert s.get(ReviewItem, int(item_id)).decided_by == "rita"


def test_a_different_verdict_on_a_decided_hit_is_refused_naming_who_decided_and_when(db_url):
    rita, _official, job, item_id, body = _job_with_a_hit(db_url)
    _decide(rita, job, item_id, body, "confirmed")
    bob = _client(db_url, "bob")
    text = _text(_decide(bob, job, item_id, body, "rejected"))
    assert re.search(r"Not recorded: this hit was already confirmed by rita \(at " + WHEN + r"\): "
                     r"the decision stands", text), text
    # the reviewer who confirmed it, changing their mind from an old page: the same refusal
    text = _text(_decide(rita, job, item_id, body, "rejected"))
    assert re.search(r"Not recorded: this hit was already confirmed by rita \(at " + WHEN + r"\): "
                     r"the decision stands", text), text
    # a hit marked unsure by someone else since the page was loaded: refused, naming them
    other, other_body = _job_with_a_second_hit(db_url, rita)
    _decide(rita, other[0], other[1], other_body, "unsure")
    text = _text(_decide(bob, other[0], other[1], other_body, "confirmed"))
    assert re.search(r"Not recorded: this hit was decided by someone else since you opened it: marked unsure by "
                     r"rita \(at " + WHEN + r"\); reload it", text), text
    assert _decisions(db_url, item_id) == 1
    with store_db.session_scope(db_url) as s:
        assert s.get(ReviewItem, int(item_id)).status == "confirmed"
        assert s.get(ReviewItem, int(other[1])).status == "unsure"


def _job_with_a_second_hit(db_url, client):
    official = _person(client, ROW_2_OWNER)
    job = _screen(client, _roll(ROWS[1:]), "roll_june_FICTIONAL.csv", MAPPING)
    item_id, body = _hit(client.get(f"/screening/{job}").text, 1, official)
    return (job, item_id), body


def test_a_rejection_made_on_an_entry_merged_into_another_hides_the_kept_entrys_hit(db_url):
    """The counterpart of a confirmation's: row 1 rejected for X, X merged into Y, and a new job raised
    row 1 against Y as if no one had said the owner is not that person."""
    from workbench.store.models import ReviewItem

    client = _client(db_url, "rita")
    x = _person(client, ROW_1_OWNER)
    y = _person(client, "Cuatro Ejemplo Duplicado FICTIONAL")
    roll = _roll(ROWS)
    first = _screen(client, roll, "roll_march_FICTIONAL.csv", MAPPING)
    item_1, body_1 = _hit(client.get(f"/screening/{first}").text, 1, x)
    _decide(client, first, item_1, body_1, "rejected")
    merged = client.post(f"/entities/{y}/judge", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                        "other_id": x, "verdict": "same"}, follow_redirects=True)
    assert merged.status_code == 200 and "Merged" in merged.text

    second = _screen(client, roll, "roll_april_FICTIONAL.csv", MAPPING)
    with store_db.session_scope(db_url) as s:
        row_1 = s.query(ReviewItem).filter(ReviewItem.job_id == second, ReviewItem.row_number == 1,
                                           ReviewItem.entity_id == y).one()
        assert row_1.status == "hidden" and row_1.decided_by == "rita"
