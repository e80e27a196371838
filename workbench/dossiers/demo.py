"""The demo's FICTIONAL candidate dossier, built on the lead's fictional scenario (fixtures/demo/fictional.yml).

It is created through the same domain services as any dossier, from citations the fixtures already
hold, so it exercises the whole chain (exhibits -> elements, sourced link to a designated party,
assets from ownership chains, one unreleasable exhibit). It is left in draft: the demo (and the
browser test) submits it as a researcher and approves it as a reviewer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.dossiers import service
from workbench.schema import ValidationError
from workbench.store.models import Citation, Dossier, Entity
from workbench.store.permissions import Actor

DEMO_DOSSIER_ID = "demo-dossier-fictional-official"
OFFICIAL_ID = "demo-fictional-official"
BASIS = "kingpin-b2"

NARRATIVE = {
    "summary": (
        "FICTIONAL DEMO. José María Villaseñor Ibarra (FICTIONAL), municipal president of the fictional "
        "municipality of San Isidro del Monte, Sinaloa, is alleged in fictional court testimony and a fictional "
        "leaked ledger to have received monthly payments from a cell of the Cártel de Jalisco Nueva Generación "
        "(CJNG), a party designated under the Kingpin Act, in exchange for allowing its operations in the "
        "municipality."
    ),
    "background": (
        "FICTIONAL DEMO. The target took office on 15 September 2021 (fictional municipal gazette). His 2023 "
        "fictional asset declaration lists a condominium unit in Texas and an interest in a Mexican real-estate "
        "company; a fictional Texas filing shows him as managing member of an LLC that bought a residence in "
        "Laredo in 2022."
    ),
    "legal_analysis": (
        "FICTIONAL DEMO. Foreign person: a Mexican national holding Mexican municipal office (Exhibit 1). "
        "SFNT: CJNG is designated under the Kingpin Act, program SDNTK (Exhibit 2); the target's tie to it is "
        "alleged in court testimony (Exhibit 3). Material support: the alleged protection payments in return for "
        "allowing CJNG operations (Exhibits 4 and 5) would constitute services in support of CJNG's trafficking "
        "activities. Exhibit 5 is an unverified leak and is not releasable."
    ),
    "assets": (
        "FICTIONAL DEMO. The U.S. residence held through Ribera Norte Holdings LLC (60 % interest) and the "
        "condominium unit held directly are listed for blocking, with their parcel numbers and recorded deeds."
    ),
    "recommendation": (
        "FICTIONAL DEMO. Candidate for designation under 21 U.S.C. 1904(b)(2), subject to corroboration of the "
        "alleged payments by a releasable source."
    ),
}

# (element, statement type, statement, where the citation is: ("entity"|"link", id), source id)
EXHIBITS = (
    ("foreign_person", "fact",
     "The target, a Mexican national, has held the office of municipal president of San Isidro del Monte, "
     "Sinaloa, Mexico, since 15 September 2021 (FICTIONAL).",
     ("link", "demo-l-fictional-occupancy"), "demo-src-fictional-gazette"),
    ("sfnt_link", "fact",
     "The Cártel de Jalisco Nueva Generación (CJNG) is designated by OFAC under the Kingpin Act (program SDNTK).",
     ("link", "demo-l-s-cjng"), "demo-src-ofac-search"),
    ("sfnt_link", "allegation",
     "Fictional court testimony ties the target to a CJNG cell operating in San Isidro del Monte (FICTIONAL).",
     ("link", "demo-l-fictional-cjng"), "demo-src-fictional-court"),
    ("material_support", "allegation",
     "The target allegedly received monthly payments to allow CJNG operations in the municipality (FICTIONAL).",
     ("link", "demo-l-fictional-cjng"), "demo-src-fictional-court"),
    ("material_support", "allegation",
     "A leaked ledger allegedly records a payment of 250,000 MXN to 'Contador' for the San Isidro plaza "
     "(FICTIONAL; unverified, not releasable).",
     ("link", "demo-l-fictional-cjng"), "demo-src-fictional-leak"),
)


def _citation(session: Session, subject: tuple[str, str], source_id: str) -> Citation:
    kind, subject_id = subject
    column = Citation.entity_id if kind == "entity" else Citation.link_id
    citation = session.execute(
        select(Citation).where(column == subject_id, Citation.source_id == source_id).order_by(Citation.id)
    ).scalars().first()
    if citation is None:
        raise ValidationError({"demo": [f"the demo fixtures lack a citation of {source_id} on {kind} {subject_id}: "
                                        "the fictional dossier cannot be built"]})
    return citation


def load_demo_dossiers(session: Session, actor: Actor) -> int:
    """Create the FICTIONAL demo dossier once; returns how many dossiers were created (0 or 1)."""
    if session.get(Dossier, DEMO_DOSSIER_ID) is not None or session.get(Entity, OFFICIAL_ID) is None:
        return 0
    dossier = service.create_dossier(
        session, actor, OFFICIAL_ID, BASIS, dossier_id=DEMO_DOSSIER_ID, fictional=True,
        title="FICTIONAL demo: José María Villaseñor Ibarra - Kingpin Act 1904(b)(2)", narrative=NARRATIVE,
    )
    for element, statement_type, statement, subject, source_id in EXHIBITS:
        citation = _citation(session, subject, source_id)
        service.add_exhibit(session, actor, dossier.id, element=element, statement=statement,
                            statement_type=statement_type, citation_id=citation.id)
    return 1
