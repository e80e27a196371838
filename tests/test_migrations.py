"""Alembic migrations create the whole schema on an empty database, on SQLite and PostgreSQL."""

import os
import uuid

from sqlalchemy import create_engine, inspect, text

from workbench.store import db as store_db
from workbench.store.migrate import current_revision, head_revision, upgrade
from workbench.store.models import Base


def _assert_upgrades(url):
    engine = store_db.make_engine(url)
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        upgrade(engine)  # running again is a no-op
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_upgrade_empty_sqlite(tmp_path):
    _assert_upgrades(f"sqlite:///{tmp_path}/empty.db")


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = store_db.make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_upgrade_empty_postgresql():
    base = os.environ.get("WORKBENCH_TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    import pytest

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    schema = f"wbmig_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server on this machine
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {base}: {exc.__class__.__name__}")
    try:
        sep = "&" if "?" in base else "?"
        _assert_upgrades(f"{base}{sep}options=-csearch_path%3D{schema}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_models_and_migrations_agree(tmp_path):
    """A model change without a migration would leave real databases behind."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = store_db.make_engine(f"sqlite:///{tmp_path}/cmp.db")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_never_gives_a_removed_citations_id_to_a_new_one(tmp_path):
    """Migration 0003 recreates citations with AUTOINCREMENT on a database that already holds data:
    every citation and every exhibit's reference to its citation survive (dropping the old table
    would otherwise set exhibits.citation_id to NULL), and afterwards a removed citation's id stays
    unused, so an audit entry or a late DELETE cannot name a different citation."""
    from sqlalchemy.orm import Session

    from workbench.store.models import Citation, Dossier, Exhibit, Source

    engine = store_db.make_engine(f"sqlite:///{tmp_path}/ids.db")
    try:
        upgrade(engine, "0002")
        with Session(engine) as s, s.begin():
            s.add(Source(id="src", title="FICTIONAL source"))
            # Written as the schema of 0002 has it (the model has columns later revisions added).
            s.execute(text("INSERT INTO entities (id, kind, caption, properties, created_at, updated_at, version) "
                           "VALUES ('e1', 'Person', 'FICTIONAL Persona', '{}', '2026-01-01', '2026-01-01', 1)"))
            s.flush()
            s.add_all([Citation(source_id="src", entity_id="e1", prop="name", value=f"v{i}") for i in range(3)])
            s.add(Dossier(id="d1", title="FICTIONAL dossier", target_id="e1", legal_basis="kingpin", created_by="t"))
            s.flush()
            s.add(Exhibit(dossier_id="d1", number=1, source_id="src", citation_id=3, element="x", statement="y",
                          statement_type="fact", created_by="t"))
        upgrade(engine)
        with Session(engine) as s, s.begin():
            assert sorted(c.value for c in s.query(Citation)) == ["v0", "v1", "v2"]
            assert s.query(Exhibit).one().citation_id == 3
            s.query(Exhibit).delete()
            s.delete(s.get(Citation, 3))
            s.flush()
            s.add(Citation(source_id="src", entity_id="e1", prop="name", value="new"))
        with Session(engine) as s:
            assert s.query(Citation).filter_by(value="new").one().id == 4
    finally:
        engine.dispose()


def test_migration_0007_gives_stored_entries_their_place_in_lists(tmp_path):
    engine = store_db.make_engine(f"sqlite:///{tmp_path}/old.db")
    try:
        upgrade(engine, "0006")
        with engine.begin() as conn:
            for entity_id, caption in (("p1", "Ávila Ruiz, Ana"), ("p2", "de León, Tomás"), ("p3", "ZETA, Juan")):
                conn.execute(text("INSERT INTO entities (id, kind, caption, properties, created_at, updated_at, "
                                  "created_by, version) VALUES (:id, 'Person', :caption, '{}', '2026-01-01', "
                                  "'2026-01-01', 'rita', 1)"), {"id": entity_id, "caption": caption})
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT caption FROM entities ORDER BY sort_key")).scalars().all() == [
                "Ávila Ruiz, Ana", "de León, Tomás", "ZETA, Juan"]
    finally:
        engine.dispose()


def test_migration_0008_keeps_the_first_of_twin_versions_in_the_chain_and_detaches_the_other(tmp_path):
    """Twins left by the race of QA round 9: the one furthest along (else the first opened) stays the next
    version, the other keeps all it holds as a package of its own; then the database refuses a second
    successor."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    engine = store_db.make_engine(f"sqlite:///{tmp_path}/old.db")
    insert = text("INSERT INTO dossiers (id, title, target_id, legal_basis, state, number, previous_id, narrative, "
                  "fictional, created_by, created_at, updated_at, version) VALUES (:id, :title, 'p1', 'kingpin', "
                  ":state, :number, :previous, '{}', 1, 'rita', :at, :at, 1)")
    try:
        upgrade(engine, "0007")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO entities (id, kind, caption, properties, created_at, updated_at, "
                              "created_by, version) VALUES ('p1', 'Person', 'FICTIONAL', '{}', '2026-01-01', "
                              "'2026-01-01', 'rita', 1)"))
            for row in (("v1", "approved", 1, None, "2026-01-01"), ("v2b", "draft", 2, "v1", "2026-01-03"),
                        ("v2a", "draft", 2, "v1", "2026-01-02"), ("w1", "approved", 1, None, "2026-01-01"),
                        ("w2a", "draft", 2, "w1", "2026-01-02"), ("w2b", "approved", 2, "w1", "2026-01-03")):
                conn.execute(insert, dict(zip(("id", "state", "number", "previous", "at"), row), title=row[0]))
        upgrade(engine)
        with engine.connect() as conn:
            assert dict(conn.execute(text("SELECT id, previous_id FROM dossiers")).all()) == {
                "v1": None, "v2a": "v1", "v2b": None,  # two drafts: the first opened stays
                "w1": None, "w2a": None, "w2b": "w1"}  # an approved twin stays before an older draft
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert, {"id": "v2c", "title": "v2c", "state": "draft", "number": 2, "previous": "v1",
                                  "at": "2026-01-04"})
    finally:
        engine.dispose()
