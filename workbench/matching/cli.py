"""CLI commands of the matching area: `match pairs`, `screen`, `bench matching`.

Their interfaces are fixed (scripts depend on them): see issue 3. Bad input exits 2 with the file
and row named, and the output file is only created when the whole input was good.
"""

from __future__ import annotations

from pathlib import Path

import typer

DELIMITER_HELP = ("The input's field separator: one character such as ';' or '|', or 'tab' (default ','). "
                  "The output is comma-separated.")
match_app = typer.Typer(help="Name matching: score pairs of names (duplicates are judged on the entity pages of the web app).", no_args_is_help=True)


def _count_lines(path: Path) -> int | None:
    try:
        with open(path, "rb") as handle:
            return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1)
    except OSError:
        return None


def _progress(description: str, total: int | None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from workbench.cli import err

    return Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err, transient=True), total


@match_app.command("pairs")
def match_pairs(
    in_path: Path = typer.Argument(..., metavar="IN.csv", help="CSV with columns left,right[,schema]."),
    out: Path = typer.Option(..., "-o", "--output", help="Where to write the scored CSV."),
    separator: str = typer.Option(",", "--delimiter", help=DELIMITER_HELP),
) -> None:
    """Score name pairs: OUT repeats the input columns and adds score (0..1) and explanation (JSON)."""
    from workbench.cli import console, fail
    from workbench.matching.pairs import LONGEST, score_pairs_file
    from workbench.matching.tables import InputError, delimiter, refuse_overwriting

    progress, total = _progress("scoring pairs", _count_lines(in_path))
    try:
        separator = delimiter(separator)
        refuse_overwriting(out, input=in_path)
        with progress:
            task = progress.add_task("pairs", total=total)
            counts = score_pairs_file(in_path, out, lambda n: progress.advance(task, n), separator=separator)
    except InputError as exc:
        fail(str(exc), 2)
    empty = ""
    if counts["empty"]:  # which rows: OUT holds them with an empty score, and a reader looks them up
        empty = ": 0-based data rows " + ", ".join(map(str, counts["empty_rows"])) + \
            (", ..." if counts["empty"] > len(counts["empty_rows"]) else "") + ", their score is empty"
    console.print(f"scored {counts['rows'] - counts['empty'] - counts['too_long']} pairs "
                  f"({counts['empty']} with an empty name{empty}) -> {out}", highlight=False, markup=False)
    if counts["too_long"]:
        rows = ", ".join(map(str, counts["too_long_rows"])) + (", ..." if counts["too_long"] > 10 else "")
        console.print(f"not scored: {counts['too_long']} pair(s) with a name longer than {LONGEST:,} characters "
                      f"(0-based data rows {rows}); their score is empty", highlight=False, markup=False)


def screen(
    in_path: Path = typer.Argument(..., metavar="IN.csv", help="CSV with a header; one name per row (an optional "
                                   "`schema` column, Person, Company, ... or OFAC's individual/entity, scores each "
                                   "name as that kind)."),
    out: Path = typer.Option(..., "-o", "--output", help="Where to write the hits CSV."),
    name_column: str = typer.Option("name", "--name-column", help="The column holding the names."),
    against: str = typer.Option("db", "--against", help="'db' (the workbench's entities) or WATCHLIST.csv "
                                "(id,name[,schema][,aliases separated by ';'])."),
    top: int = typer.Option(10, "--top", min=1, help="Hits kept per input row."),
    threshold: float = typer.Option(0.5, "--threshold", min=0.0, max=1.0, help="Lowest score reported."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes (inputs over ~50k rows gain)."),
    separator: str = typer.Option(",", "--delimiter", help=DELIMITER_HELP + " WATCHLIST.csv is always "
                                  "comma-separated (its aliases are separated by ';')."),
) -> None:
    """Screen every name of a CSV; OUT has one row per hit, best first within each input row."""
    from workbench.cli import console, fail
    from workbench.matching.screen import load_watchlist, screen_file
    from workbench.matching.tables import InputError, delimiter, refuse_overwriting

    if not in_path.exists():
        fail(f"{in_path}: no such file", 2)
    try:
        separator = delimiter(separator)
        refuse_overwriting(out, input=in_path, watchlist=None if against == "db" else Path(against))
        if against == "db":
            from workbench.cli import open_database, session
            from workbench.matching.jobs import screened_kinds
            from workbench.matching.search import store_index
            from workbench.store.sanctions import every_status

            open_database()
            with session() as s:  # people and organisations, as screening jobs (not records, places, parcels)
                index = store_index(s).snapshot(screened_kinds())
                statuses = every_status(s)
        else:
            index = load_watchlist(Path(against))
            statuses = None
        progress, total = _progress("screening", _count_lines(in_path))
        with progress:
            task = progress.add_task("rows", total=total)
            stats = screen_file(in_path, out, index, name_column, top, threshold, workers,
                                lambda n: progress.advance(task, n), separator=separator, statuses=statuses)
    except InputError as exc:
        fail(str(exc), 2)
    console.print(f"screened {stats.screened} names ({stats.empty} empty names skipped) against {len(index)} names: "
                  f"{stats.hits} hits for {stats.rows_with_hits} rows -> {out}")
    if stats.delisted_hits:
        from workbench.cli import err, labelled
        from workbench.labels import counted

        err.print(labelled("note:", "bold yellow", f"{counted(stats.delisted_hits, 'hit')} on delisted entries "
                           "(no list still names them): their explanation says \"sanction_status\": \"delisted\""),
                  highlight=False)
    if stats.legal_form_only:
        from workbench.cli import err, labelled
        from workbench.matching.screen import legal_form_only_message

        err.print(labelled("warning:", "bold yellow", legal_form_only_message(stats)), highlight=False)
    if not len(index):  # exit 0 (the command did what it was asked), but no hit here proves nothing
        from workbench.cli import err, labelled

        listed = "the store holds no names (no people or organisations)" if against == "db" else \
            f"{against} holds no names"
        err.print(labelled("warning:", "bold yellow", f"{listed} to screen against: nothing was compared, and 0 hits "
                           "does not mean the names are clear (import a list first, e.g. `workbench import sdn`, or "
                           "screen --against WATCHLIST.csv)"), highlight=False)


def bench_matching(
    full: bool = typer.Option(False, "--full", help="Screen the full 1,000,000 rows instead of a scaled sample."),
    rows: int = typer.Option(100_000, "--rows", help="Rows in the scaled throughput run (extrapolated to 1M)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Worker processes for the throughput run."),
    sdn_dir: Path | None = typer.Option(None, "--sdn-dir", help="OFAC SDN data (default: shared/data/ofac-sdn beside the checkout, as `bench import` shows)."),
    train: bool = typer.Option(False, "--train", help="Refit the name model on dev_pairs.jsonl and rewrite "
                               "workbench/matching/data/model.json before measuring."),
    exhaustive_rows: int = typer.Option(100, "--exhaustive-rows", min=0, help="Distinct input rows scored "
                                        "exhaustively (against every listed name) to measure blocking coverage."),
    throughput_only: bool = typer.Option(False, "--throughput-only", help="Skip the dev-pair accuracy and "
                                         "screening-recall parts."),
) -> None:
    """Accuracy on the dev pairs, screening recall and throughput, each beside baselines run now."""
    from workbench.cli import fail
    from workbench.matching.bench import run_bench

    try:
        run_bench(full=full, rows=rows, workers=workers, sdn_dir=sdn_dir, train=train,
                  exhaustive_rows=exhaustive_rows, only_throughput=throughput_only)
    except FileNotFoundError as exc:
        fail(str(exc), 2)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    app.add_typer(match_app, name="match")
    app.command("screen")(screen)
    bench_app.command("matching")(bench_matching)
