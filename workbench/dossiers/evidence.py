"""What the graph says about a dossier's target: designated parties it is linked to, and assets to block.

The graph layer finds the paths and ownership chains; this module turns them into plain dicts a
dossier can show, freeze and export, with every link's sources spelled out (title, URL, type,
reliability, releasable), because a reviewer must see the evidence for each link of the chain and
the releasable export must be able to leave out what cannot be released.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workbench.labels import page_label, property_label, shortened, value_label
from workbench.schema import LegalBasis, registry
from workbench.store.models import Citation, Entity, Link, Source, as_utc
from workbench.store.sanctions import sanction_active
from workbench.types import split_identifier

MAX_PATHS = 20


def _utc_iso(value: datetime | None) -> str | None:
    """SQLite hands back naive datetimes, PostgreSQL aware ones: print both as UTC."""
    if value is None:
        return None
    return as_utc(value).astimezone(UTC).isoformat()


def source_record(source: Source) -> dict:
    return {
        "id": source.id, "title": source.title, "url": source.url, "sha256": source.sha256,
        "publisher": source.publisher, "published_at": source.published_at,
        "retrieved_at": _utc_iso(source.retrieved_at),
        "source_type": source.source_type, "reliability": source.reliability, "releasable": bool(source.releasable),
    }


def _citation_records(session: Session, citations: Iterable[Citation]) -> list[dict]:
    out = []
    for c in citations:
        rec = source_record(c.source)
        # prop and value: which value the citation supports (none: the whole entity or link), so
        # that the releasable export can tell which values rest only on unreleasable sources.
        rec.update(citation_id=c.id, prop=c.prop, value=c.value, excerpt=c.excerpt, page=c.page, locator=c.locator)
        out.append(rec)
    return out


def _citations_by_link(session: Session, link_ids: list[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {i: [] for i in link_ids}
    if not link_ids:
        return found
    rows = session.execute(select(Citation).where(Citation.link_id.in_(link_ids)).order_by(Citation.id)).scalars()
    for c in rows:
        found[c.link_id].extend(_citation_records(session, [c]))
    return found


def _citations_by_entity(session: Session, entity_ids: list[str]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {i: [] for i in entity_ids}
    if not entity_ids:
        return found
    rows = session.execute(select(Citation).where(Citation.entity_id.in_(entity_ids)).order_by(Citation.id)).scalars()
    for c in rows:
        found[c.entity_id].extend(_citation_records(session, [c]))
    return found


def _one_per_source(citations: list[dict]) -> list[dict]:
    seen: set[str] = set()
    out = []
    for cit in citations:
        if cit["id"] not in seen:
            seen.add(cit["id"])
            out.append(cit)
    return out


def _captions(session: Session, ids: Iterable[str]) -> dict[str, Entity]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {e.id: e for e in session.execute(select(Entity).where(Entity.id.in_(ids))).scalars()}


def identifiers_of(properties: dict) -> list[dict]:
    """The entity's identifiers with their check-digit warnings (warnings, never rejections)."""
    reg = registry()
    out = []
    for value in properties.get("identifier", []) or []:
        scheme_name, number = split_identifier(value)
        scheme = reg.identifier_schemes.get(scheme_name)
        out.append({
            "value": value, "scheme": scheme_name, "number": number,
            "label": scheme.label if scheme else scheme_name,
            "warnings": reg.identifier_warnings(value),
        })
    return out


def sanction_records(session: Session, entity_id: str) -> list[dict]:
    """The Sanction records (program, listing date, status) on a designated party, as the dossier and its
    exports show them. Their status reads 'delisted' exactly when the store's rule (store.sanctions) says so,
    whatever case or order the record's own status values take."""
    rows = session.execute(
        select(Link, Entity).join(Entity, Entity.id == Link.source_id)
        .where(Link.kind == "SanctionOf", Link.target_id == entity_id).order_by(Link.id)
    ).all()
    out = []
    for _link, sanction in rows:
        props = sanction.properties
        first = {key: (props.get(key) or [None])[0] for key in ("authority", "listingDate", "status", "listEntryId")}
        out.append({"id": sanction.id, "caption": sanction.caption, "authority": first["authority"],
                    "program": "; ".join(props.get("program", [])) or None, "listing_date": first["listingDate"],
                    "status": "delisted" if not sanction_active(sanction) else first["status"] or "active",
                    "list_entry_id": first["listEntryId"]})
    return out


def accepted_chains(paths: list[dict]) -> int:
    """How many of a view's chains to designated parties its basis accepts (``qualifies``, set below)."""
    return sum(1 for path in paths if path.get("qualifies"))


def designated_under(sanctions: list[dict], program: str | None) -> bool:
    """Whether an active Sanction lists the party under ``program`` (the basis's authority's: a derivative prong
    of E.O. 14059 needs a person blocked under E.O. 14059, not one designated under the Kingpin Act alone).
    A basis whose authority names no program takes any active designation."""
    active = [s for s in sanctions if s["status"] != "delisted"]
    if program is None:
        return bool(active)
    # Program tags as lists write them: 'SDNTK; ILLICIT-DRUGS-EO14059', a record typed 'illicit-drugs-eo14059'.
    return any(program.casefold() in {tag.strip().casefold() for tag in re.split(r"[;,\s]+", s["program"] or "")}
               for s in active)


def _step_value(step: Any, key: str) -> Any:
    return step.get(key) if isinstance(step, dict) else getattr(step, key, None)


def designated_links(session: Session, target_id: str, basis: LegalBasis) -> list[dict]:
    """Designated parties the target is linked to, each path with its evidence chain.

    A path *qualifies* for a derivative basis when every link on it is of a kind the basis accepts, runs
    the way the basis says for its kind ('owned by an SFNT': the SFNT's side owns; a target owning the SFNT
    proves nothing of the kind), and carries at least one citation (a sourced link). Where two entities are
    joined by several links, each step shows the one that best serves the basis: a qualifying link before
    another (a reversed or uncited one must not hide the link the basis needs).
    """
    from workbench.graph.analysis import paths_to_designated

    paths = paths_to_designated(session, target_id, max_length=4, limit=50) or []
    node_ids = {n for p in paths for n in p.nodes}
    between: dict[frozenset, list[Any]] = {}
    if node_ids:
        for link in session.execute(select(Link.id, Link.kind, Link.source_id, Link.target_id, Link.properties)
                                    .where(Link.source_id.in_(node_ids), Link.target_id.in_(node_ids))):
            between.setdefault(frozenset((link.source_id, link.target_id)), []).append(link)
    link_citations = _citations_by_link(session, [link.id for links in between.values() for link in links])
    entities = _captions(session, node_ids)
    kinds = registry().link_kinds
    out = []
    for path in sorted(paths, key=lambda p: (p.length, p.designated_id, list(p.nodes)))[:MAX_PATHS]:
        steps = []
        for near, far, found in zip(path.nodes, path.nodes[1:], path.steps):
            links = between.get(frozenset((near, far))) or []

            def serves(link, near=near):
                way = "from_designated" if link.source_id != near else "to_designated"
                required = basis.link_direction.get(link.kind)
                kind_ok = link.kind in basis.link_kinds if basis.link_kinds else True
                fits, cited = kind_ok and required in (None, way), bool(link_citations.get(link.id))
                return (fits and cited, fits, cited, kind_ok)

            link = max(links, key=serves) if links else None
            if link is None:  # the projection saw a link the database no longer holds: show the step as found
                link_id, kind = str(_step_value(found, "link_id")), _step_value(found, "kind")
                src, dst, props = _step_value(found, "source"), _step_value(found, "target"), {}
            else:
                link_id, kind, src, dst, props = link.id, link.kind, link.source_id, link.target_id, link.properties
            way = "from_designated" if src != near else "to_designated"
            required = basis.link_direction.get(kind)
            steps.append({
                "link_id": link_id, "kind": kind,
                "label": kinds[kind].label if kind in kinds else kind,
                "source": src, "source_caption": entities[src].caption if src in entities else src,
                "target": dst, "target_caption": entities[dst].caption if dst in entities else dst,
                "properties": props or {},  # its dates, role, summary: for the FtM package
                "citations": link_citations.get(link_id, []),
                "direction": way, "direction_required": required, "direction_ok": required in (None, way),
            })
        sourced = all(step["citations"] for step in steps)
        kinds_ok = all(step["kind"] in basis.link_kinds for step in steps) if basis.link_kinds else True
        direction_ok = all(step["direction_ok"] for step in steps)
        designated = entities.get(path.designated_id)
        sanctions = sanction_records(session, path.designated_id)
        program_ok = designated_under(sanctions, basis.program)
        out.append({
            "designated_id": path.designated_id,
            "designated_caption": designated.caption if designated else path.designated_id,
            "designated_kind": designated.kind if designated else None,
            "sanctions": sanctions,
            "length": path.length, "nodes": list(path.nodes), "steps": steps,
            "sourced": sourced, "kinds_accepted": kinds_ok, "program_accepted": program_ok,
            "direction_accepted": direction_ok,
            "qualifies": sourced and kinds_ok and program_ok and direction_ok,
        })
    return out


DIRECTION_WORDS = {
    "from_designated": "must run from the designated party's side toward the target (the designated party owns, "
                       "controls or directs)",
    "to_designated": "must run from the target's side toward the designated party (the target works for, belongs "
                     "to or holds office in it)",
}


def path_reasons(path: dict) -> list[str]:
    """Why a path does not qualify, in a reader's words (none when it does). Views frozen before a flag
    existed lack it: what they lack was not checked then, and is not held against them now."""
    reasons = []
    if not path.get("sourced", True):
        reasons.append("not every link is sourced")
    if not path.get("kinds_accepted", True):
        reasons.append("a link kind this basis does not accept")
    if not path.get("direction_accepted", True):
        reasons.append("a link runs the wrong way for this basis")
    if not path.get("program_accepted", True):
        listed = sorted({s["program"] for s in path.get("sanctions", []) if s.get("program")
                         and s.get("status") != "delisted"})
        reasons.append(f"designated under {', '.join(listed) or 'no program'}, not this basis's program")
    return reasons


def positions_of(session: Session, entity_id: str) -> list[dict]:
    """The positions the entity holds or held: each Occupancy link from it to a Position, with the link's
    values (its start and end dates, its status) and its citations, which the releasable export decides
    on as it does for a chain's links. Those without an end date first, then the most recently ended."""
    rows = session.execute(
        select(Link, Entity).join(Entity, Entity.id == Link.target_id)
        .where(Link.kind == "Occupancy", Link.source_id == entity_id, Entity.merged_into.is_(None))
        .order_by(Link.id)
    ).all()
    citations = _citations_by_link(session, [link.id for link, _position in rows])
    out = []
    for link, position in rows:
        props = {k: list(v) for k, v in (link.properties or {}).items() if v}
        out.append({"id": position.id, "kind": position.kind, "caption": position.caption, "link_id": link.id,
                    "link_kind": link.kind, "properties": props, "citations": citations.get(link.id, [])})

    def first(position: dict, prop: str) -> str:
        return (position["properties"].get(prop) or [""])[0]

    out.sort(key=lambda p: (first(p, "startDate"), p["caption"]), reverse=True)
    out.sort(key=lambda p: first(p, "endDate") or "~", reverse=True)  # no end date ('~' sorts last) first
    return out


def asset_fields(props: dict) -> dict:
    """What an asset record shows of the asset's properties, as the exports print it. The releasable
    export builds the same fields from the values it may release (see ``exports.releasable_view``)."""
    return {
        "identifiers": identifiers_of(props),
        "address": "; ".join(props.get("address", []) or props.get("full", [])),
        "parcel_number": "; ".join(props.get("parcelNumber", [])),
        "county": "; ".join(props.get("county", [])),
        "value": "; ".join(props.get("amount", [])),
        "country": "; ".join(props.get("country", []) or props.get("jurisdiction", [])),
    }


def assets_to_block(session: Session, target_id: str) -> list[dict]:
    """Real estate, companies and accounts the target owns or controls, from the ownership chains."""
    from workbench.graph.analysis import ownership_chains

    reg = registry()
    chains = ownership_chains(session, target_id, max_depth=6)
    link_ids = sorted({lid for chain in chains for lid in chain.link_ids})
    links = {l.id: l for l in session.execute(select(Link).where(Link.id.in_(link_ids))).scalars()} if link_ids else {}
    asset_ids = [str(chain.asset_id) for chain in chains]
    entities = _captions(session, set(asset_ids) | {l.source_id for l in links.values()}
                         | {l.target_id for l in links.values()} | {target_id})
    link_citations = _citations_by_link(session, link_ids)
    asset_citations = _citations_by_entity(session, asset_ids)
    by_asset: dict[str, dict] = {}
    for chain, asset_id in zip(chains, asset_ids):
        asset = entities.get(asset_id)
        if asset is None or asset_id == target_id:
            continue
        kind = reg.entity_kinds.get(asset.kind)
        if kind is None or kind.is_a("Person"):
            continue  # people are not blocked as property; they are targets of their own
        chain_links = [links[lid] for lid in chain.link_ids if lid in links]
        owner_chain = []
        for link in chain_links:
            pct = (link.properties.get("percentage") or [None])[0]
            owner_chain.append({"link_id": link.id, "kind": link.kind, "percentage": pct,
                                "properties": link.properties or {},
                                "citations": link_citations.get(link.id, []),
                                "owner": link.source_id, "owner_caption": entities[link.source_id].caption,
                                "owned": link.target_id, "owned_caption": entities[link.target_id].caption})
        props = asset.properties
        record = by_asset.get(asset_id)
        if record is None:
            record = by_asset[asset_id] = {
                "id": asset.id, "kind": asset.kind, "kind_label": kind.label, "caption": asset.caption,
                **asset_fields(props),
                # The values shown and the asset's own citations (with the value each supports): what
                # the releasable export decides on, value by value.
                # Every value of the asset, not only those the summaries print: the FtM package carries
                # what FtM can (a company's registration number, a parcel's topics), as the store's export does.
                "properties": {p: list(values) for p, values in props.items() if values},
                "citations": list(asset_citations.get(asset_id, [])),
                "chains": [], "sources": _one_per_source(asset_citations.get(asset_id, [])),
            }
        record["chains"].append({"links": owner_chain, "effective_percentage": chain.effective_percentage})
        for link in chain_links:
            for cit in link_citations.get(link.id, []):
                if all(cit["id"] != known["id"] for known in record["sources"]):
                    record["sources"].append(cit)
    return sorted(by_asset.values(), key=lambda a: (a["kind"], a["caption"], a["id"]))


def evidence_subjects(session: Session, target_id: str, basis: LegalBasis,
                      view: dict | None = None) -> tuple[set[str], set[str]]:
    """The entities and links a dossier on this target shows (entity ids, link ids): the target and
    its links, the chains to designated parties with those parties' designations (their Sanction
    records and SanctionOf links), and the ownership chains of the assets to block. An exhibit may
    cite a fact about any of them, and about nothing else. ``view``: the dossier's live view, when
    the caller has it (its ``designated_links`` and ``assets`` are these chains)."""
    entities, links = {target_id}, set()
    links.update(session.execute(select(Link.id).where(or_(Link.source_id == target_id,
                                                           Link.target_id == target_id))).scalars())
    designated = set()
    paths = view["designated_links"] if view else designated_links(session, target_id, basis)
    for path in paths:
        entities.update(path["nodes"])
        links.update(step["link_id"] for step in path["steps"])
        designated.add(path["designated_id"])
    if designated:
        for link_id, sanction_id in session.execute(select(Link.id, Link.source_id).where(
                Link.kind == "SanctionOf", Link.target_id.in_(designated))):
            links.add(link_id)
            entities.add(sanction_id)
    for asset in view["assets"] if view else assets_to_block(session, target_id):
        entities.add(asset["id"])
        for chain in asset["chains"]:
            links.update(step["link_id"] for step in chain["links"])
    return entities, links


# ---- what a citation cites -----------------------------------------------------------------------

def cited_facts(session: Session, citations: Iterable[Citation]) -> dict[int, dict]:
    """What each citation cites, by citation id: the entity (``entity_id``, its ``caption``) or the link
    (``link``: its kind's label and its two ends, with their captions), and, for a citation of a property
    or of one value, the property (``prop``, ``prop_label``) and the value (``value``, ``value_label``: as a
    reader reads it, 'Mexico' for 'mx'). The author's evidence picker and every exhibit (the dossier's page
    and its exports) describe a citation from this record, in the words of ``cited_words``."""
    citations = list(citations)
    links = {l.id: l for l in session.execute(select(Link).where(
        Link.id.in_(sorted({c.link_id for c in citations if c.link_id})))).scalars()}
    holders = _captions(session, {c.entity_id for c in citations if c.entity_id}
                        | {end for l in links.values() for end in (l.source_id, l.target_id)})
    reg = registry()

    def caption(entity_id: str) -> str:
        return holders[entity_id].caption if entity_id in holders else entity_id

    def kind_of(entity_id: str) -> str | None:
        return holders[entity_id].kind if entity_id in holders else None

    out = {}
    for c in citations:
        record = {"citation_id": c.id, "entity_id": c.entity_id, "caption": None, "link_id": c.link_id,
                  "link": None, "prop": c.prop, "prop_label": None, "value": c.value, "value_label": None}
        known: dict = {}
        if c.link_id:
            link = links.get(c.link_id)
            if link is not None:
                spec = reg.link_kinds.get(link.kind)
                known = spec.properties if spec else {}
                # The ends' kinds and the link's values: what the FtM package needs to carry the link cited.
                record["link"] = {"kind": link.kind, "label": spec.label if spec else link.kind,
                                  "source_id": link.source_id, "source_caption": caption(link.source_id),
                                  "source_kind": kind_of(link.source_id),
                                  "target_id": link.target_id, "target_caption": caption(link.target_id),
                                  "target_kind": kind_of(link.target_id),
                                  "properties": {k: list(v) for k, v in (link.properties or {}).items() if v}}
        else:
            holder = holders.get(c.entity_id)
            kind = reg.entity_kinds.get(holder.kind) if holder is not None else None
            known = kind.properties if kind else {}
            record["caption"] = caption(c.entity_id)
            record["kind"] = kind_of(c.entity_id)
        if c.prop:
            record["prop_label"] = property_label(known, c.prop)
            if c.value is not None:
                record["value_label"] = value_label(known.get(c.prop), c.value)
        out[c.id] = record
    return out


WITHHELD_VALUE = "value withheld from the releasable export"
WITHHELD_FACT = "a fact withheld from the releasable export"


def cited_words(record: dict, target_id: str | None = None, short: bool = False) -> str:
    """A citation's record (``cited_facts``) in words: 'Cartel X: Country Mexico', 'A associate of B',
    'A owns B: Share 60'. With ``target_id`` (the picker, which lists citations on the target first), a
    citation of the target says only what it cites ('Date of birth 1970-02', or 'the target'); ``short``
    cuts a long value, as a menu must. A releasable export's record may have its value or its whole
    subject withheld (``value_withheld``, ``withheld``): the words say so, never what it was."""
    if record.get("withheld"):
        return WITHHELD_FACT
    what = ""
    if record.get("prop"):
        what = record.get("prop_label") or record["prop"]
        if record.get("value_withheld"):
            what += f" ({WITHHELD_VALUE})"
        elif record.get("value") is not None:
            value = record.get("value_label") or record["value"]
            what += " " + (shortened(value) if short else value)
    if record.get("link_id"):
        link = record.get("link")
        subject = (f"{link['source_caption']} {link['label']} {link['target_caption']}" if link
                   else f"link {record['link_id']}")
        return subject + (f": {what}" if what else "")
    if target_id is not None and record.get("entity_id") == target_id:
        return what or "the target"
    return (record.get("caption") or record.get("entity_id") or "") + (f": {what}" if what else "")


# ---- the evidence picker ---------------------------------------------------------------------------

def _retrieved(source: Source) -> str | None:
    return _utc_iso(source.retrieved_at)[:10] if source.retrieved_at else None


def _telling_apart(sources: Iterable[Source]) -> dict[str, str]:
    """For each source whose title another source offered shares (one roll screened in two jobs gives two
    sources of one title): what tells it apart, as ' (file roll.csv, retrieved 2024-05-02, id 1a2b3c4d)'.
    Sources of a title of their own get nothing: their title says which they are."""
    by_title: dict[str, list[Source]] = {}
    for source in {s.id: s for s in sources}.values():
        by_title.setdefault(" ".join(source.title.casefold().split()), []).append(source)
    out = {}
    for same in by_title.values():
        if len(same) < 2:
            continue
        for source in same:
            parts = [f"file {source.file_name}" if source.file_name else None,
                     f"retrieved {_retrieved(source)}" if source.retrieved_at else None, f"id {source.id[:8]}"]
            out[source.id] = " (" + ", ".join(p for p in parts if p) + ")"
    return out


def where_cited(page: object, locator: object) -> str:
    """Where in its source a citation is, as the entity pages say it: 'p. 3, row 12' ('' when not said)."""
    parts = [page_label(page), str(locator).strip() if locator else None]
    return ", ".join(p for p in parts if p)


NOT_RELEASABLE = " (not releasable)"  # beside a source's title, on every option resting on it


def picker_labels(session: Session, choices: dict) -> dict:
    """The evidence picker's options (``service.exhibit_choices``), each given the words it shows (``label``):
    the source's title, and what tells it apart from another source of the same title; what the citation
    cites; where in the source it is, worded as on the entity pages ('p. 1', not a bare '1'); its excerpt."""
    ids = {c["source_id"] for c in choices["citations"]} | {s["id"] for s in choices["sources"]}
    sources = list(session.scalars(select(Source).where(Source.id.in_(sorted(ids))))) if ids else []
    apart = _telling_apart(sources)
    closed = {s.id for s in sources if not s.releasable}

    def marker(source_id: str) -> str:
        # Said beside the source's title on every option that rests on it, before the researcher attaches it.
        return NOT_RELEASABLE if source_id in closed else ""

    for citation in choices["citations"]:
        where = where_cited(citation.get("page"), citation.get("locator"))
        excerpt = shortened(citation["excerpt"], 80) if citation.get("excerpt") else ""
        citation["label"] = (f"{citation['title']}{apart.get(citation['source_id'], '')}"
                             f"{marker(citation['source_id'])} - {citation['about']}"
                             + (f", {where}" if where else "") + (f": {excerpt}" if excerpt else ""))
    for source in choices["sources"]:
        source["label"] = (source["title"] + apart.get(source["id"], "")
                           + ("" if source["releasable"] else NOT_RELEASABLE))
    return choices

