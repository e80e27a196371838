"""Owner names as property rolls and registries write them, read as the names of the owners.

A roll's owner cell is often more than a name: 'SMITH JOHN ET AL', 'DOE JANE TRUSTEE',
'GARCIA FAMILY TRUST DATED 1/1/2001', 'ACME HOLDINGS LLC C/O JANE ROE', 'JOAQUIN GUZMAN LOERA ALIAS
EL CHAPO'. Scored as written, the
care-of name drags the company's score down and the company drags the person's (neither is
found), and the roll's notations count as unmatched words. Screening therefore asks for the cell
as written and also for each owner it names, without the notations.
"""

from __future__ import annotations

import re

from workbench.matching.data.names import LEGAL_FORMS

# 'C/O', 'C\O', 'CARE OF', 'ATTN', and the assessors' '%' all introduce the person mail goes to;
# 'ALIAS', 'A.K.A.', 'N.K.A.', 'F.K.A.' and Mexican documents' '(A)' another name of the same owner.
_CARE_OF = re.compile(r"(?:\bC\s*[/\\]\s*O\b|\bCARE\s+OF\b|\bATTN\b|\bATTENTION\b|%|"
                      r"(?<=\s)(?:ALIAS|[AFN]\.?\s?K\.?\s?A\.?)(?=[\s:]|$)|\(\s*A\s*\))\s*:?", re.IGNORECASE)
# Notations a roll writes after the owner's name (only at the end, so 'TRUST BANK OF X' keeps its words).
_TAIL = re.compile(
    r"(?:[\s,]+(?:ET\s*AL|ET\s*UX|ET\s*VIR|ETC|TRUSTEES?|TTEES?|TRS?|JTWROS|JT\s+TEN|TENANTS\s+IN\s+COMMON|"
    r"L\s*/\s*E|LIFE\s+ESTATE|(?:LIVING|FAMILY|REVOCABLE|IRREVOCABLE|REV|LIV)?\s*TRUST|"
    r"(?:DATED|DTD|U\s*/\s*[AD]|UTD)\b.*)\.?)+\s*$",
    re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:ESTATE\s+OF|THE)\s+", re.IGNORECASE)


def _clean(part: str) -> str:
    text = _LEAD.sub("", _TAIL.sub("", part)).strip(" ,;:-")
    return text


# Letters every notation above contains (upper-cased ASCII): a cell holding none of them (most owners)
# is read as written without running the patterns (~10 us a cell where this test takes under 1).
_CARE_OF_HINTS = ("/", "\\", "CARE", "ATT", "%", "ALIAS", "K", "(", "'", '"', "[")
_TAIL_HINTS = ("ET", "TR", "TTE", "JT", "TEN", "/", "LIFE", "DAT", "DTD", "UTD")
_LEAD_HINTS = ("ESTATE", "THE")
_HINTS = re.compile("|".join(re.escape(h) for h in _CARE_OF_HINTS + _TAIL_HINTS + _LEAD_HINTS))


def owner_names(cell: str) -> list[str]:
    """The cell as written, then each owner it names without the roll's notations, then a person's
    nickname written in quotes or brackets inside a name ('JOAQUIN GUZMAN LOERA (EL CHAPO)', "Joaquin
    'El Chapo' Guzman"): the name without it and the nickname alone (no repeats). A list may hold the
    person under the nickname only (OFAC's weak aliases), which the name without it would not find."""
    cell = (cell or "").strip()
    names = [cell] if cell else []
    # The hints are exact for ASCII; other letters may case-fold into the patterns.
    if cell.isascii() and not _HINTS.search(cell.upper()):
        cleaned = cell.strip(" ,;:-")
        if len(cleaned) > 2 and cleaned not in names:
            names.append(cleaned)
        return names
    for part in _CARE_OF.split(cell):
        cleaned = _clean(part)
        if len(cleaned) > 2 and cleaned not in names:
            names.append(cleaned)
    return _with_nicknames(names)


def _with_nicknames(names: list[str]) -> list[str]:
    from workbench.matching.normalize import set_aside_nicknames

    out = list(names)
    for name in names:
        rest, nicknames = set_aside_nicknames(name, None)
        for found in (rest, *nicknames):
            found = found.strip(" ,;:-")
            if len(found) > 2 and found not in out:
                out.append(found)
    return out


# Legal-form words that say "company" wherever they stand ('CT CORPORATION SYSTEM'); the short ones ('CO', 'SA')
# count only at the end of a name, where normalize finds legal forms.
_COMPANY_WORDS = frozenset(form for forms in LEGAL_FORMS.values() for form in forms if " " not in form and len(form) >= 4)


def names_a_company(cell: str) -> bool:
    """Whether a name as a registry writes it is a company's: it carries a legal form ('REGISTERED AGENTS,
    INC.', 'NORTHWEST AGENT LLC', 'CT CORPORATION SYSTEM'). A registry's agent column holds people and
    companies alike, with no code saying which; read as a person, a company is screened and drawn as one."""
    from workbench.matching.normalize import normalize

    form = normalize(cell, "Organization")
    return bool(form.legal_forms) or any(token.text in _COMPANY_WORDS for token in form.tokens)
