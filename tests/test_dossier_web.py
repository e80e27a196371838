"""Dossier pages over HTTP: create, exhibits, submit, review queue, approve; four eyes (403), CSRF, conflicts, exports."""

from __future__ import annotations

import re

import pytest
from test_dossier_scenario import LEAK_TITLE, build_scenario, complete_dossier
from web_helpers import csrf_of, signed_in_client

from workbench.dossiers import service, workflow
from workbench.store.permissions import Actor

RESEARCHER = Actor("rosa", "researcher")
REVIEWER = Actor("ruben", "reviewer")


@pytest.fixture
def clients(db_url):
    return signed_in_client(db_url, RESEARCHER.username, "researcher"), \
        signed_in_client(db_url, REVIEWER.username, "reviewer")


def _version(page_html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page_html).group(1)


def _content_hash(page_html: str) -> str:
    """The hash of the content the page shows, which its workflow form sends with a verdict."""
    return re.search(r'name="content_hash" value="([0-9a-f]{64})"', page_html).group(1)


def test_researcher_builds_and_submits_reviewer_approves_over_http(db_url, session, clients):
    researcher, reviewer = clients
    sc = build_scenario(session, RESEARCHER)
    session.commit()

    token = csrf_of(researcher, f"/dossiers/new?target={sc.target}")
    created = researcher.post("/dossiers/new", data={"csrf_token": token, "target_id": sc.target,
                                                     "legal_basis": "kingpin-b2"}, follow_redirects=False)
    assert created.status_code == 303
    url = created.headers["location"]
    page = researcher.get(url)
    assert page.status_code == 200
    assert "No exhibit supports the element Link to an SFNT or designee" in page.text
    assert "Candidate package - not an official designation" in page.text

    exhibits = [("foreign_person", "fact", f"source:{sc.official}"), ("sfnt_link", "fact", f"source:{sc.official}"),
                ("material_support", "allegation", f"citation:{sc.associate_citation}")]
    for element, kind, evidence in exhibits:
        page = researcher.get(url)
        response = researcher.post(f"{url}/exhibits", data={
            "csrf_token": token, "version": _version(page.text), "evidence": evidence, "element": element,
            "statement_type": kind, "statement": f"<b>{element}</b> shown"}, follow_redirects=False)
        assert response.status_code == 303, response.text
    page = researcher.get(url)
    assert "badge ok\">complete" in page.text
    assert "&lt;b&gt;material_support&lt;/b&gt; shown" in page.text  # user text is escaped

    response = researcher.post(f"{url}/move", data={"csrf_token": token, "version": _version(page.text),
                                                     "action": "submit", "comment": "ready"}, follow_redirects=False)
    assert response.status_code == 303
    queue = reviewer.get("/dossiers/review")
    assert queue.status_code == 200 and url.rsplit("/", 1)[1] in queue.text
    assert researcher.get("/dossiers/review").status_code == 403  # the queue is for reviewers

    page = reviewer.get(url)
    assert 'value="approve"' in page.text
    token_r = csrf_of(reviewer, url)
    response = reviewer.post(f"{url}/move", data={"csrf_token": token_r, "version": _version(page.text),
                                                   "content_hash": _content_hash(page.text),
                                                   "action": "approve", "comment": "ok"}, follow_redirects=False)
    assert response.status_code == 303
    page = reviewer.get(url)
    assert 'id="dossier-state">approved' in page.text
    session.expire_all()
    dossier = service.get_dossier(session, url.rsplit("/", 1)[1])
    assert dossier.state == "approved" and dossier.snapshot_hash in page.text
    assert [(e.event, e.user) for e in dossier.events][-2:] == [("submitted", "rosa"), ("approved", "ruben")]


def test_self_approval_over_http_is_403_with_a_clear_message(db_url, session, clients):
    researcher, reviewer = clients
    sc = build_scenario(session, RESEARCHER)
    own = complete_dossier(session, REVIEWER, sc)  # authored by the reviewer
    workflow.submit(session, REVIEWER, own)
    theirs = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, theirs)
    session.commit()

    token = csrf_of(reviewer, f"/dossiers/{own}")
    assert 'value="approve"' not in reviewer.get(f"/dossiers/{own}").text  # no button for it
    refused = reviewer.post(f"/dossiers/{own}/move", data={"csrf_token": token, "action": "approve"})
    assert refused.status_code == 403
    assert "four eyes: ruben authored or edited" in refused.text
    api = reviewer.post(f"/dossiers/{own}/move", data={"csrf_token": token, "action": "approve"},
                        headers={"accept": "application/json"})
    assert api.status_code == 403 and "four eyes" in api.json()["detail"]

    token_r = csrf_of(researcher, f"/dossiers/{theirs}")
    not_reviewer = researcher.post(f"/dossiers/{theirs}/move", data={"csrf_token": token_r, "action": "approve"})
    assert not_reviewer.status_code == 403 and "needs &#39;review&#39; permission" in not_reviewer.text
    session.expire_all()
    assert service.get_dossier(session, own).state == "submitted"
    assert service.get_dossier(session, theirs).state == "submitted"


def test_home_counts_only_the_dossiers_this_reviewer_may_review(db_url, session, clients):
    """Four eyes: a dossier the reviewer wrote is submitted but not waiting for them; the home page
    used to count it, and the queue it links to then showed it blocked."""
    researcher, reviewer = clients
    sc = build_scenario(session, RESEARCHER)
    workflow.submit(session, REVIEWER, complete_dossier(session, REVIEWER, sc))
    workflow.submit(session, RESEARCHER, complete_dossier(session, RESEARCHER, sc))
    session.commit()
    line = re.search(r'<a href="/dossiers/review">Dossiers you may review</a></td><td class="num">(\d+)<',
                     reviewer.get("/").text)
    assert line and line.group(1) == "1"
    line = re.search(r'>Dossiers submitted for review</a></td><td class="num">(\d+)<', researcher.get("/").text)
    assert line and line.group(1) == "2"


def test_a_refused_dossier_form_shows_the_dossier_again_with_the_reason_and_the_typed_text(db_url, session, clients):
    """A stale narrative save or a return without a comment used to give a bare error page with a
    'Home' link: the typed narrative was lost. Now the dossier page comes back (409/422) with the
    reason and what was typed, and nothing is saved."""
    researcher, reviewer = clients
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    session.commit()
    url = f"/dossiers/{dossier_id}"
    token = csrf_of(researcher, url)
    stale = _version(researcher.get(url).text)
    service.update_dossier(session, RESEARCHER, dossier_id, title="Renamed meanwhile")
    session.commit()
    long_text = "Three paragraphs of <analysis>\nwritten over an hour."
    refused = researcher.post(f"{url}/edit", data={
        "csrf_token": token, "version": stale, "title": "Title as opened", "opened_title": "Title as opened",
        "narrative_summary": long_text, "opened_narrative_summary": "Test summary."})
    assert refused.status_code == 409
    # rosa renamed it herself (another tab): the page says so, not that someone else changed it
    assert 'role="alert" id="refused"' in refused.text and "Changed since this page was opened" in refused.text
    assert "You changed dossier" in refused.text
    assert "Three paragraphs of &lt;analysis&gt;\nwritten over an hour." in refused.text  # kept, escaped
    assert 'id="narrative-form"' in refused.text
    # the title was posted as it was opened: not typed, so not listed (copying it back would undo the rename)
    typed = re.search(r'<dl class="typed">(.*?)</dl>', refused.text, re.DOTALL).group(1)
    assert "<dt>Title</dt>" not in typed and "<dt>Summary</dt>" in typed
    session.expire_all()
    assert (service.get_dossier(session, dossier_id).narrative or {}).get("summary") != long_text

    workflow.submit(session, RESEARCHER, dossier_id)
    session.commit()
    token = csrf_of(reviewer, url)
    no_comment = reviewer.post(f"{url}/move", data={"csrf_token": token, "action": "return"})
    assert no_comment.status_code == 422 and "say why you return the dossier" in no_comment.text
    assert 'id="move-form"' in no_comment.text
    session.expire_all()
    assert service.get_dossier(session, dossier_id).state == "submitted"


def test_incomplete_submission_over_http_lists_missing_and_changes_nothing(db_url, session, clients):
    researcher, _ = clients
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b4")
    session.commit()
    token = csrf_of(researcher, f"/dossiers/{dossier.id}")
    response = researcher.post(f"/dossiers/{dossier.id}/move", data={"csrf_token": token, "action": "submit"},
                               headers={"accept": "application/json"})
    assert response.status_code == 422
    missing = response.json()["errors"]["completeness"]
    assert any("'significant_role'" in m for m in missing) and any("'foreign_person'" in m for m in missing)
    session.expire_all()
    assert service.get_dossier(session, dossier.id).state == "draft"


def test_csrf_and_stale_form_are_refused(db_url, session, clients):
    researcher, _ = clients
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    session.commit()
    no_token = researcher.post(f"/dossiers/{dossier.id}/comments", data={"text": "hi"})
    assert no_token.status_code == 403
    token = csrf_of(researcher, f"/dossiers/{dossier.id}")
    stale = str(dossier.version)
    ok = researcher.post(f"/dossiers/{dossier.id}/edit", data={"csrf_token": token, "version": stale,
                                                                "narrative_summary": "first"}, follow_redirects=False)
    assert ok.status_code == 303
    conflict = researcher.post(f"/dossiers/{dossier.id}/edit", data={"csrf_token": token, "version": stale,
                                                                      "narrative_summary": "second"})
    assert conflict.status_code == 409 and "You changed dossier" in conflict.text  # the same user, twice
    session.expire_all()
    assert service.get_dossier(session, dossier.id).narrative == {"summary": "first"}


def test_comments_and_exports_over_http(db_url, session, clients):
    researcher, reviewer = clients
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    exhibit_id = service.get_dossier(session, dossier_id).exhibits[0].id
    session.commit()
    token = csrf_of(reviewer, f"/dossiers/{dossier_id}")
    for data in ({"text": "<script>alert(1)</script>"}, {"text": "Check the page number.", "exhibit_id": exhibit_id}):
        response = reviewer.post(f"/dossiers/{dossier_id}/comments", data={"csrf_token": token, **data},
                                 follow_redirects=False)
        assert response.status_code == 303
    page = reviewer.get(f"/dossiers/{dossier_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Check the page number." in page

    full = reviewer.get(f"/dossiers/{dossier_id}/export?format=html")
    released = reviewer.get(f"/dossiers/{dossier_id}/export?format=html&releasable=1")
    assert full.status_code == released.status_code == 200
    assert LEAK_TITLE in full.text and LEAK_TITLE not in released.text
    pdf = reviewer.get(f"/dossiers/{dossier_id}/export?format=pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    csv_export = reviewer.get(f"/dossiers/{dossier_id}/export?format=assets-csv")
    assert "attachment" in csv_export.headers["content-disposition"] and "TEST-APN-1" in csv_export.text
    assert reviewer.get(f"/dossiers/{dossier_id}/export?format=docx").status_code == 422
    listing = reviewer.get("/dossiers", headers={"accept": "application/json"}).json()
    assert [d["id"] for d in listing] == [dossier_id]


def test_clearing_the_title_is_refused_not_ignored(db_url, session, clients):
    """An emptied title used to be replaced by the old one before the check, and the page said 'Saved.'."""
    researcher, _ = clients
    sc = build_scenario(session, RESEARCHER)
    dossier = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2", title="Keep me")
    session.commit()
    token = csrf_of(researcher, f"/dossiers/{dossier.id}")
    refused = researcher.post(f"/dossiers/{dossier.id}/edit", data={
        "csrf_token": token, "version": str(dossier.version), "title": "", "narrative_summary": "typed"})
    assert refused.status_code == 422 and "a dossier needs a title" in refused.text
    session.expire_all()
    assert service.get_dossier(session, dossier.id).title == "Keep me"
