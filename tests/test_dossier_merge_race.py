"""A dossier created while its target is being merged: whichever commits first, no dossier is left on
the merged entry (its page and exports would answer 404). PostgreSQL only: there two transactions run
side by side; SQLite's single write lock lets one writer in at a time. All people are FICTIONAL."""

from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import text

from workbench.dossiers import service
from workbench.matching.judgements import merge
from workbench.store.db import session_factory
from workbench.store.entities import create_entity
from workbench.store.models import Dossier
from workbench.store.permissions import Actor

pytestmark = pytest.mark.skipif(not os.environ.get("WORKBENCH_TEST_DATABASE_URL"),
                                reason="needs PostgreSQL (WORKBENCH_TEST_DATABASE_URL): SQLite runs one writer at a time")
RITA, RUBEN = Actor("rita", "researcher"), Actor("ruben", "researcher")


def _two_people(factory, same_name: bool = False) -> tuple[str, str]:
    """Two entries of one person. With ``same_name`` the merge has nothing to add to the kept entry, so
    its first write is the dossiers' move itself (the case the merge must take the log's lock for)."""
    with factory() as s:
        keep = create_entity(s, RITA, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)"}).obj.id
        other = {"name": "Aurelio Quintanar Bello (FICTIONAL)"} if same_name else \
            {"name": "QUINTANAR BELLO, Aurelio (FICTIONAL)", "alias": ["El Güero Quintanar"]}
        gone = create_entity(s, RITA, "Person", other).obj.id
        s.commit()
    return keep, gone


def _wait_until_blocked(factory, deadline_s: float = 30.0) -> None:
    """Until another backend of this database waits for a lock (the interleaving the test sets up)."""
    with factory() as s:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            waiting = s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'"))
            if waiting:
                return
            s.rollback()
            time.sleep(0.02)
    raise AssertionError("the other transaction never waited for the lock")


@pytest.mark.parametrize("same_name", [True, False], ids=["nothing-to-add", "names-to-add"])
def test_a_merge_finishing_after_a_dossier_was_created_moves_that_dossier_too(db_url, same_name):
    factory = session_factory(db_url)
    keep, gone = _two_people(factory, same_name)
    creating = factory()
    dossier_id = service.create_dossier(creating, RITA, gone, "kingpin-b3", title="Sobre el Güero").id
    errors: list[BaseException] = []

    def merging():
        with factory() as s:
            try:
                merge(s, RUBEN, keep, gone)
                s.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    worker = threading.Thread(target=merging)
    worker.start()
    _wait_until_blocked(factory)  # the merge waits for the dossier's transaction
    creating.commit()
    creating.close()
    worker.join(60)
    assert not errors, errors
    with factory() as s:
        assert s.get(Dossier, dossier_id).target_id == keep


def test_a_dossier_created_while_a_merge_is_committing_is_refused_naming_the_kept_entry(db_url):
    factory = session_factory(db_url)
    keep, gone = _two_people(factory)
    merging = factory()
    merge(merging, RUBEN, keep, gone)  # not yet committed: it holds the audit head
    outcome: dict = {}

    def creating():
        with factory() as s:
            try:
                service.create_dossier(s, RITA, gone, "kingpin-b3", title="Sobre el Güero")
                s.commit()
                outcome["created"] = True
            except service.TargetMerged as exc:
                outcome["refused"] = str(exc)
                s.rollback()
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcome["error"] = exc

    worker = threading.Thread(target=creating)
    worker.start()
    _wait_until_blocked(factory)
    merging.commit()
    merging.close()
    worker.join(60)
    assert "refused" in outcome, outcome
    assert "was merged into Aurelio Quintanar Bello (FICTIONAL)" in outcome["refused"]
    with factory() as s:
        assert s.query(Dossier).filter(Dossier.target_id == gone).count() == 0
