"""A reviewer's verdict covers what they read; a superseded approved version says so.

QA found that a submitted dossier's row is frozen but the target, links, sources and citations it
shows are live: a reviewer could approve a package that changed (or lost an exhibit's citation) after
they opened it. And after version 2 was approved, version 1 still exported as plain "approved".
"""

from __future__ import annotations

import json
import re

import pytest
from test_dossier_exports import _pdf_text
from test_dossier_scenario import build_scenario, complete_dossier
from web_helpers import api_client, csrf_of, signed_in_client

from workbench.dossiers import service, workflow
from workbench.store.models import Exhibit
from workbench.store.permissions import Actor

RESEARCHER = Actor("rosa", "researcher")
REVIEWER = Actor("ruben", "reviewer")


@pytest.fixture
def clients(db_url):
    """The researcher over the JSON API (as the entity and source pages' scripts call it), the reviewer
    in the browser."""
    return api_client(db_url, RESEARCHER.username, "researcher"), \
        signed_in_client(db_url, REVIEWER.username, "reviewer")


@pytest.fixture
def submitted(session, clients):
    """A complete dossier by the researcher, submitted; (scenario, dossier id)."""
    sc = build_scenario(session, RESEARCHER)
    dossier_id = complete_dossier(session, RESEARCHER, sc)
    workflow.submit(session, RESEARCHER, dossier_id)
    session.commit()
    return sc, dossier_id


def _form(page_html: str) -> dict:
    """What the page's workflow form sends besides the button: the version and the content hash."""
    form = re.search(r'<form[^>]*id="move-form".*?</form>', page_html, re.DOTALL).group(0)
    return dict(re.findall(r'<input type="hidden" name="(version|content_hash)" value="([^"]*)"', form))


def _move(client, url: str, page_html: str, action: str, comment: str = "ok", **extra):
    data = {"csrf_token": csrf_of(client, url), "action": action, "comment": comment, **_form(page_html), **extra}
    return client.post(f"{url}/move", data=data, follow_redirects=False)


def _change_target_and_source(researcher, sc) -> None:
    entity = researcher.get(f"/api/entities/{sc.target}").json()
    changed = researcher.put(f"/api/entities/{sc.target}", json={
        "properties": {**entity["properties"], "nationality": ["gt"]}, "version": entity["version"]})
    assert changed.status_code == 200, changed.text
    source = researcher.get(f"/api/sources/{sc.official}").json()
    retitled = researcher.put(f"/api/sources/{sc.official}", json={"title": "Gazette (RETITLED)",
                                                                   "version": source["version"]})
    assert retitled.status_code == 200, retitled.text


def test_an_approval_of_content_changed_since_the_page_was_opened_is_refused(session, clients, submitted):
    researcher, reviewer = clients
    sc, dossier_id = submitted
    url = f"/dossiers/{dossier_id}"
    opened = reviewer.get(url).text
    assert 'value="approve"' in opened and "Gazette (RETITLED)" not in opened

    _change_target_and_source(researcher, sc)
    refused = _move(reviewer, url, opened, "approve")
    assert refused.status_code == 409
    assert "The package changed since you opened it" in refused.text
    assert "Reload it and review again; nothing was approved." in refused.text
    assert "Gazette (RETITLED)" in refused.text  # the page shown again is the current content
    session.expire_all()
    dossier = service.get_dossier(session, dossier_id)
    assert dossier.state == "submitted" and dossier.snapshot is None

    # A rejection is a verdict on the content too; a return hands it back to its authors and is not refused.
    assert _move(reviewer, url, opened, "reject", "not proven").status_code == 409

    reloaded = reviewer.get(url).text
    approved = _move(reviewer, url, reloaded, "approve")
    assert approved.status_code == 303, approved.text
    session.expire_all()
    dossier = service.get_dossier(session, dossier_id)
    assert dossier.state == "approved"
    nationality = next(p for p in dossier.snapshot["target"]["properties"] if p["name"] == "nationality")
    assert nationality["values"] == ["gt"]  # what was approved is what the reviewer read after reloading


def test_a_script_must_name_the_content_it_approves(session, clients, submitted):
    researcher, reviewer = clients
    sc, dossier_id = submitted
    url = f"/dossiers/{dossier_id}"
    token = csrf_of(reviewer, url)
    as_json = {"accept": "application/json"}
    read = reviewer.get(url, headers=as_json).json()
    assert re.fullmatch(r"[0-9a-f]{64}", read["content_hash"])

    blind = reviewer.post(f"{url}/move", data={"csrf_token": token, "action": "approve"}, headers=as_json)
    assert blind.status_code == 422
    assert "an approval must say which content was reviewed: send content_hash" in blind.text

    _change_target_and_source(researcher, sc)
    stale = reviewer.post(f"{url}/move", data={"csrf_token": token, "action": "approve",
                                                "content_hash": read["content_hash"]}, headers=as_json)
    assert stale.status_code == 409 and "the package changed since you opened it" in stale.json()["detail"]

    fresh = reviewer.get(url, headers=as_json).json()["content_hash"]
    done = reviewer.post(f"{url}/move", data={"csrf_token": token, "action": "approve", "content_hash": fresh},
                         headers=as_json)
    assert done.status_code == 200 and done.json()["state"] == "approved"


def test_a_citation_an_exhibit_under_review_or_approved_uses_cannot_be_deleted(db_url, session, clients, submitted):
    researcher, reviewer = clients
    sc, dossier_id = submitted
    url = f"/dossiers/{dossier_id}"
    title = service.get_dossier(session, dossier_id).title

    refused = researcher.delete(f"/api/citations/{sc.associate_citation}")
    assert refused.status_code == 422
    message = json.dumps(refused.json())
    assert f"citation {sc.associate_citation} is the evidence of exhibit 3 of dossier" in message
    assert title in message and "under review" in message
    # The entity page's remove button, and deleting the cited link, are refused the same way.
    page = signed_in_client(db_url, "rhea", "researcher")
    form = page.post(f"/citations/{sc.associate_citation}/delete",
                     data={"csrf_token": csrf_of(page, f"/entities/{sc.target}")})
    # said on the page the button was on (QA round 10: it was an error page of its own)
    assert form.status_code == 200 and "is the evidence of exhibit 3 of dossier" in form.text
    link = researcher.get(f"/api/links/{sc.associate_link}").json()
    assert researcher.delete(f"/api/links/{sc.associate_link}?version={link['version']}").status_code == 422

    opened = reviewer.get(url).text
    assert _move(reviewer, url, opened, "approve").status_code == 303
    refused = researcher.delete(f"/api/citations/{sc.associate_citation}")
    assert refused.status_code == 422 and "approved" in json.dumps(refused.json())
    session.expire_all()
    exhibit = session.query(Exhibit).filter_by(dossier_id=dossier_id, number=3).one()
    assert exhibit.citation_id == sc.associate_citation

    # A draft's exhibit may lose its citation: its authors see that on the page they are editing.
    cited = researcher.post("/api/citations", json={"source_id": sc.court, "entity_id": sc.target,
                                                    "excerpt": "named in the hearing"})
    assert cited.status_code == 201, cited.text
    draft = service.create_dossier(session, RESEARCHER, sc.target, "kingpin-b2")
    service.add_exhibit(session, RESEARCHER, draft.id, element="material_support", statement="payments",
                        citation_id=cited.json()["id"])
    session.commit()
    assert researcher.delete(f"/api/citations/{cited.json()['id']}").status_code == 204


def _approve_v2(session, v1_id: str) -> str:
    """Version 2 opened from the approved version 1, submitted and approved by another reviewer."""
    session.expire_all()  # approved over HTTP meanwhile
    v2 = service.new_version(session, RESEARCHER, v1_id)
    workflow.submit(session, RESEARCHER, v2.id)
    workflow.approve(session, Actor("vera", "reviewer"), v2.id)
    session.commit()
    return v2.id


def test_a_superseded_version_says_so_on_its_page_and_in_every_export(session, clients, submitted):
    _, reviewer = clients
    _, v1 = submitted
    url = f"/dossiers/{v1}"
    assert _move(reviewer, url, reviewer.get(url).text, "approve").status_code == 303
    before = reviewer.get(f"{url}/export?format=md").text
    assert "superseded" not in before.lower()

    v2 = _approve_v2(session, v1)
    page = reviewer.get(url).text
    assert f"Superseded by version 2 ({v2}), approved later" in page and f'href="/dossiers/{v2}"' in page
    for fmt in ("md", "html", "json", "pdf", "assets-csv"):
        response = reviewer.get(f"{url}/export?format={fmt}")
        assert response.status_code == 200
        text = " ".join((_pdf_text(response.content) if fmt == "pdf" else response.text).split())
        assert "superseded by version 2" in text.lower(), fmt
    assert "State: **approved** (superseded by version 2)" in reviewer.get(f"{url}/export?format=md").text
    meta = json.loads(reviewer.get(f"{url}/export?format=json").text)["meta"]
    assert meta["superseded_by"]["version"] == 2 and meta["superseded_by"]["id"] == v2
    # The version in force says nothing of the kind.
    assert "superseded" not in reviewer.get(f"/dossiers/{v2}/export?format=md").text.lower()
    # QA round 10: the list (and its 'approved' filter) showed version 1 as plainly approved.
    listed = reviewer.get("/dossiers?state=approved").text
    row_v1 = re.search(rf'<tr>\s*<td><a href="/dossiers/{v1}">.*?</tr>', listed, re.DOTALL).group(0)
    row_v2 = re.search(rf'<tr>\s*<td><a href="/dossiers/{v2}">.*?</tr>', listed, re.DOTALL).group(0)
    assert f'superseded by <a href="/dossiers/{v2}">version 2</a>' in row_v1 and "superseded" not in row_v2


def test_open_a_new_version_is_offered_only_while_none_exists(session, clients, submitted):
    _, reviewer = clients
    _, v1 = submitted
    url = f"/dossiers/{v1}"
    assert _move(reviewer, url, reviewer.get(url).text, "approve").status_code == 303
    assert "Open a new version" in reviewer.get(url).text
    session.expire_all()  # approved over HTTP meanwhile
    v2 = service.new_version(session, RESEARCHER, v1)
    session.commit()

    page = reviewer.get(url).text
    assert "Open a new version" not in page and f"/dossiers/{v1}/new-version" not in page
    again = reviewer.post(f"{url}/new-version", data={"csrf_token": csrf_of(reviewer, url)}, follow_redirects=False)
    assert again.status_code == 422
    assert (f"<strong>New version</strong>: version 2 of this dossier already exists ({v2.id}, draft), opened "
            "from version 1: work on that version instead") in again.text
    assert "<strong>State</strong>" not in again.text
