"""Chainlit's own SQLAlchemy data layer on the API's database (threads, steps, elements, feedback, users).

Chainlit ships no DDL for it, so the tables are created here, in code, portable across SQLite and PostgreSQL (JSON
kept as text, ids as text). The known SQLite problem: Chainlit binds `tags` as a Python list, which only
PostgreSQL's ARRAY accepts — on SQLite the whole insert fails ("type 'list' is not supported"). So this app never
sets thread or step tags, and the column is plain text; use PostgreSQL if you need tags.

The API's erasure deletes a patient's threads through the `medq_tenant` / `medq_patient_id` keys of a thread's
metadata, which the app writes when a conversation starts.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, MetaData, Table, Text
from sqlalchemy.engine import Engine, make_url

metadata = MetaData()
Table("users", metadata,
      Column("id", Text, primary_key=True), Column("identifier", Text, nullable=False, unique=True),
      Column("metadata", Text, nullable=False), Column("createdAt", Text))
Table("threads", metadata,
      Column("id", Text, primary_key=True), Column("createdAt", Text), Column("name", Text),
      Column("userId", Text, index=True), Column("userIdentifier", Text), Column("tags", Text),
      Column("metadata", Text))
Table("steps", metadata,
      Column("id", Text, primary_key=True), Column("name", Text, nullable=False), Column("type", Text, nullable=False),
      Column("threadId", Text, nullable=False, index=True), Column("parentId", Text), Column("streaming", Boolean),
      Column("waitForAnswer", Boolean), Column("isError", Boolean), Column("metadata", Text), Column("tags", Text),
      Column("input", Text), Column("output", Text), Column("createdAt", Text), Column("command", Text),
      Column("start", Text), Column("end", Text), Column("generation", Text), Column("showInput", Text),
      Column("language", Text), Column("indent", Integer), Column("defaultOpen", Boolean),
      Column("autoCollapse", Boolean))
Table("elements", metadata,
      Column("id", Text, primary_key=True), Column("threadId", Text, index=True), Column("type", Text),
      Column("url", Text), Column("chainlitKey", Text), Column("name", Text, nullable=False), Column("display", Text),
      Column("objectKey", Text), Column("size", Text), Column("page", Integer), Column("language", Text),
      Column("forId", Text), Column("mime", Text), Column("props", Text), Column("autoPlay", Boolean),
      Column("playerConfig", Text))
Table("feedbacks", metadata,
      Column("id", Text, primary_key=True), Column("forId", Text, nullable=False, index=True),
      Column("threadId", Text, nullable=False), Column("value", Integer, nullable=False), Column("comment", Text))


def create_chainlit_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def async_url(url: str) -> str:
    """Chainlit's data layer is async: sqlite -> sqlite+aiosqlite, postgresql -> postgresql+psycopg (async mode)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = {"sqlite": "aiosqlite", "postgresql": "psycopg"}.get(backend)
    if driver is None:
        raise ValueError(f"ui.database_url {url!r}: only SQLite and PostgreSQL are supported")
    return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)
