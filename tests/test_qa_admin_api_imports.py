"""QA pass on sign-in and roles, the admin pages and `workbench users`, the JSON API, the
Reconciliation service and the importers: each test is a defect a user or a script met."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner
from web_helpers import csrf_of, make_user, signed_in_client

from workbench.cli import app as cli_app
from workbench.store import db as store_db
from workbench.store.models import ApiToken, AuditEntry
from workbench.store.permissions import SYSTEM
from workbench.store.users import actor_for_token, authenticate, create_token

runner = CliRunner()


def invoke(*args):
    return runner.invoke(cli_app, list(args), catch_exceptions=False)


def _token(db_url: str, username: str, label: str) -> str:
    with store_db.session_scope(db_url) as s:
        return create_token(s, SYSTEM, label, username)


def _works(db_url: str, token: str) -> bool:
    with store_db.session_scope(db_url) as s:
        return actor_for_token(s, token) is not None


def _audit_actions(db_url: str, object_id: str) -> list[str]:
    with store_db.session_scope(db_url) as s:
        return list(s.execute(select(AuditEntry.action).where(AuditEntry.object_id == object_id)
                              .order_by(AuditEntry.seq)).scalars())


# ---- API tokens: create (shown once), list, revoke -----------------------------------------------

def _token_form(client, path: str) -> dict[str, str]:
    """The hidden fields of the token form as the page renders them (CSRF token, one-time key)."""
    page = client.get(path).text
    return {"csrf_token": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1),
            "once": re.search(r'name="once" value="([^"]+)"', page).group(1)}


def test_a_user_creates_their_token_and_an_admin_lists_and_revokes_it_on_the_admin_page(db_url):
    """QA round 13 (security): an admin could create a token for a reviewer on this page and approve their own
    dossier with it, under the reviewer's name. A token acts as its user: its user makes it."""
    admin = signed_in_client(db_url, "ada", "admin")
    rita = signed_in_client(db_url, "rita", "researcher")
    assert 'href="/admin/users/rita/tokens"' in admin.get("/admin/users").text
    offered = admin.get("/admin/users/rita/tokens").text
    assert 'id="no-create"' in offered and 'id="token-label"' not in offered
    minted = admin.post("/admin/users/rita/tokens", data={"label": "as rita",
                                                          **_token_form(admin, "/admin/users/ada/tokens")})
    assert minted.status_code == 403 and "a token acts as its user" in minted.text
    page = rita.post("/account/tokens", data={"label": "OpenRefine laptop", **_token_form(rita, "/account/tokens")})
    assert page.status_code == 201 and page.headers["cache-control"] == "no-store"
    token = re.search(r'<code id="new-token">(wbt_[^<]+)</code>', page.text).group(1)
    assert TestClient(admin.app).get("/api/entities", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    listing = admin.get("/admin/users/rita/tokens").text
    assert "OpenRefine laptop" in listing and token not in listing  # shown once
    with store_db.session_scope(db_url) as s:
        row = s.execute(select(ApiToken)).scalar_one()
        assert row.token_hash != token and token not in row.token_hash  # stored hashed
        token_id = row.id

    refused = admin.post(f"/admin/users/rita/tokens/{token_id}/revoke", data={})
    assert refused.status_code == 403 and _works(db_url, token)  # CSRF
    done = admin.post(f"/admin/users/rita/tokens/{token_id}/revoke",
                      data={"csrf_token": csrf_of(admin, "/admin/users/rita/tokens")}, follow_redirects=False)
    assert done.status_code == 303
    assert TestClient(admin.app).get("/api/entities", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "revoked" in admin.get("/admin/users/rita/tokens").text
    assert _audit_actions(db_url, "rita")[-2:] == ["token.create", "token.revoke"]
    assert admin.get("/admin/users/rita/tokens/999/revoke").status_code == 405


def test_reloading_the_page_that_shows_a_new_token_creates_no_second_token(db_url):
    admin = signed_in_client(db_url, "ada", "admin")
    form = {"label": "OpenRefine", **_token_form(admin, "/admin/users/ada/tokens")}
    first = admin.post("/admin/users/ada/tokens", data=form)
    assert first.status_code == 201 and 'id="new-token"' in first.text
    again = admin.post("/admin/users/ada/tokens", data=form)  # what a browser's reload sends
    assert again.status_code == 409 and 'id="new-token"' not in again.text
    assert "already sent" in again.text and "no new token was created" in again.text
    assert admin.post("/admin/users/ada/tokens", data={**form, "once": "made-up"}).status_code == 409
    with store_db.session_scope(db_url) as s:
        assert len(s.execute(select(ApiToken)).all()) == 1
    # The refusal's own form works: another token, on purpose.
    fresh = re.search(r'name="once" value="([^"]+)"', again.text).group(1)
    assert admin.post("/admin/users/ada/tokens", data={**form, "once": fresh}).status_code == 201
    with store_db.session_scope(db_url) as s:
        assert len(s.execute(select(ApiToken)).all()) == 2


def test_a_researcher_cannot_open_or_use_the_token_pages(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    assert client.get("/admin/users/rita/tokens").status_code == 403
    assert client.post("/admin/users/rita/tokens", data={"label": "x", "csrf_token": csrf_of(client, "/")}
                       ).status_code == 403


def test_an_over_long_token_label_is_a_message_on_the_page(db_url):
    admin = signed_in_client(db_url, "ada", "admin")
    page = admin.post("/admin/users/ada/tokens", data={"label": "L" * 121,
                                                       **_token_form(admin, "/admin/users/ada/tokens")})
    assert page.status_code == 422 and "at most 120 characters" in page.text
    with store_db.session_scope(db_url) as s:
        assert s.execute(select(ApiToken)).first() is None


def test_the_cli_lists_a_users_tokens_and_revokes_one_of_them(db_url):
    make_user(db_url, "rita", "researcher")
    laptop = _token(db_url, "rita", "laptop")
    server = _token(db_url, "rita", "server")
    listed = invoke("users", "tokens", "rita")
    assert listed.exit_code == 0 and "laptop" in listed.output and "server" in listed.output
    assert laptop not in listed.output and server not in listed.output
    with store_db.session_scope(db_url) as s:
        laptop_id = s.execute(select(ApiToken.id).where(ApiToken.label == "laptop")).scalar_one()

    revoked = invoke("users", "revoke", "rita", "--id", str(laptop_id))
    assert revoked.exit_code == 0 and "laptop" in revoked.output
    assert not _works(db_url, laptop) and _works(db_url, server)
    assert "revoked" in invoke("users", "tokens", "rita").output
    assert invoke("users", "revoke", "rita").exit_code == 2  # neither --id nor --all
    unknown = invoke("users", "revoke", "rita", "--id", "9999")
    assert unknown.exit_code == 2 and "no token 9999" in unknown.output  # an unknown id: bad input (README)
    assert invoke("users", "revoke", "rita", "--all").exit_code == 0 and not _works(db_url, server)
    assert _audit_actions(db_url, "rita").count("token.revoke") == 2


# ---- users: password, disable, the last admin, user names ------------------------------------------

def test_the_cli_sets_a_password_and_disables_a_user_but_keeps_the_last_admin(db_url, tmp_path):
    make_user(db_url, "rita", "researcher")
    make_user(db_url, "ada", "admin")
    token = _token(db_url, "rita", "script")
    secret = tmp_path / "pw"
    secret.write_text("a brand new passphrase\n")
    assert invoke("users", "password", "rita", "--password-file", str(secret)).exit_code == 0
    with store_db.session_scope(db_url) as s:
        assert authenticate(s, "rita", "a brand new passphrase") is not None
    short = tmp_path / "short"
    short.write_text("short")
    assert invoke("users", "password", "rita", "--password-file", str(short)).exit_code == 2
    assert invoke("users", "password", "rita", "--password-file", str(tmp_path / "none")).exit_code == 2

    assert invoke("users", "disable", "rita").exit_code == 0 and not _works(db_url, token)
    last = invoke("users", "disable", "ada")
    assert last.exit_code == 2 and "only active admin" in last.output
    # A disable revokes the tokens for good (QA round 13): the enable no longer brings this one back.
    assert invoke("users", "enable", "rita").exit_code == 0 and not _works(db_url, token)
    assert _audit_actions(db_url, "rita")[-4:] == ["user.password", "user.active", "token.revoke", "user.active"]


def test_an_over_long_user_name_is_a_message_not_a_database_error(db_url):
    admin = signed_in_client(db_url, "ada", "admin")
    page = admin.post("/admin/users", data={"username": "u" * 81, "role": "researcher",
                                            "password": "long enough password",
                                            "csrf_token": csrf_of(admin, "/admin/users")})
    assert page.status_code == 422 and "at most 80 characters" in page.text


# ---- JSON API -------------------------------------------------------------------------------------

@pytest.fixture
def api(db_url):
    from workbench.web.app import create_app

    make_user(db_url, "rita", "researcher")
    client = TestClient(create_app(), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {_token(db_url, 'rita', 'script')}"
    return client


def test_an_offset_beyond_any_database_is_a_422_not_a_500(api):
    response = api.get("/api/entities", params={"offset": 10**20})
    assert response.status_code == 422 and "offset" in response.json()["errors"]


@pytest.mark.parametrize("entity_id, message", [("x" * 121, "at most 120 characters"),
                                                ("../../etc", "cannot contain '/'"),
                                                ("a b", "cannot contain ' '")])
def test_an_entity_id_that_cannot_be_an_address_is_refused(api, entity_id, message):
    response = api.post("/api/entities", json={"kind": "Person", "id": entity_id,
                                                "properties": {"name": "FICTIONAL Ana Ejemplo"}})
    assert response.status_code == 422 and message in response.json()["errors"]["id"][0]


# ---- Reconciliation service as OpenRefine calls it ------------------------------------------------

def test_openrefine_in_the_browser_can_read_the_service_and_frame_the_preview(api, db_url):
    token = api.headers.pop("Authorization")[7:]
    created = api.post("/api/entities", headers={"Authorization": f"Bearer {token}"},
                       json={"kind": "Person", "id": "p-1", "properties": {"name": "FICTIONAL Ana Ejemplo"}})
    assert created.status_code == 201
    origin = {"Origin": "http://127.0.0.1:3333"}
    manifest = api.get(f"/reconcile?token={token}", headers=origin)
    assert manifest.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in manifest.headers
    assert api.get("/reconcile?token=wrong", headers=origin).headers["access-control-allow-origin"] == "*"
    suggest = api.get(f"/reconcile/suggest/entity?token={token}&prefix=FICTIONAL", headers=origin)
    assert suggest.headers["access-control-allow-origin"] == "*"
    preview = api.get(f"/reconcile/preview?token={token}&id=p-1", headers=origin)
    assert preview.status_code == 200
    policy = preview.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "frame-ancestors 'none'" not in policy
    assert "x-frame-options" not in preview.headers  # no contradicting header for older browsers
    # the pages themselves still refuse to be framed
    assert "frame-ancestors 'none'" in api.get("/login").headers["content-security-policy"]
    assert api.get("/login").headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("field, body", [
    ("queries", '{"q0": {"query": "Ana", "limit": 1e999}}'),
    ("extend", '{"ids": ["p-1"], "properties": 5}'),
])
def test_hostile_reconciliation_input_is_a_422_naming_the_field(api, field, body):
    token = api.headers.pop("Authorization")[7:]
    response = api.post(f"/reconcile?token={token}", data={field: body})
    assert response.status_code == 422, response.text
    assert any(key.startswith(field) for key in response.json()["errors"])


def test_a_negative_proposal_limit_proposes_nothing(api):
    token = api.headers.pop("Authorization")[7:]
    response = api.get(f"/reconcile/extend/propose?token={token}&type=Person&limit=-3")
    assert response.status_code == 200 and response.json()["properties"] == []


# ---- FtM import ------------------------------------------------------------------------------------

def test_ftm_records_the_database_would_refuse_are_rejected_with_their_line(db_url, tmp_path):
    invoke("init")
    path = tmp_path / "FICTIONAL.ftm.json"
    records = [{"id": "fict-1", "schema": "Person", "properties": {"name": ["FICTIONAL Ana Ejemplo"]}},
               {"id": "y" * 200, "schema": "Person", "properties": {"name": ["FICTIONAL Long Id"]}},
               {"id": "fict-2", "schema": "Person", "properties": {"name": ["FICTIONAL Nul\u0000Byte"]}},
               {"id": "fict/3", "schema": "Person", "properties": {"name": ["FICTIONAL Slash"]}}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = invoke("import", "ftm", str(path))
    assert result.exit_code == 3, result.output
    out = " ".join(result.output.split())
    assert "FICTIONAL.ftm.json line 2: id: an id has at most 120 characters" in out
    assert "FICTIONAL.ftm.json line 3: contains a NUL character" in out
    assert "FICTIONAL.ftm.json line 4: id: an id cannot contain '/'" in out
    stats = json.loads(invoke("stats", "--json").output)
    assert stats["entities"] == {"Person": 1}
