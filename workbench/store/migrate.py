"""Create or upgrade the database schema with Alembic (used by ``workbench init`` and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from workbench.store.db import create_private_sqlite_file

    create_private_sqlite_file(engine)  # before connecting would create it as the umask allows
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (a restore of an older backup goes through its revision)."""
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step, revision: str) -> None:
    """Run an Alembic step on one connection. On SQLite, a migration that alters a table others reference
    rebuilds it (batch mode), and dropping the old copy fails while foreign keys are enforced (0007's
    downgrade did, on any database holding entries): enforcement is off for the step, and the references are
    checked before it commits."""
    from sqlalchemy import text

    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.execute(text("PRAGMA foreign_keys=OFF"))  # before the transaction: inside it, a no-op
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite:
                    broken = connection.execute(text("PRAGMA foreign_key_check")).first()
                    if broken is not None:
                        raise RuntimeError(f"the migration to {revision} left a reference from table {broken[0]} "
                                           f"to table {broken[2]} that points nowhere; nothing was changed")
        finally:
            if sqlite:
                connection.execute(text("PRAGMA foreign_keys=ON"))  # the pooled connection goes back as it came
                connection.commit()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_older_revision(revision: str | None, current: str | None) -> bool:
    """Whether ``revision`` is one this database's ``current`` revision was migrated through (an older schema
    this version can go back to), not ``current`` itself nor an unknown or newer one."""
    if not revision or not current or revision == current:
        return False
    try:
        script = ScriptDirectory.from_config(alembic_config())
        return any(step.revision == revision for step in script.iterate_revisions(current, "base"))
    except Exception:  # alembic raises its own errors for an unknown or malformed id
        return False


def known_revision(revision: str | None) -> bool:
    """Whether this version of the workbench has the migration (a newer one may have migrated further)."""
    if revision is None:
        return True
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic raises its own errors for an unknown or malformed id
        return False


def newer_schema_message(revision: str | None) -> str:
    return (f"the database schema is at revision {revision!r}, which this version of the workbench does not know: "
            "a newer workbench has migrated it. Use that version (or a newer one); nothing was changed")


def _regenerate_initial() -> None:  # pragma: no cover - developer tool, used before the first release
    """Rewrite versions/0001 from the models (allowed only while no database has been released)."""
    import tempfile

    from workbench.store.db import make_engine

    versions = MIGRATIONS / "versions"
    for old in versions.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/regen.db"
        engine = make_engine(url)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
        engine.dispose()


if __name__ == "__main__":  # pragma: no cover
    import sys

    if sys.argv[1:] == ["regen"]:
        _regenerate_initial()
