"""QA follow-ups: withdrawal policy, element labels, owner chains in words, error pages, URL characters,
screening citations, and integer ids beyond PostgreSQL's range. One test (or a few) per defect.

Every scenario is FICTIONAL: the shared scenario of test_dossier_scenario, the FICTIONAL county roll
mapping, or invented names on example.org.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from test_dossier_scenario import build_scenario, complete_dossier
from web_helpers import csrf_of, signed_in_client

from workbench.dossiers import exports, service, snapshot, workflow
from workbench.schema import Registry, SchemaError, ValidationError, registry, schema_dir
from workbench.store.audit import canonical
from workbench.store.entities import MAX_ROW_ID, create_source, update_source
from workbench.store.models import AuditEntry, Citation
from workbench.store.permissions import Actor, PermissionDenied

ROSA = Actor("rosa", "researcher")  # writes the dossiers
CARLA = Actor("carla", "researcher")  # another researcher, who did not
RUBEN = Actor("ruben", "reviewer")
ADA = Actor("ada", "admin")


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def _audit_after(session, object_id: str, action: str) -> dict:
    entry = session.execute(select(AuditEntry).where(AuditEntry.object_id == object_id, AuditEntry.action == action)
                            .order_by(AuditEntry.seq.desc())).scalars().first()
    assert entry is not None, f"no {action} audit entry"
    return entry.after


# ---- 1. withdrawal: authors, reviewers and admins only; a reason, recorded and shown; final --------

def test_only_authors_reviewers_and_admins_may_withdraw_and_a_reason_is_required(session):
    sc = build_scenario(session, ROSA)
    dossier_id = complete_dossier(session, ROSA, sc)
    dossier = service.get_dossier(session, dossier_id)

    with pytest.raises(PermissionDenied, match="only its authors, a reviewer or an admin may withdraw"):
        workflow.withdraw(session, CARLA, dossier_id, "not mine, but withdrawn anyway")
    assert "withdraw" not in [m.name for m in workflow.allowed_moves(session, CARLA, dossier)]
    # An edit made in passing does not make an author: a final move is not one edit away.
    service.update_dossier(session, CARLA, dossier_id, narrative={"summary": "a word changed"})
    with pytest.raises(PermissionDenied, match="only its authors, a reviewer or an admin may withdraw"):
        workflow.withdraw(session, CARLA, dossier_id, "edited it once, so withdrawn")
    for allowed in (ROSA, RUBEN, ADA):
        assert "withdraw" in [m.name for m in workflow.allowed_moves(session, allowed, dossier)]

    with pytest.raises(ValidationError) as no_reason:
        workflow.withdraw(session, ROSA, dossier_id, "   ")
    assert "say why you withdraw" in no_reason.value.errors["comment"][0]
    assert service.get_dossier(session, dossier_id).state == "draft"

    workflow.withdraw(session, ROSA, dossier_id, "Duplicate of the package opened last week.")
    event = workflow.withdrawal(dossier)
    assert (event.user, event.comment) == ("rosa", "Duplicate of the package opened last week.")
    assert _audit_after(session, dossier_id, "dossier.withdraw")["comment"] == \
        "Duplicate of the package opened last week."

    # A reviewer or an admin may withdraw someone else's dossier (with a reason too).
    for who in (RUBEN, ADA):
        other = complete_dossier(session, ROSA, sc)
        assert workflow.withdraw(session, who, other, "Target already designated.").state == "withdrawn"


def test_withdraw_page_warns_that_it_is_final_and_shows_the_reason_afterwards(db_url, session):
    sc = build_scenario(session, ROSA)
    dossier_id = complete_dossier(session, ROSA, sc)
    session.commit()
    author = signed_in_client(db_url, "rosa", "researcher")
    other = signed_in_client(db_url, "carla", "researcher")
    url = f"/dossiers/{dossier_id}"

    page = author.get(url).text
    form = re.search(r'<form[^>]*id="withdraw-form"[^>]*>(.*?)</form>', page, re.DOTALL)
    assert form, "the author has no withdraw form"
    assert "final" in re.search(r'id="withdraw-form"[^>]*data-confirm="([^"]*)"', page).group(1)
    assert "Withdrawal is final" in form.group(1) and "cannot be reopened" in form.group(1)
    assert 'name="comment"' in form.group(1) and "required" in form.group(1)

    assert 'value="withdraw"' not in other.get(url).text  # no button for a researcher who did not write it
    refused = other.post(f"{url}/move", data={"csrf_token": csrf_of(other, url), "action": "withdraw",
                                               "comment": "tidying up"})
    assert refused.status_code == 403 and "only its authors" in refused.text

    token = csrf_of(author, url)
    no_reason = author.post(f"{url}/move", data={"csrf_token": token, "action": "withdraw",
                                                  "version": _version(page)})
    assert no_reason.status_code == 422
    done = author.post(f"{url}/move", data={"csrf_token": token, "action": "withdraw", "version": _version(page),
                                             "comment": "Superseded by the E.O. 14059 package."},
                       follow_redirects=False)
    assert done.status_code == 303
    shown = author.get(url).text
    reason = re.search(r'id="withdrawal-reason"[^>]*>(.*?)</p>', shown, re.DOTALL)
    assert reason and "rosa" in reason.group(1) and "Superseded by the E.O. 14059 package." in reason.group(1)
    session.expire_all()
    assert service.get_dossier(session, dossier_id).state == "withdrawn"


# ---- 2. legal-basis elements have labels; pages and case summaries show them --------------------

def test_every_element_has_a_label_and_the_loader_requires_one(tmp_path):
    for basis in registry().legal_bases.values():
        for key in basis.elements:
            label = basis.element_labels.get(key, "")
            assert label.strip() and label != key, f"{basis.key}.{key} has no label"

    directory = tmp_path / "schema"
    shutil.copytree(schema_dir(), directory)
    path = directory / "legal_bases.yml"
    original = path.read_text()
    path.write_text(original.replace('        label: "Foreign person"\n', "", 1))
    with pytest.raises(SchemaError, match=r"legal_bases.yml: kingpin-b2.elements.foreign_person has no label"):
        Registry(directory)
    path.write_text(original.replace('        label: "Foreign person"\n', '        lable: "Foreign person"\n', 1))
    with pytest.raises(SchemaError, match=r"kingpin-b2.elements.foreign_person has unknown key\(s\) 'lable'"):
        Registry(directory)


def test_dossier_page_and_case_summaries_show_element_labels_and_json_keeps_keys(db_url, session):
    sc = build_scenario(session, ROSA)
    dossier_id = complete_dossier(session, ROSA, sc)
    session.commit()
    keys = list(registry().legal_bases["kingpin-b2"].elements)
    client = signed_in_client(db_url, "rosa", "researcher")

    page = client.get(f"/dossiers/{dossier_id}").text
    for label in ("Foreign person", "Link to an SFNT or designee", "Material assistance or support"):
        assert label in page
    assert '<option value="foreign_person">Foreign person</option>' in page  # the form still sends the key
    readable = re.sub(r'value="[^"]*"', "", page)
    assert not [k for k in keys if k in readable], "an element key is shown on the page"

    for fmt in ("html", "md"):
        text = exports.export_dossier(session, dossier_id, fmt).content.decode()
        assert "Foreign person" in text and "Material assistance or support" in text
        assert not [k for k in keys if k in text or k.replace("_", "\\_") in text], fmt
    package = json.loads(exports.export_dossier(session, dossier_id, "json").content)
    assert [ex["element"] for ex in package["exhibits"]][:2] == ["foreign_person", "sfnt_link"]
    assert [el["key"] for el in package["legal_basis"]["elements"]] == keys


def test_a_snapshot_frozen_before_labels_existed_reads_with_labels(session):
    sc = build_scenario(session, ROSA)
    dossier_id = complete_dossier(session, ROSA, sc)
    workflow.submit(session, ROSA, dossier_id)
    dossier = workflow.approve(session, RUBEN, dossier_id)
    old = json.loads(canonical(dossier.snapshot))
    for element in old["legal_basis"]["elements"]:
        element.pop("label")
    for exhibit in old["exhibits"]:
        exhibit.pop("element_label")
    dossier.snapshot, dossier.snapshot_hash = old, snapshot.content_hash(old)
    session.flush()
    markdown = exports.export_dossier(session, dossier_id, "md").content.decode()
    assert "### Exhibit 1 - FACT - element: Foreign person" in markdown
    assert "foreign\\_person" not in markdown
    assert "element_label" not in service.get_dossier(session, dossier_id).snapshot["exhibits"][0]  # stored as was


# ---- 3. owner chains read as words, not [Ownership 60%] ------------------------------------------

def test_owner_chains_name_the_link_kind_and_the_share_in_words(db_url, session):
    sc = build_scenario(session, ROSA)
    dossier_id = complete_dossier(session, ROSA, sc)
    session.commit()
    words = ("Ramiro Testigo Ficticio (FICTIONAL) owns 60% of Inmobiliaria Prueba (TEST), "
             "which owns 100% of House on Example St (TEST)")
    page = signed_in_client(db_url, "rosa", "researcher").get(f"/dossiers/{dossier_id}").text
    html = exports.export_dossier(session, dossier_id, "html").content.decode()
    markdown = exports.export_dossier(session, dossier_id, "md").content.decode()
    assets_csv = exports.export_dossier(session, dossier_id, "assets-csv").content.decode()
    for name, text in (("page", page), ("html", html), ("md", markdown), ("assets-csv", assets_csv)):
        assert words in text, name
        assert "[Ownership" not in text and "Ownership 60" not in text, name
    assert exports.share_text("33.50") == "33.5%" and exports.share_text("60%") == "60%"


# ---- 4. error pages: each message once, under its field's name ---------------------------------

def test_a_422_page_shows_each_message_once_naming_the_field_with_the_way_back(db_url, session):
    sc = build_scenario(session, ROSA)
    dossier_id = complete_dossier(session, ROSA, sc)
    workflow.submit(session, ROSA, dossier_id)
    session.commit()
    reviewer = signed_in_client(db_url, "ruben", "reviewer")
    url = f"/dossiers/{dossier_id}"
    token = csrf_of(reviewer, url)
    response = reviewer.post(f"{url}/move", data={"csrf_token": token, "action": "return"},
                             headers={"referer": f"http://testserver{url}"})
    assert response.status_code == 422
    assert response.text.count("say why you return the dossier") == 1
    # the field named links to it (QA round 13: a refused form links each refused field)
    assert re.search(r'<li id="refused-1"><a href="#move-comment">Comment</a>: say why you return the dossier',
                     response.text)
    assert 'id="move-form"' in response.text  # the dossier page again, with its forms, not an error page
    api = reviewer.post(f"{url}/move", data={"csrf_token": token, "action": "return"},
                        headers={"accept": "application/json"})
    assert api.status_code == 422 and "say why you return" in api.json()["detail"]  # scripts keep the message
    assert list(api.json()["errors"]) == ["comment"]


# ---- 5. source URLs: characters a URL never holds unescaped are refused --------------------------

@pytest.mark.parametrize("url,named", [
    ("https://example.org/a<script>", "'<'"),
    ("https://example.org/a>b", "'>'"),
    ('https://example.org/a"onmouseover="x', "'\"'"),
    ("https://example.org/two words", "a space"),
    ("https://example.org/a\tb", "U+0009"),
    ("https://example.org/a\x07b", "a control character (U+0007)"),
    ("https://example.org/a\x7fb", "a control character (U+007F)"),
])
def test_a_source_url_with_a_character_never_valid_in_a_url_is_refused(session, url, named):
    with pytest.raises(ValidationError) as refused:
        create_source(session, ROSA, url=url, title="FICTIONAL press report", source_type="press")
    message = refused.value.errors["url"][0]
    assert named in message and "never holds unescaped" in message
    assert session.scalar(select(Citation.id).limit(1)) is None


def test_escaped_urls_are_kept_and_an_edit_cannot_add_a_bad_character(db_url, session):
    source = create_source(session, ROSA, url="https://example.org/a%3Cb%3E?q=two%20words&x=1#frag",
                           title="FICTIONAL press report", source_type="press")
    assert source.url == "https://example.org/a%3Cb%3E?q=two%20words&x=1#frag"
    with pytest.raises(ValidationError, match="'<'"):
        update_source(session, ROSA, source.id, url="https://example.org/a<b")
    session.commit()
    client = signed_in_client(db_url, "rosa", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    api = client.post("/api/sources", json={"url": "https://example.org/a<script>", "title": "FICTIONAL",
                                            "source_type": "press"})
    assert api.status_code == 422 and "'<'" in api.json()["errors"]["url"][0]


# ---- 6. a confirmed screening hit cites the row, the job and who confirmed it --------------------

def test_a_confirmed_screening_hit_cites_row_job_and_reviewer(db_url, tmp_path):
    from workbench.matching import jobs
    from workbench.matching.review import decide, open_items
    from workbench.sources.bulk import IMPORTER_VERSION
    from workbench.sources.demo import load_demo
    from workbench.store.db import session_scope
    from workbench.store.permissions import SYSTEM

    mapping = (Path(__file__).resolve().parents[1] / "fixtures" / "mappings" / "county_property_roll.yml").read_text()
    roll = tmp_path / "qa_roll_FICTIONAL.csv"
    roll.write_text("APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"
                    'FICT-QA-0001,"9 Test St, Laredo, TX 78045",P,"VILLASENOR IBARRA, JOSE MARIA",'
                    '"Calle 1, Culiacan",01/15/2023,510000\n', encoding="utf-8")
    rita = Actor("rita", "researcher")
    with session_scope(db_url) as s:
        load_demo(s, SYSTEM, users=False)
        job_id = jobs.start_job(s, rita, roll, mapping).id
    jobs.run_job(job_id, db_url)
    with session_scope(db_url) as s:
        item = open_items(s, job_id)[0]
        decide(s, rita, item.id, "confirmed")
        item_id, created = item.id, list(item.created_entities)
    expected = f"row 1 (screening job {job_id[:8]}, confirmed by rita)"
    with session_scope(db_url) as s:
        citations = s.execute(select(Citation).where(
            (Citation.entity_id.in_(created)) | (Citation.link_id.in_(created)))).scalars().all()
        assert citations and {(c.locator, c.excerpt) for c in citations} == {(expected, None)}
        assert citations[0].source.file_name == "qa_roll_FICTIONAL.csv"
        decided = _audit_after(s, str(item_id), "review.decide")
        assert (decided["file"], decided["row"], decided["job"], decided["importer"]) == \
            ("qa_roll_FICTIONAL.csv", 1, job_id, IMPORTER_VERSION)
    client = signed_in_client(db_url, "rita", "researcher")
    page = client.get("/entities/demo-fictional-official").text
    assert f"</span>, {expected}</li>" in re.sub(r"\s*<form.*?</form>", "", page, flags=re.DOTALL)
    assert "imported by" not in page


# ---- 7. integer ids in addresses: one type, 1..2^31-1; beyond it a 404, never a 500 --------------

def _routes(routes):
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)
        else:
            yield route


def test_every_integer_path_parameter_is_a_row_id():
    from workbench.web.app import create_app

    seen = []
    for route in _routes(create_app().router.routes):
        if not isinstance(route, APIRoute):
            continue
        for param in route.dependant.path_params:
            if param.field_info.annotation is int:
                bounds = {type(m).__name__: getattr(m, "ge", getattr(m, "le", None)) for m in param.field_info.metadata}
                assert bounds == {"Ge": 1, "Le": MAX_ROW_ID}, f"{route.path} {{{param.name}}} is not deps.RowId"
                seen.append(param.name)
    assert {"merge_id", "item_id", "exhibit_id", "citation_id"} <= set(seen)


@pytest.mark.parametrize("too_big", [2**31, 2**40])
def test_an_id_beyond_the_database_range_is_a_404_page_not_a_server_error(db_url, session, too_big):
    sc = build_scenario(session, ROSA)
    dossier_id = complete_dossier(session, ROSA, sc)
    session.commit()
    client = signed_in_client(db_url, "rosa", "researcher")
    token = csrf_of(client, "/")
    for path in (f"/merges/{too_big}/undo", f"/screening/items/{too_big}",
                 f"/dossiers/{dossier_id}/exhibits/{too_big}/remove", f"/citations/{too_big}/delete"):
        response = client.post(path, data={"csrf_token": token, "verdict": "rejected"})
        assert response.status_code == 404, (path, response.status_code)
        assert "whole number from 1 to 2147483647" in response.text and str(too_big) in response.text, path
    client.headers["X-CSRF-Token"] = token
    api = client.get(f"/api/citations/{too_big}")
    assert api.status_code == 404 and "no citation" in api.json()["detail"]
    assert client.post("/merges/seven/undo", data={"csrf_token": token}).status_code == 422


def test_an_exhibit_citing_an_id_beyond_the_range_is_refused_with_a_message(session):
    sc = build_scenario(session, ROSA)
    dossier = service.create_dossier(session, ROSA, sc.target, "kingpin-b2")
    with pytest.raises(ValidationError) as refused:
        service.add_exhibit(session, ROSA, dossier.id, element="foreign_person", statement="x",
                            statement_type="fact", citation_id=2**31)
    assert refused.value.errors["citation"] == [f"no citation {2**31}"]
