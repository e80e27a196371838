"""The README's first command, as a user runs it: `workbench serve --demo` on an empty folder
creates the database, loads the demo, prints the demo passwords once, and serves the entities."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_demo_on_a_fresh_folder(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", "--demo", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not answer within 90 s"
            time.sleep(0.2)  # polling the server's start-up
        output = (tmp_path / "serve.log").read_text()
        password = re.search(r"researcher\s*│\s*researcher\s*│\s*(\S+)", output).group(1)
        assert (tmp_path / "workbench.db").exists()
        with httpx.Client(base_url=base) as client:
            assert client.get("/entities", follow_redirects=False).status_code == 303  # sign-in first
            login = client.get("/login").text
            token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
            signed = client.post("/login", data={"username": "researcher", "password": password,
                                                 "csrf_token": token, "next": "/"})
            assert signed.status_code == 303 and signed.headers["location"] == "/"
            people = client.get("/entities", params={"kind": "Person"})
            assert people.status_code == 200
            for name in ("Joaquín Guzmán Loera", "Severo Flores Mendoza", "José María Villaseñor Ibarra (FICTIONAL)"):
                assert name in people.text
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
