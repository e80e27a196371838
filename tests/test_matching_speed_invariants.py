"""Speed work on the scorer and the screening pipeline must not move a single score.

The fixture ``fixtures_matching_scores.json`` holds the scores (6 decimals) that the scorer gave,
before any optimisation, to ~2,000 generated name pairs: Spanish and Anglo persons and companies,
their variants (typos, dropped surnames, swapped order, diminutives, initials, legal forms) and
non-matches (relatives, strangers). Pairs are scored alone (the ``plain`` model) and against the
statistics of a list (the ``list`` model), and a watchlist built from the same names is searched
through the whole pipeline. Any later version must give the same numbers and the same hits.

Regenerate only when the scorer is meant to change:
``.venv/bin/python tests/test_matching_speed_invariants.py --write``.
"""

from __future__ import annotations

import functools
import json
import random
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures_matching_scores.json"

GIVEN_ES = ["jose", "juan", "jesus", "ignacio", "francisco", "maria", "guadalupe", "rafael", "osiel", "joaquin", "ramon", "miguel", "alejandro", "fernando", "ricardo", "eduardo", "arturo", "hector", "sergio", "raul", "rosa", "veronica", "leticia", "alicia"]
DIMINUTIVE = {"jose": "pepe", "jesus": "chuy", "ignacio": "nacho", "francisco": "paco", "guadalupe": "lupe"}
SPELLING = {"rafael": "raphael", "osiel": "oziel", "hector": "ector", "veronica": "berónica"}
FAMILY_ES = ["garcia", "hernandez", "martinez", "lopez", "gonzalez", "rodriguez", "perez", "sanchez", "ramirez", "cruz", "flores", "gomez", "morales", "vazquez", "reyes", "jimenez", "torres", "diaz", "gutierrez", "ruiz", "mendoza", "aguilar", "ortiz", "castillo", "cazares", "casares", "villarreal", "loera", "quintero", "caro", "arellano", "felix", "zambada", "treviño", "beltran"]
GIVEN_EN = ["john", "michael", "robert", "william", "david", "james", "mary", "patricia", "linda", "susan", "thomas", "charles"]
FAMILY_EN = ["smith", "johnson", "williams", "brown", "jones", "miller", "davis", "wilson", "anderson", "taylor", "moore", "white"]
ORG_WORDS = ["grupo", "comercial", "inmobiliaria", "servicios", "transportes", "agricola", "desarrollos", "constructora", "pacific", "golden", "eagle", "holdings", "logistics", "trading", "capital", "industrial", "norte", "sol", "azul"]
LEGAL = ["S.A. DE C.V.", "SOCIEDAD ANONIMA DE CAPITAL VARIABLE", "S. DE R.L. DE C.V.", "LLC", "INC.",
         "LIMITED LIABILITY COMPANY", "CORP", ""]


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(("drop", "swap", "sub"))
    if op == "drop":
        return word[:i] + word[i + 1:]
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice("aeiourlnst") + word[i + 1:]


def _person(rng: random.Random) -> tuple[list[str], list[str]]:
    if rng.random() < 0.7:
        given = rng.sample(GIVEN_ES, rng.choice((1, 1, 2)))
        family = rng.sample(FAMILY_ES, rng.choice((1, 2, 2, 2)))
    else:
        given = rng.sample(GIVEN_EN, rng.choice((1, 2)))
        family = [rng.choice(FAMILY_EN)]
    return given, family


def _written(rng: random.Random, given: list[str], family: list[str], comma: bool | None = None) -> str:
    comma = rng.random() < 0.5 if comma is None else comma
    if comma:
        return f"{' '.join(family).upper()}, {' '.join(g.capitalize() for g in given)}"
    return " ".join(w.capitalize() for w in given + family)


def _person_variant(rng: random.Random, given: list[str], family: list[str]) -> tuple[list[str], list[str], bool]:
    given, family = list(given), list(family)
    kind = rng.choice(("typo", "drop", "swap", "diminutive", "initial", "spelling", "relative", "stranger",
                       "order", "extra"))
    reorder = False
    if kind == "typo":
        k = rng.randrange(len(family))
        family[k] = _typo(rng, family[k])
    elif kind == "drop" and len(family) > 1:
        family = family[:1]
    elif kind == "swap" and len(family) > 1:
        family.reverse()
    elif kind == "diminutive":
        given = [DIMINUTIVE.get(g, g) for g in given]
    elif kind == "initial":
        given = [given[0][0]] + given[1:]
    elif kind == "spelling":
        given = [SPELLING.get(g, g) for g in given]
    elif kind == "relative":
        family[-1] = rng.choice(FAMILY_ES)
    elif kind == "stranger":
        given, family = _person(rng)
    elif kind == "order":
        reorder = True
    elif kind == "extra":
        given = given + [rng.choice(GIVEN_ES)]
    return given, family, reorder


def _company(rng: random.Random) -> tuple[list[str], str]:
    return rng.sample(ORG_WORDS, rng.choice((1, 2, 2, 3))), rng.choice(LEGAL)


def _company_name(words: list[str], legal: str) -> str:
    return (" ".join(words).upper() + (" " + legal if legal else "")).strip()


def _company_variant(rng: random.Random, words: list[str], legal: str) -> str:
    words = list(words)
    kind = rng.choice(("legal", "reorder", "typo", "drop", "stranger", "and", "acronym"))
    if kind == "legal":
        legal = rng.choice(LEGAL)
    elif kind == "reorder":
        words.reverse()
    elif kind == "typo":
        k = rng.randrange(len(words))
        words[k] = _typo(rng, words[k])
    elif kind == "drop" and len(words) > 1:
        words = words[1:]
    elif kind == "stranger":
        words, legal = _company(rng)
    elif kind == "and":
        words = words + ["&", rng.choice(ORG_WORDS)]
    elif kind == "acronym" and len(words) >= 3:
        words = ["".join(w[0] for w in words)]
    return _company_name(words, legal)


def generated_pairs(n: int = 2000, seed: int = 20261128) -> list[tuple[str, str, str | None]]:
    rng = random.Random(seed)
    pairs: list[tuple[str, str, str | None]] = []
    while len(pairs) < n:
        if rng.random() < 0.65:
            given, family = _person(rng)
            left = _written(rng, given, family)
            g2, f2, reorder = _person_variant(rng, given, family)
            right = _written(rng, g2, f2, comma=None if not reorder else ("," not in left))
            schema = rng.choice(("Person", "Person", None))
        else:
            words, legal = _company(rng)
            left = _company_name(words, legal)
            right = _company_variant(rng, words, legal)
            schema = rng.choice(("Company", "Organization", None))
        pairs.append((left, right, schema))
    return pairs


@functools.lru_cache(maxsize=1)
def compute() -> dict:
    from workbench.matching.index import NameIndex
    from workbench.matching.score import TokenStats, score_names

    pairs = generated_pairs()
    stats = TokenStats.from_names([(right, schema) for _left, right, schema in pairs])
    plain = [round(score_names(left, right, schema).score, 6) for left, right, schema in pairs]
    listed = [round(score_names(left, right, schema, stats).score, 6) for left, right, schema in pairs]
    summaries = [score_names(left, right, schema, stats).summary() for left, right, schema in pairs[::25]]
    records = {}
    for k, (_left, right, schema) in enumerate(pairs):
        records.setdefault(right, (f"w{k}", right, [], schema))
    index = NameIndex.from_records(records.values())
    searches = []
    for left, _right, schema in pairs[::5]:
        for threshold in (0.5, 0.7):
            hits = index.search(left, schema, top=10, threshold=threshold)
            searches.append([[h.record_id, h.matched_name, round(h.score, 6)] for h in hits])
    return {"pairs": [list(p) for p in pairs], "plain": plain, "list": listed, "summaries": summaries,
            "searches": searches}


def test_scores_match_the_fixture_made_before_the_speed_work():
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    got = compute()
    assert got["pairs"] == expected["pairs"], "the generated pairs changed: the fixture no longer applies"
    for variant in ("plain", "list"):
        diffs = [(tuple(p), e, g) for p, e, g in zip(got["pairs"], expected[variant], got[variant], strict=True)
                 if abs(e - g) > 1.5e-6]
        assert not diffs, f"{variant} scores moved for {len(diffs)} pairs, e.g. {diffs[:3]}"
    # The pairs span the whole range, so the comparison means something.
    assert min(expected["list"]) < 0.2 and max(expected["list"]) == 1.0
    assert sum(0.3 < s < 0.95 for s in expected["list"]) > 300


def test_explanations_match_the_fixture():
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert compute()["summaries"] == expected["summaries"]


def test_screening_hits_match_the_fixture():
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    got = compute()["searches"]
    assert len(got) == len(expected["searches"])
    for k, (e, g) in enumerate(zip(expected["searches"], got, strict=True)):
        assert [h[:2] for h in g] == [h[:2] for h in e], f"search {k}: other hits"
        assert all(abs(a[2] - b[2]) <= 1.5e-6 for a, b in zip(g, e, strict=True)), f"search {k}: other scores"
    assert sum(1 for hits in expected["searches"] if hits) > 200


if __name__ == "__main__" and "--write" in sys.argv:
    FIXTURE.write_text(json.dumps(compute(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {FIXTURE}")


def test_the_screening_fast_path_gives_the_explained_score_or_proves_it_below_the_floor():
    """workbench.matching.fast re-implements the score for speed: it must agree exactly."""
    from workbench.matching.fast import quick_score
    from workbench.matching.normalize import normalize
    from workbench.matching.score import TokenStats, score_forms

    pairs = generated_pairs()
    stats = TokenStats.from_names([(right, schema) for _left, right, schema in pairs])
    pruned = 0
    for left, right, schema in pairs:
        qf, cf = normalize(left, schema), normalize(right, schema)
        for s in (None, stats):
            exact = score_forms(qf, cf, s, explain=False).score
            assert quick_score(qf, cf, s) == exact, (left, right, schema)
            for floor in (0.5, 0.7, 0.9):
                got = quick_score(qf, cf, s, floor=floor)
                if got < floor:
                    pruned += got != exact
                    assert exact < floor, (left, right, schema, floor)
                else:
                    assert got == exact, (left, right, schema, floor)
    assert pruned > 1000  # the bound does prune, so the assertions above are exercised
