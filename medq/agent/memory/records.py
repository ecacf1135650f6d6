"""What the patient memory gives and refuses: the records the store returns, its errors, and the checks on what it is
given (fact kinds and values, ids, actors).

The store (`medq.agent.memory.store`) and a turn's unit of work (`medq.agent.memory.unit`) both use these; the API
maps the errors to HTTP statuses (`medq/api/assistant.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medq.agent.facts import FACT_STATUSES, LIST_KINDS, SCALAR_KINDS, Fact
from medq.errors import MedqError


class MemoryStoreError(MedqError):
    """Base of the memory store's user-facing errors."""


class PatientNotFound(MemoryStoreError):
    """No such patient in this tenant (the API answers 404)."""


class FactNotFound(MemoryStoreError):
    """No such fact for this patient (the API answers 404)."""


class FactConflict(MemoryStoreError):
    """A correction would make two facts with one identity (the API answers 409)."""


class InvalidMemoryInput(MemoryStoreError):
    """A value the store refuses (empty id, unknown status, ...) (the API answers 422)."""


# --- what the store returns --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TurnRecord:
    session_id: str
    seq: int
    message_id: str
    user_text: str
    assistant_text: str
    created_at: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionSummary:
    session_id: str
    text: str
    covers_through: int
    updated_at: str


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    created_at: str
    updated_at: str
    turns: int


@dataclass(frozen=True)
class FactChange:
    fact_id: str
    action: str
    actor: str
    actor_role: str
    reason: str
    before: Fact | None
    after: Fact | None
    changed_at: str


@dataclass(frozen=True)
class StoredFinding:
    turn_seq: int
    session_id: str
    drug: str
    rule: str
    fact_value: str
    source_message_id: str | None
    detail: dict[str, Any]


# --- checks on what the store is given ---------------------------------------------------------------------------

_VALID_KINDS = set(LIST_KINDS) | set(SCALAR_KINDS)
_VALID_STATUS = set(FACT_STATUSES)


def check_fact(fact: Fact) -> None:
    if fact.kind not in _VALID_KINDS:
        raise InvalidMemoryInput(f"fact kind {fact.kind!r} is not one of {sorted(_VALID_KINDS)}")
    if fact.status not in _VALID_STATUS:
        raise InvalidMemoryInput(f"fact status {fact.status!r} is not one of {sorted(_VALID_STATUS)}")
    if not str(fact.value).strip():
        raise InvalidMemoryInput(f"a {fact.kind} fact needs a non-empty value")
    if len(fact.value) > 200:
        raise InvalidMemoryInput(f"a {fact.kind} fact value is {len(fact.value)} characters; at most 200")


def check_id(name: str, value: str, limit: int = 128) -> str:
    """Tenant, patient and session ids: the one id rule (medq/ids.py) the API and the chat app also use."""
    from medq import ids

    try:
        return ids.check_id(name, value, limit)
    except ids.InvalidId as exc:
        raise InvalidMemoryInput(str(exc)) from None


def check_actor(value: str, limit: int = 128) -> str:
    """Who changed a fact: a free-text name (not an id), non-empty and bounded."""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidMemoryInput(f"actor must be a non-empty string of at most {limit} characters, got {value!r}")
    return value
