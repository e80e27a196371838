"""QA round 13: a CSV property roll or declaration whose table starts below a title, as county exports do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.test_qa_round12_tables import HEADER, _import, _parcels, _roll_mapping
from workbench.sources.tabular import TableError
from workbench.store import db as store_db
from workbench.store.models import Citation

PREAMBLE = "Webb County Appraisal District - parcel export (FICTIONAL)\nGenerated 2026-11-01\n\n"


def test_a_csv_whose_header_sits_below_a_title_and_a_blank_line_is_read_from_its_header(db_url, tmp_path):
    """It was refused as 'missing column(s) APN, ...' naming the title as the file's only column, while the
    same table in a workbook went in."""
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(PREAMBLE + HEADER.replace(",", ";")
                    + "100-7;7 Sample St;P;FICTIONAL SMITH JOHN;;01/02/2020;1\n"
                    + "100-8;8 Sample St;P;FICTIONAL DOE JANE;;01/02/2020;1\n", encoding="utf-8")
    summary = _import(db_url, roll, _roll_mapping("FICTIONAL Webb", "[APN]"))
    assert summary.rejected == [] and sorted(p["parcelNumber"][0] for p in _parcels(db_url)) == ["100-7", "100-8"]
    with store_db.session_scope(db_url) as s:
        rows = sorted({c.locator for c in s.scalars(select(Citation))})
    assert rows == ["row 1", "row 2"]  # data rows counted from the header


def test_a_bad_row_below_a_title_is_named_at_its_line_in_the_file(db_url, tmp_path):
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(PREAMBLE + HEADER + "100-7,7 Sample St,P,FICTIONAL SMITH JOHN,,01/02/2020,1\n"
                    + "100-8,8 Sample St,P\n", encoding="utf-8")
    with pytest.raises(TableError) as refused:
        _import(db_url, roll, _roll_mapping("FICTIONAL Webb", "[APN]"))
    assert "line 6 (data row 2): has 3 cells, the header has 7" in str(refused.value)
    assert _parcels(db_url) == []


def test_a_quote_never_closed_below_a_title_is_named_where_it_opens(db_url, tmp_path):
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(PREAMBLE + HEADER + "100-1,1 Sample St,P,FICTIONAL OWNER 1,,01/02/2020,1\n"
                    '100-9,"9 Sample St,P,FICTIONAL OWNER 9,,01/02/2020,1\n', encoding="utf-8")
    with pytest.raises(TableError, match="a quoted cell opened on line 6 is never closed"):
        _import(db_url, roll, _roll_mapping("FICTIONAL Webb", "[APN]"))


def test_a_csv_without_the_columns_in_its_first_lines_is_still_refused_naming_them(db_url, tmp_path):
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text("Parcel,Owner\n100-1,FICTIONAL OWNER 1\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"missing column\(s\) APN, .*\(the file has: Parcel, Owner\)"):
        _import(db_url, roll, _roll_mapping("FICTIONAL Webb", "[APN]"))


def test_a_kind_read_from_a_name_needs_the_kind_of_the_other_names(db_url):
    from workbench.sources.tabular import MappingError, load_mapping

    with pytest.raises(MappingError, match="'legal_form' needs a 'column' holding the names and a 'default'"):
        load_mapping("name: R\nentities:\n  agent:\n    kind_from: {column: AGENT, legal_form: Company}\n"
                     "    properties: {name: AGENT}\n")


def test_names_with_a_legal_form_anywhere_or_at_the_end_are_companies_and_people_stay_people():
    from workbench.matching.owners import names_a_company

    companies = ["CT CORPORATION SYSTEM", "NATIONAL REGISTERED AGENTS, INC.", "NORTHWEST REGISTERED AGENT LLC",
                 "SERVICIOS EJEMPLO, S.A. DE C.V.", "CORPORATION SERVICE COMPANY"]
    people = ["SMITH JOHN", "GARCIA LOPEZ, Juan", "COSTA, Ana", "DOE JANE TRUSTEE", "LINCOLN ABRAHAM"]
    assert [n for n in companies if not names_a_company(n)] == []
    assert [n for n in people if names_a_company(n)] == []
