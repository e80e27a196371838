"""What a reader reads for a stored value: a vocabulary key as its label, a country code as its name.

Pages, exports and case summaries all show values this way; the stored values never change.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import cache

from workbench.schema import Property, registry


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


_PAGE_WORD = re.compile(r"(?i)(pp?|pgs?|pages?)(\.|\s|\d|$)")


def page_label(page: object) -> str | None:
    """How a cited page is shown: 'p. 3'. A page typed as 'p. 3' or 'pp. 3-4' (a citation's page
    often is) is shown as typed, not as 'p. p. 3'."""
    text = "" if page is None else str(page).strip()
    if not text:
        return None
    return text if _PAGE_WORD.match(text) else f"p. {text}"
