"""The session-signing key generated on first use: one key per data directory, however many start at once.

CI runs the SQLite and PostgreSQL suites side by side in one checkout; both generated a key for the same
fresh data directory, and the one that lost the race crashed with FileExistsError instead of using the
winner's key. Two uvicorn workers starting together would do the same.
"""

from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

from workbench.settings import Settings


def _key_for(data_dir: str) -> str:
    return Settings(data_dir=data_dir, secret_key=None).signing_key()


def test_the_key_is_made_once_kept_private_and_reused(tmp_path):
    first = _key_for(str(tmp_path / "data"))
    again = _key_for(str(tmp_path / "data"))
    stored = tmp_path / "data" / "secret_key"
    assert first == again == stored.read_text().strip() and len(first) >= 40
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret_key"]  # no candidate left behind


def test_a_process_that_loses_the_race_uses_the_winners_key(tmp_path, monkeypatch):
    data = tmp_path / "data"
    real_link = os.link

    def another_process_publishes_first(src, dst):
        data.joinpath("secret_key").write_text("the-winners-key")  # between our look and our write
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", another_process_publishes_first)
    assert _key_for(str(data)) == "the-winners-key"
    assert [p.name for p in data.iterdir()] == ["secret_key"]


def test_processes_starting_together_agree_on_one_key(tmp_path):
    data = str(tmp_path / "data")
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        keys = pool.map(_key_for, [data] * 12)
    assert len(set(keys)) == 1 and keys[0] == (tmp_path / "data" / "secret_key").read_text().strip()


def test_a_file_system_without_hard_links_still_gets_one_key(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    first = _key_for(str(tmp_path / "data"))
    assert first == _key_for(str(tmp_path / "data")) == (tmp_path / "data" / "secret_key").read_text()
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["secret_key"]


def test_an_empty_key_file_is_refused_not_used(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret_key").write_text("\n")
    with pytest.raises(RuntimeError, match="secret_key is empty"):  # cookies signed with '' could be forged
        _key_for(str(data))
