"""A comparison variant: a served model (by name on a model service) and a mode that turns a question into an answer.

- `plain`: the question as one user turn to the served model;
- `rag`: the retrieve pipeline's evidence `[E1] …` in the system prompt, the model asked to cite it;
- `agent`: medq's whole agent turn (`MedicalAgent.respond`): red flags, retrieval, draft, audit, refine, fallback.

Every answer goes over HTTP to the model service, so what is measured is what is served. Answers are memoised per
question, so suites that ask the same question (ROUGE and attribution on the test split) ask it once.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from medq.errors import ConfigError, MedqError
from medq.serve.client import ModelServerUnavailable

log = logging.getLogger(__name__)
_BUILD_LOCK = threading.Lock()
Mode = Literal["plain", "rag", "agent"]
RAG_SYSTEM_PROMPT = ("你是谨慎的医疗健康助手。请只根据下面编号的证据回答，每句话后用 [E1] 这样的编号标注所依据的证据；"
                     "证据不足时如实说明并建议就医。\n证据：\n{evidence}")


@dataclass
class Variant:
    name: str
    model: str                   # the served model name: the base's served_model_name or a LoRA module's name
    mode: Mode = "plain"
    endpoint: str = "endpoint"   # which of the stage's endpoint inputs serves it (e.g. endpoint_merged)
    description: str = ""        # base, base + adapter, merged folder: shown in the run's tags

    def __post_init__(self) -> None:
        if self.mode not in ("plain", "rag", "agent"):
            raise ConfigError(f"compare.variants: '{self.name}' has mode {self.mode!r} (plain | rag | agent)")


@dataclass
class Answer:
    text: str
    evidence: list[Any] = field(default_factory=list)   # medq.rag.components.Evidence, numbered E1…
    outcome: str = "answered"                            # the agent's outcome; plain/rag: answered | error
    seconds: float = 0.0
    completion_tokens: int = 0
    error: str | None = None


class Responder:
    def __init__(self, variant: Variant, endpoint: Any, max_tokens: int, retriever: Any | None = None,
                 agent: Any | None = None):
        from medq.serve.client import ChatClient

        self.variant = variant
        self.endpoint = endpoint
        self.client = ChatClient(endpoint)
        self.max_tokens = max_tokens
        self.retriever = retriever
        self.agent = agent
        self._memo: dict[tuple[Any, ...], Answer] = {}

    def answer(self, question: str, system: str | None = None, **params: Any) -> Answer:
        """The variant's answer; `params` (max_tokens, min_tokens, …) apply to plain and rag calls, the agent keeps
        its own budgets."""
        key = (system or "", question, tuple(sorted(params.items())))
        if key not in self._memo:
            self._memo[key] = self._answer(question, system, params)
        return self._memo[key]

    def _answer(self, question: str, system: str | None, params: dict[str, Any]) -> Answer:
        started = time.perf_counter()
        try:
            if self.variant.mode == "agent":
                return self._agent_turn(question, started)
            evidence = self.retriever.retrieve(question).evidence if self.variant.mode == "rag" else []
            messages = []
            if evidence:
                from medq.rag.citations import number_evidence

                messages.append({"role": "system", "content": RAG_SYSTEM_PROMPT.format(
                    evidence=number_evidence(evidence))})
            elif system:
                messages.append({"role": "system", "content": system})
            messages.append({"role": "user", "content": question})
            reply = self.client.chat(messages, **{"max_tokens": self.max_tokens, **params})
            return Answer(reply.text, evidence, "answered", time.perf_counter() - started,
                          int(reply.usage.get("completion_tokens", 0)))
        except ModelServerUnavailable:
            raise   # a server that is gone fails the comparison: a table of errors would pass for results
        except MedqError as exc:
            # a refused call is an answer nobody saw: counted as an error in every suite, never skipped
            log.warning("compare: %s failed on a question: %s", self.variant.name, exc)
            return Answer("", [], "error", time.perf_counter() - started, 0, str(exc))

    def _agent_turn(self, question: str, started: float) -> Answer:
        from medq.rag.components import Evidence

        store = self.agent.store
        tenant = store.default_tenant
        patient = f"compare-{uuid.uuid4().hex[:10]}"   # a fresh patient per question: no memory carries over
        store.create_patient(tenant, patient)
        result = self.agent.respond(patient, "s1", question, tenant=tenant)
        evidence = [Evidence(**item) for item in result.evidence]
        return Answer(result.answer, evidence, result.outcome, time.perf_counter() - started,
                      int(result.usage.get("completion_tokens", 0)))

    def close(self) -> None:
        if self.agent is not None:
            self.agent.store.close()


def build_responder(variant: Variant, endpoint_file: Path, max_tokens: int, index: Path | None, retrieve: Any,
                    agent: Any, workdir: Path, endpoint_overrides: dict[str, Any]) -> Responder:
    """The variant's responder on the served model named `variant.model` at the endpoint in `endpoint_file`."""
    from medq.serve.services import read_endpoint

    endpoint, record = read_endpoint(endpoint_file, model=variant.model, **endpoint_overrides)
    served = record.get("models") or []
    if served and variant.model not in served:
        raise ConfigError(f"compare.variants: '{variant.name}' asks for model '{variant.model}', which the "
                          f"{variant.endpoint} service does not serve (it serves {', '.join(served)})")
    retriever = None
    if variant.mode in ("rag", "agent"):
        if index is None:
            raise ConfigError(f"compare.variants: '{variant.name}' (mode {variant.mode}) needs compare.inputs.index "
                              f"(e.g. index.index)")
        if variant.mode == "rag":
            retriever = retrieve(index=str(index)) if callable(retrieve) else None
            if retriever is None:
                raise ConfigError("compare.retrieve is not set: add the retrieve group (`- /retrieve: default`)")
    built_agent = None
    if variant.mode == "agent":
        if agent is None:
            raise ConfigError(f"compare.variants: '{variant.name}' (mode agent) needs compare.agent "
                              f"(add `- /agent: default` to the recipe)")
        memory = {"url": f"sqlite:///{workdir / (variant.name.replace('+', '_') + '_memory.db')}"}
        with _BUILD_LOCK:   # the memory store's migrations are not safe to run from two threads at once
            built_agent = agent(endpoint=endpoint, memory=memory, index=str(index), retrieve=retrieve)
    return Responder(variant, endpoint, max_tokens, retriever, built_agent)
