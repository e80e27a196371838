"""Shared helpers for the CSV command tests (match pairs, screen): write a file, read an output, score pairs."""

from __future__ import annotations

import csv


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def match_pairs(tmp_path, text: str) -> list[dict]:
    """``workbench match pairs`` on an input CSV of ``text``: the output's rows (the command must succeed)."""
    from typer.testing import CliRunner

    from workbench.cli import app

    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["match", "pairs", str(write(tmp_path / "in.csv", text)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return read_csv(out)
