"""Planning a pregnancy (round 16): a patient who says she is trying to conceive (备孕, 想要孩子, 打算怀孕, 准备要二胎), or
a man whose partner is, meets the rows whose population is `planning_pregnancy` (a teratogen to stop, with the
label's washout in the row's management: 停药后至少3个月再怀孕). A profile already pregnant is the pregnancy rule's.

Two things block, and only when the row blocks:
- the draft keeps such a drug while planning (可以继续吃 / 边吃边备孕 / 不需要停药) — recommended or endorsed from the
  question — and neither tells to stop or switch in the drug's sentence nor gives a wait at least the row's;
- the draft gives a wait before conception shorter than the row's (阿维A停药1个月后就可以怀孕; row: 3 years), whether
  it recommends the drug or warns against it.
A live vaccine is given before a pregnancy on purpose: only its wait (接种后4周内避免怀孕) is checked. The fact is read
from the question (a relative's or the partner's plan counts; a statement about people in general does not) and
from the draft's own framing (备孕期间…), not from its conditionals (如果您打算怀孕…). Nothing below runs unless the
question or the draft holds a word of conception, so the usual audit pays one substring scan.
"""

from __future__ import annotations

import re
from typing import Iterable

from medq.agent.knowledge import WASHOUT_UNITS, Mention, Rule, count_number, washout_days
from medq.agent.rules.base import AuditContext, Finding, Recommended, finding, shown
from medq.agent.text import CLAUSE_MARKS, SENTENCE_MARKS, span_end, span_start

TOPICS = ("planning_pregnancy",)
GATE = ("孕", "孩子", "宝宝", "二胎", "三胎", "二宝", "生育", "妊娠")
PLANNING = re.compile(
    r"备孕|试孕|孕前|怀孕计划|生育计划|"
    r"(?:想|打算|准备|计划|考虑|预备|希望|想要)\s*(?:明年|今年|年底|近期|马上|尽快|再|开始)?\s*"
    r"(?:怀孕|怀上|受孕|要孩子|要个孩子|要小孩|要宝宝|要个宝宝|要二胎|要二宝|要三胎|生孩子|生宝宝|生小孩|生二胎|生个|"
    r"怀二胎|生育|妊娠|当妈妈|当爸爸)|"
    r"想要\s*(?:个|一个)?\s*(?:孩子|宝宝|小孩|二胎|二宝|三胎)|要二胎|要二宝|要三胎")
NOT_PLANNING = re.compile(r"(?:不|没|没有|暂不|暂时不|不再|还没|并不|无)\s*$")
CONDITIONAL = re.compile(r"如果|假如|若|如您|如有|一旦|将来|以后|未来|日后|今后|等到")
GENERIC = re.compile(r"有的人|有些人|很多人|一般人|别人|其他人")
PARTNER_MALE = re.compile(r"老婆|妻子|媳妇|太太|女朋友|女友|爱人她")
# the draft frames the patient as planning now: 备孕期间 / 备孕中 / 您正在备孕
DRAFT_NOW = re.compile(r"\s*(?:期间|期|中|阶段|时期|的时候)")
DRAFT_YOU = re.compile(r"(?:您|你)\s*(?:现在|目前|正|正在|在|已经|既然)\s*$|(?:正在|目前在|既然)\s*$")
# 停药后3个月再怀孕 / 接种后1个月内避免怀孕 / 停药满6周就可以备孕 / 3-6个月后再要孩子
WAIT = re.compile(r"(\d+(?:\.\d+)?|[一两二三四五六七八九十半])\s*(?:[-~～到至]\s*(?:\d+(?:\.\d+)?|[一两二三四五六七八九十]))?"
                  r"\s*(天|日|周|个星期|星期|个月|月|年)\s*(?:以上|左右)?\s*(?:后|以后|之后|再|才|就|内|以内|里|之内|即可|便可)")
EMPHASIS = re.compile(r"\*{1,3}|_{2,3}")
CONCEPTION = re.compile(r"怀孕|备孕|受孕|要孩子|要宝宝|要小孩|避孕|妊娠|怀上|试孕|生育|生孩子|生宝宝")
NEXT_SPAN = re.compile(r"(?:\d+(?:\.\d+)?|[一两二三四五六七八九十半])\s*(?:天|日|周|个星期|星期|个月|月|年)")
STOP_OR_SWITCH = re.compile(r"停药|停用|停掉|停服|换用|改用|换成|换为|换药|替换|改成|改为|洗脱")
STOP_NEGATED = re.compile(r"(?:不|无需|不用|不必|没必要|别|无须|不需)\s*(?:要|需要)?\s*$")
# the draft keeps the patient's own medicine (可以继续吃 / 不需要停药 / 边吃边备孕 / 不影响备孕), not 不能继续吃
KEEP = re.compile(r"继续(?:吃|用|服|服用|使用|用药)|(?:不|无|无需|不必|不用|不需要|没必要)\s*(?:要)?\s*(?:停药|停用|停掉|停|换药)|"
                  r"边(?:吃|用|服药)边(?:备孕|怀孕|要孩子)|不影响(?:备孕|怀孕|生育|要孩子)|照常(?:吃|用|服)")
KEEP_NEGATED = re.compile(r"(?:不能|不要|不可|不可以|别|不宜|不建议|不应|不应该|不得|禁止)\s*$")
ELIMINATION = re.compile(r"考来烯胺|消胆胺|洗脱")
SLACK = 0.9   # 12周 for 3个月, 4周 for 1个月: a wait a tenth short of the row's is the same wait in other units


def planning(ctx: AuditContext) -> tuple[str, bool] | None:
    """('question' | 'draft', the planner is the male partner) when someone is planning a pregnancy; None otherwise."""
    if ctx.question:
        for found in PLANNING.finditer(ctx.question):
            before = _clause_before(ctx.question, found.start())
            if NOT_PLANNING.search(before) or GENERIC.search(before):
                continue
            return "question", ctx.profile.sex == "male" or bool(PARTNER_MALE.search(before))
    for found in PLANNING.finditer(ctx.draft):
        before = _clause_before(ctx.draft, found.start())
        if NOT_PLANNING.search(before) or GENERIC.search(before) or CONDITIONAL.search(before) or \
                not (DRAFT_NOW.match(ctx.draft, found.end()) or DRAFT_YOU.search(before)):
            continue   # 备孕前请咨询医生 / 如果以后计划怀孕: advice for a plan, not the patient's plan
        return "draft", ctx.profile.sex == "male" or bool(PARTNER_MALE.search(before))
    return None


def _clause_before(text: str, start: int) -> str:
    return text[span_start(text, start, CLAUSE_MARKS):start]


def _sentence(text: str, start: int, end: int, following: int = 0) -> str:
    low = span_start(text, start)
    high = end
    for _ in range(following + 1):
        high = span_end(text, high) + 1
    return text[low:high]


def stated_wait(text: str) -> float | None:
    """The shortest wait before conception the text gives, in days (None: it gives none): a span of time whose next
    words, before another span or the sentence's end, speak of conception (接种后3天内可能发热，1个月内避免怀孕: 1个月)."""
    waits = []
    if "*" in text or "_" in text:
        text = EMPHASIS.sub("", text)    # 停药后**一个月**就可以备孕: markdown emphasis is no word (round 18)
    for found in WAIT.finditer(text):
        after = text[found.end():found.end() + 16]
        cut = min([i for i in (after.find(mark) for mark in SENTENCE_MARKS) if i >= 0] +
                  [m.start() for m in NEXT_SPAN.finditer(after)] + [len(after)])
        if CONCEPTION.search(after[:cut]):
            waits.append(count_number(found.group(1)) * WASHOUT_UNITS[found.group(2)])
    return min(waits) if waits else None


class PreconceptionRule:
    name = "preconception"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        if ctx.profile.pregnant or not any(word in ctx.question or word in ctx.draft for word in GATE):
            return
        mentions = self._rows(ctx)
        own = self._own(ctx, {m.canonical for m, *_ in mentions})
        if not mentions and not own:
            return   # no drug of the draft, the question or the patient's medicines has a planning row
        fact = planning(ctx)
        male = fact[1] if fact else ctx.profile.sex == "male"
        seen: set[tuple[str, str]] = set()
        if fact is not None:
            kept = self._kept(ctx)
            for rec, ingredient, row in own:
                if kept and (rec.name, row.id) not in seen and \
                        any(t.kind == "sex" and t.value == "male" for t in row.population) == male and \
                        not self._vaccine(ctx, ingredient):
                    seen.add((rec.name, row.id))
                    # 我在吃甲氨蝶呤，想备孕，能继续吃吗 → 可以继续吃: the draft keeps the patient's own medicine
                    yield self._continued(ctx, rec, rec.mention, ingredient, row, fact[0], male)
        for mention, rec, ingredient, row in mentions:
            if any(t.kind == "sex" and t.value == "male" for t in row.population) != male or \
                    (row.id, mention.canonical) in seen:
                continue
            in_draft = rec is None or rec.origin == "draft"
            around = _sentence(ctx.draft, mention.start, mention.end, following=1) if in_draft else ctx.draft
            wait = stated_wait(around) if CONCEPTION.search(around) else None
            needed = washout_days(row.management)
            display = rec.display if rec is not None else mention.text.strip() or mention.canonical
            named = shown(rec, ingredient) if rec is not None else (
                display if ingredient == mention.canonical else f"{display}（含{ingredient}）")
            if row.blocks and needed is not None and wait is not None and wait < needed * SLACK and \
                    not (ELIMINATION.search(row.management) and ELIMINATION.search(ctx.draft)):
                seen.add((row.id, mention.canonical))
                yield self._finding(ctx, rec, mention, ingredient, row, "planning:washout",
                                    f"{named}：{row.management}；回答给的间隔（约{_days(wait)}）短于此，不安全。",
                                    block=True)
                continue
            if rec is None or fact is None or rec.local or self._vaccine(ctx, ingredient):
                continue   # warned against, nobody planning, on the skin, or a vaccine given before a pregnancy
            said = _sentence(ctx.draft, mention.start, mention.end) if in_draft else ""
            if in_draft and any(not STOP_NEGATED.search(said[max(0, m.start() - 6):m.start()])
                                for m in STOP_OR_SWITCH.finditer(said)):
                continue   # 计划怀孕前停用甲氨蝶呤 / 华法林换成低分子肝素: the draft stops or switches it
            if needed is not None and wait is not None and wait >= needed * SLACK:
                continue   # the draft gives at least the row's wait
            seen.add((row.id, mention.canonical))
            yield self._continued(ctx, rec, mention, ingredient, row, fact[0], male)

    def _continued(self, ctx: AuditContext, rec: Recommended, mention: Mention, ingredient: str, row: Rule,
                   source: str, male: bool) -> Finding:
        """The draft keeps a drug of a planning row: blocks when the row does."""
        words = "禁用" if row.action == "contraindicated" else "应避免使用" if row.blocks else "需慎重"
        who = "患者的伴侣计划怀孕" if male else "患者计划怀孕（备孕）"
        return self._finding(ctx, rec, mention, ingredient, row, f"planning:{source}",
                             f"{who}，{shown(rec, ingredient)}备孕期{words}" +
                             (f"（{row.effect}）" if row.effect else "") + f"：{row.management}。", block=row.blocks)

    @staticmethod
    def _rows(ctx: AuditContext) -> list[tuple[Mention, Recommended | None, str, Rule]]:
        out = []
        for rec in ctx.recommended:
            for ingredient in rec.substances:
                out += [(rec.mention, rec, ingredient, row) for row in ctx.population_rows(ingredient, TOPICS)]
        for mention in ctx.warned:
            found = ctx.lexicon.lookup(mention.canonical)
            subs = [mention.canonical] if found and found[0] == "class" else \
                ctx.lexicon.ingredients(mention.canonical) or [mention.canonical]
            for ingredient in subs:
                out += [(mention, None, ingredient, row) for row in ctx.population_rows(ingredient, TOPICS)]
        return out

    @staticmethod
    def _own(ctx: AuditContext, named: set[str]) -> list[tuple[Recommended, str, Rule]]:
        """The patient's own medicines (the profile's, and those the question names) with a planning row, that the
        draft does not name itself."""
        out: list[tuple[Recommended, str, Rule]] = []
        names = [(stated, canonical, subs) for stated, canonical, subs in ctx.medication_substances()]
        if ctx.question:
            for m in ctx.lexicon.find_mentions(ctx.question, ("drug", "product", "class")):
                subs = [m.canonical] if m.kind == "class" else ctx.lexicon.ingredients(m.canonical) or [m.canonical]
                names.append((m.text, m.canonical, subs))
        for stated, canonical, subs in names:
            if canonical in named:
                continue
            mention = Mention(stated, 0, 0, "drug", canonical)
            for ingredient in subs:
                for row in ctx.population_rows(ingredient, TOPICS):
                    out.append((Recommended(mention, subs, origin="question"), ingredient, row))
        return out

    @staticmethod
    def _kept(ctx: AuditContext) -> bool:
        """Whether a clause of the draft that names no drug before it keeps a medicine on (可以继续吃 / 不需要停药) without
        stopping or switching: it answers about the patient's own medicine."""
        starts = [r.mention.start for r in ctx.recommended if r.origin == "draft"] + [m.start for m in ctx.warned]
        for found in KEEP.finditer(ctx.draft):
            if KEEP_NEGATED.search(ctx.draft[max(0, found.start() - 6):found.start()]):
                continue
            sentence = _sentence(ctx.draft, found.start(), found.end())
            low = span_start(ctx.draft, found.start(), CLAUSE_MARKS)
            if any(low <= start < found.start() for start in starts):
                continue   # 优甲乐不需要停药: the clause keeps a drug it names
            if not any(not STOP_NEGATED.search(sentence[max(0, m.start() - 6):m.start()])
                       for m in STOP_OR_SWITCH.finditer(sentence) if not KEEP.match(sentence, max(0, m.start() - 3))):
                return True
        return False

    @staticmethod
    def _vaccine(ctx: AuditContext, ingredient: str) -> bool:
        substance = ctx.lexicon.substances.get(ingredient)
        return bool(substance and substance.kind == "vaccine")

    def _finding(self, ctx: AuditContext, rec: Recommended | None, mention: Mention, ingredient: str, row: Rule,
                 fact: str, reason: str, block: bool) -> Finding:
        rec = rec or Recommended(mention, [ingredient])
        return finding(ctx, rec, ingredient, self.name, fact, None, reason, row, block=block)


def _days(days: float) -> str:
    if days >= 365:
        return f"{days / 365:g}年"
    if days >= 28 and days % 30 == 0:
        return f"{days / 30:g}个月"
    if days % 7 == 0:
        return f"{days / 7:g}周"
    return f"{days:g}天"
