"""Numbers in organisation names, and names that are only a legal form.

A branch, series or lot number tells two organisations apart ('... 001' / '... 011', '5 DE MAYO' /
'6 DE MAYO', 'LOTE 12' / 'LOTE 21'): two different numbers pull the score well below any screening
threshold (the CLI reports from 0.5, screening jobs queue from 0.7) and the explanation names them.
The same number written otherwise (001 / 1, 'No. 5' / 5, XIV / 14 in a company's name) costs nothing;
a number on one name only costs a little. A name that is only a legal form ('S.A. DE C.V.') has no
name to compare: it matches nothing and `workbench screen` says why it was not screened.

Every name here is made up (patterns, not the names of any finding).
"""

from __future__ import annotations

import json

import pytest
from table_helpers import match_pairs, read_csv, write
from typer.testing import CliRunner

from workbench.cli import app
from workbench.matching.fast import quick_score
from workbench.matching.index import NameIndex
from workbench.matching.normalize import name_key, normalize
from workbench.matching.score import TokenStats, score_forms, score_names
from workbench.matching.terms import name_view

runner = CliRunner()
CLI_THRESHOLD, JOB_THRESHOLD = 0.5, 0.7

# A list to weigh the parts against (the 'list' model: screening), words of the pairs below among them.
FILLER = [f"{a} {b}" for a in ("FICTICIA", "MUESTRA", "EJEMPLO", "PRUEBA", "MODELO", "PATRON", "BOCETO")
          for b in ("TRANSPORTES", "ABARROTES", "TALLER", "PARCELA", "SERVICIOS", "COMERCIAL", "MINERA",
                    "HOLDINGS", "AGRICOLA")]


@pytest.fixture(scope="module")
def stats():
    found = TokenStats.from_names(FILLER)
    assert found.total >= 50
    return found


def _features(result):
    return {f["feature"]: f for f in result.explanation()["features"]}


# ---- two different numbers --------------------------------------------------------------------

DIFFERENT = [
    ("TRANSPORTES FICTICIOS 001 SA DE CV", "Transportes Ficticios 011", None, "001 / 011"),
    ("Abarrotes 3 de Marzo", "Abarrotes 4 de Marzo", None, "3 / 4"),
    ("TALLER MUESTRA 3100", "TALLER MUESTRA 3101", "Company", "3100 / 3101"),
    ("PARCELA EJEMPLO 14", "PARCELA EJEMPLO 41", None, "14 / 41"),
    ("MINERA PRUEBA 7 S. DE R.L. DE C.V.", "MINERA PRUEBA 8, S. DE R.L. DE C.V.", None, "7 / 8"),
    ("FIDEICOMISO MODELO II, S.A. DE C.V.", "FIDEICOMISO MODELO III S.A. DE C.V.", None, "II / III"),
]


@pytest.mark.parametrize("left, right, schema, numbers", DIFFERENT)
def test_two_different_numbers_pull_the_score_well_below_the_screening_thresholds(stats, left, right, schema,
                                                                                 numbers):
    for s in (None, stats):
        for a, b in ((left, right), (right, left)):
            result = score_names(a, b, schema, s)
            assert result.score <= 0.3 < CLI_THRESHOLD, (a, b, result.summary())
    result = score_names(left, right, schema)
    feature = _features(result)["different numbers"]
    assert feature["detail"].startswith(f"different numbers: {numbers}")
    assert f"different numbers: {numbers}" in result.summary()


def test_the_numbers_are_named_even_where_the_rest_already_scores_low():
    result = score_names("BOCETO AGRICOLA 12", "PATRON MINERA 21")
    assert result.score < 0.3
    assert "different numbers: 12 / 21" in result.summary()


# ---- the same number written otherwise --------------------------------------------------------

SAME = [
    ("TRANSPORTES FICTICIOS 007 SA DE CV", "Transportes Ficticios 7, S.A. de C.V."),
    ("Abarrotes No. 9 de Marzo", "Abarrotes 9 de Marzo"),
    ("ABARROTES Nº 9 DE MARZO", "Abarrotes 9 de Marzo"),
    ("TALLER MUESTRA 3ER PISO", "Taller Muestra 3 Piso"),
    ("GRUPO EJEMPLO XIV S.A. DE C.V.", "GRUPO EJEMPLO 14 S.A. DE C.V."),
    ("SERVICIOS MODELO 2,100", "SERVICIOS MODELO 2100"),
]


@pytest.mark.parametrize("left, right", SAME)
def test_the_same_number_written_otherwise_costs_nothing(stats, left, right):
    for s in (None, stats):
        assert score_names(left, right, None, s).score == pytest.approx(1.0), (left, right)
    assert name_key(left) == name_key(right)


def test_the_explanation_says_when_one_number_is_written_two_ways():
    result = score_names("TRANSPORTES FICTICIOS 007 SA DE CV", "Transportes Ficticios 7")
    assert result.score == 1.0
    assert "007 / 7" in _features(result)["same number"]["detail"]


def test_names_with_different_numbers_do_not_read_the_same():
    """Rejecting a hit is remembered for every owner name that reads the same (name_key): another
    number is another owner."""
    assert name_key("TRANSPORTES FICTICIOS 001") != name_key("TRANSPORTES FICTICIOS 011")
    assert name_key("TRANSPORTES FICTICIOS 001") != name_key("TRANSPORTES FICTICIOS")


# ---- a number on one name only ------------------------------------------------------------------

ONE_SIDED = [
    ("TRANSPORTES FICTICIOS 001 SA DE CV", "Transportes Ficticios", None),
    ("Abarrotes 3 de Marzo", "Abarrotes de Marzo", None),
    ("COMERCIAL MUESTRA DEL NORTE 12", "COMERCIAL MUESTRA DEL NORTE", "Company"),
]


@pytest.mark.parametrize("left, right, schema", ONE_SIDED)
def test_a_number_on_one_name_only_is_a_mild_penalty(stats, left, right, schema):
    for s in (None, stats):
        result = score_names(left, right, schema, s)
        assert JOB_THRESHOLD <= result.score <= 0.9, (left, right, result.summary())
    assert "number on one name only" in score_names(left, right, schema).summary()


# ---- a code holding a digit is not a typo of another --------------------------------------------

def test_codes_with_other_digits_do_not_align_as_spellings():
    result = score_names("HOTEL EJEMPLO PK2", "HOTEL EJEMPLO PK3")
    assert not any({a.query, a.candidate} == {"pk2", "pk3"} for a in result.aligned)
    assert result.score < CLI_THRESHOLD


# ---- a person's roman numerals stay generational suffixes ---------------------------------------

def test_a_persons_roman_numeral_is_still_a_generational_suffix():
    assert normalize("FICTICIO MUESTRA, Juan III").generation == "III"
    assert score_names("FICTICIO MUESTRA, Juan II", "FICTICIO MUESTRA, Juan III").score <= 0.5


# ---- the fast screening path and the benchmark agree with the scorer ------------------------------

def test_the_fast_path_gives_the_explained_score(stats):
    pairs = [(a, b, s) for a, b, s, _n in DIFFERENT] + [(a, b, None) for a, b in SAME] + ONE_SIDED
    for left, right, schema in pairs:
        qf, cf = normalize(left, schema), normalize(right, schema)
        for s in (None, stats):
            exact = score_forms(qf, cf, s, explain=False).score
            assert quick_score(qf, cf, s) == exact
            assert score_forms(qf, cf, s).score == pytest.approx(exact)
            for floor in (0.5, 0.7):
                got = quick_score(qf, cf, s, floor=floor)
                assert got == exact if exact >= floor else got < floor


def test_the_accuracy_benchmark_weighs_the_numbers_as_the_scorer_does():
    from workbench.matching.bench import schema_of
    from workbench.matching.score import adjusted
    from workbench.matching.train import featurise

    rows = [{"query": q, "candidate": c, "type": "entity"} for q, c, _s, _n in DIFFERENT[:2]]
    _x, settled, forms = featurise(rows, schema_of, None)
    for (qf, cf), value in zip(forms, settled):
        assert adjusted(qf, cf, 1.0)[0] <= 0.3


def test_the_cheap_view_reads_numbers_as_the_parse_does():
    """Screening reads most owners without the parse (terms.name_view): where it says it can, it must
    give the parts the parse gives."""
    for name in ["TRANSPORTES FICTICIOS 001 SA DE CV", "Abarrotes No. 9 de Marzo", "ABARROTES Nº 9", "LOTE 12",
                 "TALLER 3ER PISO", "GRUPO EJEMPLO XIV S.A. DE C.V.", "SERVICIOS MODELO 2,100", "EL 20",
                 "FICTICIO MUESTRA JUAN III", "S.A. DE C.V.", "CO., LTD."]:
        for schema in (None, "Company", "Person"):
            kind, texts = name_view(name).parsed(schema)
            if texts is not None:
                form = normalize(name, schema)
                assert (kind, texts) == (form.kind, [t.text for t in form.tokens]), (name, schema)


# ---- screening a numbered series ------------------------------------------------------------------

def test_screening_a_numbered_series_finds_only_the_same_number():
    index = NameIndex.from_records([("x11", "Transportes Ficticios 011", [], "Company"),
                                    ("x0", "Transportes Ficticios", [], "Company")])
    for n in range(1, 60):
        hits = {h.record_id: h.score for h in index.search(f"TRANSPORTES FICTICIOS {n:03d} SA DE CV", None,
                                                           threshold=CLI_THRESHOLD)}
        assert ("x11" in hits) == (n == 11), (n, hits)
        assert "x0" in hits and hits["x0"] <= 0.9  # the name without a number: a mild penalty


# ---- a name that is only a legal form ---------------------------------------------------------------

@pytest.mark.parametrize("form", ["S.A. DE C.V.", "S. DE R.L. DE C.V.", "SOCIEDAD ANONIMA", "CO., LTD.",
                                  "Y CIA. S.A.", "LIMITED LIABILITY COMPANY", "S.A.P.I. DE C.V."])
def test_a_name_that_is_only_a_legal_form_matches_no_company(stats, form):
    for schema in (None, "Company"):
        parsed = normalize(form, schema)
        assert parsed.tokens == [] and parsed.legal_forms, form
        for s in (None, stats):
            result = score_names(form, "UNION FICTICIA DE MUESTRA S.C. DE R.L. DE C.V.", schema, s)
            assert result.score == 0.0
        assert "only a legal form" in _features(result), result.explanation()
    index = NameIndex.from_records([("u1", "UNION FICTICIA DE MUESTRA S.C. DE R.L. DE C.V.", [], "Company"),
                                    ("u2", "COMERCIAL EJEMPLO, S.A. DE C.V.", [], "Company")])
    assert index.search(form, None, threshold=0.0) == []


def test_a_dotted_acronym_before_its_legal_form_is_still_a_name():
    """'S.A.S. E.U.' is an acronym (OFAC's alias of a company it spells) before a legal form."""
    assert normalize("S.A.S. E.U.", "Organization").tokens
    assert normalize("M.A.T.S.A. S.A. DE C.V.", "Organization").tokens


# ---- `workbench screen` ------------------------------------------------------------------------------

def test_screen_cli_keeps_numbered_companies_apart_and_says_why_a_legal_form_was_not_screened(tmp_path):
    watchlist = write(tmp_path / "watch.csv", "id,name,schema,aliases\n"
                                              "w11,Transportes Ficticios 011,Company,\n"
                                              "w5,Abarrotes 5 de Marzo,Company,\n"
                                              "wu,UNION FICTICIA DE MUESTRA S.C. DE R.L. DE C.V.,Company,\n")
    owners = [f"TRANSPORTES FICTICIOS {n:03d} SA DE CV" for n in range(1, 31)]
    owners += ["Abarrotes 6 de Marzo", "Abarrotes No. 5 de Marzo", "S.A. DE C.V."]
    src = write(tmp_path / "roll.csv", "name\n" + "\n".join(owners) + "\n")
    out = tmp_path / "hits.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist),
                                 "--threshold", str(CLI_THRESHOLD)])
    assert result.exit_code == 0, result.output
    rows = read_csv(out)
    assert {(r["row"], r["match_id"]) for r in rows} == {("10", "w11"), ("31", "w5")}
    assert all(float(r["score"]) == 1.0 for r in rows)
    assert "1 empty" in result.output
    assert "only a legal form" in result.stderr and "32 ('S.A. DE C.V.')" in result.stderr

    low = tmp_path / "low.csv"
    result = runner.invoke(app, ["screen", str(src), "-o", str(low), "--against", str(watchlist),
                                 "--threshold", "0.05"])
    assert result.exit_code == 0, result.output
    near = [r for r in read_csv(low) if r["row"] == "0" and r["match_id"] == "w11"]
    assert near and float(near[0]["score"]) <= 0.3
    details = [f["detail"] for f in json.loads(near[0]["explanation"])["features"]]
    assert any(d.startswith("different numbers: 001 / 011") for d in details)
    assert not any(r["row"] == "32" for r in read_csv(low))  # the legal form matched nothing, even at 0.05


def test_match_pairs_explains_different_numbers(tmp_path):
    first, second = match_pairs(tmp_path, "left,right\nTRANSPORTES FICTICIOS 001 SA DE CV,Transportes Ficticios 011\n"
                                          "S.A. DE C.V.,UNION FICTICIA DE MUESTRA S.C. DE R.L. DE C.V.\n")
    assert float(first["score"]) <= 0.3
    assert "different numbers: 001 / 011" in first["explanation"]
    assert float(second["score"]) == 0.0 and "only a legal form" in second["explanation"]
