"""QA round 15, a data steward keeping the real OFAC list current (the 2024 CSV trio, then the 2026 JSON).

- Importing the older list again after the newer put every older value back: the cartels lost the FTO and SDGT
  programmes the newer list gave them, and the 925 entries it had delisted were listed again.
- A newer list that renamed an entry (LOS ZETAS -> CARTEL DEL NORESTE) dropped the old name without a word:
  search and screening no longer found 'LOS ZETAS'.
- Aliases a newer list no longer carried (all 17 of one entry) and programme changes went unsaid: the summary
  said only 'updated 1344'.
"""

from __future__ import annotations

import json
from pathlib import Path

from test_reimport_keeps_user_edits import _entry_files
from typer.testing import CliRunner

from workbench.cli import app
from workbench.matching.search import search_entities
from workbench.store import db as store_db
from workbench.store.entities import update_entity
from workbench.store.models import Entity
from workbench.store.permissions import Actor

ZETAS, GULF, MALHERBE = 11438, 10386, 6865  # renamed; given FTO and SDGT; every a.k.a. gone by 2026-08-20


def _json_slice(sdn_dir: Path, out: Path, uids: tuple[int, ...]) -> Path:
    data = json.loads((sdn_dir / "sdn-2026-08-20.json").read_text(encoding="utf-8"))
    path = out / "sdn-2026-08-20.json"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**data, "entries": [e for e in data["entries"] if e["uid"] in uids]}), encoding="utf-8")
    return path


def _import(*args: str):
    result = CliRunner().invoke(app, ["import", "sdn", *args, "--all-warnings"], catch_exceptions=False)
    return result, " ".join(result.output.split())


def _properties(db_url, entity_id: str) -> dict:
    with store_db.session_scope(db_url) as s:
        return dict(s.get(Entity, entity_id).properties)


def test_a_newer_list_says_what_it_renamed_dropped_and_changed_and_keeps_the_old_name(db_url, sdn_dir, tmp_path):
    uids = (ZETAS, GULF, MALHERBE)
    trio = _entry_files(sdn_dir, tmp_path / "trio", uids)
    first, _ = _import(*map(str, trio), "--published", "2024-05-03")
    assert first.exit_code == 0, first.output
    listed = _properties(db_url, f"ofac-{MALHERBE}")["alias"]
    with store_db.session_scope(db_url) as s:  # a researcher's own alias: never the list's to drop
        update_entity(s, Actor("rita", "researcher"), f"ofac-{MALHERBE}",
                      {"alias": [*listed, "FICTIONAL Oscarito Ejemplo"]}, replace=False)

    newer, said = _import(str(_json_slice(sdn_dir, tmp_path / "json", uids)), "--no-delist")

    assert newer.exit_code == 0, newer.output
    assert "renamed LOS ZETAS -> CARTEL DEL NORESTE" in said
    assert f"(ent_num {MALHERBE}): 17 aliases no longer in the list:" in said and "MALHERBE DELEON, Oscar" in said
    assert "FICTIONAL Oscarito Ejemplo" not in said.split("no longer in the list")[1]
    assert _properties(db_url, f"ofac-{MALHERBE}")["alias"] == ["FICTIONAL Oscarito Ejemplo"]
    assert "programmes changed: +FTO, +SDGT" in said
    zetas = _properties(db_url, f"ofac-{ZETAS}")
    assert zetas["name"] == ["CARTEL DEL NORESTE"] and "LOS ZETAS" in zetas["previousName"]
    with store_db.session_scope(db_url) as s:
        found = search_entities(s, "LOS ZETAS", limit=5)
    assert found and found[0].entity_id == f"ofac-{ZETAS}" and found[0].score == 1.0

    again, said_again = _import(str(_json_slice(sdn_dir, tmp_path / "json", uids)), "--no-delist")
    assert again.exit_code == 0 and "renamed" not in said_again and "programmes changed" not in said_again
    assert "LOS ZETAS" in _properties(db_url, f"ofac-{ZETAS}")["previousName"]  # a former name stays one


def test_the_older_list_after_the_newer_is_refused_and_changes_nothing(db_url, sdn_dir, tmp_path):
    uids = (ZETAS, GULF)
    trio = _entry_files(sdn_dir, tmp_path / "trio", uids)
    _import(*map(str, trio), "--published", "2024-05-03")
    _import(str(_json_slice(sdn_dir, tmp_path / "json", uids)), "--no-delist")
    before = {uid: _properties(db_url, f"ofac-{uid}-sanction") for uid in uids}

    older, said = _import(*map(str, trio))  # the same 2024 files: dated by their first import

    assert older.exit_code == 2
    assert "published 2024-05-03, before the list already imported (published 2026-08-20)" in said
    assert "nothing was imported" in said
    assert {uid: _properties(db_url, f"ofac-{uid}-sanction") for uid in uids} == before
    assert "FTO" in before[GULF]["program"]


# ---- a nickname on the list, met on a roll ------------------------------------------------------------

def _screen_store(tmp_path: Path, owner: str):
    """`workbench screen` of a one-row FICTIONAL roll against the store: the result and the hits' rows."""
    import csv

    roll = tmp_path / "roll_FICTIONAL.csv"
    roll.write_text(f"owner\n{owner}\n", encoding="utf-8")
    out = tmp_path / "hits.csv"
    result = CliRunner().invoke(app, ["screen", str(roll), "-o", str(out), "--name-column", "owner"],
                                catch_exceptions=False)
    return result, list(csv.DictReader(out.open(encoding="utf-8"))) if out.exists() else []


def test_screening_scores_a_listed_nickname_below_a_full_name_and_says_so(db_url, tmp_path):
    from workbench.store.entities import create_entity
    from workbench.store.permissions import Actor

    with store_db.session_scope(db_url) as s:
        actor = Actor("rita", "researcher")
        create_entity(s, actor, "Person", {"name": "FICTIONAL OSEGURA CERVANTES, Antonino",
                                           "weakAlias": "TONY MONTANERO"}, entity_id="p-nick")
        create_entity(s, actor, "Person", {"name": "TONY MONTANERO"}, entity_id="p-named")  # a namesake in full
    result, rows = _screen_store(tmp_path, "TONY MONTANERO")

    assert result.exit_code == 0, result.output
    hits = {row["match_id"]: row for row in rows}
    assert float(hits["p-named"]["score"]) == 1.0 and hits["p-named"]["rank"] == "1"
    nickname = hits["p-nick"]
    assert nickname["rank"] == "2" and float(nickname["score"]) == 0.9 and nickname["matched_name"] == "TONY MONTANERO"
    assert "weak alias / nickname" in json.loads(nickname["explanation"])["features"][-1]["feature"]


def test_screening_the_store_says_which_hits_are_delisted(db_url, sdn_dir, tmp_path):
    """QA: the delisted ARELLANO FELIX, Ramon Eduardo hit at 1.0 'identical', above his designated brother, and
    nothing in the output told the two apart."""
    gone, kept = 6706, 8234  # Ramon Eduardo (not on the 2026 list) and Eduardo Ramon (still on it)
    trio = _entry_files(sdn_dir, tmp_path / "trio", (gone, kept))
    _import(*map(str, trio), "--published", "2024-05-03")
    newer = _entry_files(sdn_dir, tmp_path / "newer", kept)  # a later list that no longer carries 6706
    _import(*map(str, newer), "--published", "2026-08-20", "--allow-mass-delist")
    assert _properties(db_url, f"ofac-{gone}-sanction")["status"] == ["delisted"]
    result, rows = _screen_store(tmp_path, "ARELLANO FELIX RAMON EDUARDO")

    assert result.exit_code == 0, result.output
    status = {row["match_id"]: json.loads(row["explanation"])["sanction_status"] for row in rows}
    assert status == {f"ofac-{gone}": "delisted", f"ofac-{kept}": "designated"}
    assert "1 hit on delisted entries (no list still names them)" in " ".join(result.output.split())


def test_a_weak_alias_in_curly_quotes_is_read_as_one_in_straight_quotes():
    """QA: a copy saved as Windows-1252 wrote a.k.a. \u2018GUILLERMO LABASTIDA\u2019, and the alias was lost."""
    from workbench.sources.remarks import parse_remarks

    parsed = parse_remarks("a.k.a. \u2018GUILLERMO LABASTIDA\u2019; a.k.a. 'ALEJANDRO LABASTIDA'; Gender Male.")
    assert parsed.properties["weakAlias"] == ["GUILLERMO LABASTIDA", "ALEJANDRO LABASTIDA"]


def test_alt_csv_alone_is_refused_for_what_it_is(sdn_dir, db_url):
    result, said = _import(str(sdn_dir / "alt.csv"))
    assert result.exit_code == 2
    assert "give the list's sdn.csv with them" in said and "is not an OFAC" not in said


def test_a_list_file_read_as_windows_1252_is_said_so_with_a_line_to_check(sdn_dir, db_url, tmp_path):
    """QA: nothing said which encoding a list file that is not UTF-8 was read in. A file saved in another
    8-bit encoding reads without error, with the wrong accents: only the user can see them, given a line."""
    def accented(name: str, text: str) -> str:
        return text.replace("Mexico", "M\u00e9xico", 1) if name == "sdn.csv" else text

    legacy = _entry_files(sdn_dir, tmp_path / "cp1252", MALHERBE, accented)
    result, said = _import(*map(str, legacy), "--published", "2024-05-02")
    assert result.exit_code == 0, said
    assert "read as Windows-1252 (OFAC's older encoding), since it is not UTF-8" in said
    assert "check that accented names read right, as on line 1:" in said and "M\u00e9xico" in said

    utf8 = tmp_path / "utf8"
    utf8.mkdir()
    for path in legacy:
        (utf8 / path.name).write_text(path.read_bytes().decode("cp1252"), encoding="utf-8", newline="")
    result, said = _import(*(str(utf8 / p.name) for p in legacy), "--published", "2024-05-03")
    assert result.exit_code == 0, said
    assert "read as Windows-1252" not in said
