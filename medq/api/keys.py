"""API keys: each belongs to one tenant; only a hash is stored, the key itself is printed once at creation.

Keys are 256-bit random tokens, so a plain SHA-256 is enough (a slow password hash defends low-entropy secrets,
and would cost every request a few hundred milliseconds). The table lives in the API's database, next to memory.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, select, update
from sqlalchemy.engine import Engine

from medq.errors import MedqError

KEY_PREFIX = "mq-"
metadata = MetaData()
api_keys = Table(
    "medq_api_keys", metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("key_id", String(16), nullable=False, unique=True),   # shown in logs instead of the key
    Column("tenant", String(128), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    tenant: str


def make_engine(url: str) -> Engine:
    """SQLite gets WAL and a busy timeout so several API workers can share the file."""
    if url.startswith("sqlite"):
        from pathlib import Path

        from sqlalchemy import event
        from sqlalchemy.engine import make_url

        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_connection, _record):  # noqa: ANN001
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
        return engine
    return create_engine(url, pool_pre_ping=True)


class ApiKeyStore:
    def __init__(self, url: str | None = None, engine: Engine | None = None):
        if engine is None and url is None:
            raise MedqError("ApiKeyStore needs a database URL (api.database_url)")
        self.engine = engine or make_engine(url)
        metadata.create_all(self.engine)

    def create(self, tenant: str) -> str:
        """A new key for `tenant`; returns the key (the only time it exists in clear)."""
        from medq.ids import MAX_TENANT_CHARS, check_id

        check_id("--tenant", tenant, MAX_TENANT_CHARS)   # the memory store would refuse it on the first request
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(api_keys.insert().values(key_hash=hash_key(key), key_id=secrets.token_hex(6), tenant=tenant,
                                                  created_at=datetime.now(timezone.utc)))
        return key

    def lookup(self, key: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys.c.key_id, api_keys.c.tenant)
                               .where(api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None))).first()
        return ApiKey(row.key_id, row.tenant) if row else None

    def revoke(self, key_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                                  .values(revoked_at=datetime.now(timezone.utc)))
        return result.rowcount > 0

    def list(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(api_keys.c.key_id, api_keys.c.tenant, api_keys.c.created_at,
                                       api_keys.c.revoked_at).order_by(api_keys.c.created_at)).all()
        return [dict(r._mapping) for r in rows]
