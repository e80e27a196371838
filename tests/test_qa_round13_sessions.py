"""QA round 13 (security): WORKBENCH_SESSION_MAX_AGE is a session's lifetime, not only an idle timeout.

The session cookie is signed again on every response, so a session in use (or a stolen cookie replayed every
few minutes) never reached the cookie's max-age: it lived until sign-out."""

from __future__ import annotations

import time

from web_helpers import signed_in_client

from workbench.settings import get_settings


def test_a_session_in_constant_use_still_ends_its_lifetime_after_sign_in(db_url, monkeypatch):
    import workbench.web.deps as deps

    client = signed_in_client(db_url, "rita", "researcher")
    signed_in_at = time.time()
    lifetime = get_settings().session_max_age
    for elapsed in (60, lifetime // 2, lifetime - 60):  # used all along: still signed in
        monkeypatch.setattr(deps.time, "time", lambda e=elapsed: signed_in_at + e)
        assert client.get("/entities", follow_redirects=False).status_code == 200, elapsed
    monkeypatch.setattr(deps.time, "time", lambda: signed_in_at + lifetime + 60)
    ended = client.get("/entities", follow_redirects=False)
    assert ended.status_code in (302, 303) and "/login" in ended.headers["location"]
    monkeypatch.setattr(deps.time, "time", lambda: signed_in_at + lifetime + 120)
    assert client.get("/entities", follow_redirects=False).status_code in (302, 303)  # not back by itself
