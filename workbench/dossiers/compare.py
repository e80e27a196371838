"""What changed between two versions of a dossier, for the 'Compare with version N' page.

A returned dossier is reopened as version 2 to answer the reviewer; the reviewer then needs to see what
version 2 changed, not reread the whole package. The comparison is made from each version's *view*
(``snapshot.view_of``): an approved version compares as it was frozen, an open one as it reads now,
which is what each version's own page and exports show. Everything here is worked out on those two
documents (legal basis, exhibits by number, narrative sections, the target's values, the chains to
designated parties, the assets to block, the visa data); the page only prints the result.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from sqlalchemy.orm import Session

from workbench.dossiers import evidence, service, snapshot
from workbench.labels import page_label
from workbench.schema import ValidationError
from workbench.store.entities import NotFound
from workbench.store.models import Dossier

# Narrative sections longer than this many words (together) are shown side by side only: a word diff
# of two 100,000-character texts is slow to compute and no easier to read than the two texts.
MAX_DIFF_WORDS = 20_000


def versions_to_compare(session: Session, dossier: Dossier, other_id: str | None = None) -> tuple[Dossier, Dossier]:
    """(older, newer): the dossier and the version it is compared with, the older first.

    Without ``other_id`` the dossier is compared with the version it was opened from; with it, with any
    other version of the same package (the chain ``service.version_chain`` walks). A dossier of another
    package is refused as not found here: comparing two packages says nothing of what a version changed."""
    other_id = (other_id or "").strip()
    if not other_id:
        if not dossier.previous_id:
            raise NotFound(f"version {dossier.number} of dossier {dossier.title!r} is the first: there is no "
                           "earlier version to compare it with")
        other = service.get_dossier(session, dossier.previous_id)
    else:
        if other_id == dossier.id:
            message = f"choose another version than version {dossier.number} to compare it with"
            raise ValidationError({"with": [message]})
        other = next((v for v in service.version_chain(session, dossier) if v.id == other_id), None)
        if other is None:
            raise NotFound(f"no version {other_id!r} of dossier {dossier.title!r}: compare it with one of its "
                           "own versions")
    return (other, dossier) if other.number < dossier.number else (dossier, other)


def compare(session: Session, older: Dossier, newer: Dossier) -> dict:
    """What changed from ``older`` to ``newer``, each read as its own page reads it (``snapshot.view_of``)."""
    result = compare_views(snapshot.view_of(session, older), snapshot.view_of(session, newer))
    result["notes"] = _notes(older, newer)
    return result


def _frozen(dossier: Dossier) -> bool:
    return dossier.state in snapshot.FROZEN_STATES and dossier.snapshot is not None


def _notes(older: Dossier, newer: Dossier) -> list[str]:
    """What a reader must know about the two views compared: an open version's target, chains and assets
    are read from the records as they are now, so two open versions cannot differ there."""
    old_frozen, new_frozen = _frozen(older), _frozen(newer)
    if not old_frozen and not new_frozen:
        return [(f"Neither version is frozen (version {older.number} is {older.state}, version {newer.number} is "
                 f"{newer.state}): both read the target, its chains to designated parties and its assets from the "
                 "records as they are now, so those cannot differ here. What the versions themselves hold (legal "
                 "basis, exhibits, narrative, visa data) is compared.")]
    notes = []
    for dossier, frozen in ((older, old_frozen), (newer, new_frozen)):
        if frozen:
            notes.append(f"Version {dossier.number} is compared as it was frozen on approval.")
        else:
            notes.append(f"Version {dossier.number} is {dossier.state}, not frozen: its target, chains and assets "
                         "are read from the records as they are now, so a change to those records since the other "
                         "version was frozen shows here too.")
    return notes


def compare_views(old: dict, new: dict) -> dict:
    """The differences between two dossier views (``snapshot.live_view``'s documents, frozen or live)."""
    result = {
        "old": _version(old), "new": _version(new),
        "legal_basis": _legal_basis(old, new),
        "fields": _fields(old, new),
        "exhibits": _exhibits(old, new),
        "narrative": _narrative(old, new),
        "target": _target(old, new),
        "chains": _chains(old, new),
        "assets": _assets(old, new),
        "visa": _visa(old, new),
    }
    exhibits, chains, assets = result["exhibits"], result["chains"], result["assets"]
    result["changed"] = bool(
        result["legal_basis"] or result["fields"] or result["narrative"] or result["target"] or result["visa"]
        or exhibits["added"] or exhibits["removed"] or exhibits["changed"]
        or chains["added"] or chains["removed"] or chains["changed"] or assets["added"] or assets["removed"])
    return result


def _version(view: dict) -> dict:
    dossier = view.get("dossier") or {}
    return {"id": dossier.get("id"), "number": dossier.get("number"), "state": dossier.get("state"),
            "title": dossier.get("title")}


def _legal_basis(old: dict, new: dict) -> dict | None:
    def basis(view: dict) -> dict:
        b = view.get("legal_basis") or {}
        return {"key": b.get("key"), "label": b.get("label"), "citation": b.get("citation")}

    before, after = basis(old), basis(new)
    return None if before == after else {"old": before, "new": after}


def _fields(old: dict, new: dict) -> list[dict]:
    """The dossier's own short fields (title, identifier notes) that changed: old and new text."""
    out = []
    pairs = (("Title", (old.get("dossier") or {}).get("title"), (new.get("dossier") or {}).get("title")),
             ("Identifier notes", old.get("identifier_notes"), new.get("identifier_notes")))
    for label, before, after in pairs:
        if (before or "") != (after or ""):
            out.append({"label": label, "old": before or "", "new": after or ""})
    return out


# ---- exhibits --------------------------------------------------------------------------------

def _exhibit_fields(ex: dict) -> list[tuple[str, str, str]]:
    """(key, label, words) of what a reader compares in an exhibit; the key decides, the words are shown."""
    source = ex.get("source") or {}
    return [
        ("element", "Element", ex.get("element_label") or ex.get("element") or ""),
        ("statement_type", "Fact or allegation", ex.get("statement_label") or ex.get("statement_type") or ""),
        ("statement", "Statement", ex.get("statement") or ""),
        ("excerpt", "Excerpt", ex.get("excerpt") or ""),
        ("source", "Source", f"{source.get('title') or ''} ({source.get('id') or 'no source'})"),
        ("page", "Page", page_label(ex.get("page")) or ""),
    ]


def _exhibit_row(ex: dict) -> dict:
    source = ex.get("source") or {}
    return {"number": ex["number"], "element": ex.get("element_label") or ex.get("element"),
            "statement_type": ex.get("statement_label") or ex.get("statement_type"),
            "statement": ex.get("statement"), "source": source.get("title"), "source_id": source.get("id"),
            "page": page_label(ex.get("page")) or ""}


def _exhibits(old: dict, new: dict) -> dict:
    """Exhibits added, removed and changed, by number: a number is never given twice in a package (removed
    ones included), so the same number in two versions is the same exhibit, copied and perhaps changed."""
    before = {ex["number"]: ex for ex in old.get("exhibits") or []}
    after = {ex["number"]: ex for ex in new.get("exhibits") or []}
    changed = []
    for number in sorted(set(before) & set(after)):
        was = {key: words for key, _label, words in _exhibit_fields(before[number])}
        now = _exhibit_fields(after[number])
        raw_old, raw_new = _exhibit_keys(before[number]), _exhibit_keys(after[number])
        fields = [{"label": label, "old": was[key], "new": words}
                  for key, label, words in now if raw_old[key] != raw_new[key]]
        if fields:
            changed.append({"number": number, "fields": fields})
    return {
        "added": [_exhibit_row(after[n]) for n in sorted(set(after) - set(before))],
        "removed": [_exhibit_row(before[n]) for n in sorted(set(before) - set(after))],
        "changed": changed,
        "unchanged": len(set(before) & set(after)) - len(changed),
    }


def _exhibit_keys(ex: dict) -> dict[str, Any]:
    """The stored values an exhibit's comparison is decided on (labels may differ between a snapshot frozen
    long ago and the schema now; what was stored is what changed or not)."""
    return {"element": ex.get("element"), "statement_type": ex.get("statement_type"),
            "statement": ex.get("statement") or "", "excerpt": ex.get("excerpt") or "",
            "source": (ex.get("source") or {}).get("id"), "page": (ex.get("page") or "").strip()}


# ---- narrative -------------------------------------------------------------------------------

_WORD = re.compile(r"\S+\s*")


def _words(text: str) -> list[str]:
    """The text as words, each with the spacing or line break after it (what leads the text goes first)."""
    lead = re.match(r"\s*", text).group(0)
    return ([lead] if lead else []) + _WORD.findall(text, len(lead))


def word_diff(old: str, new: str) -> list[dict] | None:
    """The two texts as runs of words kept, removed and added (``op``: equal, delete, insert), with their
    spacing and line breaks (a kept run is given as the new text spaces it); None when they are too long to
    diff (the page shows them side by side). Words are compared without their spacing, so a line re-wrapped
    is no change of words; difflib's heuristic for very frequent words keeps a long, repetitive text from
    taking minutes (difflib compares texts of under 200 words exactly)."""
    a, b = _words(old or ""), _words(new or "")
    if len(a) + len(b) > 2 * MAX_DIFF_WORDS:
        return None
    runs: list[dict] = []

    def add(op: str, tokens: list[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if runs and runs[-1]["op"] == op:
            runs[-1]["text"] += text
        else:
            runs.append({"op": op, "text": text})

    matcher = difflib.SequenceMatcher(None, [w.strip() for w in a], [w.strip() for w in b])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("equal", b[j1:j2])
        else:
            add("delete", a[i1:i2])
            add("insert", b[j1:j2])
    return runs


def _narrative(old: dict, new: dict) -> list[dict]:
    """The narrative sections whose text changed: old and new text, and a word diff."""
    before = {s["key"]: s for s in old.get("narrative") or []}
    after = {s["key"]: s for s in new.get("narrative") or []}
    out = []
    for key in [*after, *(k for k in before if k not in after)]:
        was, now = (before.get(key) or {}).get("text") or "", (after.get(key) or {}).get("text") or ""
        if was != now:
            label = (after.get(key) or before.get(key))["label"]
            out.append({"key": key, "label": label, "old": was, "new": now, "diff": word_diff(was, now)})
    return out


# ---- the target ------------------------------------------------------------------------------

def _target(old: dict, new: dict) -> list[dict]:
    """Per property of the target, the values added and removed."""
    before, after = snapshot.target_values(old), snapshot.target_values(new)
    out = []
    for name in [*after, *(n for n in before if n not in after)]:
        label = (after.get(name) or before[name])[0]
        was, now = (before.get(name) or ("", []))[1], (after.get(name) or ("", []))[1]
        added = [v for v in dict.fromkeys(now) if v not in was]
        removed = [v for v in dict.fromkeys(was) if v not in now]
        if added or removed:
            out.append({"name": name, "label": label, "added": added, "removed": removed})
    return out


# ---- chains to designated parties ------------------------------------------------------------

def _chain_key(path: dict) -> tuple:
    return (path["designated_id"], tuple(path.get("nodes") or ()))


def chain_words(path: dict) -> str:
    """A chain as a reader reads it: 'A — Associate → B; B — Ownership → C'."""
    return "; ".join(f"{s['source_caption']} — {s.get('label') or s['kind']} → {s['target_caption']}"
                     for s in path.get("steps") or [])


def _chain_row(path: dict) -> dict:
    return {"designated": path.get("designated_caption") or path["designated_id"], "wording": chain_words(path),
            "qualifies": bool(path.get("qualifies")), "reasons": evidence.path_reasons(path)}


def _counts(flag: bool, reasons: list[str]) -> str:
    return "counts for the basis" if flag else "does not count (" + ("; ".join(reasons) or "not qualifying") + ")"


def _links(path: dict) -> list[tuple]:
    return [(s["link_id"], s["kind"], s["source"], s["target"]) for s in path.get("steps") or []]


def _chains(old: dict, new: dict) -> dict:
    """Chains to designated parties added, removed and changed (whether it counts for the basis, its links,
    how many sources each link has), a chain being the designated party and the entries it runs through."""
    before = {_chain_key(p): p for p in old.get("designated_links") or []}
    after = {_chain_key(p): p for p in new.get("designated_links") or []}
    changed = []
    for key in [k for k in after if k in before]:
        was, now = before[key], after[key]
        changes = []
        if bool(was.get("qualifies")) != bool(now.get("qualifies")):
            changes.append(f"was: {_counts(bool(was.get('qualifies')), evidence.path_reasons(was))}; "
                           f"now: {_counts(bool(now.get('qualifies')), evidence.path_reasons(now))}")
        if _links(was) != _links(now):
            changes.append(f"links were: {chain_words(was)}; now: {chain_words(now)}")
        sources_was = [len(s.get("citations") or []) for s in was.get("steps") or []]
        sources_now = [len(s.get("citations") or []) for s in now.get("steps") or []]
        if _links(was) == _links(now) and sources_was != sources_now:
            changes.append("sources per link were " + ", ".join(map(str, sources_was)) + "; now "
                           + ", ".join(map(str, sources_now)))
        if changes:
            changed.append({**_chain_row(now), "changes": changes})
    return {"added": [_chain_row(after[k]) for k in after if k not in before],
            "removed": [_chain_row(before[k]) for k in before if k not in after],
            "changed": changed}


# ---- assets and visa data --------------------------------------------------------------------

def _asset_row(asset: dict) -> dict:
    return {"id": asset["id"], "caption": asset.get("caption") or asset["id"],
            "kind": asset.get("kind_label") or asset.get("kind") or ""}


def _assets(old: dict, new: dict) -> dict:
    before = {a["id"]: a for a in old.get("assets") or []}
    after = {a["id"]: a for a in new.get("assets") or []}
    return {"added": [_asset_row(a) for i, a in after.items() if i not in before],
            "removed": [_asset_row(a) for i, a in before.items() if i not in after]}


def _visa(old: dict, new: dict) -> list[dict]:
    """The visa fields whose value changed (a visa basis only): old and new value."""
    before = {row["key"]: row for row in old.get("visa_data") or []}
    after = {row["key"]: row for row in new.get("visa_data") or []}
    out = []
    for key in [*after, *(k for k in before if k not in after)]:
        was, now = (before.get(key) or {}).get("value") or "", (after.get(key) or {}).get("value") or ""
        if was != now:
            out.append({"key": key, "label": (after.get(key) or before[key])["label"], "old": was, "new": now})
    return out
