"""The review of a draft, and what the patient is told when no draft passes it.

`Reviewer.review` runs the three layers on one draft and lists the `Problem`s that keep it from being shown: the
deterministic contraindication auditor (its "block" findings; each rule writes its own plain sentence, the finding's
`reason`), the LLM critic's JSON verdict (unparseable → a problem) and the citation check (with
`agent.turn.citations.required`, every unsupported sentence is a problem). `ReviewHook` is the Haystack Agent's
`on_exit` hook: it reviews each finished draft and, while refine rounds are left, sends the Agent round again with
the problems (`REFINE_PROMPT`); only a draft it approved can become the answer. Otherwise the turn ends with
`fallback_reply`: what was withheld and why, in plain words, and a referral (`REFERRAL`); never the draft itself.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Literal, Mapping, Sequence

from medq.agent.critic import CriticVerdict, LLMCritic
from medq.agent.facts import PatientProfile
from medq.agent.tracing import TurnTracer

REFINE_PROMPT = "上面的回答没有通过安全审核，问题如下：\n{problems}\n请改写回答，解决所有问题，仍然为每句注明证据编号。"
# the wording of the referral appended to every fallback
REFERRAL = "为了您的安全，请咨询医生或药师后再用药；如果症状严重或持续加重，请及时就医。"
FALLBACK_HEAD = "抱歉，这次我不能给出刚才准备的建议，因为它没有通过安全审核："


@dataclass
class Problem:
    """Something that keeps a draft from being shown: from the auditor, the critic, the citation check, or the
    model itself (empty or cut-off reply). `message` is plain Chinese that describes the problem without quoting
    the draft: it goes to clients (`medq.findings`), the memory store and the fallback. `quote` is the withheld
    text the problem is about (a draft sentence, the critic's words): only the model (refine prompt) and the trace
    (as text only under `privacy.patient_text_in_logs`) ever see it."""

    layer: Literal["auditor", "critic", "citations", "model"]
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    quote: str = ""

    def for_model(self) -> str:
        return f"{self.message}：{self.quote}" if self.quote else self.message


@dataclass
class Review:
    round: int
    problems: list[Problem]
    critic: CriticVerdict | None = None
    citation_metrics: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


class Reviewer:
    """Reviews drafts with the agent's auditor (`.audit(draft, profile, question=...)` → result with `.findings`),
    critic (`LLMCritic` or None: no critic) and citation checker (`medq.rag.citations.CitationChecker`), each
    layer in its own trace span. `citations_required` / `min_support`: `agent.turn.citations`."""

    def __init__(self, auditor: Any, critic: LLMCritic | None, citation_checker: Any, tracer: TurnTracer,
                 citations_required: bool = True, min_support: float = 0.3):
        self.auditor, self.critic, self.citation_checker, self.tracer = auditor, critic, citation_checker, tracer
        self.citations_required, self.min_support = citations_required, min_support

    def review(self, question: str, draft: str, profile: PatientProfile, evidence: Sequence[Any],
               evidence_block: str, profile_block: str, round_: int = 0, cut_off: bool = False) -> Review:
        problems: list[Problem] = []
        if not draft.strip():
            return Review(round_, [Problem("model", "模型给出了空回答")])
        if cut_off:
            problems.append(Problem("model", "回答被截断，内容不完整"))
        with self.tracer.span("audit.auditor", span_type="GUARDRAIL") as span:
            audit = self.auditor.audit(draft, profile, question=question)
            findings = list(getattr(audit, "findings", audit) or [])
            # "warn" findings (e.g. 慎用 in lactation) are recorded but do not hold a draft back; "block" ones do
            problems += [Problem("auditor", describe_finding(f), as_plain(f)) for f in findings
                         if getattr(f, "severity", "block") != "warn"]
            span.set_attributes({"findings": [f"{getattr(f, 'drug', '')}:{getattr(f, 'rule', '')}"
                                              for f in findings]})
        critic = None
        if self.critic is not None:
            with self.tracer.span("audit.critic", span_type="LLM") as span:
                critic = self.critic.review(question, draft, evidence_block, profile_block)
                span.set_attributes({"verdict": critic.verdict, "parsed": critic.parsed, "error": critic.error,
                                     **{f"tokens.{k}": v for k, v in critic.usage.items()}})
            if not critic.passed:
                # the critic's words may quote the draft: they stay with the model and the trace
                problems += [Problem("critic", f"审核意见{i}：回答可能不准确、不完整或不安全",
                                     {"verdict": critic.verdict, "parsed": critic.parsed}, quote=p)
                             for i, p in enumerate(critic.problems, start=1)]
        with self.tracer.span("audit.citations", span_type="GUARDRAIL") as span:
            report = self.citation_checker.check(draft, list(evidence))
            metrics = report.metrics()
            span.set_attributes({k: v for k, v in metrics.items()})
            if self.citations_required:
                problems += citation_problems(report, self.min_support)
        return Review(round_, problems, critic, metrics)


class ReviewHook:
    """The Agent's `on_exit` hook: review each finished draft; send the Agent round again with the problems while
    refine rounds are left. Only a draft this hook approved lands in the state's `approved` key."""

    def __init__(self, max_rounds: int):
        self.max_rounds = max_rounds

    def run(self, state: Any) -> None:
        from haystack.dataclasses import ChatMessage

        review = state.data["hook_context"]["review"]
        last = state.data["messages"][-1]
        draft = last.text or "" if last.is_from("assistant") else ""
        rounds = int(state.data.get("refine_rounds") or 0)
        result = review(draft, rounds, state.data.get("exit_reason") in ("length", "content_filter"))
        if result.ok:
            state.set("approved", draft)
            return
        if rounds < self.max_rounds:
            problems = "\n".join(f"- {p.for_model()}" for p in result.problems)
            state.set("messages", [ChatMessage.from_user(REFINE_PROMPT.format(problems=problems))])
            state.set("refine_rounds", rounds + 1)
            state.set("continue_run", True)


# --- plain words -------------------------------------------------------------------------------------------------

def as_plain(value: Any) -> dict[str, Any]:
    """A finding / flag / fact from any of the agent's components as a JSON-ready dict."""
    if is_dataclass(value) and not isinstance(value, type):
        return json.loads(json.dumps(asdict(value), ensure_ascii=False, default=str))
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, Mapping):
        return dict(value)
    return {"value": str(value)}


def describe_finding(finding: Any) -> str:
    """A finding in plain words for the patient: the sentence its rule wrote (`Finding.reason`; a mapping's
    `reason` or `message`). A finding that brings none (not from medq's rules) is named by its drug and fact."""
    for key in ("reason", "message"):
        message = getattr(finding, key, None) or (finding.get(key) if isinstance(finding, Mapping) else None)
        if message:
            return str(message)
    data = as_plain(finding)
    drug = data.get("drug", "某药物")
    fact = data.get("fact") or data.get("fact_value") or ""
    if isinstance(fact, Mapping):
        fact = fact.get("value", "")
    return f"建议中的{drug}不适合您：未通过安全规则检查" + (f"（您的记录：{fact}）" if fact else "")


def citation_problems(report: Any, min_support: float) -> list[Problem]:
    problems = []
    for index, sentence in enumerate(report.sentences, start=1):
        if sentence.unknown:
            problems.append(Problem("citations", f"第{index}句引用了不存在的证据 {', '.join(sentence.unknown)}",
                                    {"sentence": index, "unknown": sentence.unknown}))
        elif sentence.support is None or sentence.support < min_support:
            problems.append(Problem("citations", f"第{index}句没有证据支持",
                                    {"sentence": index, "support": sentence.support}, quote=sentence.sentence))
    return problems


def fallback_reply(problems: Sequence[Problem]) -> str:
    """What was withheld and why, in plain words, and a referral; never the draft itself."""
    reasons: list[str] = []
    for problem in problems:
        if problem.layer == "auditor":
            reason = problem.message
        elif problem.layer == "citations":
            reason = "部分内容没有找到可靠的资料依据"
        elif problem.layer == "critic":
            reason = "审核没有通过（回答可能不准确或不完整）"
        else:
            reason = "没有得到完整、可审核的回答"
        if reason not in reasons:
            reasons.append(reason)
    lines = "\n".join(f"- {r}" for r in reasons) or "- 回答没有通过审核"
    # a blank line ends the list: in Markdown the referral would otherwise continue the last bullet
    return f"{FALLBACK_HEAD}\n{lines}\n\n{REFERRAL}"
