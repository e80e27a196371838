"""Turn OFAC Remarks phrases into structured properties.

OFAC packs dates and places of birth, nationalities, identity documents, weak aliases and
relations into one free-text field (``DOB 06 Nov 1968; alt. DOB 11 Jun 1968; POB Chihuahua,
Mexico; R.F.C. AIMO-681106-9F7 (Mexico); a.k.a. 'EL CHAPO'; Linked To: X.``). The phrase
vocabulary is small and stable, so it is a table here; a phrase nobody recognises is kept in the
entity's notes (the whole Remarks text is), never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.sources.countries import country_code

MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}

# Remark label (lower case, without "alt. ") -> identifier scheme in schema/identifiers.yml.
ID_LABELS: dict[str, str] = {
    "c.u.r.p.": "CURP",
    "curp": "CURP",
    "r.f.c.": "RFC",
    "rfc": "RFC",
    "passport": "PASSPORT",
    "diplomatic passport": "PASSPORT",
    "cedula no.": "CEDULA",
    "cedula": "CEDULA",
    "nit #": "NIT",
    "nit": "NIT",
    "credencial electoral": "VOTER",
    "credencial electoral no.": "VOTER",
    "electoral registry no.": "VOTER",
    "i.f.e.": "VOTER",
    "ssn": "SSN",
    "us fein": "EIN",
    "cartilla de servicio militar nacional": "MILITARY",
    "national id no.": "NATIONAL_ID",
    "identification number": "NATIONAL_ID",
    "d.n.i.": "NATIONAL_ID",
    "personal id card": "NATIONAL_ID",
    "national foreign id number": "NATIONAL_ID",
    "citizen's card number": "NATIONAL_ID",
    "residency number": "NATIONAL_ID",
    "vessel registration identification": "IMO",
    "identification number imo": "IMO",
    "tax id no.": "TAX_ID",
    "v.a.t. number": "TAX_ID",
    "ruc #": "TAX_ID",
    "italian fiscal code": "TAX_ID",
    "registration number": "REGISTRATION",
    "registration id": "REGISTRATION",
    "company number": "REGISTRATION",
    "uk company number": "REGISTRATION",
    "business registration number": "REGISTRATION",
    "business registration document #": "REGISTRATION",
    "commercial registry number": "REGISTRATION",
    "chamber of commerce number": "REGISTRATION",
    "folio mercantil no.": "REGISTRATION",
    "matricula mercantil no": "REGISTRATION",
    "matricula mercantil no.": "REGISTRATION",
    "legal entity number": "REGISTRATION",
    "unified social credit code (uscc)": "REGISTRATION",
    "c.r. no.": "REGISTRATION",
    "trade license no.": "REGISTRATION",
    "enterprise number": "REGISTRATION",
    "government gazette number": "REGISTRATION",
    "d-u-n-s number": "OTHER",
    "swift/bic": "OTHER",
    "driver's license no.": "OTHER",
    "birth certificate number": "OTHER",
}
_ID_RE = re.compile(
    r"^(?:alt\.\s+)?(?P<label>" + "|".join(re.escape(k) for k in sorted(ID_LABELS, key=len, reverse=True))
    + r")\s+(?P<number>[A-Za-z0-9][A-Za-z0-9\-./ ]*?)\s*(?:\((?P<country>[^)]*)\))?"
      r"(?:\s+(?:issued|expires|valid)\b.*)?\.?$",
    re.IGNORECASE,
)
_NAME_AKA_RE = re.compile(r"\b([afn])\.k\.a\.,?\s+'(.+?)'(?=\.?\s*(?:;|$))")
_DATE_RE = re.compile(r"^(?:(\d{1,2})\s+)?(?:([A-Za-z]{3})[a-z]*\.?\s+)?(\d{4})$")
_SIMPLE = {
    "gender": "gender",
    "website": None,
    "email address": "email",
    "email": "email",
    "telephone": "phone",
    "phone number": "phone",
    "organization established date": "incorporationDate",
    "vessel year of build": "buildDate",
    "aircraft manufacture date": "buildDate",
    "aircraft model": "model",
    "aircraft manufacturer's serial number (msn)": "serialNumber",
    "aircraft tail number": "registrationNumber",
    "mmsi": "mmsi",
}
_SIMPLE_RE = re.compile(
    # 'Telephone No. 0096...', 'Telephone: +1...': the label's 'No.' or colon is not part of the value.
    r"^(?:alt\.\s+)?(" + "|".join(re.escape(k) for k in sorted(_SIMPLE, key=len, reverse=True))
    + r")(?:\s+(?:no\.?|number|#))?\s*:?\s+(.+?)\.?$",
    re.IGNORECASE,
)
DATE_PROPS = {"incorporationDate", "buildDate"}
MAX_YEAR_RANGE = 10


@dataclass
class Parsed:
    """What the Remarks say, as workbench properties plus the relations to resolve later."""

    properties: dict[str, list[str]] = field(default_factory=dict)
    linked_to: list[str] = field(default_factory=list)
    id_countries: list[str] = field(default_factory=list)

    def add(self, prop: str, value: str | None) -> None:
        if value:
            values = self.properties.setdefault(prop, [])
            if value not in values:
                values.append(value)


_CIRCA_RE = re.compile(r"^\s*(circa|ca\.|c\.|approximately|approx\.|about)\s+", re.IGNORECASE)


def is_circa(text: str) -> bool:
    """'circa 1960', 'approximately 1960': a date OFAC gives only roughly."""
    return bool(_CIRCA_RE.match(text))


def parse_date(text: str) -> list[str]:
    """'06 Nov 1968' -> ['1968-11-06']; 'circa 1960' -> ['1960'] (is_circa tells it apart); '1960 to
    1962' -> every year of it (1960, 1961, 1962: a range of up to ten years; other ranges, both ends)."""
    text = _CIRCA_RE.sub("", text.strip().rstrip(".").strip())
    if " to " in text or re.match(r"^\d{4}\s*-\s*\d{4}$", text):
        ends = [d for end in re.split(r"\s+to\s+|\s*-\s*", text, maxsplit=1) for d in parse_date(end)]
        if len(ends) == 2 and all(len(e) == 4 for e in ends) and 0 < int(ends[1]) - int(ends[0]) <= MAX_YEAR_RANGE:
            return [str(year) for year in range(int(ends[0]), int(ends[1]) + 1)]
        return ends
    match = _DATE_RE.match(text)
    if not match:
        return []
    day, month, year = match.groups()
    if month and month.lower()[:3] not in MONTHS:
        return []
    if month and day:
        return [f"{year}-{MONTHS[month.lower()[:3]]:02d}-{int(day):02d}"]
    if month:
        return [f"{year}-{MONTHS[month.lower()[:3]]:02d}"]
    return [year]


def split_phrases(remarks: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Pull out quoted a.k.a./f.k.a. names (which may contain ';'), then split the rest on ';'."""
    names = [(m.group(1).lower(), m.group(2).strip()) for m in _NAME_AKA_RE.finditer(remarks)]
    rest = _NAME_AKA_RE.sub("", remarks)
    phrases = [p.strip().rstrip(".").strip() for p in rest.split(";")]
    return names, [p for p in phrases if p]


def parse_remarks(remarks: str | None, extra: list[str] | None = None) -> Parsed:
    parsed = Parsed()
    names, phrases = split_phrases(remarks or "")
    for phrase in extra or ():
        more_names, more = split_phrases(phrase)
        names.extend(more_names)
        phrases.extend(more)
    for kind, name in names:
        parsed.add("previousName" if kind == "f" else "weakAlias", name)
    for phrase in phrases:
        _phrase(parsed, phrase)
    return parsed


def _phrase(parsed: Parsed, phrase: str) -> None:
    lower = phrase.lower()
    if lower.startswith("linked to:"):
        target = phrase.split(":", 1)[1].strip().rstrip(".").strip()
        if target:
            parsed.linked_to.append(target)
        return
    for prefix in ("dob ", "alt. dob "):
        if lower.startswith(prefix):
            text = phrase[len(prefix):]
            # A rough year is kept as such: stored as an exact one, it would rule out the years around it.
            prop = "birthDateCirca" if is_circa(text) else "birthDate"
            for value in parse_date(text):
                parsed.add(prop, value)
            return
    if lower.startswith(("pob ", "alt. pob ")):
        place = phrase.split(" ", 2)[-1] if lower.startswith("alt.") else phrase[4:]
        parsed.add("birthPlace", place.strip())
        return
    for prefix, prop in (("nationality ", "nationality"), ("alt. nationality ", "nationality"),
                         ("citizen ", "citizenship"), ("alt. citizen ", "citizenship")):
        if lower.startswith(prefix):
            parsed.add(prop, country_code(phrase[len(prefix):]))
            return
    match = _ID_RE.match(phrase)
    if match:
        scheme = ID_LABELS[match.group("label").lower()]
        number = match.group("number").strip()
        if scheme == "IMO":
            number = re.sub(r"^IMO\s*", "", number, flags=re.IGNORECASE)
        if number:
            parsed.add("identifier", f"{scheme}:{number}")
            code = country_code(match.group("country"))
            if code and code not in parsed.id_countries:
                parsed.id_countries.append(code)
        return
    match = _SIMPLE_RE.match(phrase)
    if match:
        prop = _SIMPLE[match.group(1).lower()]
        value = match.group(2).strip()
        if prop is None:
            return
        if prop == "gender":
            value = value.lower()
            if value not in ("male", "female"):
                return
        if prop in DATE_PROPS:
            for date in parse_date(value):
                parsed.add(prop, date)
            return
        parsed.add(prop, value)
