"""QA round 14: what a dossier's full export shows that its releasable export leaves out is said on its face.

The review discussion (comments on the package and on its exhibits) is the team's own words, withheld from
the releasable copy; a full copy holding it had no INTERNAL banner when every source was releasable, so it
read like a copy to share. The scenario is FICTIONAL (test_dossier_scenario's)."""

from __future__ import annotations

import json

from test_dossier_scenario import build_scenario

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
    assert internal.startswith(BANNER) and "review discussion (1 comment)" in internal
    assert "material from sources" not in internal  # every source here may be released
    markdown = export_dossier(session, dossier_id, "md").content.decode("utf-8")
    assert BANNER in markdown and "find the court file" in markdown
    released = export_dossier(session, dossier_id, "md", releasable=True).content.decode("utf-8")
    assert BANNER not in released and "find the court file" not in released
    assert _meta(session, dossier_id, True)["internal"] is None
