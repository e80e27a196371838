"""`workbench bench import --postgres URL` measures on the deployment's own server without touching a
store: it works in databases it creates, and drops them whatever happens."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from workbench.cli import app
from workbench.sources.cli import _scratch_databases

PG_URL = os.environ.get("WORKBENCH_TEST_DATABASE_URL", "")


def _bench_databases(admin) -> set[str]:
    with admin.connect() as connection:
        return set(connection.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE 'wb_bench_%'")))


def test_without_a_server_the_benchmark_works_in_sqlite_files_of_its_own_folder(tmp_path):
    with _scratch_databases(None, str(tmp_path), 2) as urls:
        assert urls == [f"sqlite:///{tmp_path}/bench.db", f"sqlite:///{tmp_path}/bench1.db"]


@pytest.mark.skipif(not PG_URL, reason="needs WORKBENCH_TEST_DATABASE_URL (a PostgreSQL server)")
def test_scratch_databases_on_the_server_are_created_empty_and_dropped_even_after_an_error():
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    before = _bench_databases(admin)
    seen: list[str] = []
    with pytest.raises(RuntimeError, match="stopped midway"), _scratch_databases(PG_URL, "/unused", 2) as urls:
        for url in urls:
            engine = create_engine(url)
            with engine.connect() as connection:
                seen.append(connection.scalar(text("SELECT current_database()")))
                tables = connection.scalar(text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"))
                assert tables == 0
            engine.dispose()
        raise RuntimeError("stopped midway")
    assert len(set(seen)) == 2 and all(name.startswith("wb_bench_") for name in seen)
    assert _bench_databases(admin) == before
    admin.dispose()


def test_a_url_that_is_not_postgresql_is_refused_with_exit_code_2(tmp_path, sdn_dir):
    result = CliRunner().invoke(app, ["bench", "import", "--sdn-dir", str(sdn_dir), "--postgres",
                                      f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 2
    assert "--postgres takes a postgresql:// URL, not 'sqlite'" in result.output
