"""QA round 13, data-quality audit of the SDN Remarks parser, on OFAC's own entries (by ent_num).

Identifiers are what screening matches on with most weight, so a made-up one (a passport number
'ANDNATIONALIDWERE') is worse than none, and a dropped one (a CURP written 'C.U.R.P. # ...') is a
match the researcher never sees. Dates of birth given as a range say "born some time then"; stored
as the two end days they rule out every day in between.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.test_import_sdn_formats import _import, _slice
from workbench.schema import registry
from workbench.sources.remarks import ID_LABELS, parse_remarks, read_identifiers, split_phrases
from workbench.sources.sdn import plan_entity
from workbench.sources.sdn_parse import parse_paths
from workbench.store import db as store_db
from workbench.store.models import Entity
from workbench.types import check_identifier


@pytest.fixture(scope="module")
def entries(sdn_dir):
    """The real SDN.CSV entries by ent_num (the test skips, saying why, without ../shared)."""
    return {str(record.ent_num): record for record in parse_paths([sdn_dir / "sdn.csv"]).records}


def _ids(entries, ent: str) -> list[str]:
    return plan_entity(entries[ent])[1].get("identifier", [])


def _props(entries, ent: str) -> dict[str, list[str]]:
    return plan_entity(entries[ent])[1]


# -- 1. a number is a number: no words, no made-up identifiers ------------------------------------

def _phrase(entries, ent: str, start: str) -> str:
    """The entry's phrase that starts so, as OFAC wrote it."""
    return next(p for p in split_phrases(entries[ent].remarks)[1] if p.startswith(start))


@pytest.mark.parametrize("ent, start, expected", [
    # 'Passport and National ID were issued in Ulm, Germany': a sentence, no number at all
    ("11968", "Passport and", []),
    # 'Passport OR801168 and Kuwaiti National ID No. 281020505755 issued under ...': two identifiers
    ("12562", "Passport OR801168 and", ["PASSPORT:OR801168", "NATIONAL_ID:281020505755"]),
    # 'Identification Number 61 Niha El-Mehfara' is an address in Lebanon
    ("17034", "Identification Number 61", []),
    ("10689", "alt. Passport Booklet", ["PASSPORT:A5250088"]),
    ("10690", "alt. Passport Booklet", ["PASSPORT:A4827048"]),
    ("12872", "Diplomatic Passport", ["PASSPORT:02154"]),  # 'Diplomatic Passport Laissez-Passer 02154'
])
def test_a_number_does_not_swallow_the_words_around_it(entries, ent, start, expected):
    """The old pattern let a number run over spaces and words; screening then compared
    'ANDNATIONALIDWERE' as a passport number and showed it to researchers as one."""
    phrase = _phrase(entries, ent, start)
    assert [f"{scheme}:{number}" for scheme, number, _ in read_identifiers(phrase)] == expected
    ids = _ids(entries, ent)
    assert set(expected) <= set(ids)
    assert not [i for i in ids if re.search(r"[a-z]{3}|\s", i.split(":", 1)[1])], ids  # no words, no spaces


def test_a_phrase_without_a_number_leaves_no_identifier_but_stays_in_the_notes(entries):
    """Nothing OFAC wrote is lost: the sentence stays readable in the notes, it just is no passport."""
    props = _props(entries, "11968")
    assert "PASSPORT:and National ID were" not in props.get("identifier", [])
    assert "Passport and National ID were issued in Ulm, Germany" in props["notes"][0]
    assert not any(i.startswith("NATIONAL_ID:61") for i in _props(entries, "17034").get("identifier", []))
    assert "Identification Number 61 Niha El-Mehfara" in _props(entries, "17034")["notes"][0]


def test_a_country_written_into_the_number_is_the_country_not_the_number(entries):
    """11169 'Passport N348171/IRAQ (Iraq)' was stored as passport N348171IRAQ, which no one types."""
    assert "PASSPORT:N348171" in _ids(entries, "11169")
    assert "iq" in _props(entries, "11169")["country"]


def test_no_identifier_on_the_whole_list_holds_a_word(entries):
    """Across every entry: a number holds a digit (a bank's BIC may be letters only), and never one of
    the words that made up the audit's findings, nor a country's name."""
    words = re.compile(r"\b(and|or|were|issued|booklet|iraq|germany|lebanon|national|passport)\b", re.IGNORECASE)
    numbers = 0
    for record in entries.values():
        for value in parse_remarks(record.remarks).properties.get("identifier", []):
            number = value.split(":", 1)[1]
            numbers += 1
            assert not words.search(number), (record.ent_num, value)
            assert any(c.isdigit() for c in number) or re.fullmatch(r"[A-Z]{8}([A-Z0-9]{3})?|[A-Z]{6}[A-Z0-9]{2}",
                                                                     number), (record.ent_num, value)
    assert numbers > 13000


def test_an_address_cut_off_by_ofacs_1000_character_limit_is_not_stored(entries):
    """SDN.CSV cuts Remarks at 1,000 characters: 30518 ends 'Digital Currency Address - XBT 1Gq'. A
    3-character 'address' would match nothing real and say the list holds it."""
    remarks = entries["30518"].remarks
    assert len(remarks) == 1000 and remarks.endswith("XBT 1Gq")
    ids = _ids(entries, "30518")
    assert "CRYPTO_XBT:1Gq" not in ids
    assert "CRYPTO_XBT:16PhXY3hNNMTo8kpuJx2emh713KbWpkqci" in ids  # the complete one before it


# -- 2. identifiers with a known label that were dropped ----------------------------------------------

@pytest.mark.parametrize("ent, expected, country", [
    ("9976", ["CURP:HESU430525HBCRMR13", "CURP:HESU430525HBCRMR05", "CURP:HEXU430525HBCRXR07",
              "OTHER:A38839964"], "mx"),  # 'C.U.R.P. # ...', 'Immigration No. A38839964 (United States)'
    ("9979", ["CURP:JIPJ610619HBCMRL07"], "mx"),
    ("9972", ["RFC:IES-870805"], "mx"),  # 'R.F.C. # IES-870805 (Mexico)'
    ("21071", ["REGISTRATION:22839"], "mx"),  # 'Folio Mercantil No. 22839 (Jalisco) (Mexico)'
    ("21570", ["REGISTRATION:A201404010921001167"], "mx"),  # 'Business Registration Document # CUD: ...'
    ("31005", ["REGISTRATION:A201903242035215924", "REGISTRATION:N-2019028273"], "mx"),
    ("9340", ["NATIONAL_ID:D489833(9)"], "hk"),  # Hong Kong ID with its bracketed check digit
    ("11275", ["NATIONAL_ID:K357514(4)"], "hk"),
    ("11282", ["NATIONAL_ID:(HWI)040182"], "mm"),  # a bracketed prefix
    ("10570", ["PASSPORT:D000000483"], "sy"),  # 'Passport D000000483, Diplomatic (Syria)'
])
def test_labelled_identifiers_that_were_dropped_are_read(entries, ent, expected, country):
    """The label was in the table, but '#' after it, a check digit in brackets or a state in brackets
    before the country made the phrase fail, and the identifier silently went missing."""
    ids = _ids(entries, ent)
    assert set(expected) <= set(ids), ids
    assert country in _props(entries, ent)["country"]


def test_the_country_is_the_last_bracket_not_the_state(entries):
    """'Registration Number HRA 738077 (Stuttgart) (Germany)': Stuttgart is where the register is kept."""
    assert read_identifiers("Registration Number HRA 738077 (Stuttgart) (Germany)") == [
        ("REGISTRATION", "HRA 738077", "de")]
    assert "us" in _props(entries, "40537")["country"]  # '(Delaware) (United States)'


# -- 3. labels for Latin America, Turkey and digital currencies --------------------------------------

@pytest.mark.parametrize("ent, value, country", [
    ("26786", "CUI:2891761150920", "gt"),  # 'C.U.I. 2891761150920 (Guatemala)'
    ("32451", "CUI:1892644891331", "gt"),
    ("26402", "CUIT:20200108664", "ar"),
    ("20256", "RIF:J-40068226-6", "ve"),  # 'RIF # J-40068226-6 (Venezuela)'
    ("16170", "HN_IDENTIDAD:0209-1977-00375", "hn"),  # 'Numero de Identidad ...'
    ("16178", "RTN:05019005483678", "hn"),
    ("8243", "LE:07552116", "pe"),
    ("11928", "CUIP:AOIR671020H1374898", "mx"),
    ("12575", "TCKN:10298480866", "tr"),  # 'Turkish Identification Number ...'
])
def test_latin_american_and_turkish_numbers_have_their_own_scheme(entries, ent, value, country):
    """Narcotics entries carry these; unread, the entry had no identifier to match a Guatemalan DPI or
    an Argentine CUIT on. Each scheme names its country, and where python-stdnum knows the check
    digit, the real number passes it."""
    assert value in _ids(entries, ent)
    assert country in _props(entries, ent)["country"]
    checked = check_identifier(value, {}, registry())
    assert checked.value and not checked.errors and not checked.warnings, checked
    assert registry().identifier_schemes[value.split(":")[0]].country == country


def test_a_number_failing_its_check_digit_is_kept_with_a_warning():
    """OFAC's data is the source: a CUIT with a wrong check digit is still what the list says."""
    checked = check_identifier("CUIT:20200108665", {}, registry())
    assert checked.value == "CUIT:20200108665" and not checked.errors
    assert any("check digit" in w for w in checked.warnings)
    assert registry().identifier_schemes["RIF"].check == "stdnum.ve.rif"
    assert registry().identifier_schemes["TCKN"].check == "stdnum.tr.tckimlik"


def test_digital_currency_addresses_keep_their_currency(entries):
    """25308 (SDNTK) lists six Bitcoin addresses; 43377 lists one Ethereum address under ETH, USDT and
    USDC. An ETH and an XBT address must stay told apart, and the same string on three chains is three
    listings."""
    xbt = [i for i in _ids(entries, "25308") if i.startswith("CRYPTO_XBT:")]
    assert len(xbt) == 6 and "CRYPTO_XBT:12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h" in xbt
    address = "0xb6f5ec1a0a9cd1526536d3f0426c429529471f40"
    ids = _ids(entries, "43377")
    assert {f"CRYPTO_{c}:{address}" for c in ("ETH", "USDT", "USDC")} <= set(ids)
    every = [i for r in entries.values() for i in parse_remarks(r.remarks).properties.get("identifier", [])
             if i.startswith("CRYPTO_")]
    phrases = sum(1 for r in entries.values() for p in split_phrases(r.remarks or "")[1]
                  if re.match(r"(alt\. )?Digital Currency Address - \w+ \w", p))
    assert len(every) == phrases - 5  # all but the five that OFAC's 1,000-character limit cut off
    schemes = registry().identifier_schemes
    assert all(s in schemes for s in {ID_LABELS[k] for k in ID_LABELS if k.startswith("digital currency")})


# -- 4. date-of-birth ranges -------------------------------------------------------------------------

@pytest.mark.parametrize("ent, years", [
    ("16540", [str(y) for y in range(1977, 1986)]),  # 'DOB 01 Jan 1977 to 31 Dec 1985'
    ("15962", ["1961", "1962"]),  # 'DOB 01 Jan 1961 to 31 Dec 1962'
    ("23470", ["1962", "1963"]),  # 'DOB Mar 1962 to Feb 1963'
    ("17166", ["1973"]),  # 'DOB 01 Jan 1973 to 31 Dec 1973' is the year 1973
    ("20700", ["1992-10"]),  # 'DOB 01 Oct 1992 to 31 Oct 1992' is that month
])
def test_a_range_of_dates_of_birth_is_the_years_it_spans(entries, ent, years):
    """Stored as 1977-01-01 and 1985-12-31, a person born in 1980 would score as a different person."""
    assert _props(entries, ent)["birthDate"] == years


# -- end to end ----------------------------------------------------------------------------------------

def test_the_import_stores_what_the_remarks_say(db_url, sdn_dir, tmp_path):
    """Through the importer: identifiers stored compact and upper-case like every other (digital currency
    addresses as written: their case is part of them), the new
    schemes accepted, nothing rejected, the DOB range stored as years."""
    wanted = {b"9976", b"26402", b"12562", b"11968", b"16540", b"43377"}
    lines = [line for line in (sdn_dir / "sdn.csv").read_bytes().splitlines(keepends=True)
             if line.split(b",", 1)[0] in wanted]
    summary = _import(db_url, _slice(sdn_dir, tmp_path, lines))
    assert summary.rejected == [] and summary.created == 2 * len(wanted)
    with store_db.session_scope(db_url) as s:
        props = {e.id: e.properties for e in s.scalars(select(Entity).where(Entity.kind != "Sanction"))}
    assert {"CURP:HESU430525HBCRMR13", "OTHER:A38839964"} <= set(props["ofac-9976"]["identifier"])
    assert "CUIT:20200108664" in props["ofac-26402"]["identifier"]
    assert {"PASSPORT:OR801168", "NATIONAL_ID:281020505755"} <= set(props["ofac-12562"]["identifier"])
    assert props["ofac-11968"]["identifier"] == ["PASSPORT:702142921", "NATIONAL_ID:702092811"]  # its real ones
    assert props["ofac-16540"]["birthDate"] == [str(y) for y in range(1977, 1986)]
    crypto = [i for i in props["ofac-43377"]["identifier"] if i.startswith("CRYPTO_")]
    assert "CRYPTO_ETH:0xb6f5ec1a0a9cd1526536d3f0426c429529471f40" in crypto  # as written: case is part of it
    assert "CRYPTO_USDT:0xb6f5ec1a0a9cd1526536d3f0426c429529471f40" in crypto


def test_the_quick_reading_of_a_plain_number_gives_what_the_careful_one_gives_over_the_whole_list(sdn_dir,
                                                                                                     monkeypatch):
    """read_identifiers reads 'Passport G03442741 (Mexico)' at once and sends the rest through the careful
    reading: both must agree on every identifier phrase of the real list, or the shortcut changed the data."""
    import re

    import workbench.sources.remarks as remarks
    from workbench.sources.sdn_parse import parse_paths

    phrases = [p.strip() for r in parse_paths([sdn_dir / "sdn.csv"]).records if r.remarks
               for p in r.remarks.split(";") if p.strip()]
    quick = [remarks.read_identifiers(p) for p in phrases]
    monkeypatch.setattr(remarks, "_SIMPLE_ID_RE", re.compile(r"(?!)"))  # no phrase takes the shortcut
    careful = [remarks.read_identifiers(p) for p in phrases]
    assert sum(1 for q in quick if q) > 10_000  # the list's identifiers, most of them read the quick way
    assert [(p, q, c) for p, q, c in zip(phrases, quick, careful) if q != c] == []
