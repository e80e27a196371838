"""The bench's OpenSanctions peer (nomenklatura logic-v2) scores each pair on its own.

Runs where the optional peer is installed (`pip install -e '.[peers]'`); the names are made up.
"""

import pytest

from workbench.matching.bench import logic_v2_scorer

score = logic_v2_scorer()
pytestmark = pytest.mark.skipif(score is None, reason="nomenklatura (the optional 'peers' extra) is not installed")


def test_each_pair_is_scored_on_its_own_names():
    same = {"query": "Juan Carlos PEREZ MARTINEZ", "candidate": "PEREZ MARTINEZ, Juan Carlos", "type": "individual"}
    other = {"query": "Juan Carlos PEREZ MARTINEZ", "candidate": "SOTO VILLALOBOS, Ramiro", "type": "individual"}
    # logic-v2 caches by entity id: a scorer reusing ids would give the second pair the first one's score.
    assert score(same) > 0.9
    assert score(other) < 0.5
    assert score(same) > 0.9


def test_organisations_are_compared_as_organisations():
    row = {"query": "TRANSPORTES DEL NORTE S.A. DE C.V.", "candidate": "TRANSPORTES DEL NORTE SA DE CV",
           "type": "entity"}
    assert score(row) > 0.8
