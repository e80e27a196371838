"""Property cataloguing: upload a property roll, registry extract or asset declaration, pick or edit
its mapping, screen it in a background job, and review the hits.

The job runs in a thread of the web process (``matching.jobs.run_job``), committing progress in
batches, so the page shows progress from the database and survives a reload; a job left behind by
a restart can be resumed, continuing after its last committed row.
"""

from __future__ import annotations

import threading
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from workbench.schema import ValidationError, registry
from workbench.settings import get_settings
from workbench.store import entities as store
from workbench.store.permissions import Actor
from workbench.web import readmodels
from workbench.web.deps import RowId, current_actor, flash, get_session, pop_flashes, posted_form, templates
from workbench.web.forms import form_value, other_errors
from workbench.web.uploads import TABLE_TYPES, UploadRejected, check_table_upload, read_upload

router = APIRouter(include_in_schema=False)
VERDICTS = ("confirmed", "rejected", "unsure")
FORM_FIELDS = ("file", "title", "source_type", "mapping_text", "threshold")  # each shows its own errors


def _page(request: Request, session: Session, values: dict, errors: dict | None = None, status: int = 200,
          page: int = 1, waiting: bool = False):
    """The upload form and the jobs, newest first, a page at a time (``waiting``: only the jobs with hits
    to decide, where the home page's count of them leads)."""
    total = readmodels.count_jobs(session, waiting)
    page, last, offset = readmodels.page_of(total, page, readmodels.JOBS_PAGE_SIZE)
    jobs = readmodels.list_jobs(session, offset=offset, waiting=waiting)
    choices = readmodels.screening_mappings()
    return templates.TemplateResponse(request, "screening/index.html", {
        "jobs": readmodels.job_rows(session, jobs), "jobs_total": total, "jobs_page": page, "jobs_last": last,
        "jobs_first": offset + 1, "waiting": waiting,
        "all_jobs": readmodels.count_jobs(session) if waiting else total,
        "waiting_jobs": total if waiting else readmodels.count_jobs(session, waiting=True),
        "mapping_choices": choices, "for_real_files": [c for c in choices if c.sample is None],
        "for_samples": [c for c in choices if c.sample is not None], "values": values,
        "errors": errors or {}, "other_errors": other_errors(errors or {}, FORM_FIELDS),
        "source_types": registry().vocabularies["source_types"],
        "max_mb": get_settings().upload_max_bytes // (1024 * 1024),
    }, status_code=status)


def start_runner(request: Request, job_id: str) -> None:
    """Run the job in a background thread unless one is already running it in this process."""
    from workbench.matching.jobs import run_job

    jobs: dict[str, threading.Thread] = request.app.state.jobs
    current = jobs.get(job_id)
    if current is not None and current.is_alive():
        return
    thread = threading.Thread(target=run_job, args=(job_id,), kwargs={"db_url": get_settings().database_url},
                              name=f"screening-{job_id}", daemon=True)
    jobs[job_id] = thread
    thread.start()


def runner_alive(request: Request, job_id: str) -> bool:
    thread = request.app.state.jobs.get(job_id)
    return thread is not None and thread.is_alive()


@router.get("/screening")
def screening_index(request: Request, mapping: str = "", page: int = 1, waiting: bool = False,
                    actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    # The first offered is a mapping for real files: the sample mappings stamp FICTIONAL values on what they create.
    mappings = {c.file: c.text for c in readmodels.screening_mappings()}
    chosen = mapping if mapping in mappings else next(iter(mappings), "")
    return _page(request, session, {"mapping_name": chosen, "mapping_text": mappings.get(chosen, ""),
                                    "threshold": "0.7", "source_type": "registry"}, page=page, waiting=waiting)


@router.post("/screening")
async def screening_start(request: Request, actor: Actor = Depends(current_actor),
                          session: Session = Depends(get_session)):
    from workbench.matching.jobs import start_job
    from workbench.sources.files import keep_bytes, record_file
    from workbench.sources.tabular import MappingError, TableError, load_mapping

    form = await request.form()
    mappings = {c.file: c.text for c in readmodels.screening_mappings()}
    values = {"mapping_name": form_value(form, "mapping_name"), "mapping_text": form_value(form, "mapping_text"),
              "threshold": form_value(form, "threshold") or "0.7",
              "source_type": form_value(form, "source_type") or "registry", "title": form_value(form, "title")}
    text = values["mapping_text"] or mappings.get(values["mapping_name"], "")
    errors: dict[str, list[str]] = {}
    try:
        threshold = float(values["threshold"])
        if not 0 < threshold <= 1:
            raise ValueError
    except ValueError:
        errors["threshold"] = ["a threshold is a score above 0 and at most 1, e.g. 0.7"]
        threshold = 0.7
    if not text:
        errors["mapping_text"] = ["choose a mapping or write one"]
    else:
        try:
            load_mapping(text, values["mapping_name"] or "mapping")
        except MappingError as exc:
            errors["mapping_text"] = [str(exc)]
    upload = form.get("file")
    checked = None
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = ["choose a CSV or XLSX file"]
    else:
        try:
            checked = await read_upload(upload, get_settings().upload_max_bytes, TABLE_TYPES)
        except UploadRejected as exc:
            errors["file"] = [str(exc)]
    if errors:
        return _page(request, session, values, errors, status=422)
    try:  # a bad file fails here, with its row, rather than later in the background or at Confirm
        # Reading a whole roll takes seconds: off the event loop, so other users' pages go on.
        await run_in_threadpool(check_table_upload, checked, load_mapping(text))
    except TableError as exc:
        return _page(request, session, values, {"file": [exc.named(checked.name)]}, status=422)

    def store_and_start() -> tuple[str, str | None]:
        """The bytes are written last: a refused upload leaves no file behind (see
        uploads.add_uploaded_source). In the thread pool: the writes may wait for an import's lock.
        Returns the job and, when the same bytes were uploaded before, the title of that source."""
        stored = record_file(session, actor, checked.data, checked.name, checked.media_type)
        earlier = store.source_with_file(session, stored.sha256)
        source = earlier or store.create_source(
            session, actor, sha256=stored.sha256, file_name=checked.name, media_type=checked.media_type,
            size=len(checked.data), retrieved_at=stored.captured_at, title=values["title"] or checked.name,
            source_type=values["source_type"], reliability="B")
        keep_bytes(checked.data)  # the job reads them
        job_id = start_job(session, actor, source.id, text, threshold, file_name=checked.name).id
        session.commit()  # the background thread must see the job
        return job_id, earlier.title if earlier else None

    try:
        job_id, earlier_title = await run_in_threadpool(store_and_start)
    except (ValidationError, MappingError) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationError) else {"mapping_text": [str(exc)]}
        if "mapping" in errors:
            errors["mapping_text"] = errors.pop("mapping")
        return _page(request, session, values, errors, status=422)
    if earlier_title is not None and values["title"] and values["title"] != earlier_title:
        flash(request, f"This file was uploaded before: its hits cite that source, {earlier_title!r}; the title "
                       "typed now was not used (edit the source to change it).")
    start_runner(request, job_id)
    return RedirectResponse(f"/screening/{job_id}", status_code=303)


@router.get("/screening/{job_id}")
def screening_job(job_id: str, request: Request, show: str = "", page: int = 1,
                  item: int | None = Query(None, ge=1, le=store.MAX_ROW_ID),
                  after: int | None = Query(None, ge=1, le=store.MAX_ROW_ID),
                  actor: Actor = Depends(current_actor), session: Session = Depends(get_session)):
    """One page of the job's review queue (``show``: a view, every hit or those in one state).
    ``item``: the hit to land on (after a decision, the next one to decide), on whichever page holds it,
    with the result of the decision (``after``: the hit just decided) just above it, where the page opens
    (#result) and focus goes."""
    from workbench.matching.jobs import job_status

    job = job_status(session, job_id)
    view = readmodels.review_view(show)
    found = readmodels.review_item_page(session, job_id, item, view)
    if found is not None:
        view, page = found
    queue = readmodels.review_page(session, job_id, view, page)
    items = queue.items
    target = next((i for i in items if i.id == item), None) if found is not None else None
    # The result of a decision is said above the row the reviewer goes on with (or above the queue when
    # none is left), not at the top of the page: taken here, base.html has none left to show.
    notices = pop_flashes(request) if after is not None or target is not None else []
    decided_at = readmodels.review_item_page(session, job_id, after) if after is not None else None
    created = [e for i in items for e in (i.created_entities or [])]  # entity and link ids
    # A pair confirmed in an earlier job, possibly on an entry merged with this hit's since: named too.
    confirmed_before = readmodels.confirmed_before(session, items)
    entities = readmodels.entities_by_id(session, [i.entity_id for i in items] + created
                                         + [c.item.entity_id for c in confirmed_before.values()])
    # Each hit's sanctions badge (designated, delisted, none): a hit on a delisted entry is no designation.
    badges = readmodels.hit_badges(session, [i.entity_id for i in items]
                                   + [h.item.entity_id for h in queue.hidden])
    # What Confirm will write whatever the row says, shown beside the buttons: the mapping may have
    # been made for the FICTIONAL samples (a demo topic, an invented county).
    fixed = readmodels.mapping_fixed_values(job.mapping, job.file_name)
    # Named only in the warning about a sample's mapping (reading every shipped mapping takes a while).
    real_files = [c.file for c in readmodels.screening_mappings() if c.sample is None] \
        if any(f.demo for f in fixed) else []
    landing = after is not None or bool(notices)
    # Where the result stands: above the queue when the hit to go on with heads it (or none is left),
    # else between the hits above that one and it ('result_at' names it; the template splits the table).
    result_at = None if not landing else "top" if target is None or items[0].id == target.id else target.id
    return templates.TemplateResponse(request, "screening/job.html", {
        "job": job, "queue": queue, "items": items, "views": readmodels.REVIEW_VIEWS, "result_at": result_at,
        "entities": entities, "links": readmodels.links_by_id(session, created),
        "running_here": (running_here := runner_alive(request, job_id)), "hidden": queue.hidden,
        "hidden_total": queue.counts.get("hidden", 0), "confirmed_before": confirmed_before,
        "progress": readmodels.job_progress(job, queue.counts.get("hidden", 0), running_here,
                                            readmodels.delisted_hits(session, job_id)),
        "badges": badges,
        "target": target, "notices": notices,
        "decided": readmodels.review_item(session, after) if decided_at else None, "decided_at": decided_at,
        "fixed": fixed, "demo_values": [f for f in fixed if f.demo], "real_mappings": real_files,
    })


def _queue_url(job_id: str, view: str, item: int | None = None, after: int | None = None) -> str:
    """Back to the queue after a decision: the page holding ``item`` (the hit to go on with), opened at
    the decision's result (#result), which stands just above that hit."""
    query = urlencode([(k, v) for k, v in (("show", readmodels.review_view(view)), ("item", item),
                                           ("after", after)) if v not in (None, "")])
    return f"/screening/{job_id}{'?' + query if query else ''}#result"


@router.post("/screening/{job_id}/resume")
def screening_resume(job_id: str, request: Request, actor: Actor = Depends(current_actor),
                     session: Session = Depends(get_session)):
    from workbench.matching.jobs import job_status

    job = job_status(session, job_id)
    if job.status in ("done",):
        flash(request, "This job has finished: nothing to resume.")
    else:
        start_runner(request, job_id)
        flash(request, "Resumed after the last committed row.")
    return RedirectResponse(f"/screening/{job_id}", status_code=303)



@router.post("/screening/items/{item_id}")
def review_decide(item_id: RowId, request: Request, actor: Actor = Depends(current_actor),
                  session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    from workbench.matching.review import record_decision

    verdict = form_value(form, "verdict")
    job_id = form_value(form, "job_id")
    version = form_value(form, "version")
    view = form_value(form, "show")  # the view of the queue the form was on: back to it
    if verdict not in VERDICTS:
        raise ValidationError({"verdict": [f"choose one of {', '.join(VERDICTS)}"]})
    before = readmodels.review_item(session, item_id)
    was = before.status if before is not None else None  # the next hit to go on with is one in this state
    try:
        decision = record_decision(session, actor, item_id, verdict,
                                   expected_version=int(version) if version.isdigit() else None)
    except store.Conflict as exc:  # decided meanwhile (another user, a second click): say so on the queue
        session.rollback()
        flash(request, f"Not recorded: {exc}.", "error")
        item = readmodels.review_item(session, item_id)
        return RedirectResponse(_queue_url(job_id or item.job_id, view, item=item_id), status_code=303)
    except ValidationError as exc:
        # Confirming creates the row's records; a value the mapping cannot read (a date in another
        # format, say) refuses the whole row. Say which row and why, back on the queue.
        session.rollback()
        item = readmodels.review_item(session, item_id)
        if item is None:
            raise
        problems = "; ".join(f"{key}: {message}" for key, messages in exc.errors.items() for message in messages)
        flash(request, f"Row {item.row_number} ({item.query_name}) was not confirmed and nothing was created: "
                       f"{problems}. Correct the file and screen it again, or mark the hit unsure or rejected.",
              "error")
        return RedirectResponse(_queue_url(job_id or item.job_id, view, item=item_id), status_code=303)
    item = decision.item
    following = readmodels.next_to_review(session, item, was or "open", view)
    back = _queue_url(job_id or item.job_id, view, item=following.id if following else None, after=item_id)
    if decision.already:  # the hit had this verdict already: a form sent again, or someone agreeing
        flash(request, _already_decided(item, actor))
        return RedirectResponse(back, status_code=303)
    created = len(item.created_entities or [])
    if verdict == "confirmed":
        flash(request, f"Confirmed: row {item.row_number} is {item.matched_name or item.query_name}; "
                       f"{readmodels.counted(created, 'new record')} created with a citation to the file.")
        if decision.warnings:
            flash(request, f"Row {item.row_number}: " + "; ".join(decision.warnings) + ".", "warning")
    elif verdict == "rejected":
        flash(request, f"Rejected: {item.query_name} will not be raised against this entity again, nor any name "
                       "that reads the same (its words in another order, a nickname as the name it stands for). "
                       "'Undo rejection' beside the hit, among the rejected ones, takes it back."
                       f"{_also_rejected(decision.also_rejected)}")
    else:
        flash(request, f"Marked unsure: row {item.row_number}.")
    return RedirectResponse(back, status_code=303)


@router.post("/screening/items/{item_id}/undo")
def review_undo(item_id: RowId, request: Request, actor: Actor = Depends(current_actor),
                session: Session = Depends(get_session), form: FormData = Depends(posted_form)):
    from workbench.matching.review import undo_rejection

    version = form_value(form, "version")
    view = form_value(form, "show")
    try:
        item = undo_rejection(session, actor, item_id, expected_version=int(version) if version.isdigit() else None)
    except store.Conflict as exc:
        session.rollback()
        flash(request, f"Not undone: {exc}.", "error")
        item = readmodels.review_item(session, item_id)
        return RedirectResponse(_queue_url(form_value(form, 'job_id') or item.job_id, view, item=item_id),
                                status_code=303)
    flash(request, f"Rejection undone: {item.query_name} is open again, and later screens raise it again.")
    # Back to the hit, open now: on the page of the queue that holds it, with this message above it.
    return RedirectResponse(_queue_url(item.job_id, view, item=item_id) if item.job_id else "/screening",
                            status_code=303)


def _already_decided(item, actor: Actor) -> str:
    """'Row 1 (X) was already confirmed by you (at ...): nothing more was recorded', for a decision sent
    again; who decided it and when, when someone else did."""
    from workbench.matching.review import decided_phrase

    said = (f"Row {item.row_number} ({item.query_name}) was already {decided_phrase(item, actor)}: "
            "nothing more was recorded")
    if item.decided_by == actor.username:  # the queue names the account: say it is this one
        said += f"; it stays as it was, already {decided_phrase(item, actor, you=False, at=False)}"
    return said + "."


def _also_rejected(items: list) -> str:
    """' 2 other open hits of the same name and entity in this queue were rejected with it (rows 14, 15).'
    The flash travels in the cookie: at most ten rows are named."""
    if not items:
        return ""
    many = len(items) != 1
    rows = ", ".join(str(i.row_number) for i in items[:10]) + (", ..." if len(items) > 10 else "")
    return (f" {len(items)} other open hit{'s' if many else ''} of the same name and entity in this queue "
            f"{'were' if many else 'was'} rejected with it (row{'s' if many else ''} {rows}).")
