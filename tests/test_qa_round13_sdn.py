"""QA round 13: the SDN import against OFAC's rows, entry by entry (a data-quality audit of the real list).

Each test reads the real files (skipped without them) and checks what a researcher relying on the import would
otherwise be misled by."""

from __future__ import annotations

import pytest

from workbench.sources.sdn import linked_target, plan_entity
from workbench.sources.sdn_parse import parse_paths


@pytest.fixture(scope="module")
def parsed(sdn_dir):
    return parse_paths([sdn_dir / "sdn.csv", sdn_dir / "alt.csv", sdn_dir / "add.csv"])


@pytest.fixture(scope="module")
def planned(parsed):
    return {r.ent_num: (r, *plan_entity(r)) for r in parsed.records}


def _facts(planned):
    return {ent: (frozenset(r.programs), frozenset(props.get("country", [])))
            for ent, (r, _kind, props, _linked) in planned.items()}


def test_a_linked_to_naming_two_entries_goes_to_the_one_sharing_the_program_not_the_first_in_the_file(planned):
    """Luhansk official 25436 is 'Linked To: MINISTRY OF STATE SECURITY.': two entries bear the name, North
    Korea's (20129, first in the file) and Luhansk's (25437). The first won, tying him to North Korea."""
    facts = _facts(planned)
    same = [ent for ent, (r, *_rest) in planned.items() if r.name.upper().strip(" .") == "MINISTRY OF STATE SECURITY"]
    assert len(same) >= 2
    assert linked_target(25436, "MINISTRY OF STATE SECURITY", same, facts) == (25437, None)
    assert linked_target(20130, "MINISTRY OF STATE SECURITY", same, facts) == (20129, None)
    # Namesakes nothing tells apart are linked to neither, and the warning names them.
    blind = {1: (frozenset({"A"}), frozenset()), 2: (frozenset({"B"}), frozenset()), 3: (frozenset({"B"}), frozenset())}
    target, problem = linked_target(1, "X", [2, 3], blind)
    assert target is None and "ent_num 2, 3" in problem and "link the right one by hand" in problem


@pytest.mark.parametrize(("ent_num", "father", "mother"), [
    (12989, "EL KHANSA", None),  # Lebanese: 'EL' is no father's surname
    (30423, "SAN AGUSTIN", None),
    (11960, "GONZALEZ", "PIZANA"),  # 'GONZALEZ PIZANA JR.': the generation is no surname
    (34993, "KINAHAN", None),  # 'KINAHAN JUNIOR': no mother's surname 'JUNIOR'
])
def test_a_surname_particle_or_a_generation_is_not_split_off_as_a_surname(planned, ent_num, father, mother):
    _record, _kind, props, _linked = planned[ent_num]
    assert props["fatherName"] == [father] and props.get("motherName") == ([mother] if mother else None)


def test_vessel_flags_written_st_and_ampersand_are_kept(planned):
    """'St. Vincent and the Grenadines', 'St. Kitts & Nevis': the flag comes from a column, stored nowhere else."""
    flags = {ent: planned[ent][2].get("flag") for ent in (27200, 27284, 34977) if ent in planned}
    assert flags and all(flag in (["vc"], ["kn"]) for flag in flags.values()), flags


def test_a_place_no_country_code_stands_for_stays_an_address(planned):
    """19930 KONY's only place is 'Region: Kafia Kingi': dropped as a country-only address, he had none."""
    _record, _kind, props, _linked = planned[19930]
    assert props.get("address") == ["Region: Kafia Kingi"]


def test_rows_of_the_alias_and_address_files_for_entries_the_list_lacks_are_said(parsed):
    said = {where: message for where, message in parsed.warnings}
    assert "entries sdn.csv does not hold" in said.get("alt.csv", "") and "skipped" in said["alt.csv"]
    assert "address row(s) name" in said.get("add.csv", "")


def test_an_import_without_a_publication_date_says_its_citations_name_none(db_url, sdn_dir, tmp_path):
    from tests.test_import_sdn_formats import _import, _slice

    lines = (sdn_dir / "sdn.csv").read_bytes().splitlines(keepends=True)[:5]
    undated = _import(db_url, _slice(sdn_dir, tmp_path, lines))
    assert any("publication date is unknown" in message and "--published" in message
               for _where, message in undated.warnings)
    dated = _import(db_url, _slice(sdn_dir, tmp_path, lines, "v2"), published="2024-05-03")
    assert not any("publication date is unknown" in message for _where, message in dated.warnings)


def test_an_ofac_entry_number_leaves_as_ftms_authority_id_not_the_un_security_councils(db_url):
    import io
    import json

    from workbench.sources.ftm import write_ftm
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        create_entity(s, SYSTEM, "Sanction", {"name": ["OFAC SDN entry 36"], "authority": ["OFAC"],
                                              "program": ["SDNTK"], "listEntryId": ["36"]})
        out = io.StringIO()
        write_ftm(s, out)
    [sanction] = [json.loads(line) for line in out.getvalue().splitlines() if '"Sanction"' in line]
    assert sanction["properties"]["authorityId"] == ["36"] and "unscId" not in sanction["properties"]


def test_a_digital_currency_address_is_stored_as_written_since_its_case_is_part_of_it(planned):
    """Identifiers are stored upper-cased (OFAC writes CURPs in either case); a Bitcoin address is base58, where
    upper-casing names another address. 25308 (SDNTK) lists three."""
    from workbench.schema import registry
    from workbench.types import check_identifier

    reg = registry()
    written = [i for i in planned[25308][2]["identifier"] if i.startswith("CRYPTO_XBT:")]
    assert "CRYPTO_XBT:12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h" in written
    assert [check_identifier(i, {}, reg).value for i in written] == written
    assert check_identifier("CURP:gulo900329hslzpv09", {}, reg).value == "CURP:GULO900329HSLZPV09"


def test_swift_lei_and_vat_numbers_from_the_remarks_land_in_their_own_schemes(planned):
    """They were filed as OTHER, REGISTRATION and TAX_ID, so FtM's swiftBic, leiCode and vatCode never carried
    them and matching against OpenSanctions on them failed."""
    schemes = {i.split(":", 1)[0] for _r, _kind, props, _linked in planned.values() for i in props.get("identifier", [])}
    assert {"SWIFT_BIC", "LEI", "VAT"} <= schemes
    assert "SWIFT_BIC:ROSYRU2P" in planned[16681][2]["identifier"]  # BANK ROSSIYA


def test_a_russian_tax_id_or_registration_number_is_stored_as_the_inn_or_ogrn_it_is(planned):
    """OFAC writes INNs as 'Tax ID No. ... (Russia)' and OGRNs as 'Registration Number ... (Russia)': stored as a
    generic TAX_ID or REGISTRATION, they never reached FtM's innCode / ogrnCode, where OpenSanctions matches them.
    identifiers.yml's `refines` says which: their own check digits confirm nearly all of them."""
    from workbench.schema import registry
    from workbench.types import check_identifier

    reg = registry()
    found = [i for _r, _k, props, _l in planned.values() for i in props.get("identifier", [])
             if i.startswith(("INN:", "OGRN:"))]
    assert len([i for i in found if i.startswith("INN:")]) > 2000 and len([i for i in found if i.startswith("OGRN:")]) > 2000
    failing = [i for i in found if check_identifier(i, {}, reg).warnings]
    assert len(failing) < 0.01 * len(found)
    assert reg.refined_scheme("TAX_ID", "ru", "7707083893") == "INN"
    assert reg.refined_scheme("TAX_ID", "mx", "7707083893") == "TAX_ID"  # another country's: not an INN
    assert reg.refined_scheme("TAX_ID", "ru", "77070838") == "TAX_ID"  # no INN has 8 digits
