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


def sort_key(text: str, folded: str | None = None) -> str:
    """How a list orders names: by their fold, so 'Álvarez' and 'de la Cruz' stand among the A's and
    D's (byte order puts accented and lower-case names after 'Z'). The same on SQLite and PostgreSQL,
    whatever the server's collation. ``folded``: fold(text), when the caller has it (an importer's cache)."""
    return (fold(text) if folded is None else folded)[:500]


_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")


def filename_safe(text: str) -> str:
    """The whole of ``text`` (two ids that share a prefix must not share a file name), with every character a
    file system or a quoted Content-Disposition header could misread replaced."""
    return _UNSAFE_IN_FILENAME.sub("_", text)


# PostgreSQL cannot store a NUL character in text (SQLite can): the one message for every way it is refused.
NUL_MESSAGE = "contains a NUL character (\\x00), which cannot be stored: remove it"
# A lone surrogate (half of a UTF-16 pair: JSON can spell one, '\ud800') is no character: UTF-8 cannot
# encode it, so SQLite refused it with a traceback and PostgreSQL with an error.
SURROGATE_MESSAGE = ("contains a lone surrogate (half of a character, e.g. '\\ud800' from text decoded wrongly), "
                     "which cannot be stored: retype that part")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """Why no database can store ``text`` (a NUL, a lone surrogate), or None."""
    if text.isascii() and "\x00" not in text:  # most values: no surrogate is ASCII (isascii is a flag, not a scan)
        return None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return NUL_MESSAGE if found.group() == "\x00" else SURROGATE_MESSAGE


def encodable(text: str) -> str:
    """``text`` with any lone surrogate written out ('\\ud800'), so an answer quoting it can be sent."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# A spreadsheet reads a cell that starts with one of these as a formula (CSV injection): names come
# from imported rolls, registries and lists, so '=HYPERLINK(...)' LLC must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


# A spreadsheet set to a Spanish or European locale splits a CSV line at ';' (quotes or not, a comma
# file read that way is split at every ';'): 'ACME;=HYPERLINK(..)' would give a cell '=HYPERLINK(..)'.
_FORMULA_AFTER_SEMICOLON = re.compile(r";(?=[=+\-@])")


def spreadsheet_cell(value: object) -> object:
    """The value as a CSV cell a spreadsheet shows as written: text that would start a formula gets
    a leading apostrophe (numbers such as -3.5 stay numbers), and a ';' before a formula sign gets a
    space after it, so that the cell a ';'-splitting spreadsheet makes of the rest starts with a space."""
    if not isinstance(value, str):
        return value
    value = _FORMULA_AFTER_SEMICOLON.sub("; ", value)
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
