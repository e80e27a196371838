"""Checks on uploaded files: size limit and content sniffing (the bytes must match the claimed type).

A browser's Content-Type and the file name are only hints; the magic bytes decide. Anything that
is not one of the accepted document or table types is refused with a message saying why.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from workbench.settings import get_settings
from workbench.sources.files import keep_bytes, record_file
from workbench.store import entities as store
from workbench.store.models import Source, StoredFile
from workbench.store.permissions import Actor

DOCUMENT_TYPES = ("application/pdf", "text/html", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain")
TABLE_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# How a refusal names the accepted types.
TYPE_NAMES = {"application/pdf": "PDF", "text/html": "HTML", "image/png": "PNG", "image/jpeg": "JPEG",
              "image/gif": "GIF", "image/webp": "WebP", "text/csv": "CSV (UTF-8)", TABLE_TYPES[1]: "XLSX",
              "text/plain": "plain text (UTF-8)"}


class UploadRejected(ValueError):
    """The upload is too large or not of an accepted type (the message says which)."""


@dataclass
class Upload:
    data: bytes
    name: str
    media_type: str


def sniff(data: bytes, name: str = "") -> str | None:
    """The media type the content really has, or None if it is none we accept."""
    head = data[:2048]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04") and name.lower().endswith(".xlsx"):
        return TABLE_TYPES[1]
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8-sig", errors="strict" if len(data) <= 2048 else "ignore").lstrip().lower()
    except UnicodeDecodeError:
        return None
    if text.startswith(("<!doctype html", "<html")) or "<html" in text[:500] or "<head" in text[:500]:
        return "text/html"
    if name.lower().endswith((".csv", ".tsv", ".txt")):
        return "text/csv"
    return None


# Names a plain-text document is not filed under: tables (screened or imported with a mapping), and the other
# accepted types' own (text named .pdf is no PDF, whatever it says).
_NOT_PLAIN_TEXT = (".csv", ".tsv", ".xlsx", ".pdf", ".html", ".htm", ".png", ".jpg", ".jpeg", ".gif", ".webp")


def _plain_text(data: bytes) -> bool:
    """UTF-8 text without NUL or other control characters than line breaks and tabs (no binary under a .txt)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 32 and c not in "\n\r\t\f" for c in text)


def _refuse_unreadable_text(data: bytes, name: str,
                            how: str = "save it as CSV UTF-8 (in Excel: Save As, 'CSV UTF-8')") -> None:
    """A .csv (or a .txt document) that is text in another encoding (Excel's 'CSV' is Windows-1252; some tools
    write UTF-16) gets a message that says so and where, not 'not an accepted file'."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadRejected(f"{name} is UTF-16 text: {how}")
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UploadRejected(f"{name} is not UTF-8 text: line {line} has the byte 0x{data[exc.start]:02x} (probably "
                             f"Windows-1252 or Latin-1): {how}") from None


async def read_upload(upload: UploadFile, max_bytes: int, accept: tuple[str, ...]) -> Upload:
    data = await upload.read(max_bytes + 1)
    name = (upload.filename or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:300]
    if len(data) > max_bytes:
        raise UploadRejected(f"{name} is larger than the limit of {max_bytes:,} bytes")
    if not data:
        raise UploadRejected(f"{name} is empty")
    media_type = sniff(data, name)
    if media_type is None and "text/csv" in accept and name.lower().endswith((".csv", ".tsv", ".txt")):
        _refuse_unreadable_text(data, name)
    if media_type in (None, "text/csv") and "text/plain" in accept \
            and not name.lower().endswith(_NOT_PLAIN_TEXT):  # a table is screened or imported, not filed
        if name.lower().endswith(".txt"):
            _refuse_unreadable_text(data, name, "save it as UTF-8 text")
        if _plain_text(data):  # a document (a transcript, notes, a docket copied out): kept as the bytes it is
            media_type = "text/plain"
    if media_type is None or media_type not in accept:
        claimed = upload.content_type or "unknown type"
        raise UploadRejected(f"{name} ({claimed}) is not an accepted file: its content is not one of "
                             f"{', '.join(TYPE_NAMES.get(t, t) for t in accept)}")
    return Upload(data=data, name=name, media_type=media_type)


async def add_uploaded_source(session: Session, actor: Actor, upload: UploadFile, fields: dict[str, Any]) -> Source:
    """The one way from an uploaded document to a source, so the page and the API check and store alike:
    size and type by content, bytes kept by SHA-256 with their capture time, then the descriptive
    ``fields`` (the file name stands in for a missing title). Raises UploadRejected or ValidationError.

    The bytes are written last, once the source's fields have passed: a refused upload leaves no file
    in the data directory (the rollback takes the rows; nothing would take the file)."""
    checked = await read_upload(upload, get_settings().upload_max_bytes, DOCUMENT_TYPES)
    # The writes wait for the database (SQLite's one writer may be an import): in the thread pool,
    # so that only this request waits, not every page of the server.
    return await run_in_threadpool(_store_upload, session, actor, checked, fields)


def _store_upload(session: Session, actor: Actor, checked: Upload, fields: dict[str, Any]) -> Source:
    # A file stored before (another source holds it) was captured then, by its first uploader: this
    # source's capture is this upload's, now, by this user (the page said 'captured <then> by <now's user>').
    stored_before = session.get(StoredFile, hashlib.sha256(checked.data).hexdigest()) is not None
    stored = record_file(session, actor, checked.data, checked.name, checked.media_type)
    fields = {**fields, "title": fields.get("title") or checked.name}
    source = store.create_source(session, actor, sha256=stored.sha256, file_name=checked.name,
                                 media_type=checked.media_type, size=len(checked.data),
                                 retrieved_at=datetime.now(UTC) if stored_before else stored.captured_at, **fields)
    keep_bytes(checked.data)
    return source


# A workbook's reader holds its shared strings in memory (up to tabular.MAX_SHARED_STRINGS_BYTES, about
# 130 MB of it): one workbook is checked at a time, so parallel uploads wait instead of adding up.
_WORKBOOK_CHECKS = threading.BoundedSemaphore(1)
# How long an upload waits for the workbook before it: each waiting upload holds a worker thread, so
# the wait is bounded and the user is told to try again rather than the server filling with waiters.
WORKBOOK_WAIT_SECONDS = 60.0


@contextmanager
def _one_workbook_at_a_time(name: str):
    from workbench.sources.tabular import TableError

    if not _WORKBOOK_CHECKS.acquire(timeout=WORKBOOK_WAIT_SECONDS):
        raise TableError(name, None, f"another workbook has been checked for over {WORKBOOK_WAIT_SECONDS:g} s (one "
                                     "is read at a time, for memory): nothing was stored; send the file again in a "
                                     "minute, or as CSV, which is checked at once")
    try:
        yield
    finally:
        _WORKBOOK_CHECKS.release()


def check_table_upload(checked: Upload, mapping) -> None:
    """Read an uploaded table row by row against its mapping before any byte of it is stored, so a
    refused roll leaves no file in the data directory. Raises TableError naming the upload and line."""
    from workbench.sources.tabular import TableError, check_table, is_workbook

    with tempfile.TemporaryDirectory(prefix="workbench-upload-") as tmp:
        path = Path(tmp) / "table"  # checked by content: CSV, or XLSX (a ZIP archive)
        path.write_bytes(checked.data)
        # The reader refuses a zip-bomb workbook before opening it; check_table names the upload.
        with _one_workbook_at_a_time(checked.name) if is_workbook(path) else nullcontext():
            rows = check_table(path, mapping, checked.name)
    if not rows:  # a job of no rows would end 'done, 0 hits', which reads as 'no one on it matched'
        raise TableError(checked.name, None, "the file has a header but no data rows: there is nothing to screen")
