"""MLflow 3 tracing of agent turns, with the privacy switch in one place.

Every turn is one trace (root span `agent.turn`) with a child span per step (memory_in, red_flags, extraction,
retrieve, draft, audit.auditor / audit.critic / audit.citations per round, fallback, memory_out), carrying token
counts and, through the spans' own start/end times, latencies. Traces are grouped by session (MLflow's
`mlflow.trace.session` metadata), so the UI's Sessions view shows a conversation turn by turn.

`privacy.patient_text_in_logs` (default false) governs what leaves the process: when false, patient and session
ids are salted SHA-256 hashes and no message, draft or evidence text is recorded, only lengths, counts, drug and
rule names, verdicts. Hospital teams share one tracking server; the patient's words stay in the memory store.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Iterator

log = logging.getLogger(__name__)


@dataclass
class PrivacySettings:
    patient_text_in_logs: bool = False
    # mixed into the id hashes so equal ids on two deployments do not hash alike; set per deployment
    id_salt: str = "medq"


@dataclass
class TracingSettings:
    enabled: bool = True
    # MLflow experiment for traces when no run is active (the API); stages trace into their own run
    experiment: str | None = None


def hash_id(value: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{value}".encode("utf-8")).hexdigest()[:16]


class _NoSpan:
    def set_attributes(self, attributes: dict[str, Any]) -> None: ...
    def set_attribute(self, key: str, value: Any) -> None: ...
    def set_inputs(self, inputs: Any) -> None: ...
    def set_outputs(self, outputs: Any) -> None: ...


class TurnTracer:
    def __init__(self, privacy: PrivacySettings | None = None, settings: TracingSettings | None = None):
        self.privacy = privacy or PrivacySettings()
        self.settings = settings or TracingSettings()

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def patient_ref(self, tenant: str, patient_id: str) -> str:
        if self.privacy.patient_text_in_logs:
            return f"{tenant}/{patient_id}"
        return hash_id(f"{tenant}/{patient_id}", self.privacy.id_salt)

    def session_ref(self, tenant: str, session_id: str) -> str:
        if self.privacy.patient_text_in_logs:
            return f"{tenant}/{session_id}"
        return hash_id(f"{tenant}/session/{session_id}", self.privacy.id_salt)

    def text(self, value: str | None) -> Any:
        """What a span may record of patient-derived text: the text itself only when the privacy key allows."""
        if value is None:
            return None
        if self.privacy.patient_text_in_logs:
            return value
        return {"chars": len(value)}

    @contextmanager
    def turn(self, tenant: str, patient_id: str, session_id: str, message: str) -> Iterator[Any]:
        if not self.enabled:
            yield _NoSpan()
            return
        import mlflow

        if self.settings.experiment and mlflow.active_run() is None:
            mlflow.set_experiment(self.settings.experiment)
        with mlflow.start_span("agent.turn", span_type="AGENT") as span:
            session, user = self.session_ref(tenant, session_id), self.patient_ref(tenant, patient_id)
            mlflow.update_current_trace(session_id=session, user=user,
                                        request_preview=message if self.privacy.patient_text_in_logs else
                                        f"[{len(message)} chars withheld: privacy.patient_text_in_logs=false]")
            span.set_inputs({"message": self.text(message), "patient": user, "session": session})
            yield span

    def span(self, name: str, span_type: str = "CHAIN", **attributes: Any):
        if not self.enabled:
            return nullcontext(_NoSpan())
        import mlflow

        return _attributed(mlflow.start_span(name, span_type=span_type), attributes)

    def finish(self, span: Any, outputs: dict[str, Any], answer: str) -> None:
        if not self.enabled:
            return
        import mlflow

        span.set_outputs({**outputs, "answer": self.text(answer)})
        mlflow.update_current_trace(response_preview=answer if self.privacy.patient_text_in_logs else
                                    f"[{len(answer)} chars withheld: privacy.patient_text_in_logs=false]")


@contextmanager
def _attributed(manager: Any, attributes: dict[str, Any]) -> Iterator[Any]:
    with manager as span:
        if attributes:
            span.set_attributes({k: v for k, v in attributes.items() if v is not None})
        yield span
