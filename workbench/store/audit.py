"""The append-only, hash-chained audit log.

Each entry's hash covers its content and the previous entry's hash, so editing or deleting any
entry breaks the chain at that point, and ``verify`` names it. Appends first bump the single
``audit_head`` row: on PostgreSQL that row lock, on SQLite the write lock, serialises writers so
two transactions can never fork the chain. The application offers no way to change entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workbench.store.models import AuditEntry, AuditHead, as_utc

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_state(value: Any) -> str:
    """``canonical`` for importer states (strings, lists, str-keyed dicts, None, ints), ~5x faster.

    For such values orjson writes byte for byte what ``canonical`` writes (sorted keys, compact,
    UTF-8 kept), so hashes and stored text are unchanged; tests/test_audit.py holds it to
    that. Floats are not importer values (orjson spells 1e16 differently), and anything orjson
    refuses (non-str keys, lone surrogates, other objects) goes the ``canonical`` way.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:
        return canonical(value)


def column_json(value: Any) -> str:
    """What ``bulk_insert`` stores for a JSON column value, for importer states, ~5x faster.

    Same argument as ``canonical_state`` without the key sorting: for strings, lists, str-keyed
    dicts, None and ints orjson writes what ``json.dumps(ensure_ascii=False, separators=(",", ":"))``
    writes (floats are not importer values); anything it refuses goes that way. Wrap it in
    RawJSON to hand it to bulk_insert.
    """
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return _json_param(value)


def _timestamp(at: datetime) -> str:
    return as_utc(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(seq: int, at: datetime, actor: str, action: str, object_type: str, object_id: str,
               before: Any, after: Any, prev_hash: str) -> str:
    payload = canonical([seq, _timestamp(at), actor, action, object_type, object_id, before, after, prev_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_HEAD = AuditHead.__table__
# Core statements on the session's connection: the ORM's bulk-update machinery (identity-map
# synchronisation, per-call compilation checks) cost more than the whole append, and an importer
# appends an entry per record (a table import spent half its time here).
_BUMP = (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1)
         .returning(_HEAD.c.seq, _HEAD.c.hash))
_MOVE_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("digest"))
_HOLD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq)  # a write that changes nothing: the lock


_HEAD_KEY = inspect(AuditHead).identity_key_from_primary_key((1,))


def _forget_loaded_head(session: Session) -> None:
    """A head row loaded through the ORM in this session would now be stale: expire it."""
    loaded = session.identity_map.get(_HEAD_KEY)
    if loaded is not None:
        session.expire(loaded)


def hold_head(session: Session) -> None:
    """Take the head row's lock now, as an append would, until the transaction ends. A change that must
    see everything committed before it (a merge looking for the dossiers about the merged entry) reads
    after this: any writer that appended first has committed by then, and none can append until it ends.
    SQLite's single write lock already serialises writers; there this only waits for it like a write.
    An empty log has no head row to lock: it is created (seq 0, which the first append makes 1), and a
    writer that created it at the same moment is waited for, so the two still queue."""
    connection = session.connection()
    if connection.execute(_HOLD).rowcount == 0:
        dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(dialect_insert(_HEAD).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing())
        connection.execute(_HOLD)
        _forget_loaded_head(session)


def begin_change(session: Session) -> None:
    """Serialise a change with every other writer *before* it reads what it checks, and read afresh.

    Every change appends to the log, so every writer takes the head's lock; taken only at the append,
    after the checks, two changes could each check the other's stale state and both pass (on PostgreSQL:
    two opposite merges each saw the other entry unmerged and made a cycle; a citation landed on an
    entry merged meanwhile; a double-clicked link was stored twice; an approval froze an edit the
    reviewer never saw), and a delete that locked the head before the row deadlocked with an edit that
    locked the row first. Taken here, first: writers queue, each reads what the one before committed
    (rows loaded earlier in the request are expired and read again), and every change locks the head
    before any row. Once per transaction: a change made of other changes (a merge updates its winner)
    takes it once."""
    transaction = session.get_transaction()
    if transaction is not None and session.info.get("change_begun") is transaction:
        return
    if session.dirty:
        session.flush()  # nothing a caller changed is lost to the expiry below
    hold_head(session)
    session.expire_all()
    session.info["change_begun"] = session.get_transaction()


def record(session: Session, actor: str, action: str, object_type: str, object_id: str,
           before: Any = None, after: Any = None) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with the change)."""
    connection = session.connection()
    row = connection.execute(_BUMP).first()
    if row is None:
        session.add(AuditHead(id=1, seq=1, hash=GENESIS))
        session.flush()
        head, prev = 1, GENESIS
    else:
        head, prev = row
    at = datetime.now(UTC)
    before = json.loads(canonical(before)) if before is not None else None
    after = json.loads(canonical(after)) if after is not None else None
    digest = entry_hash(head, at, actor, action, object_type, str(object_id), before, after, prev)
    entry = AuditEntry(seq=head, at=at, actor=actor, action=action, object_type=object_type,
                       object_id=str(object_id), before=before, after=after, prev_hash=prev, hash=digest)
    session.add(entry)
    connection.execute(_MOVE_HASH, {"digest": digest})
    _forget_loaded_head(session)
    return entry


class RawJSON(str):
    """A value already serialised as JSON text (bulk_insert stores it as is)."""


def _each(processor):
    """A column converter applying ``processor`` to every value, once when the column is constant
    (importers stamp every row with the same time)."""

    def convert(values: tuple) -> list | tuple:
        first = values[0]
        if all(value is first for value in values):
            return [processor(first)] * len(values)
        return list(map(processor, values))

    return convert


def _json_column(values: tuple) -> list | tuple:
    """JSON column values as text; importers pass RawJSON text or None, which need nothing."""
    for value in values:
        if value is not None and not isinstance(value, RawJSON):
            return list(map(_json_param, values))
    return values


def bulk_insert(session: Session, table, rows: list, chunk: int = 5000,
                columns: list[str] | tuple[str, ...] | None = None) -> None:
    """executemany straight to the driver (COPY on PostgreSQL), for importers writing tens of
    thousands of rows.

    SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself at this
    scale. Rows are dicts, or tuples in the order of ``columns`` (no per-row dict to build or
    take apart). JSON columns take dicts/lists (serialised here) or RawJSON text; date-time
    columns go through the dialect's own bind processor, so rows read back exactly as ORM rows.
    Values are converted a column at a time (rows transposed with ``zip``), so RawJSON columns
    take no call per value and a time stamp shared by every row is converted once.
    """
    if not rows:
        return
    from sqlalchemy.types import JSON as JSONType

    connection = session.connection()
    dialect = connection.dialect
    if columns is None:
        columns = list(rows[0].keys())
        getter = itemgetter(*columns)
        rows = [getter(row) if len(columns) > 1 else (getter(row),) for row in rows]
    converting = []
    placeholders = []
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, JSONType):
            converting.append((index, _json_column))
            placeholders.append(marker if dialect.name == "sqlite" else f"CAST({marker} AS JSON)")
        else:
            processor = column_type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                converting.append((index, _each(processor)))
            placeholders.append(marker)
    preparer = dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(preparer.quote(c) for c in columns)})"
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy_rows(connection, target, rows, converting)
        return
    sql = f"INSERT INTO {target} VALUES ({', '.join(placeholders)})"
    for start in range(0, len(rows), chunk):
        connection.exec_driver_sql(sql, _converted(rows[start:start + chunk], converting))


def _converted(rows: list, converting: list) -> list:
    """The rows with each converted column converted (a column at a time: rows transposed with zip)."""
    if not converting:
        return rows
    values = list(zip(*rows))
    for index, convert in converting:
        values[index] = convert(values[index])
    return list(zip(*values))


def _copy_rows(connection, target: str, rows: list, converting: list) -> None:
    """PostgreSQL's COPY FROM STDIN on the session's own connection (so in its transaction): the SDN
    import's inserts took about half the time executemany took there (3.7 s against 6.5 s). JSON
    columns arrive as text, which the server parses as it would a cast parameter."""
    rows = _converted(rows, converting)
    statement = f"COPY {target} FROM STDIN"
    dbapi = connection.dialect.loaded_dbapi
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as exc:  # as executemany's errors arrive: IntegrityError, DataError, ...
        raise DBAPIError.instance(statement, None, exc, dbapi.Error) from exc


def _json_param(value: Any) -> str | None:
    if value is None or isinstance(value, RawJSON):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _state_text(state: Any) -> RawJSON | None:
    """A state as canonical JSON text (RawJSON states already are: the importer built them once)."""
    if state is None or isinstance(state, RawJSON):
        return state
    return RawJSON(canonical_state(state))


_AUDIT_COLUMNS = ("seq", "at", "actor", "action", "object_type", "object_id", "before", "after", "prev_hash", "hash")


def record_many(session: Session, actor: str,
                entries: list[tuple[str, str, str, Any, Any]]) -> int:
    """Append many entries (action, object_type, object_id, before, after) in one step.

    Importers write tens of thousands of changes; this reserves the sequence numbers with one
    head update, chains the hashes in Python and inserts the rows in bulk. The chain is exactly
    what ``record`` would have produced (``verify`` checks it the same way), and it commits or
    rolls back with the caller's change. ``before``/``after`` must already be JSON-native
    (dicts, lists, strings, ints, None), as importer states are, or RawJSON holding their
    ``canonical`` text.
    """
    if not entries:
        return 0
    from json.encoder import encode_basestring

    count = len(entries)
    last = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + count).returning(AuditHead.seq)
    ).scalar_one_or_none()
    if last is None:
        session.add(AuditHead(id=1, seq=count, hash=GENESIS))
        session.flush()
        last = count
    prev = session.execute(select(AuditHead.hash).where(AuditHead.id == 1)).scalar_one()
    at = datetime.now(UTC)
    head = "," + encode_basestring(_timestamp(at)) + "," + encode_basestring(actor) + ","
    sha256 = hashlib.sha256
    quoted: dict[str, str] = {}
    rows = []
    seq = last - count
    for action, object_type, object_id, before, after in entries:
        seq += 1
        object_id = str(object_id)
        before_text, after_text = _state_text(before), _state_text(after)
        kind = quoted.get(action + object_type)
        if kind is None:
            kind = quoted[action + object_type] = (encode_basestring(action) + "," + encode_basestring(object_type)
                                                   + ",")
        payload = "".join((
            "[", str(seq), head, kind, encode_basestring(object_id), ",", before_text or "null", ",",
            after_text or "null", ",", encode_basestring(prev), "]",
        ))
        digest = sha256(payload.encode("utf-8")).hexdigest()
        rows.append((seq, at, actor, action, object_type, object_id, before_text or None, after_text or None,
                     prev, digest))
        prev = digest
    bulk_insert(session, AuditEntry.__table__, rows, columns=_AUDIT_COLUMNS)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))
    return count


@dataclass
class Break:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.seq}: {self.reason}"


def verify(session: Session) -> tuple[int, Break | None]:
    """Walk the chain; return (entries checked, first break or None)."""
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    entries = _entries(session)
    while True:
        try:
            entry = next(entries, None)
        except (ValueError, TypeError):  # JSON or a time stamp edited (in SQLite) into something unreadable
            # Rows load a thousand at a time: the entries of the failed batch before the unreadable one are
            # checked one by one, so the count says how many really were verified before it.
            unreadable = _unreadable_entry(session, expected_seq)
            for seq in range(expected_seq, unreadable):
                entry = session.execute(select(AuditEntry).where(AuditEntry.seq == seq)).scalar_one_or_none()
                broken = _entry_break(entry, seq, expected_prev)
                if broken is not None:
                    return count, broken
                expected_prev = entry.hash
                count += 1
            return count, Break(unreadable, "no longer reads back as JSON or a time: edited outside the workbench")
        if entry is None:
            break
        broken = _entry_break(entry, expected_seq, expected_prev)
        if broken is not None:
            return count, broken
        expected_prev = entry.hash
        expected_seq += 1
        count += 1
    head = session.get(AuditHead, 1)
    if head is None and count:  # the head is what shows entries removed from the end: removing it is a break
        return count, Break(count, "the recorded head of the log is missing: it was deleted, so entries removed "
                                   "from the end could not be seen")
    if head is not None and head.seq != count:
        return count, Break(count + 1, f"missing: the log should hold {head.seq} entries but holds {count} (deleted at the end)")
    if head is not None and count and head.hash != expected_prev:
        return count, Break(count, "the last entry does not match the recorded head: edited or replaced")
    return count, None


def _entry_break(entry: AuditEntry | None, expected_seq: int, expected_prev: str) -> Break | None:
    """What is wrong with the entry found where entry ``expected_seq`` should be, or None."""
    if entry is None:
        return Break(expected_seq, "missing: deleted")
    if entry.seq != expected_seq:
        return Break(expected_seq, f"missing (next entry found is {entry.seq}): deleted")
    if entry.prev_hash != expected_prev:
        return Break(entry.seq, "does not chain to the entry before it: an earlier entry was changed or removed")
    digest = entry_hash(entry.seq, entry.at, entry.actor, entry.action, entry.object_type, entry.object_id,
                        entry.before, entry.after, entry.prev_hash)
    if digest != entry.hash:
        return Break(entry.seq, "content does not match its hash: edited")
    return None


def entry_hash_at(session: Session, seq: int) -> str | None:
    """The stored hash of entry ``seq`` (None: there is none): what an anchor recorded outside the database is
    compared with, since a chain rewritten whole, every hash recomputed, still verifies."""
    return session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))


def _unreadable_entry(session: Session, from_seq: int) -> int:
    """The first entry from ``from_seq`` on that fails to load (rows load a thousand at a time)."""
    for seq in session.execute(select(AuditEntry.seq).where(AuditEntry.seq >= from_seq)
                               .order_by(AuditEntry.seq)).scalars():
        try:
            session.execute(select(AuditEntry).where(AuditEntry.seq == seq)).scalar_one()
        except (ValueError, TypeError):
            return seq
        finally:
            session.expunge_all()
    return from_seq


def _entries(session: Session) -> Iterator[AuditEntry]:
    yield from session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=1000)).scalars()


def history(session: Session, object_id: str, limit: int = 200) -> list[AuditEntry]:
    return list(
        session.execute(
            select(AuditEntry).where(AuditEntry.object_id == object_id).order_by(AuditEntry.seq.desc()).limit(limit)
        ).scalars()
    )
