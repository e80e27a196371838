"""The dossier workflow in the domain layer: completeness gate, four eyes, moves, freezing, versions, conflicts."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select
from test_dossier_scenario import BAD_CURP, build_scenario, complete_dossier

from workbench.dossiers import completeness, service, snapshot, workflow
from workbench.dossiers.service import Incomplete, InvalidMove
from workbench.dossiers.workflow import FourEyesViolation
from workbench.schema import ValidationError
from workbench.store import audit
from workbench.store import db as store_db
from workbench.store.audit import canonical
from workbench.store.entities import Conflict, NotFound, update_entity
from workbench.store.models import AuditEntry
from workbench.store.permissions import Actor, PermissionDenied

OTHER_REVIEWER = Actor("wanda", "reviewer")


def test_whole_workflow_submit_approve_with_typed_events_and_audit(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id, "ready for review")
    dossier = workflow.approve(session, reviewer, dossier_id, "meets the criteria")
    session.commit()

    assert dossier.state == "approved"
    events = [(e.event, e.from_state, e.to_state, e.user) for e in dossier.events]
    assert events[0] == ("created", None, "draft", "rita")
    assert [e[0] for e in events[1:5]] == ["exhibit_added"] * 4
    assert events[-2:] == [("submitted", "draft", "submitted", "rita"), ("approved", "submitted", "approved", "victor")]
    assert dossier.events[-1].comment == "meets the criteria" and dossier.events[-1].at is not None
    # The snapshot is canonical JSON whose SHA-256 is the stored hash.
    digest = hashlib.sha256(canonical(dossier.snapshot).encode()).hexdigest()
    assert dossier.snapshot_hash == digest and snapshot.verify_snapshot(dossier)
    actions = session.execute(select(AuditEntry.action).where(AuditEntry.object_id == dossier_id)
                              .order_by(AuditEntry.seq)).scalars().all()
    assert actions[0] == "dossier.create" and actions[-2:] == ["dossier.submit", "dossier.approve"]
    assert audit.verify(session)[1] is None


def test_self_approval_refused_to_author_and_to_editor(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    # A reviewer who authored the dossier cannot approve it.
    own = complete_dossier(session, reviewer, sc)
    workflow.submit(session, reviewer, own)
    with pytest.raises(FourEyesViolation, match="four eyes: victor authored or edited"):
        workflow.approve(session, reviewer, own)
    # A reviewer who only edited (one exhibit) someone else's dossier cannot review it either.
    other = complete_dossier(session, researcher, sc)
    service.add_exhibit(session, OTHER_REVIEWER, other, element="foreign_person", statement="Passport copy.",
                        statement_type="fact", source_id=sc.official)
    workflow.submit(session, researcher, other)
    with pytest.raises(FourEyesViolation):
        workflow.reject(session, OTHER_REVIEWER, other, "no")
    # A researcher is not a reviewer at all.
    with pytest.raises(PermissionDenied, match="needs 'review' permission"):
        workflow.approve(session, researcher, other)
    assert service.get_dossier(session, other).state == "submitted"
    # The independent reviewer may.
    assert workflow.approve(session, reviewer, other).state == "approved"


def test_editor_known_only_from_the_audit_log_is_refused(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    # An edit whose event row is gone (e.g. imported history) still counts through the audit log.
    audit.record(session, reviewer.username, "dossier.update", "dossier", dossier_id, None, {"narrative": {}})
    with pytest.raises(FourEyesViolation):
        workflow.approve(session, reviewer, dossier_id)
    # Commenting is discussion, not editing: a commenting reviewer may still review.
    service.add_comment(session, OTHER_REVIEWER, dossier_id, "Exhibit 4 needs corroboration.")
    assert workflow.may_review(session, OTHER_REVIEWER, service.get_dossier(session, dossier_id)) is None


def test_incomplete_submission_is_refused_listing_what_is_missing(session, researcher):
    sc = build_scenario(session, researcher, identifiers=())
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    service.add_exhibit(session, researcher, dossier.id, element="foreign_person", statement="Mexican national.",
                        statement_type="fact", source_id=sc.official)
    with pytest.raises(Incomplete) as refused:
        workflow.submit(session, researcher, dossier.id)
    missing = refused.value.missing
    assert any("'sfnt_link'" in m for m in missing)
    assert any("'material_support'" in m for m in missing)
    assert not any("'foreign_person'" in m for m in missing)
    assert any("no identifiers" in m for m in missing)
    assert service.get_dossier(session, dossier.id).state == "draft"
    assert [e.event for e in dossier.events][-1] == "exhibit_added"


def test_derivative_basis_needs_a_sourced_link(session, researcher):
    sc = build_scenario(session, researcher, cite_associate=False)
    from workbench.store.entities import cite, delete_citation

    delete_citation(session, researcher, sc.leak_citation)
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    service.add_exhibit(session, researcher, dossier.id, element="foreign_person", statement="National.",
                        statement_type="fact", source_id=sc.official)
    service.add_exhibit(session, researcher, dossier.id, element="sfnt_link", statement="Designated cartel.",
                        statement_type="fact", source_id=sc.official)
    service.add_exhibit(session, researcher, dossier.id, element="material_support", statement="Payments.",
                        statement_type="allegation", source_id=sc.court)
    result = completeness.check(snapshot.live_view(session, dossier))
    assert result.missing == [m for m in result.missing if "sourced link" in m] and len(result.missing) == 1
    cite(session, researcher, sc.court, link_id=sc.associate_link, excerpt="payments")
    assert completeness.check(snapshot.live_view(session, dossier)).complete
    # A non-derivative basis does not ask for the link.
    b4 = service.create_dossier(session, researcher, sc.target, "kingpin-b4")
    keys = [c.key for c in completeness.check(snapshot.live_view(session, b4)).checks]
    assert "designated_link" not in keys


def test_failed_check_digit_needs_an_explanation(session, researcher):
    sc = build_scenario(session, researcher, identifiers=(BAD_CURP,))
    dossier_id = complete_dossier(session, researcher, sc)
    with pytest.raises(Incomplete, match="check digit"):
        workflow.submit(session, researcher, dossier_id)
    service.update_dossier(session, researcher, dossier_id,
                           identifier_notes="The CURP is printed so in the official gazette; verified twice.")
    assert workflow.submit(session, researcher, dossier_id).state == "submitted"


def test_approved_dossier_is_frozen_against_later_entity_edits(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    workflow.approve(session, reviewer, dossier_id)
    session.commit()
    dossier = service.get_dossier(session, dossier_id)
    frozen_hash = dossier.snapshot_hash
    frozen_view = json.loads(canonical(snapshot.view_of(session, dossier)))

    update_entity(session, researcher, sc.target, {"name": "Renamed Person", "nationality": "us"}, replace=False)
    update_entity(session, researcher, sc.house, {"parcelNumber": "CHANGED-APN"}, replace=False)
    session.commit()

    dossier = service.get_dossier(session, dossier_id)
    assert dossier.snapshot_hash == frozen_hash
    assert snapshot.view_of(session, dossier) == frozen_view
    assert snapshot.verify_snapshot(dossier)
    assert snapshot.view_of(session, dossier)["target"]["caption"] == "Ramiro Testigo Ficticio (FICTIONAL)"
    # The live store did change: the snapshot is what keeps the package stable.
    assert snapshot.live_view(session, dossier)["target"]["caption"] == "Renamed Person"
    with pytest.raises(InvalidMove, match="open a new version"):
        service.update_dossier(session, researcher, dossier_id, narrative={"summary": "changed"})


def test_invalid_moves_are_refused(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    with pytest.raises(InvalidMove, match="it is draft"):
        workflow.approve(session, reviewer, dossier_id)
    with pytest.raises(InvalidMove):
        workflow.reopen(session, researcher, dossier_id)
    with pytest.raises(InvalidMove, match="unknown move"):
        workflow.move(session, researcher, dossier_id, "publish")
    workflow.submit(session, researcher, dossier_id)
    with pytest.raises(InvalidMove):
        workflow.submit(session, researcher, dossier_id)
    with pytest.raises(InvalidMove, match="submitted and cannot be edited"):
        service.add_exhibit(session, researcher, dossier_id, element="sfnt_link", statement="x",
                            statement_type="fact", source_id=sc.official)
    with pytest.raises(ValidationError, match="say why"):
        workflow.return_for_changes(session, reviewer, dossier_id, "")
    workflow.approve(session, reviewer, dossier_id)
    for name in ("withdraw", "return", "reject", "submit"):
        with pytest.raises(InvalidMove):
            workflow.move(session, reviewer if name in ("return", "reject") else researcher, dossier_id, name, "c")
    assert service.get_dossier(session, dossier_id).state == "approved"


def test_return_reopen_resubmit_and_new_version(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    workflow.return_for_changes(session, reviewer, dossier_id, "corroborate exhibit 4")
    with pytest.raises(InvalidMove, match="reopen it as a draft"):
        service.update_dossier(session, researcher, dossier_id, narrative={"summary": "x"})
    workflow.reopen(session, researcher, dossier_id)
    service.update_dossier(session, researcher, dossier_id, narrative={"summary": "Corroborated."})
    workflow.submit(session, researcher, dossier_id)
    approved = workflow.approve(session, reviewer, dossier_id)
    assert [e.event for e in approved.events if e.to_state] == [
        "created", "submitted", "returned", "reopened", "submitted", "approved"]

    v2 = service.new_version(session, researcher, dossier_id)
    assert (v2.number, v2.previous_id, v2.state) == (2, dossier_id, "draft")
    assert [e.number for e in v2.exhibits] == [1, 2, 3, 4]
    assert v2.snapshot is None and approved.state == "approved"
    with pytest.raises(InvalidMove, match="already exists"):
        service.new_version(session, researcher, dossier_id)
    with pytest.raises(InvalidMove):
        service.new_version(session, researcher, v2.id)  # a draft
    # Exhibits copied from version 1 keep their authors: the v1 author still may not review v2.
    workflow.submit(session, OTHER_REVIEWER, v2.id)
    with pytest.raises(FourEyesViolation):
        workflow.approve(session, OTHER_REVIEWER, v2.id)
    assert [d.number for d in service.version_chain(session, v2)] == [1, 2]


def test_withdraw_from_draft_submitted_or_returned_only(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    first = complete_dossier(session, researcher, sc)
    assert workflow.withdraw(session, researcher, first, "duplicate").state == "withdrawn"
    with pytest.raises(InvalidMove):
        workflow.withdraw(session, researcher, first)
    second = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, second)
    workflow.return_for_changes(session, reviewer, second, "weak")
    assert workflow.withdraw(session, researcher, second, "superseded").state == "withdrawn"


def test_stale_version_gives_conflict(session, researcher):
    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    seen = dossier.version
    service.update_dossier(session, researcher, dossier.id, expected_version=seen, narrative={"summary": "A"})
    # The same user's second tab (or second click) is told it was their own change, not someone else's.
    with pytest.raises(Conflict, match="you changed dossier .* since this page was opened"):
        service.update_dossier(session, researcher, dossier.id, expected_version=seen, narrative={"summary": "B"})
    with pytest.raises(Conflict, match="changed by someone else since you opened it: version 1 is now draft"):
        service.update_dossier(session, OTHER_REVIEWER, dossier.id, expected_version=seen, narrative={"summary": "C"})
    with pytest.raises(Conflict):
        service.add_exhibit(session, researcher, dossier.id, element="sfnt_link", statement="x",
                            statement_type="fact", source_id=sc.official, expected_version=seen)
    assert service.get_dossier(session, dossier.id).narrative == {"summary": "A"}


def test_concurrent_sessions_editing_the_same_dossier_conflict(db_url, session, researcher):
    sc = build_scenario(session, researcher)
    dossier_id = service.create_dossier(session, researcher, sc.target, "kingpin-b2").id
    session.commit()
    factory = store_db.session_factory(db_url)
    first, second = factory(), factory()
    try:
        # Both sessions hold the dossier as it was (version 1), as two open edit forms would.
        held = (service.get_dossier(first, dossier_id), service.get_dossier(second, dossier_id))
        assert held[0].version == held[1].version
        service.update_dossier(first, researcher, dossier_id, narrative={"summary": "first"})
        first.commit()
        # The second form sends the version it was opened at (as the pages and the API do): a change
        # reads the dossier afresh before checking (audit.begin_change), so the version is what tells.
        with pytest.raises(Conflict):
            service.update_dossier(second, researcher, dossier_id, expected_version=held[1].version,
                                   narrative={"summary": "second"})
        second.rollback()
    finally:
        first.close()
        second.close()
    session.expire_all()
    assert service.get_dossier(session, dossier_id).narrative == {"summary": "first"}


def test_one_edit_raises_the_version_by_one(session, researcher):
    """An edit used to flush twice (loading the events to append to flushed the change first), so a
    conflict message said 'your version 6, now 8' after a single save by someone else."""
    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    session.commit()
    before = dossier.version
    service.update_dossier(session, researcher, dossier.id, narrative={"summary": "changed"}, expected_version=before)
    session.commit()
    assert service.get_dossier(session, dossier.id).version == before + 1


def test_exhibit_and_dossier_validation(session, researcher):
    sc = build_scenario(session, researcher)
    with pytest.raises(ValidationError, match="applies to Person"):
        service.create_dossier(session, researcher, sc.company, "visa-212a2c")
    with pytest.raises(ValidationError, match="unknown legal basis"):
        service.create_dossier(session, researcher, sc.target, "kingpin-b9")
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    with pytest.raises(ValidationError) as bad:
        service.add_exhibit(session, researcher, dossier.id, element="reason_to_believe", statement="",
                            statement_type="rumour", source_id=sc.official)
    assert set(bad.value.errors) == {"element", "statement", "statement_type"}
    assert "foreign_person" in bad.value.errors["element"][0]
    with pytest.raises(PermissionDenied):
        service.create_dossier(session, Actor("eve", "guest"), sc.target, "kingpin-b2")


def test_comments_on_dossier_and_exhibit(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    exhibit = service.get_dossier(session, dossier_id).exhibits[3]
    service.add_comment(session, reviewer, dossier_id, "Overall fine.")
    service.add_comment(session, reviewer, dossier_id, "Leak needs corroboration.", exhibit_id=exhibit.id)
    with pytest.raises(NotFound):
        service.add_comment(session, reviewer, dossier_id, "x", exhibit_id=999999)
    with pytest.raises(ValidationError):
        service.add_comment(session, reviewer, dossier_id, "   ")
    comments = service.comments_for(session, dossier_id)
    assert [(c.author, c.exhibit_id, c.text) for c in comments] == [
        ("victor", None, "Overall fine."), ("victor", exhibit.id, "Leak needs corroboration.")]


def test_review_queue_marks_what_the_reviewer_may_not_take(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    mine = complete_dossier(session, reviewer, sc)
    theirs = complete_dossier(session, researcher, sc)
    complete_dossier(session, researcher, sc)  # still a draft: not in the queue
    workflow.submit(session, reviewer, mine)
    workflow.submit(session, researcher, theirs)
    queue = {item["dossier"].id: item for item in workflow.review_queue(session, reviewer)}
    assert set(queue) == {mine, theirs}
    assert "four eyes" in queue[mine]["blocked"] and queue[theirs]["blocked"] is None
    assert queue[theirs]["submitted_by"] == "rita"


def test_an_exhibit_cites_only_what_the_dossier_shows(session, researcher):
    """The server holds to what the form offers: facts about the target, its links, its chains to
    designated parties (with their designations) and its assets; not a fact about another entry."""
    from workbench.store.entities import cite, create_entity, create_link

    sc = build_scenario(session, researcher)
    other = create_entity(session, researcher, "Person", {"name": "Otra Persona (FICTIONAL)"}).obj.id
    elsewhere = cite(session, researcher, sc.court, entity_id=other, excerpt="about someone else").id
    # The cartel's designation is part of the chain the dossier shows.
    sanction = create_entity(session, researcher, "Sanction", {"name": "OFAC SDNTK (TEST)", "authority": "OFAC",
                                                               "program": "SDNTK"}).obj.id
    designation = create_link(session, researcher, "SanctionOf", sanction, sc.cartel).obj.id
    designation_citation = cite(session, researcher, sc.official, link_id=designation, excerpt="SDN list").id
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    offered = {c["id"] for c in service.exhibit_choices(session, dossier)["citations"]}
    assert {sc.associate_citation, designation_citation} <= offered and elsewhere not in offered
    with pytest.raises(ValidationError, match="supports a fact the dossier does not show"):
        service.add_exhibit(session, researcher, dossier.id, element="foreign_person", statement="x",
                            citation_id=elsewhere)
    service.add_exhibit(session, researcher, dossier.id, element="sfnt_link", statement="Designated.",
                        citation_id=designation_citation)
    service.add_exhibit(session, researcher, dossier.id, element="material_support", statement="Payments.",
                        citation_id=sc.associate_citation)


def test_a_returned_dossier_with_a_newer_version_cannot_be_reopened(session, researcher, reviewer):
    """Reopening version 1 after version 2 was opened from it made two drafts of one package, both of
    which could be approved (the older without the newer one's edits)."""
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    workflow.return_for_changes(session, reviewer, dossier_id, "corroborate exhibit 4")
    v2 = service.new_version(session, researcher, dossier_id)
    with pytest.raises(InvalidMove, match=f"version 2 of this dossier \\({v2.id}\\)"):
        workflow.reopen(session, researcher, dossier_id)
    old = service.get_dossier(session, dossier_id)
    assert old.state == "returned" and "reopen" not in {m.name for m in workflow.allowed_moves(session, researcher, old)}


def test_removing_an_exhibit_keeps_its_discussion_and_its_number(session, researcher, reviewer):
    """The reviewer's comment on an exhibit vanished with it, and the next exhibit took its number, so
    'Exhibit 4' in the narrative or a comment came to mean other evidence."""
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    last = max(service.get_dossier(session, dossier_id).exhibits, key=lambda e: e.number)
    service.add_comment(session, reviewer, dossier_id, "Leak needs corroboration.", exhibit_id=last.id)
    service.remove_exhibit(session, researcher, dossier_id, last.id)
    comments = service.comments_for(session, dossier_id)
    assert [(c.exhibit_id, c.text) for c in comments] == [
        (None, f"[on exhibit {last.number}, since removed] Leak needs corroboration.")]
    added = service.add_exhibit(session, researcher, dossier_id, element="foreign_person", statement="Another fact.",
                                statement_type="fact", source_id=sc.official)
    assert added.number == last.number + 1


def test_dossier_titles_and_visa_dates_are_checked_not_cut_or_copied(session, researcher):
    sc = build_scenario(session, researcher)
    with pytest.raises(ValidationError, match="at most 300 characters"):
        service.create_dossier(session, researcher, sc.target, "kingpin-b2", title="T" * 301)
    dossier = service.create_dossier(session, researcher, sc.target, "visa-212a2c")
    with pytest.raises(ValidationError) as bad:
        service.update_dossier(session, researcher, dossier.id,
                               visa_data={"issue_date": "31/31/2020", "expiry_date": "2019-01-01"})
    assert "is not a date" in bad.value.errors["visa_issue_date"][0]
    with pytest.raises(ValidationError, match="expiry date 2019-01-01 is before the issue date 2020-03-01"):
        service.update_dossier(session, researcher, dossier.id,
                               visa_data={"issue_date": "2020-03-01", "expiry_date": "2019-01-01"})
    saved = service.update_dossier(session, researcher, dossier.id,
                                   visa_data={"issue_date": "2020-03-01", "expiry_date": "2030"})
    assert saved.visa_data == {"issue_date": "2020-03-01", "expiry_date": "2030"}
