"""A drug named in the patient's question that the draft endorses without naming it again (问：我能吃布洛芬吗？
答：可以的，饭后吃). The drug is audited as recommended when the draft's first sentence answers yes (可以/能/没问题
/放心 ...) and no warning scope in that sentence says no. Runs as an expansion before the other rule kinds."""

from __future__ import annotations

from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding, Recommended
from medq.agent.scope import Span, load_table

YES = ("可以", "能", "没问题", "没有问题", "放心", "不用担心", "不必担心", "适合", "是安全的", "比较安全", "可用", "可服")


class QuestionRule:
    name = "question"

    def expand(self, ctx: AuditContext) -> None:
        if not ctx.question.strip():
            return
        lex = ctx.lexicon
        from medq.agent.scope import warned_mentions

        mentions = lex.find_mentions(ctx.question, ("drug", "product", "class", "substance"))
        warned = warned_mentions(ctx.question, [Span(m.start, m.end) for m in mentions])
        named = [m for m, w in zip(mentions, warned) if not w and m.kind in ("drug", "product")]
        if not named:
            return
        in_draft = {m.canonical for m in lex.find_mentions(ctx.draft, ("drug", "product", "class"))}
        in_draft |= {s for name in in_draft for s in lex.ingredients(name)}
        first = ctx.draft.strip()
        for end_mark in "。！？!?\n":
            first = first.split(end_mark)[0]
        head = first[:40]
        if not any(word in head for word in YES):
            return
        cues = load_table()
        from medq.agent.text import normalise

        if any(hit.value.role == "negation" for hit in cues.find(normalise(head))):
            return
        for mention in named:
            if mention.canonical in in_draft or set(lex.ingredients(mention.canonical)) & in_draft:
                continue
            substances = lex.ingredients(mention.canonical)
            if substances:
                ctx.recommended.append(Recommended(mention, substances, ctx.draft, origin="question"))

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        return ()

