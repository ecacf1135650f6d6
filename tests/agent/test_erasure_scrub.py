"""`EntityMemoryStore.scrub_after_erasure` on both databases (issue 16, finding 6): SQLite checkpoints and truncates
the WAL (deleted rows zeroed by secure_delete); PostgreSQL VACUUMs the erased tables. The API's byte-level check of
the SQLite files is tests/api/test_erasure_files.py."""

from __future__ import annotations

from pathlib import Path

from medq.agent.facts import Fact
from medq.agent.memory.store import EntityMemoryStore

from tests.agent.postgres_server import memory_url, postgres_server, postgres_url  # noqa: F401

SENTENCE = "我对磺胺类药物过敏，住在梧桐街十七号。"


def _fill_and_erase(store: EntityMemoryStore) -> str:
    tenant = store.default_tenant
    with store.turn(tenant, "p-scrub", "s1", create_patient=True) as turn:
        turn.add_facts([Fact("allergy", "磺胺类", evidence=SENTENCE)])
        turn.record(SENTENCE, "好的。", {})
    counts = store.erase_patient(tenant, "p-scrub")
    return store.scrub_after_erasure([name for name in counts if name != "patients"] + ["patients", "threads"])


def test_scrub_after_erasure(memory_url):
    from sqlalchemy import text

    store = EntityMemoryStore(memory_url)
    try:
        done = _fill_and_erase(store)
        if store.is_sqlite:
            assert done == "sqlite: secure_delete, wal_checkpoint(TRUNCATE)"
            db = Path(store.url.database)
            wal = db.with_name(db.name + "-wal")
            assert not wal.exists() or wal.stat().st_size == 0
            assert SENTENCE.encode() not in db.read_bytes()
        else:
            # every erased table that exists was vacuumed ("threads" does not exist here: skipped, no error)
            assert done.startswith("postgresql: VACUUM ") and "threads" not in done
            assert {"facts", "turns", "patients"} <= set(done.split(": VACUUM ")[1].split(", "))
            with store.engine.connect() as conn:
                conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
                rows = dict(conn.execute(text("SELECT relname, vacuum_count FROM pg_stat_user_tables "
                                              "WHERE relname IN ('facts', 'turns')")).all())
            assert rows == {"facts": 1, "turns": 1}, rows
    finally:
        store.close()
