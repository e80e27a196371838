"""The demo data states only true, sourced facts about real people, and labels everything invented.

fixtures/demo/public.yml quotes OFAC SDN entries (ent_num as the locator). Those quotes and the
properties drawn from them are checked here against OFAC's own files in ../shared/data/ofac-sdn
(skipped, with the reason, when that directory is absent), so an edit that changes a date of birth,
a CURP, a program or an alias without the list saying so fails. Entries held out of the local files
(some Mexico/narcotics entries are removed on purpose) are "not checkable locally", not errors.
The labelling checks (FICTIONAL scenario, sources on every real fact) need no OFAC data.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from workbench.dossiers import demo as dossier_demo
from workbench.sources.sdn_parse import SdnRecord, parse_csv_trio, parse_json
from workbench.text import fold

DEMO_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
OFAC_FILES = {"demo-src-ofac-sdn-csv", "demo-src-ofac-alt-csv", "demo-src-ofac-add-csv"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# How the SDN remarks write each identifier scheme the demo uses.
ID_LABELS = {"CURP": ("C.U.R.P.",), "RFC": ("R.F.C.",), "VOTER": ("I.F.E.", "Electoral Registry No.", "Credencial electoral")}
# Publishers whose pages the demo may cite for real facts, with the address shape each one uses.
OFFICIAL_URLS = (
    r"https://www\.treasury\.gov/ofac/downloads/(sdn|alt|add)\.csv",
    r"https://sanctionssearch\.ofac\.treas\.gov/",
    r"https://ofac\.treasury\.gov/sanctions-programs-and-country-information/[a-z-]+",
    r"https://home\.treasury\.gov/news/press-releases/[a-z]{2}\d{3,5}",
    r"https://obamawhitehouse\.archives\.gov/the-press-office/[a-z0-9-]+",
    r"https://www\.dea\.gov/pubs/pressrel/pr\d{6}\.html",
    r"https://www\.state\.gov/foreign-terrorist-organizations/",
    r"https://www\.inegi\.org\.mx/app/ageeml/",
)


def load_fixtures(directory: Path = DEMO_DIR) -> dict[str, dict[str, dict]]:
    """{'sources'|'entities'|'links': {id: item}}, each item tagged with the file it came from."""
    out: dict[str, dict[str, dict]] = {"sources": {}, "entities": {}, "links": {}}
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in out:
            for item in data.get(key) or []:
                out[key][item["id"]] = dict(item, _file=path.name)
    return out


def _values(item: dict, prop: str) -> list[str]:
    value = (item.get("properties") or {}).get(prop)
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _ent_nums(item: dict, source: str = "demo-src-ofac-sdn-csv") -> set[int]:
    found = set()
    for cite in item.get("cite") or []:
        match = re.fullmatch(r"ent_num (\d+)", cite.get("locator") or "")
        if cite.get("source") == source and match:
            found.add(int(match.group(1)))
    return found


def _sdn_quote(record: SdnRecord) -> str:
    """The entry as the demo quotes it: NAME [PROGRAM] [PROGRAM]; remarks."""
    head = f"{record.name} " + " ".join(f"[{p}]" for p in record.programs)
    return head + (f"; {record.remarks}" if record.remarks else "")


def _dob(value: str) -> str:
    if re.fullmatch(r"\d{4}", value):
        return f"DOB {value}"
    year, month, day = value.split("-")
    return f"DOB {day} {MONTHS[int(month) - 1]} {year}"


def _cited_elsewhere(item: dict, prop: str, value: str | None = None) -> bool:
    """A value the SDN entry does not carry is fine only if another source is cited for it."""
    return any(c.get("source") not in OFAC_FILES and c.get("prop") == prop and c.get("value") in (None, value)
               for c in item.get("cite") or [])


def _person_problems(where: str, item: dict, record: SdnRecord) -> list[str]:
    remarks = record.remarks or ""
    weak_in_list = {fold(m) for m in re.findall(r"a\.k\.a\. '([^']+)'", remarks)}
    problems = []
    for value in _values(item, "birthDate"):
        if _dob(value) not in remarks:
            problems.append(f"{where}: birthDate {value} but the entry says {remarks!r}")
    for value in _values(item, "birthPlace"):
        if f"POB {value}" not in remarks:
            problems.append(f"{where}: birthPlace {value!r} is not the entry's POB")
    for value in _values(item, "nationality"):
        if not ("nationality Mexico" in remarks and value == "mx") and not _cited_elsewhere(item, "nationality", value):
            problems.append(f"{where}: nationality {value} is neither in the entry nor cited to another source")
    for value in _values(item, "gender"):
        if f"Gender {value.capitalize()}" not in remarks:
            problems.append(f"{where}: gender {value} is not in the entry")
    for value in _values(item, "identifier"):
        scheme, _, number = value.partition(":")
        if not any(f"{label} {number}" in remarks for label in ID_LABELS.get(scheme, ())):
            problems.append(f"{where}: identifier {value} is not in the entry")
    for value in _values(item, "weakAlias"):
        if fold(value) not in weak_in_list and not _cited_elsewhere(item, "weakAlias", value):
            problems.append(f"{where}: weakAlias {value!r} is neither an a.k.a. of the entry nor cited elsewhere")
    return problems


def _entity_problems(where: str, item: dict, record: SdnRecord) -> list[str]:
    problems = []
    listed = {fold(record.name)} | {fold(name) for _, name, _ in record.aliases}
    names = _values(item, "name") + _values(item, "alias")
    if fold(record.name) not in {fold(n) for n in names}:
        problems.append(f"{where}: neither the name nor an alias is the entry's name {record.name!r}")
    for alias in _values(item, "alias"):
        if fold(alias) not in listed:
            problems.append(f"{where}: alias {alias!r} is not a name of the entry")
    addresses = {a for a, _, _ in record.addresses}
    for address in _values(item, "address"):
        if address not in addresses:
            problems.append(f"{where}: address {address!r} is not one of the entry's {sorted(addresses)}")
    for cite in item.get("cite") or []:
        excerpt = cite.get("excerpt")
        if cite.get("source") == "demo-src-ofac-sdn-csv" and excerpt and excerpt != _sdn_quote(record):
            problems.append(f"{where}: quotes {excerpt!r} but the entry reads {_sdn_quote(record)!r}")
        if cite.get("source") == "demo-src-ofac-alt-csv" and cite.get("value") and fold(cite["value"]) not in listed:
            problems.append(f"{where}: cites ALT.CSV for {cite['value']!r}, which the entry lacks")
        if cite.get("source") == "demo-src-ofac-add-csv" and cite.get("value") and cite["value"] not in addresses:
            problems.append(f"{where}: cites ADD.CSV for {cite['value']!r}, which the entry lacks")
    if item["kind"] == "Person":
        problems += _person_problems(where, item, record)
    return problems


def _sanction_problems(where: str, item: dict, record: SdnRecord, demo: dict) -> list[str]:
    problems = []
    if _values(item, "program") != record.programs:
        problems.append(f"{where}: programs {_values(item, 'program')} but the entry has {record.programs}")
    subjects = [link["target"] for link in demo["links"].values()
                if link["kind"] == "SanctionOf" and link["source"] == item["id"]]
    for subject in subjects:
        if record.ent_num not in _ent_nums(demo["entities"][subject]):
            problems.append(f"{where}: its subject {subject} does not cite ent_num {record.ent_num}")
    return problems


def ofac_problems(demo: dict, records: dict[int, SdnRecord],
                  newer: dict[int, SdnRecord] | None = None) -> tuple[list[str], set[int]]:
    """Every demo fact that disagrees with the OFAC files, and the ent_nums those files do not hold."""
    problems: list[str] = []
    unchecked: set[int] = set()
    for item in list(demo["entities"].values()) + list(demo["links"].values()):
        numbers = set(_ent_nums(item))
        listed_id = _values(item, "listEntryId")
        numbers |= {int(v) for v in listed_id}
        for ent_num in sorted(numbers):
            where = f"{item['_file']}: {item['id']} (ent_num {ent_num})"
            record = records.get(ent_num)
            if record is None:
                unchecked.add(ent_num)
                continue
            if item.get("kind") == "Sanction":
                problems += _sanction_problems(where, item, record, demo)
            elif "target" in item:  # a link quoting the remarks, e.g. "Linked To: ..."
                for cite in item.get("cite") or []:
                    if cite.get("excerpt") and cite["excerpt"] not in (record.remarks or ""):
                        problems.append(f"{where}: quotes {cite['excerpt']!r}, not in the entry's remarks")
            else:
                problems += _entity_problems(where, item, record)
            later = (newer or {}).get(ent_num)
            if later is not None and item.get("kind") == "Sanction":
                if not set(_values(item, "program")) <= set(later.programs):
                    problems.append(f"{where}: programs {_values(item, 'program')} are not all in the "
                                    f"{later.ent_num} entry of the newer list {later.programs}")
    return problems, unchecked


@pytest.fixture(scope="module")
def ofac(sdn_dir):
    trio = parse_csv_trio(sdn_dir / "sdn.csv", sdn_dir / "alt.csv", sdn_dir / "add.csv")
    json_files = sorted(sdn_dir.glob("sdn-*.json"))
    newer = {r.ent_num: r for r in parse_json(json_files[-1]).records} if json_files else {}
    return {r.ent_num: r for r in trio.records}, newer


def test_demo_ofac_facts_match_the_ofac_files(ofac):
    records, newer = ofac
    demo = load_fixtures()
    problems, unchecked = ofac_problems(demo, records, newer)
    assert problems == []
    checked = {n for item in list(demo["entities"].values()) for n in _ent_nums(item)} - unchecked
    # The seven entries the demo quotes are all in the local files (a held-out one would move here).
    assert checked == {6861, 11439, 13148, 13149, 20109, 35939, 39376}


def test_a_wrong_fact_or_a_split_address_is_reported(ofac):
    """The check is not vacuous: a mistyped date of birth, a wrong CURP, a wrong program and the old
    LNFM address (a YAML flow list that split 'Guerrero, Mexico' in two) are each named."""
    records, _ = ofac
    demo = copy.deepcopy(load_fixtures())
    entities = demo["entities"]
    entities["demo-flores-mendoza"]["properties"]["birthDate"] = "1976-11-19"
    entities["demo-oseguera-antonio"]["properties"]["identifier"] = ["CURP:OECA580820HMNSRN05"]
    entities["demo-sanction-lnfm"]["properties"]["program"] = "SDNTK"
    entities["demo-lnfm"]["properties"]["address"] = ["Guerrero", "Mexico", "Michoacan, Mexico"]
    entities["demo-guzman-loera"]["properties"]["alias"].append("GUZMAN LOERA, Ovidio")
    problems, _ = ofac_problems(demo, records)
    text = "\n".join(problems)
    assert "demo-flores-mendoza (ent_num 35939): birthDate 1976-11-19" in text
    assert "identifier CURP:OECA580820HMNSRN05" in text
    assert "demo-sanction-lnfm (ent_num 39376): programs ['SDNTK']" in text
    assert "address 'Guerrero' is not one of the entry's" in text and "address 'Mexico'" in text
    assert "alias 'GUZMAN LOERA, Ovidio'" in text


def test_an_entry_missing_from_the_local_files_is_not_an_error(ofac):
    records, _ = ofac
    demo = load_fixtures()
    without = {n: r for n, r in records.items() if n != 35939}
    problems, unchecked = ofac_problems(demo, without)
    assert problems == [] and 35939 in unchecked


def test_every_real_fact_is_cited_to_a_plausible_public_source():
    demo = load_fixtures()
    real_sources = {sid: s for sid, s in demo["sources"].items() if s["_file"] != "fictional.yml"}
    for sid, source in real_sources.items():
        url = source["url"]
        official = any(re.fullmatch(p, url) for p in OFFICIAL_URLS)
        secondary = source.get("source_type") == "other" and source.get("reliability") == "C" \
            and urlparse(url).hostname == "en.wikipedia.org"
        assert official or secondary, f"sources.yml: {sid}: {url} is not an official page of a known form"
        assert "FICTIONAL" not in source["title"], sid
    for kind in ("entities", "links"):
        for item in demo[kind].values():
            if item["_file"] != "public.yml":
                continue
            cites = item.get("cite") or []
            assert cites, f"public.yml: {item['id']} has no source"
            assert all(c["source"] in real_sources for c in cites), f"public.yml: {item['id']} cites a fictional source"
            assert "fictional" not in _values(item, "topics"), item["id"]


def test_the_invented_scenario_is_labelled_fictional_and_accuses_no_real_person():
    demo = load_fixtures()
    fictional_sources = {sid for sid, s in demo["sources"].items() if s["_file"] == "fictional.yml"}
    for sid in fictional_sources:
        source = demo["sources"][sid]
        assert urlparse(source["url"]).hostname == "example.org", sid
        assert "FICTIONAL" in source["title"] and "FICTIONAL" in source["publisher"], sid
    invented = {eid for eid, e in demo["entities"].items() if e["_file"] == "fictional.yml"}
    for eid in invented:
        entity = demo["entities"][eid]
        assert "FICTIONAL" in _values(entity, "name")[0] and "fictional" in _values(entity, "topics"), eid
        assert all(c["source"] in fictional_sources for c in entity.get("cite") or []), eid
    for link in demo["links"].values():
        if link["_file"] != "fictional.yml":
            continue
        ends = {link["source"], link["target"]}
        assert ends & invented, f"{link['id']} joins two real parties"
        for real in ends - invented:
            assert demo["entities"][real]["kind"] != "Person", f"{link['id']} ties the scenario to a real person"
        for cite in link.get("cite") or []:
            assert cite["source"] in fictional_sources, link["id"]
            assert cite.get("excerpt") is None or cite["excerpt"].startswith("FICTIONAL"), link["id"]


def test_the_demo_dossier_is_about_the_fictional_official_and_says_so():
    demo = load_fixtures()
    assert dossier_demo.OFFICIAL_ID in demo["entities"]
    assert demo["entities"][dossier_demo.OFFICIAL_ID]["_file"] == "fictional.yml"
    assert all(text.startswith("FICTIONAL DEMO.") for text in dossier_demo.NARRATIVE.values())
    for _, statement_type, statement, _, source_id in dossier_demo.EXHIBITS:
        fictional_source = demo["sources"][source_id]["_file"] == "fictional.yml"
        # Allegations come only from fictional sources and say so; true facts cite real sources.
        assert fictional_source == ("FICTIONAL" in statement or "Fictional" in statement), statement
        if statement_type == "allegation":
            assert fictional_source, statement
