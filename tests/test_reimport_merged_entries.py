"""A newer list changing an entry a user merged into another entry.

The change lands on the merged record, which no page shows (undoing the merge brings it back as the
list now has it); the entry the user kept, the one pages show, is theirs and stays as they made it. A
list's change to the merged record passed unseen: the summary said nothing, and the researcher kept
reading the old place of birth and the dropped alias on the kept entry. It is now said, first among
the warnings, naming both entries and what changed.
"""

from __future__ import annotations

from test_qa_round14_integrity import CHAPO, IMPORTER, _judge_same, _undo
from test_reimport_keeps_user_edits import _entry_files, _newer_list
from typer.testing import CliRunner
from web_helpers import api_client, api_entity

from workbench.cli import app
from workbench.sources.sdn import import_sdn
from workbench.store import db as store_db


def _merged_into_kept(db_url, sdn_dir, tmp_path) -> tuple[str, object]:
    trio = _entry_files(sdn_dir, tmp_path / "trio", 6861)
    with store_db.session_scope(db_url) as s:
        import_sdn(s, IMPORTER, trio, published="2024-05-02")
    client = api_client(db_url)
    kept = api_entity(client, "Person", name=["Joaquin Guzman Loera"])
    _judge_same(client, kept, CHAPO)
    return kept, client


def test_a_newer_list_changing_a_merged_entry_says_so_first_naming_the_kept_entry(db_url, sdn_dir, tmp_path):
    kept, client = _merged_into_kept(db_url, sdn_dir, tmp_path)
    newer = _entry_files(sdn_dir, tmp_path / "newer", 6861, _newer_list)

    result = CliRunner().invoke(app, ["import", "sdn", *map(str, newer), "--published", "2024-06-01"],
                                catch_exceptions=False)

    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())
    said = shown[shown.index(f"({CHAPO}) was merged into Joaquin Guzman Loera ({kept})"):]
    assert "place of birth" in said.split("undo the merge")[0]
    assert "alias" in said.split("undo the merge")[0]
    # The kept entry is as the user left it; the merged record holds the list's change, back on an undo.
    assert "Badiraguato, Sinaloa, Mexico" not in str(client.get(f"/api/entities/{kept}").json()["properties"])
    _undo(client, db_url, CHAPO)
    restored = client.get(f"/api/entities/{CHAPO}").json()["properties"]
    assert "Badiraguato, Sinaloa, Mexico" in str(restored.get("birthPlace"))


def test_the_same_list_again_says_nothing_of_the_merged_entry(db_url, sdn_dir, tmp_path):
    kept, _client = _merged_into_kept(db_url, sdn_dir, tmp_path)
    trio = _entry_files(sdn_dir, tmp_path / "again", 6861)

    with store_db.session_scope(db_url) as s:
        again = import_sdn(s, IMPORTER, trio, published="2024-05-02")

    assert not [message for _where, message in again.warnings if "was merged into" in message]
