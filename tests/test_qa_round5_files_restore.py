"""QA round 5: the importer's zip-bomb guard, a restore missing stored files, a mistyped SQLite path.

All names and documents here are FICTIONAL."""

from __future__ import annotations

import io
import shutil
import zipfile

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from workbench.cli import app
from workbench.settings import get_settings, reset_settings
from workbench.store import db as store_db
from workbench.store.db import get_engine, session_scope
from workbench.store.models import Base, StoredFile
from workbench.store.permissions import SYSTEM

runner = CliRunner()

MAPPING = """\
name: fictional-roll
entities:
  person:
    kind: Person
    keys: [NAME]
    properties:
      name: NAME
"""

ROW = '<row><c t="inlineStr"><is><t>FICTIONAL PERSON</t></is></c></row>'


def _workbook(rows: int) -> bytes:
    """A real workbook (header NAME, one data row) whose sheet then repeats that row ``rows`` times:
    XML that deflates to almost nothing, as a 'zip bomb' does, at a few MB so the test stays fast."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["NAME"])
    book.active.append(["FICTIONAL PERSON"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as original, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                start, end = text.index("<sheetData>") + len("<sheetData>"), text.index("</sheetData>")
                header = '<row><c t="inlineStr"><is><t>NAME</t></is></c></row>'
                data = (text[:start] + header + ROW * rows + text[end:]).encode("utf-8")
            bomb.writestr(item.filename, data)
    return out.getvalue()


def _counts(url) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in Base.metadata.sorted_tables}


# ---- 1. the zip-bomb guard is the importer's, and the web upload uses the same one ----------------

def test_the_cli_refuses_an_xlsx_that_unpacks_over_100x_its_size(db_url, tmp_path):
    bomb = tmp_path / "roll_FICTIONAL.xlsx"
    bomb.write_bytes(_workbook(60_000))  # ~3.5 MB of sheet XML from a few KB
    unpacked = sum(i.file_size for i in zipfile.ZipFile(bomb).infolist())
    assert unpacked > 100 * bomb.stat().st_size and unpacked < 8 * 1024 * 1024
    mapping = tmp_path / "roll.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    before = _counts(db_url)

    result = runner.invoke(app, ["import", "table", str(bomb), "--mapping", str(mapping)])

    assert result.exit_code == 2, result.output
    assert "roll_FICTIONAL.xlsx: the workbook unpacks to" in result.output
    assert "over 100x its size: refused as a possible zip bomb" in result.output
    assert "Traceback" not in result.output
    assert _counts(db_url) == before
    files = get_settings().files_dir
    assert not files.exists() or not any(p.is_file() for p in files.rglob("*"))


def test_a_plain_workbook_still_imports(db_url, tmp_path):
    book = tmp_path / "roll_FICTIONAL.xlsx"
    book.write_bytes(_workbook(1))
    mapping = tmp_path / "roll.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    result = runner.invoke(app, ["import", "table", str(book), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output


def test_the_web_upload_and_the_importer_refuse_with_the_same_check(tmp_path, monkeypatch):
    from workbench.sources import tabular
    from workbench.sources.tabular import TableError, load_mapping, read_rows
    from workbench.web import uploads
    from workbench.web.uploads import Upload, check_table_upload

    data = _workbook(60_000)
    mapping = load_mapping(MAPPING, "roll.yml")
    with pytest.raises(TableError) as web:
        check_table_upload(Upload(data, "upload_FICTIONAL.xlsx", "application/zip"), mapping)
    path = tmp_path / "upload_FICTIONAL.xlsx"
    path.write_bytes(data)
    with pytest.raises(TableError) as cli:
        list(read_rows(path, mapping))
    assert web.value.message == cli.value.message
    assert "refused as a possible zip bomb" in cli.value.message
    assert not hasattr(uploads, "MAX_UNPACK_RATIO")  # one limit, in the importer layer

    # The absolute cap is the same function's too: a workbook under the ratio but over the cap.
    monkeypatch.setattr(tabular, "MAX_UNPACKED_BYTES", 1024)
    small = tmp_path / "small_FICTIONAL.xlsx"
    small.write_bytes(_workbook(1))
    with pytest.raises(TableError, match=r"small_FICTIONAL\.xlsx: the workbook unpacks to .* over 0 MB: refused"):
        list(read_rows(small, mapping))
    with pytest.raises(TableError, match=r"web_FICTIONAL\.xlsx: .*refused as a possible zip bomb"):
        check_table_upload(Upload(small.read_bytes(), "web_FICTIONAL.xlsx", "application/zip"), mapping)


# ---- 2. a restore of an archive that lacks stored files says so --------------------------------

def test_a_restore_names_the_stored_files_the_backup_lacked(db_url, tmp_path):
    from workbench.sources.files import file_path, store_file

    with session_scope(db_url) as s:
        shas = [store_file(s, SYSTEM, f"%PDF-1.4 deed {i} (FICTIONAL)".encode(), f"deed_{i}_FICTIONAL.pdf",
                           "application/pdf").sha256 for i in range(7)]
    lost = shas[:6]
    for sha in lost:
        file_path(sha).unlink()
    archive = tmp_path / "backup.zip"
    made = runner.invoke(app, ["backup", str(archive), "--allow-missing-files"])
    assert made.exit_code == 0 and "6 listed file(s) were missing" in made.output, made.output

    with get_engine(db_url).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    shutil.rmtree(get_settings().files_dir, ignore_errors=True)

    result = runner.invoke(app, ["restore", str(archive)])

    assert result.exit_code == 0, result.output
    assert "INCOMPLETE: 6 stored file(s) the database lists have no bytes" in result.output
    assert "warning: 6 stored file(s) were missing when the backup was made" in result.output
    assert any(f"deed_{i}_FICTIONAL.pdf ({sha})" in result.output for i, sha in enumerate(lost))
    assert "and 1 more" in result.output  # the first five are named, the count covers the rest
    named = [f"deed_{i}_FICTIONAL.pdf" for i in range(7) if f"deed_{i}_FICTIONAL.pdf" in result.output]
    assert len(named) == 5 and "deed_6_FICTIONAL.pdf" not in result.output  # the one kept is not named
    with get_engine(db_url).connect() as conn:
        assert sorted(conn.execute(select(StoredFile.sha256)).scalars()) == sorted(shas)
    assert file_path(shas[6]).is_file()


def test_a_whole_restore_has_no_warning(db_url, tmp_path):
    from workbench.sources.files import store_file

    with session_scope(db_url) as s:
        store_file(s, SYSTEM, b"%PDF-1.4 deed (FICTIONAL)", "deed_FICTIONAL.pdf", "application/pdf")
    archive = tmp_path / "backup.zip"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    with get_engine(db_url).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    shutil.rmtree(get_settings().files_dir, ignore_errors=True)
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "1 stored files" in result.output and "audit chain intact" in result.output
    assert "warning" not in result.output and "INCOMPLETE" not in result.output


# ---- 3. a mistyped SQLite path is not created by a command that needs a database ----------------

@pytest.fixture
def typo_url(tmp_path, monkeypatch):
    path = tmp_path / "none_FICTIONAL.db"
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    store_db.dispose_all()
    yield path
    store_db.dispose_all()
    reset_settings()


@pytest.mark.parametrize("command", [["stats"], ["users", "list"], ["backup", "never_FICTIONAL.zip"]])
def test_a_command_on_a_missing_sqlite_file_does_not_create_it(typo_url, tmp_path, command):
    result = runner.invoke(app, command)
    assert result.exit_code == 1, result.output
    assert "is not initialised: run `workbench init`" in result.output
    assert not typo_url.exists()
    assert not list(tmp_path.glob("none_FICTIONAL.db*"))  # nor its -wal / -shm companions


def test_init_still_creates_the_missing_file(typo_url):
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert typo_url.is_file() and typo_url.stat().st_size > 0
    assert runner.invoke(app, ["stats"]).exit_code == 0


def test_a_missing_folder_is_still_named(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", f"sqlite:///{tmp_path / 'no_such_folder' / 'x.db'}")
    reset_settings()
    store_db.dispose_all()
    try:
        result = runner.invoke(app, ["stats"])
        assert result.exit_code == 1 and "does not exist" in result.output
        assert not (tmp_path / "no_such_folder").exists()
    finally:
        store_db.dispose_all()
        reset_settings()
