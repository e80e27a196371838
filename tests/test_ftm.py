"""FollowTheMoney export validated by the followthemoney package, and a lossless round trip."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import delete, select

from workbench.schema import registry
from workbench.sources.ftm import import_ftm, write_ftm
from workbench.sources.ftm_schemata import FTM_ABSTRACT
from workbench.store import db as store_db
from workbench.store.entities import create_entity, create_link
from workbench.store.models import AuditEntry, Base
from workbench.store.permissions import Actor

followthemoney = pytest.importorskip("followthemoney")
from followthemoney import model

ACTOR = Actor("rita", "researcher")
SAMPLE = {"date": "2019-03-15", "country": "mx", "url": "https://example.org/x", "money": "450000 USD",
          "percentage": "50", "number": "3", "email": "a@example.org", "identifier": "CURP:GULO900329HSLZPV09",
          "gender": "male", "phone": "+526671234567"}


def _value(prop) -> str:
    reg = registry()
    choices = reg.choices_for(prop.spec)
    if choices:
        return choices[0]
    return SAMPLE.get(prop.type.name, f"Sample {prop.label}")


def _populate(session) -> tuple[dict[str, str], int]:
    """One entity of every concrete kind with every property set, and one link of every kind."""
    reg = registry()
    ids: dict[str, str] = {}
    for kind in reg.concrete_kinds():
        props = {name: _value(prop) for name, prop in kind.properties.items()}
        props["name"] = f"FICTIONAL {kind.label}"
        if "identifier" in props and "Person" not in kind.ancestors and kind.name != "Person":
            props["identifier"] = "RFC:ABC010101AB1"
        ids[kind.name] = create_entity(session, ACTOR, kind.name, props, entity_id=f"e-{kind.name}").obj.id
    links = 0
    for link in reg.link_kinds.values():
        # Prefer kinds FtM can carry, so that as many links as possible can be exported.
        ordered = sorted(reg.concrete_kinds(), key=lambda k: k.ftm in FTM_ABSTRACT)
        source = next(k for k in ordered if k.is_a_any(link.source))
        target = next(k for k in ordered if k.is_a_any(link.target))
        target_id = ids[target.name]
        if target.name == source.name:
            target_id = create_entity(session, ACTOR, target.name, {"name": "FICTIONAL second", "level": "state"}
                                      if target.name == "Territory" else {"name": "FICTIONAL second"},
                                      entity_id=f"e2-{link.name}").obj.id
        props = {name: _value(prop) for name, prop in link.properties.items()}
        create_link(session, ACTOR, link.name, ids[source.name], target_id, props, link_id=f"l-{link.name}")
        links += 1
    return ids, links


def _empty_store(session) -> None:
    """Everything but the users, as a fresh database to import into."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in ("users", "api_tokens", "alembic_version"):
            session.execute(delete(table))
    session.commit()


def _export(session) -> tuple[list[dict], list[str]]:
    buffer = io.StringIO()
    skipped: list[str] = []
    write_ftm(session, buffer, skipped=skipped)
    return [json.loads(line) for line in buffer.getvalue().splitlines()], skipped


def _write_lines(path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _into_empty_store(session, db_url, tmp_path, rows: list[dict]):
    """Import FtM rows, as a file, into the emptied store (a fresh database): the import's summary."""
    path = tmp_path / "export.ftm.json"
    _write_lines(path, rows)
    _empty_store(session)
    with store_db.session_scope(db_url) as s:
        return import_ftm(s, ACTOR, path)


def _validate(rows: list[dict]) -> None:
    ids = {row["id"] for row in rows}
    for row in rows:
        schema = model.get(row["schema"])
        assert schema is not None and not schema.abstract, row["schema"]
        for prop_name, values in row["properties"].items():
            prop = schema.get(prop_name)
            assert prop is not None, f"{row['schema']} has no property {prop_name}"
            for value in values:
                if prop.type.name == "entity":
                    assert value in ids, f"{row['id']}.{prop_name} points outside the export"
                else:
                    assert prop.type.clean(value, proxy=None) is not None, f"{row['schema']}.{prop_name}={value!r}"
        proxy = model.get_proxy(row)
        assert proxy.id == row["id"]


def test_export_covers_every_kind_and_validates(session):
    ids, link_count = _populate(session)
    session.commit()
    rows, skipped = _export(session)
    _validate(rows)
    reg = registry()
    unexportable = {k.name for k in reg.concrete_kinds() if not k.ftm or k.ftm in FTM_ABSTRACT}
    assert {line.split()[0] for line in skipped if " link " not in line} == unexportable
    exported_ids = {row["id"] for row in rows}
    assert exported_ids >= {ids[k.name] for k in reg.concrete_kinds() if k.name not in unexportable}
    sanction = next(row for row in rows if row["schema"] == "Sanction")
    assert sanction["properties"]["entity"]  # SanctionOf becomes the Sanction's entity property
    assert "name" not in sanction["properties"]  # FtM's Sanction has no name
    person = next(row for row in rows if row["id"] == "e-Person")
    assert person["properties"]["idNumber"] == ["GULO900329HSLZPV09"]
    assert person["properties"]["lastName"] == ["Sample Paternal surname"]
    link_rows = {row["id"] for row in rows if row["id"].startswith("l-")}
    property_links = {l.name for l in reg.link_kinds.values() if l.ftm and not l.ftm_source}
    # A link can only travel when both its ends can (Shipment and Chemical map to FtM's abstract Thing).
    travelling = {f"l-{name}" for name, spec in reg.link_kinds.items() if name not in property_links
                  and any(k.is_a_any(spec.source) and k.ftm not in FTM_ABSTRACT for k in reg.concrete_kinds())
                  and any(k.is_a_any(spec.target) and k.ftm not in FTM_ABSTRACT for k in reg.concrete_kinds())}
    assert link_rows == travelling and len(travelling) >= 12
    assert link_count == len(reg.link_kinds)


def test_round_trip_keeps_everything_ftm_carries(session, db_url, tmp_path):
    _populate(session)
    session.commit()
    from workbench.store.models import Link

    kinds_before = {link.id: link.kind for link in session.query(Link)}
    first, _ = _export(session)
    plain = {row["id"]: row["properties"] for row in first if row["id"] in ("l-UnknownLink", "l-Ownership")}
    assert len(plain) == 2 and not any("description" in props for props in plain.values())
    summary = _into_empty_store(session, db_url, tmp_path, first)
    assert summary.rejected == []
    second, _ = _export(session)

    def canon(rows):
        return {row["id"]: (row["schema"], {k: sorted(v) for k, v in row["properties"].items()}) for row in rows}

    assert canon(second) == canon(first)
    # Link kinds that share an FtM schema (Control and Ownership; Jurisdiction, TerritoryParent,
    # LocatedIn and UnknownLink) come back as the kind they were.
    kinds_after = {link.id: link.kind for link in session.query(Link) if link.id in kinds_before}
    assert {"l-Control", "l-Jurisdiction", "l-TerritoryParent", "l-LocatedIn", "l-UnknownLink"} <= set(kinds_after)
    assert kinds_after == {link_id: kinds_before[link_id] for link_id in kinds_after}


def test_bad_ftm_line_names_file_and_line(session, tmp_path):
    from workbench.sources.ftm import FtmError

    path = tmp_path / "bad.json"
    path.write_text('{"id": "a", "schema": "Person", "properties": {"name": ["A"]}}\n{"id": "b", "schema"\n')
    with pytest.raises(FtmError, match=r"bad\.json, line 2"):
        import_ftm(session, ACTOR, path)


def test_cli_export_then_import_into_a_fresh_database(session, db_url, tmp_path):
    from typer.testing import CliRunner

    from workbench.cli import app

    _populate(session)
    session.commit()
    out = tmp_path / "all.ftm.json"
    result = CliRunner().invoke(app, ["export", "ftm", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert "exported" in result.output and len(rows) > 20
    _validate(rows)
    _empty_store(session)
    result = CliRunner().invoke(app, ["import", "ftm", str(out)])
    assert result.exit_code == 0, result.output
    assert "created" in result.output and "rejected" in result.output
    again = CliRunner().invoke(app, ["import", "ftm", str(out)])
    assert again.exit_code == 0
    summary_line = next(line for line in again.output.splitlines() if line.strip().startswith("│ created"))
    assert summary_line.split("│")[2].strip() == "0"  # a second import creates nothing


def test_round_trip_keeps_kinds_territory_levels_and_parents(session, db_url, tmp_path):
    """A Mexican state and its municipality come back as Territories with level, code and parent link."""
    state = create_entity(session, ACTOR, "Territory", {"name": "Sinaloa", "level": "state", "code": "25"},
                          entity_id="t-sinaloa").obj.id
    muni = create_entity(session, ACTOR, "Territory", {"name": "Culiacán", "level": "municipality", "code": "25006"},
                         entity_id="t-culiacan").obj.id
    create_link(session, ACTOR, "TerritoryParent", muni, state, {}, link_id="l-culiacan-in-sinaloa")
    session.commit()
    rows, _ = _export(session)
    _validate(rows)
    exported = {row["id"]: row for row in rows}
    assert exported[muni]["schema"] == "Territory"
    assert exported[muni]["properties"]["level"] == ["municipality"]
    assert exported[muni]["properties"]["territoryCode"] == ["25006"]
    assert exported["l-culiacan-in-sinaloa"]["properties"]["description"] == ["part of"]
    path = tmp_path / "territories.ftm.json"
    _write_lines(path, rows)
    _empty_store(session)
    with store_db.session_scope(db_url) as s:
        assert import_ftm(s, ACTOR, path).rejected == []
    from workbench.store.models import Entity, Link

    back = {e.id: e for e in session.query(Entity)}
    assert back[muni].kind == back[state].kind == "Territory"
    assert back[muni].properties["level"] == ["municipality"] and back[muni].properties["code"] == ["25006"]
    link = session.get(Link, "l-culiacan-in-sinaloa")
    assert (link.kind, link.source_id, link.target_id) == ("TerritoryParent", muni, state)


def test_unknown_properties_and_repeated_ids_are_reported_not_dropped_silently(session, tmp_path):
    path = tmp_path / "odd.ftm.json"
    rows = [{"id": "p1", "schema": "Person", "properties": {"name": ["FICTIONAL Uno"], "wingspan": ["2 m"],
                                                             "weight": ["80 kg"]}},
            {"id": "p1", "schema": "Person", "properties": {"alias": ["FICTIONAL Otro"]}},
            {"id": "p1", "schema": "Company", "properties": {"name": ["FICTIONAL Otra SA"]}}]
    _write_lines(path, rows)
    summary = import_ftm(session, ACTOR, path)
    messages = [m for _, m in summary.warnings]
    assert "Person.wingspan: FtM's Person has no such property; 1 value(s) left out" in messages
    assert "Person.weight: no workbench property holds it; 1 value(s) left out" in messages
    # A second line of the same id and schema is a fragment of the same entity: joined, not dropped.
    assert ("odd.ftm.json line 3", "id 'p1' already came on line 1 as Person: this line (Company) is left out") \
        in summary.warnings
    from workbench.store.models import Entity

    assert session.get(Entity, "p1").properties["alias"] == ["FICTIONAL Otro"]


def test_other_tools_ftm_fragments_are_joined_and_legal_entities_kept(session, tmp_path):
    from workbench.store.models import Entity, Link

    rows = [{"id": "p-alpha", "schema": "Person", "properties": {"name": ["FICTIONAL Alpha Person"],
                                                                  "birthDate": ["1970-05-01"]}},
            {"id": "p-alpha", "schema": "Person", "properties": {"alias": ["El Alfa"]}},
            {"id": "le-beta", "schema": "LegalEntity", "properties": {"name": ["FICTIONAL Beta Holdings"],
                                                                       "jurisdiction": ["us"]}},
            {"id": "c-gamma", "schema": "Company", "properties": {"name": ["FICTIONAL Gamma SA de CV"]}},
            {"id": "own-2", "schema": "Ownership", "properties": {"owner": ["le-beta"], "asset": ["c-gamma"],
                                                                   "percentage": ["49"]}}]
    path = tmp_path / "other.ftm.json"
    _write_lines(path, rows)
    summary = import_ftm(session, ACTOR, path)
    assert summary.rejected == [] and summary.details["fragments_joined"] == 1
    alpha = session.get(Entity, "p-alpha").properties
    assert alpha["birthDate"] == ["1970-05-01"] and alpha["alias"] == ["El Alfa"]
    assert session.get(Entity, "le-beta").kind == "Organization"
    assert session.get(Link, "own-2").source_id == "le-beta"


def test_round_trip_keeps_identifier_schemes_and_sanction_names(session, db_url, tmp_path):
    """FtM's idNumber says which number, not which scheme: a cédula, a voter card or a short RFC came
    back as NATIONAL_ID or TAX_ID, and a company's REGISTRATION number moved to another property.
    Sanction records lost their names ('Sanction'). Identifications and the Sanction's summary carry them."""
    from workbench.store.entities import create_entity, create_link, get_entity

    identifiers = ["CEDULA:71234567", "VOTER:ABCD123456", "RFC:GULO900329", "CURP:GURR730821HCLRMG",
                   "PASSPORT:G123456"]
    create_entity(session, ACTOR, "Person", {"name": "Ana Prueba (FICTIONAL)", "identifier": identifiers},
                  entity_id="p1")
    create_entity(session, ACTOR, "Company", {"name": "Prueba SA (FICTIONAL)",
                                              "identifier": ["REGISTRATION:01074897", "NIT:900123456"]},
                  entity_id="c1")
    create_entity(session, ACTOR, "Company", {"name": "Ribera SA (FICTIONAL)", "registrationNumber": "0803412267",
                                              "identifier": ["STATE_FILE:0803412267"]}, entity_id="c2")
    create_entity(session, ACTOR, "RealEstate", {"name": "Parcel (FICTIONAL)", "identifier": ["APN:FICT9000001"],
                                                 "county": "Webb County, TX"}, entity_id="r1")
    create_entity(session, ACTOR, "Sanction", {"name": "OFAC SDN entry 36 (FICTIONAL)", "authority": "OFAC",
                                               "program": "SDNTK"}, entity_id="s1")
    create_link(session, ACTOR, "SanctionOf", "s1", "c1")
    session.commit()
    before = {e: dict(get_entity(session, e).properties) for e in ("p1", "c1", "c2", "r1", "s1")}
    left_out: dict = {}
    buffer = io.StringIO()
    write_ftm(session, buffer, left_out=left_out)
    rows = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert left_out[("RealEstate", "county")] == 1  # FtM has no place for it: reported, not dropped silently
    c2 = next(r for r in rows if r["id"] == "c2")
    assert c2["properties"]["registrationNumber"] == ["0803412267"]  # once, not twice
    summary = _into_empty_store(session, db_url, tmp_path, rows)
    assert summary.rejected == []
    session.expire_all()
    after = {e: dict(get_entity(session, e).properties) for e in ("p1", "c1", "c2", "r1", "s1")}
    assert after["c2"] == before["c2"]  # the property and the identifier holding one number both stay
    assert after["r1"]["identifier"] == ["APN:FICT9000001"]  # the scheme of a parcel, not REGISTRATION
    assert sorted(after["p1"]["identifier"]) == sorted(identifiers)
    assert sorted(after["c1"]["identifier"]) == sorted(before["c1"]["identifier"])
    assert after["c1"] == before["c1"] and after["p1"] == before["p1"]
    assert after["s1"]["name"] == ["OFAC SDN entry 36 (FICTIONAL)"] and get_entity(session, "s1").caption.startswith(
        "OFAC SDN entry 36")


def test_importing_an_export_into_the_store_it_came_from_changes_nothing(session, db_url, tmp_path):
    """Every kind with every property (some FtM cannot carry, some sharing one FtM property, a
    SanctionOf whose id FtM never sees): the export imported back over the same store adds no
    link, drops no value and moves none to another property."""
    from workbench.store.models import Entity, Link

    _populate(session)
    session.commit()
    entities = {e.id: e.properties for e in session.query(Entity)}
    links = {link.id: (link.kind, link.source_id, link.target_id, link.properties) for link in session.query(Link)}
    assert any(props.get("confidence") for _, _, _, props in links.values())  # FtM has no place for it
    rows, _ = _export(session)
    path = tmp_path / "export.ftm.json"
    _write_lines(path, rows)
    with store_db.session_scope(db_url) as s:
        summary = import_ftm(s, ACTOR, path)
    assert summary.rejected == [] and summary.created == 0 and summary.updated == 0
    assert summary.details.get("links_created", 0) == 0 and summary.details.get("links_updated", 0) == 0
    session.expire_all()
    assert {link.id: (link.kind, link.source_id, link.target_id, link.properties)
            for link in session.query(Link)} == links
    after = {e.id: e.properties for e in session.query(Entity)}
    for entity_id, props in entities.items():
        for prop, values in props.items():
            assert set(values) <= set(after[entity_id].get(prop, [])), (entity_id, prop)


def test_an_ftm_file_with_a_byte_order_mark_imports_and_a_bad_byte_is_named_by_its_line(session, db_url, tmp_path):
    from workbench.sources.ftm import FtmError

    line = json.dumps({"id": "p-bom", "schema": "Person", "properties": {"name": ["FICTIONAL Bom Person"]}})
    path = tmp_path / "bom.ftm.json"
    path.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")
    with store_db.session_scope(db_url) as s:
        assert import_ftm(s, ACTOR, path).created == 1
    path.write_bytes(line.encode() + b"\n" + line.replace("Bom", "B\xf3m").encode("latin-1") + b"\n")
    with pytest.raises(FtmError, match=r"bom\.ftm\.json, line 2: not UTF-8 text"):
        with store_db.session_scope(db_url) as s:
            import_ftm(s, ACTOR, path)


def test_the_demo_exported_and_read_back_into_its_own_store_updates_nothing(session, db_url, tmp_path):
    from workbench.sources.demo import load_demo
    from workbench.store.models import AuditHead
    from workbench.store.permissions import SYSTEM

    load_demo(session, SYSTEM, users=False)
    session.commit()
    rows, _ = _export(session)
    path = tmp_path / "demo.ftm.json"
    _write_lines(path, rows)
    head = session.get(AuditHead, 1).seq
    with store_db.session_scope(db_url) as s:
        summary = import_ftm(s, ACTOR, path)
    assert (summary.created, summary.updated, summary.rejected) == (0, 0, [])
    session.expire_all()
    # Only the FtM file's own Source and its citations were added, nothing about the entities changed.
    changed = session.execute(select(AuditEntry.action).where(AuditEntry.seq > head)).scalars().all()
    assert not {"entity.update", "link.update", "entity.create", "link.create"} & set(changed)


def test_link_values_ftm_cannot_carry_are_reported_both_ways(session, tmp_path):
    from workbench.sources.ftm import export_ftm

    _populate(session)
    session.commit()
    from workbench.store.models import Link

    left_out: dict = {}
    exported = {row["id"] for row in export_ftm(session, left_out=left_out)}
    reg = registry()
    kinds = {link.kind for link in session.query(Link) if link.id in exported}
    expected = {(kind, name) for kind in kinds for name, prop in reg.link_kinds[kind].properties.items()
                if not prop.ftm}
    assert expected and expected <= set(left_out)  # e.g. a link's confidence
    rows = [{"id": "p-own", "schema": "Person", "properties": {"name": ["FICTIONAL Owner"]}},
            {"id": "c-own", "schema": "Company", "properties": {"name": ["FICTIONAL Owned SA"]}},
            {"id": "own-1", "schema": "Ownership", "properties": {"owner": ["p-own"], "asset": ["c-own"],
                                                                   "sharesCount": ["5100"]}}]
    path = tmp_path / "shares.ftm.json"
    _write_lines(path, rows)
    _empty_store(session)
    summary = import_ftm(session, ACTOR, path)
    assert ("shares.ftm.json", "Ownership.sharesCount: no workbench property holds it; 1 value(s) left out") \
        in summary.warnings


def test_an_aircraft_registration_read_back_over_its_store_adds_nothing(session, db_url, tmp_path):
    """The REGISTRATION scheme cannot travel as an FtM Identification (it holds people and
    organisations): it comes back as the plane's registrationNumber, which the stored plane need not gain."""
    create_entity(session, ACTOR, "Airplane", {"name": "FICTIONAL plane", "identifier": "REGISTRATION:T7OKY"},
                  entity_id="plane-1")
    session.commit()
    rows, _ = _export(session)
    path = tmp_path / "plane.ftm.json"
    _write_lines(path, rows)
    with store_db.session_scope(db_url) as s:
        summary = import_ftm(s, ACTOR, path)
    assert (summary.created, summary.updated) == (0, 0)


def test_imported_values_with_tabs_newlines_backslashes_and_quotes_read_back_exactly(session, tmp_path):
    """Bulk writes (COPY on PostgreSQL) keep the characters a copy format has to escape."""
    from workbench.store.audit import verify
    from workbench.store.entities import citations_for
    from workbench.store.models import Entity, Name

    odd = 'FICTIONAL "El Tabulador" \\ Back\\slash'  # a name's tabs become spaces (check_name)
    note = "col one\tcol two\nline two\r\n\\N is not null; \\. is not the end"
    rows = [{"id": "p-odd", "schema": "Person", "properties": {"name": [odd], "notes": [note],
                                                                "alias": ["O'Brien \\ \"Q\""]}}]
    path = tmp_path / "odd-characters.ftm.json"
    _write_lines(path, rows)
    summary = import_ftm(session, ACTOR, path)
    assert summary.rejected == [] and summary.created == 1
    session.expire_all()
    stored = session.get(Entity, "p-odd")
    assert stored.properties["name"] == [odd]
    assert stored.properties["notes"] == [note]
    assert stored.properties["alias"] == ["O'Brien \\ \"Q\""]
    assert sorted(session.scalars(select(Name.name).where(Name.entity_id == "p-odd"))) == \
        sorted([odd, "O'Brien \\ \"Q\""])
    assert {c.locator for c in citations_for(session, entity_id="p-odd")} == {"line 1"}
    checked, broken = verify(session)
    assert checked > 0 and broken is None


def test_the_export_says_which_values_come_back_as_another_property(session, db_url, tmp_path):
    """QA round 10: an export read back into an empty store turned a circa date of birth into an exact one
    and an acquisition date into a start date, and nothing said so."""
    from typer.testing import CliRunner

    from workbench.cli import app
    from workbench.store.permissions import SYSTEM

    create_entity(session, SYSTEM, "Person", {"name": "FICTIONAL Persona Circa", "birthDateCirca": ["1968"]},
                  entity_id="fict-circa")
    create_entity(session, SYSTEM, "RealEstate", {"name": "FICTIONAL Lote 4"}, entity_id="fict-lote")
    create_link(session, SYSTEM, "Ownership", "fict-circa", "fict-lote", {"acquisitionDate": ["2019-05-02"]})
    session.commit()
    result = CliRunner().invoke(app, ["export", "ftm", "-o", str(tmp_path / "out.ftm.json")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Person.birthDateCirca travels as FtM birthDate, shared with Person.birthDate: imported into a store " \
           "without the entry, it comes back as birthDate (1 value(s))" in said
    assert "Ownership.acquisitionDate travels as FtM startDate" in said


def test_an_ftm_link_to_an_entry_merged_since_goes_to_the_entry_kept(session, db_url, tmp_path):
    """QA round 12: an FtM file naming an entry a user had merged into another linked the entry merged away,
    which no page, graph or dossier shows; a table import follows the merge, and so does FtM now."""
    from workbench.matching.judgements import merge
    from workbench.store.models import Link

    away = create_entity(session, ACTOR, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)"},
                         entity_id="ftm-merged-away").obj.id
    kept = create_entity(session, ACTOR, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)"}).obj.id
    merge(session, ACTOR, kept, away)
    session.commit()
    path = tmp_path / "other_tool.ftm.json"
    _write_lines(path, [
        {"id": "ftm-co-1", "schema": "Company", "properties": {"name": ["Transportes Ejemplares (FICTIONAL)"]}},
        {"id": "ftm-own-1", "schema": "Ownership", "properties": {"owner": [away], "asset": ["ftm-co-1"]}},
    ])
    with store_db.session_scope(db_url) as s:
        summary = import_ftm(s, ACTOR, path)
    assert summary.rejected == []
    session.expire_all()
    [owned] = session.scalars(select(Link).where(Link.kind == "Ownership", Link.target_id == "ftm-co-1")).all()
    assert owned.source_id == kept
