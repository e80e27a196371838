"""What `-o FILE` does to what the user named: the output replaces a file whole, and nothing else.

The outputs were written beside the target and renamed onto it. As root, `-o /dev/stdout` or
`-o /dev/full` replaced the device with a regular file (QA found /dev/full turned into a CSV), a
symlink was replaced by a file instead of updating its target, and every output came out 0600
whatever the umask. `export ftm -o` wrote straight into the file, so a full disk left it cut short.
"""

from __future__ import annotations

import errno
import os
import stat

import pytest
from table_helpers import read_csv, write
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()
PAIRS = 'left,right\n"GUZMAN LOERA, Joaquin",Joaquin Guzman Loera\n'


def _pairs(tmp_path, out) -> None:
    result = runner.invoke(app, ["match", "pairs", str(write(tmp_path / "in.csv", PAIRS)), "-o", str(out)])
    assert result.exit_code == 0, result.output


def test_a_symlink_stays_a_symlink_and_its_target_gets_the_output(tmp_path):
    target = tmp_path / "kept" / "scores.csv"
    target.parent.mkdir()
    target.write_text("old contents\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    _pairs(tmp_path, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert float(read_csv(target)[0]["score"]) == 1.0
    assert [p.name for p in target.parent.iterdir()] == ["scores.csv"]  # no part file left


def test_a_pipe_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "to-the-next-tool"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the next tool in a shell pipeline, already listening
    try:
        _pairs(tmp_path, fifo)
        received = os.read(reader, 65536).decode()
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received.startswith("left,right,score,explanation") and "GUZMAN LOERA, Joaquin" in received


def test_new_outputs_follow_the_umask_and_an_existing_file_keeps_its_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.csv"
        _pairs(tmp_path, fresh)
        kept = tmp_path / "kept.csv"
        kept.write_text("x\n")
        kept.chmod(0o640)
        _pairs(tmp_path, kept)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # a colleague's script can read it, as with `>`
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and float(read_csv(kept)[0]["score"]) == 1.0


def test_a_full_disk_during_export_leaves_the_previous_export_whole(db_url, tmp_path, monkeypatch):
    from workbench.sources import ftm

    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    out = tmp_path / "export.ftm.json"
    assert runner.invoke(app, ["export", "ftm", "-o", str(out)]).exit_code == 0
    previous = out.read_bytes()
    real = ftm.write_ftm

    def disk_fills_up(session, handle, **kwargs):
        real(session, handle, **kwargs)
        handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ftm, "write_ftm", disk_fills_up)
    result = runner.invoke(app, ["export", "ftm", "-o", str(out)])
    assert result.exit_code == 2 and "No space left on device" in result.output and "Traceback" not in result.output
    assert out.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("command", [["graph", "export", "--format", "json"]])
def test_other_exports_write_through_a_symlink_too(db_url, tmp_path, command):
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    target = tmp_path / "graph.json"
    target.write_text("{}")
    link = tmp_path / "graph-latest.json"
    link.symlink_to(target)
    result = runner.invoke(app, [*command, "-o", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and len(target.read_bytes()) > 100
