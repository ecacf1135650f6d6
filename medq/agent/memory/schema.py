"""The patient memory's tables (SQLAlchemy ORM): tenants, patients, facts and their change log, chat sessions, their
turns and summaries, and each turn's audit findings.

This module owns the schema only; `medq.agent.memory.store` reads and writes these rows. The shipped Alembic
migrations (`medq/agent/migrations/`, whose env.py imports `Base` and `VERSION_TABLE` from here) must describe
exactly this metadata: a change here is a new migration (`tests/agent/test_memory_store.py` compares the two).

Timestamps are ISO-8601 UTC strings (as `Fact.observed_at`): they sort as text and round-trip unchanged on SQLite
and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from medq.agent.facts import utcnow

# Alembic's bookkeeping table, named for this store: the same database may hold Chainlit's and MLflow's tables.
VERSION_TABLE = "medq_memory_alembic_version"

# the column kinds several tables share (SQLAlchemy's Annotated declarations: each use gets its own copy)
Timestamp = Annotated[str, mapped_column(String(40), default=utcnow)]
SerialKey = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
ExternalId = Annotated[str, mapped_column(String(128))]        # an id the caller chose (patient, session)
PatientKey = Annotated[int, mapped_column(ForeignKey("patients.pk", ondelete="CASCADE"), index=True)]
SessionKey = Annotated[int, mapped_column(ForeignKey("chat_sessions.pk", ondelete="CASCADE"), index=True)]
MessageId = Annotated[str | None, mapped_column(String(64), nullable=True)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s"})


class TenantRow(Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[Timestamp]


class PatientRow(Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)
    pk: Mapped[SerialKey]
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[ExternalId]
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class FactRow(Base):
    __tablename__ = "facts"
    # one row per fact identity (facts.Fact.identity): list kinds by value, scalar kinds by kind alone
    __table_args__ = (UniqueConstraint("patient_pk", "kind", "identity_value"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patient_pk: Mapped[PatientKey]
    kind: Mapped[str] = mapped_column(String(16))
    identity_value: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    source_message_id: Mapped[MessageId]
    observed_at: Mapped[str] = mapped_column(String(40))
    evidence: Mapped[str] = mapped_column(Text, default="")
    extractor: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[Timestamp]


class FactChangeRow(Base):
    """Every change to a fact: by a turn (actor = the extractor), or a correction by a patient or clinician."""

    __tablename__ = "fact_changes"
    id: Mapped[SerialKey]
    patient_pk: Mapped[PatientKey]
    fact_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(16))          # create | update | delete
    actor: Mapped[str] = mapped_column(String(128))
    actor_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[str | None] = mapped_column(Text, nullable=True)   # the fact as JSON, None on create
    after: Mapped[str | None] = mapped_column(Text, nullable=True)    # None on delete
    changed_at: Mapped[Timestamp]


class SessionRow(Base):
    __tablename__ = "chat_sessions"
    __table_args__ = (UniqueConstraint("patient_pk", "external_id"),)
    pk: Mapped[SerialKey]
    patient_pk: Mapped[PatientKey]
    external_id: Mapped[ExternalId]
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("session_pk", "seq"),)
    id: Mapped[SerialKey]
    session_pk: Mapped[SessionKey]
    patient_pk: Mapped[PatientKey]
    seq: Mapped[int] = mapped_column(Integer)                 # 1, 2, ... within the session
    message_id: Mapped[str] = mapped_column(String(64), index=True)
    user_text: Mapped[str] = mapped_column(Text)
    assistant_text: Mapped[str] = mapped_column(Text)
    meta: Mapped[str] = mapped_column(Text, default="{}")     # JSON: verdict, citations, versions, ...
    created_at: Mapped[Timestamp]


class SummaryRow(Base):
    __tablename__ = "session_summaries"
    session_pk: Mapped[int] = mapped_column(ForeignKey("chat_sessions.pk", ondelete="CASCADE"), primary_key=True)
    patient_pk: Mapped[PatientKey]
    text: Mapped[str] = mapped_column(Text)
    covers_through: Mapped[int] = mapped_column(Integer)      # turns 1..covers_through are summarised
    updated_at: Mapped[Timestamp]


class FindingRow(Base):
    __tablename__ = "audit_findings"
    id: Mapped[SerialKey]
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    patient_pk: Mapped[PatientKey]
    drug: Mapped[str] = mapped_column(String(200), default="")
    rule: Mapped[str] = mapped_column(String(64), default="")
    fact_value: Mapped[str] = mapped_column(String(200), default="")
    source_message_id: Mapped[MessageId]
    detail: Mapped[str] = mapped_column(Text, default="{}")   # the whole finding as JSON
