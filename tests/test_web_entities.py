"""Schema-driven entity and link forms, the entity page, citations, notes and optimistic locking."""

from __future__ import annotations

import re

import pytest
from web_helpers import csrf_of, signed_in_client

from workbench.store.permissions import SYSTEM as SYSTEM_ACTOR


@pytest.fixture
def client(db_url):
    return signed_in_client(db_url, "rita", "researcher")


def create(client, kind: str, **props) -> str:
    token = csrf_of(client, f"/entities/new?kind={kind}")
    data = {"kind": kind, "csrf_token": token, "decision": "new"}
    data.update({f"p.{k}": v for k, v in props.items()})
    response = client.post("/entities/new", data=data, follow_redirects=False)
    shown = re.findall(r'name="different_from" value="([^"]+)"', response.text) if response.status_code == 200 else []
    if shown:  # "this looks like X": the test means a new entry, so it answers "it's different", as a user would
        response = client.post("/entities/new", data={**data, "different_from": shown}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def test_every_concrete_kind_has_a_form_with_its_properties(client):
    from workbench.schema import registry

    for kind in registry().concrete_kinds():
        page = client.get(f"/entities/new?kind={kind.name}")
        assert page.status_code == 200, kind.name
        for prop in kind.form_properties().values():  # all but the inherited ones a kind leaves out (form_omits)
            assert f'name="p.{prop.name}"' in page.text, (kind.name, prop.name)
        for omitted in kind.form_omits:
            assert f'name="p.{omitted}"' not in page.text, (kind.name, omitted)
    assert client.get("/entities/new?kind=Thing").status_code == 422  # abstract


def test_validation_messages_appear_next_to_the_field_and_nothing_is_saved(client):
    token = csrf_of(client, "/entities/new?kind=Person")
    response = client.post("/entities/new", data={"kind": "Person", "csrf_token": token, "decision": "new",
                                                  "p.name": "Rosa Elena Mendez", "p.birthDate": "1979-13-01"})
    assert response.status_code == 422
    assert re.search(r'id="f-birthDate-errors"><li>.*month 13 does not exist', response.text)
    assert 'value="Rosa Elena Mendez"' in response.text  # what was typed is kept
    missing = client.post("/entities/new", data={"kind": "Person", "csrf_token": token, "decision": "new"})
    assert re.search(r'id="f-name-errors"><li>Name is required', missing.text)
    assert "Rosa Elena Mendez" not in client.get("/entities").text


def test_entity_page_shows_properties_names_identifier_warnings_and_history(client):
    entity_id = create(client, "Person", name="Rosa Elena Mendez Ruiz", alias="La Jefa", birthDate="1979-02-13",
                       identifier="CURP:MERR790213MSLNZS01")
    page = client.get(f"/entities/{entity_id}").text
    assert "Date of birth" in page and "1979-02-13" in page
    assert "La Jefa" in page and "Strong alias" in page
    assert "CURP:MERR790213MSLNZS01" in page
    assert "fails its check digit" in page or "malformed" in page
    assert "entity.create" in page and "rita" in page


def test_multi_valued_property_keeps_every_value(client):
    token = csrf_of(client, "/entities/new?kind=Person")
    response = client.post("/entities/new", data={"kind": "Person", "csrf_token": token, "decision": "new",
                                                  "p.name": "Jorge Salas",
                                                  "p.alias": ["El Ingeniero", "Jorge S.", ""]},
                           follow_redirects=True)
    assert "El Ingeniero" in response.text and "Jorge S." in response.text


def test_stale_edit_gets_a_conflict_message(client):
    entity_id = create(client, "Company", name="Inmobiliaria Costa Azul SA de CV")
    form = client.get(f"/entities/{entity_id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    token = csrf_of(client, "/")
    first = client.post(f"/entities/{entity_id}/edit", data={"csrf_token": token, "version": version,
                                                             "p.name": "Inmobiliaria Costa Azul", "p.country": "mx"},
                        follow_redirects=False)
    assert first.status_code == 303
    second = client.post(f"/entities/{entity_id}/edit", data={"csrf_token": token, "version": version,
                                                              "p.name": "Costa Azul Holdings"})
    assert second.status_code == 409
    assert "changed by someone else" in second.text
    page = client.get(f"/entities/{entity_id}").text
    assert "Inmobiliaria Costa Azul" in page and "Costa Azul Holdings" not in page


def test_link_form_creates_ownership_shown_on_both_pages_with_dates(client):
    person = create(client, "Person", name="Rosa Elena Mendez")
    company = create(client, "Company", name="Transportes del Valle SA")
    form = client.get(f"/links/new?entity={person}&kind=Ownership:out")
    assert form.status_code == 200 and 'name="p.percentage"' in form.text
    token = csrf_of(client, "/")
    bad = client.post("/links/new", data={"csrf_token": token, "kind": "Ownership", "entity": person,
                                          "direction": "out", "other_id": company, "p.percentage": "140"})
    assert bad.status_code == 422 and re.search(r'id="f-percentage-errors"><li>.*between 0 and 100', bad.text)
    ok = client.post("/links/new", data={"csrf_token": token, "kind": "Ownership", "entity": person,
                                         "direction": "out", "other_id": company, "p.percentage": "60",
                                         "p.startDate": "2015-03"}, follow_redirects=False)
    assert ok.status_code == 303
    # the message names the entry the link went to (QA round 9: 'Linked: owns.')
    assert "Linked: Rosa Elena Mendez owns Transportes del Valle SA." in client.get(ok.headers["location"]).text
    owner_page = client.get(f"/entities/{person}").text
    assert "Transportes del Valle SA" in owner_page and "2015-03" in owner_page and "Share (%): 60" in owner_page
    company_page = client.get(f"/entities/{company}").text
    assert "owned by" in company_page.lower() and "Rosa Elena Mendez" in company_page


def test_link_to_a_kind_the_schema_forbids_is_refused(client):
    person = create(client, "Person", name="Rosa Elena Mendez")
    other = create(client, "Person", name="Pedro Mendez")
    token = csrf_of(client, "/")
    response = client.post("/links/new", data={"csrf_token": token, "kind": "Ownership", "entity": person,
                                               "direction": "out", "other_id": other})
    assert response.status_code == 422
    assert "Ownership cannot end at a Person" in response.text


def test_citing_a_source_shows_it_under_the_fact(client):
    person = create(client, "Person", name="Rosa Elena Mendez", birthDate="1979")
    token = csrf_of(client, "/sources/new")
    made = client.post("/sources/new", data={"csrf_token": token, "url": "https://example.org/gazette/12",
                                             "title": "State gazette no. 12", "source_type": "official",
                                             "reliability": "A"}, follow_redirects=False)
    source_id = made.headers["location"].rsplit("/", 1)[-1]
    page = client.get(f"/entities/{person}").text
    target = re.search(r'<option value="(prop:birthDate:0)">', page).group(1)
    cited = client.post(f"/entities/{person}/cite", data={"csrf_token": token, "source_id": source_id,
                                                          "target": target, "excerpt": "born in 1979", "page": "4"},
                        follow_redirects=True)
    assert "Source cited" in cited.text
    row = re.search(r"Date of birth</th><td>(.*?)</td>", cited.text, re.DOTALL).group(1)
    assert "State gazette no. 12" in row and "born in 1979" in row and "p. 4" in row
    assert "Rosa Elena Mendez" in client.get(f"/sources/{source_id}").text
    # A page typed as 'pp. 7-8' is shown as typed, here and in the history ('p. pp. 7-8' before).
    again = client.post(f"/entities/{person}/cite", data={"csrf_token": token, "source_id": source_id,
                                                          "target": "", "page": "pp. 7-8"}, follow_redirects=True)
    assert "pp. 7-8" in again.text and "p. pp." not in again.text


def test_notes_are_listed_with_author(client):
    person = create(client, "Person", name="Rosa Elena Mendez")
    token = csrf_of(client, "/")
    client.post(f"/entities/{person}/notes", data={"csrf_token": token, "text": "Check the 2019 declaration."})
    page = client.get(f"/entities/{person}").text
    assert "Check the 2019 declaration." in page and re.search(r"<header>rita ·", page)


def test_missing_entity_is_404(client):
    assert client.get("/entities/does-not-exist").status_code == 404


def test_entity_list_filters_by_kind_including_descendants(client):
    create(client, "Person", name="Rosa Elena Mendez")
    create(client, "Company", name="Transportes del Valle SA")
    def table(path):
        return re.search(r"<tbody>(.*?)</tbody>", client.get(path).text, re.DOTALL).group(1)

    people = table("/entities?kind=Person")
    assert "Rosa Elena Mendez" in people and "Transportes del Valle" not in people
    orgs = table("/entities?kind=Organization")
    assert "Transportes del Valle" in orgs and "Rosa Elena" not in orgs


def _form_fields(html: str, form_id: str = "entity-form") -> dict[str, list[str]]:
    """The (name, value) pairs a browser would post from the page's entity (or link) form."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.pairs = False, []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form" and attrs.get("id") == form_id:
                self.inside = True
            elif self.inside and tag == "input" and attrs.get("name") and attrs.get("type") != "checkbox":
                self.pairs.append((attrs["name"], attrs.get("value") or ""))

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False

    parser = Fields()
    parser.feed(html)
    fields: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        fields.setdefault(name, []).append(value)
    return fields


def test_saving_again_after_a_conflict_keeps_both_peoples_changes(client):
    entity_id = create(client, "Person", name="Jose Maria Villasenor (FICTIONAL)")
    tab1 = _form_fields(client.get(f"/entities/{entity_id}/edit").text)
    tab2 = _form_fields(client.get(f"/entities/{entity_id}/edit").text)
    # Tab 1 corrects the name.
    first = {**tab1, "p.name": ["Jose Maria Villasenor Ibarra (FICTIONAL)"]}
    assert client.post(f"/entities/{entity_id}/edit", data=first, follow_redirects=False).status_code == 303
    # Tab 2, opened before that, adds an alias and saves: refused, nothing saved.
    second = {**tab2, "p.alias": ["Chema (FICTIONAL)"]}
    refused = client.post(f"/entities/{entity_id}/edit", data=second)
    assert refused.status_code == 409 and "Nothing was saved" in refused.text
    # The same user, from another tab: the form says the change it met was theirs, not someone else's.
    assert "was changed by you since this form was opened (in another tab" in refused.text
    assert "Changed in your other save (now shown): Name" in refused.text and "someone else" not in refused.text
    carried = _form_fields(refused.text)
    assert carried["p.name"][0] == "Jose Maria Villasenor Ibarra (FICTIONAL)"
    assert carried["p.alias"][0] == "Chema (FICTIONAL)"
    # Saving the form as it now stands applies the alias without undoing the other person's name.
    again = client.post(f"/entities/{entity_id}/edit", data=carried, follow_redirects=False)
    assert again.status_code == 303
    page = client.get(f"/entities/{entity_id}").text
    assert "Jose Maria Villasenor Ibarra (FICTIONAL)" in page and "Chema (FICTIONAL)" in page


def test_a_link_form_the_save_would_refuse_is_refused_when_asked_for(client):
    person = create(client, "Person", name="Rosa Elena Mendez (FICTIONAL)")
    refused = client.get(f"/links/new?entity={person}&kind=TerritoryParent:out")
    assert refused.status_code == 422
    assert "a Person cannot be the start of a &#39;part of&#39; link (allowed: Territory)" in refused.text
    assert client.get(f"/links/new?entity={person}&kind=Ownership:out").status_code == 200


def test_entity_list_pages_keep_the_kind_filter(db_url, client):
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        for number in range(101):
            create_entity(s, SYSTEM, "Person", {"name": f"Persona {number:03d}"})
        create_entity(s, SYSTEM, "Company", {"name": "Empresa Uno SA"})
    first = client.get("/entities", params={"kind": "Person"}).text
    assert "Page 1 of 2" in first and 'href="/entities?kind=Person&amp;page=2" rel="next"' in first
    second = client.get("/entities", params={"kind": "Person", "page": 2}).text
    assert second.count('href="/entities/') >= 1 and "Empresa Uno SA" not in second and 'rel="prev"' in second


def test_an_entity_with_more_values_than_a_form_usually_posts_can_still_be_edited(client):
    """An owner imported from a large roll holds over a thousand addresses: its edit form posts one field
    each (Starlette refused more than 1,000 fields with a 400)."""
    entity_id = create(client, "Company", name="FICTIONAL MANY ADDRESSES LLC")
    form = client.get(f"/entities/{entity_id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    token = csrf_of(client, "/")
    fields = [("csrf_token", token), ("version", version), ("p.name", "FICTIONAL MANY ADDRESSES LLC")]
    fields += [("p.address", f"{i} Registry Rd") for i in range(1200)]
    body = "&".join(f"{k}={v.replace(' ', '+')}" for k, v in fields)
    saved = client.post(f"/entities/{entity_id}/edit", content=body,
                        headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:300]
    assert "1199 Registry Rd" in client.get(f"/entities/{entity_id}").text


def test_saving_a_link_again_after_a_conflict_keeps_both_peoples_changes(db_url, client):
    """The link form re-shown after a conflict held the user's stale values under the new version:
    saving it again silently undid the other person's change. It now carries the user's own change
    over onto the current link, as entity forms do."""
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity, create_link
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        person = create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez (FICTIONAL)"}).obj.id
        cartel = create_entity(s, SYSTEM, "Organization", {"name": "Cartel Ficticio (FICTIONAL)"}).obj.id
        link_id = create_link(s, SYSTEM, "Membership", person, cartel, {"endDate": "2010"}).obj.id
    edit = f"/links/{link_id}/edit?entity={person}"
    tab1, tab2 = _form_fields(client.get(edit).text, "link-form"), _form_fields(client.get(edit).text, "link-form")
    first = {**tab1, "p.endDate": ["2012"]}
    assert client.post(f"/links/{link_id}/edit", data=first, follow_redirects=False).status_code == 303
    second = {**tab2, "p.role": ["Jefe de plaza"]}
    refused = client.post(f"/links/{link_id}/edit", data=second)
    assert refused.status_code == 409 and "Nothing was saved" in refused.text
    carried = _form_fields(refused.text, "link-form")
    assert carried["p.endDate"][0] == "2012" and carried["p.role"][0] == "Jefe de plaza"
    assert client.post(f"/links/{link_id}/edit", data=carried, follow_redirects=False).status_code == 303
    with store_db.session_scope(db_url) as s:
        from workbench.store.entities import get_link

        stored = get_link(s, link_id).properties
    assert stored["endDate"] == ["2012"] and stored["role"] == ["Jefe de plaza"]


def test_a_citation_of_a_corrected_value_stays_on_the_page_as_a_former_value(db_url, client):
    """Correcting a cited date of birth made its citation vanish from the entity's page (the source's
    page and the API still had it): the fact looked unsourced, and what the source said was hidden."""
    from workbench.store import db as store_db
    from workbench.store.entities import cite, create_entity, create_source, update_entity
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        person = create_entity(s, SYSTEM, "Person", {"name": "Jose Nunez Perez (FICTIONAL)",
                                                     "birthDate": "1979-02-01"}).obj.id
        source = create_source(s, SYSTEM, title="Acta (FICTIONAL)", url="https://example.org/acta").id
        cite(s, SYSTEM, source, entity_id=person, prop="birthDate", value="1979-02-01", excerpt="nacio en febrero")
        update_entity(s, SYSTEM, person, {"name": "Jose Nunez Perez (FICTIONAL)", "birthDate": "1979-02-02"})
    page = client.get(f"/entities/{person}").text
    assert "Sources for values no longer held" in page and "<del class=\"value\">1979-02-01</del>" in page
    assert "nacio en febrero" in page
    detail = client.get(f"/api/entities/{person}").json()
    assert any(c["excerpt"] == "nacio en febrero" for c in detail["citations"])


def test_an_entitys_history_shows_its_links_added_changed_and_removed(db_url, client):
    """Links are filed under their own ids: the entity's history left them out, so a relationship
    could vanish from the page (another entry deleted, say) without a trace on it."""
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity, create_link, delete_entity, update_link
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        person = create_entity(s, SYSTEM, "Person", {"name": "Rosa Elena Mendez (FICTIONAL)"}).obj.id
        cartel = create_entity(s, SYSTEM, "Organization", {"name": "Cartel Ficticio (FICTIONAL)"}).obj.id
        brother = create_entity(s, SYSTEM, "Person", {"name": "Pedro Mendez (FICTIONAL)"}).obj.id
        member = create_link(s, SYSTEM, "Membership", person, cartel, {"role": "contadora"}).obj.id
        create_link(s, SYSTEM, "Family", brother, person, {"relationship": "hermano"})
        update_link(s, SYSTEM, member, {"role": "jefa de plaza"})
        delete_entity(s, SYSTEM, brother)
    page = client.get(f"/entities/{person}").text
    history = page[page.index('id="h-history"'):]
    assert "Link added: Rosa Elena Mendez (FICTIONAL) member of Cartel Ficticio (FICTIONAL) (Role: contadora)" in history
    assert "Link changed: Rosa Elena Mendez (FICTIONAL) member of Cartel Ficticio (FICTIONAL)" in history
    assert "contadora → jefa de plaza" in history
    assert "Link removed: Pedro Mendez (FICTIONAL)" in history and "hermano" in history
    assert "Link added: Pedro Mendez (FICTIONAL) (deleted)" in history  # a removed link's whole story


def test_the_history_of_an_entity_with_an_accented_id_shows_its_removed_links(db_url, client):
    """Audit JSON writes non-ASCII escaped: a search for the id as typed never found its removed links."""
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity, create_link, delete_link
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        person = create_entity(s, SYSTEM, "Person", {"name": "José Ñúñez (FICTIONAL)"}, entity_id="josé-ñúñez").obj.id
        other = create_entity(s, SYSTEM, "Person", {"name": "Ana Ñúñez (FICTIONAL)"}).obj.id
        link = create_link(s, SYSTEM, "Family", person, other, {"relationship": "hermana"}).obj.id
        delete_link(s, SYSTEM, link)
    history = client.get(f"/entities/{person}").text
    assert "Link removed: José Ñúñez (FICTIONAL)" in history and "Link added: José Ñúñez (FICTIONAL)" in history


def test_the_entity_list_is_alphabetical_whatever_the_accents_and_case(db_url, client):
    """Byte order put 'Álvarez' and 'de la Cruz' after every capitalised name up to 'Z'."""
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity, update_entity
    from workbench.store.permissions import SYSTEM

    with store_db.session_scope(db_url) as s:
        for name in ("Zambada García, Ismael", "Álvarez Lara, Óscar", "de la Cruz Ávila, Ana", "Bravo Núñez, Elena",
                     "Ángeles Pérez, Luis"):
            create_entity(s, SYSTEM, "Person", {"name": [name]})
        renamed = create_entity(s, SYSTEM, "Person", {"name": ["Xochitl Ortega"]}).obj.id
    with store_db.session_scope(db_url) as s:
        update_entity(s, SYSTEM, renamed, {"name": ["Élmer Ortega"]})
    page = client.get("/entities", params={"kind": "Person"}).text
    shown = [name for name in re.findall(r'<a href="/entities/[^"]+">([^<]+)</a>', page)]
    assert shown == ["Álvarez Lara, Óscar", "Ángeles Pérez, Luis", "Bravo Núñez, Elena", "de la Cruz Ávila, Ana",
                     "Élmer Ortega", "Zambada García, Ismael"]


def test_imported_entries_take_their_place_in_the_list(db_url, client, tmp_path):
    from typer.testing import CliRunner

    from workbench.cli import app

    (tmp_path / "roll.csv").write_text("apn,owner\n1,Zúñiga Soto Ana\n2,álvarez ruiz juan\n3,Mora Díaz Eva\n",
                                       encoding="utf-8")
    (tmp_path / "map.yml").write_text(
        "entities:\n  owner:\n    kind: Person\n    key: [owner]\n    properties:\n      name: owner\n",
        encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "table", str(tmp_path / "roll.csv"), "--mapping",
                                      str(tmp_path / "map.yml")])
    assert result.exit_code == 0, result.output
    page = client.get("/entities", params={"kind": "Person"}).text
    assert re.findall(r'<a href="/entities/[^"]+">([^<]+)</a>', page) == [
        "álvarez ruiz juan", "Mora Díaz Eva", "Zúñiga Soto Ana"]


def test_an_older_source_is_found_for_a_citation_and_none_is_chosen_for_the_researcher(db_url, client):
    """Only the newest 200 sources were offered (every screening upload adds one), the newest chosen
    by default: a researcher could cite a screening CSV without noticing."""
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity, create_source

    with store_db.session_scope(db_url) as s:
        person = create_entity(s, SYSTEM_ACTOR, "Person", {"name": ["Ana Ficticia"]}).obj.id
        old = create_source(s, SYSTEM_ACTOR, title="Gaceta Oficial FICTICIA 1999", url="https://example.org/gaceta").id
        for number in range(200):
            create_source(s, SYSTEM_ACTOR, title=f"roll-{number:03d}.csv (FICTIONAL)", url=f"https://example.org/r{number}")
    page = client.get(f"/entities/{person}").text
    select = re.search(r'<select id="cite-source"[^>]*>(.*?)</select>', page, re.DOTALL).group(1)
    assert select.startswith('<option value="">') and old not in select
    assert "Listing the 200 newest sources" in page and 'name="source_q"' in page
    found = client.get(f"/entities/{person}", params={"source_q": "gaceta"}).text
    select = re.search(r'<select id="cite-source"[^>]*>(.*?)</select>', found, re.DOTALL).group(1)
    assert f'<option value="{old}">Gaceta Oficial FICTICIA 1999' in select and "roll-" not in select
    token = csrf_of(client, f"/entities/{person}")
    cited = client.post(f"/entities/{person}/cite", data={"csrf_token": token, "source_id": old, "target": ""},
                        follow_redirects=True)
    assert "Source cited." in cited.text
    none = client.get(f"/entities/{person}", params={"source_q": "no such thing"}).text
    assert "No source matches" in none


def test_a_second_link_of_the_same_kind_between_two_entries_is_kept_with_a_warning(client):
    """Two terms in one cartel are two facts, but the same membership entered twice would count double in
    the network and in a dossier: the second is saved, and the user is told which link was already there."""
    person = create(client, "Person", name="Rosa Elena Mendez (FICTIONAL)")
    cartel = create(client, "Organization", name="Cartel de Prueba (FICTIONAL)")
    token = csrf_of(client, "/")
    form = {"csrf_token": token, "kind": "Membership", "entity": person, "direction": "out", "other_id": cartel}
    first = client.post("/links/new", data={**form, "p.startDate": "2012", "p.endDate": "2015"})
    assert first.status_code == 200 and "already" not in first.text
    second = client.post("/links/new", data={**form, "p.startDate": "2019"})
    assert second.status_code == 200
    assert re.search(r"was already &#39;member of&#39; Cartel de Prueba \(FICTIONAL\) \(link [0-9a-f]+, 2012-2015\)",
                     second.text), second.text
    page = client.get(f"/entities/{person}").text
    assert "2012" in page and "2019" in page
