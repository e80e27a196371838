"""QA round 10 on the entity page: the whole history, a merged entry's page, one full stop.

- The history listed the newest 100 changes and said nothing of the rest: who created the entry, and
  when, was out of reach on a busy one.
- A merged entry's page offered Edit, Cite, Add link, Notes and Delete; each was refused only on save.
- 'Linked: ... S.A. de C.V..' ended in two full stops.
"""

from __future__ import annotations

import re

from web_helpers import csrf_of, signed_in_client

from workbench.matching.judgements import merge
from workbench.store import db as store_db
from workbench.store import entities as svc
from workbench.store.permissions import SYSTEM, Actor

RITA = Actor("rita", "researcher")


def _history_rows(html: str) -> int:
    section = html[html.index('id="h-history"'):]
    return section[:section.index("</table>")].count("<tr>") - 1  # less the header row


def test_a_busy_entry_offers_its_whole_history_back_to_its_creation(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    with store_db.session_scope(db_url) as s:
        svc.create_entity(s, RITA, "Person", {"name": "Rosa Elena Mendez"}, entity_id="busy")
        for i in range(110):
            svc.update_entity(s, RITA, "busy", {"notes": [f"revision {i}"]}, replace=False)
    store_db.dispose_all()

    page = client.get("/entities/busy").text
    assert _history_rows(page) == 100 and "entity.create" not in page
    more = re.search(r'<a href="(/entities/busy\?history=all#h-history)">Show the whole history</a>', page)
    assert more and "The newest 100 changes are listed" in page
    whole = client.get(more.group(1).replace("#h-history", "")).text
    assert _history_rows(whole) == 111 and "entity.create" in whole and "Show the whole history" not in whole


def test_a_merged_entrys_page_offers_no_edits_and_points_at_the_kept_one(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    with store_db.session_scope(db_url) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Jose Luis Ortega"}, entity_id="kept")
        svc.create_entity(s, SYSTEM, "Person", {"name": "Jose Luis Ortega Ruiz"}, entity_id="gone")
        svc.create_entity(s, SYSTEM, "Company", {"name": "Transportes Ortega SA"}, entity_id="firm")
        svc.create_link(s, SYSTEM, "Ownership", "gone", "firm", {})
        merge(s, RITA, "kept", "gone")
    store_db.dispose_all()

    page = client.get("/entities/gone").text
    assert "edit, cite and link Jose Luis Ortega instead" in page
    for control in ('href="/entities/gone/edit"', 'id="h-cite"', 'action="/entities/gone/notes"',
                    'action="/entities/gone/delete"', 'action="/links/new"', "/delete\" class=\"inline\" data-confirm=\"Remove this link?"):
        assert control not in page, control
    kept = client.get("/entities/kept").text  # the entry kept still offers every one
    for control in ('href="/entities/kept/edit"', 'id="h-cite"', 'action="/entities/kept/notes"',
                    'action="/entities/kept/delete"', 'action="/links/new"'):
        assert control in kept, control


def test_a_name_ending_in_a_full_stop_is_not_followed_by_another(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    with store_db.session_scope(db_url) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez"}, entity_id="rosa")
        svc.create_entity(s, SYSTEM, "Company", {"name": "Inmobiliaria Costa Dorada, S.A. de C.V."}, entity_id="icd")
    store_db.dispose_all()
    linked = client.post("/links/new", data={
        "csrf_token": csrf_of(client, "/links/new?entity=rosa&kind=Ownership:out"), "kind": "Ownership",
        "entity": "rosa", "direction": "out", "other_name": "Inmobiliaria Costa Dorada, S.A. de C.V.",
        "other_id": "icd"})
    assert linked.status_code == 200  # followed to the entry's page, where the flash says what was linked
    flash = re.search(r'class="flash[^"]*"[^>]*>([^<]*Linked:.*?)</', linked.text, re.DOTALL)
    assert flash and flash.group(1).rstrip().endswith("S.A. de C.V."), flash


def test_many_links_are_counted_and_listed_by_the_other_entrys_name(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    names = ["Zacatecas Lote 9", "Álamos Lote 3", "Culiacán Lote 1", "Badiraguato Lote 7"]
    with store_db.session_scope(db_url) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez"}, entity_id="owner")
        for i, name in enumerate(names):
            svc.create_entity(s, SYSTEM, "RealEstate", {"name": name}, entity_id=f"lot-{i}")
            svc.create_link(s, SYSTEM, "Ownership", "owner", f"lot-{i}", {})
    store_db.dispose_all()
    page = client.get("/entities/owner").text
    assert re.search(r"<h3>Ownership: Owns <span class=\"muted\">\(4\)</span></h3>", page)
    shown = re.findall(r'<a href="/entities/lot-\d">([^<]+)</a>', page)
    assert shown == ["Álamos Lote 3", "Badiraguato Lote 7", "Culiacán Lote 1", "Zacatecas Lote 9"]


def test_a_sources_page_shows_a_cited_page_as_the_entity_page_does(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    with store_db.session_scope(db_url) as s:
        svc.create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez"}, entity_id="rosa")
        source = svc.create_source(s, SYSTEM, title="Periódico Oficial de Sonora", url="https://example.org/po.pdf")
        svc.cite(s, SYSTEM, source.id, entity_id="rosa", page="1")
        source_id = source.id
    store_db.dispose_all()
    assert "p. 1" in client.get("/entities/rosa").text
    cited_by = client.get(f"/sources/{source_id}").text
    row = re.search(r'<tr><td><a href="/entities/rosa">Rosa Elena Mendez</a>.*?</tr>', cited_by, re.DOTALL)
    assert row and "<td>p. 1</td>" in row.group(0)


def test_removing_a_dossiers_evidence_is_refused_on_the_entity_page_itself(db_url):
    """The refusal came as a bare 'Invalid input (422)' page; it is said on the page the button was on."""
    from test_dossier_scenario import build_scenario, complete_dossier

    from workbench.dossiers import workflow
    from workbench.store.models import Citation

    with store_db.session_scope(db_url) as s:
        sc = build_scenario(s, RITA)
        workflow.submit(s, RITA, complete_dossier(s, RITA, sc))
        cited = s.get(Citation, sc.associate_citation)
        page_of, link_id = (cited.entity_id, None) if cited.entity_id else (sc.target, cited.link_id)
    store_db.dispose_all()
    client = signed_in_client(db_url, "rita", "researcher")
    token = csrf_of(client, f"/entities/{page_of}")
    refused = client.post(f"/citations/{sc.associate_citation}/delete",
                          data={"csrf_token": token, "back": f"/entities/{page_of}"})
    assert refused.status_code == 200 and str(refused.url).endswith(f"/entities/{page_of}")
    flash = re.search(r'class="flash error"[^>]*>(.*?)</', refused.text, re.DOTALL)
    assert flash and flash.group(1).startswith("Not removed: citation") and "under review" in flash.group(1)
    with store_db.session_scope(db_url) as s:
        assert s.get(Citation, sc.associate_citation) is not None
        assert link_id is None or s.get(Citation, sc.associate_citation).link_id == link_id
