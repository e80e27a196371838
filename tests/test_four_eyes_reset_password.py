"""Four eyes hold against an admin's password reset (security QA, round 16): an admin who wrote a dossier reset a
reviewer's password, signed in as the reviewer with it and approved the dossier, which then read as approved by a
second person. A reviewer whose password an author of the dossier set cannot review it, even after changing it
(that change needed the password the author knew); another admin's reset, or another reviewer, settles it."""

from __future__ import annotations

import pytest
from test_dossier_scenario import build_scenario, complete_dossier

from workbench.dossiers import workflow
from workbench.store import users
from workbench.store.permissions import SYSTEM, Actor, PermissionDenied

PASSWORD = "correct horse battery staple 16"
AD1, AD2 = Actor("ad1", "admin"), Actor("ad2", "admin")
RV2, RV3 = Actor("rv2", "reviewer"), Actor("rv3", "reviewer")


@pytest.fixture
def written_by_an_admin(session):
    for name, role in (("ad1", "admin"), ("ad2", "admin"), ("rv2", "reviewer"), ("rv3", "reviewer")):
        users.add_user(session, SYSTEM, name, role, PASSWORD)
    sc = build_scenario(session, AD1)
    dossier_id = complete_dossier(session, AD1, sc)
    workflow.submit(session, AD1, dossier_id)
    session.commit()
    return dossier_id


def test_a_reviewer_whose_password_the_author_reset_cannot_approve(session, written_by_an_admin):
    known_to_ad1 = users.reset_password(session, AD1, "rv2").password
    session.commit()
    with pytest.raises(PermissionDenied) as refused:
        workflow.approve(session, RV2, written_by_an_admin)
    assert "rv2's password was set by ad1" in str(refused.value)
    assert "could be acting as rv2; another reviewer must review it, or another admin reset" in str(refused.value)
    assert "needed that password" not in str(refused.value)  # rv2 has not changed it (reviewer QA round 16)
    # Changing it needs the password ad1 knew: still refused.
    users.change_own_password(session, RV2, known_to_ad1, "a brand new password 2026")
    session.commit()
    with pytest.raises(PermissionDenied, match="the change made since needed that password"):
        workflow.approve(session, RV2, written_by_an_admin)
    assert workflow.approve(session, RV3, written_by_an_admin).state == "approved"  # another reviewer may


def test_another_admins_reset_settles_it(session, written_by_an_admin):
    users.reset_password(session, AD1, "rv2")
    users.reset_password(session, AD2, "rv2")
    session.commit()
    assert workflow.approve(session, RV2, written_by_an_admin).state == "approved"


def test_a_password_set_by_an_admin_who_did_not_write_the_dossier_is_no_bar(session, written_by_an_admin):
    users.reset_password(session, AD2, "rv2")
    session.commit()
    assert workflow.may_review(session, RV2, workflow.get_dossier(session, written_by_an_admin)) is None



def test_a_token_made_while_the_authors_password_was_in_force_stays_barred_after_another_reset(
        session, written_by_an_admin):
    """Reviewer QA round 16: ad1 reset rv2's password, signed in as rv2 and made a token; ad2's later reset
    cleared rv2's sign-in, and ad1 approved with the token."""
    known_to_ad1 = users.reset_password(session, AD1, "rv2").password
    assert users.authenticate(session, "rv2", known_to_ad1) is not None
    token = users.create_token(session, RV2, "made by whoever held the password")
    session.commit()
    users.reset_password(session, AD2, "rv2")
    session.commit()
    by_token = users.actor_for_token(session, token)
    with pytest.raises(PermissionDenied, match="when the API token in use was made"):
        workflow.approve(session, by_token, written_by_an_admin)
    assert workflow.may_review(session, RV2, workflow.get_dossier(session, written_by_an_admin)) is None  # signed in
