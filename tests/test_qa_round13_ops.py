"""QA round 13, an admin's week: stored files checked against their SHA-256 (served, backed up, restored,
verified), restored files owner-only, the audit log's head kept outside the database, a backup written to a
read-only folder refused with a message."""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import zipfile

from sqlalchemy import delete, update
from typer.testing import CliRunner

from workbench.cli import app
from workbench.settings import get_settings
from workbench.sources.files import file_path, store_file
from workbench.store.db import get_engine, session_scope
from workbench.store.entities import create_source
from workbench.store.models import AuditEntry, Base
from workbench.store.permissions import SYSTEM

runner = CliRunner()
DEED = b"%PDF-1.4 grant deed (FICTIONAL)"


def _deed(db_url) -> tuple[str, str]:
    with session_scope(db_url) as s:
        sha = store_file(s, SYSTEM, DEED, "deed_FICTIONAL.pdf", "application/pdf").sha256
        source = create_source(s, SYSTEM, title="Grant deed (FICTIONAL)", sha256=sha, file_name="deed_FICTIONAL.pdf",
                               media_type="application/pdf")
        return sha, source.id


def _wipe(db_url) -> None:
    with get_engine(db_url).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    shutil.rmtree(get_settings().files_dir, ignore_errors=True)


def test_files_verify_names_an_altered_and_a_missing_file_with_the_source_they_back(db_url):
    assert runner.invoke(app, ["init"]).exit_code == 0
    sha, _ = _deed(db_url)
    result = runner.invoke(app, ["files", "verify"])
    assert result.exit_code == 0 and "1 stored file(s) match their SHA-256" in result.output
    file_path(sha).write_bytes(b"CORRUPTED")
    result = runner.invoke(app, ["files", "verify"])
    assert result.exit_code == 1
    assert f"{sha} (deed_FICTIONAL.pdf): altered: its bytes no longer match its SHA-256; backs: Grant deed " \
           "(FICTIONAL)" in result.output
    file_path(sha).unlink()
    assert "missing from the files folder" in runner.invoke(app, ["files", "verify"]).output


def test_an_altered_file_is_not_served_as_the_captured_document(db_url):
    from web_helpers import signed_in_client

    sha, source_id = _deed(db_url)
    client = signed_in_client(db_url, "rita", "researcher")
    assert client.get(f"/sources/{source_id}/file").content == DEED
    file_path(sha).write_bytes(b"SWAPPED DOCUMENT")
    for route in ("file", "view"):
        refused = client.get(f"/sources/{source_id}/{route}")
        assert refused.status_code == 409 and b"SWAPPED" not in refused.content, route
        assert "no longer matches the SHA-256 recorded when it was captured" in refused.text


def test_a_backup_refuses_an_altered_file_and_with_allow_missing_files_names_it_instead(db_url, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    sha, _ = _deed(db_url)
    file_path(sha).write_bytes(b"CORRUPTED")
    archive = tmp_path / "backup.zip"
    refused = runner.invoke(app, ["backup", str(archive)])
    assert refused.exit_code == 2 and "no longer match their SHA-256" in refused.output and not archive.exists()
    result = runner.invoke(app, ["backup", str(archive), "--allow-missing-files"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(archive) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert f"{sha[:2]}/{sha}" in manifest["missing_files"] and not any(sha in n for n in z.namelist())


def test_a_restore_refuses_bytes_whose_hash_is_not_their_name_and_writes_files_owner_only(db_url, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    sha, _ = _deed(db_url)
    archive = tmp_path / "backup.zip"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    # The same archive with other bytes under the deed's name, its checksums recomputed to match.
    swapped = tmp_path / "swapped.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(swapped, "w") as target:
        manifest = json.loads(source.read("manifest.json"))
        for name in source.namelist():
            data = source.read(name)
            if name == f"files/{sha[:2]}/{sha}":
                data = b"SWAPPED DOCUMENT"
                manifest["files"][f"{sha[:2]}/{sha}"] = hashlib.sha256(data).hexdigest()
            if name != "manifest.json":
                target.writestr(name, data)
        target.writestr("manifest.json", json.dumps(manifest))
    _wipe(db_url)
    refused = runner.invoke(app, ["restore", str(swapped)])
    assert refused.exit_code != 0 and "holds bytes whose SHA-256 is not its name" in refused.output
    assert not file_path(sha).exists()
    old_umask = __import__("os").umask(0o022)
    try:
        restored = runner.invoke(app, ["restore", str(archive)])
    finally:
        __import__("os").umask(old_umask)
    assert restored.exit_code == 0, restored.output
    assert stat.S_IMODE(file_path(sha).stat().st_mode) == 0o600 and file_path(sha).read_bytes() == DEED


def test_a_backup_leaves_out_a_write_that_never_finished(db_url, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    sha, _ = _deed(db_url)
    (file_path(sha).parent / ".incoming-abc123").write_bytes(b"half a file")
    archive = tmp_path / "backup.zip"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    with zipfile.ZipFile(archive) as z:
        assert not any(".incoming-" in name for name in z.namelist())


def test_audit_verify_prints_its_head_and_an_anchor_shows_a_log_rewritten_whole(db_url):
    from workbench.store.audit import GENESIS, entry_hash
    from workbench.store.models import AuditHead

    assert runner.invoke(app, ["init"]).exit_code == 0
    _deed(db_url)
    first = runner.invoke(app, ["audit", "verify"])
    assert first.exit_code == 0
    head = next(line for line in first.output.splitlines() if line.startswith("head: ")).split()[1]
    assert runner.invoke(app, ["audit", "verify", "--anchor", head]).exit_code == 0
    # Rewrite the whole log: edit the first entry's actor and recompute every hash after it.
    with session_scope(db_url) as s:
        entries = s.query(AuditEntry).order_by(AuditEntry.seq).all()
        prev = GENESIS
        for entry in entries:
            actor = "mallory" if entry.seq == 1 else entry.actor
            digest = entry_hash(entry.seq, entry.at, actor, entry.action, entry.object_type, entry.object_id,
                                entry.before, entry.after, prev)
            s.execute(update(AuditEntry).where(AuditEntry.seq == entry.seq)
                      .values(actor=actor, prev_hash=prev, hash=digest))
            prev = digest
        s.execute(update(AuditHead).values(hash=prev))
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # the chain alone cannot tell
    rewritten = runner.invoke(app, ["audit", "verify", "--anchor", head])
    assert rewritten.exit_code == 1 and "audit log rewritten" in rewritten.output
    assert runner.invoke(app, ["audit", "verify", "--anchor", "12:short"]).exit_code == 2


def test_an_unreadable_entry_is_counted_after_the_entries_before_it(db_url):
    from sqlalchemy import text

    assert runner.invoke(app, ["init"]).exit_code == 0
    for n in range(6):
        with session_scope(db_url) as s:
            create_source(s, SYSTEM, title=f"Source {n} (FICTIONAL)", url=f"https://example.org/{n}")
    if get_engine(db_url).dialect.name != "sqlite":
        return  # PostgreSQL's JSON column refuses the edit itself
    with get_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE audit_log SET after = '{not json' WHERE seq = 4"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "(3 entries verified before it)" in result.output, result.output


def test_a_backup_into_a_folder_it_cannot_write_says_so(db_url, tmp_path):
    import os

    if os.geteuid() == 0:
        # root writes anywhere: stand a file where the folder should be instead
        (tmp_path / "ro").write_text("a file, not a folder")
        target = tmp_path / "ro" / "backup.zip"
    else:
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o500)
        target = tmp_path / "ro" / "backup.zip"
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["backup", str(target)])
    assert result.exit_code == 2 and "cannot write" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def _as_made_at_0006(archive, target, damage_sources: bool = False) -> None:
    """The archive as a workbench at schema revision 0006 wrote it: entries without the sort_key column 0007
    added (its checksums recomputed to match, as that version computed them)."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w") as out:
        manifest = json.loads(source.read("manifest.json"))
        manifest["revision"] = "0006"
        for name in source.namelist():
            if name == "manifest.json":
                continue
            data = source.read(name)
            if name == "tables/entities.jsonl":
                rows = [json.loads(line) for line in data.decode().splitlines() if line]
                for row in rows:
                    del row["sort_key"]
                data = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows).encode()
                manifest["tables"]["entities"]["sha256"] = hashlib.sha256(data).hexdigest()
            if damage_sources and name == "tables/sources.jsonl":
                data += b"{}\n"  # its checksum left as it was: a damaged archive
            out.writestr(name, data)
        out.writestr("manifest.json", json.dumps(manifest))


def test_a_backup_made_before_an_upgrade_is_restored_and_upgraded_with_the_database(db_url, tmp_path):
    """A backup made at an older schema revision was refused ('made at schema revision 0007, database is at
    0008'), and no command could restore it: every upgrade stranded the backups made before it."""
    from workbench.store.migrate import current_revision, head_revision
    from workbench.store.models import Entity

    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    sha, _ = _deed(db_url)
    engine = get_engine(db_url)
    with engine.connect() as conn:
        before = dict(conn.execute(Entity.__table__.select().with_only_columns(Entity.id, Entity.sort_key)).all())
    archive, old = tmp_path / "backup.zip", tmp_path / "made_at_0006.zip"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    _as_made_at_0006(archive, old)
    _wipe(db_url)
    result = runner.invoke(app, ["restore", str(old)])
    assert result.exit_code == 0, result.output
    assert f"made at schema revision 0006: restored at it, then upgraded to {head_revision()}" in result.output
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        after = dict(conn.execute(Entity.__table__.select().with_only_columns(Entity.id, Entity.sort_key)).all())
    assert after == before  # every entry back, and 0007's data step gave each its sort key again
    assert file_path(sha).read_bytes() == DEED
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_an_older_backup_refused_on_restore_leaves_the_database_as_it_was(db_url, tmp_path):
    from workbench.store.migrate import current_revision, head_revision

    assert runner.invoke(app, ["init"]).exit_code == 0
    _deed(db_url)
    archive, damaged = tmp_path / "backup.zip", tmp_path / "damaged.zip"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    _as_made_at_0006(archive, damaged, damage_sources=True)
    _wipe(db_url)
    refused = runner.invoke(app, ["restore", str(damaged)])
    assert refused.exit_code != 0 and "does not match its checksum" in refused.output
    assert current_revision(get_engine(db_url)) == head_revision()  # back where it was, and empty
    good = tmp_path / "good.zip"
    _as_made_at_0006(archive, good)
    assert runner.invoke(app, ["restore", str(good)]).exit_code == 0


def test_the_entries_table_goes_back_a_revision_on_sqlite_with_entries_in_it(db_url):
    """0007's downgrade rebuilt the entries table while foreign keys were enforced: 'FOREIGN KEY constraint
    failed' on any database holding entries, so no release could be rolled back on SQLite."""
    from workbench.store.migrate import current_revision, downgrade, upgrade

    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    engine = get_engine(db_url)
    downgrade(engine, "0006")
    assert current_revision(engine) == "0006"
    upgrade(engine)
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_an_upload_the_data_folder_cannot_take_is_refused_with_what_to_fix_and_nothing_kept(db_url):
    """An upload into a data folder the workbench cannot write was a 500 with a traceback in the log."""
    from sqlalchemy import func, select

    from web_helpers import signed_in_client
    from workbench.store.models import Source, StoredFile

    client = signed_in_client(db_url, "rita", "researcher")
    files = get_settings().files_dir
    shutil.rmtree(files, ignore_errors=True)
    files.parent.mkdir(parents=True, exist_ok=True)
    files.write_text("a file where the files folder should be")  # unwritable as a folder, even for root
    from tests.test_web_sources import upload

    response = upload(client, "deed.pdf", DEED, "application/pdf", title="Grant deed (FICTIONAL)")
    assert response.status_code == 503 and "cannot store the file" in response.text
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Source)) == 0
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 0
