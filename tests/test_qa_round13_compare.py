"""QA round 13, a reviewer's second look: a returned dossier reopened as version 2 showed no way to see what
changed since version 1, version 1's review comments ('direction reversed' on exhibit 3) were gone from
version 2's page ('No comments'), and no export carried the review discussion.

Every scenario is FICTIONAL (``test_dossier_scenario``)."""

from __future__ import annotations

import copy
import json
import re
import time

import pytest
from test_dossier_scenario import LEAK_TITLE, build_scenario, complete_dossier
from web_helpers import signed_in_client

from workbench.dossiers import compare, service, snapshot, workflow
from workbench.dossiers.exports import export_dossier
from workbench.store.entities import NotFound, add_name, cite, create_entity, create_link
from workbench.store.permissions import Actor

RESEARCHER = Actor("rosa", "researcher")
REVIEWER = Actor("ruben", "reviewer")
REVERSED = "direction reversed: the cartel pays the target, not the other way"
OVERALL = "Overall: rework the chain.\nThen resubmit."


def _returned_and_reopened(session) -> tuple[str, str, object]:
    """Version 1 submitted, commented on by the reviewer (exhibit 3 and the dossier) and returned; version 2
    opened from it, its summary reworded and exhibit 4 (the leak) removed. (v1 id, v2 id, scenario)"""
    sc = build_scenario(session, RESEARCHER)
    v1 = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, v1)
    exhibit_3 = next(e for e in service.get_dossier(session, v1).exhibits if e.number == 3)
    service.add_comment(session, REVIEWER, v1, REVERSED, exhibit_3.id)
    service.add_comment(session, REVIEWER, v1, OVERALL)
    workflow.return_for_changes(session, REVIEWER, v1, "see my comments")
    v2 = service.new_version(session, RESEARCHER, v1)
    service.update_dossier(session, RESEARCHER, v2.id, narrative={"summary": "Test summary, with the payments "
                                                                             "running from the cartel."})
    service.remove_exhibit(session, RESEARCHER, v2.id, next(e for e in v2.exhibits if e.number == 4).id)
    session.commit()
    return v1, v2.id, sc


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    end = page.find("</section>", start)
    return page[start:end]


# ---- the compare page ------------------------------------------------------------------------

def test_version_2_links_to_a_page_saying_what_changed_since_version_1(db_url, session):
    v1, v2, _sc = _returned_and_reopened(session)
    reviewer = signed_in_client(db_url, REVIEWER.username, "reviewer")

    page = reviewer.get(f"/dossiers/{v2}").text
    versions = page[page.index("Versions:"):page.index("</p>", page.index("Versions:"))]
    assert f'<a href="/dossiers/{v2}/compare" id="compare-link">Compare with version 1</a>' in versions
    assert "compare-link" not in reviewer.get(f"/dossiers/{v1}").text  # version 1 has no earlier version

    response = reviewer.get(f"/dossiers/{v2}/compare")
    assert response.status_code == 200
    html = response.text
    assert "changes from version 1 to version 2" in html
    assert re.search(r"<title>Version 1 and version 2 compared", html)
    # Two open versions read the target, chains and assets alike: the page says so, not 'no change' alone.
    assert "Neither version is frozen" in html

    exhibits = _section(html, "h-c-exhibits")
    assert "Removed since version 1" in exhibits and "Added in version" not in exhibits
    removed = exhibits[exhibits.index('id="c-exhibits-removed"'):]
    assert '<th scope="row">4</th>' in removed and "Ledger records a payment from the cartel." in removed
    assert LEAK_TITLE in removed  # an internal page, as the dossier's own
    assert "3 other exhibits" not in exhibits  # none changed: no 'changed' table either
    assert "c-exhibit-" not in exhibits

    narrative = _section(html, "h-c-narrative")
    assert '<th scope="col">Version 1</th><th scope="col">Version 2</th>' in narrative
    assert '<td class="typed">Test summary.</td>' in narrative
    assert '<td class="typed">Test summary, with the payments running from the cartel.</td>' in narrative
    assert '<del><span class="visually-hidden">[removed: </span>summary.<span class="visually-hidden">]</span></del>' \
        in narrative
    assert "[added: </span>summary, with the payments running from the cartel." in narrative
    for heading in ("h-c-basis", "h-c-target", "h-c-chains", "h-c-assets", "h-c-visa"):
        assert "No change." in _section(html, heading), heading


def test_an_approved_version_compares_as_it_was_frozen(db_url, session):
    """Version 1 approved (frozen), version 2 opened, then the records change: a new alias, a new house, a new
    chain to another designated party. The comparison shows them, version 1 as it was approved."""
    sc = build_scenario(session, RESEARCHER)
    v1 = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, v1)
    workflow.approve(session, REVIEWER, v1, "meets the criteria")
    v2 = service.new_version(session, RESEARCHER, v1).id
    add_name(session, RESEARCHER, sc.target, "El Nuevo Ficticio")
    house = create_entity(session, RESEARCHER, "RealEstate", {"name": "Ranch on Test Road (TEST)",
                                                                "parcelNumber": "TEST-APN-2"}).obj.id
    owns = create_link(session, RESEARCHER, "Ownership", sc.target, house, {"percentage": "100"}).obj.id
    cite(session, RESEARCHER, sc.registry, link_id=owns)
    cartel_2 = create_entity(session, RESEARCHER, "Organization", {"name": "Segundo Cartel (TEST)"}).obj.id
    sanction = create_entity(session, RESEARCHER, "Sanction", {"name": "OFAC designation 2 (TEST)", "authority": "OFAC",
                                                               "program": "SDNTK", "status": "active"}).obj.id
    create_link(session, RESEARCHER, "SanctionOf", sanction, cartel_2)
    associate = create_link(session, RESEARCHER, "Associate", sc.target, cartel_2, {}).obj.id
    cite(session, RESEARCHER, sc.court, link_id=associate, excerpt="testimony (FICTIONAL)")
    session.commit()

    result = compare.compare(session, *compare.versions_to_compare(session, service.get_dossier(session, v2)))
    assert result["notes"][0] == "Version 1 is compared as it was frozen on approval."
    alias = next(p for p in result["target"] if p["name"] == "alias")
    assert alias["added"] == ["El Nuevo Ficticio"] and alias["removed"] == []
    assert [a["caption"] for a in result["assets"]["added"]] == ["Ranch on Test Road (TEST)"]
    [chain] = result["chains"]["added"]
    assert chain["designated"] == "Segundo Cartel (TEST)" and chain["qualifies"]
    assert chain["wording"] == "Ramiro Testigo Ficticio (FICTIONAL) — associate of → Segundo Cartel (TEST)"
    assert not result["exhibits"]["added"] and not result["exhibits"]["removed"]

    html = signed_in_client(db_url, "vera", "researcher").get(f"/dossiers/{v2}/compare").text
    target = _section(html, "h-c-target")
    assert '<th scope="col">Property</th><th scope="col">Added</th><th scope="col">Removed</th>' in target
    assert "[added: </span>El Nuevo Ficticio" in target
    assets = _section(html, "h-c-assets")
    assert f'<th scope="row">Added</th><td><a href="/entities/{house}">Ranch on Test Road (TEST)</a>' in assets
    chains = _section(html, "h-c-chains")
    assert '<th scope="row">Added</th><td>Segundo Cartel (TEST)</td>' in chains and "<td>yes</td>" in chains


def test_a_chain_that_stops_counting_and_an_exhibit_changed_are_shown_field_by_field(session, researcher):
    """Worked out on the two views: an exhibit of the same number with another statement and page, and a
    chain whose link lost its sources (it no longer counts for the basis)."""
    sc = build_scenario(session, researcher)
    dossier = service.get_dossier(session, complete_dossier(session, researcher, sc))
    old = snapshot.as_json(snapshot.live_view(session, dossier))
    new = copy.deepcopy(old)
    new["dossier"]["number"] = 2
    exhibit = next(e for e in new["exhibits"] if e["number"] == 1)
    exhibit.update(statement="Mexican national; municipal office since 2019.", page="4")
    [path] = new["designated_links"]
    for step in path["steps"]:
        step["citations"] = []
    path.update(sourced=False, qualifies=False)

    result = compare.compare_views(old, new)
    [changed] = result["exhibits"]["changed"]
    assert changed["number"] == 1
    assert [(f["label"], f["old"], f["new"]) for f in changed["fields"]] == [
        ("Statement", "Mexican national holding municipal office.", "Mexican national; municipal office since 2019."),
        ("Page", "p. 3", "p. 4")]
    assert result["exhibits"]["unchanged"] == 3
    [chain] = result["chains"]["changed"]
    assert chain["changes"][0].startswith("was: counts for the basis; now: does not count (not every link is sourced")
    assert "sources per link were 2; now 0" in chain["changes"]
    assert result["changed"]
    assert not compare.compare_views(old, copy.deepcopy(old))["changed"]


def test_the_narrative_word_diff_keeps_line_breaks_and_gives_up_on_huge_texts():
    runs = compare.word_diff("Paid monthly.\nTo the cartel.", "Paid weekly.\nTo the cartel.")
    assert runs == [{"op": "equal", "text": "Paid "}, {"op": "delete", "text": "monthly.\n"},
                    {"op": "insert", "text": "weekly.\n"}, {"op": "equal", "text": "To the cartel."}]
    huge = "word " * (compare.MAX_DIFF_WORDS + 1)
    assert compare.word_diff(huge, huge + "more") is None
    # A long, repetitive text is diffed in a moment (an exact diff of it took a quarter of a minute).
    started = time.monotonic()
    long_runs = compare.word_diff("x " * 9_000, "x " * 8_999 + "y")
    assert time.monotonic() - started < 5
    assert "".join(r["text"] for r in long_runs if r["op"] != "delete") == "x " * 8_999 + "y"


def test_visa_data_changes_are_compared(db_url, session):
    sc = build_scenario(session, RESEARCHER)
    v1 = service.create_dossier(session, RESEARCHER, sc.target, "visa-212a2c")
    service.update_dossier(session, RESEARCHER, v1.id, expected_version=v1.version,
                           visa_data={"visa_class": "B1/B2", "issuing_post": "Monterrey (FICTIONAL)"})
    for element in ("visa_holder", "reason_to_believe", "revocation_basis"):
        service.add_exhibit(session, RESEARCHER, v1.id, element=element, statement_type="fact",
                            statement=f"{element} (FICTIONAL).", source_id=sc.official)
    workflow.submit(session, RESEARCHER, v1.id)
    workflow.return_for_changes(session, REVIEWER, v1.id, "check the visa class")
    v2 = service.new_version(session, RESEARCHER, v1.id)
    service.update_dossier(session, RESEARCHER, v2.id, visa_data={"visa_class": "C1/D",
                                                                  "issuing_post": "Monterrey (FICTIONAL)"})
    session.commit()
    html = signed_in_client(db_url, "vera", "researcher").get(f"/dossiers/{v2.id}/compare").text
    visa = _section(html, "h-c-visa")
    assert '<tr><th scope="row">Visa class</th><td>B1/B2</td><td>C1/D</td></tr>' in visa
    assert "Issuing post" not in visa


def test_any_version_of_the_package_may_be_compared_and_nothing_else(db_url, session):
    v1, v2, sc = _returned_and_reopened(session)
    workflow.submit(session, RESEARCHER, v2)
    workflow.return_for_changes(session, REVIEWER, v2, "still not right")
    v3 = service.new_version(session, RESEARCHER, v2).id
    other = complete_dossier(session, RESEARCHER, sc)  # another package on the same target
    session.commit()
    client = signed_in_client(db_url, "vera", "researcher")

    default = client.get(f"/dossiers/{v3}/compare").text
    assert "changes from version 2 to version 3" in default
    assert f'<a href="/dossiers/{v3}/compare?with={v1}">version 1</a>' in default  # the other pair offered
    with_v1 = client.get(f"/dossiers/{v3}/compare", params={"with": v1})
    assert with_v1.status_code == 200 and "changes from version 1 to version 3" in with_v1.text
    assert "Removed since version 1" in with_v1.text
    # From version 1's side, with a later version: still older to newer.
    assert "changes from version 1 to version 2" in client.get(f"/dossiers/{v1}/compare", params={"with": v2}).text

    assert client.get(f"/dossiers/{v3}/compare", params={"with": other}).status_code == 404
    assert client.get(f"/dossiers/{v3}/compare", params={"with": v3}).status_code == 422
    first = client.get(f"/dossiers/{v1}/compare")
    assert first.status_code == 404 and "no earlier version" in first.text
    with pytest.raises(NotFound):
        compare.versions_to_compare(session, service.get_dossier(session, v3), "no-such-dossier")


def test_the_compare_page_is_for_those_who_may_read_the_dossier(db_url, session):
    _v1, v2, _sc = _returned_and_reopened(session)
    from fastapi.testclient import TestClient

    from workbench.web.app import create_app

    signed_out = TestClient(create_app()).get(f"/dossiers/{v2}/compare", follow_redirects=False)
    assert signed_out.status_code == 303 and "/login" in signed_out.headers["location"]
    for username, role in (("vera", "researcher"), ("ruth", "reviewer"), ("ada", "admin")):
        assert signed_in_client(db_url, username, role).get(f"/dossiers/{v2}/compare").status_code == 200


# ---- comments carried forward ----------------------------------------------------------------

def test_version_2_shows_version_1s_comments_read_only_after_its_own(db_url, session):
    v1, v2, _sc = _returned_and_reopened(session)
    service.add_comment(session, RESEARCHER, v2, "Reversed the chain as asked.")
    session.commit()
    page = signed_in_client(db_url, RESEARCHER.username, "researcher").get(f"/dossiers/{v2}").text

    comments = _section(page, "h-comments")
    assert "No comments" not in comments
    own, earlier = comments.split('id="h-earlier-comments"')
    assert "Reversed the chain as asked." in own
    assert "Comments on earlier versions" in earlier and "read-only here" in earlier
    [on_exhibit] = re.findall(r'<li class="comment typed" id="earlier-comment-\d+">.*?</li>', earlier, re.DOTALL)[:1]
    assert f'on <a href="/dossiers/{v1}">version 1</a>, exhibit 3' in on_exhibit
    assert '(<a href="#exhibit-3">exhibit 3 here</a>)' in on_exhibit and REVERSED in on_exhibit
    assert "Overall: rework the chain.\nThen resubmit." in earlier  # line breaks kept (class typed)
    assert "<form" not in earlier  # read-only: answered on this version
    # Exhibit 3 of version 2 points at its discussion on version 1.
    exhibit_3 = page[page.index('id="exhibit-3"'):page.index("</article>", page.index('id="exhibit-3"'))]
    assert "Discussed on earlier versions:" in exhibit_3 and "ruben on version 1" in exhibit_3

    # Version 1 does not show version 2's discussion: it was not part of what version 1 answered.
    first = signed_in_client(db_url, "vera", "researcher").get(f"/dossiers/{v1}").text
    assert "Reversed the chain as asked." not in first and "Comments on earlier versions" not in first


def test_a_version_without_earlier_comments_still_says_no_comments(db_url, session, researcher):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    page = signed_in_client(db_url, "vera", "researcher").get(f"/dossiers/{dossier_id}").text
    comments = _section(page, "h-comments")
    assert "No comments." in comments and "Comments on earlier versions" not in comments


# ---- the review discussion in the exports ----------------------------------------------------

def test_full_exports_carry_the_discussion_of_every_earlier_version(session):
    _v1, v2, _sc = _returned_and_reopened(session)
    service.add_comment(session, RESEARCHER, v2, "Reversed the chain as asked.")
    session.commit()

    doc = json.loads(export_dossier(session, v2, "json").content)
    assert [(c["version"], c["this_version"], c["exhibit_number"], c["author"], c["text"]) for c in doc["comments"]] \
        == [(2, True, None, "rosa", "Reversed the chain as asked."), (1, False, 3, "ruben", REVERSED),
            (1, False, None, "ruben", OVERALL)]
    assert doc["meta"]["comments"] == {"count": 3, "this_version": 1, "earlier_versions": 2, "withheld": False}

    md = export_dossier(session, v2, "md").content.decode()
    discussion = md[md.index("## Review discussion"):md.index("## History")]
    assert "3 comments: 1 on this version, 2 on earlier versions." in discussion
    assert f"| 1 | exhibit 3 | ruben | {REVERSED} |" in discussion
    assert "| 1 | the dossier | ruben | Overall: rework the chain.<br>Then resubmit. |" in discussion
    assert "| 2 (this version) | the dossier | rosa | Reversed the chain as asked. |" in discussion

    html = export_dossier(session, v2, "html").content.decode()
    discussion = html[html.index("<h2>Review discussion</h2>"):html.index("<h2>History</h2>")]
    assert "<td>1</td><td>exhibit 3</td><td>ruben</td>" in discussion and REVERSED in discussion


def test_a_releasable_export_says_how_many_comments_were_made_never_what_they_say(session):
    _v1, v2, _sc = _returned_and_reopened(session)
    for fmt in ("json", "md", "html"):
        released = export_dossier(session, v2, fmt, releasable=True).content.decode()
        assert "direction reversed" not in released and "rework the chain" not in released, fmt
        assert "exhibit 3 |" not in released and "<td>exhibit 3</td>" not in released, fmt
    doc = json.loads(export_dossier(session, v2, "json", releasable=True).content)
    assert doc["meta"]["comments"] == {"count": 2, "this_version": 0, "earlier_versions": 2, "withheld": True}
    assert all(c["comment_withheld"] and c["text"] is None and c["exhibit_number"] is None for c in doc["comments"])
    md = export_dossier(session, v2, "md", releasable=True).content.decode()
    assert "2 comments: 0 on this version, 2 on earlier versions. What they say is withheld from the releasable " \
           "export." in md


def test_comments_change_neither_the_content_hash_reviewed_nor_the_frozen_snapshot(db_url, session):
    """A comment may be made in every state: it must not make a reviewer's approval stale, nor touch what was
    approved."""
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, dossier_id)
    session.commit()
    reviewer = signed_in_client(db_url, REVIEWER.username, "reviewer")
    page = reviewer.get(f"/dossiers/{dossier_id}").text
    seen = re.search(r'name="content_hash" value="([0-9a-f]{64})"', page).group(1)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)

    service.add_comment(session, RESEARCHER, dossier_id, "One more thought on exhibit 2.")
    session.commit()
    again = reviewer.get(f"/dossiers/{dossier_id}").text
    assert f'name="content_hash" value="{seen}"' in again
    token = re.search(r'name="csrf-token" content="([^"]+)"', again).group(1)
    approved = reviewer.post(f"/dossiers/{dossier_id}/move", data={
        "csrf_token": token, "version": version, "content_hash": seen, "action": "approve", "comment": "ok"},
        follow_redirects=False)
    assert approved.status_code == 303, approved.text

    session.expire_all()
    dossier = service.get_dossier(session, dossier_id)
    assert snapshot.reviewed_hash(dossier) == seen
    frozen = dossier.snapshot_hash
    service.add_comment(session, REVIEWER, dossier_id, "Approved; note for the file.")
    session.commit()
    session.expire_all()
    dossier = service.get_dossier(session, dossier_id)
    assert dossier.snapshot_hash == frozen and snapshot.verify_snapshot(dossier)
    assert "comments" not in dossier.snapshot
    doc = json.loads(export_dossier(session, dossier_id, "json").content)
    assert doc["meta"]["snapshot_hash"] == frozen and doc["meta"]["reviewed_hash"] == seen
    assert [c["text"] for c in doc["comments"]] == ["One more thought on exhibit 2.", "Approved; note for the file."]
