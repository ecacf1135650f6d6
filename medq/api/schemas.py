"""Typed request/response models. They generate the OpenAPI schema (which the tests fuzz) and validate input.

The chat models follow OpenAI's chat-completions wire format, so existing clients work unchanged; medq's own data
(citations, audit findings, memory updates, versions) travels in the extension field `medq`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from medq.ids import ID_PATTERN

# The pattern documents the id rule in the OpenAPI schema; `medq.ids.check_id` (a full match: no trailing
# newline, no control characters) is what the routes and the store enforce.
PatientId = Annotated[str, msgspec.Meta(pattern=ID_PATTERN, description="patient id, unique within the tenant")]
SessionId = Annotated[str, msgspec.Meta(pattern=ID_PATTERN, description="session id, unique within the patient")]


class ChatMessage(msgspec.Struct, omit_defaults=True):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: Annotated[str, msgspec.Meta(max_length=100_000)] | None = None
    name: str | None = None


class ChatMetadata(msgspec.Struct, omit_defaults=True):
    session_id: SessionId | None = None


class ChatCompletionRequest(msgspec.Struct, omit_defaults=True):
    """`user` is the patient id; `metadata.session_id` names the session (a new id starts one; none = new)."""

    model: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    messages: Annotated[list[ChatMessage], msgspec.Meta(min_length=1, max_length=200)]
    user: PatientId
    metadata: ChatMetadata | None = None
    stream: bool = False
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(gt=0, le=1)] | None = None
    max_tokens: Annotated[int, msgspec.Meta(ge=1, le=8192)] | None = None
    max_completion_tokens: Annotated[int, msgspec.Meta(ge=1, le=8192)] | None = None
    seed: Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)] | None = None


class FactOut(msgspec.Struct):
    id: str
    kind: str
    value: str
    status: str
    source_message_id: str | None
    observed_at: str
    extractor: str
    evidence: str = ""


class MedqExtension(msgspec.Struct):
    """The documented extension field `medq` of a completion (and of the final stream chunk). docs/api.md lists
    the keys of each item; they are the agent's TurnResult, as JSON."""

    patient_id: str
    session_id: str
    message_id: str
    outcome: str            # answered | refined | fallback (draft withheld) | referral (red flag) | unsupported_language
    refine_rounds: int
    citations: list[dict[str, Any]]       # evidence the answer cites ([E1] ...)
    evidence: list[dict[str, Any]]        # the passages the model saw, numbered [E1] ... (agent.turn.budgets)
    findings: list[dict[str, Any]]        # audit problems of every review round (auditor, critic, citations)
    memory_updates: list[dict[str, Any]]  # facts this turn added or changed (written only if the turn succeeded)
    red_flags: list[dict[str, Any]]
    versions: dict[str, str]              # model, template, lexicon, index, medq
    trace_id: str | None = None


class AssistantMessage(msgspec.Struct):
    role: Literal["assistant"]
    content: str


class Choice(msgspec.Struct):
    index: int
    message: AssistantMessage
    finish_reason: str


class Usage(msgspec.Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(msgspec.Struct):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    medq: MedqExtension


class ModelCard(msgspec.Struct):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(msgspec.Struct):
    object: Literal["list"]
    data: list[ModelCard]


class PatientMemory(msgspec.Struct):
    patient_id: str
    facts: list[FactOut]
    sessions: int


class FactPatch(msgspec.Struct, forbid_unknown_fields=True):
    """A correction by the patient or a clinician: the new value and/or status, and who made it."""

    changed_by: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    role: Literal["patient", "clinician"]
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    status: Literal["active", "stopped", "denied"] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class SessionOut(msgspec.Struct):
    session_id: str
    started_at: str | None
    turns: int


class SubscriberErasure(msgspec.Struct):
    """What an erasure subscriber (`api.erasure_hooks`, e.g. the chat app) reported it deleted."""

    erased: dict[str, int]
    storage: str = ""


class ErasureReport(msgspec.Struct):
    patient_id: str
    erased: dict[str, int]
    storage: str = ""     # what was done to the database files after the deletes (docs/api.md, "Erasure")
    subscribers: dict[str, SubscriberErasure] = msgspec.field(default_factory=dict)   # by hook name


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    code: str
    message: str
    field: str | None = None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


class Health(msgspec.Struct):
    status: str
    checks: dict[str, Any] = {}
