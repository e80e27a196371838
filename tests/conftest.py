"""Shared fixtures: a migrated database per test, on SQLite or on PostgreSQL.

Set ``WORKBENCH_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test`` to run the
whole suite against PostgreSQL. Each test run works in its own PostgreSQL schema (dropped at the
end), so parallel runs and developers never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from workbench.settings import reset_settings
from workbench.store import db as store_db
from workbench.store.migrate import upgrade
from workbench.store.models import Base

SHARED = Path(__file__).resolve().parents[2] / "shared"
SDN_DIR = Path(os.environ.get("WORKBENCH_SDN_DIR", SHARED / "data" / "ofac-sdn"))
PG_URL = os.environ.get("WORKBENCH_TEST_DATABASE_URL", "")


def pytest_report_header(config):
    return f"workbench test database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (per-test file)'}"


@pytest.fixture(scope="session")
def sdn_dir() -> Path:
    if not (SDN_DIR / "sdn.csv").exists():
        pytest.skip(f"real OFAC SDN files not found at {SDN_DIR} (../shared/data/ofac-sdn is not checked out here)")
    return SDN_DIR


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session", autouse=True)
def _argon2_at_its_lowest_cost():
    """Passwords are hashed and checked with argon2id as in production, at its lowest cost (1 MiB, one
    pass) instead of the recommended ~0.1 s of CPU per hash and per check. That cost is the point in
    production and none in a test: 72 sign-in tests spent 24 of their 42 seconds in it. What tests check
    (a right password passes, a wrong one fails, an unknown user is refused alike, no hash is shown)
    does not depend on the cost. Servers and commands a test starts as their own process keep the
    recommended cost."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from workbench.store import users

    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_hasher", cheap)
        patch.setattr(users, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
        yield


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory):
    """Migrate once per run: a template SQLite file, or a PostgreSQL schema."""
    if PG_URL:
        schema = f"wbtest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _pg_schema_url(schema)
        upgrade(store_db.get_engine(url))
        yield ("postgresql", url)
        store_db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{path}"
        engine = store_db.make_engine(url)
        upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield ("sqlite", str(path))


def _truncate_all(url: str) -> None:
    engine = store_db.get_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db_url(_database_template, tmp_path, monkeypatch) -> str:
    """A freshly migrated, empty database; WORKBENCH_DATABASE_URL and the data dir point at it."""
    backend, value = _database_template
    if backend == "sqlite":
        path = tmp_path / "workbench.db"
        shutil.copy(value, path)
        url = f"sqlite:///{path}"
    else:
        url = value
        _truncate_all(url)
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_SECRET_KEY", "test-" + uuid.uuid4().hex)
    reset_settings()
    yield url
    if backend == "sqlite":
        store_db.dispose_all()
    reset_settings()


@pytest.fixture
def session(db_url):
    """One session on the test database; the test decides when to commit."""
    factory = store_db.session_factory(db_url)
    s = factory()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


@pytest.fixture
def researcher():
    from workbench.store.permissions import Actor

    return Actor("rita", "researcher")


@pytest.fixture
def reviewer():
    from workbench.store.permissions import Actor

    return Actor("victor", "reviewer")


@pytest.fixture
def admin():
    from workbench.store.permissions import Actor

    return Actor("ada", "admin")


@pytest.fixture
def network(session, researcher):
    """The hand-built network of test_graph_network, in a fresh graph projection."""
    from test_graph_network import build_network

    from workbench.graph import projection

    projection.forget()
    ids = build_network(session, researcher)
    session.commit()
    yield ids
    projection.forget()
