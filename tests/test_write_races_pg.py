"""Two users changing the same records at the same moment, on PostgreSQL (where two transactions run side
by side; SQLite's single write lock lets one writer in at a time). The first change is made and left
uncommitted; the second starts in another thread and waits for it (the test waits until PostgreSQL says
it waits for a lock, never a fixed time); then the first commits. Before each change read what it
checks only after taking the log's lock (audit.begin_change), each of these let the second change pass
on the state it had read before the first committed. All people are FICTIONAL."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select
from test_dossier_merge_race import _wait_until_blocked

from workbench.matching.judgements import merge
from workbench.schema import ValidationError
from workbench.store.db import session_factory
from workbench.store.entities import (
    Conflict,
    cite,
    create_entity,
    create_link,
    create_source,
    delete_entity,
    get_entity,
    update_entity,
)
from workbench.store.models import AuditEntry, Citation, Entity, Link, User
from workbench.store.permissions import Actor
from workbench.store.users import add_user

pytestmark = pytest.mark.skipif(not os.environ.get("WORKBENCH_TEST_DATABASE_URL"),
                                reason="needs PostgreSQL (WORKBENCH_TEST_DATABASE_URL): SQLite runs one writer at a time")
RITA, RUBEN, ADA = Actor("rita", "researcher"), Actor("ruben", "researcher"), Actor("ada", "admin")


def _people(factory, n: int = 2) -> list[str]:
    with factory() as s:
        ids = [create_entity(s, RITA, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)"}).obj.id
               for _ in range(n)]
        s.commit()
    return ids


def _second_after_first(factory, first: Callable, second: Callable) -> dict:
    """Run ``first`` in a transaction left open, then ``second`` in another thread, which waits for it;
    commit the first. Returns what the second returned or raised."""
    holding = factory()
    first(holding)
    outcome: dict = {}

    def run():
        with factory() as s:
            try:
                outcome["value"] = second(s)
                s.commit()
            except BaseException as exc:  # noqa: BLE001 - the test reads it
                outcome["error"] = exc
                s.rollback()

    worker = threading.Thread(target=run)
    worker.start()
    _wait_until_blocked(factory)
    holding.commit()
    holding.close()
    worker.join(60)
    assert not worker.is_alive()
    return outcome


def test_two_opposite_merges_at_once_merge_once_and_refuse_the_other(db_url):
    """A into B and B into A at once: both passed, each entry merged into the other, both gone from every
    search and neither merge could be undone (each waited for the other's undo)."""
    factory = session_factory(db_url)
    a, b = _people(factory)
    outcome = _second_after_first(factory, lambda s: merge(s, RITA, a, b), lambda s: merge(s, RUBEN, b, a))
    assert isinstance(outcome.get("error"), Conflict), outcome
    assert "already merged" in str(outcome["error"])
    with factory() as s:
        assert [get_entity(s, a).merged_into, get_entity(s, b).merged_into] == [None, a]


def test_a_citation_added_while_its_entry_is_merged_away_is_refused_not_left_on_it(db_url):
    """It stayed on the merged-away entry, where no page shows it."""
    factory = session_factory(db_url)
    keep, gone = _people(factory)
    with factory() as s:
        source = create_source(s, RITA, title="Registro (FICTIONAL)", url="https://example.org/registro").id
        s.commit()
    outcome = _second_after_first(factory, lambda s: merge(s, RUBEN, keep, gone),
                                  lambda s: cite(s, RITA, source, entity_id=gone))
    assert isinstance(outcome.get("error"), ValidationError), outcome
    assert "was merged into" in str(outcome["error"])
    with factory() as s:
        assert s.scalars(select(Citation).where(Citation.entity_id == gone)).all() == []


def test_the_same_link_sent_twice_at_once_is_stored_once(db_url):
    """A double-clicked form stored the link twice; sent one after the other, the second is refused."""
    factory = session_factory(db_url)
    a, b = _people(factory)
    outcome = _second_after_first(factory, lambda s: create_link(s, RITA, "Associate", a, b),
                                  lambda s: create_link(s, RITA, "Associate", a, b))
    assert isinstance(outcome.get("error"), ValidationError), outcome
    with factory() as s:
        assert len(s.scalars(select(Link).where(Link.source_id == a, Link.target_id == b)).all()) == 1


def test_an_edit_and_a_delete_at_once_give_the_loser_a_conflict_not_a_server_error(db_url):
    """The delete locked the log before the row and the edit the row before the log: a deadlock (500),
    or a StaleDataError the delete did not catch (500)."""
    factory = session_factory(db_url)
    [person] = _people(factory, 1)
    with factory() as s:
        version = get_entity(s, person).version
    outcome = _second_after_first(
        factory, lambda s: update_entity(s, RITA, person, {"name": "Aurelio Quintanar (FICTIONAL)"}, version),
        lambda s: delete_entity(s, RUBEN, person, version))
    assert isinstance(outcome.get("error"), Conflict), outcome
    with factory() as s:
        assert s.get(Entity, person).caption == "Aurelio Quintanar (FICTIONAL)"


def test_a_citation_added_while_its_entry_is_deleted_is_recorded_as_removed(db_url):
    """The database took it with the entry (on delete cascade) and the log never said so: the delete
    had listed the entry's citations before the new one committed."""
    factory = session_factory(db_url)
    [person] = _people(factory, 1)
    with factory() as s:
        source = create_source(s, RITA, title="Registro (FICTIONAL)", url="https://example.org/registro").id
        s.commit()
    made: dict = {}

    def citing(s):
        made["id"] = cite(s, RITA, source, entity_id=person).id

    outcome = _second_after_first(factory, citing, lambda s: delete_entity(s, RUBEN, person))
    assert "error" not in outcome, outcome
    with factory() as s:
        removed = s.scalars(select(AuditEntry).where(AuditEntry.action == "citation.delete",
                                                     AuditEntry.object_id == person)).all()
        assert [entry.before["id"] for entry in removed] == [made["id"]]


def test_two_adds_of_one_user_name_at_once_say_it_exists(db_url):
    """The second died on the unique index with a traceback."""
    factory = session_factory(db_url)
    outcome = _second_after_first(factory, lambda s: add_user(s, ADA, "quintanar", "researcher", "Password1!xx"),
                                  lambda s: add_user(s, ADA, "quintanar", "researcher", "Password1!xx"))
    assert isinstance(outcome.get("error"), ValidationError), outcome
    assert "already exists" in str(outcome["error"])
    with factory() as s:
        assert len(s.scalars(select(User).where(User.username == "quintanar")).all()) == 1


def test_an_approval_made_while_the_target_is_edited_is_refused_not_frozen_with_the_edit(db_url, session, researcher,
                                                                                           reviewer):
    """The hash the reviewer read was checked, then the edit committed, then the snapshot was frozen
    with it: an approval of something the reviewer never saw (17 races in 20)."""
    from test_dossier_scenario import build_scenario, complete_dossier

    from workbench.dossiers import snapshot, workflow
    from workbench.dossiers.service import get_dossier

    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    session.commit()
    seen = snapshot.live_hash(session, get_dossier(session, dossier_id))
    factory = session_factory(db_url)
    outcome = _second_after_first(
        factory, lambda s: update_entity(s, Actor("rosa", "researcher"), sc.target,
                                         {"notes": "FICTIONAL note added during the review"}, replace=False),
        lambda s: workflow.move(s, reviewer, dossier_id, "approve", seen_hash=seen, require_seen=True))
    assert isinstance(outcome.get("error"), Conflict), outcome
    assert "changed since you opened it" in str(outcome["error"])
    with factory() as s:
        assert get_dossier(s, dossier_id).state == "submitted"
