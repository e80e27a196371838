"""QA round 12 (a tester's walk through the entity, link, home and screening pages): impossible dates flagged
where they stay, counts that agree between pages, one input per single value, focus on a refused form's
summary, counts in words that take their number, recent changes that lead somewhere, former officials said
so, and money written the ways people write it. Every name is FICTIONAL."""

from __future__ import annotations

import html
import re

import pytest
from browser.conftest import browser, page, server, signed_in  # noqa: F401  (fixtures: Chromium, a live server, a page)
from test_web_accessibility import controls_of
from test_web_entities import create
from test_web_screening import start, wait_until_finished
from web_helpers import api_entity, csrf_of, signed_in_client

from workbench.store import db as store_db


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def _flashes(text: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash [a-z]+" role="[a-z]+">(.*?)</p>', text, re.DOTALL)]


def _link(client, entity: str, kind: str, other: str, **props):
    """The New link form as a user sends it (the other end picked from the suggestions)."""
    token = csrf_of(client, f"/links/new?entity={entity}&kind={kind}:out")
    data = {"csrf_token": token, "kind": kind, "entity": entity, "direction": "out", "other_id": other,
            "other_name": ""}
    data.update({f"p.{k}": v for k, v in props.items()})
    return client.post("/links/new", data=data, follow_redirects=False)


def _link_row(text: str, other_id: str) -> str:
    rows = re.findall(r'<tr id="link-[^"]+"[^>]*>.*?</tr>', text, re.DOTALL)
    [row] = [r for r in rows if f'href="/entities/{other_id}"' in r]
    return html.unescape(row)


def _controls(text: str, name: str) -> list[dict]:
    return [c for c in controls_of(text).controls if c.get("name") == name]


# ---- 1. dates in an impossible order: said once, without the label twice; flagged where they stay ----------

def test_a_link_ending_before_it_starts_is_flagged_on_its_row_and_the_label_is_said_once(client):
    person = create(client, "Person", name="Fulano Fechas (FICTIONAL)")
    post = create(client, "Position", name="Presidente municipal de Villa Inventada (FICTIONAL)")
    saved = _link(client, person, "Occupancy", post, startDate="2024-01-01", endDate="2021-12-31")
    assert saved.status_code == 303, saved.text
    landed = client.get(saved.headers["location"]).text
    said = " ".join(_flashes(landed))
    assert "Start 2024-01-01 is after End 2021-12-31" in said and "Start: Start" not in said
    # the flash is gone on the next visit: the row itself says so, from both ends
    for here, there in ((person, post), (post, person)):
        row = _link_row(client.get(f"/entities/{here}").text, there)
        assert "Start 2024-01-01 is after End 2021-12-31" in row and 'class="warning"' in row
    fine = create(client, "Position", name="Regidor de Villa Inventada (FICTIONAL)")
    assert _link(client, person, "Occupancy", fine, startDate="2018", endDate="2021").status_code == 303
    assert "warning" not in _link_row(client.get(f"/entities/{person}").text, fine)


def test_an_entitys_own_dates_in_an_impossible_order_are_flagged_on_its_page(client):
    company = create(client, "Company", name="Inmobiliaria Fechas Cruzadas (FICTIONAL)",
                     incorporationDate="2020-05-01", dissolutionDate="2010")
    shown = html.unescape(client.get(f"/entities/{company}").text)
    facts = re.search(r'<h2 id="h-facts">.*?</table>', shown, re.DOTALL).group(0)
    row = re.search(r"<tr><th scope=\"row\">Founded / incorporated</th>.*?</tr>", facts, re.DOTALL).group(0)
    assert "Founded / incorporated 2020-05-01 is after Dissolved 2010" in row
    dissolved = re.search(r"<tr><th scope=\"row\">Dissolved</th>.*?</tr>", facts, re.DOTALL).group(0)
    assert "warning" not in dissolved  # said once, on the earlier date's row


# ---- 2. the home page's count and the kind's list agree ------------------------------------------------------

def test_the_home_pages_count_of_a_kind_and_its_list_say_the_same(client):
    for n in range(4):
        api_entity(client, "Organization", name=f"Organizacion Ficticia {n} (FICTIONAL)")
    for n in range(3):
        api_entity(client, "Company", name=f"Empresa Ficticia {n} SA de CV (FICTIONAL)")
    home = client.get("/").text
    assert re.search(r'<a href="/entities\?kind=Organization">Organizations</a></td><td class="num">4</td>', home)
    assert re.search(r'<a href="/entities\?kind=Company">Companies</a></td><td class="num">3</td>', home)
    listed = client.get("/entities?kind=Organization").text
    assert '<span class="muted">(7)</span>' in listed  # companies are organizations: the list takes them in
    assert '<p id="kind-breakdown">With the kinds under it: 4 organizations, 3 companies.</p>' in listed
    assert "kind-breakdown" not in client.get("/entities?kind=Company").text  # one kind: nothing to divide


def test_an_entry_merged_into_another_is_no_longer_counted_on_the_home_page(client, db_url):
    from workbench.matching.judgements import merge
    from workbench.store import db as store_db
    from workbench.store.permissions import Actor

    kept = api_entity(client, "Organization", name="Organizacion Doble (FICTIONAL)")
    away = api_entity(client, "Organization", name="Organizacion Doble (FICTIONAL)")
    with store_db.session_scope(db_url) as s:
        merge(s, Actor("rita", "researcher"), kept, away)
    home = client.get("/").text
    assert re.search(r'<a href="/entities\?kind=Organization">Organizations</a></td><td class="num">1</td>', home)
    assert '<span class="muted">(1)</span>' in client.get("/entities?kind=Organization").text


# ---- 3. one input per single value; topics one select of several choices -------------------------------------

def test_the_link_form_shows_confidence_start_and_end_once_also_after_a_refusal(client):
    person = create(client, "Person", name="Mengano Enlaces (FICTIONAL)")
    post = create(client, "Position", name="Tesorero de Villa Inventada (FICTIONAL)")
    refused = _link(client, person, "Occupancy", post, startDate="2019-13-01", endDate="2021",
                    confidence="probable")
    assert refused.status_code == 422
    for name, typed in (("p.startDate", "2019-13-01"), ("p.endDate", "2021")):
        [control] = _controls(refused.text, name)  # what was typed, once: no "another value" beside it
        assert control.get("value") == typed and "aria-label" not in control
    assert len(_controls(refused.text, "p.confidence")) == 1
    assert re.search(r'<option value="probable" selected>', refused.text)
    assert _link(client, person, "Occupancy", post, startDate="2019-01", endDate="2021", confidence="probable",
                 summary="Named in the municipal gazette (FICTIONAL)").status_code == 303
    link_id = re.search(r'href="/links/([^/"]+)/edit', client.get(f"/entities/{person}").text).group(1)
    edit = client.get(f"/links/{link_id}/edit?entity={person}").text
    assert [len(_controls(edit, f"p.{name}")) for name in ("confidence", "startDate", "endDate")] == [1, 1, 1]
    assert len(_controls(edit, "p.summary")) == 2  # another property keeps its spare input for another value


def test_topics_are_one_select_of_several_choices_on_the_new_and_the_edit_form(client):
    new = client.get("/entities/new?kind=Person").text
    [topics] = _controls(new, "p.topics")
    assert "multiple" in topics
    person = create(client, "Person", name="Perengano Temas (FICTIONAL)", topics=["role.official", "fictional"])
    edit = client.get(f"/entities/{person}/edit").text
    [topics] = _controls(edit, "p.topics")
    assert "multiple" in topics
    chosen = re.search(r'<select id="f-topics-0"[^>]*>(.*?)</select>', edit, re.DOTALL).group(1)
    assert sorted(re.findall(r'<option value="([^"]+)" selected>', chosen)) == ["fictional", "role.official"]
    # a single choice (gender) stays one select of one choice, with no spare beside it
    assert len(_controls(edit, "p.gender")) == 1


# ---- 4. focus lands on a refused form's summary; no inline script --------------------------------------------

def test_a_refused_entity_or_link_form_has_its_summary_focused_by_a_script_file_not_an_inline_one(client):
    """The summary takes focus from app.js (which makes it focusable, tabindex -1): the pages' policy allows
    no inline script. The browser test below checks where focus lands."""
    token = csrf_of(client, "/entities/new?kind=Person")
    refused = client.post("/entities/new", data={"csrf_token": token, "kind": "Person", "decision": "new",
                                                  "p.name": "Zutano Foco (FICTIONAL)", "p.birthDate": "1990-13"})
    assert refused.status_code == 422 and 'id="error-summary"' in refused.text
    person = create(client, "Person", name="Zutano Foco (FICTIONAL)")
    post = create(client, "Position", name="Sindico de Villa Inventada (FICTIONAL)")
    link = _link(client, person, "Occupancy", post, startDate="2019-13-01")
    assert link.status_code == 422 and 'id="error-summary"' in link.text
    for response in (refused, link):
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.text) == []  # every script is a file
    script = client.get("/static/app.js").text
    assert 'getElementById("error-summary")' in script and "refused.focus()" in script


@pytest.mark.browser
def test_in_a_browser_focus_lands_on_what_a_refused_form_says(page, server):  # noqa: F811
    """Keyboard focus stayed on <body> after a refused entity, link or source form: a keyboard or screen-reader
    user started again from the top of the page, above the messages."""
    from workbench.store import entities as svc
    from workbench.store.permissions import SYSTEM

    expect = pytest.importorskip("playwright.sync_api").expect
    with store_db.session_scope(server["url"]) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Foco Ficticio Uno (FICTIONAL)"}, entity_id="q12-focus")
        svc.create_entity(s, SYSTEM, "Position", {"name": "Cargo Foco Ficticio (FICTIONAL)"},
                          entity_id="q12-focus-post")
    store_db.dispose_all()
    signed_in(page, server)

    page.goto("/entities/new?kind=Person")
    page.locator("#f-name-0").fill("Foco Ficticio Dos (FICTIONAL)")
    page.locator("#f-birthDate-0").fill("1990-13")
    page.get_by_role("button", name="Create Person").click()
    expect(page.locator("#error-summary")).to_be_focused()

    page.goto("/links/new?entity=q12-focus&kind=Occupancy:out")
    page.locator("#other-name").fill("Cargo Foco Ficticio (FICTIONAL)")
    page.locator("#f-startDate-0").fill("2019-13-01")
    page.get_by_role("button", name="Create link").click()
    expect(page.locator("#error-summary")).to_be_focused()
    page.keyboard.press("Tab")  # the summary's first link, to the refused field
    expect(page.locator("#error-summary a").first).to_be_focused()

    page.goto("/sources/new")
    page.locator("#src-url").fill("https://example.org/foco")
    page.get_by_role("button", name="Add source").click()
    expect(page.locator("main .flash.error[role=alert]").first).to_be_focused()


# ---- 5. counts in words that take their number; recent changes lead to what they changed --------------------

def test_a_job_with_one_hit_says_1_hit(client):
    official = client.post("/api/entities", json={"kind": "Person", "properties": {
        "name": "FICTIONAL PERSON Uno Ejemplo", "topics": ["role.official"]}}).json()["id"]
    roll = ("APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"
            'FICT-012-0001,"1 Imaginary Lane, Fictionville, TX 79999",P,FICTIONAL PERSON Uno Ejemplo,'
            '"Calle Ficticia 1, Ciudad Inventada, Sinaloa",03/15/2019,450000\n')
    response = start(client, data=roll.encode("utf-8"), name="one_row_FICTIONAL.csv")
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    assert wait_until_finished(client, job_id)["hits"] == 1
    shown = client.get(f"/screening/{job_id}").text
    assert '<span id="job-rows">1 of 1 row</span> screened' in shown
    assert '<span id="job-hits">1 hit</span>.' in shown and "1 hits" not in shown
    assert '<p id="queue-range">Hit 1 of 1: open ones first' in shown
    assert f"/entities/{official}" in shown


def test_recent_changes_on_the_home_page_link_to_what_they_changed_while_it_exists(client):
    person = create(client, "Person", name="Fulana Cambios (FICTIONAL)")
    post = create(client, "Position", name="Alcalde de Villa Inventada (FICTIONAL)")
    assert _link(client, person, "Occupancy", post, startDate="2020").status_code == 303
    source = client.post("/api/sources", json={"url": "https://example.org/gaceta/12",
                                               "title": "Gaceta Ficticia 12 (FICTIONAL)"}).json()["id"]
    gone = create(client, "Person", name="Borrado Ficticio (FICTIONAL)")
    version = re.search(r'name="version" value="(\d+)"', client.get(f"/entities/{gone}").text).group(1)
    assert client.post(f"/entities/{gone}/delete", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                          "version": version}).status_code == 200
    home = client.get("/").text
    changes = html.unescape(re.search(r"<h2>Recent changes</h2>.*?</table>", home, re.DOTALL).group(0))
    link_id = re.search(r'id="link-([^"]+)"', client.get(f"/entities/{person}").text).group(1)
    assert f'<a href="/entities/{person}#link-{link_id}">link.create: Fulana Cambios (FICTIONAL) holds position ' \
           f'Alcalde de Villa Inventada (FICTIONAL)</a>' in changes
    assert f'<a href="/entities/{post}">entity.create: Alcalde de Villa Inventada (FICTIONAL)</a>' in changes
    assert f'<a href="/sources/{source}">source.create: Gaceta Ficticia 12 (FICTIONAL)</a>' in changes
    # a deleted entry is named, not linked: its page is gone
    assert "<td>entity.delete: Borrado Ficticio (FICTIONAL)</td>" in changes
    assert f'href="/entities/{gone}"' not in changes


# ---- 6. former officials ---------------------------------------------------------------------------------------

def _officials(db_url) -> tuple[str, str]:
    """A state, a municipality, a cartel on the SDN list, and two officials tied to it: one in office, one whose
    only position ended in 2021."""
    from workbench.store import entities as svc
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        svc.create_entity(s, SYSTEM, "Territory", {"name": "Estado Ficticio (FICTIONAL)", "level": "state"},
                          entity_id="q12-state")
        svc.create_entity(s, SYSTEM, "Organization", {"name": "Cartel Ficticio (FICTIONAL)"}, entity_id="q12-cartel")
        svc.create_entity(s, SYSTEM, "Sanction", {"name": "SDN Cartel Ficticio", "authority": "OFAC",
                                                  "program": "SDNTK"}, entity_id="q12-sdn")
        svc.create_link(s, SYSTEM, "SanctionOf", "q12-sdn", "q12-cartel", {})
        for key, name, end in (("now", "Gobernador Actual Ficticio (FICTIONAL)", None),
                               ("was", "Gobernador Anterior Ficticio (FICTIONAL)", "2021-12-31")):
            svc.create_entity(s, SYSTEM, "Person", {"name": name}, entity_id=f"q12-{key}")
            svc.create_entity(s, SYSTEM, "Position", {"name": f"Cargo {key} (FICTIONAL)"}, entity_id=f"q12-post-{key}")
            svc.create_link(s, SYSTEM, "Occupancy", f"q12-{key}", f"q12-post-{key}",
                            {"startDate": "2016", **({"endDate": end} if end else {})})
            svc.create_link(s, SYSTEM, "Jurisdiction", f"q12-post-{key}", "q12-state", {})
            svc.create_link(s, SYSTEM, "Associate", f"q12-{key}", "q12-cartel", {})
    return "q12-now", "q12-was"


def test_the_officials_ranking_marks_an_official_whose_positions_all_ended(client, db_url):
    from workbench.web import readmodels

    current, former = _officials(db_url)
    with store_db.session_scope(db_url) as s:
        rows = {r["entity_id"]: r for r in readmodels.officials_by_state(s)}
    assert rows[former]["former"] is True and rows[current]["former"] is False
    assert rows[former]["positions"] == ["Cargo was (FICTIONAL) (until 2021-12-31)"]
    assert rows[current]["positions"] == ["Cargo now (FICTIONAL)"]


def test_the_home_page_says_which_ranked_officials_are_former_ones(client, db_url):
    current, former = _officials(db_url)
    home = client.get("/").text
    ranking = re.search(r'<h2 id="h-priorities">.*?</table>', home, re.DOTALL).group(0)
    rows = {who: re.search(rf'<tr><td>[^<]*</td><td class="num">\d+</td><td><a href="/entities/{who}">.*?</tr>',
                           ranking, re.DOTALL).group(0) for who in (current, former)}
    assert "former official" in rows[former] and "(until 2021-12-31)" in rows[former]
    assert "former official" not in rows[current]


# ---- 7. money written the ways people write it -----------------------------------------------------------------

def test_money_takes_the_same_forms_everywhere_and_keeps_the_currency(client):
    form = client.get("/entities/new?kind=RealEstate").text
    help_text = html.unescape(re.search(r'<p class="help" id="f-amount-help">(.*?)</p>', form).group(1))
    assert "USD 450,000" in help_text and "450,000.50 MXN" in help_text and "$" in help_text
    owner = create(client, "Person", name="Propietario Ficticio (FICTIONAL)")
    parcel = create(client, "RealEstate", name="Parcel FICT-012-0450 (FICTIONAL)", amount="450,000.50 MXN")
    assert '<span class="value">450000.50 MXN</span>' in client.get(f"/entities/{parcel}").text
    # the Ownership's price takes 'USD 450,000' (it was refused) and keeps its currency
    saved = _link(client, owner, "Ownership", parcel, price="USD 450,000")
    assert saved.status_code == 303, saved.text
    assert "Price: 450000 USD" in html.unescape(client.get(f"/entities/{owner}").text)
    # a bare '$' is the dollar's and the peso's sign: the amount is kept and the currency asked for, not guessed
    bare = create(client, "RealEstate", name="Lote Ficticio 451 (FICTIONAL)", amount="$450,000")
    landed = client.get(f"/entities/{bare}").text
    assert any(f.startswith("Value: '$450,000': $ is both") and "write 450000 USD or 450000 MXN" in f
               for f in _flashes(landed))
    assert '<span class="value">450000</span>' in landed
    # what it cannot read is refused saying which forms it takes
    token = csrf_of(client, "/entities/new?kind=RealEstate")
    refused = client.post("/entities/new", data={"csrf_token": token, "kind": "RealEstate", "decision": "new",
                                                 "p.name": "Parcel FICT-012-0452 (FICTIONAL)", "p.amount": "4,50"})
    assert refused.status_code == 422
    assert "&#39;4,50&#39; is not an amount: write it as 450000, 450,000.50, 450000 USD" in refused.text


@pytest.mark.parametrize(("typed", "stored"), [
    ("$450,000 USD", "450000 USD"), ("US$450,000", "450000 USD"), ("MX$ 1,250", "1250 MXN"),
    ("450,000.50 mxn", "450000.50 MXN"), ("USD 450,000", "450000 USD"), ("450000", "450000"),
])
def test_money_forms(typed, stored):
    from workbench.schema import registry

    checked = registry().check_value(registry().link_kind("Ownership").properties["price"], typed)
    assert (checked.value, checked.errors) == (stored, [])


def test_money_with_two_currencies_is_refused():
    from workbench.schema import registry

    checked = registry().check_value(registry().entity_kind("RealEstate").properties["amount"], "€450 USD")
    assert checked.value is None
    assert checked.errors == ["'€450 USD' names two currencies (EUR and USD): keep the one the source gives"]
