"""Tabular import with YAML mappings: the three shipped FICTIONAL examples and bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from workbench.schema import ValidationError
from workbench.sources.tabular import (
    MappingError,
    TableError,
    apply_row,
    import_table,
    load_mapping,
    read_rows,
    source_for_table,
)
from workbench.store import db as store_db
from workbench.store.entities import NotFound, create_entity, stats
from workbench.store import audit
from workbench.store.models import AuditEntry, AuditHead, Citation, Entity, Link, Source
from workbench.store.permissions import Actor

MAPPINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
ACTOR = Actor("rita", "researcher")


def _mapping(name: str):
    path = MAPPINGS / f"{name}.yml"
    return load_mapping(path.read_text(encoding="utf-8"), path.name)


def _run(db_url, path, mapping):
    with store_db.session_scope(db_url) as s:
        return import_table(s, ACTOR, path, mapping)


def test_property_roll_creates_parcels_owners_and_ownership_citing_rows(db_url):
    mapping = _mapping("county_property_roll")
    summary = _run(db_url, MAPPINGS / "county_property_roll_FICTIONAL.csv", mapping)
    assert summary.rejected == [] and summary.created == 16
    with store_db.session_scope(db_url) as s:
        counts = stats(s)
        assert counts["entities"] == {"Company": 2, "Person": 6, "RealEstate": 8}
        assert counts["links"] == {"Ownership": 8}
        parcel = s.scalars(select(Entity).where(Entity.kind == "RealEstate",
                                                Entity.caption == "Parcel FICT-001-0002")).one()
        assert parcel.properties["identifier"] == ["APN:FICT0010002"]  # stored compact
        link = s.scalars(select(Link).where(Link.target_id == parcel.id)).one()
        assert link.properties["price"] == ["1250000 USD"] and link.start_date is None
        assert link.properties["acquisitionDate"] == ["2020-11-02"]
        owner = s.get(Entity, link.source_id)
        assert owner.kind == "Company" and owner.caption == "FICTIONAL HOLDINGS EJEMPLO LLC"
        citation = s.scalars(select(Citation).where(Citation.link_id == link.id)).one()
        assert citation.locator == "row 2" and citation.source.file_name == "county_property_roll_FICTIONAL.csv"
        assert len(citation.source.sha256) == 64 and "workbench.sources" in (citation.excerpt or "")
        head = s.get(AuditHead, 1).seq
    again = _run(db_url, MAPPINGS / "county_property_roll_FICTIONAL.csv", mapping)
    assert again.created == 0 and again.skipped == 16
    with store_db.session_scope(db_url) as s:
        assert s.get(AuditHead, 1).seq == head


def test_company_registry_makes_directorships(db_url):
    summary = _run(db_url, MAPPINGS / "state_company_registry_FICTIONAL.csv", _mapping("state_company_registry"))
    assert summary.rejected == []
    with store_db.session_scope(db_url) as s:
        assert stats(s)["links"] == {"Directorship": 6}
        agents = s.scalars(select(Entity).where(Entity.caption == "FICTIONAL AGENT Servicios Ejemplo")).all()
        assert len(agents) == 1 and agents[0].kind == "Person"  # the same agent of two companies: one person (keys)
        # An agent whose name carries a legal form is a company, not a person named 'INC'.
        firm = s.scalars(select(Entity).where(Entity.caption == "FICTIONAL REGISTERED AGENTS EJEMPLO INC")).one()
        assert firm.kind == "Company"
        company = s.scalars(select(Entity).where(Entity.caption == "FICTIONAL INMOBILIARIA MUESTRA LLC")).one()
        assert company.properties["status"] == ["Forfeited"]
        assert company.properties["incorporationDate"] == ["2019-01-20"]


def test_xlsx_asset_declaration(db_url):
    mapping = _mapping("mx_asset_declaration")
    rows = list(read_rows(MAPPINGS / "mx_asset_declaration_FICTIONAL.xlsx", mapping))
    assert [n for n, _ in rows] == [1, 2, 3]
    assert mapping.screen_names(rows[0][1]) == ["FICTICIO Juan EJEMPLO MUESTRA"]
    summary = _run(db_url, MAPPINGS / "mx_asset_declaration_FICTIONAL.xlsx", mapping)
    assert summary.rejected == []
    with store_db.session_scope(db_url) as s:
        assert stats(s)["entities"] == {"Company": 1, "Person": 1, "RealEstate": 2}
        person = s.scalars(select(Entity).where(Entity.kind == "Person")).one()
        assert person.properties["identifier"] == ["CURP:EEMJ800101HSLXXX09"]
        assert person.properties["fatherName"] == ["EJEMPLO"]
        shares = s.scalars(select(Link).where(Link.kind == "Ownership")).all()
        assert sorted(l.properties["percentage"][0] for l in shares) == ["100", "33.3", "50"]


def test_bad_rows_are_rejected_with_reasons_and_the_rest_imported(db_url, tmp_path):
    path = tmp_path / "roll.csv"
    text = (MAPPINGS / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8")
    path.write_text(text.replace("07/30/2021", "31/31/2021"), encoding="utf-8")
    summary = _run(db_url, path, _mapping("county_property_roll"))
    assert [w for w, _ in summary.rejected] == ["roll.csv line 4 (data row 3)"]
    assert "DEED_DATE: '31/31/2021' is not a date written like 03/15/2019 (%m/%d/%Y)" in summary.rejected[0][1]
    with store_db.session_scope(db_url) as s:
        assert stats(s)["links"] == {"Ownership": 7}  # every row but the rejected one
        # The summary counts what is there: the rejected row's parcel and owner were rolled back.
        assert summary.created == sum(stats(s)["entities"].values())
        assert summary.details["links_created"] == 7


def test_unreadable_tables_fail_whole_with_file_and_row(db_url, tmp_path):
    mapping = _mapping("county_property_roll")
    ragged = tmp_path / "ragged.csv"
    lines = (MAPPINGS / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8").splitlines()
    ragged.write_text("\n".join(lines[:3] + ["FICT-9,only three,cells"]) + "\n", encoding="utf-8")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("\n".join(lines[:2] + ["FICT-9,Calle Ñandú,P,FICTIONAL X,y,01/01/2020,1"]).encode("latin-1"))
    missing = tmp_path / "missing.csv"
    missing.write_text("APN,SITUS_ADDRESS\nFICT-1,x\n", encoding="utf-8")
    fake = tmp_path / "fake.xlsx"
    fake.write_text("this is not a workbook", encoding="utf-8")
    with store_db.session_scope(db_url) as s:
        before = stats(s)
    for path, expected in ((ragged, "ragged.csv, line 4 (data row 3): has 3 cells"), (latin, "latin.csv, line 3: not UTF-8"),
                           (missing, "missing.csv: missing column(s) DEED_DATE"),
                           (fake, "fake.xlsx: not a readable XLSX workbook")):
        with pytest.raises(TableError) as caught:
            _run(db_url, path, mapping)
        assert expected in str(caught.value)
    with store_db.session_scope(db_url) as s:
        assert stats(s) == before


def test_mapping_errors_name_the_key_or_line():
    with pytest.raises(MappingError, match=r"m.yml, line \d+: invalid YAML"):
        load_mapping("entities:\n  a:\n    kind: [Person\n", "m.yml")
    with pytest.raises(MappingError, match=r"entities.owner.kind: unknown entity kind 'Persn'"):
        load_mapping("entities:\n  owner:\n    kind: Persn\n", "m.yml")
    with pytest.raises(MappingError, match=r"entities.owner.properties.shoeSize"):
        load_mapping("entities:\n  owner:\n    kind: Person\n    properties: {shoeSize: X}\n", "m.yml")
    with pytest.raises(MappingError, match=r"links\[0\].target: 'parcel'"):
        load_mapping("entities:\n  owner: {kind: Person}\nlinks:\n  - {kind: Ownership, source: owner, target: parcel}\n")


def test_apply_row_binds_a_screened_entity(session):
    mapping = _mapping("county_property_roll")
    existing = create_entity(session, ACTOR, "Person", {"name": "FICTIONAL Known Person"}).obj
    source_id = source_for_table(session, ACTOR, MAPPINGS / "county_property_roll_FICTIONAL.csv", mapping)
    number, row = next(iter(read_rows(MAPPINGS / "county_property_roll_FICTIONAL.csv", mapping)))
    created = apply_row(session, ACTOR, mapping, row, number, source_id, bind={"owner": existing.id})
    kinds = {session.get(Entity, i).kind if session.get(Entity, i) else session.get(Link, i).kind for i in created}
    assert kinds == {"RealEstate", "Ownership"}
    link = session.scalars(select(Link).where(Link.source_id == existing.id)).one()
    assert session.scalar(select(func.count()).select_from(Citation).where(Citation.link_id == link.id)) == 1
    with pytest.raises(NotFound):
        apply_row(session, ACTOR, mapping, row, number, source_id, bind={"owner": "no-such-entity"})
    row = {**row, "DEED_DATE": "someday"}
    with pytest.raises(ValidationError):
        apply_row(session, ACTOR, mapping, row, 9, source_id)


def test_cli_table_import(db_url):
    from workbench.cli import app

    result = CliRunner().invoke(app, ["import", "table", str(MAPPINGS / "state_company_registry_FICTIONAL.csv"),
                                      "--mapping", str(MAPPINGS / "state_company_registry.yml")])
    assert result.exit_code == 0, result.output
    assert "created" in result.output and "rejected" in result.output
    bad = CliRunner().invoke(app, ["import", "table", str(MAPPINGS / "state_company_registry_FICTIONAL.csv"),
                                   "--mapping", str(MAPPINGS / "county_property_roll.yml")])
    assert bad.exit_code != 0 and "missing column" in bad.output and "Traceback" not in bad.output


def test_xlsx_date_cells_are_taken_whatever_the_text_date_format(db_url, tmp_path):
    """A county roll exported to Excel carries real date cells: the mapping's %m/%d/%Y is for text."""
    import csv
    import datetime as dt

    from openpyxl import Workbook

    rows = list(csv.reader((MAPPINGS / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8").splitlines()))
    header, data = rows[0], rows[1:]
    column = header.index("DEED_DATE")
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for values in data:
        cells = list(values)
        month, day, year = (int(p) for p in cells[column].split("/"))
        cells[column] = dt.datetime(year, month, day)
        sheet.append(cells)
    path = tmp_path / "roll_FICTIONAL.xlsx"
    book.save(path)
    summary = _run(db_url, path, _mapping("county_property_roll"))
    assert summary.rejected == []
    first = data[0][column].split("/")
    with store_db.session_scope(db_url) as s:
        dates = {d for l in s.scalars(select(Link).where(Link.kind == "Ownership")) for d in
                 l.properties.get("acquisitionDate", [])}
    assert f"{first[2]}-{first[0]}-{first[1]}" in dates


def test_a_bad_source_grade_in_the_mapping_is_named_when_the_mapping_is_read(db_url, tmp_path):
    from workbench.sources.tabular import MappingError, load_mapping

    text = (MAPPINGS / "county_property_roll.yml").read_text(encoding="utf-8")
    bad = re.sub(r"(?m)^(\s+)reliability: B$", r"\1reliability: Z", text, count=1)
    assert bad != text
    with pytest.raises(MappingError, match=r"roll\.yml: source\.reliability: unknown reliability grade 'Z'"):
        load_mapping(bad, "roll.yml")


def _roll_lines() -> list[str]:
    return (MAPPINGS / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8").splitlines()


def test_a_row_refused_at_its_second_entity_leaves_nothing_of_the_row(db_url, tmp_path):
    """Rows are checked whole before any of them is written: the parcel of a row whose owner is
    refused is not created either."""
    lines = _roll_lines()
    # Row 3's owner name holds a right-to-left override, which names refuse; its parcel comes first.
    lines[3] = lines[3].replace("FICTIONAL PERSON Dos Muestra", "FICTIONAL PERSON Dos \u202eMuestra")
    path = tmp_path / "roll.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = _run(db_url, path, _mapping("county_property_roll"))
    assert [w for w, _ in summary.rejected] == ["roll.csv line 4 (data row 3)"]
    assert "U+202E" in summary.rejected[0][1]
    with store_db.session_scope(db_url) as s:
        captions = set(s.scalars(select(Entity.caption)))
        assert "Parcel FICT-001-0002" in captions and "Parcel FICT-001-0003" not in captions
        assert summary.created == sum(stats(s)["entities"].values())
        assert audit.verify(s)[1] is None


def test_the_same_fact_on_two_rows_is_one_link_citing_both(db_url, tmp_path):
    lines = _roll_lines()
    path = tmp_path / "roll.csv"
    path.write_text("\n".join(lines + [lines[2]]) + "\n", encoding="utf-8")  # row 2 again as the last row
    summary = _run(db_url, path, _mapping("county_property_roll"))
    assert summary.rejected == [] and summary.details["links_created"] == 8
    with store_db.session_scope(db_url) as s:
        parcel = s.scalars(select(Entity).where(Entity.caption == "Parcel FICT-001-0002")).one()
        link = s.scalars(select(Link).where(Link.target_id == parcel.id)).one()
        locators = sorted(s.scalars(select(Citation.locator).where(Citation.link_id == link.id)))
        assert locators == ["row 2", f"row {len(lines)}"]


def test_a_later_roll_adds_its_values_to_the_parcels_it_shares_and_cites_them(db_url, tmp_path):
    mapping = _mapping("county_property_roll")
    _run(db_url, MAPPINGS / "county_property_roll_FICTIONAL.csv", mapping)
    lines = _roll_lines()
    later = tmp_path / "roll-2025.csv"
    later.write_text("\n".join([lines[0], lines[2].replace("202 Nowhere Road", "202 Nowhere Rd, Unit B")]) + "\n",
                     encoding="utf-8")
    summary = _run(db_url, later, mapping)
    assert summary.updated == 1 and summary.created == 0 and summary.rejected == []
    with store_db.session_scope(db_url) as s:
        parcel = s.scalars(select(Entity).where(Entity.caption == "Parcel FICT-001-0002")).one()
        assert len(parcel.properties["address"]) == 2 and parcel.version == 2
        files = sorted(set(s.scalars(select(Source.file_name).join(Citation, Citation.source_id == Source.id)
                                     .where(Citation.entity_id == parcel.id))))
        assert files == ["county_property_roll_FICTIONAL.csv", "roll-2025.csv"]
        # QA round 10: the later roll cited the whole parcel, so neither address said which file gave it.
        by_value = dict(s.execute(select(Citation.value, Source.file_name).join(Source, Citation.source_id == Source.id)
                                  .where(Citation.entity_id == parcel.id, Citation.prop == "address")).all())
        assert [f for v, f in by_value.items() if v.startswith("202 Nowhere Rd, Unit B")] == ["roll-2025.csv"]
        whole = s.scalars(select(Source.file_name).join(Citation, Citation.source_id == Source.id)
                          .where(Citation.entity_id == parcel.id, Citation.prop.is_(None))).all()
        assert whole == ["county_property_roll_FICTIONAL.csv"]  # the first roll made the entry
        cited = s.scalar(select(func.count()).select_from(Citation))
    again = _run(db_url, later, mapping)  # the same roll again adds nothing
    assert again.updated == 0 and again.created == 0
    with store_db.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Citation)) == cited
        assert audit.verify(s)[1] is None


def test_a_template_reads_any_header_even_with_dots_and_brackets(db_url, tmp_path):
    path = tmp_path / "parcels.csv"
    path.write_text("Parcel No.,Owner [name]\n00012345,FICTIONAL ALPHA LLC\n", encoding="utf-8")
    mapping = load_mapping("name: QA parcels\nentities:\n  parcel:\n    kind: RealEstate\n    keys: [Parcel No.]\n"
                           "    properties:\n      name: {template: 'Parcel {Parcel No.} of {Owner [name]}'}\n"
                           "      parcelNumber: Parcel No.\n", "p.yml")
    summary = _run(db_url, path, mapping)
    assert summary.rejected == [] and summary.created == 1
    with store_db.session_scope(db_url) as s:
        assert s.scalars(select(Entity.caption)).one() == "Parcel 00012345 of FICTIONAL ALPHA LLC"


@pytest.mark.parametrize("spec, message", [
    ("{template: 'Parcel {APN'}", "has a brace without its pair"),
    ("{template: 'Parcel'}", "names no column"),
    ("{column: APN, date_format: '%Q'}", "cannot read a date back"),
])
def test_template_and_date_format_mistakes_are_named_when_the_mapping_is_read(spec, message):
    with pytest.raises(MappingError, match=rf"p\.yml: entities\.parcel\.properties\.name.*{message}"):
        load_mapping(f"entities:\n  parcel:\n    kind: RealEstate\n    properties:\n      name: {spec}\n", "p.yml")


def test_a_link_no_row_could_fit_is_refused_with_the_mapping(db_url):
    text = (MAPPINGS / "county_property_roll.yml").read_text(encoding="utf-8")
    swapped = text.replace("    source: owner\n    target: parcel", "    source: parcel\n    target: owner")
    assert swapped != text
    with pytest.raises(MappingError, match=r"links\[0\]\.source: Ownership links cannot start at parcel \(RealEstate"):
        load_mapping(swapped, "badends.yml")


def test_a_header_naming_a_mapped_column_twice_is_refused_naming_both(db_url, tmp_path):
    lines = _roll_lines()
    path = tmp_path / "duphdr.csv"
    path.write_text("\n".join([lines[0] + ",OWNER_NAME"] + [l + ",SOMEONE ELSE" for l in lines[1:]]) + "\n",
                    encoding="utf-8")
    with pytest.raises(TableError, match=r"duphdr\.csv: the header names a column the mapping reads more than once "
                                         r"\('OWNER_NAME' is columns 4, 8\)"):
        _run(db_url, path, _mapping("county_property_roll"))
    with store_db.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == 0


def test_merged_cells_give_their_value_to_every_row_they_span(db_url, tmp_path):
    """A registry merges an owner's cells over the rows of its properties: each row keeps the owner."""
    import csv as csv_module

    from openpyxl import Workbook

    rows = list(csv_module.reader((MAPPINGS / "county_property_roll_FICTIONAL.csv").open(encoding="utf-8")))
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for column in "CDE":  # the owner of row 2 also owns row 3's parcel
        sheet[f"{column}3"] = None
        sheet.merge_cells(f"{column}2:{column}3")
    path = tmp_path / "merged.xlsx"
    book.save(path)
    summary = _run(db_url, path, _mapping("county_property_roll"))
    assert summary.rejected == [] and summary.details["links_created"] == 8
    with store_db.session_scope(db_url) as s:
        parcel = s.scalars(select(Entity).where(Entity.caption == "Parcel FICT-001-0002")).one()
        owner = s.get(Entity, s.scalars(select(Link.source_id).where(Link.target_id == parcel.id)).one())
        assert owner.caption == rows[1][3]


def test_an_owner_on_several_rows_gains_each_rows_values(db_url, tmp_path):
    """The same owner (by the mapping's keys) on two rows of one file with two mailing addresses keeps
    both, whether or not the rows fall in the same write batch."""
    path = tmp_path / "roll.csv"
    path.write_text("APN,OWNER_NAME,OWNER_MAILING_ADDRESS\n"
                    "FICT-9-1,FICTIONAL REPEATED OWNER LLC,1 First St\n"
                    "FICT-9-2,FICTIONAL REPEATED OWNER LLC,2 Second St\n"
                    "FICT-9-3,FICTIONAL REPEATED OWNER LLC,3 Third St\n", encoding="utf-8")
    mapping = load_mapping("name: QA owners\nentities:\n  parcel:\n    kind: RealEstate\n    keys: [APN]\n"
                           "    properties: {name: {template: 'Parcel {APN}'}, parcelNumber: APN}\n"
                           "  owner:\n    kind: Company\n    keys: [OWNER_NAME]\n"
                           "    properties: {name: OWNER_NAME, address: OWNER_MAILING_ADDRESS}\n"
                           "links:\n  - {kind: Ownership, source: owner, target: parcel}\n", "owners.yml")
    summary = _run(db_url, path, mapping)
    assert summary.rejected == [] and summary.created == 4 and summary.updated == 2
    with store_db.session_scope(db_url) as s:
        owner = s.scalars(select(Entity).where(Entity.kind == "Company")).one()
        assert owner.properties["address"] == ["1 First St", "2 Second St", "3 Third St"]
        assert audit.verify(s)[1] is None


def test_a_stored_owner_gaining_values_on_several_rows_of_one_batch(db_url, tmp_path):
    """Each row adds an address to the same stored owner: one update after another in one batch,
    whose names are planned once (they were inserted twice, and the import failed)."""
    mapping = load_mapping("name: QA owners 2\nentities:\n  owner:\n    kind: Company\n    keys: [OWNER_NAME]\n"
                           "    properties: {name: OWNER_NAME, address: ADDRESS}\n", "owners.yml")
    first = tmp_path / "first.csv"
    first.write_text("OWNER_NAME,ADDRESS\nFICTIONAL MANY ADDRESSES LLC,0 Zero St\n", encoding="utf-8")
    _run(db_url, first, mapping)
    later = tmp_path / "later.csv"
    later.write_text("OWNER_NAME,ADDRESS\n" + "".join(f"FICTIONAL MANY ADDRESSES LLC,{i} Main St\n"
                                                    for i in range(1, 4)), encoding="utf-8")
    summary = _run(db_url, later, mapping)
    assert summary.rejected == [] and summary.updated == 3
    with store_db.session_scope(db_url) as s:
        owner = s.scalars(select(Entity).where(Entity.kind == "Company")).one()
        assert owner.properties["address"] == ["0 Zero St", "1 Main St", "2 Main St", "3 Main St"]
        assert owner.version == 2 and audit.verify(s)[1] is None  # one update for the batch


def test_an_entity_gaining_a_value_on_every_row_gets_one_audit_entry_per_batch(db_url, tmp_path):
    """An agent of 300 companies, each row adding an address: one create entry holding all of them,
    not 300 entries each repeating every address so far (the audit log grew with the square)."""
    mapping = load_mapping("name: QA agent\nentities:\n  agent:\n    kind: Person\n    keys: [AGENT]\n"
                           "    properties: {name: AGENT, address: ADDRESS}\n", "agent.yml")
    path = tmp_path / "agents.csv"
    path.write_text("AGENT,ADDRESS\n" + "".join(f"FICTIONAL BUSY AGENT,{i} Registry Rd\n" for i in range(300)),
                    encoding="utf-8")
    summary = _run(db_url, path, mapping)
    assert summary.rejected == [] and summary.created == 1 and summary.updated == 299
    with store_db.session_scope(db_url) as s:
        agent = s.scalars(select(Entity).where(Entity.kind == "Person")).one()
        assert len(agent.properties["address"]) == 300 and agent.version == 1
        entries = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == agent.id)).all()
        assert entries == ["entity.create"]
    later = tmp_path / "agents-2.csv"
    later.write_text("AGENT,ADDRESS\n" + "".join(f"FICTIONAL BUSY AGENT,{i} New Rd\n" for i in range(50)),
                     encoding="utf-8")
    _run(db_url, later, mapping)
    with store_db.session_scope(db_url) as s:
        agent = s.scalars(select(Entity).where(Entity.kind == "Person")).one()
        assert len(agent.properties["address"]) == 350 and agent.version == 2
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.object_id == agent.id)).all()
        assert actions.count("entity.update") == 1 and audit.verify(s)[1] is None


def test_a_registry_row_without_a_registered_agent_imports_the_company_and_its_officer(db_url, tmp_path):
    """The mapping's literal topic made an empty agent look like an entity with no name: the row was
    refused ('agent.name: is empty in this row'), and a screening hit on it could never be confirmed."""
    from workbench.store.models import Entity, Link

    path = tmp_path / "registry_FICTIONAL.csv"
    path.write_text("FILE_NUMBER,ENTITY_NAME,STATUS,FORMED,REGISTERED_AGENT,OFFICER_NAME,OFFICER_TITLE\n"
                    "QA-0900001,QA HOLDINGS ONE LLC,Active,2018-06-01,,VILLASENOR IBARRA JOSE MARIA,Managing Member\n",
                    encoding="utf-8")
    summary = _run(db_url, path, _mapping("state_company_registry"))
    assert summary.rejected == [] and summary.created == 2  # the company and the officer, no nameless agent
    with store_db.session_scope(db_url) as s:
        assert sorted(e.caption for e in s.query(Entity)) == ["QA HOLDINGS ONE LLC", "VILLASENOR IBARRA JOSE MARIA"]
        assert [link.properties.get("role") for link in s.query(Link)] == [["Managing Member"]]


def test_merges_declared_over_a_million_rows_cost_what_the_rows_hold(tmp_path):
    """A 5 KB workbook declaring A2:A1048576 merged (ten times over) took a gigabyte to read, once on the
    screening page's upload check and again in its job: memory now follows the ranges, not the rows they
    claim, and the sheet's one row is read as before."""
    import re
    import tracemalloc
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["APN", "OWNER_NAME"])
    book.active.append(["FICT-1", "FICTIONAL OWNER LLC"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    path = tmp_path / "claims.xlsx"
    merges = "".join(f'<mergeCell ref="{c}2:{c}1048576"/>' for c in "AB" for _ in range(5))
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"</sheetData>", f"</sheetData><mergeCells count=\"10\">{merges}</mergeCells>".encode(),
                              data)
            out.writestr(item, data)
    assert path.stat().st_size < 10_000
    tracemalloc.start()
    try:
        rows = list(read_rows(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [row for _, row in rows] == [{"APN": "FICT-1", "OWNER_NAME": "FICTIONAL OWNER LLC"}]
    assert peak < 50_000_000, f"reading took {peak / 1e6:.0f} MB"


def test_a_header_only_table_is_refused_and_leaves_no_source(db_url, tmp_path):
    """QA round 10: it made a source and stored the file for an import of nothing (exit 0, '0 created')."""
    from workbench.cli import app

    header = _roll_lines()[0]
    path = tmp_path / "empty_roll_FICTIONAL.csv"
    path.write_text(header + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "table", str(path), "--mapping",
                                      str(MAPPINGS / "county_property_roll.yml")])
    assert result.exit_code == 2 and "empty_roll_FICTIONAL.csv: the file has a header but no data rows" in result.output
    with store_db.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Source)) == 0
