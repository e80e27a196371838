"""A screening job runs a mapped property roll against the workbench, resumably, into review items."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from workbench.matching import jobs
from workbench.matching.review import decide, open_items
from workbench.sources.demo import load_demo
from workbench.store.db import session_scope
from workbench.store.entities import links_of
from workbench.store.models import ReviewItem, ScreeningJob
from workbench.store.permissions import SYSTEM

MAPPING = (Path(__file__).resolve().parents[1] / "fixtures" / "mappings" / "county_property_roll.yml").read_text()
HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"


def _roll(tmp_path, rows: list[str]) -> Path:
    path = tmp_path / "roll_FICTIONAL.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _crash_on_call(monkeypatch, n: int):
    """Make the job die on the n-th row it screens (a killed process); returns the real function."""
    real = jobs._hits_for_row
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "_hits_for_row", dying)
    return real


@pytest.fixture
def demo(db_url):
    with session_scope(db_url) as s:
        load_demo(s, SYSTEM, users=False)
    return db_url


def test_job_finds_the_official_and_a_confirmed_hit_creates_the_property(demo, tmp_path, researcher):
    roll = _roll(tmp_path, [
        'FICT-777-0001,"9 Test St, Laredo, TX 78045",P,"VILLASENOR IBARRA, JOSE MARIA","Calle 1, Culiacan",01/15/2023,510000',
        'FICT-777-0002,"10 Test St, Laredo, TX 78045",P,"SMITH, JOHN","1 Main St, Laredo, TX",02/01/2020,200000',
    ])
    with session_scope(demo) as s:
        job_id = jobs.start_job(s, researcher, roll, MAPPING, threshold=0.7).id
    seen = []
    jobs.run_job(job_id, demo, progress=lambda done, total: seen.append((done, total)))
    with session_scope(demo) as s:
        job = jobs.job_status(s, job_id)
        assert (job.status, job.done_rows, job.total_rows) == ("done", 2, 2)
        items = open_items(s, job_id)
        assert [i.entity_id for i in items][:1] == ["demo-fictional-official"]
        assert items[0].explanation and items[0].row_data["APN"] == "FICT-777-0001"
        assert seen[-1] == (2, 2)
        decide(s, researcher, items[0].id, "confirmed")
    with session_scope(demo) as s:
        owned = [l for l in links_of(s, "demo-fictional-official") if l.kind == "Ownership"]
        parcels = [l.target.properties.get("parcelNumber") for l in owned]
        assert ["FICT-777-0001"] in parcels


def test_rejected_pair_is_not_raised_again(demo, tmp_path, researcher):
    roll = _roll(tmp_path, ['FICT-1,"1 A St",P,"VILLASENOR IBARRA, JOSE MARIA","x",01/01/2020,1'])
    with session_scope(demo) as s:
        first = jobs.start_job(s, researcher, roll, MAPPING).id
    jobs.run_job(first, demo)
    with session_scope(demo) as s:
        for item in open_items(s, first):
            decide(s, researcher, item.id, "rejected")
        second = jobs.start_job(s, researcher, roll, MAPPING).id
    jobs.run_job(second, demo)
    with session_scope(demo) as s:
        assert jobs.job_status(s, second).hits == 0
        assert open_items(s, second) == []


def test_a_killed_job_resumes_without_duplicating_hits(demo, tmp_path, researcher, monkeypatch):
    rows = [f'FICT-{i},"{i} A St",P,"VILLASENOR IBARRA, JOSE MARIA {i % 2 and "" or ""}","x",01/01/2020,1'
            for i in range(450)]
    roll = _roll(tmp_path, rows)
    with session_scope(demo) as s:
        job_id = jobs.start_job(s, researcher, roll, MAPPING).id
    real = _crash_on_call(monkeypatch, 300)
    with pytest.raises(RuntimeError):
        jobs.run_job(job_id, demo)
    with session_scope(demo) as s:
        job = jobs.job_status(s, job_id)
        assert job.status == "failed" and "simulated crash" in job.error
        assert job.done_rows == 200  # the committed batch survives
        assert s.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.job_id == job_id)) == job.hits
    monkeypatch.setattr(jobs, "_hits_for_row", real)
    jobs.run_job(job_id, demo)
    with session_scope(demo) as s:
        job = jobs.job_status(s, job_id)
        assert (job.status, job.done_rows) == ("done", 450)
        rows_with_items = s.execute(select(ReviewItem.row_number).where(ReviewItem.job_id == job_id)).scalars().all()
        assert len(rows_with_items) == len(set(rows_with_items)) == 450


def test_bad_file_is_refused_before_queueing(demo, tmp_path, researcher):
    bad = tmp_path / "bad.csv"
    bad.write_text("APN,OWNER_NAME\nX,Y\n")
    from workbench.sources.tabular import TableError

    with pytest.raises(TableError) as info, session_scope(demo) as s:
        jobs.start_job(s, researcher, bad, MAPPING)
    assert "bad.csv" in str(info.value)
    with session_scope(demo) as s:
        assert s.scalar(select(func.count()).select_from(ScreeningJob)) == 0


def test_rows_without_an_owner_name_are_counted_once_even_across_a_resume(demo, tmp_path, researcher, monkeypatch):
    rows = []
    for i in range(260):
        owner = "" if i % 10 == 0 else '"VILLASENOR IBARRA, JOSE MARIA"'
        rows.append(f'FICT-{i},"{i} A St",P,{owner},"x",01/01/2020,1')
    roll = _roll(tmp_path, rows)
    with session_scope(demo) as s:
        job_id = jobs.start_job(s, researcher, roll, MAPPING).id
    real = _crash_on_call(monkeypatch, 200)  # row 223: after the first batch (rows 1-200) was committed
    with pytest.raises(RuntimeError):
        jobs.run_job(job_id, demo)
    with session_scope(demo) as s:
        job = jobs.job_status(s, job_id)
        assert (job.done_rows, job.empty_rows) == (200, 20)
    monkeypatch.setattr(jobs, "_hits_for_row", real)
    jobs.run_job(job_id, demo)
    with session_scope(demo) as s:
        job = jobs.job_status(s, job_id)
        assert (job.status, job.done_rows, job.empty_rows) == ("done", 260, 26)
        screened = set(s.execute(select(ReviewItem.row_number).where(ReviewItem.job_id == job_id)).scalars())
        assert len(screened) == 234 and not any(n % 10 == 1 for n in screened)  # blank rows raised nothing


def _screen_and_confirm_the_official(demo, researcher, roll) -> None:
    """Screen ``roll`` against the demo store and confirm its hit on the fictional official."""
    with session_scope(demo) as s:
        job_id = jobs.start_job(s, researcher, roll, MAPPING, threshold=0.7).id
    jobs.run_job(job_id, demo)
    with session_scope(demo) as s:
        item = next(i for i in open_items(s, job_id) if i.entity_id == "demo-fictional-official")
        decide(s, researcher, item.id, "confirmed")


def test_the_same_fact_confirmed_from_another_roll_is_cited_not_doubled(demo, tmp_path, researcher):
    row = 'FICT-777-0001,"9 Test St, Laredo, TX 78045",P,"VILLASENOR IBARRA, JOSE MARIA","Calle 1, Culiacan",01/15/2023,510000'
    first = _roll(tmp_path, [row])
    second_dir = tmp_path / "later"
    second_dir.mkdir()
    # A later extract of the county roll: another file (another source), the same parcel, owner and deed.
    second = _roll(second_dir, ['FICT-777-0002,"10 Test St, Laredo, TX 78045",P,"SMITH, JOHN","x",02/01/2020,1', row])
    for roll in (first, second):
        _screen_and_confirm_the_official(demo, researcher, roll)
    with session_scope(demo) as s:
        owned = [l for l in links_of(s, "demo-fictional-official") if l.kind == "Ownership"
                 and l.target.properties.get("parcelNumber") == ["FICT-777-0001"]]
        assert len(owned) == 1
        from workbench.store.models import Citation

        sources = set(s.execute(select(Citation.source_id).where(Citation.link_id == owned[0].id)).scalars())
        assert len(sources) == 2  # both rolls cite it


def test_a_hit_on_an_entry_merged_since_the_job_ran_is_confirmed_onto_the_survivor(demo, tmp_path, researcher):
    from workbench.matching.judgements import merge
    from workbench.store.entities import create_entity

    roll = _roll(tmp_path, ['FICT-888-0001,"9 Test St, Laredo, TX 78045",P,"VILLASENOR IBARRA, JOSE MARIA",'
                            '"Calle 1, Culiacan",01/15/2023,510000'])
    with session_scope(demo) as s:
        job_id = jobs.start_job(s, researcher, roll, MAPPING, threshold=0.7).id
    jobs.run_job(job_id, demo)
    with session_scope(demo) as s:
        item = next(i for i in open_items(s, job_id) if i.entity_id == "demo-fictional-official")
        survivor = create_entity(s, researcher, "Person", {"name": "FICTIONAL survivor entry"}).obj
        merge(s, researcher, survivor.id, "demo-fictional-official")
        decide(s, researcher, item.id, "confirmed")
        owned = [l for l in links_of(s, survivor.id) if l.kind == "Ownership"
                 and l.target.properties.get("parcelNumber") == ["FICT-888-0001"]]
        assert len(owned) == 1 and owned[0].source_id == survivor.id
        assert not [l for l in links_of(s, "demo-fictional-official") if l.kind == "Ownership"
                    and l.target.properties.get("parcelNumber") == ["FICT-888-0001"]]


def test_a_rejection_can_be_undone_and_a_later_confirmation_lifts_it(demo, tmp_path, researcher):
    """A rejected pair was suppressed for good: no page undid it, and confirming the same pair in
    another queue did not lift it either."""
    from workbench.matching.review import undo_rejection

    roll = _roll(tmp_path, ['FICT-1,"1 A St",P,"VILLASENOR IBARRA, JOSE MARIA","x",01/01/2020,1'])

    def screen() -> str:
        with session_scope(demo) as s:
            job_id = jobs.start_job(s, researcher, roll, MAPPING).id
        jobs.run_job(job_id, demo)
        return job_id

    first = screen()
    with session_scope(demo) as s:
        [item] = [i for i in open_items(s, first) if i.entity_id == "demo-fictional-official"]
        decide(s, researcher, item.id, "rejected")
    assert not [i for i in _items(demo, screen()) if i.entity_id == "demo-fictional-official"]
    with session_scope(demo) as s:
        assert undo_rejection(s, researcher, item.id).status == "open"
    raised = [i for i in _items(demo, screen()) if i.entity_id == "demo-fictional-official"]
    assert raised, "the pair was not raised again after the rejection was undone"
    # Rejected again in one queue, then confirmed in another: the confirmation lifts the rejection.
    with session_scope(demo) as s:
        decide(s, researcher, item.id, "rejected")
        decide(s, researcher, raised[0].id, "confirmed")
    assert [i for i in _items(demo, screen()) if i.entity_id == "demo-fictional-official"]


def _items(url: str, job_id: str) -> list:
    with session_scope(url) as s:
        return open_items(s, job_id)


def test_a_job_whose_row_is_removed_while_it_runs_fails_with_its_own_cause(demo, tmp_path, researcher, monkeypatch):
    """A store reset or restored under a running job takes the job's row away: the job stops with the
    error that stopped it, not with 'NoneType has no attribute status' from marking a missing row."""
    roll = _roll(tmp_path, ['FICT-777-0001,"9 Test St, Laredo, TX 78045",P,"SMITH, JOHN","1 Main St",01/15/2023,1'])
    with session_scope(demo) as s:
        job_id = jobs.start_job(s, researcher, roll, MAPPING, threshold=0.7).id

    def row_removed(*args, **kwargs):
        with session_scope(demo) as other:
            other.delete(other.get(ScreeningJob, job_id))
        raise RuntimeError("the store was reset")

    monkeypatch.setattr(jobs, "_hits_for_row", row_removed)
    with pytest.raises(RuntimeError, match="the store was reset"):
        jobs.run_job(job_id, demo)


def test_a_confirmed_owner_gains_the_rolls_mailing_address_cited_to_its_row(demo, tmp_path, researcher):
    """The owner's mailing address on a U.S. roll is what ties the parcel to the official: confirming the
    hit adds it to the official, cited to the row; the roll's way of writing the name is not added."""
    from workbench.store.entities import citations_for
    from workbench.store.models import Entity

    roll = _roll(tmp_path, [
        'FICT-778-0001,"11 Test St, Laredo, TX 78045",P,"VILLASENOR IBARRA, JOSE MARIA ET AL",'
        '"Calle Hidalgo 12, Santiago Papasquiaro, Dgo (FICTIONAL)",01/15/2023,510000'])
    with session_scope(demo) as s:
        before = dict(s.get(Entity, "demo-fictional-official").properties)
    _screen_and_confirm_the_official(demo, researcher, roll)
    with session_scope(demo) as s:
        official = s.get(Entity, "demo-fictional-official")
        address = "Calle Hidalgo 12, Santiago Papasquiaro, Dgo (FICTIONAL)"
        assert official.properties["address"] == before.get("address", []) + [address]
        assert official.properties.get("alias") == before.get("alias")  # no 'ET AL' name
        assert official.properties.get("topics") == before.get("topics")
        cited = [c for c in citations_for(s, entity_id=official.id) if c.prop == "address" and c.value == address]
        assert len(cited) == 1 and cited[0].locator.startswith("row 1")


def test_a_confirmed_declarant_gains_no_name_parts_nor_the_declared_title(demo, tmp_path, researcher):
    """An asset declaration names the declarant in parts and gives a job title: none of that is written
    on the official a confirmed hit binds it to (a row's 'JOSE MA.' is no given name of theirs); only
    where the owner is reached is added."""
    from workbench.sources.tabular import apply_row, load_mapping
    from workbench.store.entities import create_source
    from workbench.store.models import Entity

    mapping = load_mapping(
        "name: QA declaration\nscreen: declarant\nentities:\n"
        "  declarant:\n    kind: Person\n    properties:\n      name: {template: '{NOMBRE} {PATERNO}'}\n"
        "      firstName: NOMBRE\n      fatherName: PATERNO\n      position: CARGO\n      address: DOMICILIO\n"
        "      topics: {literal: fictional}\n"
        "  bien:\n    kind: RealEstate\n    keys: [CLAVE]\n    properties:\n      name: {template: 'Bien {CLAVE}'}\n"
        "links:\n  - {kind: Ownership, source: declarant, target: bien}\n", "qa.yml")
    row = {"NOMBRE": "JOSE MA.", "PATERNO": "VILLASENOR", "CARGO": "DIRECTOR DE OBRAS (FICTIONAL)",
           "DOMICILIO": "Av. Obregon 5, Culiacan (FICTIONAL)", "CLAVE": "FICT-D-1"}
    with session_scope(demo) as s:
        before = dict(s.get(Entity, "demo-fictional-official").properties)
        source = create_source(s, researcher, url="https://example.org/qa/declaracion", title="Declaracion (FICTIONAL)")
        apply_row(s, researcher, mapping, row, 1, source.id, bind={"declarant": "demo-fictional-official"})
    with session_scope(demo) as s:
        after = s.get(Entity, "demo-fictional-official").properties
        assert after["address"] == before.get("address", []) + ["Av. Obregon 5, Culiacan (FICTIONAL)"]
        assert {k: v for k, v in after.items() if k != "address"} == {k: v for k, v in before.items() if k != "address"}


def test_a_job_resumed_while_it_still_runs_stores_each_hit_once(demo, tmp_path, researcher, monkeypatch):
    """QA round 12: Resume on a second server (which cannot see the first's runner), or pressed twice, started a
    second runner of the same job, and every hit was stored twice. Here the second runner starts and finishes
    while the first is at its first row; the first then finds the rows taken and stops."""
    rows = [f'FICT-778-{n:04d},"{n} Test St, Laredo, TX 78045",P,"VILLASENOR IBARRA, JOSE MARIA","Calle {n}, Culiacan",'
            f'01/15/2023,510000' for n in range(1, 6)]
    roll = _roll(tmp_path, rows)
    with session_scope(demo) as s:
        job_id = jobs.start_job(s, researcher, roll, MAPPING, threshold=0.7).id
    real = jobs.checkpoint
    second_ran = []

    def meanwhile(point, n):
        if point == "screen-row" and n == 1 and not second_ran:
            second_ran.append("started")
            second_ran[0] = jobs.run_job(job_id, demo).status  # the other server's runner, all the way
        return real(point, n)

    monkeypatch.setattr(jobs, "checkpoint", meanwhile)
    first = jobs.run_job(job_id, demo)
    assert second_ran == ["done"] and first.status == "done"
    with session_scope(demo) as s:
        job = jobs.job_status(s, job_id)
        items = s.scalars(select(ReviewItem).where(ReviewItem.job_id == job_id)).all()
        per_row = {(i.row_number, i.entity_id) for i in items}
        assert len(items) == len(per_row) == job.hits > 0 and job.done_rows == 5
