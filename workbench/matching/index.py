"""Candidate index (blocking) and the screening pipeline: which listed names are worth a full score.

A query goes through three stages, each much cheaper than the next:

1. Blocking. Every listed name is posted under keys for each of its words (workbench.matching.terms):
   the Spanish phonetic key, the phonetic keys of what a diminutive or spelling variant stands for,
   its first four letters with its length (looked up at nearby lengths), its proper prefixes (for an
   owner field cut short) and, for long words, its consonant skeleton; and under the sound of each two
   adjacent words written as one. A key held by more than ``MAX_POSTING_SHARE`` of the list (a
   'mohammed', a 'company') is skipped unless the query has nothing rarer; the union of the
   remaining postings is the candidate set (typically tens of names). From a screening threshold of
   0.6 up, a candidate must also be near a second word of the query (its blocking keys, or looser
   'near' keys: a letter left out, the skeleton, the first or last letters), unless either name has a
   single word or an initial: most candidates share one word and nothing else, and the C pre-score
   would spend most of its time turning them away (``SECOND_WORD_FROM``). Acronyms and contractions
   share nothing with what they stand for: their own keys (workbench.matching.acronyms) find them,
   the scorer's acronym stage vouches for each, and they skip the pre-score, which cannot see them.
2. C pre-score. rapidfuzz's token_set_ratio over order-free strings of canonical sounds, with a
   cut-off below which the full scorer does not reach the screening threshold (``pre_cutoff``,
   calibrated on a property roll against the SDN list: see `workbench bench matching`). From the
   0.6 threshold up a second C score follows: token_set_ratio is 100 whenever one name's words are a subset
   of the other's ('DANIEL' in 'DANIEL MEDINA'), which the full score punishes as an uncovered part;
   token_sort_ratio sees the whole of both names and drops those pairs (``sort_cutoff``).
3. The name score on the survivors only: first without its explanation and abandoned as soon as
   a bound shows it cannot reach the threshold (workbench.matching.fast, the same number), then
   the explained score (workbench.matching.score) for the hits.

The same index serves watchlist files (``NameIndex.from_records``), `workbench screen`, and the
store's search and screening jobs (``StoreIndex`` in workbench.matching.search, refreshed
incrementally from the audit log): one pipeline for every way of screening.
"""

from __future__ import annotations

import copy
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import pairwise
from operator import itemgetter

from rapidfuzz import fuzz, process

from workbench.matching.acronyms import AcronymIndex
from workbench.matching.fast import model_for, prepare, quick_score
from workbench.matching.normalize import PERSON, NameForm, normalize
from workbench.matching.score import (
    WEAK_ALIAS_CAP,
    NameScore,
    TokenStats,
    acronym_stage,
    may_expand_parts,
    score_forms,
    weak_alias_capped,
)
from workbench.matching.terms import SPELLED_KEYS, join_keys, name_view, name_words, pair_keys, sort_string

MAX_POSTING_SHARE = 0.02  # keys on more than 2 % of names are too common to block on
MIN_POSTING_CAP = 300
# (screening threshold, pre-score cut-off): measured so that >= 99 % of the pairs the full scorer rates at
# or above the threshold pass the pre-score (see `workbench bench matching`, "pre-score calibration").
# Recalibrated with 40,000 distinct owners of a generated roll against the SDN names: each cut-off keeps
# >= 99.5 % of the candidate pairs the full scorer rates at or above its threshold (acronym pairs apart).
PRE_CUTOFFS = ((0.0, 0.0), (0.3, 0.0), (0.5, 46.0), (0.6, 50.0), (0.7, 66.0), (0.8, 76.0), (0.9, 90.0), (1.0, 93.0))
# A pair whose token_set_ratio stays below SORT_ESCAPE must also reach a token_sort_ratio cut-off
# (``sort_cutoff``, linear between the points). Calibrated on 25,000 and 40,000 distinct owners of
# generated rolls (seeds other than the benchmark's) against the SDN names: at each threshold the
# cut-off keeps >= 99.7 % of the pairs the full scorer rates at or above it. At 0.7 that drops three
# in five of the pairs that used to reach the full scorer, which rejected all but 0.3 % of them.
# (Asking the pairs above SORT_ESCAPE for a token_sort_ratio too saved no time: they are cheap to reject.)
SORT_CUTOFFS = ((0.6, 50.0), (0.65, 56.0), (0.7, 70.0), (0.75, 72.0), (1.0, 72.0))
SORT_ESCAPE = 80.0
# From this screening threshold up, when both names have two words or more, a candidate must be near
# two of the query's words (NameIndex.candidates). Measured on generated rolls against the SDN names
# (seeds 3, 5, 11 and 13, not the benchmark's 7): it drops 84-86 % of the candidates before the pre-score
# and keeps 0.992-1.000 of the pairs the full scorer rates at or above 0.6, 0.7 or 0.8 (`workbench bench
# matching` prints seed 13). At 0.5 it would lose 1-2 % (one shared surname can reach 0.5): off below.
SECOND_WORD_FROM = 0.6


@lru_cache(maxsize=64)
def pre_cutoff(threshold: float) -> float:
    """The token-set-ratio cut-off for a screening threshold (linear between calibrated points)."""
    return _between(PRE_CUTOFFS, threshold)


@lru_cache(maxsize=64)
def sort_cutoff(threshold: float) -> float:
    """The token-sort-ratio cut-off for a screening threshold (none below the first calibrated point)."""
    return 0.0 if threshold < SORT_CUTOFFS[0][0] else _between(SORT_CUTOFFS, threshold)


def _between(points, threshold: float) -> float:
    if threshold <= points[0][0]:
        return points[0][1]
    for (t0, c0), (t1, c1) in pairwise(points):
        if threshold <= t1:
            return c0 + (c1 - c0) * (threshold - t0) / (t1 - t0)
    return points[-1][1]


@contextmanager
def young_collections_only() -> Iterator[None]:
    """Building an index and screening allocate millions of objects beside a large, long-lived
    index and its memos; the collector's automatic passes kept walking all of it (10-20 % of
    screening's CPU, ~30 % of an index build). Within the block it is off; after it, one collection
    of the young generations frees any cycles made there (names, forms, hits and memos hold none)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect(1)


@dataclass(slots=True)
class Entry:
    record_id: str  # entity id or watchlist id
    name: str  # the name or alias as written
    primary: str  # the record's primary name
    schema: str | None
    form: NameForm
    sort: str = ""  # the pre-score string (terms.sort_string)
    alive: bool = True
    weak: bool = False  # a listed weak alias / nickname: its hits are capped (score.weak_alias_capped)


@dataclass
class Hit:
    record_id: str
    primary: str
    matched_name: str
    score: float
    result: NameScore = field(repr=False)
    schema: str | None = None


def keys_for(name: str) -> set[str]:
    return _posting_keys(name_words(name))


def _posting_keys(words) -> set[str]:
    """Every key a name is posted under: its words' keys, its adjacent words written as one, and
    pairs of its words' consonant skeletons."""
    return {k for w in words for k in w.keys} | set(join_keys(words)) | set(pair_keys(words))


def _spelled_letters(letters: list, words: list) -> bool:
    """Whether ``letters`` are single letters that are, in order, the initials of ``words``."""
    return (3 <= len(letters) == len(words) and all(len(t.text) == 1 for t in letters)
            and all(t.text == w.text[0] for t, w in zip(letters, words)))


class NameIndex:
    def __init__(self, stats: TokenStats | None = None):
        self.entries: list[Entry] = []
        self.sorts: list[str] = []
        self.postings: dict[str, list[int]] = {}
        self.by_record: dict[str, list[int]] = {}
        self.stats = stats or TokenStats()
        self.dead = 0
        # word -> (its candidates, only common keys, those of them in self.one_word)
        self._words: dict[str, tuple[frozenset[int], bool, frozenset[int]]] = {}
        # terms.near_keys -> the name lists of the listed words holding the key, and each listed word ->
        # its names (the same list objects): two levels, as names repeat their words and each word has
        # ~20 near keys.
        self.near_words: dict[str, list[list[int]]] = {}
        self.word_names: dict = {}  # terms.Word -> names
        self.one_word: set[int] = set()  # names a single aligned word may carry (one word, or initials)
        self._near: dict[str, frozenset[int]] = {}  # word -> the names it is near (_near_names)
        self.acronyms = AcronymIndex()
        # Per name: its parts when an acronym of the query may spell it out (the acronym stage's own
        # condition, prep.expands), else None; read for every acronym candidate, most of them rejected.
        self.expand_texts: list[set[str] | None] = []

    # ---- building -------------------------------------------------------------------------
    def add(self, record_id: str, name: str, primary: str | None = None, schema: str | None = None,
            weak: bool = False) -> None:
        form = normalize(name, schema)
        if not form.tokens:
            return
        words = name_words(name)
        idx = len(self.entries)
        sort = sort_string(words)
        prepare(form)  # once here, not in every screening worker
        self.entries.append(Entry(record_id, name, primary or name, schema, form, sort, weak=weak))
        self.sorts.append(sort)
        self.expand_texts.append(form.prep.texts if form.prep.expands else None)
        self.by_record.setdefault(record_id, []).append(idx)
        for key in _posting_keys(words):
            self.postings.setdefault(key, []).append(idx)
        word_names = self.word_names
        for w in words:
            names = word_names.get(w)
            if names is None:
                names = word_names[w] = []
                for key in w.near:
                    self.near_words.setdefault(key, []).append(names)
            if not names or names[-1] != idx:
                names.append(idx)
        if len(words) < 2 or any(len(w.text) == 1 for w in words):
            self.one_word.add(idx)
        if form.kind != PERSON:
            self.acronyms.add(idx, [t.text for t in form.tokens])
        self.stats.add(name, schema)
        self._words.clear()
        self._near.clear()

    def remove(self, record_id: str) -> None:
        for idx in self.by_record.pop(record_id, []):
            if self.entries[idx].alive:
                self.entries[idx].alive = False
                self.dead += 1

    @classmethod
    def from_records(cls, records) -> NameIndex:
        """records: iterable of (id, primary name, [aliases], schema)."""
        index = cls()
        with young_collections_only():
            for record_id, primary, aliases, schema in records:
                index.add(record_id, primary, primary, schema)
                for alias in aliases:
                    if alias and alias != primary:
                        index.add(record_id, alias, primary, schema)
        return index

    def __len__(self) -> int:
        return len(self.entries) - self.dead

    def restricted(self, keep) -> NameIndex:
        """A view screening only the names ``keep(entry)`` accepts. It shares the postings and the
        list statistics, so each name it keeps scores exactly as in the whole index."""
        view = copy.copy(self)
        view.entries = [entry if not entry.alive or keep(entry) else replace(entry, alive=False)
                        for entry in self.entries]
        view.dead = sum(1 for entry in view.entries if not entry.alive)
        view.by_record = {rid: idxs for rid, idxs in self.by_record.items()
                          if any(view.entries[i].alive for i in idxs)}
        view._words = {}
        view._near = {}
        return view

    # ---- stage 1: blocking ------------------------------------------------------------------
    @property
    def cap(self) -> int:
        return max(MIN_POSTING_CAP, int(MAX_POSTING_SHARE * len(self.entries)))

    def _word_candidates(self, word) -> tuple[frozenset[int], bool, frozenset[int]]:
        """(the names a word blocks, whether only through keys too common to block on, those of the
        names that a single aligned word may carry: the second-word rule keeps them whole)."""
        found = self._words.get(word.ident)
        if found is None:
            cap = self.cap
            lists, spelled = [], []
            for key in word.probes:
                posting = self.postings.get(key)
                if posting:
                    (spelled if key[0] in SPELLED_KEYS else lists).append(posting)
            # The first-letters probes (nearby lengths, words cut short) are one key split in parts:
            # rare or common as a whole, or a word as common as 'INTERNATIONAL' would look rare
            # through a few odd neighbours and lose the fallback to its own list.
            if spelled:
                lists.append(spelled[0] if len(spelled) == 1 else frozenset().union(*spelled))
            rare = [p for p in lists if len(p) <= cap]
            if rare:
                names, only_common = frozenset().union(*rare), False
            elif lists:
                names, only_common = frozenset(min(lists, key=len)), True
            else:
                names, only_common = frozenset(), False
            found = (names, only_common, names & self.one_word)
            if len(self._words) < 500_000:
                self._words[word.ident] = found
        return found

    def candidates(self, words, second_word: bool = False) -> list[int]:
        """Names sharing a key with the query's words, common-only words skipped unless nothing is rarer.

        ``second_word`` (screening from SECOND_WORD_FROM up): when the query has two words or more,
        only the names near a second word of it too (_near_names), or that one word may carry
        (self.one_word). Most candidates share one word with the query ('JUDITH CAMPBELL' meets every
        'CAMPBELL'); when both names have two words or more, a pair with one aligned word stays far
        below a screening threshold. Words written as one ('UN JONG' / 'UNJONG') count as two. A
        query with an initial is left whole: an initial has no keys to be near by."""
        # (names, the query word's position or None for a posting of two words written as one, the
        # names of the first that one word may carry)
        rare: list[tuple[frozenset[int] | list[int], int | None, frozenset[int]]] = []
        common: list[tuple[frozenset[int], int, frozenset[int]]] = []
        for at, w in enumerate(words):
            cands, only_common, one_word = self._word_candidates(w)
            if cands:
                (common if only_common else rare).append((cands, at, one_word))
        cap = self.cap
        # The query's adjacent words written as one ('MAE SAI' = 'MAESAI'), and its pairs of skeletons.
        for key in join_keys(words) + pair_keys(words):
            posting = self.postings.get(key)
            if posting and len(posting) <= cap:
                rare.append((posting, None, frozenset()))  # two words of the query at once
        if not rare:
            if not common:
                return []
            rare = [min(common, key=lambda c: len(c[0]))]
        if second_word and len(words) >= 2 and all(len(w.text) > 1 for w in words):
            nears = [self._near_names(w) for w in words]
            kept: set[int] = set()
            for names, at, one_word in rare:
                if at is None:
                    kept.update(names)
                    continue
                kept |= one_word
                for other, near in enumerate(nears):
                    if other != at:
                        kept |= names & near
            return list(kept)
        if len(rare) == 1:
            return list(rare[0][0])
        return list(frozenset().union(*(names for names, _at, _one in rare)))

    def _near_names(self, word) -> frozenset[int]:
        """Every name that has a word which could align with ``word``: its blocking keys, however
        common, and its near keys (terms.near_keys)."""
        found = self._near.get(word.ident)
        if found is None:
            names: set[int] = set()
            for key in word.probes:
                names.update(self.postings.get(key, ()))
            near_words = self.near_words
            # Each listed word's list of names once, however many near keys it shares with this word.
            listed = {id(names_of): names_of for key in word.near for names_of in near_words.get(key, ())}
            for names_of in listed.values():
                names.update(names_of)
            found = frozenset(names)
            if len(self._near) < 200_000:
                self._near[word.ident] = found
        return found

    # ---- stages 2 and 3 -----------------------------------------------------------------------
    def search(self, name: str, schema: str | None = None, top: int = 10, threshold: float = 0.5,
               max_candidates: int | None = None) -> list[Hit]:
        """The best ``top`` records (one hit each) scoring >= threshold, through the three stages.

        ``max_candidates`` bounds how many pre-scored candidates reach the full scorer (best first):
        interactive search uses it to answer in time on large stores; screening leaves it unset."""
        view = name_view(name)
        return self._search(view.words, view.parsed(schema), lambda: normalize(name, schema), top, threshold,
                            max_candidates)

    def search_form(self, form: NameForm, top: int = 10, threshold: float = 0.5) -> list[Hit]:
        return self._search(name_words(form.original), (form.kind, [t.text for t in form.tokens]), lambda: form,
                            top, threshold)

    def _search(self, words: list, parsed: tuple[str | None, list[str] | None], parse, top: int, threshold: float,
                max_candidates: int | None = None) -> list[Hit]:
        """``parsed``: the parse's kind and part texts where known without it (NameView.parsed). Most
        owners of a roll are turned away before any full score: they are parsed only if the acronym
        stage needs their parts."""
        if not words:
            return []
        cands = self.candidates(words, second_word=threshold >= SECOND_WORD_FROM)
        acronyms: list[int] = []
        if (self.acronyms.postings or self.acronyms.trie) and (len(words) >= 3 or any(len(w.text) >= 3 for w in words)):
            kind, texts = parsed
            if texts is None and kind != PERSON:
                form = parse()
                kind, texts = form.kind, [t.text for t in form.tokens]
            acronyms = self._acronym_candidates(kind, texts, parse)
        if not cands and not acronyms:
            return []
        cutoff = pre_cutoff(threshold)
        if cands and (cutoff > 0 or (max_candidates is not None and len(cands) > max_candidates)):
            pick = itemgetter(*cands)(self.sorts)  # one C call, not a list comprehension
            query = sort_string(words)
            kept = process.extract(query, pick if len(cands) > 1 else (pick,),
                                   scorer=fuzz.token_set_ratio, score_cutoff=cutoff, limit=max_candidates)
            sort_cut = sort_cutoff(threshold)
            if sort_cut:
                sort_ratio, sorts = fuzz.token_sort_ratio, self.sorts
                kept = [k for k in kept if k[1] >= SORT_ESCAPE
                        or sort_ratio(query, sorts[cands[k[2]]], score_cutoff=sort_cut)]
            cands = [cands[k] for _, _, k in kept]
        if acronyms:  # no pre-score can see an acronym: the acronym stage has vouched for them
            cands = list(dict.fromkeys(cands + acronyms))
        if not cands:
            return []
        return self._score(parse(), cands, top, threshold)

    def _acronym_candidates(self, kind: str | None, texts: list[str] | None, parse) -> list[int]:
        """Listed names that the query abbreviates or that abbreviate it, as the scorer aligns them.

        ``kind``/``texts``: the query's parse's kind and part texts; ``parse()`` gives its parts, asked
        only when a candidate passes the set tests, which are the acronym stage's own conditions: the
        acronym is the one part of its name that the other name lacks, and the spelled-out name may be
        spelled out (may_expand)."""
        if kind == PERSON or not texts:
            return []
        spelled, abbreviating, lettered = self.acronyms.candidates(texts)
        if not spelled and not abbreviating and not lettered:
            return []
        entries = self.entries
        q_texts = set(texts)
        keep = []
        if spelled:
            # A name the acronym spells out holds every other part of the query: with two parts or more,
            # one shared part at least (a test without a new set, as most candidates share none).
            expand_texts, shared = self.expand_texts, len(q_texts) > 1
            for idx in spelled:
                names_texts = expand_texts[idx]
                if (names_texts is None or (shared and q_texts.isdisjoint(names_texts))
                        or len(q_texts - names_texts) != 1 or not entries[idx].alive):
                    continue
                if acronym_stage(parse().tokens, entries[idx].form.tokens, {}, {}, False, True):
                    keep.append(idx)
        if abbreviating and may_expand_parts(kind, texts):
            for idx in abbreviating:
                entry = entries[idx]
                if entry.alive and entry.form.kind != PERSON and (
                        _spelled_letters(entry.form.tokens, parse().tokens)
                        or (len(entry.form.prep.texts - q_texts) == 1
                            and acronym_stage(parse().tokens, entry.form.tokens, {}, {}, True, False))):
                    keep.append(idx)
        for idx in lettered:  # aligned letter by letter as initials, no acronym stage
            entry = entries[idx]
            if entry.alive and entry.form.kind != PERSON and _spelled_letters(parse().tokens, entry.form.tokens):
                keep.append(idx)
        return sorted(set(keep))

    def _score(self, form: NameForm, cands: list[int], top: int, threshold: float) -> list[Hit]:
        if not form.tokens:
            return []
        # Rank every candidate with the fast exact score, then explain only the best name of each of
        # the ``top`` best records: the explanation costs more than the score and is only shown there.
        best: dict[str, tuple[float, int]] = {}
        model = model_for(self.stats)
        for idx in cands:
            entry = self.entries[idx]
            if not entry.alive:
                continue
            quick = quick_score(form, entry.form, self.stats, floor=threshold - 1e-9, model=model)
            if entry.weak:
                quick = min(quick, WEAK_ALIAS_CAP)
            if quick < threshold - 1e-9:
                continue
            current = best.get(entry.record_id)
            if current is None or quick > current[0]:
                best[entry.record_id] = (quick, idx)
        ranked = sorted(best.values(), key=lambda item: (-item[0], self.entries[item[1]].primary))
        hits = []
        for _quick, idx in ranked[:top]:
            entry = self.entries[idx]
            result = score_forms(form, entry.form, self.stats)  # the same terms summed in another order
            if entry.weak:
                result = weak_alias_capped(result)
            if result.score >= threshold:
                hits.append(Hit(entry.record_id, entry.primary, entry.name, result.score, result, entry.schema))
        return sorted(hits, key=lambda h: (-h.score, h.primary))

    def score_all(self, name: str, schema: str | None = None, threshold: float = 0.5) -> dict[str, float]:
        """Every record scoring >= threshold, by scoring every listed name: the yardstick for the pipeline."""
        form = normalize(name, schema)
        best: dict[str, float] = {}
        if not form.tokens:
            return best
        model = model_for(self.stats)
        for entry in self.entries:
            if entry.alive:
                score = quick_score(form, entry.form, self.stats, floor=threshold - 1e-9, model=model)
                if score < threshold - 1e-9:
                    continue
                score = score_forms(form, entry.form, self.stats).score
                if entry.weak:
                    score = min(score, WEAK_ALIAS_CAP)
                if score >= threshold and score > best.get(entry.record_id, -1):
                    best[entry.record_id] = score
        return best
