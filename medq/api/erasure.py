"""Erasure beyond the memory store: the chat app's threads (Chainlit's tables in the same database) and the MLflow
traces of the patient's turns. Each returns how many it deleted; a missing table or tracking store counts 0."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

log = logging.getLogger("medq.api")


def erase_chat_threads(engine: Engine, tenant: str, patient_id: str) -> int:
    """Threads the chat app tagged with this tenant and patient in their metadata (medq.ui writes
    {"medq_tenant", "medq_patient_id"}), with their steps, elements and feedback."""
    if "threads" not in inspect(engine).get_table_names():
        return 0
    with engine.begin() as conn:
        rows = conn.execute(text('SELECT "id", "metadata" FROM threads')).all()
        ids = []
        for thread_id, metadata in rows:
            try:
                meta = json.loads(metadata) if isinstance(metadata, str) else (metadata or {})
            except json.JSONDecodeError:
                continue
            if meta.get("medq_tenant") == tenant and meta.get("medq_patient_id") == patient_id:
                ids.append(thread_id)
        for thread_id in ids:
            params = {"id": thread_id}
            conn.execute(text('DELETE FROM feedbacks WHERE "forId" IN (SELECT "id" FROM steps WHERE "threadId" = :id)'),
                         params)
            conn.execute(text('DELETE FROM elements WHERE "threadId" = :id'), params)
            conn.execute(text('DELETE FROM steps WHERE "threadId" = :id'), params)
            conn.execute(text('DELETE FROM threads WHERE "id" = :id'), params)
    return len(ids)


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
