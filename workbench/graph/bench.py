"""``workbench bench graph``: the projection and the analyses on a large generated network.

The data is synthetic and bulk-inserted straight into a temporary SQLite database in one
transaction, bypassing the domain services (no validation, no names table, no audit entries),
because pushing 400 000 rows through the services would take longer than everything measured.
Every figure is printed beside a plain-networkx baseline measured in the same run on the same
graph, so a slow machine shows up in both columns.
"""

from __future__ import annotations

import gc
import json
import math
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx

TARGET_BUILD_S = 10.0
TARGET_P95_MS = 100.0


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000 if ordered else float("nan")


def generate(path: Path, entities: int, links: int, seed: int) -> dict[str, Any]:
    """Write a migrated SQLite database holding a synthetic cartel/official/asset network."""
    from workbench.store.audit import GENESIS
    from workbench.store.db import make_engine
    from workbench.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()

    rng = random.Random(seed)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    ent_rows: list[tuple] = []
    groups: dict[str, list[str]] = {}

    def add(kind: str, count: int, props: Callable[[int], dict], group: str | None = None) -> None:
        ids = groups.setdefault(group or kind, [])
        for i in range(count):
            entity_id = f"{(group or kind)[:3].lower()}{i}"
            properties = props(i)
            ent_rows.append((entity_id, kind, properties["name"][0], json.dumps(properties), now, now, "bench", 1))
            ids.append(entity_id)

    n_states = 32
    n_munis = min(2000, max(10, entities // 50))
    n_positions = min(3000, max(10, entities // 33))
    n_sanctions = max(10, entities // 100)
    n_cartels = 50
    rest = max(0, entities - n_states - n_munis - n_positions - n_sanctions - n_cartels)
    n_persons, n_companies = rest // 2, rest // 4
    n_estates = rest - n_persons - n_companies
    add("Territory", n_states, lambda i: {"name": [f"State {i}"], "level": ["state"]}, group="State")
    add("Territory", n_munis, lambda i: {"name": [f"Municipality {i}"], "level": ["municipality"]},
        group="Municipality")
    add("Position", n_positions, lambda i: {"name": [f"Position {i}"]})
    add("Sanction", n_sanctions, lambda i: {"name": [f"SDN entry {i}"], "authority": ["OFAC"],
                                            "program": ["SDNTK"],
                                            "status": ["delisted" if i % 10 == 0 else "active"]})
    add("Organization", n_cartels, lambda i: {"name": [f"Cartel {i}"], "topics": ["crime.cartel"]})
    add("Person", n_persons, lambda i: {"name": [f"Person {i}"]})
    add("Company", n_companies, lambda i: {"name": [f"Company {i} S.A. de C.V."]})
    add("RealEstate", n_estates, lambda i: {"name": [f"Parcel {i}"]})

    persons, companies, estates = groups["Person"], groups["Company"], groups["RealEstate"]
    legal = persons + companies
    link_rows: list[tuple] = []

    def link(kind: str, source: str, target: str, props: dict | None = None) -> None:
        props = props or {}
        link_rows.append((f"l{len(link_rows)}", kind, source, target, json.dumps(props),
                          (props.get("startDate") or [None])[0], None, now, now, "bench", 1))

    for muni in groups["Municipality"]:
        link("TerritoryParent", muni, rng.choice(groups["State"]))
    for position in groups["Position"]:
        link("Jurisdiction", position, rng.choice(groups["Municipality"] if rng.random() < 0.9 else groups["State"]))
    for sanction in groups["Sanction"]:
        link("SanctionOf", sanction, rng.choice(persons if rng.random() < 0.8 else companies + groups["Organization"]))
    for position in groups["Position"]:
        link("Occupancy", rng.choice(persons), position, {"startDate": ["2021-09-01"]})
    fixed = len(link_rows)
    budget = max(0, links - fixed)
    shares = [("Ownership", 0.30), ("Control", 0.035), ("Directorship", 0.07), ("Family", 0.20),
              ("Associate", 0.235), ("Employment", 0.07), ("Membership", 0.017), ("LocatedIn", 0.073)]
    for kind, share in shares:
        count = int(budget * share) if kind != "LocatedIn" else budget - (len(link_rows) - fixed)
        for _ in range(max(0, count)):
            if kind == "Ownership":
                if rng.random() < 0.45:
                    owner = rng.choice(persons)
                    owned = rng.choice(companies if rng.random() < 0.5 else estates)
                else:
                    i = rng.randrange(len(companies) - 1)
                    owner = companies[i]
                    owned = (companies[rng.randrange(i + 1, len(companies))] if rng.random() < 0.4
                             else rng.choice(estates))
                link(kind, owner, owned, {"percentage": [str(rng.choice([10, 25, 33.3, 50, 51, 60, 75, 100]))]})
            elif kind == "Control":
                link(kind, rng.choice(legal), rng.choice(estates + companies[:1000]))
            elif kind == "Directorship":
                link(kind, rng.choice(persons), rng.choice(companies))
            elif kind == "Family":
                a, b = rng.sample(persons, 2)
                link(kind, a, b)
            elif kind == "Associate":
                a, b = rng.sample(legal, 2)
                link(kind, a, b)
            elif kind == "Employment":
                link(kind, rng.choice(persons), rng.choice(companies))
            elif kind == "Membership":
                link(kind, rng.choice(persons), rng.choice(groups["Organization"]))
            else:
                link(kind, rng.choice(estates), rng.choice(groups["Municipality"]))

    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany(
                "INSERT INTO entities (id, kind, caption, properties, created_at, updated_at, created_by, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ent_rows)
            conn.executemany(
                "INSERT INTO links (id, kind, source_id, target_id, properties, start_date, end_date, created_at, "
                "updated_at, created_by, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", link_rows)
            conn.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, ?)", (GENESIS,))
    finally:
        conn.close()
    return {"entities": len(ent_rows), "links": len(link_rows), "persons": persons, "companies": companies}


def _time(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def run_benchmark(entities: int = 100_000, links: int = 300_000, samples: int = 200, seed: int = 7,
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    from workbench.graph import analysis, projection
    from workbench.store import entities as services
    from workbench.store.db import dispose_all, session_scope
    from workbench.store.permissions import SYSTEM

    say = progress or (lambda message: None)
    report: dict[str, Any] = {"data": "synthetic, bulk-inserted into a temporary SQLite database in one transaction "
                                      "(bypassing the domain services)"}
    with tempfile.TemporaryDirectory(prefix="wb-bench-graph-") as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        say(f"generating {entities} entities and {links} links ...")
        gen_s, generated = _time(lambda: generate(path, entities, links, seed))
        report.update(entities=generated["entities"], links=generated["links"], generate_s=round(gen_s, 2))

        # Baseline: read the same rows with sqlite3 and build a bare MultiDiGraph (no attributes, no schema).
        def bare() -> nx.MultiDiGraph:
            conn = sqlite3.connect(path)
            gc.disable()  # the same treatment the projection gets
            try:
                g = nx.MultiDiGraph()
                g.add_nodes_from(row[0] for row in conn.execute("SELECT id FROM entities"))
                g.add_edges_from(conn.execute("SELECT source_id, target_id, id FROM links"))
                return g
            finally:
                gc.enable()
                conn.close()

        say("building the projection ...")
        gc.collect()
        rss0 = _rss_mb()
        projection.forget(url)
        with session_scope(url) as s:
            build_s, proj = _time(lambda: projection.projection_for(s))
        gc.collect()
        rss1 = _rss_mb()
        bare_s, bare_graph = _time(bare)
        del bare_graph
        gc.collect()
        graph = proj.graph
        report["build"] = {
            "projection_s": round(build_s, 3), "baseline_bare_networkx_s": round(bare_s, 3),
            "rss_increase_mb": round(rss1 - rss0, 1), "peak_rss_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "target_s": TARGET_BUILD_S,
        }

        rng = random.Random(seed + 1)
        persons, companies = generated["persons"], generated["companies"]
        starts = [rng.choice(persons if rng.random() < 0.7 else companies) for _ in range(samples)]
        designated = proj.designated
        undirected = graph.to_undirected(as_view=True)
        kinds = analysis.ownership_link_kinds()
        owned = nx.DiGraph()
        owned.add_edges_from((u, v) for u, v, d in graph.edges(data=True) if d["kind"] in kinds)

        def baseline_path(start: str):
            if start in designated:
                return start
            for _, v in nx.bfs_edges(undirected, start, depth_limit=6):
                if v in designated:
                    return v
            return None

        queries: dict[str, tuple[Callable[[Any, str], Any], Callable[[str], Any], str]] = {
            "ego_network_depth2": (lambda s, e: analysis.ego_network(s, e, depth=2),
                                   lambda e: nx.single_source_shortest_path_length(undirected, e, cutoff=2),
                                   "nx single_source_shortest_path_length(cutoff=2) on an undirected view"),
            "path_to_designated": (lambda s, e: analysis.path_to_designated(s, e, max_length=6),
                                   baseline_path, "nx bfs_edges(depth_limit=6) until a designated node"),
            "ownership_chains": (lambda s, e: analysis.ownership_chains(s, e, max_depth=6),
                                 lambda e: list(nx.dfs_preorder_nodes(owned, e, depth_limit=6)) if e in owned else [],
                                 "nx dfs_preorder_nodes(depth_limit=6) on an ownership-only DiGraph"),
            "paths_to_designated_4_50": (lambda s, e: analysis.paths_to_designated(s, e, max_length=4, limit=50),
                                         baseline_path, "nx bfs_edges(depth_limit=6) until a designated node"),
        }
        report["queries"] = {}
        with session_scope(url) as s:
            for name, (ours, base, base_label) in queries.items():
                say(f"timing {name} ({samples} queries) ...")
                times, base_times, found = [], [], 0
                for e in starts:
                    elapsed, result = _time(lambda ours=ours, e=e: ours(s, e))
                    times.append(elapsed)
                    if result:
                        found += 1
                    base_elapsed, _ = _time(lambda base=base, e=e: base(e))
                    base_times.append(base_elapsed)
                report["queries"][name] = {
                    "p50_ms": round(_p(times, 0.5), 2), "p95_ms": round(_p(times, 0.95), 2),
                    "max_ms": round(max(times) * 1000, 2), "non_empty": found,
                    "baseline_p50_ms": round(_p(base_times, 0.5), 2),
                    "baseline_p95_ms": round(_p(base_times, 0.95), 2), "baseline": base_label,
                    "target_p95_ms": TARGET_P95_MS if name != "paths_to_designated_4_50" else None,
                }

        say("timing an incremental refresh after one edit ...")
        with session_scope(url) as s:
            a, b = rng.sample(persons, 2)
            services.create_link(s, SYSTEM, "Associate", a, b)
        with session_scope(url) as s:
            refresh_s, refreshed = _time(lambda: projection.projection_for(s))
            report["refresh_after_edit"] = {
                "incremental_ms": round(refresh_s * 1000, 2), "rebuilds": refreshed.rebuilds,
                "edge_present": refreshed.graph.has_edge(a, b),
            }
        projection.forget(url)
        dispose_all()
    return report


def print_report(report: dict[str, Any], console) -> None:
    from rich.table import Table

    build = report["build"]
    console.print(f"graph: {report['entities']} entities, {report['links']} links; data: {report['data']} "
                  f"(generated in {report['generate_s']} s)", highlight=False)
    ok = "ok" if build["projection_s"] <= build["target_s"] else "MISSED"
    console.print(
        f"projection build: {build['projection_s']} s (target <= {build['target_s']} s: {ok}); "
        f"baseline bare networkx build from the same rows: {build['baseline_bare_networkx_s']} s; "
        f"memory: +{build['rss_increase_mb']} MB RSS (peak process RSS {build['peak_rss_mb']} MB); "
        f"{build['nodes']} nodes, {build['edges']} edges", highlight=False)
    table = Table(title="Query latency (ms)")
    for column in ("query", "p50", "p95", "max", "target p95", "non-empty", "nx p50", "nx p95"):
        table.add_column(column)
    for name, row in report["queries"].items():
        target = row["target_p95_ms"]
        verdict = "-" if target is None else f"<= {target:g} ({'ok' if row['p95_ms'] <= target else 'MISSED'})"
        table.add_row(name, f"{row['p50_ms']}", f"{row['p95_ms']}", f"{row['max_ms']}", verdict,
                      str(row["non_empty"]), f"{row['baseline_p50_ms']}", f"{row['baseline_p95_ms']}")
    console.print(table)
    for name, row in report["queries"].items():
        console.print(f"  baseline for {name}: {row['baseline']}", highlight=False)
    refresh = report["refresh_after_edit"]
    console.print(f"incremental refresh after one edit (audit log replay): {refresh['incremental_ms']} ms "
                  f"(rebuilds so far: {refresh['rebuilds']}; edge present: {refresh['edge_present']})",
                  highlight=False)
