"""Errors a user meets at the console or on the admin page: a clear message, exit code 2, nothing changed."""

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.schema import ValidationError
from workbench.store.users import add_user, get_user, set_role

runner = CliRunner()
FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures"


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_import_table_input_errors_exit_2_and_name_the_file(db_url, tmp_path):
    invoke("init")
    mapping = next((FIXTURES / "mappings").glob("*.yml"))
    missing = invoke("import", "table", str(tmp_path / "nowhere.csv"), "--mapping", str(mapping))
    assert missing.exit_code == 2 and "nowhere.csv" in missing.output
    no_mapping = invoke("import", "table", str(tmp_path / "nowhere.csv"), "--mapping", str(tmp_path / "none.yml"))
    assert no_mapping.exit_code == 2 and "none.yml" in no_mapping.output
    bad = tmp_path / "bad.yml"
    bad.write_text("kinds: [unclosed\n")
    broken = invoke("import", "table", str(mapping), "--mapping", str(bad))
    assert broken.exit_code == 2 and "bad.yml" in broken.output


def test_export_to_a_folder_that_does_not_exist_is_a_message_not_a_traceback(db_url, tmp_path):
    invoke("init")
    target = tmp_path / "no" / "such" / "folder" / "out.ftm.json"
    result = invoke("export", "ftm", "-o", str(target))
    assert result.exit_code == 2
    assert "cannot write" in result.output and "Traceback" not in result.output
    assert not target.exists()


def test_the_last_active_admin_cannot_be_demoted(session, admin):
    add_user(session, admin, "root1", "admin", "correct horse battery")
    add_user(session, admin, "root2", "admin", "correct horse battery")
    set_role(session, admin, "root2", "researcher")  # root1 is still an admin: allowed
    with pytest.raises(ValidationError, match="only active admin"):
        set_role(session, admin, "root1", "reviewer")
    assert get_user(session, "root1").role == "admin"


def test_a_user_name_differing_only_by_case_is_refused(db_url):
    from workbench.schema import ValidationError
    from workbench.store import db as store_db
    from workbench.store.permissions import SYSTEM
    from workbench.store.users import add_user

    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "researcher2", "researcher", "correct horse battery")
    with pytest.raises(ValidationError, match=r"'researcher2' already exists \(user names must differ by more than upper and lower case\)"), \
            store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "Researcher2", "reviewer", "correct horse battery")


def test_a_look_alike_user_name_and_a_huge_token_id_are_messages(db_url):
    """A Cyrillic 'а' made an 'аdmin' that read as 'admin' everywhere; `users revoke --id` with a number
    past the database's integers gave a traceback."""
    from workbench.store import db as store_db
    from workbench.store.permissions import SYSTEM

    with pytest.raises(ValidationError, match="the letters a-z"), store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "\u0430dmin", "admin", "correct horse battery")
    invoke("init")
    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "rita", "researcher", "correct horse battery")
    result = invoke("users", "revoke", "rita", "--id", "99999999999999999999")
    assert result.exit_code == 2 and "rita has no token 99999999999999999999" in result.output


def test_a_database_that_is_not_one_or_is_newer_than_this_workbench_is_a_message(tmp_path, monkeypatch):

    from workbench.settings import reset_settings
    from workbench.store import db as store_db

    try:
        _not_a_database_and_a_newer_one(tmp_path, monkeypatch)
    finally:  # the next test must not find these databases in the settings
        monkeypatch.undo()
        store_db.dispose_all()
        reset_settings()


def _not_a_database_and_a_newer_one(tmp_path, monkeypatch):
    import sqlite3

    from workbench.settings import reset_settings
    from workbench.store import db as store_db

    not_a_database = tmp_path / "backup.zip"
    not_a_database.write_bytes(b"PK\x03\x04 not a database")
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{not_a_database}")
    reset_settings()
    result = invoke("stats")
    assert result.exit_code == 1 and "file is not a database" in result.output
    newer = tmp_path / "newer.db"
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{newer}")
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    store_db.dispose_all()
    assert invoke("init").exit_code == 0
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    store_db.dispose_all()
    for command in ("stats", "init"):  # init cannot upgrade it either: it says why, no traceback
        result = invoke(command)
        assert result.exit_code == 1 and "revision '0099', which this version of the workbench does not know" \
            in result.output, command
