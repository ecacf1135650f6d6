"""The chat app's own database (medq/ui/data_layer.py) on SQLite and a real PostgreSQL: its own Alembic history
(version table `medq_ui_alembic_version`, never the agent's), and the erasure of one patient's rows as Chainlit
stores them (threads tagged with tenant and patient, their steps, elements and feedback, the login's user row),
which the API's erasure reaches over HTTP (tests/api/test_erasure_files.py, tests/ui/test_browser.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from medq.ui.data_layer import TABLES, erase_patient, metadata, migrate, open_engine, scrub
from tests.agent.postgres_server import postgres_server, postgres_url  # noqa: F401

pytestmark = pytest.mark.postgres   # the PostgreSQL half picks its server at run time
SENTENCE = "我对磺胺类药物过敏，住在梧桐街十七号。"


@pytest.fixture(params=["sqlite", "postgresql"])
def ui_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/chat.db"
    return request.getfixturevalue("postgres_url")


def add_thread(conn, thread_id: str, tenant: str, patient: str, user_id: str | None = None, words: str = "x") -> None:
    """A thread as Chainlit's data layer and medq.ui store it: metadata tags, a step, an element, a feedback."""
    conn.execute(text('INSERT INTO threads ("id", "createdAt", "name", "userId", "userIdentifier", "metadata") '
                      'VALUES (:i, :c, :n, :u, :p, :m)'),
                 {"i": thread_id, "c": "2026-01-01", "n": words[:10], "u": user_id, "p": patient,
                  "m": json.dumps({"medq_tenant": tenant, "medq_patient_id": patient, "medq_session_id": thread_id})})
    conn.execute(text('INSERT INTO steps ("id", "name", "type", "threadId", "output") VALUES (:s, :n, :t, :i, :o)'),
                 {"s": f"step-{thread_id}", "n": "user", "t": "user_message", "i": thread_id, "o": words})
    conn.execute(text('INSERT INTO elements ("id", "threadId", "name", "forId") VALUES (:e, :i, :n, :s)'),
                 {"e": f"el-{thread_id}", "i": thread_id, "n": "evidence", "s": f"step-{thread_id}"})
    conn.execute(text('INSERT INTO feedbacks ("id", "forId", "threadId", "value", "comment") '
                      'VALUES (:f, :s, :i, 1, :c)'),
                 {"f": f"fb-{thread_id}", "s": f"step-{thread_id}", "i": thread_id, "c": words})


def add_user(conn, user_id: str, identifier: str, meta: dict) -> None:
    conn.execute(text('INSERT INTO users ("id", "identifier", "metadata", "createdAt") VALUES (:i, :p, :m, :c)'),
                 {"i": user_id, "p": identifier, "m": json.dumps(meta), "c": "2026-01-01"})


def test_own_migration_history_matches_the_tables(ui_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    migrate(ui_url)
    migrate(ui_url)   # again: nothing to do, no error
    engine = open_engine(ui_url)
    try:
        names = set(inspect(engine).get_table_names())
        assert names == {*TABLES, "medq_ui_alembic_version"}, names   # no agent tables, not the agent's history
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": "medq_ui_alembic_version"})
            assert context.get_current_revision() == "0001"
            assert compare_metadata(context, metadata) == []   # the migration creates exactly the declared tables
    finally:
        engine.dispose()


def test_erase_patient_deletes_that_patients_rows_of_that_tenant_only(ui_url):
    migrate(ui_url)
    engine = open_engine(ui_url)
    try:
        with engine.begin() as conn:
            add_user(conn, "u-1", "erase-me", {"role": "patient", "medq_tenant": "tenant-a"})
            add_thread(conn, "th-1", "tenant-a", "erase-me", "u-1", SENTENCE)
            add_thread(conn, "th-1b", "tenant-a", "erase-me", None)             # tagged only (no owner yet)
            add_thread(conn, "th-2", "tenant-b", "erase-me")                    # the same id in another tenant
            add_thread(conn, "th-3", "tenant-a", "keep-me")
            add_user(conn, "u-2", "legacy", {"role": "patient"})                # a login written before the tag
            add_thread(conn, "th-4", "tenant-a", "legacy", "u-2")
            add_user(conn, "u-3", "other-tenant", {"medq_tenant": "tenant-b"})  # a login of another tenant
        if engine.dialect.name == "sqlite":   # the scan below can see the words (so "gone" means something)
            assert SENTENCE.encode() in Path(engine.url.database).read_bytes()
        counts = erase_patient(engine, "tenant-a", "erase-me")
        assert counts == {"feedbacks": 2, "elements": 2, "steps": 2, "threads": 2, "users": 1}, counts
        assert erase_patient(engine, "tenant-a", "erase-me") == dict.fromkeys(counts, 0)   # idempotent
        assert erase_patient(engine, "tenant-a", "legacy")["users"] == 1           # owner of a tagged thread
        assert erase_patient(engine, "tenant-a", "other-tenant")["users"] == 0     # not this tenant's login
        with engine.connect() as conn:
            assert sorted(r[0] for r in conn.execute(text('SELECT "id" FROM threads'))) == ["th-2", "th-3"]
            assert sorted(r[0] for r in conn.execute(text('SELECT "threadId" FROM steps'))) == ["th-2", "th-3"]
            assert sorted(r[0] for r in conn.execute(text('SELECT "threadId" FROM elements'))) == ["th-2", "th-3"]
            assert sorted(r[0] for r in conn.execute(text('SELECT "threadId" FROM feedbacks'))) == ["th-2", "th-3"]
            assert [r[0] for r in conn.execute(text('SELECT "identifier" FROM users'))] == ["other-tenant"]
        done = scrub(engine)
        if engine.dialect.name == "sqlite":
            assert done == "sqlite: secure_delete, VACUUM, wal_checkpoint(TRUNCATE)"
            files = [p for p in Path(engine.url.database).parent.iterdir() if p.name.startswith("chat.db")]
            assert files and not [p.name for p in files if SENTENCE.encode() in p.read_bytes()]
        else:
            assert done == "postgresql: VACUUM threads, steps, elements, feedbacks, users"
    finally:
        engine.dispose()


def test_an_unsupported_database_is_named():
    with pytest.raises(ValueError, match=r"ui.database_url 'mysql://u@h/db': only SQLite and PostgreSQL"):
        migrate("mysql://u@h/db")
