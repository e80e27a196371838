"""Backup and restore: every table and every stored file, in one portable archive.

The archive is a zip holding ``manifest.json`` (format, schema revision, row counts, SHA-256 of
each member), one JSON-lines file per table, and the content-addressed files. It is
database-neutral, so a SQLite workbench can be restored into PostgreSQL and back. Restore runs in
one transaction into an empty, migrated database and checks the audit chain before committing.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import DateTime, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, StatementError

from workbench.settings import get_settings
from workbench.store import audit
from workbench.store.migrate import current_revision
from workbench.store.models import Base

FORMAT = "workbench-backup/1"


class BackupError(Exception):
    """The archive is unusable or the target database is not suitable (the message says why).

    ``code`` is the command's exit code: 2 for a file that cannot be written or read (bad input,
    nothing changed), 1 for a target database that is not suitable."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def _encode(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _files_dir() -> Path:
    return get_settings().files_dir


def _stored_files() -> list[Path]:
    root = _files_dir()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def backup(connection: Connection, path: Path, allow_missing_files: bool = False) -> dict:
    """Write the archive; returns the manifest.

    Every file the ``stored_files`` table lists must be in the files folder: a wrong WORKBENCH_DATA_DIR
    (a cron job started elsewhere, with the relative default) would otherwise make an archive without
    a single document that restores 'successfully'. ``allow_missing_files`` backs up what there is and
    names the missing files in the manifest, for a store that really lost some."""
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "revision": current_revision(connection.engine),
        "created_at": datetime.now(UTC).isoformat(),
        "tables": {},
        "files": {},
    }
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give the name of the archive to write, e.g. {path / 'workbench.zip'}")
    _one_snapshot(connection)
    tmp = path.with_suffix(path.suffix + ".partial")
    try:
        _write_archive(connection, tmp, manifest, allow_missing_files)
        tmp.replace(path)
    except OSError as exc:
        raise BackupError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        try:
            tmp.unlink(missing_ok=True)  # a half-written archive is never left beside the real one
        except OSError:  # a read-only folder: nothing was written there either; the error above says why
            pass
    return manifest


def _listed_files(sha256s) -> dict[str, str]:
    """The names inside the files folder (as the archive writes them) of the files the stored_files
    rows list, by SHA-256; where a file lives is sources.files' to say."""
    from workbench.sources.files import file_path

    root = _files_dir()
    return {file_path(sha).relative_to(root).as_posix(): sha for sha in sha256s if isinstance(sha, str) and sha}


def _one_snapshot(connection: Connection) -> None:
    """Read every table as of one moment. Read table by table as writes went on (each SELECT its own
    snapshot), an archive held links to entities it lacked and could not be restored. PostgreSQL: one
    REPEATABLE READ transaction; SQLite (whose driver begins a transaction only before a write): an
    explicit BEGIN, whose first read fixes the snapshot in WAL mode. Only on a connection that has not
    begun: a caller's open transaction is its own."""
    if connection.in_transaction():
        return
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ")
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def _write_archive(connection: Connection, tmp: Path, manifest: dict[str, Any], allow_missing_files: bool) -> None:
    from workbench.sources.files import file_problem
    from workbench.store.models import StoredFile

    listed = _listed_files(connection.execute(select(StoredFile.sha256)).scalars())
    root = _files_dir()
    missing = sorted(name for name in listed if not (root / name).is_file())
    if missing and not allow_missing_files:
        raise BackupError(f"{len(missing)} of the {len(listed)} stored files the database lists are not in {root} "
                          f"(e.g. {missing[0]}): is WORKBENCH_DATA_DIR right? Nothing was written. To back up "
                          "a store that lost them, give --allow-missing-files (the archive then names them)")
    # A listed file whose bytes no longer hash to its name is not the captured document: it is left out like a
    # missing one (its record and citations are kept), never archived as if it were the evidence.
    damaged = sorted(name for name in listed if name not in missing and file_problem(listed[name]))
    if damaged and not allow_missing_files:
        raise BackupError(f"{len(damaged)} stored file(s) no longer match their SHA-256 (altered or damaged on disk; "
                          f"e.g. {damaged[0]}): nothing was written. `workbench files verify` lists them; restore them "
                          "from an earlier backup, or give --allow-missing-files to back up without them (the archive "
                          "then names them)")
    missing = sorted(missing + damaged)
    if missing:
        manifest["missing_files"] = missing
    # Owner-only, as the stored files are: the archive holds password and token hashes and every finding.
    tmp.unlink(missing_ok=True)
    with os.fdopen(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "wb") as raw, \
            zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in Base.metadata.sorted_tables:
            order = [c for c in table.primary_key.columns]
            rows = connection.execute(select(table).order_by(*order)).mappings()
            lines = [json.dumps({k: _encode(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False) for row in rows]
            data = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
            archive.writestr(f"tables/{table.name}.jsonl", data)
            manifest["tables"][table.name] = {"rows": len(lines), "sha256": hashlib.sha256(data).hexdigest()}
        for file in _stored_files():
            relative = file.relative_to(root).as_posix()
            # The signing key is the server's, a '.incoming-' file a write that never finished, and a damaged
            # file not the document (named in the manifest instead).
            if relative == "secret_key" or file.name.startswith(".incoming-") or relative in damaged:
                continue
            try:
                data = file.read_bytes()
            except OSError as exc:
                raise BackupError(f"cannot read the stored file {file}: {exc.strerror or exc}", 1) from exc
            archive.writestr(f"files/{relative}", data)
            manifest["files"][relative] = hashlib.sha256(data).hexdigest()
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))


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


def _read(archive: zipfile.ZipFile, path: Path, member: str) -> bytes:
    """One member's bytes; a missing, truncated or corrupted member is the archive's fault, named."""
    try:
        return archive.read(member)
    except KeyError as exc:
        raise BackupError(f"{path}: {member} is missing (damaged or incomplete archive)") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise BackupError(f"{path}: {member} cannot be read ({exc}): the archive is damaged") from exc


def _manifest(archive: zipfile.ZipFile, path: Path) -> dict:
    try:
        manifest = json.loads(_read(archive, path, "manifest.json"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path}: manifest.json is not valid JSON ({exc}): the archive is damaged") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise BackupError(f"{path}: unknown backup format {found!r}")
    if not isinstance(manifest.get("tables"), dict) or not isinstance(manifest.get("files", {}), dict):
        raise BackupError(f"{path}: manifest.json does not list the tables and files: the archive is damaged")
    return manifest


def _rows(table, path: Path, member: str, data: bytes) -> list[dict]:
    rows = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line:
            continue
        try:
            rows.append(_decode_row(table, json.loads(line)))
        except (ValueError, TypeError, AttributeError) as exc:
            raise BackupError(f"{path}: {member} line {number} cannot be read ({exc})") from exc
    return rows


def _load_table(connection: Connection, table, rows: list[dict], path: Path) -> None:
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.target_fullname.split(".")[0] == table.name]
    deferred = []
    if self_refs:
        deferred = [({c: r[c] for c in self_refs}, r) for r in rows if any(r.get(c) for c in self_refs)]
        rows = [{**r, **{c: None for c in self_refs}} for r in rows]
    try:
        for start in range(0, len(rows), 1000):
            connection.execute(insert(table), rows[start:start + 1000])
        pk = next(iter(table.primary_key.columns))
        # The update would stamp columns such as updated_at with the restore time: keep the archive's.
        stamped = [c.name for c in table.columns if c.onupdate is not None and c.name in (rows[0] if rows else {})]
        for values, row in deferred:
            connection.execute(update(table).where(pk == row[pk.name])
                               .values(**values, **{c: row[c] for c in stamped}))
    except (IntegrityError, StatementError) as exc:
        raise BackupError(f"{path}: the rows of table {table.name} do not load ({exc.orig or exc})") from exc


def _stored_file_target(path: Path, relative: str) -> Path:
    """Where a stored file goes: inside the files folder, whatever name the archive gives it."""
    parts = Path(relative).parts
    if not relative or Path(relative).is_absolute() or ".." in parts:
        raise BackupError(f"{path}: stored file name {relative!r} points outside the files folder: refused")
    return _files_dir() / relative


def restore(connection: Connection, path: Path) -> dict:
    """Load the archive into an empty database inside the caller's transaction.

    Stored files are written last, once the rows loaded and the audit chain verified, so a refused
    archive leaves the files folder as it was too."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{path}: not a workbench backup, or a truncated one ({exc})") from exc
    with archive:
        manifest = _manifest(archive, path)
        revision = current_revision(connection.engine)
        if manifest.get("revision") != revision:
            raise BackupError(f"{path}: made at schema revision {manifest.get('revision')}, database is at {revision}; "
                              "upgrade or use the matching version")
        tables = _tables_held(connection)
        refuse_unless_empty(connection, tables)
        for table in tables:
            member = f"tables/{table.name}.jsonl"
            data = _read(archive, path, member)
            expected = manifest["tables"].get(table.name)
            if not isinstance(expected, dict) or hashlib.sha256(data).hexdigest() != expected.get("sha256"):
                raise BackupError(f"{path}: {member} does not match its checksum (damaged archive)")
            _load_table(connection, table, _rows(table, path, member, data), path)
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection, tables)
        files = {}
        for relative, digest in manifest.get("files", {}).items():
            target = _stored_file_target(path, str(relative))
            content_hash = hashlib.sha256(_read(archive, path, f"files/{relative}")).hexdigest()
            if content_hash != digest:
                raise BackupError(f"{path}: stored file {relative} does not match its checksum")
            name = Path(str(relative)).name
            if len(name) == 64 and all(c in "0123456789abcdef" for c in name) and content_hash != name:
                # A stored file is named by its SHA-256: other bytes under the name are not the captured document.
                raise BackupError(f"{path}: stored file {relative} holds bytes whose SHA-256 is not its name: the "
                                  "archive was altered; nothing was restored")
            files[relative] = target
        _check_listed_files(connection, path, manifest, files)
        _verify_chain(connection, path)
        _write_files(archive, path, files)
    return manifest


def _tables_held(connection: Connection) -> list:
    """The tables to load, as the database holds them, in the models' dependency order. At the head revision,
    the models'; at an older one (an archive made before an upgrade, restored at its own revision and upgraded
    after), the tables that revision has, each with the columns it has (the models' definitions of those
    columns, for how values are read, and the database's own for columns later migrations dropped)."""
    from sqlalchemy import Column, MetaData, Table, inspect

    from workbench.store.migrate import head_revision

    if current_revision(connection.engine) == head_revision():
        return list(Base.metadata.sorted_tables)
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    held = MetaData()
    tables = []
    for model in Base.metadata.sorted_tables:
        if model.name not in present:
            continue
        columns = {c["name"]: c for c in inspector.get_columns(model.name)}
        tables.append(Table(model.name, held, *[c._copy() for c in model.columns if c.name in columns],
                            *[Column(name, info["type"], nullable=info["nullable"])
                              for name, info in columns.items() if name not in model.columns]))
    return tables


def refuse_unless_empty(connection: Connection, tables: list | None = None) -> None:
    for table in tables if tables is not None else _tables_held(connection):
        if connection.execute(select(func.count()).select_from(table)).scalar():
            raise BackupError(f"the target database is not empty (table {table.name} has rows): restore needs an "
                              "empty database made with `workbench init`", 1)


def backup_revision(path: Path) -> str | None:
    """The schema revision the archive was made at (its manifest's), read before anything is restored."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{path}: not a workbench backup, or a truncated one ({exc})") from exc
    with archive:
        return _manifest(archive, path).get("revision")


def _check_listed_files(connection: Connection, path: Path, manifest: dict, files: dict) -> None:
    """Every file the restored stored_files rows list is in the archive, unless the backup said it was
    missing already (--allow-missing-files): an archive stripped of its documents is refused."""
    from workbench.store.models import StoredFile

    known_missing = set(manifest.get("missing_files") or [])
    absent = sorted(name for name in _listed_files(connection.execute(select(StoredFile.sha256)).scalars())
                    if name not in files and name not in known_missing)
    if absent:
        raise BackupError(f"{path}: {len(absent)} stored file(s) the archive's tables list are not in it "
                          f"(e.g. {absent[0]}): the archive is incomplete")


MISSING_SHOWN = 5  # missing stored files a restore names at once


def still_missing_files(connection: Connection, manifest: dict) -> list[str]:
    """The stored files the archive's manifest says were missing at backup time (``--allow-missing-files``)
    and that the files folder still lacks after the restore, each as 'original name (sha256)'."""
    from workbench.store.models import StoredFile

    names = [str(name) for name in manifest.get("missing_files") or []]
    if not names:
        return []
    root = _files_dir()
    absent = [name for name in names if not (root / name).is_file()]
    shas = [Path(name).name for name in absent]
    shown = shas[:MISSING_SHOWN]  # only these are named; the count covers the rest
    originals = dict(connection.execute(select(StoredFile.sha256, StoredFile.original_name)
                                        .where(StoredFile.sha256.in_(shown))).all()) if shown else {}
    return [f"{originals[sha]} ({sha})" if originals.get(sha) else sha for sha in shas]


def _write_files(archive: zipfile.ZipFile, path: Path, files: dict[str, Path]) -> None:
    """Write the stored files; if one cannot be written, take back those this restore wrote, so the
    files folder is as it was (the caller's transaction takes back the rows)."""
    written: list[Path] = []
    partial: Path | None = None
    try:
        for relative, target in files.items():
            data = _read(archive, path, f"files/{relative}")
            if target.is_file() and target.read_bytes() == data:  # already there, whole
                continue
            # Absent, or damaged (a stored file truncated on disk): the archive's checked bytes go in,
            # through a temporary name, so a failed write never leaves half a file under the real one.
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            # Owner-only, as sources.files stores them, whatever the umask.
            with os.fdopen(os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600), "wb") as handle:
                handle.write(data)
            existed = target.is_file()
            partial.replace(target)
            partial = None
            if not existed:
                written.append(target)
    except OSError as exc:
        for done in [*written, *([partial] if partial is not None else [])]:
            try:
                done.unlink(missing_ok=True)
            except OSError:  # a folder where the file should go: nothing of ours to take back
                pass
        raise BackupError(f"cannot write the stored file {relative} into {_files_dir()}: {exc.strerror or exc}; "
                          "nothing was restored", 1) from exc


def _reset_sequences(connection: Connection, tables: list) -> None:
    """PostgreSQL's id sequences continue after the restored rows (rows were inserted with their ids)."""
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.type.python_type is int and column.autoincrement == "auto"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                ))


def _verify_chain(connection: Connection, path: Path) -> None:
    from sqlalchemy.orm import Session

    with Session(bind=connection) as session:
        try:
            _count, broken = audit.verify(session)
        except (ValueError, TypeError) as exc:  # an entry whose JSON or time stamp no longer reads back
            raise BackupError(f"{path}: the restored audit log cannot be read ({exc})") from exc
    if broken is not None:
        raise BackupError(f"{path}: the restored audit chain is broken at {broken}")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    from rich.markup import escape

    from workbench.cli import console, fail, open_database

    @app.command("backup")
    def backup_command(
        file: Path = typer.Argument(..., help="Archive to write (.zip)."),
        allow_missing_files: bool = typer.Option(False, "--allow-missing-files",
                                                 help="Back up even if stored files the database lists are missing "
                                                      "from the files folder (the archive names them)."),
    ) -> None:
        """Write everything (entities, links, sources and files, users, judgements, dossiers, audit) to FILE."""
        engine = open_database()
        try:
            with engine.connect() as connection:
                manifest = backup(connection, file, allow_missing_files)
        except BackupError as exc:
            fail(escape(str(exc)), exc.code)
        rows = sum(t["rows"] for t in manifest["tables"].values())
        missing = manifest.get("missing_files") or []
        console.print(f"backup written to {file}: {rows} rows in {len(manifest['tables'])} tables, "
                      f"{len(manifest['files'])} stored files"
                      + (f"; {len(missing)} listed file(s) were missing and are named in the manifest" if missing else ""),
                      markup=False, highlight=False)

    files_app = typer.Typer(help="The stored files folder (WORKBENCH_DATA_DIR/files).", no_args_is_help=True)
    app.add_typer(files_app, name="files")

    @files_app.command("verify")
    def files_verify_command() -> None:
        """Check every stored file the database lists against its SHA-256: name each one missing or altered since
        it was captured, with the sources it backs (exit 1 when any is)."""
        from sqlalchemy import select as select_

        from workbench.cli import err, labelled, session
        from workbench.sources.files import damaged_files
        from workbench.store.models import Source, StoredFile

        open_database()
        with session() as s:
            total = s.scalar(select_(func.count()).select_from(StoredFile)) or 0
            found = damaged_files(s)
            titles: dict[str, list[str]] = {}
            if found:
                for sha, title in s.execute(select_(Source.sha256, Source.title)
                                            .where(Source.sha256.in_([f.sha256 for f, _ in found]))):
                    titles.setdefault(sha, []).append(title)
        for stored, problem in found:
            backs = "; ".join(titles.get(stored.sha256, [])) or "no source"
            console.print(f"{stored.sha256} ({stored.original_name or 'no name'}): {problem}; backs: {backs}",
                          markup=False, highlight=False)
        if found:
            err.print(labelled("error:", "red", f"{len(found)} of {total} stored file(s) are missing or altered: "
                               "restore them from a backup"), highlight=False)
            raise typer.Exit(1)
        console.print(f"{total} stored file(s) match their SHA-256", markup=False, highlight=False)

    @files_app.command("prune")
    def files_prune_command(
        delete: bool = typer.Option(False, "--delete", help="Remove them (without it, they are only listed)."),
    ) -> None:
        """List (or with --delete remove) files no stored-file record names: the bytes of imports that failed,
        were killed or had every record rejected. A file any record names is never touched."""
        from workbench.cli import session
        from workbench.sources.files import unrecorded_files

        open_database()
        with session() as s:
            found = unrecorded_files(s)
        for path in found:
            console.print(str(path), markup=False, highlight=False)
        size = sum(path.stat().st_size for path in found)
        if delete:
            for path in found:
                path.unlink(missing_ok=True)
        verb = "removed" if delete else "found (give --delete to remove them)"
        console.print(f"{len(found)} file(s) no record names, {size:,} bytes, {verb}" if found
                      else "every file in the files folder is named by a record", markup=False, highlight=False)

    @app.command("restore")
    def restore_command(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Archive made by backup.")) -> None:
        """Restore FILE into an empty database (run `workbench init` first)."""
        from workbench.cli import err, labelled
        from workbench.store.migrate import downgrade, is_older_revision, upgrade

        engine = open_database()
        # An archive made before this version's migrations is restored at its own revision into the empty
        # database, then upgraded with it, as `workbench init` upgrades a database: every upgrade of the
        # workbench would otherwise leave its older backups restorable only by the release that made them.
        went_back: str | None = None
        current = current_revision(engine)
        try:
            made_at = backup_revision(file)
            if is_older_revision(made_at, current):
                with engine.connect() as connection:
                    refuse_unless_empty(connection)
                downgrade(engine, made_at)
                went_back = made_at
            with engine.begin() as connection:
                manifest = restore(connection, file)
                absent = still_missing_files(connection, manifest)
        except BackupError as exc:
            if went_back:
                upgrade(engine)  # the database is empty again: back to the revision it had
            fail(escape(str(exc)), exc.code)
        if went_back:
            try:
                upgrade(engine)
            except Exception as exc:  # a migration failing on the restored rows: they are kept, at their revision
                fail(f"restored the backup at its schema revision {went_back}, but upgrading it to {current} failed "
                     f"({escape(str(exc))}): run `workbench init` to try the upgrade again")
            console.print(f"the backup was made at schema revision {went_back}: restored at it, then upgraded to "
                          f"{current}", markup=False, highlight=False)
        rows = sum(t["rows"] for t in manifest["tables"].values())
        if not absent:
            console.print(f"restored {rows} rows and {len(manifest['files'])} stored files from {file}; "
                          "audit chain intact", markup=False, highlight=False)
            return
        # A backup made with --allow-missing-files: the rows are whole, the documents are not.
        console.print(f"restored {rows} rows and {len(manifest['files'])} stored files from {file}; audit chain "
                      f"intact; INCOMPLETE: {len(absent)} stored file(s) the database lists have no bytes",
                      markup=False, highlight=False)
        shown = ", ".join(absent[:MISSING_SHOWN]) + (f" and {len(absent) - MISSING_SHOWN} more"
                                                     if len(absent) > MISSING_SHOWN else "")
        err.print(labelled("warning:", "yellow",
                           f"{len(absent)} stored file(s) were missing when the backup was made (it was written with "
                           f"--allow-missing-files) and are not in the files folder now: {shown}. Their sources and "
                           "citations are restored, their documents are not: copy them into "
                           f"{_files_dir()} from another copy if there is one"), highlight=False)
