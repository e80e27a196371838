"""Property-based fuzzing (hypothesis) of the importers and name normalisation.

Malformed input must give the importer's own error, with a message naming the file, and leave
the database exactly as it was; well-formed input must import. Names of any shape must normalise
and score within 0..1 without errors. (Coverage-guided fuzzing of the same parsers with atheris is
`workbench fuzz`, run bounded in CI.)
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from workbench.fuzzing import TABLE_MAPPING
from workbench.matching.normalize import name_key
from workbench.matching.score import score_names
from workbench.sources.ftm import FtmError, import_ftm
from workbench.sources.remarks import parse_remarks
from workbench.sources.sdn import import_sdn
from workbench.sources.sdn_parse import SdnFormatError
from workbench.sources.tabular import MappingError, TableError, import_table, load_mapping
from workbench.store.entities import stats
from workbench.store.permissions import SYSTEM

DB_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PURE_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)

letters = st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x24F)
word = st.text(letters, min_size=1, max_size=12)
name = st.lists(word, min_size=1, max_size=5).map(" ".join)


@PURE_SETTINGS
@given(st.text(max_size=400))
def test_remarks_parser_accepts_any_text(text):
    parsed = parse_remarks(text)
    assert parsed is not None


@PURE_SETTINGS
@given(name)
def test_names_score_one_against_themselves_and_ignore_accents_and_case(value):
    assume(any(ch.isalnum() for ch in name_key(value)))
    assert score_names(value, value).score == pytest.approx(1.0)
    stripped = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    assert name_key(stripped.upper()) == name_key(value.lower())


@PURE_SETTINGS
@given(st.text(max_size=120), st.text(max_size=120), st.sampled_from([None, "Person", "Company", "Organization"]))
def test_any_pair_of_strings_scores_within_bounds(left, right, schema):
    assert 0.0 <= score_names(left, right, schema).score <= 1.0


# ---- SDN CSV ------------------------------------------------------------------------------------

def _sdn_row(ent: int, surname: str, given: str, remarks: str) -> str:
    remarks = remarks.replace('"', "'")
    return (f'{ent},"{surname.upper()}, {given}","individual","SDNTK",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
            f'"{remarks}"\r\n')


sdn_rows = st.lists(st.tuples(word, word, st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)),
                    min_size=1, max_size=4)


@DB_SETTINGS
@given(rows=sdn_rows, cut=st.integers(min_value=0, max_value=400), junk=st.binary(max_size=20))
def test_sdn_import_is_all_or_nothing(session, tmp_path, rows, cut, junk):
    text = "".join(_sdn_row(1000 + i, s, g, r) for i, (s, g, r) in enumerate(rows))
    data = text.encode("utf-8")
    variants = [data, data[:cut] if cut < len(data) else data + junk]
    for index, payload in enumerate(variants):
        path = Path(tmp_path) / f"sdn-{index}.csv"
        path.write_bytes(payload)
        before = stats(session)
        try:
            import_sdn(session, SYSTEM, [path])
        except SdnFormatError as exc:
            assert str(path) in str(exc)
            session.rollback()
            assert stats(session) == before
            continue
        after = stats(session)
        assert after["entities"].get("Person", 0) >= before["entities"].get("Person", 0)
        session.rollback()


# ---- FtM -----------------------------------------------------------------------------------------

ftm_value = st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.text(max_size=10), max_size=3))
ftm_entity = st.fixed_dictionaries({
    "id": st.text(min_size=1, max_size=10),
    "schema": st.sampled_from(["Person", "Company", "Organization", "Ownership", "Sanction", "Vessel", "Nonsense", ""]),
    "properties": st.dictionaries(st.sampled_from(["name", "alias", "birthDate", "country", "owner", "asset",
                                                   "percentage", "entity", "program", "idNumber", "bogus"]),
                                  ftm_value, max_size=5),
})


@DB_SETTINGS
@given(lines=st.lists(st.one_of(ftm_entity.map(json.dumps), st.text(max_size=40)), min_size=1, max_size=6))
def test_ftm_import_is_all_or_nothing(session, tmp_path, lines):
    path = Path(tmp_path) / "in.ftm.json"
    path.write_text("\n".join(lines), encoding="utf-8")
    before = stats(session)
    try:
        import_ftm(session, SYSTEM, path)
    except FtmError as exc:
        assert str(path) in str(exc)
        session.rollback()
        assert stats(session) == before
        return
    session.rollback()


# ---- tables --------------------------------------------------------------------------------------

MAPPING = load_mapping(TABLE_MAPPING)

cell = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters='"\r\n'), max_size=15)


@DB_SETTINGS
@given(header=st.sampled_from(["APN,OWNER,DOB,PCT", "APN,OWNER,DOB", "OWNER,PCT", "APN,OWNER,DOB,PCT,EXTRA"]),
       rows=st.lists(st.lists(cell, min_size=1, max_size=5), max_size=5), raw=st.binary(max_size=30))
def test_table_import_is_all_or_nothing_or_rejects_rows_with_reasons(session, tmp_path, header, rows, raw):
    body = header + "\n" + "".join(",".join(f'"{c}"' for c in row) + "\n" for row in rows)
    for index, payload in enumerate([body.encode("utf-8"), body.encode("utf-8") + raw]):
        path = Path(tmp_path) / f"roll-{index}.csv"
        path.write_bytes(payload)
        before = stats(session)
        try:
            summary = import_table(session, SYSTEM, path, MAPPING)
        except (TableError, MappingError) as exc:
            assert path.name in str(exc)
            session.rollback()
            assert stats(session) == before
            continue
        assert all(reason for _, reason in getattr(summary, "rejected", []) or [("", "ok")])
        session.rollback()


def test_the_generated_sdn_rows_are_importable(session, tmp_path):
    """Guards the generator above: a well-formed generated file really imports."""
    path = Path(tmp_path) / "ok.csv"
    path.write_text(_sdn_row(1000, "Perez", "Juan", "DOB 1970; POB Sinaloa, Mexico."), encoding="utf-8")
    import_sdn(session, SYSTEM, [path])
    assert stats(session)["entities"]["Person"] == 1
