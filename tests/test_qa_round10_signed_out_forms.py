"""A form sent after its session ended: nothing is saved, and what was typed comes back.

QA round 10: a researcher signed out in another tab (or past the 12-hour session) who then saved a long
summary got 'Not allowed (403) the form's security token is missing or out of date: reload the page';
the reload led to sign-in and the text was gone.
"""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select
from web_helpers import PASSWORD, csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.models import Note
from workbench.store.permissions import SYSTEM

NOTE = "Checked the Sonora land registry <folio 88>: the parcel changed hands in 2019 & again in 2021.\nSecond line."


def _entity(db_url: str) -> None:
    with store_db.session_scope(db_url) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez"}, entity_id="rosa")
    store_db.dispose_all()


def _notes(db_url: str) -> int:
    with store_db.session_scope(db_url) as s:
        return s.scalar(select(func.count()).select_from(Note))


def test_signed_out_in_another_tab_the_note_comes_back_with_a_way_to_sign_in(db_url):
    _entity(db_url)
    client = signed_in_client(db_url, "rita", "researcher")
    token = csrf_of(client, "/entities/rosa")
    other_tab = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert other_tab.status_code == 303
    sent = client.post("/entities/rosa/notes", data={"csrf_token": token, "text": NOTE},
                       headers={"Referer": str(client.base_url) + "/entities/rosa"}, follow_redirects=False)
    assert sent.status_code == 403 and "You are no longer signed in" in sent.text and "nothing was saved" in sent.text
    typed = re.search(r'<textarea id="sent-1" readonly[^>]*>(.*?)</textarea>', sent.text, re.DOTALL)
    assert typed and unescape(typed.group(1)) == NOTE  # escaped on the page, whole when copied
    assert "<folio 88>" not in sent.text
    assert 'href="/login?next=%2Fentities%2Frosa" target="_blank"' in sent.text
    assert _notes(db_url) == 0


def test_a_page_opened_before_the_last_sign_in_gives_the_text_back_too(db_url):
    _entity(db_url)
    client = signed_in_client(db_url, "rita", "researcher")
    stale = csrf_of(client, "/entities/rosa")
    client.post("/logout", data={"csrf_token": stale})
    fresh = csrf_of(client, "/login")
    client.post("/login", data={"csrf_token": fresh, "username": "rita", "password": PASSWORD})
    sent = client.post("/entities/rosa/notes", data={"csrf_token": stale, "text": NOTE})
    assert sent.status_code == 403 and "security token is out of date" in sent.text and "Sign in again" not in sent.text
    assert unescape(re.search(r'<textarea id="sent-1"[^>]*>(.*?)</textarea>', sent.text, re.DOTALL).group(1)) == NOTE
    assert _notes(db_url) == 0


def test_scripts_still_get_a_short_json_refusal(db_url):
    _entity(db_url)
    client = signed_in_client(db_url, "rita", "researcher")
    refused = client.post("/entities/rosa/notes", data={"csrf_token": "wrong", "text": NOTE},
                          headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.json() == {
        "detail": "the form's security token is missing or out of date: reload the page and try again"}


def test_a_stale_sign_in_form_never_shows_the_password_back(db_url):
    """Review of round 10: a sign-in form sent with a stale token came back with the password in plain text."""
    from fastapi.testclient import TestClient
    from web_helpers import make_user

    from workbench.web.app import create_app

    make_user(db_url, "rita", "researcher")
    client = TestClient(create_app())
    client.get("/login")
    refused = client.post("/login", data={"csrf_token": "stale", "username": "rita", "password": PASSWORD,
                                          "next": "/entities"})
    assert refused.status_code == 403 and PASSWORD not in refused.text and "rita" in refused.text
