"""Erasure beyond the memory store: the MLflow traces of the patient's turns, and the erasure subscribers (other
stores that hold the patient's data and erase it themselves when called, e.g. the chat app: `api.erasure_hooks`).
The API holds no subscriber's SQL and imports none of their code: it calls each one over HTTP.
The memory store scrubs its database files itself (`EntityMemoryStore.scrub_after_erasure`)."""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from medq.api.schemas import SubscriberErasure
from medq.api.settings import ErasureHook

log = logging.getLogger("medq.api")


def call_erasure_hooks(hooks: list[ErasureHook], tenant: str, patient_id: str
                       ) -> tuple[dict[str, SubscriberErasure], list[str]]:
    """`POST hook.url {"tenant", "patient_id"}` with `Authorization: Bearer hook.key` to every subscriber, in order,
    each whatever the others answered. A subscriber succeeded when it answered 2xx with a JSON object holding
    `erased` (its counts per table, zeros when nothing was left: the call is idempotent). Returns (the answers of
    those that succeeded by name, one line per failure naming the subscriber, its URL and the cause)."""
    import httpx

    done: dict[str, SubscriberErasure] = {}
    failed: list[str] = []
    for hook in hooks:
        headers = {"Authorization": f"Bearer {hook.key}"} if hook.key else {}
        try:
            response = httpx.post(hook.url, json={"tenant": tenant, "patient_id": patient_id}, headers=headers,
                                  timeout=hook.timeout_s)
        except httpx.HTTPError as exc:
            failed.append(f"{hook.name} ({hook.url}): {type(exc).__name__} {' '.join(str(exc).split())}".strip())
            continue
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success:
            try:
                done[hook.name] = msgspec.convert(body, SubscriberErasure)
                continue
            except msgspec.ValidationError as exc:
                cause = f"the answer is not {{\"erased\": {{table: count}}, \"storage\": text}} ({exc})"
        else:
            error = body.get("error") if isinstance(body, dict) else None
            cause = error.get("message") if isinstance(error, dict) else " ".join(response.text.split())[:200]
        failed.append(f"{hook.name} ({hook.url}): HTTP {response.status_code}: {cause}")
    for line in failed:
        log.warning("erasure subscriber failed: %s", line)
    return done, failed


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
