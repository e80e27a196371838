"""schemathesis generates requests from the app's own OpenAPI schema: no request may cause a 5xx.

The app runs under uvicorn on 127.0.0.1 with the demo data, and the generated requests carry a
researcher's API token, so they reach the handlers rather than stopping at sign-in. The number of
examples per operation is bounded so the run stays short in CI.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from workbench.web.app import create_app

schema = schemathesis.openapi.from_dict(create_app().openapi())
EXAMPLES = int(os.environ.get("WORKBENCH_SCHEMATHESIS_EXAMPLES", "15"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    import httpx

    from workbench.sources.demo import load_demo
    from workbench.store import db as store_db
    from workbench.store.migrate import upgrade
    from workbench.store.permissions import SYSTEM
    from workbench.store.users import add_user, create_token

    tmp = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{tmp}/api.db"
    upgrade(store_db.get_engine(url))
    with store_db.session_scope(url) as s:
        load_demo(s, SYSTEM, users=False)
        add_user(s, SYSTEM, "fuzzer", "researcher", "schemathesis password")
        token = create_token(s, SYSTEM, "schemathesis", "fuzzer")
    store_db.dispose_all()
    env = {**os.environ, "WORKBENCH_DATABASE_URL": url, "WORKBENCH_DATA_DIR": str(tmp / "data"),
           "WORKBENCH_SECRET_KEY": "schemathesis-key"}
    port = _free_port()
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "workbench.web.app:create_app", "--factory",
                                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {(tmp / 'server.log').read_text()}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the server did not answer /health within 30 s")
        time.sleep(0.1)  # polling the server's start-up
    yield {"base": base, "headers": {"Authorization": f"Bearer {token}"}, "log": tmp / "server.log"}
    process.terminate()
    process.wait(timeout=10)
    log.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_causes_a_server_error(case, api):
    case.call_and_validate(base_url=api["base"], headers=api["headers"], checks=[not_a_server_error])
