"""``workbench import ...``, ``workbench export ftm`` and ``workbench bench import``.

Each import runs in one transaction with a Rich progress bar and ends with the summary the user
needs: created, updated, skipped, and every rejection with its reason. A file that cannot be read
prints one line naming the file and line, and the database stays as it was.

Exit codes, the same for every importer, so a script can tell a partial import from a full one:
0 everything went in; 3 the import was committed but some records were rejected (the summary
says how many, and why, with their lines); 2 the input could not be read and nothing was imported;
1 a database or permission failure (an ``error:`` line instead of a summary).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import_app = typer.Typer(help="Import public sources: OFAC SDN, FollowTheMoney, tables with a mapping.",
                         no_args_is_help=True)
export_app = typer.Typer(help="Export the workbench in interchange formats.", no_args_is_help=True)

REASONS_SHOWN = 50  # rejections listed one by one; the count covers them all
WARNINGS_SHOWN = 10  # other warnings listed one by one (--all-warnings: every one); summary notes always all
ALL_WARNINGS_HELP = "Print every warning (by default the first 10, with every line saying what was left out)."
PARTIAL_IMPORT = 3  # exit code: committed, but some records were rejected
BAD_INPUT = 2  # exit code: nothing was imported


def _progress(label: str):
    from workbench.cli import err

    progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                        transient=False)
    task = progress.add_task(label, total=None)

    def update(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total)

    return progress, update


def _summary(summary, title: str, all_warnings: bool = False) -> None:
    from workbench.cli import console, labelled
    from workbench.sources.ftm import SummaryNote

    table = Table(title=title)
    table.add_column("result")
    table.add_column("count", justify="right")
    table.add_row("created", str(summary.created))
    table.add_row("updated", str(summary.updated))
    table.add_row("skipped (unchanged)", str(summary.skipped))
    table.add_row("rejected (not imported)", str(len(summary.rejected)))
    for key, value in summary.details.items():
        table.add_row(key.replace("_", " "), str(value))
    table.add_row("warnings", str(len(summary.warnings)))
    console.print(table)
    for where, reason in summary.rejected[:REASONS_SHOWN]:
        console.print(labelled("rejected", "red", f"{where}: {reason}"), highlight=False)
    if len(summary.rejected) > REASONS_SHOWN:
        console.print(f"... and {len(summary.rejected) - REASONS_SHOWN} more rejections")
    # A summary note ('Person.weight: ... left out', one per schema and property) is the only word about
    # values an import did not keep: every one is printed, whatever the count of the other warnings.
    shown = 0
    for where, message in summary.warnings:
        if isinstance(message, SummaryNote) or all_warnings or shown < WARNINGS_SHOWN:
            console.print(labelled("warning", "yellow", f"{where}: {message}"), highlight=False)
            shown += not isinstance(message, SummaryNote)
    hidden = sum(1 for _, message in summary.warnings if not isinstance(message, SummaryNote)) - shown
    if hidden > 0:
        console.print(f"... and {hidden} more warnings (--all-warnings prints them)")


def _run_import(label: str, work: Callable, all_warnings: bool = False) -> None:
    from workbench.cli import fail, open_database, run_guarded, session
    from workbench.sources.ftm import FtmError
    from workbench.sources.sdn import OlderListError
    from workbench.sources.sdn_parse import SdnFormatError
    from workbench.sources.tabular import MappingError, TableError

    open_database()
    progress, update = _progress(label)
    try:
        with progress, session() as s:
            summary = run_guarded(work, s, update)
            if _nothing_accepted(summary):
                raise _AllRejected(summary)  # rolls the session back: no Source records an import of nothing
    except (SdnFormatError, OlderListError, FtmError, TableError, MappingError) as exc:
        fail(f"{exc} (nothing was imported)", code=BAD_INPUT)
    except _AllRejected as exc:
        _summary(exc.summary, label, all_warnings)
        fail("every record was rejected, so nothing was imported: the database is as it was", code=BAD_INPUT)
    if summary.created or summary.updated:
        from workbench.settings import get_settings
        from workbench.store import db

        db.refresh_statistics(get_settings().database_url)
    _summary(summary, label, all_warnings)
    _exit_if_partial(summary)


class _AllRejected(Exception):
    def __init__(self, summary):
        super().__init__("every record was rejected")
        self.summary = summary


def _nothing_accepted(summary) -> bool:
    """Every record rejected: keeping the file's Source and stored copy would record an import of nothing."""
    return bool(summary.rejected) and not (summary.created or summary.updated or summary.skipped
                                           or summary.details.get("links_created") or summary.details.get("links_updated"))


def _exit_if_partial(summary) -> None:
    """A script sees exit 0 only when every record went in; the rest is committed either way."""
    from workbench.cli import err, labelled

    rejected = len(summary.rejected)
    if not rejected:
        return
    listed = "each listed above" if rejected <= REASONS_SHOWN else f"the first {REASONS_SHOWN} listed above"
    err.print(labelled("partial import:", "bold yellow", f"{rejected} record{'s' if rejected != 1 else ''} rejected "
                       f"and not imported ({listed}, with line and reason); everything else was imported"),
              highlight=False)
    raise typer.Exit(PARTIAL_IMPORT)


@import_app.command("sdn")
def import_sdn_command(
    paths: list[Path] = typer.Argument(..., help="sdn.csv \\[alt.csv add.csv], a folder holding them, SDN.XML, "
                                                 "or the SDN JSON repackaging"),
    published: str | None = typer.Option(None, "--published", help="Publication date of the list (YYYY-MM-DD)."),
    no_delist: bool = typer.Option(False, "--no-delist", help="Do not mark entries missing from this list delisted."),
    allow_mass_delist: bool = typer.Option(False, "--allow-mass-delist",
                                           help="Delist even when more than a fifth of the stored entries are "
                                                "missing (otherwise taken for a partial file)."),
    all_warnings: bool = typer.Option(False, "--all-warnings", help=ALL_WARNINGS_HELP),
) -> None:
    """Import or re-import OFAC's SDN list (idempotent; missing entries are marked delisted)."""
    from workbench.cli import cli_actor
    from workbench.sources.sdn import import_sdn

    _run_import("OFAC SDN import", lambda s, update: import_sdn(s, cli_actor(), paths, published=published,
                                                               progress=update, delist=not no_delist,
                                                               allow_mass_delist=allow_mass_delist),
                all_warnings)


@import_app.command("ftm")
def import_ftm_command(
    path: Path = typer.Argument(..., help="FollowTheMoney JSON lines file"),
    all_warnings: bool = typer.Option(False, "--all-warnings", help=ALL_WARNINGS_HELP),
) -> None:
    """Import FollowTheMoney entities (JSON lines), including relationships and sanctions."""
    from workbench.cli import cli_actor
    from workbench.sources.ftm import import_ftm

    _run_import("FtM import", lambda s, update: import_ftm(s, cli_actor(), path, progress=update), all_warnings)


@import_app.command("table")
def import_table_command(
    path: Path = typer.Argument(..., help="CSV or XLSX file"),
    mapping: Path = typer.Option(..., "--mapping", help="YAML mapping (see fixtures/mappings/)"),
    allow_demo_values: bool = typer.Option(False, "--allow-demo-values",
                                           help="Import a file that is not a FICTIONAL sample with a mapping "
                                                "that writes the samples' FICTIONAL values."),
    all_warnings: bool = typer.Option(False, "--all-warnings", help=ALL_WARNINGS_HELP),
) -> None:
    """Import a property roll, company registry or asset declaration with a YAML mapping."""
    from workbench.cli import cli_actor, fail
    from workbench.sources.tabular import MappingError, import_table, is_sample_file, load_mapping

    try:
        table_mapping = load_mapping(mapping.read_text(encoding="utf-8"), mapping.name)
    except OSError as exc:
        fail(f"cannot read {mapping}: {exc.strerror}", code=BAD_INPUT)
    except MappingError as exc:
        fail(str(exc), code=BAD_INPUT)
    demo = table_mapping.demo_literals()
    if demo and not is_sample_file(path) and not allow_demo_values:
        stamped = ", ".join(f"{record}.{prop} = {value!r}" for record, prop, value in demo)
        real = mapping.with_name(f"{mapping.stem}_real{mapping.suffix}")
        hint = f" Use {real} for real files." if real.exists() else ""
        fail(f"{mapping} was written for the FICTIONAL sample files: it would mark every record imported from "
             f"{path.name} with values invented for the demo ({stamped}). Nothing was imported.{hint} "
             "(--allow-demo-values imports it anyway.)", code=BAD_INPUT)
    _run_import(f"Table import ({table_mapping.name})",
                lambda s, update: import_table(s, cli_actor(), path, table_mapping, progress=update), all_warnings)


@export_app.command("ftm")
def export_ftm_command(output: Path | None = typer.Option(None, "-o", "--output", help="File (default stdout).")) -> None:
    """Export every entity and link as FollowTheMoney JSON lines."""
    from workbench.cli import err, fail, labelled, open_database, session
    from workbench.output import OutputError, atomic_output
    from workbench.sources.ftm import write_ftm

    open_database()
    skipped: list[str] = []
    left_out: dict[tuple[str, str], int] = {}
    folded: dict[tuple[str, str, str], int] = {}
    with session() as s:
        if output is None:
            count = write_ftm(s, sys.stdout, skipped=skipped, left_out=left_out, folded=folded)
        else:
            try:
                with atomic_output(output) as handle:
                    count = write_ftm(s, handle, skipped=skipped, left_out=left_out, folded=folded)
            except OutputError as exc:
                fail(str(exc), code=2)
            except OSError as exc:  # a full disk: the file named is left as it was
                fail(f"cannot write {output}: {exc.strerror}; nothing was written there", code=2)
    err.print(f"exported {count} FtM entities" + (f" to {output}" if output else ""))
    for line in skipped[:20]:
        err.print(labelled("not exportable to FtM", "yellow", line), highlight=False)
    if len(skipped) > 20:
        err.print(f"... and {len(skipped) - 20} more not exportable", highlight=False)
    for (kind, prop), values in sorted(left_out.items()):
        err.print(labelled("left out", "yellow", f"{kind}.{prop}: FtM has no property for it ({values} value(s))"),
                  highlight=False)
    for (kind, prop, reader), values in sorted(folded.items()):
        err.print(labelled("read back as", "yellow", f"{kind}.{prop} travels as FtM {reader}, shared with {kind}."
                           f"{reader}: imported into a store without the entry, it comes back as {reader} "
                           f"({values} value(s))"), highlight=False)


def _bench_table(url: str, tmp: Path, rows: int) -> dict:
    """A generated FICTIONAL county roll through the shipped mapping, against reading and mapping
    the same rows without a database (the importer's own work before any write)."""
    from workbench.matching.synthetic import write_property_roll_csv
    from workbench.schema import registry
    from workbench.sources.tabular import _mapped_values, import_table, load_mapping, located_rows
    from workbench.store import db
    from workbench.store.permissions import SYSTEM

    mapping_path = Path(__file__).resolve().parents[2] / "fixtures" / "mappings" / "county_property_roll.yml"
    mapping = load_mapping(mapping_path.read_text(encoding="utf-8"), mapping_path.name)
    path = tmp / "roll_FICTIONAL.csv"
    write_property_roll_csv(path, rows)
    reg = registry()
    start = time.perf_counter()
    for _place, row in located_rows(path, mapping):
        for entity in mapping.entities.values():
            kind = entity.kind_for(row)
            if kind is not None:
                _mapped_values(entity.properties, row, reg.entity_kind(kind).properties)
        for link in mapping.links:
            _mapped_values(link.properties, row)
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    with db.session_scope(url) as s:
        summary = import_table(s, SYSTEM, path, mapping)
    import_s = time.perf_counter() - start
    return {"table_rows": rows, "table_read_s": read_s, "table_import_s": import_s,
            "table_created": summary.created, "table_rejected": len(summary.rejected)}


@contextmanager
def _scratch_databases(server: str | None, tmp: str, count: int):
    """``count`` empty databases for the benchmark: SQLite files in ``tmp``, or databases created on
    the PostgreSQL server ``server`` names (its user needs CREATEDB) and dropped afterwards, so the
    figures are those of a deployment's own server and no store is touched."""
    if server is None:
        yield [f"sqlite:///{tmp}/bench{i or ''}.db" for i in range(count)]
        return
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(server)
    if base.get_backend_name() != "postgresql":
        raise ValueError(f"--postgres takes a postgresql:// URL, not {base.get_backend_name()!r}")
    names = [f"wb_bench_{secrets.token_hex(4)}_{i}" for i in range(count)]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    created: list[str] = []
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
                created.append(name)
        yield [base.set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        from workbench.store import db

        db.dispose_all()
        with admin.connect() as connection:
            for name in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _raw_inserts(url: str, tmp: Path) -> tuple[float, int]:
    """The floor under any import: seconds to insert exactly the rows the import wrote (entities, names, links,
    citations, audit entries, ...) with plain executemany into tables with no index, key or constraint, and
    commit, in a fresh SQLite file with the workbench's pragmas (WAL, synchronous NORMAL)."""
    import sqlite3

    from sqlalchemy.engine import make_url

    source = sqlite3.connect(make_url(url).database)
    target = sqlite3.connect(tmp / "raw-inserts.db")
    try:
        target.execute("PRAGMA journal_mode=WAL")
        target.execute("PRAGMA synchronous=NORMAL")
        tables = [name for (name,) in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != "
            "'alembic_version'")]
        held = {}
        for name in tables:
            cursor = source.execute(f'SELECT * FROM "{name}"')  # noqa: S608 - names read from the schema
            rows = cursor.fetchall()
            if rows:
                held[name] = ([c[0] for c in cursor.description], rows)
        for name, (columns, _rows) in held.items():
            target.execute(f'CREATE TABLE "{name}" ({", ".join(columns)})')
        target.commit()
        start = time.perf_counter()
        for name, (columns, rows) in held.items():
            target.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(columns))})', rows)
        target.commit()
        return time.perf_counter() - start, sum(len(rows) for _columns, rows in held.values())
    finally:
        source.close()
        target.close()


def bench_import(sdn_dir: Path, repeat: int = 1, table_rows: int = 20_000, postgres: str | None = None) -> dict:
    """Parse-only baseline, full trio import, re-import and FtM round trip on scratch databases
    (SQLite files, or databases on the PostgreSQL server ``postgres`` names)."""
    import os

    from workbench.settings import reset_settings
    from workbench.sources.ftm import import_ftm, write_ftm
    from workbench.sources.sdn import import_sdn, parse_only
    from workbench.store import db, migrate
    from workbench.store.permissions import SYSTEM

    paths = [sdn_dir / "sdn.csv", sdn_dir / "alt.csv", sdn_dir / "add.csv"]
    figures: dict = {"database": "PostgreSQL" if postgres else "SQLite"}
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp, \
            _scratch_databases(postgres, tmp, 2) as (url, url2):
        saved = {k: os.environ.get(k) for k in ("WORKBENCH_DATABASE_URL", "WORKBENCH_DATA_DIR")}
        os.environ["WORKBENCH_DATABASE_URL"] = url
        os.environ["WORKBENCH_DATA_DIR"] = f"{tmp}/data"
        reset_settings()
        try:
            migrate.upgrade(db.get_engine(url))
            parse_times = []
            for _ in range(max(repeat, 1)):
                start = time.perf_counter()
                entries = parse_only(paths)
                parse_times.append(time.perf_counter() - start)
            figures["entries"] = entries
            figures["parse_s"] = min(parse_times)
            start = time.perf_counter()
            with db.session_scope(url) as s:
                summary = import_sdn(s, SYSTEM, paths)
            figures["import_s"] = time.perf_counter() - start
            figures["created"] = summary.created
            if not postgres:
                figures["raw_insert_s"], figures["raw_rows"] = _raw_inserts(url, Path(tmp))
            start = time.perf_counter()
            with db.session_scope(url) as s:
                again = import_sdn(s, SYSTEM, paths)
            figures["reimport_s"] = time.perf_counter() - start
            figures["reimport_created"] = again.created
            ftm_path = Path(tmp) / "export.ftm.json"
            start = time.perf_counter()
            with db.session_scope(url) as s, open(ftm_path, "w", encoding="utf-8") as handle:
                exported = write_ftm(s, handle)
            figures["ftm_export_s"] = time.perf_counter() - start
            figures["ftm_entities"] = exported
            migrate.upgrade(db.get_engine(url2))
            start = time.perf_counter()
            with db.session_scope(url2) as s:
                import_ftm(s, SYSTEM, ftm_path)
            figures["ftm_import_s"] = time.perf_counter() - start
            figures.update(_bench_table(url, Path(tmp), table_rows))
        finally:
            db.dispose_all()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            reset_settings()
    figures["ratio"] = figures["import_s"] / figures["parse_s"]
    figures["ftm_export_per_s"] = figures["ftm_entities"] / figures["ftm_export_s"]
    figures["ftm_import_per_s"] = figures["ftm_entities"] / figures["ftm_import_s"]
    return figures


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")

    @bench_app.command("import")
    def bench_import_command(
        sdn_dir: Path = typer.Option(Path(__file__).resolve().parents[3] / "shared" / "data" / "ofac-sdn",
                                     "--sdn-dir", help="Folder with sdn.csv, alt.csv, add.csv."),
        repeat: int = typer.Option(3, "--repeat", help="Parse baseline repetitions (the best is kept)."),
        table_rows: int = typer.Option(20_000, "--table-rows", min=1, help="Rows of the generated county roll."),
        postgres: str | None = typer.Option(
            None, "--postgres", metavar="URL",
            help="Run on scratch databases created (and dropped) on this PostgreSQL server, e.g. "
                 "postgresql+psycopg://postgres@127.0.0.1:5432/postgres, instead of SQLite files."),
        as_json: bool = typer.Option(False, "--json", help="The figures as one JSON object."),
    ) -> None:
        """Time the SDN trio import against the raw parse of the same files, and FtM entities/s."""
        from sqlalchemy.exc import OperationalError, ProgrammingError

        from workbench.cli import console, fail

        if not (sdn_dir / "sdn.csv").exists():
            fail(f"no sdn.csv in {sdn_dir} (use --sdn-dir)")
        try:
            figures = bench_import(sdn_dir, repeat, table_rows, postgres)
        except ValueError as exc:
            fail(str(exc), code=2)
        except (OperationalError, ProgrammingError) as exc:
            if postgres is None:
                raise
            fail(f"--postgres {postgres}: cannot create a scratch database there: {str(exc).splitlines()[0]}")
        if as_json:
            sys.stdout.write(json.dumps(figures) + "\n")
            return
        table = Table(title=f"SDN import benchmark ({figures['entries']} entries, scratch {figures['database']} "
                            "database)")
        table.add_column("measure")
        table.add_column("value", justify="right")
        table.add_column("target", justify="right")
        table.add_row("raw parse of the trio (baseline, parse + remarks)", f"{figures['parse_s']:.2f} s", "")
        table.add_row("full import (one transaction)", f"{figures['import_s']:.2f} s", "<= 20 s")
        table.add_row("import / raw parse", f"{figures['ratio']:.1f}x", "<= 3x")
        if "raw_insert_s" in figures:
            table.add_row(f"  floor: inserting the {figures['raw_rows']:,} rows it wrote, plain executemany, no index "
                          "(baseline)", f"{figures['raw_insert_s']:.2f} s (parse + inserts: "
                          f"{(figures['parse_s'] + figures['raw_insert_s']) / figures['parse_s']:.1f}x)", "")
        table.add_row("re-import (idempotent)", f"{figures['reimport_s']:.2f} s, {figures['reimport_created']} created", "0 created")
        table.add_row("FtM export", f"{figures['ftm_entities']} entities, {figures['ftm_export_per_s']:.0f}/s", "")
        table.add_row("FtM import (fresh database)", f"{figures['ftm_import_per_s']:.0f} entities/s", "")
        table.add_row(f"table import: FICTIONAL county roll, {figures['table_rows']:,} rows (store holding the list)",
                      f"{figures['table_import_s']:.2f} s ({figures['table_rows'] / figures['table_import_s']:,.0f} "
                      f"rows/s, {figures['table_created']:,} entities)", "")
        table.add_row("  reading and mapping the same rows (baseline)",
                      f"{figures['table_read_s']:.2f} s ({figures['table_import_s'] / figures['table_read_s']:.1f}x)",
                      "")
        console.print(table)
