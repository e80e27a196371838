"""In Debian's Chromium: a researcher submits the FICTIONAL demo dossier, a reviewer approves it from the queue."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from workbench.sources.demo import load_demo
from workbench.store import db as store_db
from workbench.store.permissions import SYSTEM
from workbench.store.users import add_user

PASSWORD = "browser test password"
DEMO_DOSSIER = "demo-dossier-fictional-official"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(db_url):
    uvicorn = pytest.importorskip("uvicorn")
    from workbench.web.app import create_app

    with store_db.session_scope(db_url) as s:
        load_demo(s, SYSTEM, users=False)
        add_user(s, SYSTEM, "rosa", "researcher", PASSWORD)
        add_user(s, SYSTEM, "ruben", "reviewer", PASSWORD)
    port = _free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _sign_in(browser, base: str, username: str):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return context, page


def test_researcher_submits_and_reviewer_approves_the_fictional_demo_dossier(server, browser):
    context, page = _sign_in(browser, server, "rosa")
    page.click("nav >> text=Dossiers")
    page.click("text=FICTIONAL demo")
    page.wait_for_url(f"{server}/dossiers/{DEMO_DOSSIER}")
    assert page.inner_text("#dossier-state") == "draft"
    assert "complete" in page.inner_text("#h-complete")
    assert "incomplete" not in page.inner_text("#h-complete")
    assert "Candidate package - not an official designation" in page.inner_text("main")
    page.fill("#move-comment", "Ready for review.")
    page.click("button[value=submit]")
    page.wait_for_selector("#dossier-state:text('submitted')")
    assert page.locator("button[value=approve]").count() == 0  # a researcher cannot review
    context.close()

    context, page = _sign_in(browser, server, "ruben")
    page.goto(f"{server}/dossiers/review")
    page.click(f"a.button[href='/dossiers/{DEMO_DOSSIER}#workflow']")
    page.wait_for_url(f"{server}/dossiers/{DEMO_DOSSIER}*")
    page.fill("#move-comment", "Meets the criteria of 1904(b)(2).")
    page.click("button[value=approve]")
    page.wait_for_selector("#dossier-state:text('approved')")
    snapshot_hash = page.inner_text("#snapshot-hash")
    assert len(snapshot_hash) == 64
    history = page.inner_text("#history")
    assert "rosa" in history and "ruben" in history and "Meets the criteria" in history
    # The releasable PDF export link answers with a PDF.
    response = page.request.get(f"{server}/dossiers/{DEMO_DOSSIER}/export?format=pdf&releasable=1")
    assert response.ok and response.body().startswith(b"%PDF-")
    context.close()

    with store_db.session_scope() as s:
        from workbench.dossiers.service import get_dossier

        dossier = get_dossier(s, DEMO_DOSSIER)
        assert dossier.state == "approved" and dossier.snapshot_hash == snapshot_hash
        assert [(e.event, e.user) for e in dossier.events][-2:] == [("submitted", "rosa"), ("approved", "ruben")]
