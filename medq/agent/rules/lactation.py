"""Breastfeeding. A row whose label manages the risk by pausing breastfeeding (停药3天后再哺乳 / 用药后12小时内暂停哺乳)
is followed when the draft pauses it at least as long: the finding then warns instead of blocking."""

from __future__ import annotations

import dataclasses
import re
from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding
from medq.agent.rules.population import PopulationRule
from medq.agent.text import span_end, span_start

FEEDING = r"(?:哺乳|喂奶|母乳喂养|喂母乳|母乳|喂养)"
# (round 15) a week counts (服药后1周内不哺乳 / 暂停哺乳一周), its number in digits or words
AMOUNT = r"(\d+(?:\.\d+)?|[一两二三四五六七])"
UNIT = r"(天|日|小时|h|周|个星期|星期)"
# the label's pause: 停药3天后再哺乳 / 暂停哺乳12-24小时 / 服药后24小时内不宜哺乳
ROW_PAUSE = re.compile(rf"(?:停药|服药|用药|给药)?[^，,。；;]{{0,6}}?(?:\d+(?:\.\d+)?\s*[-~～到至]\s*)?{AMOUNT}\s*{UNIT}"
                       rf"[^，,。；;]{{0,6}}?{FEEDING}|(?:暂停|停止|中断){FEEDING}[^，,。；;]{{0,4}}?{AMOUNT}\s*{UNIT}")
# the draft's pause: 暂停哺乳3天 / 暂停哺乳（72小时） / 72小时后再喂奶 / 吸出倒掉
DRAFT_PAUSE = re.compile(rf"(?:暂停|停止|中断|停)\s*{FEEDING}")
DRAFT_DURATION = re.compile(rf"(?:暂停|停止|中断|停)\s*{FEEDING}[^。；;！!？?\n]{{0,12}}?{AMOUNT}\s*{UNIT}|"
                            rf"{AMOUNT}\s*{UNIT}\s*(?:后|以后|之后)\s*(?:再|才|恢复)\s*(?:开始)?\s*{FEEDING}")
PAUSE_NEGATED = re.compile(r"(?:不需要|不用|不必|无需|没必要|不需|不要|别)\s*(?:再)?\s*$")
HOURS = {"天": 24.0, "日": 24.0, "小时": 1.0, "h": 1.0, "周": 168.0, "个星期": 168.0, "星期": 168.0}
WORDS = {"一": 1.0, "两": 2.0, "二": 2.0, "三": 3.0, "四": 4.0, "五": 5.0, "六": 6.0, "七": 7.0}


def _amount(text: str) -> float:
    return WORDS[text] if text in WORDS else float(text)
# 碘131治疗期间必须停止哺乳 / 用X就不能喂奶: the drug's own sentence stops breastfeeding while it is used (round 13)
STOPS_FEEDING = re.compile(rf"(?:暂停|停止|中断|停掉|停)\s*{FEEDING}|(?:不能|不可以|不可|不要|不宜|不应|别|不得)\s*(?:再)?\s*"
                           rf"(?:喂奶|哺乳|母乳喂养|喂母乳)|断奶")
# 不想喂了，怎么回奶 / 决定不喂奶: the patient means to stop breastfeeding; a row whose harm is less milk harms no aim
WEANING = re.compile(r"回奶|退奶|断奶|不想(?:再)?喂(?:奶)?了|不(?:再)?喂(?:奶)?了|不打算(?:再)?喂|决定不喂|不想(?:再)?哺乳|"
                     r"不再哺乳|停止哺乳|不母乳喂养")
LESS_MILK = re.compile(r"抑制泌乳|回奶|泌乳减少|减少泌乳|乳汁(?:分泌)?减少|减少乳汁|抑制乳汁")


def _feeding_stopped(draft: str, start: int, end: int) -> bool:
    """Whether the sentence of a name the draft recommends stops breastfeeding (not 不用停止哺乳)."""
    sentence = draft[span_start(draft, start):span_end(draft, end)]
    if DRAFT_DURATION.search(sentence):
        return False   # a timed pause (暂停哺乳1天) is no stop for the whole use
    return any(not PAUSE_NEGATED.search(sentence[max(0, m.start() - 6):m.start()])
               for m in STOPS_FEEDING.finditer(sentence))


def label_pause_hours(management: str) -> float | None:
    """The hours the row's own wording pauses breastfeeding for (None: it manages the risk by no pause)."""
    found = ROW_PAUSE.search(management or "")
    if not found:
        return None
    amount, unit = (found.group(1), found.group(2)) if found.group(1) else (found.group(3), found.group(4))
    return _amount(amount) * HOURS[unit]


def draft_pause_hours(draft: str) -> float | None:
    """The longest pause of breastfeeding the draft gives (None: it pauses none, or only says no pause is needed)."""
    paused = [m for m in DRAFT_PAUSE.finditer(draft) if not PAUSE_NEGATED.search(draft[max(0, m.start() - 6):m.start()])]
    if not paused and not DRAFT_DURATION.search(draft):
        return None
    hours = []
    for m in DRAFT_DURATION.finditer(draft):
        if PAUSE_NEGATED.search(draft[max(0, m.start() - 6):m.start()]):
            continue
        amount, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        hours.append(_amount(amount) * HOURS[unit])
    return max(hours) if hours else None


class LactationRule(PopulationRule):
    name = "lactation"
    topics = ("lactating",)

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        paused: float | None = None
        found_all = list(super().check(ctx))
        if not found_all:
            return   # the usual audit: no breastfeeding row applies, nothing below is read
        weaning = bool(WEANING.search(ctx.question)) if ctx.question else False
        stopped = {rec.display for rec in ctx.recommended if rec.origin == "draft" and
                   _feeding_stopped(ctx.draft, rec.mention.start, rec.mention.end)} if "喂" in ctx.draft or \
            "哺乳" in ctx.draft or "断奶" in ctx.draft else set()
        for found in found_all:
            row = ctx.lexicon.rules.get(found.rule_id)
            if weaning and row is not None and LESS_MILK.search(row.effect or ""):
                continue   # 不想喂了，怎么回奶: 卡麦角林抑制泌乳 is what the patient asks for
            if found.severity == "block" and row is not None:
                needed = label_pause_hours(row.management)
                if needed is None and row.source == "expert":
                    # an unsourced row with no management of its own (替硝唑 哺乳期避免) gives way to the cited rows for
                    # the same drug and population that manage the risk by a pause (停药3天后再哺乳)
                    cited = [r for r in ctx.lexicon.rules_by_subject.get(row.subject, []) if r.source != "expert" and
                             r.kind == row.kind and r.population == row.population]
                    pauses = [label_pause_hours(r.management) for r in cited]
                    needed = max(pauses) if pauses and None not in pauses else None   # type: ignore[type-var]
                if needed is not None:
                    paused = draft_pause_hours(ctx.draft) if paused is None else paused
                    if paused is not None and paused >= needed:
                        # 替硝唑顿服后暂停哺乳3天: the draft follows the label's pause; the infant is not exposed
                        found = dataclasses.replace(found, severity="warn")
                elif found.drug in stopped:
                    # 碘131治疗期间必须停止哺乳: for a row that keeps the drug from the milk with no timed pause, the
                    # draft stops breastfeeding for the whole use, in the drug's own sentence (round 13)
                    found = dataclasses.replace(found, severity="warn")
            yield found

    def wording(self, ctx, rec, ingredient, row, facts):
        from medq.agent.rules.base import shown

        if row.blocks:
            words = "禁用" if row.action == "contraindicated" else "应避免使用"
            return f"患者哺乳期，{shown(rec, ingredient)}哺乳期{words}" + (f"（{row.effect}）" if row.effect else "") + "。"
        return f"患者哺乳期，{shown(rec, ingredient)}哺乳期需谨慎。"
