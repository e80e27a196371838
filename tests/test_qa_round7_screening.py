"""QA round 7, screening:

- the screening page preselects a mapping for real files: confirming a hit on a user's roll no longer
  stamps the FICTIONAL sample's topic and invented county on the new parcel; the sample mappings are
  still offered (for the samples) with every fixed value they write shown, and a job screened with one
  says so beside Confirm; the mappings for real files read the samples' columns (CLI import table);
- a job whose only match is a pair rejected earlier says so (count, row, entry, who rejected it and
  when) on its page, on the list of jobs and in the status API, instead of a bare "0 hits", and the
  hidden match can be raised again.

FICTIONAL names and files throughout.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from test_web_screening import wait_until_finished
from typer.testing import CliRunner
from web_helpers import api_entity, csrf_of, signed_in_client

from workbench.store import db as store_db
from workbench.store.models import Entity, ReviewItem

pytest.importorskip("workbench.matching.jobs")

MAPPINGS = Path(__file__).resolve().parents[1] / "fixtures" / "mappings"
HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"
COMPANY = "ALACRAN FICTICIO HOLDINGS LLC"
OFFICIAL = "FICTIONAL PERSON Cuatro Ejemplo"


@pytest.fixture
def client(db_url):
    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    return client


def _roll(rows: list[str]) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


def _form_defaults(client) -> tuple[str, str]:
    """The mapping the page preselects and the mapping text it fills in, as a browser would send them."""
    page = client.get("/screening").text
    select = re.search(r'<select id="scr-mapping".*?</select>', page, re.DOTALL).group(0)
    name = re.search(r'<option value="([^"]+)" selected>', select).group(1)
    text = html.unescape(re.search(r'<textarea id="scr-mapping-text"[^>]*>(.*?)</textarea>', page, re.DOTALL).group(1))
    return name, text


def _screen(client, data: bytes, name: str, mapping_name: str, mapping_text: str = "") -> str:
    response = client.post("/screening", data={
        "csrf_token": client.headers["X-CSRF-Token"], "mapping_name": mapping_name, "mapping_text": mapping_text,
        "threshold": "0.7", "source_type": "registry"}, files={"file": (name, data, "text/csv")},
        follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    assert wait_until_finished(client, job_id)["status"] == "done"
    return job_id


def _open_items(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr id="item-(\d+)" class="status-open">(.*?)</tr>', page, re.DOTALL)


def _decide(client, job_id: str, item_id: str, body: str, verdict: str):
    version = re.search(r'name="version" value="(\d+)"', body).group(1)
    return client.post(f"/screening/items/{item_id}", data={
        "csrf_token": client.headers["X-CSRF-Token"], "verdict": verdict, "job_id": job_id, "version": version},
        follow_redirects=True)


# ---- 1. fixed values meant for the demo -------------------------------------------------------

def test_confirming_a_hit_on_a_users_roll_with_the_preselected_mapping_stamps_no_demo_values(client, db_url):
    official = api_entity(client, "Person", name=OFFICIAL, topics=["role.official"])
    mapping_name, mapping_text = _form_defaults(client)
    assert "literal: fictional" not in mapping_text, f"{mapping_name} is preselected and writes FICTIONAL values"
    row = f'FICT-555-0101,"12 Sample St, Fictionville, TX 79999",P,{OFFICIAL},"1 Calle Ficticia",04/02/2021,310000'
    roll = _roll([row])
    job_id = _screen(client, roll, "county_roll_2024_FICTIONAL.csv", mapping_name, mapping_text)
    page = client.get(f"/screening/{job_id}").text
    [(item_id, body)] = [(i, b) for i, b in _open_items(page) if f"/entities/{official}" in b]
    assert "Confirmed" in _decide(client, job_id, item_id, body, "confirmed").text
    with store_db.session_scope(db_url) as s:
        created = s.get(ReviewItem, int(item_id)).created_entities
        parcels = [e for e in (s.get(Entity, c) for c in created) if e is not None and e.kind == "RealEstate"]
        assert [p.properties.get("parcelNumber") for p in parcels] == [["FICT-555-0101"]]
        assert "fictional" not in parcels[0].properties.get("topics", [])
        assert not any("FICTIONAL" in v for v in parcels[0].properties.get("county", []))


def test_a_mailing_address_left_out_of_a_confirmation_is_said_on_the_queue(client, db_url):
    """Confirming adds the row's mailing address to the official. A value that no longer fits when the hit
    is decided (the row was checked at upload, under the rules of that day) was left out with a warning
    no one saw. The queue now says so; the confirmation stands."""
    official = api_entity(client, "Person", name=OFFICIAL, topics=["role.official"])
    mapping_name, mapping_text = _form_defaults(client)
    row = f'FICT-555-0103,"16 Sample St, Fictionville, TX 79999",P,{OFFICIAL},"1 Calle Ficticia",04/02/2021,310000'
    job_id = _screen(client, _roll([row]), "county_roll_2024_FICTIONAL.csv", mapping_name, mapping_text)
    [(item_id, body)] = [(i, b) for i, b in _open_items(client.get(f"/screening/{job_id}").text)
                         if f"/entities/{official}" in b]
    with store_db.session_scope(db_url) as s:  # what a stricter check of today makes of the stored row
        item = s.get(ReviewItem, int(item_id))
        item.row_data = {**item.row_data, "OWNER_MAILING_ADDRESS": "1 Calle \u202eFicticia"}
    [body] = [b for i, b in _open_items(client.get(f"/screening/{job_id}").text) if i == item_id]

    page = _decide(client, job_id, item_id, body, "confirmed").text

    assert "Confirmed: row 1" in page, re.findall(r'<p class="flash.*?</p>', page, re.DOTALL)
    warning = re.search(r'<p class="flash warning" role="status">(.*?)</p>', page, re.DOTALL)
    assert warning, "the left-out address is not mentioned"
    assert "Row 1: Address &#39;1 Calle" in warning.group(1) and "left out: contains the invisible direction control U+202E" in warning.group(1)
    with store_db.session_scope(db_url) as s:
        assert s.get(ReviewItem, int(item_id)).status == "confirmed"
        assert not s.get(Entity, official).properties.get("address")


def test_the_page_shows_every_fixed_value_and_offers_the_sample_mappings_for_the_samples_only(client):
    page = client.get("/screening").text
    real = re.search(r'<optgroup label="For your files">(.*?)</optgroup>', page, re.DOTALL).group(1)
    samples = re.search(r'<optgroup label="For the FICTIONAL sample files only \(demo\)">(.*?)</optgroup>', page,
                        re.DOTALL).group(1)
    assert 'value="county_property_roll_real.yml" selected' in real
    assert 'value="county_property_roll.yml"' in samples and "county_property_roll_FICTIONAL.csv" in samples
    row = re.search(r'<tr id="fixed-county_property_roll.yml">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "County = “FICTIONAL Example County”" in row and "Topics = “FICTIONAL (demo scenario)”" in row
    assert "wrong on your records" in row
    real_row = re.search(r'<tr id="fixed-county_property_roll_real.yml">(.*?)</tr>', page, re.DOTALL).group(1)
    assert "FICTIONAL" not in real_row and "deed" in real_row  # the one fixed value left: the kind of link


def test_a_job_screened_with_a_sample_mapping_warns_beside_confirm(client):
    api_entity(client, "Person", name=OFFICIAL, topics=["role.official"])
    roll = _roll([f'FICT-555-0102,"14 Sample St, Fictionville, TX 79999",P,{OFFICIAL},"x",04/02/2021,1'])
    job_id = _screen(client, roll, "county_roll_2024_FICTIONAL.csv", "county_property_roll.yml")
    page = client.get(f"/screening/{job_id}").text
    warning = re.search(r'<div id="fixed-values" class="flash warning" role="note">(.*?)</div>', page, re.DOTALL)
    assert warning, "no warning that the sample mapping stamps demo values"
    assert "written for the FICTIONAL sample files" in warning.group(1)
    assert "County = “FICTIONAL Example County”" in warning.group(1)
    assert "county_property_roll_real.yml" in warning.group(1)
    assert page.index('id="fixed-values"') < page.index('value="confirmed"')  # seen before Confirm


@pytest.mark.parametrize("stem", ["county_property_roll", "state_company_registry", "mx_asset_declaration"])
def test_the_mappings_for_real_files_import_the_sample_columns_without_demo_values(db_url, stem):
    from workbench.cli import app

    sample = next(MAPPINGS.glob(f"{stem}_FICTIONAL.*"))
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["import", "table", str(sample), "--mapping", str(MAPPINGS / f"{stem}_real.yml")])
    assert result.exit_code == 0, result.output
    with store_db.session_scope(db_url) as s:
        imported = s.query(Entity).filter(Entity.id.like("tbl-%")).all()
        assert imported
        for entity in imported:
            assert "fictional" not in entity.properties.get("topics", []), entity.caption
            assert not any("FICTIONAL Example" in v for v in entity.properties.get("county", []))


def test_the_cli_refuses_a_sample_mapping_on_a_file_that_is_not_a_sample(db_url, tmp_path):
    """`workbench import table` stamped the sample mapping's FICTIONAL topic and county on a user's own
    roll without a word; it now refuses, names the values and the mapping for real files, and imports
    nothing. The sample itself (and any file named as one) still imports with it; --allow-demo-values
    overrides."""
    from workbench.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
    own = tmp_path / "travis_county_2024.csv"
    own.write_text((MAPPINGS / "county_property_roll_FICTIONAL.csv").read_text(encoding="utf-8"), encoding="utf-8")
    mapping = MAPPINGS / "county_property_roll.yml"

    refused = runner.invoke(app, ["import", "table", str(own), "--mapping", str(mapping)])

    assert refused.exit_code == 2, refused.output
    message = " ".join(refused.output.split())
    assert "written for the FICTIONAL sample files" in message and "travis_county_2024.csv" in message
    assert "'FICTIONAL Example County'" in message and "Nothing was imported" in message
    assert "county_property_roll_real.yml" in message
    with store_db.session_scope(db_url) as s:
        assert s.query(Entity).filter(Entity.id.like("tbl-%")).count() == 0

    sample = runner.invoke(app, ["import", "table", str(MAPPINGS / "county_property_roll_FICTIONAL.csv"),
                                 "--mapping", str(mapping)])
    assert sample.exit_code == 0, sample.output
    forced = runner.invoke(app, ["import", "table", str(own), "--mapping", str(mapping), "--allow-demo-values"])
    assert forced.exit_code == 0, forced.output


# ---- 2. matches hidden by an earlier rejection -------------------------------------------------

def test_a_match_hidden_by_an_earlier_rejection_is_counted_named_and_can_be_raised_again(client, db_url):
    company = api_entity(client, "Company", name=COMPANY)
    mapping = "county_property_roll_real.yml"
    row = f'FICT-777-0001,"7 Sample St, Fictionville, TX 79999",C,{COMPANY},"9 Sample Plaza, Fictionville, TX",01/05/2020,99'
    first = _screen(client, _roll([row]), "roll_january_FICTIONAL.csv", mapping)
    [(item_id, body)] = [(i, b) for i, b in _open_items(client.get(f"/screening/{first}").text)
                         if f"/entities/{company}" in b]
    _decide(client, first, item_id, body, "rejected")

    second = _screen(client, _roll([row.replace("FICT-777-0001", "FICT-777-0002")]), "roll_march_FICTIONAL.csv",
                     mapping)
    page = client.get(f"/screening/{second}").text
    assert re.search(r'<span id="job-hidden-count">1</span> match was hidden: the same name and entry were '
                     r'rejected earlier\. <a href="#hidden">Show it</a>', page)
    assert "No hits to review: 1 hidden by earlier rejections" in page
    hidden = re.search(r'<h2 id="hidden">.*?</table>', page, re.DOTALL).group(0)
    assert COMPANY in hidden and f'href="/entities/{company}"' in hidden and "FICT-777-0002" in hidden
    who = re.search(r'<td class="hidden-by">(.*?)</td>', hidden, re.DOTALL).group(1)
    assert re.search(r"rejected by rita on \d{4}-\d\d-\d\d \d\d:\d\d UTC \(row 1 of <a href=\"/screening/"
                     + first + r"\?item=" + item_id + r"#item-" + item_id + r'">roll_january_FICTIONAL\.csv</a>\)', who), who
    listing = client.get("/screening").text
    assert re.search(r'roll_march_FICTIONAL\.csv</a>.*?<td class="num">0</td><td class="num">'
                     rf'<a href="/screening/{second}#hidden">1</a></td>', listing)
    home = client.get("/").text  # the home page's recent jobs say it too
    assert re.search(r'roll_march_FICTIONAL\.csv</a>.*?<td class="num">0</td><td class="num">'
                     rf'<a href="/screening/{second}#hidden">1</a></td>', home)
    status = client.get(f"/api/screening/{second}").json()
    assert (status["hits"], status["hidden_by_earlier_rejections"]) == (0, 1)

    # a hidden match is not decided blind: it is raised again first, which lifts the rejection
    hidden_id = re.search(r'<tr id="item-(\d+)" class="status-hidden">', hidden).group(1)
    refused = client.post(f"/screening/items/{hidden_id}", data={
        "csrf_token": client.headers["X-CSRF-Token"], "verdict": "confirmed", "job_id": second}, follow_redirects=True)
    assert "Not recorded" in refused.text and "hidden by rita" in html.unescape(refused.text)
    version = re.search(r'name="version" value="(\d+)"', hidden).group(1)
    raised = client.post(f"/screening/items/{hidden_id}/undo", data={
        "csrf_token": client.headers["X-CSRF-Token"], "job_id": second, "version": version}, follow_redirects=True)
    assert "Rejection undone" in raised.text
    status = client.get(f"/api/screening/{second}").json()
    assert (status["hits"], status["hidden_by_earlier_rejections"]) == (1, 0)
    assert [i for i, _ in _open_items(client.get(f"/screening/{second}").text)] == [hidden_id]
    third = _screen(client, _roll([row]), "roll_april_FICTIONAL.csv", mapping)  # the pair is raised again
    assert client.get(f"/api/screening/{third}").json()["hits"] == 1


def test_undoing_the_earlier_rejection_puts_the_hidden_matches_of_later_jobs_in_their_queues(client):
    company = api_entity(client, "Company", name=COMPANY)
    mapping = "county_property_roll_real.yml"
    row = f'FICT-777-0003,"8 Sample St, Fictionville, TX 79999",C,{COMPANY},"x",01/05/2020,99'
    first = _screen(client, _roll([row]), "roll_may_FICTIONAL.csv", mapping)
    [(item_id, body)] = [(i, b) for i, b in _open_items(client.get(f"/screening/{first}").text)
                         if f"/entities/{company}" in b]
    _decide(client, first, item_id, body, "rejected")
    second = _screen(client, _roll([row]), "roll_june_FICTIONAL.csv", mapping)
    assert client.get(f"/api/screening/{second}").json()["hidden_by_earlier_rejections"] == 1
    page = client.get(f"/screening/{first}").text
    version = re.search(rf'<tr id="item-{item_id}".*?name="version" value="(\d+)"', page, re.DOTALL).group(1)
    client.post(f"/screening/items/{item_id}/undo", data={"csrf_token": client.headers["X-CSRF-Token"],
                                                          "job_id": first, "version": version})
    status = client.get(f"/api/screening/{second}").json()
    assert (status["hits"], status["hidden_by_earlier_rejections"], status["review"].get("open")) == (1, 0, 1)
