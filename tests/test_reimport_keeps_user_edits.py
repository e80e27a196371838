"""Re-importing a list keeps what researchers added since the last import (a three-way merge).

base = what the last import of an entry wrote (the audit log), ours = the entry as stored now,
theirs = what the file says: each property becomes theirs plus the values in ours that are not in
base. The list stays authoritative for its own values (a value it no longer gives goes), and the
summary says what was kept. Driven as a user would: the real SDN trio imported, an entry edited
through the domain services, the list imported again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from workbench.sources.ftm import import_ftm
from workbench.sources.sdn import import_sdn
from workbench.sources.tabular import apply_row, load_mapping
from workbench.store import db as store_db
from workbench.store.audit import verify
from workbench.store.entities import cite, create_source, still_held, update_entity, update_link
from workbench.store.models import AuditHead, Citation, Entity, Link, Name
from workbench.store.permissions import Actor

IMPORTER = Actor("importer", "researcher")
ROLL_MAPPING = Path(__file__).resolve().parents[1] / "fixtures" / "mappings" / "county_property_roll_real.yml"
ADDRESS = "1 Calle Ficticia, Culiacan, Sinaloa (FICTIONAL)"
CHAPO = "ofac-6861"  # GUZMAN LOERA, Joaquin (SDNTK): 18 aliases in ALT.CSV, no nationality, remarks as notes
CHAPO_NAMED = f"GUZMAN LOERA, Joaquin ({CHAPO})"  # how an import's warnings name the entry (its name, then its id)
TRIO = ("sdn.csv", "alt.csv", "add.csv")
USER_ALIAS = "El Chapo"
USER_NOTE = "Researcher's note: checked against the 2019 U.S. court record"


def _trio(directory: Path) -> list[Path]:
    return [directory / name for name in TRIO]


@pytest.fixture(scope="module")
def _listed_template(_database_template, sdn_dir, tmp_path_factory):
    """The real trio imported once per module into a copy of the migrated SQLite template (each test
    copies it again); None on PostgreSQL, where each test imports the trio itself."""
    backend, value = _database_template
    if backend != "sqlite":
        yield None
        return
    tmp = tmp_path_factory.mktemp("listed")
    path = tmp / "workbench.db"
    shutil.copy(value, path)
    url = f"sqlite:///{path}"
    patch = pytest.MonkeyPatch()
    patch.setenv("WORKBENCH_DATABASE_URL", url)
    patch.setenv("WORKBENCH_DATA_DIR", str(tmp / "data"))
    from workbench.settings import reset_settings

    reset_settings()
    try:
        with store_db.session_scope(url) as s:
            import_sdn(s, IMPORTER, _trio(sdn_dir), published="2024-05-02")
        store_db.dispose_all()
    finally:
        patch.undo()
        reset_settings()
    yield path, tmp / "data"


@pytest.fixture
def listed(db_url, _listed_template, sdn_dir, tmp_path) -> str:
    """``db_url`` holding the real SDN trio as imported (published 2024-05-02)."""
    if _listed_template is None:
        with store_db.session_scope(db_url) as s:
            import_sdn(s, IMPORTER, _trio(sdn_dir), published="2024-05-02")
        return db_url
    template, data = _listed_template
    store_db.dispose_all()
    shutil.copy(template, db_url.removeprefix("sqlite:///"))
    shutil.copytree(data, tmp_path / "data", dirs_exist_ok=True)
    return db_url


def _researcher_edits(url: str, researcher: Actor) -> dict[str, list[str]]:
    """What a researcher does on the entry's page: an alias, a nationality and a note, the alias cited."""
    with store_db.session_scope(url) as s:
        entity = s.get(Entity, CHAPO)
        props = entity.properties
        saved = update_entity(s, researcher, CHAPO, {
            "alias": props["alias"] + [USER_ALIAS], "nationality": ["mx"], "notes": props["notes"] + [USER_NOTE],
        }, expected_version=entity.version, replace=False)
        assert saved.changed
        source = create_source(s, researcher, url="https://www.justice.gov/opa/pr/joaquin-el-chapo-guzman-sentenced",
                               title="U.S. DOJ: Joaquin 'El Chapo' Guzman sentenced", source_type="official")
        cite(s, researcher, source.id, entity_id=CHAPO, prop="alias", value=USER_ALIAS, excerpt="El Chapo")
        return {k: list(v) for k, v in s.get(Entity, CHAPO).properties.items()}


def _kept_warnings(summary) -> list[tuple[str, str]]:
    return [(where, message) for where, message in summary.warnings if "a user added" in message]


def test_a_researchers_alias_nationality_and_note_survive_a_reimport_of_the_real_list(listed, sdn_dir, researcher):
    with store_db.session_scope(listed) as s:
        listed_props = {k: list(v) for k, v in s.get(Entity, CHAPO).properties.items()}
    edited = _researcher_edits(listed, researcher)

    with store_db.session_scope(listed) as s:
        summary = import_sdn(s, IMPORTER, _trio(sdn_dir), published="2024-05-02")

    # The file says what it said: nothing to write, and the user is told what was kept.
    assert (summary.created, summary.updated, summary.rejected) == (0, 0, [])
    assert _kept_warnings(summary) == [
        (CHAPO_NAMED, "kept 3 value(s) a user added since the last import (alias, nationality, notes)")]
    assert summary.details["user_values_kept"] == 3
    with store_db.session_scope(listed) as s:
        entity = s.get(Entity, CHAPO)
        props = entity.properties
        assert props == edited  # the researcher's values, where the researcher put them
        assert USER_ALIAS in props["alias"] and props["nationality"] == ["mx"] and USER_NOTE in props["notes"]
        for prop, values in listed_props.items():  # the list's values are all there
            assert set(values) <= set(props[prop]), prop
        # The alias is still a name search finds, and its citation still supports a value held.
        assert s.scalar(select(func.count()).select_from(Name).where(Name.entity_id == CHAPO,
                                                                     Name.name == USER_ALIAS)) == 1
        citation = s.scalars(select(Citation).where(Citation.entity_id == CHAPO, Citation.value == USER_ALIAS)).one()
        assert still_held(citation, props)
        assert verify(s)[1] is None


def test_a_plain_reimport_of_the_real_list_creates_and_updates_nothing(listed, sdn_dir):
    with store_db.session_scope(listed) as s:
        head = s.get(AuditHead, 1).seq
        summary = import_sdn(s, IMPORTER, _trio(sdn_dir), published="2024-05-02")
    assert (summary.created, summary.updated, summary.rejected) == (0, 0, [])
    assert _kept_warnings(summary) == [] and "user_values_kept" not in summary.details
    with store_db.session_scope(listed) as s:
        assert s.get(AuditHead, 1).seq == head


# ---- a newer list: a small copy of the trio, one entry's rows, edited as OFAC would edit them ---------

def _entry_files(sdn_dir: Path, out: Path, ent_num: int | tuple[int, ...], edit=lambda name, text: text
                 ) -> list[Path]:
    """The trio cut down to some entries' rows (headers and OFAC's end-of-file rows kept), each passed
    through ``edit(file name, text)``."""
    wanted = tuple(f"{n}," for n in (ent_num if isinstance(ent_num, tuple) else (ent_num,)))
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in TRIO:
        lines = (sdn_dir / name).read_bytes().decode("latin-1").split("\r\n")
        header = [] if name == "sdn.csv" else lines[:1]
        rows = [line for line in lines if line.startswith(wanted)]
        text = "\r\n".join(header + rows + [lines[-1] if lines[-1] else lines[-2]]) + ("" if lines[-1] else "\r\n")
        path = out / name
        path.write_bytes(edit(name, text).encode("latin-1"))
        paths.append(path)
    return paths


def _newer_list(name: str, text: str) -> str:
    """OFAC completes the place of birth and drops one alias."""
    if name == "sdn.csv":
        return text.replace("POB Mexico.", "POB Badiraguato, Sinaloa, Mexico.")
    if name == "alt.csv":
        return "\r\n".join(line for line in text.split("\r\n") if '"AREGON, Max"' not in line)
    return text


def test_a_value_the_list_changes_is_replaced_while_the_users_values_are_kept(db_url, sdn_dir, tmp_path, researcher):
    older = _entry_files(sdn_dir, tmp_path / "older", 6861)
    newer = _entry_files(sdn_dir, tmp_path / "newer", 6861, _newer_list)
    with store_db.session_scope(db_url) as s:
        first = import_sdn(s, IMPORTER, older, published="2024-05-02")
    assert first.created == 2 and first.rejected == []
    with store_db.session_scope(db_url) as s:
        before = {k: list(v) for k, v in s.get(Entity, CHAPO).properties.items()}
    assert before["notes"] == ["DOB 25 Dec 1954; POB Mexico."] and "AREGON, Max" in before["alias"]
    _researcher_edits(db_url, researcher)
    with store_db.session_scope(db_url) as s:  # the researcher also removes an alias the list gives
        entity = s.get(Entity, CHAPO)
        update_entity(s, researcher, CHAPO, {"alias": [a for a in entity.properties["alias"] if a != "ORTEGA, Miguel"]},
                      expected_version=entity.version, replace=False)

    with store_db.session_scope(db_url) as s:
        summary = import_sdn(s, IMPORTER, newer, published="2024-06-01")

    assert (summary.created, summary.updated, summary.rejected) == (0, 1, [])
    assert _kept_warnings(summary) == [
        (CHAPO_NAMED, "kept 3 value(s) a user added since the last import (alias, nationality, notes)")]
    assert (CHAPO_NAMED, "1 value(s) a user removed since the last import are back: the file still gives them "
                         "(alias)") \
        in summary.warnings
    with store_db.session_scope(db_url) as s:
        props = s.get(Entity, CHAPO).properties
        # The list's new values in place of its old ones, the user's values after them.
        assert props["notes"] == ["DOB 25 Dec 1954; POB Badiraguato, Sinaloa, Mexico.", USER_NOTE]
        assert props["birthPlace"] == ["Badiraguato, Sinaloa, Mexico"]
        assert "AREGON, Max" not in props["alias"] and props["alias"][-1] == USER_ALIAS
        assert "ORTEGA, Miguel" in props["alias"]  # the list still gives it (and the warning says so)
        assert props["nationality"] == ["mx"]
        citation = s.scalars(select(Citation).where(Citation.entity_id == CHAPO, Citation.value == USER_ALIAS)).one()
        assert still_held(citation, props)
        assert verify(s)[1] is None

    # The import after that knows the user's values for the user's: the same newer list changes nothing.
    with store_db.session_scope(db_url) as s:
        again = import_sdn(s, IMPORTER, newer, published="2024-06-01")
    assert (again.created, again.updated) == (0, 0)
    assert _kept_warnings(again) == [
        (CHAPO_NAMED, "kept 3 value(s) a user added since the last import (alias, nationality, notes)")]


def test_a_users_alias_kept_by_an_import_without_alt_csv_survives_the_next_full_import(db_url, sdn_dir, tmp_path,
                                                                                       researcher):
    """sdn.csv alone adds the stored aliases to what it gives: the user's alias is in what that import
    wrote, yet it stays the user's, so the next full trio (which does not give it) keeps it too."""
    trio = _entry_files(sdn_dir, tmp_path / "trio", 6861)
    with store_db.session_scope(db_url) as s:
        import_sdn(s, IMPORTER, trio, published="2024-05-02")
    _researcher_edits(db_url, researcher)
    changed = _entry_files(sdn_dir, tmp_path / "changed", 6861, _newer_list)
    with store_db.session_scope(db_url) as s:
        alone = import_sdn(s, IMPORTER, changed[:1], published="2024-06-01")  # no ALT.CSV, no ADD.CSV
    assert alone.updated == 1
    with store_db.session_scope(db_url) as s:
        assert USER_ALIAS in s.get(Entity, CHAPO).properties["alias"]
    with store_db.session_scope(db_url) as s:
        full = import_sdn(s, IMPORTER, changed, published="2024-06-01")
    assert full.updated == 1 and full.details["user_values_kept"] == 3
    with store_db.session_scope(db_url) as s:
        props = s.get(Entity, CHAPO).properties
        assert USER_ALIAS in props["alias"] and "AREGON, Max" not in props["alias"]
        assert props["nationality"] == ["mx"] and USER_NOTE in props["notes"]


def test_a_researchers_values_on_a_linked_to_link_survive_a_reimport(db_url, sdn_dir, tmp_path, researcher):
    """The list's 'Linked To' link (GOMEZ ALVAREZ, Sor Teresa -> FUNDACION PARA LA PAZ DE CORDOBA) with a
    confidence and a summary a researcher gave it: the same list again leaves them (and says so)."""
    trio = _entry_files(sdn_dir, tmp_path / "pair", (8155, 8134))
    with store_db.session_scope(db_url) as s:
        assert import_sdn(s, IMPORTER, trio, published="2024-05-02").details["linked_to"] == 1
    link_id = "ofac-8155-linked-8134"
    with store_db.session_scope(db_url) as s:
        link = s.get(Link, link_id)
        assert link.properties == {"role": ["Linked To (OFAC)"]}
        update_link(s, researcher, link_id, {**link.properties, "confidence": ["confirmed"],
                                             "summary": ["She ran the foundation (researcher's reading)"]},
                    expected_version=link.version)
    with store_db.session_scope(db_url) as s:
        summary = import_sdn(s, IMPORTER, trio, published="2024-05-02")
    assert (summary.created, summary.updated, summary.details.get("links_updated", 0)) == (0, 0, 0)
    assert _kept_warnings(summary) == [
        (link_id, "kept 2 value(s) a user added since the last import (confidence, summary)")]
    with store_db.session_scope(db_url) as s:
        assert s.get(Link, link_id).properties == {"role": ["Linked To (OFAC)"], "confidence": ["confirmed"],
                                                   "summary": ["She ran the foundation (researcher's reading)"]}
        assert verify(s)[1] is None


# ---- FtM: the same rule through the same writer ------------------------------------------------------

def _ftm_file(path: Path, notes: str, alias: list[str]) -> Path:
    row = {"id": "ftm-p1", "schema": "Person",
           "properties": {"name": ["FICTIONAL Persona Importada"], "alias": alias, "notes": [notes]}}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return path


def test_an_ftm_file_imported_again_over_a_researchers_edit_keeps_it(db_url, tmp_path, researcher):
    with store_db.session_scope(db_url) as s:
        assert import_ftm(s, IMPORTER, _ftm_file(tmp_path / "v1.ftm.json", "first", ["FICTIONAL Alias Uno"])).created == 1
    with store_db.session_scope(db_url) as s:
        update_entity(s, researcher, "ftm-p1", {"alias": ["FICTIONAL Alias Uno", "FICTIONAL Alias Dos"],
                                                "nationality": ["mx"]}, replace=False)
    with store_db.session_scope(db_url) as s:
        same = import_ftm(s, IMPORTER, tmp_path / "v1.ftm.json")
    assert (same.created, same.updated) == (0, 0)
    assert same.warnings == [("FICTIONAL Persona Importada (ftm-p1)",
                              "kept 2 value(s) a user added since the last import (alias, nationality)")]
    with store_db.session_scope(db_url) as s:
        summary = import_ftm(s, IMPORTER, _ftm_file(tmp_path / "v2.ftm.json", "second", ["FICTIONAL Alias Tres"]))
    assert (summary.created, summary.updated, summary.rejected) == (0, 1, [])
    assert summary.details["user_values_kept"] == 2
    with store_db.session_scope(db_url) as s:
        props = s.get(Entity, "ftm-p1").properties
        assert props["alias"] == ["FICTIONAL Alias Tres", "FICTIONAL Alias Dos"]  # the file's, then the user's
        assert props["notes"] == ["second"] and props["nationality"] == ["mx"]
        assert verify(s)[1] is None


def test_import_entries_written_before_the_importer_marked_them_are_still_told_from_users():
    """The base is found in entries of databases imported before the importer marked its own: an
    import's entity update records the state before it without a caption, its create the citations
    it made; the services' entries (pages, API, merges) are the users'."""
    from workbench.sources.bulk import _import_base

    props = {"name": ["A"], "alias": ["B", "C"]}
    assert _import_base("entity.update", {"kind": "Person", "properties": {}},
                        {"kind": "Person", "caption": "A", "properties": props}) == props
    assert _import_base("entity.create", None, {"caption": "A", "citations": [{}], "kind": "Person",
                                                "properties": props}) == props
    assert _import_base("entity.update", {"kind": "Person", "caption": "A", "properties": {}},
                        {"kind": "Person", "caption": "A", "properties": props}) is None
    assert _import_base("entity.create", None, {"caption": "A", "kind": "Person", "properties": props}) is None
    marked = {"kind": "Person", "caption": "A", "properties": props,
              "import": {"importer": "workbench.sources 0.1", "user_values": {"alias": ["C"]}}}
    assert _import_base("entity.update", {"kind": "Person", "caption": "A", "properties": {}}, marked) == \
        {"name": ["A"], "alias": ["B"]}


def test_a_screening_confirmations_values_survive_a_reimport_of_the_list(listed, sdn_dir, researcher):
    """Review of round 10: a confirmation writes through the importers' writer, and was taken for an
    import, so the next import of the list dropped the mailing address the researcher confirmed."""
    mapping = load_mapping(ROLL_MAPPING.read_text(), ROLL_MAPPING.name)
    row = {"APN": "FICT-1", "SITUS_ADDRESS": "1 Sample St, Fictionville, TX 79999", "OWNER_TYPE": "P",
           "OWNER_NAME": "GUZMAN LOERA JOAQUIN", "OWNER_MAILING_ADDRESS": ADDRESS, "DEED_DATE": "04/02/2021",
           "SALE_PRICE": "1"}
    with store_db.session_scope(listed) as s:
        src = create_source(s, researcher, url="https://example.org/roll-FICTIONAL", title="roll FICTIONAL",
                            source_type="registry")
        apply_row(s, researcher, mapping, row, 1, src.id, bind={mapping.screen_entity: CHAPO},
                  cite_as=("row 1 of job X, confirmed by rita", None))
    with store_db.session_scope(listed) as s:
        props = s.get(Entity, CHAPO).properties
        assert ADDRESS in props.get("address", [])
    with store_db.session_scope(listed) as s:
        summary = import_sdn(s, IMPORTER, _trio(sdn_dir), published="2024-05-02")
        assert summary.created == 0
    with store_db.session_scope(listed) as s:
        props = s.get(Entity, CHAPO).properties
        assert ADDRESS in props.get("address", []), "the confirmed mailing address was dropped by the re-import"
