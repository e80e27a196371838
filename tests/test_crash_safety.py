"""SIGKILL in the middle of a screening run or an import: the database stays consistent, holds
only complete committed batches, and running again reaches the same end state as a clean run.

The kill is injected at an exact checkpoint (workbench/faults.py), not guessed with a timer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from workbench.matching import jobs
from workbench.sources.demo import load_demo
from workbench.store.db import dispose_all, session_scope
from workbench.store.models import Entity, ReviewItem
from workbench.store.permissions import SYSTEM, Actor

ROOT = Path(__file__).resolve().parents[1]
MAPPING = (ROOT / "fixtures" / "mappings" / "county_property_roll.yml").read_text()
HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"


def _run_in_child(code: str, env_extra: dict[str, str]) -> int:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True).returncode


def _integrity(url: str) -> None:
    with session_scope(url) as s:
        if url.startswith("sqlite"):
            assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert s.execute(text("PRAGMA foreign_key_check")).first() is None
        from workbench.store.audit import verify

        assert verify(s)[1] is None


def _roll(tmp_path: Path, rows: int) -> Path:
    lines = [HEADER]
    for i in range(rows):
        owner = "VILLASENOR IBARRA, JOSE MARIA" if i % 50 == 7 else f"FICTIONAL OWNER NUMBER {i}"
        lines.append(f'FICT-{i:05d},"{i} Sample St, Laredo, TX",P,"{owner}","x",01/01/2020,{1000 + i}\n')
    path = tmp_path / "roll_FICTIONAL.csv"
    path.write_text("".join(lines))
    return path


def _items(url: str, job_id: str) -> list[tuple]:
    with session_scope(url) as s:
        return sorted(s.execute(select(ReviewItem.row_number, ReviewItem.entity_id).where(
            ReviewItem.job_id == job_id)).all())


def test_screening_killed_midway_resumes_to_the_same_end_state(db_url, tmp_path):
    with session_scope(db_url) as s:
        load_demo(s, SYSTEM, users=False)
    roll = _roll(tmp_path, 500)
    researcher = Actor("rita", "researcher")
    with session_scope(db_url) as s:
        clean = jobs.start_job(s, researcher, roll, MAPPING).id
        crashed = jobs.start_job(s, researcher, roll, MAPPING).id
    jobs.run_job(clean, db_url)
    dispose_all()

    code = f"from workbench.matching.jobs import run_job; run_job({crashed!r}, {db_url!r})"
    returncode = _run_in_child(code, {"WORKBENCH_KILL_AT": "screen-row:350"})
    assert returncode == -signal.SIGKILL
    _integrity(db_url)
    with session_scope(db_url) as s:
        job = jobs.job_status(s, crashed)
        assert job.status == "running" and job.done_rows == 200  # exactly one committed batch
        assert s.scalar(select(func.count()).select_from(ReviewItem).where(ReviewItem.job_id == crashed)) == job.hits
        assert {row for row, _ in _items(db_url, crashed)} <= set(range(1, 201))

    jobs.run_job(crashed, db_url)  # resume
    _integrity(db_url)
    assert _items(db_url, crashed) == _items(db_url, clean)
    with session_scope(db_url) as s:
        assert jobs.job_status(s, crashed).done_rows == 500


def test_sdn_import_killed_midway_leaves_nothing_and_rerun_completes(db_url, sdn_dir, tmp_path):
    sample = tmp_path / "sdn.csv"
    with open(sdn_dir / "sdn.csv", "rb") as handle:
        lines = handle.read().split(b"\r\n")
    sample.write_bytes(b"\r\n".join(lines[:400]) + b"\r\n")
    from workbench.sources.sdn import import_sdn
    from workbench.store.entities import stats

    with session_scope(db_url) as s:  # what a clean import produces (then rolled back)
        import_sdn(s, SYSTEM, [sample])
        expected = stats(s)
        s.rollback()
    dispose_all()
    env = {"WORKBENCH_DATABASE_URL": db_url, "WORKBENCH_KILL_AT": "import-flush:1"}
    cli = [sys.executable, "-m", "workbench.cli", "import", "sdn", str(sample)]
    killed = subprocess.run(cli, env={**os.environ, **env}, cwd=ROOT, capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    _integrity(db_url)
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == 0  # the one transaction never committed
    env.pop("WORKBENCH_KILL_AT")
    rerun = subprocess.run(cli, env={**os.environ, **env}, cwd=ROOT, capture_output=True)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    _integrity(db_url)
    with session_scope(db_url) as s:
        assert stats(s) == expected
