"""QA round 13, a reviewer's day: the derivative check and the releasable exports, as a reviewer reads them.

Every scenario is FICTIONAL."""

from __future__ import annotations

import json

from test_dossier_scenario import LEAK_TITLE, build_scenario, complete_dossier

from workbench.dossiers import completeness, service, snapshot
from workbench.dossiers.exports import export_dossier
from workbench.store.entities import cite, create_entity, create_link


def _front(session, actor, sc, *, reversed_: bool):
    """A FICTIONAL company and the scenario's designated cartel joined by a cited Ownership link: the cartel
    owns the company, or (reversed_) the company owns the cartel."""
    company = create_entity(session, actor, "Company", {"name": "Transportes Sierra Alta (FICTIONAL)",
                                                        "country": "mx"}).obj.id
    owner, owned = (company, sc.cartel) if reversed_ else (sc.cartel, company)
    link = create_link(session, actor, "Ownership", owner, owned, {"percentage": "100"}).obj.id
    cite(session, actor, sc.registry, link_id=link, excerpt="shareholder register (FICTIONAL)")
    session.flush()
    return company, link


def test_an_ownership_link_running_the_wrong_way_does_not_prove_owned_by_an_sfnt(session, researcher):
    """A company that owns a designated party is not 'owned, controlled or directed by' it: the reversed link
    passed Kingpin 1904(b)(3)'s check, and the package was approved."""
    sc = build_scenario(session, researcher)
    company, link = _front(session, researcher, sc, reversed_=True)
    dossier = service.create_dossier(session, researcher, company, "kingpin-b3")
    view = snapshot.live_view(session, dossier)
    [path] = [p for p in view["designated_links"] if p["designated_id"] == sc.cartel]
    assert path["sourced"] and path["kinds_accepted"] and not path["direction_accepted"] and not path["qualifies"]
    check = next(c for c in completeness.check(view).checks if c.key == "designated_link")
    assert not check.ok
    assert any("runs the wrong way" in note and "designated party's side" in note for note in check.notes)


def test_the_link_that_serves_the_basis_is_shown_when_two_join_the_same_pair(session, researcher):
    """With both a reversed and a right-way ownership cited, the step must show the right-way one."""
    sc = build_scenario(session, researcher)
    company, _wrong = _front(session, researcher, sc, reversed_=True)
    right = create_link(session, researcher, "Ownership", sc.cartel, company, {"percentage": "51"}).obj.id
    cite(session, researcher, sc.registry, link_id=right, excerpt="majority held by the cartel (FICTIONAL)")
    session.flush()
    dossier = service.create_dossier(session, researcher, company, "kingpin-b3")
    [path] = [p for p in snapshot.live_view(session, dossier)["designated_links"] if p["designated_id"] == sc.cartel]
    assert path["qualifies"] and path["steps"][0]["link_id"] == right


def test_the_right_way_qualifies_and_support_prongs_take_either_way(session, researcher):
    sc = build_scenario(session, researcher)
    company, _link = _front(session, researcher, sc, reversed_=False)
    owned = snapshot.live_view(session, service.create_dossier(session, researcher, company, "kingpin-b3"))
    assert [p["qualifies"] for p in owned["designated_links"] if p["designated_id"] == sc.cartel] == [True]
    reversed_company, _ = _front(session, researcher, sc, reversed_=True)
    support = snapshot.live_view(session, service.create_dossier(session, researcher, reversed_company,
                                                                 "kingpin-b2"))
    assert [p["qualifies"] for p in support["designated_links"] if p["designated_id"] == sc.cartel][:1] == [True]


def test_an_indirect_chain_under_a_support_prong_says_the_exhibits_must_show_the_targets_own_support(
        session, researcher):
    """'Ribera Norte Holdings LLC' was linked to the cartel through its owner's association: the check said
    only 'linked through 2 sourced links'."""
    sc = build_scenario(session, researcher)
    view = snapshot.live_view(session, service.create_dossier(session, researcher, sc.company, "kingpin-b2"))
    check = next(c for c in completeness.check(view).checks if c.key == "designated_link")
    assert check.ok and any("indirect (2 links" in note and "how the target itself supports it" in note
                            for note in check.notes)


def test_the_reason_a_chain_does_not_count_is_the_real_one_on_the_page_and_in_the_exports(
        session, researcher, db_url):
    """An Associate link to an SDNTK-only party under E.O. 14059's support prong was marked 'kind not
    accepted'; Associate is accepted: the program is what does not count."""
    from web_helpers import signed_in_client

    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.target, "eo14059-support")
    session.commit()
    md = export_dossier(session, dossier.id, "md").content.decode()
    assert "designated under SDNTK, not this basis's program" in md and "kind not accepted" not in md
    page = signed_in_client(db_url, "victor", "reviewer").get(f"/dossiers/{dossier.id}").text
    assert "designated under SDNTK, not this basis&#39;s program" in page and "kind not accepted" not in page


def test_visa_data_only_an_unreleasable_source_supports_is_withheld_from_the_releasable_export(session, researcher):
    """The visa class, foil number, post and dates were printed in the releasable visa CSV and case summary
    while the only exhibit supporting them (the visa-holder element) cited an unreleasable record."""
    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.target, "visa-212a2c")
    service.update_dossier(session, researcher, dossier.id, expected_version=dossier.version,
                           visa_data={"visa_class": "B1/B2", "visa_number": "FICT00012345",
                                      "issuing_post": "Monterrey (FICTIONAL)"})
    service.add_exhibit(session, researcher, dossier.id, element="visa_holder", statement_type="fact",
                        statement="Visa issuance record (FICTIONAL).", source_id=sc.leak)
    session.flush()
    for fmt in ("visa-csv", "md", "json"):
        full = export_dossier(session, dossier.id, fmt).content.decode()
        released = export_dossier(session, dossier.id, fmt, releasable=True).content.decode()
        assert "FICT00012345" in full and "FICT00012345" not in released, fmt
    meta = json.loads(export_dossier(session, dossier.id, "json", releasable=True).content)["meta"]
    assert any(item["what"] == "visa data field" and item["count"] == 3 for item in meta["withheld"])


def test_an_approved_package_whose_chain_rests_on_a_leak_is_not_called_incomplete_in_its_releasable_export(
        session, researcher):
    """The releasable copy of an approved package read 'Incomplete... MISSING: No sourced link' under the line
    that the checklist is that of the whole package: the only qualifying chain was cited to a leak."""
    sc = build_scenario(session, researcher, cite_associate=False)  # the chain rests on the leak alone
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2", narrative={"summary": "Test."})
    for element, source in (("foreign_person", sc.official), ("sfnt_link", sc.official), ("material_support", sc.court)):
        service.add_exhibit(session, researcher, dossier.id, element=element, statement_type="fact",
                            statement=f"{element} (FICTIONAL).", source_id=source)
    session.flush()
    full = json.loads(export_dossier(session, dossier.id, "json").content)
    released = json.loads(export_dossier(session, dossier.id, "json", releasable=True).content)
    assert full["completeness"]["complete"] is True
    assert released["completeness"]["complete"] is True
    check = next(c for c in released["completeness"]["checks"] if c["key"] == "designated_link")
    assert check["status"] == "warning" and "the full package shows it" in " ".join(check["warnings"])
    assert LEAK_TITLE not in json.dumps(released)


def test_the_chain_on_the_dossier_page_gives_each_source_with_its_grade_and_date_as_the_exports_do(
        session, researcher, db_url):
    """A reviewer saw only each source's title and excerpt on the page; the exports had grades and dates."""
    from web_helpers import signed_in_client

    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    session.commit()
    page = signed_in_client(db_url, "victor", "reviewer").get(f"/dossiers/{dossier_id}").text
    chain = page[page.index('id="h-designated"'):]
    assert f'<a href="/sources/{sc.court}">Court record 17 (TEST)</a> <span class="grade" title="reliability">B</span>' \
        in chain


def test_a_releasable_history_keeps_what_the_workbench_wrote_and_withholds_what_people_wrote(session, researcher):
    """Every 'exhibit added' line read '(withheld from the releasable export)', exhibits the export holds too."""
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    session.flush()
    events = json.loads(export_dossier(session, dossier_id, "json", releasable=True).content)["events"]
    added = [e for e in events if e["event"] == "exhibit_added"]
    assert added and all(not e["comment_withheld"] and e["comment"].startswith("exhibit ") for e in added)


def test_the_checklist_warns_of_support_a_reviewer_must_not_miss(session, researcher):
    """'Complete' was said of a package whose 'significant role' rested on one grade-E allegation, with no
    narrative, on a U.S. company under a foreign-person element. Warnings, never refusals: reviewers judge."""
    sc = build_scenario(session, researcher)
    llc = create_entity(session, researcher, "Company", {"name": "Ribera Norte Holdings LLC (FICTIONAL)",
                                                         "country": "us"}).obj.id
    dossier = service.create_dossier(session, researcher, llc, "kingpin-b4")
    service.add_exhibit(session, researcher, dossier.id, element="foreign_person", statement_type="fact",
                        statement="Registered in Texas (FICTIONAL).", source_id=sc.registry)
    service.add_exhibit(session, researcher, dossier.id, element="significant_role", statement_type="allegation",
                        statement="A ledger names it (FICTIONAL).", source_id=sc.leak)
    session.flush()
    check = next(c for c in completeness.check(snapshot.live_view(session, service.get_dossier(session, dossier.id)))
                 .checks if c.key == "elements")
    said = " ".join(check.warnings)
    assert check.ok and check.status == "warning"
    assert "Significant role in trafficking rests on allegations only" in said
    assert "rests only on sources graded D" in said
    assert "country includes the United States" in said and "No narrative" in said  # 'include' before round 15


def test_the_ftm_package_sends_an_associate_of_an_organisation_as_an_unknown_link(session, researcher):
    """FtM's Associate joins two people: the package wrote the target's Associate link to the cartel as one,
    which followthemoney's ranges refuse (as `workbench export ftm` already no longer does)."""
    sc = build_scenario(session, researcher)
    dossier_id = complete_dossier(session, researcher, sc)
    session.flush()
    lines = [json.loads(line) for line in export_dossier(session, dossier_id, "ftm").content.decode().splitlines()
             if line.startswith("{")]
    [link] = [line for line in lines if line["id"] == sc.associate_link]
    assert link["schema"] == "UnknownLink" and link["properties"]["object"] == [sc.cartel]


def test_the_visa_csv_of_a_company_package_says_why_it_has_no_row(session, researcher):
    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.company, "kingpin-b4")
    session.flush()
    text = export_dossier(session, dossier.id, "visa-csv").content.decode()
    header = text.index("entity_id,")
    assert "not a person: no visa-revocation candidate" in text[:header] and text[header:].count("\n") == 1


def test_a_stale_page_names_the_package_version_and_the_revisions_apart(session, researcher):
    """'it is now approved, version 14 (your page had version 12)' mixed the row's count of saves with the
    package's version 1."""
    import pytest

    from workbench.store.entities import Conflict

    sc = build_scenario(session, researcher)
    dossier = service.create_dossier(session, researcher, sc.target, "kingpin-b2")
    service.update_dossier(session, researcher, dossier.id, expected_version=dossier.version, title="Renamed")
    with pytest.raises(Conflict, match=r"version 1 is now draft, at revision \d+ \(the page had revision 1\)"):
        service.update_dossier(session, researcher, dossier.id, expected_version=1, title="Again")
