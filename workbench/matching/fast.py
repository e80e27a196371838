"""The name score without its explanation, for screening: same number, a fraction of the cost.

Screening scores ~15 listed names per distinct input name and keeps almost none of them, so the
explained path (workbench.matching.score.score_forms: Alignment objects, feature dicts, effect
lists) is mostly wasted. ``quick_score`` computes the same alignment and the same features in the
same order (so the result of ``score_forms(..., explain=False)``, bit for bit), but:

- what depends on one name only (token sets, the candidates for joining split words, interned
  token ids) is derived once per NameForm and kept on it (forms are cached and shared);
- token-pair similarities are memoised by interned token id (names share parts: 'garcia', 'juan');
- acronyms come from the same stage as the explained score (score.acronym_stage, memoised);
- features go straight into a list in the model's order, with no dicts;
- with a ``floor`` (the screening threshold), the pair is abandoned as soon as an upper bound on
  its log-odds cannot reach the floor: first, before the alignment, from how much of each name
  has any partner at all (most candidates share one word with the query and stop here); then,
  after it, from the exact coverage. Every feature not yet known is taken at its most favourable
  value for the model's signed weights, so the bound never rejects a pair the full score keeps.

Whatever this module cannot do cheaply (words that join across the two names, a married name) goes to
score_forms' unweighed score (``_score_forms``): quick_score weighs the generational suffixes and the numbers
once (score.adjusted), as score_forms does.
``tests/test_matching_speed_invariants.py`` holds both paths to scores recorded before this module.
"""

from __future__ import annotations

import math

from rapidfuzz.distance import Levenshtein

from workbench.matching.features import FEATURES
from workbench.matching.normalize import FAMILY, GIVEN, ORG, PERSON, NameForm, phonetic
from workbench.matching.score import (
    CROSS_ROLE,
    MIN_TOKEN_SIM,
    REORDERED_SCORE,
    SPELL_POWER,
    TokenStats,
    _score_forms,
    acronym_stage,
    adjusted,
    given_names_by_elimination,
    may_expand,
    needs_adjusting,
    only_initials,
    other_sex_compound,
    reordered,
    token_similarity,
)

_TOKEN_IDS: dict[tuple, int] = {}
_SIMS: dict[int, dict[int, tuple[float, str] | None]] = {}  # query token id -> listed token id -> pair
_sim_count = 0
# Entries per memo (each worker holds its own): bounds memory on long runs.
_MEMO_LIMIT = 2_000_000  # token pairs: an int key and mostly None, ~100 MB when full
_NO_IDF = 0.5  # features.NO_IDF
# quick_score writes the features positionally; it must follow any change to features.FEATURES.
_ORDER = ("coverage", "coverage of the other name", "conflicting parts", "surname conflict", "given-name conflict",
          "first surname differs", "leftover parts", "closest leftover pair", "fuzzy spelling",
          "phonetic or transliteration", "diminutive or variant", "initials", "cross-role alignment", "acronym",
          "rare parts shared", "rare part left over", "part-count ratio", "single-part name", "organisation",
          "organisation coverage", "organisation conflict", "legal form mismatch", "family names aligned",
          "given names aligned")
if tuple(FEATURES) != _ORDER:
    raise RuntimeError("workbench.matching.fast is out of step with features.FEATURES")


class _Prep:
    """What one name contributes to every pair it is in: interned token ids, token sets, the words
    that score._join_split_words could form from two adjacent parts, roles, weights under a TokenStats."""

    __slots__ = ("expands", "first_family", "ids", "join_phons", "join_texts", "n", "phon5", "roles", "texts",
                 "weights")

    def __init__(self, form: NameForm):
        tokens = form.tokens
        ids = []
        for t in tokens:
            key = (t.text, t.alts, t.role, t.given_name)  # token_similarity reads them (given-name rules)
            tid = _TOKEN_IDS.get(key)
            if tid is None:
                tid = _TOKEN_IDS[key] = len(_TOKEN_IDS)
            ids.append(tid)
        self.ids = ids
        self.n = len(tokens)
        self.texts = {t.text for t in tokens}
        self.phon5 = {t.phon for t in tokens if len(t.phon) >= 5}
        joined = [tokens[i].text + tokens[i + 1].text for i in range(len(tokens) - 1)]
        self.join_texts = frozenset(joined)
        self.join_phons = frozenset(phonetic(j) for j in joined)
        self.weights: tuple | None = None  # (stats, stats.version, weights)
        self.first_family = next((i for i, t in enumerate(tokens) if t.role == FAMILY), None)
        self.roles = [t.role for t in tokens]
        self.expands = may_expand(form)


def prepare(form: NameForm) -> None:
    """Derive what quick_score needs of one name now (an index does it for every listed name)."""
    if form.tokens:
        _prep(form)


def _prep(form: NameForm) -> _Prep:
    prep = form.prep
    if prep is None:
        prep = form.prep = _Prep(form)
    return prep


def _model(variant: str):
    from workbench.matching.model import current_model

    return current_model(variant)


def _weights(form: NameForm, prep: _Prep, stats: TokenStats | None) -> list[float]:
    if stats is None:
        return [t.weight for t in form.tokens]
    cached = prep.weights
    if cached is not None and cached[0] is stats and cached[1] == stats.version:
        return cached[2]
    factor = stats.factor
    weights = [t.weight * factor(t.text) for t in form.tokens]
    prep.weights = (stats, stats.version, weights)
    return weights


class _Bound:
    """For one model: the largest value each feature's term can add to the log-odds, by feature."""

    def __init__(self, model):
        self.model = model
        self.coef = list(model._coef)
        names = model.names
        self.pos = {n: max(c, 0.0) for n, c in zip(names, self.coef)}
        pos = self.pos
        # Features in 0..1 that the bound before the alignment leaves free.
        self.unit = sum(pos[n] for n in ("conflicting parts", "surname conflict", "given-name conflict",
                                         "first surname differs", "closest leftover pair", "rare parts shared",
                                         "rare part left over", "organisation conflict"))
        # Features that count aligned parts (at most the smaller part count), or log of leftovers.
        self.per_part = sum(pos[n] for n in ("phonetic or transliteration", "diminutive or variant", "initials",
                                             "cross-role alignment")) + 0.3 * pos["fuzzy spelling"]
        self.c_hi = self.coef[0]
        self.by_shape: dict[tuple, tuple[float, float]] = {}  # pair shape -> constant_part

    def constant_part(self, nq: int, nc: int, org: bool, ordered: bool, mismatch: bool,
                      acronyms: int) -> tuple[float, float]:
        """For the bound before the alignment (in quick_score): the terms that do not depend on how
        much of each name can be covered, and the weight of the lower coverage (which also stands
        for the role shares when the roles are unknown)."""
        coef, pos = self.coef, self.pos
        small, large = min(nq, nc), max(nq, nc)
        org_f = float(org)
        k_lo = coef[1] + coef[19] * org_f
        base = (self.model._offset + self.unit + self.per_part * small + pos["leftover parts"] * math.log1p(small)
                + coef[13] * acronyms + coef[16] * (small / large) + coef[17] * float(small == 1)
                + coef[18] * org_f + 1e-9)
        if ordered:
            base += pos["family names aligned"] + pos["given names aligned"]
        else:
            k_lo += coef[22] + coef[23]
        if mismatch:
            base += coef[21]
        return base, k_lo


def _constant_part(bound: _Bound, qf: NameForm, cf: NameForm, nq: int, nc: int, acronyms: int):
    org = (qf.kind == ORG or cf.kind == ORG or (qf.kind != PERSON and cf.kind != PERSON
                                                and not qf.ordered and not cf.ordered))
    ordered = qf.ordered and cf.ordered
    mismatch = bool(qf.legal_forms and cf.legal_forms and not set(qf.legal_forms) & set(cf.legal_forms))
    return bound.constant_part(nq, nc, org, ordered, mismatch, acronyms)


_BOUNDS: dict[int, _Bound] = {}


def _bound_for(model) -> _Bound:
    found = _BOUNDS.get(id(model))
    if found is None or found.model is not model:
        found = _BOUNDS[id(model)] = _Bound(model)
    return found


def model_for(stats: TokenStats | None):
    """The model variant score_forms uses with these statistics (fetch once, pass to quick_score)."""
    from workbench.matching.model import variant_for

    return _model(variant_for(stats))


def quick_score(qf: NameForm, cf: NameForm, stats: TokenStats | None = None, floor: float | None = None,
                model=None) -> float:
    """score_forms(qf, cf, stats).score, or, when ``floor`` is given and the pair provably scores
    below it, any value below ``floor`` (-1.0). ``model``: model_for(stats), when the caller has it."""
    if not (qf.ordered or cf.ordered):  # the rule's first test, inline: most pairs are a listed 'SURNAMES, Given'
        qf, cf = given_names_by_elimination(qf, cf)
    score = _quick_score(qf, cf, stats, floor, model)
    if score < 0 or not needs_adjusting(qf, cf):
        return score
    return adjusted(qf, cf, score)[0]  # suffixes, numbers, company / person, as score_forms: only ever lowers it


def _quick_score(qf: NameForm, cf: NameForm, stats: TokenStats | None = None, floor: float | None = None,
                 model=None) -> float:
    pq = qf.prep or _prep(qf)
    pc = cf.prep or _prep(cf)
    nq, nc = pq.n, pc.n
    # Words that join across the two names (score._join_split_words) change the parts, and a married
    # name may be compared without the husband's surname (score.married_alignment): the full path.
    if (not nq or not nc or qf.married or cf.married or not (pq.join_texts.isdisjoint(pc.texts) and pq.join_phons.isdisjoint(pc.phon5)
                                 and pc.join_texts.isdisjoint(pq.texts) and pc.join_phons.isdisjoint(pq.phon5))):
        return _score_forms(qf, cf, stats, explain=False).score  # quick_score weighs suffixes and numbers
    q, c = qf.tokens, cf.tokens
    cached = pq.weights
    wq = cached[2] if cached is not None and cached[0] is stats and cached[1] == stats.version \
        else _weights(qf, pq, stats)
    cached = pc.weights
    wc = cached[2] if cached is not None and cached[0] is stats and cached[1] == stats.version \
        else _weights(cf, pc, stats)
    both_ordered = qf.ordered and cf.ordered
    used_q: dict[int, float] = {}
    used_c: dict[int, float] = {}
    acronyms = 0
    # The acronym stage needs, on one side, exactly one part the other name lacks: most pairs share
    # a word or less, and the set sizes settle it without the stage.
    if qf.kind != PERSON and cf.kind != PERSON and (
            (pc.expands and len(pq.texts - pc.texts) == 1) or (pq.expands and len(pc.texts - pq.texts) == 1)):
        acronyms = len(acronym_stage(q, c, used_q, used_c, pq.expands, pc.expands))
    global _sim_count
    ids_c = pc.ids
    pairs = []
    aligned_q: set[int] = set(used_q)
    aligned_c: set[int] = set(used_c)
    for i in range(nq):
        if i in used_q:
            continue
        qid = pq.ids[i]
        row = _SIMS.get(qid)
        if row is None:
            row = _SIMS[qid] = {}
        wi = wq[i]
        for j in range(nc):
            if j in used_c:
                continue
            found = row.get(ids_c[j], False)
            if found is False:
                sim, how = token_similarity(q[i], c[j])
                found = (sim, how) if sim >= MIN_TOKEN_SIM and how != "different" else None
                _sim_count += 1
                if _sim_count > _MEMO_LIMIT:
                    _SIMS.clear()
                    _sim_count = 0
                    row = _SIMS[qid] = {}
                row[ids_c[j]] = found
            if found is not None:
                pairs.append((found[0], wi + wc[j], i, j, found[1]))
                aligned_q.add(i)
                aligned_c.add(j)
    if model is None:
        model = model_for(stats)
    # Before the alignment: each part can at best be fully credited if it has any partner at all.
    # (Names whose every part has a partner may be identical, which scores 1 outside the model.)
    if floor is not None and (len(aligned_q) < nq or len(aligned_c) < nc):
        ub_q = sum(map(wq.__getitem__, aligned_q)) / sum(wq)
        ub_c = sum(map(wc.__getitem__, aligned_c)) / sum(wc)
        # The probability is at most that of: the coverages at these bounds, every feature the
        # alignment decides at its most favourable value (inlined: it runs for nearly every pair).
        bound = _BOUNDS.get(id(model))
        if bound is None or bound.model is not model:
            bound = _bound_for(model)
        key = (nq, nc, qf.kind, cf.kind, qf.ordered, cf.ordered, qf.legal_forms, cf.legal_forms, acronyms)
        fixed = bound.by_shape.get(key)
        if fixed is None:
            fixed = bound.by_shape[key] = _constant_part(bound, qf, cf, nq, nc, acronyms)
        hi = fixed[0] + max(bound.c_hi * max(ub_q, ub_c), 0.0) + max(fixed[1] * min(ub_q, ub_c), 0.0)
        if hi < -40 or 1 / (1 + math.exp(-hi)) < floor - 1e-12:
            return -1.0
    if len(pairs) > 1:
        pairs.sort(key=lambda p: (-p[0], -p[1], abs(p[2] - p[3])))
    pair_how = []
    cross_role = 0
    roles_q, roles_c = pq.roles, pc.roles
    for sim, _w, i, j, how in pairs:
        if i in used_q or j in used_c:
            continue
        credit = sim if how != "spelling" else sim ** SPELL_POWER
        if both_ordered and roles_q[i] != roles_c[j]:
            credit *= 1 - CROSS_ROLE
            cross_role += 1
        used_q[i] = credit
        used_c[j] = credit
        pair_how.append((i, j, sim, how))
    if pair_how and (nq > 1 or nc > 1):
        for k, _on_q in reversed(other_sex_compound(q, c, pair_how)):
            i, j, _sim, _how = pair_how.pop(k)
            if both_ordered and roles_q[i] != roles_c[j]:
                cross_role -= 1
            del used_q[i], used_c[j]
    if not acronyms and only_initials(qf, cf, q, c, pair_how):
        for i, j, _sim, _how in pair_how:
            del used_q[i], used_c[j]
        pair_how = []
        cross_role = 0
    complete = len(used_q) == nq and len(used_c) == nc
    if (complete and all(p[3] == "exact" for p in pair_how) and not acronyms and not cross_role
            and not (qf.legal_forms and cf.legal_forms and set(qf.legal_forms) != set(cf.legal_forms))):
        return REORDERED_SCORE if reordered(qf, cf, pair_how) else 1.0

    # The features, as workbench.matching.features.pair_features computes them, in FEATURES order.
    sum_q, sum_c = sum(wq), sum(wc)
    cov_q = sum(credit * wq[i] for i, credit in used_q.items()) / sum_q
    cov_c = sum(credit * wc[j] for j, credit in used_c.items()) / sum_c
    rest_q = [i for i in range(nq) if i not in used_q]
    rest_c = [j for j in range(nc) if j not in used_c]
    conflict = 0.0
    if rest_q and rest_c:
        conflict = min(sum(wq[i] for i in rest_q) / sum_q, sum(wc[j] for j in rest_c) / sum_c)
    fuzzy = phon = dimin = initials = 0.0
    for _i, _j, sim, how in pair_how:
        if how == "spelling":
            fuzzy += 1 - sim
        elif how in ("phonetic", "transliteration"):
            phon += 1
        elif how in ("diminutive/variant", "particle joined"):
            dimin += 1
        elif how == "initial":
            initials += 1
    org = float(qf.kind == ORG or cf.kind == ORG or (qf.kind != PERSON and cf.kind != PERSON
                                                    and not qf.ordered and not cf.ordered))
    cov_hi, cov_lo = max(cov_q, cov_c), min(cov_q, cov_c)
    leftover = math.log1p(min(len(rest_q), len(rest_c)))
    part_ratio = min(nq, nc) / max(nq, nc)
    single = float(min(nq, nc) == 1)
    legal_mismatch = float(bool(qf.legal_forms and cf.legal_forms
                                and not set(qf.legal_forms) & set(cf.legal_forms)))

    if floor is not None:
        # Upper bound on the log-odds: the cheap features exact, the others at their most favourable value.
        b = _bound_for(model).pos
        coef = model._coef
        hi = (model._offset + coef[0] * cov_hi + coef[1] * cov_lo + coef[6] * leftover + coef[8] * fuzzy
              + coef[9] * phon + coef[10] * dimin + coef[11] * initials + coef[12] * cross_role
              + coef[13] * acronyms + coef[16] * part_ratio + coef[17] * single + coef[18] * org
              + coef[19] * org * cov_lo + coef[21] * legal_mismatch + coef[2] * conflict
              + coef[20] * org * conflict + b["surname conflict"] + b["given-name conflict"]
              + b["first surname differs"] + b["closest leftover pair"] + b["rare parts shared"]
              + b["rare part left over"] + 1e-9)
        if both_ordered:
            hi += b["family names aligned"] + b["given names aligned"]
        else:
            hi += (coef[22] + coef[23]) * cov_lo
        if hi < -40 or 1 / (1 + math.exp(-hi)) < floor - 1e-12:
            return -1.0

    surname_conflict = given_conflict = first_surname = 0.0
    if both_ordered and rest_q and rest_c:
        rq = {roles_q[i] for i in rest_q}
        rc = {roles_c[j] for j in rest_c}
        surname_conflict = float(FAMILY in rq and FAMILY in rc)
        given_conflict = float(GIVEN in rq and GIVEN in rc and not any(roles_q[i] == GIVEN for i in used_q))
    if both_ordered:
        fq, fc = pq.first_family, pc.first_family
        if fq is not None and fc is not None:
            first_surname = float(not any(i == fq and j == fc for i, j, _s, _h in pair_how))
    closest = 0.0
    if rest_q and rest_c:
        closest = max(Levenshtein.normalized_similarity(q[i].text, c[j].text) for i in rest_q for j in rest_c)
    if stats is None or stats.total < 50:
        shared_idf = max((_NO_IDF for _i, _j, _s, how in pair_how if how != "initial"), default=0.0)
        left_q = _NO_IDF if rest_q else 0.0
        left_c = _NO_IDF if rest_c else 0.0
    else:
        idf = stats.idf
        shared_idf = max((idf(q[i].text) for i, _j, _s, how in pair_how if how != "initial"), default=0.0)
        left_q = max((idf(q[i].text) for i in rest_q), default=0.0)
        left_c = max((idf(c[j].text) for j in rest_c), default=0.0)
    family_aligned = given_aligned = cov_lo
    if both_ordered:
        family_aligned = min(_role_share(roles_q, used_q, FAMILY), _role_share(roles_c, used_c, FAMILY))
        given_aligned = min(_role_share(roles_q, used_q, GIVEN), _role_share(roles_c, used_c, GIVEN))
    values = (cov_hi, cov_lo, conflict, surname_conflict, given_conflict, first_surname, leftover, closest,
              fuzzy, phon, dimin, initials, float(cross_role), float(acronyms), shared_idf, min(left_q, left_c),
              part_ratio, single, org, org * cov_lo, org * conflict, legal_mismatch, family_aligned, given_aligned)
    z = model._offset + sum(cf_ * v for cf_, v in zip(model._coef, values))
    return 1 / (1 + math.exp(-z)) if z > -40 else 0.0


def _role_share(roles, used, role) -> float:
    idx = [i for i, r in enumerate(roles) if r == role]
    if not idx:
        return 1.0
    return sum(1 for i in idx if i in used) / len(idx)
