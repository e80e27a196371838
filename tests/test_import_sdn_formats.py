"""SDN import on small slices: updates in place, delisting, bad files, SDN.XML safety, JSON, CLI."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from workbench.sources.sdn import OlderListError, import_sdn
from workbench.sources.sdn_parse import SdnFormatError, parse_xml
from workbench.store import db as store_db
from workbench.store.audit import verify
from workbench.store.entities import stats
from workbench.store.models import AuditHead, Entity, Link, Source
from workbench.store.permissions import Actor

IMPORTER = Actor("importer", "researcher")


def _slice(sdn_dir, tmp_path, lines: list[bytes], name: str = "v1") -> list:
    """A small trio cut from the real files: the given sdn.csv lines and their aliases/addresses."""
    folder = tmp_path / name
    folder.mkdir()
    ents = {line.split(b",", 1)[0] for line in lines}
    (folder / "sdn.csv").write_bytes(b"".join(lines) + b"\x1a")
    for stem in ("alt", "add"):
        rows = (sdn_dir / f"{stem}.csv").read_bytes().splitlines(keepends=True)
        kept = [rows[0]] + [r for r in rows[1:] if r.split(b",", 1)[0] in ents] + rows[-1:]  # + OFAC's end row
        (folder / f"{stem}.csv").write_bytes(b"".join(kept))
    return [folder / "sdn.csv", folder / "alt.csv", folder / "add.csv"]


@pytest.fixture
def sdn_lines(sdn_dir):
    lines = (sdn_dir / "sdn.csv").read_bytes().splitlines(keepends=True)
    mexican = [l for l in lines if b'"SDNTK"' in l and b"C.U.R.P." in l][:20]
    return lines[:10] + mexican


def _import(db_url, paths, **kwargs):
    with store_db.session_scope(db_url) as s:
        return import_sdn(s, IMPORTER, paths, **kwargs)


def test_newer_list_updates_in_place_and_delists_missing_entries(db_url, sdn_dir, sdn_lines, tmp_path):
    first = _import(db_url, _slice(sdn_dir, tmp_path, sdn_lines), published="2024-05-02")
    assert first.created == 2 * len(sdn_lines) and first.rejected == []
    with store_db.session_scope(db_url) as s:
        from workbench.store.models import Citation

        assert first.details["citations_added"] == s.scalar(select(func.count()).select_from(Citation))
    gone = sdn_lines[0].split(b",", 1)[0].decode()
    changed = sdn_lines[12]
    changed_ent = changed.split(b",", 1)[0].decode()
    newer = [l for l in sdn_lines[1:] if l != changed] + [changed.replace(b'"SDNTK"', b'"SDNTK] [ILLICIT-DRUGS-EO14059"')]
    second = _import(db_url, _slice(sdn_dir, tmp_path, newer, "v2"), published="2024-06-01")
    assert second.created == 0
    assert second.details["citations_added"] > len(newer)  # the newer list is cited for each entry it carries
    assert second.details["delisted"] == 1
    with store_db.session_scope(db_url) as s:
        assert s.get(Entity, f"ofac-{gone}") is not None  # never deleted
        delisted = s.get(Entity, f"ofac-{gone}-sanction")
        assert delisted.properties["status"] == ["delisted"] and delisted.properties["endDate"] == ["2024-06-01"]
        sanction = s.get(Entity, f"ofac-{changed_ent}-sanction")
        assert sanction.properties["program"] == ["SDNTK", "ILLICIT-DRUGS-EO14059"]
        assert sanction.version == 2
        assert s.scalar(select(func.count()).select_from(Entity)) == 2 * len(sdn_lines)
        assert verify(s)[1] is None
    # An older list imported afterwards is refused whole: it would put its older values back and list again
    # what only the newer one delisted.
    with pytest.raises(OlderListError, match="published 2024-01-01, before the list already imported"):
        _import(db_url, _slice(sdn_dir, tmp_path, sdn_lines[1:5], "v0"), published="2024-01-01")
    with store_db.session_scope(db_url) as s:
        assert s.get(Entity, f"ofac-{gone}-sanction").properties["status"] == ["delisted"]
        assert s.get(Entity, f"ofac-{changed_ent}-sanction").properties["program"] == ["SDNTK", "ILLICIT-DRUGS-EO14059"]


def test_malformed_alt_file_names_file_and_line_and_changes_nothing(db_url, sdn_dir, sdn_lines, tmp_path):
    paths = _slice(sdn_dir, tmp_path, sdn_lines)
    _import(db_url, paths)
    with store_db.session_scope(db_url) as s:
        before = stats(s)
        head = s.get(AuditHead, 1).seq
    alt = paths[1].read_bytes().splitlines(keepends=True)
    alt.insert(3, b'9339,99999,aka\r\n')  # a ragged row: three columns instead of five
    paths[1].write_bytes(b"".join(alt))
    paths[0].write_bytes(paths[0].read_bytes().replace(b'"SDNTK"', b'"SDNT"'))  # would change entries
    with pytest.raises(SdnFormatError) as caught:
        _import(db_url, paths)
    assert "alt.csv, line 4" in str(caught.value) and "columns" in str(caught.value)
    with store_db.session_scope(db_url) as s:
        assert stats(s) == before and s.get(AuditHead, 1).seq == head


SDN_XML = """<?xml version="1.0" standalone="yes"?>
<sdnList xmlns="http://tempuri.org/sdnList.xsd">
  <publshInformation><Publish_Date>05/02/2024</Publish_Date><Record_Count>2</Record_Count></publshInformation>
  <sdnEntry>
    <uid>90001</uid><firstName>Juan Carlos</firstName><lastName>FICTICIO LOPEZ</lastName><sdnType>Individual</sdnType>
    <programList><program>SDNTK</program></programList>
    <idList>
      <id><uid>1</uid><idType>C.U.R.P.</idType><idNumber>FILJ800101HSLCPN09</idNumber><idCountry>Mexico</idCountry></id>
      <id><uid>2</uid><idType>Passport</idType><idNumber>G1234567</idNumber><idCountry>Mexico</idCountry></id>
      <id><uid>3</uid><idType>Linked To:</idType><idNumber>FICTICIA EMPRESA, S.A. DE C.V.</idNumber></id>
    </idList>
    <akaList><aka><uid>5</uid><type>a.k.a.</type><category>weak</category><lastName>EL FICTICIO</lastName></aka>
             <aka><uid>6</uid><type>a.k.a.</type><category>strong</category><lastName>FICTICIO</lastName><firstName>Juan</firstName></aka></akaList>
    <addressList><address><uid>7</uid><city>Culiacan</city><stateOrProvince>Sinaloa</stateOrProvince><country>Mexico</country></address></addressList>
    <nationalityList><nationality><uid>8</uid><country>Mexico</country><mainEntry>true</mainEntry></nationality></nationalityList>
    <dateOfBirthList><dateOfBirthItem><uid>9</uid><dateOfBirth>01 Jan 1980</dateOfBirth><mainEntry>true</mainEntry></dateOfBirthItem></dateOfBirthList>
  </sdnEntry>
  <sdnEntry>
    <uid>90002</uid><lastName>FICTICIA EMPRESA, S.A. DE C.V.</lastName><sdnType>Entity</sdnType>
    <programList><program>SDNTK</program></programList>
  </sdnEntry>
</sdnList>
"""


def test_sdn_xml_import(db_url, tmp_path):
    path = tmp_path / "SDN.XML"
    path.write_text(SDN_XML, encoding="utf-8")
    summary = _import(db_url, [path])
    assert summary.rejected == [] and summary.details["linked_to"] == 1
    with store_db.session_scope(db_url) as s:
        person = s.get(Entity, "ofac-90001")
        assert person.kind == "Person" and person.properties["firstName"] == ["Juan Carlos"]
        assert {"CURP:FILJ800101HSLCPN09", "PASSPORT:G1234567"} <= set(person.properties["identifier"])
        assert person.properties["weakAlias"] == ["EL FICTICIO"]
        assert person.properties["alias"] == ["FICTICIO, Juan"]
        assert person.properties["birthDate"] == ["1980-01-01"] and person.properties["nationality"] == ["mx"]
        assert person.properties["address"] == ["Culiacan, Sinaloa, Mexico"]
        assert s.get(Entity, "ofac-90002").kind == "Company"
        link = s.scalars(select(Link).where(Link.kind == "UnknownLink")).one()
        assert (link.source_id, link.target_id) == ("ofac-90001", "ofac-90002")


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<sdnList><sdnEntry><uid>1</uid><lastName>&lol3;</lastName></sdnEntry></sdnList>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE sdnList [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<sdnList><sdnEntry><uid>1</uid><lastName>&secret;</lastName></sdnEntry></sdnList>
"""


# An external DTD is not fetched, but naming one lets a planted file call out to a host (QA round 10).
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE sdnList SYSTEM "http://127.0.0.1:9/evil.dtd">
<sdnList><sdnEntry><uid>1</uid><lastName>FICTICIO</lastName></sdnEntry></sdnList>
"""


@pytest.mark.parametrize("content", [BOMB, EXTERNAL, EXTERNAL_DTD],
                         ids=["entity-expansion-bomb", "external-entity", "external-dtd"])
def test_unsafe_xml_is_refused_and_nothing_is_written(db_url, tmp_path, content):
    path = tmp_path / "SDN.XML"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SdnFormatError) as caught:
        _import(db_url, [path])
    assert "refused unsafe XML" in str(caught.value) and "SDN.XML" in str(caught.value)
    with store_db.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == 0


def test_malformed_xml_names_the_line(tmp_path):
    path = tmp_path / "SDN.XML"
    path.write_text(SDN_XML[: len(SDN_XML) // 2], encoding="utf-8")
    with pytest.raises(SdnFormatError, match=r"SDN\.XML, line \d+: malformed XML"):
        parse_xml(path)


def test_json_repackaging_adds_names_and_keeps_what_it_cannot_carry(db_url, sdn_dir, sdn_lines, tmp_path):
    _import(db_url, _slice(sdn_dir, tmp_path, sdn_lines))
    data = json.loads((sdn_dir / "sdn-2026-08-20.json").read_text(encoding="utf-8"))
    mexican_ent = int(sdn_lines[10].split(b",", 1)[0])
    keep = [e for e in data["entries"] if e["uid"] == mexican_ent]
    newer = [e for e in data["entries"] if e["uid"] > 50000][:3]
    path = tmp_path / "sdn.json"
    path.write_text(json.dumps({**data, "entries": keep + newer}), encoding="utf-8")
    with store_db.session_scope(db_url) as s:
        before = s.get(Entity, f"ofac-{mexican_ent}").properties
    summary = _import(db_url, [path], delist=False)
    assert summary.created == 2 * len(newer) and summary.rejected == []
    with store_db.session_scope(db_url) as s:
        after = s.get(Entity, f"ofac-{mexican_ent}").properties
        assert after["identifier"] == before["identifier"] and after["birthDate"] == before["birthDate"]
        for entry in newer:
            entity = s.get(Entity, f"ofac-{entry['uid']}")
            assert entity.properties["name"] == [entry["name"]]
            assert set(entity.properties.get("alias", [])) == set(entry["alternateNames"]) - {entry["name"]}


def test_cli_import_shows_summary_and_clean_error(db_url, sdn_dir, sdn_lines, tmp_path):
    from workbench.cli import app

    runner = CliRunner()
    paths = _slice(sdn_dir, tmp_path, sdn_lines)
    result = runner.invoke(app, ["import", "sdn", *map(str, paths), "--published", "2024-05-02"])
    assert result.exit_code == 0, result.output
    assert "created" in result.output and str(2 * len(sdn_lines)) in result.output
    if db_url.startswith("sqlite"):  # the planner has the import's row counts (QA round 14: lists sorted slowly)
        with store_db.session_scope(db_url) as s:
            analysed = {table for (table,) in s.execute(text("SELECT tbl FROM sqlite_stat1"))}
        assert {"entities", "names", "citations"} <= analysed
    paths[0].write_bytes(paths[0].read_bytes()[:-40])
    result = runner.invoke(app, ["import", "sdn", *map(str, paths)])
    assert result.exit_code != 0
    assert "sdn.csv" in result.output and "line" in result.output and "Traceback" not in result.output


def test_sdn_csv_alone_keeps_the_aliases_and_addresses_it_does_not_carry(db_url, sdn_dir, sdn_lines, tmp_path):
    """Aliases live in ALT.CSV and addresses in ADD.CSV: importing SDN.CSV by itself must not strip them
    from every entry (the audit log would keep them, but nobody would notice)."""
    trio = _slice(sdn_dir, tmp_path, sdn_lines)
    _import(db_url, trio, published="2024-05-02")
    with store_db.session_scope(db_url) as s:
        before = {e.id: e.properties for e in s.scalars(select(Entity).where(Entity.kind != "Sanction"))}
    assert any(p.get("alias") for p in before.values()) and any(p.get("address") for p in before.values())
    alone = _import(db_url, trio[:1], published="2024-05-02")
    assert alone.created == 0 and alone.updated == 0 and alone.details["delisted"] == 0
    assert any("ALT.CSV" in message for _, message in alone.warnings)
    assert any("ADD.CSV" in message for _, message in alone.warnings)
    with store_db.session_scope(db_url) as s:
        after = {e.id: e.properties for e in s.scalars(select(Entity).where(Entity.kind != "Sanction"))}
    assert after == before


def test_a_list_missing_most_entries_delists_nothing_unless_told(db_url, sdn_dir, tmp_path):
    """A real publication drops a few entries; one that lacks most of them is a partial file (the first
    lines of SDN.CSV, say): delisting 60 of 80 entries waits for --allow-mass-delist."""
    # Entries with a Linked To: the partial list then warns of links it cannot resolve, as a real one does.
    lines = [l for l in (sdn_dir / "sdn.csv").read_bytes().splitlines(keepends=True) if b"Linked To:" in l][:80]
    _import(db_url, _slice(sdn_dir, tmp_path, lines), published="2024-05-02")
    partial = _slice(sdn_dir, tmp_path, lines[:20], "partial")
    held = _import(db_url, partial, published="2024-06-01")
    assert held.details["delisted"] == 0 and held.details["missing_not_delisted"] == 60
    # First of the warnings: the summary shows only the first ten of a list's many (identifier notes,
    # unresolved links), and this one, which says why nothing was delisted and what to pass, came last.
    assert "partial file" in held.warnings[0][1] and "--allow-mass-delist" in held.warnings[0][1]
    assert len(held.warnings) > 10
    with store_db.session_scope(db_url) as s:
        statuses = [e.properties["status"] for e in s.scalars(select(Entity).where(Entity.kind == "Sanction"))]
    assert statuses == [["active"]] * 80
    allowed = _import(db_url, partial, published="2024-06-01", allow_mass_delist=True)
    assert allowed.details["delisted"] == 60


def test_an_impossible_date_in_the_remarks_is_left_out_not_the_entry(db_url, sdn_dir, sdn_lines, tmp_path):
    line = next(l for l in sdn_lines if b"DOB " in l and b"C.U.R.P." in l)
    ent = line.split(b",", 1)[0].decode()
    damaged = re.sub(rb"DOB [^;\"]+", b"DOB 31 Feb 1970", line, count=1)
    summary = _import(db_url, _slice(sdn_dir, tmp_path, [damaged]))
    assert summary.rejected == []
    assert any("birthDate '1970-02-31' left out" in message for _, message in summary.warnings)
    with store_db.session_scope(db_url) as s:
        entity = s.get(Entity, f"ofac-{ent}")
        assert entity is not None and "1970-02-31" not in entity.properties.get("birthDate", [])
        assert any(v.startswith("CURP:") for v in entity.properties["identifier"])  # the rest of the entry is there


def test_a_repeated_ent_num_is_refused_naming_both_lines(db_url, sdn_dir, sdn_lines, tmp_path):
    first, second = sdn_lines[0], sdn_lines[1]
    ent = first.split(b",", 1)[0]
    paths = _slice(sdn_dir, tmp_path, [first, ent + b"," + second.split(b",", 1)[1]])
    with pytest.raises(SdnFormatError, match=rf"sdn\.csv, line 2: ent_num {ent.decode()} is already the entry on line 1"):
        _import(db_url, paths)
    with store_db.session_scope(db_url) as s:
        assert stats(s)["entities"] == {}


@pytest.mark.parametrize("ent", [b"-5", b"+7", b"0"])
def test_an_ent_num_that_is_no_positive_whole_number_is_refused_naming_its_line(db_url, sdn_dir, sdn_lines, tmp_path,
                                                                               ent):
    paths = _slice(sdn_dir, tmp_path, [sdn_lines[0], ent + b"," + sdn_lines[1].split(b",", 1)[1]])
    with pytest.raises(SdnFormatError, match=rf"sdn\.csv, line 2: ent_num '{re.escape(ent.decode())}' is not a positive"):
        _import(db_url, paths)
    with store_db.session_scope(db_url) as s:
        assert stats(s)["entities"] == {}


def test_a_file_that_is_not_part_of_the_trio_is_refused_not_ignored(db_url, sdn_dir, sdn_lines, tmp_path):
    paths = _slice(sdn_dir, tmp_path, sdn_lines)
    stray = tmp_path / "alt_fixed.csv"
    stray.write_bytes(paths[1].read_bytes())
    with pytest.raises(SdnFormatError, match=r"alt_fixed\.csv: not one of the CSV trio"):
        _import(db_url, [paths[0], stray, paths[2]])
    twice = tmp_path / "other"
    twice.mkdir()
    (twice / "sdn.csv").write_bytes(paths[0].read_bytes())
    with pytest.raises(SdnFormatError, match="sdn.csv is given twice"):
        _import(db_url, [paths[0], twice / "sdn.csv"])


def test_a_utf8_file_with_a_stray_byte_is_refused_not_read_as_windows_1252(db_url, sdn_dir, sdn_lines, tmp_path):
    paths = _slice(sdn_dir, tmp_path, sdn_lines[:3] + ['1,"MUÑOZ GARCÍA, José",individual,"SDNTK",-0-,-0-,-0-,-0-,'
                                                       '-0-,-0-,-0-,-0-\r\n'.encode("utf-8"),
                                                       b'2,"BAD \xff NAME",individual,"SDNTK",-0-,-0-,-0-,-0-,-0-,-0-,'
                                                       b'-0-,-0-\r\n'])
    with pytest.raises(SdnFormatError, match=r"sdn\.csv, line 5: not valid UTF-8 \(byte 0xff\)"):
        _import(db_url, paths)


def test_json_after_the_trio_keeps_every_kind_of_property_and_the_surname_split(db_url, sdn_dir, tmp_path):
    """The JSON repackaging carries names, aliases, type and programs only: a vessel keeps its flag
    and call sign, and a Mexican's double surname stays split as the trio's countries split it."""
    lines = (sdn_dir / "sdn.csv").read_bytes().splitlines(keepends=True)
    former = {r.split(b",", 1)[0] for r in (sdn_dir / "alt.csv").read_bytes().splitlines() if b",fka," in r}
    vessels = [l for l in lines if b',"vessel",' in l and l.split(b",", 1)[0] in former][:3]
    mexicans = [l for l in lines if b'"SDNTK"' in l and b"C.U.R.P." in l][:5]
    _import(db_url, _slice(sdn_dir, tmp_path, vessels + mexicans))
    ents = {int(l.split(b",", 1)[0]) for l in vessels + mexicans}
    data = json.loads((sdn_dir / "sdn-2026-08-20.json").read_text(encoding="utf-8"))
    path = tmp_path / "sdn.json"
    entries = [e for e in data["entries"] if e["uid"] in ents]
    for entry in entries:  # spaced otherwise than ALT.CSV (as the repackaging sometimes is)
        entry["alternateNames"] = [n.replace(" ", "  ", 1) for n in entry.get("alternateNames") or []]
    path.write_text(json.dumps({**data, "entries": entries}), encoding="utf-8")
    with store_db.session_scope(db_url) as s:
        before = {e.id: e.properties for e in s.scalars(select(Entity).where(Entity.kind.in_(["Vessel", "Person"])))}
    assert any(p.get("flag") for p in before.values()) and any(p.get("motherName") for p in before.values())
    assert any(p.get("previousName") for p in before.values())
    _import(db_url, [path], delist=False)
    with store_db.session_scope(db_url) as s:
        for entity_id, props in before.items():
            after = s.get(Entity, entity_id).properties
            for prop in ("flag", "callSign", "vesselType", "fatherName", "motherName", "identifier", "birthDate",
                         "previousName"):
                assert after.get(prop) == props.get(prop), (entity_id, prop)
            # The JSON lists former names among its untyped alternate names: they stay former names.
            assert not set(after.get("alias", [])) & set(after.get("previousName", [])), entity_id


def _cut(paths, which: str, keep_bytes: int | None = None, drop_marker: bool = False):
    path = next(p for p in paths if p.name == which)
    data = path.read_bytes()
    if drop_marker:
        data = data[:data.rindex(b"\x1a")]
    if keep_bytes is not None:
        data = data[:keep_bytes]
    path.write_bytes(data)


def test_alt_csv_cut_in_the_middle_of_a_row_is_refused_naming_it(db_url, sdn_dir, sdn_lines, tmp_path):
    trio = _slice(sdn_dir, tmp_path, sdn_lines)
    alt = trio[1].read_bytes()
    cut = alt.index(b"-0-", len(alt) // 2) + 2  # ends on '-0', inside a row
    _cut(trio, "alt.csv", keep_bytes=cut)
    with pytest.raises(SdnFormatError, match=r"alt\.csv, line \d+: the last row is incomplete"):
        _import(db_url, trio)
    with store_db.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == 0


def test_files_without_ofacs_end_marker_remove_nothing(db_url, sdn_dir, sdn_lines, tmp_path):
    """A file cut at a line end looks like a shorter list; only OFAC's end marker tells them apart.
    Without it, a re-import removes no alias and delists no entry, and says why."""
    _import(db_url, _slice(sdn_dir, tmp_path, sdn_lines), published="2024-05-02")
    with store_db.session_scope(db_url) as s:
        before = {e.id: e.properties.get("alias", []) for e in s.scalars(select(Entity))}
    trio = _slice(sdn_dir, tmp_path, sdn_lines[:-3], name="v2")
    alt_rows = trio[1].read_bytes().splitlines(keepends=True)
    trio[1].write_bytes(b"".join(alt_rows[:len(alt_rows) // 2]))  # cut at a line end, marker row gone
    _cut(trio, "sdn.csv", drop_marker=True)
    summary = _import(db_url, trio, published="2024-05-03")
    messages = " ".join(m for _, m in summary.warnings)
    assert "may be cut short: nothing was delisted" in messages
    assert "its aliases were added to the stored ones and none was removed" in messages
    assert "newer list" not in messages  # the reason nothing was delisted is the marker, said once
    with store_db.session_scope(db_url) as s:
        sanctions = s.scalars(select(Entity).where(Entity.kind == "Sanction")).all()
        assert len(sanctions) == len(sdn_lines) and all(e.properties["status"] == ["active"] for e in sanctions)
        for entity_id, aliases in before.items():
            assert set(aliases) <= set(s.get(Entity, entity_id).properties.get("alias", []))


def test_a_byte_order_mark_is_read_and_utf16_is_named(db_url, sdn_dir, sdn_lines, tmp_path):
    trio = _slice(sdn_dir, tmp_path, sdn_lines)
    trio[0].write_bytes(b"\xef\xbb\xbf" + trio[0].read_bytes())
    assert _import(db_url, trio).created == 2 * len(sdn_lines)
    trio[0].write_bytes(trio[0].read_bytes()[3:].decode("utf-8").encode("utf-16"))
    with pytest.raises(SdnFormatError, match=r"sdn\.csv, line 1: UTF-16 text"):
        _import(db_url, trio)


@pytest.mark.parametrize("remarks, prop, values", [
    ("DOB 1960 to 1963.", "birthDate", ["1960", "1961", "1962", "1963"]),  # every year the range allows
    ("DOB circa 1960.", "birthDateCirca", ["1960"]),  # a rough year is kept as such
    ("DOB 1958 to 1960; alt. DOB circa 1962.", "birthDate", ["1958", "1959", "1960"]),
    ("DOB 01 Jan 1960 to 31 Dec 1962.", "birthDate", ["1960", "1961", "1962"]),  # the years, not two exact days
    ("Telephone No. 009613679153.", "phone", ["009613679153"]),  # the label's 'No.' is not the number's
    ("Telephone: +52 55 1234 5678.", "phone", ["+52 55 1234 5678"]),
])
def test_remarks_read_year_ranges_and_telephone_labels(remarks, prop, values):
    from workbench.sources.remarks import parse_remarks

    assert parse_remarks(remarks).properties[prop] == values


def test_a_publication_date_given_for_a_file_imported_before_is_checked_and_never_dropped_silently(
        db_url, sdn_dir, sdn_lines, tmp_path):
    from sqlalchemy import select

    from workbench.cli import app
    from workbench.schema import ValidationError
    from workbench.sources.sdn import AUTHORITY
    from workbench.store.models import Source

    paths = _slice(sdn_dir, tmp_path, sdn_lines)
    _import(db_url, paths)  # no date at first
    with pytest.raises(ValidationError, match="month 13 does not exist"):
        _import(db_url, paths, published="2024-13-45")
    dated = _import(db_url, paths, published="2024-05-02")  # fills the date the sources lacked
    assert dated.details["sources_dated"] == 3 and dated.created == 0
    with store_db.session_scope(db_url) as s:
        assert set(s.scalars(select(Source.published_at).where(Source.publisher == AUTHORITY))) == {"2024-05-02"}
    result = CliRunner().invoke(app, ["import", "sdn", *map(str, paths), "--published", "2024-06-01"])
    assert result.exit_code == 0, result.output
    assert "imported before as the list published 2024-05-02: --published 2024-06-01 was not taken" in result.output
    with store_db.session_scope(db_url) as s:
        assert set(s.scalars(select(Source.published_at).where(Source.publisher == AUTHORITY))) == {"2024-05-02"}


def test_an_xml_import_names_its_entries_and_its_file_as_they_are(db_url, tmp_path):
    """QA round 10: warnings said 'SDN.XML line 1' for the first entry (the XML has no such line), and the
    source of an SDN.XML import named OFAC's SDN.CSV."""
    path = tmp_path / "SDN.XML"
    path.write_text(SDN_XML.replace("FILJ800101HSLCPN09", "FILJ800101HSLCPN00"), encoding="utf-8")
    summary = _import(db_url, [path])
    places = [where for where, _message in summary.warnings if "90001" in where]
    assert places and all(where.startswith("SDN.XML sdnEntry 1 (ent_num 90001)") for where in places), places
    with store_db.session_scope(db_url) as s:
        assert s.scalars(select(Source.url).where(Source.file_name == "SDN.XML")).one().endswith("/SDN.XML")
