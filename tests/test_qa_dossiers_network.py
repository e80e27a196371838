"""QA pass over dossiers, the network view and screening review: one regression test per defect found.

Every scenario here is FICTIONAL (the shared scenario of test_dossier_scenario, or invented names).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from test_dossier_scenario import build_scenario, complete_dossier
from web_helpers import signed_in_client

from workbench.dossiers import exports, service, workflow
from workbench.dossiers.workflow import FourEyesViolation
from workbench.store.entities import create_entity, create_link, create_source
from workbench.store.permissions import Actor

ALICE = Actor("alice", "reviewer")
BORIS = Actor("boris", "reviewer")
CARLA = Actor("carla", "researcher")


# ---- four eyes across versions ----------------------------------------------------------------

def test_author_of_an_earlier_version_cannot_approve_the_copy_in_a_new_version(session, researcher):
    """Version 2 starts as a copy of version 1 (title, narrative, identifier notes): whoever wrote
    version 1 wrote version 2 too, even if someone else opened it and the exhibits were not theirs."""
    sc = build_scenario(session, researcher)
    v1 = service.create_dossier(session, ALICE, sc.target, "kingpin-b2",
                                narrative={"summary": "Written by Alice."}, title="Alice's package")
    for element, source in (("foreign_person", sc.official), ("sfnt_link", sc.official),
                            ("material_support", sc.court)):
        service.add_exhibit(session, CARLA, v1.id, element=element, statement="shown", statement_type="fact",
                            source_id=source)
    workflow.submit(session, CARLA, v1.id)
    workflow.return_for_changes(session, BORIS, v1.id, "tighten the summary")
    v2 = service.new_version(session, BORIS, v1.id)
    workflow.submit(session, CARLA, v2.id)

    assert "alice" in workflow.contributors(session, v2)
    with pytest.raises(FourEyesViolation, match="four eyes: alice"):
        workflow.approve(session, ALICE, v2.id)
    assert "approve" not in [m.name for m in workflow.allowed_moves(session, ALICE, v2)]


# ---- exports: hostile text --------------------------------------------------------------------

def _dossier_with_hostile_source_and_asset(session, researcher, title: str = "QA package"):
    sc = build_scenario(session, researcher)
    hostile_source = create_source(session, researcher, url="https://example.org/fictional/press",
                                   title="Press report (FICTIONAL)", source_type="press", reliability="C")
    # Stored before sources refused '<' and '>' in URLs (tests/test_qa_followups.py): exports must still cope.
    hostile_source.url = "https://example.org/fictional/a<script>alert(1)</script>"
    hostile = hostile_source.id
    shell = create_entity(session, researcher, "Company",
                          {"name": '=HYPERLINK("https://example.org/x","click") LLC (FICTIONAL)'}).obj.id
    create_link(session, researcher, "Ownership", sc.target, shell, {"percentage": "10"})
    dossier_id = complete_dossier(session, researcher, sc)
    service.add_exhibit(session, researcher, dossier_id, element="material_support", statement="Reported.",
                        statement_type="allegation", source_id=hostile)
    service.update_dossier(session, researcher, dossier_id, title=title)
    session.flush()
    return dossier_id, shell


def test_markdown_export_keeps_a_hostile_source_url_inside_its_link(session, researcher):
    """A URL holding '<' or '>' broke out of the Markdown autolink <...> and became raw HTML."""
    dossier_id, _ = _dossier_with_hostile_source_and_asset(session, researcher)
    md = exports.export_dossier(session, dossier_id, "md").content.decode()
    assert re.search(r"(?<!\\)<script", md) is None, "raw HTML in the Markdown export"
    assert "<https://example.org/fictional/a%3Cscript%3Ealert(1)%3C/script%3E>" in md


def test_csv_exports_keep_formula_like_names_as_text(session, researcher):
    """A name such as '=HYPERLINK(...)' (from an imported roll or registry) must not become a spreadsheet
    formula; a title with a comma, a quote and a line break must not add cells or rows to the preamble."""
    title = 'QA package,"=HYPERLINK(""https://example.org"")"\nsecond line;=HYPERLINK("https://example.org/b")'
    dossier_id, shell = _dossier_with_hostile_source_and_asset(session, researcher, title=title)
    text = exports.export_dossier(session, dossier_id, "assets-csv").content.decode()
    lines = text.splitlines()
    preamble = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    assert body[0].startswith("asset_id,"), "the title's second line became a data row"
    assert all(",=" not in line and ',"=' not in line and ";=" not in line for line in preamble)
    rows = {r["asset_id"]: r for r in csv.DictReader(io.StringIO("\n".join(body)))}
    assert rows[shell]["name"] == "'" + '=HYPERLINK("https://example.org/x","click") LLC (FICTIONAL)'
    assert rows[shell]["effective_percentage"] == "10"  # numbers stay numbers
    for row in rows.values():
        assert not any(str(v).startswith(("=", "+", "@")) for v in row.values())


# ---- new dossier: choosing the target ---------------------------------------------------------

def test_new_dossier_target_search_finds_people_by_surname_and_offers_only_possible_targets(db_url, session,
                                                                                          researcher):
    """'Guzman' said 'No match' on the new-dossier page while the search page listed the Guzmáns; and a
    Territory or a Sanction record was offered as a target although no legal basis applies to it."""
    person = create_entity(session, researcher, "Person", {"name": "Aurelio Quintanar Bermúdez (FICTIONAL)"}).obj.id
    state = create_entity(session, researcher, "Territory", {"name": "Quintanar (FICTIONAL state)", "level": "state"}).obj.id
    session.commit()
    client = signed_in_client(db_url, "rosa", "researcher")
    page = client.get("/dossiers/new", params={"q": "quintanar"})
    assert page.status_code == 200
    assert f'href="/dossiers/new?target={person}"' in page.text
    assert f'href="/dossiers/new?target={state}"' not in page.text


def test_new_dossier_for_a_kind_no_basis_applies_to_says_so(db_url, session, researcher):
    """Choosing a Territory showed an empty 'Legal basis' list and a Create button that could only fail."""
    state = create_entity(session, researcher, "Territory", {"name": "Estado Ficticio (FICTIONAL)", "level": "state"}).obj.id
    session.commit()
    client = signed_in_client(db_url, "rosa", "researcher")
    page = client.get("/dossiers/new", params={"target": state})
    assert page.status_code == 200
    assert "No legal basis applies to a Territory" in page.text
    assert 'name="legal_basis"' not in page.text and "Create dossier" not in page.text


# ---- screening: a roll with an empty optional column -----------------------------------------

def test_property_roll_with_a_blank_sale_price_is_screened_not_refused(session, researcher, tmp_path):
    """The county mapping's price is '{SALE_PRICE} USD'; a blank price (common: Texas does not disclose
    sale prices) made ' USD', 'not an amount', and the upload check refused the whole file."""
    from sqlalchemy import select

    from workbench.sources.tabular import check_table, import_table, load_mapping
    from workbench.store.models import Link

    mapping = load_mapping((Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
                            / "county_property_roll.yml").read_text(encoding="utf-8"))
    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text("APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"
                    'FICT-QA-1,"1 Example Ln, Fictionville, TX",P,FICTIONAL PERSON Tres Prueba,"Sinaloa, MX",'
                    "03/15/2019,\n", encoding="utf-8")
    assert check_table(roll, mapping, roll.name) == 1
    summary = import_table(session, researcher, roll, mapping)
    assert summary.rejected == []
    [ownership] = session.execute(select(Link).where(Link.kind == "Ownership")).scalars().all()
    assert "price" not in ownership.properties and ownership.properties["acquisitionDate"] == ["2019-03-15"]


# ---- graph exposure by state name -------------------------------------------------------------

def test_graph_exposure_finds_a_state_by_the_start_of_its_name(db_url, session, researcher, monkeypatch):
    """`--state Michoacán` found nothing when the state is recorded as 'Michoacán de Ocampo' (as INEGI and
    the demo name it), although entity arguments accept the start of a name; an unknown state was
    exit 1 (a failure), not exit 2 (bad input) as an unknown entity is."""
    import json

    from typer.testing import CliRunner

    from workbench.cli import app

    def entity(entity_id, kind, **props):
        create_entity(session, researcher, kind, props, entity_id=entity_id)

    entity("st-mich", "Territory", name="Michoacán de Ocampo", level="state")
    entity("st-baja", "Territory", name="Baja California", level="state")
    entity("st-bajas", "Territory", name="Baja California Sur", level="state")
    for pid, territory, person in (("pos-mich", "st-mich", "Ofelia Ficticia (FICTIONAL)"),
                                   ("pos-bajas", "st-bajas", "Bruno Ficticio (FICTIONAL)")):
        entity(pid, "Position", name=f"Mayor in {territory} (FICTIONAL)")
        create_link(session, researcher, "Jurisdiction", pid, territory)
        entity(f"p-{pid}", "Person", name=person)
        create_link(session, researcher, "Occupancy", f"p-{pid}", pid)
    session.commit()

    runner = CliRunner()
    result = runner.invoke(app, ["graph", "exposure", "--state", "michoacan", "--json"])
    assert result.exit_code == 0, result.output
    assert [r["entity_id"] for r in json.loads(result.stdout)] == ["p-pos-mich"]
    # an exact name still wins over a longer one it begins
    result = runner.invoke(app, ["graph", "exposure", "--state", "Baja California", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    result = runner.invoke(app, ["graph", "exposure", "--state", "Atlantis"])
    assert result.exit_code == 2 and "no state" in result.output


# ---- labels, not keys -------------------------------------------------------------------------

def test_target_topics_read_as_their_labels_in_the_page_and_every_summary(db_url, session, researcher):
    """The dossier page and the case summaries printed the target's topics as vocabulary keys
    ('role.pep; fictional') where the schema has words for them; frozen snapshots too."""
    from workbench.store.entities import get_entity, update_entity

    sc = build_scenario(session, researcher)
    target = get_entity(session, sc.target)
    update_entity(session, researcher, sc.target, dict(target.properties, topics=["fictional", "role.pep"]),
                  expected_version=target.version)
    dossier_id = complete_dossier(session, researcher, sc)
    workflow.submit(session, researcher, dossier_id)
    workflow.approve(session, Actor("victor", "reviewer"), dossier_id)
    session.commit()

    md = exports.export_dossier(session, dossier_id, "md").content.decode()
    assert "- Topics: FICTIONAL (demo scenario); Politically exposed person" in md
    html = exports.export_dossier(session, dossier_id, "html").content.decode()
    assert "<td class=\"typed\">FICTIONAL (demo scenario); Politically exposed person</td>" in html
    page = signed_in_client(db_url, "rosa", "researcher").get(f"/dossiers/{dossier_id}").text
    assert "<td>FICTIONAL (demo scenario); Politically exposed person</td>" in page
    assert "role.pep" not in md and "role.pep" not in page
    # the frozen snapshot keeps the stored values: the labels are the document's, not the snapshot's
    assert service.get_dossier(session, dossier_id).snapshot["target"]["properties"]
    assert "display" not in str(service.get_dossier(session, dossier_id).snapshot["target"]["properties"])
