"""Engines and sessions: SQLite (WAL, foreign keys on) by default, PostgreSQL for a team.

One session per request or command: ``session_scope()`` commits on success and rolls back on
any exception, so a multi-step change either lands whole or leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import DatabaseError as SQLAlchemyDatabaseError
from sqlalchemy.orm import Session, sessionmaker

from workbench.settings import get_settings
from workbench.text import unstorable


class DatabaseError(RuntimeError):
    """The database cannot be opened or is not initialised; the message says what to do."""


def _sqlite_pragmas(busy_ms: int):
    def apply(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    return apply


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"WORKBENCH_DATABASE_URL is not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            parent = Path(database).expanduser().resolve().parent
            if not parent.exists():
                raise DatabaseError(f"cannot open SQLite database {database}: folder {parent} does not exist")
        # SQLite has one writer at a time: a save waits this long for an import's transaction to end,
        # then fails with "database is locked" (the web app answers 503, try again).
        busy = get_settings().sqlite_busy_seconds
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy})
        event.listen(engine, "connect", _sqlite_pragmas(int(busy * 1000)))
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise DatabaseError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}


def engine_for(url: str) -> Engine:
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def get_engine(url: str | None = None) -> Engine:
    return engine_for(url or get_settings().database_url)


def missing_sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file the engine names, if it does not exist yet (None for any other database).

    Connecting to SQLite creates the file: a mistyped path would leave an empty database behind a
    command that only reports it 'not initialised'. Until `workbench init` (which migrates, and so
    creates it) nothing connects to a missing file."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if str(url.query.get("uri", "")).lower() in ("true", "1"):  # file:...?mode= URIs say themselves
        return None
    path = Path(url.database).expanduser()
    return None if path.exists() else path


def create_private_sqlite_file(engine: Engine) -> None:
    """Create the engine's SQLite file, readable by its owner alone, if it does not exist yet.

    The file holds password and token hashes and every unreleased finding: SQLite would create it
    (and its -wal and -shm files, which take the database file's mode) as the umask allows, 0644 on
    most systems, readable by every local user. Stored files and backups are 0600 for the same reason."""
    import os

    missing = missing_sqlite_file(engine)
    if missing is None:
        return
    try:
        os.close(os.open(missing, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:  # another process created it meanwhile: theirs stands
        pass


def shared_sqlite_files(engine: Engine) -> list[str]:
    """The engine's SQLite file (and its -wal and -shm) where other users of the machine may read or write
    them: a database created before files were made 0600 (see ``create_private_sqlite_file``) keeps the
    mode it was given. Said when the server starts, not changed unasked: a team may share it on purpose."""
    import os
    import stat

    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return []
    found = []
    for suffix in ("", "-wal", "-shm"):
        path = f"{engine.url.database}{suffix}"
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            found.append(f"{path} ({stat.filemode(mode)})")
    return found


def check_connection(engine: Engine) -> None:
    """Open a connection now so that a bad URL fails with a message, not a traceback later.

    A SQLite file that does not exist yet is not created here (see ``missing_sqlite_file``): only its
    folder is checked, which must let the file be created."""
    import os

    missing = missing_sqlite_file(engine)
    if missing is not None:
        folder = missing.resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise DatabaseError(f"cannot open SQLite database {missing}: folder {folder} "
                                f"{'is not writable' if folder.is_dir() else 'does not exist'}")
        return
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyDatabaseError as exc:  # OperationalError and its siblings ('file is not a database')
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot open database {engine.url.render_as_string(hide_password=True)}: {reason}") from exc


def is_initialised(engine: Engine) -> bool:
    if missing_sqlite_file(engine) is not None:  # asking would create an empty file
        return False
    return inspect(engine).has_table("alembic_version")


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    url = url or get_settings().database_url
    if url not in _factories:
        factory = sessionmaker(bind=engine_for(url), expire_on_commit=False)
        event.listen(factory, "before_flush", _refuse_unstorable)
        _factories[url] = factory
    return _factories[url]


def _refuse_unstorable(session: Session, _context, _instances) -> None:
    """PostgreSQL cannot store a NUL character in text (SQLite can, so the two would disagree): every
    row written through a session (pages, API, CLI) is refused here with the field that holds one,
    instead of failing in the database. Bulk imports check their values before writing."""
    from workbench.schema import ValidationError

    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            found = unstorable_in(state.dict.get(attr.key), attr.key)
            if found:
                raise ValidationError({found[0]: [found[1]]})


def unstorable_in(value, key: str) -> tuple[str, str] | None:
    """(the field, a JSON column's own key when the value is a mapping; why) of text no database can
    store (a NUL, a lone surrogate), if any."""
    if isinstance(value, str):
        problem = unstorable(value)
        return (key, problem) if problem else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = unstorable_in(k, str(k)) or unstorable_in(v, str(k))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for v in value:
            found = unstorable_in(v, key)
            if found:
                return found
    return None


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def refresh_statistics(url: str | None = None) -> None:
    """Give the query planner fresh row counts after a bulk import. SQLite keeps none until told (ANALYZE): on a
    store of 67,000 entries a deep list page sorted everything through the wrong index (1.0 s, 0.46 s after)
    and name suggestions took 0.3-0.7 s (0.14 s after). Half a second on such a store; PostgreSQL's autovacuum
    would get there later on its own. A store too busy to take it just keeps its older statistics."""
    from sqlalchemy.exc import OperationalError

    try:
        with session_scope(url) as session:
            session.execute(text("ANALYZE"))
    except OperationalError:
        pass  # the import is committed; the statistics are a speed-up only, refreshed by the next import


def dispose_all() -> None:
    """Drop cached engines (tests switch databases; the CLI exits cleanly)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factories.clear()
