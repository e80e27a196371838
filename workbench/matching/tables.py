"""Strict CSV streaming for the matching commands: a bad file is named with its row, never half-read.

The importers' tabular reader (workbench.sources.tabular) handles mapped imports; the matching CLIs
need only a header and named columns, and must fail the same clear way on every input.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.matching.normalize import known_schema


class InputError(Exception):
    """Bad input the user can fix; the message names the file and row."""


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


def _lines(handle, path: Path, counter: list[int]) -> Iterator[str]:
    while True:
        try:
            line = handle.readline()
        except UnicodeDecodeError as exc:
            found = _first_bad_utf8(path)
            line_number, byte, reason = found or (counter[0] + 1, exc.start, exc.reason)
            raise InputError(f"{path}: line {line_number} is not valid UTF-8 ({reason} at byte {byte} of the line); "
                             "save the file as UTF-8 and try again") from None
        if not line:
            return
        counter[0] += 1
        yield line


def read_table(path: Path, required: tuple[str, ...] = ()) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """Header and a stream of (0-based data row, {column: value}); raises InputError naming file and row."""
    path = Path(path)
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    counter = [0]
    reader = csv.reader(_lines(handle, path, counter), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise InputError(f"{path}: the file is empty (a header row is needed)") from None
    except csv.Error as exc:
        handle.close()
        raise InputError(f"{path}: line 1: {exc}") from None
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    repeated = [c for c in required if header.count(c) > 1]
    if repeated:  # which of the columns holds the names? Guessing would screen the wrong one
        handle.close()
        raise InputError(f"{path}: the header names column {', '.join(repr(c) for c in repeated)} more than once "
                         "(rename one)")
    if missing:
        handle.close()
        raise InputError(f"{path}: no column {', '.join(repr(m) for m in missing)} in the header "
                         f"(columns found: {', '.join(header) or 'none'})")

    def rows() -> Iterator[tuple[int, dict]]:
        row_number = -1
        blank = 0  # blank lines not yet given out: rows with no value, unless nothing follows them
        try:
            while True:
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise InputError(f"{path}: line {counter[0]} (data row {row_number + blank + 1}): {exc}") from None
                if not values or all(not v.strip() for v in values):
                    blank += 1
                    continue
                # A blank line between rows is a row with an empty name (skipped and counted), so that
                # row numbers stay those of the file; blank lines at the end of a file are no rows.
                for _ in range(blank):
                    row_number += 1
                    yield row_number, dict.fromkeys(header, "")
                blank = 0
                row_number += 1
                if len(values) != len(header):
                    raise InputError(f"{path}: line {counter[0]} (data row {row_number}) has {len(values)} fields "
                                     f"but the header has {len(header)}")
                yield row_number, dict(zip(header, values))
        finally:
            handle.close()

    return header, rows()


@contextmanager
def atomic_output(path: Path):
    """Write to a temporary file beside ``path`` and rename it into place only if everything succeeded."""
    path = Path(path)
    if path.is_dir():  # found now, not by the rename after all the work
        raise InputError(f"{path}: is a folder; give the output a file name (e.g. {path / 'out.csv'})")
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    except OSError as exc:  # no such folder, no permission: the output option cannot be used
        raise InputError(f"{path}: cannot write the output there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def check_schema(path: Path, row_number: int, schema: str | None) -> None:
    """A schema the file names must be one we know: a typo ('Perosn') would silently score as unknown."""
    if schema and schema.strip() and not known_schema(schema):
        raise InputError(f"{path}: data row {row_number}: schema {schema.strip()!r} is not a kind of the workbench "
                         "(Person, Organization, Company, ...) nor an OFAC type (individual, entity, vessel, aircraft)")
