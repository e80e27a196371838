"""QA round 12, tabular imports: a key can be scoped by a fixed value (parcel numbers repeat across counties);
a blank key, and a value the row's kind has no place for, are said rather than passed over. FICTIONAL rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workbench.sources.tabular import import_table, load_mapping
from workbench.store import db as store_db
from workbench.store.models import Entity, Link
from workbench.store.permissions import Actor

ACTOR = Actor("rita", "researcher")
HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"


def _roll_mapping(county: str, keys: str) -> str:
    return f"""name: County property roll
entities:
  parcel:
    kind: RealEstate
    keys: {keys}
    properties:
      name: {{template: "Parcel {{APN}}"}}
      parcelNumber: APN
      county: {{literal: "{county}"}}
  owner:
    kind: Person
    keys: [OWNER_NAME]
    properties:
      name: OWNER_NAME
links:
  - kind: Ownership
    source: owner
    target: parcel
"""


def _import(db_url, path, text, name="roll.yml"):
    with store_db.session_scope(db_url) as s:
        return import_table(s, ACTOR, path, load_mapping(text, name))


def _roll(tmp_path, name: str, *rows: str):
    """A FICTIONAL roll file with the county roll's header and these rows."""
    path = tmp_path / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def _parcels(db_url) -> list[dict]:
    with store_db.session_scope(db_url) as s:
        return [e.properties for e in s.execute(select(Entity).where(Entity.kind == "RealEstate")).scalars()]


def test_the_same_parcel_number_in_two_counties_is_two_parcels_when_the_key_names_the_county(db_url, tmp_path):
    laredo = _roll(tmp_path, "webb_roll_FICTIONAL.csv",
                   "100-200-002,1 Sample St Laredo,P,FICTIONAL SMITH JOHN,,01/02/2020,1")
    mcallen = _roll(tmp_path, "hidalgo_roll_FICTIONAL.csv",
                    "100-200-002,9 Other Ave McAllen,P,FICTIONAL DOE JANE,,01/02/2021,1")
    _import(db_url, laredo, _roll_mapping("FICTIONAL Webb", "[APN, county]"))
    second = _import(db_url, mcallen, _roll_mapping("FICTIONAL Hidalgo", "[APN, county]"))
    assert second.created == 2  # a parcel and its owner: the Webb parcel is not found again
    assert sorted(p["county"] for p in _parcels(db_url)) == [["FICTIONAL Hidalgo"], ["FICTIONAL Webb"]]
    again = _import(db_url, laredo, _roll_mapping("FICTIONAL Webb", "[APN, county]"))
    assert again.created == 0  # the same county's roll still finds its parcel again


def test_without_the_county_in_the_key_the_same_number_is_found_again_as_before(db_url, tmp_path):
    """Keys that name only columns make the ids they always made: stores imported earlier are found again."""
    first = _roll(tmp_path, "a_roll_FICTIONAL.csv", "100-200-003,1 Sample St,P,FICTIONAL SMITH JOHN,,01/02/2020,1")
    second = _roll(tmp_path, "b_roll_FICTIONAL.csv", "100-200-003,1 Sample St,P,FICTIONAL SMITH JOHN,,01/02/2020,1")
    _import(db_url, first, _roll_mapping("FICTIONAL Webb", "[APN]"))
    assert _import(db_url, second, _roll_mapping("FICTIONAL Hidalgo", "[APN]")).created == 0
    assert len(_parcels(db_url)) == 1


def test_a_blank_key_makes_a_record_of_the_row_and_says_so(db_url, tmp_path):
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(HEADER + "100-1,1 Sample St,P,FICTIONAL SMITH JOHN,,01/02/2020,1\n"
                             "100-2,2 Sample St,P,FICTIONAL SMITH JOHN,,01/02/2020,1\n"
                             "100-3,3 Sample St,P,FICTIONAL SMITH JOHN,PO BOX 1,01/02/2020,1\n")
    mapping = _roll_mapping("FICTIONAL Webb", "[APN]").replace(
        "keys: [OWNER_NAME]\n    properties:\n      name: OWNER_NAME\n",
        "keys: [OWNER_NAME, OWNER_MAILING_ADDRESS]\n    properties:\n      name: OWNER_NAME\n"
        "      address: OWNER_MAILING_ADDRESS\n")
    summary = _import(db_url, roll, mapping)
    said = [(where, message) for where, message in summary.warnings if "OWNER_MAILING_ADDRESS blank" in message]
    assert [where for where, _ in said] == ["roll_FICTIONAL.csv line 2 (data row 1)",
                                         "roll_FICTIONAL.csv line 3 (data row 2)"], summary.warnings
    assert "owner is a record of its own" in said[0][1]
    with store_db.session_scope(db_url) as s:
        assert len(s.execute(select(Entity).where(Entity.kind == "Person")).all()) == 3


def test_a_declared_company_holding_keeps_its_value_on_the_ownership_and_the_left_out_amount_is_said(db_url):
    from pathlib import Path

    mappings = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
    path = mappings / "mx_asset_declaration.yml"
    summary = _import(db_url, mappings / "mx_asset_declaration_FICTIONAL.xlsx",
                      path.read_text(encoding="utf-8"), path.name)
    with store_db.session_scope(db_url) as s:
        companies = {e.id: e for e in s.execute(select(Entity).where(Entity.kind == "Company")).scalars()}
        held = [link.properties for link in s.execute(select(Link).where(
            Link.kind == "Ownership", Link.target_id.in_(companies))).scalars()]
    assert companies and held and all(p.get("price") for p in held), held
    notes = [m for _, m in summary.warnings if "a Company has no amount" in m]
    assert len(notes) == len(held) and all(p["price"][0].split()[0] in " ".join(notes) for p in held)


def test_a_cell_that_says_no_value_in_words_is_a_blank_cell_and_the_row_goes_in(db_url, tmp_path):
    """QA round 12: Texas rolls write N/A for an unknown sale price; the row was rejected (and its owner never
    screened), and the screening page refused the whole file."""
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(HEADER + "100-1,1 Sample St,P,FICTIONAL SMITH JOHN,,01/02/2020,N/A\n"
                             "100-2,2 Sample St,P,FICTIONAL DOE JANE,,  n/d ,-\n"
                             "100-3,3 Sample St,P,FICTIONAL ROE RICHARD,,01/02/2020,(1000)\n")
    mapping = _roll_mapping("FICTIONAL Webb", "[APN]").replace(
        "    target: parcel\n", "    target: parcel\n    properties:\n"
        '      acquisitionDate: {column: DEED_DATE, date_format: "%m/%d/%Y"}\n'
        '      price: {template: "{SALE_PRICE} USD"}\n')
    summary = _import(db_url, roll, mapping)
    # '(1000)' is no value in words: that row is refused for its price, as before
    assert [where for where, _ in summary.rejected] == ["roll_FICTIONAL.csv line 4 (data row 3)"]
    with store_db.session_scope(db_url) as s:
        links = s.scalars(select(Link).where(Link.kind == "Ownership")).all()
        assert sorted(link.properties.get("acquisitionDate", [""])[0] for link in links) == ["", "2020-01-02"]
        assert all("price" not in link.properties for link in links)
    strict = mapping.replace("name: County property roll\n", "name: County property roll\nempty_values: []\n")
    again = _import(db_url, roll, strict)
    assert len(again.rejected) == 3  # a mapping can say every cell is a value


def test_a_workbook_whose_table_starts_below_a_title_and_blank_rows_is_read_from_its_header(db_url, tmp_path):
    """QA round 12: a declaration exported with a title row (merged across the columns) and blank rows above its
    header was refused as having no header row, or as missing every column."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["DECLARACIÓN PATRIMONIAL (FICTIONAL) — bienes inmuebles"])
    sheet.merge_cells("A1:G1")
    sheet.append([])
    sheet.append(HEADER.strip().split(","))
    sheet.append(["100-7", "7 Sample St", "P", "FICTIONAL SMITH JOHN", "", "01/02/2020", "1"])
    sheet.append([])
    sheet.append(["100-8", "8 Sample St", "P", "FICTIONAL DOE JANE", "", "01/02/2020", "1"])
    path = tmp_path / "roll_FICTIONAL.xlsx"
    book.save(path)
    summary = _import(db_url, path, _roll_mapping("FICTIONAL Webb", "[APN]"))
    assert summary.rejected == [] and sorted(p["parcelNumber"][0] for p in _parcels(db_url)) == ["100-7", "100-8"]
    with store_db.session_scope(db_url) as s:
        from workbench.store.models import Citation

        rows = sorted({c.locator for c in s.scalars(select(Citation))})
    assert rows == ["row 1", "row 2"]  # data rows counted from the header, as in a CSV file


def test_the_registry_mapping_keeps_namesake_officers_of_two_companies_apart(db_url, tmp_path):
    """QA round 12: officers were found again by name alone, so 'GARCIA LOPEZ JUAN' at two companies became one
    person linking the companies, a connection no record states."""
    from pathlib import Path

    mapping_path = Path(__file__).resolve().parents[1] / "fixtures" / "mappings" / "state_company_registry_real.yml"
    registry = tmp_path / "registry_FICTIONAL.csv"
    registry.write_text(
        "FILE_NUMBER,ENTITY_NAME,STATUS,FORMED,REGISTERED_AGENT,OFFICER_NAME,OFFICER_TITLE\n"
        "FICT-1,FICTIONAL ALFA LLC,Active,2018-06-01,FICTIONAL AGENT Uno,FICTIONAL GARCIA LOPEZ JUAN,Manager\n"
        "FICT-2,FICTIONAL BETA LLC,Active,2019-06-01,FICTIONAL AGENT Dos,FICTIONAL GARCIA LOPEZ JUAN,Member\n"
        "FICT-1,FICTIONAL ALFA LLC,Active,2018-06-01,FICTIONAL AGENT Uno,FICTIONAL GARCIA LOPEZ JUAN,Manager\n",
        encoding="utf-8")
    _import(db_url, registry, mapping_path.read_text(encoding="utf-8"), mapping_path.name)
    with store_db.session_scope(db_url) as s:
        officers = s.scalars(select(Entity).where(Entity.caption == "FICTIONAL GARCIA LOPEZ JUAN")).all()
        served = {o.id: {link.target_id for link in s.scalars(select(Link).where(Link.source_id == o.id))}
                  for o in officers}
    assert len(officers) == 2 and all(len(companies) == 1 for companies in served.values())  # one each, found again


def test_a_quote_never_closed_is_named_at_the_line_it_opens(db_url, tmp_path):
    """QA round 12: a stray quote swallowed the rest of the file into one cell, and the message named the file's
    last line ('has 2 cells, the header has 7') rather than where the quote opened."""
    from workbench.sources.tabular import TableError

    good = "".join(f"100-{n},{n} Sample St,P,FICTIONAL OWNER {n},,01/02/2020,1\n" for n in range(1, 5))
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(HEADER + good + '100-9,"9 Sample St,P,FICTIONAL OWNER 9,,01/02/2020,1\n' + good, encoding="utf-8")
    with pytest.raises(TableError) as refused:
        _import(db_url, roll, _roll_mapping("FICTIONAL Webb", "[APN]"))
    assert "line 6" in str(refused.value) and "a quoted cell opened on line 6 is never closed" in str(refused.value)
    assert _parcels(db_url) == []  # nothing of the file


def test_a_key_repeated_with_other_values_in_one_file_is_said_once_for_the_record(db_url, tmp_path):
    """QA round 12: one APN on 513 rows of a roll, each with another address, became one parcel with 508
    addresses and the summary said 'warnings 0'."""
    rows = "".join(f"555-000-001,{n} Sample St,P,FICTIONAL OWNER {n},,01/02/2020,1\n" for n in range(1, 9))
    rows += "555-000-002,1 Other St,P,FICTIONAL OWNER 1,,01/02/2020,1\n"  # the same owner again: same values
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(HEADER + rows, encoding="utf-8")
    mapping = _roll_mapping("FICTIONAL Webb", "[APN]").replace(
        "      parcelNumber: APN\n", "      parcelNumber: APN\n      address: SITUS_ADDRESS\n")
    summary = _import(db_url, roll, mapping)
    said = [message for _, message in summary.warnings if "is given on" in message]
    assert said == ["Parcel 555-000-001 (RealEstate) is given on 8 rows (1, 2, 3, 4, 5 and 3 more) with different "
                    "situs address: every value is kept, each cited to its row; check the mapping's keys if these are "
                    "not one record"], summary.warnings


def test_a_quote_never_closed_on_the_last_row_is_named_too(db_url, tmp_path):
    from workbench.sources.tabular import TableError

    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(HEADER + "100-1,1 Sample St,P,FICTIONAL OWNER 1,,01/02/2020,1\n"
                    '100-9,"9 Sample St,P,FICTIONAL OWNER 9,,01/02/2020,1\n', encoding="utf-8")
    with pytest.raises(TableError, match="a quoted cell opened on line 3 is never closed"):
        _import(db_url, roll, _roll_mapping("FICTIONAL Webb", "[APN]"))


def test_a_template_with_a_blank_cell_gives_no_value_and_the_row_goes_in(db_url, tmp_path):
    """QA round 12: a declaration's '{VALOR} {MONEDA}' with VALOR 'N/A' (read as blank) gave 'MXN', refused as an
    amount, and the row went with it; and 'NA' as a whole cell is a value (a name, a country code)."""
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text("APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE,CURRENCY\n"
                    "100-1,1 Sample St,P,FICTIONAL OWNER 1,,01/02/2020,N/A,MXN\n"
                    "100-2,2 Sample St,C,NA,,01/02/2020,5,MXN\n", encoding="utf-8")
    mapping = _roll_mapping("FICTIONAL Webb", "[APN]").replace(
        "    kind: Person\n", "    kind_from: {column: OWNER_TYPE, map: {P: Person, C: Company}}\n").replace(
        "    target: parcel\n", "    target: parcel\n    properties:\n"
        '      price: {template: "{SALE_PRICE} {CURRENCY}"}\n')
    summary = _import(db_url, roll, mapping)
    assert summary.rejected == []
    with store_db.session_scope(db_url) as s:
        prices = sorted(link.properties.get("price", [""])[0]
                        for link in s.scalars(select(Link).where(Link.kind == "Ownership")))
        assert prices == ["", "5 MXN"]
        assert s.scalars(select(Entity).where(Entity.caption == "NA")).one().kind == "Company"
