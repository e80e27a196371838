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
