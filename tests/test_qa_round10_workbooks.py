"""QA round 10: workbooks read as a spreadsheet program shows them.

1. A percentage cell (0.5 formatted ``0%``, which Excel shows as 50%) is read as 50, not 0.5: an
   Ownership of 0.5 % instead of 50 % misses OFAC's 50 % rule.
2. A formula cell with no computed value (a workbook written by a program, never opened in a
   spreadsheet) is named with its cell, never read as blank: a required value rejects the row with that
   reason, an optional one is left out with a warning, and the screening upload refuses the file.
3. A workbook whose first sheet is not the table (a README) is refused naming the sheet read, the
   workbook's other sheets and the mapping's ``sheet:`` key.

Every workbook here is built with openpyxl from the FICTIONAL samples."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from typer.testing import CliRunner
from web_helpers import csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store.models import Entity, Link

MAPPINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
DECLARATION = MAPPINGS / "mx_asset_declaration_FICTIONAL.xlsx"
ROLL_MAPPING = MAPPINGS / "county_property_roll.yml"
FORMULA = "is a formula Excel has not computed: open and save the file in Excel or LibreOffice, or export it as CSV"


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def cli(db_url):
    from workbench.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0

    def run(*args):
        return runner.invoke(app, [str(a) for a in args])
    return run


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def _upload(client, data: bytes, name: str, mapping_name: str = "county_property_roll.yml", mapping_text: str = ""):
    return client.post("/screening", data={"csrf_token": client.headers["X-CSRF-Token"],
                                           "mapping_name": mapping_name, "mapping_text": mapping_text,
                                           "threshold": "0.7", "source_type": "registry"},
                       files={"file": (name, data, "application/octet-stream")}, follow_redirects=False)


def _file_errors(page: str) -> str:
    import html

    found = re.search(r'id="scr-file-errors">(.*?)</ul>', page, re.DOTALL)
    assert found, page[-2000:]
    return _flat(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))))


def _bytes(book) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---- 1. percentages -------------------------------------------------------------------------------

def _declaration_with_percentages() -> bytes:
    """The FICTIONAL declaration with its PORCENTAJE cells as a spreadsheet keeps percentages: a fraction
    formatted as a percentage (Excel shows 50 % and 12.5 %), and one number whose format only writes a
    percent sign after it (a quoted "%": Excel shows 33.3%, and the number is 33.3)."""
    book = load_workbook(DECLARATION)
    sheet = book["declaracion"]
    assert sheet["M1"].value == "PORCENTAJE"
    for cell, value, number_format in (("M2", 0.5, "0%"), ("M3", 0.125, "0.0%"), ("M4", 33.3, '0.0"%"')):
        sheet[cell] = value
        sheet[cell].number_format = number_format
    return _bytes(book)


def test_a_percentage_cell_is_imported_as_the_percentage_excel_shows(cli, db_url, tmp_path):
    book = tmp_path / "mx_asset_declaration_FICTIONAL.xlsx"
    book.write_bytes(_declaration_with_percentages())

    result = cli("import", "table", book, "--mapping", MAPPINGS / "mx_asset_declaration.yml")

    assert result.exit_code == 0, result.output
    with store_db.session_scope(db_url) as s:
        shares = {s.get(Entity, link.target_id).caption: link.properties["percentage"]
                  for link in s.scalars(select(Link).where(Link.kind == "Ownership"))}
    assert shares == {"FICTIONAL casa habitacion": ["50"], "FICTIONAL condominium": ["12.5"],
                      "FICTIONAL COMERCIALIZADORA EJEMPLO S.A. DE C.V.": ["33.3"]}


def test_a_confirmed_screening_hit_writes_the_percentage_excel_shows(client, db_url):
    from test_web_screening import wait_until_finished

    official = client.post("/api/entities", json={"kind": "Person", "properties": {
        "name": "FICTICIO Juan EJEMPLO MUESTRA", "topics": ["role.official"]}}).json()["id"]
    response = _upload(client, _declaration_with_percentages(), "declaracion_FICTIONAL.xlsx",
                       mapping_name="mx_asset_declaration.yml")
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    assert wait_until_finished(client, job_id)["status"] == "done"
    page = client.get(f"/screening/{job_id}").text
    items = re.findall(r'<tr id="item-(\d+)" class="status-open">(.*?)</tr>', page, re.DOTALL)
    first = [(item, body) for item, body in items
             if f"/entities/{official}" in body and re.search(r'<td class="num">1</td>', body)]
    assert first, "the declarant was not raised on the first row"
    item_id, body = first[0]
    version = re.search(r'name="version" value="(\d+)"', body).group(1)
    confirmed = client.post(f"/screening/items/{item_id}", data={
        "csrf_token": client.headers["X-CSRF-Token"], "verdict": "confirmed", "job_id": job_id,
        "version": version}, follow_redirects=True)
    assert "Confirmed" in confirmed.text
    with store_db.session_scope(db_url) as s:
        link = s.scalars(select(Link).where(Link.kind == "Ownership", Link.source_id == official)).one()
        assert s.get(Entity, link.target_id).caption == "FICTIONAL casa habitacion"
        assert link.properties["percentage"] == ["50"]


# ---- 2. formulas without a computed value ---------------------------------------------------------

ROLL_HEADER = ["APN", "SITUS_ADDRESS", "OWNER_TYPE", "OWNER_NAME", "OWNER_MAILING_ADDRESS", "DEED_DATE",
               "SALE_PRICE", "NOTE", "OWNER_GIVEN", "OWNER_FAMILY"]


def _roll_with_formulas() -> Workbook:
    """A FICTIONAL roll as a program writes one with openpyxl: formulas without computed values. Row 2's
    owner is a formula (D2 joins I2 and J2); row 3's sale price is one (G3); row 4 has none."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Roll"
    sheet.append(ROLL_HEADER)
    sheet.append(["FICT-010-0001", "1 Imaginary Lane, Fictionville, TX 79999", "P", '=I2&" "&J2',
                  "Calle Ficticia 1, Ciudad Inventada, Sinaloa", "03/15/2019", 450000, "", "FICTIONAL PERSONA",
                  "Formula Uno"])
    sheet.append(["FICT-010-0002", "2 Imaginary Lane, Fictionville, TX 79999", "P", "FICTIONAL PERSON Dos Ejemplo",
                  "Calle Ficticia 2, Ciudad Inventada, Sinaloa", "04/16/2020", "=2*150000", "", "", ""])
    sheet.append(["FICT-010-0003", "3 Imaginary Lane, Fictionville, TX 79999", "C", "FICTIONAL TRES LLC",
                  "3 Pretend Plaza, Fictionville, TX 79999", "05/17/2021", 300000, "", "", ""])
    return book


def test_a_formula_without_a_computed_value_is_named_on_import_never_read_as_blank(cli, db_url, tmp_path):
    book = tmp_path / "roll_FICTIONAL.xlsx"
    _roll_with_formulas().save(book)

    result = cli("import", "table", book, "--mapping", ROLL_MAPPING)

    output = _flat(result.output)
    assert result.exit_code == 3, result.output  # a partial import: the formula owner's row is rejected
    assert f"roll_FICTIONAL.xlsx sheet row 2 (data row 1): owner.name: OWNER_NAME (cell D2) {FORMULA}" in output
    assert "is empty in this row" not in output
    # the optional sale price is left out of row 3, with a warning naming its cell
    assert f"roll_FICTIONAL.xlsx sheet row 3 (data row 2): Ownership price left out: SALE_PRICE (cell G3) {FORMULA}" \
        in output
    with store_db.session_scope(db_url) as s:
        prices = {s.get(Entity, link.target_id).caption: link.properties.get("price")
                  for link in s.scalars(select(Link).where(Link.kind == "Ownership"))}
        assert not s.scalars(select(Entity).where(Entity.caption == "Parcel FICT-010-0001")).all()
    assert prices == {"Parcel FICT-010-0002": None, "Parcel FICT-010-0003": ["300000 USD"]}


def _with_cached_values(data: bytes, cached: dict[str, tuple[str, str]]) -> bytes:
    """The workbook as Excel saves it: each formula cell keeps its computed value (``cell: (type, value)``,
    type ``str`` for a text, ``n`` for a number)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                text = content.decode("utf-8")
                for cell, (kind, value) in cached.items():
                    text, count = re.subn(rf'<c r="{cell}"([^>]*)>(<f>[^<]*</f>)<v\s*/>',
                                          rf'<c r="{cell}"\1 t="{kind}">\2<v>{value}</v>', text)
                    assert count == 1, (cell, text)
                content = text.encode("utf-8")
            target.writestr(info, content)
    return out.getvalue()


def test_formulas_with_their_computed_values_read_as_before(cli, db_url, tmp_path):
    """A workbook saved by a spreadsheet program keeps each formula's value, an empty text included (row 4's
    mailing address, a formula whose result is '', reads as a blank cell, without a word)."""
    roll = _roll_with_formulas()
    roll["Roll"]["E4"] = '=IF(C4="C","","?")'
    book = tmp_path / "saved_by_excel_FICTIONAL.xlsx"
    book.write_bytes(_with_cached_values(_bytes(roll), {"D2": ("str", "FICTIONAL PERSONA Formula Uno"),
                                                        "G3": ("n", "300000"), "E4": ("str", "")}))

    result = cli("import", "table", book, "--mapping", ROLL_MAPPING)

    assert result.exit_code == 0, result.output
    assert "formula" not in result.output
    with store_db.session_scope(db_url) as s:
        owner = s.scalars(select(Entity).where(Entity.caption == "FICTIONAL PERSONA Formula Uno")).one()
        assert owner.kind == "Person"
        company = s.scalars(select(Entity).where(Entity.caption == "FICTIONAL TRES LLC")).one()
        assert "address" not in company.properties
        prices = {s.get(Entity, link.target_id).caption: link.properties.get("price")
                  for link in s.scalars(select(Link).where(Link.kind == "Ownership"))}
    assert prices["Parcel FICT-010-0002"] == ["300000 USD"]


def test_the_screening_upload_refuses_a_formula_without_a_computed_value_naming_its_cell(client):
    response = _upload(client, _bytes(_roll_with_formulas()), "roll_FICTIONAL.xlsx")

    assert response.status_code == 422, response.text
    errors = _file_errors(response.text)
    assert "roll_FICTIONAL.xlsx, sheet row 2 (data row 1):" in errors
    assert f"OWNER_NAME (cell D2) {FORMULA}" in errors
    # the optional price too: a confirmed hit would otherwise write the row without it, unsaid
    assert f"sheet row 3 (data row 2): Ownership price: SALE_PRICE (cell G3) {FORMULA}" in errors
    assert "No screening jobs yet" in client.get("/screening").text


# ---- 3. which sheet was read ----------------------------------------------------------------------

def _roll_after_a_readme() -> bytes:
    book = Workbook()
    readme = book.active
    readme.title = "README"
    readme["A1"] = "This roll was exported on 2024-01-31 from the FICTIONAL Example County assessor."
    readme["A2"] = "Columns are described on the sheet Notes."
    roll = book.create_sheet("Roll")
    for row in _roll_with_formulas()["Roll"].iter_rows(max_row=1, values_only=True):
        roll.append(row)
    roll.append(["FICT-011-0001", "1 Imaginary Lane, Fictionville, TX 79999", "P", "FICTIONAL PERSON Once Ejemplo",
                 "Calle Ficticia 11, Ciudad Inventada, Sinaloa", "03/15/2019", 450000, "", "", ""])
    book.create_sheet("Notes")["A1"] = "FICTIONAL notes"
    return _bytes(book)


def test_a_workbook_whose_first_sheet_is_a_readme_is_refused_naming_its_sheets(cli, db_url, tmp_path):
    book = tmp_path / "roll_FICTIONAL.xlsx"
    book.write_bytes(_roll_after_a_readme())

    result = cli("import", "table", book, "--mapping", ROLL_MAPPING)

    assert result.exit_code == 2, result.output
    output = _flat(result.output)
    assert "missing column(s) APN" in output
    assert ("this is the workbook's first sheet, 'README', and its other sheets are 'Roll', 'Notes': the sheet "
            "'Roll' has the mapping's columns; name it in the mapping (sheet: Roll)") in output
    assert "nothing was imported" in output

    # The mapping names the sheet: the roll is read from it.
    named = tmp_path / "roll_sheet.yml"
    named.write_text(ROLL_MAPPING.read_text(encoding="utf-8") + "sheet: Roll\n", encoding="utf-8")
    imported = cli("import", "table", book, "--mapping", named)
    assert imported.exit_code == 0, imported.output
    with store_db.session_scope(db_url) as s:
        assert s.scalars(select(Entity).where(Entity.caption == "Parcel FICT-011-0001")).one()

    # A sheet the workbook lacks is refused with the sheets it has.
    wrong = tmp_path / "roll_wrong_sheet.yml"
    wrong.write_text(ROLL_MAPPING.read_text(encoding="utf-8") + "sheet: Rol\n", encoding="utf-8")
    refused = cli("import", "table", book, "--mapping", wrong)
    assert refused.exit_code == 2
    assert ("no sheet 'Rol', which the mapping's sheet: names (the workbook's sheets: 'README', 'Roll', 'Notes')"
            in _flat(refused.output))


def test_the_screening_upload_names_the_sheet_it_read_too(client):
    response = _upload(client, _roll_after_a_readme(), "roll_FICTIONAL.xlsx")

    assert response.status_code == 422, response.text
    errors = _file_errors(response.text)
    assert "roll_FICTIONAL.xlsx: missing column(s) APN" in errors
    assert "this is the workbook's first sheet, 'README', and its other sheets are 'Roll', 'Notes'" in errors
    assert "name it in the mapping (sheet: Roll)" in errors


def test_a_workbook_waiting_too_long_behind_another_is_refused_with_a_way_forward(client, monkeypatch):
    """Each upload waiting for the workbook before it held a server thread for as long as it took: the
    wait is bounded, and the user is told what to do. (The other workbook is held here by the test.)"""
    from workbench.web import uploads

    monkeypatch.setattr(uploads, "WORKBOOK_WAIT_SECONDS", 0.05)
    assert uploads._WORKBOOK_CHECKS.acquire(blocking=False)  # another upload's workbook, being read
    try:
        response = _upload(client, _roll_after_a_readme(), "roll_FICTIONAL.xlsx")
    finally:
        uploads._WORKBOOK_CHECKS.release()
    assert response.status_code == 422
    errors = _file_errors(response.text)
    assert "roll_FICTIONAL.xlsx: another workbook has been checked for over 0.05 s" in errors
    assert "send the file again in a minute, or as CSV" in errors
    again = _upload(client, _roll_after_a_readme(), "roll_FICTIONAL.xlsx")  # once it is done, it is read
    assert "missing column(s) APN" in _file_errors(again.text)
