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
    with pytest.raises(ValidationError, match=r"'researcher2' already exists \(user names differ by more than case\)"), \
            store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, "Researcher2", "reviewer", "correct horse battery")
