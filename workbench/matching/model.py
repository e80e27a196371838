"""The learned part of the name score: a logistic regression over name-agnostic features.

Why a model: the hand-set penalties of the first scorer could not weigh a dozen kinds of evidence
against each other (a fuzzy surname vs a missing one vs a rare leftover word). A logistic
regression can, and it stays explainable: the log-odds are a sum, so each feature's contribution
(weight x standardised value) is what the explanation shows, in log-odds units.

The weights are data (``data/model.json``), refitted by ``workbench bench matching --train`` on
``dev_pairs.jsonl``. Two variants are kept: ``list`` for scoring against a list whose part
frequencies are known (screening, search), ``plain`` for a lone pair (``match pairs``, duplicates).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from workbench.matching.features import FEATURES

MODEL_PATH = Path(__file__).parent / "data" / "model.json"
# Features that are a share of the parts aligned (0 to 1): their explanation says what a full share would add,
# so a reader sees what a part left over cost (it lowers these, rather than adding an effect of its own).
SHARES = ("coverage", "coverage of the other name", "family names aligned", "given names aligned")
L2 = 3.0  # ridge penalty on standardised weights: keeps the model smooth on a small training set


# A list this long (its TokenStats) is scored with the 'list' variant, which weighs how common each part is in it;
# shorter lists and lone pairs with the 'plain' one.
LIST_MIN_NAMES = 50

# What each variant's baseline is, for the explanation: the same pair starts elsewhere on the search page (the
# list's model) and on the duplicates page (a lone pair's), and a reader comparing them asked why.
VARIANT_WORDS = {"list": "the model for names screened against a list, which knows how common each part is in it",
                 "plain": "the model that does not weigh how common each part is: a lone pair, or under "
                          f"{LIST_MIN_NAMES} names"}


def variant_for(stats) -> str:
    """The variant that scores against a list with these statistics (score._score_forms, fast.model_for)."""
    return "list" if stats is not None and stats.total >= LIST_MIN_NAMES else "plain"


class Model:
    def __init__(self, names: list[str], mean: list[float], scale: list[float], weights: list[float], bias: float,
                 starts: str = ""):
        self.names = names
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        self.bias = float(bias)
        self._mean = list(self.mean)
        self._coef = list(self.weights / self.scale)  # per raw unit, for the fast path
        self._offset = self.bias - float(np.dot(self.weights, self.mean / self.scale))
        self.starts = starts  # which variant this is, in words (VARIANT_WORDS), for the explanation's baseline

    def logit(self, values: dict[str, float]) -> float:
        return self._offset + sum(c * values[n] for c, n in zip(self._coef, self.names))

    def probability(self, values: dict[str, float]) -> float:
        z = self.logit(values)
        return 1 / (1 + math.exp(-z)) if z > -40 else 0.0

    def explain(self, values: dict[str, float]) -> tuple[float, list[dict]]:
        """Score and what each feature added to the log-odds (weight x value), largest first; the
        'baseline' entry is the log-odds of a pair with every feature at zero."""
        z = self._offset
        effects = []
        for name, coef in zip(self.names, self._coef):
            effect = coef * values[name]
            z += effect
            if abs(effect) >= 0.01:
                entry = {"feature": name, "effect": round(effect, 3),
                         "detail": f"{FEATURES.get(name, name)}: {values[name]:.2f}"}
                if name in SHARES and coef > 0 and values[name] < 0.995:
                    entry["full"] = round(coef, 3)  # what it would add had every part aligned: what the gap cost
                effects.append(entry)
        effects.sort(key=lambda e: -abs(e["effect"]))
        effects.append({"feature": "baseline", "effect": round(self._offset, 3),
                        "detail": "log-odds before any feature (the effects above add to it)", "model": self.starts})
        score = 1 / (1 + math.exp(-z)) if z > -40 else 0.0
        return score, effects

    def as_dict(self) -> dict:
        return {"features": self.names, "mean": list(map(float, self.mean)), "scale": list(map(float, self.scale)),
                "weights": list(map(float, self.weights)), "bias": self.bias}


# Features whose weight may only push one way: more agreement never lowers the score, more conflict
# never raises it. Features that only qualify others (cross-role alignment, closest leftover pair) stay free.
# (Whole-string similarities are not features: the hard negatives were mined by string similarity, so
# the model learned to hold similarity *against* a pair, which would be nonsense on a real list.)
SIGNS = {
    "coverage": 1, "coverage of the other name": 1, "family names aligned": 1, "given names aligned": 1,
    "diminutive or variant": 1, "rare parts shared": 1, "part-count ratio": 1,
    "conflicting parts": -1, "leftover parts": -1, "organisation conflict": -1,
    "surname conflict": -1, "given-name conflict": -1, "first surname differs": -1, "fuzzy spelling": -1,
    "rare part left over": -1, "legal form mismatch": -1,
}


def _newton(a: np.ndarray, y: np.ndarray, sw: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    w = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ w, -40, 40)))
        grad = a.T @ (sw * (p - y)) + penalty * w
        hess = (a * (sw * p * (1 - p))[:, None]).T @ a + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w


def _projected(a, y, sw, penalty, signs, w, iterations: int = 4000) -> np.ndarray:
    """Accelerated projected gradient (FISTA): the same loss, weights clipped to their allowed sign."""
    lipschitz = 0.25 * np.linalg.norm(a * np.sqrt(sw)[:, None], 2) ** 2 + penalty.max()
    v, t = w.copy(), 1.0
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(a @ v, -40, 40)))
        nxt = v - (a.T @ (sw * (p - y)) + penalty * v) / lipschitz
        nxt = np.where(signs * nxt < 0, 0.0, nxt)
        t_next = (1 + math.sqrt(1 + 4 * t * t)) / 2
        v = nxt + (t - 1) / t_next * (nxt - w)
        w, t = nxt, t_next
    return w


def fit(x: np.ndarray, y: np.ndarray, names: list[str], l2: float = L2, sample_weight=None) -> Model:
    """Ridge-penalised logistic regression (Newton's method, standardised features) whose weights
    respect SIGNS (projected gradient when the free fit breaks a sign)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    n, d = z.shape
    a = np.hstack([z, np.ones((n, 1))])
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    signs = np.array([SIGNS.get(name, 0) for name in names] + [0])
    w = _newton(a, y, sw, penalty)
    if (signs * w < 0).any():
        w = _projected(a, y, sw, penalty, signs, np.where(signs * w < 0, 0.0, w))
    return Model(list(names), list(mean), list(scale), list(w[:-1]), float(w[-1]))


@lru_cache(maxsize=4)
def current_model(variant: str = "plain") -> Model:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    spec = data["variants"][variant]
    if spec["features"] != list(FEATURES):
        raise RuntimeError(f"{MODEL_PATH}: fitted for other features; run `workbench bench matching --train`")
    return Model(spec["features"], spec["mean"], spec["scale"], spec["weights"], spec["bias"],
                 VARIANT_WORDS.get(variant, ""))


def save_models(models: dict[str, Model], meta: dict) -> None:
    payload = {"about": "Logistic-regression weights of workbench.matching.score, fitted by "
                        "`workbench bench matching --train` on dev_pairs.jsonl (name-agnostic features only).",
               **meta, "variants": {k: m.as_dict() for k, m in models.items()}}
    MODEL_PATH.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    current_model.cache_clear()
