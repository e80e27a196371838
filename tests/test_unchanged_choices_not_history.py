"""Saving an entry whose topics the form sends back in its options' order records no change to them (QA round 16:
editing only the notes of a demo entry wrote 'Topics: Police, Public official, Sanctioned -> Public official,
Police, Sanctioned' into its history and the audit log, a change nobody made). Made-up names."""

from workbench.store import audit
from workbench.store import entities as svc


def _history(session, entity_id):
    return [(e.action, e.before, e.after) for e in audit.history(session, entity_id)]


def test_topics_sent_back_in_another_order_are_no_change(session, researcher):
    svc.create_entity(session, researcher, "Person", {"name": ["Rutilio Baez Cornejo"],
                                                      "topics": ["role.pep", "sanction", "crime.boss"]},
                      entity_id="p-baez")
    session.commit()
    saved = svc.update_entity(session, researcher, "p-baez", {"name": ["Rutilio Baez Cornejo"],
                                                              "topics": ["crime.boss", "role.pep", "sanction"]})
    session.commit()
    assert saved.changed is False
    assert svc.get_entity(session, "p-baez").properties["topics"] == ["role.pep", "sanction", "crime.boss"]
    assert [a for a, _b, _c in _history(session, "p-baez")] == ["entity.create"]


def test_a_real_edit_beside_reordered_topics_changes_only_what_was_edited(session, researcher):
    svc.create_entity(session, researcher, "Person", {"name": ["Rutilio Baez Cornejo"],
                                                      "topics": ["role.pep", "sanction"]}, entity_id="p-baez")
    session.commit()
    svc.update_entity(session, researcher, "p-baez", {"name": ["Rutilio Baez Cornejo"], "notes": ["Seen in Culiacan"],
                                                      "topics": ["sanction", "role.pep"]})
    session.commit()
    (_a, before, after), = [h for h in _history(session, "p-baez") if h[0] == "entity.update"]
    assert before["properties"]["topics"] == after["properties"]["topics"] == ["role.pep", "sanction"]
    assert after["properties"]["notes"] == ["Seen in Culiacan"]


def test_a_topic_added_or_removed_is_a_change(session, researcher):
    svc.create_entity(session, researcher, "Person", {"name": ["Rutilio Baez Cornejo"],
                                                      "topics": ["role.pep", "sanction"]}, entity_id="p-baez")
    session.commit()
    saved = svc.update_entity(session, researcher, "p-baez", {"name": ["Rutilio Baez Cornejo"], "topics": ["sanction"]})
    session.commit()
    assert saved.changed is not False
    assert svc.get_entity(session, "p-baez").properties["topics"] == ["sanction"]
