"""Turn a raw name into comparable parts, so the scorer compares identities rather than spellings.

One pass handles: accents and case (``workbench.text.fold``), punctuation, OFAC's ``SURNAMES, Given``
order (parts get tagged family/given), particles (de, del, y, al, ...), suffixes (Jr., III), legal forms
(``S.A. DE C.V.`` = ``SOCIEDAD ANONIMA DE CAPITAL VARIABLE``; LLC, Inc., Ltd. ...), ``&`` = ``and``,
diminutives and spelling families (Chuy = Jesús, Mohamed = Muhammad) and a phonetic key tuned to
Spanish (c/s/z, b/v, ll/y, silent h, qu/k), which Soundex is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from workbench.matching.data.names import (
    DIMINUTIVES,
    GENERIC_ORG_WORDS,
    JOINABLE_PARTICLES,
    LEGAL_FORMS,
    ORG_PARTICLES,
    PARTICLES,
    SHORT_FORMS,
    VARIANT_FAMILIES,
)
from workbench.text import fold

PERSON, ORG = "person", "org"
GIVEN, FAMILY = "given", "family"
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "junior", "senior", "hijo"})
# Honorifics and titles that precede names and say nothing about who it is.
TITLES = frozenset({"mr", "mrs", "ms", "dr", "lic", "ing", "sr", "sra", "haji", "hajji", "mullah",
                    "sheikh", "shaykh", "gen", "general", "col", "capt"})  # not "don": also a surname part

_VARIANT_CANON = {spelling: family[0] for family in VARIANT_FAMILIES for spelling in family}

# A legal form only counts at the end of an organisation name (or before a trailing comma part).
_LEGAL_TAIL = {form: code for code, forms in LEGAL_FORMS.items() for form in forms}
_MAX_FORM_WORDS = max(len(form.split()) for form in _LEGAL_TAIL)


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


@lru_cache(maxsize=500_000)
def phonetic(token: str) -> str:
    """A Spanish-aware sound key: 'cazarez' == 'casares', 'oziel' == 'osiel', 'vinai' == 'winai'."""
    s = token
    if not s:
        return s
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

    @property
    def key(self) -> str:
        """Order-free string of the identity tokens: the cheap form used for blocking and pre-scoring."""
        return " ".join(sorted(t.text for t in self.tokens))

    @property
    def prekey(self) -> str:
        """Like ``key`` but diminutives and spelling families replaced: what the C pre-scorer compares."""
        return " ".join(sorted(min(t.alts) if t.alts else t.text for t in self.tokens))

    def as_dict(self) -> dict:
        return {
            "tokens": [t.text + (f"/{t.role}" if t.role else "") for t in self.tokens],
            "legal_forms": list(self.legal_forms),
            "dropped": self.dropped,
        }


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


@lru_cache(maxsize=500_000)
def _alternatives(text: str, abbreviations: bool = True) -> tuple[tuple[str, ...], frozenset[str] | None]:
    """A word's diminutive expansions and what it may stand for (None: it expands to several words).
    Remembered per word: owners' names repeat their words endlessly."""
    expansions = (SHORT_FORMS if abbreviations else DIMINUTIVES).get(text, ())
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


@lru_cache(maxsize=200_000)
def normalize(name: str, schema: str | None = None) -> NameForm:
    """Parse one name. Cached: screening sees the same names again and again."""
    kind = schema_kind(schema)
    raw = (name or "").strip()
    raw = raw.replace("&", " and ")
    # Words joined by hyphen or apostrophe stay one word: 'AL-ASSAD' -> 'alassad', "O'NEIL" -> 'oneil'.
    joined = INNER_APOSTROPHE.sub("", raw)
    parts = [fold(p) for p in joined.split(",")]
    parts = [p for p in parts if p]
    dropped: list[str] = []
    legal: tuple[str, ...] = ()
    if kind != PERSON and parts:
        # 'CITY PLAZA, S.A. DE C.V.': a comma before a legal form is not the OFAC surname comma.
        words, inner = " ".join(parts).split(), dotted_inner(joined)
        stripped, legal = strip_legal_tail(words, inner)
        if not legal and joined.endswith(")") and "(" in joined:
            # 'RIBERA NORTE HOLDINGS LLC (DELAWARE)': a note in brackets at the end does not hide the
            # legal form before it (the note's words stay in the name).
            note = fold(joined.rpartition("(")[2]).split()
            if note and len(note) < len(words):
                head, legal = strip_legal_tail(words[:-len(note)], inner)
                if legal:
                    stripped = head + note
        if legal:
            parts = [" ".join(stripped)]
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
    for words, role in groups:
        particles: list[str] = []  # the joinable particles just before the next part
        for w in words:
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
            tokens.extend(parts)
    if not tokens:  # a name made only of particles ("DE LA O"): keep them rather than nothing
        for words, role in groups:
            tokens.extend(Token(w, role, 0.5, phonetic(w)) for w in words)
    folded = fold(raw)
    # An organisation has no generation: 'JR ALIMENTOS DEL MAR, S. DE R.L.' holds a company's initials.
    generation = None if kind == ORG else _generation(folded, dropped)
    return NameForm(raw, folded, kind, tokens, legal, ordered, dropped, generation)


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
