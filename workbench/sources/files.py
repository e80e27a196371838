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
        sha = sha256_of(source)
        size = source.stat().st_size
        content = None
    else:
        content = bytes(data)
        sha = hashlib.sha256(content).hexdigest()
        size = len(content)
        source = None
    target = file_path(sha)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                if content is not None:
                    handle.write(content)
                else:
                    with open(source, "rb") as reader:
                        for chunk in iter(lambda: reader.read(1 << 20), b""):
                            handle.write(chunk)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    stored = session.get(StoredFile, sha)
    if stored is None:
        stored = StoredFile(sha256=sha, size=size, media_type=media_type, original_name=original_name,
                            captured_by=actor.username)
        session.add(stored)
        session.flush()
        audit.record(session, actor.username, "file.store", "file", sha, None,
                     {"size": size, "media_type": media_type, "original_name": original_name})
    return stored


def read_file(sha256: str) -> bytes:
    return file_path(sha256).read_bytes()
