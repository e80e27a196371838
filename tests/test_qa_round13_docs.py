"""QA round 13 (the README against the software): what a user following the docs met."""

from __future__ import annotations

from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()


def test_a_bad_byte_far_below_the_header_is_named_with_its_line_and_its_data_row(tmp_path):
    """The README promises 'FILE line L, 0-based data row N' for every row error; a bad byte named only the
    line (the reader decodes a block ahead, so the row being read was not the bad one)."""
    src = tmp_path / "roll.csv"
    rows = ["name", *[f"PERSONA {i} FICTICIA" for i in range(3000)], "", '"MARIA', 'GOMEZ"']
    src.write_bytes("\n".join(rows).encode() + b"\nJOS\xc9 LOPEZ\n")
    out = tmp_path / "out.csv"
    watchlist = tmp_path / "watch.csv"
    watchlist.write_text("id,name\n1,FICTIONAL Persona\n", encoding="utf-8")
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist)])
    # rows 0-2999 the people, 3000 the blank line, 3001 the quoted name over two lines, 3002 the bad line
    assert result.exit_code == 2 and "roll.csv line 3005, 0-based data row 3002: not valid UTF-8" in result.output
    src.write_bytes(b"name\nAna\nJOS\xc9\n")
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist)])
    assert "roll.csv line 3, 0-based data row 1: not valid UTF-8" in result.output
    assert not out.exists()


def test_an_unknown_topic_filter_is_refused_with_the_choices(db_url):
    """The README says an unknown sanction status or topic is refused 'with the choices'; the topic's message
    said only 'choose one from the list' (a script calling the page has no list)."""
    from web_helpers import signed_in_client

    from workbench.schema import registry

    client = signed_in_client(db_url, "rita", "researcher")
    refused = client.get("/search?q=zambada&topic=bogus")
    assert refused.status_code == 422
    assert all(topic in refused.text for topic in registry().vocabularies["topics"])


def test_a_database_held_locked_is_said_in_one_line_not_a_traceback(db_url, tmp_path, monkeypatch, capsys):
    """The README's exit codes say 1 for database failures; a SQLite database another process held locked
    printed a full traceback ('sqlalchemy.exc.OperationalError: database is locked')."""
    import sqlite3
    import sys

    import pytest
    from sqlalchemy.engine import make_url

    from workbench.cli import main
    from workbench.settings import reset_settings

    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's lock: PostgreSQL writers queue on rows instead")
    assert runner.invoke(app, ["init"]).exit_code == 0
    password = tmp_path / "pw.txt"
    password.write_text("a long enough password\n", encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_SQLITE_BUSY_SECONDS", "0.2")
    reset_settings()
    holder = sqlite3.connect(make_url(db_url).database)
    holder.execute("BEGIN IMMEDIATE")
    try:
        monkeypatch.setattr(sys, "argv", ["workbench", "users", "add", "ivy", "--role", "researcher",
                                          "--password-file", str(password)])
        with pytest.raises(SystemExit) as ended:
            main()
    finally:
        holder.rollback()
        holder.close()
        reset_settings()
    said = capsys.readouterr().err
    assert ended.value.code == 1 and "the database is busy" in said and "Traceback" not in said


def test_serve_says_it_cannot_use_the_data_folder_before_it_starts(tmp_path, monkeypatch):
    from workbench.settings import reset_settings

    assert runner.invoke(app, ["init"]).exit_code == 0
    blocked = tmp_path / "data"
    blocked.write_text("a file where the data folder should be")
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(blocked))
    monkeypatch.delenv("WORKBENCH_SECRET_KEY", raising=False)
    reset_settings()
    try:
        result = runner.invoke(app, ["serve", "--port", "8799"])
    finally:
        reset_settings()
    assert result.exit_code == 1 and "cannot use the data folder" in result.output
    assert "serving on" not in result.output
