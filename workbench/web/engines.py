"""The web layer's single doorway to the matching and graph engines.

The pages need fuzzy search, duplicate detection, neighbourhood graphs and paths to designated
parties. Those live in ``workbench.matching`` and ``workbench.graph``; this module imports them
lazily and says clearly what is missing if an engine is not installed, so a page degrades to a
plain message instead of a traceback.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


# Interactive search shows weaker candidates than screening does: a person looking for a
# misspelt or partial name ranks them by eye, while screening must not flood the review queue.
SEARCH_THRESHOLD = 0.3


class EngineMissing(RuntimeError):
    """An optional engine module is not available in this build."""


def _load(module: str, name: str):
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise EngineMissing(f"{module}.{name} is not available: {exc}") from exc


def search_entities(session: Session, query: str, kinds: list[str] | None = None, limit: int = 20,
                    threshold: float = SEARCH_THRESHOLD, partial: bool = False) -> list[Any]:
    return _load("workbench.matching.search", "search_entities")(session, query, kinds=kinds, limit=limit,
                                                                  threshold=threshold, partial=partial)


def find_duplicates(session: Session, kind: str, properties: dict, limit: int = 5,
                    exclude_id: str | None = None) -> list[Any]:
    try:
        func = _load("workbench.matching.search", "find_duplicates")
    except EngineMissing:
        return []
    hits = func(session, kind, properties, limit=limit, exclude_id=exclude_id)
    if exclude_id is None:
        return hits
    current = _load("workbench.matching.judgements", "current_judgement")
    return [h for h in hits if getattr(current(session, exclude_id, h.entity_id), "verdict", None) != "different"]


def record_different(session: Session, actor, entity_id: str, others: list[str]) -> int:
    """Remember that a new entity is not the same as the duplicates the user was warned about."""
    judge = _load("workbench.matching.judgements", "judge")
    for other in dict.fromkeys(others):
        if other and other != entity_id:
            judge(session, actor, entity_id, other, "different")
    return len(others)


def ego_network(session: Session, entity_id: str, depth: int = 1, link_kinds: list[str] | None = None) -> dict:
    return _load("workbench.graph.analysis", "ego_network")(session, entity_id, depth=depth, link_kinds=link_kinds)


def path_to_designated(session: Session, entity_id: str, max_length: int = 6):
    return _load("workbench.graph.analysis", "path_to_designated")(session, entity_id, max_length=max_length)


def shortest_path(session: Session, source_id: str, target_id: str, max_length: int = 8):
    return _load("workbench.graph.analysis", "shortest_path")(session, source_id, target_id, max_length=max_length)


def judge_pair(session: Session, actor, entity_id: str, other_id: str, verdict: str, score: float | None = None):
    """Record same / different / unsure for two entities; 'same' also merges the other into this one."""
    if verdict == "same":
        return _load("workbench.matching.judgements", "merge")(session, actor, entity_id, other_id)
    return _load("workbench.matching.judgements", "judge")(session, actor, entity_id, other_id, verdict, score)


def undo_merge(session: Session, actor, merge_id: int):
    return _load("workbench.matching.judgements", "unmerge")(session, actor, merge_id)


def exposure(session: Session, state: str | None = None) -> list[dict]:
    """Officials ranked per state by closeness to designated parties (empty if the graph engine is absent)."""
    try:
        func = _load("workbench.graph.analysis", "exposure")
    except EngineMissing:
        return []
    return func(session, state=state)
