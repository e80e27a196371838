"""Shared helpers for the web tests: users, a signed-in TestClient, CSRF tokens from pages."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from workbench.settings import reset_settings
from workbench.store import db as store_db
from workbench.store.permissions import SYSTEM
from workbench.store.users import add_user

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def app_for_introspection() -> FastAPI:
    """The app, built at collection time only to read its routes or OpenAPI document: a throwaway
    signing key keeps it from writing one into the checkout's data directory (where CI's SQLite and
    PostgreSQL runs, side by side, met)."""
    from workbench.web.app import create_app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_SECRET_KEY", "introspection-only")
        reset_settings()
        app = create_app()
    reset_settings()
    return app


def make_user(db_url: str, username: str, role: str, password: str = PASSWORD) -> None:
    with store_db.session_scope(db_url) as s:
        add_user(s, SYSTEM, username, role, password)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    token = csrf_of(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}, follow_redirects=False)


def signed_in_client(db_url: str, username: str, role: str) -> TestClient:
    from workbench.web.app import create_app

    make_user(db_url, username, role)
    client = TestClient(create_app())
    response = sign_in(client, username)
    assert response.status_code == 303, response.text
    return client


def api_client(db_url: str, username: str = "rita", role: str = "researcher") -> TestClient:
    """A signed-in client that sends its CSRF token on every call, as the pages' scripts do."""
    client = signed_in_client(db_url, username, role)
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def api_entity(client: TestClient, kind: str, **props) -> str:
    """Create an entity through the JSON API; its id."""
    response = client.post("/api/entities", json={"kind": kind, "properties": props})
    assert response.status_code == 201, response.text
    return response.json()["id"]
