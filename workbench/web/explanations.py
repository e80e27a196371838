"""A match's explanation as a reader can add it up: the page showed the name model's biggest effects alone, in
log-odds, beside a score they did not add up to (QA round 16: 'Ovidio Guzman' at 0.73 listed four effects of
+1.1 to +1.4 and nothing that cost 0.27). The score is reached in two steps, and the view keeps them apart: the
learned model (workbench.matching.model) starts every pair at its baseline and adds its effects, in log-odds,
and its sum is the name score; then rules and other evidence (a suffix on one side, a date of birth, an
identifier) add or take away score points. Rules that explain why parts did not align carry no effect of their
own: they are notes."""

from __future__ import annotations

import math

from workbench.matching.features import FEATURES

BASELINE = "baseline"


def explanation_view(explanation: dict | None) -> dict | None:
    """What the explain macro shows, in its order. None: nothing to explain."""
    if not explanation:
        return None
    features = explanation.get("features") or []
    start = next((f for f in features if f.get("feature") == BASELINE), None)
    baseline = start["effect"] if start else None
    model = [f for f in features if f.get("feature") in FEATURES and f.get("effect")]
    later = [f for f in features if f.get("feature") not in FEATURES and f.get("feature") != BASELINE]
    after = [f for f in later if isinstance(f.get("effect"), int | float) and f["effect"]]
    notes = [f for f in later if f not in after]
    score = explanation.get("score")
    view = {"notes": notes, "model": sorted(model, key=lambda f: -abs(f["effect"])), "after": after,
            "baseline": baseline, "score": score,
            "model_words": start.get("model", "") if start else ""}
    # Sums of the numbers as shown (two decimals), so that a reader adding up the list reaches the total shown.
    shown = [round(f["effect"], 2) for f in model]
    if baseline is not None:
        view["effects_sum"] = sum(shown)
        view["total"] = round(baseline, 2) + view["effects_sum"]
        view["name_score"] = 1 / (1 + math.exp(-(baseline + sum(f["effect"] for f in model))))
    if after and isinstance(score, int | float):
        # The name score before the rules: the model's, or 1.00 where no model ran (the same parts, maybe in
        # another order: that rule's cost is among the score points).
        start = view.get("name_score", 1.0)
        view["start"] = start
        reached = start + sum(f["effect"] for f in after)
        if reached > 1.0 + 1e-6 or reached < -1e-6:
            view["bounded"] = "a score stops at 1.00" if reached > 1 else "a score stops at 0.00"
    return view
