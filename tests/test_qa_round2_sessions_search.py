"""QA round 2: sessions end with sign-out and password, role or active changes; search without a kind
lists parties and assets; a merge shows on the kept entity's history; rejecting a screening hit closes
the same pair's other open hits of the job. Each test failed before its fix.

Every person, company, parcel and record here is FICTIONAL.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner
from web_helpers import csrf_of, sign_in, signed_in_client

from workbench.cli import app as cli_app
from workbench.schema import Registry, registry, schema_dir
from workbench.store import db as store_db
from workbench.store.audit import verify
from workbench.store.entities import create_entity, create_link
from workbench.store.models import AuditEntry, ReviewItem
from workbench.store.permissions import SYSTEM, Actor
from workbench.store.users import create_token

RITA = Actor("rita", "researcher")
COOKIE = "workbench_session"
runner = CliRunner()


def _flashes(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)</(?:p|div)>',
                                                                   page, re.DOTALL)]


# ---- sessions ---------------------------------------------------------------------------------------

def _copy_of(client: TestClient) -> TestClient:
    """Another browser holding a copy of ``client``'s session cookie (a stolen or forgotten one)."""
    from workbench.web.app import create_app

    other = TestClient(create_app())
    other.cookies.set(COOKIE, client.cookies.get(COOKIE))
    return other


def _signed_in(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


def _sign_out(client: TestClient) -> None:
    token = csrf_of(client, "/")
    assert client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303


def _audit_after(db_url: str, object_id: str, action: str) -> dict | None:
    with store_db.session_scope(db_url) as s:
        return s.execute(select(AuditEntry.after).where(AuditEntry.object_id == object_id, AuditEntry.action == action)
                         .order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()


def test_signing_out_ends_every_copy_of_the_session_cookie_but_not_api_tokens(db_url):
    rita = signed_in_client(db_url, "rita", "researcher")
    with store_db.session_scope(db_url) as s:
        token = create_token(s, SYSTEM, "script", "rita")
    copy = _copy_of(rita)
    assert _signed_in(copy)
    _sign_out(rita)
    assert not _signed_in(rita)
    assert not _signed_in(copy)  # the copied cookie was signed and unexpired: it kept working
    assert copy.get("/api/entities").status_code == 401
    api = TestClient(rita.app)
    assert api.get("/api/entities", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    # Signing in again works, and the old copy signing "out" cannot end the new session.
    assert sign_in(rita, "rita").status_code == 303 and _signed_in(rita)
    stale = csrf_of(copy, "/login")
    assert copy.post("/logout", data={"csrf_token": stale}, follow_redirects=False).status_code == 303
    assert _signed_in(rita)


def test_a_password_change_from_the_command_line_ends_the_users_sessions(db_url, tmp_path):
    rita = signed_in_client(db_url, "rita", "researcher")
    copy = _copy_of(rita)
    secret = tmp_path / "pw"
    secret.write_text("a brand new passphrase\n")
    result = runner.invoke(cli_app, ["users", "password", "rita", "--password-file", str(secret)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert not _signed_in(rita) and not _signed_in(copy)
    assert sign_in(rita, "rita", "a brand new passphrase").status_code == 303 and _signed_in(rita)
    assert _audit_after(db_url, "rita", "user.password") == {"session_epoch": 1}


def test_disabling_and_enabling_a_user_or_changing_the_role_on_the_admin_page_ends_their_sessions(db_url):
    admin = signed_in_client(db_url, "ada", "admin")
    admin.headers["X-CSRF-Token"] = csrf_of(admin, "/")
    rita = signed_in_client(db_url, "rita", "researcher")
    copy = _copy_of(rita)
    assert admin.post("/admin/users/rita/active", data={"active": "0"}).status_code == 200
    assert admin.post("/admin/users/rita/active", data={"active": "1"}).status_code == 200
    assert not _signed_in(rita) and not _signed_in(copy)  # before: both were back in after the enable
    assert _audit_after(db_url, "rita", "user.active")["session_epoch"] == 2

    assert sign_in(rita, "rita").status_code == 303 and _signed_in(rita)
    copy = _copy_of(rita)
    assert admin.post("/admin/users/rita/role", data={"role": "reviewer"}).status_code == 200
    assert not _signed_in(rita) and not _signed_in(copy)
    assert sign_in(rita, "rita").status_code == 303
    assert "reviewer" in rita.get("/").text
    assert _audit_after(db_url, "rita", "user.role") == {"role": "reviewer", "active": True, "session_epoch": 3}
    assert _signed_in(admin)  # the admin's own session is untouched


def test_migration_0004_gives_existing_users_a_session_generation(tmp_path):
    from workbench.store.migrate import upgrade

    engine = store_db.make_engine(f"sqlite:///{tmp_path}/old.db")
    try:
        upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (username, password_hash, role, active, created_at, version) "
                              "VALUES ('rita', 'x', 'researcher', 1, '2026-01-01 00:00:00', 1)"))
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT session_epoch FROM users")).scalar_one() == 0
    finally:
        engine.dispose()


# ---- search without a kind -----------------------------------------------------------------------

def test_a_surname_alone_lists_the_people_not_their_sanction_records_unless_that_kind_is_chosen(db_url):
    with store_db.session_scope(db_url) as s:
        for n, given in enumerate(("Aurelio", "Benigna", "Ceferino")):
            create_entity(s, RITA, "Person", {"name": [f"FICTIONAL {given} Zambranova Quiroz"]}, entity_id=f"p{n}")
            create_entity(s, RITA, "Sanction", {"name": [f"FICTIONAL {given} Zambranova Quiroz"], "authority": ["OFAC"],
                                                "program": ["SDNTK"]}, entity_id=f"s{n}")
            create_link(s, RITA, "SanctionOf", f"s{n}", f"p{n}")
    client = signed_in_client(db_url, "rita", "researcher")
    page = client.get("/search", params={"q": "Zambranova"}).text
    found = re.findall(r'<a href="/entities/([^"]+)">', page.split('class="dense results"')[1])
    assert set(found) == {"p0", "p1", "p2"}
    assert "Not searched: Sanction" in page and "choose the kind to search them" in page
    sanctions = client.get("/search", params={"q": "Zambranova", "kind": "Sanction"}).text
    found = re.findall(r'<a href="/entities/([^"]+)">', sanctions.split('class="dense results"')[1])
    assert set(found) == {"s0", "s1", "s2"}


def test_the_default_kinds_come_from_the_schema_and_reconciliation_uses_them(tmp_path, monkeypatch):
    from workbench.sources import reconcile

    kinds = registry().default_kinds()
    # Mexican states and municipalities are what researchers look up too: only records about others go.
    assert {"Person", "Company", "RealEstate", "Territory", "Position"} <= set(kinds) and "Sanction" not in kinds
    assert [t["id"] for t in reconcile.manifest("http://x")["defaultTypes"]] == kinds

    copy = tmp_path / "schema"
    copy.mkdir()
    for path in Path(schema_dir()).glob("*.yml"):
        (copy / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    spec = yaml.safe_load((copy / "entities.yml").read_text(encoding="utf-8"))
    spec["entities"]["FictionalVault"] = {"extends": "Asset", "label": "Vault (FICTIONAL)", "ftm": "Asset",
                                          "properties": {}}
    spec["entities"]["FictionalWarrant"] = {"extends": "Thing", "record": True, "label": "Warrant (FICTIONAL)",
                                            "properties": {}}
    (copy / "entities.yml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    defaults = Registry(copy).default_kinds()
    assert "FictionalVault" in defaults and "FictionalWarrant" not in defaults


# ---- merges on the kept entity's history -------------------------------------------------------------

def _history(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('id="h-history"')[1].split("</table>")[0]))


def test_the_kept_entitys_history_shows_the_merge_and_its_undo(db_url):
    from workbench.matching.judgements import merge, unmerge

    with store_db.session_scope(db_url) as s:
        create_entity(s, RITA, "Person", {"name": ["FICTIONAL Benito Ejemplo Arce"]}, entity_id="keep")
        create_entity(s, RITA, "Person", {"name": ["FICTIONAL B. Ejemplo Arce"]}, entity_id="dupe")
        merge_id = merge(s, RITA, "keep", "dupe").id
    client = signed_in_client(db_url, "rita", "researcher")
    history = _history(client.get("/entities/keep").text)
    assert "Merged FICTIONAL B. Ejemplo Arce into this entity" in history
    assert "Merged into FICTIONAL Benito Ejemplo Arce" in _history(client.get("/entities/dupe").text)

    with store_db.session_scope(db_url) as s:
        unmerge(s, RITA, merge_id)
    history = _history(client.get("/entities/keep").text)
    assert history.index("Merge of FICTIONAL B. Ejemplo Arce undone") < history.index("Merged FICTIONAL B.")
    with store_db.session_scope(db_url) as s:  # read, never rewritten: the chain holds
        assert verify(s)[1] is None


# ---- rejecting a screening hit -------------------------------------------------------------------

MAPPING = (Path(__file__).resolve().parents[1] / "fixtures" / "mappings" / "county_property_roll.yml").read_text()
ROLL_HEADER = "APN,SITUS_ADDRESS,OWNER_TYPE,OWNER_NAME,OWNER_MAILING_ADDRESS,DEED_DATE,SALE_PRICE\n"


def _run_roll(db_url, tmp_path, rows: list[str]) -> str:
    from workbench.matching import jobs

    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(ROLL_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    with store_db.session_scope(db_url) as s:
        job_id = jobs.start_job(s, RITA, roll, MAPPING, threshold=0.7).id
    jobs.run_job(job_id, db_url)
    return job_id


def _items(db_url: str, job_id: str) -> dict[int, tuple[int, str]]:
    """row number -> (item id, status)"""
    with store_db.session_scope(db_url) as s:
        return {i.row_number: (i.id, i.status)
                for i in s.execute(select(ReviewItem).where(ReviewItem.job_id == job_id)).scalars()}


def test_rejecting_a_hit_rejects_the_same_name_and_entitys_other_open_hits_of_the_job(db_url, tmp_path):
    pytest.importorskip("workbench.matching.jobs")
    with store_db.session_scope(db_url) as s:
        create_entity(s, RITA, "Person", {"name": ["EJEMPLAR ORTUNO, Casimiro"]}, entity_id="casimiro")
    rows = ['FICT-1,"1 A St",P,"EJEMPLAR ORTUNO, CASIMIRO","x",01/01/2020,1',
            'FICT-2,"2 A St",P,"EJEMPLAR ORTUNO, CASIMIRO","x",01/01/2020,1',
            'FICT-3,"3 A St",P,"CASIMIRO EJEMPLAR ORTUÑO","x",01/01/2020,1',  # the same name, written otherwise
            'FICT-4,"4 A St",P,"EJEMPLAR ORTUNO, CASIMIRO J","x",01/01/2020,1']  # another name: stays open
    job_id = _run_roll(db_url, tmp_path, rows)
    other_job = _run_roll(db_url, tmp_path, rows[:1])  # another queue: its own reviewer decides it
    items = _items(db_url, job_id)
    assert sorted(items) == [1, 2, 3, 4] and all(status == "open" for _id, status in items.values())

    client = signed_in_client(db_url, "rita", "researcher")
    client.headers["X-CSRF-Token"] = csrf_of(client, "/")
    first = items[1][0]
    with store_db.session_scope(db_url) as s:
        version = s.get(ReviewItem, first).version
    page = client.post(f"/screening/items/{first}", data={"verdict": "rejected", "job_id": job_id,
                                                          "version": str(version)}).text
    assert any("2 other open hits of the same name and entity in this queue were rejected with it (rows 2, 3)" in f
               for f in _flashes(page)), _flashes(page)
    after = _items(db_url, job_id)
    assert {row: status for row, (_id, status) in after.items()} == {1: "rejected", 2: "rejected", 3: "rejected",
                                                                      4: "open"}
    assert [status for _id, status in _items(db_url, other_job).values()] == ["open"]
    with store_db.session_scope(db_url) as s:
        decision = s.execute(select(AuditEntry).where(AuditEntry.object_id == str(first),
                                                      AuditEntry.action == "review.decide")).scalar_one()
        for row in (2, 3):
            entry = s.execute(select(AuditEntry).where(AuditEntry.object_id == str(after[row][0]),
                                                       AuditEntry.object_type == "review_item")).scalar_one()
            assert entry.actor == "rita" and entry.after["status"] == "rejected"
            assert entry.after["follows"] == {"review_item": first, "row": 1, "audit_seq": decision.seq}


def test_a_merged_away_entrys_page_says_where_its_links_went(db_url):
    """QA round 16: its page said it was 'kept as it was when merged' and showed 'No links yet', where its links
    and citations had moved to the kept entry: it looked emptied."""
    from workbench.matching.judgements import merge
    from workbench.store.entities import create_link

    with store_db.session_scope(db_url) as s:
        create_entity(s, RITA, "Person", {"name": ["FICTIONAL Benito Ejemplo Arce"]}, entity_id="keep")
        create_entity(s, RITA, "Person", {"name": ["FICTIONAL B. Ejemplo Arce"]}, entity_id="dupe")
        create_entity(s, RITA, "Company", {"name": ["FICTIONAL Ejemplo Holdings LLC"]}, entity_id="firm")
        create_link(s, RITA, "Ownership", "dupe", "firm", {})
        merge(s, RITA, "keep", "dupe")
    client = signed_in_client(db_url, "rita", "researcher")
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/entities/dupe").text))
    assert "its links and the citations of its facts moved with the merge to FICTIONAL Benito Ejemplo Arce" in page
    assert "No links here: they moved with the merge to FICTIONAL Benito Ejemplo Arce" in page
    assert "No links yet" not in page and "kept as it was when merged" not in page
    assert "FICTIONAL Ejemplo Holdings LLC" in client.get("/entities/keep").text
