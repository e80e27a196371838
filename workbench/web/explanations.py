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
    baseline = next((f["effect"] for f in features if f.get("feature") == BASELINE), None)
    model = [f for f in features if f.get("feature") in FEATURES and f.get("effect")]
    later = [f for f in features if f.get("feature") not in FEATURES and f.get("feature") != BASELINE]
    after = [f for f in later if isinstance(f.get("effect"), int | float) and f["effect"]]
    notes = [f for f in later if f not in after]
    view = {"notes": notes, "model": sorted(model, key=lambda f: -abs(f["effect"])), "after": after,
            "baseline": baseline, "score": explanation.get("score")}
    if baseline is not None:
        total = baseline + sum(f["effect"] for f in model)
        view["total"] = total
        view["name_score"] = 1 / (1 + math.exp(-total))
    return view
