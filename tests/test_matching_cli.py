"""Contract tests for `workbench match pairs` and `workbench screen` (scripts depend on these)."""

import csv
import json

import pytest
from table_helpers import read_csv, write
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()


def test_match_pairs_repeats_columns_and_adds_score_and_explanation(tmp_path):
    src = write(tmp_path / "in.csv", 'left,right,schema,note\n"GUZMAN LOERA, Joaquin",Joaquin Guzman Loera,Person,a\n'
                                     '"GUZMAN LOPEZ, Joaquin","GUZMAN LOERA, Joaquin",Person,b\n')
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["match", "pairs", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert list(rows[0]) == ["left", "right", "schema", "note", "score", "explanation"]
    assert rows[0]["note"] == "a" and float(rows[0]["score"]) == 1.0
    assert float(rows[1]["score"]) < float(rows[0]["score"])
    assert json.loads(rows[1]["explanation"])["unmatched_query"] == ["lopez"]


def test_match_pairs_without_right_column_fails_cleanly(tmp_path):
    src = write(tmp_path / "in.csv", "left,other\na,b\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["match", "pairs", str(src), "-o", str(out)])
    assert result.exit_code == 2
    assert "in.csv" in result.output and "'right'" in result.output
    assert not out.exists()


@pytest.fixture
def watchlist(tmp_path):
    return write(tmp_path / "watch.csv", 'id,name,schema,aliases\nw1,"GUZMAN LOERA, Joaquin",Person,EL CHAPO\n'
                                         "w2,CARTEL DE SINALOA,Organization,\n"
                                         'w3,"GUZMAN LOPEZ, Ovidio",Person,\n')


def test_screen_writes_ranked_hits_with_the_contract_columns(tmp_path, watchlist):
    src = write(tmp_path / "roll.csv", "owner,parcel\nJoaquin Guzman Loera,001\n,002\nSinaloa Cartel,003\n"
                                       "Nobody Atall,004\n")
    out = tmp_path / "hits.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--name-column", "owner",
                                 "--against", str(watchlist), "--top", "2", "--threshold", "0.5"])
    assert result.exit_code == 0, result.output
    assert "1 empty" in result.output
    rows = read_csv(out)
    assert list(rows[0]) == ["row", "query", "match_id", "match_name", "matched_name", "score", "rank", "explanation"]
    first = [r for r in rows if r["row"] == "0"]
    assert first[0]["match_id"] == "w1" and first[0]["rank"] == "1"
    assert [float(r["score"]) for r in first] == sorted((float(r["score"]) for r in first), reverse=True)
    assert all(int(r["rank"]) <= 2 for r in rows)
    assert any(r["row"] == "2" and r["match_id"] == "w2" for r in rows)  # row numbers count the empty row
    assert not any(r["row"] == "3" for r in rows)
    assert json.loads(first[0]["explanation"])["aligned"]


def test_screen_alias_is_reported_as_the_matched_name(tmp_path, watchlist):
    src = write(tmp_path / "roll.csv", "name\nEl Chapo\n")
    out = tmp_path / "hits.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist)])
    assert result.exit_code == 0, result.output
    row = read_csv(out)[0]
    assert row["match_name"] == "GUZMAN LOERA, Joaquin" and row["matched_name"] == "EL CHAPO"


@pytest.mark.parametrize("content, encoding, expected", [
    ("owner\nA\n", "utf-8", "no column 'name'"),
    ("name,parcel\nA,1\nB,2,3\n", "utf-8", "data row 1"),
    ("name\nJOSÉ\n", "latin-1", "not valid UTF-8"),
])
def test_screen_bad_input_exits_2_and_writes_nothing(tmp_path, watchlist, content, encoding, expected):
    src = write(tmp_path / "bad.csv", content, encoding)
    out = tmp_path / "hits.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist)])
    assert result.exit_code == 2
    assert "bad.csv" in result.output and expected in result.output
    assert not out.exists()
    assert not list(tmp_path.glob(".hits.csv*"))  # no half-written temporary file left behind


def test_names_in_other_scripts_are_transliterated_and_screened(tmp_path):
    """A customer list in Cyrillic must not look clear because its names folded to nothing."""
    watch = write(tmp_path / "watch.csv", "id,name,schema\nw1,Ivan Petrov,Person\nw2,Georgios Papadopoulos,Person\n")
    src = write(tmp_path / "roll.csv", "name\nИван Петров\nΓεώργιος Παπαδόπουλος\n")
    out = tmp_path / "hits.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watch), "--threshold", "0.5"])
    assert result.exit_code == 0, result.output
    best = {r["row"]: r for r in read_csv(out) if r["rank"] == "1"}
    assert best["0"]["match_id"] == "w1" and float(best["0"]["score"]) == 1.0
    assert best["1"]["match_id"] == "w2"


def test_migration_0006_refolds_stored_names_in_other_scripts(tmp_path):
    from sqlalchemy import text

    from workbench.store import db as store_db
    from workbench.store.migrate import upgrade

    engine = store_db.make_engine(f"sqlite:///{tmp_path}/old.db")
    try:
        upgrade(engine, "0005")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO entities (id, kind, caption, properties, created_at, updated_at, created_by, "
                              "version) VALUES ('p1', 'Person', 'x', '{}', '2026-01-01', '2026-01-01', 'rita', 1)"))
            conn.execute(text("INSERT INTO names (entity_id, name, normalized, name_kind, prop) VALUES "
                              "('p1', 'Иван Петров', '', 'primary', 'name'), "
                              "('p1', 'GUZMÁN', 'guzman', 'alias', 'alias')"))
        upgrade(engine)
        with engine.connect() as conn:
            assert dict(conn.execute(text("SELECT name, normalized FROM names")).all()) == {
                "Иван Петров": "ivan petrov", "GUZMÁN": "guzman"}
    finally:
        engine.dispose()


def test_an_output_that_is_a_folder_is_refused_before_any_work(tmp_path, watchlist):
    src = write(tmp_path / "roll.csv", "name\nJoaquin Guzman Loera\n")
    folder = tmp_path / "results"
    folder.mkdir()
    for args in (["screen", str(src), "-o", str(folder), "--against", str(watchlist)],
                 ["match", "pairs", write(tmp_path / "pairs.csv", "left,right\na,b\n").as_posix(), "-o", str(folder)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "is a folder" in result.output, result.output
        assert list(folder.iterdir()) == [] and not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_a_typo_in_a_schema_or_a_repeated_watchlist_id_exits_2_naming_the_row(tmp_path, watchlist):
    pairs = write(tmp_path / "pairs.csv", "left,right,schema\na,b,Person\nc,d,Perosn\n")
    result = runner.invoke(app, ["match", "pairs", str(pairs), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2 and "data row 1: schema 'Perosn' is not a kind" in result.output
    assert not (tmp_path / "out.csv").exists()
    twice = write(tmp_path / "twice.csv", "id,name\nw1,GUZMAN LOERA Joaquin\nw1,EL CHAPO\n")
    src = write(tmp_path / "roll.csv", "name\nJoaquin Guzman\n")
    result = runner.invoke(app, ["screen", str(src), "-o", str(tmp_path / "hits.csv"), "--against", str(twice)])
    assert result.exit_code == 2 and "id 'w1' is already data row 0" in result.output


def test_names_that_a_spreadsheet_would_run_as_formulas_are_written_as_text(tmp_path):
    """A listed name or a roll's owner cell such as '=HYPERLINK(...)' is untrusted: the hits CSV and
    the pairs CSV are opened in spreadsheets, so such cells start with an apostrophe (as in the
    dossier CSVs); numbers stay numbers."""
    evil = '=HYPERLINK("http://evil.example","GUZMAN LOERA Joaquin")'
    watch = tmp_path / "watch.csv"
    with open(watch, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "name", "schema"], ["@w1", evil, "Person"]])
    roll = tmp_path / "roll.csv"
    with open(roll, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["name", "parcel"], ["+GUZMAN LOERA Joaquin HYPERLINK", "-12.5"]])
    out = tmp_path / "hits.csv"
    result = runner.invoke(app, ["screen", str(roll), "-o", str(out), "--against", str(watch), "--threshold", "0.3"])
    assert result.exit_code == 0, result.output
    row = read_csv(out)[0]
    assert row["match_name"] == "'" + evil and row["matched_name"] == "'" + evil
    assert row["match_id"] == "'@w1" and row["query"] == "'+GUZMAN LOERA Joaquin HYPERLINK"

    pairs = tmp_path / "pairs.csv"
    with open(pairs, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["left", "right", "parcel"], [evil, "GUZMAN LOERA, Joaquin", "-12.5"]])
    out = tmp_path / "scored.csv"
    assert runner.invoke(app, ["match", "pairs", str(pairs), "-o", str(out)]).exit_code == 0
    row = read_csv(out)[0]
    assert row["left"] == "'" + evil and row["parcel"] == "-12.5" and float(row["score"]) > 0



def test_a_formula_after_a_semicolon_is_written_as_text_for_spreadsheets_that_split_at_semicolons(tmp_path):
    """Spanish and European locales split a CSV line at ';': 'ACME;=HYPERLINK(..)' gave a formula cell."""
    watch = tmp_path / "watch.csv"
    with open(watch, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "name", "schema"],
                                      ["w1", 'FICTICIA HOLDINGS;=HYPERLINK("http://evil.example")', "Company"]])
    roll = tmp_path / "roll.csv"
    roll.write_text("name\nFICTICIA HOLDINGS\n", encoding="utf-8")
    out = tmp_path / "hits.csv"
    assert runner.invoke(app, ["screen", str(roll), "-o", str(out), "--against", str(watch), "--threshold", "0.3"]
                         ).exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert 'FICTICIA HOLDINGS; =HYPERLINK("http://evil.example")' in read_csv(out)[0]["match_name"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in text.splitlines() for cell in line.split(";"))


def test_blank_lines_between_rows_are_empty_rows_so_row_numbers_stay_those_of_the_file(tmp_path, watchlist):
    """A blank line in a one-column roll is an owner left empty: it used to vanish, so every later hit
    pointed at the row before its own and the summary said '0 empty'. Trailing blank lines are no rows."""
    src = write(tmp_path / "roll.csv", 'name\nAAA\n\nGUZMAN LOERA Joaquin\n""\nGUZMAN LOERA Joaquin\n\n\n')
    out = tmp_path / "hits.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist), "--top", "1"])
    assert result.exit_code == 0, result.output
    assert "2 empty" in result.output
    assert [r["row"] for r in read_csv(out) if r["match_id"] == "w1"] == ["2", "4"]
    pairs = write(tmp_path / "pairs.csv", "left,right\nAna,Ana\n\nJuan,Juan\n")
    out = tmp_path / "scored.csv"
    assert runner.invoke(app, ["match", "pairs", str(pairs), "-o", str(out)]).exit_code == 0
    assert [(r["left"], r["score"]) for r in read_csv(out)] == [("Ana", "1.0000"), ("", ""), ("Juan", "1.0000")]


def test_screen_against_the_store_screens_people_and_organisations_only(db_url, tmp_path):
    """A Sanction record is named after its target, a Territory may share a name with a person:
    neither is someone a roll's owner could be (web screening jobs leave them out too)."""
    from workbench.store import db as store_db
    from workbench.store.entities import create_entity, create_link
    from workbench.store.permissions import Actor

    actor = Actor("rita", "researcher")
    with store_db.session_scope(db_url) as s:
        person = create_entity(s, actor, "Person", {"name": "FICTIONAL Ernesto Valdivia Ruelas"}).obj
        sanction = create_entity(s, actor, "Sanction", {"name": "FICTIONAL Ernesto Valdivia Ruelas",
                                                        "program": "SDNTK", "authority": "FICTIONAL authority"}).obj
        create_link(s, actor, "SanctionOf", sanction.id, person.id)
        create_entity(s, actor, "Territory", {"name": "FICTIONAL Valdivia Ruelas", "level": "municipality"})
    src, out = tmp_path / "roll.csv", tmp_path / "hits.csv"
    src.write_text("name\nERNESTO VALDIVIA RUELAS FICTIONAL\nVALDIVIA RUELAS FICTIONAL\n", encoding="utf-8")
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--threshold", "0.3"])
    assert result.exit_code == 0, result.output
    hits = list(csv.DictReader(out.open(encoding="utf-8")))
    assert hits and {h["match_id"] for h in hits} == {person.id}


def test_screen_reads_alias_and_care_of_cells_as_the_names_they_hold(tmp_path):
    """'X alias Y' names one person twice: each name is screened, and the row keeps the best score
    per listed record (the query column still shows the cell as written)."""
    watchlist, src, out = tmp_path / "w.csv", tmp_path / "roll.csv", tmp_path / "hits.csv"
    watchlist.write_text('id,name,schema,aliases\nw1,"VALDIVIA RUELAS, Ernesto",Person,FICTIONAL EL TORO\n'
                         "w2,FICTIONAL HOLDINGS LLC,Company,\n", encoding="utf-8")
    src.write_text('name\nErnesto Valdivia Ruelas alias El Toro Ficticio\n"VALDIVIA RUELAS, Ernesto (a) X"\n'
                   "FICTIONAL HOLDINGS LLC C/O ERNESTO VALDIVIA RUELAS\n", encoding="utf-8")
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist),
                                 "--threshold", "0.7"])
    assert result.exit_code == 0, result.output
    hits = list(csv.DictReader(out.open(encoding="utf-8")))
    by_row = {}
    for h in hits:
        by_row.setdefault(h["row"], []).append((h["match_id"], float(h["score"])))
    assert by_row["0"][0] == ("w1", 1.0) and by_row["1"][0] == ("w1", 1.0)
    assert {m for m, _ in by_row["2"]} == {"w1", "w2"} and all(s == 1.0 for _, s in by_row["2"])
    assert hits[0]["query"] == "Ernesto Valdivia Ruelas alias El Toro Ficticio"


def test_match_pairs_refuses_a_header_whose_columns_share_a_name(tmp_path):
    """OUT repeats the input's columns: two called 'note' were written as the second one's value twice."""
    out = tmp_path / "out.csv"
    for header, named in (("left,right,note,note", "'note' more than once"), ("left,right,,", "without a name")):
        src = write(tmp_path / "in.csv", f"{header}\nJose,Jose,a,b\n")
        result = runner.invoke(app, ["match", "pairs", str(src), "-o", str(out)])
        assert result.exit_code == 2 and "in.csv" in result.output and named in result.output, result.output
        assert not out.exists()


def test_match_pairs_leaves_a_pasted_page_unscored_and_says_which_row(tmp_path):
    """A 55 KB cell took 73 s to score (time grows with the square of a name's words)."""
    page = " ".join(f"palabra{i}" for i in range(3000))
    src = write(tmp_path / "in.csv", f'left,right\n"{page}",Jose Perez\n"GUZMAN LOERA, Joaquin",Joaquin Guzman Loera\n')
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["match", "pairs", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "not scored: 1 pair(s) with a name longer than 1,000 characters (0-based data rows 0)" in result.output
    rows = read_csv(out)
    assert rows[0]["score"] == "" and "longer than 1,000 characters" in rows[0]["explanation"]
    assert float(rows[1]["score"]) == 1.0


def test_every_ragged_row_is_named_in_one_refusal(tmp_path, watchlist):
    """QA round 16: a roll with two ragged rows named the first, and the second only on the next run."""
    src = write(tmp_path / "roll.csv", "name,address,parcel\nA,1 Main,11\nB,2 Main\nC,3 Main,33\nD,4,44,x\n\n"
                                       "E,5 Main,55\nF\n")
    out = tmp_path / "hits.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist)])
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert ("roll.csv line 3, 0-based data row 1: has 2 fields but the header has 3; so do 2 more rows: "
            "line 5, 0-based data row 3 (4 fields), line 8, 0-based data row 6 (1 field)") in said
    assert not out.exists()
