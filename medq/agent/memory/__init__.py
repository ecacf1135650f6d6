"""The agent's persisted patient memory, one job per module:

- `schema`: the tables (SQLAlchemy ORM) and Alembic's version table; `medq/agent/migrations/` must match them.
- `records`: what the store returns (`TurnRecord`, `SessionSummary`, `FactChange`, ...), its errors
  (`PatientNotFound`, `InvalidMemoryInput`, ...) and the checks on what it is given.
- `unit`: `MemoryTurn`, one turn's unit of work: a snapshot read at the start, writes buffered until the end, the
  confirmation policy for revoked safety-critical facts.
- `store`: `EntityMemoryStore`, the only module that talks to the database: migrations, transactions and locks,
  facts and their change log, sessions, turns, summaries, findings, erasure, and the write of a turn.

Import from the module that owns a name (`from medq.agent.memory.store import EntityMemoryStore`); this package
re-exports nothing. Deciding when to summarise (the token budget) is summary memory: `medq.agent.summary`.
"""
