"""Parse OFAC's SDN publications into plain records, before anything touches the database.

Three formats carry the same list: the legacy CSV trio (sdn.csv, alt.csv, add.csv), OFAC's
SDN.XML, and the CC0 JSON repackaging. Each is read into ``SdnRecord``s; ``remarks.py`` turns
the free-text Remarks (and the XML's typed lists, rendered into the same phrases) into structured
properties. Parsing everything first means a truncated or malformed file fails before the
import has written a single row, naming the file and line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from workbench.sources.json_values import json_error_detail, json_type_name

EMPTY = "-0-"
CSV_KINDS = "SDN.CSV, ALT.CSV or ADD.CSV"  # what a CSV given to the SDN importer should be
# SDN types the importer knows (anything else is imported as an organisation, with a warning).
KNOWN_SDN_TYPES = ("individual", "entity", "vessel", "aircraft")


class SdnFormatError(ValueError):
    """A list file is truncated or malformed; the message names the file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{where}: {message}")


class NotAnSdnFile(SdnFormatError):
    """The first row already does not fit: some other file, not a damaged list, and the message says
    so first (the user most likely named the wrong file)."""

    def __init__(self, path: Path | str, line: int, detail: str):
        ValueError.__init__(self, f"{path} is not an OFAC {CSV_KINDS} file (line {line}: {detail})")
        self.path = str(path)
        self.line = line


@dataclass
class SdnRecord:
    ent_num: int
    name: str
    sdn_type: str  # individual / entity / vessel / aircraft
    programs: list[str]
    title: str | None = None
    call_sign: str | None = None
    vessel_type: str | None = None
    tonnage: str | None = None
    grt: str | None = None
    vessel_flag: str | None = None
    vessel_owner: str | None = None
    remarks: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    # (alt_type: aka/fka/nka/weak, name, locator)
    aliases: list[tuple[str, str, str]] = field(default_factory=list)
    # (formatted address, country name, locator)
    addresses: list[tuple[str, str | None, str]] = field(default_factory=list)
    # Remark-style phrases from structured formats (XML id lists, dates of birth...).
    extra_parts: list[str] = field(default_factory=list)
    line: int = 0


@dataclass
class SdnList:
    """A parsed publication: records in file order plus what the Source needs to say."""

    records: list[SdnRecord]
    files: list[Path]
    fmt: str  # csv / json / xml
    published: str | None = None
    # Which properties this format can carry at all (a re-import keeps the others).
    full: bool = True
    # What these files leave out although the format carries it: 'aliases' without ALT.CSV,
    # 'addresses' without ADD.CSV (a re-import adds to the stored ones instead of dropping them).
    missing: tuple[str, ...] = ()
    # Files of the trio that do not end with OFAC's end-of-file marker (0x1A), so may be cut short
    # at a line end: 'entries' (SDN.CSV: nothing is delisted), 'aliases', 'addresses' (their
    # values are added to the stored ones, never removed).
    unmarked: dict[str, str] = field(default_factory=dict)  # what -> file name
    # (where, message) for the import summary: entries read in a way the user should check
    # (an unknown SDN type, imported as an organisation).
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or value == EMPTY:
        return None
    return value


# A UTF-8 sequence of two bytes or more (a lead byte and its continuation bytes).
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _read_text(path: Path) -> str:
    """The file's text without OFAC's end-of-file marker (see ``_decoded``)."""
    return _decoded(path)[0].replace(END_MARKER, "")


def _decoded(path: Path) -> tuple[str, str]:
    """UTF-8, or OFAC's older Windows-1252. A file that is UTF-8 but for a few bytes is damaged, not
    Windows-1252: reading it as such would turn every accented name into mojibake, so it is refused
    with the line of the first bad byte, as is a byte that neither encoding defines. Returns the text and
    the encoding it was read in."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SdnFormatError(path, 1, "UTF-16 text: OFAC publishes UTF-8 (or Windows-1252); save the file as UTF-8")
    if data.startswith(b"\xef\xbb\xbf"):  # a spreadsheet's UTF-8 byte order mark
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if _UTF8_SEQUENCE.search(data):
            raise SdnFormatError(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}), although the rest of "
                                             "the file is UTF-8: the file is damaged") from None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as bad:
            line = data.count(b"\n", 0, bad.start) + 1
            raise SdnFormatError(path, line, f"byte 0x{data[bad.start]:02x} is neither UTF-8 nor Windows-1252 "
                                             "text") from None
        return text, "Windows-1252"
    return text, "UTF-8"


END_MARKER = "\x1a"  # OFAC ends SDN.CSV, ALT.CSV and ADD.CSV with it (ALT/ADD on a row of empty cells)


def _read_list_file(path: Path, warnings: list[tuple[str, str]]) -> tuple[str, bool]:
    """The text of one file of the CSV trio, and whether it ends with OFAC's end-of-file marker. A file
    read as Windows-1252 is said so, with its first line that holds a letter outside ASCII: a file saved in
    another 8-bit encoding (Mac Roman, say) reads without error but with the wrong accents, and only a
    person can see that."""
    text, encoding = _decoded(path)
    if encoding != "UTF-8":
        at = next((i for i, ch in enumerate(text) if ord(ch) > 127 and ch != END_MARKER), None)
        if at is not None:
            start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
            line = text.count("\n", 0, at) + 1
            end = end if end >= 0 else len(text)
            sample = ("..." if at - 40 > start else "") + text[max(start, at - 40):min(end, at + 40)].strip() + (
                "..." if at + 40 < end else "")
            warnings.append((path.name, f"read as {encoding} (OFAC's older encoding), since it is not UTF-8: "
                                        f"check that accented names read right, as on line {line}: {sample}"))
    return text.replace(END_MARKER, ""), END_MARKER in text[-16:]


def _check_last_row(path: Path, text: str) -> None:
    """A file cut short in the middle of a row is refused: OFAC's rows all end with a quoted cell or
    -0-. (One cut at a line end cannot be told from a shorter list, except by the missing marker.)"""
    body = text.rstrip()
    last = body.rfind("\n")
    if body and not body[last + 1:].strip(", \r"):  # the marker's row of empty cells (ALT/ADD)
        body = body[:max(last, 0)].rstrip()
    if body and not body.endswith(('"', "-0-")):
        raise SdnFormatError(path, body.count("\n") + 1, "the last row is incomplete (truncated file)")


def _csv_rows(path: Path, text: str, width: int, header: bool, kind: str):
    """(line, cells) of each row; ``kind`` is the OFAC file the row should come from (SDN.CSV...)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    first = True
    try:
        for row in reader:
            line = reader.line_num
            if header and line == 1:
                continue
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != width:
                detail = f"expected the {width} columns of {kind}, found {len(row)}"
                if first:
                    raise NotAnSdnFile(path, line, detail)
                raise SdnFormatError(path, line, f"{detail} (the file is truncated or damaged)")
            first = False
            yield line, row
    except csv.Error as exc:
        raise SdnFormatError(path, reader.line_num, f"malformed CSV: {exc}") from exc


def _ent_num(path: Path, line: int, raw: str) -> int:
    """OFAC's entry number: a positive whole number ('-5' or '+7' is a damaged row, not an entry)."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise SdnFormatError(path, line, f"ent_num {raw!r} is not a positive whole number")
    return int(text)


def parse_csv_trio(sdn: Path, alt: Path | None = None, add: Path | None = None,
                   published: str | None = None) -> SdnList:
    records: dict[int, SdnRecord] = {}
    unmarked: dict[str, str] = {}
    warnings: list[tuple[str, str]] = []
    text, marked = _read_list_file(sdn, warnings)
    if not text.strip():
        raise SdnFormatError(sdn, None, "the file is empty")
    if not marked:
        unmarked["entries"] = sdn.name
    for line, row in _csv_rows(sdn, text, 12, header=False, kind="SDN.CSV"):
        ent = _ent_num(sdn, line, row[0])
        name = _clean(row[1])
        if not name:
            raise SdnFormatError(sdn, line, f"entry {ent} has no name")
        raw_type = _clean(row[2])
        if raw_type and raw_type.lower() not in KNOWN_SDN_TYPES:
            warnings.append(_unknown_type_warning(f"{sdn.name} line {line} (ent_num {ent})", raw_type, "SDN_Type"))
        sdn_type = (raw_type or "entity").lower()
        if ent in records:
            raise SdnFormatError(sdn, line, f"ent_num {ent} is already the entry on line {records[ent].line}: "
                                            "each entry has its own number (the file is damaged)")
        records[ent] = SdnRecord(
            ent_num=ent, name=name, sdn_type=sdn_type, programs=_split_programs(row[3]),
            title=_clean(row[4]), call_sign=_clean(row[5]), vessel_type=_clean(row[6]), tonnage=_clean(row[7]),
            grt=_clean(row[8]), vessel_flag=_clean(row[9]), vessel_owner=_clean(row[10]),
            remarks=_clean(row[11]), line=line,
        )
    _check_last_row(sdn, text)
    if alt is not None:
        alt_text, marked = _read_list_file(alt, warnings)
        if not marked:
            unmarked["aliases"] = alt.name
        strays: set[int] = set()
        rows = 0
        for line, row in _csv_rows(alt, alt_text, 5, header=True, kind="ALT.CSV"):
            if not row[0].strip():
                continue
            ent = _ent_num(alt, line, row[0])
            name = _clean(row[3])
            if ent not in records:
                strays.add(ent)
                rows += bool(name)
            elif name:
                records[ent].aliases.append(((_clean(row[2]) or "aka").lower(), name, f"alt_num {row[1].strip()}"))
        _check_last_row(alt, alt_text)
        _say_strays(warnings, alt, sdn, rows, strays, "alias")
    if add is not None:
        add_text, marked = _read_list_file(add, warnings)
        if not marked:
            unmarked["addresses"] = add.name
        address_strays: set[int] = set()
        address_rows = 0
        for line, row in _csv_rows(add, add_text, 6, header=True, kind="ADD.CSV"):
            if not row[0].strip():
                continue
            ent = _ent_num(add, line, row[0])
            if ent not in records:
                address_strays.add(ent)
                address_rows += 1
                continue
            country = _clean(row[4])
            parts = [p for p in (_clean(row[2]), _clean(row[3]), country) if p]
            if parts and parts != [country] or country:
                records[ent].addresses.append((", ".join(parts), country, f"add_num {row[1].strip()}"))
        _check_last_row(add, add_text)
        _say_strays(warnings, add, sdn, address_rows, address_strays, "address")
    files = [p for p in (sdn, alt, add) if p is not None]
    missing = tuple(what for what, path in (("aliases", alt), ("addresses", add)) if path is None)
    return SdnList(list(records.values()), files, "csv", published, full=True, missing=missing,
                   unmarked=unmarked, warnings=warnings)


def _say_strays(warnings: list[tuple[str, str]], path: Path, sdn: Path, rows: int, strays: set[int],
                what: str) -> None:
    """Rows of ALT.CSV or ADD.CSV for entries SDN.CSV lacks were skipped without a word: said, with the likely
    cause (files of different publications: OFAC updates the three separately)."""
    if strays:
        shown = ", ".join(map(str, sorted(strays)[:5])) + (" ..." if len(strays) > 5 else "")
        warnings.append((path.name, f"{rows:,} {what} row(s) name {len(strays):,} entries {sdn.name} does not hold "
                                    f"(ent_num {shown}): skipped. Were the files published on different dates? "
                                    "Take the three from one publication"))


def _split_programs(raw: str) -> list[str]:
    value = _clean(raw)
    if not value:
        return []
    return [p.strip() for p in value.split("] [") if p.strip()]


def _unknown_type_warning(where: str, raw: str, field_name: str = "sdnType") -> tuple[str, str]:
    known = ", ".join(KNOWN_SDN_TYPES)
    return where, f"unknown {field_name} {raw!r}: imported as an organisation (known: {known})"


def _json_strings(path: Path, where: str, entry: dict, key: str) -> list[str]:
    """A list-of-strings field of a JSON entry (absent: empty), blank items left out."""
    if key not in entry:
        return []
    value = entry[key]
    if not isinstance(value, list):
        raise SdnFormatError(path, None, f"{where}: {key!r} must be a list of strings, not {json_type_name(value)}")
    out = []
    for position, item in enumerate(value, 1):
        if not isinstance(item, str):
            raise SdnFormatError(path, None, f"{where}: {key!r} item {position} must be a string, not "
                                             f"{json_type_name(item)}")
        if item.strip():
            out.append(item.strip())
    return out


def parse_json(path: Path) -> SdnList:
    """The CC0 JSON repackaging: {"entries": [{"uid": int, "name": str, "type": str, "programs": [str],
    "alternateNames": [str]}]}. A value of another shape is refused with the entry (position and uid),
    never turned into text (a string taken for a list of letters, an object's Python repr)."""
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise SdnFormatError(path, exc.lineno, f"malformed JSON: {json_error_detail(exc)}") from exc
    except RecursionError:
        raise SdnFormatError(path, None, "malformed JSON: nested too deeply (not the SDN JSON repackaging)") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise SdnFormatError(path, None, "no 'entries' list: not the SDN JSON repackaging")
    records = []
    warnings: list[tuple[str, str]] = []
    seen: dict[int, int] = {}
    for index, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise SdnFormatError(path, None, f"entry {index} is not an object but {json_type_name(entry)}")
        if "uid" not in entry:
            raise SdnFormatError(path, None, f"entry {index} lacks a 'uid'")
        uid = entry["uid"]
        # OFAC's number written as text, or as 36.0
        if (isinstance(uid, str) and uid.strip().isdigit()) or (isinstance(uid, float) and uid.is_integer()):
            uid = int(uid)
        if not isinstance(uid, int) or isinstance(uid, bool) or uid < 1:
            what = repr(uid) if isinstance(uid, (str, float, int)) else json_type_name(uid)
            raise SdnFormatError(path, None, f"entry {index}: 'uid' must be a positive whole number, not {what}")
        where = f"entry {index} (uid {uid})"
        if uid in seen:
            raise SdnFormatError(path, None, f"{where}: uid {uid} is already entry {seen[uid]}: each entry has its "
                                             "own number (the file is damaged)")
        seen[uid] = index
        if "name" not in entry:
            raise SdnFormatError(path, None, f"{where} lacks a 'name'")
        name = entry["name"]
        if not isinstance(name, str) or not name.strip():
            what = "blank" if isinstance(name, str) else json_type_name(name)
            raise SdnFormatError(path, None, f"{where}: 'name' must be a non-empty string, not {what}")
        sdn_type = entry.get("type", "")  # absent: an entity; null is refused below like any non-string
        if not isinstance(sdn_type, str):
            raise SdnFormatError(path, None, f"{where}: 'type' must be a string, not {json_type_name(sdn_type)}")
        sdn_type = sdn_type.strip()
        if sdn_type and sdn_type.lower() not in KNOWN_SDN_TYPES:
            warnings.append(_unknown_type_warning(f"{path.name} {where}", sdn_type, "type"))
        record = SdnRecord(uid, name.strip(), (sdn_type or "entity").lower(),
                           _json_strings(path, where, entry, "programs"), line=index)
        for alias in _json_strings(path, where, entry, "alternateNames"):
            record.aliases.append(("aka", alias, f"uid {uid}"))
        records.append(record)
    published = data.get("published") if isinstance(data.get("published"), str) else None
    return SdnList(records, [path], "json", published, full=False, warnings=warnings)


def _xml_text(element, tag: str, ns: str) -> str | None:
    child = element.find(f"{ns}{tag}")
    return _clean(child.text) if child is not None and child.text else None


def parse_xml(path: Path) -> SdnList:
    """OFAC's SDN.XML, read with defusedxml: a document type declaration (OFAC's file has none), entity
    expansion and external entities are refused; an external DTD is not fetched, but naming one is
    how a planted file calls out, so it is refused too."""
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.parse(str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True).getroot()
    except DefusedXmlException as exc:
        raise SdnFormatError(path, None, f"refused unsafe XML ({exc.__class__.__name__}: document type and entity "
                                         "declarations and external references are not allowed)") from exc
    except ParseError as exc:
        raise SdnFormatError(path, exc.position[0], f"malformed XML: {exc}") from exc
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    published = None
    info = root.find(f"{ns}publshInformation")
    if info is not None:
        raw = _xml_text(info, "Publish_Date", ns)
        if raw:
            try:
                published = datetime.strptime(raw, "%m/%d/%Y").date().isoformat()
            except ValueError:
                published = None
    records = []
    warnings: list[tuple[str, str]] = []
    for index, entry in enumerate(root.iter(f"{ns}sdnEntry"), 1):
        uid = _xml_text(entry, "uid", ns)
        last = _xml_text(entry, "lastName", ns)
        if not uid or not uid.isdigit() or not last:
            raise SdnFormatError(path, None, f"sdnEntry #{index} lacks a numeric uid or a lastName")
        first = _xml_text(entry, "firstName", ns)
        name = f"{last}, {first}" if first else last
        raw_type = _xml_text(entry, "sdnType", ns)
        if raw_type and raw_type.lower() not in KNOWN_SDN_TYPES:
            warnings.append(_unknown_type_warning(f"{path.name} sdnEntry {index} (uid {uid})", raw_type))
        sdn_type = (raw_type or "entity").lower()
        programs = [p.text.strip() for p in entry.iter(f"{ns}program") if p.text and p.text.strip()]
        record = SdnRecord(int(uid), name, sdn_type, programs, title=_xml_text(entry, "title", ns),
                           remarks=_xml_text(entry, "remarks", ns), first_name=first, last_name=last, line=index)
        vessel = entry.find(f"{ns}vesselInfo")
        if vessel is not None:
            record.call_sign = _xml_text(vessel, "callSign", ns)
            record.vessel_type = _xml_text(vessel, "vesselType", ns)
            record.vessel_flag = _xml_text(vessel, "vesselFlag", ns)
            record.vessel_owner = _xml_text(vessel, "vesselOwner", ns)
            record.tonnage = _xml_text(vessel, "tonnage", ns)
            record.grt = _xml_text(vessel, "grossRegisteredTonnage", ns)
        for aka in entry.iter(f"{ns}aka"):
            a_last = _xml_text(aka, "lastName", ns)
            if not a_last:
                continue
            a_first = _xml_text(aka, "firstName", ns)
            a_name = f"{a_last}, {a_first}" if a_first else a_last
            a_type = (_xml_text(aka, "type", ns) or "a.k.a.").replace(".", "").lower()
            if (_xml_text(aka, "category", ns) or "").lower() == "weak":
                a_type = "weak"
            record.aliases.append((a_type, a_name, f"uid {_xml_text(aka, 'uid', ns)}"))
        for address in entry.iter(f"{ns}address"):
            country = _xml_text(address, "country", ns)
            city = ", ".join(p for p in (_xml_text(address, "city", ns), _xml_text(address, "stateOrProvince", ns),
                                         _xml_text(address, "postalCode", ns)) if p)
            street = ", ".join(p for p in (_xml_text(address, f"address{i}", ns) for i in (1, 2, 3)) if p)
            parts = [p for p in (street, city, country) if p]
            if parts:
                record.addresses.append((", ".join(parts), country, f"uid {_xml_text(address, 'uid', ns)}"))
        for ident in entry.iter(f"{ns}id"):
            id_type = _xml_text(ident, "idType", ns)
            number = _xml_text(ident, "idNumber", ns)
            if not id_type or not number:
                continue
            country = _xml_text(ident, "idCountry", ns)
            record.extra_parts.append(f"{id_type} {number}" + (f" ({country})" if country else ""))
        for item in entry.iter(f"{ns}dateOfBirth"):
            if item.text and item.text.strip():
                record.extra_parts.append(f"DOB {item.text.strip()}")
        for item in entry.iter(f"{ns}placeOfBirth"):
            if item.text and item.text.strip():
                record.extra_parts.append(f"POB {item.text.strip()}")
        for tag, phrase in (("nationality", "nationality"), ("citizenship", "citizen")):
            for item in entry.iter(f"{ns}{tag}"):
                country = _xml_text(item, "country", ns)
                if country:
                    record.extra_parts.append(f"{phrase} {country}")
        records.append(record)
    if not records:
        raise SdnFormatError(path, None, "no sdnEntry elements: not an OFAC SDN.XML file")
    return SdnList(records, [path], "xml", published, full=True, warnings=warnings)


def parse_paths(paths: list[Path], published: str | None = None) -> SdnList:
    """Pick the format from the files given: the CSV trio (any order), one JSON, or one XML."""
    paths = [Path(p) for p in paths]
    expanded: list[Path] = []
    for path in paths:
        if path.is_dir():
            expanded.extend(p for p in (path / "sdn.csv", path / "alt.csv", path / "add.csv") if p.exists())
        elif not path.exists():
            raise SdnFormatError(path, None, "no such file")
        else:
            expanded.append(path)
    by_name: dict[str, Path] = {}
    for path in expanded:
        if path.name.lower() in by_name and by_name[path.name.lower()].resolve() != path.resolve():
            raise SdnFormatError(path, None, f"{path.name} is given twice ({by_name[path.name.lower()]} and {path}): "
                                             "give one list at a time")
        by_name[path.name.lower()] = path
    if by_name and all(name.endswith(("alt.csv", "add.csv")) for name in by_name):
        # Read as an SDN.CSV, an ALT.CSV alone was called no OFAC file at all.
        raise SdnFormatError(", ".join(map(str, expanded)), None,
                             "ALT.CSV and ADD.CSV add aliases and addresses to the entries of SDN.CSV: give the "
                             "list's sdn.csv with them (sdn.csv [alt.csv add.csv])")
    if len(expanded) == 1 and expanded[0].suffix.lower() == ".json":
        result = parse_json(expanded[0])
    elif len(expanded) == 1 and expanded[0].suffix.lower() == ".xml":
        result = parse_xml(expanded[0])
    elif any(name.endswith("sdn.csv") for name in by_name) or (len(expanded) == 1 and expanded[0].suffix == ".csv"):
        def pick(stem: str) -> Path | None:
            return next((p for n, p in by_name.items() if n.endswith(f"{stem}.csv")), None)

        sdn = pick("sdn") or expanded[0]
        trio = [p for p in (sdn, pick("alt"), pick("add")) if p is not None]
        for path in by_name.values():
            if path not in trio:
                raise SdnFormatError(path, None, "not one of the CSV trio: the files must be named (or end in) "
                                                 "sdn.csv, alt.csv and add.csv")
        result = parse_csv_trio(sdn, pick("alt"), pick("add"), published)
    else:
        raise SdnFormatError(", ".join(map(str, expanded)), None,
                             "expected sdn.csv [alt.csv add.csv], an SDN.XML or the SDN JSON repackaging")
    if published:
        result.published = published
    return result
