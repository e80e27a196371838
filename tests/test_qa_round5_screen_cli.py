"""QA round 5 on `workbench match pairs` and `workbench screen`: an output that is an input, ';'
files, line numbers in every message, an input that already has the added columns, an empty store.

All names are FICTIONAL."""


import pytest
from table_helpers import read_csv, write
from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()


@pytest.fixture
def watchlist(tmp_path):
    return write(tmp_path / "watch.csv", 'id,name,schema\nw1,"VALDIVIA RUELAS, Ernesto",Person\n'
                                         "w2,FICTIONAL HOLDINGS LLC,Company\n")


def screen(*args):
    return runner.invoke(app, ["screen", *map(str, args)])


def pairs(*args):
    return runner.invoke(app, ["match", "pairs", *map(str, args)])


# ---- 1. an output that is one of the inputs -----------------------------------------------------

def test_match_pairs_refuses_to_write_over_its_input(tmp_path):
    src = write(tmp_path / "normal.csv", "left,right\nErnesto Valdivia,VALDIVIA RUELAS Ernesto\n")
    before = src.read_bytes()
    result = pairs(src, "-o", src)
    assert result.exit_code == 2, result.output
    assert f"-o {src}: is the same file as the input {src}" in result.output
    assert src.read_bytes() == before
    assert not list(tmp_path.glob(".normal.csv*"))


def test_screen_refuses_an_output_that_is_its_input_or_the_watchlist(tmp_path, watchlist, monkeypatch):
    src = write(tmp_path / "q.csv", "name\nErnesto Valdivia Ruelas\n")
    before, listed = src.read_bytes(), watchlist.read_bytes()
    # the same file by another spelling: a relative path and a '..' detour
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    for out in (src, "q.csv", tmp_path / "sub" / ".." / "q.csv"):
        result = screen("q.csv", "-o", out, "--against", watchlist)
        assert result.exit_code == 2, result.output
        assert "-o " in result.output and "same file as the input q.csv" in result.output
    result = screen(src, "-o", watchlist, "--against", watchlist)
    assert result.exit_code == 2, result.output
    assert "watch.csv" in result.output and "same file as the watchlist" in result.output
    assert src.read_bytes() == before and watchlist.read_bytes() == listed


def test_an_output_linked_to_the_input_is_the_input(tmp_path, watchlist):
    src = write(tmp_path / "q.csv", "name\nErnesto Valdivia Ruelas\n")
    link = tmp_path / "hits.csv"
    link.symlink_to(src)
    result = screen(src, "-o", link, "--against", watchlist)
    assert result.exit_code == 2, result.output
    assert src.read_text(encoding="utf-8") == "name\nErnesto Valdivia Ruelas\n"


def test_a_new_output_beside_the_input_is_still_written(tmp_path, watchlist):
    src = write(tmp_path / "q.csv", "name\nErnesto Valdivia Ruelas\n")
    result = screen(src, "-o", tmp_path / "q_hits.csv", "--against", watchlist)
    assert result.exit_code == 0, result.output
    assert read_csv(tmp_path / "q_hits.csv")[0]["match_id"] == "w1"


# ---- 2. a ';' file, a Latin-1 file ----------------------------------------------------------------

def test_a_semicolon_file_is_told_how_its_header_reads(tmp_path, watchlist):
    src = write(tmp_path / "semi.csv", "name;city\nErnesto Valdivia Ruelas;Ficticia\n")
    out = tmp_path / "hits.csv"
    result = screen(src, "-o", out, "--against", watchlist)
    assert result.exit_code == 2
    assert "semi.csv" in result.output
    assert "reads as one column 'name;city'" in result.output and "separated by ';'" in result.output
    assert "pass --delimiter ';'" in result.output
    assert not out.exists()
    semi = write(tmp_path / "semipairs.csv", "left;right\nAna Ficticia;Ana Ficticia\n")
    result = pairs(semi, "-o", out)
    assert result.exit_code == 2 and "separated by ';'" in result.output and not out.exists()
    semi_watch = write(tmp_path / "semiwatch.csv", "id;name\nw1;FICTIONAL HOLDINGS LLC\n")
    result = screen(write(tmp_path / "roll.csv", "name\nX\n"), "-o", out, "--against", semi_watch)
    assert result.exit_code == 2 and "semiwatch.csv" in result.output and "separated by ';'" in result.output
    assert "save it with commas" in result.output and "--delimiter" not in result.output  # the watchlist has none


def test_a_semicolon_or_tab_file_is_read_with_delimiter_and_the_output_stays_comma_separated(tmp_path, watchlist):
    src = write(tmp_path / "semi.csv", "parcel;name\n001;FICTIONAL HOLDINGS, LLC\n002;Nadie Conocido\n")
    out = tmp_path / "hits.csv"
    result = screen(src, "-o", out, "--against", watchlist, "--delimiter", ";")
    assert result.exit_code == 0, result.output
    hits = read_csv(out)
    assert hits[0]["row"] == "0" and hits[0]["query"] == "FICTIONAL HOLDINGS, LLC" and hits[0]["match_id"] == "w2"
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("row,query,match_id")
    tabs = write(tmp_path / "pairs.tsv", "left\tright\nAna Ficticia\tFICTICIA, Ana\n")
    result = pairs(tabs, "-o", tmp_path / "scored.csv", "--delimiter", "tab")
    assert result.exit_code == 0, result.output
    assert float(read_csv(tmp_path / "scored.csv")[0]["score"]) > 0.9
    # Told ';' for a comma file: the header reads as one column, and the message says what to pass.
    commas = write(tmp_path / "commas.csv", "name,city\nAna,X\n")
    result = screen(commas, "-o", out, "--against", watchlist, "--delimiter", ";")
    assert result.exit_code == 2 and "separated by commas" in result.output and "--delimiter ','" in result.output


def test_a_delimiter_that_cannot_separate_fields_is_refused_before_any_work(tmp_path, watchlist):
    src = write(tmp_path / "roll.csv", "name\nAna\n")
    for bad in (";;", "a", '"', ""):
        result = screen(src, "-o", tmp_path / "hits.csv", "--against", watchlist, "--delimiter", bad)
        assert result.exit_code == 2 and "--delimiter" in result.output and "one character" in result.output
        assert not (tmp_path / "hits.csv").exists()


def test_a_tab_file_is_told_too(tmp_path, watchlist):
    src = write(tmp_path / "tabs.csv", "name\tcity\nErnesto Valdivia Ruelas\tFicticia\n")
    result = screen(src, "-o", tmp_path / "hits.csv", "--against", watchlist)
    assert result.exit_code == 2 and "separated by tabs" in result.output


def test_latin1_is_still_refused_with_the_line(tmp_path, watchlist):
    src = write(tmp_path / "latin.csv", "name\nAna\nJOSÉ FICTICIO\n", "latin-1")
    out = tmp_path / "hits.csv"
    result = screen(src, "-o", out, "--against", watchlist)
    assert result.exit_code == 2
    assert "latin.csv" in result.output and "line 3" in result.output and "UTF-8" in result.output
    assert not out.exists()


# ---- 3. the file and the physical line in every message -------------------------------------------

def test_screen_input_errors_name_the_line_and_the_0_based_row(tmp_path, watchlist):
    src = write(tmp_path / "ragged.csv", "name,parcel\nA,1\nB,2,3\n")
    result = screen(src, "-o", tmp_path / "hits.csv", "--against", watchlist)
    assert result.exit_code == 2
    assert "ragged.csv line 3, 0-based data row 1:" in result.output


def test_match_pairs_errors_name_the_line(tmp_path):
    src = write(tmp_path / "pairs.csv", 'left,right,schema\na,b,Person\n"c\nd",e,Perosn\n')
    result = pairs(src, "-o", tmp_path / "out.csv")
    assert result.exit_code == 2
    # the record starts on line 3 (its quoted cell runs on to line 4)
    assert "pairs.csv line 3, 0-based data row 1: schema 'Perosn'" in result.output
    assert not (tmp_path / "out.csv").exists()


def test_watchlist_errors_name_the_line(tmp_path):
    src = write(tmp_path / "roll.csv", "name\nErnesto Valdivia\n")
    out = tmp_path / "hits.csv"
    # a blank line is no entry (skipped), and the line numbers still count it
    missing = write(tmp_path / "missing.csv", "id,name\nw1,FICTIONAL ONE\n\nw3,\n")
    result = screen(src, "-o", out, "--against", missing)
    assert result.exit_code == 2 and "missing.csv line 4" in result.output and "needs both" in result.output
    twice = write(tmp_path / "twice.csv", "id,name\nw1,FICTIONAL ONE\nw2,FICTIONAL TWO\nw1,FICTIONAL THREE\n")
    result = screen(src, "-o", out, "--against", twice)
    assert result.exit_code == 2
    assert "twice.csv line 4" in result.output and "line 2" in result.output
    typo = write(tmp_path / "typo.csv", "id,name,schema\nw1,FICTIONAL ONE,Perosn\n")
    result = screen(src, "-o", out, "--against", typo)
    assert result.exit_code == 2 and "typo.csv line 2" in result.output
    assert not out.exists()


def test_an_unterminated_quote_names_the_line_it_starts_on(tmp_path, watchlist):
    src = write(tmp_path / "quote.csv", 'name\nAna\n"Ernesto Valdivia\n')
    result = screen(src, "-o", tmp_path / "hits.csv", "--against", watchlist)
    assert result.exit_code == 2, result.output
    assert "quote.csv line 3, 0-based data row 1" in result.output


# ---- 4. an input that already has score or explanation ------------------------------------------

@pytest.mark.parametrize("column", ["score", "explanation"])
def test_match_pairs_refuses_an_input_with_the_added_columns(tmp_path, column):
    src = write(tmp_path / "scored.csv", f"left,right,{column}\nAna Ficticia,Ana Ficticia,x\n")
    out = tmp_path / "out.csv"
    result = pairs(src, "-o", out)
    assert result.exit_code == 2, result.output
    assert "scored.csv" in result.output and f"'{column}'" in result.output and "rename" in result.output
    assert not out.exists()


# ---- 5. an empty store ---------------------------------------------------------------------------

def test_screening_an_empty_store_warns_that_no_hits_mean_nothing(db_url, tmp_path):
    src = write(tmp_path / "roll.csv", "name\nErnesto Valdivia Ruelas\nFICTIONAL HOLDINGS LLC\n")
    out = tmp_path / "hits.csv"
    result = screen(src, "-o", out)
    assert result.exit_code == 0, result.output
    assert "warning" in result.stderr and "no names" in result.stderr
    assert "does not mean the names are clear" in result.stderr
    assert read_csv(out) == []
