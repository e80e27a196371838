"""QA round 7 on the dossier exports: the FtM package carries an asset's values as `workbench export ftm`
does (and still withholds what a releasable export withholds), a locator typed with its own word is not
shown as a page, typed line breaks survive in the case summaries, and the exhibits' legend reads right.

Every scenario is FICTIONAL (the shared scenario of test_dossier_scenario with invented values added).
"""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from test_dossier_scenario import build_scenario, complete_dossier
from web_helpers import csrf_of, signed_in_client

from workbench.dossiers import service, workflow
from workbench.dossiers.exports import export_dossier
from workbench.sources.ftm import export_ftm
from workbench.store.entities import cite, create_entity, create_link, update_entity

HOUSE_VALUE = "250000 USD"  # FICTIONAL
HOUSE_COUNTY = "Condado Ficticio (TEST)"  # FtM has no property for a parcel's county


def _pdf_lines(data: bytes) -> list[str]:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return [" ".join(line.split()) for line in text.splitlines()]


def _ftm(session, dossier_id: str, releasable: bool = False) -> dict[str, dict]:
    lines = export_dossier(session, dossier_id, "ftm", releasable=releasable).content.decode().splitlines()
    return {record["id"]: record for record in map(json.loads, lines)}


def _role(package: dict[str, dict]) -> str:
    return next(r for r in package.values() if r["schema"] == "Documentation")["properties"]["role"][0]


@pytest.fixture
def held_assets(session, researcher):
    """The shared scenario with the assets' own values: the company's country and jurisdiction, and a
    company it holds whose name sorts before its own; the house's value (cited to the leak alone) and county."""
    sc = build_scenario(session, researcher)
    update_entity(session, researcher, sc.company, {"country": "mx", "jurisdiction": "mx"}, replace=False)
    update_entity(session, researcher, sc.house, {"amount": HOUSE_VALUE, "county": HOUSE_COUNTY}, replace=False)
    cite(session, researcher, sc.leak, entity_id=sc.house, prop="amount", value=HOUSE_VALUE)
    held = create_entity(session, researcher, "Company", {"name": "Agropecuaria Ficticia (TEST)", "country": "mx"}).obj.id
    create_link(session, researcher, "Ownership", sc.company, held, {"percentage": "100"})
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    return sc, held, dossier_id


def test_the_ftm_package_carries_an_assets_values_as_the_store_export_does(session, held_assets):
    model = pytest.importorskip("followthemoney").model
    sc, held, dossier_id = held_assets
    package = _ftm(session, dossier_id)
    for record in package.values():
        model.get_proxy(record)  # still valid FollowTheMoney
    store = {record["id"]: record for record in export_ftm(session, [sc.company, sc.house, held])}
    for asset in (sc.company, sc.house, held):
        # The same conversion: the company that holds another is not written as a bare LegalEntity.
        assert package[asset] == store[asset], asset
    assert package[sc.company]["properties"]["jurisdiction"] == ["mx"]
    assert package[sc.house]["properties"]["amount"] == [HOUSE_VALUE]
    # What FtM has no place for is said, as `workbench export ftm` says it, never dropped unsaid.
    assert HOUSE_COUNTY not in json.dumps(package)
    assert "left out RealEstate.county: FtM has no property for it (1 value(s))" in _role(package)


def test_a_releasable_ftm_package_still_leaves_out_an_asset_value_only_the_leak_supports(session, held_assets):
    model = pytest.importorskip("followthemoney").model
    sc, _, dossier_id = held_assets
    full, released = _ftm(session, dossier_id), _ftm(session, dossier_id, releasable=True)
    assert full[sc.house]["properties"]["amount"] == [HOUSE_VALUE]
    assert "amount" not in released[sc.house]["properties"] and HOUSE_VALUE not in json.dumps(released)
    assert "asset: Value (1)" in _role(released)
    assert released[sc.company]["properties"]["country"] == ["mx"]  # uncited: stays
    for record in released.values():
        model.get_proxy(record)


# ---- pages and locators --------------------------------------------------------------------------

LOCATORS = {"párr. 3": "párr. 3", "foja 12": "foja 12", "row 1": "row 1", "fol. 7": "fol. 7", "Anexo B": "Anexo B",
            "3": "p. 3", "7-8": "pp. 7-8", "xii": "p. xii", "12–14": "pp. 12–14", "p. 9": "p. 9"}


def test_a_locator_with_its_own_word_is_shown_as_typed_and_a_bare_page_takes_p(session, researcher):
    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    for number, page in enumerate(LOCATORS, 1):
        service.add_exhibit(session, researcher, dossier.id, element="material_support", statement_type="allegation",
                            statement=f"Statement {number}.", excerpt=f"excerpt number {number}", page=page,
                            source_id=sc.court)
    session.commit()
    html = export_dossier(session, dossier.id, "html").content.decode()
    md = export_dossier(session, dossier.id, "md").content.decode()
    exhibits = json.loads(export_dossier(session, dossier.id, "json").content)["exhibits"]
    for number, (page, shown) in enumerate(LOCATORS.items(), 1):
        assert f"excerpt number {number}&rdquo; ({shown})" in html, page
        assert f"\u201cexcerpt number {number}\u201d ({shown})" in md, page  # typographic quotes, as in HTML
        assert exhibits[number - 1]["page_label"] == shown, page
    for text in (html, md):
        assert "p. párr." not in text and "p. row" not in text and "p. p." not in text


def test_the_entity_page_and_its_history_show_a_locator_as_typed(db_url, session, researcher):
    sc = build_scenario(session, researcher)
    session.commit()
    client = signed_in_client(db_url, "rosa", "researcher")
    url = f"/entities/{sc.target}"
    for page in ("foja 12", "7-8"):
        response = client.post(f"{url}/cite", data={"csrf_token": csrf_of(client, url), "source_id": sc.court,
                                                    "target": "", "page": page}, follow_redirects=True)
        assert response.status_code == 200, response.text
    text = client.get(url).text
    assert "p. foja" not in text
    assert "Cited Court record 17 (TEST), foja 12" in text and "Cited Court record 17 (TEST), pp. 7-8" in text  # history
    assert re.search(r"Court record 17 \(TEST\)</a>.*?, foja 12", text, re.DOTALL)  # the citation itself


# ---- typed line breaks ---------------------------------------------------------------------------

SUMMARY = "* bullet one\n* bullet two\n\n1. numbered\n2. items <b>not bold</b>"
STATEMENT = "Paid in two parts:\n- first in cash\n- then by transfer"
RETURN_COMMENT = "Please check:\nthe dates\nthe amounts"


@pytest.fixture
def typed(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    service.update_dossier(session, researcher, dossier_id, narrative={"summary": SUMMARY})
    service.add_exhibit(session, researcher, dossier_id, element="material_support", statement_type="allegation",
                        statement=STATEMENT, source_id=sc.court)
    workflow.submit(session, researcher, dossier_id)
    workflow.return_for_changes(session, reviewer, dossier_id, comment=RETURN_COMMENT)
    session.commit()
    return dossier_id


def test_the_pdf_keeps_the_lines_of_the_narrative_the_statements_and_the_comments(session, typed):
    lines = _pdf_lines(export_dossier(session, typed, "pdf").content)
    for expected in ("* bullet one", "* bullet two", "1. numbered", "2. items <b>not bold</b>",
                     "Paid in two parts:", "- first in cash", "- then by transfer"):
        assert expected in lines, expected
    assert any(line.endswith("Please check:") for line in lines) and "the dates" in lines


def test_the_html_keeps_typed_lines_and_still_escapes_them(session, typed):
    html = export_dossier(session, typed, "html").content.decode()
    assert ".narrative p, .typed { white-space: pre-line; }" in html
    assert ('<div class="narrative"><p>* bullet one\n* bullet two</p>'
            '<p>1. numbered\n2. items &lt;b&gt;not bold&lt;/b&gt;</p></div>') in html
    assert "<b>not bold</b>" not in html
    assert f'<p class="typed">{STATEMENT}</p>' in html
    assert '<td class="wrap typed">Please check:\nthe dates\nthe amounts</td>' in html


def test_the_markdown_keeps_each_typed_line_and_paragraph(session, typed):
    markdown_it = pytest.importorskip("markdown_it")
    md = export_dossier(session, typed, "md").content.decode()
    assert "\\* bullet one  \n\\* bullet two\n\n1\\. numbered  \n2\\. items \\<b\\>not bold\\</b\\>\n" in md
    rendered = markdown_it.MarkdownIt("commonmark").render(md)
    assert "<p>* bullet one<br />\n* bullet two</p>" in rendered
    assert "<p>1. numbered<br />\n2. items &lt;b&gt;not bold&lt;/b&gt;</p>" in rendered
    # The lines stay text: no list, heading or raw HTML is made of them.
    assert "<p>Paid in two parts:<br />\n- first in cash<br />\n- then by transfer</p>" in rendered
    assert "<li>bullet" not in rendered and "<b>" not in rendered


def test_the_markdown_history_keeps_a_comments_lines_in_its_cell(session, typed):
    markdown_it = pytest.importorskip("markdown_it")
    md = export_dossier(session, typed, "md").content.decode()
    row = next(line for line in md.splitlines() if "Please check:" in line)
    assert row.endswith("| Please check:<br>the dates<br>the amounts |"), row
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    assert "<td>Please check:<br>the dates<br>the amounts</td>" in rendered


# ---- the exhibits' legend ------------------------------------------------------------------------

def test_the_exhibit_legend_reads_right_for_facts_and_allegations(session, researcher):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    html = export_dossier(session, dossier_id, "html").content.decode()
    assert "an <span" not in html
    lines = _pdf_lines(export_dossier(session, dossier_id, "pdf").content)
    legend = next(line for line in lines if line.startswith("Each exhibit is marked"))
    assert legend.replace(" .", ".") == "Each exhibit is marked FACT (established fact) or ALLEGATION."


def test_an_exhibits_page_is_shown_when_it_has_no_excerpt(session, researcher, db_url):
    """QA round 8: the page of an exhibit without an excerpt ('párr. 3' of a gazette) was printed only
    beside an excerpt, so the page, the Markdown, HTML and PDF exports dropped it."""
    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    service.add_exhibit(session, researcher, dossier.id, element="foreign_person", statement_type="fact",
                        statement="Holds municipal office.", source_id=sc.official, page="párr. 3")
    service.add_exhibit(session, researcher, dossier.id, element="sfnt_link", statement_type="fact",
                        statement="The cartel is designated.", source_id=sc.official, page="7-8")
    service.add_comment(session, researcher, dossier.id, "please\nfix the dates")
    session.commit()
    for fmt in ("md", "html"):
        text = export_dossier(session, dossier.id, fmt).content.decode()
        assert "párr. 3" in text and "pp. 7-8" in text and "p. párr" not in text, fmt
    pdf = " ".join(_pdf_lines(export_dossier(session, dossier.id, "pdf").content))
    assert "párr. 3" in pdf and "pp. 7-8" in pdf
    client = signed_in_client(db_url, "rosa", "researcher")
    page = client.get(f"/dossiers/{dossier.id}").text
    assert re.search(r"Municipal gazette \(TEST\)</a>, párr\. 3", page) and "pp. 7-8" in page
    # a comment keeps its lines on the page too
    assert re.search(r'<p class="comment typed">.*please\nfix the dates</p>', page)
