"""Candidate index (blocking): which listed names are worth scoring against a query.

Every name is posted under keys for each of its parts: the folded word, its Spanish phonetic key,
its consonant skeleton and what a diminutive stands for. A query collects the names sharing keys
with it, ranks them by how many (rare) keys they share, and only the best few hundred are scored.
Keys held by a huge share of the list ('mohammed', 'sa de cv' is not even a key) are skipped unless
nothing else is shared, so a query never scores the whole list.

The same index serves watchlist files (``NameIndex.from_records``) and the store
(``StoreIndex``: built from the names table, refreshed incrementally from the audit log).
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from workbench.matching.normalize import NameForm, normalize, phonetic
from workbench.matching.score import NameScore, TokenStats, score_forms

MAX_POSTING_SHARE = 0.02  # keys on more than 2 % of names are too common to block on
MIN_POSTING_CAP = 300
CANDIDATES = 100  # names pre-scored (in C) per query after blocking
FULL_SCORES = 12  # of those, how many get the full, explained score
PRE_CUTOFF = 45  # token-set ratio on canonical keys below which a candidate cannot reach a useful score


@dataclass(slots=True)
class Entry:
    record_id: str  # entity id or watchlist id
    name: str  # the name or alias as written
    primary: str  # the record's primary name
    schema: str | None
    form: NameForm
    prekey: str = ""
    alive: bool = True


@dataclass
class Hit:
    record_id: str
    primary: str
    matched_name: str
    score: float
    result: NameScore = field(repr=False)
    schema: str | None = None


def keys_for(form: NameForm) -> set[str]:
    keys: set[str] = set()
    for t in form.tokens:
        keys.add("p:" + t.phon)
        if len(t.skeleton) >= 3 and t.skeleton != t.phon:
            keys.add("s:" + t.skeleton)
        for alt in t.alts:
            keys.add("p:" + phonetic(alt))
    if len(form.tokens) > 1:  # joined words ('DON JUAN' / 'DONJUAN')
        keys.add("p:" + phonetic("".join(t.text for t in form.tokens)))
    if len(form.tokens) == 1 and len(form.tokens[0].text) >= 3:
        keys.add("i:" + form.tokens[0].text[:3])
    elif len(form.tokens) > 1:
        keys.add("i:" + "".join(t.text[0] for t in form.tokens)[:3])
    return keys


class NameIndex:
    def __init__(self, stats: TokenStats | None = None):
        self.entries: list[Entry] = []
        self.postings: dict[str, list[int]] = {}
        self.by_record: dict[str, list[int]] = {}
        self.stats = stats or TokenStats()
        self.dead = 0

    # ---- building -------------------------------------------------------------------------
    def add(self, record_id: str, name: str, primary: str | None = None, schema: str | None = None) -> None:
        form = normalize(name, schema)
        if not form.tokens:
            return
        idx = len(self.entries)
        self.entries.append(Entry(record_id, name, primary or name, schema, form, form.prekey))
        self.by_record.setdefault(record_id, []).append(idx)
        for key in keys_for(form):
            self.postings.setdefault(key, []).append(idx)
        self.stats.add(name, schema)

    def remove(self, record_id: str) -> None:
        for idx in self.by_record.pop(record_id, []):
            if self.entries[idx].alive:
                self.entries[idx].alive = False
                self.dead += 1

    @classmethod
    def from_records(cls, records) -> NameIndex:
        """records: iterable of (id, primary name, [aliases], schema)."""
        index = cls()
        for record_id, primary, aliases, schema in records:
            index.add(record_id, primary, primary, schema)
            for alias in aliases:
                if alias and alias != primary:
                    index.add(record_id, alias, primary, schema)
        return index

    def __len__(self) -> int:
        return len(self.entries) - self.dead

    # ---- querying -------------------------------------------------------------------------
    def candidates(self, form: NameForm, limit: int = CANDIDATES) -> list[int]:
        cap = max(MIN_POSTING_CAP, int(MAX_POSTING_SHARE * len(self.entries)))
        lists = []
        common = []
        for key in keys_for(form):
            posting = self.postings.get(key)
            if not posting:
                continue
            (lists if len(posting) <= cap else common).append(posting)
        if not lists:
            if not common:
                return []
            lists = [min(common, key=len)]
        if len(lists) == 1 and len(lists[0]) <= limit:
            return lists[0]
        counts = Counter()
        for posting in lists:
            counts.update(posting)
        if len(counts) <= limit:
            return list(counts)
        return [idx for idx, _ in heapq.nlargest(limit, counts.items(), key=lambda kv: kv[1])]

    def search(self, name: str, schema: str | None = None, top: int = 10, threshold: float = 0.5,
               limit: int = CANDIDATES) -> list[Hit]:
        form = normalize(name, schema)
        return self.search_form(form, top, threshold, limit)

    def search_form(self, form: NameForm, top: int = 10, threshold: float = 0.5, limit: int = CANDIDATES) -> list[Hit]:
        if not form.tokens:
            return []
        best: dict[str, Hit] = {}
        cands = self.candidates(form, limit)
        if len(cands) > FULL_SCORES:
            entries = self.entries
            pre = process.extract(form.prekey, [entries[i].prekey for i in cands], scorer=fuzz.token_set_ratio,
                                  score_cutoff=PRE_CUTOFF, limit=FULL_SCORES)
            cands = [cands[k] for _, _, k in pre]
        for idx in cands:
            entry = self.entries[idx]
            if not entry.alive:
                continue
            result = score_forms(form, entry.form, self.stats)
            if result.score < threshold:
                continue
            current = best.get(entry.record_id)
            if current is None or result.score > current.score:
                best[entry.record_id] = Hit(entry.record_id, entry.primary, entry.name, result.score, result,
                                            entry.schema)
        hits = sorted(best.values(), key=lambda h: (-h.score, h.primary))
        return hits[:top]

    def exhaustive(self, name: str, schema: str | None = None, threshold: float = 0.5, top: int = 10) -> set[str]:
        """The best ``top`` records scoring >= threshold, by scoring every name (the yardstick for blocking)."""
        form = normalize(name, schema)
        best: dict[str, float] = {}
        for entry in self.entries:
            if entry.alive:
                score = score_forms(form, entry.form, self.stats).score
                if score >= threshold and score > best.get(entry.record_id, -1):
                    best[entry.record_id] = score
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if len(ranked) > top:  # ties at the cut-off count as found either way
            cut = ranked[top - 1][1]
            return {rid for rid, s in ranked if s > cut} | {rid for rid, s in ranked[:top]}
        return {rid for rid, _ in ranked}
