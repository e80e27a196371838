"""The screening job's progress for scripts and the job page's poll (the pages are in ``screening``).

Its own router, so that it is in the OpenAPI document the other API routes are in: the pages'
router leaves its routes out, and took this one with them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from workbench.store.permissions import Actor
from workbench.web import readmodels
from workbench.web.deps import current_actor, get_session
from workbench.web.routes.screening import runner_alive

router = APIRouter(prefix="/api/screening", tags=["api"])


@router.get("/{job_id}", summary="Screening job progress")
def screening_status(job_id: str, request: Request, actor: Actor = Depends(current_actor),
                     session: Session = Depends(get_session)) -> dict:
    from workbench.matching.jobs import job_status

    job = job_status(session, job_id)
    counts = readmodels.review_counts(session, job_id)
    return {"id": job.id, "status": job.status, "done_rows": job.done_rows, "total_rows": job.total_rows,
            "hits": job.hits, "rows_without_name": job.empty_rows, "error": job.error, "review": counts,
            "hidden_by_earlier_rejections": counts.get("hidden", 0),
            # As `workbench screen --against db` counts them: hits on entries no list still names. Counted once the
            # job has ended (null before): the page polls this while the job runs, and reads it from the page then.
            "hits_on_delisted_entries": None if job.status in ("queued", "running")
            else readmodels.delisted_hits(session, job_id),
            "running_here": runner_alive(request, job_id)}
