"""The chat app's own database: Chainlit's SQLAlchemy data layer tables (threads, steps, elements, feedbacks, users),
their Alembic history, and the erasure of one patient's rows.

The database is the app's alone (`ui.database_url`; never the API's). Its schema has its own Alembic history
(`medq/ui/migrations`, version table `medq_ui_alembic_version`), applied by `python -m medq.ui run` / `check`
before Chainlit starts. Chainlit ships no DDL, so the tables are declared here, portable across SQLite and
PostgreSQL (JSON kept as text, ids as text). The known SQLite problem: Chainlit binds `tags` as a Python list, which
only PostgreSQL's ARRAY accepts — on SQLite the whole insert fails ("type 'list' is not supported"). So this app
never sets thread or step tags, and the column is plain text; use PostgreSQL if you need tags.

Each thread's metadata carries `medq_tenant`, `medq_patient_id` and `medq_session_id` (the API's session id = the
thread id), and each login's metadata `medq_tenant`: that is how `erase_patient` finds a patient's rows when the
API's erasure calls the app (`POST /medq/erasure`, medq/ui/app.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Column, Integer, MetaData, Table, Text, create_engine, delete, event, select
from sqlalchemy.engine import Engine, make_url

VERSION_TABLE = "medq_ui_alembic_version"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

metadata = MetaData()
users = Table("users", metadata,
              Column("id", Text, primary_key=True), Column("identifier", Text, nullable=False, unique=True),
              Column("metadata", Text, nullable=False), Column("createdAt", Text))
threads = Table("threads", metadata,
                Column("id", Text, primary_key=True), Column("createdAt", Text), Column("name", Text),
                Column("userId", Text, index=True), Column("userIdentifier", Text), Column("tags", Text),
                Column("metadata", Text))
steps = Table("steps", metadata,
              Column("id", Text, primary_key=True), Column("name", Text, nullable=False),
              Column("type", Text, nullable=False), Column("threadId", Text, nullable=False, index=True),
              Column("parentId", Text), Column("streaming", Boolean), Column("waitForAnswer", Boolean),
              Column("isError", Boolean), Column("metadata", Text), Column("tags", Text), Column("input", Text),
              Column("output", Text), Column("createdAt", Text), Column("command", Text), Column("start", Text),
              Column("end", Text), Column("generation", Text), Column("showInput", Text), Column("language", Text),
              Column("indent", Integer), Column("defaultOpen", Boolean), Column("autoCollapse", Boolean))
elements = Table("elements", metadata,
                 Column("id", Text, primary_key=True), Column("threadId", Text, index=True), Column("type", Text),
                 Column("url", Text), Column("chainlitKey", Text), Column("name", Text, nullable=False),
                 Column("display", Text), Column("objectKey", Text), Column("size", Text), Column("page", Integer),
                 Column("language", Text), Column("forId", Text), Column("mime", Text), Column("props", Text),
                 Column("autoPlay", Boolean), Column("playerConfig", Text))
feedbacks = Table("feedbacks", metadata,
                  Column("id", Text, primary_key=True), Column("forId", Text, nullable=False, index=True),
                  Column("threadId", Text, nullable=False), Column("value", Integer, nullable=False),
                  Column("comment", Text))
TABLES = ("threads", "steps", "elements", "feedbacks", "users")


def _driver_url(url: str, drivers: dict[str, str]) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = drivers.get(backend)
    if driver is None:
        raise ValueError(f"ui.database_url {parsed.render_as_string(hide_password=True)!r}: only SQLite and "
                         f"PostgreSQL are supported")
    return parsed.set(drivername=f"{backend}+{driver}" if driver else backend).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """Chainlit's data layer is async: sqlite -> sqlite+aiosqlite, postgresql -> postgresql+psycopg (async mode)."""
    return _driver_url(url, {"sqlite": "aiosqlite", "postgresql": "psycopg"})


def sync_url(url: str) -> str:
    """Migrations and erasure run synchronously: sqlite (pysqlite), postgresql+psycopg."""
    return _driver_url(url, {"sqlite": "", "postgresql": "psycopg"})


def open_engine(url: str) -> Engine:
    """A synchronous engine on the app's database. SQLite connections delete securely (freed cells are zeroed), so
    an erased row leaves no copy in the pages its delete wrote."""
    engine = create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()
    return engine


def migrate(url: str, revision: str = "head") -> None:
    """Bring the app's database to `revision` with its own Alembic history (not the agent's)."""
    from alembic import command
    from alembic.config import Config

    from medq.errors import MedqError
    from sqlalchemy.exc import OperationalError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = open_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727275)")   # 'medq' chat app migrations
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise MedqError(f"ui.database_url {engine.url.render_as_string(hide_password=True)}: cannot open the chat "
                        f"app's database: {str(exc.orig).splitlines()[0]}") from None
    finally:
        engine.dispose()


def _meta(value: Any) -> dict[str, Any]:
    try:
        meta = json.loads(value) if isinstance(value, str) else (value or {})
    except json.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def erase_patient(engine: Engine, tenant: str, patient_id: str,
                  record: dict[str, set[str]] | None = None) -> dict[str, int]:
    """Every row of this patient in the app's database, in one transaction: the threads tagged with this tenant and
    patient (`medq_tenant`, `medq_patient_id` in their metadata) or owned by the patient's login, their steps,
    elements and feedback, and the login's user row (the username is the patient id; its metadata's `medq_tenant`
    says whose it is; a login without that key counts if it owns one of the tagged threads). Idempotent: a second
    call deletes nothing. Returns rows deleted per table; `record`, if given, gets the erased thread and user ids
    added under "threads" and "users" (so the running app can refuse a live session's late writes)."""
    with engine.begin() as conn:
        logins = [(uid, _meta(meta)) for uid, meta in conn.execute(
            select(users.c.id, users.c.metadata).where(users.c.identifier == patient_id))]
        rows = conn.execute(select(threads.c.id, threads.c.metadata, threads.c.userId)).all()
        tagged = {thread_id for thread_id, meta, _ in rows
                  if _meta(meta).get("medq_tenant") == tenant and _meta(meta).get("medq_patient_id") == patient_id}
        owners = {user_id for thread_id, _, user_id in rows if thread_id in tagged}
        user_ids = [uid for uid, meta in logins
                    if meta.get("medq_tenant") == tenant or ("medq_tenant" not in meta and uid in owners)]
        ids = sorted(tagged | {thread_id for thread_id, _, user_id in rows if user_id in user_ids})
        step_ids = select(steps.c.id).where(steps.c.threadId.in_(ids))
        counts = {
            "feedbacks": conn.execute(delete(feedbacks).where(
                feedbacks.c.threadId.in_(ids) | feedbacks.c.forId.in_(step_ids))).rowcount,
            "elements": conn.execute(delete(elements).where(elements.c.threadId.in_(ids))).rowcount,
            "steps": conn.execute(delete(steps).where(steps.c.threadId.in_(ids))).rowcount,
            "threads": conn.execute(delete(threads).where(threads.c.id.in_(ids))).rowcount,
            "users": conn.execute(delete(users).where(users.c.id.in_(user_ids))).rowcount,
        }
    if record is not None:
        record.setdefault("threads", set()).update(ids)
        record.setdefault("users", set()).update(user_ids)
    return counts


def scrub(engine: Engine) -> str:
    """After an erasure's deletes: leave no copy of the deleted rows in the database's files where the engine allows
    it. Returns what was done, for the erasure report.

    SQLite: `VACUUM` rebuilds the file from the live rows only (Chainlit's own connections do not delete securely, so
    older versions of a streamed step may sit in free space), then `wal_checkpoint(TRUNCATE)` empties a `-wal`.
    PostgreSQL: `VACUUM` of the app's tables marks the dead tuples' space free and prunes their index entries; it
    does NOT overwrite the bytes, and the write-ahead log, replicas and backups keep them until they are recycled."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("VACUUM")
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
            if busy:
                from medq.errors import MedqError

                raise MedqError("chat app erasure: the SQLite WAL could not be checkpointed (a reader kept it busy); "
                                "the rows are deleted, run the erasure again to truncate the WAL")
            return "sqlite: secure_delete, VACUUM, wal_checkpoint(TRUNCATE)"
        for table in TABLES:   # VACUUM cannot run inside a transaction block
            conn.exec_driver_sql(f'VACUUM "{table}"')
    return f"{engine.dialect.name}: VACUUM {', '.join(TABLES)}"
