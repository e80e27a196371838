"""QA round 13 (the README against the software): what a user following the docs met."""

from __future__ import annotations

from typer.testing import CliRunner

from workbench.cli import app

runner = CliRunner()


def test_a_bad_byte_far_below_the_header_is_named_with_its_line_and_its_data_row(tmp_path):
    """The README promises 'FILE line L, 0-based data row N' for every row error; a bad byte named only the
    line (the reader decodes a block ahead, so the row being read was not the bad one)."""
    src = tmp_path / "roll.csv"
    rows = ["name", *[f"PERSONA {i} FICTICIA" for i in range(3000)], "", '"MARIA', 'GOMEZ"']
    src.write_bytes("\n".join(rows).encode() + b"\nJOS\xc9 LOPEZ\n")
    out = tmp_path / "out.csv"
    watchlist = tmp_path / "watch.csv"
    watchlist.write_text("id,name\n1,FICTIONAL Persona\n", encoding="utf-8")
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist)])
    # rows 0-2999 the people, 3000 the blank line, 3001 the quoted name over two lines, 3002 the bad line
    assert result.exit_code == 2 and "roll.csv line 3005, 0-based data row 3002: not valid UTF-8" in result.output
    src.write_bytes(b"name\nAna\nJOS\xc9\n")
    result = runner.invoke(app, ["screen", str(src), "-o", str(out), "--against", str(watchlist)])
    assert "roll.csv line 3, 0-based data row 1: not valid UTF-8" in result.output
    assert not out.exists()


def test_an_unknown_topic_filter_is_refused_with_the_choices(db_url):
    """The README says an unknown sanction status or topic is refused 'with the choices'; the topic's message
    said only 'choose one from the list' (a script calling the page has no list)."""
    from web_helpers import signed_in_client

    from workbench.schema import registry

    client = signed_in_client(db_url, "rita", "researcher")
    refused = client.get("/search?q=zambada&topic=bogus")
    assert refused.status_code == 422
    assert all(topic in refused.text for topic in registry().vocabularies["topics"])
