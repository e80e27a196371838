"""Screening jobs: run a whole mapped table (property roll, registry extract, asset declaration)
against the people and organisations in the workbench, turning hits into review items.

A job is meant to run in the background (a thread of the web app, or the CLI). It commits its
progress in batches, so a reload shows how far it got, and a job that was killed part-way is
resumed from the last committed row by running it again: rows before ``done_rows`` are skipped,
and no row's review items are written twice.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workbench.matching.owners import owner_names
from workbench.matching.review import create_review_items
from workbench.matching.search import search_entities
from workbench.faults import checkpoint
from workbench.schema import ValidationError, registry
from workbench.settings import get_settings
from workbench.store import audit
from workbench.store.db import session_factory
from workbench.store.entities import NotFound, get_source
from workbench.store.models import ScreeningJob
from workbench.store.permissions import Actor, require

BATCH_ROWS = 200
HITS_PER_NAME = 3

Progress = Callable[[int, int | None], None]


def screened_kinds() -> list[str]:
    """Who a table is screened against: every kind of legal entity (people and organisations)."""
    return registry().kinds_descending_from(["LegalEntity"])


def start_job(session: Session, actor: Actor, path_or_source_id: str | Path, mapping_text: str,
              threshold: float = 0.7, file_name: str | None = None) -> ScreeningJob:
    """Check the mapping and the file, store the file as a source, and queue the job.

    ``file_name``: the name the file was uploaded under this time (the same bytes uploaded before under
    another name are one source, but this job is about this upload)."""
    from workbench.sources.files import file_path
    from workbench.sources.tabular import load_mapping, read_rows, source_for_table

    require(actor, "edit", "screen tables")
    if not 0 < threshold <= 1:
        raise ValidationError({"threshold": ["the threshold is a score above 0 and at most 1, e.g. 0.7"]})
    mapping = load_mapping(mapping_text)
    if not mapping.screen_entity:
        raise ValidationError({"mapping": ["the mapping names no entity to screen (add `screen: <entity key>`)"]})
    candidate = Path(str(path_or_source_id))
    if candidate.exists():
        path = candidate
        for _ in read_rows(path, mapping):  # fail now, with file and row, rather than in the background
            pass
        source_id = source_for_table(session, actor, path, mapping)
        file_name = file_name or path.name
    else:
        source = get_source(session, str(path_or_source_id))
        if not source.sha256:
            raise ValidationError({"source": [f"source {source.title!r} has no stored file to screen"]})
        path = file_path(source.sha256)
        if not path.exists():
            raise NotFound(f"the stored file of source {source.title!r} is missing")
        source_id, file_name = source.id, file_name or source.file_name or source.title
    job = ScreeningJob(source_id=source_id, file_name=file_name, mapping=mapping.text or mapping_text,
                       against="db", threshold=threshold, status="queued", created_by=actor.username)
    session.add(job)
    session.flush()
    audit.record(session, actor.username, "screening.start", "screening_job", job.id, None,
                 {"file": file_name, "source": source_id, "threshold": threshold, "mapping": mapping.name})
    return job


def job_status(session: Session, job_id: str) -> ScreeningJob:
    job = session.get(ScreeningJob, job_id)
    if job is None:
        raise NotFound(f"no screening job {job_id!r}")
    return job


def list_jobs(session: Session, limit: int = 50) -> list[ScreeningJob]:
    return list(session.execute(select(ScreeningJob).order_by(ScreeningJob.created_at.desc()).limit(limit)).scalars())


def _row_queries(mapping, row: dict) -> list[str]:
    """The names a row is screened under ('X LLC C/O Y' names X and Y); none for a blank owner."""
    return list(dict.fromkeys(q for cell in mapping.screen_names(row) for q in owner_names(cell)))


def _hits_for_row(session: Session, queries: list[str], row: dict, row_number: int, threshold: float,
                  kinds: list[str]) -> list[dict]:
    hits: dict[str, dict] = {}
    for name in queries:
        for hit in search_entities(session, name, kinds=kinds, limit=HITS_PER_NAME, threshold=threshold):
            best = hits.get(hit.entity_id)
            if best is None or hit.score > best["score"]:
                hits[hit.entity_id] = {"row_number": row_number, "row_data": row, "query_name": name,
                                       "entity_id": hit.entity_id, "matched_name": hit.matched_name,
                                       "score": hit.score, "explanation": hit.explanation}
    return list(hits.values())


def run_job(job_id: str, db_url: str | None = None, progress: Progress | None = None) -> ScreeningJob:
    """Screen the job's rows from where it stopped; commit every BATCH_ROWS rows."""
    from workbench.sources.files import file_path
    from workbench.sources.tabular import load_mapping, read_rows

    factory = session_factory(db_url or get_settings().database_url)
    with factory() as session:
        job = job_status(session, job_id)
        if job.status == "done":
            return job
        actor = Actor(job.created_by, "researcher")
        try:
            mapping = load_mapping(job.mapping, job.file_name)
            source = get_source(session, job.source_id)
            path = file_path(source.sha256)
            if job.total_rows is None:
                job.total_rows = sum(1 for _ in read_rows(path, mapping))
            job.status, job.error = "running", None
            session.commit()
            kinds = screened_kinds()
            start = job.done_rows
            empty = job.empty_rows  # counted with done_rows, so a resumed job does not count a row twice
            pending: list[dict] = []
            seen = 0
            done = start  # the rows this runner has committed: a batch commits only where the job still stands
            for seen, (row_number, row) in enumerate(read_rows(path, mapping), start=1):
                if seen <= start:
                    continue
                checkpoint("screen-row", seen)
                queries = _row_queries(mapping, row)
                if queries:
                    pending.extend(_hits_for_row(session, queries, row, row_number, job.threshold, kinds))
                else:
                    empty += 1
                if seen % BATCH_ROWS == 0:
                    _commit_batch(session, actor, job, pending, done, seen, empty)
                    done, pending = seen, []
                    if progress:
                        progress(seen, job.total_rows)
            _commit_batch(session, actor, job, pending, done, max(seen, start), empty)
            job.status, job.finished_at = "done", datetime.now(timezone.utc)
            audit.record(session, actor.username, "screening.done", "screening_job", job.id, None,
                         {"rows": job.done_rows, "hits": job.hits, "rows_without_name": job.empty_rows})
            session.commit()
            if progress:
                progress(job.done_rows, job.total_rows)
        except RunnerOvertaken:
            session.rollback()  # this runner's batch goes: the other one screens these rows
            return session.get(ScreeningJob, job_id, populate_existing=True)
        except Exception as exc:
            session.rollback()
            job = session.get(ScreeningJob, job_id, populate_existing=True)
            if job is None:  # the job's row is gone (its store was reset or restored meanwhile): the cause stands
                raise
            job.status, job.error = "failed", f"{exc.__class__.__name__}: {exc}"[:2000]
            session.commit()
            raise
        return job


class RunnerOvertaken(Exception):
    """Another runner committed these rows first (a job resumed twice, or from two servers)."""


def _commit_batch(session: Session, actor: Actor, job: ScreeningJob, hits: list[dict], from_rows: int,
                  done_rows: int, empty_rows: int) -> None:
    """Write a batch's review items and progress, if the job still stands where this runner left it.

    Progress moves by compare-and-set (``done_rows`` from ``from_rows``): a second runner of the same job (a
    Resume pressed twice, or on another server, which cannot see this one) fails it at its first batch and
    stops, its items rolled back, rather than storing every hit twice. The hit count is added in the database,
    not written back from this thread's copy: a reviewer raising a hidden hit of this job meanwhile adds one too."""
    raised = create_review_items(session, actor, job.id, hits)
    moved = session.execute(
        update(ScreeningJob).where(ScreeningJob.id == job.id, ScreeningJob.done_rows == from_rows)
        .values(done_rows=done_rows, empty_rows=empty_rows, hits=ScreeningJob.hits + raised)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise RunnerOvertaken(job.id)
    session.commit()
    session.refresh(job)  # the counts as the database has them now
