"""Writing a command's output file (``-o``): whole or not at all, and as the user's shell would.

A file is written beside its target and renamed into place once complete, so a failure (a full disk,
bad input found late) leaves the old file, or none, never a cut-short one that reads as complete. The
rename must not turn what the user named into something else: a symlink's target is what gets
replaced, a device or pipe (``-o /dev/stdout``) is written in place (renaming onto /dev/null as root
would replace the device), and a new file gets the permissions the umask gives, an existing one keeps
its own.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


class OutputError(Exception):
    """The output cannot be written where the user asked; the message names the path."""


@contextmanager
def atomic_output(path: Path | str, binary: bool = False) -> Iterator[IO]:
    """A handle on a file that replaces ``path`` only if the ``with`` block completes."""
    path = Path(path)
    mode, options = ("wb", {}) if binary else ("w", {"encoding": "utf-8", "newline": ""})
    try:
        current = path.stat()  # follows symlinks: what the name reaches
    except FileNotFoundError:
        current = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the output there ({exc.strerror})") from None
    if current is not None and stat.S_ISDIR(current.st_mode):  # found now, not by the rename after all the work
        raise OutputError(f"{path}: is a folder; give the output a file name (e.g. {path / 'out.csv'})")
    if current is not None and not stat.S_ISREG(current.st_mode):  # a device, a pipe, a terminal
        try:
            handle = open(path, mode, **options)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write the output there ({exc.strerror})") from None
        with handle:
            yield handle
        return
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    directory = target.parent if str(target.parent) else Path(".")
    partial = directory / f".{target.name}.{secrets.token_hex(4)}.part"
    try:  # 0o666 less the umask, as the shell would create it
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:  # no such folder, no permission: the output option cannot be used
        raise OutputError(f"{path}: cannot write the output there ({exc.strerror})") from None
    try:
        if current is not None:
            os.chmod(fd, stat.S_IMODE(current.st_mode))
        with os.fdopen(fd, mode, **options) as handle:
            yield handle
        os.replace(partial, target)
    except BaseException:
        try:
            os.unlink(partial)
        except OSError:
            pass
        raise


def write_output(path: Path | str, data: bytes) -> None:
    """``data`` to ``path``, whole or not at all."""
    with atomic_output(path, binary=True) as handle:
        handle.write(data)
