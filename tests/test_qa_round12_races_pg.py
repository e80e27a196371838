"""QA round 12 races on PostgreSQL: an import or a screening confirmation racing a user's merge or delete of
the entry it writes to. The user's change is made and left uncommitted; the import or confirmation starts
in another thread and waits for it (the test waits until PostgreSQL says it waits for a lock); then the
change commits. Both read the entry before queueing with other writers, so the import's link and the
confirmation's records landed on the entry merged away, and a confirmation racing a delete was a server
error. All people and parcels are FICTIONAL."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select
from test_write_races_pg import RITA, RUBEN, _second_after_first

from workbench.matching import jobs
from workbench.matching.judgements import merge
from workbench.matching.review import record_decision
from workbench.sources.tabular import import_table, load_mapping, source_for_table
from workbench.store.db import session_factory
from workbench.store.entities import NotFound, create_entity, delete_entity
from workbench.store.models import Entity, Link, ReviewItem

pytestmark = pytest.mark.skipif(not os.environ.get("WORKBENCH_TEST_DATABASE_URL"),
                                reason="needs PostgreSQL (WORKBENCH_TEST_DATABASE_URL): SQLite runs one writer at a time")
HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"
MAPPING = """name: County property roll (race test)
screen: owner
entities:
  parcel:
    kind: RealEstate
    keys: [APN]
    properties: {name: {template: "Parcel {APN}"}, parcelNumber: APN}
  owner:
    kind: Person
    keys: [OWNER_NAME]
    properties: {name: OWNER_NAME, address: OWNER_MAILING_ADDRESS}
links:
  - {kind: Ownership, source: owner, target: parcel}
"""


def _roll(tmp_path, name: str, apn: str):
    path = tmp_path / name
    path.write_text(HEADER + f"{apn},1 Sample St,P,Aurelio Quintanar Bello (FICTIONAL),,01/02/2020,1\n",
                    encoding="utf-8")
    return path


def _owned_by(factory, apn: str) -> str:
    with factory() as s:
        parcel = s.scalars(select(Entity).where(Entity.kind == "RealEstate", Entity.caption == f"Parcel {apn}")).one()
        return s.scalars(select(Link.source_id).where(Link.kind == "Ownership", Link.target_id == parcel.id)).one()


def test_an_import_of_a_file_already_held_waits_for_a_merge_and_links_the_entry_kept(db_url, tmp_path):
    factory = session_factory(db_url)
    mapping = load_mapping(MAPPING, "race.yml")
    with factory() as s:
        import_table(s, RITA, _roll(tmp_path, "roll1_FICTIONAL.csv", "FICT-1"), mapping)
        kept = create_entity(s, RITA, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)"}).obj.id
        second = _roll(tmp_path, "roll2_FICTIONAL.csv", "FICT-2")
        source_for_table(s, RITA, second, mapping)  # screened on the web first: the file is a source already
        s.commit()
    owner = _owned_by(factory, "FICT-1")
    outcome = _second_after_first(factory, lambda s: merge(s, RUBEN, kept, owner),
                                  lambda s: import_table(s, RITA, second, mapping))
    assert "error" not in outcome, outcome
    assert _owned_by(factory, "FICT-2") == kept  # it was the entry merged away


def _job_hit(factory, tmp_path, db_url) -> tuple[int, str]:
    """A screening job whose one hit is a FICTIONAL person: (the hit's id, the person's id)."""
    with factory() as s:
        person = create_entity(s, RITA, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)"}).obj.id
        job = jobs.start_job(s, RITA, _roll(tmp_path, "roll_FICTIONAL.csv", "FICT-9"), MAPPING, threshold=0.7)
        s.commit()
    jobs.run_job(job.id, db_url)
    with factory() as s:
        item = s.scalars(select(ReviewItem).where(ReviewItem.job_id == job.id, ReviewItem.entity_id == person)).one()
        return item.id, person


def test_a_confirmation_racing_a_merge_of_its_entry_writes_on_the_entry_kept(db_url, tmp_path):
    factory = session_factory(db_url)
    item, person = _job_hit(factory, tmp_path, db_url)
    with factory() as s:
        kept = create_entity(s, RITA, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)"}).obj.id
        s.commit()
    outcome = _second_after_first(factory, lambda s: merge(s, RUBEN, kept, person),
                                  lambda s: record_decision(s, RITA, item, "confirmed"))
    assert "error" not in outcome, outcome
    assert _owned_by(factory, "FICT-9") == kept


def test_a_confirmation_racing_a_delete_of_its_entry_says_the_hit_is_gone(db_url, tmp_path):
    factory = session_factory(db_url)
    item, person = _job_hit(factory, tmp_path, db_url)
    outcome = _second_after_first(factory, lambda s: delete_entity(s, RUBEN, person),
                                  lambda s: record_decision(s, RITA, item, "confirmed"))
    assert isinstance(outcome.get("error"), NotFound), outcome
    assert "the hit is gone" in str(outcome["error"])


def test_an_edit_saved_while_an_import_updates_the_entry_waits_and_both_are_kept(db_url):
    """An import updating an entry a page saves at the same moment: the page's save waits for the import
    (which queues with the other writers before it reads), then applies on top; nothing of either is lost.
    (Before, the import read version 1, the page saved version 2, and the import stopped with a conflict.)"""
    from workbench.sources.bulk import BulkWriter
    from workbench.store.entities import update_entity

    factory = session_factory(db_url)
    with factory() as s:
        create_entity(s, RITA, "Person", {"name": "Editado Dos Veces (FICTIONAL)"}, entity_id="tbl-x")
        s.commit()

    def importing(s):
        writer = BulkWriter(s, RITA)
        writer.load_existing(prefix="tbl-")
        writer.entity("tbl-x", "Person", {"name": "Editado Dos Veces (FICTIONAL)", "alias": "Alias (FICTIONAL)"},
                      "row 1")
        writer.flush()

    outcome = _second_after_first(factory, importing, lambda s: update_entity(
        s, RUBEN, "tbl-x", {"name": "Editado Dos Veces (FICTIONAL)", "notes": "saved from the page"}, replace=False))
    assert "error" not in outcome, outcome
    with factory() as s:
        entity = s.get(Entity, "tbl-x")
        assert entity.properties.get("notes") == ["saved from the page"]
        assert entity.properties.get("alias") == ["Alias (FICTIONAL)"]
