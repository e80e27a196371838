"""The web screening flow tells each hit's sanction status, as `workbench screen --against db` does: a hit on
a delisted entry (every Sanction record naming it delisted) is marked "delisted", one on a designated entry
"designated", and the job's page counts the hits on delisted entries."""

from __future__ import annotations

import re
import time

import pytest
from web_helpers import api_client, api_entity

pytest.importorskip("workbench.matching.jobs")

HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"


@pytest.fixture
def client(db_url):
    return api_client(db_url)


def designate(client, entity_id: str, status: str) -> None:
    sanction = api_entity(client, "Sanction", name="OFAC SDN", authority="OFAC", program="SDNTK",
                          status=status)
    assert client.post("/api/links", json={"kind": "SanctionOf", "source_id": sanction,
                                           "target_id": entity_id}).status_code == 201


def screen(client, roll: str) -> str:
    """Upload a roll on the screening page and wait for its job, polling what the page polls; the job's id."""
    response = client.post("/screening", data={
        "csrf_token": client.headers["X-CSRF-Token"], "mapping_name": "county_property_roll.yml",
        "mapping_text": "", "threshold": "0.7", "source_type": "registry"},
        files={"file": ("roll_FICTIONAL.csv", roll.encode("utf-8"), "text/csv")}, follow_redirects=False)
    assert response.status_code == 303, response.text
    job_id = response.headers["location"].rsplit("/", 1)[-1]
    deadline = time.monotonic() + 60
    while client.get(f"/api/screening/{job_id}").json()["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the screening job did not finish"
        time.sleep(0.05)
    return job_id


def hit_rows(page: str) -> dict[str, str]:
    """The queue's rows by the entity each names: the row's HTML."""
    rows = re.findall(r'<tr id="item-\d+" class="status-\w+">(.*?)</tr>', page, re.DOTALL)
    return {re.search(r'href="/entities/([^"]+)"', body).group(1): body for body in rows}


@pytest.fixture
def people(client):
    delisted = api_entity(client, "Person", name="FICTIONAL PERSON Alfa Retirado")
    twice_delisted = api_entity(client, "Person", name="FICTIONAL PERSON Bravo Levantado")
    designated = api_entity(client, "Person", name="FICTIONAL PERSON Charlie Vigente")
    unlisted = api_entity(client, "Person", name="FICTIONAL PERSON Delta Ninguno")
    designate(client, delisted, "delisted")
    designate(client, twice_delisted, "delisted")  # every one of its Sanction records is delisted
    designate(client, twice_delisted, "Delisted")
    designate(client, designated, "delisted")  # one record delisted, another still in force: designated
    designate(client, designated, "active")
    return {"delisted": delisted, "twice_delisted": twice_delisted, "designated": designated,
            "unlisted": unlisted}


def roll(*owners: str) -> str:
    """A FICTIONAL county property roll, a parcel for each owner (a person)."""
    return HEADER + "".join(f'FICT-9-{n},"{n} Imaginary Lane, Fictionville",P,{owner},"Calle Ficticia {n}",'
                            "03/15/2019,450000\n" for n, owner in enumerate(owners, start=1))


ROLL = roll("FICTIONAL PERSON Alfa Retirado", "FICTIONAL PERSON Bravo Levantado",
            "FICTIONAL PERSON Charlie Vigente", "FICTIONAL PERSON Delta Ninguno")


def test_the_job_page_marks_hits_on_delisted_entries_and_counts_them(client, people):
    job_id = screen(client, ROLL)
    page = client.get(f"/screening/{job_id}").text
    rows = hit_rows(page)
    assert set(people.values()) <= set(rows), "a person of the roll was not raised"

    def badge(entity_id: str) -> str:
        found = re.findall(r'<span class="badge[^"]*">([^<]*)</span>', rows[entity_id])
        return " ".join(found)

    assert "delisted" in badge(people["delisted"]) and "designated" not in badge(people["delisted"])
    assert "delisted" in badge(people["twice_delisted"])
    assert "designated" in badge(people["designated"]) and "delisted" not in rows[people["designated"]]
    assert "not sanctioned" in badge(people["unlisted"]) and "delisted" not in rows[people["unlisted"]]
    # the count, as the CLI's note says it, above the queue
    note = re.search(r'<p id="job-delisted"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert note, "the job's page does not count the hits on delisted entries"
    assert "2 hits on delisted entries" in note.group(1)

    # the JSON API the page polls says the count too
    assert client.get(f"/api/screening/{job_id}").json()["hits_on_delisted_entries"] == 2


def test_a_roll_hitting_no_delisted_entry_says_nothing_of_delisting(client, people):
    job_id = screen(client, roll("FICTIONAL PERSON Charlie Vigente"))
    page = client.get(f"/screening/{job_id}").text
    assert "designated" in hit_rows(page)[people["designated"]]
    assert "delisted" not in page
    assert client.get(f"/api/screening/{job_id}").json()["hits_on_delisted_entries"] == 0


def test_one_hit_on_a_delisted_entry_is_said_in_the_singular(client, people):
    job_id = screen(client, roll("FICTIONAL PERSON Alfa Retirado"))
    page = client.get(f"/screening/{job_id}").text
    assert "delisted" in hit_rows(page)[people["delisted"]]
    assert "1 hit on a delisted entry" in page


def test_the_queue_says_how_it_counts_rows(client, people):
    """QA round 16: the queue's 'Row 4' was the CSV's row 3 of `workbench screen`, with nothing to say why."""
    page = client.get(f"/screening/{screen(client, roll('FICTIONAL PERSON Alfa Retirado'))}").text
    assert ('<abbr title="Counted from 1 under the header, as citations count it (the CSV of workbench screen '
            'counts from 0)">Data row</abbr>') in page
    assert re.search(r'<td class="num">1</td>', hit_rows(page)[people["delisted"]])
