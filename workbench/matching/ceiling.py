"""How far name similarity alone can go in screening recall: the ceiling `bench matching` prints beside ours.

Some dev aliases share no word with their entry's name ("CHIKA'S" for SIN-MEX IMPORTADORA), and some share
fewer words with it than another listed name does ('TORRES MENDEZ, Ramon' for ARELLANO FELIX, Ramon Eduardo,
while TORRES ESPINOZA, Ramon Antonio is listed). No scorer that rewards shared words can rank those entries
first. Counting them tells a fault of our scorer from a limit of the data, so it is judged generously to the
true entry (its words count as shared when spelt another way, joined, or contracted: 'COSUR' = COnstructora
del SUR) and strictly to every other (theirs count only when equal). The figures are upper bounds: a real
scorer can do no better on these queries, only worse.

A tie, another name sharing exactly the words the true one shares and leaving no more over, is a coin toss
for any name scorer; its expected loss is reported apart from the hard bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz.distance import Levenshtein

from workbench.matching.normalize import normalize

CLOSE_SPELLING = 0.6  # edit similarity at which two words of four letters or more count as one spelt two ways
MIN_WORD = 4  # shorter words are shared only when equal


@dataclass(frozen=True)
class Ceiling:
    queries: int
    no_shared_word: int  # the true name shares no word with the query, however spelt: out of reach at any rank
    outranked: int  # another name shares those words exactly, and more, with no more left over
    tied: int  # another name shares exactly the same words, with no more left over
    tie_losses: float  # expected queries lost to those ties when they are broken at random

    def at_1(self) -> float:
        return (self.queries - self.no_shared_word - self.outranked) / max(1, self.queries)

    def at_1_expected(self) -> float:
        return (self.queries - self.no_shared_word - self.outranked - self.tie_losses) / max(1, self.queries)

    def at_any_rank(self) -> float:
        return (self.queries - self.no_shared_word) / max(1, self.queries)


class Word(NamedTuple):
    text: str
    role: str | None  # given / family, when the name's form says so
    sound: str  # the normaliser's phonetic skeleton: 'qasim' and 'kassem' sound alike


def words_of(name: str, schema: str | None) -> tuple[Word, ...]:
    """The parts our normaliser keeps (legal forms, particles and titles are not evidence of identity),
    and the starts, joined, of any run of single letters it read as a legal form or initials: 'S.A.S. E.U.'
    may be an acronym of SERVICIO AEREO DE SANTANDER."""
    form = normalize(name, schema)
    words = [Word(t.text, t.role, t.skeleton) for t in form.tokens]
    kept = {w.text for w in words}
    run: list[str] = []
    for part in [*form.folded.split(), ""]:
        if len(part) == 1:
            run.append(part)
            continue
        words += [Word("".join(run[:n]), None, "") for n in range(3, len(run) + 1) if "".join(run[:n]) not in kept]
        run = []
    return tuple(dict.fromkeys(words))


@lru_cache(maxsize=100_000)
def _contracts(word: str, words: tuple[str, ...]) -> bool:
    """Whether ``word`` is spelt by prefixes of two or more of ``words``, in order, skipping any:
    'ganareca' = GANAdo REntas CApital. Generous on purpose (see the module docstring)."""
    def walk(pos: int, start: int, used: int) -> bool:
        if pos == len(word):
            return used >= 2
        for k in range(start, len(words)):
            w = words[k]
            for n in range(min(len(w), len(word) - pos), 0, -1):
                if word[pos:pos + n] == w[:n] and walk(pos + n, k + 1, used + 1):
                    return True
        return False

    return len(word) >= 3 and walk(0, 0, 0)


def _alike(a: Word, b: Word, whole_words: bool = True) -> bool:
    """Equal, or sounding alike, or of four letters or more and spelt alike, or (``whole_words``) one inside
    the other: 'PESCA' in 'INPESCA'. Two words joined must be spelt alike to the one they may stand for."""
    x, y = a.text, b.text
    if x == y or (whole_words and a.sound and a.sound == b.sound):
        return True
    if min(len(x), len(y)) < MIN_WORD:
        return False
    return (whole_words and (x in y or y in x)) or Levenshtein.normalized_similarity(x, y) >= CLOSE_SPELLING


def _joined(words: tuple[Word, ...]) -> list[tuple[Word, tuple[Word, Word]]]:
    return [(Word(a.text + b.text, None, ""), (a, b)) for a, b in zip(words, words[1:])]


def generous_overlap(query: tuple[Word, ...], true: tuple[Word, ...]) -> tuple[frozenset[str], int]:
    """(texts of the query words the true name shares however spelt or ordered, how many of its own words
    are left over)."""
    joined_q, joined_t = _joined(query), _joined(true)
    q_texts, t_texts = tuple(w.text for w in query), tuple(w.text for w in true)
    shared = {w.text for w in query if any(_alike(w, t) for t in true)
              or any(_alike(w, j, False) for j, _ in joined_t) or _contracts(w.text, t_texts)}
    shared |= {w.text for j, pair in joined_q for w in pair if any(_alike(j, t, False) for t in true)}
    matched = {t for t in true if any(_alike(w, t) for w in query)
               or any(_alike(j, t, False) for j, _ in joined_q) or _contracts(t.text, q_texts)}
    matched |= {t for j, pair in joined_t for t in pair if any(_alike(w, j, False) for w in query)}
    return frozenset(shared), len(true) - len(matched)


def _strictly_shared(query: tuple[Word, ...], theirs: tuple[Word, ...]) -> tuple[frozenset[str], int]:
    """(texts of the query words another name shares exactly, in the same role where both know it; how many
    of its words are left over). Strict on purpose: a rival counts only with evidence no scorer could doubt."""
    shared, used = set(), set()
    for w in query:
        for k, t in enumerate(theirs):
            if k not in used and t.text == w.text and (w.role is None or t.role is None or w.role == t.role):
                shared.add(w.text)
                used.add(k)
                break
    return frozenset(shared), len(theirs) - len(used)


def ceiling(queries: list[tuple[str, str, str | None]], names: list[tuple[str, str, str | None]]) -> Ceiling:
    """``queries``: (query name, the true entry's id, schema); ``names``: (entry id, its one listed name,
    schema), the list the queries are screened against. A query meets only names of its own schema, as
    the bench's screening does. Every query's true id must be among ``names``."""
    words = {uid: words_of(name, schema) for uid, name, schema in names}
    postings: dict[tuple[str | None, str], set[str]] = {}
    for uid, _name, schema in names:
        for w in words[uid]:
            postings.setdefault((schema, w.text), set()).add(uid)
    no_word = outranked = tied = 0
    losses = 0.0
    for query, true_id, schema in queries:
        q = words_of(query, schema)
        shared, left = generous_overlap(q, words[true_id])
        if not shared:
            no_word += 1
            continue
        rivals = {uid for w in q for uid in postings.get((schema, w.text), ()) if uid != true_id}
        ties = 0
        for uid in sorted(rivals):
            exact, their_left = _strictly_shared(q, words[uid])
            if not exact >= shared or their_left > left:
                continue
            if exact > shared or their_left < left:
                outranked += 1
                break
            ties += 1
        else:
            if ties:
                tied += 1
                losses += ties / (ties + 1)
    return Ceiling(len(queries), no_word, outranked, tied, losses)
