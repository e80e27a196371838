"""QA round 9: a workbook whose shared strings (every distinct cell text, which the reader holds in
memory whole) unpack past the limit is refused before it is opened, from the archive's directory, on the
command line and on the screening page alike. (412 MB of them, in a 4.8 MB upload within the zip-bomb
ratio, took a server to 1.5 GB with three uploads.) The limit is lowered here so that a small FICTIONAL
workbook meets it."""

from __future__ import annotations

import io

import pytest
from typer.testing import CliRunner
from web_helpers import csrf_of, signed_in_client

from workbench.sources import tabular
from workbench.store import db as store_db
from workbench.store.models import Entity, Source

MAPPING = "entities:\n  owner:\n    kind: Person\n    keys: [NAME]\n    properties:\n      name: NAME\n"


def _workbook(rows: int, shared_part: str = "sharedStrings.xml") -> bytes:
    """A minimal workbook as spreadsheet programs write one: its cells point into xl/sharedStrings.xml
    (openpyxl itself writes inline strings, which the reader streams)."""
    import zipfile

    texts = ["NAME"] + [f"FICTIONAL PERSONA NUMERO {n:05d}" for n in range(rows)]
    shared = "".join(f"<si><t>{t}</t></si>" for t in texts)
    cells = "".join(f'<row r="{i + 1}"><c r="A{i + 1}" t="s"><v>{i}</v></c></row>' for i in range(len(texts)))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            f'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/{shared_part}" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Roll" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            f'2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="{shared_part}"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>{cells}</sheetData>'
            '</worksheet>'),
        f"xl/{shared_part}": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(texts)}" '
            f'uniqueCount="{len(texts)}">{shared}</sst>'),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


@pytest.fixture
def low_limit(monkeypatch):
    monkeypatch.setattr(tabular, "MAX_SHARED_STRINGS_BYTES", 20_000)


def _counts(db_url):
    with store_db.session_scope(db_url) as s:
        return s.query(Entity).count(), s.query(Source).count()


def test_the_cli_refuses_a_workbook_whose_shared_strings_are_too_large(db_url, tmp_path, low_limit):
    from workbench.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    book = tmp_path / "roll_FICTIONAL.xlsx"
    book.write_bytes(_workbook(2000))
    mapping = tmp_path / "roll.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    before = _counts(db_url)

    result = runner.invoke(app, ["import", "table", str(book), "--mapping", str(mapping)])

    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert "roll_FICTIONAL.xlsx" in message and "shared strings" in message and "give it as CSV" in message
    assert _counts(db_url) == before
    small = tmp_path / "small_FICTIONAL.xlsx"
    small.write_bytes(_workbook(20))
    assert runner.invoke(app, ["import", "table", str(small), "--mapping", str(mapping)]).exit_code == 0


def test_the_screening_page_refuses_it_too_and_starts_no_job(db_url, low_limit):
    client = signed_in_client(db_url, "rita", "researcher")
    token = csrf_of(client, "/")
    before = _counts(db_url)
    response = client.post("/screening", data={"csrf_token": token, "mapping_name": "", "mapping_text": MAPPING,
                                               "threshold": "0.7", "source_type": "registry"},
                           files={"file": ("roll_FICTIONAL.xlsx", _workbook(2000), "application/octet-stream")},
                           follow_redirects=False)
    assert response.status_code == 422
    assert "shared strings" in response.text and "roll_FICTIONAL.xlsx" in response.text
    assert _counts(db_url) == before


def test_a_renamed_shared_strings_part_is_counted_too(db_url, tmp_path, low_limit):
    """The reader finds the shared strings by their content type, not their name (found by review)."""
    from workbench.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    book = tmp_path / "renamed_FICTIONAL.xlsx"
    book.write_bytes(_workbook(2000, shared_part="s.xml"))
    mapping = tmp_path / "roll.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    result = runner.invoke(app, ["import", "table", str(book), "--mapping", str(mapping)])
    assert result.exit_code == 2 and "shared strings" in " ".join(result.output.split()), result.output
