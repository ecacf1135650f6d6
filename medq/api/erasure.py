"""Erasure beyond the memory store: the chat app's threads and login (Chainlit's tables in the same database) and the
MLflow traces of the patient's turns. Each returns how many it deleted; a missing table or tracking store counts 0.
The memory store then scrubs the database files (`EntityMemoryStore.scrub_after_erasure`)."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

log = logging.getLogger("medq.api")


CHAT_TABLES = ("threads", "steps", "elements", "feedbacks", "users")


def _meta(value: Any) -> dict[str, Any]:
    try:
        meta = json.loads(value) if isinstance(value, str) else (value or {})
    except json.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def erase_chat_threads(engine: Engine, tenant: str, patient_id: str) -> tuple[int, int]:
    """The chat app's data of this patient: threads tagged with this tenant and patient in their metadata (medq.ui
    writes {"medq_tenant", "medq_patient_id"}) or owned by the patient's login, with their steps, elements and
    feedback, and the login's user row (the username is the patient id; medq.ui writes `medq_tenant` into the
    user's metadata). Returns (threads, users) deleted."""
    if "threads" not in inspect(engine).get_table_names():
        return 0, 0
    with engine.begin() as conn:
        users = [(uid, _meta(meta)) for uid, meta in conn.execute(
            text('SELECT "id", "metadata" FROM users WHERE "identifier" = :p'), {"p": patient_id})]
        rows = conn.execute(text('SELECT "id", "metadata", "userId" FROM threads')).all()
        tagged = {thread_id for thread_id, metadata, _ in rows
                  if _meta(metadata).get("medq_tenant") == tenant and _meta(metadata).get("medq_patient_id") == patient_id}
        # the login is this tenant's if its metadata says so, or (rows written before it did) if it owns a thread
        # tagged with this tenant and patient
        owners = {user_id for thread_id, _, user_id in rows if thread_id in tagged}
        user_ids = [uid for uid, meta in users
                    if meta.get("medq_tenant") == tenant or ("medq_tenant" not in meta and uid in owners)]
        ids = sorted(tagged | {thread_id for thread_id, _, user_id in rows if user_id in user_ids})
        for thread_id in ids:
            params = {"id": thread_id}
            conn.execute(text('DELETE FROM feedbacks WHERE "forId" IN (SELECT "id" FROM steps WHERE "threadId" = :id)'),
                         params)
            conn.execute(text('DELETE FROM elements WHERE "threadId" = :id'), params)
            conn.execute(text('DELETE FROM steps WHERE "threadId" = :id'), params)
            conn.execute(text('DELETE FROM threads WHERE "id" = :id'), params)
        for user_id in user_ids:
            conn.execute(text('DELETE FROM users WHERE "id" = :id'), {"id": user_id})
    return len(ids), len(user_ids)


def erase_traces(tracer: Any, tenant: str, patient_id: str) -> int:
    """The agent's MLflow traces carry the patient's (hashed) reference as the trace's user; delete them all."""
    if not getattr(tracer, "enabled", False):
        return 0
    import mlflow
    from mlflow import MlflowClient

    user = tracer.patient_ref(tenant, patient_id)
    flush = getattr(mlflow, "flush_trace_async_logging", None)
    if flush is not None:   # traces of turns that just finished may still be in the export queue
        flush()
    client = MlflowClient()
    deleted = 0
    try:
        experiments = client.search_experiments()
    except Exception as exc:  # noqa: BLE001 - no tracking store: nothing was traced there
        log.warning("trace erasure skipped: %s", str(exc).splitlines()[0])
        return 0
    for experiment in experiments:
        traces = mlflow.search_traces(locations=[experiment.experiment_id], return_type="list",
                                      filter_string=f"metadata.`mlflow.trace.user` = '{user}'")
        ids = [t.info.trace_id for t in traces]
        if ids:
            deleted += client.delete_traces(experiment.experiment_id, trace_ids=ids)
    return deleted
