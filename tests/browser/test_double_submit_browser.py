"""A form sent once per click: a second click while the first post is on its way sends nothing.

QA round 10: a double-clicked 'Add note' (on a slow connection) made two notes; replayed clicks made two
comments and two dossiers. A second submit of a form already sent is held back by the page.
"""

from __future__ import annotations

import pytest
from browser.conftest import signed_in

from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.permissions import SYSTEM

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


def test_a_second_click_while_the_note_is_on_its_way_sends_nothing(page, server):
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez"}, entity_id="dbl")
    store_db.dispose_all()
    signed_in(page, server)
    page.goto("/entities/dbl")
    # Two submits of one form, as two clicks give them before the first post is answered (a synthetic
    # submit event sends nothing itself: what counts is whether the page lets the second one through).
    outcome = page.evaluate("""() => { const form = document.querySelector("form[action='/entities/dbl/notes']");
        const first = new Event("submit", {cancelable: true}), second = new Event("submit", {cancelable: true});
        form.dispatchEvent(first); form.dispatchEvent(second);
        return [first.defaultPrevented, second.defaultPrevented, form.getAttribute("aria-busy")]; }""")
    assert outcome == [False, True, "true"]  # the first goes, the second is held back, and the form says it is busy

    page.goto("/entities/dbl")  # a page opened again posts as usual, once per click
    page.get_by_label("New note").fill("Seen at the Hermosillo registry, folio 12.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("article.note")).to_have_count(1)
    page.get_by_label("New note").fill("A second, separate note.")  # the new page posts again
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("article.note")).to_have_count(2)
