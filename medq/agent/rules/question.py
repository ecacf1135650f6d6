"""A drug named in the patient's question that the draft endorses without naming it again (问：我能吃布洛芬吗？
答：可以的，饭后吃). The drug is audited as recommended when the draft's first sentence answers yes (可以/能/没问题
/放心 ...) and no warning scope in that sentence says no. Runs as an expansion before the other rule kinds."""

from __future__ import annotations

import re
from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding, Recommended
from medq.agent.rules.dose import stated_concentration
from medq.agent.scope import Span, load_table
from medq.agent.text import CLAUSE_MARKS, span_start

YES = ("可以", "能", "没问题", "没有问题", "放心", "不用担心", "不必担心", "适合", "是安全的", "比较安全", "可用", "可服")
# 问：是每天吃吗？ 答：是的，每天吃4片: an answer that opens by confirming what the patient asked (round 17)
OPENING_YES = re.compile(r"\s*[*#]*\s*(?:是的|对的|没错|对[，,！!])")
# words that hold 能 without saying "can" (可能血压过低 / 肾功能 / 能量): no yes
NOT_YES = re.compile(r"可能|功能|能力|性能|本能|才能|能量|机能|智能|技能|效能|潜能")


def _says_yes(text: str) -> bool:
    return any(word in NOT_YES.sub("", text) for word in YES)


# a medicine the patient already takes (在吃华法林 / 吃了白加黑): context of the question, not what it asks about
CURRENT = re.compile(r"(?:在|正在|一直)\s*(?:吃|用|服|服用|打|输)\s*$|(?:吃|用|服|打|输)\s*(?:了|着|的)\s*"
                     r"(?:[一二两三四五六七八九十\d半]+\s*(?:片|粒|包|袋|支|瓶|盒|次)\s*)?$")
BEHAVIOUR_YES = ("问题不大", "没关系", "没事", "少喝", "少量", "一点点", "适量")
DOSE = re.compile(r"\d\s*(?:mg|g|μg|ml|毫克|克|毫升|片|粒|袋|包|支|丸|万?单位|iu|IU)|[一二两三四五六七八九十半]\s*(?:片|粒|袋|包|支|丸)")


def _vaccine(lex, name: str) -> bool:
    return "疫苗" in name


ADJUNCT = re.compile(r"(?:同时|另外|并且|配合|再加|加上|额外)[^，,：:；;]{0,6}$")


class QuestionRule:
    name = "question"

    def expand(self, ctx: AuditContext) -> None:
        if not ctx.question.strip():
            return
        self._behaviours(ctx)
        lex = ctx.lexicon
        from medq.agent.scope import warned_mentions

        mentions = lex.find_mentions(ctx.question, ("drug", "product", "class", "substance"))
        warned = warned_mentions(ctx.question, [Span(m.start, m.end) for m in mentions])
        named = [m for m, w in zip(mentions, warned) if not w and (m.kind in ("drug", "product") or
                                                                    m.kind == "class" and _vaccine(lex, m.canonical))]
        if not named:
            return
        draft_mentions = lex.find_mentions(ctx.draft, ("drug", "product", "class"))
        # a bare "疫苗" in the draft answers about the question's vaccine: it names no vaccine of its own
        in_draft = {m.canonical for m in draft_mentions if m.canonical != "疫苗"}
        in_draft |= {s for name in in_draft for s in lex.ingredients(name)}
        if not in_draft and DOSE.search(ctx.draft):
            # the draft doses without naming a drug (问：西替利嗪滴剂（10mg/ml）怎么用？ 答：每次1ml，每天2次): the
            # dose is for the question's drug, at the concentration the question states
            for mention in named:
                substances = lex.ingredients(mention.canonical)
                if substances:
                    strength = stated_concentration(ctx.question[mention.end:], substances[0]) \
                        if len(substances) == 1 else None
                    ctx.recommended.append(Recommended(mention, substances, ctx.draft, origin="question",
                                                       strength=strength))
            return
        first = ctx.draft.strip()
        for end_mark in "。！？!?\n":
            first = first.split(end_mark)[0]
        head = first[:40]
        if not (_says_yes(head) or OPENING_YES.match(head)):
            return
        cues = load_table()
        from medq.agent.text import normalise

        if any(hit.value.role == "negation" for hit in cues.find(normalise(head))):
            return
        # …，同时每天补充叶酸: a name added on top of the answer (an adjunct) is no alternative to the drug asked about
        if any(m.canonical != "疫苗" and not ADJUNCT.search(first[max(0, m.start - 8):m.start])
               for m in lex.find_mentions(first, ("drug", "product", "class"))):
            return   # 可以先吃对乙酰氨基酚: the yes is about the drug the answer names, an alternative to the one asked
        from medq.agent.auditor import RELATIVE

        def asked(mention) -> bool:   # not a relative's medicine, not one the patient says they already take
            low = span_start(ctx.question, mention.start, CLAUSE_MARKS)
            before = ctx.question[low:mention.start]
            return not RELATIVE.search(before) and not CURRENT.search(before[-8:]) or \
                bool(re.search(r"(?:能|可以|想|要|让|叫|准备|打算|需要|该)\s*(?:吃|用|服|打|输|接种)?\s*$", before))

        if any(m.canonical in in_draft or set(lex.ingredients(m.canonical)) & in_draft for m in named):
            return   # the draft answers about the question's drug it names; the others are context
        for mention in named:
            if not asked(mention):
                continue
            substances = [mention.canonical] if mention.kind == "class" else lex.ingredients(mention.canonical)
            if substances:
                ctx.recommended.append(Recommended(mention, substances, ctx.draft, origin="question"))

    @staticmethod
    def _behaviours(ctx: AuditContext) -> None:
        """A behaviour or food the question asks about (能喝点啤酒吗 / 能开车吗) that the draft allows without naming it
        (少量喝一两杯问题不大): the draft endorses it."""
        from medq.agent.text import normalise

        lex = ctx.lexicon
        asked_words = [(m.text, m.canonical) for m in lex.find_mentions(ctx.question, ("substance",))
                       if lex.substances[m.canonical].kind in ("behaviour", "food")]
        asked = [canonical for _, canonical in asked_words]
        if not asked:
            return
        first = ctx.draft.strip()
        for end_mark in "。！？!?\n":
            first = first.split(end_mark)[0]
        head = normalise(first[:40])
        # the clause that allows it decides (少喝一点问题不大，注意别空腹: the caveat after it is about something else)
        clause = next((c for c in re.split(r"[，,：:]", head) if _says_yes(c) or any(w in c for w in BEHAVIOUR_YES)),
                      None)
        if clause is None or "不行" in head[:4]:
            return
        if any(hit.value.role == "negation" for hit in load_table().find(clause)) or "不行" in clause:
            return
        # one the draft warns against elsewhere (…要避开的是西柚) is not what an opening yes that names something else
        # allows (橙子可以放心吃); a yes that names it (少喝点啤酒没事) still does
        ctx.endorsed.update(canonical for word, canonical in asked_words
                            if word not in ctx.cautioned or word in clause)

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        return ()

