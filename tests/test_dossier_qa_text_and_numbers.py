"""QA findings on dossiers, driven through the pages: an edit form that sends some fields only, paragraphs
typed in a browser, exhibit numbers across versions, identifiers in the FtM package, long unbroken text in
the PDF, the evidence picker, and the page of an excerpt already written 'p. 3'."""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from test_dossier_scenario import VALID_CURP, build_scenario, complete_dossier
from web_helpers import csrf_of, signed_in_client

from workbench.dossiers import service, workflow
from workbench.store.entities import create_source
from workbench.store.permissions import Actor

RESEARCHER = Actor("rosa", "researcher")
REVIEWER = Actor("ruben", "reviewer")


@pytest.fixture
def researcher_client(db_url):
    return signed_in_client(db_url, RESEARCHER.username, "researcher")


def _version(page_html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page_html).group(1)


def _post(client, url: str, data: dict, path: str = ""):
    """Post a form of the dossier page at ``url`` with the page's CSRF token and row version."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    return client.post(f"{url}{path}", data={"csrf_token": csrf_of(client, url), "version": _version(page.text),
                                             **data}, follow_redirects=False)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_edit_sending_only_the_title_keeps_identifier_notes_and_visa_data(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    visa = {"visa_class": "B1/B2", "visa_number": "TEST-FOIL-1", "issuing_post": "Monterrey",
            "issue_date": "2019-01-15", "expiry_date": "2029-01-14"}
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "visa-212a2c", visa_data=visa,
                                     identifier_notes="RFC not yet confirmed by the registry.",
                                     narrative={"summary": "Kept summary."})
    session.commit()
    url = f"/dossiers/{dossier.id}"

    response = _post(researcher_client, url, {"title": "Renamed by a script"}, "/edit")
    assert response.status_code == 303, response.text
    session.expire_all()
    dossier = service.get_dossier(session, dossier.id)
    assert dossier.title == "Renamed by a script"
    assert dossier.identifier_notes == "RFC not yet confirmed by the registry."
    assert dossier.visa_data == visa
    assert dossier.narrative == {"summary": "Kept summary."}

    # A form sending one visa field changes that one, and no other.
    response = _post(researcher_client, url, {"visa_issuing_post": "Guadalajara"}, "/edit")
    assert response.status_code == 303, response.text
    session.expire_all()
    dossier = service.get_dossier(session, dossier.id)
    assert dossier.visa_data == {**visa, "issuing_post": "Guadalajara"}
    assert dossier.identifier_notes == "RFC not yet confirmed by the registry."


def test_paragraphs_typed_in_a_browser_stay_paragraphs_in_every_export(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    # What a browser posts from a textarea: CR LF line breaks (and old Mac CRs from pasted text).
    response = _post(researcher_client, url, {"narrative_summary": "First paragraph.\r\n\r\nSecond paragraph.\r\r"
                                                                   "Third paragraph."}, "/edit")
    assert response.status_code == 303, response.text
    response = _post(researcher_client, url, {"evidence": f"source:{sc.official}", "element": "foreign_person",
                                              "statement_type": "fact",
                                              "statement": "Holds office.\r\n\r\nSince 2019."}, "/exhibits")
    assert response.status_code == 303, response.text
    response = researcher_client.post(f"{url}/comments", data={"csrf_token": csrf_of(researcher_client, url),
                                                               "text": "Check this.\r\n\r\nAnd that."},
                                      follow_redirects=False)
    assert response.status_code == 303, response.text

    session.expire_all()
    dossier = service.get_dossier(session, dossier.id)
    assert dossier.narrative["summary"] == "First paragraph.\n\nSecond paragraph.\n\nThird paragraph."
    assert dossier.exhibits[0].statement == "Holds office.\n\nSince 2019."
    assert [c.text for c in service.comments_for(session, dossier.id)] == ["Check this.\n\nAnd that."]

    html = researcher_client.get(f"{url}/export?format=html").text
    for para in ("First paragraph.", "Second paragraph.", "Third paragraph."):
        assert f"<p>{para}</p>" in html
    markdown = researcher_client.get(f"{url}/export?format=md").text
    assert "First paragraph.\n\nSecond paragraph.\n\nThird paragraph." in markdown
    pdf_lines = [line.strip() for line in _pdf_text(researcher_client.get(f"{url}/export?format=pdf").content)
                 .splitlines()]
    assert "First paragraph." in pdf_lines and "Second paragraph." in pdf_lines  # not one run-on paragraph


def test_a_number_removed_in_an_earlier_version_is_not_given_again(session, researcher_client, db_url):
    reviewer_client = signed_in_client(db_url, REVIEWER.username, "reviewer")
    sc = build_scenario(session, RESEARCHER)
    first = service.get_dossier(session, complete_dossier(session, RESEARCHER, sc))
    session.commit()
    url = f"/dossiers/{first.id}"
    exhibit_4 = next(ex for ex in first.exhibits if ex.number == 4)
    response = _post(researcher_client, url, {}, f"/exhibits/{exhibit_4.id}/remove")
    assert response.status_code == 303, response.text
    session.expire_all()
    workflow.submit(session, RESEARCHER, first.id)
    session.commit()
    # The reviewer's comment names the removed exhibit: that number must keep meaning that exhibit.
    workflow.return_for_changes(session, REVIEWER, first.id, "The ledger (exhibit 4) was right to go; see exhibit 3.")
    session.commit()
    assert reviewer_client.get(url).status_code == 200

    response = researcher_client.post(f"{url}/new-version", data={"csrf_token": csrf_of(researcher_client, url)},
                                      follow_redirects=False)
    assert response.status_code == 303, response.text
    second_url = response.headers["location"]
    assert second_url != url
    response = _post(researcher_client, second_url, {
        "evidence": f"source:{sc.court}", "element": "material_support", "statement_type": "fact",
        "statement": "Court record of the payments."}, "/exhibits")
    assert response.status_code == 303, response.text
    page = researcher_client.get(second_url)
    assert "Added exhibit 5." in page.text
    assert 'id="exhibit-5"' in page.text and 'id="exhibit-4"' not in page.text


def test_the_ftm_package_carries_each_identifier_as_an_identification_with_its_scheme(session, researcher_client):
    model = pytest.importorskip("followthemoney").model
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    session.commit()
    response = researcher_client.get(f"/dossiers/{dossier_id}/export?format=ftm")
    assert response.status_code == 200
    proxies = [model.get_proxy(json.loads(line)) for line in response.text.splitlines()]
    ids = [p.id for p in proxies]
    assert len(ids) == len(set(ids))
    identifications = {(p.first("holder"), p.first("type"), p.first("number"))
                       for p in proxies if p.schema.name == "Identification"}
    scheme, number = VALID_CURP.split(":")
    # The target's CURP, and the company held (an asset to block) with its state file number.
    assert identifications == {(sc.target, scheme, number), (sc.company, "STATE_FILE", "0801")}
    assert next(p for p in proxies if p.id == sc.target).get("idNumber") == [number]


def test_long_unbroken_text_wraps_inside_the_pdf_page(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    url_tail = "END-OF-THE-LONG-URL"
    long_url = "https://example.org/archive/" + "a" * (330 - 28 - len(url_tail)) + url_tail
    source = create_source(session, RESEARCHER, url=long_url, title="Archive page (TEST)", source_type="press",
                           reliability="C").id
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    statement = "x" * 20_000 + "END-OF-THE-STATEMENT"
    response = _post(researcher_client, url, {"evidence": f"source:{source}", "element": "foreign_person",
                                              "statement_type": "fact", "statement": statement}, "/exhibits")
    assert response.status_code == 303, response.text

    response = researcher_client.get(f"{url}/export?format=pdf")
    assert response.status_code == 200
    text = _pdf_text(response.content)
    flat = "".join(text.split())
    # Whole, though a statement this long runs over pages (whose footers come between its lines).
    assert flat.count("x") >= 20_000 and "xEND-OF-THE-STATEMENT" in flat and long_url in flat
    # Text extraction reads glyphs drawn off the page too: the lines show whether the text wrapped. A
    # line of the page holds about a hundred characters; run off the page, the statement is one line.
    longest = max(text.splitlines(), key=len)
    assert len(longest) < 200, longest[:80]


def test_the_evidence_picker_starts_empty_and_an_exhibit_without_evidence_is_refused(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    page = researcher_client.get(url).text
    picker = re.search(r'<select id="x-evidence"[^>]*>(.*?)</select>', page, re.DOTALL).group(1)
    options = re.findall(r'<option value="([^"]*)"([^>]*)>', picker)
    assert options[0] == ("", " selected")
    assert all("selected" not in attrs for _, attrs in options[1:])
    assert any(value == f"citation:{sc.associate_citation}" for value, _ in options)

    # Sent as the page offers it, untouched: refused, saying what is missing, with what was typed.
    response = _post(researcher_client, url, {"evidence": "", "element": "foreign_person", "statement_type": "fact",
                                              "statement": "Holds municipal office."}, "/exhibits")
    assert response.status_code == 422
    assert "pick a source or one of its citations" in response.text
    assert "Holds municipal office." in response.text
    session.expire_all()
    assert service.get_dossier(session, dossier.id).exhibits == []


def test_a_page_written_as_p_3_is_not_shown_as_p_p_3(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    for page, excerpt in (("p. 3", "the official took office"), ("12", "the cartel is designated")):
        response = _post(researcher_client, url, {
            "evidence": f"citation:{sc.associate_citation}", "element": "material_support",
            "statement_type": "allegation", "statement": "Payments.", "excerpt": excerpt, "page": page}, "/exhibits")
        assert response.status_code == 303, response.text

    shown = {"page": researcher_client.get(url).text}
    for fmt in ("html", "md"):
        shown[fmt] = researcher_client.get(f"{url}/export?format={fmt}").text
    shown["pdf"] = " ".join(_pdf_text(researcher_client.get(f"{url}/export?format=pdf").content).split())
    for fmt, text in shown.items():
        assert "p. p." not in text, fmt
        assert "(p. 3)" in text and "(p. 12)" in text, fmt
