"""Name-agnostic features of an aligned name pair: what the learned model (workbench.matching.model) weighs.

Every feature describes the *shape* of the agreement between two names (how much of each name
aligned, how the parts matched, what is left over on each side, whether leftover parts are family
names, how rare the shared and the leftover parts are in the list being screened), never a
particular name, so the model generalises to names it has not seen. Features are symmetric in the
two names: screening A against B and B against A gives the same score.
"""

from __future__ import annotations

import math

from rapidfuzz.distance import Levenshtein

from workbench.matching.normalize import FAMILY, GIVEN, ORG, PERSON, NameForm

# Names of the features, in the order of the model's weights, with the sentence the explanation shows.
FEATURES: dict[str, str] = {
    "coverage": "share of the better-covered name (by weight) that aligned",
    "coverage of the other name": "share of the less-covered name (by weight) that aligned",
    "conflicting parts": "both names keep parts the other lacks (share of the smaller leftover)",
    "surname conflict": "different family names on both sides",
    "given-name conflict": "no given name in common while both have one left over",
    "first surname differs": "the first family names of two ordered names do not align",
    "leftover parts": "parts left unmatched on both sides (log count)",
    "closest leftover pair": "edit similarity of the closest pair of leftover parts",
    "fuzzy spelling": "how far fuzzily aligned parts are from exact (sum of 1 - similarity)",
    "phonetic or transliteration": "parts aligned only by sound or consonant skeleton",
    "diminutive or variant": "parts aligned as diminutive or spelling family",
    "initials": "parts aligned only by an initial",
    "cross-role alignment": "a given name aligned with a family name",
    "acronym": "an acronym aligned with the words it abbreviates",
    "rare parts shared": "rarity (IDF in the screened list) of the best aligned part",
    "rare part left over": "rarity of the rarest part left unmatched on the side with less left over",
    "part-count ratio": "fewer parts / more parts",
    "single-part name": "one of the names has a single part",
    "organisation": "the names are organisation names",
    "organisation coverage": "coverage of the other name, for organisations",
    "organisation conflict": "conflicting parts, for organisations",
    "legal form mismatch": "both names carry different legal forms",
    "family names aligned": "share of family names aligned, on the side with more left over (of the whole name when roles are unknown)",
    "given names aligned": "share of given names aligned, on the side with more left over (of the whole name when roles are unknown)",
}

NO_IDF = 0.5  # rarity assumed for every part when no list statistics are at hand


def _idf(stats, text: str) -> float:
    if stats is None or stats.total < 50:
        return NO_IDF
    return math.log((stats.total + 1) / (stats.counts.get(text, 0) + 1)) / math.log(stats.total + 1)


def pair_features(qf: NameForm, cf: NameForm, state, stats=None) -> dict[str, float]:
    q, c, wq, wc = state.q, state.c, state.wq, state.wc
    used_q, used_c = state.used_q, state.used_c
    sum_q, sum_c = sum(wq), sum(wc)
    cov_q = sum(credit * wq[i] for i, credit in used_q.items()) / sum_q
    cov_c = sum(credit * wc[j] for j, credit in used_c.items()) / sum_c
    rest_q = [i for i in range(len(q)) if i not in used_q]
    rest_c = [j for j in range(len(c)) if j not in used_c]
    conflict = 0.0
    if rest_q and rest_c:
        conflict = min(sum(wq[i] for i in rest_q) / sum_q, sum(wc[j] for j in rest_c) / sum_c)
    both_ordered = qf.ordered and cf.ordered
    surname_conflict = given_conflict = first_surname = 0.0
    if both_ordered and rest_q and rest_c:
        roles_q = {q[i].role for i in rest_q}
        roles_c = {c[j].role for j in rest_c}
        surname_conflict = float(FAMILY in roles_q and FAMILY in roles_c)
        given_conflict = float(GIVEN in roles_q and GIVEN in roles_c
                               and not any(q[i].role == GIVEN for i in used_q))
    if both_ordered:
        fq = next((i for i, t in enumerate(q) if t.role == FAMILY), None)
        fc = next((j for j, t in enumerate(c) if t.role == FAMILY), None)
        if fq is not None and fc is not None:
            first_surname = float(not any(i == fq and j == fc for i, j, _s, _h in state.pair_how))
    closest = 0.0
    if rest_q and rest_c:
        closest = max(Levenshtein.normalized_similarity(q[i].text, c[j].text) for i in rest_q for j in rest_c)
    fuzzy = phon = dimin = initials = 0.0
    for _i, _j, sim, how in state.pair_how:
        if how == "spelling":
            fuzzy += 1 - sim
        elif how in ("phonetic", "transliteration"):
            phon += 1
        elif how in ("diminutive/variant", "particle joined"):
            dimin += 1
        elif how == "initial":
            initials += 1
    shared_idf = max((_idf(stats, q[i].text) for i, _j, _s, how in state.pair_how if how != "initial"),
                     default=0.0)
    left_q = max((_idf(stats, q[i].text) for i in rest_q), default=0.0)
    left_c = max((_idf(stats, c[j].text) for j in rest_c), default=0.0)
    rare_left = min(left_q, left_c)
    org = float(qf.kind == ORG or cf.kind == ORG or (qf.kind != PERSON and cf.kind != PERSON
                                                    and not qf.ordered and not cf.ordered))
    cov_hi, cov_lo = max(cov_q, cov_c), min(cov_q, cov_c)
    family_aligned = given_aligned = cov_lo  # roles unknown: the aligned share of the whole name stands in
    if both_ordered:
        family_aligned = min(_role_share(q, used_q, FAMILY), _role_share(c, used_c, FAMILY))
        given_aligned = min(_role_share(q, used_q, GIVEN), _role_share(c, used_c, GIVEN))
    return {
        "coverage": cov_hi,
        "coverage of the other name": cov_lo,
        "conflicting parts": conflict,
        "surname conflict": surname_conflict,
        "given-name conflict": given_conflict,
        "first surname differs": first_surname,
        "leftover parts": math.log1p(min(len(rest_q), len(rest_c))),
        "closest leftover pair": closest,
        "fuzzy spelling": fuzzy,
        "phonetic or transliteration": phon,
        "diminutive or variant": dimin,
        "initials": initials,
        "cross-role alignment": float(state.cross_role),
        "acronym": float(state.acronyms),
        "rare parts shared": shared_idf,
        "rare part left over": rare_left,
        "part-count ratio": min(len(q), len(c)) / max(len(q), len(c)),
        "single-part name": float(min(len(q), len(c)) == 1),
        "organisation": org,
        "organisation coverage": org * cov_lo,
        "organisation conflict": org * conflict,
        "legal form mismatch": float(bool(qf.legal_forms and cf.legal_forms
                                          and not set(qf.legal_forms) & set(cf.legal_forms))),
        "family names aligned": family_aligned,
        "given names aligned": given_aligned,
    }


def _role_share(tokens, used, role) -> float:
    idx = [i for i, t in enumerate(tokens) if t.role == role]
    if not idx:
        return 1.0
    return sum(1 for i in idx if i in used) / len(idx)
