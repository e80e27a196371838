"""What the scores and their explanations tell a researcher."""

import math

import pytest

from workbench.matching.entity_score import score_entities
from workbench.matching.score import score_names


def test_identical_after_normalisation_scores_one():
    assert score_names("GUZMAN LOERA, Joaquin", "Joaquín Guzmán Loera", "Person").score == 1.0


def test_relative_with_a_different_second_surname_scores_below_the_same_person_with_a_typo():
    relative = score_names("GUZMAN LOPEZ, Joaquin", "GUZMAN LOERA, Joaquin", "Person").score
    typo = score_names("GUZMAN LOESA, Joaquin", "GUZMAN LOERA, Joaquin", "Person").score
    dropped = score_names("GUZMAN, Joaquin", "GUZMAN LOERA, Joaquin", "Person").score
    assert relative < typo and relative < dropped
    assert relative < 0.7


def test_diminutive_matches_given_name_and_explains_it():
    result = score_names("Chuy Gonzalez Penuelas", "GONZALEZ PENUELAS, Jesus")
    assert result.score > 0.85
    hows = {(a["query"], a["candidate"]): a["how"] for a in result.explanation()["aligned"]}
    assert hows[("chuy", "jesus")] == "diminutive/variant"


def test_a_diminutive_of_two_names_is_explained_as_the_word_written():
    """'Chema' stands for 'jose maria': the explanation said 'jose = jose; maria = maria', hiding the
    nickname the query held (QA round 9). Each word it stands for now says where it came from."""
    result = score_names("Chema Villasenor Ibarra", "VILLASENOR IBARRA, Jose Maria")
    hows = {(a["query"], a["candidate"]): a["how"] for a in result.explanation()["aligned"]}
    assert hows[("chema→jose", "jose")] == hows[("chema→maria", "maria")] == "diminutive/variant"
    partial = score_names("Chema Villasenor", "VILLASENOR, Jose").explanation()
    assert partial["unmatched_query"] == ["chema→maria"]


def test_reordered_organisation_names_match():
    assert score_names("CARTEL DE SINALOA", "SINALOA CARTEL").score == 1.0


def test_acronym_of_an_organisation_is_explained():
    result = score_names("SOESMA LTDA.", "SOCIEDAD ESMERALDIFERA DE MARIPI LTDA.", "Organization")
    assert result.score > 0.7
    assert any(a["how"] == "acronym" for a in result.explanation()["aligned"])


def test_explanation_names_unmatched_parts_and_penalties():
    exp = score_names("GUZMAN LOPEZ, Joaquin", "GUZMAN LOERA, Joaquin", "Person").explanation()
    assert exp["unmatched_query"] == ["lopez"] and exp["unmatched_candidate"] == ["loera"]
    features = {f["feature"]: f["effect"] for f in exp["features"]}
    # The leftover surnames are what pulls the score down, and the explanation says so.
    assert min(features.get(k, 0) for k in ("conflicting parts", "surname conflict", "rare part left over")) < 0
    assert "baseline" in features and all("detail" in f for f in exp["features"])
    assert exp["query"]["tokens"] == ["joaquin/given", "guzman/family", "lopez/family"]


def test_legal_form_mismatch_is_a_feature():
    exp = score_names("ACME, S.A. DE C.V.", "ACME LLC").explanation()
    assert any(f["feature"] == "legal form mismatch" for f in exp["features"])


def test_equal_curp_is_near_certain_and_conflicting_curp_is_strongly_negative():
    a = {"name": ["PEREZ LOPEZ, Juan"], "identifier": ["CURP:PELJ800101HSLRPN09"]}
    same = {"name": ["J. Perez"], "identifier": ["CURP:PELJ800101HSLRPN09"]}
    other = {"name": ["PEREZ LOPEZ, Juan"], "identifier": ["CURP:PELJ750505HSLRPN01"]}
    assert score_entities(a, same, "Person").score >= 0.99
    conflicting = score_entities(a, other, "Person")
    assert conflicting.score <= 0.15
    assert any(f["feature"] == "identifier conflict" for f in conflicting.explanation()["features"])


def test_dates_of_birth_full_partial_and_conflicting():
    base = {"name": ["PEREZ LOPEZ, Juan"], "birthDate": ["1980-01-01"]}
    name_only = score_entities(base, {"name": ["PEREZ LOPEZ, Juan"]}, "Person").score
    partial = score_entities(base, {"name": ["PEREZ LOPEZ, Juan"], "birthDate": ["1980"]}, "Person")
    different = score_entities(base, {"name": ["PEREZ LOPEZ, Juan"], "birthDate": ["1975-03-02"]}, "Person")
    assert partial.score >= different.score + 0.2
    assert different.score < name_only
    assert any("year" in f["detail"] for f in partial.features)


def test_a_circa_year_of_birth_allows_the_years_around_it():
    """OFAC's 'DOB circa 1960': a roll's 1961 is the same person as far as the date goes; 1970 is not."""
    listed = {"name": ["PEREZ LOPEZ, Juan"], "birthDateCirca": ["1960"]}
    name_only = score_entities({"name": ["PEREZ LOPEZ, Juan"]}, listed, "Person").score
    near = score_entities({"name": ["PEREZ LOPEZ, Juan"], "birthDate": ["1961-05-02"]}, listed, "Person")
    far = score_entities({"name": ["PEREZ LOPEZ, Juan"], "birthDate": ["1970-05-02"]}, listed, "Person")
    assert near.score >= name_only > far.score + 0.2
    assert any("circa 1960" in f["detail"] for f in near.features)
    # An exact date beside the rough one: agreeing with the exact date is the stronger evidence.
    both = dict(listed, birthDate=["1961-05-02"])
    exact = score_entities({"name": ["PEREZ LOPEZ, Juan"], "birthDate": ["1961-05-02"]}, both, "Person")
    assert any(f["detail"] == "same full date of birth" for f in exact.features)


def test_gender_conflict_lowers_the_score():
    a = {"name": ["PEREZ LOPEZ, Guadalupe"], "gender": ["female"]}
    b = {"name": ["PEREZ LOPEZ, Guadalupe"], "gender": ["male"]}
    assert score_entities(a, b, "Person").score < 0.8


def test_two_word_contraction_of_a_company_name_is_an_acronym():
    """Spanish company names are shortened by joining the starts of two words (COLombiana de CERDOS)."""
    for short, full in (("COLCERDOS LTDA.", "COLOMBIANA DE CERDOS LTDA."),
                        ("AEROCONDOR S.A. DE C.V.", "AERONAUTICA CONDOR S.A. DE C.V.")):
        result = score_names(short, full, "Organization")
        assert result.score > 0.7, (short, result.summary())
        assert any(a["how"] == "acronym" for a in result.explanation()["aligned"])
    # Two letters of a word are not enough: 'COSUR' is not spelled from 'CONSTRUCTORA ... SUR' this way.
    assert score_names("COSUR LTDA.", "CONSTRUCTORA DEL SUR LTDA.", "Organization").score < 0.5


def test_a_short_acronym_is_weaker_evidence_than_a_long_one():
    """Three letters spell any three words that start with them ('SAN' = SYRIAN ARAB NAVY, and every
    'SAN LLC' on a property roll): the credit grows with the letters that had to fall into place."""
    three = score_names("SAN LTD", "SYRIAN ARAB NAVY", "Organization")
    four = score_names("CJNG", "CARTEL DE JALISCO NUEVA GENERACION", "Organization")
    five = score_names("TAUSA S.A.", "TRANSPORTES AEREOS UNIDOS SELVA AMAZONICA S.A.", "Organization")
    assert three.score < 0.7 < four.score < five.score
    assert [a["how"] for a in three.explanation()["aligned"]] == ["acronym"]


def test_an_acronym_must_explain_every_part_the_other_name_adds():
    """'RPA' spells the three words 'RPA LEPTON' lacks; 'IPM' spells three of the four words that
    'INVERSIONES LA PLATA M Y M' adds, leaving the second M unexplained, so it explains nothing."""
    assert score_names("RPA LEPTON", "RESEARCH AND PRODUCTION ASSOCIATION LEPTON").score > 0.9
    assert score_names("IPM LIMITED", "INVERSIONES LA PLATA M Y M").score < 0.3
    assert score_names("GROUP OAK", "OAKLAND ARMS KENTUCKY GROUP HOLDINGS").score < 0.3


def test_people_aligned_only_by_initials_do_not_match():
    """'S M A' meets 'SINGLETON, Abigail M' letter by letter, as any name with those first letters would;
    an organisation's dotted acronym ('S.A.S. E.U.' = Servicio Aereo de Santander) still aligns."""
    assert score_names("SINGLETON, Abigail M", "S M A").score < 0.1
    assert score_names("SINGLETON, Abigail M", "MUJEL, A.S.").score < 0.1
    assert score_names("GUZMAN LOERA, Joaquin", "J. Guzman Loera", "Person").score > 0.85  # words align too
    assert score_names("S.A.S. E.U.", "SERVICIO AEREO DE SANTANDER E.U.", "Organization").score > 0.5


def test_a_letter_put_before_a_short_name_makes_another_name():
    """'KHAN, Ali' is closer to 'KHAN, Nasir Ali' (an OFAC alias pattern: a given name dropped) than to
    'KHAN, Mali'; a letter lost inside a short surname ('RUIZ' / 'RIZ') is still a typo."""
    assert score_names("KHAN, Ali", "KHAN, Mali", "Person").score < 0.5
    assert score_names("KHAN, Ali", "KHAN, Nasir Ali", "Person").score > 0.8
    assert score_names("RUIZ, Arturo", "RIZ, Arturo", "Person").score > 0.8


@pytest.mark.parametrize("brother, sister", [("Mario", "Maria"), ("Daniel", "Daniela"), ("Fernando", "Fernanda"),
                                             ("Julio", "Julia"), ("Francisco", "Francisca")])
def test_a_brother_and_a_sister_with_the_same_surnames_are_no_alert(brother, sister):
    result = score_names(f"GUZMAN LOERA, {brother}", f"GUZMAN LOERA, {sister}", "Person")
    assert result.score < 0.5
    assert brother.lower() in result.unmatched_query and sister.lower() in result.unmatched_candidate


def test_the_same_given_names_in_another_order_rank_below_the_names_written_alike():
    """Two brothers on the SDN list are ARELLANO FELIX, Ramon Eduardo and ARELLANO FELIX, Eduardo Ramon."""
    from workbench.matching.index import NameIndex

    index = NameIndex.from_records([("ramon-eduardo", "ARELLANO FELIX, Ramon Eduardo", [], "Person"),
                                    ("eduardo-ramon", "ARELLANO FELIX, Eduardo Ramon", [], "Person")])
    hits = index.search("Ramon Eduardo Arellano Felix", "Person", top=2, threshold=0.5)
    assert [h.record_id for h in hits] == ["ramon-eduardo", "eduardo-ramon"]
    assert hits[0].score == 1.0 and 0.9 < hits[1].score < 1.0
    assert [f["feature"] for f in hits[1].result.features] == ["same parts, in another order"]
    # A roll writing the surnames first is the same order, moved: still identical.
    assert score_names("ARELLANO FELIX RAMON EDUARDO", "ARELLANO FELIX, Ramon Eduardo", "Person").score == 1.0


def test_an_rfc_written_without_its_homoclave_agrees_with_the_whole_one():
    from workbench.matching.entity_score import score_entities

    whole = {"name": ["Rosalinda Tapia Quinones"], "identifier": ["RFC:TAQR810714AB3"]}
    short = {"name": ["Rosalinda Tapia Quinones"], "identifier": ["RFC:TAQR810714"]}
    other = {"name": ["Rosalinda Tapia Quinones"], "identifier": ["RFC:TAQR810715"]}
    agreeing = score_entities(short, whole, "Person")
    assert agreeing.score >= agreeing.name.score
    assert any("without the homoclave" in f["detail"] for f in agreeing.features)
    assert score_entities(other, whole, "Person").score <= 0.15  # another date: another person


@pytest.mark.parametrize("written, listed", [("Ma. Teresa Quintana Navarro", "QUINTANA NAVARRO, Maria Teresa"),
                                             ("Fco. Javier Lopez Ruiz", "LOPEZ RUIZ, Francisco Javier"),
                                             ("Ma. de Gpe. Gastelum Payan", "GASTELUM PAYAN, Maria de Guadalupe")])
def test_given_names_as_mexican_documents_abbreviate_them(written, listed):
    assert score_names(written, listed, "Person").score >= score_names(
        written.split(" ", 1)[1], listed, "Person").score  # never below leaving the name out
    assert score_names(written, listed, "Person").score > 0.9


def test_a_father_and_a_son_are_told_apart_by_their_suffixes():
    differ = score_names("GUZMAN LOERA, Joaquin Jr.", "GUZMAN LOERA, Joaquin Sr.", "Person")
    assert differ.score <= 0.5 and differ.features[-1]["feature"] == "generational suffix differs"
    assert score_names("John Smith III", "John Smith IV", "Person").score <= 0.5
    one_side = score_names("JOAQUIN GUZMAN LOERA JR", "GUZMAN LOERA, Joaquin", "Person")
    assert 0.9 < one_side.score < 1.0 and "Jr." in one_side.features[-1]["detail"]
    # 'Sr.' before a name is 'Señor', a courtesy title, not a generation.
    assert score_names("Sr. Juan Perez Gomez", "PEREZ GOMEZ, Juan", "Person").score == 1.0


def test_a_word_cut_short_is_not_read_as_a_feminine_name():
    from workbench.matching.score import gendered_pair

    assert gendered_pair("daniel", "daniela") and gendered_pair("mario", "maria")
    assert not gendered_pair("muestr", "muestra") and not gendered_pair("valdivi", "valdivia")
    result = score_names("Transportes Muestr del Vale", "TRANSPORTES MUESTRA DEL VALLE SA DE CV")
    assert ("muestr", "muestra") in {(a.query, a.candidate) for a in result.aligned}


@pytest.mark.parametrize("left, right, schema", [
    ("GRUPO MEXICANO SA", "GRUPO MEXICANA SA", "Company"),  # an adjective's agreement
    ("GARCIA LOPEZ, Juan", "GARCIO LOPEZ, Juan", "Person"),  # a typo in a surname
    ("CARRILLO FUENTES, Amado", "CARRILLA FUENTES, Amado", "Person"),
])
def test_the_o_a_difference_outside_given_names_is_a_variant(left, right, schema):
    assert score_names(left, right, schema).score > 0.7


def test_a_family_name_ma_is_not_an_abbreviated_maria():
    assert score_names("MA, Jian", "MARIA, Jian", "Person").score < 0.5


@pytest.mark.parametrize("one, other", [("Jose", "Josue"), ("Ismael", "Israel"), ("Mario", "Marco")])
def test_distinct_given_names_a_letter_apart_are_two_people(one, other):
    assert score_names(f"GUZMAN LOERA, {one}", f"GUZMAN LOERA, {other}", "Person").score < 0.5


@pytest.mark.parametrize("left, right, schema", [
    ("ELIAS CALLES, Plutarco", "ELISA CALLES, Plutarco", "Person"),  # a surname, not a given name
    ("INMOBILIARIA ISRAEL", "INMOBILIARIA ISMAEL", "Company"),  # a company's word
    ("MARTIN LOPEZ, Juan", "MARTINA LOPEZ, Juan", "Person"),
])
def test_given_name_rules_leave_surnames_and_company_words_to_spelling(left, right, schema):
    assert score_names(left, right, schema).score > 0.6


def test_a_roll_name_against_a_listed_given_name_is_read_as_a_given_name():
    assert score_names("Mario Guzman Loera", "GUZMAN LOERA, Maria", "Person").score < 0.5
    assert score_names("Jose Guzman Loera", "GUZMAN LOERA, Josue", "Person").score < 0.5


def test_the_accuracy_benchmark_scores_settled_pairs_as_the_scorer_does():
    """`workbench bench matching` fits the model out of fold, but the pairs the scorer settles without
    it (same parts; same parts in another order; a generational suffix) must get the scorer's own
    number, or the benchmark measures another scorer: two different listed people whose given names
    are the same words in another order (a hard negative of the dev pairs) once rated 1.0 there and
    0.97 in the product."""
    from workbench.matching.bench import schema_of
    from workbench.matching.score import generation_adjusted
    from workbench.matching.train import featurise

    rows = [{"query": q, "candidate": c, "type": "individual"} for q, c in (
        ("AYACHE, Mahmoud Hassan", "AYACHE, Hassan Mahmoud"),   # same parts, another order
        ("PEÑA MENDOZA, Sergio", "PENA MENDOZA, Sergio"),       # the same after normalisation
        ("FICTO LOPEZ, Juan Jr.", "FICTO LOPEZ, Juan"),         # a suffix on one side
        ("FICTO LOPEZ, Juan", "FICTO LOERA, Juan"),             # the model decides
    )]
    _x, settled, forms = featurise(rows, schema_of, None)
    for row, value, (qf, cf) in zip(rows, settled, forms):
        expected = score_names(row["query"], row["candidate"], "Person").score
        if not math.isnan(value):  # settled without the model
            assert generation_adjusted(qf, cf, float(value))[0] == pytest.approx(expected)
    assert settled[0] == pytest.approx(0.97) and settled[1] == 1.0
    assert math.isnan(settled[3])  # left to the model
    assert generation_adjusted(*forms[2], float(settled[2]))[0] < 1.0
