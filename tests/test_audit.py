"""The audit chain detects an edited or deleted entry, and names it."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from workbench.store import audit
from workbench.store.entities import create_entity, update_entity
from workbench.store.models import AuditEntry, Entity


def _three_changes(session, actor):
    person = create_entity(session, actor, "Person", {"name": "One"}).obj
    update_entity(session, actor, person.id, {"name": "Two"})
    update_entity(session, actor, person.id, {"name": "Three"})
    session.commit()


def test_intact_chain_verifies(session, researcher):
    _three_changes(session, researcher)
    assert audit.verify(session) == (3, None)


def test_edited_entry_is_named(session, researcher):
    _three_changes(session, researcher)
    session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="someone-else"))
    session.commit()
    count, broken = audit.verify(session)
    assert broken.seq == 2 and "edited" in broken.reason and count == 1


def test_deleted_entry_in_the_middle_is_named(session, researcher):
    _three_changes(session, researcher)
    session.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    session.commit()
    count, broken = audit.verify(session)
    assert broken.seq == 2 and "deleted" in broken.reason


def test_deleted_last_entry_is_detected(session, researcher):
    _three_changes(session, researcher)
    session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    session.commit()
    _, broken = audit.verify(session)
    assert broken is not None and broken.seq == 3


def test_deleting_the_head_with_the_last_entry_is_detected(session, researcher):
    """The head row is what shows entries removed from the end; removing it too used to pass as intact."""
    from workbench.store.models import AuditHead

    _three_changes(session, researcher)
    session.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    session.execute(delete(AuditHead))
    session.commit()
    _, broken = audit.verify(session)
    assert broken is not None and "head" in broken.reason


def test_rewritten_json_payload_is_detected(session, researcher):
    _three_changes(session, researcher)
    entry = session.get(AuditEntry, 3)
    entry.after = {**entry.after, "caption": "Forged"}
    session.commit()
    assert audit.verify(session)[1].seq == 3


def test_history_lists_changes_newest_first(session, researcher):
    _three_changes(session, researcher)
    entity_id = session.get(AuditEntry, 1).object_id
    assert [e.action for e in audit.history(session, entity_id)] == ["entity.update", "entity.update", "entity.create"]


def test_importer_states_hash_exactly_as_the_plain_encoder_writes_them():
    """Imports serialise their states with orjson; the bytes (and so every hash) must not change."""
    names = ["AEROCARIBBEAN AIRLINES", "ŞAHİN, Çağrı", "Мурманск \"ЗАО\"", "back\\slash\ttab\nline",
             "\x00\x1f\x7f control", "\u2028\u2029 separators", "😀 emoji", "", "a" * 3000]
    states = [
        {"caption": name, "kind": "Person", "properties": {"name": [name], "alias": [name, "x"], "country": ["ru"]},
         "citations": [{"source": "s1", "entity": "ofac-1", "link": None, "prop": "alias", "value": name,
                        "locator": "alt_num 1"}]}
        for name in names
    ]
    states += [{"Z": 1, "a": True, "é": False, "Ä": None, "ä": [], "😀": {}}, [], {}, "plain", 42, None]
    for state in states:
        assert audit.canonical_state(state) == audit.canonical(state)
        assert audit.column_json(state) == json.dumps(state, ensure_ascii=False, separators=(",", ":"))
    # Values orjson refuses take the plain path instead of failing.
    for odd in ({1: "int key"}, {"lone": "\ud800"}):
        assert audit.canonical_state(odd) == audit.canonical(odd)
        assert audit.column_json(odd) == json.dumps(odd, ensure_ascii=False, separators=(",", ":"))


def test_bulk_rows_read_back_as_orm_rows(session):
    """Bulk-inserted rows read back as written: dict and RawJSON properties, shared and per-row times."""
    shared = datetime(2024, 5, 2, 13, 45, 7, 123456, tzinfo=UTC)
    rows = [
        ("bulk-1", "Person", "One", {"name": ["One"], "alias": ["Uno"]}, shared, shared, "rita", 1),
        ("bulk-2", "Person", "Two", audit.RawJSON('{"name":["Two"]}'), shared, shared + timedelta(seconds=1),
         "rita", 1),
        ("bulk-3", "Company", "Three", {"name": ["Three"]}, shared, shared + timedelta(days=2), None, 1),
    ]
    columns = ("id", "kind", "caption", "properties", "created_at", "updated_at", "created_by", "version")
    audit.bulk_insert(session, Entity.__table__, rows, chunk=2, columns=columns)
    found = {e.id: e for e in session.execute(select(Entity).where(Entity.id.like("bulk-%"))).scalars()}
    assert found["bulk-1"].properties == {"name": ["One"], "alias": ["Uno"]}
    assert found["bulk-2"].properties == {"name": ["Two"]}
    for row in rows:
        entity = found[row[0]]
        assert (entity.kind, entity.caption, entity.created_by) == (row[1], row[2], row[6])
        assert entity.created_at.replace(tzinfo=UTC) == row[4]
        assert entity.updated_at.replace(tzinfo=UTC) == row[5]


def test_a_bulk_row_the_database_refuses_raises_the_same_error_on_every_backend(session):
    """A duplicate key is an IntegrityError naming the constraint, on SQLite's executemany and on
    PostgreSQL's COPY alike, so callers handle one kind of error."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    at = datetime(2024, 5, 2, tzinfo=UTC)
    row = ("dup-1", "Person", "One", {"name": ["One"]}, at, at, "rita", 1)
    columns = ("id", "kind", "caption", "properties", "created_at", "updated_at", "created_by", "version")
    with pytest.raises(IntegrityError, match="(?i)unique|duplicate"):
        audit.bulk_insert(session, Entity.__table__, [row, row], columns=columns)
    session.rollback()
    assert session.get(Entity, "dup-1") is None
