"""Property-type validators.

The list of property types lives in ``schema/property_types.yml``; each names one of the
validators below. A validator turns raw user or importer input into the stored string form and
reports problems as errors (the value is refused) or warnings (the value is kept, but the user is
told: a CURP or RFC with a bad check digit is real data more often than a typo).
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:  # pragma: no cover
    from workbench.schema import Registry


@dataclass(slots=True)
class Checked:
    """A value after validation: the normalised form plus anything the user should hear."""

    value: str | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


Validator = Callable[[str, dict, "Registry"], Checked]

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_COUNTRY_RE = re.compile(r"^[a-z]{2}(-[a-z0-9]{1,3})?$")
# An amount: digits with commas between thousands or none, a point before the fraction; an ISO currency code
# before or after it and a currency sign before it, each optional ('USD 450,000', '$450,000', '450000.50 MXN').
_MONEY_RE = re.compile(r"^(?:(?P<before>[A-Za-z]{3})\s*)?(?P<sign>US\$|MX\$|\$|€|£)?\s*"
                       r"(?P<amount>\d{1,3}(?:,\d{3})+|\d+)(?P<fraction>\.\d+)?\s*(?P<after>[A-Za-z]{3})?$",
                       re.IGNORECASE)
# Currency signs that name one currency. A bare '$' names none: it is the U.S. dollar's sign and the Mexican
# peso's (and a dozen others'), and this workbench holds both U.S. and Mexican assets.
_MONEY_SIGNS = {"US$": "USD", "MX$": "MXN", "€": "EUR", "£": "GBP"}
MONEY_HELP = ("An amount, with commas between thousands or none and a point before cents, and an optional ISO "
              "currency code before or after it: 450000, 450,000.50 MXN, USD 450,000, US$450,000. A bare $ is "
              "both the dollar's and the peso's sign: add the code (450000 USD, 450000 MXN) to keep the currency.")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_ALNUM = re.compile(r"[^\W_]")  # exactly the characters str.isalnum() accepts


# Formatting controls that make text display in another order than it is stored ('\u202eevil'
# shows as 'live'): a page, an export or a dossier would show a name other than the one stored.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Invisible characters with no meaning in a name or a short value: two names that look the same
# would differ. They go, as runs of spaces do; the joiners that some scripts need (U+200C, U+200D) stay.
_INVISIBLE = str.maketrans("", "", "\u200b\u2060\ufeff")


def _strip(raw: object) -> str:
    return str(raw).strip() if raw is not None else ""


def direction_control_error(value: str) -> list[str]:
    if value.isascii():  # no direction control is ASCII: importers check ~10^5 values that are
        return []
    found = _BIDI_CONTROLS.search(value)
    if found is None:
        return []
    return [f"contains the invisible direction control U+{ord(found.group()):04X}, which makes the text display "
            "in another order than it is stored: remove it"]


def _shown_as_stored(value: str) -> Checked:
    """The value, unless a direction control would show it in another order than it is stored."""
    errors = direction_control_error(value)
    return Checked(None, errors=errors) if errors else Checked(value or None)


def check_text(raw: str, spec: dict, registry: Registry) -> Checked:
    return _shown_as_stored(_strip(raw))


def _one_line(raw: object) -> str:
    """A one-line value as stored: spaces collapsed, invisible characters gone, and composed (NFC), so that
    'José' typed with a combining accent is the same value as 'José' typed whole: an entry held both as two
    identical-looking aliases, which no duplicate check could tell apart on the page."""
    text = _strip(raw)
    if text.isascii():  # neither an invisible character nor a composable one is ASCII
        return " ".join(text.split())
    return unicodedata.normalize("NFC", " ".join(text.translate(_INVISIBLE).split()))


def check_string(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _one_line(raw)
    if len(value) > 1000:
        return Checked(None, errors=["is longer than 1000 characters"])
    return _shown_as_stored(value)


NAME_MAX_CHARS = 500  # a stored name's limit, and a searched one's: scoring time grows with the square of its words


def check_name(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _one_line(raw)
    if len(value) > NAME_MAX_CHARS:
        return Checked(None, errors=[f"a name is at most {NAME_MAX_CHARS} characters"])
    if value and not _ALNUM.search(value):
        return Checked(None, errors=[f"'{value}' contains no letters or digits"])
    return _shown_as_stored(value)


def check_date(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw)
    if not value:
        return Checked(None)
    match = _DATE_RE.match(value)
    if not match:
        return Checked(None, errors=[f"'{value}' is not a date: use 1979, 1979-02 or 1979-02-13"])
    year, month, day = (int(g) if g else None for g in match.groups())
    if not 1000 <= year <= 2999:
        return Checked(None, errors=[f"'{value}': year {year} is out of range"])
    if month is not None and not 1 <= month <= 12:
        return Checked(None, errors=[f"'{value}': month {month} does not exist"])
    if day is not None:
        import calendar

        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            return Checked(None, errors=[f"'{value}': day {day} does not exist in {year}-{month:02d}"])
    return Checked(value)


def check_country(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw).lower()
    if not value:
        return Checked(None)
    if not _COUNTRY_RE.match(value):
        return Checked(None, errors=[f"'{raw}' is not an ISO country code (e.g. mx, us)"])
    from workbench.sources.countries import CODES

    # Kept (another tool's list may know it), but a typo should not pass unseen. 'zz' is FtM's "no
    # particular country" (global lists), which FtM files carry.
    if value not in CODES and value != "zz":
        return Checked(value, warnings=[f"'{value}' is not a country code this workbench knows (e.g. mx, us)"])
    return Checked(value)


# Characters that are never valid unescaped in a URL (RFC 3986): a pasted URL holding one is broken or
# crafted ('https://host/a<script>'), and every page and export that prints it would have to defend itself.
_NOT_IN_URL = re.compile(r'[<>"\s\x00-\x1f\x7f-\x9f]')


def _describe_char(char: str) -> str:
    if char == " ":
        return "a space"
    if char.isspace():
        return f"a whitespace character (U+{ord(char):04X})"
    if not char.isprintable():
        return f"a control character (U+{ord(char):04X})"
    return f"'{char}'"


def check_url(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw)
    if not value:
        return Checked(None)
    bad = _NOT_IN_URL.search(value)
    if bad:
        char = bad.group(0)
        fix = f"write it as %{ord(char):02X}" if ord(char) < 0x80 else "remove it"
        message = (f"the URL contains {_describe_char(char)} at character {bad.start() + 1}, which a URL never "
                   f"holds unescaped: {fix}, or copy the address again from the browser's address bar")
        return Checked(None, errors=[message])
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return Checked(None, errors=[f"'{value}' is not an http(s) URL"])
    return Checked(value)


def check_email(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw)
    if value and not _EMAIL_RE.match(value):
        return Checked(None, errors=[f"'{value}' is not an e-mail address"])
    return Checked(value or None)


def check_money(raw: str, spec: dict, registry: Registry) -> Checked:
    """An amount as ``AMOUNT`` or ``AMOUNT CODE`` ('450000.50 MXN'), from any of the forms MONEY_HELP names, so
    that every money property (an asset's value, an ownership's price) takes the same ones. A currency given
    by its code or by a sign that names one is kept; a bare '$' keeps the amount alone, with a warning."""
    value = " ".join(_strip(raw).split())
    if not value:
        return Checked(None)
    match = _MONEY_RE.match(value)
    if not match:
        return Checked(None, errors=[f"'{value}' is not an amount: write it as 450000, 450,000.50, 450000 USD, "
                                     "USD 450,000 or US$450,000 (commas only between thousands, a point before "
                                     "cents)"])
    sign = (match.group("sign") or "").upper()
    named = [code.upper() for code in (match.group("before"), _MONEY_SIGNS.get(sign), match.group("after")) if code]
    if len(set(named)) > 1:
        return Checked(None, errors=[f"'{value}' names two currencies ({' and '.join(dict.fromkeys(named))}): "
                                     "keep the one the source gives"])
    amount = match.group("amount").replace(",", "") + (match.group("fraction") or "")
    currency = named[0] if named else ""
    warnings = []
    if sign == "$" and not currency:
        warnings.append(f"'{value}': $ is both the U.S. dollar's and the Mexican peso's sign, so the amount was "
                        f"kept without a currency: write {amount} USD or {amount} MXN to record it")
    return Checked(f"{amount} {currency}".strip(), warnings=warnings)


def check_number(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw)
    if not value:
        return Checked(None)
    try:
        Decimal(value)
    except InvalidOperation:
        return Checked(None, errors=[f"'{value}' is not a number"])
    return Checked(value)


def check_percentage(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw).rstrip("%").strip()
    if not value:
        return Checked(None)
    try:
        number = Decimal(value)
    except InvalidOperation:
        return Checked(None, errors=[f"'{raw}' is not a percentage"])
    if not 0 <= number <= 100:
        return Checked(None, errors=[f"'{raw}' is not between 0 and 100"])
    return Checked(value)


def check_choice(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw)
    if not value:
        return Checked(None)
    choices = registry.choices_for(spec)
    if choices and value not in choices:
        return Checked(None, errors=[f"'{value}' is not one of: {', '.join(choices)}"])
    return Checked(value)


def check_sha256(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw).lower()
    if value and not _SHA256_RE.match(value):
        return Checked(None, errors=[f"'{raw}' is not a SHA-256 hex digest"])
    return Checked(value or None)


def split_identifier(value: str) -> tuple[str, str]:
    """Split the stored ``SCHEME:VALUE`` form."""
    scheme, _, number = value.partition(":")
    return scheme.strip().upper(), number.strip()


def format_identifier(scheme: str, number: str) -> str:
    return f"{scheme.strip().upper()}:{number.strip()}"


def compact_identifier(number: str, keep_case: bool = False) -> str:
    """Identifiers are compared without separators or case (OFAC writes ``ZANM-710304-RN2``), and
    without invisible format characters (a zero-width space or a direction control would make one
    CURP two, or show it in another order). ``keep_case``: a scheme whose values differ by case (a digital
    currency address) is stored as written."""
    if not number.isascii():  # importers compact tens of thousands of plain ASCII numbers
        number = "".join(ch for ch in number if unicodedata.category(ch) != "Cf")
    number = re.sub(r"[\s\-./]", "", number)
    return number if keep_case else number.upper()


def check_identifier(raw: str, spec: dict, registry: Registry) -> Checked:
    value = _strip(raw)
    if not value:
        return Checked(None)
    if ":" not in value:
        first, _, rest = value.partition(" ")
        example = (f"{first.upper()}:{rest.strip()}" if rest.strip() and first.upper() in registry.identifier_schemes
                   else f"CURP:{value}")
        return Checked(None, errors=[f"'{value}' needs a scheme: SCHEME:VALUE, e.g. {example}"])
    scheme_name, number = split_identifier(value)
    scheme = registry.identifier_schemes.get(scheme_name)
    if scheme is None:
        known = ", ".join(sorted(registry.identifier_schemes))
        return Checked(None, errors=[f"unknown identifier scheme '{scheme_name}' (known: {known})"])
    number = compact_identifier(number, keep_case=scheme.case_sensitive)
    if not number:
        return Checked(None, errors=[f"{scheme_name} has no value"])
    warnings = scheme.check_warnings(number)
    return Checked(format_identifier(scheme_name, number), warnings=warnings)


VALIDATORS: dict[str, Validator] = {
    "text": check_text,
    "string": check_string,
    "name": check_name,
    "date": check_date,
    "country": check_country,
    "url": check_url,
    "email": check_email,
    "money": check_money,
    "number": check_number,
    "percentage": check_percentage,
    "choice": check_choice,
    "sha256": check_sha256,
    "identifier": check_identifier,
}


def stdnum_check(module_path: str, number: str) -> str | None:
    """Run a python-stdnum validator; return a human message when it fails, else None."""
    module = importlib.import_module(module_path)
    try:
        module.validate(number)
    except Exception as exc:  # stdnum raises ValidationError subclasses with a message
        message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
        return message
    return None
