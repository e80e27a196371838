"""QA round 5: importers refuse values of the wrong JSON shape with the file and the entry or line,
instead of crashing or storing Python reprs. A file that cannot be read exits 2 and leaves the database
as it was; an FtM entity with a value that is not a string is rejected with its line (exit 3), like
any other entity the importer cannot store. All names and data here are FICTIONAL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from workbench.cli import app
from workbench.store import db as store_db
from workbench.store.models import Entity


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _count(db_url: str) -> int:
    with store_db.session_scope(db_url) as s:
        return s.scalar(select(func.count()).select_from(Entity))


def _all_names(db_url: str) -> list[str]:
    with store_db.session_scope(db_url) as s:
        return [v for props in s.scalars(select(Entity.properties)) for prop in ("name", "alias")
                for v in (props or {}).get(prop, [])]


# ---- SDN JSON repackaging ----------------------------------------------------------------------

GOOD_ENTRY = {"uid": 90001, "name": "FICTICIO LOPEZ, Juan", "type": "individual", "programs": ["SDNTK"],
              "alternateNames": ["EL FICTICIO"]}


def _sdn_json(path: Path, *entries) -> Path:
    path.write_text(json.dumps({"published": "2026-08-20", "entries": list(entries)}), encoding="utf-8")
    return path


@pytest.fixture
def seeded(db_url, tmp_path):
    """A database holding one imported entry, so 'unchanged' is not just 'still empty'."""
    result = invoke("import", "sdn", str(_sdn_json(tmp_path / "first.json", GOOD_ENTRY)))
    assert result.exit_code == 0, result.output
    return _count(db_url)


BAD_ENTRIES = {
    "programs-string": ({"programs": "SDNTK"}, "'programs' must be a list of strings, not a string"),
    "programs-number-element": ({"programs": ["SDNTK", 7]}, "'programs' item 2 must be a string, not a number"),
    "aliases-string": ({"alternateNames": "QA ALIAS"}, "'alternateNames' must be a list of strings, not a string"),
    "alias-object": ({"alternateNames": [{"name": {"x": 1}}, 7]},
                     "'alternateNames' item 1 must be a string, not an object"),
    "alias-number": ({"alternateNames": ["FICTICIA", 7]}, "'alternateNames' item 2 must be a string, not a number"),
    "name-null": ({"name": None}, "'name' must be a non-empty string, not null"),
    "name-blank": ({"name": "  "}, "'name' must be a non-empty string"),
    "name-missing": ({"name": ...}, "lacks a 'name'"),
    "type-number": ({"type": 5}, "'type' must be a string, not a number"),
    "uid-object": ({"uid": {"x": 1}}, "'uid' must be a positive whole number, not an object"),
    "uid-negative": ({"uid": -5}, "'uid' must be a positive whole number, not -5"),
}


@pytest.mark.parametrize("change,message", list(BAD_ENTRIES.values()), ids=list(BAD_ENTRIES))
def test_sdn_json_entry_of_the_wrong_shape_is_refused_naming_file_and_entry(db_url, tmp_path, seeded, change,
                                                                             message):
    entry = {"uid": 90002, "name": "FICTICIA EMPRESA", "type": "entity", "programs": ["SDNTK"],
             "alternateNames": []}
    entry.update(change)
    entry = {k: v for k, v in entry.items() if v is not ...}
    result = invoke("import", "sdn", str(_sdn_json(tmp_path / "sdn.json", GOOD_ENTRY, entry)))
    assert result.exit_code == 2, result.output
    where = "entry 2 (uid 90002)" if "uid" not in change else "entry 2"
    assert "sdn.json" in result.output and where in result.output and message in result.output, result.output
    assert "nothing was imported" in result.output
    assert _count(db_url) == seeded
    assert not any(len(n) == 1 or "{" in n or n == "None" for n in _all_names(db_url))


def test_sdn_json_entry_that_is_not_an_object_is_refused(db_url, tmp_path):
    result = invoke("import", "sdn", str(_sdn_json(tmp_path / "sdn.json", GOOD_ENTRY, "FICTICIO")))
    assert result.exit_code == 2 and "sdn.json" in result.output and "entry 2 is not an object" in result.output
    assert _count(db_url) == 0


def test_sdn_json_shaped_like_the_real_file_still_imports(db_url, tmp_path):
    """The real file: uid an integer, programs and alternateNames lists of strings (often empty)."""
    other = {"uid": 90002, "name": "FICTICIA EMPRESA", "type": "entity", "programs": ["SDNTK", "SDGT"],
             "alternateNames": []}
    result = invoke("import", "sdn", str(_sdn_json(tmp_path / "sdn.json", GOOD_ENTRY, other)))
    assert result.exit_code == 0, result.output
    with store_db.session_scope(db_url) as s:
        person = s.get(Entity, "ofac-90001")
        assert person.kind == "Person" and person.properties["alias"] == ["EL FICTICIO"]
        assert s.get(Entity, "ofac-90002-sanction").properties["program"] == ["SDNTK", "SDGT"]


def test_real_sdn_json_passes_the_shape_checks(sdn_dir):
    from workbench.sources.sdn_parse import parse_json

    parsed = parse_json(sdn_dir / "sdn-2026-08-20.json")
    assert len(parsed.records) > 18000 and parsed.warnings == []


def test_malformed_sdn_json_names_line_and_column(db_url, tmp_path, seeded):
    path = tmp_path / "sdn.json"
    path.write_text('{"entries": [\n  {"uid": 90002,\n   "name": "FICTICIA', encoding="utf-8")
    result = invoke("import", "sdn", str(path))
    assert result.exit_code == 2, result.output
    assert "sdn.json, line 3: malformed JSON: Unterminated string starting at line 3, column 12" in result.output
    assert _count(db_url) == seeded


def test_deeply_nested_sdn_json_is_refused_not_a_crash(db_url, tmp_path, seeded):
    path = tmp_path / "sdn.json"
    path.write_text('{"entries": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    result = invoke("import", "sdn", str(path))
    assert result.exit_code == 2, result.output
    assert "sdn.json" in result.output and "nested too deeply" in result.output
    assert _count(db_url) == seeded


# ---- SDN.XML ---------------------------------------------------------------------------------

SDN_XML = """<?xml version="1.0" standalone="yes"?>
<sdnList xmlns="http://tempuri.org/sdnList.xsd">
  <publshInformation><Publish_Date>05/02/2024</Publish_Date><Record_Count>2</Record_Count></publshInformation>
  <sdnEntry>
    <uid>90001</uid><firstName>Juan</firstName><lastName>FICTICIO</lastName><sdnType>Individual</sdnType>
    <programList><program>SDNTK</program></programList>
  </sdnEntry>
  <sdnEntry>
    <uid>90003</uid><lastName>FICTICIA NAVE</lastName><sdnType>Spaceship</sdnType>
    <programList><program>SDNTK</program></programList>
  </sdnEntry>
</sdnList>
"""


def test_sdn_xml_unknown_type_is_imported_with_a_warning_naming_entry_and_type(db_url, tmp_path):
    path = tmp_path / "SDN.XML"
    path.write_text(SDN_XML, encoding="utf-8")
    result = invoke("import", "sdn", str(path))
    assert result.exit_code == 0, result.output
    assert "SDN.XML sdnEntry 2 (uid 90003): unknown sdnType 'Spaceship'" in result.output, result.output
    assert "imported as an organisation" in result.output
    assert "sdnType 'Individual'" not in result.output  # the known types say nothing


# ---- FtM JSON lines --------------------------------------------------------------------------

GOOD = {"id": "fict-p1", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Uno"]}}


def _ftm(path: Path, *lines) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


@pytest.fixture
def ftm_seeded(db_url, tmp_path):
    result = invoke("import", "ftm", str(_ftm(tmp_path / "first.jsonl", GOOD)))
    assert result.exit_code == 0, result.output
    return _count(db_url)


BAD_LINES = {
    "deep-nesting": ("[" * 100_000, "nested too deeply"),
    "deep-nesting-in-object": ('{"id": "fict-x", "schema": "Person", "extra": ' + "[" * 500 + "]" * 500 + "}",
                               "nested too deeply"),
    "array": ('["fict-x", "Person"]', "not a JSON object"),
    "id-object": ({"id": {"x": 1}, "schema": "Person", "properties": {}}, "'id' must be a non-empty string, not an object"),
    "id-number": ({"id": 12, "schema": "Person", "properties": {}}, "'id' must be a non-empty string, not a number"),
    "schema-list": ({"id": "fict-x", "schema": ["Person"], "properties": {}},
                    "'schema' must be a non-empty string, not a list"),
    "schema-missing": ({"id": "fict-x", "properties": {}}, "an FtM entity needs 'id' and 'schema'"),
    "properties-list": ({"id": "fict-x", "schema": "Person", "properties": ["name"]},
                        "'properties' must be an object, not a list"),
    "property-string": ({"id": "fict-x", "schema": "Person", "properties": {"name": "FICTIONAL X"}},
                        "property 'name' must be a list of values, not a string"),
    "property-null": ({"id": "fict-x", "schema": "Person", "properties": {"name": None}},
                      "property 'name' must be a list of values, not null"),
}


@pytest.mark.parametrize("line,message", list(BAD_LINES.values()), ids=list(BAD_LINES))
def test_ftm_line_of_the_wrong_shape_is_refused_naming_file_and_line(db_url, tmp_path, ftm_seeded, line, message):
    good = {"id": "fict-p2", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Dos"]}}
    result = invoke("import", "ftm", str(_ftm(tmp_path / "bad.jsonl", good, line)))
    assert result.exit_code == 2, result.output
    assert "bad.jsonl, line 2: " in result.output and message in result.output, result.output
    assert "nothing was imported" in result.output
    assert _count(db_url) == ftm_seeded


def test_ftm_json_error_gives_the_column(db_url, tmp_path):
    path = _ftm(tmp_path / "bad.jsonl", GOOD, '{"id": "fict-p2", "schema": "Per\tson"}')
    result = invoke("import", "ftm", str(path))
    assert result.exit_code == 2, result.output
    assert "bad.jsonl, line 2: not JSON (Invalid control character at column 33)" in result.output, result.output
    assert _count(db_url) == 0


def test_ftm_values_that_are_not_strings_reject_the_entity_with_its_line(db_url, tmp_path, ftm_seeded):
    path = _ftm(tmp_path / "values.jsonl",
                {"id": "fict-p2", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Dos"]}},
                {"id": "fict-p3", "schema": "Person", "properties": {"name": [123, None, {"a": 1}]}},
                {"id": "fict-p4", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Cuatro"],
                                                                    "alias": [True]}})
    result = invoke("import", "ftm", str(path))
    assert result.exit_code == 3, result.output
    assert "values.jsonl line 2: name: value 1 is a number, not a string (FtM values are strings)" in result.output
    assert "values.jsonl line 3: alias: value 1 is true, not a string" in result.output, result.output
    with store_db.session_scope(db_url) as s:
        assert s.get(Entity, "fict-p2") is not None
        assert s.get(Entity, "fict-p3") is None and s.get(Entity, "fict-p4") is None
    assert not any("{" in n or n == "123" for n in _all_names(db_url))


def test_ftm_identification_with_a_bad_number_gives_its_holder_no_repr(db_url, tmp_path):
    path = _ftm(tmp_path / "ids.jsonl",
                {"id": "fict-p2", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Dos"]}},
                {"id": "fict-p2-idn", "schema": "Identification",
                 "properties": {"holder": ["fict-p2"], "number": [{"a": 1}], "type": ["PASSPORT"]}})
    result = invoke("import", "ftm", str(path))
    assert result.exit_code == 3, result.output
    assert "ids.jsonl line 2: number: value 1 is an object, not a string" in result.output, result.output
    with store_db.session_scope(db_url) as s:
        assert not (s.get(Entity, "fict-p2").properties.get("identifier") or [])


def test_ftm_fragment_with_a_bad_value_is_rejected_alone(db_url, tmp_path):
    """A later fragment of an entity (same id) with a bad value does not take the good first line with it."""
    path = _ftm(tmp_path / "frag.jsonl",
                {"id": "fict-p2", "schema": "Person", "properties": {"name": ["FICTIONAL Persona Dos"]}},
                {"id": "fict-p2", "schema": "Person", "properties": {"alias": [7]}})
    result = invoke("import", "ftm", str(path))
    assert result.exit_code == 3, result.output
    assert "frag.jsonl line 2: alias: value 1 is a number" in result.output, result.output
    with store_db.session_scope(db_url) as s:
        person = s.get(Entity, "fict-p2")
        assert person is not None and "alias" not in person.properties
