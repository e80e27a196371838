"""Bulk screening: stream a table of names against a watchlist file or the store's entities.

Repeated names (an owner with many parcels) are scored once. Large inputs are split over worker
processes that inherit the candidate index by fork, so the index is built once.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from workbench.matching.index import NameIndex, young_collections_only
from workbench.matching.owners import owner_names
from workbench.matching.tables import InputError, atomic_output, check_schema, read_table, where
from workbench.matching.terms import name_view
from workbench.text import spreadsheet_cell

OUTPUT_COLUMNS = ("row", "query", "match_id", "match_name", "matched_name", "score", "rank", "explanation")
CHUNK = 2000


@dataclass
class ScreenStats:
    rows: int = 0
    screened: int = 0
    empty: int = 0  # blank cells, and cells that are only a legal form (counted in legal_form_only too)
    hits: int = 0
    rows_with_hits: int = 0
    legal_form_only: int = 0  # cells such as 'S.A. DE C.V.': no name to screen
    legal_form_only_rows: list = field(default_factory=list)  # (0-based data row, cell), the first few
    delisted_hits: int = 0  # hits on entries every Sanction record of which is delisted (screening the store)


def legal_form_only(name: str) -> bool:
    """Whether a cell is nothing but a legal form ('S.A. DE C.V.', 'CO., LTD.'): once the form is set
    aside no name is left, and it would otherwise meet every company written with that form."""
    view = name_view(name)
    return not view.words and bool(view.legal)


def load_watchlist(path: Path) -> NameIndex:
    """WATCHLIST.csv: id,name[,schema][,aliases separated by ';']."""
    _header, rows = read_table(path, ("id", "name"))
    records = []
    first_row: dict[str, tuple[int, int]] = {}
    for row_number, line, row in rows:
        if not any(v.strip() for v in row.values()):  # a blank line is no entry (and no half of one)
            continue
        record_id, name = row["id"].strip(), row["name"].strip()
        if not record_id or not name:
            raise InputError(f"{where(path, line, row_number)}: needs both an id and a name")
        if record_id in first_row:  # hits name one entry per id: a second row would hide behind the first
            first_number, first_line = first_row[record_id]
            raise InputError(f"{where(path, line, row_number)}: id {record_id!r} is already data row {first_number} "
                             f"(line {first_line}); give one row per entry, its other names as aliases")
        first_row[record_id] = row_number, line
        check_schema(path, row_number, line, row.get("schema"))
        aliases = [a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()]
        records.append((record_id, name, aliases, (row.get("schema") or "").strip() or None))
    if not records:  # screening against nothing would report every row as clear
        raise InputError(f"{path}: the watchlist has a header but no entries")
    return NameIndex.from_records(records)


# ---- the per-name work (runs in workers) --------------------------------------------------------

_INDEX: NameIndex | None = None  # set before the fork: workers share the parent's index copy-on-write


def _hits(name: str, schema: str | None, top: int, threshold: float) -> tuple:
    """The best ``top`` records for a cell: for the cell as written and for each name it holds
    ('X ALIAS Y', 'X C/O Y', 'X ET AL'; workbench.matching.owners), the best score per record."""
    names = owner_names(name)
    hits = _INDEX.search(name, schema, top=top, threshold=threshold)
    if len(names) > 1:
        best = {h.record_id: h for h in hits}
        for other in names[1:]:
            for h in _INDEX.search(other, schema, top=top, threshold=threshold):
                if h.record_id not in best or h.score > best[h.record_id].score:
                    best[h.record_id] = h
        hits = sorted(best.values(), key=lambda h: (-h.score, h.primary))[:top]
    return tuple((h.record_id, h.primary, h.matched_name, h.score, h.result.explanation()) for h in hits)


def _screen_batch(args: tuple[list[tuple[str, str | None]], int, float]) -> list[tuple]:
    names, top, threshold = args
    with young_collections_only():
        return [_hits(name, schema, top, threshold) for name, schema in names]


def screen_names(index: NameIndex, names: Iterable[tuple[str, str | None]], top: int = 10, threshold: float = 0.5,
                 workers: int = 1, chunk: int = CHUNK) -> Iterator[tuple]:
    """Yield, for each (name, schema) in order, its hits as (id, primary, matched_name, score, explanation).

    Each distinct name is screened once (owners repeat across parcels): the input is cut into chunks
    and each chunk sends only the names not seen before to the workers. Answers come back in chunk
    order, so when a chunk's answers arrive every name of that chunk and the earlier ones is known
    and its rows can be yielded in input order. The reader stays a few chunks ahead, not the whole file.
    """
    global _INDEX
    _INDEX = index
    known: dict[tuple[str, str | None], tuple] = {}

    def chunks():
        rows: list[tuple[str, str | None]] = []
        fresh: dict[tuple[str, str | None], None] = {}
        for item in names:
            rows.append(item)
            if item not in known and item not in fresh:
                fresh[item] = None
            if len(rows) >= chunk:
                yield rows, fresh
                rows, fresh = [], {}
        if rows:
            yield rows, fresh

    def claimed():
        for rows, fresh in chunks():
            for key in fresh:  # in flight: later chunks must not send it again
                known[key] = ()
            yield rows, list(fresh)

    def answer(rows, fresh, answers):
        for key, hits in zip(fresh, answers):
            known[key] = hits
        for item in rows:
            yield known[item]

    if workers <= 1:
        for rows, fresh in claimed():
            yield from answer(rows, fresh, _screen_batch((fresh, top, threshold)))
        return
    order: deque = deque()
    ahead = threading.BoundedSemaphore(4 * workers)

    def jobs():  # runs in the pool's feeder thread
        for rows, fresh in claimed():
            ahead.acquire()
            order.append((rows, fresh))
            yield fresh, top, threshold

    with mp.get_context("fork").Pool(workers) as pool:
        for answers in pool.imap(_screen_batch, jobs(), chunksize=1):
            rows, fresh = order.popleft()
            ahead.release()
            yield from answer(rows, fresh, answers)


def screen_file(in_path: Path, out_path: Path, index: NameIndex, name_column: str = "name", top: int = 10,
                threshold: float = 0.5, workers: int = 1, progress: Callable[[int], None] | None = None,
                separator: str = ",", statuses: dict[str, str] | None = None) -> ScreenStats:
    """Screen a CSV and write the hits CSV atomically (nothing is written if the input is bad); the
    hits CSV is comma-separated whatever ``separator`` the input uses.

    ``statuses`` (screening against the store: store.sanctions.every_status): each hit's explanation says
    whether its entry is designated, delisted or neither (``sanction_status``), and the stats count the hits on
    delisted entries. A delisted entry hit at 1.0 read like a live designation; the columns are a contract,
    the explanation's keys may grow.

    A cell that is only a legal form ('S.A. DE C.V.') is not screened: it is counted with the empty
    cells, and the stats keep its rows (``legal_form_only_message`` says it to the user)."""
    import csv

    in_path, out_path = Path(in_path), Path(out_path)
    _header, rows = read_table(in_path, (name_column,), separator=separator, option="--delimiter")
    stats = ScreenStats()
    pending: deque[tuple[int, str]] = deque()

    def queries() -> Iterator[tuple[str, str | None]]:
        for row_number, _line, row in rows:
            stats.rows += 1
            name = (row.get(name_column) or "").strip()
            if progress:
                progress(1)
            if not name:
                stats.empty += 1
                continue
            if legal_form_only(name):
                stats.empty += 1
                stats.legal_form_only += 1
                if len(stats.legal_form_only_rows) < SHOWN_ROWS:
                    stats.legal_form_only_rows.append((row_number, name))
                continue
            schema = (row.get("schema") or "").strip() or None
            check_schema(in_path, row_number, _line, schema)  # 'Perosn' would score as a name of no kind
            pending.append((row_number, name))
            yield name, schema

    with atomic_output(out_path) as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for hits in screen_names(index, queries(), top, threshold, workers):
            row_number, name = pending.popleft()
            stats.screened += 1
            if hits:
                stats.rows_with_hits += 1
            for rank, (record_id, primary, matched, score, explanation) in enumerate(hits, start=1):
                stats.hits += 1
                if statuses is not None:
                    explanation = {**explanation, "sanction_status": statuses.get(record_id, "none")}
                    stats.delisted_hits += explanation["sanction_status"] == "delisted"
                # Names come from rolls and imported lists: a spreadsheet must not run '=HYPERLINK(..)'.
                writer.writerow([row_number, *map(spreadsheet_cell, (name, record_id, primary, matched)),
                                 f"{score:.4f}", rank,
                                 json.dumps(explanation, ensure_ascii=False, separators=(",", ":"))])
    return stats


SHOWN_ROWS = 10


def legal_form_only_message(stats: ScreenStats) -> str:
    shown = ", ".join(f"{row} ({name!r})" for row, name in stats.legal_form_only_rows)
    more = ", ..." if stats.legal_form_only > len(stats.legal_form_only_rows) else ""
    return (f"{stats.legal_form_only} name(s) only a legal form, with no name left once it is set aside, "
            f"not screened (counted with the empty names; 0-based data rows {shown}{more}): a legal form "
            "says which kind of company, not which one, and would match every company written with it")

