"""Entity score: the name score moved by what else is known (dates of birth, nationality, gender, identifiers).

An equal CURP or RFC (or another identifier of the same scheme) is near-certain; two different values
of a scheme a person holds only once are strongly negative, whatever the names say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.matching.score import NameScore, best_name_score

# Schemes a person or company holds exactly one value of: a different value means a different party.
UNIQUE_SCHEMES = frozenset({"CURP", "RFC", "EIN", "SSN", "INE", "CEDULA", "NIT", "TAXID"})
NAME_PROPS = ("name", "alias", "weakAlias", "previousName")


@dataclass
class EntityScore:
    score: float
    name: NameScore
    matched_query: str = ""
    matched_candidate: str = ""
    features: list[dict] = field(default_factory=list)

    def explanation(self) -> dict:
        out = self.name.explanation()
        out["score"] = round(self.score, 4)
        out["name_score"] = round(self.name.score, 4)
        out["matched_query"] = self.matched_query
        out["matched_name"] = self.matched_candidate
        out["features"] = out["features"] + self.features
        return out


def _identifiers(props: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for raw in props.get("identifier", []) or []:
        scheme, _, value = str(raw).partition(":")
        if not value:
            continue
        out.setdefault(scheme.strip().upper(), set()).add(re.sub(r"[^0-9A-Z]", "", value.upper()))
    return out


# An RFC is its holder's letters and date (10 characters for a person, 9 for a company) and a
# 3-character homoclave that Mexican documents often leave out: the short form agrees with any RFC it
# begins, though less surely than the whole one (two people can share letters and birth date).
RFC_ROOTS = (10, 9)
RFC_ROOT_EFFECT = 0.2


def _same_root(scheme: str, ours: set[str], theirs: set[str]) -> bool:
    """Whether an RFC written without its homoclave begins an RFC the other side holds."""
    if scheme != "RFC":
        return False
    for a in ours:
        for b in theirs:
            short, long = sorted((a, b), key=len)
            if len(short) in RFC_ROOTS and len(long) == len(short) + 3 and long.startswith(short):
                return True
    return False


def _values(props: dict, key: str) -> set[str]:
    return {str(v).strip().lower() for v in props.get(key, []) or [] if str(v).strip()}


def identifier_effect(score: float, query: dict, candidate: dict) -> tuple[float, list[tuple[str, float, str]]]:
    """A score moved by the identifiers both sides hold: (new score, [(feature, effect, detail)])."""
    effects: list[tuple[str, float, str]] = []
    q_ids, c_ids = _identifiers(query), _identifiers(candidate)
    shared = [s for s in q_ids if s in c_ids and q_ids[s] & c_ids[s]]
    rooted = [s for s in q_ids if s in c_ids and s not in shared and _same_root(s, q_ids[s], c_ids[s])]
    conflicts = [s for s in q_ids if s in c_ids and s in UNIQUE_SCHEMES and s not in rooted
                 and not q_ids[s] & c_ids[s]]
    if rooted:
        new = min(1.0, score + RFC_ROOT_EFFECT)
        effects.append(("identifier match", round(new - score, 4),
                        ", ".join(sorted(rooted)) + " equal without the homoclave (one side omits it)"))
        score = new
    if shared:
        new = max(score, 0.99 if set(shared) & UNIQUE_SCHEMES else min(1.0, score + 0.3))
        effects.append(("identifier match", round(new - score, 4), ", ".join(sorted(shared)) + " equal"))
        score = new
    if conflicts:
        new = min(score, 0.15) if not shared else score - 0.3
        effects.append(("identifier conflict", round(new - score, 4), ", ".join(sorted(conflicts)) + " differ"))
        score = new
    return score, effects


def score_entities(query: dict, candidate: dict, schema: str | None = None) -> EntityScore:
    """Score two property dicts ({prop: [values]}) of the same family of kinds."""
    q_names = [n for p in NAME_PROPS for n in query.get(p, []) or []]
    c_names = [n for p in NAME_PROPS for n in candidate.get(p, []) or []]
    name, q_used, c_used = best_name_score(q_names, c_names, schema)
    result = EntityScore(name.score, name, q_used, c_used)
    score = name.score

    def feature(label: str, effect: float, detail: str) -> None:
        result.features.append({"feature": label, "effect": round(effect, 4), "detail": detail})

    score, effects = identifier_effect(score, query, candidate)
    for label, effect, detail in effects:
        feature(label, effect, detail)

    q_dob, c_dob = _values(query, "birthDate"), _values(candidate, "birthDate")
    if q_dob and c_dob:
        if q_dob & c_dob and any(len(d) >= 10 for d in q_dob & c_dob):
            feature("date of birth", 0.1, "same full date of birth")
            score += 0.1
        elif {d[:4] for d in q_dob} & {d[:4] for d in c_dob}:
            compatible = any(a.startswith(b) or b.startswith(a) for a in q_dob for b in c_dob)
            if compatible:
                feature("date of birth", 0.05, "same year of birth (partial date)")
                score += 0.05
            else:
                feature("date of birth", -0.15, "same year, different day or month of birth")
                score -= 0.15
        else:
            feature("date of birth", -0.3, "different year of birth")
            score -= 0.3

    for prop in ("nationality", "country", "citizenship"):
        qv, cv = _values(query, prop), _values(candidate, prop)
        if qv and cv:
            if qv & cv:
                feature(prop, 0.03, "shared " + ", ".join(sorted(qv & cv)))
                score += 0.03
            elif prop == "nationality":
                feature(prop, -0.1, f"{'/'.join(sorted(qv))} vs {'/'.join(sorted(cv))}")
                score -= 0.1

    qg, cg = _values(query, "gender"), _values(candidate, "gender")
    if qg and cg and not qg & cg:
        feature("gender", -0.3, f"{'/'.join(sorted(qg))} vs {'/'.join(sorted(cg))}")
        score -= 0.3

    result.score = max(0.0, min(1.0, score))
    return result
