"""SQLAlchemy 2.0 typed models: the whole persistent state of the workbench.

Entities and links keep their schema-defined properties as JSON (``{property: [values]}``, the
FollowTheMoney shape), because the kinds and their properties live in ``schema/`` and change
without a migration. Everything that is queried by structure (names, endpoints, citations,
workflow state) has its own columns and indexes.

Every mutable row has a ``version`` column used for optimistic locking: two people editing the
same entity or dossier get a clear conflict instead of a silent overwrite.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from workbench.text import sort_key


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(at: datetime | None) -> datetime | None:
    """A stored time with its zone: times are stored in UTC, and SQLite gives them back without one
    (PostgreSQL with it), so two of them compare and print alike."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Entity(Base):
    __tablename__ = "entities"

    id: Mapped[str] = mapped_column(String(120), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    caption: Mapped[str] = mapped_column(String(500), index=True)
    # The caption as lists order it (text.sort_key), kept with every write of the caption.
    sort_key: Mapped[str] = mapped_column(String(500), index=True, default="", server_default="")
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # When a duplicate is merged into another entity, it stays (for undo and history) but points here.
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("entities.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)

    names: Mapped[list[Name]] = relationship(back_populates="entity", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @validates("caption")
    def _keep_sort_key(self, _key: str, caption: str) -> str:
        self.sort_key = sort_key(caption)
        return caption


class Name(Base):
    """Every name and alias of an entity, with the normalised form used by matching."""

    __tablename__ = "names"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No index of its own: uq_names_entity_prop_name leads with entity_id and serves lookups by
    # entity (and the cascade); a second index only cost every import (migration 0002).
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500), index=True)
    # primary / alias / weak / former / maiden (vocabularies.yml: name_kinds)
    name_kind: Mapped[str] = mapped_column(String(20), default="primary")
    # Which entity property the name came from (name, alias, weakAlias, previousName).
    prop: Mapped[str] = mapped_column(String(64), default="name")

    entity: Mapped[Entity] = relationship(back_populates="names")

    __table_args__ = (UniqueConstraint("entity_id", "prop", "name", name="uq_names_entity_prop_name"),)


class Link(Base):
    __tablename__ = "links"

    id: Mapped[str] = mapped_column(String(120), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    start_date: Mapped[str | None] = mapped_column(String(10))
    end_date: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)

    source: Mapped[Entity] = relationship(foreign_keys=[source_id])
    target: Mapped[Entity] = relationship(foreign_keys=[target_id])

    __mapper_args__ = {"version_id_col": version}


class Source(Base):
    """A document that supports facts: a URL or a stored file, with its chain of custody."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(120), primary_key=True, default=new_id)
    url: Mapped[str | None] = mapped_column(String(2000))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    file_name: Mapped[str | None] = mapped_column(String(300))
    media_type: Mapped[str | None] = mapped_column(String(120))
    size: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    publisher: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[str | None] = mapped_column(String(10))  # partial ISO date
    retrieved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source_type: Mapped[str] = mapped_column(String(30), default="other")  # vocabularies: source_types
    reliability: Mapped[str] = mapped_column(String(1), default="F")  # vocabularies: reliability_grades
    releasable: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_sources_url", "url"),)


class Citation(Base):
    """A source supporting one property value, one name, or one link."""

    __tablename__ = "citations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"), index=True)
    entity_id: Mapped[str | None] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[str | None] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"), index=True)
    prop: Mapped[str | None] = mapped_column(String(64))  # None = the entity/link as a whole
    value: Mapped[str | None] = mapped_column(Text)  # as long as the value it cites
    excerpt: Mapped[str | None] = mapped_column(Text)
    page: Mapped[str | None] = mapped_column(String(200))
    # Where an importer took it from: row number, list entry, etc.
    locator: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(80))

    source: Mapped[Source] = relationship()

    # Citations can be removed and are named by id in the audit log and in URLs: SQLite must never
    # give a removed citation's id to a new one (PostgreSQL's sequences never do).
    __table_args__ = (
        CheckConstraint(
            "(entity_id IS NOT NULL AND link_id IS NULL) OR (entity_id IS NULL AND link_id IS NOT NULL)",
            name="ck_citations_one_subject",
        ),
        {"sqlite_autoincrement": True},
    )


class StoredFile(Base):
    """Content-addressed file metadata; the bytes live under data_dir/files/<sha[:2]>/<sha>."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str | None] = mapped_column(String(120))
    original_name: Mapped[str | None] = mapped_column(String(300))
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    captured_by: Mapped[str | None] = mapped_column(String(80))


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))  # vocabularies: roles
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The generation of the user's browser sessions: a session cookie carries the value it had at
    # sign-in, and a cookie with an older one is signed out. Signing out, a password, role or
    # active change raise it, so a copied cookie dies with them rather than when it expires.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}


class ApiToken(Base):
    """Bearer tokens for the API and the Reconciliation service; only a hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class AuditHead(Base):
    """One row; updating it first serialises audit appends on every backend."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")


class AuditEntry(Base):
    """Append-only, hash-chained record of every change (who, when, what, before/after)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(120), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Judgement(Base):
    """A researcher's verdict on whether two entities are the same (nomenklatura-style)."""

    __tablename__ = "judgements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    left_id: Mapped[str] = mapped_column(String(120), index=True)
    right_id: Mapped[str] = mapped_column(String(120), index=True)
    verdict: Mapped[str] = mapped_column(String(10))  # same / different / unsure
    score: Mapped[float | None] = mapped_column(Float)
    user: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A reversed judgement is kept, marked superseded by the newer one.
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("judgements.id", ondelete="SET NULL"))

    __table_args__ = (CheckConstraint("left_id < right_id", name="ck_judgements_ordered"),)


class Merge(Base):
    """A merge of a duplicate into a canonical entity, with what was moved, so it can be undone."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    winner_id: Mapped[str] = mapped_column(String(120), index=True)
    loser_id: Mapped[str] = mapped_column(String(120), index=True)
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(80))


class ScreeningJob(Base):
    """A screening run of an uploaded table (property roll, registry, declaration)."""

    __tablename__ = "screening_jobs"

    id: Mapped[str] = mapped_column(String(120), primary_key=True, default=new_id)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    file_name: Mapped[str] = mapped_column(String(300))
    mapping: Mapped[str] = mapped_column(Text)  # the YAML mapping used
    against: Mapped[str] = mapped_column(String(200), default="db")
    threshold: Mapped[float] = mapped_column(Float, default=0.7)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued/running/done/failed
    total_rows: Mapped[int | None] = mapped_column(Integer)
    done_rows: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    # Rows screened so far that held no name to screen (skipped, and said so on the job's page).
    empty_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewItem(Base):
    """One screening hit awaiting a decision: a row of the input against an entity."""

    __tablename__ = "review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("screening_jobs.id", ondelete="CASCADE"), index=True)
    row_number: Mapped[int] = mapped_column(Integer)
    row_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    query_name: Mapped[str] = mapped_column(String(500))
    query_key: Mapped[str] = mapped_column(String(500), index=True)  # normalised name
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"), index=True)
    matched_name: Mapped[str | None] = mapped_column(String(500))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open/confirmed/rejected/unsure
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_entities: Mapped[list[Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class PairDecision(Base):
    """A remembered screening decision so the same (name, entity) pair is not raised again."""

    __tablename__ = "pair_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    query_key: Mapped[str] = mapped_column(String(500))
    entity_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="CASCADE"))
    verdict: Mapped[str] = mapped_column(String(12))
    user: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("query_key", "entity_id", name="uq_pair_decisions"),)


class Dossier(Base):
    """A candidate designation package for one target under one legal basis."""

    __tablename__ = "dossiers"

    id: Mapped[str] = mapped_column(String(120), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(300))
    target_id: Mapped[str] = mapped_column(ForeignKey("entities.id", ondelete="RESTRICT"), index=True)
    legal_basis: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)  # version number of the package
    previous_id: Mapped[str | None] = mapped_column(ForeignKey("dossiers.id", ondelete="SET NULL"))
    narrative: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # section -> text
    visa_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    identifier_notes: Mapped[str | None] = mapped_column(Text)
    fictional: Mapped[bool] = mapped_column(Boolean, default=False)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    snapshot_hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    exhibits: Mapped[list[Exhibit]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="Exhibit.number"
    )
    events: Mapped[list[DossierEvent]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="DossierEvent.id"
    )

    # A version has at most one successor (two drafts of one package could both be approved).
    __table_args__ = (Index("uq_dossiers_previous_id", "previous_id", unique=True),)
    __mapper_args__ = {"version_id_col": version}


class Exhibit(Base):
    __tablename__ = "exhibits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))
    citation_id: Mapped[int | None] = mapped_column(ForeignKey("citations.id", ondelete="SET NULL"))
    element: Mapped[str] = mapped_column(String(60))
    statement: Mapped[str] = mapped_column(Text)
    statement_type: Mapped[str] = mapped_column(String(12), default="allegation")  # fact / allegation
    excerpt: Mapped[str | None] = mapped_column(Text)
    page: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="exhibits")
    source: Mapped[Source] = relationship()

    __table_args__ = (UniqueConstraint("dossier_id", "number", name="uq_exhibits_number"),)


class DossierEvent(Base):
    """Typed workflow event: created, edited, submitted, approved, returned, rejected, withdrawn."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    user: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"), index=True)
    exhibit_id: Mapped[int | None] = mapped_column(ForeignKey("exhibits.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImportRun(Base):
    """One import of a file: what it was, and the outcome counts (for resumable batches too)."""

    __tablename__ = "import_runs"

    id: Mapped[str] = mapped_column(String(120), primary_key=True, default=new_id)
    importer: Mapped[str] = mapped_column(String(40))
    importer_version: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user: Mapped[str] = mapped_column(String(80))

