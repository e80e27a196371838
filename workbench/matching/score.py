"""Name and entity scores in 0..1, each with the explanation a researcher needs to trust or reject it.

The name score aligns the parts of two names (order-free, so 'SINALOA CARTEL' = 'CARTEL DE SINALOA'
and swapped surnames align), credits each aligned pair by how it matched (exact, diminutive, phonetic,
spelling, initial). How much each kind of agreement and each leftover part weighs (a dropped second
surname vs a rare surname that differs on both sides, as between relatives ``GUZMAN LOPEZ`` and
``GUZMAN LOERA``) is learned from the dev pairs: see workbench.matching.features and .model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rapidfuzz.distance import OSA, Levenshtein

from workbench.matching.data.names import (
    CROSS_SEX_SECOND_NAMES,
    DISTINCT_GIVEN_NAMES,
    FEMININE_CONSONANT_NAMES,
    FEMININE_GIVEN_NAMES,
    GIVEN_NAMES,
    JOINABLE_PARTICLES,
    MASCULINE_GIVEN_NAMES,
    MASCULINE_NAMES_IN_A,
    ORG_SIGN_WORDS,
)
from workbench.matching.normalize import (
    FAMILY,
    GIVEN,
    ORG,
    PERSON,
    ROMAN_NUMERALS,
    NameForm,
    Token,
    generation_written,
    normalize,
    number_value,
    phonetic,
)

# Alignment settings (patterns, not names); how the aligned parts weigh is learned: see model.py.
MIN_TOKEN_SIM = 0.7  # fuzzier token pairs are treated as different words
IDF_ALPHA = 0.3  # how much corpus rarity (TokenStats) moves a part's weight
# Credit for the parts an acronym aligns, by its letters: every letter must fall where the words
# put it, so a long acronym or contraction is strong evidence, and three letters are weak ('SAN'
# spells SYRIAN ARAB NAVY and any other three words starting s, a, n: on a property roll it would
# flag every 'SAN LLC').
ACRONYM_CREDIT = 0.85
ACRONYM_SHORT_CREDIT = {3: 0.55, 4: 0.7}
SPELL_POWER = 4.0  # credit for a fuzzy token pair: similarity ** SPELL_POWER ('loesa'/'lopez' earns little)
# A letter put before a word of three letters makes another word ('ALI' / 'MALI'), not a typo of it:
# a short part whose first letter differs needs a closer spelling to align. A letter lost inside
# ('RUIZ' / 'RIZ') is a typo, and still aligns.
SHORT_PART, SHORT_PART_SIM = 3, 0.8
CROSS_ROLE = 0.4  # credit lost when a given name aligns with a family name
MIN_CONTRACTION_PIECE = 3  # letters each of two words gives a contraction ('COL' + 'CERDOS')


@dataclass(slots=True)
class Alignment:
    query: str
    candidate: str
    similarity: float
    how: str


@dataclass
class NameScore:
    score: float
    aligned: list[Alignment] = field(default_factory=list)
    unmatched_query: list[str] = field(default_factory=list)
    unmatched_candidate: list[str] = field(default_factory=list)
    features: list[dict] = field(default_factory=list)  # {"feature", "effect", "detail"}
    query: NameForm | None = None
    candidate: NameForm | None = None

    def _written(self) -> tuple[dict[str, str], dict[str, str]]:
        """Each side's words as the explanation shows them: one a diminutive stood for says so
        ('chema→jose'). The alignment itself keeps the words compared (names_together reads them)."""
        return tuple({t.text: _as_written(t) for t in form.tokens if _expanded_from(t)} if form else {}
                     for form in (self.query, self.candidate))

    def _shown(self) -> tuple[list[tuple[str, str, float, str]], list[str], list[str]]:
        wq, wc = self._written()
        aligned = [(wq.get(a.query, a.query), wc.get(a.candidate, a.candidate), a.similarity,
                    "diminutive/variant" if a.how == "exact" and (a.query in wq or a.candidate in wc) else a.how)
                   for a in self.aligned]
        return (aligned, [wq.get(t, t) for t in self.unmatched_query],
                [wc.get(t, t) for t in self.unmatched_candidate])

    def explanation(self) -> dict:
        aligned, only_q, only_c = self._shown()
        return {
            "score": round(self.score, 4),
            "query": self.query.as_dict() if self.query else None,
            "candidate": self.candidate.as_dict() if self.candidate else None,
            "aligned": [{"query": q, "candidate": c, "similarity": round(sim, 3), "how": how}
                        for q, c, sim, how in aligned],
            "unmatched_query": only_q,
            "unmatched_candidate": only_c,
            # Effects to 3 decimals: a difference of floats ('-0.030000000000000027') is no finding.
            "features": [{**f, "effect": round(f["effect"], 3)} if isinstance(f.get("effect"), float) else f
                         for f in self.features],
        }

    def summary(self) -> str:
        """One line for CSV output: 'joaquin=joaquin exact; lopez!=loera; penalty ...'."""
        aligned, only_q, only_c = self._shown()
        parts = [f"{q}={c} ({how} {sim:.2f})" for q, c, sim, how in aligned]
        if only_q:
            parts.append("only in query: " + " ".join(only_q))
        if only_c:
            parts.append("only in candidate: " + " ".join(only_c))
        for f in self.features:
            if f["feature"] in _NAMED_IN_DETAIL:  # 'different numbers: 001 / 011 (...) -0.70'
                parts.append(f"{f['detail'].partition(' (')[0]} {f['effect']:+.2f}")
            elif f["feature"] != "coverage":
                parts.append(f"{f['feature']} {f['effect']:+.2f}")
        return "; ".join(parts)


_EXPANDED = "from diminutive "  # normalize's note on each word a diminutive stands for ('chema': jose, maria)


def _expanded_from(token: Token) -> str | None:
    return token.note[len(_EXPANDED):] if token.note and token.note.startswith(_EXPANDED) else None


def _as_written(token: Token) -> str:
    """A word as the explanation shows it: one a diminutive stood for says so ('chema→jose'), since the
    name compared did not hold it."""
    source = _expanded_from(token)
    return f"{source}→{token.text}" if source else token.text


def _as_given_names(a: Token, b: Token) -> bool:
    """Whether two words are compared as given names: one of them is known to be one (the given-name
    part of an OFAC 'SURNAMES, Given' name, or a known given name in a person's name written without the
    comma: normalize._given_names_read, Token.given_name) and neither is a family name. Unknown roles on both sides (a
    company's words, unknown words of names written without the comma) say nothing: there Elias / Elisa
    or Israel / Ismael may be a typo, a surname or a company's word, and spelling decides."""
    return (a.role == GIVEN or b.role == GIVEN or a.given_name or b.given_name) and a.role != FAMILY \
        and b.role != FAMILY


def gendered_pair(x: str, y: str) -> bool:
    """A given name's masculine and feminine forms: a brother and a sister with the same surnames, not
    one name spelled two ways. A pattern of Spanish names, not a list: the forms differ only in the
    gender ending, -o / -a ('mario'/'maria', 'severo'/'severa'), or the feminine adds -a to a masculine
    that ends in a vowel and l, n, s or r ('daniel'/'daniela', 'crispin'/'crispina', 'jesus'/'jesusa',
    'nicanor'/'nicanora'). Only for given names (the caller checks, ``_as_given_names``): in a surname
    or a company's word the same difference is a typo ('GARCIO') or an adjective's agreement
    ('GRUPO MEXICANO' / 'MEXICANA'). Not a gender pair: a man's name that ends in -a in its own language,
    whose -o form is another spelling of it (Tajik 'Mustafo', 'Abdullo'; Indonesian 'Ridho' for 'Ridha');
    a woman's name that ends in a consonant and takes an -a in another language ('isabel'/'isabela',
    'susan'/'susana'); a word cut short ('muestr'/'muestra')."""
    if len(x) > len(y):
        x, y = y, x
    if len(x) < 4:
        return False
    if len(x) == len(y):
        stem = x[:-1]
        return (stem == y[:-1] and x[-1] != y[-1] and x[-1] in "oa" and y[-1] in "oa"
                and stem + "a" not in MASCULINE_NAMES_IN_A
                # transliterations: an 'h' after the stem's last consonant (Arabic dh, kh, th), -ullah
                and not stem.endswith("h") and not stem.endswith("ull"))
    return (len(y) == len(x) + 1 and y.endswith("a") and y.startswith(x) and x[-1] in "lnsr"
            and x[-2] in "aeiou" and x not in FEMININE_CONSONANT_NAMES and y not in MASCULINE_NAMES_IN_A)


MASCULINE_FORMS, DISTINCT_NAMES = "masculine and feminine forms", "distinct given names"


def given_names_by_elimination(qf: NameForm, cf: NameForm) -> tuple[NameForm, NameForm]:
    """Two people's names written without the OFAC comma ('Severa Flores Mendoza', a roll's 'FLORES MENDOZA
    SEVERO'), neither with a part known to be a given name, that agree in every part but one on each side,
    those two being a given name's masculine and feminine forms (``gendered_pair``): with two or more parts
    shared, the part left is the given name, so the two are read as given names (``Token.given_name``) and the
    rules that tell a brother from a sister apply, as they do with the comma. Without this, 'severa' / 'severo'
    aligned as one name spelt two ways, and the sister of a designated man scored above his own short name.
    A known given name elsewhere in the name ('JUAN GARCIO LOPEZ') leaves the pair to spelling: there it is
    a surname's typo. Returns the forms unchanged when the rule does not apply (almost always, and cheaply)."""
    q, c = qf.tokens, cf.tokens
    if (qf.ordered or cf.ordered or len(q) != len(c) or len(q) < 3 or ORG in (qf.kind, cf.kind)
            or PERSON not in (qf.kind, cf.kind)):
        return qf, cf
    q_texts, c_texts = {t.text for t in q}, {t.text for t in c}
    q_only, c_only = [t for t in q if t.text not in c_texts], [t for t in c if t.text not in q_texts]
    if (len(q_only) != 1 or len(c_only) != 1 or not gendered_pair(q_only[0].text, c_only[0].text)
            or any(t.role == GIVEN or t.given_name for t in (*q, *c))):
        return qf, cf

    def read_as_given(form: NameForm, part: Token) -> NameForm:
        tokens = [replace(t, given_name=True) if t is part else t for t in form.tokens]
        return replace(form, tokens=tokens, prep=None, unmarried=None)

    return read_as_given(qf, q_only[0]), read_as_given(cf, c_only[0])


def given_name_rule(a: Token, b: Token) -> str | None:
    """Why two words compared as given names are two people's names, or None: the masculine and the
    feminine form of one name (``gendered_pair``), or two distinct names a letter apart (José / Josué)."""
    if not _as_given_names(a, b):
        return None
    if gendered_pair(a.text, b.text):
        return MASCULINE_FORMS
    if frozenset((a.text, b.text)) in DISTINCT_GIVEN_NAMES:
        return DISTINCT_NAMES
    return None


def _sex(text: str) -> str | None:
    """The sex a given name names when it stands first, where the vocabulary knows it."""
    if text in MASCULINE_GIVEN_NAMES:
        return "man"
    if text in FEMININE_GIVEN_NAMES:
        return "woman"
    return None


def _second_of_other_sex(tokens: list[Token], i: int, aligned: set[int]) -> bool:
    """Whether ``tokens[i]`` is the second part of a compound given name whose first part, left
    unaligned, names the other sex: 'maria' in José María or Jesús María (a man), 'jose' in María José
    (a woman). Only compounds of the names that cross the sexes so (names.CROSS_SEX_SECOND_NAMES):
    of other words in an unusual order ('Leticia Rafael', 'Arturo María') the model judges. The two
    words are adjacent, of the same role, and the first is its name's first given name, so a roll's
    surnames-first order ('ROJAS LEON JOSE MARIA') reads alike."""
    if i == 0 or (i - 1) in aligned:
        return False
    t, first = tokens[i], tokens[i - 1]
    if (t.text not in CROSS_SEX_SECOND_NAMES or first.text not in CROSS_SEX_SECOND_NAMES
            or t.role == FAMILY or first.role != t.role or not _first_given(tokens, i - 1)):
        return False
    sex_first, sex_t = _sex(first.text), _sex(t.text)
    return sex_first is not None and sex_t is not None and sex_first != sex_t


def _first_given(tokens: list[Token], j: int) -> bool:
    """Whether ``tokens[j]`` is its name's first given name (no given name before it)."""
    t = tokens[j]
    if t.role == GIVEN:
        return not any(u.role == GIVEN for u in tokens[:j])
    return t.role is None and (j == 0 or tokens[j - 1].text not in GIVEN_NAMES)


def other_sex_compound(q: list[Token], c: list[Token], pair_how) -> list[tuple[int, bool]]:
    """Positions in ``pair_how`` of the aligned pairs that join the second part of a compound given
    name of one sex to the other name's first given name, which names the other sex: a man's 'José
    María' (or 'Chema') and a woman's 'María', a woman's 'María José' and a man's 'José'. A María is not
    the second part of a man's name, and the pair must not stand as his name's agreement. (A man
    known by the second part of his compound, 'José Luis' / 'Luis', is left aligned.)
    Returns (position, whether the compound is the query's)."""
    if not pair_how or (len(q) < 2 and len(c) < 2):
        return []
    aligned_q = {p[0] for p in pair_how}
    aligned_c = {p[1] for p in pair_how}
    found = []
    for k, (i, j, _s, _h) in enumerate(pair_how):
        if _second_of_other_sex(q, i, aligned_q) and _first_given(c, j):
            found.append((k, True))
        elif _second_of_other_sex(c, j, aligned_c) and _first_given(q, i):
            found.append((k, False))
    return found


_DIGIT_RUNS = re.compile(r"\d+")


@lru_cache(maxsize=100_000)
def _digit_runs(text: str) -> tuple[str, ...]:
    """The numbers a part holds, by value ('pk02' -> ('2',))."""
    return tuple(run.lstrip("0") or "0" for run in _DIGIT_RUNS.findall(text))


def token_similarity(a: Token, b: Token) -> tuple[float, str]:
    if a.text == b.text:
        return 1.0, "exact"
    # A part holding a digit ('PK2', '12B', 'SOURCE1WELLNESS') is a code: another number in it is
    # another code, never a typo ('PK2' / 'PK3'), however close the spellings.
    if not (a.text.isalpha() and b.text.isalpha()) and _digit_runs(a.text) != _digit_runs(b.text):
        return 0.0, "different"
    if (a.alts and (b.text in a.alts or a.alts & b.alts)) or (b.alts and a.text in b.alts):
        # 'deleon' = 'de leon': the same credit as a variant, named for what it is in explanations
        long, short = (a.text, b.text) if len(a.text) > len(b.text) else (b.text, a.text)
        joined = long.endswith(short) and _particles_only(long[:len(long) - len(short)])
        return 0.95, "particle joined" if joined else "diminutive/variant"
    if a.initial or b.initial:
        if a.text[0] == b.text[0]:
            return 0.75, "initial"
        return 0.0, "different"
    if given_name_rule(a, b) is not None:
        return 0.0, "different"
    if a.phon == b.phon:
        return 0.92, "phonetic"
    if a.skeleton == b.skeleton and len(a.skeleton) >= 3 and abs(len(a.text) - len(b.text)) <= 2:
        return 0.85, "transliteration"
    sim = max(OSA.normalized_similarity(a.text, b.text),  # OSA: 'saeid'/'saied' is one transposition
              Levenshtein.normalized_similarity(a.phon, b.phon))
    if len(a.text) >= 4 and len(b.text) >= 4 and (a.text.startswith(b.text) or b.text.startswith(a.text)):
        sim = max(sim, 0.8)
    if sim < MIN_TOKEN_SIM or (min(len(a.text), len(b.text)) <= SHORT_PART and sim < SHORT_PART_SIM
                               and a.text[0] != b.text[0]):
        return sim, "different"
    return sim, "spelling"


@lru_cache(maxsize=1024)
def _particles_only(text: str) -> bool:
    """Whether ``text`` is joinable particles written together ('de', 'dela', 'delos')."""
    return not text or any(text.startswith(p) and _particles_only(text[len(p):]) for p in JOINABLE_PARTICLES)


def _join_split_words(q: list[Token], c: list[Token]) -> tuple[list[Token], list[Token]]:
    """'DON JUAN' vs 'DONJUAN', 'GUO YING' vs 'GUOYING': merge adjacent words that the other side joins."""
    def merge(side: list[Token], other: list[Token]) -> list[Token]:
        if len(side) < 2:
            return side
        other_texts = {t.text for t in other}
        other_phon = {t.phon for t in other if len(t.phon) >= 5}
        out: list[Token] = []
        i = 0
        while i < len(side):
            if i + 1 < len(side) and side[i].text not in other_texts and side[i + 1].text not in other_texts:
                joined = side[i].text + side[i + 1].text
                phon = phonetic(joined)
                if joined in other_texts or phon in other_phon:
                    out.append(Token(joined, side[i].role, 1.0, phon, note="joined"))
                    i += 2
                    continue
            out.append(side[i])
            i += 1
        return out

    return merge(q, c), merge(c, q)


class TokenStats:
    """How common each name part is in a corpus (the store's names, a watchlist, an input file).

    A shared rare surname says much more than a shared 'MOHAMMED' or 'GROUP'; the scorer weights
    parts by inverse document frequency when stats are given, and by length/genericness otherwise.
    """

    def __init__(self, counts: dict[str, int] | None = None, total: int = 0):
        self.counts: dict[str, int] = dict(counts or {})
        self.total = total
        self._cache: dict[str, float] = {}
        self._idf: dict[str, float] = {}
        self.version = 0  # bumped on every change: per-name caches keyed on it go stale

    def idf(self, text: str) -> float:
        """workbench.matching.features' rarity of a part (same formula), cached for the fast scorer."""
        value = self._idf.get(text)
        if value is None:
            value = math.log((self.total + 1) / (self.counts.get(text, 0) + 1)) / math.log(self.total + 1)
            self._idf[text] = value
        return value

    @classmethod
    def from_names(cls, names, schema_of=None) -> TokenStats:
        counts: dict[str, int] = {}
        total = 0
        for item in names:
            name, schema = (item if isinstance(item, tuple) else (item, None))
            total += 1
            for text in {t.text for t in normalize(name, schema).tokens}:
                counts[text] = counts.get(text, 0) + 1
        return cls(counts, total)

    def add(self, name: str, schema: str | None = None) -> None:
        self.total += 1
        for text in {t.text for t in normalize(name, schema).tokens}:
            self.counts[text] = self.counts.get(text, 0) + 1
        self._cache.clear()
        self._idf.clear()
        self.version += 1

    def factor(self, text: str) -> float:
        value = self._cache.get(text)
        if value is None:
            if self.total < 50:
                value = 1.0
            else:
                idf = math.log((self.total + 1) / (self.counts.get(text, 0) + 1)) / math.log(self.total + 1)
                value = (1 - IDF_ALPHA) + IDF_ALPHA * 3 * idf
            self._cache[text] = value
        return value


@lru_cache(maxsize=200_000)
def _spells(token: str, words: tuple[str, ...]) -> bool:
    """Whether prefixes of every one of ``words``, in order, spell ``token`` plausibly:
    'soesma' = SOciedad ESmeraldifera MAripi.

    ``words`` are the parts of the other name that the token's own name lacks, and the token must
    spell every one of them: an acronym explains the whole difference between two names or nothing.
    Otherwise a short name's one word could claim any three words of a long one ('IPM' = Inversiones
    Plata M, of 'INVERSIONES LA PLATA M Y M', or 'OAK' out of a seven-word name). Names repeat the
    same pairs of parts, so answers are remembered."""
    n = len(token)

    def walk(pos: int, k: int) -> bool:
        if pos == n or k == len(words):
            return pos == n and k == len(words)
        w = words[k]
        return any(token[pos:pos + length] == w[:length] and walk(pos + length, k + 1)
                   for length in range(min(len(w), n - pos), 0, -1))

    return 2 <= len(words) <= 8 and walk(0, 0) and _plausible_acronym(token, words)


def may_expand(form: NameForm) -> bool:
    """Whether an acronym may spell this name out: an organisation's, or an untyped name with a word
    only organisations use. Initials alone are too weak to tell a person's name from a company's."""
    return may_expand_parts(form.kind, (t.text for t in form.tokens))


def may_expand_parts(kind: str | None, texts: Iterable[str]) -> bool:
    """may_expand, from the parse's kind and the texts of its parts (read only when the kind is unknown)."""
    return kind == ORG or (kind is None and any(text in ORG_SIGN_WORDS for text in texts))


def acronym_stage(q: list[Token], c: list[Token], used_q: dict[int, float], used_c: dict[int, float],
                  expand_q: bool = True, expand_c: bool = True) -> list[tuple[bool, int, list[int]]]:
    """Acronyms and contractions of organisation names, found before fuzzy spelling can claim the
    parts: 'TAUSA' = Transportes Aereos Unidos Selva Amazonica, 'BANAGRICOLA' = BANanera AGRICOLA.

    Marks the aligned parts in ``used_q``/``used_c`` and returns (token on the query side?, its
    index, indexes of the words it spells). The explained and the fast score both call this, so
    they cannot disagree; the cheap tests before ``_spells`` are conditions it would check anyway.
    ``expand_q``/``expand_c``: whether that name may be the spelled-out side (``may_expand``)."""
    found: list[tuple[bool, int, list[int]]] = []
    q_texts = {t.text for t in q}
    c_texts = {t.text for t in c}
    for on_q, side, other, used_s, used_o, other_texts, own_texts in (
            (True, q, c, used_q, used_c, c_texts, q_texts), (False, c, q, used_c, used_q, q_texts, c_texts)):
        if not (expand_c if on_q else expand_q):
            continue
        # An acronym may stand for the other name only when it is the one part of its own name the
        # other name does not contain: 'CJNG' or 'S.A.S. E.U.', but not 'SMT-CRIMEA'.
        loose = [i for i, t in enumerate(side) if t.text not in other_texts]
        if len(loose) != 1 or loose[0] in used_s:
            continue
        i = loose[0]
        text = side[i].text
        if len(text) < 3 or text in ORG_SIGN_WORDS:
            continue
        rest_o = [j for j in range(len(other)) if j not in used_o and other[j].text not in own_texts]
        # Plausible covers use three words, or two when the token holds three letters of each.
        need = 2 if len(text) >= 2 * MIN_CONTRACTION_PIECE else 3
        if (not 2 <= len(rest_o) <= 8 or not need <= len(rest_o) <= len(text)
                or text[0] != other[rest_o[0]].text[0] or not {other[j].text[0] for j in rest_o} <= set(text)):
            continue
        if _spells(text, tuple(other[j].text for j in rest_o)):
            credit = ACRONYM_SHORT_CREDIT.get(len(text), ACRONYM_CREDIT)
            used_s[i] = credit
            for j in rest_o:
                used_o[j] = credit
            found.append((on_q, i, rest_o))
    return found


def _plausible_acronym(token: str, words: tuple[str, ...]) -> bool:
    """Initials need three letters ('CJNG', not 'RF'); a contraction must draw on at least three
    words and be five letters long ('SOESMA'), or join two words with at least three letters of each
    ('COLCERDOS' = COLombiana de CERDOS, 'AEROCONDOR' = AEROnautica CONDOR, a common way Spanish
    company names are shortened). Otherwise any short word could be spelled from the starts of other
    words: 'ROSE' = ROboTRONIX SEmiconductors."""
    if len(token) == len(words):  # one letter from each word
        return len(token) >= 3
    if len(words) == 2:
        first, second = words
        return any(token[:cut] == first[:cut] and second.startswith(token[cut:])
                   for cut in range(MIN_CONTRACTION_PIECE, len(token) - MIN_CONTRACTION_PIECE + 1))
    return len(words) >= 3 and len(token) >= 5


@dataclass
class Aligned:
    """What the alignment of two names found: the raw material of the features (workbench.matching.features)."""

    q: list[Token]
    c: list[Token]
    wq: list[float]
    wc: list[float]
    used_q: dict[int, float]
    used_c: dict[int, float]
    pair_how: list[tuple[int, int, float, str]]  # (query index, candidate index, similarity, how)
    acronyms: int = 0
    cross_role: int = 0
    # Why parts that would have aligned did not: given names of two people (explanation entries).
    notes: list[dict] = field(default_factory=list)


def align(qf: NameForm, cf: NameForm, stats: TokenStats | None = None) -> tuple[NameScore, Aligned | None]:
    """Align the parts of two names one-to-one, best pairs first; fills the explanation's aligned/unmatched."""
    q, c = _join_split_words(qf.tokens, cf.tokens)
    result = NameScore(0.0, query=qf, candidate=cf)
    if not q or not c:
        only_form = next((f for f in (qf, cf) if f.legal_form_only), None)
        if only_form is not None:
            result.features.append({"feature": LEGAL_FORM_ONLY, "effect": 0.0,
                                    "detail": f"'{only_form.original}' is only a legal form "
                                              f"({', '.join(only_form.legal_forms)}): no name to compare, "
                                              "and a legal form says which kind of company, not which one"})
        else:
            result.features.append({"feature": "empty", "effect": 0.0, "detail": "a name has no comparable parts"})
        return result, None
    if stats is not None:
        wq_list = [t.weight * stats.factor(t.text) for t in q]
        wc_list = [t.weight * stats.factor(t.text) for t in c]
    else:
        wq_list = [t.weight for t in q]
        wc_list = [t.weight for t in c]
    both_ordered = qf.ordered and cf.ordered
    used_q: dict[int, float] = {}
    used_c: dict[int, float] = {}
    state = Aligned(q, c, wq_list, wc_list, used_q, used_c, [])
    if qf.kind != PERSON and cf.kind != PERSON:
        for on_q, i, idx in acronym_stage(q, c, used_q, used_c, may_expand(qf), may_expand(cf)):
            side, other = (q, c) if on_q else (c, q)
            token, words = side[i].text, " ".join(other[j].text for j in idx)
            state.acronyms += 1
            credit = (used_q if on_q else used_c)[i]
            result.aligned.append(Alignment(token, words, credit, "acronym") if on_q
                                  else Alignment(words, token, credit, "acronym"))
    pairs = []
    for i, a in enumerate(q):
        if i in used_q:
            continue
        for j, b in enumerate(c):
            if j in used_c:
                continue
            sim, how = token_similarity(a, b)
            if sim >= MIN_TOKEN_SIM and how != "different":
                pairs.append((sim, wq_list[i] + wc_list[j], i, j, how))
    pairs.sort(key=lambda p: (-p[0], -p[1], abs(p[2] - p[3])))
    for sim, _w, i, j, how in pairs:
        if i in used_q or j in used_c:
            continue
        credit = sim if how != "spelling" else sim ** SPELL_POWER
        if both_ordered and q[i].role != c[j].role:
            credit *= 1 - CROSS_ROLE
            state.cross_role += 1
        used_q[i] = credit
        used_c[j] = credit
        state.pair_how.append((i, j, sim, how))
        result.aligned.append(Alignment(q[i].text, c[j].text, sim, how))
    dropped = other_sex_compound(q, c, state.pair_how)
    if dropped:
        before = len(result.aligned) - len(state.pair_how)  # the acronyms come first
        for k, on_q in reversed(dropped):
            i, j, _sim, _how = state.pair_how.pop(k)
            if both_ordered and q[i].role != c[j].role:
                state.cross_role -= 1
            del used_q[i], used_c[j], result.aligned[before + k]
            state.notes.append(_other_sex_note(q, i) if on_q else _other_sex_note(c, j))
    if not state.acronyms and only_initials(qf, cf, q, c, state.pair_how):
        for i, j, _sim, _how in state.pair_how:
            del used_q[i], used_c[j]
        state.pair_how.clear()
        state.cross_role = 0
        result.aligned.clear()
    result.unmatched_query = [q[i].text for i in range(len(q)) if i not in used_q]
    result.unmatched_candidate = [c[j].text for j in range(len(c)) if j not in used_c]
    if result.unmatched_query and result.unmatched_candidate:
        for i in (i for i in range(len(q)) if i not in used_q):
            for j in (j for j in range(len(c)) if j not in used_c):
                reason = given_name_rule(q[i], c[j])
                if reason is not None:
                    state.notes.append(_given_name_note(reason, q[i], c[j]))
    return result, state


def _given_name_note(reason: str, a: Token, b: Token) -> dict:
    """The explanation's entry for two given names the rules keep apart (``given_name_rule``)."""
    pair = f"'{_as_written(a)}' / '{_as_written(b)}'"
    if reason == MASCULINE_FORMS:
        detail = (f"{pair}: the masculine and feminine forms of a given name, two people (a brother and "
                  "a sister, a father and a daughter), not one name spelled two ways: not aligned")
    else:
        detail = f"{pair}: two distinct given names a letter apart, two people, not one name misspelt: not aligned"
    return {"feature": reason, "effect": 0.0, "detail": detail}


OTHER_SEX_COMPOUND = "compound given name of the other sex"


def _other_sex_note(side: list[Token], k: int) -> dict:
    """The explanation's entry for a pair ``other_sex_compound`` took apart (``side[k]``: the compound's
    second part)."""
    first, second = side[k - 1], side[k]
    source = _expanded_from(second)
    compound = f"{first.text} {second.text}" + (f" (written '{source}')" if source else "")
    sex, other = _sex(first.text), _sex(second.text)
    return {"feature": OTHER_SEX_COMPOUND, "effect": 0.0,
            "detail": f"'{second.text}' is the second part of a {sex}'s compound given name, {compound}, "
                      f"and the first given name of the other, a {other}'s: two people, not aligned"}


def only_initials(qf: NameForm, cf: NameForm, q: list[Token], c: list[Token],
                  pair_how: list[tuple[int, int, float, str]]) -> bool:
    """Whether two people's names align only letter by letter: every aligned pair has an initial on
    one side and one of them stands for a word. 'S M A' or 'MUJEL, A.S.' against 'SINGLETON, Abigail M'
    align so, as would any name with those first letters: no evidence, so it counts as none.
    (Organisations write acronyms with dots, 'M.A.T.S.A.': their letters keep their alignment.)"""
    return ((qf.kind == PERSON or cf.kind == PERSON)
            and any(how == "initial" for _i, _j, _s, how in pair_how)
            and all(len(q[i].text) == 1 or len(c[j].text) == 1 for i, j, _s, _h in pair_how))


# Two people's names with the same parts in another order ('Ramon Eduardo' / 'Eduardo Ramon', two
# brothers on the SDN list) score just under the names written alike, so the one written alike ranks
# first; still far above any threshold, as one person's names are often written so.
REORDERED_SCORE = 0.97


def reordered(qf: NameForm, cf: NameForm, pair_how) -> bool:
    """Whether two people's names align in another order than they are written, beyond a block of
    words moved from the end to the front (a roll's 'GUZMAN LOERA JOAQUIN' for 'Joaquin Guzman Loera').
    Organisations reorder freely ('CARTEL DE SINALOA' = 'SINALOA CARTEL')."""
    if qf.kind != PERSON and cf.kind != PERSON:
        return False
    seq = [j for _i, j, _s, _h in sorted(pair_how)]
    descents = sum(1 for a, b in zip(seq, seq[1:]) if b < a)
    return descents > 1 or (descents == 1 and seq[-1] > seq[0])


GENERATION_CAP = 0.5  # a parent and a child (different generational suffixes) score at most this
# A suffix on one name only: a father and a son share the rest of the name, but OFAC's own aliases also
# drop a 'Jr.' now and then (the dev pairs hold such aliases). The pair stays a hit to review, clearly
# below the names written alike and the same names in another order (REORDERED_SCORE): at most this.
ONE_SIDED_GENERATION_CAP = 0.92


def generation_adjusted(qf: NameForm, cf: NameForm, score: float) -> tuple[float, dict | None]:
    """The score with the names' generational suffixes weighed (idempotent): different suffixes
    (Jr. / Sr.) mean a parent and a child, at most GENERATION_CAP; a suffix on one side only (Jr.,
    Junior, hijo, III), at most ONE_SIDED_GENERATION_CAP, and the explanation names the suffix even
    where the rest of the names already scores below it."""
    a, b = qf.generation, cf.generation
    if a == b:
        return score, None
    if a and b:
        if score <= GENERATION_CAP:
            return score, None
        return GENERATION_CAP, {"feature": "generational suffix differs", "effect": round(GENERATION_CAP - score, 3),
                                "detail": f"{a} / {b}: a parent and a child share the rest of their names"}
    adjusted = min(score, ONE_SIDED_GENERATION_CAP)
    written = generation_written(qf if a else cf)
    return adjusted, {"feature": "generational suffix on one side only", "effect": round(adjusted - score, 3),
                      "detail": f"'{written}' ({a or b}) on one name only: a father and a son share the rest "
                                f"of their names (at most {ONE_SIDED_GENERATION_CAP})"}


# Numbers in names (NameForm.numbers: a branch, a series, a lot, a numbered company) are weighed apart
# from the parts. Two different numbers ('EMPRESA FANTASMA 001' / 'EMPRESA FANTASMA 011', 'GASOLINERA 5
# DE MAYO' / '6 DE MAYO', 'LOTE 12' / 'LOTE 21') are two organisations whatever the rest: at most
# DIFFERENT_NUMBERS_CAP, well below any screening threshold (the CLI reports from 0.5, jobs queue from
# 0.7). A number on one name only ('EMPRESA FANTASMA' / 'EMPRESA FANTASMA 001 SA DE CV': a roll may drop
# it, or the other is one of a series) is a mild penalty: at most ONE_SIDED_NUMBER_CAP. The same number
# written otherwise ('001' / '1', 'No. 5' / '5', 'XII' / '12' in an organisation's name) is the same.
DIFFERENT_NUMBERS_CAP = 0.3
ONE_SIDED_NUMBER_CAP = 0.9
DIFFERENT_NUMBERS, ONE_SIDED_NUMBER, SAME_NUMBER = "different numbers", "number on one side only", "same number"
# Features whose detail starts with what they name ('different numbers: 001 / 011'): the one-line
# summary (NameScore.summary) shows that, not the feature's name alone.
_NAMED_IN_DETAIL = frozenset({DIFFERENT_NUMBERS, ONE_SIDED_NUMBER, SAME_NUMBER})
LEGAL_FORM_ONLY = "only a legal form"


def _written_numbers(form: NameForm, values) -> str:
    values = set(values)
    shown = [w.upper() for w in form.numbers_written
             if (number_value(w) if not w.isalpha() else ROMAN_NUMERALS.get(w)) in values]
    return " ".join(dict.fromkeys(shown))


def numbers_adjusted(qf: NameForm, cf: NameForm, score: float) -> tuple[float, dict | None]:
    """The score with the names' numbers weighed (idempotent; see DIFFERENT_NUMBERS_CAP): the
    explanation names the numbers even where the rest of the names already scores below the cap."""
    a, b = qf.numbers, cf.numbers
    if a == b:
        return score, None
    sa, sb = set(a), set(b)
    if sa and sb and not (sa <= sb or sb <= sa):
        capped = min(score, DIFFERENT_NUMBERS_CAP)
        pair = f"{_written_numbers(qf, sa - sb)} / {_written_numbers(cf, sb - sa)}"
        return capped, {"feature": DIFFERENT_NUMBERS, "effect": round(capped - score, 3),
                        "detail": f"different numbers: {pair} (a branch, series or lot number tells two "
                                  f"organisations apart: at most {DIFFERENT_NUMBERS_CAP})"}
    capped = min(score, ONE_SIDED_NUMBER_CAP)
    only = _written_numbers(qf, sa - sb) if sa - sb else _written_numbers(cf, sb - sa)
    return capped, {"feature": ONE_SIDED_NUMBER, "effect": round(capped - score, 3),
                    "detail": f"number on one name only: {only} (one of a series, or a number left out: "
                              f"at most {ONE_SIDED_NUMBER_CAP})"}


def _same_numbers_note(qf: NameForm, cf: NameForm) -> dict | None:
    """The explanation's entry for the same numbers written otherwise ('001' / '1', 'XII' / '12')."""
    if not qf.numbers or qf.numbers != cf.numbers or qf.numbers_written == cf.numbers_written:
        return None
    a, b = _written_numbers(qf, qf.numbers), _written_numbers(cf, cf.numbers)
    if a == b:
        return None
    return {"feature": SAME_NUMBER, "effect": 0.0, "detail": f"same number written differently: {a} / {b}"}


# A company named after a person ('ERNESTO RAMIREZ TORRES SA DE CV' / 'RAMIREZ TORRES, Ernesto') is a
# lead to the person (his company, or a front), never the same entity: however alike the names, at most
# this, below the names of one person written alike and in another order (REORDERED_SCORE).
COMPANY_OF_PERSON_CAP = 0.9
COMPANY_OF_PERSON = "a company bearing the person's name"


def company_and_person(qf: NameForm, cf: NameForm) -> bool:
    """Whether one name is known to be an organisation's and the other a person's."""
    return (qf.kind == ORG and cf.kind == PERSON) or (qf.kind == PERSON and cf.kind == ORG)


def company_person_adjusted(qf: NameForm, cf: NameForm, score: float) -> tuple[float, dict | None]:
    """The score of a company's name against a person's, capped (COMPANY_OF_PERSON_CAP); the explanation
    says so for a pair that is a hit (0.5 and above), where a researcher reads it."""
    capped = min(score, COMPANY_OF_PERSON_CAP)
    if score < 0.5:
        return capped, None
    company, person = (qf, cf) if qf.kind == ORG else (cf, qf)
    return capped, {"feature": COMPANY_OF_PERSON, "effect": round(capped - score, 3),
                    "detail": f"'{company.original}' is a company's name and '{person.original}' a person's: a company "
                              f"bearing the person's name is a lead to the person, not the same entity (at most "
                              f"{COMPANY_OF_PERSON_CAP})"}


# A listed weak alias / nickname ('TONY MONTANA', 'EL MAYO', 'DR. IBRAHIM'): OFAC calls such names too broad to
# screen on alone. A hit on one is a lead, scored at most this, below any name matched in full, and says so.
WEAK_ALIAS_CAP = 0.9
WEAK_ALIAS = "a weak alias / nickname"


def weak_alias_capped(result: NameScore) -> NameScore:
    """``result`` of a name matched only as a listed weak alias: capped (WEAK_ALIAS_CAP), the explanation saying so."""
    capped = min(result.score, WEAK_ALIAS_CAP)
    note = {"feature": WEAK_ALIAS, "effect": round(capped - result.score, 3),
            "detail": "the name matched is a weak alias / nickname of the entry, too broad to screen on alone "
                      f"(OFAC's word): a lead, at most {WEAK_ALIAS_CAP}"}
    return replace(result, score=capped, features=[*result.features, note])


def needs_adjusting(qf: NameForm, cf: NameForm) -> bool:
    """Whether ``adjusted`` may change the pair's score (most pairs: no, and it is skipped)."""
    return qf.generation != cf.generation or qf.numbers != cf.numbers or company_and_person(qf, cf)


def adjusted(qf: NameForm, cf: NameForm, score: float) -> tuple[float, list[dict]]:
    """What the scorer applies after the model, in order: generational suffixes, numbers, then a
    company's name against a person's."""
    notes = []
    score, feature = generation_adjusted(qf, cf, score)
    if feature is not None:
        notes.append(feature)
    if qf.numbers or cf.numbers:
        score, feature = numbers_adjusted(qf, cf, score)
        if feature is not None:
            notes.append(feature)
    if company_and_person(qf, cf):
        score, feature = company_person_adjusted(qf, cf, score)
        if feature is not None:
            notes.append(feature)
    return score, notes


def same_parts(qf: NameForm, cf: NameForm, result: NameScore, state) -> bool:
    """Whether the aligned names have the same parts after normalisation (no acronym, no part in
    another role, the same legal forms): such a pair scores 1, or REORDERED_SCORE when written in
    another order, and the model is not asked."""
    return (not result.unmatched_query and not result.unmatched_candidate
            and all(how == "exact" for _i, _j, _s, how in state.pair_how) and not state.acronyms
            and not state.cross_role and not (qf.legal_forms and cf.legal_forms
                                              and set(qf.legal_forms) != set(cf.legal_forms)))


def score_forms(qf: NameForm, cf: NameForm, stats: TokenStats | None = None, explain: bool = True) -> NameScore:
    """``_score_forms`` with what is weighed after the model (``adjusted``: generational suffixes, numbers, a
    company's name against a person's), and a number written two ways named."""
    qf, cf = given_names_by_elimination(qf, cf)
    result = _score_forms(qf, cf, stats, explain)
    notes: list[dict] = []
    if needs_adjusting(qf, cf):  # most pairs do not: nothing to weigh
        result.score, notes = adjusted(qf, cf, result.score)
        if explain and notes:
            if result.features and result.features[-1]["feature"] == "identical":
                result.features.pop()
            result.features.extend(notes)
    if explain and qf.numbers and not any(n["feature"] in _NAMED_IN_DETAIL for n in notes):
        note = _same_numbers_note(qf, cf)
        if note is not None:
            result.features.append(note)
    return result


def _score_forms(qf: NameForm, cf: NameForm, stats: TokenStats | None = None, explain: bool = True) -> NameScore:
    """The learned name score (workbench.matching.model) over the alignment's features, with each
    feature's contribution in the explanation. Names identical after normalisation score 1.
    ``explain=False`` skips the per-feature breakdown (screening scores many pairs it then drops)."""
    from workbench.matching.features import pair_features
    from workbench.matching.model import current_model, variant_for

    result, state = align(qf, cf, stats)
    if state is None:
        return result
    if same_parts(qf, cf, result, state):
        if reordered(qf, cf, state.pair_how):
            result.score = REORDERED_SCORE
            result.features.append({"feature": "same parts, in another order",
                                    "effect": round(REORDERED_SCORE - 1.0, 3),
                                    "detail": "every part is the same after normalisation, but written in "
                                              "another order (relatives' names often are)"})
            return result
        result.score = 1.0
        result.features.append({"feature": "identical", "effect": 0.0,
                                "detail": "every part is the same after normalisation"})
        return result
    married = married_alignment(qf, cf, stats, result, state)
    if married is not None:
        mq, mc, married_result, state = married
        married_result.query, married_result.candidate = qf, cf
        result = married_result
        values = pair_features(mq, mc, state, stats)
        state.notes.append(_married_note(qf if mq is not qf else None, cf if mc is not cf else None))
    else:
        values = pair_features(qf, cf, state, stats)
    variant = variant_for(stats)
    if explain:
        result.score, effects = current_model(variant).explain(values)
        if qf.kind == ORG or cf.kind == ORG:
            effects = _roles_unknown(effects)
        result.features = effects
        # Why parts left over did not align, when a rule about given names kept them apart, first.
        result.features[:0] = state.notes
        result.features[:0] = _nickname_notes(qf, cf)
    else:
        result.score = current_model(variant).probability(values)
    return result


_ROLE_FEATURES = ("family names aligned", "given names aligned")


def _roles_unknown(effects: list[dict]) -> list[dict]:
    """The explanation of a pair with an organisation's name: there the model's 'family names aligned'
    and 'given names aligned' stand for the aligned share of the whole name (an organisation's words
    have no such roles), and their details say so rather than speak of a company's given names. (The
    features keep their names: the one-line summaries that name them are fixed by
    tests/fixtures_matching_scores.json.)"""
    for entry in effects:
        if entry["feature"] in _ROLE_FEATURES:
            share = entry["detail"].rpartition(": ")[2]
            entry["detail"] = (f"an organisation's name has no family or given names: the share of the "
                               f"less-covered name that aligned stands for them: {share}")
    return effects


NICKNAME = "nickname set aside"


def _nickname_notes(qf: NameForm, cf: NameForm) -> list[dict]:
    """The explanation's entry for a nickname written in quotes or brackets inside a name, which the
    comparison left out (normalize.set_aside_nicknames)."""
    return [{"feature": NICKNAME, "effect": 0.0,
             "detail": f"'{nick}' in '{form.original}' is written as a nickname (in quotes or brackets): not "
                       "compared as a part of the name (screening also screens it as a name of its own)"}
            for form in (qf, cf) for nick in form.nicknames]


MARRIED_NAME = "married name"


def married_alignment(qf: NameForm, cf: NameForm, stats: TokenStats | None, result: NameScore,
                      state: Aligned) -> tuple[NameForm, NameForm, NameScore, Aligned] | None:
    """The alignment of the names without a married woman's husband's surname (NameForm.married: 'DE
    TOLEDO' of 'ARELLANO DE TOLEDO, Enedina', 'VDA. DE GARZA'), where it is left over while the other
    name keeps a surname of its own (a part not known to be a given name): she dropped her maternal
    surname for it, and the two leftovers
    are no conflict of two families, as they would be between relatives' names. The name then scores
    as one with a second surname dropped. None where nothing changes (the husband's surname aligned, or
    the other name has nothing left over: one more surname on one side is weighed as such), or where
    without it the names would be identical (a married name is not the maiden name written alike)."""
    if not (qf.married or cf.married):
        return None
    left_q, left_c = set(result.unmatched_query), set(result.unmatched_candidate)
    # What the other name keeps must be able to be the surname she dropped: not only given names.
    surname_q = any(t.role != GIVEN and not t.given_name for i, t in enumerate(state.q) if i not in state.used_q)
    surname_c = any(t.role != GIVEN and not t.given_name for j, t in enumerate(state.c) if j not in state.used_c)
    drop_q = surname_c and bool(qf.married) and not left_q.isdisjoint(qf.married)
    drop_c = surname_q and bool(cf.married) and not left_c.isdisjoint(cf.married)
    if not (drop_q or drop_c):
        return None
    mq = qf.unmarried if drop_q else qf
    mc = cf.unmarried if drop_c else cf
    married_result, married_state = align(mq, mc, stats)
    if married_state is None or same_parts(mq, mc, married_result, married_state):
        return None
    return mq, mc, married_result, married_state


def _married_note(q_married: NameForm | None, c_married: NameForm | None) -> dict:
    written = " / ".join(f"'{' '.join(form.married).upper()}' in '{form.original}'"
                         for form in (q_married, c_married) if form is not None)
    return {"feature": MARRIED_NAME, "effect": 0.0,
            "detail": f"married name: {written} is read as a married woman's husband's surname (her paternal "
                      "surname, then DE or VDA. DE and his): left out of the comparison, the name scores as one "
                      "with its second surname dropped"}


def score_names(query: str, candidate: str, schema: str | None = None, stats: TokenStats | None = None) -> NameScore:
    """Score two names; ``schema`` (Person, Company, ...) tells how to read them when known."""
    return score_forms(normalize(query, schema), normalize(candidate, schema), stats)


def best_name_score(queries: list[str], candidates: list[str], schema: str | None = None,
                    stats: TokenStats | None = None) -> tuple[NameScore, str, str]:
    """Best score over every (name, alias) combination, with the names that produced it."""
    best: tuple[NameScore, str, str] | None = None
    for q in queries:
        for c in candidates:
            s = score_names(q, c, schema, stats)
            if best is None or s.score > best[0].score:
                best = (s, q, c)
    if best is None:
        return NameScore(0.0), "", ""
    return best


__all__ = [
    "ORG",
    "PERSON",
    "Alignment",
    "NameScore",
    "TokenStats",
    "best_name_score",
    "score_forms",
    "score_names",
    "token_similarity",
]
