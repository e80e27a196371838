"""Fit the name model on the dev pairs and measure it honestly (out-of-fold only).

Grouping: every pair of one query entity (its aliases and their hard negatives) falls in one fold,
so no fold is scored by a model that saw that entity's names. (Grouping by the connected components
of query and candidate uids is not possible: hard negatives chain most entries into one component.)
Only rows of the evaluation subset are scored; the training folds may also use the other usable rows.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

from workbench.matching.features import FEATURES, pair_features
from workbench.matching.model import MODEL_PATH, Model, fit, save_models  # noqa: F401 (MODEL_PATH: for the bench)
from workbench.matching.normalize import normalize
from workbench.matching.score import (
    REORDERED_SCORE,
    TokenStats,
    adjusted,
    align,
    married_alignment,
    reordered,
    same_parts,
)

FOLDS = 5


def featurise(rows: list[dict], schema_of, stats: TokenStats | None,
              married: bool = True) -> tuple[np.ndarray, np.ndarray, list]:
    """Feature matrix; per row the score the scorer gives without the model (names with the same
    parts, an empty name) or NaN; and the parsed pair, for what score_forms applies after the model.
    ``married=False``: the parts as written, without score.married_alignment (what the model learns
    from: see fit_all)."""
    names = list(FEATURES)
    x = np.zeros((len(rows), len(names)))
    settled = np.full(len(rows), np.nan)
    forms = []
    for k, r in enumerate(rows):
        schema = schema_of(r["type"])
        qf, cf = normalize(r["query"], schema), normalize(r["candidate"], schema)
        forms.append((qf, cf))
        result, state = align(qf, cf, stats)
        if state is None:
            settled[k] = result.score
            continue
        if same_parts(qf, cf, result, state):
            settled[k] = REORDERED_SCORE if reordered(qf, cf, state.pair_how) else 1.0
        reading = married_alignment(qf, cf, stats, result, state) if married else None  # as score._score_forms
        values = pair_features(*reading[:2], reading[3], stats) if reading else pair_features(qf, cf, state, stats)
        x[k] = [values[n] for n in names]
    return x, settled, forms


def training_rows(all_rows: list[dict]) -> list[dict]:
    """Pairs a name score can learn from: positives that share some form of the name (not
    'different_name' / nickname-only aliases, which no name similarity can find) and every hard negative."""
    out = []
    for r in all_rows:
        if r["kind"] == "list_negative":
            out.append(r)
        elif r["kind"] == "hard_negative":
            if not r.get("exact_name_collision"):
                out.append(r)
        elif not {"different_name", "weak_aka_nickname"} & set(r.get("variation") or []):
            out.append(r)
    return out


def list_negatives(all_rows: list[dict], names: list[tuple[str, str, str]], per_query: int = 3,
                   seed: int = 5) -> list[dict]:
    """Ordinary negatives: each dev query against a few listed names of *other* entries that share a
    part with it, as blocking would offer them. The hard negatives alone were mined by string
    similarity, which teaches a model that agreement is suspicious; screening meets mostly these.
    ``names``: (uid, name, type) of the list being screened."""
    import random

    rng = random.Random(seed)
    by_token: dict[str, list[int]] = {}
    for k, (_uid, name, _type) in enumerate(names):
        for t in {t.text for t in normalize(name).tokens}:
            by_token.setdefault(t, []).append(k)
    out = []
    seen = set()
    for r in all_rows:
        if r["kind"] != "alias" or (r["query"], r["query_uid"]) in seen:
            continue
        seen.add((r["query"], r["query_uid"]))
        # In a fixed order (not a set's, which varies with the hash seed): the same negatives every run.
        pool = [k for t in sorted({t.text for t in normalize(r["query"]).tokens}) for k in by_token.get(t, [])[:2000]]
        pool = [k for k in pool if names[k][0] != str(r["query_uid"]) and names[k][2] == r["type"]]
        for k in rng.sample(pool, min(per_query, len(pool))):
            out.append({"query": r["query"], "candidate": names[k][1], "same_entity": False, "kind": "list_negative",
                        "query_uid": r["query_uid"], "candidate_uid": names[k][0], "type": r["type"]})
    return out


def _fold(uid) -> int:
    return zlib.crc32(str(uid).encode()) % FOLDS


def out_of_fold(all_rows: list[dict], eval_rows: list[dict], schema_of, stats: TokenStats | None) -> np.ndarray:
    """Scores of ``eval_rows`` from models fitted without their query entity's fold."""
    train = training_rows(all_rows)
    x_train, _, _ = featurise(train, schema_of, stats, married=False)  # as fit_all
    y_train = np.array([bool(r["same_entity"]) for r in train], dtype=float)
    x_eval, settled, forms = featurise(eval_rows, schema_of, stats)
    folds_train = np.array([_fold(r["query_uid"]) for r in train])
    folds_eval = np.array([_fold(r["query_uid"]) for r in eval_rows])
    scores = np.zeros(len(eval_rows))
    for f in range(FOLDS):
        model = fit(x_train[folds_train != f], y_train[folds_train != f], list(FEATURES))
        mask = folds_eval == f
        z = model._offset + x_eval[mask] @ np.asarray(model._coef)
        scores[mask] = 1 / (1 + np.exp(-np.clip(z, -40, 40)))
    # As score_forms: the scores the model is not asked for, then the generational suffixes and numbers weighed.
    scores = np.where(np.isnan(settled), scores, settled)
    return np.array([adjusted(qf, cf, float(score))[0] for score, (qf, cf) in zip(scores, forms)])


def fit_all(all_rows: list[dict], schema_of, stats: TokenStats | None) -> Model:
    """The model, learned from the names' parts as written. The married-name reading
    (score.married_alignment) is a rule of the scorer, applied at scoring time as the caps after the
    model are: fitted on it, the few married aliases of the dev pairs stop counting among the aliases
    whose second surnames differ, the model grows stricter on those (a woman's, a transliteration's),
    and the dev-pairs F1 fell (0.7437 -> 0.7406, AUC unchanged) though the married pairs rose."""
    train = training_rows(all_rows)
    x, _, _ = featurise(train, schema_of, stats, married=False)
    y = np.array([bool(r["same_entity"]) for r in train], dtype=float)
    return fit(x, y, list(FEATURES))


def train_and_save(sdn_dir: Path, schema_of, stats: TokenStats, names: list[tuple[str, str, str]]) -> dict[str, Model]:
    rows = [json.loads(line) for line in open(Path(sdn_dir) / "dev_pairs.jsonl", encoding="utf-8")]
    rows += list_negatives(rows, names)
    models = {"list": fit_all(rows, schema_of, stats), "plain": fit_all(rows, schema_of, None)}
    save_models(models, {"trained_on": "dev_pairs.jsonl", "rows": len(training_rows(rows))})
    return models
