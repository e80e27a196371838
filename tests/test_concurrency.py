"""Two people editing the same thing: one wins, the other gets a clear conflict, nothing is lost."""

import threading

import pytest

from workbench.store.db import session_factory
from workbench.store.entities import Conflict, create_entity, get_entity, update_entity
from workbench.store.permissions import Actor


def test_second_of_two_interleaved_edits_gets_a_conflict(db_url, researcher):
    factory = session_factory(db_url)
    with factory() as s:
        entity_id = create_entity(s, researcher, "Person", {"name": "Original"}).obj.id
        s.commit()
    alice, bob = factory(), factory()
    try:
        seen_by_alice = get_entity(alice, entity_id).version
        seen_by_bob = get_entity(bob, entity_id).version
        update_entity(alice, Actor("alice", "researcher"), entity_id, {"name": "Alice's edit"}, seen_by_alice)
        alice.commit()
        with pytest.raises(Conflict) as info:
            update_entity(bob, Actor("bob", "researcher"), entity_id, {"name": "Bob's edit"}, seen_by_bob)
            bob.commit()
        assert "changed by someone else" in str(info.value)
        bob.rollback()
    finally:
        alice.close()
        bob.close()
    with factory() as s:
        entity = get_entity(s, entity_id)
        assert entity.caption == "Alice's edit" and entity.version == 2


def test_parallel_edits_from_threads_never_lose_an_update_silently(db_url, researcher):
    """Each writer either lands or is told of a conflict; the final state is one writer's edit."""
    factory = session_factory(db_url)
    with factory() as s:
        entity_id = create_entity(s, researcher, "Person", {"name": "Start"}).obj.id
        s.commit()
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(4)

    def edit(name: str) -> None:
        with factory() as s:
            version = get_entity(s, entity_id).version
            barrier.wait()
            try:
                update_entity(s, Actor(name, "researcher"), entity_id, {"name": f"edit by {name}"}, version)
                s.commit()
                outcomes[name] = "saved"
            except Conflict:
                s.rollback()
                outcomes[name] = "conflict"
            except Exception as exc:  # a locked database must surface, not pass silently
                s.rollback()
                outcomes[name] = f"error: {exc.__class__.__name__}"

    threads = [threading.Thread(target=edit, args=(f"user{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()).count("saved") == 1, outcomes
    assert all(v in ("saved", "conflict") for v in outcomes.values()), outcomes
    winner = next(name for name, v in outcomes.items() if v == "saved")
    with factory() as s:
        assert get_entity(s, entity_id).caption == f"edit by {winner}"


def test_two_reviewers_acting_on_the_same_dossier_one_wins(db_url, researcher):
    """Reviewer A approves while reviewer B, looking at the same submitted version, returns it."""
    from test_dossier_scenario import build_scenario, complete_dossier

    from workbench.dossiers import service, workflow

    factory = session_factory(db_url)
    with factory() as s:
        scenario = build_scenario(s, researcher)
        dossier_id = complete_dossier(s, researcher, scenario)
        workflow.submit(s, researcher, dossier_id, "ready")
        s.commit()
    first, second = factory(), factory()
    try:
        seen_a = service.get_dossier(first, dossier_id).version
        seen_b = service.get_dossier(second, dossier_id).version
        workflow.approve(first, Actor("anna", "reviewer"), dossier_id, "meets the criteria", expected_version=seen_a)
        first.commit()
        with pytest.raises(Conflict):
            workflow.return_for_changes(second, Actor("boris", "reviewer"), dossier_id, "needs work",
                                        expected_version=seen_b)
            second.commit()
        second.rollback()
    finally:
        first.close()
        second.close()
    with factory() as s:
        dossier = service.get_dossier(s, dossier_id)
        assert dossier.state == "approved" and dossier.snapshot_hash
        assert [e.event for e in dossier.events][-1] == "approved"


def test_a_save_while_an_import_holds_sqlite_gets_a_busy_page_not_a_server_error(db_url, monkeypatch):
    """SQLite has one writer: a note saved during a long table import waited, then failed with a bare
    500. It now gets 503 'Database busy' with Retry-After, and saves once the import is done."""
    import sqlite3

    from sqlalchemy.engine import make_url

    client, entity_id, token = _signed_in_beside_an_import(db_url, monkeypatch, busy_seconds="0.2")
    importer = sqlite3.connect(make_url(db_url).database)
    importer.execute("BEGIN IMMEDIATE")  # what an import's open write transaction does
    try:
        busy = client.post(f"/entities/{entity_id}/notes", data={"csrf_token": token, "text": "seen in court file"},
                           follow_redirects=False)
    finally:
        importer.rollback()
        importer.close()
    assert busy.status_code == 503 and busy.headers["retry-after"] == "30"
    assert "Database busy" in busy.text and "Nothing was saved" in busy.text
    saved = client.post(f"/entities/{entity_id}/notes", data={"csrf_token": token, "text": "seen in court file"},
                        follow_redirects=False)
    assert saved.status_code == 303


def test_a_save_waiting_for_an_import_holds_up_no_other_page(db_url, monkeypatch):
    """A form route that waited for SQLite's write lock on the server's event loop froze every page for
    everyone until the lock came or the wait ran out. Form routes now wait in the thread pool: another
    user's page is answered while the save still waits, and the save goes through once the lock is free."""
    import sqlite3

    from sqlalchemy.engine import make_url

    from workbench.store import entities as store

    # The save waits far longer than the page below takes.
    client, entity_id, token = _signed_in_beside_an_import(db_url, monkeypatch, busy_seconds="60")
    saving = threading.Event()
    add_note = store.add_note

    def add_note_noticed(*args, **kwargs):
        saving.set()
        return add_note(*args, **kwargs)

    monkeypatch.setattr(store, "add_note", add_note_noticed)
    results = {}
    importer = sqlite3.connect(make_url(db_url).database)
    importer.execute("BEGIN IMMEDIATE")  # what an import's open write transaction does
    with client:  # one event loop for every request, as under uvicorn
        save = threading.Thread(target=lambda: results.setdefault("save", client.post(
            f"/entities/{entity_id}/notes", data={"csrf_token": token, "text": "seen in court file"},
            follow_redirects=False)))
        try:
            save.start()
            assert saving.wait(30)
            page = client.get(f"/entities/{entity_id}")
            still_waiting = save.is_alive()
        finally:
            importer.rollback()
            importer.close()
            save.join()
    assert page.status_code == 200 and "Ana Roja" in page.text
    assert still_waiting  # the page did not wait for the save
    assert results["save"].status_code == 303  # and the save went through once the import was done


def _signed_in_beside_an_import(db_url, monkeypatch, busy_seconds: str):
    """A signed-in researcher, an entity to write a note on and the page's CSRF token, on SQLite with
    the given wait for the write lock (PostgreSQL has row locks: another writer does not block a save)."""
    from sqlalchemy.engine import make_url
    from web_helpers import csrf_of, signed_in_client

    from workbench.settings import reset_settings
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity
    from workbench.store.permissions import SYSTEM

    if make_url(db_url).get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL has row locks: a writer elsewhere does not block this save")
    monkeypatch.setenv("WORKBENCH_SQLITE_BUSY_SECONDS", busy_seconds)
    reset_settings()
    store_db.dispose_all()
    with store_db.session_scope(db_url) as s:
        entity_id = create_entity(s, SYSTEM, "Person", {"name": "Ana Roja"}).obj.id
    client = signed_in_client(db_url, "rita", "researcher")
    return client, entity_id, csrf_of(client, f"/entities/{entity_id}")
