"""Shared helpers for the CSV command tests (match pairs, screen): write a file, read an output."""

from __future__ import annotations

import csv


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
