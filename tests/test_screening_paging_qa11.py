"""QA round 11 (scale and accessibility), findings 1, 2, 3, 10 and 11, driven as a reviewer drives the pages:

1. a screening job's review queue comes a page at a time (open hits first, best score first, ordered and
   cut in SQL), with the counts of every view (all, open, unsure, confirmed, rejected, hidden) and a pager;
   the hidden matches are listed a few at a time under the queue and page by page in their own view;
2. older screening jobs are reachable page by page, and the home page's count of hits to decide links to
   a list that holds the jobs it counts;
3. after a decision the page opens at the next hit to decide, with the result of the decision just above
   it (where the page opens and focus goes), not at the decided row at the end of a long page;
10. the progress bar is named for what it measures;
11. /dossiers and /api/dossiers are paged (the API as /api/citations is: offset, limit, X-Total-Count and
    a Link to the next page).

Row counts, links and sizes only, no timings. FICTIONAL names throughout.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from test_web_screening import wait_until_finished
from web_helpers import api_entity, csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store.models import ReviewItem, ScreeningJob

pytest.importorskip("workbench.matching.jobs")

HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"
WORDS = ("Uno", "Dos", "Tres", "Cuatro", "Cinco", "Seis", "Siete", "Ocho")
NAMES = [f"FICTIONAL PERSON {w} Ejemplo" for w in WORDS]
PAGE = 50  # hits on a page of the review queue
ROW = re.compile(r'<tr id="item-(\d+)" class="status-(\w+)">')


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    for name in NAMES:
        api_entity(client, "Person", name=name, topics=["role.official"])
    return client


def _screen(client, owners: list[str], file_name: str) -> str:
    rows = "".join(f'FICT-{n:05d},"{n} Sample St, Fictionville, TX 79999",P,{owner},"PO BOX {n}",01/05/2020,{1000 + n}\n'
                   for n, owner in enumerate(owners, start=1))
    response = client.post("/screening", data={
        "csrf_token": client.headers["X-CSRF-Token"], "mapping_name": "county_property_roll_real.yml",
        "mapping_text": "", "threshold": "0.7", "source_type": "registry"},
        files={"file": (file_name, (HEADER + rows).encode(), "text/csv")}, follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    assert wait_until_finished(client, job_id)["status"] == "done"
    return job_id


def _big_job(client) -> str:
    """A roll of 40 owners, each matching two or more of the eight officials: more hits than a page holds."""
    job_id = _screen(client, [NAMES[n % len(NAMES)] for n in range(40)], "roll_big_FICTIONAL.csv")
    assert client.get(f"/api/screening/{job_id}").json()["hits"] > PAGE + 10
    return job_id


def _hits(db_url, job_id: str) -> dict[int, ReviewItem]:
    with store_db.session_scope(db_url) as s:
        items = s.query(ReviewItem).filter(ReviewItem.job_id == job_id).all()
        s.expunge_all()
    return {i.id: i for i in items}


def _rows(page: str) -> list[tuple[int, str]]:
    return [(int(i), status) for i, status in ROW.findall(page)]


def _row_body(page: str, item_id: int) -> str:
    return re.search(rf'<tr id="item-{item_id}" class="status-\w+">(.*?)</tr>', page, re.DOTALL).group(1)


def _decide(client, job_id: str, page: str, item_id: int, verdict: str, **extra):
    version = re.search(r'name="version" value="(\d+)"', _row_body(page, item_id)).group(1)
    show = re.search(r'name="show" value="([^"]*)"', _row_body(page, item_id))
    return client.post(f"/screening/items/{item_id}", data={
        "csrf_token": client.headers["X-CSRF-Token"], "verdict": verdict, "job_id": job_id, "version": version,
        "show": show.group(1) if show else "", **extra}, follow_redirects=False)


def _landing(response) -> tuple[str, dict[str, list[str]], str]:
    """Where a decision's redirect leads: path, query and fragment."""
    assert response.status_code == 303, response.text
    parts = urlsplit(response.headers["location"])
    return parts.path, parse_qs(parts.query), parts.fragment


def _result_above(page: str, item_id: int) -> str:
    """The result of a decision, said just above the row of the hit to go on with (outside the table, whose
    header row would cover it, with nothing but the table's header between); '' if it is not there."""
    found = re.search(r'<div id="result" class="decision-result" tabindex="-1">(.*?)</div>\s*'
                      r'<table class="dense review">\s*<thead>((?!<tr id=).)*</thead>\s*<tbody>\s*'
                      rf'<tr id="item-{item_id}" ', page, re.DOTALL)
    return found.group(1) if found else ""


# ---- 1. the review queue, a page at a time ------------------------------------------------------

def test_a_large_jobs_review_queue_comes_a_page_at_a_time_best_open_hits_first(client, db_url):
    job_id = _big_job(client)
    hits = _hits(db_url, job_id)
    first = client.get(f"/screening/{job_id}")
    rows = _rows(first.text)
    assert len(rows) == PAGE and all(status == "open" for _, status in rows)
    assert f"All hits ({len(hits)})" in first.text and f"Open ({len(hits)})" in first.text
    assert f"Hits 1–{PAGE} of {len(hits)}" in first.text
    assert f'href="/screening/{job_id}?page=2" rel="next"' in first.text
    second = client.get(f"/screening/{job_id}", params={"page": 2}).text
    rest = _rows(second)
    assert (f'<p id="queue-range">Hits {PAGE + 1}–{len(hits)} of {len(hits)}: open ones first, best score first, '
            f'then the decided ones. {PAGE} a page.</p>') in second
    assert len(rest) == len(hits) - PAGE and f'href="/screening/{job_id}?page=1" rel="prev"' in second
    assert {i for i, _ in rows} | {i for i, _ in rest} == set(hits) and not {i for i, _ in rows} & {i for i, _ in rest}
    order = [hits[i] for i, _ in rows + rest]  # best score first, then by row
    assert [(-h.score, h.row_number, h.id) for h in order] == sorted((-h.score, h.row_number, h.id) for h in order)
    # a page past the end is the last page, not an empty one
    assert _rows(client.get(f"/screening/{job_id}", params={"page": 999}).text) == rest

    # Decided hits leave the open ones first: a rejected and an unsure hit are counted, and listed on their own.
    top = [i for i, _ in rows]
    assert _decide(client, job_id, first.text, top[0], "unsure").status_code == 303
    page = client.get(f"/screening/{job_id}").text
    rejected = _rows(page)[0][0]
    assert _decide(client, job_id, page, rejected, "rejected").status_code == 303
    page = client.get(f"/screening/{job_id}").text
    assert all(status == "open" for _, status in _rows(page)) and len(_rows(page)) == PAGE
    also = sum(1 for h in _hits(db_url, job_id).values() if h.status == "rejected")  # the same pair's other rows
    assert "Unsure (1)" in page and f"Rejected ({also})" in page and f"Open ({len(hits) - 1 - also})" in page
    unsure = client.get(f"/screening/{job_id}", params={"show": "unsure"}).text
    assert _rows(unsure) == [(top[0], "unsure")] and 'value="confirmed"' in _row_body(unsure, top[0])
    assert '<p id="queue-range">Hit 1 of 1 unsure, best score first.</p>' in unsure
    assert '<p id="queue-range">None confirmed.</p>' in client.get(f"/screening/{job_id}", params={"show": "confirmed"}).text
    listed = client.get(f"/screening/{job_id}", params={"show": "rejected"}).text
    assert (rejected, "rejected") in _rows(listed) and len(_rows(listed)) == also
    assert "Undo rejection" in _row_body(listed, rejected)
    status = client.get(f"/api/screening/{job_id}").json()  # the JSON status the page polls still answers
    assert status["review"] == {"open": len(hits) - 1 - also, "unsure": 1, "rejected": also}


def test_a_link_to_a_hit_opens_the_page_of_the_queue_that_holds_it(client, db_url):
    job_id = _big_job(client)
    later = _rows(client.get(f"/screening/{job_id}", params={"page": 2}).text)[-1][0]
    page = client.get(f"/screening/{job_id}", params={"item": later}).text
    assert len(_rows(page)) < PAGE and (later, "open") in _rows(page) and "Page 2 of 2" in page


# ---- 3. after a decision: the next hit, with the result beside it -------------------------------

def test_after_a_decision_the_page_opens_at_the_next_open_hit_with_the_result_just_above_it(client, db_url):
    job_id = _big_job(client)
    page = client.get(f"/screening/{job_id}").text
    open_rows = [i for i, _ in _rows(page)]
    fifth, sixth = open_rows[4], open_rows[5]
    response = _decide(client, job_id, page, fifth, "confirmed")
    path, query, fragment = _landing(response)
    assert (path, query["item"], query["after"], fragment) == (f"/screening/{job_id}", [str(sixth)], [str(fifth)],
                                                                "result")
    landed = client.get(response.headers["location"]).text
    result = _result_above(landed, sixth)
    assert "Confirmed: row" in result and 'role="status"' in result, landed[:3000]
    assert landed.count("Confirmed: row") == 1  # said once, beside the next hit, not also at the top
    assert "Next to decide, just below: row" in result
    # where the decided hit is listed now: one link away (to see what Confirm created)
    decided = re.search(r'href="([^"]*item=' + str(fifth) + r'#item-' + str(fifth) + r')"', result).group(1)
    shown = client.get(decided.replace("&amp;", "&")).text
    assert (fifth, "confirmed") in _rows(shown) and "Rows screened" in shown

    # A refused decision (the hit was decided meanwhile) says so above the hit itself, as an alert.
    refused = _decide(client, job_id, page, fifth, "rejected")
    path, query, fragment = _landing(refused)
    assert query["item"] == [str(fifth)] and fragment == "result"
    again = client.get(refused.headers["location"]).text
    said = _result_above(again, fifth)
    assert "Not recorded" in said and 'role="alert"' in said


def test_the_unsure_view_goes_on_to_the_next_unsure_hit(client, db_url):
    job_id = _big_job(client)
    page = client.get(f"/screening/{job_id}").text
    first, second = [i for i, _ in _rows(page)][:2]
    for item in (first, second):
        _decide(client, job_id, client.get(f"/screening/{job_id}").text, item, "unsure")
    unsure = client.get(f"/screening/{job_id}", params={"show": "unsure"}).text
    ordered = [i for i, _ in _rows(unsure)]
    assert sorted(ordered) == sorted([first, second])
    response = _decide(client, job_id, unsure, ordered[0], "confirmed")
    _, query, fragment = _landing(response)
    assert query["show"] == ["unsure"] and query["item"] == [str(ordered[1])] and fragment == "result"
    landed = client.get(response.headers["location"]).text
    assert "Confirmed: row" in _result_above(landed, ordered[1])
    # the last one decided: no hit left in the view, the result above the (empty) queue
    response = _decide(client, job_id, landed, ordered[1], "rejected")
    _, query, _ = _landing(response)
    assert "item" not in query
    landed = client.get(response.headers["location"]).text
    assert "No hit is left to decide among the unsure hits" in landed and landed.count("Rejected: ") == 1


# ---- 1. hidden matches: a few under the queue, all in their own view; raise again ---------------

def test_hidden_matches_are_listed_a_few_under_the_queue_and_all_in_their_own_view(client, db_url):
    owners = [NAMES[0]] * 30
    first = _screen(client, owners, "roll_january_FICTIONAL.csv")
    page = client.get(f"/screening/{first}").text
    target = next(i for i, _ in _rows(page))
    _decide(client, first, page, target, "rejected")  # rejects the same pair's other 29 rows with it
    second = _screen(client, owners, "roll_march_FICTIONAL.csv")
    page = client.get(f"/screening/{second}").text
    assert '<span id="job-hidden-count">30</span>' in page and 'href="#hidden"' in page
    hidden = re.search(r'<h2 id="hidden">.*?</table>', page, re.DOTALL).group(0)
    assert len(re.findall(r'class="status-hidden"', hidden)) == 20
    assert f'href="/screening/{second}?show=hidden"' in hidden
    every = client.get(f"/screening/{second}", params={"show": "hidden"}).text
    rows = _rows(every)
    assert len(rows) == 30 and {s for _, s in rows} == {"hidden"} and '<table class="dense review">' not in every
    # the earlier rejection is linked to the page of the first job that holds it
    earlier = re.search(rf'href="/screening/{first}\?item=(\d+)#item-(\d+)"', every)
    assert earlier and earlier.group(1) == earlier.group(2)
    assert (int(earlier.group(1)), "rejected") in _rows(client.get(f"/screening/{first}?item={earlier.group(1)}").text)

    # Raise it again, from the hidden view: back at the hit, open now, with the result above it.
    raised = rows[0][0]
    version = re.search(r'name="version" value="(\d+)"', _row_body(every, raised)).group(1)
    response = client.post(f"/screening/items/{raised}/undo", data={
        "csrf_token": client.headers["X-CSRF-Token"], "job_id": second, "version": version, "show": "hidden"},
        follow_redirects=False)
    _, query, fragment = _landing(response)
    assert query["item"] == [str(raised)] and fragment == "result"
    landed = client.get(response.headers["location"]).text
    assert "Rejection undone" in _result_above(landed, raised)
    assert (raised, "open") in _rows(landed)


# ---- 10. the progress bar -----------------------------------------------------------------------

def test_the_progress_bar_is_named_for_what_it_measures(client, db_url):
    job_id = _screen(client, NAMES[:2], "roll_small_FICTIONAL.csv")
    page = client.get(f"/screening/{job_id}").text
    bar = re.search(r"<progress [^>]*>", page).group(0)
    assert 'aria-label="Rows screened"' in bar


# ---- 2. older jobs -------------------------------------------------------------------------------

def _jobs(listing: str) -> list[str]:
    """The jobs a list of jobs links to, in its order."""
    return re.findall(r'<tr><td><a href="/screening/(\w+)">', listing)


def test_older_jobs_are_reachable_page_by_page_and_from_the_home_pages_count_of_hits(client, db_url):
    old = _screen(client, NAMES[:2], "roll_old_FICTIONAL.csv")
    now = datetime.now(UTC)
    with store_db.session_scope(db_url) as s:
        for n in range(55):  # newer jobs, every hit decided long ago (none left to decide)
            s.add(ScreeningJob(file_name=f"roll_newer_{n}_FICTIONAL.csv", mapping="", status="done", total_rows=1,
                               done_rows=1, created_by="rita", created_at=now + timedelta(minutes=n + 1)))
    listing = client.get("/screening").text
    assert f'href="/screening/{old}"' not in listing and len(_jobs(listing)) == 50
    # the next page opens at the list of jobs, not at the upload form above it
    assert 'href="/screening?page=2#jobs" rel="next"' in listing and "Jobs 1–50 of 56" in listing
    older = client.get("/screening", params={"page": 2}).text
    assert _jobs(older)[-1] == old and len(_jobs(older)) == 6  # the oldest last

    home = client.get("/").text
    href, count = re.search(r'<a href="([^"]+)">Screening hits to decide \(open or unsure\)</a></td>'
                            r'<td class="num">(\d+)</td>', home).groups()
    waiting = client.get(href.replace("&amp;", "&")).text
    assert int(count) > 0 and f'<a href="/screening/{old}">' in waiting
    assert _jobs(waiting) == [old]  # only the job with hits to decide


# ---- 11. dossier lists ---------------------------------------------------------------------------

def test_the_dossier_list_and_api_come_a_page_at_a_time(client, db_url):
    from workbench.dossiers.service import create_dossier
    from workbench.store.entities import create_entity
    from workbench.store.permissions import Actor

    rita = Actor("rita", "researcher")
    with store_db.session_scope(db_url) as s:
        target = create_entity(s, rita, "Person", {"name": "FICTIONAL PERSON Objetivo Ejemplo"}).obj.id
        for n in range(105):
            create_dossier(s, rita, target, "kingpin-b2", title=f"FICTIONAL dossier {n:03d}")
    page = client.get("/dossiers").text
    assert len(re.findall(r'<tr>\s*<td><a href="/dossiers/', page)) == 100
    assert "Dossiers 1–100 of 105" in page and 'href="/dossiers?page=2" rel="next"' in page
    rest = client.get("/dossiers", params={"page": 2}).text
    assert len(re.findall(r'<tr>\s*<td><a href="/dossiers/', rest)) == 5
    ticked = client.get("/dossiers", params={"state": "draft", "author": "rita"}).text  # the filters stay in the pager
    assert 'href="/dossiers?state=draft&amp;author=rita&amp;page=2"' in ticked

    listed = client.get("/api/dossiers", params={"limit": 40})
    assert listed.status_code == 200 and len(listed.json()) == 40 and listed.headers["X-Total-Count"] == "105"
    following = re.search(r'<([^>]+)>; rel="next"', listed.headers["Link"]).group(1)
    assert parse_qs(urlsplit(following).query)["offset"] == ["40"]
    last = client.get("/api/dossiers", params={"limit": 40, "offset": 80})
    assert len(last.json()) == 25 and "Link" not in last.headers
    everyone = client.get("/api/dossiers").json()
    assert len(everyone) == 100  # bounded by default
    assert client.get("/api/dossiers", params={"limit": 0}).status_code == 422
    seen = [d["id"] for d in everyone] + [d["id"] for d in client.get("/api/dossiers", params={"offset": 100}).json()]
    assert len(set(seen)) == 105
    # The page's JSON form is paged as the page is, and says where its next page is (it said only how many).
    as_json = client.get("/dossiers", params={"state": "draft"}, headers={"Accept": "application/json"})
    assert len(as_json.json()) == 100 and as_json.headers["X-Total-Count"] == "105"
    assert as_json.headers["Link"] == '</dossiers?state=draft&page=2>; rel="next"'
    assert len(client.get(as_json.headers["Link"][1:].split(">")[0], headers={"Accept": "application/json"}).json()) == 5
