"""QA round 9: four eyes covers the evidence under review, not only the dossier's own row.

A reviewer could edit the target, a source an exhibit relies on, or the target's links while the dossier
waited for review, reload the page (a fresh content hash) and approve: the frozen package then held the
reviewer's own edits. Now whoever changed, since the last submission, a record the dossier's page shows
is its editor and may not review it; another reviewer may. Changes elsewhere, or made before the
submission, do not count.

FICTIONAL scenario (test_dossier_scenario).
"""

from __future__ import annotations

import re

import pytest
from test_dossier_scenario import build_scenario, complete_dossier

from workbench.dossiers import snapshot, workflow
from workbench.dossiers.service import get_dossier
from workbench.dossiers.workflow import FourEyesViolation
from workbench.store.entities import create_entity, update_entity, update_source
from workbench.store.models import Entity, Source
from workbench.store.permissions import Actor

OTHER_REVIEWER = Actor("wanda", "reviewer")


@pytest.fixture
def submitted(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    update_entity(session, reviewer, sc.target, {"notes": "FICTIONAL note written before the submission"},
                  replace=False)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    session.commit()
    return sc, dossier_id


def _approve(session, actor, dossier_id):
    dossier = get_dossier(session, dossier_id)
    return workflow.move(session, actor, dossier_id, "approve", seen_hash=snapshot.live_hash(session, dossier),
                         require_seen=True)


def test_a_reviewer_who_edited_the_target_under_review_cannot_approve_it(session, submitted, reviewer):
    sc, dossier_id = submitted
    update_entity(session, reviewer, sc.target, {"position": "FICTIONAL post added by the reviewer"}, replace=False)
    session.commit()

    with pytest.raises(FourEyesViolation, match="changed what dossier .* shows since it was submitted") as refused:
        _approve(session, reviewer, dossier_id)
    # QA round 10: named as the reviewer knows it (it read 'entity <id> (entity.update)')
    target_caption = session.get(Entity, sc.target).caption
    assert f"({target_caption} (changed))" in str(refused.value) and sc.target not in str(refused.value)
    session.rollback()
    dossier = get_dossier(session, dossier_id)
    assert "approve" not in {m.name for m in workflow.allowed_moves(session, reviewer, dossier)}
    assert _approve(session, OTHER_REVIEWER, dossier_id).state == "approved"


def test_a_reviewer_who_edited_an_exhibits_source_cannot_approve_it(session, submitted, reviewer):
    sc, dossier_id = submitted
    source = session.get(Source, sc.court)
    update_source(session, reviewer, sc.court, expected_version=source.version, title="Court record 17 (TEST, edited)")
    session.commit()
    with pytest.raises(FourEyesViolation, match=r"the source 'Court record 17 \(TEST, edited\)' \(changed\)"):
        _approve(session, reviewer, dossier_id)


def test_changes_elsewhere_and_before_the_submission_leave_the_reviewer_free(session, submitted, reviewer):
    _sc, dossier_id = submitted
    create_entity(session, reviewer, "Person", {"name": "Persona Ajena Ficticia (TEST)"})
    session.commit()
    assert _approve(session, reviewer, dossier_id).state == "approved"


def test_a_reviewer_who_deleted_an_ownership_link_under_review_cannot_approve_it(session, submitted, reviewer):
    """Deleting the target's ownership of the company took the assets out of the page, and with them the
    trace of the change (found by review)."""
    from sqlalchemy import select

    from workbench.store.entities import delete_link
    from workbench.store.models import Link

    sc, dossier_id = submitted
    owned = session.scalar(select(Link.id).where(Link.kind == "Ownership", Link.source_id == sc.target,
                                                 Link.target_id == sc.company))
    delete_link(session, reviewer, owned)
    session.commit()
    with pytest.raises(FourEyesViolation, match=r"the link .* – Ownership – .* \(removed\)"):
        _approve(session, reviewer, dossier_id)


def test_a_reviewer_who_edited_the_designated_party_cannot_approve_it(session, submitted, reviewer):
    sc, dossier_id = submitted
    update_entity(session, reviewer, sc.cartel, {"notes": "FICTIONAL note by the reviewer"}, replace=False)
    session.commit()
    with pytest.raises(FourEyesViolation, match=re.escape(f"{session.get(Entity, sc.cartel).caption} (changed)")):
        _approve(session, reviewer, dossier_id)
