"""QA round 13, users, on PostgreSQL: two admins demoting or disabling each other at the same moment. The
first change is made and left uncommitted; the second starts in another thread and waits for it (the test
waits until PostgreSQL says it waits for a lock, never a fixed time); then the first commits. The admins
were counted before the log's lock was taken, so the second counted two admins, passed, and left none."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select
from test_write_races_pg import _second_after_first

from workbench.schema import ValidationError
from workbench.store.db import session_factory
from workbench.store.models import User
from workbench.store.permissions import SYSTEM, Actor
from workbench.store.users import add_user, set_active, set_role

pytestmark = pytest.mark.skipif(not os.environ.get("WORKBENCH_TEST_DATABASE_URL"),
                                reason="needs PostgreSQL (WORKBENCH_TEST_DATABASE_URL): SQLite runs one writer at a time")
ADA, BOB = Actor("ada", "admin"), Actor("bob", "admin")
CHANGES = {
    "demote": lambda s, actor, other: set_role(s, actor, other, "researcher"),
    "disable": lambda s, actor, other: set_active(s, actor, other, False),
}


@pytest.mark.parametrize("first, second", [("demote", "demote"), ("disable", "disable"), ("demote", "disable"),
                                           ("disable", "demote")])
def test_two_admins_changing_each_other_at_once_leave_one_admin(db_url, first, second):
    factory = session_factory(db_url)
    with factory() as s:
        add_user(s, SYSTEM, "ada", "admin", "correct horse battery")
        add_user(s, SYSTEM, "bob", "admin", "correct horse battery")
        s.commit()
    outcome = _second_after_first(factory, lambda s: CHANGES[first](s, ADA, "bob"),
                                  lambda s: CHANGES[second](s, BOB, "ada"))
    assert isinstance(outcome.get("error"), ValidationError), outcome
    assert "only active admin" in str(outcome["error"])
    with factory() as s:
        admins = s.execute(select(User.username).where(User.role == "admin", User.active.is_(True))).scalars().all()
    assert admins == ["ada"]
