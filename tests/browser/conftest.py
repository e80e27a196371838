"""A real server and Debian's Chromium for the browser tests (never a downloaded browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PASSWORD = "browser test password"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """uvicorn serving the app on a free 127.0.0.1 port with a fresh SQLite database."""
    from workbench.settings import reset_settings
    from workbench.store import db as store_db
    from workbench.store.migrate import upgrade
    from workbench.store.permissions import SYSTEM
    from workbench.store.users import add_user
    from workbench.web.cli import serve

    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp}/browser.db"
    upgrade(store_db.get_engine(url))
    with store_db.session_scope(url) as s:
        add_user(s, SYSTEM, "rita", "researcher", PASSWORD)
    store_db.dispose_all()
    env = {"WORKBENCH_DATABASE_URL": url, "WORKBENCH_DATA_DIR": str(tmp / "data"),
           "WORKBENCH_SECRET_KEY": "browser-test-key"}
    with serve("workbench.web.app:create_app", env, tmp / "server.log") as base:
        yield {"base": base, "url": url, "username": "rita", "password": PASSWORD, "log": tmp / "server.log"}
    reset_settings()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, server):
    context = browser.new_context(base_url=server["base"])
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def signed_in(page, server) -> None:
    """Sign the module's page in as the server's user, unless it already is (the page is shared)."""
    from playwright.sync_api import expect

    page.goto("/login")
    if page.get_by_label("User name").count() == 0:
        return
    page.get_by_label("User name").fill(server["username"])
    page.get_by_label("Password").fill(server["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Workbench")).to_be_visible()
