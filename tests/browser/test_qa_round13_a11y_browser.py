"""QA round 13, accessibility audit (WCAG 2.2 AA), in Debian's Chromium: what focus, scrolling and the pages'
scripts do. The markup's side is in tests/test_qa_round13_a11y.py.

M1. A refused form (password, Add a user, Cite, Add exhibit) puts keyboard focus on its summary, in view.
M2. Tabbing upward through a long table never leaves the focused control under its sticky header.
M3. The network page does not scroll sideways once the window narrows (200-400 % zoom): the diagram follows.
M4. The new-entity duplicate warning: "it's different" keeps focus on the warning or the name field, an empty
    warning goes, and typing elsewhere does not build (announce) it again.
M5. The autocomplete says how many suggestions came, and ArrowDown opens the list again after Escape.
M6. Disable asks for confirmation.
L1. The screening job's status line changes only when its text does; when the job finishes the page keeps
    the keyboard's place.
L2. Start links, an exhibit's Remove and the network's Expand are at least 24 by 24 CSS px.

Nothing waits a fixed time: every wait is on a condition. Every name is FICTIONAL."""

from __future__ import annotations

import re

import pytest
from browser.conftest import PASSWORD, signed_in

from workbench.dossiers import service as dossiers
from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.models import ScreeningJob
from workbench.store.permissions import SYSTEM, Actor
from workbench.store.users import add_user


pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

PERSON = "r13-a11y-person"
JOB = "r13-a11y-job"
LINKED = 40  # associates of PERSON: a links table taller than the window
DUPLICATE = "Duplicado Doble Prueba (FICTIONAL)"
RITA = Actor("rita", "researcher")

# Whether the focused control lies under a stuck header of its table (null: no table, or the header is not stuck).
UNDER_HEADER = """() => {
  const el = document.activeElement, table = el && el.closest('table.dense');
  if (!table || !table.tHead || el.closest('thead')) return null;
  const head = table.tHead.rows[0].cells[0].getBoundingClientRect(), box = el.getBoundingClientRect();
  if (head.top > 1) return null;
  return box.top < head.bottom - 0.5 ? [box.top, head.bottom, el.outerHTML.slice(0, 120)] : false;
}"""
IN_VIEW = """el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }"""


@pytest.fixture(scope="module")
def data(server):
    with store_db.session_scope(server["url"]) as s:
        add_user(s, SYSTEM, "ada", "admin", PASSWORD)
        add_user(s, SYSTEM, "bea", "researcher", PASSWORD)
        svc.create_entity(s, SYSTEM, "Person", {"name": "Persona Enlazada Trece (FICTIONAL)"}, entity_id=PERSON)
        for i in range(LINKED):
            other = svc.create_entity(s, SYSTEM, "Person", {"name": f"Socio Ficticio {i:02d} (FICTIONAL)"},
                                      entity_id=f"r13-a11y-socio-{i:02d}").obj.id
            svc.create_link(s, SYSTEM, "Associate", PERSON, other)
        for i in range(2):
            svc.create_entity(s, SYSTEM, "Person", {"name": DUPLICATE}, entity_id=f"r13-a11y-dup-{i}")
        source = svc.create_source(s, SYSTEM, url="https://example.org/test/r13", title="Gaceta Trece (FICTIONAL)",
                                   source_type="official", reliability="A").id
        cartel = svc.create_entity(s, SYSTEM, "Organization", {"name": "Cartel Trece (FICTIONAL)"}).obj.id
        sanction = svc.create_entity(s, SYSTEM, "Sanction", {"name": "Designacion Trece (FICTIONAL)",
                                                             "authority": "OFAC", "status": "active"}).obj.id
        svc.create_link(s, SYSTEM, "SanctionOf", sanction, cartel)
        dossier = dossiers.create_dossier(s, RITA, PERSON, "kingpin-b2")
        dossiers.add_exhibit(s, RITA, dossier.id, element="foreign_person", statement_type="fact",
                             statement="A FICTIONAL national.", source_id=source)
        s.add(ScreeningJob(id=JOB, file_name="padron-trece.csv", mapping="", status="running", total_rows=10,
                           done_rows=3, hits=0, created_by="rita"))
        dossier_id = dossier.id
    store_db.dispose_all()
    return {"dossier": dossier_id, "source": source}


def _other_page(browser, server, username: str):
    context = browser.new_context(base_url=server["base"])
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Workbench")).to_be_visible()
    return context, page


# ---- M1/L3: focus lands on what a refused form says, in view ---------------------------------------------------

def test_a_refused_password_change_focuses_its_summary(page, server, data):
    signed_in(page, server)
    page.goto("/account/password")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password (at least").fill("a long enough new passphrase")
    page.get_by_label("New password again").fill("not the same passphrase at all")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: Change your password"))
    page.keyboard.press("Tab")
    link = page.locator("#error-summary a[href='#new-password-again']")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#new-password-again")).to_be_focused()


def test_a_refused_new_user_focuses_its_summary(browser, server, data):
    context, page = _other_page(browser, server, "ada")
    try:
        page.goto("/admin/users")
        page.get_by_label("User name").fill("Not A Name!")
        page.get_by_label("Initial password").fill("a long enough initial passphrase")
        page.get_by_role("button", name="Add user").click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(page).to_have_title(re.compile(r"^Error: Users"))
        assert summary.evaluate(IN_VIEW)
        expect(summary.locator("a[href='#new-username']")).to_have_count(1)
    finally:
        context.close()


def test_a_refused_citation_focuses_its_message_far_down_the_page(page, server, data):
    signed_in(page, server)
    page.goto(f"/entities/{PERSON}")
    page.locator("#cite-excerpt").fill("a passage")
    # A browser that checks nothing sends the form without a source (this one checks: the check is taken off).
    page.locator("#cite-source").evaluate("el => el.removeAttribute('required')")
    page.get_by_role("button", name="Cite", exact=True).click()
    box = page.locator("#cite-error")
    expect(box).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: Persona Enlazada Trece"))
    assert box.evaluate(IN_VIEW), "the refusal, far down the page, is scrolled into view"
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Go to Source")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#cite-source")).to_be_focused()
    expect(page.locator("#cite-source")).to_have_attribute("aria-invalid", "true")


def test_a_refused_exhibit_focuses_the_refusal_that_links_its_fields(page, server, data):
    signed_in(page, server)
    page.goto(f"/dossiers/{data['dossier']}")
    page.locator("#x-evidence").select_option(f"source:{data['source']}")
    page.locator("#x-statement").fill("   ")  # only spaces: the browser's check lets it through, the server's not
    page.get_by_role("button", name="Add exhibit").click()
    refusal = page.locator("#refused")
    expect(refusal).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert refusal.evaluate(IN_VIEW)
    page.keyboard.press("Tab")
    expect(refusal.get_by_role("link", name="What it shows")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#x-statement")).to_be_focused()


# ---- M2: a sticky table header never covers the focused control ---------------------------------------------------

def test_tabbing_upward_through_a_long_table_never_hides_the_focus_under_its_header(page, server, data):
    signed_in(page, server)
    page.set_viewport_size({"width": 1280, "height": 600})
    try:
        page.goto(f"/entities/{PERSON}")
        removes = page.locator("table.links button", has_text="Remove")
        expect(removes).to_have_count(LINKED)
        removes.last.focus()
        covered = []
        for _ in range(LINKED):  # Edit and Remove of half the rows, upward
            page.keyboard.press("Shift+Tab")
            # the browser scrolls the focused control into view; app.js may scroll once more, a frame later
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            under = page.evaluate(UNDER_HEADER)
            if under:
                covered.append(under)
        assert covered == [], covered
        # the table did scroll under its header: the check above was not vacuous
        assert page.evaluate("() => window.scrollY") > 0
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


# ---- M3: the network page reflows -------------------------------------------------------------------------------

def test_the_network_page_does_not_scroll_sideways_once_the_window_narrows(page, server, data):
    signed_in(page, server)
    page.set_viewport_size({"width": 1280, "height": 800})
    try:
        page.goto(f"/entities/{PERSON}/network")
        page.wait_for_function("() => { const c = document.querySelector('#cy canvas'); return c && c.width > 0; }")
        expect(page.locator("#node-list li").first).to_be_visible()
        for width in (640, 320):  # 200 % and 400 % zoom of a 1280 px window
            page.set_viewport_size({"width": width, "height": 640})
            page.wait_for_function("""() => {
                const doc = document.documentElement, box = document.getElementById('cy');
                const canvases = Array.from(box.querySelectorAll('canvas'));
                return doc.scrollWidth <= doc.clientWidth
                    && canvases.every(c => c.getBoundingClientRect().width <= box.clientWidth + 1);
            }""", timeout=5000)
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


# ---- M4: the duplicate warning ---------------------------------------------------------------------------------

def test_the_duplicate_warning_keeps_focus_goes_when_empty_and_is_not_built_again(page, server, data):
    signed_in(page, server)
    page.goto("/entities/new?kind=Person")
    name = page.locator("#f-name-0")
    name.fill(DUPLICATE)
    warning = page.locator("#duplicates .flash[role=alert]")
    expect(warning.locator("li")).to_have_count(2)
    page.evaluate("""() => { window.dupChanges = 0;
        new MutationObserver(m => { window.dupChanges += m.length; })
          .observe(document.getElementById('duplicates'), {childList: true, subtree: true, characterData: true}); }""")
    # Typing in another field asks the server again: the same two entries, so the alert is left alone.
    with page.expect_response(re.compile(r"/api/entities/duplicates$")):
        page.locator("#f-birthDate-0").fill("1980")
    page.wait_for_load_state("networkidle")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert page.evaluate("() => window.dupChanges") == 0, "the unchanged warning was built (announced) again"

    answers = page.locator("#duplicates button[data-different]")
    answers.first.click()
    expect(warning.locator("li")).to_have_count(1)
    expect(answers).to_have_count(1)
    expect(answers.first).to_be_focused()  # the warning's remaining answer, not <body>
    page.keyboard.press("Enter")
    expect(page.locator("#duplicates .flash")).to_have_count(0)  # no empty alert left behind
    expect(name).to_be_focused()
    # Answered: typing on shows no warning about them again.
    with page.expect_response(re.compile(r"/api/entities/duplicates$")):
        page.locator("#f-birthDate-0").fill("1981")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#duplicates .flash")).to_have_count(0)


# ---- M5: the autocomplete's count and ArrowDown after Escape ----------------------------------------------------

def test_the_autocomplete_says_how_many_suggestions_came_and_reopens_on_arrow_down(page, server, data):
    signed_in(page, server)
    page.goto(f"/links/new?entity={PERSON}&kind=Associate:out")
    box = page.locator("#other-name")
    status = page.locator("#other-suggestions-status")
    expect(status).to_have_attribute("aria-live", "polite")
    listbox = page.locator("#other-suggestions")
    options = listbox.locator("[role=option]")
    box.press_sequentially("Socio Ficticio 07", delay=20)
    expect(listbox).to_be_visible()
    count = options.count()
    assert count >= 1
    expect(status).to_have_text(re.compile(rf"^{count} suggestions?\b"))

    box.press("Escape")
    expect(listbox).to_be_hidden()
    box.press("ArrowDown")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))

    box.fill("")
    box.press_sequentially("Qxzqxz Wvwvw", delay=20)
    expect(status).to_have_text("No matches")
    expect(listbox).to_be_hidden()


# ---- M6: Disable asks first ---------------------------------------------------------------------------------------

def test_disable_asks_for_confirmation_naming_the_user(browser, server, data):
    context, page = _other_page(browser, server, "ada")
    try:
        page.goto("/admin/users")
        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.get_by_role("button", name="Disable bea").click()
        expect(page.get_by_role("button", name="Disable bea")).to_be_visible()
        assert asked and asked[0].startswith("Disable bea?"), asked
        row = page.locator("tr", has=page.get_by_role("rowheader", name="bea"))
        expect(row.locator("td").nth(1)).to_have_text("active")  # cancelled: nothing was sent
    finally:
        context.close()


# ---- L1: the screening job's status line ---------------------------------------------------------------------------

def test_the_job_status_changes_only_when_its_text_does_and_the_finish_keeps_the_focus(page, server, data):
    signed_in(page, server)
    status_url = re.compile(rf"/api/screening/{JOB}$")
    with page.expect_response(status_url):
        page.goto(f"/screening/{JOB}")
    line = page.locator("#job-progress p[role=status]")
    expect(line.locator("#job-rows")).to_have_text("3 of 10 rows")
    # After one poll has written its words, the next ones (the same numbers) change nothing.
    with page.expect_request(status_url):
        pass
    page.evaluate("""() => { window.statusChanges = 0;
        new MutationObserver(m => { window.statusChanges += m.length; })
          .observe(document.querySelector('#job-progress p[role=status]'), {childList: true, subtree: true, characterData: true}); }""")
    for _ in range(3):
        with page.expect_request(status_url):
            pass
    assert page.evaluate("() => window.statusChanges") == 0, "the live region was rewritten with the same words"

    # The keyboard is on a link of the page when the job finishes: the page shows the queue, focus stays there.
    kept = page.locator("#queue-views a").first
    kept.focus()
    href = kept.get_attribute("href")
    with store_db.session_scope(server["url"]) as s:
        job = s.get(ScreeningJob, JOB)
        job.status, job.done_rows = "done", 10
    store_db.dispose_all()
    with page.expect_navigation():
        pass
    expect(page.locator("#job-status")).to_have_text("done")
    expect(page.locator(f"#queue-views a[href='{href}']").first).to_be_focused()


# ---- L2: target sizes ------------------------------------------------------------------------------------------

def test_start_links_exhibit_remove_and_expand_are_at_least_24_px(page, server, data):
    signed_in(page, server)
    targets = []
    page.goto("/")
    starts = page.locator("ul.actions a")
    expect(starts.first).to_be_visible()
    targets += [("Start", starts.nth(i).bounding_box()) for i in range(starts.count())]
    page.goto(f"/dossiers/{data['dossier']}")
    targets.append(("Remove", page.get_by_role("button", name="Remove exhibit 1").bounding_box()))
    page.goto(f"/entities/{PERSON}/network")
    expand = page.locator("#node-list button", has_text="Expand").first
    expect(expand).to_be_visible()
    targets.append(("Expand", expand.bounding_box()))
    assert len(targets) >= 7
    small = [(name, box) for name, box in targets if not box or box["height"] < 24 or box["width"] < 24]
    assert small == [], small
