"""QA round 3: backup/restore on damaged or hostile archives, the graph commands as a user reads them,
the audit check on a database edited by hand, and `stats` / `serve` options. Each test fails without
its fix. The demo data is FICTIONAL where it names a target."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import networkx as nx
import pytest
from defusedxml import ElementTree
from sqlalchemy import select, text
from typer.testing import CliRunner

from workbench.cli import app
from workbench.settings import get_settings
from workbench.store.db import get_engine, session_scope
from workbench.store.entities import create_source
from workbench.store.models import Base
from workbench.store.permissions import SYSTEM

runner = CliRunner()


def _snapshot(url: str) -> dict:
    with get_engine(url).connect() as conn:
        return {table.name: sorted(json.dumps(dict(row), sort_keys=True, default=str)
                                   for row in conn.execute(select(table)).mappings())
                for table in Base.metadata.sorted_tables}


def _empty(url: str) -> bool:
    return all(not rows for rows in _snapshot(url).values())


def _wipe(url: str) -> None:
    with get_engine(url).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def demo_backup(db_url, tmp_path) -> Path:
    """A backup of the demo database with one stored file, and the database emptied afterwards."""
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    sha = hashlib.sha256(b"%PDF-1.4 FICTIONAL deed").hexdigest()
    stored = get_settings().files_dir / sha[:2] / sha
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"%PDF-1.4 FICTIONAL deed")
    with session_scope(db_url) as s:
        create_source(s, SYSTEM, title="FICTIONAL uploaded deed", sha256=sha, file_name="deed.pdf")
    archive = tmp_path / "demo-backup.zip"
    result = runner.invoke(app, ["backup", str(archive)])
    assert result.exit_code == 0, result.output
    _wipe(db_url)
    stored.unlink()
    return archive


def _rewrite(archive: Path, target: Path, change) -> Path:
    """A copy of the archive with ``change(name, data) -> (name, data) | None`` applied to every member,
    the manifest's checksums kept as they were unless ``change`` edits manifest.json itself."""
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            changed = change(item.filename, src.read(item.filename))
            if changed is not None:
                dst.writestr(changed[0], changed[1])
    return target


# --- backup / restore ---------------------------------------------------------------------------

def test_backup_to_a_folder_or_a_missing_folder_is_a_message_not_a_traceback(db_url, tmp_path):
    assert runner.invoke(app, ["init"]).exit_code == 0
    into_folder = runner.invoke(app, ["backup", str(tmp_path)])
    assert into_folder.exit_code == 2, into_folder.output
    assert f"{tmp_path} is a folder" in into_folder.output and "Traceback" not in into_folder.output
    assert not Path(str(tmp_path) + ".partial").exists()  # no half-written archive left beside it

    missing = tmp_path / "no-such-folder" / "b.zip"
    result = runner.invoke(app, ["backup", str(missing)])
    assert result.exit_code == 2 and f"cannot write {missing}" in result.output
    assert "Traceback" not in result.output


def test_corrupted_member_is_named_with_the_file_and_exit_2(db_url, tmp_path, demo_backup):
    """A flipped byte inside a compressed member failed zip's CRC check with a traceback."""
    data = bytearray(demo_backup.read_bytes())
    with zipfile.ZipFile(demo_backup) as archive:
        info = archive.getinfo("tables/audit_log.jsonl")
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    data[offset] ^= 0xFF
    damaged = tmp_path / "flipped.zip"
    damaged.write_bytes(bytes(data))

    result = runner.invoke(app, ["restore", str(damaged)])
    assert result.exit_code == 2, result.output
    assert str(damaged) in result.output and "tables/audit_log.jsonl" in result.output
    assert "damaged" in result.output and "Traceback" not in result.output
    assert _empty(db_url)


def test_truncated_archive_exits_2_and_leaves_the_database_empty(db_url, tmp_path, demo_backup):
    data = demo_backup.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, ["restore", str(truncated)])
    assert result.exit_code == 2, result.output
    assert str(truncated) in result.output and "truncated" in result.output
    assert _empty(db_url)


def test_missing_member_and_unreadable_manifest_are_named(db_url, tmp_path, demo_backup):
    no_links = _rewrite(demo_backup, tmp_path / "no-links.zip",
                        lambda name, data: None if name == "tables/links.jsonl" else (name, data))
    result = runner.invoke(app, ["restore", str(no_links)])
    assert result.exit_code == 2 and "tables/links.jsonl is missing" in result.output, result.output

    bad_manifest = _rewrite(demo_backup, tmp_path / "bad-manifest.zip",
                            lambda name, data: (name, b"{not json") if name == "manifest.json" else (name, data))
    result = runner.invoke(app, ["restore", str(bad_manifest)])
    assert result.exit_code == 2 and "manifest.json is not valid JSON" in result.output, result.output
    assert "Traceback" not in result.output
    assert _empty(db_url)


def test_a_stored_file_named_outside_the_files_folder_is_refused(db_url, tmp_path, demo_backup):
    """The manifest's file names were joined to the files folder as given: '../../x' wrote anywhere."""
    escaped = tmp_path / "escaped.txt"
    relative = "../" * (len(get_settings().files_dir.relative_to(tmp_path).parts)) + "escaped.txt"
    payload = b"written by a hostile archive"

    def plant(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"][relative] = hashlib.sha256(payload).hexdigest()
            return name, json.dumps(manifest).encode()
        return name, data

    hostile = _rewrite(demo_backup, tmp_path / "hostile.zip", plant)
    with zipfile.ZipFile(hostile, "a") as archive:
        archive.writestr(f"files/{relative}", payload)
    result = runner.invoke(app, ["restore", str(hostile)])
    assert result.exit_code == 2, result.output
    assert "points outside the files folder" in result.output
    assert not escaped.exists()
    assert _empty(db_url)


def test_a_refused_restore_writes_no_stored_file(db_url, tmp_path, demo_backup):
    """Files were written before the audit chain was checked, so a refused archive left them behind."""
    def break_chain(name, data):
        if name == "tables/audit_log.jsonl":
            data = data.replace(b'"actor": "cli:', b'"actor": "xli:', 1)
        if name == "manifest.json":  # a consistent but forged archive: checksums recomputed
            return None
        return name, data

    forged = _rewrite(demo_backup, tmp_path / "forged.zip", break_chain)
    with zipfile.ZipFile(demo_backup) as original, zipfile.ZipFile(forged, "a") as archive:
        manifest = json.loads(original.read("manifest.json"))
        audit_rows = archive.read("tables/audit_log.jsonl")
        manifest["tables"]["audit_log"]["sha256"] = hashlib.sha256(audit_rows).hexdigest()
        archive.writestr("manifest.json", json.dumps(manifest))
    result = runner.invoke(app, ["restore", str(forged)])
    assert "audit chain is broken at audit entry 1" in result.output, result.output
    assert not any(p.is_file() for p in get_settings().files_dir.rglob("*"))
    assert result.exit_code == 2 and _empty(db_url)


def test_round_trip_then_restore_over_it_is_refused_with_exit_1(db_url, tmp_path, demo_backup):
    result = runner.invoke(app, ["restore", str(demo_backup)])
    assert result.exit_code == 0, result.output
    assert "1 stored files" in result.output and "audit chain intact" in result.output
    restored = _snapshot(db_url)
    assert len(restored["entities"]) > 30 and restored["links"] and restored["citations"]
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    again = runner.invoke(app, ["restore", str(demo_backup)])
    assert again.exit_code == 1 and "not empty" in again.output  # the database, not the file, is the problem
    assert _snapshot(db_url) == restored


# --- graph commands -----------------------------------------------------------------------------

def test_unknown_state_suggests_the_near_one_or_lists_the_known_ones(network, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    misspelt = runner.invoke(app, ["graph", "exposure", "--state", "Sinalao"])
    assert misspelt.exit_code == 2, misspelt.output
    assert "did you mean Sinaloa?" in misspelt.output
    assert "state: no state" not in misspelt.output  # no field name doubled in front

    elsewhere = runner.invoke(app, ["graph", "exposure", "--state", "Atlantis"])
    assert elsewhere.exit_code == 2
    assert "the states in the network are Michoacán, Sinaloa" in elsewhere.output


def test_state_given_by_the_start_of_its_name(network):
    """The help says 'the start of its name'; only whole words were taken ('Sin' found nothing)."""
    started = runner.invoke(app, ["graph", "exposure", "--state", "Sin", "--json"])
    whole = runner.invoke(app, ["graph", "exposure", "--state", "Sinaloa", "--json"])
    assert started.exit_code == 0, started.output
    assert json.loads(started.stdout) == json.loads(whole.stdout) and json.loads(whole.stdout)


def test_unknown_state_on_a_network_without_states(db_url):
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["graph", "exposure", "--state", "Sinaloa"])
    assert result.exit_code == 2 and "the network holds no state yet" in result.output


def test_communities_of_an_empty_network_say_so(db_url):
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["graph", "communities"])
    assert result.exit_code == 0
    assert "no communities: the network holds no relationship between parties yet" in result.output
    assert json.loads(runner.invoke(app, ["graph", "communities", "--json"]).stdout) == []


def test_communities_around_an_isolated_entity_say_so(network, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["graph", "communities", "--around", "Sinaloa"])
    assert result.exit_code == 0
    assert "no communities around Sinaloa within 2 link(s)" in result.output


def test_path_between_two_names_of_one_entity_says_so(network, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, ["graph", "path", "Xavier Boss", "x-boss"])
    assert result.exit_code == 2, result.output
    assert "are the same entity (Xavier Boss, x-boss)" in result.output
    assert "0 link(s)" not in result.output


def test_gexf_edges_carry_their_link_ids(session, network):
    """networkx numbered GEXF edges 0, 1, 2... and filed the link id under 'networkx_key'."""
    from workbench.graph.export import export_bytes

    data = export_bytes(session, "gexf")
    root = ElementTree.fromstring(data)
    ns = {"g": "http://www.gexf.net/1.2draft"}
    edge_ids = {edge.get("id") for edge in root.iterfind(".//g:edges/g:edge", ns)}
    assert network["b_z"] in edge_ids and network["z_k"] in edge_ids
    titles = {a.get("title") for a in root.iterfind(".//g:attributes/g:attribute", ns)}
    assert "networkx_key" not in titles and "link id" in titles
    loaded = nx.read_gexf(io.BytesIO(data))
    assert loaded.number_of_edges() == len(edge_ids)
    graphml_ids = {e.get("id") for e in ElementTree.fromstring(export_bytes(session, "graphml")).iter()
                   if e.tag.endswith("}edge")}
    assert graphml_ids == edge_ids  # the same edge has the same id in both formats


# --- stats, audit verify, serve ----------------------------------------------------------------

def test_stats_table_shows_kind_labels_and_json_keeps_names(db_url, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    table = runner.invoke(app, ["stats"])
    assert table.exit_code == 0
    assert "entities: People" in table.output and "links: part of" in table.output
    assert "RealEstate" not in table.output and "TerritoryParent" not in table.output
    as_json = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert "TerritoryParent" in as_json["links"] and "Person" in as_json["entities"]


def test_audit_entry_edited_into_unreadable_json_is_a_message(db_url):
    """SQLite keeps whatever text is written into a JSON column by hand; reading it back raised a
    traceback instead of reporting the broken chain."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses text that is not JSON in a JSON column")
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    with get_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE audit_log SET \"after\" = 'not json' WHERE seq = 3"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "audit chain broken at audit entry 3" in result.output and "edited outside the workbench" in result.output
    assert "Traceback" not in result.output


def test_audit_entry_edited_by_hand_is_named(db_url):
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    with get_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 7"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "audit chain broken at audit entry 7" in result.output


def test_serve_refuses_a_port_out_of_range_before_starting():
    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2 and "--port" in result.output
    assert "Traceback" not in result.output
    assert "Address to listen on" in runner.invoke(app, ["serve", "--help"]).output


def test_serve_on_a_busy_port_says_so_with_exit_2():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "another --port" in result.output
    assert "Traceback" not in result.output
