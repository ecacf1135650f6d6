"""What the API handlers call: the agent (medq-agent), pass-through turns on served models, patient memory,
erasure, readiness and keys. Built once per worker in the app's lifespan (`Assistant.from_settings`).

Every memory operation is scoped by the API key's tenant: a patient of another tenant does not exist here (404).
"""

from __future__ import annotations

import contextvars
import copy
import logging
import threading
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable

import msgspec

import medq
from medq.api import schemas as s
from medq.api.errors import ApiError
from medq.api.keys import ApiKey, ApiKeyStore
from medq.api.metrics import TurnMetrics
from medq.api.settings import ApiSettings
from medq.errors import MedqError

log = logging.getLogger("medq.api")
Caller = ApiKey
Progress = Callable[[str], None]
# the progress callback of the turn running in this thread (the agent's tracer reports each step through it)
_progress: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("medq_api_progress", default=None)
PROGRESS_NAMES = {"memory_in": "reading_memory", "red_flags": "checking_red_flags", "extraction": "extracting_facts",
                  "retrieve": "retrieving", "draft": "drafting", "audit": "auditing", "memory_out": "saving"}


@dataclass
class TurnRequest:
    caller: Caller
    patient_id: str
    session_id: str
    model: str
    message: str
    system: list[str]
    params: dict[str, Any]
    include_usage: bool = False

    @property
    def passthrough(self) -> bool:
        return self.params.get("_passthrough", False)


@dataclass
class TurnOutcome:
    answer: str
    completion: dict[str, Any]
    extension: s.MedqExtension
    usage: s.Usage


def _once_per_stage(progress: Progress) -> Progress:
    """Each stage is reported once per turn: the audit opens a span per layer and per refine round, and the client
    shows one line per event (the chat app listed "安全审核 ✓" twelve times)."""
    seen: set[str] = set()

    def report(stage: str) -> None:
        if stage not in seen:
            seen.add(stage)
            progress(stage)
    return report


def _progress_tracer(tracer: Any) -> Any:
    """Wrap the agent's tracer so each step it opens is also reported to the waiting stream (no text, only the
    step's name). The tracer is shared by all turns of this worker; the callback is per turn (a context var)."""
    original = tracer.span

    def span(name: str, *args: Any, **kwargs: Any) -> Any:
        callback = _progress.get()
        if callback is not None:
            stage = PROGRESS_NAMES.get(name.split(".")[0])
            if stage:
                callback(stage)
        return original(name, *args, **kwargs)

    tracer.span = span
    return tracer


class Assistant:
    def __init__(self, settings: ApiSettings, agent: Any, keys: ApiKeyStore):
        self.settings = settings
        self.agent = agent
        self.store = agent.store
        self.keys = keys
        self.metrics = TurnMetrics()
        _progress_tracer(agent.tracer)
        self._tenants: set[str] = set()
        self._clients: dict[str, Any] = {}
        self._models: tuple[float, list[str]] = (0.0, [])
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> "Assistant":
        """The agent from `api.agent` (the agent group's config), patients created on their first successful turn."""
        import hydra.utils

        agent_config = copy.deepcopy(dict(settings.agent))
        agent_config.setdefault("turn", {})
        agent_config["turn"] = {**dict(agent_config["turn"] or {}), "create_patients": True}
        if settings.tracking_uri:
            import mlflow

            mlflow.set_tracking_uri(settings.tracking_uri)
        factory = hydra.utils.instantiate(agent_config, _convert_="all")
        agent = factory() if callable(factory) and not hasattr(factory, "respond") else factory
        return cls(settings, agent, ApiKeyStore(engine=agent.store.engine))

    def close(self) -> None:
        close = getattr(self.store, "close", None)
        if close:
            close()

    # -- keys and tenants -------------------------------------------------------------------------------------------
    def authenticate(self, key: str) -> Caller | None:
        caller = self.keys.lookup(key)
        if caller is not None and caller.tenant not in self._tenants:
            self.store.ensure_tenant(caller.tenant)
            self._tenants.add(caller.tenant)
        return caller

    # -- models -----------------------------------------------------------------------------------------------------
    def served_models(self) -> list[str]:
        """The model server's names, cached for 30 s (a down server: 503 naming it)."""
        stamp, names = self._models
        if time.monotonic() - stamp < 30 and names:
            return names
        from medq.serve.client import ModelServerUnavailable

        try:
            names = self.agent.client.models()
        except ModelServerUnavailable as exc:
            raise ApiError(503, "model_server_unavailable", str(exc)) from None
        except MedqError as exc:
            # reachable, but it cannot list its models (`transformers serve` offline answers 500): the configured
            # model is the one we know it serves
            log.warning("model server lists no models (%s); using %s", exc, self.agent.client.endpoint.model)
            names = [self.agent.client.endpoint.model]
        self._models = (time.monotonic(), names)
        return names

    def model_names(self) -> list[str]:
        return [self.settings.agent_model_name, *self.served_models()]

    def check_model_server(self, turn: TurnRequest) -> None:
        self._models = (0.0, [])
        self.served_models()

    def _client_for(self, model: str) -> Any:
        with self._lock:
            if model not in self._clients:
                from medq.serve.client import ChatClient

                self._clients[model] = ChatClient(replace(self.agent.client.endpoint, model=model))
            return self._clients[model]

    # -- turns ------------------------------------------------------------------------------------------------------
    def prepare_turn(self, caller: Caller, data: s.ChatCompletionRequest) -> TurnRequest:
        user_messages = [m for m in data.messages if m.role == "user"]
        if not user_messages or not (user_messages[-1].content or "").strip():
            raise ApiError(422, "invalid_request", "the last user message is missing or empty", "messages")
        if data.messages[-1].role != "user":
            raise ApiError(422, "invalid_request", "the last message must be the user's", "messages")
        patient_id = checked_id("user", data.user)
        given_session = data.metadata.session_id if data.metadata else None
        if given_session is not None:
            checked_id("metadata.session_id", given_session)
        message = user_messages[-1].content.strip()
        limit = self.agent.settings.budgets.max_message_chars
        if len(message) > limit:
            raise ApiError(413, "message_too_long", f"the user message has {len(message)} characters; the limit is "
                                                    f"{limit} (agent.turn.budgets.max_message_chars)", "messages")
        passthrough = data.model != self.settings.agent_model_name
        if passthrough and data.model not in self.served_models():
            raise ApiError(404, "model_not_found", f"no model {data.model!r}; GET /v1/models lists them", "model")
        params: dict[str, Any] = {"_passthrough": passthrough}
        for key in ("temperature", "top_p", "seed"):
            if getattr(data, key) is not None:
                params[key] = getattr(data, key)
        max_tokens = data.max_completion_tokens or data.max_tokens
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        session_id = given_session or "s-" + uuid.uuid4().hex[:16]
        return TurnRequest(caller, patient_id, session_id, data.model, message,
                           [m.content or "" for m in data.messages if m.role in ("system", "developer")], params)

    def run_turn(self, turn: TurnRequest, progress: Progress | None) -> TurnOutcome:
        """One audited turn. Any failure raises before memory is written (the store's turn commits only on success)."""
        from medq.agent.memory.records import MemoryStoreError
        from medq.serve.client import ContextLengthExceeded, ModelServerUnavailable, model_server_down

        progress = _once_per_stage(progress) if progress else None
        token = _progress.set(progress)
        started = time.perf_counter()
        try:
            if turn.passthrough:
                result = self._passthrough_turn(turn, progress)
            else:
                result = self.agent.respond(turn.patient_id, turn.session_id, turn.message,
                                            tenant=turn.caller.tenant)
        except ModelServerUnavailable as exc:
            self.metrics.failed("model_server_unavailable")
            raise ApiError(503, "model_server_unavailable", str(exc)) from None
        except ContextLengthExceeded as exc:
            # the request is too big for the model, the server is fine: a client-side (4xx) turn failure
            self.metrics.failed("context_length")
            raise ApiError(400, "context_length_exceeded",
                           f"{exc}. Nothing was saved; shorten the message or start a new session, and check that "
                           f"agent.turn.budgets fit serve.max_model_len (docs/api.md)", "messages") from None
        except MemoryStoreError as exc:
            self.metrics.failed("memory")
            raise ApiError(422, "invalid_request", str(exc), "user") from None
        except MedqError as exc:
            self.metrics.failed("bad_request")
            # a served model refusing a pass-through parameter names it in its message: so does the 422
            named = [k for k in ("max_tokens", "temperature", "top_p", "seed") if k in str(exc) and k in turn.params]
            raise ApiError(422, "invalid_request", str(exc), named[0] if named else "messages") from None
        except Exception as exc:
            if model_server_down(exc):   # the Haystack generator's own client, not ours
                self.metrics.failed("model_server_unavailable")
                raise ApiError(503, "model_server_unavailable",
                               f"model server at {self.agent.client.endpoint.base_url} is unreachable: "
                               f"{type(exc).__name__}") from None
            self.metrics.failed("internal")
            raise
        finally:
            _progress.reset(token)
        self.metrics.turn(turn.model, result.outcome, time.perf_counter() - started, result.usage)
        return self._outcome(turn, result)

    def _passthrough_turn(self, turn: TurnRequest, progress: Progress | None) -> Any:
        """A served model answers directly (no retrieval, tools or critic), but memory, red flags and the
        deterministic contraindication audit still apply: an answer with findings is withheld."""
        from medq.agent.confirmation import request_text as request_confirmation
        from medq.agent.review import Problem, as_plain, describe_finding, fallback_reply
        from medq.agent.summary import dialogue_in_budget
        from medq.agent.turn import TurnResult, referral_reply

        agent, text = self.agent, self.agent.check_message(turn.message)
        message_id = uuid.uuid4().hex
        report = progress or (lambda _stage: None)
        with self.store.turn(turn.caller.tenant, turn.patient_id, turn.session_id, create_patient=True,
                             message_id=message_id) as memory:
            report("checking_red_flags")
            flags = list(agent.detect_red_flags(text))
            # the message goes along: a revocation disputes a safety-critical fact and only a confirmation ends it
            new_facts = memory.add_facts(agent.extractor.extract(text, message_id), message=text)
            base = dict(session_id=turn.session_id, message_id=message_id,
                        versions={"model": turn.model, "template": "passthrough",
                                  **{k: v for k, v in agent.versions.items() if k in ("lexicon",)}},
                        memory_updates=[as_plain(f) for f in new_facts], red_flags=[as_plain(f) for f in flags])
            if flags:
                result = TurnResult(answer=referral_reply(flags), outcome="referral", **base)
            else:
                messages = [{"role": "system", "content": c} for c in turn.system]
                for past in dialogue_in_budget(memory.recent_turns, agent.settings.budgets.summary_tokens,
                                               agent.settings.budgets.estimate):
                    messages += [{"role": "user", "content": past.user_text},
                                 {"role": "assistant", "content": past.assistant_text}]
                messages.append({"role": "user", "content": text})
                report("drafting")
                params = {k: v for k, v in turn.params.items() if not k.startswith("_")}
                reply = self._client_for(turn.model).chat(messages, **params)
                report("auditing")
                audit = agent.auditor.audit(reply.text or "", memory.profile, question=text)
                problems = [Problem("auditor", describe_finding(f), as_plain(f)) for f in audit.findings]
                if not (reply.text or "").strip():
                    problems.append(Problem("model", "empty reply"))
                findings = [{"layer": p.layer, "message": p.message, **p.detail} for p in problems]
                usage = {k: int(v) for k, v in (reply.usage or {}).items() if isinstance(v, int)}
                if problems:
                    result = TurnResult(answer=fallback_reply(problems), outcome="fallback", findings=findings,
                                        usage=usage, **base)
                else:
                    result = TurnResult(answer=reply.text.strip(), outcome="answered", usage=usage, **base)
                memory.add_findings(audit.findings)
            if result.outcome != "referral":   # a disputed safety-critical fact: ask the patient to confirm
                result.answer += request_confirmation(memory.disputes)
            memory.record(text, result.answer, {"outcome": result.outcome, "model": turn.model})
            report("saving")
        return result

    def _outcome(self, turn: TurnRequest, result: Any) -> TurnOutcome:
        versions = {**{k: str(v) for k, v in result.versions.items()}, "medq": medq.__version__}
        extension = s.MedqExtension(
            patient_id=turn.patient_id, session_id=result.session_id, message_id=result.message_id,
            outcome=result.outcome, refine_rounds=result.refine_rounds, citations=result.citations,
            evidence=result.evidence, findings=result.findings, memory_updates=result.memory_updates,
            red_flags=result.red_flags, versions=versions, trace_id=result.trace_id)
        prompt = int(result.usage.get("prompt_tokens", 0))
        completion = int(result.usage.get("completion_tokens", 0))
        usage = s.Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)
        body = s.ChatCompletion(
            id="chatcmpl-" + uuid.uuid4().hex, object="chat.completion", created=int(time.time()), model=turn.model,
            choices=[s.Choice(index=0, message=s.AssistantMessage(role="assistant", content=result.answer),
                              finish_reason="stop")],
            usage=usage, medq=extension)
        return TurnOutcome(result.answer, msgspec.to_builtins(body), extension, usage)

    # -- memory -----------------------------------------------------------------------------------------------------
    def _scoped(self, call: Callable[[], Any]) -> Any:
        from medq.agent.memory.records import FactConflict, FactNotFound, InvalidMemoryInput, PatientNotFound

        try:
            return call()
        except (PatientNotFound, FactNotFound):
            # the same answer for "not yours" and "does not exist": ids cannot be probed across tenants
            raise ApiError(404, "not_found", "no such patient or fact") from None
        except FactConflict as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        except InvalidMemoryInput as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None

    def memory(self, caller: Caller, patient_id: str) -> s.PatientMemory:
        checked_id("patient_id", patient_id)

        def read() -> s.PatientMemory:
            facts = self.store.facts(caller.tenant, patient_id)
            sessions = self.store.sessions(caller.tenant, patient_id)
            return s.PatientMemory(patient_id=patient_id, facts=[fact_out(f) for f in facts], sessions=len(sessions))
        return self._scoped(read)

    def correct_fact(self, caller: Caller, patient_id: str, fact_id: str, patch: s.FactPatch) -> s.FactOut:
        checked_id("patient_id", patient_id)
        if patch.value is None and patch.status is None:
            raise ApiError(422, "invalid_request", "send `value` and/or `status` to change", "value")
        return fact_out(self._scoped(lambda: self.store.correct_fact(
            caller.tenant, patient_id, fact_id, actor=patch.changed_by, actor_role=patch.role, value=patch.value,
            status=patch.status, reason=patch.reason or "")), fact_id)

    def delete_fact(self, caller: Caller, patient_id: str, fact_id: str, changed_by: str, role: str) -> s.FactOut:
        checked_id("patient_id", patient_id)
        if role not in ("patient", "clinician"):
            raise ApiError(422, "invalid_request", "role must be 'patient' or 'clinician'", "role")
        if not changed_by.strip() or len(changed_by) > 128:
            raise ApiError(422, "invalid_request", "changed_by must name who deletes the fact", "changed_by")
        return fact_out(self._scoped(lambda: self.store.delete_fact(
            caller.tenant, patient_id, fact_id, actor=changed_by, actor_role=role)), fact_id)

    def sessions(self, caller: Caller, patient_id: str) -> list[s.SessionOut]:
        checked_id("patient_id", patient_id)
        rows = self._scoped(lambda: self.store.sessions(caller.tenant, patient_id))
        return [s.SessionOut(session_id=r.session_id, started_at=r.created_at, turns=r.turns) for r in rows]

    def erase(self, caller: Caller, patient_id: str) -> s.ErasureReport:
        """Memory and sessions (one transaction), the MLflow traces, the database files scrubbed, then every erasure
        subscriber (`erasure_hooks`, e.g. the chat app) over HTTP. Safe to repeat: a patient the store no longer
        knows still goes to the subscribers, so a retry after a failed subscriber finishes the job. 502 naming the
        subscribers that failed; 404 when nothing of the patient was found anywhere."""
        from medq.agent.memory.records import PatientNotFound
        from medq.api.erasure import call_erasure_hooks, erase_traces

        checked_id("patient_id", patient_id)
        try:
            counts = dict(self._scoped(lambda: self.store.erase_patient(caller.tenant, patient_id)))
        except ApiError as exc:
            if exc.status != 404:
                raise
            counts = {}
        tables = list(counts)
        counts["traces"] = erase_traces(self.agent.tracer, caller.tenant, patient_id)
        scrubbed = self.store.scrub_after_erasure(tables)
        answers, failed = call_erasure_hooks(self.settings.erasure_hooks, caller.tenant, patient_id)
        if failed:
            raise ApiError(502, "erasure_incomplete",
                           f"patient {patient_id!r}: the API's own data is erased, but erasure subscriber(s) failed: "
                           f"{'; '.join(failed)}. Repeat DELETE /v1/patients/{patient_id} (safe to repeat) once "
                           f"they answer")
        if not any(counts.values()) and not any(any(sub.erased.values()) for sub in answers.values()):
            raise ApiError(404, "not_found", "no such patient or fact")
        return s.ErasureReport(patient_id=patient_id, erased=counts, storage=scrubbed, subscribers=answers)

    # -- readiness --------------------------------------------------------------------------------------------------
    def readiness(self) -> dict[str, str | None]:
        """{dependency: None if reachable, else why not}."""
        from sqlalchemy import text

        checks: dict[str, str | None] = {}
        try:
            self._models = (0.0, [])
            self.served_models()
            checks["model_server"] = None
        except ApiError as exc:
            checks["model_server"] = exc.message
        try:
            with self.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = None
        except Exception as exc:  # noqa: BLE001 - report, do not crash the probe
            checks["database"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        retriever = getattr(self.agent, "retriever", None)
        if retriever is not None:
            try:
                retriever.retrieve("健康")
                checks["retrieval_store"] = None
            except Exception as exc:  # noqa: BLE001
                checks["retrieval_store"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        return checks


def checked_id(field: str, value: Any) -> str:
    """The one id rule (medq/ids.py) as the API's 422 naming the field."""
    from medq.ids import InvalidId, check_id

    try:
        return check_id(field, value)
    except InvalidId as exc:
        raise ApiError(422, "invalid_request", str(exc), field) from None


def fact_out(fact: Any, fact_id: str | None = None) -> s.FactOut:
    return s.FactOut(id=fact.id or fact_id or "", kind=fact.kind, value=fact.value, status=fact.status,
                     source_message_id=fact.source_message_id, observed_at=fact.observed_at,
                     extractor=fact.extractor, evidence=fact.evidence)
