"""Every route in the app's route table x {anonymous, researcher, reviewer, admin}.

Routes are read from the application itself, so a new route is covered the day it is added:
only the sign-in page, the health check, the static assets and the reconciliation service's CORS
preflight answer without signing in; admin
routes refuse everyone but admins; no role ever triggers a server error with an empty request.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount
from web_helpers import app_for_introspection, csrf_of, signed_in_client

from workbench.sources.demo import load_demo
from workbench.store.db import session_scope
from workbench.store.permissions import SYSTEM

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/health"),
          # CORS preflight of the reconciliation service: browsers send it without credentials, and
          # it answers only which methods and headers may be sent.
          ("OPTIONS", "/reconcile"), ("OPTIONS", "/reconcile/{rest:path}")}
PUBLIC_MOUNTS = {"/static"}  # CSS, JS and vendored libraries: no data
ADMIN_ONLY = re.compile(r"^/admin(/|$)")
REVIEWER_ONLY = {("GET", "/dossiers/review")}  # the review queue

PARAMS = {
    "entity_id": "demo-fictional-official",
    "rest": "preview",
    "link_id": "demo-l-fictional-occupancy",
    "source_id": "demo-src-fictional-deed",
    "dossier_id": "demo-dossier-fictional-official",
    "exhibit_id": "1",
    "job_id": "no-such-job",
    "item_id": "999999",
    "username": "researcher",
    "merge_id": "999999",
    "citation_id": "1",
    "token_id": "999999",
}


def _walk(routes, prefix=""):
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps included routers nested
            yield from _walk(route.original_router.routes, prefix + (route.include_context.prefix or ""))
        elif isinstance(route, Mount):
            yield "MOUNT", prefix + route.path
        else:
            for method in sorted(getattr(route, "methods", None) or []):
                if method != "HEAD":
                    yield method, prefix + route.path


def route_table():
    return sorted(set(_walk(app_for_introspection().router.routes)))


def _fill(path: str) -> str:
    def replace(match):
        name = match.group(1).split(":")[0]
        assert name in PARAMS, f"route parameter {{{name}}} has no test value: add it to PARAMS"
        return PARAMS[name]

    return re.sub(r"\{([^}]+)\}", replace, path)


ROUTES = [r for r in route_table() if r[0] != "MOUNT"]


def test_route_table_is_not_empty_and_every_mount_is_known():
    table = route_table()
    assert len(ROUTES) > 40
    assert {path for method, path in table if method == "MOUNT"} <= PUBLIC_MOUNTS


@pytest.fixture
def demo_db(db_url):
    with session_scope(db_url) as s:
        load_demo(s, SYSTEM, users=False)
    return db_url


def test_anonymous(demo_db):
    """Without signing in, only the public routes answer; pages redirect to sign-in, the API says 401."""
    from workbench.web.app import create_app

    client = TestClient(create_app(), raise_server_exceptions=False)
    problems = []
    for method, path in ROUTES:
        response = client.request(method, _fill(path), follow_redirects=False)
        status = response.status_code
        if (method, path) in PUBLIC:
            if status >= 500 or (method == "GET" and status >= 400):
                problems.append(f"{method} {path}: public route answered {status}")
            continue
        refused = (303, 401) if method == "GET" else (303, 401, 403)  # a write without session fails CSRF first
        if status not in refused:
            problems.append(f"{method} {path}: answered {status} without sign-in")
        elif status == 303 and not response.headers["location"].startswith("/login"):
            problems.append(f"{method} {path}: redirected to {response.headers['location']}, not to sign-in")
    assert problems == []


@pytest.mark.parametrize("role", ["researcher", "reviewer", "admin"])
def test_signed_in_roles(demo_db, role):
    """One client per role walks every route: admin routes are 403 for others; nothing is 401 or 5xx."""
    client = signed_in_client(demo_db, f"matrix-{role}", role)
    token = csrf_of(client, "/")
    problems = []
    for method, path in ROUTES:
        if (method, path) == ("POST", "/logout") or (method, path) in PUBLIC:
            continue  # logging out would end the walk's session; public routes are checked above
        try:
            response = client.request(method, _fill(path), headers={"X-CSRF-Token": token}, follow_redirects=False)
        except Exception as exc:  # the TestClient re-raises server errors
            problems.append(f"{method} {path}: server error {exc.__class__.__name__}: {exc}"[:300])
            continue
        status = response.status_code
        admin_route = bool(ADMIN_ONLY.match(path))
        if status >= 500:
            problems.append(f"{method} {path}: server error {status}")
        elif status == 401:
            problems.append(f"{method} {path}: 401 although signed in")
        elif admin_route and role != "admin" and status != 403:
            problems.append(f"{method} {path}: {role} got {status}, expected 403")
        elif (method, path) in REVIEWER_ONLY:
            if (status == 403) != (role != "reviewer"):
                problems.append(f"{method} {path}: {role} got {status}")
        elif not admin_route and status == 403:
            problems.append(f"{method} {path}: {role} refused (403) on a route open to every signed-in role")
        elif admin_route and role == "admin" and status == 403:
            problems.append(f"{method} {path}: admin refused")
    assert problems == []


def test_forms_without_a_csrf_token_are_refused(demo_db):
    client = signed_in_client(demo_db, "csrf-check", "admin")
    posts = [(m, p) for m, p in ROUTES if m in ("POST", "PUT", "DELETE") and (m, p) not in PUBLIC]
    assert posts
    refused = {(m, p): client.request(m, _fill(p), follow_redirects=False).status_code for m, p in posts}
    assert {k: v for k, v in refused.items() if v != 403} == {}


def test_reviewing_is_refused_to_researchers_over_http(demo_db):
    client = signed_in_client(demo_db, "matrix-r2", "researcher")
    token = csrf_of(client, "/")
    response = client.post(f"/dossiers/{PARAMS['dossier_id']}/move",
                           data={"move": "approve", "action": "approve", "comment": "ok", "csrf_token": token},
                           headers={"Accept": "application/json"}, follow_redirects=False)
    assert response.status_code in (403, 409, 422)
    assert response.status_code != 200
