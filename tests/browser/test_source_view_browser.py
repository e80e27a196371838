"""QA round 13: a citation's page opens the stored PDF at that page in Chromium's viewer, under the policy
the workbench serves stored files inline with (the viewer must not be blocked by it)."""

from __future__ import annotations

import pytest
from browser.conftest import signed_in

from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.permissions import SYSTEM

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


def test_a_cited_page_opens_the_pdf_in_the_browsers_viewer(page, server, tmp_path):
    weasyprint = pytest.importorskip("weasyprint")
    pdf = tmp_path / "acta_FICTIONAL.pdf"
    weasyprint.HTML(string="<h1>FICTIONAL acta, page one</h1><p style='page-break-after: always'></p>"
                           "<h1>FICTIONAL acta, page two</h1>").write_pdf(pdf)
    signed_in(page, server)
    page.goto("/sources/new")
    page.get_by_label("Title").fill("Acta de cabildo (FICTIONAL)")
    page.locator("input[type=file]").set_input_files(str(pdf))
    page.get_by_role("button", name="Add source").click()
    expect(page.get_by_role("link", name="Open in the browser")).to_be_visible()
    source_id = page.url.rsplit("/", 1)[-1]
    with store_db.session_scope(server["url"]) as s:
        entity = svc.create_entity(s, SYSTEM, "Person", {"name": "FICTIONAL Regidora Ejemplo"}, entity_id="acta")
        svc.cite(s, SYSTEM, source_id, entity_id=entity.obj.id, page="2")
    store_db.dispose_all()
    page.goto("/entities/acta")
    # Chromium's PDF viewer runs in a frame of its own extension: it starts (the file is neither blocked by the
    # policy nor downloaded), at the cited page.
    with page.expect_event("framenavigated", predicate=lambda f: f.url.startswith("chrome-extension://")):
        page.get_by_role("link", name="p. 2").first.click()
    assert page.url.endswith(f"/sources/{source_id}/view#page=2")
