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

from workbench.schema import registry
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
    "v.a.t. number": "VAT",
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
    "legal entity number": "LEI",
    "unified social credit code (uscc)": "REGISTRATION",
    "c.r. no.": "REGISTRATION",
    "trade license no.": "REGISTRATION",
    "enterprise number": "REGISTRATION",
    "government gazette number": "REGISTRATION",
    "d-u-n-s number": "OTHER",
    "swift/bic": "SWIFT_BIC",
    "driver's license no.": "OTHER",
    "birth certificate number": "OTHER",
    "immigration no.": "OTHER",
    "isin": "OTHER",
    "identification number isin": "OTHER",  # a security's ISIN, not a person's ID
    "passport booklet": "PASSPORT",
    "british national overseas passport": "PASSPORT",
    # Latin America and Turkey (schemes with their country, and a check where python-stdnum has one)
    "c.u.i.": "CUI",
    "c.u.i.t.": "CUIT",
    "c.u.i.p.": "CUIP",
    "rif": "RIF",
    "tax id no. rif": "RIF",
    "numero de identidad": "HN_IDENTIDAD",
    "rtn": "RTN",
    "le number": "LE",
    "turkish identification number": "TCKN",
}
# 'Digital Currency Address - XBT 1Kuf...': one scheme per currency, so that an XBT and an ETH
# address stay told apart (and a search for the bare address still finds it).
# The currencies are the CRYPTO_<code> schemes schema/identifiers.yml holds (a currency added there is read here).
ID_LABELS.update({f"digital currency address - {name.partition('_')[2].lower()}": name
                  for name in registry().identifier_schemes if name.startswith("CRYPTO_")})
# Labels whose codes may be letters only (a BIC such as BKBPIRTH); every other number holds a digit.
_LETTER_CODES = {"swift/bic": re.compile(r"^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")}
_ID_RE = re.compile(
    r"^(?:alt\.\s+)?(?P<label>" + "|".join(re.escape(k) for k in sorted(ID_LABELS, key=len, reverse=True))
    + r")(?![A-Za-z0-9])"
    # 'C.U.R.P. # X', 'Passport No.: X', 'Italian Fiscal Code: X'; a sub-label 'CUD: X', 'CNIC: X' is not the number's
    r"(?:\s+no\.?(?![A-Za-z0-9]))?\s*[#:]?\s*(?:[A-Z]{2,5}:\s*)?(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Words that end a number ('OR801168 and Kuwaiti National ID ...', 'Passport issued in ...').
_STOPWORDS = frozenset({"and", "or", "were", "was", "is", "issued", "issue", "expires", "expired", "expire",
                        "expiry", "valid", "dated", "no", "number", "of", "in", "the", "by", "under", "for", "on",
                        "at", "from", "booklet", "see", "also", "with", "to"})
_TRAILER_RE = re.compile(r"^,?\s*(?:issued|expires|expired|valid|issue date|expire date|expiry date|"
                         r"expiration date|date of issue)\b", re.IGNORECASE)
_PAREN_RE = re.compile(r"^\(([^()]*)\)\s*")
# One number token holding a digit (no parenthesis, slash or comma, which the careful reading splits), then at
# most one parenthesised country, and nothing else.
_SIMPLE_ID_RE = re.compile(r"^\s*(?P<number>(?=[A-Za-z0-9\-.]*\d)[A-Za-z0-9][A-Za-z0-9\-.]*[A-Za-z0-9])\s*"
                           r"(?:\((?P<country>[A-Za-z][A-Za-z .'\-]*)\))?\s*$")
# Kept as part of a number: 'HRB 26136', 'TR-P 614166', 'R.E. 201000798316', '670850 Y'.
_PREFIX_RE = re.compile(r"^[A-Z]{1,5}(?:-[A-Z]{1,2})?$|^(?:[A-Z]\.){1,4}$|^[A-Za-z]$")
_WORD_RE = re.compile(r"^[A-Z][A-Za-z'\-]*$")  # 'Booklet', 'Laissez-Passer', 'Nabatieh'
# 'Registration ID 6000845 Nabatieh (Lebanon)': a place named after a number of at least this many digits
# is the register's; after a shorter one ('Identification Number 61 Niha El-Mehfara') it reads as an address.
_PLACE_AFTER_DIGITS = 5
# The name in straight quotes, as OFAC writes it, or in curly ones, as a copy passed through a word processor
# or saved as Windows-1252 has them ('GUILLERMO LABASTIDA' was lost so).
_NAME_AKA_RE = re.compile(r"\b([afn])\.k\.a\.,?\s+['\u2018](.+?)['\u2019](?=\.?\s*(?:;|$))")
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
    1962' -> every year of it (1960, 1961, 1962: a range of up to ten years; other ranges, both ends).

    A range of days or months is read as the years it spans, like a range of years: '01 Jan 1977 to
    31 Dec 1985' says the person was born some time in 1977-1985, and its two ends stored as exact
    dates would say born on one of those two days. A range within one month is that month."""
    text = _CIRCA_RE.sub("", text.strip().rstrip(".").strip())
    if " to " in text or re.match(r"^\d{4}\s*-\s*\d{4}$", text):
        ends = [d for end in re.split(r"\s+to\s+|\s*-\s*", text, maxsplit=1) for d in parse_date(end)]
        if len(ends) != 2:
            return ends
        if len(ends[0]) > 4 and ends[0][:7] == ends[1][:7]:
            return [ends[0][:7]]  # '01 Oct 1992 to 31 Oct 1992'
        first, last = int(ends[0][:4]), int(ends[1][:4])
        if 0 <= last - first <= MAX_YEAR_RANGE:
            return [str(year) for year in range(first, last + 1)]
        return list(dict.fromkeys(end[:4] for end in ends))
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


# OFAC's SDN.CSV cuts Remarks at 1,000 characters; a complete Remarks text ends with a full stop.
REMARKS_LIMIT = 1000


def cut_short(remarks: str) -> bool:
    """Whether OFAC cut these Remarks at the field's limit, in the middle of the last phrase."""
    text = remarks.strip()
    return len(text) >= REMARKS_LIMIT - 5 and not text.endswith((".", ";"))


def parse_remarks(remarks: str | None, extra: list[str] | None = None) -> Parsed:
    parsed = Parsed()
    names, phrases = split_phrases(remarks or "")
    if remarks and cut_short(remarks) and phrases:
        # 'alt. Digital Currency Address - XBT 1Gq': the rest of the address is not in the file.
        phrases.pop()
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
    found = read_identifiers(phrase)
    if found is not None:
        reg = registry()
        for scheme, number, code in found:
            parsed.add("identifier", f"{reg.refined_scheme(scheme, code, number)}:{number}")
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


def read_identifiers(phrase: str) -> list[tuple[str, str, str | None]] | None:
    """(scheme, number, country code) of each identifier an identifier phrase names; None when the
    phrase does not start with a known label, [] when it does but names no number (the phrase stays
    in the notes with the rest of the Remarks).

    A number is made of tokens holding a digit ('D489833(9)', '(HWI)040182', 'AR-11/2002'), with
    short capital prefixes ('HRB 26136', 'TR-P 614166') and single letters ('670850 Y'); words
    before it qualify it ('Booklet A5250088', 'Laissez-Passer 02154') and are left out; anything
    after it must read as a country, a place or a date of issue, or another identifier after 'and'.
    Parenthesised qualifiers may name a state before the country: '(Jalisco) (Mexico)'."""
    match = _ID_RE.match(phrase)
    if not match:
        return None
    label = match.group("label").lower()
    scheme = ID_LABELS[label]
    simple = _SIMPLE_ID_RE.match(match.group("rest"))
    if simple and scheme != "IMO":
        # Most phrases are one number and maybe a country ('Passport G03442741 (Mexico)'): read at once. The
        # rest below gives the same for them (tests compare both over the whole list) at several times the cost.
        named = simple.group("country")
        code = country_code(named) if named else None
        if not named or code:
            return [(scheme, simple.group("number"), code)]
    letter_code = _LETTER_CODES.get(label)
    tokens = _tokens(match.group("rest"))
    parts: list[str] = []
    country: str | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word = token.rstrip(",;")
        if not parts and word.lower() not in _STOPWORDS and not _has_digit(word) and _WORD_RE.match(word) \
                and not _PREFIX_RE.match(word) and not (letter_code and letter_code.match(word)):
            index += 1  # a qualifier before the number: 'Booklet', 'Laissez-Passer', a tax office's name
            continue
        if word.lower() in _STOPWORDS:
            break
        if _number_token(word) or (letter_code and letter_code.match(word)):
            # 'N348171/IRAQ', '123456(Iraq)': the country is not the number's
            suffix = re.match(r"^(.*\d.*?)(?:/([A-Za-z]{4,})|\(([A-Za-z][A-Za-z ,.'\-]{3,})\))$", word)
            if suffix and country_code(suffix.group(2) or suffix.group(3)):
                word, country = suffix.group(1), country_code(suffix.group(2) or suffix.group(3))
            parts.append(word)
        elif word in ("-", "/") or (_PREFIX_RE.match(word) and not (len(word) >= 4 and country_code(word))):
            parts.append(word)
        else:
            break
        index += 1
        if word != token:  # 'D000000483, Diplomatic': a comma ends the number
            break
    while parts and parts[-1] in ("-", "/"):
        parts.pop()  # a number does not end on a dash
        index -= 1
    number = " ".join(parts)
    if not number or not (_has_digit(number) or (letter_code and letter_code.match(number))):
        return []
    tail = _tail(tokens, index, match.group("rest")).strip()
    more: list[tuple[str, str, str | None]] = []
    quals = []
    while (paren := _PAREN_RE.match(tail)):
        quals.append(paren.group(1))
        tail = tail[paren.end():]
    tail = tail.strip()
    if tail.startswith(","):  # ', Kenya', ', Eritrea, Issue Date ...', ', Diplomatic (Syria)'
        first, _, rest = tail[1:].partition(",")
        words = re.match(r"^\s*([A-Za-z][A-Za-z .'\-]*?)\s*((?:\([^()]*\)\s*)*)$", first)
        if words and (country_code(words.group(1)) or re.fullmatch(r"[A-Z][a-z]+", words.group(1))):
            quals += [words.group(1), *re.findall(r"\(([^()]*)\)", words.group(2))]
            tail = rest.strip()
            if tail and not _TRAILER_RE.match(tail):
                return []
            tail = ""
    place = re.match(r"^[A-Z][A-Za-z'\-]*(?:\s+[A-Z][A-Za-z'\-]*){0,2}(?=\s*(?:\(|$))", tail)
    if place and not quals and sum(ch.isdigit() for ch in number) >= _PLACE_AFTER_DIGITS \
            and not any(w.lower() in _STOPWORDS for w in place.group().split()):
        tail = tail[place.end():].strip()
        while (paren := _PAREN_RE.match(tail)):
            quals.append(paren.group(1))
            tail = tail[paren.end():]
        tail = tail.strip()
    if re.match(r"^and\s", tail, re.IGNORECASE):
        rest = tail[4:].strip()
        # 'Passport OR801168 and Kuwaiti National ID No. 281020505755 ...': another identifier follows
        more = read_identifiers(rest) or read_identifiers(rest.partition(" ")[2]) or []
    elif tail and not _TRAILER_RE.match(tail):
        return []  # 'Identification Number 61 Niha El-Mehfara' is an address, not an identifier
    for qual in quals:
        country = country_code(qual) or country
    if scheme == "IMO":
        number = re.sub(r"^IMO\s*", "", number, flags=re.IGNORECASE)
    number = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", number)  # 'BE 454,419,759': thousands separators
    return [(scheme, number, country), *more]


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _number_token(token: str) -> bool:
    """'D489833(9)', '(HWI)040182', '12/BAHANA(N)010023', '14(RV. NO: 103100149)', 'G9336_77', '(29)'."""
    if not _has_digit(token):
        return False
    if token.startswith("(") and token.endswith(")") and token.count("(") == 1:
        return token[1:-1].isdigit() and len(token) <= 6  # '(29)' of 'F.5 (29) AR-11/2002'; '(Mexico)' is not
    outside = re.sub(r"\([^()]*\)", "", token)
    return bool(re.fullmatch(r"[A-Za-z0-9\-./_,]+", outside or "0")) and outside[-1:] not in ",-/"


def _tokens(text: str) -> list[str]:
    """Split on spaces, except inside parentheses attached to a token: '14(RV. NO: 103100149)'."""
    tokens: list[str] = []
    index, length = 0, len(text)
    while index < length:
        if text[index].isspace():
            index += 1
            continue
        start, depth = index, 0
        while index < length and (depth or not text[index].isspace()):
            if text[index] == "(":
                depth += 1
            elif text[index] == ")" and depth:
                depth -= 1
            index += 1
        tokens.append(text[start:index])
    return tokens


def _tail(tokens: list[str], index: int, text: str) -> str:
    """What follows the number's tokens, as written (a comma that ended the number included)."""
    consumed = tokens[:index]
    position = 0
    for token in consumed:
        position = text.index(token, position) + len(token)
    if consumed and consumed[-1][-1:] in ",;":
        position -= 1
    return text[position:]
