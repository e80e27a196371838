"""QA round 15 on dossiers and their case summaries (an attorney-adviser's review of candidate packages), driven as
a user would: through the pages and the API (the test client) and the export functions.

1. A releasable export whose only chain to a designated party it withholds says the link exists but is withheld,
   never that the graph holds none (Markdown, HTML, PDF).
2. The full export flags each unreleasable source quoted on a chain to a designated party, and the INTERNAL
   banner and the releasable export's withheld note count it.
5. A target organised under U.S. law or holding U.S. nationality is a U.S. person: the foreign-person element
   cannot be met (a problem: submit is refused); a U.S. country alone stays a warning, in plain grammar.
6. The Markdown case summary carries what HTML and PDF carry: retrieval dates, listing dates, asset value,
   parcel and county.
7. The evidence picker marks a citation of an unreleasable source as it marks the source.
8. The fact/allegation field is called 'Fact or allegation' on the exhibit form and the compare page.
9. The Markdown checklist ticks no box for a note or a warning.
10. A merge's history entry names the two records by id as well as by name.
12. Money with thousands separators in the case summaries (the CSV keeps the stored value); an excerpt is
    wrapped in typographic quotes only; the PDF page footer says FICTIONAL for a fictional package.

Every scenario is FICTIONAL: the demo's (fixtures/demo) and the shared one of test_dossier_scenario."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from pypdf import PdfReader
from test_dossier_scenario import build_scenario, complete_dossier
from web_helpers import api_client, csrf_of, signed_in_client

from workbench.dossiers import service, workflow
from workbench.dossiers.demo import DEMO_DOSSIER_ID, OFFICIAL_ID
from workbench.dossiers.exports import BANNER, export_dossier
from workbench.store.entities import create_entity, get_source, update_entity, update_source
from workbench.store.permissions import SYSTEM, Actor

RESEARCHER = Actor("rosa", "researcher")
REVIEWER = Actor("ruben", "reviewer")
COURT = "demo-src-fictional-court"
LEAK = "FICTIONAL leaked ledger excerpt (unverified)"
LLC = "demo-fictional-company-us"
WITHHELD_LINK = ("A link to a designated party exists but is withheld from this releasable export (its sources may "
                 "not be released).")
NO_LINK = "No link to a designated party was found in the graph"
CHAIN_SOURCE = "unreleasable source on a chain to a designated party (1)"


@pytest.fixture
def demo(session):
    """The shipped demo: its FICTIONAL dossier (kingpin-b2 on the fictional official, exhibit 5 citing the
    leaked ledger; the official's one chain, 'associate of' CJNG, cited to the court record and the leak)."""
    from workbench.sources.demo import load_demo

    load_demo(session, SYSTEM, users=False)
    session.commit()
    return DEMO_DOSSIER_ID


@pytest.fixture
def researcher_client(db_url):
    return signed_in_client(db_url, RESEARCHER.username, "researcher")


def _pdf_text(data: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def _text(page: str) -> str:
    """A page's text as a reader reads it, tags taken out and entities read."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _close(session, source_id: str) -> None:
    """Mark a source unreleasable, as QA did with PUT /api/sources/{id} {"releasable": false}."""
    update_source(session, RESEARCHER, source_id, expected_version=get_source(session, source_id).version,
                  releasable=False)
    session.commit()


def _section(md: str, title: str) -> str:
    return md.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def _version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


# ---- 1. a withheld chain is not 'no link' --------------------------------------------------------------

def test_a_releasable_export_whose_only_chain_it_withholds_says_the_link_exists_but_is_withheld(
        session, demo, researcher_client):
    """QA: with the court record marked unreleasable, the only chain (official, associate of, CJNG) rests on
    unreleasable sources alone; the releasable export said 'No link to a designated party was found in the
    graph' under a checklist saying the link is met by withheld material."""
    _close(session, COURT)
    exports = {fmt: export_dossier(session, demo, fmt, releasable=True).content for fmt in ("md", "html", "pdf")}
    texts = {"md": exports["md"].decode(), "html": _text(exports["html"].decode()), "pdf": _pdf_text(exports["pdf"])}
    for fmt, text in texts.items():
        assert NO_LINK not in text, fmt
        assert WITHHELD_LINK in text.replace("\\", ""), fmt
        assert "Cártel de Jalisco Nueva Generación - SDNTK" not in text, fmt  # the chain itself stays out
    # The same file through the page's export link.
    shown = researcher_client.get(f"/dossiers/{demo}/export?format=md&releasable=1").text
    assert WITHHELD_LINK in shown and NO_LINK not in shown
    # The full export shows the chain, and a package with no chain at all still says the graph holds none.
    full = export_dossier(session, demo, "md").content.decode()
    assert WITHHELD_LINK not in full and NO_LINK not in full
    lone = create_entity(session, RESEARCHER, "Person", {"name": "Persona Sin Vínculos (FICTIONAL)"}).obj.id
    unlinked = service.create_dossier(session, RESEARCHER, lone, "kingpin-b2").id
    session.commit()
    assert NO_LINK in export_dossier(session, unlinked, "md", releasable=True).content.decode()


# ---- 2. the chain's unreleasable sources, flagged and counted --------------------------------------------

def test_the_full_export_flags_an_unreleasable_chain_source_and_the_banner_and_withheld_note_count_it(
        session, demo):
    """QA: the full export quoted the leak on the chain to CJNG without a word that it may not be released
    (the page says '(not releasable)'), and its INTERNAL banner, like the releasable export's withheld note,
    counted only 'Weak alias / nickname (1)'."""
    md = export_dossier(session, demo, "md").content.decode()
    chain = _section(md, "Links to designated parties")
    [leak_line] = [line for line in chain.splitlines() if LEAK in line]
    assert "not releasable" in leak_line and "Contador" in leak_line
    [court_line] = [line for line in chain.splitlines() if "FICTIONAL court record" in line]
    assert "not releasable" not in court_line
    banner = md.split("\n# ", 1)[0]
    assert "INTERNAL" in banner and "Weak alias / nickname (1)" in banner and CHAIN_SOURCE in banner
    page = export_dossier(session, demo, "html").content.decode()
    html_chain = _text(page.split("<h2>Links to designated parties</h2>", 1)[1].split("<h2>", 1)[0])
    assert re.search(re.escape(LEAK) + r"[^“]*not releasable", html_chain), html_chain
    assert CHAIN_SOURCE in _text(page.split("<h1>", 1)[0])
    pdf = _pdf_text(export_dossier(session, demo, "pdf").content)
    assert CHAIN_SOURCE in pdf and re.search(re.escape(LEAK) + r"[^“]*not releasable", pdf)
    full_meta = json.loads(export_dossier(session, demo, "json").content)["meta"]
    assert CHAIN_SOURCE in full_meta["internal"]
    # The releasable export drops the leak from the chain, and its withheld note says so.
    released = export_dossier(session, demo, "md", releasable=True).content.decode()
    assert LEAK not in released and "FICTIONAL court record" in _section(released, "Links to designated parties")
    note = next(line for line in released.splitlines() if line.startswith("- **Releasable version**"))
    assert "Weak alias / nickname (1)" in note and CHAIN_SOURCE in note
    meta = json.loads(export_dossier(session, demo, "json", releasable=True).content)["meta"]
    assert {"what": "unreleasable source on a chain to a designated party", "count": 1} in meta["withheld"]
    assert "(1 source left out)" in released


def test_the_releasable_check_ticks_only_when_the_releasable_export_leaves_nothing_out(
        session, researcher, researcher_client):
    """The chain's unreleasable source now counts as left out: the releasable check says so (a note, no tick);
    a dossier whose exports leave nothing out keeps its tick."""
    sc = build_scenario(session, researcher)  # the chain to the cartel cites the court record and the leak
    chained = service.create_dossier(session, researcher, sc.target, "kingpin-b2").id
    lone = create_entity(session, researcher, "Person", {"name": "Persona Sin Vínculos (FICTIONAL)"}).obj.id
    clean = service.create_dossier(session, researcher, lone, "kingpin-b2").id
    for dossier_id in (chained, clean):
        service.add_exhibit(session, researcher, dossier_id, element="foreign_person", statement_type="fact",
                            statement="Mexican national (FICTIONAL).", source_id=sc.official)
    session.commit()
    status, text = _check_of(researcher_client.get(f"/dossiers/{chained}").text, "releasable")
    assert status == "info" and "(1 source left out)" in text
    status, text = _check_of(researcher_client.get(f"/dossiers/{clean}").text, "releasable")
    assert status == "met" and text.startswith("✔ Every exhibit cites a releasable source")


# ---- 5. a U.S. person ------------------------------------------------------------------------------------

def _check_of(page: str, key: str) -> tuple[str, str]:
    """A dossier page's completeness check: (status, its text)."""
    item = re.search(rf'<li class="[^"]*" data-check="{key}" data-status="(\w+)">(.*?)</li>\s*'
                     r'(?=<li class="[^"]*" data-check=|</ul>\s*</section>)', page, re.DOTALL)
    return item.group(1), _text(item.group(2))


def test_a_target_organised_under_us_law_or_a_us_citizen_cannot_meet_the_foreign_person_element(
        session, demo, researcher_client):
    """QA: Kingpin 1904(b)(3) on the demo's Texas LLC (jurisdiction us), with a foreign_person exhibit, counted
    the element as met, with a warning that an exhibit could show the LLC is not a U.S. person; so did a target
    whose nationality became the United States and Mexico after a merge. No exhibit can: it is a U.S. person."""
    llc = service.create_dossier(session, RESEARCHER, LLC, "kingpin-b3").id
    service.add_exhibit(session, RESEARCHER, llc, element="foreign_person", statement_type="fact",
                        statement="Registered with the Texas Secretary of State (FICTIONAL).",
                        source_id="demo-src-fictional-sos")
    session.commit()
    status, text = _check_of(researcher_client.get(f"/dossiers/{llc}").text, "elements")
    assert status == "missing"
    assert ("Ribera Norte Holdings LLC (FICTIONAL) is a U.S. person: organised under U.S. law; the Foreign person "
            "element cannot be met") in text
    assert "needs an exhibit" not in text
    # A dual national: complete until the United States joins the nationality, then refused at submission.
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    session.commit()
    url = f"/dossiers/{dossier_id}"
    assert _check_of(researcher_client.get(url).text, "elements")[0] in ("met", "warning")
    update_entity(session, RESEARCHER, sc.target, {"nationality": ["mx", "us"]}, replace=False)
    session.commit()
    page = researcher_client.get(url).text
    status, text = _check_of(page, "elements")
    assert status == "missing" and ("Ramiro Testigo Ficticio (FICTIONAL) is a U.S. person: a U.S. citizen; the "
                                    "Foreign person element cannot be met") in text
    refused = researcher_client.post(f"{url}/move", data={"csrf_token": csrf_of(researcher_client, url),
                                                         "version": _version(page), "action": "submit",
                                                         "comment": "Ready."}, follow_redirects=False)
    assert refused.status_code == 422 and "is a U.S. person: a U.S. citizen" in html.unescape(refused.text)
    assert service.get_dossier(session, dossier_id).state == "draft"


def test_a_us_country_alone_stays_a_warning_in_plain_grammar(session, researcher, researcher_client):
    """A foreign company may trade in the United States: its country alone is a warning, and the warning read
    'The target's country include the United States'."""
    sc = build_scenario(session, researcher)
    company = create_entity(session, researcher, "Company", {"name": "Comercializadora Norte (FICTIONAL)",
                                                             "country": "us", "jurisdiction": "mx"}).obj.id
    dossier_id = service.create_dossier(session, researcher, company, "kingpin-b4").id
    service.add_exhibit(session, researcher, dossier_id, element="foreign_person", statement_type="fact",
                        statement="Incorporated in Mexico (FICTIONAL).", source_id=sc.registry)
    session.commit()
    _, text = _check_of(researcher_client.get(f"/dossiers/{dossier_id}").text, "elements")
    assert "The target's country includes the United States: the Foreign person element needs an exhibit" in text
    assert "is a U.S. person" not in text and " include the" not in text
    assert "No exhibit supports the element Foreign person" not in text


# ---- 6. the Markdown case summary carries what HTML and PDF carry ----------------------------------------

def test_the_markdown_summary_carries_retrieval_and_listing_dates_and_the_assets_value_parcel_and_county(
        session, demo):
    """QA: the Markdown had no retrieval date (none at all for 'OFAC Sanctions List Search'), no listing date
    for CJNG, and no value, parcel or county for the assets; the HTML and PDF had them."""
    md = export_dossier(session, demo, "md").content.decode()
    ofac = next(line for line in _section(md, "Exhibits").splitlines() if line.startswith("Source: OFAC Sanctions"))
    assert re.search(r", retrieved \d{4}-\d{2}-\d{2}", ofac), ofac
    gazette = next(line for line in md.splitlines() if line.startswith("Source: FICTIONAL municipal gazette"))
    assert re.search(r"published 2021-09-15, retrieved \d{4}-\d{2}-\d{2}", gazette), gazette
    assert "### Cártel de Jalisco Nueva Generación - SDNTK (listed 2015-04-08)" in md
    assets = _section(md, "Assets to block")
    header = next(line for line in assets.splitlines() if line.startswith("| Asset"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "Asset", "Kind", "Value", "Identifiers", "Parcel number", "County", "Address", "Owner chain", "Sources"]
    condo = next(line for line in assets.splitlines() if line.startswith("| Condominium unit"))
    assert "| 412,500 USD |" in condo and "| FICT-311-0420 |" in condo and "| Cameron County, TX |" in condo
    # Every case-summary format now carries the same facts.
    for fmt in ("html", "pdf"):
        content = export_dossier(session, demo, fmt).content
        text = _pdf_text(content) if fmt == "pdf" else _text(content.decode())
        assert "412,500 USD" in text and "FICT-311-0420" in text and "Cameron County, TX" in text, fmt
        assert "(listed 2015-04-08)" in text, fmt


# ---- 7, 8. the exhibit form ----------------------------------------------------------------------------

def test_the_picker_marks_citations_of_an_unreleasable_source_and_the_field_is_called_fact_or_allegation(
        session, demo, researcher_client):
    """QA: 'citation:5' ('FICTIONAL leaked ledger excerpt (unverified) - Weak alias / nickname El Contador: ...')
    carried no '(not releasable)', where the leak's source option did; and the statement-type select was
    labelled 'States'."""
    page = researcher_client.get(f"/dossiers/{demo}").text
    picker = re.search(r'<select id="x-evidence".*?</select>', page, re.DOTALL).group(0)
    options = {value: html.unescape(label) for value, label in
               re.findall(r'<option value="([^"]+)"[^>]*>(.*?)</option>', picker, re.DOTALL)}
    leak_citations = [label for value, label in options.items() if value.startswith("citation:") and LEAK in label]
    assert len(leak_citations) >= 2  # the weak alias and the chain's link
    assert all(label.startswith(f"{LEAK} (not releasable) - ") for label in leak_citations), leak_citations
    assert any("El Contador" in label for label in leak_citations)
    others = [label for value, label in options.items() if value.startswith("citation:") and LEAK not in label]
    assert others and not any("not releasable" in label for label in others)
    assert options["source:demo-src-fictional-leak"] == f"{LEAK} (not releasable)"
    assert '<label for="x-type">Fact or allegation</label>' in page and ">States<" not in page


def test_the_compare_page_calls_the_column_fact_or_allegation(session, researcher, reviewer, researcher_client):
    sc = build_scenario(session, researcher)
    first = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, first)
    workflow.approve(session, reviewer, first)
    second = service.new_version(session, researcher, first)
    service.add_exhibit(session, researcher, second.id, element="foreign_person", statement_type="fact",
                        statement="A second gazette entry (FICTIONAL).", source_id=sc.official)
    session.commit()
    page = researcher_client.get(f"/dossiers/{second.id}/compare").text
    assert '<th scope="col">Fact or allegation</th>' in page and ">States<" not in page


# ---- 9. no ticked box for a note or a warning -------------------------------------------------------------

def test_the_markdown_checklist_ticks_no_box_for_a_note_or_a_warning(session, demo):
    """QA: once exhibits were left out, the releasable Markdown printed '- [x] The releasable export leaves out
    exhibits 3, 5: they cite unreleasable sources', a ticked box read as 'met'."""
    _close(session, COURT)
    for releasable in (True, False):
        md = export_dossier(session, demo, "md", releasable=releasable).content.decode()
        checklist = _section(md, "Completeness against the legal criteria")
        items = [line for line in checklist.splitlines() if line.startswith("- ")]
        assert "- Warning: The releasable export leaves out exhibits 3, 4, 5: they cite unreleasable sources" in items
        data = json.loads(export_dossier(session, demo, "json", releasable=releasable).content)
        for check in data["completeness"]["checks"]:
            [line] = [item for item in items if item.endswith(check["label"])]
            ticked = line.startswith("- [x] ")
            assert ticked == (check["status"] == "met"), line
            if check["status"] in ("info", "warning"):
                assert line.startswith("- Note: " if check["status"] == "info" else "- Warning: "), line


# ---- 10. a merge in the history names both records by id ----------------------------------------------

def test_a_merge_in_the_history_names_both_records_by_id(session, demo, db_url):
    """QA: 'its target José María Villaseñor Ibarra (FICTIONAL) was merged into José María Villaseñor Ibarra
    (FICTIONAL)': two records of one name, nothing to tell them apart."""
    client = api_client(db_url, "rita", "researcher")
    created = client.post("/api/entities", json={"kind": "Person", "properties": {
        "name": "José María Villaseñor Ibarra (FICTIONAL)", "birthDate": "1975-03-13", "nationality": "mx",
        "identifier": "CURP:VIIM750312HSLLBR08"}})
    assert created.status_code == 201, created.text
    kept = created.json()["id"]
    judged = client.post(f"/api/entities/{kept}/judgements", json={"other_id": OFFICIAL_ID, "verdict": "same"})
    assert judged.status_code == 201, judged.text
    name = "José María Villaseñor Ibarra (FICTIONAL)"
    expected = f"its target {name} ({OFFICIAL_ID}) was merged into {name} ({kept})"
    session.expire_all()  # the merge was made through the API, in another session
    page = client.get(f"/dossiers/{demo}").text
    history = _text(page.split('id="history"', 1)[1].split("</table>", 1)[0])
    assert expected in history, history
    for fmt in ("md", "html"):
        assert expected in html.unescape(export_dossier(session, demo, fmt).content.decode()), fmt


# ---- 12. money, quotes, the PDF footer --------------------------------------------------------------------

def test_money_reads_with_thousands_separators_in_the_summaries_and_stays_as_stored_in_the_csv(session, demo):
    for fmt in ("md", "html"):
        text = export_dossier(session, demo, fmt).content.decode()
        assert "412,500 USD" in text and "685,000 USD" in text and "412500 USD" not in text, fmt
    pdf = _pdf_text(export_dossier(session, demo, "pdf").content)
    assert "412,500 USD" in pdf and "412500" not in pdf
    rows = list(csv.DictReader(line for line in export_dossier(session, demo, "assets-csv").content.decode()
                               .splitlines() if not line.startswith("#")))
    assert {row["value"] for row in rows if row["value"]} == {"412500 USD", "685000 USD"}


def test_an_excerpt_holding_quotes_is_wrapped_in_typographic_quotes_only(session, researcher):
    """QA: exhibit 5's excerpt, which holds quotes, was wrapped in more straight quotes:
    '> "Testigo: "el presidente recibía pagos mensuales" (FICTIONAL)" (pp. 12-13)'."""
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    excerpt = 'Testigo: "el presidente recibía pagos mensuales" (FICTIONAL)'
    service.add_exhibit(session, researcher, dossier_id, element="material_support", statement_type="allegation",
                        statement="Testimony (FICTIONAL).", source_id=sc.court, excerpt=excerpt, page="12-13")
    session.commit()
    md = export_dossier(session, dossier_id, "md").content.decode()
    assert f"> “{excerpt}” (pp. 12-13)" in md
    assert f'> "{excerpt}"' not in md
    # Every excerpt in every case summary takes the one rule: typographic quotes, never straight ones around it.
    assert not re.search(r': "[^"\n]*"$', _section(md, "Links to designated parties"), re.MULTILINE)
    assert f"“{excerpt}”" in html.unescape(export_dossier(session, dossier_id, "html").content.decode())


def test_every_pdf_page_footer_of_a_fictional_package_says_fictional(session, demo, researcher):
    """QA: page 1 carried the FICTIONAL banner; the footers did not, so a page parted from page 1 lost it."""
    pages = [" ".join(p.extract_text().split())
             for p in PdfReader(io.BytesIO(export_dossier(session, demo, "pdf").content)).pages]
    assert len(pages) > 1
    for number, text in enumerate(pages, 1):
        assert f"FICTIONAL - {BANNER} - page {number} of {len(pages)}" in text, number
    # A package that is not fictional does not say so.
    person = create_entity(session, researcher, "Person", {"name": "Persona de Prueba (TEST)"}).obj.id
    plain = service.create_dossier(session, researcher, person, "kingpin-b2").id
    session.commit()
    first = PdfReader(io.BytesIO(export_dossier(session, plain, "pdf").content)).pages[0].extract_text()
    assert f"{BANNER} - page 1 of" in " ".join(first.split()) and "FICTIONAL - " + BANNER not in first
