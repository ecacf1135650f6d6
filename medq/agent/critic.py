"""The LLM critic: a second opinion on a draft, as a JSON-schema verdict, failing closed.

The critic asks the model for `{"verdict": "pass"|"revise"|"block", "problems": [...]}` through structured output
(the server constrains the reply to the schema where it supports it, e.g. vLLM's guided decoding). The reply is
then parsed and validated here as well, because an external endpoint may ignore the schema. Anything that is not a
well-formed verdict (the call failed, no text, not JSON, wrong shape, "pass" with problems listed) counts as
"revise": a broken critic can hold a draft back, never wave it through.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

log = logging.getLogger(__name__)

Verdict = Literal["pass", "revise", "block"]
VERDICT_SCHEMA: dict[str, Any] = {
    "title": "critic_verdict",
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["pass", "revise", "block"]},
        # bounded, so a constrained reply always fits in the critic's max_tokens and stays parseable
        "problems": {"type": "array", "items": {"type": "string", "maxLength": 60}, "maxItems": 3},
    },
    "required": ["verdict", "problems"],
    "additionalProperties": False,
}

CRITIC_PROMPT = (
    "你是医疗回答的审核员。根据患者资料和编号证据审核下面的回答草稿：是否推荐了对该患者禁忌的药物或做法，"
    "是否有证据不支持的说法，是否遗漏了应当就医的提示。只输出 JSON："
    '{"verdict": "pass" 或 "revise" 或 "block", "problems": ["问题1", ...]}。'
    "没有问题时 verdict 为 pass 且 problems 为空。"
)


@dataclass
class CriticVerdict:
    verdict: Verdict
    problems: list[str] = field(default_factory=list)
    parsed: bool = True          # False: the reply could not be used, and the verdict is the fail-closed "revise"
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.parsed and self.verdict == "pass" and not self.problems


def parse_verdict(text: str | None) -> CriticVerdict:
    """A validated verdict from the critic's reply text; anything malformed becomes "revise" with the reason."""
    if not text or not text.strip():
        return CriticVerdict("revise", ["审核模型没有给出结论"], parsed=False, error="empty critic reply")
    raw = text.strip()
    if raw.startswith("```"):  # some models fence JSON even when asked not to
        raw = raw.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return CriticVerdict("revise", ["审核模型的结论无法解析"], parsed=False, error=f"not JSON: {exc}")
    if not isinstance(data, dict):
        return CriticVerdict("revise", ["审核模型的结论无法解析"], parsed=False, error="verdict is not an object")
    verdict, problems = data.get("verdict"), data.get("problems", [])
    if verdict not in ("pass", "revise", "block"):
        return CriticVerdict("revise", ["审核模型的结论无法解析"], parsed=False, error=f"unknown verdict {verdict!r}")
    if not isinstance(problems, list) or not all(isinstance(p, str) for p in problems):
        return CriticVerdict("revise", ["审核模型的结论无法解析"], parsed=False, error="problems is not a list of text")
    problems = [p.strip() for p in problems if p.strip()]
    if verdict == "pass" and problems:
        # a pass that lists problems is self-contradictory: take the problems seriously
        return CriticVerdict("revise", problems, parsed=True, error="pass with problems counted as revise")
    if verdict != "pass" and not problems:
        problems = ["审核模型要求修改但未说明原因"]
    return CriticVerdict(verdict, problems)


class LLMCritic:
    """Reviews a draft through the project's chat client with a JSON-schema reply."""

    def __init__(self, client: Any, max_tokens: int = 256, temperature: float = 0.0, prompt: str = CRITIC_PROMPT):
        self.client = client
        self.max_tokens, self.temperature, self.prompt = max_tokens, temperature, prompt

    def messages(self, question: str, draft: str, evidence_block: str, profile_block: str) -> list[dict[str, str]]:
        user = (f"患者资料：\n{profile_block or '（无）'}\n\n证据：\n{evidence_block or '（无）'}\n\n"
                f"患者问题：\n{question}\n\n回答草稿：\n{draft}")
        return [{"role": "system", "content": self.prompt}, {"role": "user", "content": user}]

    def review(self, question: str, draft: str, evidence_block: str = "", profile_block: str = "") -> CriticVerdict:
        try:
            reply = self.client.chat(self.messages(question, draft, evidence_block, profile_block),
                                     json_schema=VERDICT_SCHEMA, max_tokens=self.max_tokens,
                                     temperature=self.temperature)
        except Exception as exc:  # noqa: BLE001 — any failure of the critic must hold the draft back, not crash open
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            log.warning("critic call failed (%s); counting it as 'revise'", first)
            return CriticVerdict("revise", ["审核模型调用失败"], parsed=False, error=first)
        verdict = parse_verdict(getattr(reply, "text", None))
        verdict.usage = _usage(reply)
        return verdict


def _usage(reply: Any) -> dict[str, int]:
    usage = getattr(reply, "usage", None) or {}
    if not isinstance(usage, dict):
        usage = {k: getattr(usage, k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")
                 if isinstance(getattr(usage, k, None), int)}
    return {k: int(v) for k, v in usage.items() if isinstance(v, (int, float))}


def plain_problems(problems: Sequence[str]) -> str:
    return "；".join(problems)
