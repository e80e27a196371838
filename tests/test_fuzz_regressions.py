"""Inputs that fuzzing found to misbehave, kept so they never come back."""

import pytest

from workbench.matching.normalize import name_key
from workbench.text import fold


@pytest.mark.parametrize("raw,expected", [
    ("Aı", "ai"),              # hypothesis: Turkish dotless i vanished when folded (so 'AI' != 'Aı')
    ("Aǽ", "aae"),             # hypothesis: a ligature with an accent decomposed to a bare 'æ' and vanished
    ("Łukasz Øster", "lukasz oster"),
    ("Straße", "strasse"),
])
def test_letters_without_a_decomposition_are_transliterated(raw, expected):
    assert fold(raw) == expected
    assert name_key(raw.upper()) == name_key(raw.lower())
