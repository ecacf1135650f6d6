"""Summary memory: what a prompt repeats verbatim of a session, and folding the older turns into the session summary.

A session's newest turns go into the draft prompt word for word as long as they fit the token budget
(`agent.turn.budgets.summary_tokens`, `dialogue_in_budget`); after a turn, the turns past that budget are compressed
by the model (`SUMMARY_PROMPT`, `summarise`) into the session summary the memory store keeps
(`MemoryTurn.set_summary`), which later prompts carry instead. Tokens are estimated without a tokenizer
(`estimate_tokens`): good enough to decide when to summarise.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Sequence

from medq.agent.memory.records import TurnRecord
from medq.agent.memory.unit import MemoryTurn
from medq.agent.tracing import TurnTracer
from medq.errors import MedqError

log = logging.getLogger(__name__)

SUMMARY_PROMPT = ("把下面的对话（以及已有摘要）压缩成一段不超过 150 字的中文摘要，保留症状、病史、用药、过敏和已给出的建议，"
                  "只输出摘要。")

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate: Qwen-family tokenizers spend about one token per Chinese character and about
    one per four other characters. Good enough to decide when to summarise, not to bill."""
    cjk = len(_CJK.findall(text))
    return cjk + (len(text) - cjk + 3) // 4


def turns_over_budget(turns: Sequence[TurnRecord], budget_tokens: int) -> list[TurnRecord]:
    """The oldest turns to fold into the summary so that the newest ones fit in `budget_tokens` (at least the
    last turn is always kept verbatim). Empty when everything fits."""
    kept, used = 0, 0
    for turn in reversed(turns):
        cost = estimate_tokens(turn.user_text) + estimate_tokens(turn.assistant_text)
        if kept and used + cost > budget_tokens:
            break
        kept, used = kept + 1, used + cost
    return list(turns[: len(turns) - kept])


def dialogue_in_budget(turns: Sequence[Any], budget_tokens: int) -> list[Any]:
    """The newest turns that fit `budget_tokens` (`agent.turn.budgets.summary_tokens`): what a prompt repeats
    verbatim. Older ones belong to the session summary; if summarising them failed, they are left out rather than
    let the prompt outgrow the model's context."""
    return list(turns[len(turns_over_budget(turns, budget_tokens)):])


def summarise(client: Any, tracer: TurnTracer, memory: MemoryTurn, text: str, answer: str, budget_tokens: int,
              max_tokens: int) -> None:
    """After a turn (`text`, `answer`): if the session's dialogue no longer fits `budget_tokens`, ask the model
    (`client.chat`, at most `max_tokens`) to fold the older turns into the summary and buffer it in the turn's
    memory. A model that fails leaves the summary as it was: the turn itself succeeded, the next one tries again."""
    pending = TurnRecord(memory.session_id, 0, "", text, answer, "")
    old = [t for t in turns_over_budget([*memory.recent_turns, pending], budget_tokens) if t is not pending]
    if not old:
        return
    previous = memory.summary.text if memory.summary is not None else ""
    dialogue = "\n".join(f"患者：{t.user_text}\n助手：{t.assistant_text}" for t in old)
    with tracer.span("memory_out.summarise", span_type="LLM") as span:
        try:
            reply = client.chat([{"role": "system", "content": SUMMARY_PROMPT},
                                 {"role": "user", "content": f"已有摘要：{previous or '（无）'}\n\n{dialogue}"}],
                                max_tokens=max_tokens)
        except MedqError as exc:
            # the turn itself succeeded; the old turns stay verbatim and the next turn tries again
            log.warning("session summary not updated: %s", exc)
            span.set_attributes({"error": str(exc)})
            return
        summary = (reply.text or "").strip()
        span.set_attributes({"turns": len(old), **{f"tokens.{k}": v for k, v in (reply.usage or {}).items()}})
    if summary:
        memory.set_summary(summary, covers_through=old[-1].seq)
