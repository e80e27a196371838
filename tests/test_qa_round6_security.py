"""QA round 6 (security): what a signed-in user could send to take the server down, or to slip past
a check. Every name here is FICTIONAL."""

from __future__ import annotations

from web_helpers import api_client

from workbench.matching.terms import KEYED_LETTERS, near_keys, word


def test_a_word_of_any_length_gets_a_bounded_number_of_keys():
    """A word's letter-left-out and cut-short keys once grew with the square of its length: one
    200,000-letter query took 23 GB and the server was killed."""
    for length in (KEYED_LETTERS + 1, 20_000):
        long = word("x" * length)
        keys = (*long.keys, *long.probes, *long.near)
        assert len(keys) < 2 * KEYED_LETTERS
        # a few keys as long as the word and cut-short keys of its first letters, never one per letter
        assert sum(map(len, keys)) < 10 * length + KEYED_LETTERS ** 2
    # Words of names keep every key: a typo anywhere in 'HOLDINGS' still meets it.
    assert "d:hodings" in near_keys("holdings", word("holdings").sounds[0])


def test_completion_refuses_a_query_no_stored_name_could_match(db_url):
    client = api_client(db_url)
    refused = client.get("/api/entities/suggest", params={"q": "y" * 30_000})
    assert refused.status_code == 422 and "at most 1000 characters" in refused.text
    assert client.get("/api/entities/suggest", params={"q": "Ficticio"}).status_code == 200


def test_a_duplicate_check_of_an_over_long_name_answers_at_once_with_nothing(db_url):
    client = api_client(db_url)
    assert client.post("/api/entities", json={"kind": "Person", "properties": {"name": ["Ana Ficticia"]}}
                       ).status_code == 201
    answer = client.post("/api/entities/duplicates",
                         json={"kind": "Person", "properties": {"name": ["x" * 200_000]}})
    assert answer.status_code == 200 and answer.json() == []
    found = client.post("/api/entities/duplicates", json={"kind": "Person", "properties": {"name": ["Ana Ficticia"]}})
    assert [hit["caption"] for hit in found.json()] == ["Ana Ficticia"]


def test_an_id_that_looks_like_another_or_steps_out_of_its_address_is_refused(db_url):
    """'.' and '..' are path steps; a zero-width space makes two ids look alike; a right-to-left override
    reverses what follows it wherever the id is shown; quotes and angle brackets invite trouble."""
    client = api_client(db_url)
    for bad, said in ((".", "a step in a web address"), ("..", "a step in a web address"),
                      ("fict\u200bcio", "U+200B"), ("admin\u202e", "U+202E"), ('a"b<c>', "cannot contain '\"'")):
        refused = client.post("/api/entities", json={"kind": "Person", "id": bad, "properties": {"name": ["Ana"]}})
        assert refused.status_code == 422 and said in refused.json()["errors"]["id"][0], (bad, refused.text)
    kept = client.post("/api/entities", json={"kind": "Person", "id": "fict-josé.1:a_b", "properties": {"name": ["Ana"]}})
    assert kept.status_code == 201, kept.text  # letters (accented too), digits, '-', '_', '.' and ':'
