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
    from workbench.sources.files import store_file

    with session_scope(db_url) as s:
        sha = store_file(s, SYSTEM, b"%PDF-1.4 stored evidence", "deed.pdf", "application/pdf").sha256
        create_source(s, SYSTEM, title="Uploaded deed", sha256=sha, file_name="deed.pdf")
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
    assert (get_settings().files_dir / sha[:2] / sha).read_bytes() == b"%PDF-1.4 stored evidence"
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


def _with_a_stored_file(db_url) -> str:
    """A source whose document is kept in the files folder (as an upload is)."""
    from workbench.sources.files import store_file

    with session_scope(db_url) as s:
        stored = store_file(s, SYSTEM, b"%PDF-1.4 stored evidence (FICTIONAL)", "deed.pdf", "application/pdf")
        create_source(s, SYSTEM, title="Uploaded deed (FICTIONAL)", sha256=stored.sha256, file_name="deed.pdf")
    return stored.sha256


def _backed_up_and_wiped(db_url, tmp_path) -> tuple[str, object]:
    """A stored file, a backup holding it, and the database and files folder emptied (as for a restore)."""
    sha = _with_a_stored_file(db_url)
    archive = tmp_path / "backup.zip"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    _wipe(db_url)
    return sha, archive


def test_a_backup_that_cannot_find_the_stored_files_is_refused_not_written_empty(db_url, tmp_path, monkeypatch):
    """With WORKBENCH_DATA_DIR wrong (a cron job started in another folder), the backup said '0 stored
    files' and exited 0, and restoring it said 'audit chain intact': every document was gone."""
    from workbench.settings import reset_settings

    sha = _with_a_stored_file(db_url)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "wrong-folder"))
    reset_settings()
    archive = tmp_path / "backup.zip"
    refused = runner.invoke(app, ["backup", str(archive)])
    assert refused.exit_code == 2 and "1 of the 1 stored files the database lists are not in" in refused.output
    assert "WORKBENCH_DATA_DIR" in refused.output and not archive.exists()
    kept = runner.invoke(app, ["backup", str(archive), "--allow-missing-files"])
    assert kept.exit_code == 0 and "1 listed file(s) were missing" in kept.output
    _wipe(db_url)
    restored = runner.invoke(app, ["restore", str(archive)])  # the archive says they were missing already
    assert restored.exit_code == 0, restored.output
    with get_engine(db_url).connect() as conn:
        from workbench.store.models import StoredFile

        assert conn.execute(select(StoredFile.sha256)).scalars().all() == [sha]


def test_an_archive_stripped_of_a_listed_file_is_refused(db_url, tmp_path):
    import zipfile

    _with_a_stored_file(db_url)
    archive = tmp_path / "backup.zip"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    stripped = tmp_path / "stripped.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(stripped, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        manifest["files"] = {}
        for item in src.infolist():
            if item.filename.startswith("files/"):
                continue
            dst.writestr(item, json.dumps(manifest) if item.filename == "manifest.json" else src.read(item.filename))
    _wipe(db_url)
    result = runner.invoke(app, ["restore", str(stripped)])
    assert result.exit_code == 2 and "stored file(s) the archive's tables list are not in it" in result.output
    assert all(not rows for rows in _snapshot(db_url).values())


def test_a_restore_that_cannot_write_its_files_says_so_and_leaves_nothing(db_url, tmp_path, monkeypatch):
    from workbench.settings import reset_settings

    _sha, archive = _backed_up_and_wiped(db_url, tmp_path)
    blocked = tmp_path / "data-is-a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(blocked))
    reset_settings()
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 1 and "cannot write the stored file" in result.output
    assert "Traceback" not in result.output and blocked.read_text() == "not a folder"
    assert all(not rows for rows in _snapshot(db_url).values())


def test_a_restore_repairs_a_stored_file_damaged_on_disk(db_url, tmp_path):
    from workbench.sources.files import file_path

    sha, archive = _backed_up_and_wiped(db_url, tmp_path)
    damaged = file_path(sha)
    damaged.parent.mkdir(parents=True, exist_ok=True)
    damaged.write_bytes(b"%PDF-1.4 stor")  # truncated
    assert runner.invoke(app, ["restore", str(archive)]).exit_code == 0
    assert damaged.read_bytes() == b"%PDF-1.4 stored evidence (FICTIONAL)"


def test_a_restore_that_fails_on_one_file_leaves_no_partial_file(db_url, tmp_path):
    from workbench.sources.files import file_path

    sha, archive = _backed_up_and_wiped(db_url, tmp_path)
    blocked = file_path(sha)
    blocked.mkdir(parents=True)  # a folder where the file should go
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 1 and "cannot write the stored file" in result.output
    assert [p.name for p in blocked.parent.iterdir()] == [blocked.name]  # no '.partial' beside it


def test_files_prune_lists_then_removes_only_bytes_no_record_names(db_url):
    """An import that fails or is killed leaves its file's bytes (its rollback takes only the row)."""
    sha = _with_a_stored_file(db_url)
    root = get_settings().files_dir
    orphan = root / "ab" / ("ab" + "1" * 62)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"bytes of an import that failed")
    listed = runner.invoke(app, ["files", "prune"])
    assert listed.exit_code == 0 and str(orphan) in listed.output and "give --delete" in listed.output
    assert orphan.exists()
    removed = runner.invoke(app, ["files", "prune", "--delete"])
    assert removed.exit_code == 0 and "1 file(s) no record names" in removed.output
    assert not orphan.exists() and (root / sha[:2] / sha).exists()
    assert "every file in the files folder is named by a record" in runner.invoke(app, ["files", "prune"]).output


def test_a_backup_taken_while_someone_writes_restores(db_url, tmp_path, monkeypatch):
    """Each table was read with its own snapshot: a link and the person it names, added after the
    entities were read and before the links were, left an archive that could not be restored."""
    import zipfile

    from workbench.store.entities import create_link

    rita = Actor("rita", "researcher")
    with session_scope(db_url) as s:
        first = create_entity(s, rita, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)"}).obj.id
    written = zipfile.ZipFile.writestr

    def writing_meanwhile(archive, name, data, *args, **kwargs):
        written(archive, name, data, *args, **kwargs)
        if name == "tables/entities.jsonl":  # read; the links are not yet
            with session_scope(db_url) as s:
                later = create_entity(s, rita, "Person", {"name": "Rosa Quintanar Bello (FICTIONAL)"}).obj.id
                create_link(s, rita, "Family", first, later, {"relationship": "sibling"})

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writing_meanwhile)
    archive = tmp_path / "backup.zip"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    monkeypatch.setattr(zipfile.ZipFile, "writestr", written)
    _wipe(db_url)
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 0, result.output
    with session_scope(db_url) as s:  # the archive is the store as it was when the backup began
        assert [e.id for e in s.scalars(select(Entity))] == [first]
