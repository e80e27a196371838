"""`workbench backup` / `workbench restore` round-trip everything, losslessly."""

import json
import shutil

from datetime import datetime

from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from workbench.cli import app
from workbench.settings import get_settings
from workbench.store.db import get_engine, session_scope
from workbench.matching.judgements import merge
from workbench.store.entities import create_entity, create_source
from workbench.store.models import Base, Entity
from workbench.store.permissions import SYSTEM, Actor

runner = CliRunner()


def _snapshot(url):
    engine = get_engine(url)
    with engine.connect() as conn:
        return {
            table.name: sorted(
                tuple(sorted((k, json.dumps(v, sort_keys=True, default=str)) for k, v in row.items())) for row in conn.execute(select(table)).mappings()
            )
            for table in Base.metadata.sorted_tables
        }


def _wipe(url):
    with get_engine(url).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    shutil.rmtree(get_settings().files_dir, ignore_errors=True)


def test_round_trip_is_lossless(db_url, tmp_path):
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    files = get_settings().files_dir / "ab"
    files.mkdir(parents=True)
    (files / ("ab" + "0" * 62)).write_bytes(b"%PDF-1.4 stored evidence")
    with session_scope(db_url) as s:
        create_source(s, SYSTEM, title="Uploaded deed", sha256="ab" + "0" * 62, file_name="deed.pdf")
        # a merged entry points at its winner (a self-reference restored after the rows): its
        # updated_at used to become the restore time
        create_entity(s, SYSTEM, "Person", {"name": "Joaquin Guzman L."}, entity_id="dup-guzman")
        merge(s, Actor("ruth", "reviewer"), "demo-guzman-loera", "dup-guzman")
        s.flush()
        s.execute(update(Entity).where(Entity.id == "dup-guzman").values(updated_at=datetime(2024, 1, 2, 3, 4, 5)))
    before = _snapshot(db_url)
    archive = tmp_path / "backup.zip"
    result = runner.invoke(app, ["backup", str(archive)])
    assert result.exit_code == 0, result.output

    _wipe(db_url)
    assert _snapshot(db_url) != before
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.output
    assert _snapshot(db_url) == before
    assert (files / ("ab" + "0" * 62)).read_bytes() == b"%PDF-1.4 stored evidence"
    # the restored database keeps working: new rows get fresh ids, the chain continues
    with session_scope(db_url) as s:
        create_source(s, SYSTEM, title="After restore", url="https://example.org/after")
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_restore_refuses_a_non_empty_database_and_changes_nothing(db_url, tmp_path):
    runner.invoke(app, ["init", "--demo"])
    archive = tmp_path / "backup.zip"
    runner.invoke(app, ["backup", str(archive)])
    before = _snapshot(db_url)
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 1 and "not empty" in result.output
    assert _snapshot(db_url) == before


def test_damaged_archive_is_refused_and_leaves_the_database_empty(db_url, tmp_path):
    runner.invoke(app, ["init", "--demo"])
    archive = tmp_path / "backup.zip"
    runner.invoke(app, ["backup", str(archive)])
    import zipfile

    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "tables/entities.jsonl":
                data = data.replace(b"Sinaloa", b"Sonora")
            dst.writestr(item, data)
    _wipe(db_url)
    result = runner.invoke(app, ["restore", str(damaged)])
    assert result.exit_code == 2 and "tables/entities.jsonl does not match its checksum" in result.output
    assert all(not rows for rows in _snapshot(db_url).values())
