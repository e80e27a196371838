"""The screening pipeline (blocking -> C pre-score -> full score) finds what the full scorer finds.

Names here are made up; the bench (`workbench bench matching`) measures the same properties on a
property roll against the real SDN list.
"""

import pytest

from workbench.matching.index import NameIndex, pre_cutoff
from workbench.matching.normalize import normalize
from workbench.matching.score import score_forms
from workbench.matching.screen import screen_names
from workbench.matching.synthetic import generated_watchlist, property_roll
from workbench.matching.terms import name_words, sort_string

WATCHLIST = [
    ("p1", "CORRALES VILLASEÑOR, Josefina Maricela", [], "Person"),
    ("p2", "ARMENDARIZ QUINTANAR, José Ignacio", ["Pepe ARMENDARIZ"], "Person"),
    ("p3", "OSTROVSKY, Bartholomew", [], "Person"),
    ("o1", "AGROINSUMOS DEL BAJIO TEPEXPAN, S.A. DE C.V.", [], "Organization"),
    ("o2", "BLUE HERON MARITIME LLC", [], "Organization"),
]


@pytest.fixture(scope="module")
def index():
    return NameIndex.from_records(WATCHLIST)


def _ids(index, positions):
    """The watchlist ids of the index positions blocking returned."""
    return {index.entries[k].record_id for k in positions}


@pytest.mark.parametrize("query, expected", [
    ("Josefina Maricela Corrales Villasenor", "p1"),  # given name first, accent dropped
    ("CORRALES, Josefina Maricela", "p1"),  # second surname dropped
    ("CORALES VILLASEÑOR, Josefina Maricela", "p1"),  # typo in the first surname
    ("Nacho Armendariz Quintanar", "p2"),  # diminutive of a given name
    ("AGROINSUMOS DEL BAJIO TEPEXPAN SOCIEDAD ANONIMA DE CAPITAL VARIABLE", "o1"),  # legal form spelt out
    ("MARITIME BLUE HERON, L.L.C.", "o2"),  # reordered words, other spelling of the legal form
])
def test_screening_finds_common_variants(index, query, expected):
    hits = index.search(query, None, top=5, threshold=0.6)
    assert hits and hits[0].record_id == expected, [(h.record_id, h.score) for h in hits]


def test_unrelated_owner_gets_no_hit(index):
    assert index.search("SUNRISE DESERT HOLDINGS LLC", None, threshold=0.7) == []
    assert index.search("Kimberly Watson", None, threshold=0.7) == []


def test_pre_score_string_is_order_and_diminutive_free():
    assert sort_string(name_words("Pepe ARMENDARIZ")) == sort_string(name_words("ARMENDARIZ, José"))
    assert sort_string(name_words("ACME TRADING S.A. DE C.V.")) == sort_string(name_words("Trading Acme SA de CV"))


def test_pre_score_cutoff_rises_with_the_threshold():
    cuts = [pre_cutoff(t / 10) for t in range(11)]
    assert cuts == sorted(cuts) and cuts[0] == 0 and cuts[-1] > cuts[5]


def test_a_word_on_most_names_does_not_flood_the_candidates():
    records = [(f"m{i}", f"MARIA {surname}{i}", [], "Person") for i, surname in enumerate(["ZAPATA"] * 400)]
    records.append(("target", "MARIA OSTROVSKY", [], "Person"))
    index = NameIndex.from_records(records)
    words = name_words("Maria Ostrovsky")
    assert len(index.candidates(words)) < 10
    assert index.search("Maria Ostrovsky", None, threshold=0.7)[0].record_id == "target"


def test_pipeline_finds_what_scoring_every_name_finds():
    """On a generated list, every record the full scorer rates >= threshold is returned by the pipeline,
    acronym alignments included (test_screening_blocks_acronyms_and_contractions has those)."""
    records = generated_watchlist(600, seed=5)
    index = NameIndex.from_records(records)
    rows = [r for r in property_roll(records, 3000, seed=2, planted_share=0.3) if r.planted_id][:25]
    assert len(rows) >= 20
    threshold = 0.7
    checked = 0
    for row in rows:
        found = {h.record_id for h in index.search(row.name, None, top=10_000, threshold=threshold)}
        form = normalize(row.name)
        for record_id in index.score_all(row.name, None, threshold):
            best = max((score_forms(form, index.entries[k].form, index.stats) for k in index.by_record[record_id]),
                       key=lambda result: result.score)
            checked += 1
            assert record_id in found, (row.name, best.candidate.original)
    assert checked >= 20


def test_parallel_screening_keeps_input_order_and_scores_repeats_once():
    records = generated_watchlist(300, seed=9)
    index = NameIndex.from_records(records)
    rows = [(r.name, None) for r in property_roll(records, 120, seed=4, planted_share=0.2)]
    assert len(set(rows)) < len(rows)  # owners repeat
    serial = list(screen_names(index, rows, top=3, threshold=0.6, workers=1, chunk=7))
    parallel = list(screen_names(index, rows, top=3, threshold=0.6, workers=2, chunk=7))
    direct = [tuple((h.record_id, h.score) for h in index.search(n, s, top=3, threshold=0.6)) for n, s in rows]
    assert [[(h[0], h[3]) for h in r] for r in serial] == [list(d) for d in direct]
    assert parallel == serial
    assert any(direct)


def test_a_name_written_as_one_word_meets_the_same_name_written_as_two():
    """Transliterated names are joined or split at will ('MAE SAI' / 'MAESAI'): no word of one equals a
    word of the other, so only the joined-words key brings them together, in either direction."""
    index = NameIndex.from_records([("o1", "MAE SAI", [], "Organization"), ("o2", "HATKAEW", [], "Organization"),
                                    ("o3", "SAI MAE", [], "Organization")])
    assert [h.record_id for h in index.search("MAESAI", None, threshold=0.6)] == ["o1"]
    assert [h.record_id for h in index.search("HAT KAEW", None, threshold=0.6)] == ["o2"]


def test_a_vowel_lost_early_in_a_long_word_still_finds_the_name():
    """'RAWNSTVO' shares neither its sound key nor its first four letters with 'RAWENSTVO'; the
    consonant skeleton of a long word is the key they share."""
    index = NameIndex.from_records([("o1", "JSC RAWENSTVO", [], "Organization"),
                                    ("o2", "JSC RAWLINS", [], "Organization")])
    assert [h.record_id for h in index.search("JSC RAWNSTVO", None, threshold=0.6)] == ["o1"]


def test_a_name_transliterated_with_other_vowels_in_every_word_is_still_found():
    """'DOMAA, Hussam Saied' and 'DOUMAA, Hossam Saeid' share no sound key and no first letters: the
    vowels differ in every word. Two words' consonant skeletons together ('dm sd') bring them
    together, while a name sharing one skeleton only ('DIMA') is not reached through it."""
    index = NameIndex.from_records([("p1", "DOUMAA, Hossam Saeid", [], "Person"),
                                    ("p2", "DIMA, Karim", [], "Person")])
    hits = index.search("DOMAA, Hussam Saied", "Person", threshold=0.5)
    assert [h.record_id for h in hits] == ["p1"]
    reached = _ids(index, index.candidates(name_words("DOMAA, Hussam Saied")))
    assert reached == {"p1"}


def test_a_late_typo_meets_words_of_about_its_length_only():
    """The first-letters key carries the word's length: 'MARIA' still meets 'MARIO' (one letter
    changed) but no longer every 'MARISOL' and 'MARISCAL' that begins with the same four letters."""
    records = [(f"m{i}", f"MARISOL ZUBIZARRETA{i}", [], "Person") for i in range(50)]
    records += [("mario", "MARIO ECHEVERRI", [], "Person"), ("cal", "MARISCAL EXPORT", [], "Organization")]
    index = NameIndex.from_records(records)
    reached = _ids(index, index.candidates(name_words("MARIA")))
    assert "mario" in reached
    assert not reached & {"cal", "m0", "m49"}


def test_an_owner_cut_short_by_the_roll_still_finds_the_listed_name():
    """County rolls cut long owner names at a fixed width: 'TRANSLOM' is the first letters of
    'TRANSLOMMARKET', six letters shorter, and the only word the two names share."""
    index = NameIndex.from_records([("o1", "LIMITED LIABILITY COMPANY TRANSLOMMARKET", [], "Organization"),
                                    ("o2", "TRANSPORT LOGISTICS LLC", [], "Organization")])
    hits = index.search("TRANSLOM LIMITED COMPANY LIABILITY", None, threshold=0.7)
    assert [h.record_id for h in hits] == ["o1"]


def test_a_long_word_with_letters_dropped_still_finds_the_name():
    """'INTERREGIONCONSRTUCTION' lost three letters and swapped two of 'INTERREGIONGASCONSTRUCTION':
    long words are looked up at lengths a few letters either side."""
    index = NameIndex.from_records([("o1", "LIMITED LIABILITY COMPANY INTERREGIONGASCONSTRUCTION", [], "Organization")])
    hits = index.search("LIMITED LIABILITY COMPANY INTERREGIONCONSRTUCTION", None, threshold=0.7)
    assert [h.record_id for h in hits] == ["o1"]


ACRONYM_LIST = [  # real SDN entries and the acronyms OFAC lists for them (dev pairs)
    ("a1", "COLOMBIANA DE CERDOS LTDA.", [], "Organization"),
    ("a2", "TRANSPORTES AEREOS UNIDOS SELVA AMAZONICA S.A.", [], "Organization"),
    ("a3", "CJNG", [], "Organization"),
    ("a4", "SOCIEDAD ESMERALDIFERA DE MARIPI LTDA.", [], "Organization"),
    ("a5", "SKB ZAO", [], "Organization"),
    ("a6", "SERVICIOS EMPRESARIALES SODA, S.A. DE C.V.", [], "Organization"),
]


@pytest.mark.parametrize("query, expected", [
    ("COLCERDOS LTDA.", "a1"),  # two-word contraction, the query abbreviates a listed name
    ("TAUSA S.A.", "a2"),  # initials
    ("SOESMA LTDA.", "a4"),  # contraction of three words
    ("CARTEL DE JALISCO NUEVA GENERACION", "a3"),  # the listed name abbreviates the query
])
def test_screening_blocks_acronyms_and_contractions(query, expected):
    """They share no word, sound or prefix with what they stand for; at a screening threshold the C
    pre-score would also drop them. The acronym keys find them, and the hit is explained as an acronym."""
    index = NameIndex.from_records(ACRONYM_LIST)
    hits = index.search(query, None, top=3, threshold=0.7)
    assert [h.record_id for h in hits] == [expected]
    assert any(a.how == "acronym" for a in hits[0].result.aligned)


@pytest.mark.parametrize("owner", [
    "SCOTT K BOYD",  # a person's name on a roll: its initials are not an acronym
    "SERVICES LLC",  # a generic word is not the acronym of 'SERVICIOS EMPRESARIALES SODA'
])
def test_acronyms_do_not_flood_a_roll_with_false_alerts(owner):
    index = NameIndex.from_records(ACRONYM_LIST)
    assert index.search(owner, None, top=3, threshold=0.5) == []
    assert index.score_all(owner, None, threshold=0.5) == {}


def test_a_title_that_is_also_a_company_word_still_blocks():
    """'GENERAL' is a title before a person's name but part of a company's ('X Y Z GENERAL TRADING LLC'):
    the scorer keeps it, so blocking must post it, or a typo in it leaves only the common 'TRADING'."""
    records = [(f"f{i}", f"FILLER{i} TRADING LLC", [], "Organization") for i in range(400)]
    records.append(("g1", "GENETICA LABORATORIOS", [], "Organization"))  # the typo's own keys find only this
    records.append(("target", "X Y Z GENERAL TRADING LLC", [], "Organization"))
    index = NameIndex.from_records(records)
    hits = index.search("X Y Z GENEAAL TRADING LLC", None, threshold=0.7)
    assert [h.record_id for h in hits] == ["target"]


def test_an_acronym_written_with_dots_meets_the_name_it_stands_for():
    """'S.A.S. E.U.' is OFAC's alias of SERVICIO AEREO DE SANTANDER E.U.: its letters are separate parts
    that no word key posts; the initials trie finds the name, and the name finds the letters."""
    index = NameIndex.from_records([("a1", "SERVICIO AEREO DE SANTANDER E.U.", [], "Organization"),
                                    ("a2", "SANTANDER SERVICIOS AEREOS", [], "Organization")])
    assert [h.record_id for h in index.search("S.A.S. E.U.", "Organization", threshold=0.5)] == ["a1"]
    dotted = NameIndex.from_records([("d1", "S.A.S. E.U.", [], "Organization")])
    hits = dotted.search("SERVICIO AEREO DE SANTANDER E.U.", "Organization", threshold=0.5)
    assert [h.record_id for h in hits] == ["d1"]


def test_a_dotted_acronym_ending_in_s_a_finds_the_name_it_spells():
    """Before, 'S.A.' was cut off 'M.A.T.S.A.' as a legal form: three letters left could not spell
    five words, and screening found nothing."""
    index = NameIndex.from_records([
        ("m1", "MANTENIMIENTO, AERONAUTICA, TRANSPORTE, Y SERVICIOS AEREOS S.A. DE C.V.", [], "Organization"),
        ("m2", "MANTENIMIENTO AERONAUTICO DEL NORTE S.A. DE C.V.", [], "Organization")])
    hits = index.search("M.A.T.S.A. S.A. DE C.V.", "Organization", threshold=0.5)
    assert [h.record_id for h in hits] == ["m1"]
    assert {a.how for a in hits[0].result.aligned} == {"initial"}


# Names whose words alone do not say how normalize parses them, beside plain ones of each shape.
TRICKY_NAMES = [
    "RUNNING BROOK, LLC (USA)",  # a legal form before a note in brackets: an organisation, not 'SURNAME, Given'
    "GLOBAL TECHNOLOGY IMPORT & EXPORT, S.A. (GTI)", "X LLC (DELAWARE)",
    "GENERAL TRADING LLC", "JUAN GENERAL", "GENERAL, Juan",  # a title that is also a company word
    "DR. SMITH S.A.", "MR JOHN", "HAJI, Ahmed", "CAPT. HOOK",  # titles
    "LIMITED LIABILITY COMPANY ROSNEFT", "X CO HOLDINGS",  # legal-form words before the end
    "CHEMA PEREZ", "PEREZ, Chema", "MAYTE LOPEZ TRADING",  # a short form that stands for two names
    "DE LA O", "DE LA CRUZ, Maria", "A, B, C", "  , SMITH", "ACME, S.A. DE C.V.", "COLCERDOS, LTDA.",
    "ÑANDÚ, José", "ÑANDÚ, , José", "O'NEIL, Pat", "AL-ASSAD TRADING", "SMITH & SONS",
    "S.A.S. E.U.", "T.A.U.S.A.", "M.A.T.S.A. S.A. DE C.V.", "ING BANK", "TAUSA S.A.", "SCOTT K BOYD",
]


def _preview_disagreements(names, schemas=(None, "Person", "Organization", "Company", "Vessel")):
    from workbench.matching.normalize import PERSON
    from workbench.matching.terms import name_view

    wrong = []
    for schema in schemas:
        for name in names:
            kind, texts = name_view(name).parsed(schema)
            form = normalize(name, schema)
            if kind == PERSON and form.kind != PERSON:
                wrong.append((name, schema, form.kind, "read as a person"))
            elif texts is not None and (form.kind, [t.text for t in form.tokens]) != (kind, texts):
                wrong.append((name, schema, (form.kind, [t.text for t in form.tokens]), (kind, texts)))
    return wrong


def test_screening_reads_a_name_without_the_parse_only_where_the_parse_would_agree():
    """Screening parses only the owners it scores; for the others the acronym check reads the kind and
    parts off the cheap words. Where those could differ from the parse (titles in a company's name, a
    note in brackets after a legal form, a short form for two names, a name in another script) it
    must ask the parse, or an acronym would be missed or a person's initials taken for one."""
    records = generated_watchlist(300, seed=9)
    rows = [r.name for r in property_roll(records, 2000, seed=4, planted_share=0.2)]
    assert _preview_disagreements(TRICKY_NAMES + [r[1] for r in records] + rows) == []


def test_the_cheap_reading_agrees_with_the_parse_on_every_sdn_name(sdn_dir):
    from workbench.matching.bench import watchlist_records

    names = [name for _id, primary, aliases, _schema in watchlist_records(sdn_dir) for name in [primary, *aliases]]
    assert len(names) > 30_000
    assert _preview_disagreements(names) == []


def test_an_acronym_written_in_a_rolls_comma_form_is_still_found():
    """'COLCERDOS, LTDA.' has the comma of 'SURNAME, Given', but its legal form makes it a company:
    read without the parse it must not be taken for a person, whose parts no acronym stage reads."""
    index = NameIndex.from_records(ACRONYM_LIST)
    hits = index.search("COLCERDOS, LTDA.", None, top=3, threshold=0.7)
    assert [h.record_id for h in hits] == ["a1"]
    assert any(a.how == "acronym" for a in hits[0].result.aligned)


def test_a_rows_hits_do_not_depend_on_the_rows_screened_before_it():
    """'LEON' and the 'LEON' of 'DE LEON' (also looked up as 'DELEON') have different keys. Blocking
    remembered a word's candidates by its text, so after a row with a plain 'LEON' the row
    'DE LEON, Ana' no longer met 'DELEON, Ana': a hit came or went with the order of the roll and with
    how the rows were shared between workers."""
    records = [("d1", "DELEON, Ana", [], "Person"), ("l1", "LEON GARCIA, Rosa", [], "Person")]
    records += [(f"f{i}", f"FILLER{i} GOMEZ, Luis", [], "Person") for i in range(50)]
    alone = NameIndex.from_records(records).search("DE LEON, Ana", None, threshold=0.7)
    assert [h.record_id for h in alone] == ["d1"]
    index = NameIndex.from_records(records)
    assert [h.record_id for h in index.search("LEON GARCIA, Rosa", None, threshold=0.7)] == ["l1"]
    after = index.search("DE LEON, Ana", None, threshold=0.7)
    assert [(h.record_id, h.score) for h in after] == [(h.record_id, h.score) for h in alone]


def test_a_failing_screening_batch_leaves_the_garbage_collector_on(monkeypatch):
    """Batches run with automatic collection off (it cost ~15 % of screening's CPU); a batch that
    fails must not leave a long-running server without it."""
    import gc

    from workbench.matching import screen

    index = NameIndex.from_records(WATCHLIST)
    seen = []

    def boom(name, schema, top, threshold):
        seen.append(gc.isenabled())
        raise RuntimeError("scorer failed")

    monkeypatch.setattr(screen, "_hits", boom)
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        list(screen_names(index, [("ACME", None)], workers=1))
    assert seen == [False]
    assert gc.isenabled()


def test_a_common_word_is_not_made_rare_by_its_odd_neighbours():
    """'INTERNATIONAL' is on hundreds of names, so blocking falls back to its own list when the
    query has nothing rarer; a few listed words of nearby length or starting with it
    ('INTERNATIONALE') must not pass for a rare key and hide that list."""
    records = [(f"i{i}", f"INTERNATIONAL {w}", [], "Organization")
               for i, w in enumerate(f"HOLDINGS{n} TRADING{n} SUPPLY{n}".split()[k] for n in range(110) for k in range(3))]
    records += [("iac", "IAC INTERNATIONAL INC.", [], "Organization"),
                ("odd", "INTERNATIONALE FOO", [], "Organization")]
    index = NameIndex.from_records(records)
    reached = _ids(index, index.candidates(name_words("I A C INTERNATIONAL INC.")))
    assert "iac" in reached
    hits = index.search("I A C INTERNATIONAL INC.", None, top=3, threshold=0.5)
    assert hits and hits[0].record_id == "iac"


# ---- the second-word rule of blocking (NameIndex.candidates, from SECOND_WORD_FROM up) --------------

SECOND_WORD_LIST = [
    ("thomas", "CAMPBELL, Thomas Edward", [], "Person"),
    ("judith", "CAMPBELL, Judith", [], "Person"),
    ("lone", "CAMPBELL", [], "Organization"),
    ("zelda", "ZELDA, Branko", [], "Person"),
    ("pyon", "PYON, Haksun", [], "Person"),
    ("thornton", "THORNTON, Andrea Denise", [], "Person"),
]


@pytest.fixture(scope="module")
def second_word_index():
    return NameIndex.from_records(SECOND_WORD_LIST)


def test_a_name_sharing_one_word_is_not_scored_from_point_six(second_word_index):
    """'JUDITH CAMPBELL' shares only CAMPBELL with 'CAMPBELL, Thomas Edward': from 0.6 up it is not a
    candidate; the one-word name 'CAMPBELL' stays (one word is all it has), and so does the match."""
    words = name_words("JUDITH CAMPBELL")
    assert {"thomas", "judith", "lone"} <= _ids(second_word_index, second_word_index.candidates(words))
    narrowed = _ids(second_word_index, second_word_index.candidates(words, second_word=True))
    assert "thomas" not in narrowed and {"judith", "lone"} <= narrowed
    assert [h.record_id for h in second_word_index.search("JUDITH CAMPBELL", None, threshold=0.7)] == ["judith"]


@pytest.mark.parametrize("query, expected", [
    ("ZLEDA, Branko", "zelda"),  # two letters swapped: no blocking key in common, a near key ('zeda')
    ("Hak Sun PYON", "pyon"),  # two words written as one
    ("ANDREA D THORNTON", "thornton"),  # an initial has no keys: the query is left whole
])
def test_second_word_rule_keeps_what_aligns_without_a_shared_key(second_word_index, query, expected):
    hits = second_word_index.search(query, None, top=5, threshold=0.7)
    assert hits and hits[0].record_id == expected, [(h.record_id, h.score) for h in hits]


def test_typo_shares_no_blocking_key_with_its_target():
    """The premise of the ZLEDA case above: only the near keys bring the second word together."""
    from workbench.matching.terms import word

    assert not set(word("zleda").probes) & set(word("zelda").keys)
    assert set(word("zleda").near) & set(word("zelda").near)


def test_second_word_rule_is_off_below_point_six(second_word_index):
    """At 0.5 one shared surname can be enough: every name sharing a word is still scored."""
    from workbench.matching.index import SECOND_WORD_FROM

    assert SECOND_WORD_FROM > 0.5
    hits = {h.record_id for h in second_word_index.search("CAMPBELL, Thomas", None, top=10, threshold=0.5)}
    assert "thomas" in hits
    narrow = {h.record_id for h in second_word_index.search("JUDITH CAMPBELL", None, top=10, threshold=0.0)}
    assert "thomas" in narrow  # scored (if weakly) at threshold 0: the rule did not remove it
