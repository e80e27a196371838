"""Text folding shared by every layer: the stored ``names.normalized`` key and quick lookups.

Matching builds richer representations on top (workbench.matching.normalize); this is the one
cheap, stable fold that the store indexes.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

_NON_WORD = re.compile(r"[^0-9a-z]+")
# Letters that Unicode decomposition leaves alone but that have a plain Latin spelling.
_LATIN = str.maketrans({"ß": "ss", "ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D",
                        "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                        "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ŋ": "ng", "Ŋ": "NG", "ĸ": "k", "ſ": "s"})


def ascii_fold(text: str) -> str:
    """Latin letters lose their accents; other scripts are transliterated (anyascii: 'Иван Петров'
    -> 'Ivan Petrov', 'محمد' -> 'mhmd'), so a name in Cyrillic, Greek, Arabic or Hebrew is screened,
    not folded to nothing."""
    if text.isascii():  # most names: nothing to decompose or translate
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).translate(_LATIN)
    return folded if folded.isascii() else anyascii(folded)


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: 'GUZMÁN LOERA, Joaquín' -> 'guzman loera joaquin'."""
    return _NON_WORD.sub(" ", ascii_fold(text or "").lower()).strip()


# PostgreSQL cannot store a NUL character in text (SQLite can): the one message for every way it is refused.
NUL_MESSAGE = "contains a NUL character (\\x00), which cannot be stored: remove it"


# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection): names come
# from imported rolls, registries and lists, so '=HYPERLINK(...)' LLC must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def spreadsheet_cell(value: object) -> object:
    """The value as a CSV cell a spreadsheet shows as written: text that would start a formula gets
    a leading apostrophe (numbers such as -3.5 stay numbers)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
