"""Content-addressed storage of source files (uploads and imported lists).

The SHA-256 of the bytes is the file's name, so the same document stored twice is one file, and
a citation's hash proves which bytes a fact came from (chain of custody). Metadata lives in
``stored_files``; the bytes under ``settings.files_dir/<sha[:2]>/<sha>``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from workbench.settings import get_settings
from workbench.store import audit
from workbench.store.models import StoredFile
from workbench.store.permissions import Actor, require

# Types a browser shows without running anything of the file, each with the Content-Security-Policy it is
# served under inline: nothing may load, and images and text are sandboxed too (Chromium's PDF viewer does
# not start in a sandboxed document). HTML never is: a captured page would run its scripts in this origin.
INLINE_TYPES: dict[str, str] = {
    "application/pdf": "default-src 'none'; object-src 'self'; frame-ancestors 'none'",
    **{media: "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
       for media in ("image/png", "image/jpeg", "image/gif", "image/webp")},
    "text/plain": "default-src 'none'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'",
}


def shown_inline(media_type: str | None) -> bool:
    """Whether a stored file of this type may be opened in the browser (else it is only downloaded)."""
    return media_type in INLINE_TYPES


class StorageError(OSError):
    """The files folder cannot take a file (read-only, full, not ours): said as such, not as a server error.
    Nothing that would cite the file is kept: the caller's transaction is rolled back with the error."""


def file_path(sha256: str) -> Path:
    return get_settings().files_dir / sha256[:2] / sha256


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def store_file(session: Session, actor: Actor, data: bytes | str | Path, original_name: str | None,
               media_type: str | None) -> StoredFile:
    """Keep the bytes (once) and their metadata; return the StoredFile row."""
    require(actor, "edit", "store files")
    if isinstance(data, (str, Path)):
        source = Path(data)
        sha, size = sha256_of(source), source.stat().st_size
        _write(sha, lambda handle: _copy(source, handle))
    else:
        content = bytes(data)
        sha, size = hashlib.sha256(content).hexdigest(), len(content)
        _write(sha, lambda handle: handle.write(content))
    return _record(session, actor, sha, size, original_name, media_type)


def record_file(session: Session, actor: Actor, data: bytes, original_name: str | None,
                media_type: str | None) -> StoredFile:
    """The metadata of bytes that ``keep_bytes`` writes later. An upload that may still be refused (a field
    of its source that does not validate) is recorded first and written last, so that a refused upload
    leaves no file behind in the data directory: the transaction's rollback takes the row with it."""
    require(actor, "edit", "store files")
    content = bytes(data)
    return _record(session, actor, hashlib.sha256(content).hexdigest(), len(content), original_name, media_type)


def keep_bytes(data: bytes) -> Path:
    """Write the bytes under their SHA-256 (once) and return where they are."""
    content = bytes(data)
    return _write(hashlib.sha256(content).hexdigest(), lambda handle: handle.write(content))


def _copy(source: Path, handle) -> None:
    with open(source, "rb") as reader:
        for chunk in iter(lambda: reader.read(1 << 20), b""):
            handle.write(chunk)


def _write(sha: str, fill) -> Path:
    """Write through a temporary file renamed into place, so a reader never sees half a file."""
    target = file_path(sha)
    if target.exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    except OSError as exc:
        raise _storage_error(exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            fill(handle)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _storage_error(exc) from exc
        raise
    return target


def _storage_error(exc: OSError) -> StorageError:
    return StorageError(exc.errno, f"cannot store the file in {get_settings().files_dir} ({exc.strerror or exc}): "
                                   "nothing was saved; the data folder (WORKBENCH_DATA_DIR) must be writable by the "
                                   "workbench")


def _record(session: Session, actor: Actor, sha: str, size: int, original_name: str | None,
            media_type: str | None) -> StoredFile:
    stored = session.get(StoredFile, sha)
    if stored is None:
        stored = StoredFile(sha256=sha, size=size, media_type=media_type, original_name=original_name,
                            captured_by=actor.username)
        session.add(stored)
        session.flush()
        audit.record(session, actor.username, "file.store", "file", sha, None,
                     {"size": size, "media_type": media_type, "original_name": original_name})
    return stored


def damaged_files(session: Session) -> list[tuple[StoredFile, str]]:
    """Each stored file the database lists whose bytes are missing or no longer hash to its name, with what is
    wrong: its SHA-256 is the chain of custody of every fact citing it, so bytes altered on disk (a bad disk, an
    edit) must be told, not served or backed up as if they were the captured document."""
    from sqlalchemy import select

    found = []
    for stored in session.scalars(select(StoredFile).order_by(StoredFile.sha256)):
        problem = file_problem(stored.sha256)
        if problem:
            found.append((stored, problem))
    return found


MISSING = "missing from the files folder"
ALTERED = "altered: its bytes no longer match its SHA-256"


def file_problem(sha256: str) -> str | None:
    """What is wrong with the stored file named by ``sha256`` (None: it is there, its bytes hash to its name)."""
    path = file_path(sha256)
    if not path.is_file():
        return MISSING
    return None if sha256_of(path) == sha256 else ALTERED


def intact_path(sha256: str, what: str) -> Path:
    """Where the stored file is, once its bytes are checked against its SHA-256 (``what`` names it in the
    messages): NotFound when it is gone, Conflict when its bytes changed since they were captured."""
    from workbench.store.entities import Conflict, NotFound

    problem = file_problem(sha256)
    if problem == MISSING:
        raise NotFound(f"the file of {what} is missing from storage")
    if problem == ALTERED:
        raise Conflict(f"the file of {what} no longer matches the SHA-256 recorded when it was captured: it was "
                       "altered or damaged on disk, so it is not served as the captured document. Restore it from a "
                       "backup (`workbench files verify` lists every such file)")
    return file_path(sha256)


def read_file(sha256: str) -> bytes:
    return file_path(sha256).read_bytes()


def unrecorded_files(session: Session) -> list[Path]:
    """Files in the files folder that no ``stored_files`` row names. An import writes a file's bytes
    before its transaction ends; when the import fails, is killed or has every record rejected, the
    rollback takes the row but not the bytes (and a killed write leaves its '.incoming-' temporary)."""
    from sqlalchemy import select

    root = get_settings().files_dir
    if not root.is_dir():
        return []
    recorded = set(session.scalars(select(StoredFile.sha256)))
    return sorted(path for path in root.glob("*/*") if path.is_file() and path.name not in recorded)
