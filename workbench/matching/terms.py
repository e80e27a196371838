"""The cheap view of a name that blocking and the C pre-score use: words, their keys, a sort string.

Screening a million rows cannot afford the full parse (workbench.matching.normalize) of every owner:
most owners are on no list and are dismissed before any full score. This view is built from the
same vocabularies (particles, suffixes, legal forms, diminutives, spelling families, the Spanish
phonetic key) but word by word, with every word's analysis cached, so a name costs one fold and a
few dictionary look-ups. Watchlist names and queries go through the same function, so the two
sides always agree on keys and pre-score strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from workbench.matching.data.names import (
    GENERIC_ORG_WORDS,
    JOINABLE_PARTICLES,
    LEGAL_FORMS,
    ORG_PARTICLES,
    PARTICLES,
    SHORT_FORMS,
    VARIANT_FAMILIES,
    WIDOW_WORDS,
)
from workbench.matching.normalize import (
    INNER_APOSTROPHE,
    NUMBER_SIGNS,
    ORG,
    PERSON,
    ROMAN_NUMERALS,
    SUFFIXES,
    TITLES,
    derived_short_form,
    dotted_inner,
    number_value,
    phonetic,
    schema_kind,
    skeleton,
    strip_legal_tail,
    whole_legal_form,
    without_thousands,
)
from workbench.text import fold

PREFIX = 4  # a word's first letters as a key: catches typos late in a word that change its sound
# Key kinds of the first-letters family ('x:' nearby lengths, 't:' cut short): one key split in parts.
SPELLED_KEYS = frozenset("xt")
# Long words are also posted under their consonant skeleton: a vowel dropped, added or changed early
# in the word ('RAWNSTVO' / 'RAWENSTVO', 'JOUMAA' / 'JOMAA') leaves it as it was.
SKELETON_FROM = 6
# A word's one-letter-left-out and cut-short keys number its length, each as long as the word: the
# square of its length in memory. Real name words stay far below this; a longer 'word' (a pasted
# hash, a garbled cell) gets no letter-left-out keys and cut-short keys for its first letters only,
# and is not remembered: one 200,000-letter query took 23 GB.
KEYED_LETTERS = 48


def _length_slack(length: int) -> int:
    """How far from a word's length the first-letters key is looked up: a late typo adds, drops or
    changes a letter or two, so 'MARIA' meets 'MARIO' but not every 'MARISOL' and 'MARISCAL'."""
    return 1 if length < 8 else max(2, length // 7)


_VARIANT_CANON = {spelling: family[0] for family in VARIANT_FAMILIES for spelling in family}
_DROPPED = PARTICLES | SUFFIXES | ORG_PARTICLES
# Titles go, except those that are also organisation words: normalize keeps 'GENERAL' in 'GENERAL
# TRADING LLC', so blocking must post it there too, or 'GENEAAL TRADING' could not find it.
_TITLES = TITLES - GENERIC_ORG_WORDS
# Legal-form words anywhere in a name ('LIMITED LIABILITY COMPANY X', 'X CO LTD'): they say which kind
# of company, not which one, and dropping them on both sides can only raise the pre-score.
_FORM_WORDS = frozenset(w for forms in LEGAL_FORMS.values() for f in forms for w in f.split() if len(w) > 2)
# Words this view and normalize may treat differently (normalize keeps a title in an organisation's name
# and a legal-form word before the end): a name holding one is not plain (NameView.plain).
_UNSURE = (TITLES | _FORM_WORDS) - _DROPPED
_QUOTES = frozenset("'\"‘’“”«»([")
_WORDISH = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a name: the sound keys it is posted under, and its canonical sound for pre-scoring."""

    text: str
    keys: tuple[str, ...]  # posted under
    probes: tuple[str, ...]  # looked up: the sound keys, the first letters at nearby lengths, the word as cut short
    sounds: tuple[str, ...]  # canonical phonetic form(s): 'pepe' -> ('jose',) sound, 'chema' -> two
    skel: str = ""  # consonant skeleton of the sound key, for pair_keys
    skel_key: bool = False  # posted under its own skeleton already (a long word): no pair needed
    near: tuple[str, ...] = ()  # looser keys, for the second-word check only (near_keys)
    splits: bool = False  # stands for several words ('chema' = 'jose maria'): normalize parses it into them
    # What the word's keys depend on: its text, and the particles before it when it is also looked up
    # joined with them ('de leon' has the keys of 'deleon' too). The index caches look-ups by it.
    ident: str = ""


_WORDS: dict[str, Word] = {}


def word(text: str) -> Word:
    found = _WORDS.get(text)
    if found is not None:
        return found
    expansions = SHORT_FORMS.get(text, ()) or derived_short_form(text)  # as normalize._alternatives
    alts: set[str] = set()
    for e in expansions:
        alts.update(e.split())
    canon = _VARIANT_CANON.get(text)
    if canon:
        alts.add(canon)
    for e in expansions:
        if e in _VARIANT_CANON:
            alts.add(_VARIANT_CANON[e])
    phon = phonetic(text)
    keys = {"p:" + phon}
    keys.update("p:" + phonetic(a) for a in alts)
    if len(phon) >= SKELETON_FROM:
        keys.add("k:" + skeleton(phon))
    probes = set(keys)
    if len(text) >= PREFIX:
        n = len(text)
        keys.add(f"x:{text[:PREFIX]}{n}")
        slack = _length_slack(min(n, KEYED_LETTERS))
        probes.update(f"x:{text[:PREFIX]}{m}" for m in range(max(PREFIX, n - slack), n + slack + 1))
        # A word cut short ('TRANSLOM' for 'TRANSLOMMARKET': a roll's owner field has a fixed width)
        # meets the listed words it could be cut from: they are posted under their proper prefixes.
        keys.update("t:" + text[:m] for m in range(PREFIX, min(n, KEYED_LETTERS)))
        probes.add("t:" + text)
    if len(expansions) == 1 and " " in expansions[0]:
        sounds = tuple(phonetic(p) for p in expansions[0].split())
    elif alts:
        sounds = (phonetic(min(alts)),)
    else:
        sounds = (phon,)
    if len(text) == 1:  # an initial blocks nothing and pre-scores as itself
        keys, probes, sounds = set(), set(), (text,)
    found = Word(text, tuple(sorted(keys)), tuple(sorted(probes)), sounds, skeleton(phon) if len(text) > 1 else "",
                 len(phon) >= SKELETON_FROM, near_keys(text, phon), len(expansions) == 1 and " " in expansions[0], text)
    if len(_WORDS) < 2_000_000 and len(text) <= KEYED_LETTERS:  # no name has longer words: none to remember
        _WORDS[text] = found
    return found


def near_keys(text: str, phon: str) -> tuple[str, ...]:
    """Keys two spellings of one word almost always share, though they may share no blocking key:
    the word or its sound with one letter left out ('HLODINGS' / 'HOLDINGS' both give 'hodings';
    'OUUKA' / 'OKUKA' give 'ouka'), the sound's consonant skeleton ('TYLER' / 'TAYLOR'), the first
    four letters of the spelling ('VELASCO' / 'VELASQUEZ') and of the sound ('NICOLE' / 'NIKOLOV'),
    and the last four letters ('PADILLA' / 'LAVILLA'). Too loose to block on (they would bring back most of the
    list); the index uses them only to tell whether a query's second word could align
    (NameIndex.candidates)."""
    if len(text) < 3:
        return ()
    keys = {"e:" + phon, "s:" + skeleton(phon), "d:" + text}
    if len(text) <= KEYED_LETTERS:
        keys.update("e:" + phon[:i] + phon[i + 1:] for i in range(len(phon)))
        keys.update("d:" + text[:i] + text[i + 1:] for i in range(len(text)))
    if len(text) >= PREFIX:
        keys.add("f:" + text[:PREFIX])
        keys.add("g:" + phon[:PREFIX])
    if len(text) > PREFIX:
        keys.add("l:" + text[-PREFIX:])
    return tuple(sorted(keys))


@dataclass(frozen=True, slots=True)
class NameView:
    """A name's words, the legal forms stripped from its end, and whether the name is plain: every
    word left out is one normalize leaves out too, and none stands for several words."""

    words: list[Word]
    legal: tuple[str, ...]
    plain: bool
    # Parts between commas that hold a letter or digit, as normalize counts them (two: the OFAC
    # 'SURNAMES, Given' form). None where only the parse can tell: a name in another script, or one
    # ending in a note in brackets, before which normalize also looks for a legal form.
    commas: int | None

    def parsed(self, schema: str | None) -> tuple[str | None, list[str] | None]:
        """normalize(name, schema)'s kind and the texts of its parts, where the words tell them without
        the parse (screening parses only the owners it scores): (PERSON, None) for a person's name,
        whose parts no acronym stage needs; (kind, texts) for a plain name; (None, None) when only the
        parse can tell. Follows normalize's decisions: a schema's kind first, a legal form makes an
        organisation, the OFAC comma form a person."""
        kind = schema_kind(schema)
        if kind is None and self.legal:
            kind = ORG
        if kind is None and self.commas == 2:
            kind = PERSON
        if kind == PERSON:
            return PERSON, None
        if not self.plain or self.commas is None:
            return None, None
        return kind, [w.text for w in self.words]


def name_words(name: str) -> list[Word]:
    """The identity words of a name, legal-form tail, particles, suffixes and titles left out."""
    return name_view(name).words


def name_view(name: str) -> NameView:
    """The identity words of a name, legal-form tail, particles, suffixes and titles left out, with
    what normalize would make of them (NameView).

    A word after particles that surnames are written joined with ('DE LEON' / 'DELEON') is also
    posted and looked up under the joined spelling, as normalize aligns them."""
    text = without_thousands(INNER_APOSTROPHE.sub("", (name or "").replace("&", " and ")))
    inner = dotted_inner(text)
    folded = fold(text).split()
    words, legal = strip_legal_tail(folded, inner)
    # A name that is only a legal form ('S.A. DE C.V.') has no words to look up, as normalize gives it no parts.
    whole = whole_legal_form(folded, inner, len(words))  # None at once unless the last word ends a legal form
    if whole is not None:
        return NameView([], whole, True, 1)
    kept: list[Word] = []
    particles: list[str] = []
    plain = True
    for at, w in enumerate(words):
        # A number is its value ('001' = '1', '3er' = '3'), and a sign before one ('No. 5') goes, as normalize.
        if not w.isalpha():
            value = number_value(w)
            if value is not None:
                kept.append(word(value))
                particles.clear()
                continue
        elif w in NUMBER_SIGNS and at + 1 < len(words) and not words[at + 1].isalpha() \
                and number_value(words[at + 1]) is not None:
            continue
        elif w in ROMAN_NUMERALS:  # a number in an organisation's name (normalize), a suffix in a person's
            plain = False
        if w in WIDOW_WORDS:  # normalize leaves it out of a person's name ('LOPEZ VDA. DE GARZA'), not a company's
            plain = False
            particles.clear()
            continue
        if w in _DROPPED or w in _TITLES or w in _FORM_WORDS:
            if w in _UNSURE:
                plain = False
            if w in JOINABLE_PARTICLES:
                particles.append(w)
            else:
                particles.clear()
            continue
        found = word(w)
        if found.splits or w in _UNSURE:
            plain = False
        if particles:
            keys, probes, near = set(found.keys), set(found.probes), set(found.near)
            for k in range(len(particles)):
                joined = word("".join(particles[k:]) + w)
                keys.update(joined.keys)
                probes.update(joined.probes)
                near.update(joined.near)
            found = Word(w, tuple(sorted(keys)), tuple(sorted(probes)), found.sounds, found.skel, found.skel_key,
                         tuple(sorted(near)), found.splits, " ".join([*particles, w]))
            particles.clear()
        kept.append(found)
    if not kept:
        kept = [word(w) for w in ([w for w in words if w not in _DROPPED] or words)]
        plain = False
    if not _QUOTES.isdisjoint(text):  # a nickname in quotes or brackets, which normalize may set aside
        plain = False
    commas: int | None = 1
    if text.rstrip().endswith(")") and "(" in text:
        commas = None  # normalize looks for a legal form before a note in brackets ('X, LLC (USA)'): not here
    elif "," in text:  # normalize's parts: those that fold to something (told cheaply for ASCII only)
        commas = (sum(1 for part in text.split(",") if not _WORDISH.isdisjoint(part)) if text.isascii() else None)
    return NameView(kept, legal, plain, commas)


def join_keys(words: list[Word]) -> list[str]:
    """The sound keys of adjacent words written together ('MAE SAI' -> 'maesai'): a name posted or
    looked up under them meets the same name written as one word, in either direction."""
    return ["p:" + phonetic(a.text + b.text) for a, b in pairwise(words)
            if len(a.text) > 1 and len(b.text) > 1]


PAIR_WORDS = 5  # pair keys from a name's first words only: a long name has enough other keys


def pair_keys(words: list[Word]) -> list[str]:
    """Keys for two short words' consonant skeletons together ('JOMAA ... SAEID' and 'JOUMAA ... SAIED'
    both give 'jm sd'): transliterations of one name differ mostly in vowels, often in every word at
    once, so none of its word keys may match. One short skeleton alone is too common to block on
    ('jm'); two together are about as selective as a word. Long words have their own skeleton key."""
    skels = sorted({w.skel for w in words[:PAIR_WORDS] if len(w.skel) >= 2 and not w.skel_key})
    return [f"s:{a} {b}" for i, a in enumerate(skels) for b in skels[i + 1:]]


def sort_string(words: list[Word]) -> str:
    """Order-free string of canonical sounds: what the C pre-scorer compares."""
    return " ".join(sorted(s for w in words for s in w.sounds))
