"""The releasable export leaves out values, links and assets that only unreleasable sources support.

QA found that a releasable export withheld only the exhibits: an alias and a date of birth cited to an
unreleasable source alone were still in every format, while the export's own checklist said it cited no
unreleasable source. Every scenario here is FICTIONAL (the shared scenario of test_dossier_scenario, or
the demo's fictional official).
"""

from __future__ import annotations

import csv
import html
import io
import json

import pytest
from pypdf import PdfReader
from test_dossier_scenario import LEAK_TITLE, build_scenario, complete_dossier
from web_helpers import signed_in_client

from workbench.dossiers import service, workflow
from workbench.dossiers.exports import FORMATS, export_dossier
from workbench.store.entities import cite, create_entity, create_link, update_entity

SECRET_ALIAS = "El Secreto"  # cited to the leak only
SECRET_BIRTH = "1974-11-02"  # cited to the leak only
SHARED_ALIAS = "El Doble"  # cited to the court and to the leak: stays
BIRTH_LABEL = "Date of birth"
ALIAS_LABEL = "Alias (strong a.k.a.)"
CHAIN_SOURCE = "unreleasable source on a chain to a designated party"  # the scenario's chain also cites the leak


def _text(fmt: str, content: bytes) -> str:
    if fmt == "pdf":
        return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())
    return content.decode("utf-8")


def _exports(session, dossier_id: str, releasable: bool) -> dict[str, str]:
    return {fmt: _text(fmt, export_dossier(session, dossier_id, fmt, releasable=releasable).content)
            for fmt in FORMATS}


def _add_values(session, actor, sc, values: dict) -> None:
    update_entity(session, actor, sc.target, values, replace=False)
    session.flush()


@pytest.fixture
def secret_values(session, researcher):
    """The shared scenario, with an alias and a date of birth that only the leak supports and an alias
    that the court and the leak both support."""
    sc = build_scenario(session, researcher)
    _add_values(session, researcher, sc, {"alias": ["El Ficticio", SECRET_ALIAS, SHARED_ALIAS],
                                          "birthDate": ["1975-03-12", SECRET_BIRTH]})
    cite(session, researcher, sc.leak, entity_id=sc.target, prop="alias", value=SECRET_ALIAS)
    cite(session, researcher, sc.leak, entity_id=sc.target, prop="birthDate", value=SECRET_BIRTH)
    cite(session, researcher, sc.leak, entity_id=sc.target, prop="alias", value=SHARED_ALIAS)
    cite(session, researcher, sc.court, entity_id=sc.target, prop="alias", value=SHARED_ALIAS)
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    return sc, dossier_id


def test_values_only_an_unreleasable_source_supports_are_in_no_releasable_format(session, secret_values):
    _, dossier_id = secret_values
    full, released = _exports(session, dossier_id, False), _exports(session, dossier_id, True)
    for fmt in ("html", "pdf", "md", "json", "ftm", "visa-csv"):  # every format that shows the target
        assert SECRET_ALIAS in full[fmt] and SECRET_BIRTH in full[fmt], fmt
        assert SHARED_ALIAS in released[fmt], fmt  # one releasable source is enough
        assert "El Ficticio" in released[fmt] and "1975-03-12" in released[fmt], fmt  # uncited: stays
    for fmt, text in released.items():
        assert SECRET_ALIAS not in text and SECRET_BIRTH not in text and LEAK_TITLE not in text, fmt


def test_the_withheld_note_counts_the_values_without_naming_them(session, secret_values):
    _, dossier_id = secret_values
    released = _exports(session, dossier_id, True)
    # Since QA round 15 the note also counts the leak dropped from the chain to the cartel (its court record stays).
    note = f"exhibit 4; {ALIAS_LABEL} (1), {BIRTH_LABEL} (1), {CHAIN_SOURCE} (1)"
    assert f"(withheld: {note})" in released["html"]
    assert f"Withheld from this releasable version: {note}." in released["html"]
    assert f"(withheld: {note})" in " ".join(released["pdf"].split())
    assert ("(withheld: exhibit 4; Alias (strong a.k.a.) (1), Date of birth (1), unreleasable source on a chain to a "
            "designated party (1))") in released["md"]
    for fmt in ("visa-csv", "assets-csv"):
        assert f"; releasable export (withheld: {note})" in released[fmt].splitlines()[3], fmt
    assert f"releasable export (withheld: {note})" in released["ftm"]
    meta = json.loads(released["json"])["meta"]
    assert meta["withheld_exhibits"] == [4]
    assert meta["withheld"] == [{"what": ALIAS_LABEL, "count": 1}, {"what": BIRTH_LABEL, "count": 1},
                                {"what": CHAIN_SOURCE, "count": 1}]
    assert meta["withheld_summary"] == note
    # The full export withholds nothing.
    full = json.loads(export_dossier(session, dossier_id, "json").content)["meta"]
    assert (full["withheld_exhibits"], full["withheld"], full["withheld_summary"]) == ([], [], "")


def test_the_checklist_of_a_releasable_export_says_what_it_left_out(session, secret_values):
    _, dossier_id = secret_values
    doc = json.loads(export_dossier(session, dossier_id, "json", releasable=True).content)
    check = next(c for c in doc["completeness"]["checks"] if c["key"] == "releasable")
    assert check["ok"] and check["status"] == "info"
    assert check["label"] == "The releasable export leaves out exhibit 4: it cites an unreleasable source"
    assert (f"Left out of the releasable export because only unreleasable sources support them: "
            f"{ALIAS_LABEL} (1), {BIRTH_LABEL} (1).") in check["notes"]
    # And it is true of the export: no source it names is unreleasable, no value rests on one alone.
    records = [ex["source"] for ex in doc["exhibits"]] + doc["target"]["sources"] + doc["sources"]
    records += [c for path in doc["designated_links"] for step in path["steps"] for c in step["citations"]]
    records += [s for asset in doc["assets"] for s in asset["sources"] + asset["citations"]]
    assert records and all(r["releasable"] for r in records)
    md = export_dossier(session, dossier_id, "md", releasable=True).content.decode()
    assert "- Note: The releasable export leaves out exhibit 4: it cites an unreleasable source" in md
    # The reviewer reading the full version (or the dossier page) is told the same beforehand.
    full = json.loads(export_dossier(session, dossier_id, "json").content)
    full_check = next(c for c in full["completeness"]["checks"] if c["key"] == "releasable")
    assert any(n.startswith("Left out of the releasable export") for n in full_check["notes"])


def test_the_web_route_serves_the_same_filtered_exports(db_url, session, secret_values):
    _, dossier_id = secret_values
    client = signed_in_client(db_url, "victor", "reviewer")
    for fmt in ("html", "md", "json", "ftm", "visa-csv", "pdf"):
        full = client.get(f"/dossiers/{dossier_id}/export?format={fmt}")
        released = client.get(f"/dossiers/{dossier_id}/export?format={fmt}&releasable=1")
        assert full.status_code == released.status_code == 200, fmt
        full_text, released_text = _text(fmt, full.content), _text(fmt, released.content)
        assert SECRET_ALIAS in full_text and SECRET_BIRTH in full_text, fmt
        assert SECRET_ALIAS not in released_text and SECRET_BIRTH not in released_text, fmt
        assert SHARED_ALIAS in released_text, fmt


def test_an_approved_package_withholds_the_same_values(session, researcher, reviewer, secret_values):
    """The frozen snapshot holds the values; the releasable export of it must still leave them out."""
    _, dossier_id = secret_values
    workflow.submit(session, researcher, dossier_id)
    workflow.approve(session, reviewer, dossier_id)
    session.commit()
    released = _exports(session, dossier_id, True)
    for fmt, text in released.items():
        assert SECRET_ALIAS not in text and SECRET_BIRTH not in text, fmt
    assert SECRET_ALIAS in export_dossier(session, dossier_id, "md").content.decode()



def test_a_whole_entity_citation_to_an_unreleasable_source_withholds_the_uncited_values(session, researcher):
    """Cited as a whole only to the leak: every value no more specific citation supports is withheld,
    but never the target's name (the export must name its subject, and says why it kept it)."""
    sc = build_scenario(session, researcher)
    cite(session, researcher, sc.leak, entity_id=sc.target)  # the entity as a whole
    # The name's only citation (the gazette, for the whole 'name' property) is now the leak's too.
    from workbench.store.models import Citation

    session.query(Citation).filter(Citation.entity_id == sc.target, Citation.prop == "name").delete()
    cite(session, researcher, sc.leak, entity_id=sc.target, prop="name")
    cite(session, researcher, sc.official, entity_id=sc.target, prop="identifier", value="CURP:VIIM750312HSLLBR08")
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    released = _exports(session, dossier_id, True)
    for fmt in ("html", "pdf", "md", "json", "ftm", "visa-csv"):
        text = released[fmt]
        assert "Ramiro Testigo Ficticio (FICTIONAL)" in text, fmt  # the caption stays
        assert "VIIM750312HSLLBR08" in text, fmt  # a releasable citation of that very value
        assert "El Ficticio" not in text and "1975-03-12" not in text, fmt  # resting on the leak alone
    doc = json.loads(released["json"])
    assert {p["name"] for p in doc["target"]["properties"]} == {"name"}
    assert [n["name"] for n in doc["target"]["names"]] == ["Ramiro Testigo Ficticio (FICTIONAL)"]
    withheld = {item["what"]: item["count"] for item in doc["meta"]["withheld"]}
    assert withheld["Alias (strong a.k.a.)"] == 1 and withheld[BIRTH_LABEL] == 1 and withheld["Nationality"] == 1
    assert "Name" not in withheld
    kept_note = ("The target's name is supported only by unreleasable sources; the releasable export keeps it, "
                 "without those sources, so that it names its subject.")
    assert kept_note in doc["meta"]["withheld_notes"]
    assert kept_note in html.unescape(" ".join(released["html"].split())) and kept_note in released["md"]
    # The full export still shows everything.
    full = export_dossier(session, dossier_id, "visa-csv").content.decode()
    assert "El Ficticio" in full and "1975-03-12" in full


def test_a_chain_to_a_designated_party_only_the_leak_supports_is_withheld(session, researcher):
    sc = build_scenario(session, researcher, cite_associate=False)  # the Associate link: the leak alone
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    service.add_exhibit(session, researcher, dossier.id, element="foreign_person", statement_type="fact",
                        statement="Mexican national.", source_id=sc.official)
    session.commit()
    full, released = _exports(session, dossier.id, False), _exports(session, dossier.id, True)
    for fmt in ("html", "pdf", "md", "json", "ftm"):
        assert "Cartel de Prueba (TEST)" in full[fmt], fmt
    for fmt, text in released.items():
        assert "Cartel de Prueba (TEST)" not in text and "protection payments" not in text, fmt
    doc = json.loads(released["json"])
    assert doc["designated_links"] == []
    assert {"what": "chain to a designated party", "count": 1} in doc["meta"]["withheld"]
    link_check = next(c for c in doc["completeness"]["checks"] if c["key"] == "designated_link")
    # Met by the whole package, and the releasable one says the chain is withheld (QA round 13: an approved
    # package whose releasable copy read 'Incomplete' under 'the checklist is that of the whole package').
    assert link_check["ok"] and link_check["status"] == "warning"
    assert "Cartel de Prueba" not in json.dumps(link_check)


def test_assets_their_chains_and_values_follow_the_same_rule(session, researcher):
    sc = build_scenario(session, researcher)
    # A second asset whose ownership only the leak supports, and a county only the leak gives.
    hidden = create_entity(session, researcher, "RealEstate", {
        "name": "Ranch on Secret Rd (TEST)", "parcelNumber": "TEST-APN-SECRET"}).obj.id
    owns = create_link(session, researcher, "Ownership", sc.target, hidden, {"percentage": "100"}).obj.id
    cite(session, researcher, sc.leak, link_id=owns)
    update_entity(session, researcher, sc.house, {"county": "Secret County, TX"}, replace=False)
    cite(session, researcher, sc.leak, entity_id=sc.house, prop="county", value="Secret County, TX")
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    full, released = _exports(session, dossier_id, False), _exports(session, dossier_id, True)
    for fmt in ("html", "pdf", "md", "json", "assets-csv"):
        assert "Ranch on Secret Rd" in full[fmt], fmt
        assert "Secret County" in full[fmt], fmt  # the Markdown table has a county column since QA round 15
    for fmt, text in released.items():
        assert "Ranch on Secret Rd" not in text and "TEST-APN-SECRET" not in text, fmt
        assert "Secret County" not in text, fmt
    rows = list(csv.DictReader(line for line in released["assets-csv"].splitlines() if not line.startswith("#")))
    house = next(r for r in rows if r["asset_id"] == sc.house)
    assert house["parcel_number"] == "TEST-APN-1" and house["county"] == "" and "County deed" in house["sources"]
    withheld = {item["what"]: item["count"] for item in json.loads(released["json"])["meta"]["withheld"]}
    assert withheld == {"asset: County": 1, "asset to block": 1, CHAIN_SOURCE: 1}


def test_demo_alias_el_contador_cited_to_the_leaked_ledger_stays_out(session):
    """The demo's fictional official, with the leaked ledger cited to him as a whole (QA's steps): 'El
    Contador', which no other source gives, is in no releasable format; the name gazette and the RFC the
    asset declaration support stay."""
    from workbench.dossiers.demo import DEMO_DOSSIER_ID, OFFICIAL_ID
    from workbench.sources.demo import load_demo
    from workbench.store.permissions import SYSTEM, Actor

    load_demo(session, SYSTEM, users=False)
    cite(session, Actor("rita", "researcher"), "demo-src-fictional-leak", entity_id=OFFICIAL_ID,
         excerpt="FICTIONAL ledger line: 'Contador'")
    session.commit()
    full, released = _exports(session, DEMO_DOSSIER_ID, False), _exports(session, DEMO_DOSSIER_ID, True)
    for fmt in ("visa-csv", "json", "html", "md", "ftm", "pdf"):
        assert "El Contador" in full[fmt], fmt
        assert "El Contador" not in released[fmt], fmt
        assert "Villaseñor Ibarra (FICTIONAL)" in released[fmt], fmt
    [row] = list(csv.DictReader(line for line in released["visa-csv"].splitlines() if not line.startswith("#")))
    assert row["name"] == "José María Villaseñor Ibarra (FICTIONAL)" and row["aliases"] == ""
    assert row["birth_date"] == "" and row["identifiers"] == "RFC:VIIM750312K26"
    meta = json.loads(released["json"])["meta"]
    assert meta["withheld_exhibits"] == [5] and {"what": "Weak alias / nickname", "count": 1} in meta["withheld"]


def test_the_shipped_demo_leaves_its_leak_only_nickname_out_of_releasable_exports(session):
    """As shipped, the demo cites 'El Contador' to the leaked ledger alone: the releasable package
    leaves it out and keeps everything else it showed (the birth date no source is cited for stays)."""
    from workbench.dossiers.demo import DEMO_DOSSIER_ID
    from workbench.sources.demo import load_demo
    from workbench.store.permissions import SYSTEM

    load_demo(session, SYSTEM, users=False)
    session.commit()
    full, released = _exports(session, DEMO_DOSSIER_ID, False), _exports(session, DEMO_DOSSIER_ID, True)
    for fmt in ("visa-csv", "json", "html", "md", "ftm", "pdf"):
        assert "El Contador" in full[fmt], fmt
        assert "El Contador" not in released[fmt], fmt
    [row] = list(csv.DictReader(line for line in released["visa-csv"].splitlines() if not line.startswith("#")))
    assert row["aliases"] == "VILLASENOR IBARRA, Jose Maria" and row["birth_date"] == "1975-03-12"


def test_an_assets_name_that_shows_a_withheld_value_is_withheld_with_it(session, researcher):
    """QA round 12: with the roll's APN withheld, the releasable export still named the parcel 'Parcel 4455-770'
    (the mapping's name template), so the withheld number was in every format."""
    sc = build_scenario(session, researcher)
    parcel = create_entity(session, researcher, "RealEstate", {
        "name": "Parcel 4455-770 (TEST)", "parcelNumber": "4455-770", "identifier": "APN:4455-770"}).obj.id
    for prop, value in (("parcelNumber", "4455-770"), ("identifier", "APN:4455770"), ("name", "Parcel 4455-770 (TEST)")):
        cite(session, researcher, sc.leak, entity_id=parcel, prop=prop, value=value)
    owned = create_link(session, researcher, "Ownership", sc.company, parcel, {"percentage": "100"}).obj.id
    cite(session, researcher, sc.registry, link_id=owned)
    dossier_id = complete_dossier(session, researcher, sc)
    full = _exports(session, dossier_id, releasable=False)
    listing = {fmt for fmt, text in full.items() if "4455-770" in text or "4455770" in text}
    assert listing == set(FORMATS) - {"visa-csv"}, listing  # every format that lists assets names it
    for fmt, text in _exports(session, dossier_id, releasable=True).items():
        assert "4455-770" not in text and "4455770" not in text, fmt
        if fmt in listing - {"ftm"}:  # FtM carries the asset without a name (FtM needs none)
            assert "name withheld: it shows a value only unreleasable sources support" in html.unescape(text), fmt


def test_a_releasable_flag_the_page_cannot_read_is_refused_not_taken_for_the_full_export(db_url, secret_values):
    """QA round 13: `releasable=True` (what Python's requests sends for True) was read as 'no': the page handed
    out the full export, leak and all, with status 200, where the JSON API read it as yes."""
    _, dossier_id = secret_values
    client = signed_in_client(db_url, "victor", "reviewer")
    for spelled in ("True", "TRUE", "yes", "on", "1"):
        shown = client.get(f"/dossiers/{dossier_id}/export?format=md&releasable={spelled}")
        assert shown.status_code == 200 and LEAK_TITLE not in shown.text and SECRET_ALIAS not in shown.text, spelled
    for garbled in ("2", "releasable", "maybe"):
        refused = client.get(f"/dossiers/{dossier_id}/export?format=md&releasable={garbled}")
        assert refused.status_code == 422 and LEAK_TITLE not in refused.text, garbled


def test_a_full_export_showing_unreleasable_material_says_so_on_its_face(session, secret_values):
    _, dossier_id = secret_values
    full = _exports(session, dossier_id, releasable=False)
    for fmt in ("html", "md", "pdf"):
        assert "INTERNAL: this export shows material from sources that may not be released" in full[fmt], fmt
    assert json.loads(full["json"])["meta"]["internal"].startswith("INTERNAL")
    released = _exports(session, dossier_id, releasable=True)
    assert all("INTERNAL:" not in released[fmt] for fmt in ("html", "md", "pdf"))
