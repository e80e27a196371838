"""``workbench bench web``: requests/s and p95 latency of the entity page, search and graph JSON.

It builds a throw-away database of generated (fictional) entities, serves the real app with
uvicorn on 127.0.0.1, and measures a bare FastAPI hello-world the same way in the same run, so
the figures are read as a ratio to what this machine can do at all.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

GIVEN = ["José", "María", "Juan", "Guadalupe", "Francisco", "Rosa", "Jesús", "Ana", "Luis", "Carmen", "Miguel",
         "Elena", "Pedro", "Laura", "Jorge", "Sofía", "Ramón", "Patricia", "Alejandro", "Teresa", "Ricardo", "Alma",
         "Arturo", "Gloria", "Héctor", "Silvia", "Raúl", "Martha", "Sergio", "Norma", "Eduardo", "Leticia"]
SURNAMES = ["García", "Hernández", "López", "Martínez", "González", "Pérez", "Rodríguez", "Sánchez", "Ramírez",
            "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres", "Díaz", "Gutiérrez",
            "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero", "Álvarez", "Méndez", "Chávez",
            "Rivera", "Juárez", "Ramos", "Domínguez", "Herrera", "Medina", "Castro", "Vargas", "Guzmán",
            "Velázquez", "Rojas", "Contreras", "Salazar", "Luna", "Ortega", "Santiago", "Guerrero", "Bautista",
            "Cortés", "Soto", "Alvarado", "Espinoza", "Lara", "Ávila", "Ríos", "Cervantes", "Silva", "Delgado",
            "Vega", "Márquez", "Sandoval", "Fernández", "León", "Carrillo", "Mejía", "Solís", "Núñez", "Rosas",
            "Valdez", "Ibarra", "Campos", "Santos", "Camacho", "Navarro", "Peña", "Maldonado", "Rosales"]
WORDS = ["Transportes", "Inmobiliaria", "Comercializadora", "Servicios", "Agrícola", "Constructora", "Grupo",
         "Distribuidora", "Logística", "Desarrollos", "Minera", "Farmacéutica", "Importadora", "Exportadora"]
PLACES = ["del Pacífico", "de Occidente", "del Valle", "Costa Azul", "Sierra Madre", "del Norte", "Culiacán",
          "Mazatlán", "Los Mochis", "Uruapan", "Apatzingán", "Morelia", "Guasave", "Navolato", "Zamora"]
FORMS = ["SA de CV", "S de RL de CV", "SAPI de CV", "LLC", "Inc."]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hello_app():
    """The baseline: a bare FastAPI app answering one JSON route."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    def hello() -> dict:
        return {"hello": "world"}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app


def generate(url: str, entities: int, seed: int = 7) -> dict[str, list]:
    """Fill an empty database with fictional people, companies, ownerships and designations.

    Bulk inserts straight into the tables: the domain services would take many minutes for 100k
    entities, and what is measured here is reading, not writing.
    """
    from workbench.schema import registry
    from workbench.store import db as store_db
    from workbench.store.entities import caption_for
    from workbench.store.models import Entity, Link, Name
    from workbench.text import fold, sort_key

    rng = random.Random(seed)
    reg = registry()
    engine = store_db.get_engine(url)
    people: list[str] = []
    companies: list[str] = []
    names: list[str] = []
    entity_rows, name_rows, link_rows = [], [], []

    def flush(conn) -> None:
        if entity_rows:
            conn.execute(Entity.__table__.insert(), entity_rows)
        if name_rows:
            conn.execute(Name.__table__.insert(), name_rows)
        if link_rows:
            conn.execute(Link.__table__.insert(), link_rows)
        entity_rows.clear()
        name_rows.clear()
        link_rows.clear()

    with engine.begin() as conn:
        for i in range(entities):
            if i % 3 == 2:
                kind = "Company"
                name = f"{rng.choice(WORDS)} {rng.choice(PLACES)} {rng.choice(FORMS)}"
                if rng.random() < 0.7:
                    name = f"{name.split(' ', 1)[0]} {rng.choice(SURNAMES)} {name.split(' ', 1)[1]}"
                props = {"name": [name], "country": ["mx"]}
                entity_id = f"bench-c{i}"
                companies.append(entity_id)
            else:
                kind = "Person"
                name = f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"
                props = {"name": [name], "nationality": ["mx"]}
                if rng.random() < 0.2:
                    props["alias"] = [f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}"]
                entity_id = f"bench-p{i}"
                people.append(entity_id)
            names.append(name)
            spec = reg.entity_kind(kind)
            caption = caption_for(spec, props)
            entity_rows.append({"id": entity_id, "kind": kind, "caption": caption, "sort_key": sort_key(caption),
                                "properties": props, "created_by": "bench"})
            for prop, kind_of_name in (("name", "primary"), ("alias", "alias")):
                for value in props.get(prop, []):
                    name_rows.append({"entity_id": entity_id, "name": value, "normalized": fold(value),
                                      "name_kind": kind_of_name, "prop": prop})
            if companies and people and kind == "Company":
                for _ in range(2):
                    link_rows.append({"id": f"bench-l{len(link_rows)}-{i}", "kind": "Ownership",
                                      "source_id": rng.choice(people), "target_id": entity_id,
                                      "properties": {"percentage": [str(rng.choice([10, 25, 50, 100]))]},
                                      "created_by": "bench"})
            if len(entity_rows) >= 5000:
                flush(conn)
        flush(conn)
        sanctions = rng.sample(people, max(1, len(people) // 200))
        for n, target in enumerate(sanctions):
            sanction_id = f"bench-s{n}"
            props = {"name": ["OFAC SDN"], "authority": ["OFAC"], "program": ["SDNTK"], "status": ["active"]}
            entity_rows.append({"id": sanction_id, "kind": "Sanction", "caption": "OFAC SDN", "properties": props,
                                "created_by": "bench"})
            link_rows.append({"id": f"bench-sl{n}", "kind": "SanctionOf", "source_id": sanction_id,
                              "target_id": target, "properties": {}, "created_by": "bench"})
        flush(conn)
    return {"people": people, "companies": companies, "names": names}


def misspell(name: str, rng: random.Random) -> str:
    """A plausible typo: drop, double or swap one letter of one word."""
    words = name.split()
    index = rng.randrange(len(words))
    word = words[index]
    if len(word) > 3:
        pos = rng.randrange(1, len(word) - 1)
        choice = rng.random()
        if choice < 0.33:
            word = word[:pos] + word[pos + 1:]
        elif choice < 0.66:
            word = word[:pos] + word[pos] + word[pos:]
        else:
            word = word[:pos - 1] + word[pos] + word[pos - 1] + word[pos + 1:]
    words[index] = word
    return " ".join(words)


@contextmanager
def serve(target: str, env: dict[str, str], log: Path) -> Iterator[str]:
    """Run ``uvicorn <target> --factory`` on a free 127.0.0.1 port; yield its base URL."""
    import httpx

    port = free_port()
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early: see {log}")
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start within 60 s: see {log}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        handle.close()


def measure(client, paths: Callable[[int], str], requests: int) -> dict[str, float]:
    """A bounded loop of sequential requests; every answer must be 200."""
    latencies = []
    started = time.perf_counter()
    for i in range(requests):
        path = paths(i)
        t0 = time.perf_counter()
        response = client.get(path)
        latencies.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": requests / elapsed, "p50": statistics.median(latencies) * 1000,
            "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000}


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    _register_load(bench_app)

    @bench_app.command("web")
    def bench_web(
        entities: int = typer.Option(100_000, "--entities", help="Generated entities in the throw-away database."),
        requests: int = typer.Option(200, "--requests", help="Requests per endpoint (after warm-up)."),
        seed: int = typer.Option(7, "--seed", help="Seed of the generated data (the same seed, the same data)."),
    ) -> None:
        """Serve the app on a generated database and measure it against a bare FastAPI hello-world."""
        import httpx
        from rich.console import Console
        from rich.table import Table

        from workbench.store import db as store_db
        from workbench.store import migrate
        from workbench.store.permissions import SYSTEM
        from workbench.store.users import add_user, create_token, random_password

        console = Console()
        if entities < 10 or requests < 1:
            raise typer.BadParameter("use at least 10 entities and 1 request")
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory(prefix="workbench-bench-web-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            env = {"WORKBENCH_DATABASE_URL": url, "WORKBENCH_DATA_DIR": f"{tmp}/data",
                   "WORKBENCH_SECRET_KEY": "bench-" + str(rng.random())}
            t0 = time.perf_counter()
            migrate.upgrade(store_db.get_engine(url))
            data = generate(url, entities, seed)
            with store_db.session_scope(url) as s:
                add_user(s, SYSTEM, "bench", "researcher", random_password() + "-bench")
                token = create_token(s, SYSTEM, "bench", "bench")
            store_db.dispose_all()
            console.print(f"generated {entities:,} entities in {time.perf_counter() - t0:.1f} s ({url})")

            results: dict[str, dict[str, float]] = {}
            with serve("workbench.web.cli:hello_app", env, Path(tmp) / "hello.log") as base:
                with httpx.Client(base_url=base, timeout=60) as client:
                    measure(client, lambda i: "/hello", 20)
                    results["hello-world (baseline)"] = measure(client, lambda i: "/hello", requests)
            with serve("workbench.web.app:create_app", env, Path(tmp) / "app.log") as base:
                headers = {"Authorization": f"Bearer {token}"}
                with httpx.Client(base_url=base, timeout=300, headers=headers) as client:
                    people, names = data["people"], data["names"]
                    t1 = time.perf_counter()
                    client.get("/api/search", params={"q": names[0]})  # builds the name index
                    client.get(f"/api/graph/{people[0]}")  # builds the graph projection
                    console.print(f"warm-up (index and graph built): {time.perf_counter() - t1:.1f} s")
                    pick = [rng.choice(people) for _ in range(requests + 20)]
                    queries = [misspell(rng.choice(names), rng) for _ in range(requests + 20)]
                    from urllib.parse import quote

                    for label, paths in (
                        ("entity page (HTML)", lambda i: f"/entities/{pick[i]}"),
                        ("search (JSON, misspelt)", lambda i: f"/api/search?q={quote(queries[i])}"),
                        ("graph JSON (ego, depth 1)", lambda i: f"/api/graph/{pick[i]}"),
                    ):
                        measure(client, lambda i, paths=paths: paths(requests + i % 20), 10)
                        results[label] = measure(client, paths, requests)

        base_line = results["hello-world (baseline)"]
        table = Table(title=f"workbench bench web: {entities:,} entities, {requests} sequential requests each")
        for column in ("endpoint", "req/s", "p50 ms", "p95 ms", "p95 vs hello", "target p95 <= 100 ms"):
            table.add_column(column, justify="left" if column == "endpoint" else "right")
        for label, figures in results.items():
            target = ""
            if label.startswith(("entity page", "search")):
                target = "met" if figures["p95"] <= 100 else "MISSED"
            table.add_row(label, f"{figures['rps']:.0f}", f"{figures['p50']:.1f}", f"{figures['p95']:.1f}",
                          f"{figures['p95'] / base_line['p95']:.1f}x", target)
        console.print(table)


def _register_load(bench_app: typer.Typer) -> None:
    from workbench.web.loadtest import register as register_load

    register_load(bench_app)
