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
    assert _meta(session, dossier_id, False)["internal"] is None  # nothing the releasable copy leaves out

    service.add_comment(session, researcher, dossier_id, "Exhibit 2 rests on a press report: find the court file.")
    session.flush()
    internal = _meta(session, dossier_id, False)["internal"]
    assert internal.startswith(BANNER) and "own words (1 comment in the review discussion)" in internal
    assert "material from sources" not in internal  # every source here may be released
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
