"""QA round 14, a researcher's first week in the web app (and the dossiers it ends with).

What a dossier's full export shows that its releasable export leaves out is said on its face.

The review discussion (comments on the package and on its exhibits) is the team's own words, withheld from
the releasable copy; a full copy holding it had no INTERNAL banner when every source was releasable, so it
read like a copy to share. The scenario is FICTIONAL (test_dossier_scenario's)."""

from __future__ import annotations

import json

from test_dossier_scenario import build_scenario, complete_dossier

from workbench.dossiers import service
from workbench.dossiers.exports import export_dossier

BANNER = "INTERNAL: this export shows"


def _releasable_only_dossier(session, actor, sc) -> str:
    dossier = service.create_dossier(session, actor, sc.target, "kingpin-b2", narrative={"summary": "Test summary."})
    service.add_exhibit(session, actor, dossier.id, element="foreign_person", statement_type="fact",
                        statement="Mexican national holding municipal office.", source_id=sc.official, page="3")
    service.add_exhibit(session, actor, dossier.id, element="sfnt_link", statement_type="fact",
                        statement="The cartel is designated under the Kingpin Act.", source_id=sc.official)
    return dossier.id


def _meta(session, dossier_id: str, releasable: bool) -> dict:
    return json.loads(export_dossier(session, dossier_id, "json", releasable=releasable).content)["meta"]


def test_a_full_export_holding_the_review_discussion_is_marked_internal(session, researcher):
    sc = build_scenario(session, researcher)
    dossier_id = _releasable_only_dossier(session, researcher, sc)
    session.flush()
    # Before any comment, the banner names only the scenario chain's leaked source, which the releasable copy
    # leaves out (counted since QA round 15), never a review discussion.
    assert "review discussion" not in (_meta(session, dossier_id, False)["internal"] or "")

    service.add_comment(session, researcher, dossier_id, "Exhibit 2 rests on a press report: find the court file.")
    session.flush()
    internal = _meta(session, dossier_id, False)["internal"]
    assert internal.startswith(BANNER) and "own words (1 comment in the review discussion)" in internal
    assert "(unreleasable source on a chain to a designated party (1))" in internal  # the exhibits' may be released
    markdown = export_dossier(session, dossier_id, "md").content.decode("utf-8")
    assert BANNER in markdown and "find the court file" in markdown
    released = export_dossier(session, dossier_id, "md", releasable=True).content.decode("utf-8")
    assert BANNER not in released and "find the court file" not in released
    assert _meta(session, dossier_id, True)["internal"] is None


def test_an_office_left_since_approval_is_flagged_on_the_approved_page_and_in_the_compare(session, researcher,
                                                                                       reviewer):
    """QA round 14: after an approved package's official left office (the Occupancy link given an end date),
    the approved page said nothing, and version 2's compare page listed only the date of birth."""
    from workbench.dossiers import compare, snapshot, workflow
    from workbench.store.entities import create_entity, create_link, update_link

    sc = build_scenario(session, researcher)
    office = create_entity(session, researcher, "Position", {"name": "Municipal treasurer (TEST)"}).obj.id
    held = create_link(session, researcher, "Occupancy", sc.target, office, {"startDate": "2021-10-01"}).obj.id
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    workflow.approve(session, reviewer, dossier_id, "Meets the criteria.")
    session.flush()
    assert snapshot.target_changes(session, service.get_dossier(session, dossier_id)) == []

    update_link(session, researcher, held, {"startDate": "2021-10-01", "endDate": "2024-06-30"})
    session.flush()
    [change] = snapshot.target_changes(session, service.get_dossier(session, dossier_id))
    assert change == ("Positions held: Municipal treasurer (TEST) (since 2021-10-01) when frozen, "
                      "Municipal treasurer (TEST) (2021-10-01 to 2024-06-30) now")

    v2 = service.new_version(session, researcher, dossier_id)
    session.flush()
    differences = compare.compare(session, service.get_dossier(session, dossier_id), v2)
    [row] = [row for row in differences["target"] if row["name"] == "positions"]
    assert row["added"] == ["Municipal treasurer (TEST) (2021-10-01 to 2024-06-30)"]
    assert row["removed"] == ["Municipal treasurer (TEST) (since 2021-10-01)"]


def test_the_internal_banner_counts_comments_as_the_sections_showing_them_do(session, researcher, reviewer):
    """QA round 14: the banner said '4 comments' where the Review discussion section said '1 comment': it
    added the comments given with the submission, return and approval, which the history shows."""
    from workbench.dossiers import workflow

    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    service.add_comment(session, reviewer, dossier_id, "Check exhibit 3's date (TEST).")
    workflow.submit(session, researcher, dossier_id, "Ready for review (TEST).")
    workflow.approve(session, reviewer, dossier_id, "Meets the criteria (TEST).")
    session.flush()
    internal = _meta(session, dossier_id, False)["internal"]
    assert ("the team's own words (1 comment in the review discussion and 2 comments given with workflow steps "
            "in the history)") in internal


def test_the_screening_pages_mapping_list_follows_edits_to_the_mapping_files(tmp_path):
    """QA round 14: the screening page re-read every mapping file on each request (half a second); the list is
    now kept between requests, and must still follow a mapping edited, added or broken on disk."""
    import shutil

    from workbench.web.readmodels import MAPPINGS_DIR, screening_mappings

    for path in MAPPINGS_DIR.glob("*.y*ml"):
        shutil.copy(path, tmp_path / path.name)
    first = screening_mappings(tmp_path)
    assert first and all(choice.problem is None for choice in first)
    edited = tmp_path / first[0].file
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited (TEST)\n", encoding="utf-8")
    (tmp_path / "broken.yml").write_text("name: [unclosed\n", encoding="utf-8")
    again = {choice.file: choice for choice in screening_mappings(tmp_path)}
    assert again[first[0].file].text.endswith("# edited (TEST)\n")
    assert again["broken.yml"].problem


def test_a_comment_on_an_exhibit_takes_line_breaks_like_the_dossiers_own(db_url, session, researcher):
    """QA round 14: 'Comment on exhibit N' was a one-line box, so the line breaks the README says review comments
    keep could not be typed there."""
    import re

    from web_helpers import csrf_of, signed_in_client

    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    exhibit = service.get_dossier(session, dossier_id).exhibits[0]
    session.commit()
    reviewer = signed_in_client(db_url, "vera", "reviewer")
    page = reviewer.get(f"/dossiers/{dossier_id}").text
    assert re.search(rf'<textarea id="c-ex-{exhibit.id}" name="text"', page)
    posted = reviewer.post(f"/dossiers/{dossier_id}/comments", follow_redirects=False, data={
        "csrf_token": csrf_of(reviewer, f"/dossiers/{dossier_id}"), "exhibit_id": exhibit.id,
        "text": "Page 3 says otherwise.\nCheck the court file."})
    assert posted.status_code == 303
    assert "Page 3 says otherwise.\nCheck the court file." in reviewer.get(f"/dossiers/{dossier_id}").text


def test_the_new_source_form_says_when_a_title_may_be_left_empty(db_url):
    """QA round 14: the title was marked required, yet a file uploaded without one took the file's name."""
    from web_helpers import signed_in_client

    client = signed_in_client(db_url, "rosa", "researcher")
    form = client.get("/sources/new").text
    label = form.split('<label for="src-title">')[1].split("</label>")[0]
    assert "required" not in label
    assert "an uploaded file left untitled takes its file name" in form


def test_a_stale_entity_save_says_whether_the_change_it_met_was_yours_or_someone_elses(db_url):
    """QA round 14: saving a company's form from a second tab blamed 'someone else' for the user's own save from
    the first; dossier forms told the two apart, entity forms did not."""
    import html
    import re

    from web_helpers import csrf_of, signed_in_client

    rita = signed_in_client(db_url, "rita", "researcher")
    token = csrf_of(rita, "/entities/new?kind=Company")
    made = rita.post("/entities/new", data={"csrf_token": token, "kind": "Company",
                                            "p.name": "Constructora Ficticia (FICTIONAL)"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    entity_id = made.headers["location"].rsplit("/", 1)[-1]

    def form(client) -> dict:
        page = client.get(f"/entities/{entity_id}/edit").text
        fields = {name: html.unescape(value)
                  for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}
        return {**fields, "csrf_token": csrf_of(client, f"/entities/{entity_id}/edit"),
                "p.name": "Constructora Ficticia (FICTIONAL)"}

    def save(client, data, **changes):
        return client.post(f"/entities/{entity_id}/edit", data={**data, **changes}, follow_redirects=False)

    tab1, tab2 = form(rita), form(rita)
    assert save(rita, tab1, **{"p.notes": "first tab (TEST)"}).status_code == 303
    mine = save(rita, tab2, **{"p.notes": "second tab (TEST)"})
    assert mine.status_code == 409 and "was changed by you since this form was opened" in mine.text
    assert "someone else" not in mine.text

    olga = signed_in_client(db_url, "olga", "researcher")
    hers, ritas = form(olga), form(rita)
    assert save(olga, hers, **{"p.notes": "Olga's note (TEST)"}).status_code == 303
    theirs = save(rita, ritas, **{"p.notes": "Rita's note (TEST)"})
    assert theirs.status_code == 409 and "was changed by someone else since you opened it" in theirs.text


def test_the_dossier_pages_export_list_names_each_format_in_words(db_url, session, researcher):
    """QA round 14: the format list showed the API's codes ('md', 'assets-csv', 'visa-csv')."""
    import re

    from web_helpers import signed_in_client

    from workbench.dossiers.exports import FORMATS

    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    page = signed_in_client(db_url, "rosa", "researcher").get(f"/dossiers/{dossier_id}").text
    options = dict(re.findall(r'<option value="([^"]+)">([^<]+)</option>',
                              page.split('id="e-format"')[1].split("</select>")[0]))
    assert list(options) == list(FORMATS)  # every format the export takes, by its code
    assert options["md"] == "Case summary, Markdown" and options["visa-csv"] == "Visa revocation list (CSV)"
    assert all(code != words for code, words in options.items())


def test_an_identifier_says_alike_on_the_entity_page_and_in_the_checklist_what_it_passed(db_url, session,
                                                                                        researcher):
    """QA round 14: a CURP with a right check digit read 'format ok' on the entity page and 'valid' in the
    dossier, which left it unclear whether the check digit was checked at all."""
    from web_helpers import signed_in_client

    from workbench.dossiers import completeness, snapshot
    from workbench.store.models import Entity

    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    [curp] = [v for v in session.get(Entity, sc.target).properties["identifier"] if v.startswith("CURP:")]
    page = signed_in_client(db_url, "rosa", "researcher").get(f"/entities/{sc.target}").text
    assert "format and check digit ok" in page and "format ok<" not in page
    check = next(c for c in completeness.check(snapshot.live_view(session, service.get_dossier(session, dossier_id)))
                 .checks if c.key == "identifiers")
    assert f"CURP {curp.split(':', 1)[1]}: format and check digit ok" in check.notes


def test_an_entity_page_lists_ten_citations_of_a_value_and_the_rest_on_request(db_url, session, researcher):
    """QA round 14 (pages at scale): an owner named on 1,168 roll rows listed every citation of its name, each with
    its own Remove form: a 1.7 MB page. Ten are listed, and a link lists every one."""
    from web_helpers import signed_in_client

    from workbench.store.entities import cite, create_entity, create_source

    roll = create_source(session, researcher, url="https://example.org/roll", title="County roll (FICTIONAL)")
    owner = create_entity(session, researcher, "Person", {"name": "Dueño Ficticio (FICTIONAL)"}).obj.id
    for row in range(1, 13):
        cite(session, researcher, roll.id, entity_id=owner, prop="name", value="Dueño Ficticio (FICTIONAL)",
             locator=f"row {row}")
    session.commit()
    client = signed_in_client(db_url, "rosa", "researcher")
    page = client.get(f"/entities/{owner}").text
    assert page.count(", row ") == 10 and "and 2 more citations" in page
    every = client.get(f"/entities/{owner}?citations=all").text
    assert every.count(", row ") == 12 and "more citations" not in every
