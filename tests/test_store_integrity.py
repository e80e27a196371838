"""What the domain layer refuses or records so that nothing a user entered is lost or doubled unseen:
changes to merged-away entries, the same link twice, citations that cite nothing, and deletions that
take citations and notes with them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workbench.matching.judgements import merge
from workbench.schema import ValidationError, registry
from workbench.store import entities as store
from workbench.store.models import AuditEntry


def _person(session, researcher, name: str) -> str:
    return store.create_entity(session, researcher, "Person", {"name": name}).obj.id


def test_a_merged_away_entry_takes_no_more_changes_and_names_the_kept_one(session, researcher):
    kept = _person(session, researcher, "Juan Perez Nunez (FICTIONAL)")
    gone = _person(session, researcher, "Juan Perez N (FICTIONAL)")
    other = _person(session, researcher, "Jose Nunez (FICTIONAL)")
    source = store.create_source(session, researcher, title="Court file (FICTIONAL)", url="https://example.org/c")
    merge(session, researcher, kept, gone)
    attempts = {
        "entity": lambda: store.update_entity(session, researcher, gone, {"name": "Juan Perez (FICTIONAL)"}),
        "target": lambda: store.create_link(session, researcher, "Family", other, gone),
        "cite": lambda: store.cite(session, researcher, source.id, entity_id=gone),
        "note": lambda: store.add_note(session, researcher, gone, "seen in court"),
    }
    for what, attempt in attempts.items():
        with pytest.raises(ValidationError) as refused:
            attempt()
        message = " ".join(sum(refused.value.errors.values(), []))
        assert f"was merged into Juan Perez Nunez (FICTIONAL) ({kept})" in message, what
    with pytest.raises(ValidationError, match="was merged into"):  # deleting it would strand the merge
        store.delete_entity(session, researcher, gone)
    # The kept entry takes the same changes.
    assert store.create_link(session, researcher, "Family", other, kept).obj.target_id == kept


def test_the_same_link_twice_is_refused_either_way_round_for_a_symmetric_kind(session, researcher):
    a = _person(session, researcher, "Ana Roja (FICTIONAL)")
    b = _person(session, researcher, "Beto Roja (FICTIONAL)")
    first = store.create_link(session, researcher, "Family", a, b, {"relationship": "hermano"}).obj
    assert registry().link_kind("Family").symmetric
    for source, target in ((a, b), (b, a)):
        with pytest.raises(ValidationError, match=f"link {first.id}"):
            store.create_link(session, researcher, "Family", source, target, {"relationship": "hermano"})
    # Other values are another statement (a second role, another period): kept apart, but not edited
    # into a copy of the first.
    second = store.create_link(session, researcher, "Family", a, b, {"relationship": "primo"}).obj
    with pytest.raises(ValidationError, match=f"link {first.id} already states this"):
        store.update_link(session, researcher, second.id, {"relationship": "hermano"})
    company = store.create_entity(session, researcher, "Company", {"name": "Inmobiliaria Roja (FICTIONAL)"}).obj.id
    store.create_link(session, researcher, "Ownership", a, company, {"percentage": "51.5"})
    with pytest.raises(ValidationError):
        store.create_link(session, researcher, "Ownership", a, company, {"percentage": "51.5"})


def test_a_citation_names_its_property_and_quotes_a_passage_not_a_book(session, researcher):
    person = _person(session, researcher, "Ana Roja (FICTIONAL)")
    source = store.create_source(session, researcher, title="Registry (FICTIONAL)", url="https://example.org/r")
    with pytest.raises(ValidationError) as no_prop:
        store.cite(session, researcher, source.id, entity_id=person, value="x")
    assert "prop" in no_prop.value.errors
    with pytest.raises(ValidationError) as long:
        store.cite(session, researcher, source.id, entity_id=person, excerpt="x" * (store.MAX_EXCERPT + 1))
    assert "at most 20,000 characters" in long.value.errors["excerpt"][0]
    assert store.cite(session, researcher, source.id, entity_id=person, excerpt="x" * store.MAX_EXCERPT).id


def test_deleting_an_entry_records_the_citations_and_notes_it_takes(session, researcher):
    a = _person(session, researcher, "Ana Roja (FICTIONAL)")
    b = _person(session, researcher, "Beto Roja (FICTIONAL)")
    link = store.create_link(session, researcher, "Family", a, b).obj
    source = store.create_source(session, researcher, title="Deed (FICTIONAL)", url="https://example.org/d")
    on_entity = store.cite(session, researcher, source.id, entity_id=b, excerpt="Beto aparece en la escritura")
    on_link = store.cite(session, researcher, source.id, link_id=link.id, excerpt="hermanos")
    store.add_note(session, researcher, b, "check the deed's page 7")
    store.delete_entity(session, researcher, b)
    removed = session.scalars(select(AuditEntry).where(AuditEntry.action.in_(("citation.delete", "note.delete")))
                              .order_by(AuditEntry.seq)).all()
    said = [(e.action, (e.before or {}).get("excerpt") or (e.before or {}).get("text")) for e in removed]
    assert ("citation.delete", "Beto aparece en la escritura") in said and ("citation.delete", "hermanos") in said
    assert ("note.delete", "check the deed's page 7") in said
    assert {e.before.get("id") for e in removed if e.action == "citation.delete"} >= {on_entity.id, on_link.id}


def test_identifier_and_country_messages_help_rather_than_mislead():
    from workbench.types import check_country, check_identifier

    reg = registry()
    assert "e.g. CURP:GULO900329HSLZPV09" in check_identifier("CURP GULO900329HSLZPV09", {}, reg).errors[0]
    unknown = check_country("xq", {}, reg)
    assert unknown.value == "xq" and "not a country code this workbench knows" in unknown.warnings[0]
    assert check_country("MX", {}, reg).warnings == []
    assert check_country("zz", {}, reg).warnings == []  # FtM's "no particular country"


def test_dates_in_an_impossible_order_are_kept_with_a_warning(session, researcher):
    a = _person(session, researcher, "Ana Roja (FICTIONAL)")
    cartel = store.create_entity(session, researcher, "Organization", {"name": "Cartel Ficticio (FICTIONAL)"}).obj.id
    saved = store.create_link(session, researcher, "Membership", a, cartel, {"startDate": "2005", "endDate": "2001"})
    assert saved.obj.properties["endDate"] == ["2001"]
    assert saved.warnings == {"startDate": ["Start 2005 is after End 2001"]}
    company = store.create_entity(session, researcher, "Company", {
        "name": "Empresa Ficticia (FICTIONAL)", "incorporationDate": "2010", "dissolutionDate": "2005-01"})
    assert company.warnings["incorporationDate"] == ["Founded / incorporated 2010 is after Dissolved 2005-01"]
    born = store.create_entity(session, researcher, "Person", {"name": "Nadie (FICTIONAL)", "birthDate": "2999-01-01"})
    assert born.warnings["birthDate"] == ["Date of birth 2999-01-01 is in the future"]
    other = store.create_entity(session, researcher, "Organization", {"name": "Otro Cartel (FICTIONAL)"}).obj.id
    assert store.create_link(session, researcher, "Membership", a, other,
                             {"startDate": "2001", "endDate": "2001-06"}).warnings == {}


def test_loading_the_demo_again_leaves_a_users_merge_of_demo_entries_alone(session, researcher):
    """`serve --demo` loads the demo on every start: after a user merged two demo entries it stopped
    with 'was merged into ...' (it tried to cite the merged-away entry again), and the server did not start."""
    from workbench.sources.demo import load_demo
    from workbench.store.permissions import SYSTEM

    load_demo(session, SYSTEM, users=False)
    merge(session, researcher, "demo-lnfm", "demo-lfm")
    session.commit()
    again = load_demo(session, SYSTEM, users=False)
    assert again.created == 0 and again.citations == 0
    assert session.get(store.Entity, "demo-lfm").merged_into == "demo-lnfm"


def test_loading_the_demo_again_after_a_merge_keeps_what_the_merge_brought(session, researcher):
    """A merge into a demo entry brings the merged entry's names and links; loading the demo again
    reset the kept entry to the fixture (the names went) and stopped at a link the merge had doubled."""
    from workbench.sources.demo import load_demo
    from workbench.store.permissions import SYSTEM

    load_demo(session, SYSTEM, users=False)
    twin = store.create_entity(session, researcher, "Person", {"name": "GUZMAN LOERA, Joaquin Archivaldo"}).obj.id
    store.create_link(session, researcher, "Membership", twin, "demo-sinaloa-cartel", {"role": "leader"})
    merge(session, researcher, "demo-guzman-loera", twin)  # two identical Membership links now
    store.update_link(session, researcher, "demo-l-guzman-sinaloa", {"role": "jefe"})  # a user's edit
    session.commit()
    load_demo(session, SYSTEM, users=False)
    session.commit()
    kept = session.get(store.Entity, "demo-guzman-loera")
    assert "GUZMAN LOERA, Joaquin Archivaldo" in kept.properties["alias"]  # what the merge brought stays


def test_the_entry_holding_a_merge_cannot_be_deleted_until_the_merge_is_undone(session, researcher):
    kept = _person(session, researcher, "Juan Perez Nunez (FICTIONAL)")
    gone = _person(session, researcher, "Juan Perez N (FICTIONAL)")
    merge(session, researcher, kept, gone)
    with pytest.raises(ValidationError, match=f"holds the merge of {gone}: undo the merge first"):
        store.delete_entity(session, researcher, kept)


def test_a_roll_row_about_a_merged_away_parcel_goes_to_the_kept_parcel(session, researcher, tmp_path):
    """The row's parcel is found by its APN: when a user had merged that parcel into another, the
    import added the new owner's link and citations to the merged-away record no page shows."""
    from pathlib import Path

    from workbench.sources.tabular import import_table, load_mapping
    from workbench.store.models import Link

    mappings = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
    mapping = load_mapping((mappings / "county_property_roll.yml").read_text(encoding="utf-8"), "roll")
    roll = tmp_path / "roll_FICTIONAL.csv"
    header = (mappings / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8").splitlines()[0]
    first = (mappings / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8").splitlines()[1]
    roll.write_text(header + "\n" + first + "\n", encoding="utf-8")
    import_table(session, researcher, roll, mapping)
    session.commit()
    parcel = next(link.target_id for link in session.query(Link) if link.kind == "Ownership")
    other = store.create_entity(session, researcher, "RealEstate", {"name": "Parcel kept (FICTIONAL)"}).obj.id
    merge(session, researcher, other, parcel)
    session.commit()
    again = tmp_path / "roll2_FICTIONAL.csv"
    again.write_text(header + "\n" + first.replace(first.split(",")[-1], "999999") + "\n", encoding="utf-8")
    import_table(session, researcher, again, mapping)
    session.commit()
    assert not [link for link in session.query(Link) if parcel in (link.source_id, link.target_id)]
