"""Blocking for acronyms and contractions: 'TAUSA' meets TRANSPORTES AEREOS UNIDOS SELVA AMAZONICA.

The scorer aligns an organisation's acronym or contraction with the words it stands for
(score.acronym_stage: 'COLCERDOS' = COLombiana de CERDOS), but the word keys of the candidate
index cannot bring such a pair together: the two names share no word, no sound and no prefix.
Without these keys a screening finds the pair only when it happens to block on something else,
which for an acronym is never.

Keys are built from the scorer's own parts (normalize: particles and legal forms already gone).
A listed name of two words is posted under three letters of each ('colcer'), one of three to eight
words under its initials, kept in a trie; a word of a short listed name (one that could be its
acronym) under itself and under every contraction key it could stand for. A query looks up the
opposite side: each of its words as a possible acronym, and the whole query as a possible
expansion. A word spells initials when its first letter is the first initial and the others follow
in order ('soesma' spells s-e-m), which is how the trie is walked.

Every candidate found this way must pass the scorer's acronym stage before it is scored, so a key
that collides costs a set test, not a score.
"""

from __future__ import annotations

from workbench.matching.data.names import ORG_SIGN_WORDS

MIN_ACRONYM = 3  # score.acronym_stage: shorter words are never acronyms
MAX_WORDS = 8  # score._spells: an acronym spells 2..8 words
MAX_TOKEN = 14  # longer words are not walked through the trie (contractions this long are not seen)
PIECE = 3  # score.MIN_CONTRACTION_PIECE: letters each word of a two-word contraction gives
_END = ""  # trie key holding the entries whose initials end at this node


def _contractions(text: str) -> list[str]:
    """Three letters from the start of a word and three from any later point: the two pieces of a
    two-word contraction it could be ('colcerdos' -> 'colcer', 'colerd', ...)."""
    head = text[:PIECE]
    return list(dict.fromkeys(head + text[cut:cut + PIECE] for cut in range(PIECE, len(text) - PIECE + 1)))


class AcronymIndex:
    """Postings of the keys above, and the initials trie of listed names of three or more words.

    Keys: 'e:' a listed two-word name's contraction key; 'a:' a listed word as initials, 'k:' as a
    contraction. A query looks up the opposite kind: its words as acronyms against 'e:' and the trie,
    its whole name as an expansion against 'a:'/'k:'."""

    def __init__(self) -> None:
        self.postings: dict[str, list[int]] = {}
        self.trie: dict = {}
        self._spelled: dict[str, frozenset[int]] = {}  # word -> names it could abbreviate (words repeat)

    def add(self, idx: int, texts: list[str]) -> None:
        postings = self.postings
        self._spelled.clear()
        if len(texts) == 2 and all(len(t) >= PIECE for t in texts):
            postings.setdefault("e:" + texts[0][:PIECE] + texts[1][:PIECE], []).append(idx)
        elif 3 <= len(texts) <= MAX_WORDS:
            node = self.trie
            for text in texts:
                node = node.setdefault(text[0], {})
            node.setdefault(_END, []).append(idx)
        if 3 <= len(texts) <= MAX_WORDS and all(len(t) == 1 for t in texts):  # 'S.A.S.' written with dots
            postings.setdefault("a:" + "".join(texts), []).append(idx)
        if len(texts) <= 3:  # an acronym is the one part of its name that the other name lacks
            for text in texts:
                if _may_abbreviate(text):
                    if len(text) <= MAX_WORDS:
                        postings.setdefault("a:" + text, []).append(idx)
                    for key in _contractions(text):
                        postings.setdefault("k:" + key, []).append(idx)

    def candidates(self, texts: list[str]) -> tuple[set[int], set[int], set[int]]:
        """(listed names a query word could abbreviate, listed names that could abbreviate the query,
        listed names whose initials the query's letters are: 'S.A.S.' = Servicio Aereo Santander)."""
        spelled: set[int] = set()
        abbreviating: set[int] = set()
        lettered: set[int] = set()
        postings = self.postings
        if 3 <= len(texts) <= MAX_WORDS and all(len(t) == 1 for t in texts):
            node = self.trie
            for letter in texts:
                node = node.get(letter, {})
            lettered.update(node.get(_END, ()))
        if len(texts) == 2 and all(len(t) >= PIECE for t in texts):
            abbreviating.update(postings.get("k:" + texts[0][:PIECE] + texts[1][:PIECE], ()))
        elif 3 <= len(texts) <= MAX_WORDS:
            abbreviating.update(postings.get("a:" + "".join(t[0] for t in texts), ()))
        if len(texts) <= 3:  # as for listed names: longer names rarely hold an acronym of another
            for text in texts:
                if _may_abbreviate(text):
                    spelled.update(self._abbreviated_by(text))
        return spelled, abbreviating, lettered

    def _abbreviated_by(self, text: str) -> frozenset[int]:
        found = self._spelled.get(text)
        if found is None:
            names: set[int] = set()
            for key in _contractions(text):
                names.update(self.postings.get("e:" + key, ()))
            if len(text) <= MAX_TOKEN:
                _walk(self.trie.get(text[0]), text, names)
            found = frozenset(names)
            if len(self._spelled) < 500_000:
                self._spelled[text] = found
        return found


def _may_abbreviate(text: str) -> bool:
    """score.acronym_stage's own tests on the acronym word: long enough, not a generic word."""
    return len(text) >= MIN_ACRONYM and text not in ORG_SIGN_WORDS


def _walk(root: dict | None, text: str, found: set[int]) -> None:
    """Add the entries whose initials ``text`` spells: its first letter, then letters in order.

    A letter's earliest place after the current one reaches every node a later place would, so each
    step follows, per letter, only the first occurrence (``after``)."""
    if root is None:
        return
    after: list[dict[str, int]] = [{}] * len(text)
    nxt: dict[str, int] = {}
    for pos in range(len(text) - 1, -1, -1):
        after[pos] = nxt
        nxt = {**nxt, text[pos]: pos}
    stack = [(root, 0, 1)]
    while stack:
        node, pos, depth = stack.pop()
        if depth >= MIN_ACRONYM:
            ids = node.get(_END)
            if ids:
                found.update(ids)
        if depth == MAX_WORDS:
            continue
        following = after[pos]
        if len(node) <= len(following):
            for letter, child in node.items():
                at = following.get(letter)
                if at is not None and letter:
                    stack.append((child, at, depth + 1))
        else:
            for letter, at in following.items():
                child = node.get(letter)
                if child:
                    stack.append((child, at, depth + 1))
