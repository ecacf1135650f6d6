"""One turn of the medical agent, step by step, failing closed.

    message ─ check ─ memory in ─ red flags ─┬─ (flag) referral reply, no model call
                                             └─ extraction ─ retrieve ─ draft ⇄ audit/refine ─ reply or fallback
                                                                                             └─ memory out

1. memory in: the patient's facts, the session summary and recent turns (`EntityMemoryStore.turn`, read at start).
2. red flags: rule based, before anything else; an emergency or self-harm message gets the referral, whatever a
   model would say (the model is not asked).
3. extraction: rule-based facts from the message, merged into the turn's memory (never rewritten), so this turn's
   draft and audit see them; written only when the whole turn succeeds.
4. retrieve: `RetrievePipeline` (query rewriting as configured) → numbered evidence [E1]…, in rank order while it
   fits `agent.turn.budgets.evidence_tokens` (the passage that does not fit is cut, the rest left out); what the
   model saw is what the review checks and the turn returns.
5. draft: Haystack's `Agent` with the tools (BMI, drug lookup, triage; OpenAI tool calls), bounded by
   `max_agent_steps`.
6. audit, as the Agent's `on_exit` hook (`medq.agent.review`): deterministic `ContraindicationAuditor`, the
   `LLMCritic`'s JSON verdict (unparseable → revise), the `CitationChecker` (unsupported sentences are problems).
   Problems left and rounds left → the hook appends them as a message and keeps the Agent running (refine). Only a
   draft the hook approved can become the answer; anything else (rounds spent, steps spent, empty or cut-off reply)
   is the safe fallback.
7. memory out: the turn, its facts and findings in one transaction; older turns past the token budget are
   summarised into the session summary (`medq.agent.summary`).

This module owns the turn's order of steps, its settings (`agent.turn`), the draft prompt and what a turn returns;
the review of a draft and the fallback live in `medq.agent.review`, summary memory in `medq.agent.summary`.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

from medq.agent.confirmation import request_text as request_confirmation
from medq.agent.critic import LLMCritic
from medq.agent.facts import PatientProfile
from medq.agent.review import FALLBACK_HEAD, REFERRAL, REFINE_PROMPT, Problem, Review, Reviewer, ReviewHook, \
    as_plain, fallback_reply
from medq.agent.summary import CUT_MARK, SUMMARY_PROMPT, TokenEstimate, dialogue_in_budget, summarise
from medq.agent.tracing import PrivacySettings, TracingSettings, TurnTracer
from medq.config import as_dataclass
from medq.paths import ExistingDir, ExistingFile
from medq.errors import ConfigError, MedqError
from medq.serve.client import ChatEndpoint

# Haystack sends usage telemetry unless told not to; medq keeps telemetry off unless a user switches it on
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

Outcome = Literal["answered", "refined", "fallback", "referral", "unsupported_language"]

DRAFT_SYSTEM_PROMPT = (
    "你是谨慎的中文医疗助手。只根据给出的编号证据回答，每一句医学内容后面用 [E1] 这样的编号注明出处；"
    "证据不足时直说并建议就医。结合患者资料：不要推荐患者过敏、禁忌或与其正在用药相互作用的药物，"
    "孕妇、哺乳期和儿童要特别注意。需要时可以调用工具（BMI 计算、药品查询、分诊科室）。回答简洁，不超过 200 字。"
)


# --- settings (conf/agent/default.yaml) ------------------------------------------------------------------------

@dataclass
class RefineSettings:
    max_rounds: int = 2          # drafts after the first one; problems left after the last → safe fallback


@dataclass
class BudgetSettings:
    max_message_chars: int = 1000     # longer messages are refused (a clear error), not silently cut
    tool_steps: int = 2               # LLM calls that may request tools, on top of the draft and refine calls
    draft_max_tokens: int = 384
    summary_tokens: int = 1500        # recent dialogue above this many tokens → older turns into the summary
    summary_max_tokens: int = 200
    evidence_tokens: int = 1536       # retrieved passages in rank order while they fit; the next one is cut
    profile_tokens: int = 256         # the patient's remembered facts; past it, the least urgent are left out
    # the tokenizer-free estimate (medq.agent.summary.TokenEstimate); defaults: Qwen-family tokenizers
    tokens_per_cjk_char: float = 1.0
    tokens_per_other_char: float = 0.25
    tokens_per_message: int = 8       # the chat template's role markers around each message

    @property
    def estimate(self) -> TokenEstimate:
        return TokenEstimate(self.tokens_per_cjk_char, self.tokens_per_other_char, self.tokens_per_message)


@dataclass
class CriticSettings:
    enabled: bool = True
    max_tokens: int = 256


@dataclass
class CitationSettings:
    required: bool = True        # sentences without a supporting citation are problems (false: only reported)
    min_support: float = 0.3


@dataclass
class TurnSettings:
    refine: RefineSettings = field(default_factory=RefineSettings)
    budgets: BudgetSettings = field(default_factory=BudgetSettings)
    critic: CriticSettings = field(default_factory=CriticSettings)
    citations: CitationSettings = field(default_factory=CitationSettings)
    create_patients: bool = False     # false: an unknown patient id is PatientNotFound (the API's 404)


PROFILE_LEFT_OUT = "（另有{n}项记录未列出）"
# fixed words the draft prompt puts around its parts (`MedicalAgent._messages`), counted with the system prompt
# (the profile's note of facts left out at its largest, 999)
PROMPT_FRAME = ("\n\n患者资料：\n；" + PROFILE_LEFT_OUT.format(n=999) + "\n\n之前对话的摘要：\n",
                "证据：\n（没有检索到证据）\n\n问题：")
# a passage cut to fewer tokens than this is left out instead: a fragment the model cannot cite sensibly
MIN_EVIDENCE_TOKENS = 24


def context_budget(settings: TurnSettings, system_prompt: str = DRAFT_SYSTEM_PROMPT) -> dict[str, int]:
    """The tokens the largest draft request of a turn may need: the system prompt with the prompt's fixed words,
    the patient's profile (`profile_tokens`), the session summary (`summary_max_tokens`), the verbatim recent
    dialogue (`summary_tokens`), the evidence (`evidence_tokens`), the longest allowed message
    (`max_message_chars`, each character at the dearer of the two per-character rates), every draft and refine
    prompt of the review loop (drafts stay in the conversation), and the chat template's tokens per message. All
    estimated with `budgets.tokens_per_*`; validation compares the total with the served model's `max_model_len`."""
    from medq.agent.critic import VERDICT_SCHEMA

    budgets, rounds = settings.budgets, settings.refine.max_rounds
    estimate = budgets.estimate
    critic = VERDICT_SCHEMA["properties"]["problems"]
    # a refine prompt lists the problems: the draft's own sentences at most (quoted), the critic's problems (its
    # schema bounds them) and a short label per problem
    refine = (estimate(REFINE_PROMPT) + budgets.draft_max_tokens
              + estimate("审" * critic["maxItems"] * critic["items"]["maxLength"]) + 60)
    per_char = max(budgets.tokens_per_cjk_char, budgets.tokens_per_other_char)
    # system, the question, one draft and one refine prompt per round, and the reply's own opening
    messages = 2 + 2 * rounds + 1
    return {"system prompt": estimate(system_prompt + "".join(PROMPT_FRAME)),
            "agent.turn.budgets.profile_tokens": budgets.profile_tokens,
            "agent.turn.budgets.summary_max_tokens": budgets.summary_max_tokens,
            "agent.turn.budgets.summary_tokens": budgets.summary_tokens,
            "agent.turn.budgets.evidence_tokens": budgets.evidence_tokens,
            "agent.turn.budgets.max_message_chars": math.ceil(round(budgets.max_message_chars * per_char, 6)),
            "agent.turn.budgets.draft_max_tokens × (refine.max_rounds + 1)": budgets.draft_max_tokens * (rounds + 1),
            "refine prompts × refine.max_rounds": rounds * refine,
            "agent.turn.budgets.tokens_per_message × messages": budgets.tokens_per_message * messages}


def critic_budget(settings: TurnSettings) -> dict[str, int]:
    """The tokens a critic request may need (`LLMCritic.messages`): its prompt and frame, the profile, the evidence,
    the longest message, a draft (`draft_max_tokens`), its verdict (`critic.max_tokens`) and three messages' template
    tokens. Empty when the critic is off."""
    from medq.agent.critic import LLMCritic

    if not settings.critic.enabled:
        return {}
    budgets = settings.budgets
    estimate = budgets.estimate
    frame = "".join(m["content"] for m in LLMCritic(None).messages("", "", "", PROFILE_LEFT_OUT.format(n=999)))
    per_char = max(budgets.tokens_per_cjk_char, budgets.tokens_per_other_char)
    return {"critic prompt": estimate(frame),
            "agent.turn.budgets.profile_tokens": budgets.profile_tokens,
            "agent.turn.budgets.evidence_tokens": budgets.evidence_tokens,
            "agent.turn.budgets.max_message_chars": math.ceil(round(budgets.max_message_chars * per_char, 6)),
            "agent.turn.budgets.draft_max_tokens": budgets.draft_max_tokens,
            "agent.turn.critic.max_tokens": settings.critic.max_tokens,
            "agent.turn.budgets.tokens_per_message × 3": budgets.tokens_per_message * 3}


def check_context_budget(container: Mapping[str, Any]) -> None:
    """An agent served by a model with a known context (`serve.max_model_len`) must fit its budgets into it:
    otherwise a turn is refused by the model server (a 400 context_length_exceeded) once the remembered dialogue,
    the evidence or the profile grow to their budgets."""
    agent, serve = container.get("agent"), container.get("serve")
    if not isinstance(agent, Mapping):
        return
    settings = as_dataclass(TurnSettings, agent.get("turn"))
    budgets = settings.budgets
    if budgets.evidence_tokens < 0 or budgets.profile_tokens < 0:
        raise ConfigError(f"agent.turn.budgets.evidence_tokens ({budgets.evidence_tokens}) and profile_tokens "
                          f"({budgets.profile_tokens}) must be 0 or more")
    if min(budgets.tokens_per_cjk_char, budgets.tokens_per_other_char) <= 0 or budgets.tokens_per_message < 0:
        raise ConfigError("agent.turn.budgets.tokens_per_cjk_char and tokens_per_other_char must be above 0 and "
                          "tokens_per_message 0 or more: they are the served tokenizer's figures (docs/agent.md)")
    if not isinstance(serve, Mapping) or not serve.get("max_model_len"):
        return
    parts = context_budget(settings)
    limit = int(serve["max_model_len"])
    if sum(parts.values()) > limit:
        shown = " + ".join(f"{v} ({k})" for k, v in parts.items())
        named = ", ".join(f"agent.turn.budgets.{k} = {getattr(budgets, k)}"
                          for k in ("summary_tokens", "evidence_tokens", "profile_tokens"))
        raise ConfigError(f"{named} and the other budgets of a turn do not fit serve.max_model_len = {limit}: "
                          f"{shown} = {sum(parts.values())} tokens. Lower "
                          f"agent.turn.budgets.evidence_tokens, summary_tokens, profile_tokens (or draft_max_tokens, "
                          f"summary_max_tokens, max_message_chars, refine.max_rounds) or raise serve.max_model_len; "
                          f"tokens_per_* are the served tokenizer's own figures (docs/agent.md).")
    critic = critic_budget(settings)
    if sum(critic.values()) > limit:
        shown = " + ".join(f"{v} ({k})" for k, v in critic.items())
        raise ConfigError(f"agent.turn.critic.max_tokens = {settings.critic.max_tokens}, agent.turn.budgets."
                          f"evidence_tokens = {budgets.evidence_tokens} and the other budgets of a critic request do "
                          f"not fit serve.max_model_len = {limit}: {shown} = {sum(critic.values())} tokens. "
                          f"Lower agent.turn.critic.max_tokens, budgets.evidence_tokens or profile_tokens, or raise "
                          f"serve.max_model_len.")


# --- what a turn returns ---------------------------------------------------------------------------------------

@dataclass
class TurnResult:
    """One turn, as the API serialises it (`dataclasses.asdict`)."""

    answer: str
    outcome: Outcome
    session_id: str
    message_id: str
    citations: list[dict[str, Any]] = field(default_factory=list)      # evidence the answer cites
    evidence: list[dict[str, Any]] = field(default_factory=list)       # what the prompt carried, [E1]… (as cut)
    findings: list[dict[str, Any]] = field(default_factory=list)       # every problem of every review round
    memory_updates: list[dict[str, Any]] = field(default_factory=list)  # facts this turn added or changed
    red_flags: list[dict[str, Any]] = field(default_factory=list)
    refine_rounds: int = 0
    critic_verdicts: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)                # prompt/completion tokens, all calls
    latency_s: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    trace_id: str | None = None


# --- the agent --------------------------------------------------------------------------------------------------

class MedicalAgent:
    """Runs turns. The components are built by `from_config` (conf/agent/default.yaml) or passed in (tests, API).

    client: `medq.serve.client.ChatClient`; store: `EntityMemoryStore`; extractor: `.extract(message, message_id, known=facts)`
    → facts; auditor: `.audit(draft, profile)` → result with `.findings`; red_flags: `text -> [RedFlag]`;
    retriever: `RetrievePipeline` or None (then nothing can be cited, and with citations.required every draft
    falls back); tools: Haystack `Tool`s.
    """

    def __init__(self, client: Any, store: Any, extractor: Any, auditor: Any, red_flags: Any,
                 retriever: Any | None = None, tools: Sequence[Any] = (), critic: LLMCritic | None = None,
                 citation_checker: Any | None = None, settings: TurnSettings | None = None,
                 tracer: TurnTracer | None = None, versions: Mapping[str, str] | None = None,
                 system_prompt: str = DRAFT_SYSTEM_PROMPT):
        from medq.rag.citations import CitationChecker

        self.client, self.store = client, store
        self.extractor, self.auditor, self.detect_red_flags = extractor, auditor, red_flags
        self.retriever = retriever
        self.tools = list(tools)
        self.settings = settings or TurnSettings()
        self.critic = critic if critic is not None or not self.settings.critic.enabled else \
            LLMCritic(client, max_tokens=self.settings.critic.max_tokens)
        self.citation_checker = citation_checker or CitationChecker(min_support=self.settings.citations.min_support)
        self.tracer = tracer or TurnTracer()
        self.reviewer = Reviewer(self.auditor, self.critic, self.citation_checker, self.tracer,
                                 self.settings.citations.required, self.settings.citations.min_support)
        self.system_prompt = system_prompt
        template_hash = hashlib.sha256("\n".join([system_prompt, REFINE_PROMPT, SUMMARY_PROMPT, FALLBACK_HEAD,
                                                  REFERRAL]).encode()).hexdigest()[:12]
        self.versions = {"model": str(getattr(getattr(client, "endpoint", None), "model", "unknown")),
                         "template": template_hash, **dict(versions or {})}
        self._agent = self._build_haystack_agent()

    @classmethod
    def from_config(cls, endpoint: ChatEndpoint | dict[str, Any], memory: Any,
                    knowledge_dir: ExistingDir | None = None, turn: TurnSettings | None = None,
                    privacy: PrivacySettings | None = None, tracing: TracingSettings | None = None,
                    index: ExistingFile | None = None, retrieve: Any | None = None,
                    triage_model: ExistingFile | None = None, auditor: dict[str, Any] | None = None
                    ) -> "MedicalAgent":
        """Everything from config: `endpoint` (ChatEndpoint keys), `memory` (conf/agent/memory, an
        EntityMemoryStore, or its keys),
        `knowledge_dir` (a folder of lexicon CSVs, null = the shipped ones), `index` (an index stage's index.json,
        or null),
        `retrieve` (the partial RetrievePipeline.from_index from conf/retrieve), `triage_model` (the triage stage's
        model file, or null: no triage tool)."""
        from medq.agent import components

        built = components.build(endpoint=endpoint, memory=memory, knowledge_dir=knowledge_dir, index=index,
                                 retrieve=retrieve, triage_model=triage_model, auditor=auditor)
        settings = as_dataclass(TurnSettings, turn)
        return cls(built.client, built.store, built.extractor, built.auditor, built.red_flags,
                   retriever=built.retriever, tools=built.tools, settings=settings,
                   tracer=TurnTracer(as_dataclass(PrivacySettings, privacy), as_dataclass(TracingSettings, tracing)),
                   versions=built.versions)

    # -- the Haystack Agent: tools, state, the review loop as an on_exit hook ---------------------------------------
    def _build_haystack_agent(self) -> Any:
        from haystack.components.agents import Agent

        _haystack_telemetry_off()
        return Agent(
            chat_generator=self.client.haystack_generator(
                generation_kwargs={"max_tokens": self.settings.budgets.draft_max_tokens}),
            tools=self.tools or None,
            state_schema={"refine_rounds": {"type": int}, "approved": {"type": str}},
            # every LLM call of a turn counts: tool requests, the first draft, each refine round
            max_agent_steps=self.settings.budgets.tool_steps + 1 + self.settings.refine.max_rounds,
            hooks={"on_exit": [ReviewHook(self.settings.refine.max_rounds)]},
            raise_on_tool_invocation_failure=False,  # a tool that raises becomes an error message to the model
        )

    # -- input checks -----------------------------------------------------------------------------------------------
    def check_message(self, message: Any) -> str:
        if not isinstance(message, str):
            raise MedqError(f"message must be text, got {type(message).__name__}")
        text = message.strip()
        if not text:
            raise MedqError("message is empty: send the patient's question as text")
        limit = self.settings.budgets.max_message_chars
        if len(text) > limit:
            raise MedqError(f"message is {len(text)} characters, over agent.turn.budgets.max_message_chars = {limit}")
        return text

    # -- the turn ---------------------------------------------------------------------------------------------------
    def respond(self, patient_id: str, session_id: str, message: str, tenant: str = "default",
                message_id: str | None = None) -> TurnResult:
        text = self.check_message(message)
        message_id = message_id or uuid.uuid4().hex
        started = time.perf_counter()
        with self.tracer.turn(tenant, patient_id, session_id, text) as root:
            with self.tracer.span("memory_in", span_type="RETRIEVER") as span:
                # read now, written only by a normal exit of this block: a failed turn commits nothing
                memory_block = self.store.turn(tenant, patient_id, session_id,
                                               create_patient=self.settings.create_patients, message_id=message_id)
                memory = memory_block.__enter__()
                span.set_attributes({"facts": len(memory.stored_facts), "recent_turns": len(memory.recent_turns),
                                     "has_summary": memory.summary is not None})
            exited = False
            try:
                result = self._turn(memory, text, session_id, message_id)
                with self.tracer.span("memory_out", span_type="CHAIN") as span:
                    self._memory_out(memory, text, result)
                    span.set_attributes({"new_facts": len(result.memory_updates), "findings": len(result.findings)})
                    exited = True
                    memory_block.__exit__(None, None, None)   # the one write transaction of the turn
            except BaseException as exc:
                if not exited:   # let the store discard the turn's buffered writes
                    memory_block.__exit__(type(exc), exc, exc.__traceback__)
                raise
            result.latency_s = round(time.perf_counter() - started, 4)
            self.tracer.finish(root, {"outcome": result.outcome, "refine_rounds": result.refine_rounds,
                                      "findings": len(result.findings), "red_flags": len(result.red_flags),
                                      **{f"usage.{k}": v for k, v in result.usage.items()}}, result.answer)
            result.trace_id = getattr(root, "trace_id", None)
        return result

    async def arespond(self, patient_id: str, session_id: str, message: str, tenant: str = "default",
                       message_id: str | None = None) -> TurnResult:
        """`respond` off the event loop (the API's handlers are async); the turn's trace context goes with it."""
        import asyncio

        return await asyncio.to_thread(self.respond, patient_id, session_id, message, tenant, message_id)

    def _turn(self, memory: Any, text: str, session_id: str, message_id: str) -> TurnResult:
        with self.tracer.span("red_flags", span_type="GUARDRAIL") as span:
            flags = list(self.detect_red_flags(text))
            span.set_attributes({"flags": [getattr(f, "kind", str(f)) for f in flags]})
        with self.tracer.span("extraction", span_type="PARSER") as span:
            # revocations of remembered allergies/conditions/pregnancy come back `disputed` (medq.agent.confirmation)
            # the extractor reads the message with what is remembered (进展到3期了 / 其实不过敏 refer to it)
            new_facts = memory.add_facts(self.extractor.extract(text, message_id, known=memory.facts), message=text)
            span.set_attributes({"facts": [f"{f.kind}:{f.status}" for f in new_facts]})
        base = dict(session_id=session_id, message_id=message_id, versions=dict(self.versions),
                    memory_updates=[as_plain(f) for f in new_facts], red_flags=[as_plain(f) for f in flags])
        if flags:
            return TurnResult(answer=referral_reply(flags), outcome="referral", **base)
        if not _has_chinese(text):
            # the red-flag rules, the extractor and the lexicon read Chinese: without them the turn is not safe
            return TurnResult(answer="目前我只能理解中文提问，请用中文描述您的情况。如有紧急情况请立即拨打 120。",
                              outcome="unsupported_language", **base)
        profile = memory.profile
        evidence = self._retrieve(text)
        return self._draft_and_review(memory, text, profile, evidence, base)

    def _retrieve(self, text: str) -> list[Any]:
        """The retrieved evidence the prompt has room for (`agent.turn.budgets.evidence_tokens`): the review checks
        citations against exactly these passages, and the turn returns them."""
        if self.retriever is None:
            return []
        with self.tracer.span("retrieve", span_type="RETRIEVER") as span:
            result = self.retriever.retrieve(text)
            fitted = evidence_in_budget(result.evidence, self.settings.budgets.evidence_tokens,
                                        self.settings.budgets.estimate)
            span.set_attributes({"evidence": len(result.evidence), "truncated": result.truncated,
                                 "doc_ids": [e.doc_id for e in result.evidence],
                                 "in_prompt": [e.evidence_id for e in fitted.evidence],
                                 "cut": fitted.cut, "left_out": fitted.left_out})
            return fitted.evidence

    def _draft_and_review(self, memory: Any, text: str, profile: PatientProfile, evidence: list[Any],
                          base: dict[str, Any]) -> TurnResult:
        from medq.rag.citations import number_evidence

        evidence_block = number_evidence(evidence)
        profile_block, profile_left_out = profile_in_budget(profile, self.settings.budgets.profile_tokens,
                                                            self.settings.budgets.estimate)
        reviews: list[Review] = []

        def review(draft: str, round_: int, cut_off: bool) -> Review:
            with self.tracer.span(f"audit.round{round_}", span_type="GUARDRAIL") as span:
                result = self.reviewer.review(text, draft, profile, evidence, evidence_block, profile_block, round_,
                                              cut_off)
                span.set_attributes({"problems": [p.layer for p in result.problems],
                                     "withheld": [self.tracer.text(p.quote) for p in result.problems if p.quote],
                                     "critic": result.critic.verdict if result.critic else None,
                                     "critic_parsed": result.critic.parsed if result.critic else None})
            reviews.append(result)
            return result

        messages = self._messages(memory, text, evidence_block, profile_block)
        with self.tracer.span("draft", span_type="AGENT") as span:
            outputs = self._run_agent(messages, review)
            usage = _int_usage(outputs.get("token_usage") or {})
            span.set_attributes({"exit_reason": outputs.get("exit_reason"), "steps": outputs.get("step_count"),
                                 "tool_calls": outputs.get("tool_call_counts"), "profile_left_out": profile_left_out,
                                 **{f"tokens.{k}": v for k, v in usage.items()}})
        for r in reviews:
            if r.critic is not None:
                for key, value in r.critic.usage.items():
                    usage[key] = usage.get(key, 0) + value
        approved = outputs.get("approved")
        rounds = int(outputs.get("refine_rounds") or 0)
        findings = [{"round": r.round, "layer": p.layer, "message": p.message, **p.detail}
                    for r in reviews for p in r.problems]
        verdicts = [{"round": r.round, "verdict": r.critic.verdict, "parsed": r.critic.parsed,
                     "problems": r.critic.problems, "error": r.critic.error} for r in reviews if r.critic]
        common = dict(findings=findings, refine_rounds=rounds, critic_verdicts=verdicts, usage=usage,
                      evidence=[e.as_dict() for e in evidence], **base)
        if approved:
            cited = _cited_ids(approved, self.citation_checker)
            return TurnResult(answer=approved, outcome="refined" if rounds else "answered",
                              citations=[e.as_dict() for e in evidence if e.evidence_id in cited], **common)
        if not reviews:  # the Agent stopped before any reply could be reviewed (steps spent on tools, empty replies)
            common["findings"] = findings + [{"round": 0, "layer": "model",
                                              "message": "模型没有给出可审核的回答",
                                              "exit_reason": outputs.get("exit_reason")}]
        with self.tracer.span("fallback", span_type="CHAIN") as span:
            answer = fallback_reply(reviews[-1].problems if reviews else
                                    [Problem("model", "模型没有给出可审核的回答")])
            span.set_attributes({"reasons": sorted({p.layer for r in reviews[-1:] for p in r.problems})})
        return TurnResult(answer=answer, outcome="fallback", **common)

    def _run_agent(self, messages: list[Any], review: Any) -> dict[str, Any]:
        try:
            return self._agent.run(messages=messages, refine_rounds=0, hook_context={"review": review})
        except MedqError:
            raise
        except Exception as exc:
            from medq.serve.client import is_model_server_error

            # the one reading of a model server's failure (serve/client.py): down or timed out -> unavailable; a 4xx
            # is about this request (e.g. a prompt over the context), not an outage
            if is_model_server_error(exc) and hasattr(self.client, "error_for"):
                raise self.client.error_for(exc) from None
            raise

    # -- prompts and memory -------------------------------------------------------------------------------------------
    def _messages(self, memory: Any, text: str, evidence_block: str, profile_block: str) -> list[Any]:
        """The draft request: each part within its budget (`context_budget` adds them up; PROMPT_FRAME are the
        words around them)."""
        from haystack.dataclasses import ChatMessage

        system = self.system_prompt + f"\n\n患者资料：\n{profile_block or '（暂无记录）'}"
        if memory.summary is not None and memory.summary.text:
            system += f"\n\n之前对话的摘要：\n{memory.summary.text}"
        messages = [ChatMessage.from_system(system)]
        budgets = self.settings.budgets
        for turn in dialogue_in_budget(memory.recent_turns, budgets.summary_tokens, budgets.estimate):
            messages += [ChatMessage.from_user(turn.user_text), ChatMessage.from_assistant(turn.assistant_text)]
        messages.append(ChatMessage.from_user(f"证据：\n{evidence_block or '（没有检索到证据）'}\n\n问题：{text}"))
        return messages

    def _memory_out(self, memory: Any, text: str, result: TurnResult) -> None:
        if result.outcome != "referral":   # a disputed safety-critical fact: ask the patient to confirm
            result.answer += request_confirmation(getattr(memory, "disputes", []))
        memory.add_findings([{"drug": f.get("drug", ""), "rule": f.get("rule", f["layer"]),
                              "fact_value": f.get("patient_fact", ""), **f} for f in result.findings])
        memory.record(text, result.answer, {"outcome": result.outcome, "refine_rounds": result.refine_rounds,
                                            "citations": [c["evidence_id"] for c in result.citations],
                                            "versions": result.versions})
        summarise(self.client, self.tracer, memory, text, result.answer, self.settings.budgets.summary_tokens,
                  self.settings.budgets.summary_max_tokens, self.settings.budgets.estimate)


# --- plain-words helpers ----------------------------------------------------------------------------------------

def referral_reply(flags: Sequence[Any]) -> str:
    advice: list[str] = []
    for flag in flags:
        text = getattr(flag, "advice", None) or (flag.get("advice") if isinstance(flag, Mapping) else None)
        if text and text not in advice:
            advice.append(str(text))
    if not advice:
        advice = ["您描述的情况可能很危急，请立即拨打 120 或前往最近的急诊。"]
    return "\n".join(advice)


@dataclass
class FittedEvidence:
    evidence: list[Any]                 # what the prompt carries, in rank order; a cut passage with its content as cut
    cut: dict[str, str] = field(default_factory=dict)   # evidence id -> "chars before -> chars after"
    left_out: list[str] = field(default_factory=list)   # evidence ids the budget had no room for


def evidence_in_budget(evidence: Sequence[Any], budget_tokens: int, estimate: TokenEstimate) -> FittedEvidence:
    """Evidence passages (`medq.rag.components.Evidence`) in rank order while the numbered block
    (`number_evidence`) stays within `budget_tokens`: the first passage that does not fit is cut to the room left
    (at a sentence end where one keeps at least half of it, marked with CUT_MARK), or left out when that room is
    under MIN_EVIDENCE_TOKENS; every passage after it is left out. Ids stay E1… in order, so nothing is renumbered."""
    from dataclasses import replace

    from medq.rag.citations import number_evidence

    kept: list[Any] = []
    fitted = FittedEvidence(kept)
    for position, item in enumerate(evidence):
        if estimate(number_evidence([*kept, item])) <= budget_tokens:
            kept.append(item)
            continue
        content = " ".join(item.content.split())
        frame = estimate(number_evidence([*kept, replace(item, content=CUT_MARK)]))
        room = budget_tokens - frame
        part = estimate.prefix(content, room) if room > 0 else ""
        sentence_end = max(part.rfind(mark) for mark in "。！？；!?;")
        if sentence_end >= 0 and sentence_end + 1 >= len(part) // 2:
            part = part[:sentence_end + 1]
        if part and estimate(part) >= MIN_EVIDENCE_TOKENS:
            kept.append(replace(item, content=part + CUT_MARK, meta={**item.meta, "cut_from_chars": len(content)}))
            fitted.cut[item.evidence_id] = f"{len(content)} -> {len(part)} chars"
            position += 1
        fitted.left_out = [e.evidence_id for e in evidence[position:]]
        break
    return fitted


def profile_in_budget(profile: PatientProfile, budget_tokens: int | None = None,
                      estimate: TokenEstimate = TokenEstimate()) -> tuple[str, int]:
    """The patient's profile block of the prompt and how many facts it left out: facts in order of urgency (the
    states that change every drug choice, allergies, current medicines, conditions) while they fit `budget_tokens`
    (None: all), then PROFILE_LEFT_OUT (counted with the prompt's frame). The auditor always checks the whole
    profile."""
    entries = _profile_entries(profile)
    if budget_tokens is None or estimate(_render_profile(entries)) <= budget_tokens:
        return _render_profile(entries), 0
    low, high = 0, len(entries) - 1   # the block grows with the number of facts: bisect on it
    while low < high:
        middle = (low + high + 1) // 2
        if estimate(_render_profile(entries[:middle])) <= budget_tokens:
            low = middle
        else:
            high = middle - 1
    note = PROFILE_LEFT_OUT.format(n=len(entries) - low)
    return "；".join(filter(None, [_render_profile(entries[:low]), note])), len(entries) - low


def describe_profile(profile: PatientProfile) -> str:
    return profile_in_budget(profile)[0]


def _profile_entries(profile: PatientProfile) -> list[tuple[str, str | None]]:
    entries: list[tuple[str, str | None]] = []
    if profile.pregnant:
        entries.append(("怀孕中", None))
    if profile.lactating:
        entries.append(("哺乳期", None))
    if profile.age is not None:
        entries.append(("年龄", f"{profile.age}岁"))
    if profile.sex:
        entries.append(("性别", "男" if profile.sex == "male" else "女" if profile.sex == "female" else profile.sex))
    entries += [("过敏", a) for a in profile.allergies]
    entries += [("正在用药", m) for m in profile.medications]
    entries += [("疾病", c) for c in profile.conditions]
    return entries


def _render_profile(entries: Sequence[tuple[str, str | None]]) -> str:
    groups: dict[str, list[str]] = {}
    for label, value in entries:
        groups.setdefault(label, []).extend([value] if value is not None else [])
    return "；".join(f"{label}：{'、'.join(values)}" if values else label for label, values in groups.items())


def _cited_ids(answer: str, checker: Any) -> set[str]:
    return {c for s in checker.check(answer, []).sentences for c in s.cited}


def _haystack_telemetry_off() -> None:
    """Haystack decides on telemetry when first imported; if that import came before ours, switch it off now."""
    if os.environ.get("HAYSTACK_TELEMETRY_ENABLED", "").lower() not in ("true", "1"):
        import haystack.telemetry._telemetry as telemetry

        telemetry.telemetry = None


def _has_chinese(text: str) -> bool:
    from medq.rag.tokenizer import has_chinese

    return has_chinese(text)


def _int_usage(usage: Mapping[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in usage.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


__all__ = ["MedicalAgent", "TurnResult", "TurnSettings", "referral_reply"]
