"""The patient memory's store: `EntityMemoryStore` over SQLAlchemy (SQLite by default, PostgreSQL by URL), the one
module of `medq.agent.memory` that talks to the database.

What it keeps, per tenant and patient (tables: `medq.agent.memory.schema`): facts with provenance
(`medq.agent.facts.Fact`), a log of every change to a fact (who, when, before, after), chat sessions, their turns,
each session's summary (and which turns it covers) and the audit findings of each turn. Every query is scoped by
(tenant, patient id); a patient that does not exist in the tenant is `PatientNotFound` (the API maps it to 404, also
for another tenant's patient, so ids cannot be probed).

A turn is one unit of work (`store.turn(...)`, `medq.agent.memory.unit.MemoryTurn`): read at its start, written by
`_commit` in one short write transaction when it ends. Facts entered outside a turn (a clinician's known allergy:
`add_facts`; a correction: `correct_fact`, the API's PATCH; `delete_fact`) are logged with actor, role, reason and
time; `fact_changes` lists every step. A disputed safety-critical fact (`medq.agent.confirmation`) ends only by the
patient's confirmation in a later turn or a clinician's `correct_fact`.

Schema changes are Alembic migrations shipped in `medq/agent/migrations/`, applied when a store is opened.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal, Sequence, TypeVar

from sqlalchemy import create_engine, delete, event, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from medq.agent.facts import LIST_KINDS, Fact, PatientProfile, merge_facts, utcnow
from medq.agent.memory.records import (FactChange, FactConflict, FactNotFound, MemoryStoreError, PatientNotFound,
                                       SessionInfo, SessionSummary, StoredFinding, TurnRecord, check_actor,
                                       check_fact, check_id)
from medq.agent.memory.schema import (FactChangeRow, FactRow, FindingRow, PatientRow, SessionRow, SummaryRow,
                                      TenantRow, TurnRow)
from medq.agent.memory.unit import MemoryTurn
from medq.errors import MedqError

log = logging.getLogger(__name__)
DEFAULT_TENANT = "default"
MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"
ActorRole = Literal["patient", "clinician", "agent", "system"]
T = TypeVar("T")


# --- facts as rows and as change-log JSON ------------------------------------------------------------------------

def _fact_from_row(row: FactRow) -> Fact:
    return Fact(kind=row.kind, value=row.value, status=row.status, source_message_id=row.source_message_id,
                observed_at=row.observed_at, evidence=row.evidence, extractor=row.extractor, id=row.id)


def _fact_json(fact: Fact | None) -> str | None:
    if fact is None:
        return None
    data = asdict(fact)
    data.pop("supersedes", None)   # applied when merged, not part of the fact
    data.pop("retracts", None)
    return json.dumps(data, ensure_ascii=False)


def _fact_from_json(text: str | None) -> Fact | None:
    return None if text is None else Fact(**json.loads(text))


def _identity_value(kind: str, value: str) -> str:
    return value if kind in LIST_KINDS else ""


class EntityMemoryStore:
    """Persisted per-patient memory. `url`: any SQLAlchemy URL, e.g. `sqlite:///path/memory.db` (WAL mode is
    switched on) or `postgresql+psycopg://user:pass@host/db`.

    recent_turns: how many of a session's newest turns a turn reads (those after the summary's coverage).
    lock_retries / busy_timeout_s: how long a write waits for another writer before it fails.
    """

    def __init__(self, url: str, default_tenant: str = DEFAULT_TENANT, recent_turns: int = 20,
                 lock_retries: int = 8, busy_timeout_s: float = 30.0, migrate: bool = True):
        self.url = make_url(url)
        self.default_tenant = default_tenant
        self.recent_turns = recent_turns
        self.lock_retries = lock_retries
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and self.url.database not in (None, "", ":memory:"):
            try:
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise MedqError(f"agent.memory.url {url}: cannot create the database folder: {exc}") from None
        kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": busy_timeout_s, "check_same_thread": False}
        try:
            self.engine: Engine = create_engine(self.url, **kwargs)
        except Exception as exc:  # no such driver, malformed URL
            raise MedqError(f"agent.memory.url {self.url.render_as_string(hide_password=True)}: {exc}") from None
        if self.is_sqlite:
            self._configure_sqlite(self.engine)
        # SQLite has one writer at a time anyway; queueing this process's writers on a lock spares them SQLite's
        # busy handler, which polls with sleeps of up to 100 ms (benchmarks/memory_store.py, 8 threads: turn p95
        # 3.0 s -> 0.96 s, max 11.6 s -> 1.8 s, same throughput)
        self._writer_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        # writes go through an engine view whose connections start with BEGIN IMMEDIATE on SQLite
        self._write_engine = self.engine.execution_options(medq_write=True)
        if migrate:
            self.migrate()
        self.ensure_tenant(default_tenant)

    @staticmethod
    def _configure_sqlite(engine: Engine) -> None:
        # pysqlite's own transaction handling defers BEGIN and cannot take the write lock up front; SQLAlchemy's
        # documented recipe: switch it off and emit BEGIN ourselves.
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")   # readers never wait for the writer
            cursor.execute("PRAGMA foreign_keys=ON")    # the ON DELETE CASCADEs
            cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; durable at checkpoints
            cursor.execute("PRAGMA secure_delete=ON")   # deleted rows are overwritten with zeros (erasure)
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("medq_write") else "BEGIN")

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"EntityMemoryStore({self.url.render_as_string(hide_password=True)!r})"

    # -- migrations ------------------------------------------------------------------------------------------------

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to `revision` with the shipped Alembic migrations. Safe when several processes open
        the same database at once: SQLite serialises on BEGIN IMMEDIATE, PostgreSQL on an advisory lock."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self._write_engine.begin() as conn:
                if not self.is_sqlite and conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")  # 'medq' memory migrations
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
        except OperationalError as exc:
            raise MedqError(f"agent.memory.url {self.url.render_as_string(hide_password=True)}: cannot open the "
                            f"memory database: {exc.orig}") from None

    # -- transactions ----------------------------------------------------------------------------------------------

    def _retrying(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one write transaction; retry when another writer holds the lock, when PostgreSQL
        reports a deadlock/serialization failure, or when two transactions created the same patient at once."""
        delay = 0.05
        for attempt in range(self.lock_retries + 1):
            try:
                with self._writer_lock, Session(self._write_engine, expire_on_commit=False) as session, \
                        session.begin():
                    return work(session)
            except (OperationalError, IntegrityError, DBAPIError) as exc:
                if attempt == self.lock_retries or not self._is_transient(exc):
                    raise
                log.debug("memory write retry %d after %s", attempt + 1, exc.orig)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    @staticmethod
    def _is_transient(exc: Exception) -> bool:
        text = str(getattr(exc, "orig", exc)).lower()
        if isinstance(exc, IntegrityError):  # a concurrent create of the same patient/session/tenant
            return "unique" in text or "duplicate" in text
        code = getattr(getattr(exc, "orig", None), "sqlstate", None)
        return "database is locked" in text or "busy" in text or code in ("40001", "40P01")

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    # -- tenants and patients ----------------------------------------------------------------------------------------

    def ensure_tenant(self, tenant: str, name: str = "") -> None:
        check_id("tenant", tenant, 64)

        def work(session: Session) -> None:
            if session.get(TenantRow, tenant) is None:
                session.add(TenantRow(id=tenant, name=name or tenant))
                session.flush()
        self._retrying(work)

    def create_patient(self, tenant: str, patient_id: str) -> None:
        """Create the patient if it does not exist (idempotent); the tenant must exist."""
        self._retrying(lambda session: self._patient_for_write(session, tenant, patient_id, create=True))

    def has_patient(self, tenant: str, patient_id: str) -> bool:
        with self._reading() as session:
            return self._find_patient(session, tenant, patient_id) is not None

    def patients(self, tenant: str) -> list[str]:
        with self._reading() as session:
            return list(session.scalars(select(PatientRow.external_id).where(PatientRow.tenant_id == tenant)
                                        .order_by(PatientRow.external_id)))

    @staticmethod
    def _find_patient(session: Session, tenant: str, patient_id: str, lock: bool = False) -> PatientRow | None:
        query = select(PatientRow).where(PatientRow.tenant_id == tenant, PatientRow.external_id == patient_id)
        if lock:
            query = query.with_for_update()  # PostgreSQL row lock; SQLite already holds the database write lock
        return session.scalars(query).one_or_none()

    def _patient(self, session: Session, tenant: str, patient_id: str) -> PatientRow:
        row = self._find_patient(session, tenant, patient_id)
        if row is None:
            raise PatientNotFound(f"no patient {patient_id!r} in tenant {tenant!r}")
        return row

    def _patient_for_write(self, session: Session, tenant: str, patient_id: str, create: bool) -> PatientRow:
        check_id("patient id", patient_id)
        row = self._find_patient(session, tenant, patient_id, lock=True)
        if row is not None:
            return row
        if not create:
            raise PatientNotFound(f"no patient {patient_id!r} in tenant {tenant!r}")
        if session.get(TenantRow, tenant) is None:
            raise PatientNotFound(f"no tenant {tenant!r} (create it with ensure_tenant)")
        row = PatientRow(tenant_id=tenant, external_id=patient_id)
        session.add(row)
        session.flush()  # a concurrent create fails here with a unique violation and the whole write retries
        return self._find_patient(session, tenant, patient_id, lock=True)

    # -- facts -------------------------------------------------------------------------------------------------------

    def facts(self, tenant: str, patient_id: str, include_inactive: bool = True) -> list[Fact]:
        with self._reading() as session:
            patient = self._patient(session, tenant, patient_id)
            return self._facts(session, patient.pk, include_inactive)

    @staticmethod
    def _facts(session: Session, patient_pk: int, include_inactive: bool = True) -> list[Fact]:
        query = select(FactRow).where(FactRow.patient_pk == patient_pk)
        if not include_inactive:
            query = query.where(FactRow.status == "active")
        return [_fact_from_row(r) for r in session.scalars(query.order_by(FactRow.kind, FactRow.observed_at,
                                                                           FactRow.id))]

    def profile(self, tenant: str, patient_id: str) -> PatientProfile:
        return PatientProfile.from_facts(self.facts(tenant, patient_id))

    def add_facts(self, tenant: str, patient_id: str, facts: Iterable[Fact], actor: str,
                  actor_role: ActorRole = "system", reason: str = "", create_patient: bool = False) -> list[Fact]:
        """Merge facts outside a turn (a clinician enters a known allergy). Returns the stored facts."""
        facts = list(facts)
        for fact in facts:
            check_fact(fact)

        def work(session: Session) -> list[Fact]:
            patient = self._patient_for_write(session, tenant, patient_id, create=create_patient)
            return self._merge_into(session, patient, facts, actor, actor_role, reason)
        return self._retrying(work)

    def _merge_into(self, session: Session, patient: PatientRow, new: Sequence[Fact], actor: str,
                    actor_role: str, reason: str) -> list[Fact]:
        """merge_facts against the facts stored now (under the patient lock), then write only what changed."""
        rows = {(r.kind, r.identity_value): r for r in
                session.scalars(select(FactRow).where(FactRow.patient_pk == patient.pk))}
        current = [_fact_from_row(r) for r in rows.values()]
        merged = merge_facts(current, new)
        now = utcnow()
        # the new facts, and the remembered ones they ended (a switch's `supersedes`)
        touched = {f.identity for f in new} | {(f.kind, v) for f in new for v in f.supersedes + f.retracts}
        for fact in merged:
            if fact.identity not in touched:
                continue
            key = (fact.kind, _identity_value(fact.kind, fact.value))
            row = rows.get(key)
            if row is None:
                fact = replace(fact, id=str(uuid.uuid4()))
                session.add(FactRow(id=fact.id, patient_pk=patient.pk, kind=fact.kind, identity_value=key[1],
                                    value=fact.value, status=fact.status, source_message_id=fact.source_message_id,
                                    observed_at=fact.observed_at, evidence=fact.evidence, extractor=fact.extractor,
                                    updated_at=now))
                self._log_change(session, patient.pk, fact.id, "create", actor, actor_role, reason, None, fact, now)
            else:
                before = _fact_from_row(row)
                fact = replace(fact, id=row.id)
                if before == fact:
                    continue
                row.value, row.status, row.source_message_id = fact.value, fact.status, fact.source_message_id
                row.observed_at, row.evidence, row.extractor, row.updated_at = (fact.observed_at, fact.evidence,
                                                                                fact.extractor, now)
                self._log_change(session, patient.pk, row.id, "update", actor, actor_role, reason, before, fact, now)
        patient.updated_at = now
        session.flush()
        return self._facts(session, patient.pk)

    @staticmethod
    def _log_change(session: Session, patient_pk: int, fact_id: str, action: str, actor: str, role: str,
                    reason: str, before: Fact | None, after: Fact | None, when: str) -> None:
        session.add(FactChangeRow(patient_pk=patient_pk, fact_id=fact_id, action=action, actor=actor,
                                  actor_role=role, reason=reason, before=_fact_json(before),
                                  after=_fact_json(after), changed_at=when))

    def _fact_for_write(self, session: Session, tenant: str, patient_id: str,
                        fact_id: str) -> tuple[PatientRow, FactRow]:
        """The patient (locked for the write) and its fact `fact_id`; FactNotFound for a fact of anyone else."""
        patient = self._patient_for_write(session, tenant, patient_id, create=False)
        row = session.scalars(select(FactRow).where(FactRow.patient_pk == patient.pk,
                                                    FactRow.id == fact_id)).one_or_none()
        if row is None:
            raise FactNotFound(f"no fact {fact_id!r} for patient {patient_id!r}")
        return patient, row

    def correct_fact(self, tenant: str, patient_id: str, fact_id: str, *, actor: str, actor_role: ActorRole,
                     value: str | None = None, status: str | None = None, reason: str = "") -> Fact:
        """A patient or clinician corrects a remembered fact; recorded with who and when. The corrected fact's
        provenance becomes the correction (extractor "manual", observed now)."""
        check_actor(actor)

        def work(session: Session) -> Fact:
            patient, row = self._fact_for_write(session, tenant, patient_id, fact_id)
            before = _fact_from_row(row)
            after = replace(before, value=before.value if value is None else value,
                            status=before.status if status is None else status, extractor="manual",
                            observed_at=utcnow(), source_message_id=None, evidence=reason)
            check_fact(after)
            identity = _identity_value(after.kind, after.value)
            clash = session.scalars(select(FactRow.id).where(
                FactRow.patient_pk == patient.pk, FactRow.kind == after.kind, FactRow.identity_value == identity,
                FactRow.id != row.id)).first()
            if clash is not None:
                raise FactConflict(f"patient {patient_id!r} already has a {after.kind} fact {after.value!r} "
                                   f"(id {clash}); correct or delete that one")
            row.value, row.identity_value, row.status = after.value, identity, after.status
            row.extractor, row.observed_at, row.source_message_id, row.evidence = ("manual", after.observed_at,
                                                                                   None, reason)
            row.updated_at = after.observed_at
            self._log_change(session, patient.pk, row.id, "update", actor, actor_role, reason, before, after,
                             after.observed_at)
            return after
        return self._retrying(work)

    def delete_fact(self, tenant: str, patient_id: str, fact_id: str, *, actor: str, actor_role: ActorRole,
                    reason: str = "") -> Fact:
        """Remove a wrongly remembered fact (the change log keeps who deleted what and when)."""
        check_actor(actor)

        def work(session: Session) -> Fact:
            patient, row = self._fact_for_write(session, tenant, patient_id, fact_id)
            before = _fact_from_row(row)
            session.delete(row)
            self._log_change(session, patient.pk, fact_id, "delete", actor, actor_role, reason, before, None,
                             utcnow())
            return before
        return self._retrying(work)

    def fact_changes(self, tenant: str, patient_id: str, fact_id: str | None = None) -> list[FactChange]:
        with self._reading() as session:
            patient = self._patient(session, tenant, patient_id)
            query = select(FactChangeRow).where(FactChangeRow.patient_pk == patient.pk)
            if fact_id is not None:
                query = query.where(FactChangeRow.fact_id == fact_id)
            return [FactChange(r.fact_id, r.action, r.actor, r.actor_role, r.reason, _fact_from_json(r.before),
                               _fact_from_json(r.after), r.changed_at)
                    for r in session.scalars(query.order_by(FactChangeRow.id))]

    # -- sessions, turns, summaries, findings ------------------------------------------------------------------------

    def sessions(self, tenant: str, patient_id: str) -> list[SessionInfo]:
        with self._reading() as session:
            patient = self._patient(session, tenant, patient_id)
            counts = (select(TurnRow.session_pk, func.count().label("n")).group_by(TurnRow.session_pk)
                      .subquery())
            rows = session.execute(select(SessionRow, counts.c.n).outerjoin(counts, counts.c.session_pk ==
                                                                            SessionRow.pk)
                                   .where(SessionRow.patient_pk == patient.pk).order_by(SessionRow.created_at,
                                                                                        SessionRow.pk))
            return [SessionInfo(s.external_id, s.created_at, s.updated_at, n or 0) for s, n in rows]

    def turns(self, tenant: str, patient_id: str, session_id: str, after_seq: int = 0,
              limit: int | None = None) -> list[TurnRecord]:
        """A session's turns in order (the newest `limit` of those after `after_seq`)."""
        with self._reading() as session:
            patient = self._patient(session, tenant, patient_id)
            return self._turns(session, patient.pk, session_id, after_seq, limit)

    @staticmethod
    def _turns(session: Session, patient_pk: int, session_id: str, after_seq: int = 0,
               limit: int | None = None) -> list[TurnRecord]:
        query = (select(TurnRow).join(SessionRow, SessionRow.pk == TurnRow.session_pk)
                 .where(SessionRow.patient_pk == patient_pk, SessionRow.external_id == session_id,
                        TurnRow.seq > after_seq).order_by(TurnRow.seq.desc()))
        if limit is not None:
            query = query.limit(limit)
        rows = list(session.scalars(query))[::-1]
        return [TurnRecord(session_id, r.seq, r.message_id, r.user_text, r.assistant_text, r.created_at,
                           json.loads(r.meta or "{}")) for r in rows]

    def summary(self, tenant: str, patient_id: str, session_id: str) -> SessionSummary | None:
        with self._reading() as session:
            patient = self._patient(session, tenant, patient_id)
            return self._summary(session, patient.pk, session_id)

    @staticmethod
    def _summary(session: Session, patient_pk: int, session_id: str) -> SessionSummary | None:
        row = session.scalars(select(SummaryRow).join(SessionRow, SessionRow.pk == SummaryRow.session_pk)
                              .where(SessionRow.patient_pk == patient_pk, SessionRow.external_id == session_id)
                              ).one_or_none()
        return None if row is None else SessionSummary(session_id, row.text, row.covers_through, row.updated_at)

    def findings(self, tenant: str, patient_id: str, session_id: str | None = None) -> list[StoredFinding]:
        with self._reading() as session:
            patient = self._patient(session, tenant, patient_id)
            query = (select(FindingRow, TurnRow.seq, SessionRow.external_id)
                     .join(TurnRow, TurnRow.id == FindingRow.turn_id)
                     .join(SessionRow, SessionRow.pk == TurnRow.session_pk)
                     .where(FindingRow.patient_pk == patient.pk))
            if session_id is not None:
                query = query.where(SessionRow.external_id == session_id)
            return [StoredFinding(seq, sid, f.drug, f.rule, f.fact_value, f.source_message_id, json.loads(f.detail))
                    for f, seq, sid in session.execute(query.order_by(FindingRow.id))]

    def erase_patient(self, tenant: str, patient_id: str) -> dict[str, int]:
        """Right to erasure: delete every row of the patient (facts, change log, sessions, turns, summaries,
        findings, the patient). Returns the number of rows deleted per table. Unknown patient: PatientNotFound."""

        def work(session: Session) -> dict[str, int]:
            patient = self._patient_for_write(session, tenant, patient_id, create=False)
            counts = {}
            # children first and explicitly: correct even where the database does not enforce the cascades
            for model in (FindingRow, SummaryRow, TurnRow, SessionRow, FactChangeRow, FactRow):
                result = session.execute(delete(model).where(model.patient_pk == patient.pk))
                counts[model.__tablename__] = result.rowcount
            session.execute(delete(PatientRow).where(PatientRow.pk == patient.pk))
            counts["patients"] = 1
            return counts
        return self._retrying(work)

    def scrub_after_erasure(self, tables: Sequence[str]) -> str:
        """After an erasure's deletes: leave no copy of the deleted rows in the database's files where the engine
        allows it. Returns what was done, for the erasure report.

        SQLite: every connection runs with `secure_delete=ON`, so deleted cells and freed pages are zeroed in the
        pages the delete wrote; those pages sit in the `-wal` file, next to older frames still holding the rows. A
        `wal_checkpoint(TRUNCATE)` copies the zeroed pages into the main file and truncates the `-wal` to 0 bytes.
        PostgreSQL: `VACUUM` of the erased tables marks the dead tuples' space free for reuse and prunes their
        index entries; it does NOT overwrite the bytes, and the write-ahead log, replicas and backups keep them
        until they are recycled (docs/api.md, "Erasure")."""
        if self.is_sqlite:
            with self._writer_lock:
                for _ in range(50):   # a reader holding an old snapshot makes the checkpoint busy: wait it out
                    with self.engine.connect() as conn:
                        busy, _log, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
                    if not busy:
                        return "sqlite: secure_delete, wal_checkpoint(TRUNCATE)"
                    time.sleep(0.1)
            raise MemoryStoreError("erasure: the SQLite WAL could not be checkpointed (a reader kept it busy for 5 s); "
                                   "the rows are deleted, run the erasure again to truncate the WAL")
        from sqlalchemy import inspect as sa_inspect

        present = set(sa_inspect(self.engine).get_table_names())
        vacuumed = [t for t in tables if t in present]
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in vacuumed:   # VACUUM cannot run inside a transaction block
                conn.exec_driver_sql(f'VACUUM "{table}"')
        return f"{self.url.get_backend_name()}: VACUUM {', '.join(vacuumed)}"

    @contextmanager
    def turn(self, tenant: str, patient_id: str, session_id: str, create_patient: bool = True,
             message_id: str | None = None) -> Iterator[MemoryTurn]:
        """One turn's unit of work (`medq.agent.memory.unit`): a snapshot now, the turn's writes in one transaction
        when the block exits normally. `create_patient=False` makes an unknown patient PatientNotFound."""
        check_id("patient id", patient_id)
        check_id("session id", session_id)
        with self._reading() as session:
            if session.get(TenantRow, tenant) is None:
                raise PatientNotFound(f"no tenant {tenant!r}")
            patient = self._find_patient(session, tenant, patient_id)
            if patient is None and not create_patient:
                raise PatientNotFound(f"no patient {patient_id!r} in tenant {tenant!r}")
            facts = self._facts(session, patient.pk) if patient else []
            summary = self._summary(session, patient.pk, session_id) if patient else None
            recent = (self._turns(session, patient.pk, session_id, summary.covers_through if summary else 0,
                                  self.recent_turns) if patient else [])
        turn = MemoryTurn(tenant, patient_id, session_id, facts, summary, recent, message_id or uuid.uuid4().hex,
                          may_create=patient is None)
        yield turn
        self._commit(turn)

    def _commit(self, turn: MemoryTurn) -> None:
        """Write what a turn buffered in one transaction, under the patient lock: its facts merged into those
        stored now, the turn, its findings and the summary. Sets `turn.seq` and `turn.committed_facts`."""
        if not turn.has_writes():
            return  # nothing to remember: do not even create the patient

        def work(session: Session) -> None:
            patient = self._patient_for_write(session, turn.tenant, turn.patient_id, create=turn.may_create)
            # the change log's actor for facts a turn read from a message: "agent:rules", "agent:llm", ...
            actor = "agent:" + ",".join(sorted({f.extractor for f in turn.new_facts}))
            if turn.new_facts:
                self._merge_into(session, patient, turn.new_facts, actor, "agent", f"message {turn.message_id}")
            if turn.confirmed:
                # the dispute ends only now, by the patient, in a later message than the one that raised it
                disputed_in = {f.identity: f.source_message_id for f in turn.stored_facts if f.status == "disputed"}
                for fact in turn.confirmed:
                    self._merge_into(session, patient, [fact], f"patient:{turn.patient_id}", "patient",
                                     f"the patient confirmed in message {turn.message_id} the revocation disputed "
                                     f"in message {disputed_in.get(fact.identity)}")
            turn.committed_facts = self._facts(session, patient.pk)
            if turn.recorded is None:
                return
            chat = session.scalars(select(SessionRow).where(SessionRow.patient_pk == patient.pk,
                                                            SessionRow.external_id == turn.session_id)
                                   ).one_or_none()
            now = utcnow()
            if chat is None:
                chat = SessionRow(patient_pk=patient.pk, external_id=turn.session_id, created_at=now)
                session.add(chat)
                session.flush()
            chat.updated_at = now
            seq = (session.scalar(select(func.max(TurnRow.seq)).where(TurnRow.session_pk == chat.pk)) or 0) + 1
            user_text, assistant_text, meta = turn.recorded
            row = TurnRow(session_pk=chat.pk, patient_pk=patient.pk, seq=seq, message_id=turn.message_id,
                          user_text=user_text, assistant_text=assistant_text,
                          meta=json.dumps(meta, ensure_ascii=False, default=str), created_at=now)
            session.add(row)
            session.flush()
            for finding in turn.findings:
                session.add(FindingRow(turn_id=row.id, patient_pk=patient.pk, **finding))
            if turn.new_summary is not None:
                text, covers = turn.new_summary
                summary = session.get(SummaryRow, chat.pk)
                if summary is None:
                    session.add(SummaryRow(session_pk=chat.pk, patient_pk=patient.pk, text=text,
                                           covers_through=covers, updated_at=now))
                else:
                    summary.text, summary.covers_through, summary.updated_at = text, covers, now
            turn.seq = seq
        self._retrying(work)
