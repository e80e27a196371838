"""OFAC SDN import against the real files: one full import per module, checked against the files.

The expected counts are computed here from the CSV files with the csv module and simple
patterns, independently of the importer's own parser.
"""

from __future__ import annotations

import collections
import csv
import re
import shutil
import uuid

import pytest
from sqlalchemy import func, select, text

from workbench.settings import reset_settings
from workbench.sources.sdn import import_sdn
from workbench.sources.sdn_parse import SdnFormatError
from workbench.store import db as store_db
from workbench.store.audit import verify
from workbench.store.models import AuditHead, Base, Citation, Entity, Link, Name, Source
from workbench.store.permissions import Actor
from workbench.text import fold

IMPORTER = Actor("importer", "researcher")


def _rows(path, header):
    with open(path, encoding="latin-1", newline="") as handle:
        rows = [r for r in csv.reader(handle) if len(r) > 3]
    return rows[1:] if header else rows


@pytest.fixture(scope="module")
def sdn_rows(sdn_dir):
    return _rows(sdn_dir / "sdn.csv", False)


@pytest.fixture(scope="module")
def imported(_database_template, sdn_dir, tmp_path_factory):
    """The full trio imported once per module, on SQLite or on the PostgreSQL test schema."""
    backend, value = _database_template
    tmp = tmp_path_factory.mktemp("sdn")
    if backend == "sqlite":
        path = tmp / "workbench.db"
        shutil.copy(value, path)
        url = f"sqlite:///{path}"
    else:
        url = value
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with store_db.get_engine(url).begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    patch = pytest.MonkeyPatch()
    patch.setenv("WORKBENCH_DATABASE_URL", url)
    patch.setenv("WORKBENCH_DATA_DIR", str(tmp / "data"))
    patch.setenv("WORKBENCH_SECRET_KEY", "test-" + uuid.uuid4().hex)
    reset_settings()
    with store_db.session_scope(url) as s:
        summary = import_sdn(s, IMPORTER, [sdn_dir / "sdn.csv", sdn_dir / "alt.csv", sdn_dir / "add.csv"],
                             published="2024-05-02")
    yield url, summary
    if backend == "sqlite":
        store_db.dispose_all()
    patch.undo()
    reset_settings()


@pytest.fixture
def s(imported):
    session = store_db.session_factory(imported[0])()
    yield session
    session.rollback()
    session.close()


def test_one_entity_and_one_sanction_per_entry(imported, s, sdn_rows):
    _, summary = imported
    assert summary.rejected == []
    n = len(sdn_rows)
    subjects = s.scalar(select(func.count()).select_from(Entity).where(Entity.kind != "Sanction"))
    assert subjects == n
    assert s.scalar(select(func.count()).select_from(Entity).where(Entity.kind == "Sanction")) == n
    assert s.scalar(select(func.count()).select_from(Link).where(Link.kind == "SanctionOf")) == n
    types = collections.Counter(r[2].strip() for r in sdn_rows)
    kinds = dict(s.execute(select(Entity.kind, func.count()).group_by(Entity.kind)).all())
    assert kinds["Person"] == types["individual"]
    assert kinds["Vessel"] == types["vessel"] and kinds["Airplane"] == types["aircraft"]
    assert kinds["Company"] + kinds["Organization"] == types["-0-"]


def test_names_match_the_files(s, sdn_dir, sdn_rows):
    primary = {r[0]: r[1] for r in sdn_rows}
    strong = collections.defaultdict(set)
    for row in _rows(sdn_dir / "alt.csv", True):
        if row[0] in primary and row[3].strip() and row[3].strip() != primary[row[0]]:
            strong[row[0]].add(row[3].strip())
    for row in sdn_rows:  # former names also appear in Remarks as f.k.a. 'X'
        strong[row[0]].update(n for n in re.findall(r"f\.k\.a\. '([^']+)'", row[11]) if n != row[1])
    subject_names = (select(Name.name_kind, func.count()).join(Entity, Entity.id == Name.entity_id)
                     .where(Entity.kind != "Sanction").group_by(Name.name_kind))
    counts = dict(s.execute(subject_names).all())
    assert counts["primary"] == len(sdn_rows)
    assert counts.get("alias", 0) + counts.get("former", 0) == sum(len(v) for v in strong.values())
    weak_in_remarks = sum(len(set(re.findall(r"a\.k\.a\. '([^']+)'", r[11]))) for r in sdn_rows)
    assert counts["weak"] >= weak_in_remarks * 0.98  # names with apostrophes are still caught whole
    assert counts["weak"] <= weak_in_remarks + 50


def test_addresses_identifiers_and_person_details_of_a_kingpin_act_entry(s, sdn_rows, sdn_dir):
    row = next(r for r in sdn_rows if "C.U.R.P." in r[11] and "R.F.C." in r[11] and "SDNTK" in r[3]
               and r[2] == "individual")
    entity = s.get(Entity, f"ofac-{row[0]}")
    curp = re.search(r"C\.U\.R\.P\. ([A-Z0-9]+)", row[11]).group(1)
    rfc = re.search(r"R\.F\.C\. ([A-Z0-9-]+)", row[11]).group(1).replace("-", "")
    assert f"CURP:{curp}" in entity.properties["identifier"]
    assert f"RFC:{rfc}" in entity.properties["identifier"]
    assert "mx" in entity.properties["country"]
    surnames, given = row[1].split(", ", 1)
    assert entity.properties["firstName"] == [given]
    assert " ".join(entity.properties["fatherName"] + entity.properties.get("motherName", [])) == surnames
    first_dob = re.search(r"DOB (\d{2}) ([A-Z][a-z]{2}) (\d{4})", row[11])
    if first_dob:
        assert entity.properties["birthDate"][0].startswith(first_dob.group(3))
    addresses = [a for a in _rows(sdn_dir / "add.csv", True) if a[0] == row[0] and a[2].strip() not in ("", "-0-")]
    assert len(entity.properties.get("address", [])) == len({a[2].strip() for a in addresses}) or addresses == []
    sanction_link = s.scalars(select(Link).where(Link.kind == "SanctionOf", Link.target_id == entity.id)).one()
    sanction = s.get(Entity, sanction_link.source_id)
    assert sanction.properties["program"] == ["SDNTK"] and sanction.properties["status"] == ["active"]
    assert sanction.properties["listEntryId"] == [row[0]]


def test_identifier_counts_follow_the_remarks(s, sdn_rows):
    expected = collections.Counter()
    for row in sdn_rows:
        expected["CURP"] += len(set(re.findall(r"C\.U\.R\.P\. (?:# )?([A-Z0-9]+)", row[11])))  # 'C.U.R.P. # X' too
        expected["NIT"] += len(set(re.findall(r"NIT # ([0-9-]+)", row[11])))
    found = collections.Counter()
    for (values,) in s.execute(select(Entity.properties["identifier"]).where(Entity.kind != "Sanction")):
        for value in values or []:
            found[value.split(":")[0]] += 1
    assert found["CURP"] == expected["CURP"] and found["CURP"] > 100
    assert found["NIT"] == expected["NIT"]
    assert found["PASSPORT"] > 1000 and found["RFC"] > 100


def test_linked_to_is_resolved_within_the_list(s, sdn_rows):
    by_name = {fold(r[1]): r[0] for r in sdn_rows}
    resolvable = 0
    example = None
    for row in sdn_rows:
        for target in re.findall(r"Linked To: ([^;]+?)\.?(?:;|\"?$)", row[11]):
            ent = by_name.get(fold(target))
            if ent and ent != row[0]:
                resolvable += 1
                example = example or (row[0], ent)
    links = s.scalar(select(func.count()).select_from(Link).where(Link.kind == "UnknownLink"))
    assert links >= resolvable > 1000  # aliases resolve too, beyond the primary-name matches
    link = s.scalars(select(Link).where(Link.source_id == f"ofac-{example[0]}", Link.kind == "UnknownLink",
                                        Link.target_id == f"ofac-{example[1]}")).one()
    assert s.scalar(select(func.count()).select_from(Citation).where(Citation.link_id == link.id)) == 1


def test_every_entry_cites_the_list_with_its_number(s, sdn_rows):
    source = s.scalars(select(Source).where(Source.file_name == "sdn.csv")).one()
    assert source.published_at == "2024-05-02" and len(source.sha256) == 64 and source.reliability == "A"
    row = sdn_rows[0]
    citation = s.scalars(select(Citation).where(Citation.entity_id == f"ofac-{row[0]}",
                                                Citation.source_id == source.id)).one()
    assert citation.locator == f"ent_num {row[0]}"
    alias_source = s.scalars(select(Source).where(Source.file_name == "alt.csv")).one()
    assert s.scalar(select(func.count()).select_from(Citation).where(Citation.source_id == alias_source.id)) > 10000


def test_reimport_is_idempotent_and_audited(imported, s, sdn_dir):
    url, _ = imported
    assert verify(s)[1] is None
    head = s.get(AuditHead, 1).seq
    citations = s.scalar(select(func.count()).select_from(Citation))
    s.close()
    with store_db.session_scope(url) as session:
        again = import_sdn(session, IMPORTER, [sdn_dir / "sdn.csv", sdn_dir / "alt.csv", sdn_dir / "add.csv"],
                           published="2024-05-02")
    assert (again.created, again.updated) == (0, 0)
    with store_db.session_scope(url) as session:
        assert session.get(AuditHead, 1).seq == head
        assert session.scalar(select(func.count()).select_from(Citation)) == citations


def test_a_truncated_file_changes_nothing(imported, s, sdn_dir, tmp_path):
    url, _ = imported
    data = (sdn_dir / "sdn.csv").read_bytes()
    cut = data[: len(data) // 2]
    cut = cut[: cut.rfind(b'"') - 3]  # inside a quoted field
    broken = tmp_path / "sdn.csv"
    broken.write_bytes(cut)
    head = s.get(AuditHead, 1).seq
    s.close()
    with pytest.raises(SdnFormatError) as caught, store_db.session_scope(url) as session:
        import_sdn(session, IMPORTER, [broken, sdn_dir / "alt.csv", sdn_dir / "add.csv"])
    assert "sdn.csv" in str(caught.value) and "line" in str(caught.value)
    with store_db.session_scope(url) as session:
        assert session.get(AuditHead, 1).seq == head
        assert session.scalar(select(func.count()).select_from(Source)) == 3


def test_sdn_entries_export_as_valid_ftm(s, sdn_rows):
    model = pytest.importorskip("followthemoney").model
    from workbench.sources.ftm import export_ftm

    ids = [f"ofac-{r[0]}" for r in sdn_rows if "SDNTK" in r[3]][:300]
    ids += [f"{i}-sanction" for i in ids]
    rows = list(export_ftm(s, ids))
    assert {r["id"] for r in rows if r["schema"] in ("Person", "Company", "Organization", "Sanction")} == set(ids)
    for row in rows:
        proxy = model.get_proxy(row)
        for prop_name, values in row["properties"].items():
            prop = proxy.schema.get(prop_name)
            assert prop is not None, f"{row['schema']} has no {prop_name}"
            for value in values:
                if prop.type.name != "entity":
                    assert prop.type.clean(value, proxy=None) is not None, (row["id"], prop_name, value)
    sanction = next(r for r in rows if r["schema"] == "Sanction")
    assert sanction["properties"]["entity"] == [sanction["id"].removesuffix("-sanction")]


def test_a_circa_date_of_birth_is_kept_as_rough(s, sdn_rows):
    """'DOB circa 1957' is a rough year: stored as an exact birthDate, screening would rule out 1956."""
    rough = {r[0]: re.findall(r"DOB circa (\d{4})", r[11]) for r in sdn_rows}
    rough = {ent: years for ent, years in rough.items() if years}
    assert len(rough) > 20
    for ent, years in rough.items():
        props = s.get(Entity, f"ofac-{ent}").properties
        assert set(years) <= set(props["birthDateCirca"]), ent
        assert not set(years) & set(props.get("birthDate", [])), ent
