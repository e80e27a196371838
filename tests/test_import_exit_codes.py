"""`workbench import ...` exit codes a script can rely on: 0 everything went in, 3 committed but
some records were rejected (the summary counts them and gives each reason with its line), 2 the
input could not be read and nothing was imported (1 stays for database and permission failures). All data here is FICTIONAL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from workbench.cli import app
from workbench.store import db as store_db
from workbench.store.models import Entity

MAPPINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _ftm_lines(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _count(db_url: str) -> int:
    with store_db.session_scope(db_url) as s:
        return s.scalar(select(func.count()).select_from(Entity))


GOOD = {"id": "fict-p1", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Uno"]}}


def test_ftm_import_that_skips_entities_exits_3_and_says_how_many_and_why(db_url, tmp_path):
    path = _ftm_lines(tmp_path / "mixed.json", GOOD,
                      {"id": "fict-x", "schema": "Spaceship", "properties": {"name": ["FICTIONAL X"]}},
                      {"id": "fict-p2", "schema": "Person",
                       "properties": {"name": ["FICTIONAL Persona Dos"], "birthDate": ["someday"]}})
    result = invoke("import", "ftm", str(path))
    assert result.exit_code == 3, result.output
    assert "partial import: 2 records rejected" in result.output
    assert "mixed.json line 2: FtM schema 'Spaceship' has no workbench kind" in result.output
    assert "mixed.json line 3: birthDate" in result.output and "someday" in result.output
    with store_db.session_scope(db_url) as s:  # the rest is committed
        assert s.get(Entity, "fict-p1") is not None and s.get(Entity, "fict-p2") is None


def test_ftm_import_without_rejections_exits_0(db_url, tmp_path):
    result = invoke("import", "ftm", str(_ftm_lines(tmp_path / "clean.json", GOOD)))
    assert result.exit_code == 0, result.output
    assert "partial import" not in result.output


def test_unreadable_ftm_file_exits_2_and_imports_nothing(db_url, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(GOOD) + '\n{"id": "fict-p2", "schema"\n', encoding="utf-8")
    result = invoke("import", "ftm", str(path))
    assert result.exit_code == 2 and "broken.json, line 2" in result.output and "nothing was imported" in result.output
    assert _count(db_url) == 0


def test_table_import_with_a_rejected_row_exits_3_with_the_row(db_url, tmp_path):
    lines = (MAPPINGS / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, first, *_ = lines
    bad = first.replace("03/15/2019", "someday").replace("FICT-001-0001", "FICT-001-9999")
    path = tmp_path / "roll_FICTIONAL.csv"
    path.write_text(header + first + bad, encoding="utf-8")
    result = invoke("import", "table", str(path), "--mapping", str(MAPPINGS / "county_property_roll.yml"))
    assert result.exit_code == 3, result.output
    assert "partial import: 1 record rejected" in result.output
    assert "roll_FICTIONAL.csv line 3 (data row 2): Ownership.acquisitionDate" in result.output and "someday" in result.output
    assert _count(db_url) > 0  # the good row went in


def test_a_table_whose_every_row_is_rejected_leaves_the_database_as_it_was(db_url, tmp_path):
    lines = (MAPPINGS / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "roll_FICTIONAL.csv"
    path.write_text(lines[0] + "".join(l.replace("/20", "/x20", 1) for l in lines[1:3]), encoding="utf-8")
    result = invoke("import", "table", str(path), "--mapping", str(MAPPINGS / "county_property_roll.yml"))
    assert result.exit_code == 2, result.output
    assert "rejected roll_FICTIONAL.csv line 2 (data row 1)" in result.output
    assert "every record was rejected, so nothing was imported" in result.output
    assert _count(db_url) == 0
    from workbench.store import db as store_db
    from workbench.store.models import Source

    with store_db.session_scope(db_url) as s:
        assert s.query(Source).count() == 0


def test_brackets_in_values_and_file_names_are_printed_as_text_not_read_as_styles(db_url, tmp_path):
    """'[/i]' in a row or a file name is what the file says: the summary prints it, and a partial
    import still exits 3 (a style parser choking on it turned that into a traceback and exit 1)."""
    path = _ftm_lines(tmp_path / "rows[b].json", GOOD,
                      {"id": "fict-p2", "schema": "Person",
                       "properties": {"name": ["FICTIONAL [red]Persona[/] Dos"], "birthDate": ["[/i]"]}})
    result = invoke("import", "ftm", str(path))
    assert result.exit_code == 3, result.output
    assert "rows[b].json line 2: birthDate" in result.output and "'[/i]'" in result.output
    missing = invoke("export", "ftm", "-o", str(tmp_path / "no such [red]folder" / "out.json"))
    assert missing.exit_code == 2 and "no such [red]folder" in missing.output
