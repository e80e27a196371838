"""QA round 7 (an attacker's walk): the four-eyes rule holds against merges. A reviewer could merge the
target of a dossier under review into an entry of their own, so that the package was about someone else,
and then approve it. All names are FICTIONAL."""

from __future__ import annotations

import pytest
from test_dossier_scenario import build_scenario, complete_dossier

from workbench.dossiers import service, workflow
from workbench.dossiers.workflow import FourEyesViolation
from workbench.matching.judgements import current_judgement, merge, unmerge
from workbench.store.entities import Conflict, create_entity
from workbench.store.models import Dossier, Entity
from workbench.store.permissions import Actor

REVIEWER_TWO = Actor("wanda", "reviewer")


def _puppet(session, actor) -> str:
    return create_entity(session, actor, "Person", {"name": "Rev One Puppet (FICTIONAL)"}).obj.id


def test_the_target_of_a_dossier_under_review_cannot_be_merged_either_way(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    puppet = _puppet(session, reviewer)
    session.commit()
    for winner, loser in ((puppet, sc.target), (sc.target, puppet)):
        with pytest.raises(Conflict, match="submitted for review: a merge would change what its reviewer approves"):
            merge(session, reviewer, winner, loser)
        session.rollback()
    dossier = session.get(Dossier, dossier_id)
    assert dossier.target_id == sc.target and [e.event for e in dossier.events][-1] == "submitted"
    assert session.get(Entity, sc.target).merged_into is None and session.get(Entity, puppet).merged_into is None
    assert "alias" not in session.get(Entity, puppet).properties
    assert current_judgement(session, puppet, sc.target) is None


def test_once_returned_the_merge_goes_through_and_its_user_may_not_review_the_package(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    workflow.return_for_changes(session, REVIEWER_TWO, dossier_id, "merge the duplicate first")
    puppet = _puppet(session, reviewer)
    record = merge(session, reviewer, puppet, sc.target)  # the returned dossier follows its target
    session.commit()
    assert session.get(Dossier, dossier_id).target_id == puppet
    workflow.reopen(session, researcher, dossier_id)
    workflow.submit(session, researcher, dossier_id)
    session.commit()
    # Moving the package to another target made the reviewer one of its editors: four eyes.
    assert workflow.may_review(session, reviewer, session.get(Dossier, dossier_id))
    with pytest.raises(FourEyesViolation):
        workflow.approve(session, reviewer, dossier_id)
    session.rollback()
    # Undoing the merge would move the submitted dossier back: refused too, until it is decided.
    with pytest.raises(Conflict, match="undoing the merge would change what its reviewer approves"):
        unmerge(session, reviewer, record.id)
    session.rollback()
    assert workflow.approve(session, REVIEWER_TWO, dossier_id).state == "approved"
    assert service.get_dossier(session, dossier_id).target_id == puppet


def test_a_request_with_an_api_token_holds_no_write_while_it_works(db_url, monkeypatch):
    """An OpenRefine batch took 30 s to score while its request held the write of the token's "last used"
    time: on SQLite every other save waited, then failed "another job is writing". While such a request
    works, another connection can write, even to the token's own row."""
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, text

    from workbench.store import db as store_db
    from workbench.store.models import ApiToken
    from workbench.store.permissions import SYSTEM
    from workbench.store.users import add_user, create_token
    from workbench.web import readmodels
    from workbench.web.app import create_app

    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "rita", "researcher", "correct horse battery")
        token = create_token(s, SYSTEM, "openrefine", "rita")
    other = create_engine(db_url, connect_args={"timeout": 0} if db_url.startswith("sqlite") else {})
    written = []
    listing = readmodels.list_entities

    def list_while_another_writes(session, *args, **kwargs):
        found = listing(session, *args, **kwargs)  # the request's own queries have run (and flushed)
        with other.begin() as conn:
            if other.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '200ms'"))
            written.append(conn.execute(ApiToken.__table__.update().values(label="renamed meanwhile")).rowcount)
        return found

    monkeypatch.setattr(readmodels, "list_entities", list_while_another_writes)
    client = TestClient(create_app())
    response = client.get("/api/entities", headers={"Authorization": f"Bearer {token}"})
    other.dispose()
    assert response.status_code == 200, response.text
    assert written == [1]
    with store_db.session_scope(db_url) as s:
        row = s.query(ApiToken).one()
        assert row.label == "renamed meanwhile" and row.last_used_at is not None


def test_an_admins_api_token_cannot_manage_users_or_make_tokens(db_url):
    """A token made "for OpenRefine alone" sits in OpenRefine's service address and in web-server logs;
    an admin's was a full admin credential (it created an admin user). Tokens still read and edit."""
    from fastapi.testclient import TestClient

    from workbench.store import db as store_db
    from workbench.store.models import ApiToken, User
    from workbench.store.permissions import SYSTEM, PermissionDenied
    from workbench.store.users import actor_for_token, add_user, create_token
    from workbench.web.app import create_app

    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "ada", "admin", "correct horse battery")
        token = create_token(s, SYSTEM, "openrefine", "ada")
    client = TestClient(create_app())
    client.headers["Authorization"] = f"Bearer {token}"
    added = client.post("/admin/users", data={"username": "evil", "role": "admin", "password": "evil password 123"})
    assert added.status_code == 403 and "an API token cannot be used" in added.text
    minted = client.post("/admin/users/ada/tokens", data={"label": "another"})
    assert minted.status_code == 403 and "an API token cannot be used" in minted.text
    assert client.get("/api/entities").status_code == 200  # what tokens are for still works
    made = client.post("/api/entities", json={"kind": "Person", "properties": {"name": "Ana Roja (FICTIONAL)"}})
    assert made.status_code == 201
    with store_db.session_scope(db_url) as s:
        assert s.query(User).filter_by(username="evil").count() == 0
        assert s.query(ApiToken).count() == 1
        with pytest.raises(PermissionDenied, match="an API token cannot create tokens"):
            create_token(s, actor_for_token(s, token), "from a script")
        with pytest.raises(PermissionDenied, match="an API token cannot be used to"):  # the domain refuses too
            add_user(s, actor_for_token(s, token), "evil2", "admin", "evil password 123")
