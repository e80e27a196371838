"""Sources by URL and by upload: content sniffing, size limit, storage by SHA-256 outside the web root."""

from __future__ import annotations

import hashlib
import re

import pytest
from web_helpers import csrf_of, signed_in_client

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def client(db_url):
    return signed_in_client(db_url, "rita", "researcher")


def upload(client, name, data, content_type, **fields):
    token = csrf_of(client, "/sources/new")
    form = {"csrf_token": token, "source_type": "registry", "reliability": "B", **fields}
    return client.post("/sources/new", data=form, files={"file": (name, data, content_type)},
                       follow_redirects=False)


def test_pdf_upload_is_stored_by_sha256_with_capture_time(client, tmp_path):
    from workbench.settings import get_settings

    response = upload(client, "deed.pdf", PDF, "application/pdf", title="Grant deed 2019")
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    digest = hashlib.sha256(PDF).hexdigest()
    assert digest in page and "Grant deed 2019" in page and "Captured (UTC)" in page
    stored = get_settings().files_dir / digest[:2] / digest
    assert stored.read_bytes() == PDF
    static_dir = __import__("workbench.web.app", fromlist=["STATIC_DIR"]).STATIC_DIR
    assert static_dir not in stored.resolve().parents
    source_id = response.headers["location"].rsplit("/", 1)[-1]
    download = client.get(f"/sources/{source_id}/file")
    assert download.content == PDF
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["content-type"] == "application/octet-stream"


def test_uploading_a_file_that_is_already_a_source_says_which_one(client):
    """One deed uploaded twice became two sources without a word, and got cited under both."""
    first = upload(client, "deed.pdf", PDF, "application/pdf", title="Grant deed 2019 (FICTIONAL)")
    assert first.status_code == 303
    assert "is also the source" not in client.get(first.headers["location"]).text
    again = upload(client, "deed-copy.pdf", PDF, "application/pdf", title="Deed, again (FICTIONAL)")
    assert again.status_code == 303
    page = client.get(again.headers["location"]).text
    assert "is also the source &#39;Grant deed 2019 (FICTIONAL)&#39;" in page and "delete this copy" in page


def test_file_whose_bytes_do_not_match_an_accepted_type_is_refused(client):
    response = upload(client, "invoice.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf", title="x")
    assert response.status_code == 422
    assert re.search(r'id="src-file-errors"><li>invoice.pdf \(application/pdf\) is not an accepted file', response.text)
    assert "<tbody>\n<tr><td colspan=\"7\">No sources yet." in client.get("/sources").text


def test_html_and_images_are_accepted(client):
    assert upload(client, "page.html", b"<!DOCTYPE html><html><body>x</body></html>", "text/html",
                  title="Press page").status_code == 303
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    assert upload(client, "photo.png", png, "image/png", title="Photo").status_code == 303


def test_upload_over_the_size_limit_is_refused(db_url, monkeypatch):
    from workbench.settings import reset_settings

    monkeypatch.setenv("WORKBENCH_UPLOAD_MAX_BYTES", "1000")
    reset_settings()
    client = signed_in_client(db_url, "rita", "researcher")
    response = upload(client, "big.pdf", PDF + b"0" * 2000, "application/pdf", title="Big")
    assert response.status_code in (413, 422)
    assert "larger than the limit" in response.text


def test_source_needs_url_or_file_and_title(client):
    token = csrf_of(client, "/sources/new")
    response = client.post("/sources/new", data={"csrf_token": token, "title": "", "url": "ftp://x"})
    assert response.status_code == 422
    assert re.search(r'id="src-title-errors"><li>a source needs a title', response.text)
    assert re.search(r'id="src-url-errors"><li>.*is not an http\(s\) URL', response.text)


def test_a_missing_url_or_file_is_said_with_the_other_problems_at_once(client):
    token = csrf_of(client, "/sources/new")
    response = client.post("/sources/new", data={"csrf_token": token, "title": "Gaceta (FICTIONAL)",
                                                  "published_at": "2020-02-30"})
    assert response.status_code == 422
    assert re.search(r'id="src-url-errors"><li>a source needs a URL or an uploaded file', response.text)
    assert 'id="src-published-errors"><li>' in response.text
    assert 'value="Gaceta (FICTIONAL)"' in response.text


def test_a_source_cited_by_thousands_of_facts_pages_its_citations(db_url, client):
    """An imported list is cited by every fact it carries: its page used to render all of them
    (36 MB for the SDN JSON). The page shows 100 at a time with the total; the API can page too."""
    from workbench.store import db as store_db
    from workbench.store.entities import cite, create_entity, create_source
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        source = create_source(s, SYSTEM, title="Roll 2024", url="https://example.org/roll", source_type="registry",
                               reliability="B").id
        for number in range(130):
            entity = create_entity(s, SYSTEM, "Person", {"name": f"Owner {number:03d}"}).obj.id
            cite(s, SYSTEM, source, entity_id=entity, locator=f"row {number}")
    first = client.get(f"/sources/{source}").text
    assert "(130)" in first and "Page 1 of 2" in first and "row 99<" in first and "row 100<" not in first
    assert first.count('href="/entities/') == 100
    second = client.get(f"/sources/{source}", params={"page": 2}).text
    assert second.count('href="/entities/') == 30 and "row 129" in second and 'rel="prev"' in second
    past = client.get(f"/sources/{source}", params={"page": 9999}).text  # an old link: the last page
    assert "Page 2 of 2" in past and past.count('href="/entities/') == 30
    api = client.get("/api/citations", params={"source_id": source, "offset": 120, "limit": 50})
    assert [c["locator"] for c in api.json()] == [f"row {n}" for n in range(120, 130)]
    assert len(client.get("/api/citations", params={"source_id": source}).json()) == 130
