"""Is the dossier complete under its legal basis? Each check says, in plain words, what is missing.

The check reads the dossier view (see ``snapshot``), so the page, the submission gate and the
exports agree. The criteria come from ``schema/legal_bases.yml``: every element supported by an
exhibit; identifiers present with valid check digits or an explanation; for derivative bases a
sourced link to a designated party; for visa bases the visa holder's data; and what the releasable
export will leave out (exhibits citing an unreleasable source), which informs and never blocks.

Each check has a ``status``, which every page and export shows the same way: ``met``, ``warning`` (met,
with something a reader must not miss), ``missing`` (what blocks submission) or ``info`` (a statement of
what will happen, neither met nor missing: a green tick would claim something the check did not test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench.dossiers.evidence import DIRECTION_WORDS
from workbench.schema import registry


@dataclass
class Check:
    key: str
    label: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Met, but with something a reader must not miss (an element the releasable export has no exhibit for).
    warnings: list[str] = field(default_factory=list)
    # Says what will happen rather than that something was found right (what the releasable export leaves out).
    info: bool = False

    @property
    def status(self) -> str:
        """'missing', 'warning', 'info' or 'met': how the page and the exports mark the check."""
        if not self.ok:
            return "missing"
        if self.warnings:
            return "warning"
        return "info" if self.info else "met"


@dataclass
class Completeness:
    checks: list[Check]
    # Exhibit numbers whose source is unreleasable: left out of the releasable export.
    withheld_exhibits: list[int] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def missing(self) -> list[str]:
        return [p for c in self.checks for p in c.problems]

    def as_dict(self) -> dict:
        return {
            "complete": self.complete, "missing": self.missing, "withheld_exhibits": self.withheld_exhibits,
            "checks": [{"key": c.key, "label": c.label, "ok": c.ok, "status": c.status, "problems": c.problems,
                        "notes": c.notes, "warnings": c.warnings} for c in self.checks],
        }


def _label(element: dict) -> str:
    """What a reader calls the element (views frozen before elements had labels carry only the key)."""
    return element.get("label") or element["key"]


def _link_label(kind: str) -> str:
    """What a reader calls a link kind ('associate of'): the schema's label, the key if it is gone."""
    spec = registry().link_kinds.get(kind)
    return spec.label if spec else kind


def _step_words(step: dict) -> str:
    """One link of a chain as a sentence: 'A associate of B'."""
    label = step.get("label") or _link_label(step["kind"])
    return f"{step['source_caption']} {label} {step['target_caption']}"


def _elements(view: dict) -> Check:
    supported: dict[str, list[str]] = {}
    for ex in view["exhibits"]:
        # An exhibit the releasable export leaves out says so wherever its number is given as support.
        mark = "" if ex["source"].get("releasable", True) else " (unreleasable source: not in the releasable export)"
        supported.setdefault(ex["element"], []).append(f"{ex['number']}{mark}")
    problems, notes, warnings = [], [], []
    weak = registry().vocabularies.get("weak_reliability_grades", {})
    for element in view["legal_basis"]["elements"]:
        numbers = supported.get(element["key"])
        if numbers:
            notes.append(f"{_label(element)}: exhibit{'s' if len(numbers) > 1 else ''} " + ", ".join(numbers))
            warnings += _weak_support(element, [ex for ex in view["exhibits"] if ex["element"] == element["key"]],
                                      weak)
        else:
            # The key follows the label: it is what an API client sends as an exhibit's element.
            problems.append(f"No exhibit supports the element {_label(element)} ('{element['key']}'): "
                            f"{element['text']}")
    us_problems, us_warnings = _us_person(view)
    problems += us_problems
    warnings += us_warnings
    if not any((section.get("text") or "").strip() for section in view.get("narrative") or []):
        warnings.append("No narrative: the summary, analysis and recommendation a reviewer reads the exhibits by "
                        "are empty.")
    return Check("elements", "Every element of the legal basis is supported by an exhibit", not problems,
                 problems, notes, warnings)


def _weak_support(element: dict, exhibits: list[dict], weak: dict[str, str]) -> list[str]:
    """What a reviewer must not miss about an element's support (a warning, never a refusal: reviewers judge):
    only allegations, or only sources of a weak grade (schema/vocabularies.yml weak_reliability_grades)."""
    out = []
    if exhibits and all(ex.get("statement_type") == "allegation" for ex in exhibits):
        out.append(f"{_label(element)} rests on allegations only: no exhibit states it as an established fact.")
    grades = [ex["source"].get("reliability") for ex in exhibits]
    if exhibits and all(grade in weak for grade in grades):
        out.append(f"{_label(element)} rests only on sources graded {', '.join(sorted(set(grades)))} "
                   f"({'; '.join(f'{g}: {weak[g]}' for g in sorted(set(grades)))}).")
    return out


# What makes the target a U.S. person whatever an exhibit says, by the property that holds the United States:
# an entity organised under U.S. law, a U.S. citizen (a dual national too).
US_PERSON_BY = {"jurisdiction": "organised under U.S. law", "nationality": "a U.S. citizen",
                "citizenship": "a U.S. citizen"}
# What only suggests it: a foreign national may live, or a foreign company trade, in the United States.
US_TIES = ("country",)


def _us_person(view: dict) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the foreign-person element (``foreign_person_element`` in
    schema/legal_bases.yml) on a target the United States is recorded for. A target organised under U.S. law
    or holding U.S. nationality or citizenship is a U.S. person, which no exhibit can cure: a problem, so the
    package is not complete. A U.S. country alone (an address, a place of business) is a warning: the exhibits
    must show the target is not a U.S. person."""
    element = registry().foreign_person_element
    found = next((e for e in view["legal_basis"]["elements"] if e["key"] == element), None) if element else None
    if found is None:
        return [], []
    values = {p["name"]: p.get("values", []) for p in view["target"].get("properties", [])}
    reasons = list(dict.fromkeys(why for prop, why in US_PERSON_BY.items() if "us" in values.get(prop, [])))
    if reasons:
        return [(f"{view['target']['caption']} is a U.S. person: {' and '.join(reasons)}; the {_label(found)} "
                 "element cannot be met (a U.S. person is not designated under this basis).")], []
    held = [prop for prop in US_TIES if "us" in values.get(prop, [])]
    if not held:
        return [], []
    return [], [(f"The target's {' and '.join(held)} {'includes' if len(held) == 1 else 'include'} the United "
                 f"States: the {_label(found)} element needs an exhibit showing the target is not a U.S. person.")]


def _folded(text: str) -> str:
    """Text compared without its spacing, punctuation or case: 'VIIM-7503 12' reads as 'viim750312'."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _spelled_out(words: list[str], key: str) -> bool:
    """Whether consecutive whole words of a note, run together, are exactly ``key``: 'VIIM-7503 12' names
    viim750312, but a CURP does not name the RFC it begins with, nor 'born 1970' a passport '1970...'."""
    for start in range(len(words)):
        run = ""
        for word in words[start:]:
            run += word
            if run == key:
                return True
            if len(run) >= len(key) or not key.startswith(run):
                break
    return False


def _mentions(notes: str, ident: dict, identifiers: list[dict]) -> bool:
    """Whether the identifier notes name this identifier: its number (or its whole value), however spaced,
    punctuated or capitalised, or its scheme as a word ('the CURP is printed so in the gazette') while it is
    the target's only identifier of that scheme. A note explains the identifiers it names and no other: one
    about the CURP says nothing of an RFC added since, nor of which CURP is meant once there are two."""
    words = re.findall(r"[^\W_]+", notes.casefold())
    if any(key and _spelled_out(words, key) for key in (_folded(ident.get("number") or ""), _folded(ident["value"]))):
        return True
    scheme = ident.get("scheme") or ""
    alone = sum(1 for other in identifiers if other.get("scheme") == scheme) == 1
    return bool(scheme) and alone and re.search(rf"(?<![^\W_]){re.escape(scheme)}(?![^\W_])", notes,
                                                re.IGNORECASE) is not None


def _identifiers(view: dict) -> Check:
    identifiers = view["target"]["identifiers"]
    notes_text = (view.get("identifier_notes") or "").strip()
    problems, notes = [], []
    if not identifiers:
        if notes_text:
            notes.append("No identifiers recorded; explained in the identifier notes.")
        else:
            problems.append("The target has no identifiers (CURP, RFC, passport, ...): add them, or explain "
                            "their absence in the identifier notes.")
    for ident in identifiers:
        explained = bool(notes_text) and _mentions(notes_text, ident, identifiers)
        for warning in ident["warnings"]:
            if explained:
                notes.append(f"{warning} (explained in the identifier notes)")
            elif notes_text:
                problems.append(f"{warning}: unexplained, since the identifier notes do not mention it: correct it, "
                                f"or explain it in the identifier notes, naming {ident['number'] or ident['value']}.")
            else:
                problems.append(f"{warning}: correct it, or explain it in the identifier notes.")
        if not ident["warnings"]:
            notes.append(f"{ident['scheme']} {ident['number']}: {registry().identifier_passed(ident['value'])}")
    return Check("identifiers", "Identifiers recorded, with valid check digits or an explanation", not problems,
                 problems, notes)


def _activity_label(basis: dict) -> str | None:
    """The label of the element that may show the activity instead of a designated party (schema
    ``activity_element``); None for a basis without one, or a snapshot taken before it existed."""
    key = basis.get("activity_element")
    return next((e["label"] for e in basis.get("elements", []) if e["key"] == key), None) if key else None


def _designated_link(view: dict) -> Check | None:
    basis = view["legal_basis"]
    if not basis["derivative"]:
        return None
    links = view["designated_links"]
    qualifying = [p for p in links if p["qualifies"]]
    accepted = ", ".join(_link_label(kind) for kind in basis["link_kinds"])
    problems, notes = [], []
    if not links:
        problems.append(f"This basis ({basis['label']}) is derivative: the graph shows no link from the target to a "
                        f"designated party (accepted links: {accepted}).")
    elif not qualifying:
        for path in links:
            chain = " -> ".join([path["steps"][0]["source_caption"]] + [s["target_caption"] for s in path["steps"]]) \
                if path["steps"] else path["designated_caption"]
            unsourced = [_step_words(s) for s in path["steps"] if not s["citations"]]
            wrong = list(dict.fromkeys(s.get("label") or _link_label(s["kind"]) for s in path["steps"]
                                       if s["kind"] not in basis["link_kinds"]))
            reason = []
            if unsourced:
                reason.append(f"no source for the link{'s' if len(unsourced) > 1 else ''} "
                              + ", ".join(f"'{words}'" for words in unsourced))
            if wrong:
                reason.append(", ".join(f"'{label}'" for label in wrong) + " links do not count under this basis")
            for step in path["steps"]:
                if not step.get("direction_ok", True):
                    reason.append(f"'{_step_words(step)}' runs the wrong way: under this basis a "
                                  f"'{step.get('label') or _link_label(step['kind'])}' link "
                                  f"{DIRECTION_WORDS[step['direction_required']]}")
            if not path.get("program_accepted", True):
                listed = sorted({s["program"] for s in path["sanctions"] if s["program"] and s["status"] != "delisted"})
                reason.append(f"{path['designated_caption']} is designated under {', '.join(listed) or 'no program'}, "
                              f"not {basis['program']}")
            notes.append(f"{chain}: {'; '.join(reason)}")
        program = f" under {basis['program']}" if basis.get("program") else ""
        problems.append(f"No sourced link to a party designated{program}: every link on the chain needs at least one "
                        f"citation and must be one of: {accepted}.")
    activity = _activity_label(basis)
    if problems and activity:
        # The basis may rest on the activity itself: its element's exhibits carry it, and the checklist says so.
        warnings = [f"{problems[-1]} This basis may rest on the activity itself instead: the exhibits for "
                    f"'{activity}' must show it."]
        return Check("designated_link", "A sourced link to a designated party, or the activity itself", True,
                     [], notes, warnings)
    for path in qualifying:
        notes.append(f"Linked to {path['designated_caption']} through {path['length']} sourced "
                     f"link{'s' if path['length'] != 1 else ''}.")
        if path["length"] > 1 and not basis.get("link_direction"):
            # A chain of support through others (the target's owner is an associate of the SFNT) is a lead, not
            # proof: the exhibits must show how the target's own support reaches the designated party.
            notes.append(f"The link to {path['designated_caption']} is indirect ({path['length']} links, through "
                         f"{', '.join(s['target_caption'] for s in path['steps'][:-1])}): the exhibits must show "
                         "how the target itself supports it.")
    return Check("designated_link", "A sourced link to a designated party (derivative basis)", not problems,
                 problems, notes)


def _visa(view: dict) -> Check | None:
    if not view["legal_basis"]["visa"]:
        return None
    data = {row["key"]: row["value"] for row in view.get("visa_data") or []}
    recorded = [k for k in ("visa_class", "visa_number", "issuing_post") if data.get(k)]
    problems = [] if recorded else ["The visa holder's data is missing: record the visa class, number or issuing post."]
    return Check("visa_data", "The visa holder's data is recorded", not problems, problems)


def _numbers(numbers: list[int]) -> str:
    """'exhibit 4', 'exhibits 3, 4'."""
    return ("exhibits " if len(numbers) > 1 else "exhibit ") + ", ".join(str(n) for n in numbers)


def _releasable(view: dict) -> tuple[Check, list[int]]:
    """What the releasable export will leave out. The check never blocks: it says what will happen, in a
    label its notes agree with. Every exhibit releasable: met. Some left out: a statement (info), with a
    warning for each element the releasable export is left without an exhibit for. No exhibits: says so
    (info), since there is nothing whose citations could be checked."""
    exhibits = view["exhibits"]
    withheld = [ex["number"] for ex in exhibits if not ex["source"]["releasable"]]
    warnings: list[str] = []
    if not exhibits:
        return Check("releasable", "No exhibits yet, so the releasable export has none to keep or leave out", True,
                     info=True), withheld
    if not withheld:
        return Check("releasable", "Every exhibit cites a releasable source: the releasable export keeps them all",
                     True), withheld
    released = {ex["element"] for ex in exhibits if ex["source"]["releasable"]}
    for element in view["legal_basis"]["elements"]:
        if element["key"] not in released and any(ex["element"] == element["key"] for ex in exhibits):
            warnings.append(f"In the releasable export the element {_label(element)} has no exhibit left: "
                            "read alone, it does not show that element supported.")
    several = len(withheld) > 1
    label = (f"The releasable export leaves out {_numbers(withheld)}: "
             + ("they cite unreleasable sources" if several else "it cites an unreleasable source"))
    return Check("releasable", label, True, [], [], warnings, info=True), withheld


def check(view: dict) -> Completeness:
    """Run every check that applies to the dossier's basis."""
    checks = [_elements(view), _identifiers(view)]
    for optional in (_designated_link(view), _visa(view)):
        if optional is not None:
            checks.append(optional)
    releasable, withheld = _releasable(view)
    checks.append(releasable)
    return Completeness(checks, withheld)
