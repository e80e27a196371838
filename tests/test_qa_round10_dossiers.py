"""QA round 10 on dossiers, driven through the pages as a user would: a refused narrative save refills the
form with what was typed; each exhibit names what its citation cites (and says when that is not the
target) on the page and in every export; an identifier note explains only the identifiers it mentions.
Every scenario is FICTIONAL (the shared scenario of test_dossier_scenario)."""

from __future__ import annotations

import html
import io
import json
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader
from test_dossier_scenario import BAD_CURP, LEAK_TITLE, build_scenario, complete_dossier
from web_helpers import signed_in_client

from workbench.dossiers import service
from workbench.dossiers.exports import export_dossier
from workbench.store.entities import cite, create_entity, create_link, update_entity
from workbench.store.permissions import Actor

RESEARCHER = Actor("rosa", "researcher")
OTHER = Actor("otto", "researcher")


@pytest.fixture
def researcher_client(db_url):
    return signed_in_client(db_url, RESEARCHER.username, "researcher")


def _form_fields(page: str, form_id: str) -> dict[str, str]:
    """What the form ``form_id`` of a page would post as it stands: its inputs and textareas."""

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.inside, self.textarea, self.fields = False, None, {}

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form":
                self.inside = attrs.get("id") == form_id
            elif self.inside and tag == "input" and attrs.get("name"):
                self.fields[attrs["name"]] = attrs.get("value") or ""
            elif self.inside and tag == "textarea" and attrs.get("name"):
                self.textarea = attrs["name"]
                self.fields[self.textarea] = ""

        def handle_data(self, data):
            if self.textarea:
                self.fields[self.textarea] += data

        def handle_endtag(self, tag):
            if tag == "textarea" and self.textarea:
                # A browser drops the one line break that follows <textarea>.
                self.fields[self.textarea] = self.fields[self.textarea].removeprefix("\n")
                self.textarea = None
            elif tag == "form":
                self.inside = False

    parser = Fields()
    parser.feed(page)
    assert parser.fields, f"no form {form_id!r} on the page"
    return parser.fields


def _pdf_text(data: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


# ---- 1. a refused narrative save refills the form with what was typed -----------------------------

def test_a_refused_save_refills_the_form_and_saving_again_keeps_the_edits(session, researcher_client):
    """QA: after a refused save (an issue date typed 12/31/2020) the form held the stored text again, so
    fixing the date and saving saved the old summary: the user's edits were lost."""
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "visa-212a2c",
                                     narrative={"summary": "Old summary.", "background": "Old background."},
                                     visa_data={"visa_class": "B1/B2"})
    session.commit()
    url = f"/dossiers/{dossier.id}"
    form = _form_fields(researcher_client.get(url).text, "narrative-form")
    assert form["narrative_summary"] == "Old summary."
    typed = {"narrative_summary": "New summary:\nthe official's payments, line by line.",
             "narrative_background": "New background <with> markup & ampersands.",
             "identifier_notes": "CURP checked at RENAPO.", "visa_issuing_post": "Monterrey",
             "visa_issue_date": "12/31/2020"}
    refused = researcher_client.post(f"{url}/edit", data={**form, **typed}, follow_redirects=False)
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Not saved" in text
    # The message says what was wrong: the field, the value and the form a date takes.
    error = re.search(r'<ul class="field-errors">(.*?)</ul>', refused.text, re.DOTALL).group(1)
    assert "Issue date" in html.unescape(error) and "12/31/2020" in html.unescape(error)
    # Every field holds exactly what was typed, not the stored text.
    again = _form_fields(refused.text, "narrative-form")
    for key, value in typed.items():
        assert again[key] == value, key
    assert again["visa_visa_class"] == "B1/B2" and again["title"] == dossier.title
    # The refused field is marked, and names its error.
    assert re.search(r'<input id="v-issue_date" name="visa_issue_date"[^>]*aria-invalid="true"', refused.text)
    session.expire_all()
    assert service.get_dossier(session, dossier.id).narrative["summary"] == "Old summary."

    # The user fixes only the date and saves the form as it now stands: every edit is kept.
    saved = researcher_client.post(f"{url}/edit", data={**again, "visa_issue_date": "2020-12-31"},
                                   follow_redirects=False)
    assert saved.status_code == 303, saved.text
    session.expire_all()
    stored = service.get_dossier(session, dossier.id)
    assert stored.narrative == {"summary": typed["narrative_summary"],
                                "background": typed["narrative_background"]}
    assert stored.identifier_notes == "CURP checked at RENAPO."
    assert stored.visa_data == {"visa_class": "B1/B2", "issuing_post": "Monterrey",
                                "issue_date": "2020-12-31"}


def test_a_save_refused_for_a_change_meanwhile_keeps_both_peoples_edits(session, researcher_client):
    """After a conflict the form holds the user's edits and, in the fields the user did not touch, what
    the other person saved: saving it again loses neither."""
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2",
                                     narrative={"summary": "Old summary.", "background": "Old background."})
    session.commit()
    url = f"/dossiers/{dossier.id}"
    form = _form_fields(researcher_client.get(url).text, "narrative-form")
    service.update_dossier(session, OTHER, dossier.id, narrative={"summary": "Old summary.",
                                                                  "background": "Background by Otto."})
    session.commit()
    refused = researcher_client.post(f"{url}/edit", data={**form, "narrative_summary": "Summary by Rosa."},
                                     follow_redirects=False)
    assert refused.status_code == 409 and "Changed by someone else" in refused.text
    again = _form_fields(refused.text, "narrative-form")
    assert again["narrative_summary"] == "Summary by Rosa."
    assert again["narrative_background"] == "Background by Otto."
    saved = researcher_client.post(f"{url}/edit", data=again, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    session.expire_all()
    assert service.get_dossier(session, dossier.id).narrative == {"summary": "Summary by Rosa.",
                                                                  "background": "Background by Otto."}


def test_a_refused_exhibit_keeps_what_was_chosen_and_typed(session, researcher_client):
    """The exhibit form, refused (no statement), comes back with the citation, element and excerpt chosen."""
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    form = _form_fields(researcher_client.get(url).text, "exhibit-form")
    refused = researcher_client.post(f"{url}/exhibits", follow_redirects=False, data={
        **form, "evidence": f"citation:{sc.associate_citation}", "element": "material_support",
        "statement_type": "fact", "statement": "", "excerpt": "testimony, p. 4: monthly payments"})
    assert refused.status_code == 422 and "say what the exhibit shows" in refused.text
    assert f'<option value="citation:{sc.associate_citation}" selected>' in refused.text
    assert '<option value="material_support" selected>' in refused.text
    assert '<option value="fact" selected>' in refused.text
    assert _form_fields(refused.text, "exhibit-form")["excerpt"] == "testimony, p. 4: monthly payments"
    assert re.search(r'<textarea id="x-statement" name="statement" rows="2" required aria-invalid="true"',
                     refused.text)

# ---- 2. an exhibit names what its citation cites ---------------------------------------------------

CARTEL = "Cartel de Prueba (TEST)"
TARGET = "Ramiro Testigo Ficticio (FICTIONAL)"
RANCH = "Ranch on Secret Rd (TEST)"
PARCEL = "TEST-APN-SECRET"


def _cited_scenario(session, actor, cite_associate: bool = True, ranch_source: str = "registry"):
    """The shared scenario, with a country of the cartel cited to the gazette, the target's nationality
    cited to the gazette, and a ranch the target owns (its ownership cited to ``ranch_source``) whose
    parcel number the county deed gives."""
    sc = build_scenario(session, actor, cite_associate=cite_associate)
    update_entity(session, actor, sc.cartel, {"country": "mx"}, replace=False)
    cartel_country = cite(session, actor, sc.official, entity_id=sc.cartel, prop="country", value="mx").id
    nationality = cite(session, actor, sc.official, entity_id=sc.target, prop="nationality", value="mx").id
    ranch = create_entity(session, actor, "RealEstate", {"name": RANCH, "parcelNumber": PARCEL}).obj.id
    owns = create_link(session, actor, "Ownership", sc.target, ranch, {"percentage": "100"}).obj.id
    cite(session, actor, getattr(sc, ranch_source), link_id=owns)
    parcel = cite(session, actor, sc.registry, entity_id=ranch, prop="parcelNumber", value=PARCEL).id
    session.flush()
    return sc, {"cartel_country": cartel_country, "nationality": nationality, "parcel": parcel, "owns": owns}


def _exhibit_blocks(fmt: str, text: str) -> dict[int, str]:
    """Each exhibit's part of a page or an export, by number."""
    if fmt == "json":
        return {ex["number"]: json.dumps(ex, ensure_ascii=False) for ex in json.loads(text)["exhibits"]}
    marks = {"page": r'<article class="exhibit" id="exhibit-(\d+)">',
             "html": r'<div class="exhibit" id="exhibit-(\d+)">',
             "md": r"### Exhibit (\d+) ", "pdf": r"Exhibit (\d+) (?:FACT|ALLEGATION) "}[fmt]
    parts = re.split(marks, text)
    blocks = {}
    for number, body in zip(parts[1::2], parts[2::2]):
        blocks[int(number)] = html.unescape(body.split("<h2", 1)[0]) if fmt in ("page", "html") else body
    return blocks


def _shown(client, url: str, releasable: bool = False) -> dict[str, dict[int, str]]:
    suffix = "&releasable=1" if releasable else ""
    shown = {}
    if not releasable:
        shown["page"] = _exhibit_blocks("page", client.get(url).text)
    for fmt in ("html", "md", "json"):
        shown[fmt] = _exhibit_blocks(fmt, client.get(f"{url}/export?format={fmt}{suffix}").text)
    pdf = _pdf_text(client.get(f"{url}/export?format=pdf{suffix}").content)
    shown["pdf"] = _exhibit_blocks("pdf", pdf.split(" Exhibits Each exhibit is marked", 1)[1])
    return shown


def test_each_exhibit_names_what_its_citation_cites_on_the_page_and_in_exports(session, researcher_client):
    """QA: an exhibit showed only its source ('Source: Municipal gazette ... official, reliability A'): a
    reviewer could not see that 'Foreign person' rested on a citation about the cartel, nor that a
    citation was about an entry no longer on the dossier's chains."""
    from workbench.store.entities import delete_link

    sc, ids = _cited_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    add = service.add_exhibit
    add(session, RESEARCHER, dossier.id, element="foreign_person", statement_type="fact",
        statement="A Mexican national.", citation_id=ids["cartel_country"])  # 1: about the cartel
    add(session, RESEARCHER, dossier.id, element="foreign_person", statement_type="fact",
        statement="A Mexican national.", citation_id=ids["nationality"])  # 2: about the target
    add(session, RESEARCHER, dossier.id, element="material_support", statement_type="allegation",
        statement="Protection payments.", citation_id=sc.associate_citation)  # 3: the target's link
    add(session, RESEARCHER, dossier.id, element="material_support", statement_type="allegation",
        statement="Holds a ranch.", citation_id=ids["parcel"])  # 4: an asset, until its link goes
    add(session, RESEARCHER, dossier.id, element="sfnt_link", statement_type="fact",
        statement="The cartel is designated.", source_id=sc.official)  # 5: the source as a whole
    delete_link(session, RESEARCHER, ids["owns"])
    session.commit()

    shown = _shown(researcher_client, f"/dossiers/{dossier.id}")
    for fmt, blocks in shown.items():
        assert f"{CARTEL}: Country Mexico" in blocks[1], fmt
        assert "not the target" in blocks[1] and "designated party" in blocks[1], fmt
        assert f"{TARGET}: Nationality Mexico" in blocks[2] and "not the target" not in blocks[2], fmt
        assert f"{TARGET} associate of {CARTEL}" in blocks[3] and "not the target" not in blocks[3], fmt
        assert f"{RANCH}: Parcel number (APN) TEST-APN-SECRET" in blocks[4], fmt
        assert "not the target, nor on its chains" in blocks[4], fmt
        assert "not the target" not in blocks[5], fmt
    doc = json.loads(researcher_client.get(f"/dossiers/{dossier.id}/export?format=json").text)
    cites = {ex["number"]: ex["cites"] for ex in doc["exhibits"]}
    assert (cites[1]["entity_id"], cites[1]["prop"], cites[1]["value"]) == (sc.cartel, "country", "mx")
    assert [cites[n]["relation"] for n in (1, 2, 3, 4)] == ["designated", "target", "target", "other"]
    assert cites[3]["link"]["source_id"] == sc.target and cites[3]["link"]["label"] == "associate of"
    assert cites[5] is None
    # The author's picker describes the citations in the same words.
    page = researcher_client.get(f"/dossiers/{dossier.id}").text
    picker = re.search(r'<select id="x-evidence".*?</select>', page, re.DOTALL).group(0)
    assert f"{CARTEL}: Country Mexico" in html.unescape(picker)


def test_a_releasable_export_names_no_subject_or_value_it_withholds_through_an_exhibit(session, researcher):
    """The chain to the cartel and the ranch rest on the leak alone, so the releasable export withholds
    them; exhibits citing the gazette about the cartel and the deed about the ranch stay (their sources
    are releasable), but must not name what was withheld."""
    sc, ids = _cited_scenario(session, researcher, cite_associate=False, ranch_source="leak")
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    service.add_exhibit(session, researcher, dossier.id, element="foreign_person", statement_type="fact",
                        statement="A Mexican national.", citation_id=ids["cartel_country"])
    service.add_exhibit(session, researcher, dossier.id, element="material_support",
                        statement_type="allegation", statement="Holds a property.", citation_id=ids["parcel"])
    session.commit()
    for fmt in ("html", "md", "json", "pdf"):
        full = export_dossier(session, dossier.id, fmt).content
        released = export_dossier(session, dossier.id, fmt, releasable=True).content
        read = _pdf_text if fmt == "pdf" else bytes.decode
        full, released = read(full), read(released)
        assert CARTEL in full and RANCH in full and PARCEL in full, fmt
        assert CARTEL not in released and RANCH not in released and PARCEL not in released, fmt
        assert ("" if fmt == "json" else "Cites ") + "a fact withheld from the releasable export" in released, fmt
        assert LEAK_TITLE not in released, fmt
    doc = json.loads(export_dossier(session, dossier.id, "json", releasable=True).content)
    assert [ex["number"] for ex in doc["exhibits"]] == [1, 2]
    assert all(ex["cites"]["withheld"] and ex["cites"]["value"] is None for ex in doc["exhibits"])


# ---- 3. an identifier note explains only the identifiers it mentions -------------------------------

BAD_RFC = "RFC:VIIM750312K27"  # fails its check digit


def test_an_identifier_note_explains_only_the_identifiers_it_mentions(session, researcher_client):
    """QA: any identifier note 'explained' every failing identifier, one added after the note included."""
    sc = build_scenario(session, RESEARCHER, identifiers=(BAD_CURP,))
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    session.commit()
    url = f"/dossiers/{dossier_id}"

    def identifiers_check() -> dict:
        checks = researcher_client.get(f"{url}/completeness").json()["checks"]
        return next(c for c in checks if c["key"] == "identifiers")

    def notes_saved(note: str) -> dict:
        """The identifier notes saved through the page's form; the check as it reads then."""
        form = _form_fields(researcher_client.get(url).text, "narrative-form")
        saved = researcher_client.post(f"{url}/edit", data={**form, "identifier_notes": note}, follow_redirects=False)
        assert saved.status_code == 303, saved.text
        return identifiers_check()

    # A note that names no identifier explains none.
    check = notes_saved("Printed so in the gazette.")
    assert not check["ok"] and "VIIM750312HSLLBR09" in check["problems"][0]
    # The CURP named (as the gazette spaces it, in small letters) is explained.
    check = notes_saved("The CURP viim 750312-hsllbr09 is printed so in the official gazette; verified twice.")
    assert check["ok"] and any("VIIM750312HSLLBR09" in n and "explained" in n for n in check["notes"])

    # An RFC failing its check digit, added after the note, is not explained by it.
    update_entity(session, RESEARCHER, sc.target, {"identifier": [BAD_CURP, BAD_RFC]}, replace=False)
    session.commit()
    check = identifiers_check()
    assert not check["ok"]
    [problem] = check["problems"]
    assert "VIIM750312K27" in problem and "do not mention it" in problem
    # A note naming the scheme alone ('the CURP') no longer says which CURP once the target holds two.
    other_curp = "CURP:VIIM750312HSLLBR07"  # fails its check digit too
    update_entity(session, RESEARCHER, sc.target, {"identifier": [BAD_CURP, BAD_RFC, other_curp]}, replace=False)
    session.commit()
    check = notes_saved("The CURP is printed so in the official gazette; RFC VIIM750312K27 as the SAT lists it.")
    assert len(check["problems"]) == 2 and all("CURP" in p and "do not mention it" in p for p in check["problems"])
    assert any("VIIM750312K27" in n and "explained" in n for n in check["notes"])
    page = researcher_client.get(url).text
    refused = researcher_client.post(f"{url}/move", follow_redirects=False,
                                     data={**_form_fields(page, "move-form"), "action": "submit"})
    assert refused.status_code == 422 and "VIIM750312HSLLBR07" in refused.text
    session.expire_all()
    assert service.get_dossier(session, dossier_id).state == "draft"


def test_an_identifier_is_named_by_whole_words_not_inside_a_longer_one():
    """Review of round 10: the note was searched as one run of letters, so a CURP named in it also
    'named' an RFC it begins with."""
    from workbench.dossiers.completeness import _mentions

    rfc = {"scheme": "RFC", "number": "VIIM750312", "value": "RFC:VIIM750312"}
    curp = {"scheme": "CURP", "number": "VIIM750312HSLLBR09", "value": "CURP:VIIM750312HSLLBR09"}
    note = "The CURP VIIM750312HSLLBR09 is printed so in the official gazette."
    assert not _mentions(note, rfc, [rfc, curp])
    assert _mentions(note, curp, [rfc, curp])
    assert _mentions("RFC viim-7503 12, as the SAT lists it", rfc, [rfc, curp])
