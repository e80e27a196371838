"""QA round 14, data integrity: undoing one of two merges into an entry, list and table re-imports.

- Undoing the earlier of two merges into one entry stripped the values the later merge had brought
  as well (the later merge had recorded nothing the entry already held), leaving the later merged
  entry's citation on a value its entry no longer showed.
- Re-importing the SDN list while one of its entries was merged into another cited the list again on
  the merged-away entry (its citations had moved to the kept entry), and undoing the merge then left
  that entry with each citation twice.
- A table re-import kept a researcher's values on an imported entry without saying so, where the SDN
  import names the entry and counts them (README: table imports follow the same rule).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from test_reimport_keeps_user_edits import _entry_files
from typer.testing import CliRunner
from web_helpers import api_client, api_entity

from workbench.cli import app
from workbench.sources.sdn import import_sdn
from workbench.store import db as store_db
from workbench.store.entities import update_entity
from workbench.store.models import Citation, Entity, Merge
from workbench.store.permissions import Actor

RITA = Actor("rita", "researcher")
IMPORTER = Actor("importer", "researcher")
MAPPINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"


# ---- undoing one merge of two -----------------------------------------------------------------

def _stack(client):
    """The tester's repro, before its merges: W, L and W2 (L and W2 alike but for their names), W2's
    nationality cited, L a company's director. Returns the three ids and the citation's."""
    winner = api_entity(client, "Person", name=["Stack Winner"])
    loser = api_entity(client, "Person", name=["Stack Loser"], nationality=["mx"], alias=["El Stack"])
    second = api_entity(client, "Person", name=["Stack Second"], nationality=["mx"], alias=["El Stack"])
    firm = api_entity(client, "Company", name=["Stack Holdings SA"])
    link = client.post("/api/links", json={"kind": "Directorship", "source_id": loser, "target_id": firm,
                                           "properties": {}})
    assert link.status_code == 201, link.text
    source = client.post("/api/sources", json={"url": "https://example.org/stack-registry",
                                               "title": "Registry extract (FICTIONAL)"})
    assert source.status_code == 201, source.text
    cited = client.post("/api/citations", json={"source_id": source.json()["id"], "entity_id": second,
                                                "prop": "nationality", "value": "mx"})
    assert cited.status_code == 201, cited.text
    return winner, loser, second, cited.json()["id"]


def _judge_same(client, winner, other):
    response = client.post(f"/api/entities/{winner}/judgements", json={"other_id": other, "verdict": "same"})
    assert response.status_code == 201, response.text


def _merge_of(db_url, loser) -> int:
    with store_db.session_scope(db_url) as s:
        return s.scalars(select(Merge.id).where(Merge.loser_id == loser, Merge.undone_at.is_(None))).one()


def _undo(client, db_url, loser) -> None:
    response = client.post(f"/merges/{_merge_of(db_url, loser)}/undo", follow_redirects=False)
    assert response.status_code == 303, response.text


def _shown(client, entity_id) -> dict:
    """What the entity's API page shows: values, names, citations (where and of what) and links."""
    body = client.get(f"/api/entities/{entity_id}").json()
    return {"properties": {k: sorted(v) for k, v in body["properties"].items() if v},
            "names": sorted((n["property"], n["name"]) for n in body["names"]),
            "citations": sorted((c["id"], c["prop"], c["value"]) for c in body["citations"]),
            "links": sorted((l["id"], l["source_id"], l["target_id"]) for l in body["links"])}


def test_undoing_the_earlier_merge_keeps_what_the_later_merge_still_brings(db_url):
    client = api_client(db_url)
    winner, loser, second, citation = _stack(client)
    _judge_same(client, winner, loser)
    _judge_same(client, winner, second)

    _undo(client, db_url, loser)

    shown = _shown(client, winner)
    # Stack Second is still merged into the winner, and it holds both of these.
    assert shown["properties"]["nationality"] == ["mx"]
    assert shown["properties"]["alias"] == ["El Stack", "Stack Second"]  # the undone entry's name went
    assert (citation, "nationality", "mx") in shown["citations"]  # its citation still supports a value shown
    assert _shown(client, loser)["properties"] == {"alias": ["El Stack"], "name": ["Stack Loser"],
                                                   "nationality": ["mx"]}


def test_undoing_both_merges_in_either_order_leaves_each_entry_as_before_any_merge(db_url):
    client = api_client(db_url)
    for order in ("earlier first", "later first"):
        winner, loser, second, _ = _stack(client)
        before = {entity_id: _shown(client, entity_id) for entity_id in (winner, loser, second)}
        _judge_same(client, winner, loser)
        _judge_same(client, winner, second)
        first, last = (loser, second) if order == "earlier first" else (second, loser)

        _undo(client, db_url, first)
        # The merge still in place brings its entry's name and both values it shares with the other.
        name = "Stack Second" if last == second else "Stack Loser"
        assert _shown(client, winner)["properties"] == {
            "alias": sorted(["El Stack", name]), "name": ["Stack Winner"], "nationality": ["mx"]}, order
        _undo(client, db_url, last)

        after = {entity_id: _shown(client, entity_id) for entity_id in (winner, loser, second)}
        assert after == before, order


def test_a_value_a_user_entered_again_after_the_merge_stays_when_it_is_undone(db_url):
    """The researcher removed the merged alias and typed it in again: it is theirs now, not the merge's."""
    client = api_client(db_url)
    winner, loser, _, _ = _stack(client)
    _judge_same(client, winner, loser)
    with store_db.session_scope(db_url) as s:
        update_entity(s, RITA, winner, {"alias": ["Stack Loser"]}, replace=False)
    with store_db.session_scope(db_url) as s:
        update_entity(s, RITA, winner, {"alias": ["Stack Loser", "El Stack"]}, replace=False)

    _undo(client, db_url, loser)

    assert _shown(client, winner)["properties"] == {"alias": ["El Stack"], "name": ["Stack Winner"]}


# ---- re-importing the list while one of its entries is merged into another ------------------------

CHAPO = "ofac-6861"  # 18 aliases in ALT.CSV: the list cites the entry once and each alias once


def _citations_of(db_url, entity_id) -> list[tuple]:
    with store_db.session_scope(db_url) as s:
        return sorted(s.execute(select(Citation.source_id, Citation.prop, Citation.value, Citation.locator)
                                .where(Citation.entity_id == entity_id)).all())


def test_a_reimport_cites_nothing_more_for_an_entry_merged_into_another_nor_after_the_undo(db_url, sdn_dir, tmp_path):
    trio = _entry_files(sdn_dir, tmp_path / "trio", 6861)
    with store_db.session_scope(db_url) as s:
        import_sdn(s, IMPORTER, trio, published="2024-05-02")
    listed = _citations_of(db_url, CHAPO)
    assert len(listed) == 19
    client = api_client(db_url)
    kept = api_entity(client, "Person", name=["Joaquin Guzman Loera"])
    _judge_same(client, kept, CHAPO)
    assert _citations_of(db_url, CHAPO) == [] and len(_citations_of(db_url, kept)) == 19

    with store_db.session_scope(db_url) as s:
        again = import_sdn(s, IMPORTER, trio, published="2024-05-02")

    assert again.details.get("citations_added", 0) == 0
    assert _citations_of(db_url, CHAPO) == [] and len(_citations_of(db_url, kept)) == 19
    _undo(client, db_url, CHAPO)
    assert _citations_of(db_url, CHAPO) == listed  # each once, as the first import left them
    assert _citations_of(db_url, kept) == []


# ---- a table imported again over a researcher's edits ------------------------------------------------

ROLL = MAPPINGS / "county_property_roll_FICTIONAL.csv"
OWNER = "FICTIONAL PERSON Uno Ejemplo"
SECOND_ADDRESS = "Calle Ficticia 200, Culiacan, Sinaloa, Mexico (FICTIONAL)"
NOTE = "Researcher's note: the same owner as in the 2021 deed (FICTIONAL)"


def _import_roll():
    result = CliRunner().invoke(app, ["import", "table", str(ROLL), "--mapping",
                                      str(MAPPINGS / "county_property_roll.yml")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the summary table's rows, whatever the terminal's width


def test_a_table_reimport_names_the_entry_whose_researcher_values_it_kept_and_counts_them(db_url):
    _import_roll()
    with store_db.session_scope(db_url) as s:
        owner = s.scalars(select(Entity).where(Entity.caption == OWNER)).one()
        owner_id = owner.id
        update_entity(s, RITA, owner_id, {"address": owner.properties["address"] + [SECOND_ADDRESS],
                                          "notes": [NOTE]}, expected_version=owner.version, replace=False)

    output = _import_roll()

    assert re.search(r"user values kept\s*│?\s*2\b", output), output
    assert f"{OWNER} ({owner_id}): kept 2 value(s) a user added since the last import (address, notes)" in output
    with store_db.session_scope(db_url) as s:
        props = s.get(Entity, owner_id).properties
        assert SECOND_ADDRESS in props["address"] and props["notes"] == [NOTE]
    again = _import_roll()  # the next import still tells the researcher's values from the roll's
    assert re.search(r"user values kept\s*│?\s*2\b", again), again
