"""Import OFAC's SDN list: one entity per entry, its Sanction, names, addresses, IDs and links.

Ids are stable (``ofac-<ent_num>``, ``ofac-<ent_num>-sanction``), so importing the same list
twice changes nothing and a newer list updates entries in place. Values users added to an entry,
its Sanction or its links since the last import stay beside the list's (``BulkWriter``'s three-way
merge), and the summary names the entries where they did. An entry that a newer full list
no longer carries keeps its entity and history; its Sanction is marked ``delisted``. Every value
cites the list file it came from (sha256, publication date) with the entry, alias or address
number as locator. The whole import is one transaction: the caller's session scope.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench.labels import counted
from workbench.schema import registry
from workbench.sources.bulk import IMPORTER_VERSION, BulkWriter, ImportSummary
from workbench.sources.countries import country_code
from workbench.sources.files import sha256_of, store_file
from workbench.sources.remarks import parse_remarks
from workbench.sources.sdn_parse import SdnList, SdnRecord, parse_paths
from workbench.store.entities import create_source, update_source, validate_source_fields
from workbench.store.models import Source
from workbench.store.permissions import Actor
from workbench.text import fold

AUTHORITY = "U.S. Treasury Office of Foreign Assets Control (OFAC)"
EXPORTS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/"
LIST_URL = EXPORTS + "SDN.CSV"
# Where each file OFAC publishes comes from: a source names the one read. (A Sanction's sourceUrl stays
# the list's CSV address whichever format was read: the entry is the same, and rewriting 14,017 of them
# when a later import reads the XML would only fill the audit log.)
FILE_URLS = {"sdn.csv": LIST_URL, "alt.csv": EXPORTS + "ALT.CSV", "add.csv": EXPORTS + "ADD.CSV",
             "sdn.xml": EXPORTS + "SDN.XML"}
# How a place in each format is named: a line of a CSV file, the n-th entry of the XML or JSON list.
PLACE_WORDS = {"csv": "line", "xml": "sdnEntry", "json": "entry"}


def list_url(path: Path) -> str | None:
    """OFAC's address of the file read, by its name (sdn.csv, ALT.CSV, SDN.XML...); None for another file
    (the JSON repackaging is not OFAC's): the stored copy is the source then."""
    return FILE_URLS.get(path.name.lower())
PREFIX = "ofac-"
PROGRESS_STEP = 500
# A real publication drops a few entries (925 of 14,017 over the two years between the files in
# ../shared): a list missing more than this share of the stored entries is taken for a partial
# file, and nothing is delisted unless the user says so (``allow_mass_delist``).
MASS_DELIST_SHARE, MASS_DELIST_MIN = 0.2, 50
# Properties that only ALT.CSV / ADD.CSV carry (country partly comes from the addresses).
_FROM_FILE = {"aliases": ("alias", "previousName", "weakAlias"), "addresses": ("address", "country")}

# What the JSON repackaging carries of an entry: anything else stored is kept (the name parts
# worked out from its name replace the stored ones).
_PARTIAL_CARRIES = ("name", "alias")

# SDN_Type -> workbench kind; "entity" is refined by _organisation_kind.
TYPE_KINDS = {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane"}
_LEGAL_FORM = re.compile(
    r"\b(S\.?\s?A\.?(\s?DE\s?C\.?\s?V\.?)?|S\.?\s?DE\s?R\.?\s?L\.?|S\.?\s?A\.?\s?P\.?\s?I\.?|S\.?\s?R\.?\s?L\.?|"
    r"S\.?\s?P\.?\s?R\.?|LLC|L\.L\.C\.|LTD\.?|LIMITED|INC\.?|INCORPORATED|CORP\.?|CORPORATION|CO\.|COMPANY|"
    r"GMBH|AG|B\.?V\.?|N\.?V\.?|JSC|OJSC|CJSC|PJSC|OOO|OAO|ZAO|AO|LLP|PLC|SAS|SPA|S\.?A\.?C\.?|E\.?I\.?R\.?L\.?|"
    r"FZE|FZCO|FZC|FZ-LLC|PTE|SDN\.?\s?BHD|BHD|PVT|SARL|S\.?L\.?|KFT|SP\. Z O\.O\.|A\.?S\.?|DMCC)\b",
    re.IGNORECASE,
)
_COMPANY_IDS = ("REGISTRATION:", "TAX_ID:", "NIT:", "RFC:")
_HISPANIC = {"mx", "co", "ve", "pe", "ec", "gt", "hn", "sv", "ni", "cr", "pa", "ar", "cl", "bo", "py", "uy", "do",
             "cu", "es"}
# Words that begin a surname rather than make one: 'DE LA TORRE', 'SAN AGUSTIN', 'EL KHANSA' (no father 'EL').
_PARTICLES = {"DE", "DEL", "LA", "LAS", "LOS", "Y", "VAN", "VON", "DA", "DOS", "DAS", "EL", "AL", "SAN", "SANTA",
              "BIN", "IBN", "ABU"}
# A generation after the surnames ('GONZALEZ PIZANA JR.', 'KINAHAN JUNIOR') is no mother's surname.
_GENERATIONS = {"JR", "JR.", "JUNIOR", "SR", "SR.", "SENIOR", "II", "III", "IV"}


@dataclass
class ListSources:
    main: str
    aliases: str | None
    addresses: str | None


def _organisation_kind(record: SdnRecord, identifiers: list[str]) -> str:
    if _LEGAL_FORM.search(record.name) or any(i.startswith(_COMPANY_IDS) for i in identifiers):
        return "Company"
    return "Organization"


def _surname_parts(surnames: str) -> list[str]:
    groups: list[str] = []
    pending: list[str] = []
    tokens = surnames.split()
    while tokens and tokens[-1].upper().rstrip(",") in _GENERATIONS:
        tokens.pop()
    for token in tokens:
        pending.append(token)
        if token.upper() not in _PARTICLES:
            groups.append(" ".join(pending))
            pending = []
    if pending:
        groups.append(" ".join(pending))
    return groups


def _person_names(record: SdnRecord, countries: set[str]) -> dict[str, list[str]]:
    """OFAC writes 'SURNAMES, Given Names'; Hispanic double surnames split into father/mother."""
    if record.last_name is not None:
        surnames, given = record.last_name, record.first_name
    elif ", " in record.name:
        surnames, given = record.name.split(", ", 1)
    else:
        return {}
    result: dict[str, list[str]] = {}
    if given:
        result["firstName"] = [given.strip()]
    groups = _surname_parts(surnames.strip())
    if len(groups) == 2 and countries & _HISPANIC:
        result["fatherName"] = [groups[0]]
        result["motherName"] = [groups[1]]
    elif groups:
        result["fatherName"] = [" ".join(groups)]  # without a generation ('JR.'): that is no surname
    return result


def linked_target(ent_num: int, name: str, candidates: list[int],
                  facts: dict[int, tuple[frozenset[str], frozenset[str]]]) -> tuple[int | None, str | None]:
    """The entry a 'Linked To: NAME' names, or None with why not. Two entries may bear the name (North Korea's
    and Luhansk's MINISTRY OF STATE SECURITY): the one sharing a program with the linking entry is meant, else
    the one sharing a country; when that still leaves several, none is linked (a link to a namesake would tie
    the entry to the wrong party) and the warning names them, for a researcher to link by hand."""
    others = [c for c in dict.fromkeys(candidates) if c != ent_num]
    if not others:
        return None, "is not an entry of this list"
    if len(others) == 1:
        return others[0], None
    programs, countries = facts.get(ent_num, (frozenset(), frozenset()))
    pool = [c for c in others if facts.get(c, (frozenset(), frozenset()))[0] & programs] or others
    if len(pool) > 1:
        pool = [c for c in pool if facts.get(c, (frozenset(), frozenset()))[1] & countries] or pool
    if len(pool) == 1:
        return pool[0], None
    return None, (f"names {len(others)} entries of this list (ent_num {', '.join(map(str, others))}) that neither "
                  "a shared program nor a shared country tells apart: not linked; link the right one by hand")


def plan_entity(record: SdnRecord, reg=None, known_countries: Iterable[str] = ()) -> tuple[str, dict[str, list[str]],
                                                                                         list[str]]:
    """(kind, properties, Linked To names) for one entry; pure, so the benchmark can time it.

    ``known_countries``: countries stored from an earlier import, when ADD.CSV is not given this time
    (a Hispanic double surname is split into father's and mother's name by the entry's countries)."""
    parsed = parse_remarks(record.remarks, record.extra_parts)
    props = parsed.properties
    identifiers = props.get("identifier", [])
    kind = TYPE_KINDS.get(record.sdn_type) or _organisation_kind(record, identifiers)
    spec = (reg or registry()).entity_kind(kind)
    out: dict[str, list[str]] = {"name": [record.name]}
    aliases = [n for t, n, _ in record.aliases if t in ("aka", "nka", "a.k.a.", "n.k.a.")]
    former = [n for t, n, _ in record.aliases if t in ("fka", "f.k.a.")]
    weak = [n for t, n, _ in record.aliases if t == "weak"]
    for prop, values in (("alias", aliases), ("previousName", former), ("weakAlias", weak)):
        for value in values:
            if value != record.name and value not in out.get(prop, []):
                out.setdefault(prop, []).append(value)
    for prop, values in props.items():
        if prop in spec.properties:
            for value in values:
                if prop in ("alias", "weakAlias", "previousName") and value == record.name:
                    continue
                if value not in out.get(prop, []):
                    out.setdefault(prop, []).append(value)
    countries: list[str] = []
    for _, country, _ in record.addresses:
        code = country_code(country)
        if code and code not in countries:
            countries.append(code)
    for code in parsed.id_countries + props.get("nationality", []) + props.get("citizenship", []):
        if code not in countries:
            countries.append(code)
    if countries and "country" in spec.properties:
        out["country"] = countries
    if "address" in spec.properties:
        # A country-only address goes to the countries; one naming a place no country code stands for ('Region:
        # Kafia Kingi') stays an address, or the entry would lose the only place OFAC gives for it.
        addresses = [a for a, country, _ in record.addresses
                     if fold(a) != fold(country or "") or not country_code(country)]
        if addresses:
            out["address"] = list(dict.fromkeys(addresses))
    if kind == "Person":
        out.update(_person_names(record, set(countries) | set(known_countries)))
        if record.title:
            out["position"] = [record.title]
    if kind == "Vessel":
        for prop, value in (("callSign", record.call_sign), ("vesselType", record.vessel_type),
                            ("tonnage", record.tonnage), ("grossRegisteredTonnage", record.grt),
                            ("ownerName", record.vessel_owner)):
            if value:
                out[prop] = [value]
        flag = country_code(record.vessel_flag)
        if flag:
            out["flag"] = [flag]
    if record.remarks:
        out["notes"] = [record.remarks]
    return kind, out, parsed.linked_to


def _source_for(session: Session, actor: Actor, path: Path, title: str, published: str | None,
                summary: ImportSummary) -> str:
    stored = store_file(session, actor, path, path.name, _media_type(path))
    existing = session.scalar(
        select(Source.id).where(Source.sha256 == stored.sha256, Source.file_name == path.name).limit(1)
    )
    if existing:
        if published:
            _published_again(session, actor, existing, published, path, summary)
        return existing
    source = create_source(
        session, actor, sha256=stored.sha256, file_name=path.name, media_type=stored.media_type, size=stored.size,
        title=title, publisher=AUTHORITY, published_at=published, url=list_url(path), source_type="official",
        reliability="A", notes=f"Imported by {IMPORTER_VERSION}",
    )
    summary.details["sources_created"] = summary.details.get("sources_created", 0) + 1
    return source.id


def _published_again(session: Session, actor: Actor, source_id: str, published: str, path: Path,
                     summary: ImportSummary) -> None:
    """A publication date given for a file imported before: the same bytes are the same source, so the
    date fills one the source lacks, and one that differs from its date is said, not taken. Either way
    it is checked as a new source's would be (a month 13 is refused, not ignored)."""
    source = session.get(Source, source_id)
    if source.published_at == published:
        return
    if source.published_at is None:
        update_source(session, actor, source_id, expected_version=source.version, published_at=published)
        summary.details["sources_dated"] = summary.details.get("sources_dated", 0) + 1
        return
    validate_source_fields({"title": source.title, "published_at": published}, registry())
    summary.warnings.append((path.name, f"this file was imported before as the list published {source.published_at}: "
                                        f"--published {published} was not taken (the same file is the same source)"))


def _media_type(path: Path) -> str:
    return {".csv": "text/csv", ".json": "application/json", ".xml": "application/xml"}.get(
        path.suffix.lower(), "application/octet-stream")


def _sources(session: Session, actor: Actor, parsed: SdnList, summary: ImportSummary) -> ListSources:
    date = f" published {parsed.published}" if parsed.published else ""
    main = aliases = addresses = None
    for path in parsed.files:
        name = path.name.lower()
        if name.endswith("alt.csv"):
            aliases = _source_for(session, actor, path, f"OFAC SDN list: alternate names (ALT.CSV){date}",
                                  parsed.published, summary)
        elif name.endswith("add.csv"):
            addresses = _source_for(session, actor, path, f"OFAC SDN list: addresses (ADD.CSV){date}",
                                    parsed.published, summary)
        else:
            main = _source_for(session, actor, path, f"OFAC SDN list ({path.name}){date}", parsed.published, summary)
    return ListSources(main, aliases or main, addresses or main)


def sanction_id(ent_num: int) -> str:
    return f"{PREFIX}{ent_num}-sanction"


def import_sdn(session: Session, actor: Actor, paths: list[Path | str], published: str | None = None,
               progress: Callable[[int, int], None] | None = None, delist: bool = True,
               allow_mass_delist: bool = False) -> ImportSummary:
    """Import (or re-import) an SDN publication. Raises SdnFormatError before writing on a bad file."""
    with gc_paused():
        return _import_sdn(session, actor, paths, published, progress, delist, allow_mass_delist)


@contextmanager
def gc_paused():
    """The import allocates ~10^6 small objects that all live to the end: cyclic GC passes over
    them only cost time (about a fifth of the import), so they are deferred until it is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class OlderListError(ValueError):
    """A list published before the newest one imported: refused whole, before anything is written."""


def _refuse_older(session: Session, parsed: SdnList) -> None:
    """An older list imported after a newer one put the older names, programmes and statuses back in place of
    the newer (a cartel lost the FTO and SDGT tags a newer list gave it) and listed again every entry the newer
    list had delisted. A list is dated by --published, the JSON's own date, or the date its file was first
    imported with; an undated one cannot be placed (its import says so). Checked before anything is stored."""
    same = [(path.name, sha256_of(path)) for path in parsed.files]
    known = [row for row in session.execute(select(Source.id, Source.published_at, Source.file_name, Source.sha256)
                                            .where(Source.sha256.in_([sha for _name, sha in same])))
             if (row.file_name, row.sha256) in same]
    main = next((row for row in known if (row.file_name, row.sha256) == same[0]), None)
    dated = parsed.published or (main.published_at if main is not None else None)
    newest = session.scalar(select(func.max(Source.published_at)).where(
        Source.publisher == AUTHORITY, Source.id.not_in([row.id for row in known]), Source.published_at.is_not(None)))
    if dated and newest and dated < newest:
        raise OlderListError(
            f"{parsed.files[0].name}: this list was published {dated}, before the list already imported (published "
            f"{newest}): importing it would put its older names, programmes and statuses in place of the newer ones "
            "and list again the entries the newer list delisted. Import OFAC's lists oldest first")


def _import_sdn(session: Session, actor: Actor, paths: list[Path | str], published: str | None,
                progress: Callable[[int, int], None] | None, delist: bool,
                allow_mass_delist: bool = False) -> ImportSummary:
    parsed = parse_paths([Path(p) for p in paths], published)
    summary = ImportSummary()
    writer = BulkWriter(session, actor, summary)
    _refuse_older(session, parsed)
    sources = _sources(session, actor, parsed, summary)
    writer.load_existing(prefix=PREFIX)
    total = len(parsed.records)
    # A partial format (the JSON repackaging: names, aliases, type, programs) keeps every other
    # property of an entry from earlier imports, whatever its kind.
    kept_by_kind: dict[str, tuple[str, ...]] = {}

    def keep_for(kind: str) -> tuple[str, ...]:
        if parsed.full:
            return ()
        if kind not in kept_by_kind:
            kept_by_kind[kind] = tuple(p for p in writer.reg.entity_kind(kind).properties if p not in _PARTIAL_CARRIES)
        return kept_by_kind[kind]
    by_name: dict[str, list[int]] = {}  # several entries may bear one name (two ministries of state security)
    by_alias: dict[str, list[int]] = {}
    facts: dict[int, tuple[frozenset[str], frozenset[str]]] = {}  # ent_num -> (programs, countries)
    planned: list[tuple[SdnRecord, str, list[str]]] = []
    dropping: dict[str, tuple[str, dict[str, list[str]]]] = {}  # entity -> (where, names the list no longer gives)
    file_name = parsed.files[0].name
    place = PLACE_WORDS.get(parsed.fmt, "line")
    # Aliases or addresses from a file not given, or from one that may be cut short, are added to
    # the stored ones, never put in their place.
    unsure = parsed.missing + tuple(what for what in parsed.unmarked if what in _FROM_FILE)
    # A former name stays one: a name an entry was listed under is added to, never dropped (a renamed
    # entry's old primary name is one, below), so screening still finds 'LOS ZETAS' after a list renames it.
    merge = tuple(dict.fromkeys([prop for what in unsure for prop in _FROM_FILE[what]] + ["previousName"]))
    for what in parsed.missing:
        given = "ALT.CSV" if what == "aliases" else "ADD.CSV"
        summary.warnings.append((file_name, f"no {given} given: the {what} of earlier imports are kept, "
                                            "and new ones added"))
    summary.warnings.extend(parsed.warnings)  # entries the parser read with a caveat (an unknown type)
    if parsed.published is None and parsed.fmt == "csv":
        # The legacy CSV files carry no date: the citations of every entry would name no publication.
        summary.warnings.append((parsed.files[0].name, "the list's publication date is unknown (OFAC's CSV files "
                                                       "carry none): give --published YYYY-MM-DD, OFAC's 'last "
                                                       "updated' date, so every citation names the list it came from"))
    for what, name in parsed.unmarked.items():
        outcome = "nothing was delisted" if what == "entries" else \
            f"its {what} were added to the stored ones and none was removed"
        summary.warnings.append((name, f"the file does not end with OFAC's end-of-file marker (0x1A), so it may be "
                                       f"cut short: {outcome}"))
    for index, record in enumerate(parsed.records, 1):
        entity_id = f"{PREFIX}{record.ent_num}"
        # Without addresses this time, the stored countries decide how a double surname splits.
        known = (writer.existing_properties(entity_id) or {}).get("country", []) \
            if "addresses" in unsure or not parsed.full else ()
        kind, props, linked = plan_entity(record, writer.reg, known)
        where = f"{file_name} {place} {record.line} (ent_num {record.ent_num})"
        if not parsed.full and writer.existing_properties(entity_id) is not None:
            # A list that only names the entry keeps the kind an earlier, fuller import chose, and
            # an alternate name it cannot type stays what the fuller list said it is (a former name).
            stored = writer.existing_properties(entity_id)
            kind = writer.existing[entity_id][0]
            typed = {" ".join(n.split()) for n in stored.get("previousName", []) + stored.get("weakAlias", [])}
            if typed and props.get("alias"):  # compared as spaced alike (the lists' spacing differs)
                props["alias"] = [a for a in props["alias"] if " ".join(a.split()) not in typed]
                if not props["alias"]:
                    del props["alias"]
        if (stored := writer.existing_properties(entity_id)) is not None:
            if dropped := _tell_list_changes(stored, props, keep_for(kind) + merge, where, summary):
                dropping[entity_id] = (where, dropped)
            _tell_programmes(writer.existing_properties(sanction_id(record.ent_num)), record.programs, where, summary)
        status = writer.entity(entity_id, kind, props, where, keep=keep_for(kind), merge=merge, lenient=True)
        if status is None:
            continue
        by_name.setdefault(writer.fold(record.name), []).append(record.ent_num)
        for _, alias, _ in record.aliases:
            by_alias.setdefault(writer.fold(alias), []).append(record.ent_num)
        facts[record.ent_num] = (frozenset(record.programs), frozenset(props.get("country", [])))
        sanction_props = {"name": f"OFAC SDN entry {record.ent_num}", "authority": AUTHORITY,
                          "program": record.programs, "status": "active", "listEntryId": str(record.ent_num),
                          "sourceUrl": LIST_URL}
        if record.title and kind != "Person":
            sanction_props["reason"] = record.title
        writer.entity(sanction_id(record.ent_num), "Sanction", sanction_props, where, keep=("listingDate",))
        writer.link(f"{PREFIX}{record.ent_num}-sanctionof", "SanctionOf", sanction_id(record.ent_num), entity_id,
                    {}, where)
        _cite_entry(writer, sources, record, entity_id)
        planned.append((record, entity_id, linked))
        if progress and index % PROGRESS_STEP == 0:
            progress(index, total)
    _tell_dropped(writer, dropping, summary)
    links = 0
    unresolved = 0
    for record, entity_id, linked in planned:
        locator = f"ent_num {record.ent_num}"
        for target_name in linked:
            key = writer.fold(target_name)
            target, problem = linked_target(record.ent_num, target_name, by_name.get(key) or by_alias.get(key) or [],
                                            facts)
            if target is None:
                unresolved += 1
                summary.warnings.append((locator, f"Linked To: {target_name} {problem}"))
                continue
            link_id = f"{PREFIX}{record.ent_num}-linked-{target}"
            status = writer.link(link_id, "UnknownLink", entity_id, f"{PREFIX}{target}",
                                 {"role": "Linked To (OFAC)"}, locator)
            if status is not None:
                links += 1
                writer.cite(sources.main, link_id=link_id, locator=locator, excerpt=f"Linked To: {target_name}")
    if delist and "entries" not in parsed.unmarked:  # a list that may be cut short delists nothing (warned above)
        if _is_latest(session, parsed.published, sources.main):
            _delist(writer, {r.ent_num for r in parsed.records}, parsed.published, summary, allow_mass_delist)
        else:
            # First, as every whole-list message: the summary shows only the first warnings of a list's many.
            summary.warnings.insert(0, (parsed.files[0].name, "an import of a newer list exists: nothing was delisted"))
    writer.flush()
    summary.details.update(entries=total, linked_to=links, linked_to_unresolved=unresolved)
    if progress:
        progress(total, total)
    return summary


def _spaced(values) -> set[str]:
    return {" ".join(v.split()) for v in values}


def _tell_list_changes(stored: dict, props: dict, kept: tuple[str, ...], where: str,
                       summary: ImportSummary) -> dict[str, list[str]]:
    """What a newer list changed of an entry that a steward must see, rather than 'updated': a new primary
    name (the old one is kept as a former name, and said). Returns the aliases stored that it no longer carries,
    by property: ``_tell_dropped`` names those an earlier import gave (a user's own alias is never the list's)."""
    names = _spaced(v for prop in ("name", "alias", "weakAlias", "previousName") for v in props.get(prop, []))
    former = [n for n in stored.get("name", []) if " ".join(n.split()) not in names]
    if former and props.get("name"):
        props["previousName"] = props.get("previousName", []) + former
        summary.warnings.append((where, f"renamed {former[0]} -> {props['name'][0]}: the former name is kept as a "
                                        "former name, so search and screening still find it"))
        summary.details["renamed"] = summary.details.get("renamed", 0) + 1
    return {prop: dropped for prop in _DROPPABLE if prop not in kept
            and (dropped := [v for v in stored.get(prop, []) if " ".join(v.split()) not in names])}


# Name properties whose loss a list import says: (the noun, its plural; the summary's count).
_DROPPABLE = {"alias": ("alias", "aliases", "aliases_dropped"),
              "weakAlias": ("weak alias", "weak aliases", "weak_aliases_dropped")}


def _tell_dropped(writer: BulkWriter, dropping: dict[str, tuple[str, dict[str, list[str]]]],
                  summary: ImportSummary) -> None:
    """Name, entry by entry, the aliases the list gave before and no longer carries (removed, as the list is
    the source; a repackaging that dropped them is noticed so). Aliases users entered are kept and said apart."""
    given = writer.imported_values(list(dropping)) if dropping else {}
    for entity_id, (where, by_prop) in dropping.items():
        for prop, values in by_prop.items():
            dropped = [v for v in values if v in given.get(entity_id, {}).get(prop, [])]
            if dropped:
                one, many, count = _DROPPABLE[prop]
                summary.warnings.append((where, f"{counted(len(dropped), one, many)} no longer in the list: "
                                                + "; ".join(dropped)))
                summary.details[count] = summary.details.get(count, 0) + len(dropped)


def _tell_programmes(stored: dict | None, programs: list[str], where: str, summary: ImportSummary) -> None:
    """Sanctions programmes a newer list added to or took from an entry (a cartel designated an FTO and SDGT)."""
    before = (stored or {}).get("program") or []
    if stored is None or set(before) == set(programs):
        return
    added, removed = [p for p in programs if p not in before], [p for p in before if p not in programs]
    change = ", ".join([f"+{p}" for p in added] + [f"-{p}" for p in removed])
    summary.warnings.append((where, f"programmes changed: {change}"))
    summary.details["programmes_changed"] = summary.details.get("programmes_changed", 0) + 1


def _cite_entry(writer: BulkWriter, sources: ListSources, record: SdnRecord, entity_id: str) -> None:
    """The entry cites its list row; each alias and address also cites its own ALT/ADD row."""
    locator = f"ent_num {record.ent_num}"
    writer.cite(sources.main, entity_id=entity_id, locator=locator)
    writer.cite(sources.main, entity_id=sanction_id(record.ent_num), locator=locator)
    writer.cite(sources.main, link_id=f"{PREFIX}{record.ent_num}-sanctionof", locator=locator)
    props = writer.existing_properties(entity_id) or {}
    if sources.aliases != sources.main:
        for alt_type, alias, alt_locator in record.aliases:
            prop = "previousName" if alt_type in ("fka", "f.k.a.") else "weakAlias" if alt_type == "weak" else "alias"
            value = " ".join(alias.split())
            if value in props.get(prop, []):
                writer.cite(sources.aliases, entity_id=entity_id, prop=prop, value=value, locator=alt_locator)
    if sources.addresses != sources.main:
        for address, _, add_locator in record.addresses:
            value = " ".join(address.split())
            if value in props.get("address", []):
                writer.cite(sources.addresses, entity_id=entity_id, prop="address", value=value, locator=add_locator)


def _is_latest(session: Session, published: str | None, source_id: str) -> bool:
    """Delisting follows the newest list: re-importing an older one must not delist newer entries."""
    if not published:
        return True
    newest = session.scalar(select(func.max(Source.published_at)).where(
        Source.publisher == AUTHORITY, Source.id != source_id, Source.published_at.is_not(None)))
    return newest is None or newest <= published


def _delist(writer: BulkWriter, present: set[int], published: str | None, summary: ImportSummary,
            allow_mass_delist: bool = False) -> None:
    active: list[tuple[str, int, dict]] = []
    for entity_id, (kind, props, _version) in list(writer.existing.items()):
        if kind != "Sanction" or not entity_id.endswith("-sanction"):
            continue
        try:
            ent_num = int(entity_id[len(PREFIX):-len("-sanction")])
        except ValueError:
            continue
        if (props.get("status") or [""])[0] != "delisted":
            active.append((entity_id, ent_num, props))
    gone = [(entity_id, ent_num, props) for entity_id, ent_num, props in active if ent_num not in present]
    if len(gone) > max(MASS_DELIST_MIN, MASS_DELIST_SHARE * len(active)) and not allow_mass_delist:
        message = (f"{len(gone)} of {len(active)} listed entries are missing from this list: that looks like a "
                   "partial file, so none was delisted (pass --allow-mass-delist if the list really drops them)")
        summary.warnings.insert(0, ("delisting", message))  # before the entries' many warnings, or unseen
        summary.details["delisted"] = 0
        summary.details["missing_not_delisted"] = len(gone)
        return
    delisted = 0
    for entity_id, ent_num, props in gone:
        updated = {k: list(v) for k, v in props.items()}
        updated["status"] = ["delisted"]
        if published:
            updated["endDate"] = [published]
        writer.entity(entity_id, "Sanction", updated, f"ent_num {ent_num}")
        delisted += 1
    summary.details["delisted"] = delisted


def parse_only(paths: list[Path | str]) -> int:
    """Parse and plan every entry without a database: the benchmark's raw baseline."""
    with gc_paused():
        parsed = parse_paths([Path(p) for p in paths])
        reg = registry()
        for record in parsed.records:
            plan_entity(record, reg)
        return len(parsed.records)


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start
