"""QA round 10 on sources: a second upload of one file, and deleting a source nothing rests on.

- A file uploaded again by someone else made a source reading 'Captured 21:49:52 by res2': the first
  upload's time with the second uploader's name.
- The warning said 'cite one of them, or remove this copy', and no page could remove a source.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from sqlalchemy import select, update
from test_web_sources import PDF, upload
from web_helpers import csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.models import AuditEntry, Source, StoredFile
from workbench.store.permissions import SYSTEM


def _created(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def test_a_second_upload_says_when_and_by_whom_this_copy_was_captured(db_url):
    first = _created(upload(signed_in_client(db_url, "rita", "researcher"), "registry.pdf", PDF, "application/pdf",
                            title="Registro público, folio 88"))
    with store_db.session_scope(db_url) as s:  # the first capture, long ago
        s.execute(update(StoredFile).values(captured_at=datetime(2020, 3, 1, 9, 30, tzinfo=UTC)))
        s.execute(update(Source).where(Source.id == first).values(retrieved_at=datetime(2020, 3, 1, 9, 30, tzinfo=UTC)))
    store_db.dispose_all()
    second_client = signed_in_client(db_url, "raul", "researcher")
    before = datetime.now(UTC).replace(microsecond=0)
    second = _created(upload(second_client, "registry.pdf", PDF, "application/pdf", title="Folio 88 (copia)"))
    page = second_client.get(f"/sources/{second}").text
    captured = re.search(r'<th scope="row">Captured \(UTC\)</th><td>([^<]*)</td>', page).group(1)
    assert captured.endswith("by raul") and not captured.startswith("2020")
    assert datetime.strptime(captured[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) >= before


def test_an_uncited_copy_can_be_deleted_and_a_cited_source_cannot(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    kept = _created(upload(client, "registry.pdf", PDF, "application/pdf", title="Registro público, folio 88"))
    copy = upload(client, "registry.pdf", PDF, "application/pdf", title="Folio 88 (copia)")
    follow = client.get(copy.headers["location"]).text
    assert "or delete this copy (Delete source, on its page, while nothing cites it)" in follow
    copy_id = copy.headers["location"].rsplit("/", 1)[-1]
    with store_db.session_scope(db_url) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez"}, entity_id="rosa")
        svc.cite(s, SYSTEM, kept, entity_id="rosa", page="2")
    store_db.dispose_all()

    assert "Delete source" not in client.get(f"/sources/{kept}").text  # cited: nothing to offer
    refused = client.post(f"/sources/{kept}/delete", data={"csrf_token": csrf_of(client, f"/sources/{kept}"),
                                                           "version": "1"})
    assert refused.status_code == 200
    assert "Not deleted: 'Registro público, folio 88' is cited 1 time(s)" in html.unescape(refused.text)

    page = client.get(f"/sources/{copy_id}").text
    version = re.search(r'action="/sources/[^"]+/delete".*?name="version" value="(\d+)"', page, re.DOTALL).group(1)
    deleted = client.post(f"/sources/{copy_id}/delete", data={"csrf_token": csrf_of(client, f"/sources/{copy_id}"),
                                                              "version": version})
    assert deleted.status_code == 200 and "Deleted the source 'Folio 88 (copia)'" in html.unescape(deleted.text)
    assert client.get(f"/sources/{copy_id}").status_code == 404
    assert client.get(f"/sources/{kept}/file").content == PDF  # the bytes stay for the source kept
    with store_db.session_scope(db_url) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "source.delete")).one()
        assert entry.actor == "rita" and entry.before["title"] == "Folio 88 (copia)"


def test_a_screening_jobs_roll_cannot_be_deleted(db_url):
    """Review of round 10: the roll's source has no citation until a hit is confirmed, so it could be
    deleted, and every Confirm of the job failed after (a server error)."""
    from workbench.store.models import ScreeningJob

    client = signed_in_client(db_url, "rita", "researcher")
    roll = _created(upload(client, "roll.pdf", PDF, "application/pdf", title="Example County roll (FICTIONAL)"))
    with store_db.session_scope(db_url) as s:
        s.add(ScreeningJob(source_id=roll, file_name="roll.csv", mapping="", created_by="rita", status="done"))
    store_db.dispose_all()
    assert "Delete source" not in client.get(f"/sources/{roll}").text
    refused = client.post(f"/sources/{roll}/delete", data={"csrf_token": csrf_of(client, f"/sources/{roll}"),
                                                           "version": "1"})
    assert "is the roll of 1 screening job(s): it cannot be deleted" in html.unescape(refused.text)
    with store_db.session_scope(db_url) as s:
        assert s.get(Source, roll) is not None
