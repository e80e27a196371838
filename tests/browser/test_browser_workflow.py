"""The analyst's day in a real browser: sign in, enter and link, cite, search, network, screen, sign out.

Every wait is on a page condition (Playwright's expect / wait_for), never a sleep.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

ROLL = Path(__file__).resolve().parents[2] / "fixtures" / "mappings" / "county_property_roll_FICTIONAL.csv"
OFFICIAL = "FICTIONAL PERSON Uno Ejemplo"  # the name on the FICTIONAL roll's first row
COMPANY = "Transportes Muestra del Valle SA de CV (FICTIONAL)"


def entity_id(page) -> str:
    return re.search(r"/entities/([^/?#]+)", page.url).group(1)


def test_full_workflow(page, server):
    # sign in
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(server["username"])
    page.get_by_label("Password").fill(server["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Workbench")).to_be_visible()
    expect(page.locator(".who .user")).to_contain_text("rita")

    # create a person and a company
    page.goto("/entities/new?kind=Person")
    page.locator("#f-name-0").fill(OFFICIAL)
    page.locator("#f-topics-0").select_option("role.official")
    page.get_by_role("button", name="Create Person").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(OFFICIAL)
    person_id = entity_id(page)

    page.goto("/entities/new?kind=Company")
    page.locator("#f-name-0").fill(COMPANY)
    page.locator("#f-country-0").fill("mx")
    page.get_by_role("button", name="Create Company").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Transportes Muestra")

    # link them with an ownership, picking the company from the autocomplete
    page.goto(f"/entities/{person_id}")
    page.get_by_label("Add a link").select_option("Ownership:out")
    page.get_by_role("button", name="Add link").click()
    page.locator("#other-name").press_sequentially("Transportes Muest", delay=20)
    option = page.locator("#other-suggestions li", has_text="Transportes Muestra")
    option.first.wait_for()
    page.locator("#other-name").press("ArrowDown")
    page.locator("#other-name").press("Enter")
    expect(page.locator("#other-id")).not_to_have_value("")
    page.locator("#f-percentage-0").fill("60")
    page.locator("#f-startDate-0").fill("2019-03")
    page.get_by_role("button", name="Create link").click()
    links = page.locator("table.links")
    expect(links).to_contain_text("Transportes Muestra")
    expect(links).to_contain_text("2019-03")

    # cite a source for the ownership
    page.goto(f"/sources/new?back=/entities/{person_id}%23cite")
    page.get_by_label("URL").fill("https://example.org/fictional/registry/42")
    page.get_by_label("Title").fill("FICTIONAL registry extract 42")
    page.get_by_label("Type").select_option("registry")
    page.get_by_role("button", name="Add source").click()
    expect(page).to_have_url(re.compile(rf"/entities/{person_id}"))
    link_fact = page.locator("#cite-target option", has_text="Link: owns").get_attribute("value")
    page.get_by_label("Fact", exact=True).select_option(link_fact)
    page.get_by_label("Source", exact=True).select_option(label="FICTIONAL registry extract 42")
    page.get_by_label("Excerpt").fill("socio mayoritario (60%)")
    page.get_by_label("Page").fill("3")
    page.get_by_role("button", name="Cite", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("Source cited")
    expect(links.locator("tr", has_text="Transportes Muestra")).to_contain_text("FICTIONAL registry extract 42")

    # search with a misspelt name
    page.goto("/search")
    page.get_by_label("Name").fill("Fictonal Persn Uno Ejempl")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.results")).to_contain_text(OFFICIAL)
    page.goto("/search?q=Transportes+Muestr+del+Vale")
    expect(page.locator("table.results")).to_contain_text("Transportes Muestra")

    # the network view shows the edge
    page.goto(f"/entities/{person_id}")
    page.get_by_role("link", name="Network").click()
    edge_rows = page.locator("#edge-table tbody tr")
    expect(edge_rows.filter(has_text="Transportes Muestra")).to_have_count(1)
    assert page.evaluate("window.workbenchGraph.edges().length") >= 1
    page.locator("#kind-filter input[value=Ownership]").uncheck()
    expect(edge_rows.filter(has_text="Transportes Muestra")).to_have_count(0)

    # screen the FICTIONAL property roll and confirm the hit on the official
    if importlib.util.find_spec("workbench.matching.jobs") and importlib.util.find_spec("workbench.matching.review"):
        page.goto("/screening")
        page.get_by_label("Mapping", exact=True).select_option("county_property_roll.yml")
        page.get_by_label(re.compile(r"^File")).set_input_files(str(ROLL))
        page.get_by_role("button", name="Upload and screen").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("county_property_roll_FICTIONAL.csv")
        row = page.locator("table.review tr", has_text=OFFICIAL).filter(
            has=page.locator(f'a[href="/entities/{person_id}"]'))
        expect(row.first).to_be_visible(timeout=60000)  # the page reloads itself when the job is done
        expect(page.locator("#job-status")).to_have_text("done")
        # The sample mapping's fixed FICTIONAL values are announced above the Confirm buttons.
        expect(page.locator("#fixed-values")).to_contain_text("FICTIONAL")
        row.first.get_by_role("button", name="Confirm").click()
        expect(page.locator(".flash.info")).to_contain_text("Confirmed")
        # The page opens at the result, beside the hit to go on with, and focus is there: a keyboard or
        # screen-reader user hears the result and goes on from it, not from the top of a long queue.
        expect(page.locator("#result .flash.info")).to_contain_text("Confirmed")
        expect(page.locator("#result")).to_be_focused()
        page.goto(f"/entities/{person_id}")
        expect(page.locator("table.links")).to_contain_text("FICT-001-0001")
        expect(page.locator("table.links")).to_contain_text("county_property_roll_FICTIONAL.csv")
    else:
        pytest.fail("workbench.matching.jobs / review are missing: the screening part cannot run")

    # sign out
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/entities")
    expect(page).to_have_url(re.compile(r"/login"))
