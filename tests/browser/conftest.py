"""A real server and Debian's Chromium for the browser tests (never a downloaded browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PASSWORD = "browser test password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """uvicorn serving the app on a free 127.0.0.1 port with a fresh SQLite database."""
    import httpx

    from workbench.settings import reset_settings
    from workbench.store import db as store_db
    from workbench.store.migrate import upgrade
    from workbench.store.permissions import SYSTEM
    from workbench.store.users import add_user

    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp}/browser.db"
    upgrade(store_db.get_engine(url))
    with store_db.session_scope(url) as s:
        add_user(s, SYSTEM, "rita", "researcher", PASSWORD)
    store_db.dispose_all()
    env = {**os.environ, "WORKBENCH_DATABASE_URL": url, "WORKBENCH_DATA_DIR": str(tmp / "data"),
           "WORKBENCH_SECRET_KEY": "browser-test-key"}
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
        time.sleep(0.1)  # polling the server's start-up, not waiting on a page
    yield {"base": base, "url": url, "username": "rita", "password": PASSWORD, "log": tmp / "server.log"}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
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
