"""Dossier exports: banner/state/version/hash on every format, PDF content, releasable filtering, CSVs, FtM, CLI."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pypdf import PdfReader
from test_dossier_scenario import LEAK_EXCERPT, LEAK_TITLE, build_scenario, complete_dossier
from typer.testing import CliRunner

from workbench.dossiers import service, workflow
from workbench.dossiers.exports import BANNER, FICTIONAL_BANNER, FORMATS, export_dossier
from workbench.schema import ValidationError
from workbench.store.entities import update_entity

TEXT_FORMATS = [f for f in FORMATS if f != "pdf"]


@pytest.fixture
def approved(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    workflow.approve(session, reviewer, dossier_id)
    session.commit()
    return sc, service.get_dossier(session, dossier_id)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_every_format_carries_banner_state_version_and_snapshot_hash(session, approved):
    _, dossier = approved
    for fmt in FORMATS:
        content = export_dossier(session, dossier.id, fmt).content
        text = _pdf_text(content) if fmt == "pdf" else content.decode("utf-8")
        flat = " ".join(text.split())
        if fmt == "pdf":  # long hashes wrap across lines in the PDF
            flat = flat.replace(" ", "")
            assert BANNER.replace(" ", "") in flat and dossier.snapshot_hash in flat, fmt
            continue
        assert BANNER in text and dossier.snapshot_hash in text, fmt
        assert "approved" in text, fmt


def test_pdf_is_a_valid_pdf_listing_the_numbered_exhibits(session, approved):
    _, dossier = approved
    result = export_dossier(session, dossier.id, "pdf")
    assert result.content.startswith(b"%PDF-") and result.media_type == "application/pdf"
    text = " ".join(_pdf_text(result.content).split())
    for number in (1, 2, 3, 4):
        assert f"Exhibit {number}" in text
    assert "Received monthly payments to protect the cartel." in text
    assert "ALLEGATION" in text and "FACT" in text
    assert LEAK_TITLE in text  # the full version includes the unreleasable exhibit


def test_releasable_export_holds_no_unreleasable_exhibit(session, approved):
    _, dossier = approved
    for fmt in FORMATS:
        full = export_dossier(session, dossier.id, fmt).content
        released = export_dossier(session, dossier.id, fmt, releasable=True).content
        if fmt == "pdf":
            full, released = _pdf_text(full), _pdf_text(released)
        else:
            full, released = full.decode(), released.decode()
        if fmt in ("html", "pdf", "md", "json"):
            assert LEAK_TITLE in full, fmt
        assert LEAK_TITLE not in released and LEAK_EXCERPT not in released, fmt
    doc = json.loads(export_dossier(session, dossier.id, "json", releasable=True).content)
    assert [ex["number"] for ex in doc["exhibits"]] == [1, 2, 3]
    assert doc["meta"]["withheld_exhibits"] == [4] and doc["meta"]["releasable"] is True
    assert all(ex["source"]["releasable"] for ex in doc["exhibits"])


def test_a_source_closed_after_approval_is_withheld_from_releasable_exports(session, researcher, approved):
    """The package is frozen at approval, but whether a source may be released is decided now: a
    source marked unreleasable afterwards must not leak through the frozen copy of its flag."""
    from workbench.store.entities import get_source, update_source

    _, dossier = approved
    before = json.loads(export_dossier(session, dossier.id, "json", releasable=True).content)
    first = before["exhibits"][0]
    source = get_source(session, first["source"]["id"])
    update_source(session, researcher, source.id, expected_version=source.version, releasable=False)
    session.commit()
    for fmt in FORMATS:
        released = export_dossier(session, dossier.id, fmt, releasable=True).content
        text = _pdf_text(released) if fmt == "pdf" else released.decode()
        assert first["statement"] not in text, fmt
    after = json.loads(export_dossier(session, dossier.id, "json", releasable=True).content)
    assert first["number"] in after["meta"]["withheld_exhibits"]
    assert after["meta"]["snapshot_hash"] == dossier.snapshot_hash  # the approved package itself is unchanged


def test_markdown_marks_allegation_and_fact_and_cites_sources(session, approved):
    _, dossier = approved
    md = export_dossier(session, dossier.id, "md").content.decode()
    assert "### Exhibit 1 - FACT - element: Foreign person" in md
    assert "### Exhibit 3 - ALLEGATION - element: Material assistance or support" in md
    assert "Source: Court record 17 (TEST)" in md and "<https://example.org/test/court>" in md


def test_export_of_approved_dossier_ignores_later_entity_edits(session, researcher, approved):
    sc, dossier = approved
    before = json.loads(export_dossier(session, dossier.id, "json").content)
    update_entity(session, researcher, sc.target, {"name": "Someone Else"}, replace=False)
    session.commit()
    after = json.loads(export_dossier(session, dossier.id, "json").content)
    assert before["target"] == after["target"] and "Someone Else" not in json.dumps(after)
    assert after["meta"]["snapshot_hash"] == dossier.snapshot_hash and after["meta"]["frozen"] is True


def test_readers_see_country_names_and_topic_labels_machines_get_the_codes(session, approved):
    """The entity page says 'Mexico'; the dossier page and its summaries used to say 'mx'."""
    _, dossier = approved
    for fmt in ("md", "html"):
        text = export_dossier(session, dossier.id, fmt).content.decode()
        assert "Mexico" in text and ": mx" not in text and ">mx<" not in text, fmt
    assert "Mexico" in _pdf_text(export_dossier(session, dossier.id, "pdf").content)
    target = json.loads(export_dossier(session, dossier.id, "json").content)["target"]
    nationality = next(p for p in target["properties"] if p["name"] == "nationality")
    assert nationality["values"] == ["mx"] and nationality["display"] == ["Mexico"]


def test_assets_csv_lists_kind_identifiers_address_parcel_owner_chain_and_sources(session, approved):
    sc, dossier = approved
    text = export_dossier(session, dossier.id, "assets-csv").content.decode()
    preamble = [line for line in text.splitlines() if line.startswith("#")]
    assert preamble[0] == f"# {BANNER}" and "state approved; version 1" in preamble[-1]
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    by_id = {r["asset_id"]: r for r in rows}
    assert set(by_id) == {sc.company, sc.house}
    house = by_id[sc.house]
    assert house["kind"] == "RealEstate" and house["parcel_number"] == "TEST-APN-1"
    assert house["identifiers"] == "APN:TESTAPN1" and house["address"] == "1 Example St, Laredo, TX"
    assert house["owner_chain"] == ("Ramiro Testigo Ficticio (FICTIONAL) owns 60% of Inmobiliaria Prueba "
                                    "(TEST), which owns 100% of House on Example St (TEST)")
    assert house["effective_percentage"] == "60" and "County deed (TEST)" in house["sources"]


def test_visa_csv_for_a_visa_dossier(session, researcher, reviewer):
    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.target, "visa-212a2c",
                                     visa_data={"visa_class": "B1/B2", "issuing_post": "Monterrey"})
    for element in ("visa_holder", "reason_to_believe", "revocation_basis"):
        service.add_exhibit(session, researcher, dossier.id, element=element, statement=f"Shows {element}.",
                            statement_type="allegation", source_id=sc.court)
    workflow.submit(session, researcher, dossier.id)
    text = export_dossier(session, dossier.id, "visa-csv").content.decode()
    [row] = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    assert row["entity_id"] == sc.target and row["visa_class"] == "B1/B2" and row["issuing_post"] == "Monterrey"
    assert row["birth_date"] == "1975-03-12" and row["aliases"] == "El Ficticio"
    assert row["legal_basis"].startswith("visa-212a2c") and row["dossier_state"] == "submitted"
    # Without the visa holder's data, a visa dossier is incomplete.
    other = service.create_dossier(session, researcher, sc.target, "visa-212a2c")
    for element in ("visa_holder", "reason_to_believe", "revocation_basis"):
        service.add_exhibit(session, researcher, other.id, element=element, statement="x", statement_type="fact",
                            source_id=sc.court)
    with pytest.raises(service.Incomplete, match="visa holder's data is missing"):
        workflow.submit(session, researcher, other.id)


def test_ftm_package_is_valid_followthemoney(session, approved):
    model = pytest.importorskip("followthemoney").model
    sc, dossier = approved
    lines = export_dossier(session, dossier.id, "ftm").content.decode().splitlines()
    proxies = {p.id: p for p in (model.get_proxy(json.loads(line)) for line in lines)}
    assert proxies[sc.target].schema.name == "Person"
    assert proxies[sc.target].get("idNumber") == ["VIIM750312HSLLBR08"]
    assert proxies[sc.house].schema.name == "RealEstate" and proxies[sc.house].get("cadastralCode") == ["TEST-APN-1"]
    ownerships = [p for p in proxies.values() if p.schema.name == "Ownership"]
    assert {(o.first("owner"), o.first("asset")) for o in ownerships} == {(sc.target, sc.company), (sc.company, sc.house)}
    # FtM's Associate joins two people: the target's Associate link to the cartel travels as an UnknownLink,
    # its relationship kept in the role (link properties were once dropped).
    associate = next(p for p in proxies.values() if p.schema.name == "UnknownLink" and p.first("object") == sc.cartel)
    assert associate.get("role") == ["associate", "protection payments"]
    assert {o.first("percentage") for o in ownerships} == {"60", "100"}
    assert proxies[sc.target].get("keywords") == ["fictional"]  # not an FtM topic: kept as a keyword
    assert any(p.schema.name == "Sanction" and p.first("entity") == sc.cartel for p in proxies.values())
    doc = [p for p in proxies.values() if p.schema.name == "Documentation"][0]
    assert dossier.snapshot_hash in doc.first("role") and BANNER in doc.first("role")
    # A fictional scenario says so here too, as in every other format.
    package = [p for p in proxies.values() if p.schema.name == "Document"][0]
    assert FICTIONAL_BANNER in doc.first("role") and FICTIONAL_BANNER in package.first("summary")


def test_unknown_format_is_refused(session, approved):
    _, dossier = approved
    with pytest.raises(ValidationError, match="unknown export format"):
        export_dossier(session, dossier.id, "docx")


def test_cli_list_show_export(db_url, session, approved, tmp_path):
    from workbench.cli import app

    _, dossier = approved
    runner = CliRunner()
    listed = runner.invoke(app, ["dossier", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["state"], row["number"], row["snapshot_hash"]) == (
        dossier.id, "approved", 1, dossier.snapshot_hash)
    # `version` is the row version, as the JSON API names it: what a move sends back (the package number was)
    assert row["version"] == dossier.version and dossier.version != 1
    table = runner.invoke(app, ["dossier", "list"], env={"COLUMNS": "250"})  # the help promised a target column
    assert "target" in table.stdout and dossier.target_id in table.stdout
    shown = runner.invoke(app, ["dossier", "show", dossier.id], env={"COLUMNS": "250"})
    assert shown.exit_code == 0 and BANNER in shown.stdout and "complete" in shown.stdout
    # Who approved it, and the two hashes labelled as the page labels them (one 'snapshot sha256' before).
    assert "approved by " + dossier.events[-1].user in shown.stdout
    from workbench.dossiers.snapshot import reviewed_hash

    assert f"content sha256 reviewed {reviewed_hash(dossier)}" in shown.stdout
    assert f"frozen snapshot sha256 {dossier.snapshot_hash}" in shown.stdout
    out = tmp_path / "summary.pdf"
    exported = runner.invoke(app, ["dossier", "export", dossier.id, "--format", "pdf", "-o", str(out), "--releasable"])
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes().startswith(b"%PDF-") and LEAK_TITLE not in _pdf_text(out.read_bytes())
    md = runner.invoke(app, ["dossier", "export", dossier.id, "--format", "md"])
    assert md.exit_code == 0 and md.stdout.startswith(f"> **{BANNER}**")
    bad = runner.invoke(app, ["dossier", "export", dossier.id, "--format", "docx"])
    assert bad.exit_code == 2 and "unknown format" in bad.output
    missing = runner.invoke(app, ["dossier", "show", "no-such-dossier"])
    assert missing.exit_code == 2 and "no dossier with id 'no-such-dossier'" in missing.output  # an unknown id: bad input


def test_cli_show_says_what_the_checklist_warns_of(db_url, session, researcher):
    """Reviewer QA round 16: `dossier show` printed 'complete' and 'designated parties linked: 1' for an E.O. 14059
    support-prong package whose only chain does not count, without the warning the page and exports carry."""
    from workbench.cli import app

    sc = build_scenario(session, researcher)  # the cartel is designated under SDNTK alone
    dossier = service.create_dossier(session, researcher, sc.target, "eo14059-support")
    session.commit()
    shown = CliRunner().invoke(app, ["dossier", "show", dossier.id], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    said = " ".join(shown.stdout.split())
    assert ("warning: No sourced link to a party designated under ILLICIT-DRUGS-EO14059" in said
            and "This basis may rest on the activity itself instead: the exhibits for 'Blocked person or activity "
                "supported' must show it." in said)
    assert "designated parties linked: 1 (0 by a chain this basis accepts)" in said


def test_the_ftm_package_says_how_many_chains_the_basis_accepts(session, researcher):
    """Reviewer QA round 16: an E.O. 14059 leader-prong package carried the SDNTK cartel, its membership and its
    Sanction, and read alone looked chain-based where the case summary says no chain counts."""
    sc = build_scenario(session, researcher)  # the cartel is designated under SDNTK alone
    support = service.create_dossier(session, researcher, sc.target, "eo14059-support")
    kingpin = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    session.commit()

    def role(dossier_id):
        lines = [json.loads(line) for line in export_dossier(session, dossier_id, "ftm").content.decode().splitlines()]
        return next(line for line in lines if line["schema"] == "Documentation")["properties"]["role"][0]

    assert "chains to designated parties this basis accepts: 0 of 1" in role(support.id)
    assert "This basis may rest on the activity itself instead" in role(support.id)
    assert "chains to designated parties this basis accepts: 1 of 1" in role(kingpin.id)
    assert "may rest on the activity itself" not in role(kingpin.id)
