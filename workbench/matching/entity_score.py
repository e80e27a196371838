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


CIRCA_YEARS = 2  # 'DOB circa 1960' agrees with a birth in 1958-1962


def birth_date_effect(query: dict, candidate: dict) -> tuple[float, str] | None:
    """(effect, detail) of the dates of birth both sides hold, None when one side holds none.

    Exact dates (birthDate) agree in full, agree as far as the shorter one goes, or differ. A rough
    year (birthDateCirca, OFAC's 'circa 1960') agrees with any date within CIRCA_YEARS of it."""
    q_dob, c_dob = _values(query, "birthDate"), _values(candidate, "birthDate")
    exact = _exact_dates(q_dob, c_dob) if q_dob and c_dob else None
    if exact and exact[0] > 0:
        return exact
    q_circa, c_circa = _values(query, "birthDateCirca"), _values(candidate, "birthDateCirca")
    if not (q_circa and (c_dob or c_circa)) and not (c_circa and q_dob):
        return exact
    for rough, other in ((q_circa, c_dob | c_circa), (c_circa, q_dob | q_circa)):
        for year in sorted(rough):
            near = sorted(d for d in other if _year(d) is not None and _year(year) is not None
                          and abs(_year(d) - _year(year)) <= CIRCA_YEARS)
            if near:
                return 0.03, f"born {near[0]}, listed as circa {year}"
    return -0.3, "different year of birth (beyond a circa year's margin)"


def _exact_dates(q_dob: set[str], c_dob: set[str]) -> tuple[float, str]:
    if q_dob & c_dob and any(len(d) >= 10 for d in q_dob & c_dob):
        return 0.1, "same full date of birth"
    if {d[:4] for d in q_dob} & {d[:4] for d in c_dob}:
        if any(a.startswith(b) or b.startswith(a) for a in q_dob for b in c_dob):
            return 0.05, "same year of birth (partial date)"
        return -0.15, "same year, different day or month of birth"
    return -0.3, "different year of birth"


def _year(date: str) -> int | None:
    return int(date[:4]) if date[:4].isdigit() else None


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

    dob = birth_date_effect(query, candidate)
    if dob:
        feature("date of birth", *dob)
        score += dob[0]

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
