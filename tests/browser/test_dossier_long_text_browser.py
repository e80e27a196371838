"""In Debian's Chromium: a dossier holding long unbroken text (a pasted 20,000-character statement, a
330-character URL as a target's value) keeps the page as wide as the window."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import signed_in

pytestmark = pytest.mark.browser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared dossier scenario


def test_long_unbroken_text_does_not_widen_the_dossier_page(page, server):
    from test_dossier_scenario import build_scenario

    from workbench.dossiers import service
    from workbench.store import db as store_db
    from workbench.store.entities import update_entity
    from workbench.store.permissions import Actor

    rita = Actor(server["username"], "researcher")
    long_url = "https://example.org/archive/" + "a" * 302
    with store_db.session_scope(server["url"]) as s:
        sc = build_scenario(s, rita)
        target = service.live_target(s, sc.target)
        update_entity(s, rita, sc.target, {"sourceUrl": [long_url]},
                      expected_version=target.version, replace=False)
        dossier = service.create_dossier(s, rita, sc.target, "kingpin-b2")
        service.add_exhibit(s, rita, dossier.id, element="foreign_person", statement_type="fact",
                            statement="x" * 20_000, source_id=sc.official)
        dossier_id = dossier.id
    signed_in(page, server)
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"/dossiers/{dossier_id}")
    page.wait_for_selector("#exhibit-1")
    assert long_url in page.content()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths[0]}px of content in {widths[1]}px"
