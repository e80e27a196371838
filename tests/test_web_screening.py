"""Property cataloguing through the web: upload, screen in the background, review, confirm, reject."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from pathlib import Path

import pytest
from web_helpers import csrf_of, signed_in_client

pytest.importorskip("workbench.matching.jobs")
pytest.importorskip("workbench.matching.review")

MAPPINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
ROLL = MAPPINGS / "county_property_roll_FICTIONAL.csv"
OFFICIAL = "FICTIONAL PERSON Uno Ejemplo"


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def start(client, data: bytes = None, name: str = ROLL.name, mapping_text: str = "") -> object:
    token = client.headers["X-CSRF-Token"]
    return client.post("/screening", data={"csrf_token": token, "mapping_name": "county_property_roll.yml",
                                           "mapping_text": mapping_text, "threshold": "0.7",
                                           "source_type": "registry"},
                       files={"file": (name, data if data is not None else ROLL.read_bytes(), "text/csv")},
                       follow_redirects=False)


def wait_until_finished(client, job_id: str, timeout: float = 60) -> dict:
    """Poll the status endpoint the page polls, until the job leaves queued/running."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/api/screening/{job_id}").json()
        if status["status"] not in ("queued", "running"):
            return status
        assert time.monotonic() < deadline, f"job still {status['status']} after {timeout} s"
        time.sleep(0.05)


def test_confirmed_hit_creates_property_with_citation_and_rejection_is_remembered(client):
    official = client.post("/api/entities", json={"kind": "Person", "properties": {
        "name": OFFICIAL, "topics": ["role.official"]}}).json()["id"]
    response = start(client)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    status = wait_until_finished(client, job_id)
    assert status["status"] == "done" and status["done_rows"] == status["total_rows"] > 0
    page = client.get(f"/screening/{job_id}").text
    assert "county_property_roll_FICTIONAL.csv" in page
    items = re.findall(r'<tr id="item-(\d+)" class="status-open">(.*?)</tr>', page, re.DOTALL)
    mine = [(item_id, body) for item_id, body in items if f"/entities/{official}" in body]
    assert mine, "the official was not raised"
    item_id, body = mine[0]
    assert "FICT-001-0001" in body  # the row's data beside the entity, with the explanation
    version = re.search(r'name="version" value="(\d+)"', body).group(1)
    confirmed = client.post(f"/screening/items/{item_id}", data={
        "csrf_token": client.headers["X-CSRF-Token"], "verdict": "confirmed", "job_id": job_id,
        "version": version}, follow_redirects=True)
    assert "Confirmed" in confirmed.text
    official_page = client.get(f"/entities/{official}").text
    links = re.search(r"<h2 id=\"h-links\">Links</h2>(.*?)</section>", official_page, re.DOTALL).group(1)
    assert "Parcel FICT-001-0001" in links and "row 1" in links

    # a rejected pair is not raised again when the same file is screened again
    others = [i for i, b in items if i != item_id]
    assert others, "the near-miss row (FICTIONAL PERSON Uno Ejemplar) was not raised"
    rejected_id = others[0]
    rejected_body = dict(items)[rejected_id]
    rejected_entity = re.search(r'href="/entities/([^"]+)"', rejected_body).group(1)
    rejected_row = re.search(r'<td class="num">(\d+)</td>', rejected_body).group(1)
    version = re.search(r'name="version" value="(\d+)"', rejected_body).group(1)
    client.post(f"/screening/items/{rejected_id}", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                         "verdict": "rejected", "job_id": job_id,
                                                         "version": version})
    again = start(client)
    second = again.headers["location"].rsplit("/", 1)[-1]
    wait_until_finished(client, second)
    second_page = client.get(f"/screening/{second}").text
    for _, body in re.findall(r'<tr id="item-(\d+)" class="status-open">(.*?)</tr>', second_page, re.DOTALL):
        same_row = re.search(r'<td class="num">(\d+)</td>', body).group(1) == rejected_row
        assert not (same_row and f"/entities/{rejected_entity}" in body), "a rejected pair was raised again"


def test_bad_mapping_and_bad_file_are_explained_next_to_the_fields(client):
    response = start(client, mapping_text="entities: [oops")
    assert response.status_code == 422
    assert re.search(r'id="scr-mapping-text-errors"><li>', response.text)
    binary = start(client, data=b"\x00\x01\x02 not a table", name="roll.csv")
    assert binary.status_code == 422
    assert re.search(r'id="scr-file-errors"><li>roll.csv', binary.text)
    ragged = start(client, data=b"APN,SITUS_ADDRESS\nX-1\n", name="ragged.csv")
    assert ragged.status_code == 422
    assert re.search(r'id="scr-file-errors"><li>ragged.csv: missing column', ragged.text)
    assert "No screening jobs yet" in client.get("/screening").text


def test_mapping_choices_come_from_fixtures(client):
    page = client.get("/screening").text
    for path in MAPPINGS.glob("*.yml"):
        assert f'<option value="{path.name}"' in page


def test_rows_without_an_owner_are_reported_as_skipped(client):
    rows = list(csv.DictReader(io.StringIO(ROLL.read_text(encoding="utf-8"))))
    blank = {**rows[0], "OWNER_NAME": ""}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows([rows[0], blank, blank])
    response = start(client, data=out.getvalue().encode("utf-8"), name="blank_owner_FICTIONAL.csv")
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    status = wait_until_finished(client, job_id)
    assert (status["status"], status["done_rows"], status["rows_without_name"]) == ("done", 3, 2)
    page = client.get(f"/screening/{job_id}").text
    assert re.search(r'<span id="job-empty">\s*<span id="job-empty-rows">2</span> rows had no name to screen and were '
                     r'skipped', page)
    listing = client.get("/screening").text
    assert re.search(r'blank_owner_FICTIONAL\.csv</a>.*?<td class="num">2</td></tr>', listing)


def test_a_roll_saved_in_windows_1252_is_refused_saying_so(client):
    text = ROLL.read_text(encoding="utf-8").splitlines()[0] + "\n" + \
        'FICT-1,"1 A St",P,"VILLASEÑOR IBARRA, JOSÉ MARÍA","x",01/01/2020,1\n'
    response = start(client, data=text.encode("cp1252"), name="roll_FICTIONAL.csv")
    assert response.status_code == 422
    assert "roll_FICTIONAL.csv is not UTF-8 text: line 2 has the byte 0xd1" in response.text
    assert "save it as CSV UTF-8" in response.text


def test_the_same_file_uploaded_again_is_the_same_source(client, db_url):
    from sqlalchemy import func, select

    from workbench.store import db as store_db
    from workbench.store.models import Source

    first = start(client)
    again = start(client)
    assert first.status_code == again.status_code == 303
    for response in (first, again):
        wait_until_finished(client, response.headers["location"].rsplit("/", 1)[-1])
    with store_db.session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Source).where(Source.file_name == ROLL.name)) == 1
    # The same bytes under another name: one source still, but the job names this upload.
    token = client.headers["X-CSRF-Token"]
    renamed = client.post("/screening", data={"csrf_token": token, "mapping_name": "county_property_roll.yml",
                                              "threshold": "0.7", "source_type": "registry",
                                              "title": "County roll 2025 update"},
                          files={"file": ("roll_2025_update.csv", ROLL.read_bytes(), "text/csv")})
    assert "roll_2025_update.csv" in renamed.text  # the job page names this upload
    assert "the title typed now was not used" in renamed.text
    # Its run ends here, not in the next test's fresh database.
    assert wait_until_finished(client, str(renamed.url).rstrip("/").rsplit("/", 1)[-1])["status"] == "done"


def test_an_upload_with_several_bad_rows_lists_them_together(client):
    rows = list(csv.DictReader(io.StringIO(ROLL.read_text(encoding="utf-8"))))
    for row in rows[:3]:
        row["DEED_DATE"] = "2019-31-31"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    response = start(client, data=out.getvalue().encode("utf-8"), name="three_bad_FICTIONAL.csv")
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "three_bad_FICTIONAL.csv, line 2 (data row 1): " in text
    assert "also line 3 (data row 2): " in text and "line 4 (data row 3): " in text


def test_a_rejected_hit_can_be_taken_back_on_its_page(client):
    client.post("/api/entities", json={"kind": "Person", "properties": {"name": OFFICIAL}})
    job_id = start(client).headers["location"].rsplit("/", 1)[-1]
    wait_until_finished(client, job_id)
    page = client.get(f"/screening/{job_id}").text
    item_id, body = re.findall(r'<tr id="item-(\d+)" class="status-open">(.*?)</tr>', page, re.DOTALL)[0]
    version = re.search(r'name="version" value="(\d+)"', body).group(1)
    token = client.headers["X-CSRF-Token"]
    rejected = client.post(f"/screening/items/{item_id}", data={"csrf_token": token, "verdict": "rejected",
                                                                "job_id": job_id, "version": version})
    assert "nor any name that reads the same" in rejected.text
    row = re.search(rf'<tr id="item-{item_id}" class="status-rejected">(.*?)</tr>', rejected.text, re.DOTALL).group(1)
    assert f'action="/screening/items/{item_id}/undo"' in row
    version = re.search(r'name="version" value="(\d+)"', row).group(1)
    undone = client.post(f"/screening/items/{item_id}/undo", data={"csrf_token": token, "job_id": job_id,
                                                                   "version": version})
    assert "Rejection undone" in undone.text
    assert f'<tr id="item-{item_id}" class="status-open">' in undone.text
    again = client.post(f"/screening/items/{item_id}/undo", data={"csrf_token": token, "job_id": job_id})
    assert "Not undone: this hit is open, not rejected" in again.text


def test_the_jobs_list_tells_uploads_of_one_file_name_apart_and_counts_open_hits(client):
    """QA round 10: three uploads of 'roll.csv' read the same in the list, and nothing said which still
    had hits to decide."""
    client.post("/api/entities", json={"kind": "Person", "properties": {"name": OFFICIAL, "topics": ["role.official"]}})
    token = client.headers["X-CSRF-Token"]
    jobs = []
    for title, data in (("Example County roll, March", ROLL.read_bytes()),
                        ("Example County roll, April", ROLL.read_bytes() + b"\n")):
        response = client.post("/screening", data={"csrf_token": token, "mapping_name": "county_property_roll.yml",
                                                   "threshold": "0.7", "source_type": "registry", "title": title},
                               files={"file": ("roll.csv", data, "text/csv")}, follow_redirects=False)
        assert response.status_code == 303, response.text
        jobs.append(response.headers["location"].rsplit("/", 1)[-1])
        wait_until_finished(client, jobs[-1])
    listed = client.get("/screening").text
    for job_id, title in zip(jobs, ("Example County roll, March", "Example County roll, April")):
        row = re.search(rf'<tr><td><a href="/screening/{job_id}">([^<]+)</a> <span class="muted">\(roll\.csv\)</span>'
                        r'(.*?)</tr>', listed, re.DOTALL)
        assert row and row.group(1) == title
        cells = re.findall(r'<td class="num">(?:<a [^>]*>)?(\d+)', row.group(2))
        open_on_page = client.get(f"/screening/{job_id}").text.count('class="status-open"')
        assert open_on_page > 0 and int(cells[2]) == open_on_page  # rows, hits, open, hidden, skipped


def test_a_job_left_running_by_a_stopped_server_says_so_and_resumes_without_doubling_hits(client, db_url):
    """QA round 12: after a restart, a job killed mid-run still said 'running' with no error; only the Resume
    button hinted that nothing ran it."""
    from sqlalchemy import delete, func, select, update

    from workbench.store import db as store_db
    from workbench.store.models import ReviewItem, ScreeningJob

    job_id = start(client).headers["location"].rsplit("/", 1)[-1]
    done = wait_until_finished(client, job_id)
    with store_db.session_scope(db_url) as s:  # as a server killed after the first row leaves it
        s.execute(delete(ReviewItem).where(ReviewItem.job_id == job_id, ReviewItem.row_number > 1))
        first_row_hits = s.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.job_id == job_id))
        s.execute(update(ScreeningJob).where(ScreeningJob.id == job_id).values(
            status="running", done_rows=1, hits=first_row_hits, finished_at=None))
    page = client.get(f"/screening/{job_id}").text
    stopped = re.search(r'<p id="job-stopped" class="flash warning">(.*?)</p>', page)
    assert stopped and "Not running on this server: it was stopped after 1 row" in stopped.group(1)
    assert 'action="/screening/' + job_id + '/resume"' in page
    resumed = client.post(f"/screening/{job_id}/resume", data={"csrf_token": client.headers["X-CSRF-Token"]},
                          follow_redirects=False)
    assert resumed.status_code == 303
    again = wait_until_finished(client, job_id)
    assert (again["status"], again["hits"]) == ("done", done["hits"])
    with store_db.session_scope(db_url) as s:
        rows = s.execute(select(ReviewItem.row_number, ReviewItem.entity_id).where(ReviewItem.job_id == job_id)).all()
    assert len(rows) == len(set(rows)) == done["hits"]
    assert "job-stopped" not in client.get(f"/screening/{job_id}").text
