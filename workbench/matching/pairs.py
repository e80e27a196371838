"""`workbench match pairs`: score every (left, right) row of a CSV, with the explanation."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from workbench.matching.score import score_names
from workbench.matching.tables import atomic_output, check_schema, read_table
from workbench.text import spreadsheet_cell
from workbench.types import NAME_MAX_CHARS

ADDED = ("score", "explanation")  # the columns OUT adds after the input's (a fixed format)
# Scoring time grows with the square of a name's words: a stray cell holding a pasted page (55 KB
# took 73 s) would stall a batch. Longer than any name the search takes, it is left unscored and counted.
LONGEST = 2 * NAME_MAX_CHARS
SHOWN_ROWS = 10  # rows named in the summary (0-based data rows), as `screen` names its


def score_pairs_file(in_path: Path, out_path: Path, progress: Callable[[int], None] | None = None,
                     separator: str = ",") -> dict:
    """OUT is comma-separated whatever ``separator`` IN uses (the output format is fixed)."""
    # an input 'score' column would make OUT hold two: the format is fixed, so the input must give way
    header, rows = read_table(Path(in_path), ("left", "right"), reserved=ADDED, separator=separator,
                              option="--delimiter", distinct=True)
    counts = {"rows": 0, "empty": 0, "empty_rows": [], "too_long": 0, "too_long_rows": []}
    with atomic_output(Path(out_path)) as handle:
        writer = csv.writer(handle)
        writer.writerow(header + list(ADDED))
        for row_number, line, row in rows:
            counts["rows"] += 1
            check_schema(in_path, row_number, line, row.get("schema"))
            left, right = row["left"].strip(), row["right"].strip()
            values = [spreadsheet_cell(row[h]) for h in header]  # a roll's '=HYPERLINK(..)' stays text
            if not left or not right:
                counts["empty"] += 1
                if len(counts["empty_rows"]) < SHOWN_ROWS:
                    counts["empty_rows"].append(row_number)
                writer.writerow(values + ["", ""])
            elif max(len(left), len(right)) > LONGEST:
                counts["too_long"] += 1
                if len(counts["too_long_rows"]) < SHOWN_ROWS:
                    counts["too_long_rows"].append(row_number)
                writer.writerow(values + ["", json.dumps({"not_scored": f"a name longer than {LONGEST:,} characters"})])
            else:
                result = score_names(left, right, (row.get("schema") or "").strip() or None)
                writer.writerow(values + [f"{result.score:.4f}",
                                          json.dumps(result.explanation(), ensure_ascii=False, separators=(",", ":"))])
            if progress:
                progress(1)
    return counts
