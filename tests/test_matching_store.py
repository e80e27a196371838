"""Search over the store's names (kept current from the audit log), duplicates, judgements, merges."""

import pytest
from sqlalchemy import select

from workbench.matching.judgements import current_judgement, judge, judgement_history, merge, unmerge
from workbench.matching.search import find_duplicates, search_entities
from workbench.store.audit import verify
from workbench.store.entities import add_name, cite, create_entity, create_link, create_source
from workbench.store.models import AuditEntry, Citation, Entity, Link


def person(session, actor, name, **props):
    return create_entity(session, actor, "Person", {"name": [name], **props}).obj


def test_search_follows_changes_incrementally(session, researcher):
    a = person(session, researcher, "GUZMAN LOERA, Joaquin")
    person(session, researcher, "ZAMBADA GARCIA, Ismael")
    session.commit()
    hits = search_entities(session, "Joaquin Guzman")
    assert hits[0].entity_id == a.id and hits[0].score > 0.7 and hits[0].explanation["aligned"]
    assert search_entities(session, "El Chapo") == []
    add_name(session, researcher, a.id, "EL CHAPO", "weakAlias")
    session.commit()
    hits = search_entities(session, "El Chapo")
    assert [h.entity_id for h in hits] == [a.id] and hits[0].matched_name == "EL CHAPO"
    assert search_entities(session, "Joaquin Guzman", kinds=["Organization"]) == []


def test_find_duplicates_uses_identifiers(session, researcher):
    a = person(session, researcher, "PEREZ LOPEZ, Juan", identifier=["CURP:PELJ800101HSLRPN09"])
    session.commit()
    hits = find_duplicates(session, "Person", {"name": ["Juan Perez"], "identifier": ["CURP:PELJ800101HSLRPN09"]})
    assert hits[0].entity_id == a.id and hits[0].score >= 0.99
    assert find_duplicates(session, "Person", {"name": ["PEREZ LOPEZ, Juan"]}, exclude_id=a.id) == []
    clash = find_duplicates(session, "Person", {"name": ["PEREZ LOPEZ, Juan"],
                                                "identifier": ["CURP:PELJ750505HSLRPN01"]})
    assert clash == []


def test_judgements_are_reversible_and_keep_history(session, researcher, reviewer):
    a = person(session, researcher, "GUZMAN LOERA, Joaquin")
    b = person(session, researcher, "GUZMAN LOPEZ, Joaquin")
    judge(session, researcher, a.id, b.id, "same", 0.6)
    judge(session, reviewer, b.id, a.id, "different")
    session.commit()
    assert current_judgement(session, a.id, b.id).verdict == "different"
    history = judgement_history(session, a.id, b.id)
    assert [(j.verdict, j.user) for j in history] == [("same", "rita"), ("different", "victor")]
    assert history[0].superseded_by == history[1].id


def test_merge_and_unmerge_lose_nothing(session, researcher):
    winner = person(session, researcher, "GUZMAN LOERA, Joaquin")
    loser = person(session, researcher, "Joaquin Guzman", alias=["EL CHAPO"])
    company = create_entity(session, researcher, "Company", {"name": ["ACME SA DE CV"]}).obj
    link = create_link(session, researcher, "Associate", loser.id, company.id).obj
    source = create_source(session, researcher, url="https://example.org/a", title="Report")
    citation = cite(session, researcher, source.id, entity_id=loser.id, excerpt="seen together")
    session.commit()
    audit_before = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1))

    record = merge(session, researcher, winner.id, loser.id)
    session.commit()
    session.refresh(winner)
    assert session.get(Entity, loser.id).merged_into == winner.id
    assert {"Joaquin Guzman", "EL CHAPO"} <= set(winner.properties["alias"])
    assert session.get(Link, link.id).source_id == winner.id
    assert session.get(Citation, citation.id).entity_id == winner.id
    assert current_judgement(session, winner.id, loser.id).verdict == "same"
    assert [h.entity_id for h in search_entities(session, "El Chapo")] == [winner.id]

    unmerge(session, researcher, record.id)
    session.commit()
    session.refresh(winner)
    assert session.get(Entity, loser.id).merged_into is None
    assert winner.properties.get("alias", []) == []
    assert session.get(Entity, loser.id).properties["alias"] == ["EL CHAPO"]
    assert session.get(Link, link.id).source_id == loser.id
    assert session.get(Citation, citation.id).entity_id == loser.id
    assert [h.entity_id for h in search_entities(session, "El Chapo")] == [loser.id]
    # Two entries again: "same" no longer stands, and the pair waits for a new verdict (history kept).
    assert current_judgement(session, winner.id, loser.id).verdict == "unsure"
    assert [j.verdict for j in judgement_history(session, winner.id, loser.id)] == ["same", "unsure"]
    # Every earlier audit entry is still there and the chain is intact.
    assert session.scalar(select(AuditEntry.seq).where(AuditEntry.seq == audit_before)) == audit_before
    count, broken = verify(session)
    assert broken is None and count > audit_before


def test_rejected_hit_is_not_raised_again(session, researcher):
    from workbench.matching.review import create_review_items, decide, open_items

    a = person(session, researcher, "GUZMAN LOERA, Joaquin")
    hit = {"row_number": 3, "row_data": {"owner": "JOAQUIN GUZMAN"}, "query_name": "JOAQUIN GUZMAN",
           "entity_id": a.id, "matched_name": "GUZMAN LOERA, Joaquin", "score": 0.9, "explanation": {}}
    assert create_review_items(session, researcher, None, [hit]) == 1
    item = open_items(session)[0]
    decide(session, researcher, item.id, "rejected")
    session.commit()
    assert open_items(session) == []
    assert create_review_items(session, researcher, None, [dict(hit, query_name="Guzman, Joaquin")]) == 0


def test_a_surname_typed_in_the_search_box_lists_everyone_who_bears_it(session, researcher):
    """'guzman' matches 'GUZMAN LOERA, Joaquin' poorly as a whole name, yet a researcher typing it wants
    every Guzmán: with ``partial`` the names holding every word typed follow the hits; screening does not."""
    ids = {name: person(session, researcher, name).id
           for name in ("GUZMAN LOERA, Joaquin", "GUZMAN LOPEZ, Ovidio", "ZAMBADA GARCIA, Ismael")}
    session.commit()
    found = [h.entity_id for h in search_entities(session, "guzman", partial=True)]
    assert set(found) == {ids["GUZMAN LOERA, Joaquin"], ids["GUZMAN LOPEZ, Ovidio"]}
    assert search_entities(session, "guzman") == []  # as screening asks: no hit for a surname alone


def test_a_dossier_follows_its_target_through_a_merge_and_back(session, researcher):
    from workbench.dossiers.service import create_dossier
    from workbench.store.models import Dossier

    kept = person(session, researcher, "VILLASENOR IBARRA, Jose Maria (FICTIONAL)")
    merged = person(session, researcher, "Jose Maria Villasenor Ibarra (FICTIONAL)")
    dossier = create_dossier(session, researcher, merged.id, "kingpin-b2", title="FICTIONAL package")
    session.commit()
    record = merge(session, researcher, kept.id, merged.id)
    session.commit()
    session.expire_all()
    assert session.get(Dossier, dossier.id).target_id == kept.id
    assert [e.event for e in session.get(Dossier, dossier.id).events][-1] == "target changed"
    unmerge(session, researcher, record.id)
    session.commit()
    session.expire_all()
    assert session.get(Dossier, dossier.id).target_id == merged.id
    assert verify(session)[1] is None


def test_the_citation_of_a_merged_name_supports_it_as_the_winners_alias_and_comes_back(session, researcher):
    winner = person(session, researcher, "Juan Perez Gomez")
    loser = person(session, researcher, "PEREZ GOMEZ, Juan")
    source = create_source(session, researcher, url="https://example.org/qa", title="FICTIONAL article")
    cited = cite(session, researcher, source.id, entity_id=loser.id, prop="name", value="PEREZ GOMEZ, Juan")
    session.commit()
    record = merge(session, researcher, winner.id, loser.id)
    session.commit()
    moved = session.get(Citation, cited.id)
    assert (moved.entity_id, moved.prop, moved.value) == (winner.id, "alias", "PEREZ GOMEZ, Juan")
    unmerge(session, researcher, record.id)
    session.commit()
    back = session.get(Citation, cited.id)
    assert (back.entity_id, back.prop) == (loser.id, "name")


def test_a_merge_whose_winner_was_merged_again_is_undone_only_after_that_one(session, researcher):
    import pytest

    from workbench.store.entities import Conflict

    x = person(session, researcher, "FICTIONAL Ramiro Soto Vega")
    y = person(session, researcher, "SOTO VEGA, FICTIONAL Ramiro")
    z = person(session, researcher, "FICTIONAL Ramiro Soto V.")
    org = create_entity(session, researcher, "Organization", {"name": ["FICTIONAL ORG"]}).obj
    link = create_link(session, researcher, "Associate", z.id, org.id).obj
    inner = merge(session, researcher, y.id, z.id)
    outer = merge(session, researcher, x.id, y.id)
    session.commit()
    with pytest.raises(Conflict, match=rf"undo that merge \(merge {outer.id}\) first"):
        unmerge(session, researcher, inner.id)
    session.rollback()
    unmerge(session, researcher, outer.id)
    unmerge(session, researcher, inner.id)
    session.commit()
    assert session.get(Link, link.id).source_id == z.id


def test_an_entry_holding_the_same_curp_is_a_duplicate_whatever_its_name(session, researcher):
    known = person(session, researcher, "FICTIONAL Rosalinda Tapia Quinones",
                   identifier=["CURP:TAQR810714MSLPXS05"])
    session.commit()
    hits = find_duplicates(session, "Person", {"name": ["La Rosy"], "identifier": ["curp: taqr810714mslpxs05"]})
    assert [h.entity_id for h in hits] == [known.id] and hits[0].score >= 0.99
    assert find_duplicates(session, "Person", {"name": ["La Rosy"], "identifier": ["CURP:TAQR810714MSLPXS06"]}) == []


def test_a_merged_pair_cannot_be_judged_different_without_undoing_the_merge(session, researcher):
    import pytest

    from workbench.store.entities import Conflict

    keep = person(session, researcher, "FICTIONAL Lucero Ibarra Soto")
    gone = person(session, researcher, "IBARRA SOTO, FICTIONAL Lucero")
    record = merge(session, researcher, keep.id, gone.id)
    with pytest.raises(Conflict, match="undo the merge"):
        judge(session, researcher, keep.id, gone.id, "different")
    # Through a chain too: 'gone' went into 'keep', and 'keep' into 'top'.
    top = person(session, researcher, "FICTIONAL Lucero Ibarra S.")
    outer = merge(session, researcher, top.id, keep.id)
    with pytest.raises(Conflict, match="undo the merge"):
        judge(session, researcher, top.id, gone.id, "different")
    unmerge(session, researcher, outer.id)
    unmerge(session, researcher, record.id)
    assert judge(session, researcher, keep.id, gone.id, "different").verdict == "different"


def test_two_reviewers_deciding_one_hit_at_the_same_moment_get_one_decision(db_url, session, researcher):
    """Both had read the hit before either saved: both passed the version check, and a rejection was
    stored beside the confirmation (the true match was never raised again) or the second got a 500."""
    from workbench.matching.review import create_review_items, decide, open_items
    from workbench.store import db as store_db
    from workbench.store.entities import Conflict
    from workbench.store.models import PairDecision, ReviewItem
    from workbench.store.permissions import Actor

    a = person(session, researcher, "GUZMAN LOERA, Joaquin")
    hit = {"row_number": 3, "row_data": {"owner": "JOAQUIN GUZMAN"}, "query_name": "JOAQUIN GUZMAN",
           "entity_id": a.id, "matched_name": "GUZMAN LOERA, Joaquin", "score": 0.9, "explanation": {}}
    create_review_items(session, researcher, None, [hit])
    session.commit()
    item_id = open_items(session)[0].id
    factory = store_db.session_factory(db_url)
    first, second = factory(), factory()
    try:
        held = (first.get(ReviewItem, item_id), second.get(ReviewItem, item_id))  # as two open pages
        seen = [item.version for item in held]
        decide(first, researcher, item_id, "unsure", expected_version=seen[0])
        first.commit()
        with pytest.raises(Conflict, match="decided by someone else"):
            decide(second, Actor("victor", "reviewer"), item_id, "rejected", expected_version=seen[1])
        second.rollback()
    finally:
        first.close()
        second.close()
    session.expire_all()
    assert session.get(ReviewItem, item_id).status == "unsure"
    assert session.scalars(select(PairDecision)).all() == []  # no rejection was stored beside it
