"""Strict CSV streaming for the matching commands: a bad file is named with its row, never half-read.

The importers' tabular reader (workbench.sources.tabular) handles mapped imports; the matching CLIs
need only a header and named columns, and must fail the same clear way on every input.

Messages about a data row read "FILE line L, 0-based data row N": L is the physical line an editor
shows (a quoted cell may run a record over several lines; L is where it starts), N counts the data
rows under the header from 0, as the `row` column of `workbench screen`'s output does (`import table`
counts its data rows from 1, which is why the matching commands say "0-based").

Encoding: UTF-8 only (a BOM is allowed), as `import table` (workbench.sources.tabular) reads tables.
`import sdn` falls back to Windows-1252 because OFAC's files are known to be written in it; a table of
names from anywhere else could be Latin-1, Windows-1252, Latin-2 or a mis-saved UTF-8, and a wrong
guess garbles the names silently (a Latin-2 'ŁUKASZ' read as Windows-1252 is '£UKASZ'), so a
file that is not UTF-8 is refused with its line, to be re-saved as UTF-8.

Delimiter: commas unless the user names another (`--delimiter ';'`: rolls exported with a Spanish or
European locale use semicolons). Never guessed: `import table` guesses ';', tab and '|' with
csv.Sniffer inside its reader, but a guess on a names file can split 'GUZMAN; Joaquin'. A header
that reads as one column holding ';' (or a tab, or '|') is told how to read it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench import output
from workbench.labels import counted, more_rows
from workbench.matching.normalize import known_schema


class InputError(Exception):
    """Bad input the user can fix; the message names the file and row."""


RAGGED_SHOWN = 10  # rows with the wrong number of fields a refusal names at once


def where(path: Path, line: int, row: int) -> str:
    """'roll.csv line 3, 0-based data row 1': the physical line, and the row as the outputs count it."""
    return f"{path} line {line}, 0-based data row {row}"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # links and other spellings of one file
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_overwriting(out: Path, **inputs: Path) -> None:
    """Refuse an output that is one of the inputs (``role=path``): the input would be replaced by the
    output, with exit 0. Checked before any work."""
    for role, path in inputs.items():
        if path is not None and _same_file(Path(out), Path(path)):
            raise InputError(f"-o {out}: is the same file as the {role} {path}; writing the output there would "
                             f"replace the {role} (give the output another file name)")


_SEPARATORS = {";": ("';'", "';'"), "\t": ("tabs", "tab"), "|": ("'|'", "'|'"), ",": ("commas", "','")}


def delimiter(text: str) -> str:
    """The field separator an option names: one character such as ';' or '|', or 'tab'."""
    value = "\t" if text.strip().lower() in ("tab", "\\t", "\t") else text
    if len(value) != 1 or value.isalnum() or value in "\"'\r\n ":
        raise InputError(f"--delimiter {text!r}: give one character that separates the fields, such as ';' or '|', "
                         "or 'tab'")
    return value


def _separator_hint(header: list[str], missing: list[str], used: str, option: str | None) -> str | None:
    """How a header split by another separator reads, when that would hold the missing columns."""
    for separator, (label, spelled) in _SEPARATORS.items():
        if separator == used:
            continue
        parts = [p.strip() for h in header for p in h.split(separator)]
        if any(separator in h for h in header) and any(m in parts for m in missing):
            shown = ", ".join(repr(h) for h in header)
            one = "one column" if len(header) == 1 else "columns"
            how = f"pass {option} {spelled}" if option else "save it with commas (this file is read as CSV only)"
            return f"it reads as {one} {shown}. Is the file separated by {label}? Then {how}"
    return None


def _first_bad_utf8(path: Path) -> tuple[int, int, str] | None:
    """(line, byte within the line, reason) of the first bytes that are not UTF-8. The text reader
    decodes a block of the file at a time, so its error names neither the line nor the byte."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:  # a line ends at a newline byte, which no UTF-8 character holds
                return number, exc.start, exc.reason
    return None


class _NotUtf8(InputError):
    """Bytes that are not UTF-8, at ``line``: the reader of the rows says which data row that line is."""

    def __init__(self, path: Path, line: int, detail: str):
        super().__init__(f"{path} line {line}: {detail}")
        self.line, self.detail = line, detail


def _lines(handle, path: Path, counter: list[int]) -> Iterator[str]:
    while True:
        try:
            line = handle.readline()
        except UnicodeDecodeError as exc:
            found = _first_bad_utf8(path)
            line_number, byte, reason = found or (counter[0] + 1, exc.start, exc.reason)
            raise _NotUtf8(path, line_number, f"not valid UTF-8 ({reason} at byte {byte} of the line); save the "
                                              "file as UTF-8 and try again") from None
        if not line:
            return
        counter[0] += 1
        yield line


_UTF16_BOMS = {b"\xff\xfe": "little-endian", b"\xfe\xff": "big-endian"}


def _nul_message(values: list[str]) -> str:
    """Why a record holding a NUL character is refused: a NUL between most letters is a UTF-16 file
    saved without its byte-order mark, one alone a stray byte."""
    text = "".join(values)
    if text.count("\x00") * 3 >= len(text):
        return "holds NUL characters (\\x00) between its letters: the file looks like UTF-16; save it as UTF-8 and try again"
    return "holds a NUL character (\\x00), which is no part of a name: remove it and try again"


def _data_row_at(path: Path, line: int, separator: str) -> int:
    """The 0-based data row that holds ``line``, counted as ``read_table`` counts rows (a blank line between
    rows is one), reading the file with its bad bytes replaced: what a message about that line names."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        counter = [0]

        def lines() -> Iterator[str]:
            for text in handle:
                counter[0] += 1
                yield text

        reader = csv.reader(lines(), delimiter=separator)
        row = -1
        try:
            next(reader)  # the header
            while counter[0] < line:
                start = counter[0] + 1
                next(reader)
                if start > line:
                    break
                row += 1
        except (StopIteration, csv.Error):
            pass
    return max(row, 0)


def _csv_problem(exc: csv.Error) -> str:
    """The csv module's complaint in a reader's words where it has jargon of its own."""
    if "field larger than field limit" in str(exc):
        return (f"a cell holds more than {csv.field_size_limit():,} characters (a quote left open can run on to "
                "the end of the file): check that the row's quotes are closed")
    return str(exc)


def read_table(path: Path, required: tuple[str, ...] = (), reserved: tuple[str, ...] = (), separator: str = ",",
               option: str | None = None, distinct: bool = False) -> tuple[list[str], Iterator[tuple[int, int, dict]]]:
    """Header and a stream of (0-based data row, line the row starts on, {column: value}); raises
    InputError naming the file, the line and the row (see ``where``). ``reserved``: columns the
    output adds after the input's, which the input must not have. ``option``: the command's option
    that sets ``separator`` (a header that reads as one column suggests it), if it has one.
    ``distinct``: every column must have a name of its own (an output repeating the input's columns
    would otherwise write one column's value under both)."""
    path = Path(path)
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    try:
        start = handle.buffer.peek(4)[:4] if hasattr(handle.buffer, "peek") else b""
    except OSError:
        start = b""
    if start.startswith(b"PK\x03\x04"):  # a zip: an Excel workbook (or another office file), not text
        handle.close()
        raise InputError(f"{path}: the file is a workbook (XLSX) or another zip file, not CSV; save the sheet as "
                         "CSV UTF-8 and try again")
    start = start[:2]
    if start in _UTF16_BOMS:  # spreadsheets' "Unicode text": every byte would read as not UTF-8 at byte 0
        handle.close()
        raise InputError(f"{path}: the file is UTF-16 ({_UTF16_BOMS[start]} byte-order mark); save it as UTF-8 "
                         "and try again")
    counter = [0]
    reader = csv.reader(_lines(handle, path, counter), delimiter=separator, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise InputError(f"{path}: the file is empty (a header row is needed)") from None
    except _NotUtf8 as exc:  # the reader decodes a block at a time: the bad line may be well below the header
        handle.close()
        if exc.line == 1:
            raise
        raise InputError(f"{where(path, exc.line, _data_row_at(path, exc.line, separator))}: {exc.detail}") from None
    except csv.Error as exc:
        handle.close()
        raise InputError(f"{path} line 1 (the header): {exc}") from None
    if any("\x00" in h for h in header):
        handle.close()
        raise InputError(f"{path} line 1 (the header): {_nul_message(header)}")
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    repeated = [c for c in required if header.count(c) > 1]
    if repeated:  # which of the columns holds the names? Guessing would screen the wrong one
        handle.close()
        raise InputError(f"{path}: the header names column {', '.join(repr(c) for c in repeated)} more than once "
                         "(rename one)")
    if distinct:
        twice = sorted({h for h in header if header.count(h) > 1})
        if twice:
            handle.close()
            named = [repr(h) for h in twice if h]
            unnamed = "" in twice
            what = (f"names column {', '.join(named)} more than once" if named else "") + \
                (" and " if named and unnamed else "") + ("has several columns without a name" if unnamed else "")
            raise InputError(f"{path}: the header {what}; the output repeats every input column, so each needs a "
                             "name of its own (rename them)")
    taken = [c for c in reserved if c in header]
    if taken:
        handle.close()
        raise InputError(f"{path}: the input already has {' and '.join(f'a column {c!r}' for c in taken)}, which the "
                         f"output adds (it would hold two); rename it in the input (e.g. "
                         f"{', '.join(repr(c + '_before') for c in taken)}) and try again")
    if missing:
        handle.close()
        hint = _separator_hint(header, missing, separator, option)
        raise InputError(f"{path}: no column {', '.join(repr(m) for m in missing)} in the header "
                         + (f"- {hint}" if hint else f"(columns found: {', '.join(header) or 'none'})"))

    def more_ragged(row_number: int) -> str:
        """The other rows with the wrong number of fields, read on past the first without their values (a
        user would otherwise find them one run at a time); '' if none. A record the reader cannot split, or
        a line that is not UTF-8, ends the search (the run stops at the first anyway)."""
        found: list[str] = []
        total = blank = 0
        while True:
            start = counter[0] + 1
            try:
                values = next(reader)
            except (StopIteration, csv.Error, _NotUtf8):
                break
            if not values or (len(values) == 1 and not values[0].strip()):
                blank += 1
                continue
            row_number += blank + 1
            blank = 0
            if len(values) != len(header) and not all(not v.strip() for v in values):
                total += 1
                if len(found) < RAGGED_SHOWN:
                    found.append(f"line {start}, 0-based data row {row_number} ({counted(len(values), 'field')})")
        return more_rows(found, total)

    def rows() -> Iterator[tuple[int, int, dict]]:
        row_number = -1
        blank: list[int] = []  # lines of blank rows not yet given out: rows with no value, unless nothing follows
        try:
            while True:
                start = counter[0] + 1  # the reader takes lines one by one: its next record starts here
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except _NotUtf8 as exc:  # decoded a block ahead: the bad line may lie rows below this record
                    raise InputError(f"{where(path, exc.line, _data_row_at(path, exc.line, separator))}: "
                                     f"{exc.detail}") from None
                except csv.Error as exc:
                    ended = f" (read up to line {counter[0]})" if counter[0] > start else ""
                    raise InputError(f"{where(path, start, row_number + len(blank) + 1)}: {_csv_problem(exc)}"
                                     f"{ended}") from None
                if not values or (len(values) == 1 and not values[0].strip()):
                    blank.append(start)
                    continue
                # A blank line between rows is a row with an empty name (skipped and counted), so that
                # row numbers stay those of the file; blank lines at the end of a file are no rows. A row
                # of empty cells (',' or ',,') is a row wherever it stands: someone wrote its separators,
                # and the output accounts for it (OUT keeps one row per row of IN).
                for line in blank:
                    row_number += 1
                    yield row_number, line, dict.fromkeys(header, "")
                blank = []
                row_number += 1
                if all(not v.strip() for v in values):  # ',' or ',,': a row of empty cells, however many
                    yield row_number, start, dict.fromkeys(header, "")
                    continue
                if len(values) != len(header):
                    raise InputError(f"{where(path, start, row_number)}: has {len(values)} fields "
                                     f"but the header has {len(header)}" + more_ragged(row_number + len(blank)))
                if any("\x00" in v for v in values):  # stripped, 'A\x00B' would be scored as a name nobody wrote
                    raise InputError(f"{where(path, start, row_number)}: {_nul_message(values)}")
                yield row_number, start, dict(zip(header, values))
        finally:
            handle.close()

    return header, rows()


@contextmanager
def atomic_output(path: Path):
    """``workbench.output.atomic_output``, its refusals as InputError (exit 2, like bad input)."""
    try:
        with output.atomic_output(path) as handle:
            yield handle
    except output.OutputError as exc:
        raise InputError(str(exc)) from None


def check_schema(path: Path, row_number: int, line: int, schema: str | None) -> None:
    """A schema the file names must be one we know: a typo ('Perosn') would silently score as unknown."""
    if schema and schema.strip() and not known_schema(schema):
        raise InputError(f"{where(path, line, row_number)}: schema {schema.strip()!r} is not a kind of the workbench "
                         "(Person, Organization, Company, ...) nor an OFAC type (individual, entity, vessel, aircraft)")
