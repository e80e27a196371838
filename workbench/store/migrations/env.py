"""Alembic environment: migrations run against the connection handed in by ``workbench.store.migrate``."""

from alembic import context

from workbench.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from workbench.store.db import get_engine

        with get_engine(config.get_main_option("sqlalchemy.url") or None).begin() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
