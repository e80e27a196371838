"""What a reader reads for a stored value: a vocabulary key as its label, a country code as its name.

Pages, exports and case summaries all show values this way; the stored values never change.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from functools import cache

from workbench.schema import Property, registry


def property_label(props: Mapping[str, Property], name: str) -> str:
    """The schema's label for a property key (a key the schema no longer declares shows as itself)."""
    prop = props.get(name)
    return prop.label if prop is not None else name


def value_label(prop: Property | None, value: str) -> str:
    """What a reader reads for a stored value: a vocabulary key ('role.pep') as its label, a country code
    ('mx') as the country's name. The stored value never changes; unknown values show as themselves."""
    if prop is None:
        return value
    vocabulary = prop.spec["choices_from"]
    if vocabulary:
        return registry().vocabularies.get(vocabulary, {}).get(value, value)
    if prop.type.validator == "country":
        return country_label(value)
    return value


def shortened(text: str, limit: int = 80) -> str:
    """A value named in a menu or a one-line label: its start, when it is long (a pasted article)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def country_label(code: str) -> str:
    """A country's name for its ISO code: the schema's ``countries`` vocabulary when it declares one,
    else the name the importers' country table (workbench/sources/countries.py) reads as that code."""
    named = registry().vocabularies.get("countries", {}).get(code)
    return named or _country_names().get((code or "").lower(), code)


_SMALL_WORDS = frozenset({"and", "of", "the", "da", "de", "du", "des", "la", "le"})


@cache
def _country_names() -> dict[str, str]:
    """Code -> name from the name -> code table. That table also maps regions ('sinaloa mexico',
    'texas united states of america') to their country, so the country's own name is the one most
    often written after a region; a code with no such hint takes its only (or shortest non-acronym) name."""
    from workbench.sources.countries import NAMES

    by_code: dict[str, list[str]] = defaultdict(list)
    for name, code in NAMES.items():
        if len(name) > 2 and name != code.replace("-", " "):
            by_code[code].append(name)
    result = {}
    for code, names in by_code.items():
        suffixes = Counter(n for n in names for other in names if other != n and other.endswith(" " + n))
        if suffixes:
            best = suffixes.most_common(1)[0][0]
        else:
            best = min(names, key=lambda n: (len(n) <= 4, len(n), n))
        words = best.split()
        result[code] = " ".join(w if i and w in _SMALL_WORDS else w.capitalize() for i, w in enumerate(words))
    return result


# A page as a bare number: arabic ('12') or lowercase roman ('xii'), as front matter numbers its pages
# (capital roman numerals number chapters, articles and annexes: 'XII' is no page).
_PAGE = r"(?:\d+|(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3}))"
_ONE_PAGE = re.compile(_PAGE)
# Pages: a range ('7-8', '12–14', 'xii-xiv') or a list of pages and ranges ('3, 5, 9-10').
_RANGE = rf"{_PAGE}(?:\s*[-–—]\s*{_PAGE})?"
_PAGES = re.compile(rf"{_RANGE}(?:\s*,\s*{_RANGE})*")


def page_label(page: object) -> str | None:
    """How a cited page is shown: 'p. 3', 'pp. 7-8'. Only a bare page number, range or list of pages takes
    'p.'/'pp.': a locator that carries its own word ('p. 3', 'párr. 3', 'foja 12', 'row 1', 'Anexo B') is
    shown as typed, not as 'p. párr. 3' (nor 'p. p. 3')."""
    text = "" if page is None else str(page).strip()
    if not text:
        return None
    if _ONE_PAGE.fullmatch(text):
        return f"p. {text}"
    return f"pp. {text}" if _PAGES.fullmatch(text) else text


def pdf_page(page: object) -> int | None:
    """The page a PDF viewer opens for a cited page: the first number of a bare page, range or list ('12',
    '7-8', '3, 5'), or of 'p. 12' / 'pp. 7-8'; None for any other locator ('párr. 3', 'Anexo B', 'xii')."""
    text = "" if page is None else str(page).strip()
    found = re.fullmatch(r"(?:pp?\.\s*)?(\d+)(?:\s*[-–—,].*)?", text)
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def counted(n: int, one: str, many: str | None = None) -> str:
    """A count with its noun in the number it takes: '1 hit', '0 hits', '1,204 rows'."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def more_rows(found: list[str], total: int) -> str:
    """'; so do 3 more rows: line 5 (...), line 8 (...), and 1 more': the further bad rows a refusal names after
    its first (``found``: the first few, described; ``total``: how many there are). '' when there are none."""
    if not total:
        return ""
    more = f", and {total - len(found)} more" if total > len(found) else ""
    return f"; so {'does' if total == 1 else 'do'} {counted(total, 'more row')}: {', '.join(found)}{more}"


_MONEY = re.compile(r"(?P<sign>-?)(?P<whole>\d+)(?P<fraction>\.\d+)?(?:\s+(?P<currency>[A-Za-z]{3}))?")


def money_label(value: object) -> str:
    """An amount as a reader reads it: '412500 USD' (as stored: the amount, then its currency's code) as
    '412,500 USD', '450000.50' as '450,000.50'. A value stored otherwise shows as itself."""
    text = "" if value is None else str(value).strip()
    found = _MONEY.fullmatch(text)
    if not found:
        return text
    amount = f"{found['sign']}{int(found['whole']):,}{found['fraction'] or ''}"
    return f"{amount} {found['currency'].upper()}" if found["currency"] else amount
