"""The network page in Debian's Chromium: what the path button lists reads in the schema's words.

The path steps are drawn by network.js, so only a browser shows what a researcher reads there. The
Chromium and live-server fixtures are the browser tests' own (tests/browser/conftest.py).
"""

from __future__ import annotations

import re

import pytest
from browser.conftest import browser, page, server  # noqa: F401  (fixtures: Chromium, a live server, a page)

from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.permissions import SYSTEM

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


def test_path_to_the_designated_party_names_links_by_their_labels(page, server):  # noqa: F811
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez"}, entity_id="net-owner")
        svc.create_entity(s, SYSTEM, "Company", {"name": "Transportes del Valle SA"}, entity_id="net-company")
        svc.create_entity(s, SYSTEM, "Sanction", {"name": "SDN Transportes", "authority": "OFAC",
                                                   "program": "SDNTK", "status": "active"}, entity_id="net-sdn")
        svc.create_link(s, SYSTEM, "Ownership", "net-owner", "net-company", {"percentage": "60"})
        svc.create_link(s, SYSTEM, "SanctionOf", "net-sdn", "net-company", {})
    store_db.dispose_all()

    page.goto("/login")
    page.get_by_label("User name").fill(server["username"])
    page.get_by_label("Password").fill(server["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Workbench")).to_be_visible()

    page.goto("/entities/net-owner/network")
    expect(page.locator("#graph-status")).to_contain_text("links shown")
    page.get_by_role("button", name="Path to nearest designated party").click()
    step = page.locator("#path-steps li")
    expect(step).to_have_count(1)
    # "owns" is the Ownership link's label in schema/links.yml; the kind's name is not what a researcher reads
    expect(step).to_have_text(re.compile(r"^Rosa Elena Mendez — owns — Transportes del Valle SA \(no source cited\)$"))
