"""QA 11 accessibility findings 4-9 and 12, checked in Debian's Chromium as a user (or their tools) meets them:

- 4: "Sign out" is legible on the dark header (1.4.3);
- 5: at 320 CSS px (400 % zoom) the header wraps and no page scrolls sideways (1.4.10);
- 6: the name autocomplete tells assistive technology which option the arrow keys picked
  (aria-activedescendant, aria-selected) and shows it with enough contrast (4.1.2, 1.4.11);
- 7: a "Remove citation" button's accessible name starts with its visible label (2.5.3);
- 8: the green badges reach 4.5:1 (1.4.3);
- 9: the focus outline reaches 3:1 against what surrounds it (1.4.11);
- 12: the API docs page (Swagger UI) says its language (3.1.1).

Contrast is WCAG's ratio of relative luminances, computed here from the browser's computed colours.
FICTIONAL names throughout. Fixtures are the browser tests' own (tests/browser/conftest.py).
"""

from __future__ import annotations

import re

import pytest
from browser.conftest import browser, page, server, signed_in  # noqa: F401  (fixtures: Chromium, a live server, a page)

from workbench.dossiers import service as dossiers
from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.permissions import SYSTEM

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

PERSON = "a11y-person"
SOURCE_TITLE = "Gaceta Oficial de Prueba 7 (FICTIONAL)"

# The first opaque background colour at or above an element: what its text or outline is seen against.
BACKGROUND = """el => {
  for (let n = el; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (c && c !== 'transparent' && !/^rgba\\(.*,\\s*0\\)$/.test(c)) return c;
  }
  return 'rgb(255, 255, 255)';
}"""


def _rgb(css: str) -> tuple[int, int, int]:
    if css.startswith("#"):
        return tuple(int(css[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b = (float(x) for x in re.findall(r"[\d.]+", css)[:3])
    return round(r), round(g), round(b)


def _luminance(css: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = _rgb(css)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture(scope="module")
def data(server):  # noqa: F811
    """A person with a cited name, two companies to find in the autocomplete, and a dossier with a fact exhibit."""
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Lucía Contraste Ficticia (FICTIONAL)"}, entity_id=PERSON)
        svc.create_entity(s, SYSTEM, "Company", {"name": "Accesible Transportes Uno SA (FICTIONAL)"},
                          entity_id="a11y-company-1")
        svc.create_entity(s, SYSTEM, "Company", {"name": "Accesible Transportes Dos SA (FICTIONAL)"},
                          entity_id="a11y-company-2")
        source = svc.create_source(s, SYSTEM, title=SOURCE_TITLE, url="https://example.org/gaceta/7",
                                   source_type="registry")
        svc.cite(s, SYSTEM, source.id, entity_id=PERSON, excerpt="Lucía Contraste, de nacionalidad mexicana")
        dossier = dossiers.create_dossier(s, SYSTEM, PERSON, "kingpin-b2", fictional=True)
        dossiers.add_exhibit(s, SYSTEM, dossier.id, element="foreign_person", statement_type="fact",
                             statement="Mexican national.", source_id=source.id)
        dossier_id = dossier.id
    store_db.dispose_all()
    return {"dossier": dossier_id}


def test_sign_out_is_legible_on_the_header(page, server, data):  # noqa: F811
    """Finding 4: 'Sign out' was #2f6fb0 on the #1f3a5f header (2.19:1)."""
    assert round(contrast("#ffffff", "#000000"), 1) == 21.0  # the helper gives WCAG's known ratios
    assert round(contrast("rgb(47, 111, 176)", "#1f3a5f"), 2) == 2.2
    signed_in(page, server)
    page.goto(f"/entities/{PERSON}")
    button = page.get_by_role("button", name="Sign out")
    expect(button).to_be_visible()
    colour = button.evaluate("el => getComputedStyle(el).color")
    ratio = contrast(colour, button.evaluate(BACKGROUND))
    assert ratio >= 4.5, (colour, ratio)


def test_the_focus_outline_stands_out_on_white_on_the_page_and_on_the_header(page, server, data):  # noqa: F811
    """Finding 9: the amber outline #f0a500 was 2.08:1 on white and 1.94:1 on the page background."""
    signed_in(page, server)
    page.goto(f"/entities/{PERSON}")
    page_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    checked = []
    for target in (page.locator("main a").first, page.locator("main button").first,
                   page.get_by_role("button", name="Sign out")):
        target.focus()
        expect(target).to_be_focused()
        style = target.evaluate("el => { const s = getComputedStyle(el);"
                                " return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }")
        outline_style, width, colour = style
        assert outline_style != "none" and width >= 2, style
        surrounding = target.evaluate(f"el => ({BACKGROUND})(el.parentElement)")
        in_header = target.evaluate("el => !!el.closest('header')")
        backgrounds = [surrounding] if in_header else [surrounding, "#ffffff", page_background]
        for background in backgrounds:
            ratio = contrast(colour, background)
            assert ratio >= 3, (target, colour, background, ratio)
        checked.append(colour)
    assert len(checked) == 3


@pytest.mark.parametrize("path", ["/", f"/entities/{PERSON}", "/search?q=Contraste", "/entities", "/sources", "/screening",
                                  "/dossiers", "dossier"])
def test_at_320_px_the_header_wraps_and_the_page_does_not_scroll_sideways(page, server, data, path):  # noqa: F811
    """Finding 5 (WCAG 1.4.10): at 400 % zoom Screening, Dossiers and Sign out sat off screen."""
    signed_in(page, server)
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        page.goto(f"/dossiers/{data['dossier']}" if path == "dossier" else path)
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert scroll <= 320 and scroll <= client, (path, scroll, client)
        nav = page.get_by_role("navigation", name="Main")
        for control in (nav.get_by_role("link", name="Dossiers", exact=True), nav.get_by_role("link", name="Screening", exact=True),
                        page.get_by_role("button", name="Sign out")):
            box = control.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, (path, box)
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


def test_the_autocomplete_announces_the_option_the_arrow_keys_pick(page, server, data):  # noqa: F811
    """Finding 6: aria-activedescendant was never set, and the highlight was 1.15:1 against the list."""
    signed_in(page, server)
    page.goto(f"/links/new?entity={PERSON}&kind=Ownership%3Aout")
    box = page.locator("#other-name")
    box.press_sequentially("Accesible Transport", delay=20)
    options = page.locator("#other-suggestions [role=option]")
    expect(options).to_have_count(2)
    expect(box).to_have_attribute("aria-expanded", "true")
    assert box.get_attribute("aria-activedescendant") is None  # nothing picked yet

    listbox = page.locator("#other-suggestions")
    for step in (0, 1):
        box.press("ArrowDown")
        option_id = options.nth(step).get_attribute("id")
        assert option_id, "every option has an id"
        expect(box).to_have_attribute("aria-activedescendant", option_id)
        chosen = page.locator(f"[id='{option_id}']")
        expect(chosen).to_have_count(1)
        expect(chosen).to_have_attribute("role", "option")
        expect(chosen).to_have_attribute("aria-selected", "true")
        expect(options.nth(1 - step)).to_have_attribute("aria-selected", "false")
        # the highlight shows: 3:1 against the list around it, and its text 4.5:1 on it
        highlight = chosen.evaluate(BACKGROUND)
        list_background = listbox.evaluate(BACKGROUND)
        assert contrast(highlight, list_background) >= 3, (highlight, list_background)
        assert contrast(chosen.evaluate("el => getComputedStyle(el).color"), highlight) >= 4.5

    box.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(0).get_attribute("id"))

    # the listbox has an accessible name (the field's label)
    labelled_by = listbox.get_attribute("aria-labelledby")
    assert labelled_by or listbox.get_attribute("aria-label")
    if labelled_by:
        assert page.locator(f"#{labelled_by}").inner_text().strip()

    # closing the list clears it: no reference to an option that is no longer shown
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    assert box.get_attribute("aria-activedescendant") is None

    # typing again shows a new list with nothing picked; ArrowDown and Enter still choose
    box.press_sequentially(" Dos", delay=20)
    expect(listbox).to_be_visible()
    assert box.get_attribute("aria-activedescendant") is None
    expect(options.first).to_have_attribute("aria-selected", "false")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    picked = options.first.get_attribute("data-id")
    box.press("Enter")
    expect(page.locator("#other-id")).to_have_value(picked)
    assert box.get_attribute("aria-activedescendant") is None


def test_a_remove_citation_buttons_name_starts_with_its_visible_label(page, server, data):  # noqa: F811
    """Finding 7 (WCAG 2.5.3): the buttons read 'Remove citation' but were named 'Remove the citation of …'."""
    signed_in(page, server)
    for path in (f"/entities/{PERSON}", None):
        if path is None:  # the source's own page lists the citation too
            page.goto(f"/entities/{PERSON}")
            path = page.get_by_role("link", name=SOURCE_TITLE).first.get_attribute("href")
        page.goto(path)
        buttons = page.locator("button", has_text="Remove citation")
        assert buttons.count() >= 1, path
        for i in range(buttons.count()):
            button = buttons.nth(i)
            visible = " ".join(button.inner_text().split())
            name = button.get_attribute("aria-label")
            assert visible == "Remove citation"
            assert name.startswith(visible), (path, name)
            assert SOURCE_TITLE in name  # still says which citation
        # a speech-input user's "click Remove citation" finds it by that name
        expect(page.get_by_role("button", name=re.compile(r"^Remove citation\b")).first).to_be_visible()


def test_the_green_badges_reach_4_5_to_1(page, server, data):  # noqa: F811
    """Finding 8: 'not sanctioned' was 4.39:1 and 'Established fact' (and 'complete') 4.17:1."""
    signed_in(page, server)
    # ("complete", on a complete dossier's Completeness heading, is the same green badge as "Established fact")
    for path, text in ((f"/entities/{PERSON}", "not sanctioned"), (f"/dossiers/{data['dossier']}", "Established fact")):
        page.goto(path)
        for badge in [page.locator(".badge", has_text=text).first]:
            expect(badge).to_be_visible()
            colour = badge.evaluate("el => getComputedStyle(el).color")
            background = badge.evaluate(BACKGROUND)
            ratio = contrast(colour, background)
            assert ratio >= 4.5, (path, badge.inner_text(), colour, background, ratio)


def test_the_api_docs_page_says_its_language(page, server):  # noqa: F811
    """Finding 12: /docs (Swagger UI) began with a bare <html>."""
    signed_in(page, server)
    page.goto("/docs")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title(re.compile("Workbench API"))
