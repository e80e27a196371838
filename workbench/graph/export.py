"""Graph exports (GraphML, GEXF, node-link JSON) of the whole network or one neighbourhood.

GraphML and GEXF open in Gephi, yEd and Cytoscape desktop; the JSON is networkx's node-link
format. All three carry the schema attributes of the projection (kind, caption, link label,
dates, percentage) plus whether each entity is designated; values that are unknown are left
out, because GraphML and GEXF have no null.
"""

from __future__ import annotations

import io
import json
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import networkx as nx
from sqlalchemy.orm import Session

from workbench.graph.analysis import ego_network
from workbench.graph.projection import use_projection
from workbench.schema import ValidationError

FORMATS = ("graphml", "gexf", "json")
# Every file says what it is, as the dossier exports do: a graph opened in Gephi is read far from the workbench.
NOTE = ("Research network exported from the sanctions-target workbench - not an official designation: "
        "links are researchers' entries, each cited to its sources in the workbench")
MEDIA_TYPES = {"graphml": "application/graphml+xml", "gexf": "application/gexf+xml", "json": "application/json"}


def _clean(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if v is not None}


def export_graph(session: Session, around: str | None = None, depth: int = 1) -> nx.MultiDiGraph:
    """A standalone copy of the network (or of the neighbourhood around one entity) for export."""
    ids: list[str] | None = None
    if around is not None:
        ego = ego_network(session, around, depth=depth, max_nodes=10**9)
        ids = [node["data"]["id"] for node in ego["nodes"]]
    with use_projection(session) as proj:
        source = proj.graph if ids is None else proj.graph.subgraph(ids)
        designated = proj.designated
        out = nx.MultiDiGraph(note=NOTE)
        out.add_nodes_from(
            (node, {**_clean(attrs), "label": attrs.get("caption", node), "designated": node in designated})
            for node, attrs in source.nodes(data=True)
        )
        out.add_edges_from((u, v, key, _clean(attrs)) for u, v, key, attrs in source.edges(keys=True, data=True))
    return out


def serialise(graph: nx.MultiDiGraph, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValidationError({"format": [f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}"]})
    if fmt == "json":
        data = nx.node_link_data(graph, edges="edges")
        return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    buffer = io.BytesIO()
    if fmt == "graphml":
        nx.write_graphml(graph, buffer, encoding="utf-8")
        return buffer.getvalue()
    nx.write_gexf(_with_link_ids(graph), buffer, encoding="utf-8")
    # networkx files the link id under its own name as well; Gephi shows it as a column, so it says what it is.
    # GEXF keeps no graph attributes: the note goes in the file's own description.
    out = buffer.getvalue().replace(b'title="networkx_key"', b'title="link id"', 1)
    note = graph.graph.get("note")
    if note:
        description = "<description>" + xml_escape(note) + "</description>"
        out = out.replace(b"</creator>", b"</creator>\n    " + description.encode("utf-8"), 1)
    return out


def _with_link_ids(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """GEXF edges numbered 0, 1, 2... by networkx otherwise: each edge carries its link's id, as in GraphML,
    so that an edge in Gephi can be found again in the workbench."""
    out = graph.copy()
    for _u, _v, key, data in out.edges(keys=True, data=True):
        data["id"] = key
    return out


def export_bytes(session: Session, fmt: str, around: str | None = None, depth: int = 1) -> bytes:
    """The network (or a neighbourhood) serialised as GraphML, GEXF or node-link JSON."""
    if fmt not in FORMATS:
        raise ValidationError({"format": [f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}"]})
    return serialise(export_graph(session, around=around, depth=depth), fmt)
