"""FollowTheMoney interoperability (QA round 13 audit): what other tools write comes in whole, what the
workbench writes is FtM that followthemoney accepts value by value, and nothing is left out unsaid.

All names and numbers are FICTIONAL."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from workbench.sources.ftm import import_ftm, write_ftm
from workbench.store import db as store_db
from workbench.store.entities import citations_for, create_entity, create_link, get_entity
from workbench.store.models import AuditEntry, AuditHead, Entity, Link
from workbench.store.permissions import SYSTEM, Actor

followthemoney = pytest.importorskip("followthemoney")
from followthemoney import model
from test_ftm import _empty_store, _write_lines

ACTOR = Actor("rita", "researcher")
XMR = ("4" + "8AbCdEfGhJkLmNpQrStUvWxYz23456789" * 3)[:95]  # 95 characters, as a Monero address has (FICTIONAL)
XBT = "1FictionaLBitcoinAddressXyZ4ab5Cd"


def _export(session) -> list[dict]:
    buffer = io.StringIO()
    write_ftm(session, buffer)
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _valid(prop, value: str) -> bool:
    """Valid for its type, within its property's maxLength: followthemoney's type check caps every
    identifier at 64 characters, but a property may declare more (CryptoWallet.publicKey: 512) or less
    (swiftBic: 16)."""
    if len(value) > prop.max_length:
        return False
    if len(value) > prop.type.max_length:
        return bool(prop.type.clean_text(value))
    return prop.type.validate(value)


def _rejected_by_followthemoney(rows: list[dict]) -> list[str]:
    """Every value followthemoney's model does not accept: read with get_proxy(cleaned=False), each value
    valid for its type and within its property's length, each entity value an entity of the export whose
    schema is the property's range."""
    by_id = {row["id"]: row for row in rows}
    problems = []
    for row in rows:
        proxy = model.get_proxy(row, cleaned=False)
        for name, values in row["properties"].items():
            prop = proxy.schema.get(name)
            if prop is None:
                problems.append(f"{row['schema']}.{name}: no such property")
                continue
            for value in values:
                if prop.type.name == "entity":
                    other = by_id.get(value)
                    if other is None or (prop.range and not model.get(other["schema"]).is_a(prop.range)):
                        problems.append(f"{row['schema']}.{name}={value!r}: not a {prop.range.name} of the export")
                elif not _valid(prop, value):
                    problems.append(f"{row['schema']}.{name}={value!r}")
    return problems


def _import(db_url, path):
    with store_db.session_scope(db_url) as s:
        return import_ftm(s, ACTOR, path)


def _messages(summary) -> list[str]:
    return [message for _, message in summary.warnings]


# -- H1: multi-valued link ends ------------------------------------------------------------------------

def test_an_ownership_with_two_owners_makes_two_links_and_a_re_import_adds_nothing(session, db_url, tmp_path):
    """FtM's ends are lists: `owner: [p1, p2]` made only p1 -> asset. The first pair keeps the line's id
    (a file imported before adds nothing now but the other owner), every pair is a link cited to the line."""
    people = [{"id": f"ftm-owner-{n}", "schema": "Person", "properties": {"name": [f"FICTIONAL Owner {n}"]}}
              for n in (1, 2)]
    asset = {"id": "ftm-asset", "schema": "Company", "properties": {"name": ["FICTIONAL Asset SA"]}}
    one_owner = {"id": "ftm-own", "schema": "Ownership", "properties": {
        "owner": ["ftm-owner-1"], "asset": ["ftm-asset"], "percentage": ["50"]}}
    earlier = tmp_path / "earlier.ftm.json"
    _write_lines(earlier, [*people, asset, one_owner])
    assert _import(db_url, earlier).rejected == []
    both = dict(one_owner, properties=dict(one_owner["properties"], owner=["ftm-owner-1", "ftm-owner-2"]))
    links_file = tmp_path / "owners.ftm.json"
    _write_lines(links_file, [*people, asset, both,
                              {"id": "ftm-ul", "schema": "UnknownLink", "properties": {
                                  "subject": ["ftm-asset"], "object": ["ftm-owner-1", "ftm-owner-2"]}}])
    summary = _import(db_url, links_file)
    assert summary.rejected == [] and summary.details.get("links_updated", 0) == 0
    session.expire_all()
    owned = session.scalars(select(Link).where(Link.kind == "Ownership", Link.target_id == "ftm-asset")).all()
    assert sorted(link.source_id for link in owned) == ["ftm-owner-1", "ftm-owner-2"]
    assert {link.properties["percentage"][0] for link in owned} == {"50"}
    first = next(link for link in owned if link.source_id == "ftm-owner-1")
    assert first.id == "ftm-own"  # the id the single-owner file gave it
    assert len({link.id for link in owned}) == 2
    unknown = session.scalars(select(Link).where(Link.kind == "UnknownLink")).all()
    assert sorted(link.target_id for link in unknown) == ["ftm-owner-1", "ftm-owner-2"]
    for link in [*owned, *unknown]:
        assert {c.locator for c in citations_for(session, link_ids=[link.id])} == {"line 4" if link in owned else "line 5"}
    again = _import(db_url, links_file)
    assert again.details.get("links_created", 0) == 0 and again.details.get("links_updated", 0) == 0


# -- M1, M3: Identifications and Passports -------------------------------------------------------------

def test_an_identifications_country_goes_to_its_holder_and_its_other_values_are_reported(session, db_url, tmp_path):
    """Identification's country, authority, startDate and endDate were dropped without a word; a type the
    workbench does not know was stored under a scheme guessed from the number (NATIONAL_ID)."""
    path = tmp_path / "ids.ftm.json"
    _write_lines(path, [
        {"id": "ftm-pers", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Cartilla"],
                                                               "idNumber": ["C7000123"]}},
        {"id": "ftm-pers-id", "schema": "Identification", "properties": {
            "holder": ["ftm-pers"], "number": ["C7000123"], "type": ["Cartilla militar"], "country": ["mx"],
            "authority": ["FICTIONAL Secretaria"], "startDate": ["2001-02-03"], "endDate": ["2031-02-03"]}},
    ])
    summary = _import(db_url, path)
    assert summary.rejected == []
    stored = session.get(Entity, "ftm-pers").properties
    assert stored["identifier"] == ["OTHER:C7000123"]  # not NATIONAL_ID, nor MILITARY: no guess
    assert stored["country"] == ["mx"]
    said = _messages(summary)
    for prop in ("authority", "startDate", "endDate"):
        assert f"Identification.{prop}: no workbench property holds it; 1 value(s) left out" in said, said
    assert any("'Cartilla militar'" in m and "OTHER" in m for m in said), said


def test_a_passport_reads_as_an_identification_of_its_holder(session, db_url, tmp_path):
    """FtM's Passport extends Identification: it was rejected as 'has no workbench kind'."""
    path = tmp_path / "passport.ftm.json"
    _write_lines(path, [
        {"id": "ftm-traveller", "schema": "Person", "properties": {"name": ["FICTIONAL Viajero"]}},
        {"id": "ftm-traveller-pp", "schema": "Passport", "properties": {
            "holder": ["ftm-traveller"], "passportNumber": ["G7654321"], "country": ["gt"]}},
    ])
    summary = _import(db_url, path)
    assert summary.rejected == []
    stored = session.get(Entity, "ftm-traveller").properties
    assert stored["identifier"] == ["PASSPORT:G7654321"] and stored["country"] == ["gt"]


# -- M2: the CLI prints every 'left out' line ----------------------------------------------------------

def test_the_import_summary_prints_every_left_out_line_and_all_warnings_on_request(session, db_url, tmp_path):
    from typer.testing import CliRunner

    from workbench.cli import app

    odd = {f"oddProperty{n:02d}": [f"value {n}"] for n in range(14)}
    rows = [{"id": "ftm-odd", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Rara"], **odd}}]
    # Twelve warnings of another sort: an id given an unrelated schema, line by line.
    rows += [{"id": "ftm-odd", "schema": "Vessel", "properties": {"name": [f"FICTIONAL Barco {n}"]}}
             for n in range(12)]
    path = tmp_path / "odd.ftm.json"
    _write_lines(path, rows)
    result = CliRunner().invoke(app, ["import", "ftm", str(path)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    for name in odd:
        assert f"Person.{name}: FtM's Person has no such property; 1 value(s) left out" in said, name
    assert said.count("this line (Vessel) is left out") == 10
    assert "... and 2 more warnings" in said
    everything = CliRunner().invoke(app, ["import", "ftm", "--all-warnings", str(path)])
    said = " ".join(everything.output.split())
    assert said.count("this line (Vessel) is left out") == 12 and "more warnings" not in said
    assert all(f"Person.{name}:" in said for name in odd)


# -- M5: country-specific identifier properties --------------------------------------------------------

def test_inn_ogrn_swift_lei_and_vat_travel_in_their_own_ftm_properties(session, db_url, tmp_path):
    codes = {"innCode": "7700000001", "ogrnCode": "1027700000001", "swiftBic": "FICTRUMMXXX",
             "leiCode": "FICT00000000000000X1", "vatCode": "RU7700000001"}
    path = tmp_path / "codes.ftm.json"
    _write_lines(path, [{"id": "ftm-bank", "schema": "Company", "properties": {
        "name": ["FICTIONAL Bank AO"], **{k: [v] for k, v in codes.items()}}}])
    summary = _import(db_url, path)
    assert summary.rejected == []
    assert not [m for m in _messages(summary) if "left out" in m], summary.warnings
    stored = session.get(Entity, "ftm-bank").properties["identifier"]
    assert sorted(stored) == sorted(["INN:7700000001", "OGRN:1027700000001", "SWIFT_BIC:FICTRUMMXXX",
                                     "LEI:FICT00000000000000X1", "VAT:RU7700000001"])
    rows = _export(session)
    bank = next(row for row in rows if row["id"] == "ftm-bank")["properties"]
    assert {k: bank.get(k) for k in codes} == {k: [v] for k, v in codes.items()}
    assert "idNumber" not in bank and "taxNumber" not in bank
    types = {r["properties"]["type"][0] for r in rows if r["schema"] == "Identification"}
    assert types == {"INN", "OGRN", "SWIFT_BIC", "LEI", "VAT"}


# -- M6: digital currency addresses as CryptoWallets ---------------------------------------------------

def test_digital_currency_addresses_travel_as_crypto_wallets_and_come_back(session, db_url, tmp_path):
    """A Monero address (95 characters) went out as idNumber and Identification.number, which hold at
    most 64: followthemoney rejected both."""
    create_entity(session, ACTOR, "Person", {"name": "FICTIONAL Persona Cripto",
                                             "identifier": [f"CRYPTO_XMR:{XMR}", f"CRYPTO_XBT:{XBT}"]},
                  entity_id="fict-crypto")
    session.commit()
    rows = _export(session)
    assert _rejected_by_followthemoney(rows) == []
    person = next(row for row in rows if row["id"] == "fict-crypto")["properties"]
    assert "idNumber" not in person
    assert not [r for r in rows if r["schema"] == "Identification"]
    wallets = {r["properties"]["currency"][0]: r for r in rows if r["schema"] == "CryptoWallet"}
    assert set(wallets) == {"XMR", "XBT"}
    assert wallets["XMR"]["properties"]["publicKey"] == [XMR]
    assert wallets["XMR"]["properties"]["holder"] == ["fict-crypto"]
    assert _export(session) == rows  # stable ids
    path = tmp_path / "wallets.ftm.json"
    _write_lines(path, rows)
    _empty_store(session)
    assert _import(db_url, path).rejected == []
    session.expire_all()
    assert sorted(session.get(Entity, "fict-crypto").properties["identifier"]) == sorted(
        [f"CRYPTO_XMR:{XMR}", f"CRYPTO_XBT:{XBT}"])  # the address as written: base58 is case-sensitive


def test_a_crypto_wallet_from_another_tool_is_its_holders_identifier(session, db_url, tmp_path):
    path = tmp_path / "os.ftm.json"
    _write_lines(path, [
        {"id": "os-holder", "schema": "Organization", "properties": {"name": ["FICTIONAL Exchange"]}},
        {"id": "os-wallet", "schema": "CryptoWallet", "properties": {
            "holder": ["os-holder"], "publicKey": [XBT], "currency": ["XBT"], "balance": ["3"]}},
    ])
    summary = _import(db_url, path)
    assert summary.rejected == []
    assert session.get(Entity, "os-holder").properties["identifier"] == [f"CRYPTO_XBT:{XBT}"]
    assert "CryptoWallet.balance: no workbench property holds it; 1 value(s) left out" in _messages(summary)


# -- M7: an Associate of an organisation ---------------------------------------------------------------

def test_an_associate_of_an_organisation_travels_as_an_unknown_link_and_comes_back(session, db_url, tmp_path):
    """FtM's Associate joins two people: the demo's official 'associate of' CJNG (an Organization) broke
    its range."""
    create_entity(session, ACTOR, "Person", {"name": "FICTIONAL Presidente Municipal"}, entity_id="fict-official")
    create_entity(session, ACTOR, "Organization", {"name": "FICTIONAL Cartel"}, entity_id="fict-cartel")
    create_entity(session, ACTOR, "Person", {"name": "FICTIONAL Contador"}, entity_id="fict-accountant")
    create_link(session, ACTOR, "Associate", "fict-official", "fict-cartel",
                {"relationship": "FICTIONAL: alleged payments", "confidence": "probable",
                 "startDate": "2020-01-01"}, link_id="fict-assoc-org")
    create_link(session, ACTOR, "Associate", "fict-official", "fict-accountant",
                {"relationship": "FICTIONAL: bookkeeper"}, link_id="fict-assoc-person")
    session.commit()
    links = {link.id: (link.kind, link.source_id, link.target_id, link.properties) for link in session.query(Link)}
    rows = _export(session)
    assert _rejected_by_followthemoney(rows) == []
    exported = {row["id"]: row for row in rows}
    org = exported["fict-assoc-org"]
    assert org["schema"] == "UnknownLink"
    assert org["properties"]["subject"] == ["fict-official"] and org["properties"]["object"] == ["fict-cartel"]
    assert org["properties"]["role"][0] == "associate"
    assert exported["fict-assoc-person"]["schema"] == "Associate"  # two people: FtM's own Associate
    path = tmp_path / "associates.ftm.json"
    _write_lines(path, rows)
    head = session.get(AuditHead, 1).seq
    summary = _import(db_url, path)
    assert (summary.created, summary.updated, summary.rejected) == (0, 0, [])
    assert summary.details.get("links_created", 0) == summary.details.get("links_updated", 0) == 0
    session.expire_all()
    changed = session.execute(select(AuditEntry.action).where(AuditEntry.seq > head)).scalars().all()
    assert not {"link.update", "link.create"} & set(changed)
    assert {link.id: (link.kind, link.source_id, link.target_id, link.properties)
            for link in session.query(Link)} == links
    _empty_store(session)
    assert _import(db_url, path).rejected == []
    session.expire_all()
    back = session.get(Link, "fict-assoc-org")
    assert (back.kind, back.source_id, back.target_id) == ("Associate", "fict-official", "fict-cartel")
    assert back.properties["relationship"] == ["FICTIONAL: alleged payments"]
    assert back.properties["startDate"] == ["2020-01-01"]


# -- M9: fragments with a more specific schema ---------------------------------------------------------

def test_fragments_of_a_legal_entity_then_a_person_make_a_person(session, db_url, tmp_path):
    """OpenSanctions writes an id as a LegalEntity and then as a Person: the Person line was left out and
    the entity became an Organization."""
    path = tmp_path / "fragments.ftm.json"
    _write_lines(path, [
        {"id": "os-frag", "schema": "LegalEntity", "properties": {"name": ["FICTIONAL Fragmento"],
                                                                   "country": ["co"]}},
        {"id": "os-frag", "schema": "Person", "properties": {"birthDate": ["1971-07-07"],
                                                              "firstName": ["Fragmento"]}},
    ])
    summary = _import(db_url, path)
    assert summary.rejected == [] and not [m for m in _messages(summary) if "left out" in m]
    stored = session.get(Entity, "os-frag")
    assert stored.kind == "Person"
    assert stored.properties["birthDate"] == ["1971-07-07"] and stored.properties["country"] == ["co"]


# -- L1: no internal marker as text --------------------------------------------------------------------

def test_identifications_carry_no_internal_text_and_old_files_still_read(session, db_url, tmp_path):
    """'workbench: identifier only' went out as the Identification's summary, text Aleph and OpenSanctions show."""
    create_entity(session, ACTOR, "Company", {"name": "FICTIONAL Registro SA",
                                              "identifier": ["REGISTRATION:01074897"]}, entity_id="fict-reg")
    session.commit()
    before = dict(get_entity(session, "fict-reg").properties)
    rows = _export(session)
    assert "workbench:" not in json.dumps(rows)
    [identification] = [r for r in rows if r["schema"] == "Identification"]
    assert "summary" not in identification["properties"]
    path = tmp_path / "reg.ftm.json"
    _write_lines(path, rows)
    _empty_store(session)
    assert _import(db_url, path).rejected == []
    session.expire_all()
    assert get_entity(session, "fict-reg").properties == before  # no registrationNumber from the echo
    # A file exported before says it in the summary: still understood, and not reported as left out.
    old = [dict(r) for r in rows]
    for r in old:
        if r["schema"] == "Identification":
            r["id"] = "fict-reg-idn-old"
            r["properties"] = dict(r["properties"], summary=["workbench: identifier only"])
    old_path = tmp_path / "old.ftm.json"
    _write_lines(old_path, old)
    _empty_store(session)
    summary = _import(db_url, old_path)
    session.expire_all()
    assert get_entity(session, "fict-reg").properties == before
    assert not [m for m in _messages(summary) if "summary" in m]


# -- the demo ------------------------------------------------------------------------------------------

def test_the_demo_export_is_accepted_by_followthemoney_value_by_value(session, db_url, tmp_path):
    from workbench.sources.demo import load_demo

    load_demo(session, SYSTEM, users=False)
    session.commit()
    rows = _export(session)
    assert _rejected_by_followthemoney(rows) == []
