"""A bounded load test on loopback: N concurrent users sign in, search, open entity pages and
fetch graph JSON. It reports p95 per action and fails (exit 1) on any server error.

Traffic goes only to a server this command starts on 127.0.0.1, with a fixed number of requests,
so it always stops by itself.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

import typer

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000 if ordered else 0.0


def _user(base: str, username: str, password: str, iterations: int, people: list[str], names: list[str],
          seed: int, record) -> None:
    import httpx

    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=120) as client:
        t0 = time.perf_counter()
        page = client.get("/login")
        token = CSRF.search(page.text).group(1)
        response = client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                               "next": "/"}, follow_redirects=False)
        record("sign-in", response.status_code, time.perf_counter() - t0, expected=303)
        for _ in range(iterations):
            for action, path in (("search", f"/search?q={rng.choice(names)[:-1]}"),
                                 ("entity page", f"/entities/{rng.choice(people)}"),
                                 ("graph JSON", f"/api/graph/{rng.choice(people)}")):
                t1 = time.perf_counter()
                response = client.get(path)
                record(action, response.status_code, time.perf_counter() - t1)


def run_load(users: int, iterations: int, entities: int, seed: int = 11) -> dict:
    """Start a server on a generated database, run the users, and return the figures."""
    import httpx

    from workbench.store import db as store_db
    from workbench.store import migrate
    from workbench.store.permissions import SYSTEM
    from workbench.store.users import add_user
    from workbench.web.cli import generate, serve

    statuses: dict[str, dict[int, int]] = {}
    latencies: dict[str, list[float]] = {}
    alone: dict[str, list[float]] = {}  # the baseline: the same rounds by one user on the same server, first
    unexpected: list[str] = []
    lock = threading.Lock()
    phase = {"latencies": alone}

    def record(action: str, status: int, seconds: float, expected: int = 200) -> None:
        with lock:
            statuses.setdefault(action, {}).setdefault(status, 0)
            statuses[action][status] += 1
            phase["latencies"].setdefault(action, []).append(seconds)
            if status != expected:
                unexpected.append(f"{action}: {status}")

    with tempfile.TemporaryDirectory(prefix="workbench-load-") as tmp:
        url = f"sqlite:///{tmp}/load.db"
        env = {"WORKBENCH_DATABASE_URL": url, "WORKBENCH_DATA_DIR": f"{tmp}/data",
               "WORKBENCH_SECRET_KEY": f"load-{seed}", "WORKBENCH_LOGIN_ATTEMPTS_PER_MINUTE": "1000"}
        migrate.upgrade(store_db.get_engine(url))
        data = generate(url, entities, seed)
        password = f"load test password {seed}"
        with store_db.session_scope(url) as s:
            for i in range(users):
                add_user(s, SYSTEM, f"load{i}", "researcher", password)
        store_db.dispose_all()
        with serve("workbench.web.app:create_app", env, Path(tmp) / "server.log") as base:
            httpx.get(base + "/health")
            _user(base, "load0", password, iterations, data["people"], data["names"], seed, record)
            phase["latencies"] = latencies
            threads = [threading.Thread(target=_user, args=(base, f"load{i}", password, iterations, data["people"],
                                                              data["names"], seed + i, record)) for i in range(users)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            log = (Path(tmp) / "server.log").read_text(errors="replace")
    total = sum(sum(v.values()) for v in statuses.values())
    server_errors = sum(n for v in statuses.values() for code, n in v.items() if code >= 500)
    return {
        "users": users, "requests": total, "seconds": elapsed, "rps": total / elapsed if elapsed else 0.0,
        "server_errors": server_errors, "unexpected": unexpected,
        "actions": {a: {"count": len(v), "p50_ms": statistics.median(v) * 1000, "p95_ms": _p95(v),
                        "statuses": statuses[a],
                        "alone_p95_ms": _p95(alone[a]) if alone.get(a) else None} for a, v in latencies.items()},
        "server_log_tail": log[-2000:] if server_errors else "",
    }


def register(bench_app: typer.Typer) -> None:
    @bench_app.command("load")
    def bench_load(
        users: int = typer.Option(10, "--users", help="Concurrent users."),
        iterations: int = typer.Option(20, "--iterations", help="Rounds of search + entity page + graph per user."),
        entities: int = typer.Option(5_000, "--entities", help="Generated entities in the throw-away database."),
    ) -> None:
        """Bounded concurrent load on loopback: sign-in, search, entity page, graph JSON, beside the same rounds
        by one user alone on the same server first (the baseline). Exit 1 on any 5xx."""
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        if users < 1 or iterations < 1 or entities < 10:
            raise typer.BadParameter("use at least 1 user, 1 iteration and 10 entities")
        console = Console(markup=False)  # answers and server log lines are text, not styles
        result = run_load(users, iterations, entities)
        table = Table(title=f"workbench bench load: {users} concurrent users, {result['requests']} requests, "
                            f"{result['rps']:.0f} req/s overall, {entities:,} entities")
        for column in ("action", "requests", "p50 ms", "p95 ms", "p95 ms, one user alone", "x alone", "statuses (both runs)"):
            table.add_column(column, justify="left" if column in ("action", "statuses (both runs)") else "right")
        for action, figures in result["actions"].items():
            alone = figures["alone_p95_ms"]
            table.add_row(action, str(figures["count"]), f"{figures['p50_ms']:.1f}", f"{figures['p95_ms']:.1f}",
                          f"{alone:.1f}" if alone else "-", f"{figures['p95_ms'] / alone:.1f}x" if alone else "-",
                          ", ".join(f"{k}: {v}" for k, v in sorted(figures["statuses"].items())))
        console.print(table)
        console.print(f"server errors (5xx): {result['server_errors']}")
        if result["server_errors"] or result["unexpected"]:
            console.print(Text.assemble(("unexpected answers:", "red"), f" {result['unexpected'][:20]}"))
            if result["server_log_tail"]:
                console.print(result["server_log_tail"])
            raise typer.Exit(1)
