"""``workbench dossier list | show | export``: read and export candidate packages from the console.

Workflow moves are not offered here: the CLI acts as an administrator, and only reviewers, signed
in as themselves, may approve, return or reject a dossier.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from workbench.output import OutputError, write_output


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    from workbench.cli import console, fail, labelled, open_database, run_guarded, session

    dossier_app = typer.Typer(help="Candidate designation dossiers: list, show, export.", no_args_is_help=True)
    app.add_typer(dossier_app, name="dossier")

    @dossier_app.command("list")
    def list_cmd(
        state: str | None = typer.Option(None, "--state", help="Only dossiers in this state."),
        as_json: bool = typer.Option(False, "--json", help="One JSON array."),
    ) -> None:
        """List dossiers with their state, package number, target and legal basis (--json adds the row version the
        JSON API takes as `version`)."""
        from workbench.dossiers.service import list_dossiers

        open_database()
        with session() as s:
            rows = run_guarded(list_dossiers, s, state)
            # As the JSON API names them: `number` the package's version (1, 2, ...), `version` the row version a
            # change through the API sends back (a script passing the package number got 409).
            data = [{"id": d.id, "title": d.title, "state": d.state, "number": d.number, "version": d.version,
                     "target_id": d.target_id,
                     "legal_basis": d.legal_basis, "fictional": d.fictional, "snapshot_hash": d.snapshot_hash,
                     "created_by": d.created_by, "updated_at": d.updated_at.isoformat() if d.updated_at else None}
                    for d in rows]
        if as_json:
            sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
            return
        table = Table(title=f"Dossiers ({len(data)})")
        table.add_column("id", overflow="fold")  # the full id is what `show` and `export` take
        for col in ("title", "state", "number", "target", "basis"):
            table.add_column(col, overflow="fold")
        for d in data:
            table.add_row(d["id"], d["title"], d["state"], str(d["number"]), d["target_id"], d["legal_basis"])
        console.print(table)

    @dossier_app.command("show")
    def show_cmd(dossier_id: str = typer.Argument(..., help="Dossier id")) -> None:
        """The dossier's summary: basis, target, completeness, exhibits, history."""
        from workbench.dossiers.evidence import accepted_chains
        from workbench.dossiers.exports import document
        from workbench.dossiers.service import get_dossier

        open_database()
        with session() as s:
            doc = run_guarded(lambda: document(s, get_dossier(s, dossier_id)))
        meta = doc["meta"]
        console.print(meta["banner"], style="bold", highlight=False)
        if meta["fictional_banner"]:
            console.print(meta["fictional_banner"], style="bold yellow", highlight=False)
        console.print(labelled(meta["title"], "bold", f" ({meta['dossier_id']})"), highlight=False)
        console.print(f"state {meta['state']}, version {meta['version']}"
                      + (f"; {meta['decision']['words']}" if meta.get("decision") else ""), highlight=False)
        if meta["frozen"]:  # two documents, two hashes: what the reviewer approved, and that with the approval
            if meta.get("reviewed_hash"):
                console.print(f"content sha256 reviewed {meta['reviewed_hash']}", highlight=False)
            console.print(f"frozen snapshot sha256 {meta['snapshot_hash']} (the reviewed content with the approval "
                          "added)", highlight=False)
        else:
            console.print(f"content sha256 {meta['snapshot_hash']} (live: what an approval is checked against)",
                          highlight=False)
        console.print(f"basis: {doc['legal_basis']['label']} ({doc['legal_basis']['citation']})", highlight=False)
        console.print(f"target: {doc['target']['caption']} ({doc['target']['kind']}, {doc['target']['id']})",
                      highlight=False)
        result = doc["completeness"]
        console.print("complete" if result["complete"] else labelled("incomplete", "red", ":"))
        for item in result["missing"]:
            console.print(f"  - {item}", highlight=False)
        for check in result.get("checks", []):  # what the page and the exports warn of, complete or not
            for warning in check.get("warnings", []):
                console.print(labelled("  warning:", "yellow", warning), highlight=False)
        table = Table(title="Exhibits")
        for col in ("#", "element", "type", "statement", "cites", "source", "releasable"):
            table.add_column(col)
        for ex in doc["exhibits"]:
            cites = ex.get("cites")  # what its citation cites, as the page and the summaries say it
            cited = (cites["about"] + (f" ({cites['note']})" if cites["note"] else "")) if cites \
                else "the source as a whole"
            table.add_row(str(ex["number"]), ex["element"], ex["statement_type"], ex["statement"], Text(cited),
                          ex["source"]["title"], "yes" if ex["source"]["releasable"] else "NO")
        console.print(table)
        qualifying = accepted_chains(doc["designated_links"])
        console.print(f"designated parties linked: {len(doc['designated_links'])} ({qualifying} by a chain this basis "
                      f"accepts); assets to block: {len(doc['assets'])}", highlight=False)
        for e in doc["events"]:
            console.print(f"  {e['at'][:19]}  {e['event']:<14} {e['user']:<16} {e['comment'] or ''}", highlight=False)

    @dossier_app.command("export")
    def export_cmd(
        dossier_id: str = typer.Argument(..., help="Dossier id"),
        fmt: str = typer.Option(..., "--format", "-f", help="html, pdf, md, json, ftm, assets-csv or visa-csv"),
        output: Path | None = typer.Option(None, "-o", "--output", help="Write to this file (default: stdout)."),
        releasable: bool = typer.Option(False, "--releasable", help="Leave out material from unreleasable sources."),
    ) -> None:
        """Export a dossier (case summary, machine-readable package, or blocking / visa lists)."""
        from workbench.dossiers.exports import FORMATS, export_dossier

        if fmt not in FORMATS:
            fail(f"unknown format {fmt!r}: use {', '.join(FORMATS)}", 2)
        if fmt == "pdf" and output is None and sys.stdout.isatty():
            fail("a PDF is binary: give -o FILE", 2)
        open_database()
        with session() as s:
            result = run_guarded(export_dossier, s, dossier_id, fmt, releasable)
        if output is None:
            sys.stdout.buffer.write(result.content)
            sys.stdout.flush()
            return
        try:
            write_output(output, result.content)
        except OutputError as exc:
            fail(str(exc), 2)
        except OSError as exc:  # a full disk: the file named is left as it was
            fail(f"cannot write {output}: {exc.strerror}; nothing was written there", 2)
        console.print(f"wrote {output} ({len(result.content)} bytes, {fmt}{', releasable' if releasable else ''})",
                      highlight=False)
