"""Summary memory: what a prompt repeats verbatim of a session, and folding the older turns into the session summary.

A session's newest turns go into the draft prompt word for word as long as they fit the token budget
(`agent.turn.budgets.summary_tokens`, `dialogue_in_budget`); after a turn, the turns past that budget are compressed
by the model (`SUMMARY_PROMPT`, `summarise`) into the session summary the memory store keeps
(`MemoryTurn.set_summary`), which later prompts carry instead. Tokens are estimated without a tokenizer
(`TokenEstimate`, calibrated per tokenizer by `agent.turn.budgets.tokens_per_*`): the same estimate decides when to
summarise and what fits the prompt's other budgets (`medq.agent.turn`).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Sequence

from medq.agent.memory.records import TurnRecord
from medq.agent.memory.unit import MemoryTurn
from medq.agent.tracing import TurnTracer
from medq.errors import MedqError

log = logging.getLogger(__name__)

SUMMARY_PROMPT = ("把下面的对话（以及已有摘要）压缩成一段不超过 150 字的中文摘要，保留症状、病史、用药、过敏和已给出的建议，"
                  "只输出摘要。")

CUT_MARK = "……"   # ends a text a prompt carries cut to its budget (a long turn here, evidence in medq.agent.turn)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@dataclass(frozen=True)
class TokenEstimate:
    """Tokens without a tokenizer: so many per Chinese character, per other character, and per chat message (the
    chat template's role markers around it). The defaults fit Qwen-family tokenizers (about one token per Chinese
    character, one per four other characters, ~5-9 template tokens a message); another tokenizer gets its own
    figures from `agent.turn.budgets.tokens_per_*` (`benchmarks/tokens_per_char.py` measures them). An
    estimate, not a bill: calibrated so that the prompt's budgets hold, rounded up."""

    cjk_char: float = 1.0
    other_char: float = 0.25
    message: int = 8

    def __call__(self, text: str) -> int:
        cjk = len(_CJK.findall(text))
        # rounded before the ceiling: 10 x 1.1 is 11.000000000000002 in floating point, and 11 tokens
        return math.ceil(round(cjk * self.cjk_char + (len(text) - cjk) * self.other_char, 6))

    def turn(self, turn: Any) -> int:
        """A remembered turn as the prompt repeats it: the patient's message and the reply, two chat messages."""
        return self(turn.user_text) + self(turn.assistant_text) + 2 * self.message

    def prefix(self, text: str, budget_tokens: int) -> str:
        """The longest start of `text` whose estimate is at most `budget_tokens`."""
        low, high = 0, len(text)
        while low < high:   # the estimate grows with the prefix: bisect on its length
            middle = (low + high + 1) // 2
            if self(text[:middle]) <= budget_tokens:
                low = middle
            else:
                high = middle - 1
        return text[:low]


def estimate_tokens(text: str) -> int:
    """The default (Qwen-family) estimate of one text: one token per Chinese character, one per four others."""
    return TokenEstimate()(text)


def turns_over_budget(turns: Sequence[TurnRecord], budget_tokens: int,
                      estimate: TokenEstimate = TokenEstimate()) -> list[TurnRecord]:
    """The oldest turns to fold into the summary so that the newest ones fit in `budget_tokens` (at least the
    last turn is always kept verbatim). Empty when everything fits. A turn costs its two messages' text and their
    chat-template tokens (`TokenEstimate.turn`)."""
    kept, used = 0, 0
    for turn in reversed(turns):
        cost = estimate.turn(turn)
        if kept and used + cost > budget_tokens:
            break
        kept, used = kept + 1, used + cost
    return list(turns[: len(turns) - kept])


def dialogue_in_budget(turns: Sequence[Any], budget_tokens: int,
                       estimate: TokenEstimate = TokenEstimate()) -> list[Any]:
    """The newest turns that fit `budget_tokens` (`agent.turn.budgets.summary_tokens`): what a prompt repeats
    verbatim. Older ones belong to the session summary; if summarising them failed, they are left out rather than
    let the prompt outgrow the model's context. The newest turn is never folded away (summary memory keeps it), so
    when it alone is over the budget the prompt carries it cut to fit (`CUT_MARK`), not whole."""
    kept = list(turns[len(turns_over_budget(turns, budget_tokens, estimate)):])
    if len(kept) == 1 and estimate.turn(kept[0]) > budget_tokens:
        cut = _cut_turn(kept[0], budget_tokens, estimate)
        return [cut] if cut is not None else []
    return kept


def _cut_turn(turn: Any, budget_tokens: int, estimate: TokenEstimate) -> Any | None:
    """`turn` with its message and reply cut so that `estimate.turn` fits `budget_tokens` (the message to at most
    half unless the reply needs less); None when not even the chat template's tokens fit."""
    from dataclasses import replace

    room = budget_tokens - 2 * estimate.message
    if room <= 0:
        return None

    def cut(text: str, tokens: int) -> str:
        if estimate(text) <= tokens:
            return text
        mark = estimate(CUT_MARK)
        return estimate.prefix(text, tokens - mark) + CUT_MARK if tokens > mark else ""

    user = cut(turn.user_text, max(room // 2, room - estimate(turn.assistant_text)))
    return replace(turn, user_text=user, assistant_text=cut(turn.assistant_text, room - estimate(user)))


def summarise(client: Any, tracer: TurnTracer, memory: MemoryTurn, text: str, answer: str, budget_tokens: int,
              max_tokens: int, estimate: TokenEstimate = TokenEstimate()) -> None:
    """After a turn (`text`, `answer`): if the session's dialogue no longer fits `budget_tokens`, ask the model
    (`client.chat`, at most `max_tokens`) to fold the older turns into the summary and buffer it in the turn's
    memory. A model that fails leaves the summary as it was: the turn itself succeeded, the next one tries again."""
    pending = TurnRecord(memory.session_id, 0, "", text, answer, "")
    old = [t for t in turns_over_budget([*memory.recent_turns, pending], budget_tokens, estimate) if t is not pending]
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
