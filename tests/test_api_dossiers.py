"""The dossier JSON API (/api/dossiers): a script builds, submits, reviews, versions and exports a
package with API tokens, under the same rules as the pages (four eyes, the completeness gate, frozen
states, optimistic locking, the reviewed-content hash). The scenario is FICTIONAL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from test_dossier_scenario import LEAK_EXCERPT, build_scenario

from workbench.store import db as store_db
from workbench.store.entities import update_entity
from workbench.store.models import Dossier, Exhibit
from workbench.store.permissions import SYSTEM, Actor
from workbench.store.users import add_user, create_token

RESEARCHER = Actor("rosa", "researcher")
REVIEWER = Actor("ruben", "reviewer")


@pytest.fixture
def api(db_url):
    """Token clients for a researcher and a reviewer, and the FICTIONAL scenario."""
    from workbench.web.app import create_app

    clients = {}
    with store_db.session_scope(db_url) as s:
        for actor in (RESEARCHER, REVIEWER):
            add_user(s, SYSTEM, actor.username, actor.role, "correct horse battery")
            client = TestClient(create_app())
            client.headers["Authorization"] = f"Bearer {create_token(s, SYSTEM, 'script', actor.username)}"
            clients[actor.role] = client
        clients["scenario"] = build_scenario(s, RESEARCHER)
    return clients


def _complete(client, sc) -> dict:
    """A draft on the scenario's target with every element supported; its detail."""
    made = client.post("/api/dossiers", json={"target_id": sc.target, "legal_basis": "kingpin-b2",
                                              "narrative": {"summary": "Test summary."}})
    assert made.status_code == 201, made.text
    dossier = made.json()
    for element, kind, evidence in (("foreign_person", "fact", {"source_id": sc.official, "page": "3"}),
                                    ("sfnt_link", "fact", {"source_id": sc.official}),
                                    ("material_support", "allegation", {"citation_id": sc.associate_citation})):
        added = client.post(f"/api/dossiers/{dossier['id']}/exhibits", json={
            "version": dossier["version"], "element": element, "statement_type": kind,
            "statement": f"Shows the {element.replace('_', ' ')}.", **evidence})
        assert added.status_code == 201, added.text
        dossier = client.get(f"/api/dossiers/{dossier['id']}").json()
    return dossier


def test_a_script_builds_submits_and_a_reviewer_approves_with_the_hash_it_read(api, db_url):
    researcher, reviewer, sc = api["researcher"], api["reviewer"], api["scenario"]
    made = researcher.post("/api/dossiers", json={"target_id": sc.target, "legal_basis": "kingpin-b2"})
    assert made.status_code == 201
    draft = made.json()
    assert draft["state"] == "draft" and draft["number"] == 1 and draft["created_by"] == "rosa"
    assert draft["completeness"]["complete"] is False and draft["completeness"]["missing"]
    assert "submit" in draft["moves"] and "approve" not in draft["moves"]
    # Incomplete: the completeness gate refuses the submission and lists what is missing.
    refused = researcher.post(f"/api/dossiers/{draft['id']}/moves", json={"action": "submit",
                                                                          "version": draft["version"]})
    assert refused.status_code == 422 and "not complete" in refused.text

    dossier = _complete(researcher, sc)
    assert [e["number"] for e in dossier["exhibits"]] == [1, 2, 3]
    assert dossier["exhibits"][0]["page"] == "3" and dossier["completeness"]["complete"] is True
    submitted = researcher.post(f"/api/dossiers/{dossier['id']}/moves", json={
        "action": "submit", "version": dossier["version"], "comment": "ready"})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"

    read = reviewer.get(f"/api/dossiers/{dossier['id']}").json()
    assert {"approve", "return", "reject"} <= set(read["moves"])
    # An approval must name the content it approves.
    blind = reviewer.post(f"/api/dossiers/{dossier['id']}/moves", json={"action": "approve",
                                                                        "version": read["version"]})
    assert blind.status_code == 422 and "content_hash" in blind.json()["errors"]
    # The target changes after the reviewer read the package: the approval of what was read is refused.
    with store_db.session_scope(db_url) as s:
        target = s.get(Dossier, dossier["id"]).target_id
        update_entity(s, RESEARCHER, target, {"nationality": ["gt"]}, replace=False)
    stale = reviewer.post(f"/api/dossiers/{dossier['id']}/moves", json={
        "action": "approve", "version": read["version"], "content_hash": read["content_hash"]})
    assert stale.status_code == 409 and "changed since you opened it" in stale.json()["detail"]
    fresh = reviewer.get(f"/api/dossiers/{dossier['id']}").json()
    approved = reviewer.post(f"/api/dossiers/{dossier['id']}/moves", json={
        "action": "approve", "version": fresh["version"], "content_hash": fresh["content_hash"],
        "comment": "meets the criteria"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    # The frozen package (which now reads "approved") carries its own hash, which every export repeats.
    assert body["state"] == "approved" and len(body["snapshot_hash"]) == 64
    assert [(e["event"], e["user"]) for e in body["events"]][-2:] == [("submitted", "rosa"), ("approved", "ruben")]
    # Every time says its zone (UTC), whether just written or read back from the database.
    again = reviewer.get(f"/api/dossiers/{dossier['id']}").json()
    stamps = [again["created_at"], again["updated_at"], *(e["at"] for e in again["events"]),
              *(x["created_at"] for x in again["exhibits"]), body["updated_at"]]
    assert all(t.endswith(("Z", "+00:00")) for t in stamps), stamps

    exported = reviewer.get(f"/api/dossiers/{dossier['id']}/export", params={"format": "json"})
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert json.loads(exported.content)["meta"]["snapshot_hash"] == body["snapshot_hash"]
    listed = reviewer.get("/api/dossiers", params={"state": "approved"}).json()
    assert [d["id"] for d in listed] == [dossier["id"]]

    # The next version opens as a draft with the same exhibits; the approved one stays frozen.
    # A bare POST, as the README gives it: the body (an optional comment) may be left out (it was a 422).
    opened = researcher.post(f"/api/dossiers/{dossier['id']}/versions")
    assert opened.status_code == 201, opened.text
    assert opened.json()["number"] == 2 and opened.json()["previous_id"] == dossier["id"]
    assert len(opened.json()["exhibits"]) == 3
    v1 = researcher.get(f"/api/dossiers/{dossier['id']}").json()
    assert v1["version"] > body["version"]  # opening a version is a change to the old one (its event)
    frozen = researcher.delete(f"/api/dossiers/{dossier['id']}/exhibits/{body['exhibits'][0]['id']}",
                               params={"version": v1["version"]})
    assert frozen.status_code == 422
    assert len(researcher.get(f"/api/dossiers/{dossier['id']}").json()["exhibits"]) == 3


def test_four_eyes_and_roles_hold_over_the_api(api, db_url):
    researcher, reviewer, sc = api["researcher"], api["reviewer"], api["scenario"]
    # A reviewer who authored the package cannot approve it.
    own = _complete(reviewer, sc)
    reviewer.post(f"/api/dossiers/{own['id']}/moves", json={"action": "submit", "version": own["version"]})
    read = reviewer.get(f"/api/dossiers/{own['id']}").json()
    assert "approve" not in read["moves"]
    refused = reviewer.post(f"/api/dossiers/{own['id']}/moves", json={
        "action": "approve", "version": read["version"], "content_hash": read["content_hash"]})
    assert refused.status_code == 403 and "four eyes" in refused.json()["detail"]
    # A researcher cannot review at all.
    theirs = researcher.post(f"/api/dossiers/{own['id']}/moves", json={
        "action": "approve", "version": read["version"], "content_hash": read["content_hash"]})
    assert theirs.status_code == 403
    assert reviewer.get(f"/api/dossiers/{own['id']}").json()["state"] == "submitted"
    # Without a valid token: 401, for reading and for writing, and nothing is created.
    from workbench.web.app import create_app

    anonymous = TestClient(create_app())
    anonymous.headers["Authorization"] = "Bearer not-a-token"
    assert anonymous.get("/api/dossiers").status_code == 401
    assert anonymous.post("/api/dossiers", json={"target_id": sc.target, "legal_basis": "kingpin-b2"}).status_code == 401
    assert [d["id"] for d in reviewer.get("/api/dossiers").json()] == [own["id"]]


def test_edits_change_only_what_is_sent_and_a_stale_version_changes_nothing(api, db_url):
    researcher, sc = api["researcher"], api["scenario"]
    dossier = researcher.post("/api/dossiers", json={
        "target_id": sc.target, "legal_basis": "kingpin-b2", "identifier_notes": "CURP checked in RENAPO",
        "narrative": {"summary": "First summary.", "background": "Background as typed."}}).json()
    edited = researcher.patch(f"/api/dossiers/{dossier['id']}", json={
        "version": dossier["version"], "narrative": {"summary": "Second summary."}})
    assert edited.status_code == 200, edited.text
    after = edited.json()
    assert after["narrative"] == {"summary": "Second summary.", "background": "Background as typed."}
    assert after["identifier_notes"] == "CURP checked in RENAPO" and after["version"] == dossier["version"] + 1
    stale = researcher.patch(f"/api/dossiers/{dossier['id']}", json={"version": dossier["version"],
                                                                     "title": "Overwritten"})
    assert stale.status_code == 409
    assert researcher.get(f"/api/dossiers/{dossier['id']}").json()["title"] == after["title"]
    cleared = researcher.patch(f"/api/dossiers/{dossier['id']}", json={"version": after["version"], "title": ""})
    assert cleared.status_code == 422 and "title" in cleared.json()["errors"]
    unknown = researcher.patch(f"/api/dossiers/{dossier['id']}", json={"version": after["version"], "state": "approved"})
    assert unknown.status_code == 422
    # A section the page has no field for would be stored and exported, but never shown to edit.
    typo = researcher.patch(f"/api/dossiers/{dossier['id']}", json={"version": after["version"],
                                                                    "narrative": {"sumary": "Typo."}})
    assert typo.status_code == 422 and "unknown narrative section(s): sumary" in typo.json()["errors"]["narrative"][0]
    # Megabytes of text would make every PDF of the package take minutes: refused, naming the section.
    huge = researcher.patch(f"/api/dossiers/{dossier['id']}", json={"version": after["version"],
                                                                    "narrative": {"background": "x" * 100_001}})
    assert huge.status_code == 422 and "at most 100,000 characters" in huge.json()["errors"]["narrative.background"][0]
    long_comment = researcher.post(f"/api/dossiers/{dossier['id']}/comments", json={"text": "y" * 100_001})
    assert long_comment.status_code == 422 and "text" in long_comment.json()["errors"]
    assert researcher.get(f"/api/dossiers/{dossier['id']}").json()["narrative"]["background"] == "Background as typed."
    assert researcher.get(f"/api/dossiers/{dossier['id']}").json()["state"] == "draft"


def test_exhibits_and_comments_report_bad_evidence_and_unknown_exhibits(api, db_url):
    researcher, reviewer, sc = api["researcher"], api["reviewer"], api["scenario"]
    dossier = researcher.post("/api/dossiers", json={"target_id": sc.target, "legal_basis": "kingpin-b2"}).json()
    path = f"/api/dossiers/{dossier['id']}"
    wrong = researcher.post(f"{path}/exhibits", json={"version": dossier["version"], "element": "no_such_element",
                                                      "statement": "x", "citation_id": sc.associate_citation})
    assert wrong.status_code == 422 and "element" in wrong.json()["errors"]
    missing = researcher.post(f"{path}/exhibits", json={"version": dossier["version"], "element": "sfnt_link",
                                                        "statement": "x", "citation_id": 999_999})
    assert missing.status_code == 422 and list(missing.json()["errors"]) == ["citation_id"]  # as sent
    no_source = researcher.post(f"{path}/exhibits", json={"version": dossier["version"], "element": "sfnt_link",
                                                          "statement": "x", "source_id": "no-such-source"})
    assert no_source.status_code == 422 and list(no_source.json()["errors"]) == ["source_id"]
    nothing = researcher.post(f"{path}/exhibits", json={"version": dossier["version"], "element": "sfnt_link",
                                                        "statement": "x"})
    assert nothing.status_code == 422 and "source_id" in nothing.json()["errors"]
    unknown_move = researcher.post(f"{path}/moves", json={"action": "publish", "version": dossier["version"]})
    assert unknown_move.status_code == 422 and list(unknown_move.json()["errors"]) == ["action"]
    with store_db.session_scope(db_url) as s:
        assert s.query(Exhibit).count() == 0
    leak = researcher.post(f"{path}/exhibits", json={"version": dossier["version"], "element": "material_support",
                                                     "statement": "Ledger entry.", "citation_id": sc.leak_citation})
    assert leak.status_code == 201 and leak.json()["number"] == 1
    assert leak.json()["excerpt"] == LEAK_EXCERPT  # taken from the citation when none is typed
    note = reviewer.post(f"{path}/comments", json={"text": "Which ledger page?", "exhibit_id": leak.json()["id"]})
    assert note.status_code == 201 and note.json()["author"] == "ruben"
    assert researcher.post(f"{path}/comments", json={"text": "x", "exhibit_id": 999_999}).status_code == 404
    comments = researcher.get(path).json()["comments"]
    assert [(c["author"], c["text"], c["exhibit_id"]) for c in comments] == [
        ("ruben", "Which ledger page?", leak.json()["id"])]
    current = researcher.get(path).json()
    removed = researcher.delete(f"{path}/exhibits/{leak.json()['id']}", params={"version": current["version"]})
    assert removed.status_code == 204
    assert researcher.get(path).json()["exhibits"] == []
    assert researcher.get("/api/dossiers/no-such-dossier").status_code == 404


def test_the_dossier_api_is_documented(api):
    paths = api["researcher"].get("/openapi.json").json()["paths"]
    assert {"/api/dossiers", "/api/dossiers/{dossier_id}", "/api/dossiers/{dossier_id}/exhibits",
            "/api/dossiers/{dossier_id}/moves", "/api/dossiers/{dossier_id}/versions",
            "/api/dossiers/{dossier_id}/export"} <= set(paths)
    assert "patch" in paths["/api/dossiers/{dossier_id}"]
    # What a move may answer besides success is documented: stale (409), four eyes (403), refused (422).
    answers = paths["/api/dossiers/{dossier_id}/moves"]["post"]["responses"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(answers)
    assert "four eyes" in answers["403"]["description"]


def test_a_direction_control_in_a_dossiers_text_is_refused_as_in_entity_values(api, db_url):
    """QA round 12: U+202E in a narrative went into the HTML and Markdown exports as typed, where it shows
    the text after it in another order than it is stored; entity values already refused it."""
    researcher, sc = api["researcher"], api["scenario"]
    dossier = researcher.post("/api/dossiers", json={"target_id": sc.target, "legal_basis": "kingpin-b2",
                                                     "narrative": {"summary": "As typed."}}).json()
    for body, field in (({"narrative": {"summary": "Paid \u202e000,01 USD"}}, "narrative.summary"),
                        ({"title": "Case \u2066A\u2069"}, "title"),
                        ({"identifier_notes": "CURP \u202dchecked"}, "identifier_notes")):
        refused = researcher.patch(f"/api/dossiers/{dossier['id']}", json={"version": dossier["version"], **body})
        assert refused.status_code == 422, (body, refused.text)
        assert "direction control" in refused.json()["errors"][field][0]
    comment = researcher.post(f"/api/dossiers/{dossier['id']}/comments", json={"text": "See \u202bexhibit 1"})
    assert comment.status_code == 422 and "direction control" in comment.json()["errors"]["text"][0]
    kept = researcher.get(f"/api/dossiers/{dossier['id']}").json()
    assert kept["narrative"] == {"summary": "As typed."} and kept["version"] == dossier["version"]
    arabic = researcher.patch(f"/api/dossiers/{dossier['id']}", json={  # right-to-left text itself is welcome
        "version": dossier["version"], "narrative": {"summary": "Alias \u0623\u0628\u0648 \u0639\u0644\u064a."}})
    assert arabic.status_code == 200, arabic.text
