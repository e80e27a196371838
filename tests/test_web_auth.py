"""Sign-in, sign-out, roles, CSRF and throttling, as a browser or script would meet them."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_helpers import PASSWORD, csrf_of, make_user, sign_in, signed_in_client


@pytest.fixture
def app(db_url):
    from workbench.web.app import create_app

    return create_app()


def test_health_is_public(app):
    assert TestClient(app).get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/", "/entities", "/search?q=x", "/sources", "/screening", "/admin/users",
                                  "/docs"])
def test_anonymous_pages_redirect_to_sign_in(app, path):
    response = TestClient(app).get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/api/entities", "/api/search?q=x", "/api/sources", "/openapi.json"])
def test_anonymous_api_gets_401(app, path):
    response = TestClient(app).get(path)
    assert response.status_code == 401
    assert "sign in" in response.json()["detail"]


def test_sign_in_sets_httponly_lax_cookie_and_sign_out_ends_session(db_url, app):
    make_user(db_url, "rita", "researcher")
    client = TestClient(app)
    response = sign_in(client, "rita")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200 and "rita" in home.text and "Sign out" in home.text
    token = csrf_of(client, "/")
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(db_url, app):
    make_user(db_url, "rita", "researcher")
    client = TestClient(app)
    response = sign_in(client, "rita", "not the password")
    assert response.status_code == 401
    assert "Unknown user name or wrong password" in response.text
    assert sign_in(client, "nobody", PASSWORD).status_code == 401


def test_sign_in_redirect_stays_on_site(db_url, app):
    make_user(db_url, "rita", "researcher")
    client = TestClient(app)
    token = csrf_of(client, "/login")
    response = client.post("/login", data={"username": "rita", "password": PASSWORD, "csrf_token": token,
                                           "next": "https://evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_sign_in_attempts_are_throttled_per_user(db_url, app, monkeypatch):
    make_user(db_url, "rita", "researcher")
    make_user(db_url, "victor", "reviewer")
    client = TestClient(app)
    limit = app.state.login_throttle.limit
    for _ in range(limit):
        assert sign_in(client, "rita", "wrong password!").status_code == 401
    blocked = sign_in(client, "rita", PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    assert sign_in(client, "victor").status_code == 303  # other users are not locked out


def test_attempts_sent_at_once_are_throttled_like_attempts_sent_one_by_one(db_url, app):
    """Checked before the password hash and counted after it, forty attempts sent together all got
    to try a password."""
    from concurrent.futures import ThreadPoolExecutor

    make_user(db_url, "rita", "researcher")
    clients = [TestClient(app) for _ in range(12)]
    tokens = [csrf_of(c, "/login") for c in clients]

    def guess(k: int) -> int:
        return clients[k].post("/login", data={"username": "rita", "password": f"wrong {k}", "csrf_token": tokens[k],
                                               "next": "/"}, follow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(guess, range(12)))
    assert codes.count(401) == app.state.login_throttle.limit and codes.count(429) == 12 - codes.count(401)


def test_one_address_trying_many_user_names_is_throttled_too(db_url, app):
    from workbench.web.throttle import ADDRESS_FACTOR

    make_user(db_url, "rita", "researcher")
    client = TestClient(app)
    limit = app.state.login_throttle.limit
    for k in range(limit * ADDRESS_FACTOR):  # one guess for each name: never a name's own limit
        assert sign_in(client, f"name{k}", "Password1!").status_code == 401
    assert sign_in(client, "someone-else", "Password1!").status_code == 429
    assert sign_in(client, "rita").status_code == 429  # the address waits, whatever the name


def test_successful_sign_ins_do_not_use_up_the_address_allowance(db_url, app):
    from workbench.web.throttle import ADDRESS_FACTOR

    make_user(db_url, "rita", "researcher")
    limit = app.state.login_throttle.limit
    for _ in range(limit * ADDRESS_FACTOR + 2):  # a shared office signing in all morning
        assert sign_in(TestClient(app), "rita").status_code == 303


def test_names_sent_to_sign_in_are_not_kept_beyond_the_window(db_url, app):
    """Anyone may post names to /login: every name, refused or not, stayed in memory for the life of the
    process (300 posts of 1 MB names held 290 MB). A name is kept at most as long as a user's can be,
    and once its failures are older than the window, it is forgotten."""
    from workbench.store.users import MAX_USERNAME
    from workbench.web.throttle import ADDRESS_FACTOR, WINDOW_SECONDS, LoginThrottle

    client = TestClient(app)
    response = sign_in(client, "x" * 200_000, "Password1!")
    assert response.status_code == 401  # no such user, told as any unknown name is
    throttle = app.state.login_throttle
    assert max(len(name) for name, _address in throttle._failures) <= MAX_USERNAME + 1

    now = [1000.0]
    throttle = LoginThrottle(5, clock=lambda: now[0])
    for k in range(5 * ADDRESS_FACTOR + 50):  # most of these are refused (429): none may add a key
        throttle.attempt(f"name {k} " + "a" * 10_000, "203.0.113.9")
    # the names that were counted (each from this address, and over all addresses), and the address
    assert len(throttle) == 2 * 5 * ADDRESS_FACTOR + 1
    now[0] += WINDOW_SECONDS + 1
    assert throttle.attempt("rita", "203.0.113.9") == 0  # the window has passed: the address may try again
    assert len(throttle) == 3  # rita's attempt (here and over all addresses) and the address's; the rest gone


def test_post_without_csrf_token_is_refused(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    response = client.post("/entities/new", data={"kind": "Person", "p.name": "Juan Perez"})
    assert response.status_code == 403
    assert "security token" in response.text
    bad = client.post("/entities/new", data={"kind": "Person", "p.name": "Juan Perez", "csrf_token": "forged"})
    assert bad.status_code == 403
    listing = client.get("/entities")
    assert "Juan Perez" not in listing.text


def test_sign_in_form_needs_csrf_token(db_url, app):
    make_user(db_url, "rita", "researcher")
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"username": "rita", "password": PASSWORD})
    assert response.status_code == 403


def test_researcher_cannot_reach_admin_pages(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    assert client.get("/admin/users").status_code == 403
    token = csrf_of(client, "/")
    response = client.post("/admin/users", data={"username": "mallory", "role": "admin",
                                                  "password": "long enough pw", "csrf_token": token})
    assert response.status_code == 403
    assert 'href="/admin/users"' not in client.get("/").text


def test_admin_adds_user_changes_role_and_disables(db_url):
    admin = signed_in_client(db_url, "ada", "admin")
    token = csrf_of(admin, "/admin/users")
    short = admin.post("/admin/users", data={"username": "newbie", "role": "researcher", "password": "short",
                                             "csrf_token": token})
    assert short.status_code == 422
    assert re.search(r'id="new-password-errors">\s*<li>a password needs at least', short.text)
    added = admin.post("/admin/users", data={"username": "newbie", "role": "researcher",
                                             "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert added.status_code == 303
    newbie = TestClient(admin.app)
    assert sign_in(newbie, "newbie").status_code == 303
    assert newbie.get("/admin/users").status_code == 403
    admin.post("/admin/users/newbie/role", data={"role": "admin", "csrf_token": token})
    assert newbie.get("/admin/users").status_code == 200  # takes effect at once
    admin.post("/admin/users/newbie/active", data={"active": "0", "csrf_token": token})
    assert newbie.get("/", follow_redirects=False).status_code == 303  # a disabled user is signed out
    assert sign_in(TestClient(admin.app), "newbie").status_code == 401
    own = admin.post("/admin/users/ada/active", data={"active": "0", "csrf_token": token})
    assert own.status_code == 422 and "cannot disable your own account" in own.text


def test_api_token_authenticates_without_csrf(db_url, app):
    from workbench.store import db as store_db
    from workbench.store.permissions import SYSTEM
    from workbench.store.users import create_token

    make_user(db_url, "rita", "researcher")
    with store_db.session_scope(db_url) as s:
        token = create_token(s, SYSTEM, "script", "rita")
    client = TestClient(app)
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/entities", json={"kind": "Person", "properties": {"name": "Ana Lopez"}},
                          headers=headers)
    assert created.status_code == 201, created.text
    assert client.get("/api/entities", headers={"Authorization": "Bearer wbt_wrong"}).status_code == 401


def test_guesses_at_one_name_spread_over_many_addresses_meet_a_cap(db_url):
    """QA round 13 (security): the limits were per (name, address) and per address, so guesses from many
    addresses (an IPv6 block, proxies) at one name never met one."""
    from workbench.web.throttle import ACCOUNT_FACTOR, WINDOW_SECONDS, LoginThrottle

    now = [1000.0]
    throttle = LoginThrottle(5, clock=lambda: now[0])
    for k in range(5 * ACCOUNT_FACTOR):  # one guess from each address: never an address's own limit
        assert throttle.attempt("rita", f"2001:db8::{k}") == 0
    assert throttle.attempt("rita", "2001:db8::ffff") > 0  # a new address meets the name's cap
    assert throttle.attempt("ruth", "2001:db8::ffff") == 0  # another name is not held up
    now[0] += WINDOW_SECONDS + 1
    assert throttle.attempt("rita", "2001:db8::ffff") == 0  # a minute after the guesses stop, rita may sign in
