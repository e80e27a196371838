"""Turn a raw name into comparable parts, so the scorer compares identities rather than spellings.

One pass handles: accents and case (``workbench.text.fold``), punctuation, OFAC's ``SURNAMES, Given``
order (parts get tagged family/given), particles (de, del, y, al, ...), suffixes (Jr., III), legal forms
(``S.A. DE C.V.`` = ``SOCIEDAD ANONIMA DE CAPITAL VARIABLE``; LLC, Inc., Ltd. ...; a name that is only
a legal form has no parts), numbers (``001`` = ``1``, ``No. 5`` = ``5``, XII = 12 in an organisation's
name: ``NameForm.numbers``), ``&`` = ``and``,
diminutives and spelling families (Chuy = Jesús, Mohamed = Muhammad; -ito/-ita forms of them, Nachito =
Nacho = Ignacio), a person's nickname in quotes or brackets (set aside: ``NameForm.nicknames``), a married
woman's husband's surname (``PATERNAL DE HUSBAND``, ``VDA. DE``: ``NameForm.married``) and a phonetic key
tuned to Spanish (c/s/z, b/v, ll/y, silent h, qu/k, gua/hue/w), which Soundex is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from workbench.matching.data.names import (
    DIMINUTIVES,
    FEMININE_GIVEN_NAMES,
    GENERIC_ORG_WORDS,
    GIVEN_NAMES,
    JOINABLE_PARTICLES,
    LEGAL_FORMS,
    MASCULINE_GIVEN_NAMES,
    MASCULINE_NAMES_IN_A,
    ORG_PARTICLES,
    ORG_SIGN_WORDS,
    PARTICLES,
    SHORT_FORMS,
    VARIANT_FAMILIES,
    WIDOW_WORDS,
)
from workbench.text import fold

PERSON, ORG = "person", "org"
GIVEN, FAMILY = "given", "family"
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "junior", "senior", "hijo"})
# Honorifics and titles that precede names and say nothing about who it is.
TITLES = frozenset({"mr", "mrs", "ms", "dr", "lic", "ing", "sr", "sra", "haji", "hajji", "mullah",
                    "sheikh", "shaykh", "gen", "general", "col", "capt"})  # not "don": also a surname part

# The label this project puts on invented records, in brackets or in capitals at either end of the name
# ('José María Villaseñor Ibarra (FICTIONAL)', 'FICTIONAL Transportes Ejemplares', as the demo and every FICTIONAL
# sample write it): it marks the record, it is no part of the name. Scored as a word, it cost an exact match 0.15
# and hid the duplicate warning for a labelled entry. The word elsewhere ('Fictional Films LLC') is a name's.
_LABEL = re.compile(r"\(\s*fictional\s*\)|^\s*FICTIONAL(?=[\s,.]|$)[\s,.]*|[\s,.]+FICTIONAL\s*$", re.IGNORECASE)
_LABEL_CAPITALS = re.compile(r"^\s*FICTIONAL\b|\bFICTIONAL\s*$")


def _without_label(raw: str) -> tuple[str, bool]:
    """The name without the project's FICTIONAL label, and whether it had one (a name that is only the label
    keeps it: it is all there is)."""
    if "ictional" not in raw and "ICTIONAL" not in raw:  # nearly every name: no regex on the screening path
        return raw, False
    stripped = raw
    for match in reversed(list(_LABEL.finditer(raw))):
        text = match.group()
        if "(" not in text and not _LABEL_CAPITALS.search(text):
            continue  # 'Fictional' at an end, not in capitals: a name's own word
        stripped = stripped[:match.start()] + " " + stripped[match.end():]
    stripped = " ".join(stripped.split())
    return (stripped, True) if stripped and stripped != " ".join(raw.split()) else (raw, False)

_VARIANT_CANON = {spelling: family[0] for family in VARIANT_FAMILIES for spelling in family}

# Numbers in a name (a branch, a series, a lot: 'GASOLINERA 5 DE MAYO', 'EMPRESA 011') are no words to
# spell-match but a fact that tells two names apart: each is a part written as its value, aligned only
# with the same value, and kept in ``NameForm.numbers`` for the scorer to weigh (score.numbers_adjusted).
# '001' = '1'; an ordinal ending ('1º' folds to '1o', '3er', '2nd') and a sign written before the number
# ('No. 5', 'Nº 5', 'NUM 5', '#5') say nothing more. 'A' is no ordinal ending here: '1A' is a series
# ('LOTE 1A' / 'LOTE 1B'), a part of its own (a code: score.token_similarity).
NUMBER_SIGNS = frozenset({"n", "no", "nro", "nr", "num", "numero", "ndeg"})
_NUMBER_WORD = re.compile(r"(?:n|no|nro|nr|num|numero|ndeg)?(\d+)"
                          r"(?:o|er|ro|ra|do|da|to|ta|vo|va|mo|ma|no|na|st|nd|rd|th)?")


def _roman(value: int) -> str:
    out = []
    for number, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while value >= number:
            out.append(letters)
            value -= number
    return "".join(out)


# Roman numerals of two letters or more written with i, v and x (II to XXXIX): in an organisation's
# name a number ('FIDEICOMISO III' = 'FIDEICOMISO 3'). Single letters are initials, and numerals with
# l, c, d or m are words too often ('MIL', 'CD', 'DC', 'MIX'). In a person's name II, III and IV stay
# generational suffixes.
ROMAN_NUMERALS = {_roman(v): str(v) for v in range(2, 40) if len(_roman(v)) >= 2}


_THOUSANDS = re.compile(r"(?<=\d)[,.](?=\d{3}(?!\d))")
_DIGIT = re.compile(r"\d")


def without_thousands(text: str) -> str:
    """'2,100' and '2.100' as '2100': a thousands separator is no comma of the OFAC 'SURNAMES, Given' form."""
    return _THOUSANDS.sub("", text) if ("," in text or "." in text) and _DIGIT.search(text) else text


@lru_cache(maxsize=100_000)
def number_value(word: str) -> str | None:
    """The value of a folded word that is a number ('001' -> '1', '3er' -> '3', 'no5' -> '5'), or None.
    Letters-only words are no numbers (callers test ``word.isalpha()`` first: it is most words)."""
    found = _NUMBER_WORD.fullmatch(word)
    if found is None:
        return None
    return found.group(1).lstrip("0") or "0"

# A legal form only counts at the end of an organisation name (or before a trailing comma part).
_LEGAL_TAIL = {form: code for code, forms in LEGAL_FORMS.items() for form in forms}
_MAX_FORM_WORDS = max(len(form.split()) for form in _LEGAL_TAIL)
_FORM_WORDS = frozenset(w for form in _LEGAL_TAIL for w in form.split())  # the last word of a legal form is one


# Schema values that say person or organisation whatever schema/ holds (FtM names, OFAC SDN types).
_PERSON_WORDS = frozenset({"person", "individual", "people"})
_ORG_WORDS = frozenset({"organization", "organisation", "company", "publicbody", "legalentity", "entity", "vessel",
                        "aircraft", "business"})


@lru_cache(maxsize=1024)
def known_schema(schema: str) -> bool:
    """Whether an input file's schema value names something (a kind, an FtM schema, an OFAC type)."""
    from workbench.schema import registry

    s = schema.strip().lower()
    return s in _PERSON_WORDS or s in _ORG_WORDS or s in {name.lower() for name in registry().entity_kinds}


def schema_kind(schema: str | None) -> str | None:
    """Person-like or organisation-like, from an FtM/workbench kind name or an OFAC SDN type."""
    if not schema:
        return None
    s = schema.strip().lower()
    if s in _PERSON_WORDS:
        return PERSON
    if s in _ORG_WORDS:
        return ORG
    try:
        from workbench.schema import registry

        kind = registry().entity_kind(schema)
        if kind.is_a("Person"):
            return PERSON
        if kind.is_a("Organization"):
            return ORG
    except Exception:  # unknown kind: let the name speak for itself
        return None
    return None


_SOFT_G = re.compile(r"g(?=[ei])")
_SOFT_C = re.compile(r"c(?=[ei])")
_VOWELS = re.compile(r"[aeiou]")
INNER_APOSTROPHE = re.compile(r"(?<=\w)['’`](?=\w)")
_CHUNKS = re.compile(r"[\s,]+")
_DOTTED_RUN = re.compile(r"(?:[^\W\d_]\.){2,}[^\W\d_]")  # three dotted letters in a row, the cheap test


# A word that starts with gua-, hua-, hue-, hui- (Guadalupe, Huerta) is said with a w, and is written so
# by ear ('Wadalupe', 'Werta'; 'Uerta' with the h left out). Only in words of six letters or more (five
# without the h): the short syllables of Chinese names (Huang, Guang, Guan, Hua) are other names than
# Wang, Wan or Wa.
_W_SOUND = re.compile(r"^(?:gu|hu)(?=[aeio])")
_U_SOUND = re.compile(r"^u(?=[aeio])")
_W_SOUND_FROM = 6


@lru_cache(maxsize=500_000)
def phonetic(token: str) -> str:
    """A Spanish-aware sound key: 'cazarez' == 'casares', 'oziel' == 'osiel', 'vinai' == 'winai',
    'wadalupe' == 'guadalupe', 'werta' == 'huerta' == 'uerta'."""
    s = token
    if not s:
        return s
    if s[0] in "ghu" and len(s) >= _W_SOUND_FROM - 1:
        if s[0] == "u":
            s = _U_SOUND.sub("w", s, count=1)
        elif len(s) >= _W_SOUND_FROM and not s.startswith(("gue", "gui")):  # a hard g (Guerrero, Guillermo)
            s = _W_SOUND.sub("w", s, count=1)
    s = s.replace("ph", "f").replace("sch", "x").replace("sh", "x").replace("ch", "x").replace("ll", "y")
    s = s.replace("qu", "k").replace("gue", "ge").replace("gui", "gi")
    s = _SOFT_G.sub("j", s)
    s = _SOFT_C.sub("s", s)
    s = s.replace("ck", "k").replace("c", "k").replace("q", "k").replace("z", "s").replace("v", "b")
    s = s.replace("w", "b").replace("ou", "u").replace("ee", "i").replace("oo", "u")
    s = s.replace("y", "i").replace("th", "t").replace("h", "") or s
    out = []
    for ch in s:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=500_000)
def skeleton(phon: str) -> str:
    return phon[:1] + _VOWELS.sub("", phon[1:]) if len(phon) > 3 else phon


@dataclass(slots=True, frozen=True)
class Token:
    """One part of a parsed name. Frozen: forms share their words' tokens (normalize._token)."""

    text: str
    role: str | None = None  # given / family / None (unknown)
    weight: float = 1.0
    phon: str = ""
    skeleton: str = ""  # the phonetic key without inner vowels: transliterations differ mostly in vowels
    alts: frozenset[str] = frozenset()  # what a diminutive or spelling variant stands for
    note: str | None = None  # how the token was derived (e.g. "diminutive of chema")
    # A known given name in a person's name written without the OFAC comma, whose role stays unknown
    # (_given_names_read): the rules that tell relatives' given names apart apply to it.
    given_name: bool = False

    def __post_init__(self):
        if self.phon and not self.skeleton:
            object.__setattr__(self, "skeleton", skeleton(self.phon))

    @property
    def initial(self) -> bool:
        return len(self.text) == 1


@dataclass(slots=True)
class NameForm:
    original: str
    folded: str
    kind: str | None  # person / org / None
    tokens: list[Token]
    legal_forms: tuple[str, ...] = ()
    ordered: bool = False  # True when the OFAC comma form told us which parts are family names
    dropped: list[str] = field(default_factory=list)  # particles, titles, suffixes removed
    generation: str | None = None  # the generational suffix the name carries: Jr., Sr., II...
    # What the fast scorer (workbench.matching.fast) derives once per form; forms are cached and shared.
    prep: object = field(default=None, repr=False, compare=False)
    # The numbers the name holds, by value (sorted, each once), and as written (folded, in order). Each
    # is also a part (a token whose text is the value: '001' and '1' align), and the scorer weighs them
    # apart too (score.numbers_adjusted). See number_value.
    numbers: tuple[str, ...] = ()
    numbers_written: tuple[str, ...] = ()
    # A person's nickname written in quotes or brackets inside the name ('Joaquin "El Chapo" Guzman
    # Loera'): set aside, as a part it would be a word the other name lacks (a relative's conflict).
    # Screening also screens it as a name of its own (owners.owner_names).
    nicknames: tuple[str, ...] = ()
    # The parts read as a married woman's husband's surname ('toledo' of 'ARELLANO DE TOLEDO, Enedina'),
    # and the name without them, which the scorer compares where those parts are left over
    # (score.married_alignment): her maiden name's second surname is often dropped for it.
    married: tuple[str, ...] = ()
    unmarried: NameForm | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        """Order-free string of the identity tokens: the cheap form used for blocking and pre-scoring."""
        return " ".join(sorted(t.text for t in self.tokens))

    @property
    def prekey(self) -> str:
        """Like ``key`` but diminutives and spelling families replaced: what the C pre-scorer compares."""
        return " ".join(sorted(min(t.alts) if t.alts else t.text for t in self.tokens))

    @property
    def legal_form_only(self) -> bool:
        """Whether the name is nothing but a legal form ('S.A. DE C.V.'): no name to compare."""
        return not self.tokens and bool(self.legal_forms)

    def as_dict(self) -> dict:
        shown = {
            "tokens": [t.text + (f"/{t.role}" if t.role else "") for t in self.tokens],
            "legal_forms": list(self.legal_forms),
            "dropped": self.dropped,
        }
        if self.numbers_written:
            shown["numbers"] = list(self.numbers_written)
        if self.nicknames:
            shown["nicknames"] = list(self.nicknames)
        if self.married:
            shown["married_name"] = list(self.married)
        return shown


def dotted_inner(text: str) -> frozenset[int]:
    """Positions, among ``fold(text).split()``, of the letters after the first of a word spelled as
    dotted letters ('M.A.T.S.A.', 'T.A.U.S.A.'). Folding splits such a word into letters, and its last
    two can read as a legal form ('S.A.'), which they are not: a legal form may not start there."""
    if not _DOTTED_RUN.search(text):
        return frozenset()
    inner: set[int] = set()
    pos = 0
    for chunk in _CHUNKS.split(text):
        letters = fold(chunk).split()
        if len(letters) >= 3 and all(len(w) == 1 for w in letters):
            inner.update(range(pos + 1, pos + len(letters)))
        pos += len(letters)
    return frozenset(inner)


def strip_legal_tail(words: list[str], inner: frozenset[int] = frozenset()) -> tuple[list[str], tuple[str, ...]]:
    """Strip legal forms from the end of an organisation name's folded words, repeatedly ('x sa de cv',
    'x co ltd'); never one that starts inside a dotted-letters word (``dotted_inner``)."""
    found: list[str] = []
    changed = True
    while changed and len(words) > 1:
        changed = False
        for n in range(min(_MAX_FORM_WORDS, len(words) - 1), 0, -1):
            code = _LEGAL_TAIL.get(" ".join(words[-n:]))
            if code and len(words) - n not in inner:
                found.insert(0, code)
                words = words[:-n]
                changed = True
                break
    return words, tuple(found)


_FORM_FILLERS = PARTICLES | ORG_PARTICLES  # 'Y CIA. S.A.', '& CO. LTD.': conjunctions between legal forms


def whole_legal_form(words: list[str], inner: frozenset[int] = frozenset(),
                     kept: int | None = None) -> tuple[str, ...] | None:
    """The legal forms a name's folded words are made of when they are nothing else ('S.A. DE C.V.',
    'S. DE R.L. DE C.V.', 'CO., LTD.', 'LIMITED LIABILITY COMPANY', 'Y CIA. S.A.'), or None. Not a name
    whose words before its legal form (``kept``: how many strip_legal_tail left) are one word of dotted
    letters ('S.A.S.', 'S.A.S. E.U.': an acronym, OFAC's alias of Servicio Aereo de Santander, before
    its legal form), nor a name of one word of three letters or fewer ('SAS', 'CIA', 'INC' are also
    acronyms); ``inner`` as for strip_legal_tail."""
    if not words or (len(words) == 1 and len(words[0]) <= 3) or words[-1] not in _FORM_WORDS:
        return None
    kept = len(words) if kept is None else kept
    if kept >= 3 and inner >= frozenset(range(1, kept)):  # one word of dotted letters
        return None
    found: list[str] = []
    rest = list(words)
    while rest:
        if rest[-1] in _FORM_FILLERS and found:
            rest.pop()
            continue
        for n in range(min(_MAX_FORM_WORDS, len(rest)), 0, -1):
            code = _LEGAL_TAIL.get(" ".join(rest[-n:]))
            if code and len(rest) - n not in inner:
                found.insert(0, code)
                del rest[-n:]
                break
        else:
            return None
    return tuple(found)


@lru_cache(maxsize=10_000)
def _number_token(value: str, role: str | None) -> Token:
    """A number's part: its value ('001' -> '1'), weighed as any part of as many characters."""
    return Token(value, role, 0.5 if len(value) <= 2 else 1.0, value)


@lru_cache(maxsize=200_000)
def _token(text: str, role: str | None, kind: str | None) -> tuple[Token, ...]:
    """A word's tokens. Remembered per (word, role, kind) and shared between forms: owners' names
    repeat their words, and a Token is never changed once made (normalize replaces, never edits)."""
    return tuple(_make_tokens(text, role, kind))


def _make_tokens(text: str, role: str | None, kind: str | None) -> list[Token]:
    # A family name is never an abbreviated given name ('MA, Jian' is not María).
    expansions, alts = _alternatives(text, role != FAMILY)
    if alts is None:
        return [Token(part, role, 1.0, phonetic(part), note=f"from diminutive {text}")
                for part in expansions[0].split()]
    weight = 1.0
    if len(text) <= 2:
        weight = 0.5
    if kind == ORG and text in GENERIC_ORG_WORDS:
        weight = 0.35
    return [Token(text, role, weight, phonetic(text), alts=alts)]


# Spanish makes a diminutive of any given name or hypocoristic with -ito / -ita (-cito / -cita after
# -n, -r, -e; -itos after -os): Nachito = Nacho, Lupita = Lupe, Carmencita = Carmen, Carlitos = Carlos.
# Read off the ending rather than listed, each ending with the gender it keeps ('Juanito' is Juan,
# not Juana). The stem's spelling changes back (Paquito = Paco, Dieguito = Diego).
_DIMINUTIVE_ENDINGS = (("citos", ("os",)), ("cito", ("", "o", "e")), ("cita", ("", "a", "e")),
                       ("itos", ("os",)), ("ito", ("o", "", "e")), ("ita", ("a", "", "e")))


@lru_cache(maxsize=200_000)
def derived_short_form(text: str) -> tuple[str, ...]:
    """What a -ito / -ita form of a listed diminutive or given name stands for ('nachito' -> ignacio,
    'juanito' -> juan), or (). A word that is a given name itself ('Benito', 'Margarita') is not one."""
    if len(text) < 5 or text in GIVEN_NAMES or text in SHORT_FORMS or not text.endswith(("ito", "ita", "itos")):
        return ()
    for ending, vowels in _DIMINUTIVE_ENDINGS:
        if not text.endswith(ending):
            continue
        stem = text[:-len(ending)]
        if stem.endswith("qu"):
            stem = stem[:-2] + "c"
        elif stem.endswith("gu"):
            stem = stem[:-1]
        for vowel in vowels:
            base = stem + vowel
            if len(base) < 3:
                continue
            if base in DIMINUTIVES:
                return DIMINUTIVES[base]
            if base in GIVEN_NAMES:
                return (base,)
    return ()


@lru_cache(maxsize=500_000)
def _alternatives(text: str, abbreviations: bool = True) -> tuple[tuple[str, ...], frozenset[str] | None]:
    """A word's diminutive expansions and what it may stand for (None: it expands to several words).
    Remembered per word: owners' names repeat their words endlessly."""
    expansions = (SHORT_FORMS if abbreviations else DIMINUTIVES).get(text, ()) or derived_short_form(text)
    if len(expansions) == 1 and " " in expansions[0]:
        return expansions, None
    alts = set(expansions)
    canon = _VARIANT_CANON.get(text)
    if canon:
        alts.add(canon)
    for e in expansions:
        if e in _VARIANT_CANON:
            alts.add(_VARIANT_CANON[e])
    return expansions, frozenset(alts)


# A nickname inside a person's name, in quotes or brackets: "Joaquin 'El Chapo' Guzman Loera",
# 'JOAQUIN GUZMAN LOERA (EL CHAPO)'. A quote opens after a space or at the start and closes before one
# (an apostrophe inside a word, O'NEIL or the ayn of SA'D, is no quote; nor the quoted arguments of a
# spreadsheet formula, '=HYPERLINK("...","...")'); words only (letters, digits, spaces, dots, hyphens),
# two characters at least, so the alias mark '(A)' of Mexican documents (owners.owner_names) is not one.
_QUOTED = re.compile(r"""(?:^|(?<=\s))['"‘’“”«](?=[^\W_])(?P<nick>[\w .\-]{2,60}?)(?<=[^\W_])['"‘’“”»](?=[\s,.)]|$)""")
_BRACKETED = re.compile(r"[(\[](?P<nick>[^\W_][\w .'’\-]{1,59})[)\]]")
_QUOTE_CHARS = frozenset("'\"‘’“”«»([")


_ARTICLES = ("el ", "la ", "los ", "las ", "the ")


def _nickname(raw: str, match: re.Match, nick: str) -> bool:
    """Whether quotes or brackets found in a name hold a nickname. Not an apostrophe pair around words
    that start with a vowel ("KHANFURAH, 'Ala'", "'Ubayd Juday'": the ayn and hamza of Arabic names
    transliterated), unless an article starts them ('El Chapo'); not brackets around one word spelled
    like another of the name ('SANTOS, Ahmad (Ahmed)', 'Fawzi (Faouzi)': OFAC's other spelling of it)."""
    folded = fold(nick)
    if not folded:
        return False
    if raw[match.start()] in "'‘’" and folded[0] in "aeiou" and not folded.startswith(_ARTICLES):
        return False
    if raw[match.start()] in "([" and " " not in folded:
        others = fold(raw[:match.start()] + " " + raw[match.end():]).split()
        if any(Levenshtein.normalized_similarity(folded, word) >= 0.6 for word in others):
            return False
    return True


def _org_like(words: list[str]) -> bool:
    return bool(strip_legal_tail(words)[1]) or any(w in ORG_SIGN_WORDS for w in words)


def set_aside_nicknames(raw: str, kind: str | None) -> tuple[str, tuple[str, ...]]:
    """The name without the nicknames written in quotes or brackets inside it, and those nicknames.
    Only a person's name: an organisation's brackets hold its country or its legal form ('AERO
    CONTINENTE (USA) INC.') and OFAC quotes a company's name before its legal form. A name of unknown
    kind gives up quotes unless the rest reads as an organisation's, and brackets only when the rest
    holds a known given name. A name that is only a nickname ('"FOOPIE"') keeps it: it is all there is."""
    if kind == ORG or _QUOTE_CHARS.isdisjoint(raw):
        return raw, ()
    found: list[tuple[int, int, str]] = []
    for pattern in (_QUOTED, _BRACKETED):
        for match in pattern.finditer(raw):
            nick = match.group("nick")
            if any(a < match.end() and match.start() < b for a, b, _n in found) or not _nickname(raw, match, nick):
                continue
            found.append((match.start(), match.end(), nick))
    for _round in range(2):
        if not found:
            return raw, ()
        found.sort()
        pieces, last = [], 0
        for start, end, _nick in found:
            pieces.append(raw[last:start])
            last = end
        pieces.append(raw[last:])
        rest = " ".join(" ".join(pieces).split()).strip(" ,")
        rest_words = fold(rest).replace(",", " ").split()
        if not rest_words or (kind is None and _org_like(rest_words)):
            return raw, ()
        if kind == PERSON or any(w in GIVEN_NAMES for w in rest_words):
            break
        found = [f for f in found if raw[f[0]] not in "(["]  # maybe an organisation's note: left as written
    return rest, tuple(" ".join(nick.split()) for _s, _e, nick in found)


def _womans_name(first: str | None) -> bool:
    """Whether a first given name names a woman: listed as a woman's, or ending in -a and not a man's
    (Enedina, Abigail is not read so: unknown names ending otherwise say nothing)."""
    if not first:
        return False
    first = (SHORT_FORMS.get(first) or (first,))[0].split()[0]  # 'Ma.' is María
    if first in FEMININE_GIVEN_NAMES:
        return True
    return (len(first) >= 3 and first.endswith("a") and first not in MASCULINE_NAMES_IN_A
            and first not in MASCULINE_GIVEN_NAMES)


def married_parts(words: list[str], ordered_family: bool, first_given: str | None) -> tuple[frozenset[int], frozenset[int]]:
    """Where a person's name writes a married woman's husband's surname: (the words that say so, 'vda'
    or 'viuda', to leave out; the husband's surname). Mexican usage: her paternal surname, then 'de'
    (or 'vda. de', a widow) and his surname, her maternal surname often dropped: 'ARELLANO DE TOLEDO,
    Enedina', 'LOPEZ VDA. DE GARZA, Rosa', 'Maria Elena Soto de Morales'.

    'vda' / 'viuda' after a surname says it of any name; a bare 'de' only of a woman's name, and only
    before the last word, after one or two surnames (a compound surname such as 'DE LA TORRE LOPEZ' goes on):
    in the OFAC family part (``ordered_family``), or in a name written without the comma whose first
    word is a woman's given name and which holds a surname before the 'de'."""
    markers: set[int] = set()
    married: set[int] = set()
    n = len(words)
    for k in range(1, n):
        w = words[k]
        before = [x for x in words[:k] if x not in PARTICLES]
        if not before or words[k - 1] in PARTICLES:
            continue
        if w in WIDOW_WORDS:
            j = k + 1
            while j < n and words[j] in PARTICLES:
                j += 1
            if j < n and words[j].isalpha():
                markers.add(k)
                married.add(j)
            break
        if w == "de" and _womans_name(first_given):
            j = k + 1
            while j < n and words[j] in JOINABLE_PARTICLES:
                j += 1
            if j != n - 1 or not words[j].isalpha():
                continue
            if ordered_family:
                if len(before) <= 2:
                    married.add(j)
            elif len(before) >= 2 and any(x not in GIVEN_NAMES for x in before[1:]):
                married.add(j)
            break
    return frozenset(markers), frozenset(married)


@lru_cache(maxsize=200_000)
def normalize(name: str, schema: str | None = None) -> NameForm:
    """Parse one name. Cached: screening sees the same names again and again."""
    kind = schema_kind(schema)
    raw = (name or "").strip()
    raw, labelled = _without_label(raw)
    raw, nicknames = set_aside_nicknames(raw, kind)
    raw = raw.replace("&", " and ")
    # Words joined by hyphen or apostrophe stay one word: 'AL-ASSAD' -> 'alassad', "O'NEIL" -> 'oneil'.
    joined = without_thousands(INNER_APOSTROPHE.sub("", raw))
    parts = [fold(p) for p in joined.split(",")]
    parts = [p for p in parts if p]
    dropped: list[str] = ["fictional"] if labelled else []
    legal: tuple[str, ...] = ()
    legal_only = False
    if kind != PERSON and parts:
        # 'CITY PLAZA, S.A. DE C.V.': a comma before a legal form is not the OFAC surname comma.
        words, inner = " ".join(parts).split(), dotted_inner(joined)
        stripped, legal = strip_legal_tail(words, inner)
        noted = False
        if not legal and joined.endswith(")") and "(" in joined:
            # 'RIBERA NORTE HOLDINGS LLC (DELAWARE)': a note in brackets at the end does not hide the
            # legal form before it (the note's words stay in the name).
            note = fold(joined.rpartition("(")[2]).split()
            if note and len(note) < len(words):
                head, legal = strip_legal_tail(words[:-len(note)], inner)
                if legal:
                    stripped, noted = head + note, True
        whole = None if noted else whole_legal_form(words, inner, len(stripped))
        if whole is not None:
            # 'S.A. DE C.V.' alone: a legal form, and no name at all (it would match every company's form)
            legal, stripped, legal_only = whole, [], True
        if legal:
            parts = [" ".join(stripped)] if stripped else []
            if kind is None:
                kind = ORG
    ordered = False
    tokens: list[Token] = []
    if len(parts) == 2 and kind != ORG:
        family_words, given_words = parts[0].split(), parts[1].split()
        ordered = True
        if kind is None:
            kind = PERSON
        groups = [(given_words, GIVEN), (family_words, FAMILY)]
    else:
        groups = [(" ".join(parts).split(), None)]
    n_words = sum(len(words) for words, _role in groups)
    numbers: list[tuple[str, str]] = []  # (value, as written)
    married_at: list[int] = []  # positions in tokens of the husband's surname (married_parts)
    first_given = groups[0][0][0] if groups[0][0] else None  # given names first in both orders
    for words, role in groups:
        particles: list[str] = []  # the joinable particles just before the next part
        markers, married = (married_parts(words, role == FAMILY, first_given)
                            if kind != ORG and role != GIVEN and len(words) > 2 else (frozenset(), frozenset()))
        for k, w in enumerate(words):
            if k in markers:  # 'vda', 'viuda': a widow's, no part of her name
                dropped.append(w)
                particles.clear()
                continue
            if not w.isalpha():  # a digit in it: a number ('001', '3er', 'no5'), or a code ('pk2', '12b')
                value = number_value(w)
                if value is not None:
                    numbers.append((value, w))
                    tokens.append(_number_token(value, role))
                    particles.clear()
                    continue
            elif w in NUMBER_SIGNS and k + 1 < len(words) and not words[k + 1].isalpha() \
                    and number_value(words[k + 1]) is not None:  # 'No. 5', 'Nº 5' is '5'
                dropped.append(w)
                continue
            elif kind == ORG and w in ROMAN_NUMERALS:  # 'FIDEICOMISO III' (a person's III is a suffix)
                numbers.append((ROMAN_NUMERALS[w], w))
                tokens.append(_number_token(ROMAN_NUMERALS[w], role))
                particles.clear()
                continue
            # A title goes when anything else is left ('IBRAHIM, Haji' = 'IBRAHIM, Haji Ehai' minus 'Ehai').
            if (w in PARTICLES or w in SUFFIXES or (kind != ORG and w in TITLES and n_words > 1)
                    or (kind != PERSON and w in ORG_PARTICLES)):
                dropped.append(w)
                if w in JOINABLE_PARTICLES:
                    particles.append(w)
                else:
                    particles.clear()
                continue
            parts = _token(w, role, kind)
            if particles:  # 'de leon' is also 'deleon', 'de la cruz' also 'delacruz' and 'lacruz'
                first = parts[0]
                joined_alts = first.alts | {"".join(particles[k:]) + first.text for k in range(len(particles))}
                parts = (replace(first, alts=joined_alts), *parts[1:])
                particles.clear()
            if k in married:
                married_at.extend(range(len(tokens), len(tokens) + len(parts)))
            tokens.extend(parts)
    if not tokens and not legal_only:  # a name made only of particles ("DE LA O"): keep them rather than nothing
        for words, role in groups:
            tokens.extend(Token(w, role, 0.5, phonetic(w)) for w in words)
    if not ordered and kind != ORG and len(tokens) > 1 and (kind == PERSON or _person_like(tokens, legal)):
        tokens = _given_names_read(tokens)
    folded = fold(raw)
    # An organisation has no generation: 'JR ALIMENTOS DEL MAR, S. DE R.L.' holds a company's initials.
    generation = None if kind == ORG else _generation(folded, dropped)
    form = NameForm(raw, folded, kind, tokens, legal, ordered, dropped, generation,
                    numbers=tuple(sorted({value for value, _w in numbers}, key=lambda v: (len(v), v))),
                    numbers_written=tuple(w for _v, w in numbers), nicknames=nicknames)
    if married_at and len(married_at) < len(tokens):
        form.married = tuple(tokens[i].text for i in married_at)
        form.unmarried = replace(form, tokens=[t for i, t in enumerate(tokens) if i not in married_at],
                                 married=(), unmarried=None, prep=None)
    return form


def _person_like(tokens: list[Token], legal: tuple[str, ...]) -> bool:
    """Whether a name of unknown kind written without the OFAC comma reads as a person's: it holds a
    known given name and nothing an organisation's name holds."""
    return (not legal and any(t.text in GIVEN_NAMES for t in tokens)
            and not any(t.text in ORG_SIGN_WORDS for t in tokens))


def _given_names_read(tokens: list[Token]) -> list[Token]:
    """A person's name written without the OFAC comma ('Mario Ramirez Torres', a roll's 'RAMIREZ TORRES
    MARIO') still has given names: its known given names (names.GIVEN_NAMES) are read as such, so the
    rules that tell relatives apart (score.given_name_rule: Mario / María, José / Josué) apply in every
    order, as they do to 'SURNAMES, Given'. Their role stays unknown (a roll's first word may be a
    surname that is also a given name): ``Token.given_name`` marks them for those rules only."""
    if not any(t.role is None and t.text in GIVEN_NAMES for t in tokens):
        return tokens
    return [replace(t, given_name=True) if t.role is None and t.text in GIVEN_NAMES else t for t in tokens]


# Generational suffixes: a father and a son share every other part of their names.
_GENERATIONS = {"jr": "Jr.", "junior": "Jr.", "hijo": "Jr.", "ii": "II", "iii": "III", "iv": "IV"}
_ELDER = {"sr": "Sr.", "senior": "Sr."}  # only as the last word: a leading 'Sr.' is 'Señor'


def _generation(folded: str, dropped: list[str]) -> str | None:
    found = next((_GENERATIONS[w] for w in dropped if w in _GENERATIONS), None)
    if found is None:
        words = folded.replace(",", " ").split()
        if words and words[-1] in _ELDER:
            found = _ELDER[words[-1]]
    return found


def generation_written(form: NameForm) -> str | None:
    """The generational suffix as the name writes it ('JR', 'JUNIOR', 'HIJO', 'III', 'SR'), for the
    explanation (``NameForm.generation`` holds its canonical form: 'Jr.' for all three of the first)."""
    if form.generation is None:
        return None
    word = next((w for w in form.dropped if w in _GENERATIONS), None)
    if word is None:
        words = form.folded.replace(",", " ").split()
        word = words[-1] if words and words[-1] in _ELDER else None
    return word.upper() if word else form.generation


def name_key(name: str, schema: str | None = None) -> str:
    """The stable, order-free key of a name (review decisions and caches are keyed on it)."""
    form = normalize(name, schema)
    return form.key or form.folded
