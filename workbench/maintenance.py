"""Backup and restore: every table and every stored file, in one portable archive.

The archive is a zip holding ``manifest.json`` (format, schema revision, row counts, SHA-256 of
each member), one JSON-lines file per table, and the content-addressed files. It is
database-neutral, so a SQLite workbench can be restored into PostgreSQL and back. Restore runs in
one transaction into an empty, migrated database and checks the audit chain before committing.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import DateTime, func, insert, select, text, update
from sqlalchemy.engine import Connection

from workbench.settings import get_settings
from workbench.store import audit
from workbench.store.migrate import current_revision
from workbench.store.models import Base

FORMAT = "workbench-backup/1"


class BackupError(Exception):
    """The archive is unusable or the target database is not suitable (the message says why)."""


def _encode(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _files_dir() -> Path:
    return get_settings().files_dir


def _stored_files() -> list[Path]:
    root = _files_dir()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def backup(connection: Connection, path: Path) -> dict:
    """Write the archive; returns the manifest."""
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "revision": current_revision(connection.engine),
        "created_at": datetime.now(timezone.utc).isoformat(),
        "tables": {},
        "files": {},
    }
    tmp = path.with_suffix(path.suffix + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in Base.metadata.sorted_tables:
            order = [c for c in table.primary_key.columns]
            rows = connection.execute(select(table).order_by(*order)).mappings()
            lines = [json.dumps({k: _encode(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False) for row in rows]
            data = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
            archive.writestr(f"tables/{table.name}.jsonl", data)
            manifest["tables"][table.name] = {"rows": len(lines), "sha256": hashlib.sha256(data).hexdigest()}
        root = _files_dir()
        for file in _stored_files():
            relative = file.relative_to(root).as_posix()
            if relative == "secret_key":
                continue
            data = file.read_bytes()
            archive.writestr(f"files/{relative}", data)
            manifest["files"][relative] = hashlib.sha256(data).hexdigest()
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
    tmp.replace(path)
    return manifest


def _decode_row(table, row: dict) -> dict:
    decoded = {}
    for key, value in row.items():
        column = table.columns.get(key)
        if column is None:
            raise BackupError(f"table {table.name} has no column {key!r} (archive from another version?)")
        if value is not None and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        decoded[key] = value
    return decoded


def restore(connection: Connection, path: Path) -> dict:
    """Load the archive into an empty database inside the caller's transaction."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{path}: not a workbench backup ({exc})") from exc
    with archive:
        try:
            manifest = json.loads(archive.read("manifest.json"))
        except KeyError as exc:
            raise BackupError(f"{path}: manifest.json is missing") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
        revision = current_revision(connection.engine)
        if manifest.get("revision") != revision:
            raise BackupError(f"{path}: made at schema revision {manifest.get('revision')}, database is at {revision}; "
                              "upgrade or use the matching version")
        for table in Base.metadata.sorted_tables:
            if connection.execute(select(func.count()).select_from(table)).scalar():
                raise BackupError(f"the target database is not empty (table {table.name} has rows): restore needs an "
                                  "empty database made with `workbench init`")
        for table in Base.metadata.sorted_tables:
            member = f"tables/{table.name}.jsonl"
            data = archive.read(member)
            expected = manifest["tables"].get(table.name, {})
            if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
                raise BackupError(f"{path}: {member} does not match its checksum (damaged archive)")
            rows = [_decode_row(table, json.loads(line)) for line in data.decode("utf-8").splitlines() if line]
            self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
            deferred = []
            if self_refs:
                deferred = [({c: r[c] for c in self_refs}, r) for r in rows if any(r.get(c) for c in self_refs)]
                rows = [{**r, **{c: None for c in self_refs}} for r in rows]
            for start in range(0, len(rows), 1000):
                connection.execute(insert(table), rows[start:start + 1000])
            pk = list(table.primary_key.columns)[0]
            for values, row in deferred:
                connection.execute(update(table).where(pk == row[pk.name]).values(**values))
        if connection.dialect.name == "postgresql":
            for table in Base.metadata.sorted_tables:
                for column in table.primary_key.columns:
                    if column.autoincrement is True or (column.type.python_type is int and column.autoincrement == "auto"):
                        connection.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                            f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                        ))
        root = _files_dir()
        for relative, digest in manifest.get("files", {}).items():
            data = archive.read(f"files/{relative}")
            if hashlib.sha256(data).hexdigest() != digest:
                raise BackupError(f"{path}: stored file {relative} does not match its checksum")
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    from sqlalchemy.orm import Session

    with Session(bind=connection) as session:
        count, broken = audit.verify(session)
    if broken is not None:
        raise BackupError(f"{path}: the restored audit chain is broken at {broken}")
    return manifest


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    from workbench.cli import console, fail, open_database

    @app.command("backup")
    def backup_command(file: Path = typer.Argument(..., help="Archive to write (.zip).")) -> None:
        """Write everything (entities, links, sources and files, users, judgements, dossiers, audit) to FILE."""
        engine = open_database()
        with engine.connect() as connection:
            manifest = backup(connection, file)
        rows = sum(t["rows"] for t in manifest["tables"].values())
        console.print(f"backup written to {file}: {rows} rows in {len(manifest['tables'])} tables, "
                      f"{len(manifest['files'])} stored files")

    @app.command("restore")
    def restore_command(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Archive made by backup.")) -> None:
        """Restore FILE into an empty database (run `workbench init` first)."""
        engine = open_database()
        try:
            with engine.begin() as connection:
                manifest = restore(connection, file)
        except BackupError as exc:
            fail(str(exc))
        rows = sum(t["rows"] for t in manifest["tables"].values())
        console.print(f"restored {rows} rows and {len(manifest['files'])} stored files from {file}; audit chain intact")
