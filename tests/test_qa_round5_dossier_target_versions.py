"""QA round 5: a dossier on a merged (or deleted) entry, and optimistic locking skipped without a version.

1. A dossier could be created on an entry merged into another: 'Created dossier ...', then its page,
   completeness and every export answered 404 until the merge was undone. The target is now refused,
   naming the kept entry; the new-dossier form says so up front and is about the kept entry, and a
   refused form comes back (422) with what was typed.
2. PUT/DELETE /api/entities/{id} without a version, and the entity form with version=abc, overwrote
   without any check (QA reduced an entity to 'name: x'). Forms always send their version: one missing
   or not a whole number is refused (422, nothing changed, typed data kept); the API requires it.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select
from web_helpers import csrf_of, signed_in_client

from workbench.dossiers import service
from workbench.matching.judgements import merge
from workbench.schema import ValidationError
from workbench.store import db as store_db
from workbench.store.entities import (
    create_entity,
    create_link,
    create_source,
    delete_entity,
    get_entity,
    get_link,
)
from workbench.store.models import Dossier
from workbench.store.permissions import Actor

RITA = Actor("rita", "researcher")


@pytest.fixture
def client(db_url):
    return signed_in_client(db_url, "rita", "researcher")


def _dossiers(db_url) -> int:
    with store_db.session_scope(db_url) as s:
        return int(s.scalar(select(func.count()).select_from(Dossier)))


def _people(session) -> tuple[str, str]:
    keep = create_entity(session, RITA, "Person", {"name": "Aurelio Quintanar Bello (FICTIONAL)",
                                                   "birthDate": "1971"}).obj.id
    dupe = create_entity(session, RITA, "Person", {"name": "QUINTANAR BELLO, Aurelio (FICTIONAL)"}).obj.id
    session.commit()
    return keep, dupe


def _merge_over_http(client, keep: str, dupe: str) -> None:
    """The duplicates page's 'Same': ``dupe`` goes into ``keep``."""
    token = csrf_of(client, f"/entities/{keep}/duplicates")
    merged = client.post(f"/entities/{keep}/judge", data={"csrf_token": token, "other_id": dupe, "verdict": "same"})
    assert merged.status_code == 200 and "Merged QUINTANAR BELLO" in merged.text


def _text(page: str) -> str:
    """What the page says, without its tags."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _hidden_target(page: str) -> str | None:
    found = re.search(r'name="target_id" value="([^"]+)"', page)
    return found.group(1) if found else None


# ---- 1. a dossier's target ---------------------------------------------------------------------

def test_the_new_dossier_form_on_a_merged_entry_says_so_and_offers_the_kept_entry(db_url, session, client):
    keep, dupe = _people(session)
    _merge_over_http(client, keep, dupe)
    page = client.get("/dossiers/new", params={"target": dupe})
    assert page.status_code == 200
    text = _text(page.text)
    assert 'id="merged-target"' in page.text
    assert (f"QUINTANAR BELLO, Aurelio (FICTIONAL) ({dupe}) was merged into Aurelio Quintanar Bello (FICTIONAL) "
            f"({keep})") in text
    assert _hidden_target(page.text) == keep  # the form creates the dossier on the kept entry
    assert "Create dossier" in page.text


def test_a_form_opened_before_the_merge_is_refused_with_the_kept_entry_and_what_was_typed(db_url, session, client):
    """The realistic trigger: one user opens the form, another merges the target before it is sent."""
    keep, dupe = _people(session)
    form = client.get("/dossiers/new", params={"target": dupe})
    assert _hidden_target(form.text) == dupe and "merged-target" not in form.text
    token = csrf_of(client, "/dossiers")
    _merge_over_http(signed_in_client(db_url, "mara", "researcher"), keep, dupe)  # someone else, meanwhile

    refused = client.post("/dossiers/new", data={"csrf_token": token, "target_id": dupe, "legal_basis": "kingpin-b3",
                                                 "title": "Quintanar <draft> package"}, follow_redirects=False)
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Not created." in text and "Created dossier" not in text
    assert (f"QUINTANAR BELLO, Aurelio (FICTIONAL) ({dupe}) was merged into Aurelio Quintanar Bello (FICTIONAL) "
            f"({keep}): create the dossier on Aurelio Quintanar Bello (FICTIONAL)") in text
    # what was typed is kept, escaped, in a form about the kept entry
    assert 'value="Quintanar &lt;draft&gt; package"' in refused.text
    assert re.search(r'<option value="kingpin-b3" selected>', refused.text)
    assert _hidden_target(refused.text) == keep
    assert _dossiers(db_url) == 0

    created = client.post("/dossiers/new", data={"csrf_token": token, "target_id": keep, "legal_basis": "kingpin-b3",
                                                 "title": "Quintanar package"}, follow_redirects=False)
    assert created.status_code == 303
    url = created.headers["location"]
    assert client.get(url).status_code == 200
    assert client.get(f"{url}/completeness").status_code == 200
    assert client.get(f"{url}/export", params={"format": "json"}).status_code == 200


def test_a_script_creating_a_dossier_on_a_merged_entry_gets_422_naming_the_kept_entry(db_url, session, client):
    keep, dupe = _people(session)
    _merge_over_http(client, keep, dupe)
    refused = client.post("/dossiers/new", data={"csrf_token": csrf_of(client, "/dossiers"), "target_id": dupe,
                                                 "legal_basis": "kingpin-b3"}, headers={"Accept": "application/json"})
    assert refused.status_code == 422
    assert any(f"was merged into Aurelio Quintanar Bello (FICTIONAL) ({keep})" in m
               for m in refused.json()["errors"]["target"])
    assert _dossiers(db_url) == 0


def test_the_domain_refuses_a_merged_target_and_follows_merge_chains(session):
    keep, dupe = _people(session)
    third = create_entity(session, RITA, "Person", {"name": "Aurelio Q. Bello (FICTIONAL)"}).obj.id
    merge(session, RITA, keep, dupe)
    merge(session, RITA, third, keep)  # dupe -> keep -> third
    session.commit()
    with pytest.raises(service.TargetMerged) as refused:
        service.create_dossier(session, RITA, dupe, "kingpin-b3")
    assert refused.value.kept.id == third and "create the dossier on Aurelio Q. Bello (FICTIONAL)" in str(refused.value)
    session.rollback()
    with pytest.raises(ValidationError, match="choose the entity the dossier is about"):
        service.create_dossier(session, RITA, "  ", "kingpin-b3")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0
    assert service.create_dossier(session, RITA, third, "kingpin-b3").target_id == third


def test_a_new_version_of_a_dossier_left_on_a_merged_entry_is_refused(session):
    """Dossiers written before the fix may sit on a merged entry: the next version must not copy that."""
    keep, dupe = _people(session)
    dossier = service.create_dossier(session, RITA, keep, "kingpin-b3")
    merge(session, RITA, dupe, keep)  # moves the dossier to dupe
    session.flush()
    dossier.target_id, dossier.state = keep, "returned"  # as an old database holds it
    session.commit()
    with pytest.raises(service.TargetMerged, match=f"was merged into QUINTANAR BELLO, Aurelio \\(FICTIONAL\\) "
                                                   f"\\({dupe}\\)"):
        service.new_version(session, RITA, dossier.id)


def test_a_target_deleted_before_the_form_is_sent_is_refused_with_what_was_typed(db_url, session, client):
    gone = create_entity(session, RITA, "Person", {"name": "Persona Borrada (FICTIONAL)"}).obj.id
    session.commit()
    form = client.get("/dossiers/new", params={"target": gone})
    assert _hidden_target(form.text) == gone
    token = csrf_of(client, "/dossiers")
    delete_entity(session, RITA, gone)
    session.commit()

    refused = client.post("/dossiers/new", data={"csrf_token": token, "target_id": gone, "legal_basis": "kingpin-b3",
                                                 "title": "Borrada package"})
    assert refused.status_code == 422
    text = html.unescape(refused.text)
    assert "Not created." in text and f"No entity with id '{gone}': it was deleted" in text
    assert "<dt>Title</dt><dd><pre>Borrada package</pre></dd>" in refused.text  # typed, kept for copying
    assert 'name="q"' in refused.text  # the search for another target
    assert _dossiers(db_url) == 0
    opened = client.get("/dossiers/new", params={"target": gone})
    assert opened.status_code == 404 and 'id="target-problem"' in opened.text and 'name="q"' in opened.text


def test_other_refusals_keep_the_form_and_what_was_typed(db_url, session, client):
    keep, _ = _people(session)
    token = csrf_of(client, "/dossiers")
    long_title = "T" * 301
    refused = client.post("/dossiers/new", data={"csrf_token": token, "target_id": keep, "legal_basis": "kingpin-b3",
                                                 "title": long_title})
    assert refused.status_code == 422 and "a title is at most 300 characters" in refused.text
    assert f'value="{long_title}"' in refused.text and _hidden_target(refused.text) == keep
    unknown = client.post("/dossiers/new", data={"csrf_token": token, "target_id": keep, "legal_basis": "no-such"})
    assert unknown.status_code == 422 and "unknown legal basis" in html.unescape(unknown.text)
    assert _dossiers(db_url) == 0


# ---- 2. versions on forms ----------------------------------------------------------------------

@pytest.mark.parametrize("version", [None, "", "abc", "2.0", "²", "-1"])
def test_the_entity_form_without_a_whole_number_version_is_refused_and_keeps_what_was_typed(
        db_url, session, client, version):
    person = create_entity(session, RITA, "Person", {"name": "Rosa Elena Mendez (FICTIONAL)",
                                                     "birthDate": "1979-02-13"}).obj.id
    session.commit()
    data = {"csrf_token": csrf_of(client, f"/entities/{person}/edit"), "p.name": "x", "p.birthDate": "1979"}
    if version is not None:
        data["version"] = version
    refused = client.post(f"/entities/{person}/edit", data=data, follow_redirects=False)
    assert refused.status_code == 422
    assert "so whether someone else changed Rosa Elena Mendez (FICTIONAL) since it was opened could not be " \
           "checked" in html.unescape(refused.text)
    assert 'name="p.name" value="x"' in refused.text  # what was typed stays in the form
    with store_db.session_scope(db_url) as s:
        entity = get_entity(s, person)
        assert entity.properties == {"name": ["Rosa Elena Mendez (FICTIONAL)"], "birthDate": ["1979-02-13"]}
        assert entity.version == 1


@pytest.mark.parametrize("version", [None, "abc"])
def test_deleting_an_entity_from_a_form_without_its_version_is_refused(db_url, session, client, version):
    person = create_entity(session, RITA, "Person", {"name": "Rosa Elena Mendez (FICTIONAL)"}).obj.id
    session.commit()
    data = {"csrf_token": csrf_of(client, f"/entities/{person}")} | ({"version": version} if version else {})
    refused = client.post(f"/entities/{person}/delete", data=data, follow_redirects=False)
    assert refused.status_code == 422 and "could not be checked" in refused.text
    with store_db.session_scope(db_url) as s:
        assert get_entity(s, person).version == 1
    deleted = client.post(f"/entities/{person}/delete", data={**data, "version": "1"}, follow_redirects=False)
    assert deleted.status_code == 303


def test_the_link_forms_without_a_version_are_refused_and_remove_sends_it(db_url, session, client):
    owner = create_entity(session, RITA, "Person", {"name": "Rosa Elena Mendez (FICTIONAL)"}).obj.id
    company = create_entity(session, RITA, "Company", {"name": "Empresa Ficticia SA"}).obj.id
    link = create_link(session, RITA, "Ownership", owner, company, {"percentage": "40"}).obj.id
    session.commit()
    token = csrf_of(client, f"/links/{link}/edit")
    for version in (None, "abc"):
        data = {"csrf_token": token, "entity": owner, "p.percentage": "99"} | ({"version": version} if version else {})
        refused = client.post(f"/links/{link}/edit", data=data, follow_redirects=False)
        assert refused.status_code == 422 and "could not be checked" in refused.text
        assert 'value="99"' in refused.text
    for version in (None, "abc"):
        data = {"csrf_token": token, "entity": owner} | ({"version": version} if version else {})
        removed = client.post(f"/links/{link}/delete", data=data, follow_redirects=False)
        assert removed.status_code == 422 and "could not be checked" in html.unescape(removed.text)
    with store_db.session_scope(db_url) as s:
        assert (get_link(s, link).properties, get_link(s, link).version) == ({"percentage": ["40"]}, 1)
    # The entity page's Remove button sends the version it shows.
    page = client.get(f"/entities/{owner}").text
    assert f'action="/links/{link}/delete"' in page
    assert re.search(r'<input type="hidden" name="version" value="1"><button type="submit" class="link"'
                     r'( aria-label="[^"]*")?>Remove<', page)
    removed = client.post(f"/links/{link}/delete", data={"csrf_token": token, "entity": owner, "version": "1"},
                          follow_redirects=False)
    assert removed.status_code == 303


def test_dossier_forms_without_a_version_are_refused_with_what_was_typed(db_url, session, client):
    keep, _ = _people(session)
    dossier = service.create_dossier(session, RITA, keep, "kingpin-b3", title="Keep me")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    token = csrf_of(client, url)
    refused = client.post(f"{url}/edit", data={"csrf_token": token, "title": "Keep me",
                                               "narrative_summary": "An hour of <work>."})
    assert refused.status_code == 422 and 'id="refused"' in refused.text and "could not be checked" in refused.text
    assert "An hour of &lt;work&gt;." in refused.text
    move = client.post(f"{url}/move", data={"csrf_token": token, "action": "withdraw", "comment": "why",
                                            "version": "abc"})
    assert move.status_code == 422 and "is not a whole number" in html.unescape(move.text)
    comment = client.post(f"{url}/comments", data={"csrf_token": token, "text": "on ²", "exhibit_id": "²"})
    assert comment.status_code == 422  # not a server error
    session.expire_all()
    after = service.get_dossier(session, dossier.id)
    assert (after.state, after.narrative, after.version) == ("draft", {}, dossier.version)
    assert service.comments_for(session, dossier.id) == []


# ---- 2. versions on the JSON API -------------------------------------------------------------

@pytest.fixture
def api(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


@pytest.mark.parametrize("version", ["missing", None, "1", True, 1.5, 0])
def test_api_updates_need_the_version_read(db_url, session, api, version):
    person = create_entity(session, RITA, "Person", {"name": "Rosa Elena Mendez (FICTIONAL)"}).obj.id
    company = create_entity(session, RITA, "Company", {"name": "Empresa Ficticia SA"}).obj.id
    link = create_link(session, RITA, "Ownership", person, company, {"percentage": "40"}).obj.id
    source = create_source(session, RITA, url="https://example.org/registro", title="Registro (FICTIONAL)").id
    session.commit()
    extra = {} if version == "missing" else {"version": version}
    for path, body in ((f"/api/entities/{person}", {"properties": {"name": "x"}}),
                       (f"/api/links/{link}", {"properties": {"percentage": "99"}}),
                       (f"/api/sources/{source}", {"title": "x"})):
        refused = api.put(path, json=body | extra)
        assert refused.status_code == 422, (path, refused.text)
        assert "version" in refused.json()["errors"], (path, refused.json())
    assert api.get(f"/api/entities/{person}").json()["properties"] == {"name": ["Rosa Elena Mendez (FICTIONAL)"]}
    assert api.get(f"/api/links/{link}").json()["properties"] == {"percentage": ["40"]}
    assert api.get(f"/api/sources/{source}").json()["title"] == "Registro (FICTIONAL)"
    saved = api.put(f"/api/entities/{person}", json={"properties": {"name": "Rosa E. Mendez"}, "version": 1})
    assert saved.status_code == 200 and saved.json()["version"] == 2


def test_api_deletes_need_the_version_read(db_url, session, api):
    person = create_entity(session, RITA, "Person", {"name": "Rosa Elena Mendez (FICTIONAL)"}).obj.id
    company = create_entity(session, RITA, "Company", {"name": "Empresa Ficticia SA"}).obj.id
    link = create_link(session, RITA, "Ownership", person, company).obj.id
    session.commit()
    for path in (f"/api/links/{link}", f"/api/entities/{person}"):
        for params in ({}, {"version": "abc"}, {"version": ""}):
            refused = api.delete(path, params=params)
            assert refused.status_code == 422 and "version" in refused.json()["errors"], (path, params, refused.text)
        assert api.get(path).status_code == 200
        stale = api.delete(path, params={"version": 7})
        assert stale.status_code == 409
        assert api.delete(path, params={"version": 1}).status_code == 204
    assert api.get(f"/api/entities/{person}").status_code == 404


def test_the_openapi_document_marks_the_version_required(api):
    spec = api.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in ("EntityUpdate", "LinkUpdate", "SourceUpdate"):
        assert "version" in schemas[name]["required"], name
    for path in ("/api/entities/{entity_id}", "/api/links/{link_id}"):
        params = {p["name"]: p for p in spec["paths"][path]["delete"]["parameters"]}
        assert params["version"]["required"] is True, path


def test_workflow_moves_still_work_from_the_page(db_url, session, client):
    """The workflow buttons send the version; a script may still leave it out (documented on the route)."""
    keep, _ = _people(session)
    dossier = service.create_dossier(session, RITA, keep, "kingpin-b3")
    session.commit()
    url = f"/dossiers/{dossier.id}"
    page = client.get(url).text
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    moved = client.post(f"{url}/move", data={"csrf_token": csrf_of(client, url), "action": "withdraw",
                                             "comment": "duplicate package", "version": version},
                        follow_redirects=False)
    assert moved.status_code == 303
    session.expire_all()
    assert service.get_dossier(session, dossier.id).state == "withdrawn"
