"""QA round 12 on dossiers, driven as a user would: through the pages (the test client) and the exports.

1. Markdown: every source of a link to a designated party is an item of a list nested in the link's item.
2. The releasable check says what the releasable export leaves out, and its label agrees with its notes.
3. A decided dossier's header names who approved (returned, rejected) it and when; the two hashes a reader
   sees (the content hash reviewed, the hash of the frozen snapshot) are labelled apart.
4. A narrative saved from two tabs says who changed it, and that the changes were carried over.
5. Workflow wording: the comment label, a hint for each way on from a return, an incomplete submission.
6. The target's positions (Occupancy to a Position) on the page and in every export, the FtM package
   carrying what the exhibits cite.
7. The target picker shows no raw score.
8. The evidence picker tells apart two sources of one title, and words a page as the entity pages do.

Every scenario is FICTIONAL (the shared scenario of test_dossier_scenario)."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from markdown_it import MarkdownIt
from pypdf import PdfReader
from test_dossier_scenario import LEAK_TITLE, build_scenario, complete_dossier
from web_helpers import csrf_of, signed_in_client

from workbench.dossiers import service, workflow
from workbench.dossiers.exports import export_dossier
from workbench.store.entities import cite, create_entity, create_link, create_source
from workbench.store.permissions import Actor

RESEARCHER = Actor("rosa", "researcher")
OTHER = Actor("otto", "researcher")
REVIEWER = Actor("ruben", "reviewer")
TARGET = "Ramiro Testigo Ficticio (FICTIONAL)"
CARTEL = "Cartel de Prueba (TEST)"


@pytest.fixture
def researcher_client(db_url):
    return signed_in_client(db_url, RESEARCHER.username, "researcher")


@pytest.fixture
def reviewer_client(db_url):
    return signed_in_client(db_url, REVIEWER.username, "reviewer")


def _pdf_text(data: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


_BLOCK = re.compile(r"</?(?:p|div|li|ul|ol|th|td|tr|br|dt|dd|h\d|section|table|blockquote|form)\b[^>]*>")


def _text(page: str) -> str:
    """A page's text as a reader reads it: a block starts a new word, an inline tag (<strong>) does not."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", _BLOCK.sub(" ", page))).split())


def _version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def _content_hash(page: str) -> str:
    return re.search(r'name="content_hash" value="([0-9a-f]{64})"', page).group(1)


def _check(page: str, key: str) -> str:
    """The completeness check ``key`` of a dossier page, as its <li> (with its status and mark)."""
    return re.search(rf'<li [^>]*data-check="{key}".*?</strong>', page, re.DOTALL).group(0)


def _move(client, url: str, action: str, comment: str = "", page: str | None = None):
    page = page or client.get(url).text
    data = {"csrf_token": csrf_of(client, url), "version": _version(page), "action": action, "comment": comment}
    if 'name="content_hash"' in page:
        data["content_hash"] = _content_hash(page)
    return client.post(f"{url}/move", data=data, follow_redirects=False)


# ---- 1. Markdown: each source of a link step is a nested list item ----------------------------------

def test_markdown_lists_every_source_of_a_link_as_an_item_nested_in_the_link(session, researcher):
    """QA: the first source of a link step was glued onto the link's own line ('...protection payments)   -
    Source: Court record ...'), so it did not render as a sub-bullet; the second one did."""
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    md = export_dossier(session, dossier_id, "md").content.decode()
    section = md.split("## Links to designated parties", 1)[1].split("\n## ", 1)[0]
    link_line = next(line for line in section.splitlines() if line.startswith("1. "))
    assert "Source:" not in link_line, link_line
    # Read as Markdown: one numbered item for the link, holding a list of its two sources.
    rendered = MarkdownIt("commonmark").render(section)
    item = re.search(r"<ol>\s*<li>(.*?)</li>\s*</ol>", rendered, re.DOTALL).group(1)
    head, nested = item.split("<ul>", 1)
    assert "associate of" in head and "Source" not in head
    sources = re.findall(r"<li>(.*?)</li>", nested, re.DOTALL)
    assert len(sources) == 2, rendered
    assert sources[0].startswith("Source: Court record 17 (TEST)")
    assert sources[1].startswith(f"Source: {html.escape(LEAK_TITLE, quote=False)}")
    assert "<p>" not in nested  # a tight list: no item a paragraph of its own


# ---- 2. the releasable check says what the releasable export leaves out -------------------------------

def test_the_releasable_check_says_what_the_releasable_export_leaves_out(session, researcher_client):
    """QA: '✔ The releasable export cites no unreleasable source' (PDF 'Met:') stood above the note 'Exhibit 4
    cites an unreleasable source', and was ticked when the dossier had no exhibits at all."""
    sc = build_scenario(session, RESEARCHER)
    with_leak = complete_dossier(session, RESEARCHER, sc)  # exhibit 4 cites the leak
    empty = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2").id
    released = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2").id
    service.add_exhibit(session, RESEARCHER, released, element="foreign_person", statement_type="fact",
                        statement="Mexican national holding municipal office.", source_id=sc.official)
    session.commit()

    check = _check(researcher_client.get(f"/dossiers/{with_leak}").text, "releasable")
    assert "The releasable export leaves out exhibit 4: it cites an unreleasable source" in check
    assert "✔" not in check and "cites no unreleasable source" not in check
    pdf = _pdf_text(export_dossier(session, with_leak, "pdf").content)
    assert "Note: The releasable export leaves out exhibit 4: it cites an unreleasable source" in pdf
    assert "Met: The releasable export" not in pdf
    md = export_dossier(session, with_leak, "md").content.decode()
    assert "- Note: The releasable export leaves out exhibit 4" in md and "- [x] The releasable export" not in md

    check = _check(researcher_client.get(f"/dossiers/{empty}").text, "releasable")
    assert "No exhibits yet" in check and "✔" not in check and 'data-status="info"' in check
    assert "cites" not in check  # no claim about citations there are none of
    checks = researcher_client.get(f"/dossiers/{empty}/completeness").json()["checks"]
    assert next(c for c in checks if c["key"] == "releasable")["status"] == "info"

    check = _check(researcher_client.get(f"/dossiers/{released}").text, "releasable")
    # QA round 15: the releasable export leaves out the leak cited on the chain to the cartel, and says so: a note,
    # no tick (a dossier with nothing to leave out keeps its tick: test_qa_round15_dossiers).
    assert "ℹ Every exhibit cites a releasable source" in check and 'data-status="info"' in check


def _submitted(session):
    """The scenario and a complete dossier on its target, submitted for review (committed)."""
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, dossier_id)
    session.commit()
    return sc, dossier_id


# ---- 3. who decided, and the two hashes -------------------------------------------------------------

def test_an_approved_dossier_names_its_approver_and_labels_the_reviewed_and_frozen_hashes(
        session, researcher_client, reviewer_client):
    """QA: the header read 'approved version 1 · by rosa' (the author) as if rosa approved it; and the
    SHA-256 the reviewer saw before approving differed from the one shown after, unexplained. The frozen
    snapshot holds the approval itself (its state, its history entry), which the reviewed page could not:
    the page now shows both hashes, labelled, and the reviewed one is the one the reviewer read."""
    sc, dossier_id = _submitted(session)
    url = f"/dossiers/{dossier_id}"
    before = reviewer_client.get(url).text
    seen = _content_hash(before)
    assert re.search(rf'Content hash \(SHA-256 of what this page shows now[^<]*<code id="snapshot-hash">{seen}',
                     before)
    assert _move(reviewer_client, url, "approve", "Meets the criteria.", before).status_code == 303

    session.expire_all()
    frozen = service.get_dossier(session, dossier_id).snapshot_hash
    assert frozen != seen
    page = researcher_client.get(url).text
    decision = re.search(r'<strong id="decision">(.*?)</strong>', page).group(1)
    assert re.fullmatch(r"approved by ruben on \d{4}-\d\d-\d\d \d\d:\d\d UTC", decision), decision
    assert "opened by rosa" in page
    assert re.search(rf'Content hash reviewed \([^)]*\): <code id="reviewed-hash">{seen}</code>', page)
    assert re.search(rf'Hash of the frozen snapshot \([^)]*approval added[^)]*\): <code id="snapshot-hash">{frozen}',
                     page)
    for fmt in ("md", "html"):
        text = researcher_client.get(f"{url}/export?format={fmt}").text
        opening = '<strong class="decision">' if fmt == "html" else ""
        assert f"Decision: {opening}{decision}" in text, fmt
        assert "Content hash reviewed" in text and seen in text and frozen in text, fmt
    assert decision in _pdf_text(export_dossier(session, dossier_id, "pdf").content)
    preamble = export_dossier(session, dossier_id, "assets-csv").content.decode().splitlines()[3]
    assert f"state approved; version 1; {decision}; snapshot sha256 {frozen}" in preamble


def test_a_returned_or_rejected_dossier_names_who_returned_or_rejected_it(session, researcher_client,
                                                                          reviewer_client):
    sc = build_scenario(session, RESEARCHER)
    returned, rejected = complete_dossier(session, RESEARCHER, sc), complete_dossier(session, RESEARCHER, sc)
    for dossier_id in (returned, rejected):
        workflow.submit(session, RESEARCHER, dossier_id)
    session.commit()
    assert _move(reviewer_client, f"/dossiers/{returned}", "return", "Cite the gazette page.").status_code == 303
    assert _move(reviewer_client, f"/dossiers/{rejected}", "reject", "No basis.").status_code == 303
    for dossier_id, words in ((returned, "returned for changes by ruben on "), (rejected, "rejected by ruben on ")):
        page = researcher_client.get(f"/dossiers/{dossier_id}").text
        assert re.search(r'<strong id="decision">(.*?)</strong>', page).group(1).startswith(words)
        assert f"Decision: {words}" in researcher_client.get(f"/dossiers/{dossier_id}/export?format=md").text
    draft = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2").id
    session.commit()
    assert 'id="decision"' not in researcher_client.get(f"/dossiers/{draft}").text


# ---- 4. a narrative saved from two tabs -------------------------------------------------------------

def _narrative_form(page: str) -> dict[str, str]:
    form = re.search(r'<form [^>]*id="narrative-form".*?</form>', page, re.DOTALL).group(0)
    fields = {m[0]: html.unescape(m[1]) for m in re.findall(r'<input [^>]*name="([^"]+)" value="([^"]*)"', form)}
    fields.update({m[0]: html.unescape(m[1]).removeprefix("\n")
                   for m in re.findall(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.DOTALL)})
    return fields


def test_a_narrative_saved_from_two_tabs_says_the_changes_were_carried_over(session, researcher_client):
    """QA: 'Changed by someone else. you changed dossier ... make your change again', while the form already
    held the changes carried over onto the newer version."""
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2",
                                     narrative={"summary": "Old summary.", "background": "Old background."})
    session.commit()
    url = f"/dossiers/{dossier.id}"
    tab_one, tab_two = (_narrative_form(researcher_client.get(url).text) for _ in range(2))
    saved = researcher_client.post(f"{url}/edit", data={**tab_one, "narrative_background": "Background, tab one."},
                                   follow_redirects=False)
    assert saved.status_code == 303
    refused = researcher_client.post(f"{url}/edit", data={**tab_two, "narrative_summary": "Summary, tab two."})
    assert refused.status_code == 409
    alert = _text(re.search(r'<div class="flash error" role="alert" id="refused">.*?</div>', refused.text,
                            re.DOTALL).group(0))
    assert alert.startswith("Changed since this page was opened. You changed dossier")
    assert "Changed by someone else" not in alert and "make your change again" not in alert
    assert ("Nothing was saved: the narrative form below holds the current version with your changes carried "
            "over onto it; check it and save again.") in alert
    assert "Changed in your other save (now shown): Background." in alert and "other person" not in alert
    again = _narrative_form(refused.text)
    assert (again["narrative_summary"], again["narrative_background"]) == ("Summary, tab two.", "Background, tab one.")

    # Someone else's save reads as theirs, worded the same way.
    service.update_dossier(session, OTHER, dossier.id, narrative={"summary": "Summary, tab two.",
                                                                  "background": "Background by Otto."})
    session.commit()
    refused = researcher_client.post(f"{url}/edit", data={**again, "narrative_summary": "Summary, once more."})
    alert = _text(re.search(r'<div class="flash error" role="alert" id="refused">.*?</div>', refused.text,
                            re.DOTALL).group(0))
    assert f"Changed by someone else. Dossier '{dossier.title}' was changed by someone else since you opened it" \
        in alert
    assert "changes carried over onto it; check it and save again." in alert and "make your change" not in alert
    assert "Changed by the other person (now shown): Background." in alert  # as an entity's form says it


# ---- 5. workflow wording --------------------------------------------------------------------------

def _comment_label(page: str) -> str:
    return re.search(r'<label for="move-comment">(.*?)</label>', page).group(1)


def test_the_comment_label_names_return_and_reject_only_to_those_who_can(session, researcher_client,
                                                                          reviewer_client):
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    session.commit()
    url = f"/dossiers/{dossier_id}"
    assert _comment_label(researcher_client.get(url).text) == "Comment (optional)"  # a draft: submit
    workflow.submit(session, RESEARCHER, dossier_id)
    session.commit()
    assert _comment_label(reviewer_client.get(url).text) == "Comment (required to return or reject)"
    assert _move(reviewer_client, url, "return", "Cite the gazette page.").status_code == 303
    page = researcher_client.get(url).text
    assert _comment_label(page) == "Comment (optional)"  # a returned dossier: reopen
    assert "required to return or reject" not in page


def test_a_returned_dossier_says_when_to_reopen_it_and_when_to_open_a_new_version(session, researcher_client):
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, dossier_id)
    workflow.return_for_changes(session, REVIEWER, dossier_id, "Cite the gazette page.")
    session.commit()
    page = researcher_client.get(f"/dossiers/{dossier_id}").text
    assert 'value="reopen"' in page and "/new-version" in page
    reopen = _text(re.search(r'<p class="muted hint" id="hint-reopen">.*?</p>', page).group(0))
    new_version = _text(re.search(r'<p class="muted hint" id="hint-new-version">.*?</p>', page).group(0))
    assert reopen.startswith("Reopen as draft: the usual answer to a return") and "version 1" in reopen
    assert new_version.startswith("Open a new version: leaves version 1 as returned") and "version 2" in new_version
    assert 'aria-describedby="hint-reopen"' in page and 'aria-describedby="hint-new-version"' in page


def test_an_incomplete_submission_says_what_blocks_it_not_that_the_typing_was_wrong(session, researcher_client):
    """QA: 'Not saved... The form below holds what you typed', though no typed field was at fault."""
    sc = build_scenario(session, RESEARCHER)
    dossier_id = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2").id
    session.commit()
    refused = _move(researcher_client, f"/dossiers/{dossier_id}", "submit", "Ready.")
    assert refused.status_code == 422
    alert = _text(re.search(r'<div class="flash error" role="alert" id="refused">.*?</div>', refused.text,
                            re.DOTALL).group(0))
    assert alert.startswith("Not submitted. The dossier is not complete, so it was not submitted. It still needs:")
    assert "Missing: No exhibit supports the element Foreign person" in alert
    assert "Nothing you typed is at fault" in alert and "submit it again" in alert
    assert "Not saved" not in alert and "The form below holds what you typed" not in alert


# ---- 6. the target's positions ---------------------------------------------------------------------

MAYOR = "Municipal president of Villa Prueba (FICTIONAL)"
COUNCILLOR = "Councillor of Villa Prueba (FICTIONAL)"
SECRET_POST = "Secret treasurer of the plaza (FICTIONAL)"


def _with_positions(session, actor):
    """The scenario's target holds an office since 2021 (the gazette), held another in 2018-2020 (the
    gazette), and one that only the leak gives; exhibit 1 cites the current office's Occupancy."""
    sc = build_scenario(session, actor)
    ids = {}
    for caption, dates, source in ((MAYOR, {"startDate": "2021-09-15"}, sc.official),
                                   (COUNCILLOR, {"startDate": "2018-01-01", "endDate": "2020-12-31"}, sc.official),
                                   (SECRET_POST, {"startDate": "2019"}, sc.leak)):
        position = create_entity(session, actor, "Position", {"name": caption}).obj.id
        link = create_link(session, actor, "Occupancy", sc.target, position, dates).obj.id
        ids[caption] = (position, link, cite(session, actor, source, link_id=link, excerpt="took office").id)
    dossier = service.create_dossier(session, actor, sc.target, "kingpin-b2")
    service.add_exhibit(session, actor, dossier.id, element="foreign_person", statement_type="fact",
                        statement="Holds municipal office.", citation_id=ids[MAYOR][2])
    session.commit()
    return sc, dossier.id, ids


def test_the_targets_positions_are_in_the_target_section_of_the_page_and_every_export(session, researcher_client):
    """QA: the official's position was missing from the dossier: the Target section listed properties only."""
    _sc, dossier_id, _ids = _with_positions(session, RESEARCHER)
    page = researcher_client.get(f"/dossiers/{dossier_id}").text
    target = _text(re.search(r'<section aria-labelledby="h-target">.*?</section>', page, re.DOTALL).group(0))
    assert (f"Positions held {MAYOR} (since 2021-09-15); {SECRET_POST} (since 2019); "
            f"{COUNCILLOR} (2018-01-01 to 2020-12-31; former)") in target
    shown = {"html": export_dossier(session, dossier_id, "html").content.decode(),
             "md": export_dossier(session, dossier_id, "md").content.decode(),
             "pdf": _pdf_text(export_dossier(session, dossier_id, "pdf").content)}
    for fmt, text in shown.items():
        section = text.split("Target", 1)[1].split("Completeness against the legal criteria", 1)[0]
        assert f"{MAYOR} (since 2021-09-15)" in section, fmt
        assert f"{COUNCILLOR} (2018-01-01 to 2020-12-31; former)" in section, fmt
    positions = json.loads(export_dossier(session, dossier_id, "json").content)["target"]["positions"]
    assert [(p["caption"], p["dates"], p["former"]) for p in positions] == [
        (MAYOR, "since 2021-09-15", False), (SECRET_POST, "since 2019", False),
        (COUNCILLOR, "2018-01-01 to 2020-12-31", True)]
    # The releasable export leaves out the position only the leak gives, and counts it.
    for fmt in ("html", "md", "json"):
        released = export_dossier(session, dossier_id, fmt, releasable=True).content.decode()
        assert MAYOR in released and SECRET_POST not in released, fmt
        assert "position held (1)" in released, fmt


def test_the_ftm_package_carries_the_position_and_occupancy_an_exhibit_cites(session, researcher_client):
    """QA: the FtM package left out the Position and the Occupancy that exhibit 1 cites."""
    sc, dossier_id, ids = _with_positions(session, RESEARCHER)
    response = researcher_client.get(f"/dossiers/{dossier_id}/export?format=ftm")
    records = {r["id"]: r for r in map(json.loads, response.text.splitlines())}
    position, link, _citation = ids[MAYOR]
    assert records[position]["schema"] == "Position" and records[position]["properties"]["name"] == [MAYOR]
    assert records[link]["schema"] == "Occupancy"
    assert records[link]["properties"]["holder"] == [sc.target] and records[link]["properties"]["post"] == [position]
    assert records[link]["properties"]["startDate"] == ["2021-09-15"]
    # Within the release rules: the releasable package keeps the cited office, not what only the leak gives.
    released = {json.loads(line)["id"] for line in export_dossier(session, dossier_id, "ftm", releasable=True)
                .content.decode().splitlines()}
    assert {position, link} <= released
    assert not {ids[SECRET_POST][0], ids[SECRET_POST][1]} & released


def test_the_ftm_package_carries_an_entity_an_exhibit_cites_off_the_chains(session, researcher):
    """A cited entity off the dossier's chains (a ranch whose ownership link is cited too) travels with it."""
    sc = build_scenario(session, researcher)
    ranch = create_entity(session, researcher, "RealEstate", {"name": "Ranch (TEST)", "parcelNumber": "P-1"}).obj.id
    owns = create_link(session, researcher, "Ownership", sc.target, ranch, {"percentage": "100"}).obj.id
    cite(session, researcher, sc.registry, link_id=owns)
    parcel = cite(session, researcher, sc.registry, entity_id=ranch, prop="parcelNumber", value="P-1").id
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    service.add_exhibit(session, researcher, dossier.id, element="material_support", statement_type="fact",
                        statement="Holds a ranch.", citation_id=parcel)
    from workbench.store.entities import delete_link

    delete_link(session, researcher, owns)  # off the chains now: only the exhibit names the ranch
    session.commit()
    records = {r["id"]: r for r in map(json.loads, export_dossier(session, dossier.id, "ftm").content.splitlines())}
    assert records[ranch]["schema"] == "RealEstate" and records[ranch]["properties"]["name"] == ["Ranch (TEST)"]


# ---- 7. the target picker ----------------------------------------------------------------------------

def test_the_target_picker_shows_no_raw_score(session, researcher_client):
    """QA: a surname alone listed the official as 'matched ..., 0.06'."""
    build_scenario(session, RESEARCHER)
    session.commit()
    page = researcher_client.get("/dossiers/new?q=testigo").text
    hits = re.search(r'<ul class="hits">(.*?)</ul>', page, re.DOTALL).group(1)
    item = next(li for li in re.findall(r"<li>(.*?)</li>", hits, re.DOTALL) if TARGET in li)
    assert not re.search(r"\d\.\d", _text(item)), item
    assert "(Person" in _text(item)


# ---- 8. the evidence picker ---------------------------------------------------------------------------

ROLL = "County roll (FICTIONAL)"


def test_the_evidence_picker_tells_apart_two_sources_of_one_title_and_words_pages_as_entity_pages(
        session, researcher_client):
    """QA: two sources of one title (one per screening job) could not be told apart, and a cited page
    showed as ', 1:' where the entity pages say 'p. 1'."""
    sc = build_scenario(session, RESEARCHER)
    rolls = [create_source(session, RESEARCHER, title=ROLL, sha256=f"{n}" * 64, file_name=f"roll-{n}.csv",
                           source_type="registry", reliability="B").id for n in (1, 2)]
    cited = [cite(session, RESEARCHER, roll, entity_id=sc.target, prop="nationality", value="mx", page="1",
                  locator=f"row {n}", excerpt="owner of record").id for n, roll in enumerate(rolls, 1)]
    dossier_id = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2").id
    session.commit()
    page = researcher_client.get(f"/dossiers/{dossier_id}").text
    picker = re.search(r'<select id="x-evidence".*?</select>', page, re.DOTALL).group(0)
    options = {value: html.unescape(label) for value, label in
               re.findall(r'<option value="([^"]+)"[^>]*>(.*?)</option>', picker, re.DOTALL)}
    first, second = (options[f"citation:{c}"] for c in cited)
    assert first != second
    for n, (label, roll) in enumerate(((first, rolls[0]), (second, rolls[1])), 1):
        assert label.startswith(f"{ROLL} (file roll-{n}.csv, retrieved ") and f"id {roll[:8]})" in label
        assert label.endswith(f"Nationality Mexico, p. 1, row {n}: owner of record"), label
        assert ", 1:" not in label and f"(row {n})" not in label
    sources = [options[f"source:{roll}"] for roll in rolls]
    assert sources[0] != sources[1] and all(s.startswith(f"{ROLL} (file roll-") for s in sources)
    # A source whose title is its own needs nothing more.
    assert options[f"source:{sc.court}"] == "Court record 17 (TEST)"


def test_an_approved_dossier_says_when_its_targets_live_record_has_changed_since(session, researcher_client,
                                                                                reviewer_client):
    """QA round 12: after the target's date of birth was corrected, the approved page showed the frozen value
    with nothing to say the live record now differs."""
    from workbench.store.entities import update_entity

    sc, dossier_id = _submitted(session)
    url = f"/dossiers/{dossier_id}"
    before = reviewer_client.get(url).text
    assert _move(reviewer_client, url, "approve", "Meets the criteria.", before).status_code == 303
    assert "target-changed" not in researcher_client.get(url).text  # unchanged since the approval
    update_entity(session, RESEARCHER, sc.target, {"birthDate": "1975-03-13"}, replace=False)
    session.commit()
    page = researcher_client.get(url).text
    note = re.search(r'<div class="flash warning" id="target-changed" role="note">(.*?)</div>', page, re.DOTALL)
    assert note and "Date of birth: 1975-03-12 when frozen, 1975-03-13 now" in html.unescape(note.group(1))
    assert "1975-03-12" in page.split('id="target-changed"')[1]  # the dossier still shows what was approved
