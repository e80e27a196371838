"""The network page in Debian's Chromium: what the path button lists reads in the schema's words.

The path steps are drawn by network.js, so only a browser shows what a researcher reads there. The
Chromium and live-server fixtures are the browser tests' own (tests/browser/conftest.py).
"""

from __future__ import annotations

import re

import pytest
from browser.conftest import browser, page, server, signed_in  # noqa: F401  (fixtures: Chromium, a live server, a page)

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


def test_the_network_can_be_explored_from_the_keyboard_and_filters_hide_what_they_cut_off(page, server):  # noqa: F811
    """Nodes cannot take the keyboard's focus: the entity list beside the diagram links to each page and
    expands each node. Unchecking a link kind used to leave its entities drawn, unconnected, and counted."""
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez"}, entity_id="kb-owner")
        svc.create_entity(s, SYSTEM, "Company", {"name": "Transportes del Valle SA"}, entity_id="kb-company")
        svc.create_entity(s, SYSTEM, "Person", {"name": "Mario Ruiz Soto"}, entity_id="kb-director")
        svc.create_link(s, SYSTEM, "Ownership", "kb-owner", "kb-company", {"percentage": "60"})
        svc.create_link(s, SYSTEM, "Directorship", "kb-director", "kb-company", {})
    store_db.dispose_all()

    page.goto("/entities/kb-owner/network")
    if "/login" in page.url:  # the module's page is signed in by whichever test ran first
        page.get_by_label("User name").fill(server["username"])
        page.get_by_label("Password").fill(server["password"])
        page.get_by_role("button", name="Sign in").click()
        page.goto("/entities/kb-owner/network")
    status = page.locator("#graph-status")
    expect(status).to_contain_text("2 entities, 1 links shown")

    page.get_by_role("checkbox", name=re.compile(r"^owns")).uncheck()
    expect(status).to_contain_text("1 entities, 0 links shown")
    expect(page.locator("#node-list li")).to_have_count(1)
    page.get_by_role("checkbox", name=re.compile(r"^owns")).check()
    expect(status).to_contain_text("2 entities, 1 links shown")

    expand = page.get_by_role("button", name="Expand the neighbours of Transportes del Valle SA")
    expand.focus()
    page.keyboard.press("Enter")
    expect(status).to_contain_text("3 entities, 2 links shown")
    expect(page.locator("#node-list")).to_contain_text("Mario Ruiz Soto")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "/entities/kb-company"
    expect(page.get_by_role("button", name="Expand the neighbours of Transportes del Valle SA")).to_have_count(0)
    # The director is linked to the company, not to the owner: hiding 'owns' cuts both off.
    page.get_by_role("checkbox", name=re.compile(r"^owns")).uncheck()
    expect(status).to_contain_text("1 entities, 0 links shown")
    expect(page.locator("#node-list")).not_to_contain_text("Mario Ruiz Soto")


def test_without_javascript_the_network_page_says_where_the_links_are(server, browser):  # noqa: F811
    context = browser.new_context(base_url=server["base"], java_script_enabled=False)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("User name").fill(server["username"])
    page.get_by_label("Password").fill(server["password"])
    page.get_by_role("button", name="Sign in").click()
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Ana Sin Script"}, entity_id="nojs")
    store_db.dispose_all()
    page.goto("/entities/nojs/network")
    expect(page.get_by_text("The network diagram needs JavaScript")).to_be_visible()
    assert "Loading" not in page.locator("#graph-status").inner_text()
    context.close()
    page = browser.new_context(base_url=server["base"]).new_page()  # with scripts, the notice goes
    page.goto("/login")
    page.get_by_label("User name").fill(server["username"])
    page.get_by_label("Password").fill(server["password"])
    page.get_by_role("button", name="Sign in").click()
    page.goto("/entities/nojs/network")
    expect(page.locator("#graph-status")).to_contain_text("1 entities")
    expect(page.get_by_text("The network diagram needs JavaScript")).to_have_count(0)
    page.context.close()


_DRAWN_NAMES = """() => {
  const cy = window.workbenchGraph, zoom = cy.zoom();
  const drawn = cy.nodes().filter(n => parseFloat(n.style('font-size')) * zoom >= parseFloat(n.style('min-zoomed-font-size')));
  const boxes = drawn.map(n => [n.data('label'), n.boundingBox({includeNodes: false, includeEdges: false, includeLabels: true})]);
  const overlapping = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i][1], b = boxes[j][1];
    if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) overlapping.push([boxes[i][0], boxes[j][0]]);
  }
  return {drawn: boxes.map(b => b[0]), overlapping: overlapping};
}"""


def test_a_hub_with_many_links_stays_readable_and_names_what_the_pointer_rests_on(page, server):  # noqa: F811
    """A vessel operator with 130 linked vessels (a real SDN entry) drew 130 names on top of one another.
    A crowded neighbourhood is drawn in rings around the entity, with only names that do not collide,
    and pointing at a node names it, and its links, at a readable size."""
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Company", {"name": "Naviera Central del Golfo SA"}, entity_id="hub")
        for i in range(40):
            svc.create_entity(s, SYSTEM, "Vessel", {"name": f"Buque Golfo {i:02d}"}, entity_id=f"hub-v{i}")
            svc.create_link(s, SYSTEM, "Ownership", "hub", f"hub-v{i}", {})
    store_db.dispose_all()

    signed_in(page, server)
    page.goto("/entities/hub/network")
    status = page.locator("#graph-status")
    expect(status).to_contain_text("41 entities, 40 links shown")
    expect(status).to_contain_text("Names appear as you zoom in")
    expect(page.locator("#node-list li")).to_have_count(41)  # the list still names every one
    names = page.evaluate(_DRAWN_NAMES)
    assert names["overlapping"] == [] and "Naviera Central del Golfo SA" in names["drawn"]

    leaf = page.evaluate("""() => { const cy = window.workbenchGraph, n = cy.getElementById('hub-v7'),
      box = cy.container().getBoundingClientRect(), p = n.renderedPosition(); return [box.left + p.x, box.top + p.y]; }""")
    page.mouse.move(*leaf)
    on_screen = page.evaluate("""() => { const cy = window.workbenchGraph, n = cy.getElementById('hub-v7');
      return [n.hasClass('near'), parseFloat(n.style('font-size')) * cy.zoom(), n.connectedEdges()[0].style('label')]; }""")
    assert on_screen[0] and on_screen[1] >= 11.9 and on_screen[2] == "owns"

    page.mouse.wheel(0, -1200)  # zoomed in, the ring's names are drawn, still apart
    names = page.evaluate(_DRAWN_NAMES)
    assert any(n.startswith("Buque Golfo") for n in names["drawn"]) and names["overlapping"] == []
