"""A turn's unit of work on the patient memory: a snapshot read when the turn starts, and the turn's writes, buffered
until it ends.

    with store.turn(tenant, patient_id, session_id) as turn:
        turn.facts, turn.summary, turn.recent_turns      # read when the turn starts
        turn.add_facts(extracted, message=text)          # merged (merge_facts), visible in turn.profile at once;
                                                         # revocations of safety-critical facts only disputed
        turn.add_findings(findings)
        turn.record(user_text, reply)                    # the turn itself
        turn.set_summary(text, covers_through=seq)       # optional, summary memory

Nothing is written until the block exits normally; then `EntityMemoryStore` (`medq.agent.memory.store`) writes
everything in ONE short write transaction that first locks the patient (PostgreSQL: SELECT ... FOR UPDATE on the
patient row; SQLite: BEGIN IMMEDIATE, the database-wide write lock) and merges the turn's facts into the facts stored
*now*, not into the snapshot read at the start. So the model call in the middle of a turn holds no lock, and two
concurrent turns for one patient both keep their facts. An exception inside the block writes nothing.

Safety-critical facts are hard to lose (`medq.agent.confirmation`): through a turn, a message that revokes a
remembered allergy, condition or pregnancy marks it `disputed` (still enforced) and `turn.disputes` says what to ask;
only the patient's confirmation in a later turn (logged as actor `patient:<id>`, role patient) ends it.

This module holds no SQL: it decides what a turn will write; the store writes it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import Any, Iterable, Mapping

from medq.agent.facts import Fact, PatientProfile, merge_facts
from medq.agent.memory.records import InvalidMemoryInput, SessionSummary, TurnRecord, check_fact


class MemoryTurn:
    """The memory side of one agent turn: a snapshot to read, and writes buffered until the turn ends.

    What the store writes at the end: `new_facts` (read from the message, after the confirmation policy),
    `confirmed` (revocations the patient confirmed), `findings`, `recorded` (user text, reply, meta) and
    `new_summary` (text, covers_through). After the write, `seq` and `committed_facts` say what was stored."""

    def __init__(self, tenant: str, patient_id: str, session_id: str, facts: list[Fact],
                 summary: SessionSummary | None, recent_turns: list[TurnRecord], message_id: str,
                 may_create: bool = True):
        self.tenant, self.patient_id, self.session_id = tenant, patient_id, session_id
        self.stored_facts = facts
        self.summary = summary
        self.recent_turns = recent_turns
        self.message_id = message_id     # the user message's id: the source_message_id of facts read from it
        # only a patient that did not exist when the turn began may be created by it: one erased meanwhile stays
        # erased (the write fails with PatientNotFound instead of resurrecting the patient)
        self.may_create = may_create
        self.new_facts: list[Fact] = []
        self.confirmed: list[Fact] = []           # revocations the patient confirmed (confirmation.review)
        self.disputes: list[Any] = []              # confirmation.Dispute: revocations waiting for the patient
        self.findings: list[dict[str, Any]] = []   # FindingRow columns
        self.recorded: tuple[str, str, dict[str, Any]] | None = None
        self.new_summary: tuple[str, int] | None = None
        self.seq: int | None = None       # the turn's number in its session, once committed
        self.committed_facts: list[Fact] | None = None

    @property
    def facts(self) -> list[Fact]:
        """Stored facts merged with this turn's new ones: what the draft and the audit of this turn use."""
        return merge_facts(self.stored_facts, self.new_facts + self.confirmed)

    @property
    def profile(self) -> PatientProfile:
        return PatientProfile.from_facts(self.facts)

    def add_facts(self, facts: Iterable[Fact], message: str | None = None) -> list[Fact]:
        """Buffer facts read from this turn's message; returns what will be merged.

        The confirmation policy of `medq.agent.confirmation` always applies here (facts entered by a clinician go
        through `EntityMemoryStore.add_facts` / `correct_fact` instead): a revocation of a remembered allergy,
        condition or pregnancy becomes `disputed` (still enforced; listed in `self.disputes` so the reply can ask the
        patient to confirm), and only the patient's own confirmation in a later message ends a dispute (logged with
        actor `patient:<id>`). `message` is the patient's text: without it nothing can confirm a dispute."""
        facts = list(facts)
        for fact in facts:
            check_fact(fact)
        from medq.agent import confirmation

        decision = confirmation.review(self.facts, facts, message or "", self.message_id)
        self.new_facts += decision.facts
        self.confirmed += decision.confirmed
        self.disputes += decision.disputes
        return decision.facts + decision.confirmed

    def add_findings(self, findings: Iterable[Any]) -> None:
        self.findings += [_finding_fields(f) for f in findings]

    def record(self, user_text: str, assistant_text: str, meta: Mapping[str, Any] | None = None) -> None:
        self.recorded = (user_text, assistant_text, dict(meta or {}))

    def set_summary(self, text: str, covers_through: int) -> None:
        """Replace the session summary; `covers_through`: the last turn number it summarises."""
        if covers_through < 0:
            raise InvalidMemoryInput(f"covers_through must be >= 0, got {covers_through}")
        self.new_summary = (text, covers_through)

    def has_writes(self) -> bool:
        """Whether the turn leaves anything to write (nothing to remember: not even the patient is created).
        Findings or a summary without the turn itself are refused."""
        if self.recorded is None and (self.findings or self.new_summary):
            raise InvalidMemoryInput("a turn with findings or a summary must record() its messages")
        return self.recorded is not None or bool(self.new_facts) or bool(self.confirmed)


def _finding_fields(finding: Any) -> dict[str, Any]:
    """Accept the auditor's finding dataclass, a pydantic model or a plain mapping; keep all of it as JSON."""
    if is_dataclass(finding) and not isinstance(finding, type):
        data = asdict(finding)
    elif hasattr(finding, "model_dump"):
        data = finding.model_dump()
    elif isinstance(finding, Mapping):
        data = dict(finding)
    else:
        raise InvalidMemoryInput(f"an audit finding must be a dataclass or a mapping, got {type(finding).__name__}")
    fact = data.get("fact")
    fact_value = data.get("fact_value") or (fact.get("value") if isinstance(fact, Mapping) else fact) or ""
    source = data.get("source_message_id") or (fact.get("source_message_id") if isinstance(fact, Mapping) else None)
    return {"drug": str(data.get("drug") or ""), "rule": str(data.get("rule") or ""), "fact_value": str(fact_value),
            "source_message_id": source, "detail": json.dumps(data, ensure_ascii=False, default=str)}
