"""QA pass on screening (CLI and web jobs), search and the entity pages: each test failed before its fix.

Every person, company and parcel here is FICTIONAL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web_helpers import csrf_of, signed_in_client

from workbench.cli import app
from workbench.store.db import session_scope
from workbench.store.entities import cite, create_entity, create_link, create_source, get_entity
from workbench.store.permissions import Actor

pytest.importorskip("workbench.matching.jobs")

runner = CliRunner()
RITA = Actor("rita", "researcher")
MAPPING = (Path(__file__).resolve().parents[1] / "fixtures" / "mappings" / "county_property_roll.yml").read_text()
ROLL_HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def _flashes(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)</(?:p|div)>',
                                                                   page, re.DOTALL)]


def _run_roll(db_url, tmp_path, rows: list[str]) -> str:
    """Screen a FICTIONAL roll to the end, in this thread (no polling): the job's id."""
    from workbench.matching import jobs

    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(ROLL_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    with session_scope(db_url) as s:
        job_id = jobs.start_job(s, RITA, roll, MAPPING, threshold=0.7).id
    jobs.run_job(job_id, db_url)
    return job_id


# ---- labels, not keys -------------------------------------------------------------------------

def test_entity_page_shows_topic_labels_and_country_names_and_keeps_the_stored_values(db_url, client):
    """The page printed 'role.pep' and 'mx' where the schema's vocabulary and the country table have words."""
    with session_scope(db_url) as s:
        person = create_entity(s, RITA, "Person", {"name": ["Ana Ficticia Ruiz"], "topics": ["role.pep"],
                                                   "nationality": ["mx"], "country": ["us"]}).obj.id
        parcel = create_entity(s, RITA, "RealEstate", {"name": ["Parcel FICT-1"]}).obj.id
        create_link(s, RITA, "Ownership", person, parcel)
        create_source(s, RITA, url="https://example.org/fictional-roll", title="Padrón Ficticio")
    page = client.get(f"/entities/{person}").text
    facts = re.search(r'<table class="dense facts">(.*?)</table>', page, re.DOTALL).group(1)
    assert ">Politically exposed person</span>" in facts and ">Mexico</span>" in facts
    assert ">United States of America</span>" in facts
    assert ">role.pep<" not in facts and ">mx<" not in facts
    assert "Topics: Politically exposed person" in page  # the citation picker too
    assert '<span class="kind">Real estate</span>' in page  # the other end of a link, by its kind's label
    with session_scope(db_url) as s:  # the stored values are unchanged
        stored = get_entity(s, person).properties
        assert stored["topics"] == ["role.pep"] and stored["nationality"] == ["mx"]
    listing = client.get("/entities?kind=Person").text
    assert "<td>Mexico</td>" in listing or "<td>United States of America</td>" in listing


def test_search_results_name_the_kind_by_its_label(db_url, client):
    with session_scope(db_url) as s:
        create_entity(s, RITA, "RealEstate", {"name": ["Rancho Ficticio Las Palmas"]})
    page = client.get("/search", params={"q": "Rancho Ficticio Las Palmas"}).text
    assert "<td>Real estate</td>" in page and "<td>RealEstate</td>" not in page


# ---- search page ------------------------------------------------------------------------------

def test_a_blank_query_is_no_search_and_a_full_page_says_there_may_be_more(db_url, client):
    blank = client.get("/search", params={"q": "   "}).text
    assert "results for" not in blank and "No match" not in blank
    with session_scope(db_url) as s:
        for n in range(55):
            create_entity(s, RITA, "Company", {"name": [f"Ficticia Exportadora {n:02d} S.A. de C.V."]})
    page = client.get("/search", params={"q": "Ficticia Exportadora"}).text
    status = re.search(r'role="status">(.*?)</p>', page, re.DOTALL).group(1)
    assert "there may be more" in status and "50" in status


def test_a_query_that_reverses_text_direction_stays_inside_its_quotes(client):
    page = client.get("/search", params={"q": "\u202eabc"}).text
    assert "“<bdi>\u202eabc</bdi>”" in page


# ---- the screening CLI ------------------------------------------------------------------------

def test_screen_into_a_missing_folder_exits_2_with_a_message(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("name\nJuan Ficticio\n", encoding="utf-8")
    watch = tmp_path / "wl.csv"
    watch.write_text("id,name\nw1,Juan Ficticio\n", encoding="utf-8")
    out = tmp_path / "missing" / "out.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watch)])
    assert result.exit_code == 2 and "cannot write the output there" in result.output
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("left,right\na,b\n", encoding="utf-8")
    result = runner.invoke(app, ["match", "pairs", str(pairs), "-o", str(out)])
    assert result.exit_code == 2 and "cannot write the output there" in result.output
    assert not out.parent.exists()


def test_a_non_utf8_byte_is_reported_on_its_own_line(tmp_path):
    """The text reader decodes blocks, so the error named line 1 for a bad byte on line 4."""
    src = tmp_path / "in.csv"
    src.write_bytes("name\nAna Ficticia\nLuis Ficticio\nJos\xe9 Garc\xeda\n".encode("latin-1"))
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(src)])
    assert result.exit_code == 2
    result = runner.invoke(app, ["match", "pairs", str(src), "-o", str(out)])
    assert result.exit_code == 2  # (no left/right header: the header is checked first)
    src.write_bytes("left,right\nAna,Ana\nLuis,Luis\nJos\xe9,Jose\n".encode("latin-1"))
    result = runner.invoke(app, ["match", "pairs", str(src), "-o", str(out)])
    assert result.exit_code == 2 and "in.csv line 4, 0-based data row 2: not valid UTF-8" in result.output, result.output
    assert not out.exists()


def test_a_repeated_name_column_and_an_empty_watchlist_are_bad_input(tmp_path):
    twice = tmp_path / "twice.csv"
    twice.write_text("name,city,name\nAna Ficticia,Laredo,Luis Ficticio\n", encoding="utf-8")
    watch = tmp_path / "wl.csv"
    watch.write_text("id,name\nw1,Ana Ficticia\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["screen", str(twice), "-o", str(out), "--against", str(watch)])
    assert result.exit_code == 2 and "'name' more than once" in result.output
    empty = tmp_path / "empty_wl.csv"
    empty.write_text("id,name,schema,aliases\n", encoding="utf-8")
    src = tmp_path / "in.csv"
    src.write_text("name\nAna Ficticia\n", encoding="utf-8")
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(empty)])
    assert result.exit_code == 2 and "no entries" in result.output
    assert not out.exists()


# ---- screening jobs ---------------------------------------------------------------------------

def test_owner_names_split_care_of_lines_and_drop_roll_notations():
    from workbench.matching.owners import owner_names

    assert owner_names("RIBERA FICTICIA HOLDINGS LLC C/O JOSE MARIA VILLAFICTO") == [
        "RIBERA FICTICIA HOLDINGS LLC C/O JOSE MARIA VILLAFICTO", "RIBERA FICTICIA HOLDINGS LLC",
        "JOSE MARIA VILLAFICTO"]
    assert owner_names("FICTO RUIZ ANA ET AL")[1:] == ["FICTO RUIZ ANA"]
    assert owner_names("FICTO RUIZ FAMILY TRUST DATED 1/1/2001")[1:] == ["FICTO RUIZ"]
    assert owner_names("FIRST TRUST BANK OF FICTIONVILLE") == ["FIRST TRUST BANK OF FICTIONVILLE"]
    assert owner_names("") == []



def test_owner_names_reads_every_way_a_roll_writes_its_notations():
    """Cells without any notation skip the patterns (a shortcut taken for most rows): the notations
    must still be read however they are spaced or cased, and a clean cell comes back as written."""
    from workbench.matching.owners import owner_names

    assert owner_names("ficto ruiz ana et al")[1:] == ["ficto ruiz ana"]
    assert owner_names("FICTO HOLDINGS LLC C / O ANA RUIZ")[1:] == ["FICTO HOLDINGS LLC", "ANA RUIZ"]
    assert owner_names("FICTO HOLDINGS LLC ATTENTION ANA RUIZ")[1:] == ["FICTO HOLDINGS LLC", "ANA RUIZ"]
    assert owner_names("FICTO HOLDINGS LLC % ANA RUIZ")[1:] == ["FICTO HOLDINGS LLC", "ANA RUIZ"]
    assert owner_names("JUAN FICTO A.K.A. EL FICTICIO")[1:] == ["JUAN FICTO", "EL FICTICIO"]
    assert owner_names("ESTATE OF MARIA FICTO")[1:] == ["MARIA FICTO"]
    assert owner_names("RUIZ ANA L/E")[1:] == ["RUIZ ANA"]
    # Non-ASCII cells take the patterns' own case folding: the Kelvin sign reads as K in 'A.K.A.'.
    assert owner_names("JUAN FICTO A\u212aA EL FICTICIO")[1:] == ["JUAN FICTO", "EL FICTICIO"]
    assert owner_names("  GARCÍA FICTO, Ana  ") == ["GARCÍA FICTO, Ana"]
    assert owner_names("Ana Ficto Ruiz,") == ["Ana Ficto Ruiz,", "Ana Ficto Ruiz"]

def test_a_care_of_owner_cell_raises_both_the_company_and_the_person(db_url, tmp_path):
    """'X LLC C/O Y' scored 0.59 against X and less against Y: neither was raised."""
    from workbench.matching.review import open_items

    with session_scope(db_url) as s:
        company = create_entity(s, RITA, "Company", {"name": ["Ribera Ficticia Holdings LLC"]}).obj.id
        person = create_entity(s, RITA, "Person", {"name": ["José María Villaficto Ibarra"],
                                                   "alias": ["VILLAFICTO IBARRA, Jose Maria"]}).obj.id
    job_id = _run_roll(db_url, tmp_path, [
        'FICT-9-1,"1 Test St",C,RIBERA FICTICIA HOLDINGS LLC C/O JOSE MARIA VILLAFICTO IBARRA,"PO BOX 1",01/01/2020,1',
    ])
    with session_scope(db_url) as s:
        raised = {i.entity_id: i.query_name for i in open_items(s, job_id)}
    assert raised == {company: "RIBERA FICTICIA HOLDINGS LLC", person: "JOSE MARIA VILLAFICTO IBARRA"}


def test_a_decided_hit_cannot_be_decided_again_and_keeps_what_it_created(db_url, client, tmp_path):
    """Confirming again (a second click, a script without the version) ran the mapping again and
    replaced the item's list of created records with []; rejecting a confirmed hit did the same."""
    from workbench.matching.review import open_items
    from workbench.store.models import ReviewItem

    with session_scope(db_url) as s:
        create_entity(s, RITA, "Person", {"name": ["Severo Ficticio Mendoza"]})
    job_id = _run_roll(db_url, tmp_path, ['FICT-9-2,"2 Test St",P,SEVERO FICTICIO MENDOZA,"PO BOX 2",03/15/2019,1'])
    with session_scope(db_url) as s:
        item_id = open_items(s, job_id)[0].id
    token = client.headers["X-CSRF-Token"]
    first = client.post(f"/screening/items/{item_id}", data={"csrf_token": token, "verdict": "confirmed",
                                                             "job_id": job_id, "version": "1"})
    assert first.status_code == 200 and "2 new records created" in " ".join(_flashes(first.text))
    with session_scope(db_url) as s:
        created = list(s.get(ReviewItem, item_id).created_entities)
    assert len(created) == 2
    for verdict in ("confirmed", "rejected"):
        again = client.post(f"/screening/items/{item_id}", data={"csrf_token": token, "verdict": verdict,
                                                                 "job_id": job_id})
        assert again.status_code == 200
        assert any("already confirmed by rita" in f for f in _flashes(again.text)), _flashes(again.text)
    with session_scope(db_url) as s:
        item = s.get(ReviewItem, item_id)
        assert (item.status, item.created_entities) == ("confirmed", created)


def test_a_refused_source_title_is_explained_next_to_the_field(client):
    """A title over 500 characters said 'see the messages next to the fields' and showed none."""
    response = client.post("/screening", data={
        "csrf_token": client.headers["X-CSRF-Token"], "mapping_name": "county_property_roll.yml", "threshold": "0.7",
        "source_type": "registry", "title": "T" * 600},
        files={"file": ("roll.csv", (ROLL_HEADER + 'F-1,"1 St",P,ANA FICTICIA,"x",01/01/2020,1\n').encode(),
                        "text/csv")}, follow_redirects=False)
    assert response.status_code == 422
    field = re.search(r'<div class="field has-error"><label for="scr-title">(.*?)</div>', response.text, re.DOTALL)
    assert field and "at most 500 characters" in field.group(1)


# ---- merge keeps everything -------------------------------------------------------------------

def test_merge_brings_the_losers_values_so_their_citations_show_and_undo_takes_them_back(db_url, client):
    """Only names moved: the loser's CURP, birth date and topics (and the citations on them, which
    did move) vanished from view on both pages until the merge was undone."""
    with session_scope(db_url) as s:
        winner = create_entity(s, RITA, "Person", {"name": ["Jesús Ficticio Ramírez"]}).obj.id
        loser = create_entity(s, RITA, "Person", {"name": ["Chuy Ficticio Ramirez"], "birthDate": ["1979-02"],
                                                  "topics": ["role.official"],
                                                  "identifier": ["CURP:GULO900329HSLZPV09"]}).obj.id
        source = create_source(s, RITA, url="https://example.org/fictional-gaceta", title="Gaceta Ficticia 7")
        cite(s, RITA, source.id, entity_id=loser, prop="birthDate", value="1979-02", excerpt="nacido en febrero")
    token = client.headers["X-CSRF-Token"]
    merged = client.post(f"/entities/{winner}/judge", data={"csrf_token": token, "other_id": loser,
                                                            "verdict": "same"})
    assert merged.status_code == 200
    page = client.get(f"/entities/{winner}").text
    facts = re.search(r'<table class="dense facts">(.*?)</table>', page, re.DOTALL).group(1)
    assert ">1979-02</span>" in facts and "nacido en febrero" in facts
    assert ">Public official (state or municipal)</span>" in facts
    assert "CURP:GULO900329HSLZPV09" in page
    undo = re.search(r'action="/merges/(\d+)/undo"', client.get(f"/entities/{winner}/duplicates").text).group(1)
    assert client.post(f"/merges/{undo}/undo", data={"csrf_token": token}).status_code == 200
    with session_scope(db_url) as s:
        assert get_entity(s, winner).properties == {"name": ["Jesús Ficticio Ramírez"]}
        assert get_entity(s, loser).properties["identifier"] == ["CURP:GULO900329HSLZPV09"]
    assert "nacido en febrero" in client.get(f"/entities/{loser}").text
