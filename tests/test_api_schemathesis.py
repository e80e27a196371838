"""schemathesis generates requests from the app's own OpenAPI schema: no request may cause a 5xx.

The app runs under uvicorn on 127.0.0.1 with the demo data, and the generated requests carry a
researcher's API token, so they reach the handlers rather than stopping at sign-in. The number of
examples per operation is bounded so the run stays short in CI.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from web_helpers import app_for_introspection

schema = schemathesis.openapi.from_dict(app_for_introspection().openapi())
EXAMPLES = int(os.environ.get("WORKBENCH_SCHEMATHESIS_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from workbench.sources.demo import load_demo
    from workbench.store import db as store_db
    from workbench.store.migrate import upgrade
    from workbench.store.permissions import SYSTEM
    from workbench.store.users import add_user, create_token
    from workbench.web.cli import serve

    tmp = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{tmp}/api.db"
    upgrade(store_db.get_engine(url))
    with store_db.session_scope(url) as s:
        load_demo(s, SYSTEM, users=False)
        add_user(s, SYSTEM, "fuzzer", "researcher", "schemathesis password")
        token = create_token(s, SYSTEM, "schemathesis", "fuzzer")
    store_db.dispose_all()
    env = {"WORKBENCH_DATABASE_URL": url, "WORKBENCH_DATA_DIR": str(tmp / "data"),
           "WORKBENCH_SECRET_KEY": "schemathesis-key"}
    with serve("workbench.web.app:create_app", env, tmp / "server.log") as base:
        yield {"base": base, "headers": {"Authorization": f"Bearer {token}"}}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_causes_a_server_error(case, api):
    case.call_and_validate(base_url=api["base"], headers=api["headers"], checks=[not_a_server_error])
