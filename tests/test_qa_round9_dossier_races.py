"""QA round 9: two requests on one dossier version at the same moment.

Opening the next version checked that none existed and then inserted one, with nothing between the
two: two requests at the same moment (or one opening a version while another reopened the returned
dossier) made two drafts of one package, each of which could be approved, and the approved version's
page, API and exports then failed. The interleaving is forced here, not hoped for: the second request
starts right after the first one's check. Since every change takes the log's lock before its checks
(audit.begin_change), the second waits there for the first to commit, then sees what it made and is
refused; the database's one-successor rule stays behind that as a second line.

FICTIONAL scenario (test_dossier_scenario).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select
from test_dossier_scenario import build_scenario, complete_dossier

from workbench.dossiers import service, workflow
from workbench.dossiers.exports import export_dossier
from workbench.store import db as store_db
from workbench.dossiers.workflow import InvalidMove
from workbench.store.entities import Conflict
from workbench.store.models import Dossier
from workbench.store.permissions import Actor

OTHER_RESEARCHER = Actor("rosa", "researcher")


def _after_successor_check(session, run_meanwhile) -> list[threading.Thread]:
    """Start ``run_meanwhile`` (another request, in its own session and thread) right after ``session``
    has looked for a successor of the dossier and found none: the moment the race needs. The caller
    joins the thread once its own request has ended (the other one waits for it)."""
    fired: list[threading.Thread] = []

    @event.listens_for(session, "do_orm_execute")
    def interleave(state):
        where = getattr(state.statement, "whereclause", None) if state.is_select else None
        if fired or where is None or "previous_id" not in str(where):
            return None
        result = state.invoke_statement()
        fired.append(threading.Thread(target=run_meanwhile))
        fired[0].start()
        return result

    return fired


def _reviewed(session, researcher, verdict) -> str:
    """A complete dossier, submitted and then given ``verdict`` (a workflow move) by its reviewer."""
    dossier_id = complete_dossier(session, researcher, build_scenario(session, researcher))
    workflow.submit(session, researcher, dossier_id)
    verdict(dossier_id)
    session.commit()
    return dossier_id


@pytest.fixture
def returned(db_url, session, researcher, reviewer):
    return _reviewed(session, researcher, lambda d: workflow.return_for_changes(session, reviewer, d,
                                                                                 "corroborate exhibit 4"))


@pytest.fixture
def approved(db_url, session, researcher, reviewer):
    return _reviewed(session, researcher, lambda d: workflow.approve(session, reviewer, d))


def _open_version_elsewhere(db_url, dossier_id, refused: list):
    def run():
        with store_db.session_scope(db_url) as other:
            try:
                service.new_version(other, OTHER_RESEARCHER, dossier_id)
            except (InvalidMove, Conflict) as exc:  # what the later of the two is told
                refused.append(str(exc))
                other.rollback()
    return run


def test_two_new_versions_at_the_same_moment_leave_one_and_the_approved_version_readable(db_url, approved,
                                                                                          researcher):
    refused: list[str] = []
    with store_db.session_scope(db_url) as mine:
        fired = _after_successor_check(mine, _open_version_elsewhere(db_url, approved, refused))
        service.new_version(mine, researcher, approved)
        assert fired
    fired[0].join(60)
    assert refused and "already exists" in refused[0]
    with store_db.session_scope(db_url) as s:
        successors = s.scalars(select(Dossier).where(Dossier.previous_id == approved)).all()
        assert [(d.number, d.created_by) for d in successors] == [(2, researcher.username)]
        v1 = service.get_dossier(s, approved)
        assert [d.number for d in service.version_chain(s, v1)] == [1, 2]
        assert export_dossier(s, approved, "md").content  # the approved version still exports


def test_a_new_version_while_the_returned_dossier_is_reopened_leaves_one_draft(db_url, returned, researcher):
    refused: list[str] = []
    with store_db.session_scope(db_url) as mine:
        fired = _after_successor_check(mine, _open_version_elsewhere(db_url, returned, refused))
        workflow.reopen(mine, researcher, returned)
        assert fired
    fired[0].join(60)
    assert refused  # the reopened dossier is a draft now: no next version of it
    with store_db.session_scope(db_url) as s:
        drafts = s.scalars(select(Dossier).where(Dossier.state == "draft")).all()
        assert [(d.id, d.number) for d in drafts] == [(returned, 1)]
