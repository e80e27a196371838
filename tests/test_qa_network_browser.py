"""QA of the network page in Debian's Chromium: what the status line says about a neighbourhood too
large to draw whole, and about an entity that is itself designated (network.js writes both).

FICTIONAL names throughout. Fixtures are the browser tests' own (tests/browser/conftest.py).
"""

from __future__ import annotations

import pytest
from browser.conftest import browser, page, server, signed_in  # noqa: F401  (fixtures: Chromium, a live server, a page)

from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.permissions import SYSTEM

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

CROWD = 505  # more neighbours than the graph JSON sends (ego_network's max_nodes is 500)


def test_a_cut_off_neighbourhood_says_it_is_cut_off(page, server):  # noqa: F811
    """The JSON said truncated: true, but the page said 'N entities shown' as if that were all of it."""
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Hub Persona Ficticia (FICTIONAL)"}, entity_id="qa-hub")
        for n in range(CROWD):
            svc.create_entity(s, SYSTEM, "Person", {"name": f"Contacto Ficticio {n} (FICTIONAL)"},
                              entity_id=f"qa-contact-{n}")
            svc.create_link(s, SYSTEM, "Associate", "qa-hub", f"qa-contact-{n}", {})
    store_db.dispose_all()
    signed_in(page, server)
    page.goto("/entities/qa-hub/network")
    status = page.locator("#graph-status")
    expect(status).to_contain_text("links shown", timeout=60000)
    expect(status).to_contain_text("Only part of a larger neighbourhood is drawn")


def test_path_button_on_a_designated_entity_says_it_is_designated(page, server):  # noqa: F811
    """On a designated party the button reported 'Path of 0 link(s) to a designated party highlighted.'"""
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Organization", {"name": "Cartel Ficticio del Norte (FICTIONAL)"},
                          entity_id="qa-cartel")
        svc.create_entity(s, SYSTEM, "Sanction", {"name": "SDN Cartel Ficticio", "authority": "OFAC",
                                                   "program": "SDNTK", "status": "active"}, entity_id="qa-sdn")
        svc.create_link(s, SYSTEM, "SanctionOf", "qa-sdn", "qa-cartel", {})
    store_db.dispose_all()
    signed_in(page, server)
    page.goto("/entities/qa-cartel/network")
    expect(page.locator("#graph-status")).to_contain_text("links shown")
    page.get_by_role("button", name="Path to nearest designated party").click()
    expect(page.locator("#graph-status")).to_have_text("Cartel Ficticio del Norte (FICTIONAL) is itself a designated party.")
