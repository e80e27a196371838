"""QA round 5 in Debian's Chromium: pages that scrolled sideways at a 1280 px window (a <select>
as wide as its longest option), and the network page's console (a CSP violation, a Cytoscape warning).

FICTIONAL names throughout. Fixtures are the browser tests' own (tests/browser/conftest.py).
"""

from __future__ import annotations

import pytest
from browser.conftest import browser, page, server, signed_in  # noqa: F401  (fixtures: Chromium, a live server, a page)

from workbench.dossiers import service as dossiers
from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.permissions import SYSTEM

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

LONG_TITLE = ("Registro Público de la Propiedad y del Comercio del Municipio Ficticio de San Isidro (FICTIONAL), "
              "folio real electrónico, antecedentes registrales completos, gravámenes, anotaciones marginales y "
              "certificado de libertad o existencia de gravámenes expedido a solicitud de la parte interesada, año 2023.")[:300]
LONG_EXCERPT = "Consta en el folio que la sociedad adquirió el inmueble mediante escritura pública " * 5


def _widths(page) -> tuple[int, int]:  # noqa: F811
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def test_a_long_source_title_does_not_make_the_entity_page_scroll_sideways(page, server):  # noqa: F811
    assert len(LONG_TITLE) == 300
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Ana Ancha Ficticia (FICTIONAL)"}, entity_id="wide-person")
        source = svc.create_source(s, SYSTEM, title=LONG_TITLE, url="https://example.org/folio", source_type="registry")
        svc.cite(s, SYSTEM, source.id, entity_id="wide-person", excerpt=LONG_EXCERPT)
        dossier = dossiers.create_dossier(s, SYSTEM, "wide-person", "kingpin-b2", fictional=True)
        dossier_id = dossier.id
    store_db.dispose_all()
    signed_in(page, server)
    page.set_viewport_size({"width": 1280, "height": 800})
    for path in ("/entities/wide-person", f"/dossiers/{dossier_id}"):
        page.goto(path)
        scroll, client = _widths(page)
        assert scroll <= client, (path, scroll, client)
    # the select still names the source chosen: its text is kept whole (the box only truncates it)
    page.goto("/entities/wide-person")
    page.locator("#cite-source").select_option(index=1)  # the first option is the empty 'choose the source'
    chosen = page.evaluate("(s => s.options[s.selectedIndex].text)(document.getElementById('cite-source'))")
    assert chosen.startswith(LONG_TITLE)
    box = page.locator("#cite-source").bounding_box()
    assert box["x"] + box["width"] <= 1280


def test_the_network_page_logs_no_csp_violation_and_no_warning(page, server):  # noqa: F811
    """Cytoscape injected a <style> the CSP (style-src 'self') refused, and warned about wheelSensitivity."""
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Consola Ficticia (FICTIONAL)"}, entity_id="csp-owner")
        svc.create_entity(s, SYSTEM, "Company", {"name": "Consola Ficticia SA (FICTIONAL)"}, entity_id="csp-company")
        svc.create_link(s, SYSTEM, "Ownership", "csp-owner", "csp-company", {"percentage": "60"})
    store_db.dispose_all()
    signed_in(page, server)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    violations: list[str] = []
    page.on("pageerror", lambda e: violations.append(str(e)))
    page.goto("/entities/csp-owner/network")
    expect(page.locator("#graph-status")).to_contain_text("2 entities, 1 links shown")
    assert page.evaluate("window.workbenchGraph.nodes().length") == 2
    noisy = [m for m in messages if m.split(":", 1)[0] in ("error", "warning")]
    assert noisy == [], noisy
    assert violations == []
    # Cytoscape found its stylesheet element (a same-origin <link>) and injected no <style> of its own
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    sheet = page.evaluate("document.getElementById('__________cytoscape_stylesheet').tagName")
    assert sheet == "LINK"
    position = page.evaluate("getComputedStyle(document.getElementById('cy')).position")
    assert position == "relative"
