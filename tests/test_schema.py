"""schema/ is loaded into a typed registry; mistakes in it or in input are reported clearly."""

import shutil
from pathlib import Path

import pytest

from workbench.schema import Registry, SchemaError, ValidationError, registry, schema_dir


def test_registry_holds_the_required_kinds_and_bases():
    reg = registry()
    for kind in ("Person", "Organization", "PublicBody", "Company", "Territory", "Position", "RealEstate",
                 "Vehicle", "BankAccount", "Address", "Sanction", "Shipment", "Port", "Chemical"):
        assert kind in reg.entity_kinds and not reg.entity_kinds[kind].abstract
    for kind in ("Occupancy", "Membership", "Employment", "Directorship", "Ownership", "Control", "Family",
                 "Associate", "UnknownLink", "Jurisdiction", "ShipmentParty"):
        assert kind in reg.link_kinds
    assert {"kingpin-b2", "kingpin-b3", "kingpin-b4", "eo14059-1a-i", "eo14059-1a-ii", "eo14059-support",
            "eo14059-owned", "eo14059-leader", "visa-212a2c"} <= set(reg.legal_bases)
    assert reg.legal_bases["kingpin-b3"].derivative and not reg.legal_bases["kingpin-b4"].derivative


def test_inheritance_gives_companies_the_organisation_properties_and_ftm_names():
    reg = registry()
    company = reg.entity_kind("Company")
    assert company.is_a("LegalEntity") and company.is_a("Thing")
    assert company.properties["name"].ftm == "name"
    assert company.ftm == "Company"
    assert reg.entity_kind("RealEstate").properties["parcelNumber"].ftm == "cadastralCode"


def test_unknown_kind_is_a_validation_error():
    with pytest.raises(ValidationError) as info:
        registry().entity_kind("Spaceship")
    assert "unknown entity kind 'Spaceship'" in str(info.value)


def test_endpoint_not_allowed_names_the_allowed_kinds():
    reg = registry()
    with pytest.raises(ValidationError) as info:
        reg.check_endpoints(reg.link_kind("Occupancy"), "Company", "Position")
    assert "Occupancy cannot start at a Company" in str(info.value)
    reg.check_endpoints(reg.link_kind("Ownership"), "Person", "RealEstate")  # allowed via Asset


@pytest.mark.parametrize("value", ["1979", "1979-02", "1979-02-13"])
def test_partial_dates_are_accepted(value):
    reg = registry()
    cleaned, _ = reg.validate_properties("Person", {"name": "X", "birthDate": value}, reg.entity_kind("Person").properties)
    assert cleaned["birthDate"] == [value]


@pytest.mark.parametrize("value,message", [("1979-13", "month 13"), ("1979-02-30", "day 30"), ("13/02/1979", "not a date")])
def test_bad_dates_are_refused_with_a_reason(value, message):
    reg = registry()
    with pytest.raises(ValidationError) as info:
        reg.validate_properties("Person", {"name": "X", "birthDate": value}, reg.entity_kind("Person").properties)
    assert message in str(info.value) and "birthDate" in info.value.errors


def test_curp_with_bad_check_digit_is_kept_with_a_warning():
    reg = registry()
    props = reg.entity_kind("Person").properties
    cleaned, warnings = reg.validate_properties("Person", {"name": "X", "identifier": "CURP:GULO900329HSLZPV08"}, props)
    assert cleaned["identifier"] == ["CURP:GULO900329HSLZPV08"]
    assert any("check digit" in w or "checksum" in w for w in warnings["identifier"])
    cleaned, warnings = reg.validate_properties("Person", {"name": "X", "identifier": "CURP:GULO900329HSLZPV09"}, props)
    assert warnings == {}


def test_rfc_with_separators_is_compacted_and_bad_check_digit_warns():
    reg = registry()
    props = reg.entity_kind("Person").properties
    cleaned, warnings = reg.validate_properties("Person", {"name": "X", "identifier": "rfc:MECA-760306-V70"}, props)
    assert cleaned["identifier"] == ["RFC:MECA760306V70"]
    assert "fails its check digit" in warnings["identifier"][0]


def test_identifier_without_known_scheme_is_refused():
    reg = registry()
    with pytest.raises(ValidationError) as info:
        reg.validate_properties("Person", {"name": "X", "identifier": "FOO:123"}, reg.entity_kind("Person").properties)
    assert "unknown identifier scheme 'FOO'" in str(info.value)


def test_required_name_and_unknown_property():
    reg = registry()
    with pytest.raises(ValidationError) as info:
        reg.validate_properties("Person", {"shoeSize": "44"}, reg.entity_kind("Person").properties)
    assert "Name is required" in str(info.value.errors["name"])
    assert "no property 'shoeSize'" in str(info.value.errors["shoeSize"])


def _copy_schema(tmp_path: Path) -> Path:
    target = tmp_path / "schema"
    shutil.copytree(schema_dir(), target)
    return target


def test_schema_file_with_unknown_endpoint_kind_fails_at_load(tmp_path):
    directory = _copy_schema(tmp_path)
    links = directory / "links.yml"
    links.write_text(links.read_text().replace("target: [Position]", "target: [Potition]"))
    with pytest.raises(SchemaError) as info:
        Registry(directory)
    assert "links.yml: Occupancy.target names unknown entity kind 'Potition'" in str(info.value)


def test_schema_file_with_unknown_property_type_fails_at_load(tmp_path):
    directory = _copy_schema(tmp_path)
    entities = directory / "entities.yml"
    entities.write_text(entities.read_text().replace("birthDate: {type: date", "birthDate: {type: dait"))
    with pytest.raises(SchemaError) as info:
        Registry(directory)
    assert "Person.birthDate has unknown type 'dait'" in str(info.value)


def test_a_label_with_commas_left_unquoted_fails_at_load(tmp_path):
    """In a {flow: mapping} YAML splits 'label: Status (active, delisted)' into a label 'Status (active' and
    a key 'delisted)': the page would show half a label. The loader names the property and the fix."""
    directory = _copy_schema(tmp_path)
    entities = directory / "entities.yml"
    entities.write_text(entities.read_text().replace('label: "Status (active, delisted)"',
                                                     "label: Status (active, delisted)"))
    with pytest.raises(SchemaError) as info:
        Registry(directory)
    assert "Sanction.status has unknown key(s) 'delisted)'" in str(info.value)
    assert "quote a label" in str(info.value)
    labels = [p.label for kind in registry().entity_kinds.values() for p in kind.properties.values()]
    assert "Status (active, delisted)" in labels


def test_every_kind_has_a_readable_plural_for_lists_and_filters():
    """The Entities page's kind filter reads 'Legal entities (all)', not 'Legal entitys (all)'."""
    import re

    for kind in registry().entity_kinds.values():
        assert not re.search(r"[^aeiou]ys$", kind.plural), f"{kind.name}: {kind.plural!r}"
