"""The ceiling `workbench bench matching` prints beside our screening recall: what any scorer that rewards
shared words could reach. It must be generous to the true entry and strict to the others, or it would
blame the data for our scorer's faults. Names are made up."""

from workbench.matching.ceiling import ceiling

PERSON, ORG = "Person", "Organization"


def test_a_query_sharing_no_word_with_its_entry_is_out_of_reach_at_any_rank():
    names = [("1", "NORTENA IMPORTADORA, S.A. DE C.V.", ORG), ("2", "PERFUMES DEL MAR, S.A.", ORG)]
    bound = ceiling([("TIENDA LUPITA, S.A. DE C.V.", "1", ORG)], names)
    assert bound.no_shared_word == 1
    assert bound.at_any_rank() == 0.0
    # The legal form both carry is not a shared word.
    assert bound.at_1() == 0.0


def test_words_spelt_another_way_joined_or_contracted_count_as_shared():
    names = [("1", "CONSTRUCTORA DEL SUR LTDA.", ORG), ("2", "SERVICIO AEREO DE SANTANDER", ORG),
             ("3", "HATKAEW TRADING LTD.", ORG), ("4", "QUINTANILLA OROZCO, Rafael", PERSON)]
    queries = [("COSUR LTDA.", "1", ORG),  # CO(nstructora) + SUR
               ("S.A.S. E.U.", "2", ORG),  # initials written with dots
               ("HAD KAEW TRADING", "3", ORG),  # one word written as two
               ("KINTANILLA OROSCO, Raphael", "4", PERSON)]  # spelt by ear
    bound = ceiling(queries, names)
    assert bound.no_shared_word == 0
    assert bound.at_any_rank() == 1.0
    assert bound.at_1() == 1.0


def test_another_name_sharing_the_same_words_with_less_left_over_outranks_the_true_one():
    names = [("1", "SOLIS ARMENTA, Ramiro Eustaquio", PERSON), ("2", "ZAVALA, Ramiro", PERSON)]
    bound = ceiling([("PEREA, Ramiro", "1", PERSON)], names)
    assert (bound.no_shared_word, bound.outranked) == (0, 1)
    assert bound.at_1() == 0.0
    assert bound.at_any_rank() == 1.0


def test_a_rival_sharing_a_word_in_another_role_or_of_another_schema_does_not_outrank():
    names = [("1", "SOLIS ARMENTA, Ramiro Eustaquio", PERSON),
             ("2", "RAMIRO, Alfonso", PERSON),  # Ramiro as a family name, not a given one
             ("3", "RAMIRO", ORG)]
    bound = ceiling([("PEREA, Ramiro", "1", PERSON)], names)
    assert (bound.outranked, bound.tied) == (0, 0)
    assert bound.at_1() == 1.0


def test_a_tie_is_a_coin_toss_reported_apart_from_the_hard_bound():
    names = [("1", "GALINDO ROBLES, Efrain", PERSON), ("2", "GALINDO MUNGUIA, Efrain", PERSON),
             ("3", "OCHOA TAPIA, Leticia", PERSON)]
    bound = ceiling([("GALINDO SERNA, Efrain", "1", PERSON), ("OCHOA TAPIA, Leticia", "3", PERSON)], names)
    assert (bound.outranked, bound.tied) == (0, 1)
    assert bound.tie_losses == 0.5
    assert bound.at_1() == 1.0
    assert bound.at_1_expected() == 0.75
