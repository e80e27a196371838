"""``workbench graph ...`` commands and ``workbench bench graph``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from workbench.output import OutputError, write_output


def _caption(session, entity_id: str | None) -> str:
    from workbench.store.models import Entity

    if entity_id is None:
        return "-"
    entity = session.get(Entity, entity_id)
    return entity.caption if entity else entity_id


ENTITY_HELP = "Entity id or name (its start, in any case and accents, or a near spelling)"


def _resolve(session, ref: str) -> str:
    """An entity named on the command line (id, name, its start or a misspelling): an unknown or ambiguous
    name is an input error (exit 2) that lists the entities the user may have meant."""
    from rich.markup import escape

    from workbench.cli import fail
    from workbench.graph.analysis import UnknownEntity, resolve_entity
    from workbench.schema import ValidationError

    try:
        return resolve_entity(session, ref)
    except (UnknownEntity, ValidationError) as exc:
        if isinstance(exc, UnknownEntity):
            message = str(exc)
        else:
            message = "; ".join(m for messages in exc.errors.values() for m in messages)
        fail(escape(message), 2)
        raise  # fail() has exited already


def _depth_with_around(around: str | None, depth: int | None, default: int) -> int:
    """--depth bounds the neighbourhood of --around: alone it would be ignored, so it is refused."""
    from workbench.cli import fail

    if depth is not None and not around:
        fail("--depth only applies with --around ENTITY (without it the whole network is used)", 2)
    return default if depth is None else depth


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    from rich.markup import escape

    from workbench.cli import console, fail, open_database, run_guarded, session

    graph_app = typer.Typer(help="Network analysis: paths, exposure, ownership, communities, exports.",
                            no_args_is_help=True)
    app.add_typer(graph_app, name="graph")

    @graph_app.command("path")
    def path_cmd(
        a: str = typer.Argument(..., help=ENTITY_HELP),
        b: str = typer.Argument(..., help=ENTITY_HELP),
        max_length: int = typer.Option(8, "--max-length", min=1, help="Longest path to look for (links)."),
        as_json: bool = typer.Option(False, "--json", help="Print the path as JSON."),
    ) -> None:
        """The shortest chain of relationships between A and B, with each link's sources."""
        from workbench.graph.analysis import PATHS_AVOID, shortest_path

        open_database()
        with session() as s:
            source_id = _resolve(s, a)
            target_id = _resolve(s, b)
            if source_id == target_id:  # e.g. two names of one entity, or a duplicate merged into it
                fail(f"{escape(repr(a))} and {escape(repr(b))} are the same entity "
                     f"({escape(_caption(s, source_id))}, {escape(source_id)}): give two different ones", 2)
            result = run_guarded(shortest_path, s, source_id, target_id, max_length)
            if as_json:  # the API's answer; no path still exits 1, as grep does when nothing matches
                answer = {"found": True, **result.as_dict()} if result else \
                    {"found": False, "nodes": [], "steps": [], "designated_id": None, "length": None}
                sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
            if result is None:
                fail(f"no path between {escape(_caption(s, source_id))} and {escape(_caption(s, target_id))} "
                     f"within {max_length} links ({PATHS_AVOID})")
            if as_json:
                return
            console.print(f"{result.length} link(s) from {_caption(s, source_id)} to {_caption(s, target_id)}"
                          + (" (designated)" if result.designated_id else ""), highlight=False, markup=False)
            for number, step in enumerate(result.steps, start=1):
                console.print(f"{number}. {_caption(s, step['source'])} --{step['label']}--> "
                              f"{_caption(s, step['target'])}  [link {step['link_id']}]", highlight=False, markup=False)
                if not step["citations"]:
                    console.print("     no source cited for this link", style="yellow", markup=False)
                for cite in step["citations"]:
                    where = cite["url"] or cite["source_id"]
                    excerpt = f' "{cite["excerpt"]}"' if cite["excerpt"] else ""
                    console.print(f"     source: {cite['title']} ({where}){excerpt}", highlight=False, markup=False)

    @graph_app.command("exposure")
    def exposure_cmd(
        state: str | None = typer.Option(None, "--state", help="Only this state (id, name or the start of its name)."),
        as_json: bool = typer.Option(False, "--json", help="One JSON array."),
        max_length: int = typer.Option(4, "--max-length", min=1, help="Longest path counted (links)."),
    ) -> None:
        """Officials ranked per state by exposure to designated parties and centrality."""
        from workbench.graph.analysis import UnknownState, exposure

        def ranked(s):
            try:
                return exposure(s, state, max_length)
            except UnknownState as exc:  # a name the user typed, like an unknown entity: bad input (exit 2)
                fail(escape(str(exc)), 2)

        open_database()
        with session() as s:
            rows = run_guarded(ranked, s)
        if as_json:
            sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
            return
        if not rows:
            where = f" in {state}" if state else ""
            console.print(f"no officials found{where} (a Person with an Occupancy link to a Position)",
                          highlight=False, markup=False)
            return
        # Light borders, so that names get the width at 80 columns (piped output) and wrap between words.
        table = Table(title="Exposure of officials to designated parties", box=box.SIMPLE_HEAD, padding=(0, 1),
                      pad_edge=False)
        table.caption = ("#: rank in the state; links: distance to the nearest designated party; paths: independent "
                         "paths; centr.: betweenness centrality")
        # Names wrap at word breaks rather than lose their '(FICTIONAL)' label to an ellipsis; the short
        # figures keep one line each, so the names get the width.
        for column in ("state", "#", "official", "positions", "links", "paths", "nearest designated", "centr."):
            short = column in ("#", "links", "paths", "centr.")
            table.add_column(column, overflow="fold", no_wrap=short, ratio=None if short else 1)
        for row in rows:
            table.add_row(*map(Text, (
                row["state"] or "(no state)", str(row["rank"]), row["caption"] or row["entity_id"],
                "; ".join(p or "" for p in row["positions"]),
                "-" if row["distance"] is None else str(row["distance"]), str(row["independent_paths"]),
                row["nearest_designated"] or "-", f"{row['centrality']:.4f}")))
        console.print(table)

    @graph_app.command("ownership")
    def ownership_cmd(
        entity: str = typer.Argument(..., help=ENTITY_HELP),
        max_depth: int = typer.Option(6, "--max-depth", min=1, help="Longest ownership chain followed."),
        as_json: bool = typer.Option(False, "--json", help="One JSON array."),
    ) -> None:
        """Ownership and control chains from an entity to assets and the companies it holds, with
        effective ownership (what a dossier lists as assets to block)."""
        from workbench.graph.analysis import ownership_chains

        open_database()
        with session() as s:
            entity_id = _resolve(s, entity)
            chains = run_guarded(ownership_chains, s, entity_id, max_depth)
            if as_json:
                sys.stdout.write(json.dumps([c.as_dict() for c in chains], ensure_ascii=False) + "\n")
                return
            if not chains:
                console.print(f"{_caption(s, entity_id)} owns or controls no recorded asset or company", markup=False)
                return
            table = Table(title=Text(f"Assets and companies owned or controlled by {_caption(s, entity_id)}"))
            for column in ("asset or company", "effective %", "chain"):
                table.add_column(column, overflow="fold")
            for chain in chains:
                pct = "unknown" if chain.effective_percentage is None else f"{chain.effective_percentage:g}"
                hops = " > ".join(_caption(s, n) for n in chain.nodes)
                table.add_row(Text(_caption(s, chain.asset_id)), Text(pct + (" (ended)" if chain.ended else "")),
                              Text(hops))
            console.print(table)

    @graph_app.command("communities")
    def communities_cmd(
        around: str | None = typer.Option(None, "--around", help="Only this entity's neighbourhood."),
        depth: int | None = typer.Option(None, "--depth", min=0, help="Neighbourhood depth (with --around; "
                                                                            "default 2)."),
        as_json: bool = typer.Option(False, "--json", help="One JSON array."),
    ) -> None:
        """Louvain communities of the relational network (e.g. the cells of a cartel network)."""
        from workbench.graph.analysis import communities

        depth = _depth_with_around(around, depth, 2)
        open_database()
        with session() as s:
            around_id = _resolve(s, around) if around else None
            groups = run_guarded(communities, s, around_id, depth)
            none = (f"no communities around {_caption(s, around_id)} within {depth} link(s)" if around_id
                    else "no communities: the network holds no relationship between parties yet")
        if as_json:
            sys.stdout.write(json.dumps(groups, ensure_ascii=False) + "\n")
            return
        if not groups:
            console.print(none, highlight=False, markup=False)
            return
        for group in groups:
            names = ", ".join(c or m for c, m in zip(group["captions"][:12], group["members"][:12]))
            more = f" and {group['size'] - 12} more" if group["size"] > 12 else ""
            console.print(f"community {group['id']} ({group['size']} entities, {len(group['designated'])} "
                          f"designated): {names}{more}", highlight=False, markup=False)

    @graph_app.command("export")
    def export_cmd(
        fmt: str = typer.Option(..., "--format", help="graphml, gexf or json"),
        around: str | None = typer.Option(None, "--around", help="Export only this entity's neighbourhood."),
        depth: int | None = typer.Option(None, "--depth", min=0, help="Neighbourhood depth (with --around; "
                                                                            "default 1)."),
        output: Path | None = typer.Option(None, "-o", "--output", help="File to write (default: stdout)."),
    ) -> None:
        """Export the network (or a neighbourhood) as GraphML, GEXF or node-link JSON."""
        from workbench.graph.export import export_bytes

        depth = _depth_with_around(around, depth, 1)
        open_database()
        with session() as s:
            around_id = _resolve(s, around) if around else None
            data = run_guarded(export_bytes, s, fmt.lower(), around_id, depth)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        try:
            write_output(output, data)
        except OutputError as exc:
            fail(str(exc), 2)
        except OSError as exc:  # a full disk: the file named is left as it was
            fail(f"cannot write {output}: {exc.strerror}; nothing was written there", 2)
        console.print(f"wrote {output} ({len(data)} bytes, {fmt.lower()})", highlight=False, markup=False)

    @bench_app.command("graph")
    def bench_graph(
        entities: int = typer.Option(100_000, "--entities", help="Entities in the generated graph."),
        links: int = typer.Option(300_000, "--links", help="Links in the generated graph."),
        samples: int = typer.Option(200, "--samples", help="Queries timed per analysis."),
        seed: int = typer.Option(7, "--seed", help="Seed of the generated graph (the same seed, the same graph)."),
        as_json: bool = typer.Option(False, "--json", help="The figures as one JSON object."),
    ) -> None:
        """Projection build, memory and query p95 on a generated graph, beside plain networkx BFS."""
        from workbench.graph.bench import print_report, run_benchmark

        report = run_benchmark(entities=entities, links=links, samples=samples, seed=seed,
                               progress=None if as_json else console.print)
        if as_json:
            sys.stdout.write(json.dumps(report) + "\n")
        else:
            print_report(report, console)
