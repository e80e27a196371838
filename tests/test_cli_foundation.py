"""The foundation commands behave as documented: init, stats, users, audit verify, clear errors."""

import json

from sqlalchemy import update
from typer.testing import CliRunner

from workbench.cli import app
from workbench.store.models import AuditEntry

runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, list(args), input=input, catch_exceptions=False)


def test_init_demo_then_stats_json(db_url):
    result = invoke("init", "--demo")
    assert result.exit_code == 0, result.output
    assert "researcher" in result.output and "reviewer" in result.output  # passwords shown once
    stats = json.loads(invoke("stats", "--json").stdout)
    assert set(stats) == {"entities", "links", "names", "sources", "citations", "merged"}
    assert stats["entities"]["Person"] >= 8 and stats["links"]["SanctionOf"] >= 10
    assert stats["citations"] > 0 and stats["sources"] > 0


def test_demo_twice_duplicates_nothing_and_prints_no_new_passwords(db_url):
    invoke("init", "--demo")
    first = json.loads(invoke("stats", "--json").stdout)
    again = invoke("init", "--demo")
    assert again.exit_code == 0
    assert "0 created, 0 updated" in again.output
    assert "password" not in again.output.lower()
    assert json.loads(invoke("stats", "--json").stdout) == first


def test_users_add_with_password_file_and_bad_role(db_url, tmp_path):
    invoke("init")
    secret = tmp_path / "pw.txt"
    secret.write_text("correct horse battery\n")
    ok = invoke("users", "add", "vera", "--role", "reviewer", "--password-file", str(secret))
    assert ok.exit_code == 0 and "added vera (reviewer)" in ok.output
    bad = invoke("users", "add", "otto", "--role", "boss", "--password-file", str(secret))
    assert bad.exit_code == 2 and "unknown role 'boss'" in bad.output
    listed = invoke("users", "list")
    assert "vera" in listed.output and "otto" not in listed.output


def test_users_add_prompts_for_password(db_url):
    invoke("init")
    result = invoke("users", "add", "pia", "--role", "researcher", input="long enough pw\nlong enough pw\n")
    assert result.exit_code == 0, result.output


def test_audit_verify_detects_tampering(db_url):
    invoke("init", "--demo")
    assert invoke("audit", "verify").exit_code == 0
    from workbench.store.db import session_scope

    with session_scope(db_url) as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(action="entity.nothing"))
    result = invoke("audit", "verify")
    assert result.exit_code != 0
    assert "audit entry 5" in result.output


def test_unopenable_database_gives_a_message_not_a_traceback(monkeypatch, tmp_path):
    from workbench.settings import reset_settings

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{tmp_path}/missing-folder/x.db")
    reset_settings()
    result = invoke("stats")
    assert result.exit_code == 1
    assert "does not exist" in result.output and "Traceback" not in result.output
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    reset_settings()
    result = invoke("stats")
    assert result.exit_code == 1 and "cannot open database" in result.output
    reset_settings()


def test_uninitialised_database_says_run_init(monkeypatch, tmp_path):
    from workbench.settings import reset_settings

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    reset_settings()
    result = invoke("stats")
    assert result.exit_code == 1 and "run `workbench init`" in result.output
    reset_settings()


def test_a_new_sqlite_database_and_a_backup_are_readable_by_their_owner_alone(monkeypatch, tmp_path):
    """They hold password and token hashes and every unreleased finding: both came out 0644 (every
    local user could copy them) while the stored files were 0600."""
    import os
    import stat

    from workbench.settings import reset_settings

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    old = os.umask(0o022)  # the usual umask, whatever the test runner's
    try:
        assert invoke("init").exit_code == 0
        assert invoke("users", "add", "rita", "--role", "researcher", input="Password1!x\nPassword1!x\n").exit_code == 0
        assert invoke("backup", str(tmp_path / "backup.zip")).exit_code == 0
    finally:
        os.umask(old)
        reset_settings()
    for name in ("fresh.db", "fresh.db-wal", "backup.zip"):
        if (tmp_path / name).exists() or name != "fresh.db-wal":  # the WAL file may be checkpointed away
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_serving_a_database_other_users_can_read_says_so_and_a_private_one_does_not(monkeypatch, tmp_path):
    """A database created before new files were made 0600 kept its 0644: nothing told its owner."""
    import os

    import uvicorn

    from workbench.settings import reset_settings

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{tmp_path}/old.db")
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(options["port"]))
    reset_settings()
    try:
        assert invoke("init").exit_code == 0
        private = CliRunner().invoke(app, ["serve", "--port", "8931"])
        os.chmod(tmp_path / "old.db", 0o644)  # as a database made by an earlier version is
        shared = CliRunner().invoke(app, ["serve", "--port", "8931"])
    finally:
        reset_settings()
    assert private.exit_code == shared.exit_code == 0 and served == [8931, 8931]
    assert "other users" not in private.output
    assert f"other users of this machine can read {tmp_path}/old.db (-rw-r--r--)" in shared.output
    assert "chmod 600" in shared.output
