"""Export file names carry the whole dossier id: two dossiers whose ids share a long prefix must not
download under the same name. The target is FICTIONAL."""

from __future__ import annotations

from web_helpers import signed_in_client

from workbench.dossiers import service
from workbench.dossiers.exports import FORMATS, export_dossier
from workbench.store.entities import create_entity
from workbench.store.permissions import Actor

RESEARCHER = Actor("rosa", "researcher")
ALPHA, BRAVO = "case-2026-0001-alpha", "case-2026-0001-bravo"  # the same first 12 characters


def _dossiers(session, *ids: str) -> None:
    target = create_entity(session, RESEARCHER, "Person", {"name": "FICTIONAL Ramiro Testigo",
                                                           "topics": ["fictional"]}).obj.id
    for dossier_id in ids:
        service.create_dossier(session, RESEARCHER, target, "kingpin-b2", dossier_id=dossier_id)
    session.commit()


def test_dossiers_sharing_an_id_prefix_download_under_different_names(db_url, session):
    _dossiers(session, ALPHA, BRAVO)
    client = signed_in_client(db_url, RESEARCHER.username, "researcher")
    names = {}
    for dossier_id in (ALPHA, BRAVO):
        response = client.get(f"/dossiers/{dossier_id}/export", params={"format": "md"})
        assert response.status_code == 200, response.text
        names[dossier_id] = response.headers["content-disposition"]
    assert names[ALPHA] == f'attachment; filename="dossier-{ALPHA}-v1.md"'
    assert names[BRAVO] == f'attachment; filename="dossier-{BRAVO}-v1.md"'


def test_every_format_names_the_whole_id_and_nothing_unsafe(session):
    odd = 'case 2026/0001:"alpha"\\..'
    _dossiers(session, odd)
    for fmt in FORMATS:
        name = export_dossier(session, odd, fmt, releasable=True).filename
        assert name.startswith("dossier-case_2026_0001__alpha__..-v1-releasable."), name
        assert not set(name) & set(' /\\:"'), name
