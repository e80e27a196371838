"""QA round 13, users: the last admin kept when admins change each other (the log's lock taken before the
admins are counted); a disable revoking API tokens for good; a password reset saying that tokens still work;
changing one's own password on the web; an admin resetting another user's password on the web. Each test
drives the feature as an admin or a user would (pages, `workbench users`) and failed before its fix.
The PostgreSQL race of two admins at once: test_qa_round13_users_races_pg.py."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner
from web_helpers import PASSWORD, csrf_of, make_user, sign_in, signed_in_client

from workbench.cli import app as cli_app
from workbench.schema import ValidationError
from workbench.store import audit, users
from workbench.store import db as store_db
from workbench.store.models import AuditEntry, User
from workbench.store.permissions import SYSTEM, Actor

runner = CliRunner()
COOKIE = "workbench_session"
NEW_PASSWORD = "a brand new passphrase"


def invoke(*args):
    return runner.invoke(cli_app, list(args), catch_exceptions=False)


def _token(db_url: str, username: str, label: str = "script") -> str:
    with store_db.session_scope(db_url) as s:
        return users.create_token(s, SYSTEM, label, username)


def _api_works(app, token: str) -> bool:
    status = TestClient(app).get("/api/entities", headers={"Authorization": f"Bearer {token}"}).status_code
    assert status in (200, 401), status
    return status == 200


def _signed_in(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


def _copy_of(client: TestClient) -> TestClient:
    """Another browser holding a copy of ``client``'s session cookie (a session left open elsewhere)."""
    from workbench.web.app import create_app

    other = TestClient(create_app())
    other.cookies.set(COOKIE, client.cookies.get(COOKIE))
    return other


def _flashes(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip()
            for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)</(?:p|div)>', page, re.DOTALL)]


def _entries(db_url: str, object_id: str) -> list[AuditEntry]:
    with store_db.session_scope(db_url) as s:
        rows = list(s.execute(select(AuditEntry).where(AuditEntry.object_id == object_id)
                              .order_by(AuditEntry.seq)).scalars())
        s.expunge_all()
        return rows


def _user(db_url: str, username: str) -> tuple[str, int]:
    with store_db.session_scope(db_url) as s:
        user = users.get_user(s, username)
        return user.password_hash, user.session_epoch


# ---- 1. the last admin: the log's lock before the admins are counted --------------------------------------

@pytest.mark.parametrize("change", ["role", "active"])
def test_admins_are_counted_only_after_the_log_is_locked(db_url, monkeypatch, change):
    """On PostgreSQL two admins demoting (or disabling) each other at once each counted two admins, read before
    the lock every writer queues on, and both passed: no admin left. Here the order of the two is watched."""
    make_user(db_url, "ada", "admin")
    make_user(db_url, "bob", "admin")
    calls: list[str] = []
    begin, count = audit.begin_change, users._active_admins
    monkeypatch.setattr(audit, "begin_change", lambda s: (calls.append("lock"), begin(s))[1])
    monkeypatch.setattr(users, "_active_admins", lambda s: (calls.append("count"), count(s))[1])
    with store_db.session_scope(db_url) as s:
        if change == "role":
            users.set_role(s, Actor("ada", "admin"), "bob", "researcher")
        else:
            users.set_active(s, Actor("ada", "admin"), "bob", False)
    assert "count" in calls and calls.index("lock") < calls.index("count"), calls


def test_admins_changing_each_other_one_after_the_other_keep_the_last_admin(db_url):
    make_user(db_url, "ada", "admin")
    make_user(db_url, "bob", "admin")
    make_user(db_url, "cyd", "admin")
    ada, bob = Actor("ada", "admin"), Actor("bob", "admin")
    with store_db.session_scope(db_url) as s:
        users.set_role(s, ada, "bob", "reviewer")
    with store_db.session_scope(db_url) as s:
        users.set_active(s, bob, "cyd", False)  # bob's stale actor, as a second tab would hold it
    with store_db.session_scope(db_url) as s, pytest.raises(ValidationError, match="only active admin"):
        users.set_role(s, bob, "ada", "researcher")
    with store_db.session_scope(db_url) as s, pytest.raises(ValidationError, match="only active admin"):
        users.set_active(s, bob, "ada", False)
    with store_db.session_scope(db_url) as s:
        assert [u.username for u in s.execute(select(User).where(User.role == "admin", User.active.is_(True))
                                              ).scalars()] == ["ada"]
    # The same refusals through the pages and the command line.
    admin = signed_in_client(db_url, "dee", "researcher")
    with store_db.session_scope(db_url) as s:
        users.set_role(s, SYSTEM, "dee", "admin")
        users.set_active(s, SYSTEM, "ada", False)
    assert sign_in(admin, "dee").status_code == 303
    token = csrf_of(admin, "/admin/users")
    refused = admin.post("/admin/users/dee/role", data={"role": "researcher", "csrf_token": token})
    assert refused.status_code == 422 and "only active admin" in refused.text
    last = invoke("users", "disable", "dee")
    assert last.exit_code == 2 and "only active admin" in last.output


# ---- 2. API tokens: a disable revokes them for good; a password reset says they still work -------------------

def test_disabling_a_user_on_the_admin_page_revokes_their_tokens_for_good(db_url):
    admin = signed_in_client(db_url, "ada", "admin")
    make_user(db_url, "rita", "researcher")
    laptop, server = _token(db_url, "rita", "laptop"), _token(db_url, "rita", "server")
    assert _api_works(admin.app, laptop)
    token = csrf_of(admin, "/admin/users")

    disabled = admin.post("/admin/users/rita/active", data={"active": "0", "csrf_token": token})
    assert disabled.status_code == 200
    assert any("rita is disabled" in f and "revoked 2 API tokens for good" in f for f in _flashes(disabled.text)), \
        _flashes(disabled.text)
    enabled = admin.post("/admin/users/rita/active", data={"active": "1", "csrf_token": token})
    assert any("rita is enabled" in f and "stay revoked" in f and "create a new one" in f
               for f in _flashes(enabled.text)), _flashes(enabled.text)
    assert not _api_works(admin.app, laptop) and not _api_works(admin.app, server)  # before: both worked again
    assert admin.get("/admin/users/rita/tokens").text.count(">revoked<") == 2
    assert [(e.action, e.after.get("revoked")) for e in _entries(db_url, "rita")][-3:] == [
        ("user.active", None), ("token.revoke", 2), ("user.active", None)]
    with store_db.session_scope(db_url) as s:
        assert audit.verify(s)[1] is None  # two entries of one change, chained

    # A new token, made after the enable, works: that is the way back.
    fresh = _token(db_url, "rita", "new laptop")
    assert _api_works(admin.app, fresh)


def test_disable_and_enable_on_the_command_line_say_what_became_of_the_tokens(db_url):
    make_user(db_url, "rita", "researcher")
    make_user(db_url, "nils", "researcher")
    token = _token(db_url, "rita")
    disabled = invoke("users", "disable", "rita")
    assert disabled.exit_code == 0 and "revoked 1 API token" in disabled.output, disabled.output
    enabled = invoke("users", "enable", "rita")
    assert enabled.exit_code == 0 and "stay revoked" in enabled.output
    assert "workbench users token rita" in " ".join(enabled.output.split())
    with store_db.session_scope(db_url) as s:
        assert users.actor_for_token(s, token) is None
    none = invoke("users", "disable", "nils")
    assert none.exit_code == 0 and "no API token to revoke" in none.output
    assert [e.action for e in _entries(db_url, "nils")][-1] == "user.active"  # no empty revocation recorded


def test_a_password_reset_on_the_command_line_says_the_tokens_still_work(db_url, tmp_path):
    make_user(db_url, "rita", "researcher")
    make_user(db_url, "nils", "researcher")
    token = _token(db_url, "rita")
    secret = tmp_path / "pw"
    secret.write_text(NEW_PASSWORD + "\n")
    result = invoke("users", "password", "rita", "--password-file", str(secret))
    output = " ".join(result.output.split())
    assert result.exit_code == 0 and "1 API token still works" in output, output
    assert "workbench users revoke rita --all" in output
    with store_db.session_scope(db_url) as s:
        assert users.actor_for_token(s, token) is not None  # kept: scripts keep running
    quiet = invoke("users", "password", "nils", "--password-file", str(secret))
    assert quiet.exit_code == 0 and "token" not in quiet.output  # nothing to warn about


# ---- 3. changing one's own password on the web --------------------------------------------------------

def _change(client: TestClient, current: str, new: str, again: str | None = None, **extra):
    data = {"current_password": current, "new_password": new, "new_password_again": new if again is None else again,
            "csrf_token": csrf_of(client, "/account/password"), **extra}
    return client.post("/account/password", data=data, follow_redirects=False)


@pytest.mark.parametrize("role", ["researcher", "reviewer", "admin"])
def test_every_role_changes_their_own_password_and_stays_signed_in_while_other_sessions_end(db_url, role):
    rita = signed_in_client(db_url, "rita", role)
    home = rita.get("/").text
    assert 'href="/account/password"' in re.search(r'<header class="top">.*?</header>', home, re.DOTALL).group(0)
    copy = _copy_of(rita)
    other = signed_in_client(db_url, "nils", "researcher")  # someone else: untouched
    from workbench.web.app import create_app

    laptop = TestClient(create_app())
    assert sign_in(laptop, "rita").status_code == 303 and _signed_in(laptop) and _signed_in(copy)
    token = _token(db_url, "rita")

    done = _change(rita, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/account/password"
    assert NEW_PASSWORD not in done.headers["location"]
    page = rita.get("/account/password")
    assert page.status_code == 200  # the session that changed it stays signed in
    assert any("Your password is changed" in f and "1 API token still works" in f for f in _flashes(page.text))
    assert _signed_in(rita) and not _signed_in(copy) and not _signed_in(laptop)
    assert _signed_in(other) and _api_works(rita.app, token)

    fresh = TestClient(rita.app)
    assert sign_in(fresh, "rita", PASSWORD).status_code == 401
    assert sign_in(fresh, "rita", NEW_PASSWORD).status_code == 303
    entry = [e for e in _entries(db_url, "rita") if e.action == "user.password"][-1]
    assert entry.actor == "rita" and entry.after == {"session_epoch": 1}
    password_hash, _ = _user(db_url, "rita")
    recorded = json.dumps([entry.before, entry.after])
    assert NEW_PASSWORD not in recorded and PASSWORD not in recorded and password_hash not in recorded


def test_a_wrong_current_password_or_a_bad_new_one_changes_nothing(db_url):
    rita = signed_in_client(db_url, "rita", "researcher")
    copy = _copy_of(rita)
    before = _user(db_url, "rita")
    seq = len(_entries(db_url, "rita"))

    wrong = _change(rita, "not my password", NEW_PASSWORD)
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    assert "nothing was changed" in wrong.text and NEW_PASSWORD not in wrong.text  # no password echoed back
    differ = _change(rita, PASSWORD, NEW_PASSWORD, again=NEW_PASSWORD + "!")
    assert differ.status_code == 422 and "the two new passwords differ" in differ.text
    short = _change(rita, PASSWORD, "short")
    assert short.status_code == 422 and f"at least {users.MIN_PASSWORD} characters" in short.text
    long = _change(rita, PASSWORD, "x" * (users.MAX_PASSWORD + 1))
    assert long.status_code == 422 and f"at most {users.MAX_PASSWORD} characters" in long.text
    missing = rita.post("/account/password", data={"csrf_token": csrf_of(rita, "/")}, follow_redirects=False)
    assert missing.status_code == 422

    assert _user(db_url, "rita") == before and len(_entries(db_url, "rita")) == seq
    assert _signed_in(rita) and _signed_in(copy)
    assert sign_in(TestClient(rita.app), "rita", PASSWORD).status_code == 303


def test_the_password_form_needs_its_csrf_token_and_a_signed_in_person(db_url):
    rita = signed_in_client(db_url, "rita", "researcher")
    before = _user(db_url, "rita")
    refused = rita.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                   "new_password_again": NEW_PASSWORD}, follow_redirects=False)
    assert refused.status_code == 403 and NEW_PASSWORD not in refused.text
    assert _user(db_url, "rita") == before
    anonymous = TestClient(rita.app)
    assert anonymous.get("/account/password", follow_redirects=False).headers["location"].startswith("/login")
    token = _token(db_url, "rita")
    by_token = anonymous.post("/account/password", headers={"Authorization": f"Bearer {token}"},
                              data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                    "new_password_again": NEW_PASSWORD})
    assert by_token.status_code == 403 and _user(db_url, "rita") == before
    with store_db.session_scope(db_url) as s, pytest.raises(Exception, match="API token cannot change a password"):
        users.change_own_password(s, Actor("rita", "researcher", via_token=True), PASSWORD, NEW_PASSWORD)


def test_wrong_current_passwords_are_throttled_as_sign_ins_are(db_url):
    rita = signed_in_client(db_url, "rita", "researcher")
    limit = rita.app.state.login_throttle.limit
    for k in range(limit):
        assert _change(rita, f"guess number {k}", NEW_PASSWORD).status_code == 422
    blocked = _change(rita, PASSWORD, NEW_PASSWORD)  # even the right one waits
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "too many wrong passwords" in blocked.text.lower()
    assert sign_in(TestClient(rita.app), "rita", PASSWORD).status_code == 429  # one allowance for both forms
    assert sign_in(TestClient(rita.app), "rita", NEW_PASSWORD).status_code == 429
    with store_db.session_scope(db_url) as s:
        assert users.authenticate(s, "rita", PASSWORD) is not None  # nothing changed


def test_a_right_current_password_does_not_count_against_the_allowance(db_url):
    rita = signed_in_client(db_url, "rita", "researcher")
    limit = rita.app.state.login_throttle.limit
    for _ in range(limit - 1):
        assert _change(rita, "a wrong guess", NEW_PASSWORD).status_code == 422
    assert _change(rita, PASSWORD, NEW_PASSWORD).status_code == 303
    assert _change(rita, NEW_PASSWORD, PASSWORD).status_code == 303  # the wrong ones were forgiven


# ---- 4. an admin resets another user's password on the web ---------------------------------------------

def _reset_form(client: TestClient, username: str) -> dict[str, str]:
    page = client.get(f"/admin/users/{username}/password").text
    return {"csrf_token": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1),
            "once": re.search(r'name="once" value="([^"]+)"', page).group(1)}


def test_an_admin_resets_a_users_password_shown_once_and_their_sessions_end(db_url):
    admin = signed_in_client(db_url, "ada", "admin")
    rita = signed_in_client(db_url, "rita", "researcher")
    token = _token(db_url, "rita")
    users_page = admin.get("/admin/users").text
    assert 'href="/admin/users/rita/password"' in users_page
    assert 'href="/admin/users/ada/password"' not in users_page  # their own: the account page
    assert admin.get("/admin/users/rita/password").status_code == 200  # a page to confirm on, nothing reset yet
    assert _signed_in(rita)

    form = _reset_form(admin, "rita")
    done = admin.post("/admin/users/rita/password", data=form, follow_redirects=False)
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    password = re.search(r'<code id="new-password">([^<]+)</code>', done.text).group(1)
    assert len(password) >= users.MIN_PASSWORD
    assert "workbench users revoke rita --all" in done.text and 'id="live-tokens"' in done.text
    assert not _signed_in(rita) and _signed_in(admin) and _api_works(admin.app, token)
    assert sign_in(rita, "rita", PASSWORD).status_code == 401
    assert sign_in(rita, "rita", password).status_code == 303

    # Never stored in clear, never in the log, never in an address or a cookie.
    password_hash, _ = _user(db_url, "rita")
    assert password not in password_hash
    entry = [e for e in _entries(db_url, "rita") if e.action == "user.password"][-1]
    assert entry.actor == "ada" and entry.after == {"session_epoch": 1, "generated": True}
    assert password not in json.dumps([entry.before, entry.after]) and password_hash not in json.dumps(entry.after)
    assert password not in str(done.url) and password not in "".join(admin.cookies.values())

    # A reload posts the form again: no second reset, no password shown.
    again = admin.post("/admin/users/rita/password", data=form)
    assert again.status_code == 409 and 'id="new-password"' not in again.text and "not reset again" in again.text
    assert sign_in(TestClient(admin.app), "rita", password).status_code == 303


def test_an_admin_cannot_reset_their_own_password_there_and_others_cannot_at_all(db_url):
    admin = signed_in_client(db_url, "ada", "admin")
    before = _user(db_url, "ada")
    own = admin.get("/admin/users/ada/password", follow_redirects=False)
    assert own.status_code == 303 and own.headers["location"] == "/account/password"
    assert admin.get("/admin/users/nobody/password").status_code == 404
    make_user(db_url, "rita", "researcher")
    form = _reset_form(admin, "rita")  # a valid one-time key, sent to their own name
    refused = admin.post("/admin/users/ada/password", data=form)
    assert refused.status_code == 422 and "account page" in refused.text and 'id="new-password"' not in refused.text
    assert _user(db_url, "ada") == before and _signed_in(admin)
    with store_db.session_scope(db_url) as s, pytest.raises(ValidationError, match="account page"):
        users.reset_password(s, Actor("ada", "admin"), "ada")

    rita = signed_in_client(db_url, "rita2", "reviewer")
    assert rita.get("/admin/users/ada/password").status_code == 403
    assert rita.post("/admin/users/ada/password", data={"csrf_token": csrf_of(rita, "/")}).status_code == 403
    no_csrf = admin.post("/admin/users/rita/password", data={"once": _reset_form(admin, "rita")["once"]})
    assert no_csrf.status_code == 403
    assert _user(db_url, "ada") == before
    with store_db.session_scope(db_url) as s:
        assert users.authenticate(s, "rita", PASSWORD) is not None


def test_only_a_tokens_user_or_the_servers_operator_makes_it_never_an_admin_on_the_web(db_url):
    """QA round 13 (security): an admin minted a token for a reviewer and approved their own dossier with it,
    recorded as the reviewer's approval. The domain refuses it, whatever page or script asks."""
    from workbench.store.permissions import PermissionDenied

    make_user(db_url, "victor", "reviewer")
    with store_db.session_scope(db_url) as s:
        with pytest.raises(PermissionDenied, match="a token acts as its user"):
            users.create_token(s, Actor("ada", "admin"), "as victor", "victor")
        assert users.create_token(s, Actor("victor", "reviewer"), "mine").startswith("wbt_")
        assert users.create_token(s, Actor("cli:root", "admin", operator=True), "from the console", "victor")
