"""Coverage-guided fuzzing (atheris) of the parsers that read untrusted files and names.

Each target feeds arbitrary bytes to one parser and accepts only the parser's own, documented
error type (which carries a message naming the file and line). Anything else is a crash: atheris
stops, prints the input, and ``workbench fuzz`` exits non-zero. A crash found here becomes a
regression test in tests/test_fuzz_regressions.py.

``workbench fuzz TARGET --runs N`` gives a bounded run (CI uses a small N); without --runs it
keeps going until stopped, for longer runs by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import typer

TARGETS = ("remarks", "names", "sdn-csv", "ftm", "table")

_TMP = Path(tempfile.gettempdir()) / f"workbench-fuzz-{os.getpid()}"


def _write(name: str, data: bytes) -> Path:
    _TMP.mkdir(parents=True, exist_ok=True)
    path = _TMP / name
    path.write_bytes(data)
    return path


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def fuzz_remarks(data: bytes) -> None:
    from workbench.sources.remarks import parse_remarks

    parse_remarks(_text(data))


def fuzz_names(data: bytes) -> None:
    from workbench.matching.normalize import name_key, normalize
    from workbench.matching.score import score_names

    text = _text(data)
    half = len(text) // 2
    left, right = text[:half], text[half:]
    normalize(text)
    name_key(text)
    result = score_names(left, right)
    if not 0.0 <= result.score <= 1.0:
        raise AssertionError(f"score {result.score} outside 0..1 for {left!r} vs {right!r}")


def fuzz_sdn_csv(data: bytes) -> None:
    from workbench.sources.remarks import parse_remarks
    from workbench.sources.sdn import plan_entity
    from workbench.sources.sdn_parse import SdnFormatError, parse_csv_trio

    try:
        parsed = parse_csv_trio(_write("sdn.csv", data))
    except SdnFormatError:
        return
    for record in parsed.records:
        parse_remarks(record.remarks)
        plan_entity(record)


def fuzz_ftm(data: bytes) -> None:
    from workbench.sources.ftm import FtmError, ftm_maps, ftm_to_properties, read_ftm

    try:
        rows = read_ftm(_write("entities.ftm.json", data))
    except FtmError:
        return
    maps = ftm_maps()
    for _, row in rows:
        props = row.get("properties") or {}
        if isinstance(props, dict):
            try:
                ftm_to_properties(maps, str(row.get("schema")), props)
            except FtmError:
                pass


TABLE_MAPPING = """
name: fuzz
screen: owner
entities:
  owner:
    kind: Person
    properties:
      name: OWNER
      birthDate: {column: DOB, date_format: "%m/%d/%Y"}
  parcel:
    kind: RealEstate
    keys: [APN]
    properties:
      name: {template: "Parcel {APN}"}
      parcelNumber: APN
links:
  - kind: Ownership
    source: owner
    target: parcel
    properties:
      percentage: PCT
"""


def fuzz_table(data: bytes) -> None:
    from workbench.sources.tabular import MappingError, TableError, load_mapping, read_rows

    mapping = load_mapping(TABLE_MAPPING)
    try:
        for _, row in read_rows(_write("roll.csv", data), mapping):
            mapping.screen_names(row)
    except (TableError, MappingError):
        return
    try:
        load_mapping(_text(data))
    except MappingError:
        return


FUNCTIONS = {"remarks": fuzz_remarks, "names": fuzz_names, "sdn-csv": fuzz_sdn_csv, "ftm": fuzz_ftm,
             "table": fuzz_table}


def run_atheris(target: str, argv: list[str]) -> None:  # pragma: no cover - runs in a child process
    import atheris

    # Only the workbench's own modules carry coverage probes: the parsers under test are ours, and
    # instrumenting every library they import (SQLAlchemy, pydantic, ...) took 26 s per target before
    # the first input, whatever the number of inputs.
    with atheris.instrument_imports(include=["workbench"]):
        import workbench.matching.normalize
        import workbench.matching.score
        import workbench.sources.ftm
        import workbench.sources.remarks
        import workbench.sources.sdn
        import workbench.sources.sdn_parse
        import workbench.sources.tabular  # noqa: F401
    function = FUNCTIONS[target]
    atheris.Setup([sys.argv[0], *argv], function)
    atheris.Fuzz()


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    from workbench.cli import console, fail

    @app.command("fuzz")
    def fuzz(
        target: str = typer.Argument(..., help=f"One of: {', '.join(TARGETS)}, or 'all'."),
        runs: int = typer.Option(0, "--runs", help="Inputs to try per target (0 = until stopped)."),
        corpus: Path | None = typer.Option(None, "--corpus", help="Folder of seed inputs (kept and grown)."),
    ) -> None:
        """Coverage-guided fuzzing of the importers and name normalisation with atheris."""
        targets = TARGETS if target == "all" else (target,)
        for name in targets:
            if name not in FUNCTIONS:
                fail(f"unknown fuzz target {name!r}: use one of {', '.join(TARGETS)} or all", 2)
        try:
            import atheris  # noqa: F401
        except ImportError:
            fail("atheris is not installed: pip install atheris (in the test extra)")
        for name in targets:
            argv = [f"-runs={runs}"] if runs else []
            argv += ["-max_len=4096", "-print_final_stats=1"]
            if corpus is not None:
                folder = corpus / name
                folder.mkdir(parents=True, exist_ok=True)
                argv.append(str(folder))
            code = f"from workbench.fuzzing import run_atheris; run_atheris({name!r}, {argv!r})"
            result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            stats = [line for line in result.stderr.splitlines() if line.startswith(("stat::number_of_executed_units",
                                                                                     "stat::peak_rss_mb"))]
            executed = next((line.split(":")[-1].strip() for line in stats if "executed_units" in line), "?")
            if result.returncode != 0:
                console.print(result.stderr[-4000:])
                fail(f"fuzz target {name}: crash after {executed} inputs (see above); add the input as a regression test")
            console.print(f"fuzz target {name}: {executed} inputs, no crash")
