"""Exports load back with networkx (GEXF is valid XML) and the ``workbench graph`` commands work."""

from __future__ import annotations

import io
import json

import networkx as nx
import pytest
from defusedxml import ElementTree
from typer.testing import CliRunner

from workbench.cli import app
from workbench.graph import projection
from workbench.graph.export import export_bytes


def _load(fmt: str, data: bytes) -> nx.Graph:
    if fmt == "graphml":
        return nx.read_graphml(io.BytesIO(data))
    if fmt == "gexf":
        return nx.read_gexf(io.BytesIO(data))
    return nx.node_link_graph(json.loads(data), edges="edges")


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_whole_network_export_loads_back(session, network, fmt):
    data = export_bytes(session, fmt)
    loaded = _load(fmt, data)
    graph = projection.graph_for(session)
    assert set(loaded.nodes) == set(graph.nodes)
    assert loaded.number_of_edges() == graph.number_of_edges()
    assert loaded.is_directed()
    node = loaded.nodes["x-boss"]
    assert node["kind"] == "Person" and node["designated"] in (True, "true")
    assert loaded.nodes["h1"]["designated"] in (False, "false")
    ownership = [d for _, _, d in loaded.edges(data=True) if d.get("kind") == "Ownership"]
    assert sorted(float(d["percentage"]) for d in ownership) == [25.0, 40.0, 50.0, 60.0, 100.0]
    if fmt == "gexf":
        root = ElementTree.fromstring(data)
        assert root.tag.endswith("gexf")


def test_neighbourhood_export(session, network):
    data = export_bytes(session, "json", around="b-police", depth=1)
    loaded = _load("json", data)
    assert set(loaded.nodes) == {"b-police", "z-member", "w-fixer", "pos-police-cln"}
    keys = {k for _, _, k in loaded.edges(keys=True)}
    assert keys == {network["b_z"], network["b_w"], network["w_z"],
                    next(k for u, v, k in projection.graph_for(session).edges(keys=True)
                         if u == "b-police" and v == "pos-police-cln")}


def test_cli_path_exposure_export(network, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # so that Rich does not wrap names in table cells
    runner = CliRunner()
    result = runner.invoke(app, ["graph", "path", "Bruno Police", "x-boss"])
    assert result.exit_code == 0, result.output
    assert "2 link(s) from Bruno Police to Xavier Boss (designated)" in result.output
    assert "Walter Fixer" in result.output

    result = runner.invoke(app, ["graph", "path", "Bruno Police", "Zeta Member"])
    assert result.exit_code == 0, result.output
    assert "Press report on Z" in result.output and "B was seen with Z" in result.output

    result = runner.invoke(app, ["graph", "path", "Carlos Governor", "x-boss"])
    assert result.exit_code == 1 and "no path between Carlos Governor and Xavier Boss" in result.output
    # With --json a script gets the API's answer to parse (QA round 14: it got no JSON at all), still exit 1.
    result = runner.invoke(app, ["graph", "path", "Carlos Governor", "x-boss", "--json"])
    assert result.exit_code == 1 and json.loads(result.stdout.splitlines()[0])["found"] is False
    result = runner.invoke(app, ["graph", "path", "Bruno Police", "x-boss", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["found"] is True

    result = runner.invoke(app, ["graph", "path", "Nobody", "x-boss"])
    assert result.exit_code == 2 and "no entity with id or name 'Nobody'" in result.output  # an input error

    result = runner.invoke(app, ["graph", "exposure", "--state", "Sinaloa", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["entity_id"] for r in rows] == ["a-mayor", "b-police", "e-treasurer", "c-governor"]

    result = runner.invoke(app, ["graph", "exposure"])
    assert result.exit_code == 0 and "Diego Uruapan" in result.output

    out = tmp_path / "around.gexf"
    result = runner.invoke(app, ["graph", "export", "--format", "gexf", "--around", "Bruno Police", "--depth", "2",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    loaded = nx.read_gexf(out)
    assert {"b-police", "x-boss", "k-cartel", "e-treasurer"} <= set(loaded.nodes)

    result = runner.invoke(app, ["graph", "export", "--format", "dot"])
    assert result.exit_code == 2 and "unknown format 'dot'" in result.output

    result = runner.invoke(app, ["graph", "ownership", "Alma Mayor", "--json"])
    assert result.exit_code == 0, result.output
    assert [(c["asset_id"], c["effective_percentage"]) for c in json.loads(result.stdout)] == [
        ("h2", 100.0), ("co2", 60.0), ("h1", 30.0), ("co3", 24.0), ("h3", 6.0), ("v1", None)]


def test_cli_prints_names_literally(session, researcher, network, monkeypatch):
    from workbench.store import entities as svc

    monkeypatch.setenv("COLUMNS", "200")
    svc.create_entity(session, researcher, "Person", {"name": "Ana [red]Roja[/red]"}, entity_id="ana")
    svc.create_link(session, researcher, "Associate", "ana", "x-boss")
    session.commit()
    result = CliRunner().invoke(app, ["graph", "path", "ana", "x-boss"])
    assert result.exit_code == 0, result.output
    assert "Ana [red]Roja[/red] --associate of--> Xavier Boss" in result.output


def test_cli_path_takes_names_as_people_type_them(session, researcher, network, monkeypatch):
    """A FICTIONAL caption had to be typed in full, accents and '(FICTIONAL)' included; now the start of
    a name in any case and accents, or a near spelling, finds the entity, and otherwise the command says
    whom the user may have meant (exit 2, an input error)."""
    from workbench.store import entities as svc

    monkeypatch.setenv("COLUMNS", "200")
    svc.create_entity(session, researcher, "Person", {"name": "José María Villaseñor Ibarra (FICTIONAL)"},
                      entity_id="jm-fictional")
    svc.create_link(session, researcher, "Associate", "jm-fictional", "x-boss")
    session.commit()
    runner = CliRunner()

    found = runner.invoke(app, ["graph", "path", "jose maria villasenor", "XAVIER"])
    assert found.exit_code == 0, found.output
    assert "1 link(s) from José María Villaseñor Ibarra (FICTIONAL) to Xavier Boss (designated)" in found.output

    misspelt = runner.invoke(app, ["graph", "path", "Walter Fixxer", "Xavier Boss"])
    assert misspelt.exit_code == 0, misspelt.output
    assert "1 link(s) from Walter Fixer to Xavier Boss" in misspelt.output

    ambiguous = runner.invoke(app, ["graph", "path", "ma", "x-boss"])
    assert ambiguous.exit_code == 2
    assert "'ma' begins the names of 3 entities" in ambiguous.output
    for line in ("m-brother  Person  Mario Brother", "pos-mayor-cln  Position  Mayor of Culiacán",
                 "pos-mayor-upn  Position  Mayor of Uruapan"):
        assert line in ambiguous.output

    near = runner.invoke(app, ["graph", "path", "Carlos Gobernador", "x-boss"])
    assert near.exit_code == 2
    assert "no entity with id or name 'Carlos Gobernador'; did you mean:" in near.output
    assert "c-governor  Person  Carlos Governor" in near.output

    nothing = runner.invoke(app, ["graph", "path", "x-boss", "Zzyzx Qwerty"])
    assert nothing.exit_code == 2 and "no entity with id or name 'Zzyzx Qwerty'" in nothing.output


def test_cli_refuses_options_it_would_otherwise_ignore_or_misread(network, monkeypatch):
    """A path length below 1 used to print 'no path within -3 links'; --depth without --around was
    silently ignored (the whole network came back). Both are input errors now (exit 2)."""
    runner = CliRunner()
    for args in (["graph", "path", "Bruno Police", "x-boss", "--max-length", "0"],
                 ["graph", "exposure", "--max-length", "-1"],
                 ["graph", "communities", "--depth", "5"],
                 ["graph", "export", "--format", "json", "--depth", "3"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
    assert "--around" in runner.invoke(app, ["graph", "communities", "--depth", "5"]).output
    result = runner.invoke(app, ["graph", "communities", "--around", "Bruno Police", "--depth", "1", "--json"])
    assert result.exit_code == 0 and "b-police" in result.stdout


def test_cli_tables_keep_whole_names_at_80_columns(session, researcher, network, monkeypatch):
    """Piped output is 80 columns wide: a name's '(FICTIONAL)' label used to end as '(FICTI…'."""
    from workbench.store import entities as svc

    monkeypatch.setenv("COLUMNS", "80")
    svc.update_entity(session, researcher, "a-mayor", {"name": ["Alma Mayor de la Ciudad Imaginaria (FICTIONAL)"]})
    session.commit()
    runner = CliRunner()
    for args in (["graph", "exposure", "--state", "Sinaloa"], ["graph", "ownership", "a-mayor"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "…" not in result.output and "(FICTIONAL)" in result.output, result.output  # never split


def test_cli_exposure_of_a_state_without_officials_names_the_state(session, researcher, network):
    from workbench.store import entities as svc

    svc.create_entity(session, researcher, "Territory", {"name": "Colima", "level": "state"}, entity_id="colima")
    session.commit()
    result = CliRunner().invoke(app, ["graph", "exposure", "--state", "Colima"])
    assert result.exit_code == 0 and "no officials found in Colima" in result.output
