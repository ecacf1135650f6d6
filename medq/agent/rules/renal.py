"""Kidney function graded by eGFR band or CKD stage (KDIGO 2012): rows whose population is egfr<N / ckd_stage>=N.
A stage alone counts for an eGFR term only when its whole band lies on the term's side (stage 4 → egfr<30 holds;
stage 3 → egfr<45 does not, stage 2 never meets egfr<30): CKD is not merged into renal failure."""

import dataclasses
import re

from medq.agent.rules.population import PopulationRule
from medq.agent.text import span_end, span_start


class RenalRule(PopulationRule):
    name = "renal"
    topics = ("egfr",)
    systemic = True

    def check(self, ctx):
        seen = set()
        for found in super().check(ctx):
            seen.add(found.drug)
            row = ctx.lexicon.rules.get(found.rule_id)
            if found.severity != "block" and row is not None and row.action in ("reduce", "avoid", "contraindicated") \
                    and _adjustment_denied(ctx, found.drug):
                # 不需要根据肾功能调整: the draft refuses the reduction the row asks for this kidney band (round 13)
                reason = found.reason.rstrip("。") + "，回答却说不需要根据肾功能调整。"
                card = dataclasses.replace(found.card, summary=reason[:140], indicator="critical") if found.card else None
                found = dataclasses.replace(found, severity="block", reason=reason, card=card)
            yield found
        if ctx.facts.kidney_band() is None or not DENIAL_WORDS.search(ctx.draft):
            return
        # a drug whose only renal row is a dose cap for this band (帕罗西汀 eGFR<30 ≤40mg/日): the draft that keeps its
        # dose whatever the kidneys (肾功能下降不影响，帕罗西汀照常吃) refuses that cap as well (round 15)
        from medq.agent.rules.base import finding
        from medq.agent.rules.dose import _straddles, dosing_rows

        for rec in ctx.recommended:
            if rec.origin != "draft" or rec.display in seen or rec.local or rec.topical or rec.ocular:
                continue
            for ingredient in rec.substances:
                row = next((r for r in dosing_rows(ctx, ingredient) if any(
                    t.kind in ("egfr", "ckd_stage") for t in r.population) and ctx.population(r.population) is not None
                    and not _straddles(ctx, r)), None)
                if row is None or not _adjustment_denied(ctx, rec.display):
                    continue
                matched = ctx.population(row.population)
                fact, source = matched[0] if matched else ("", None)
                seen.add(rec.display)
                yield finding(ctx, rec, ingredient, self.name, fact, source,
                              self.wording(ctx, rec, ingredient, row, [fact]).rstrip("。") +
                              "，回答却说不需要根据肾功能调整。", row, block=True, indicator="critical")
                break

    def wording(self, ctx, rec, ingredient, row, facts):
        from medq.agent.rules.base import shown

        fact = facts[0] if facts else ""
        kidney = f"eGFR {fact.partition(':')[2]}" if fact.startswith("egfr") else f"慢性肾脏病{fact.partition(':')[2]}期"
        band = next((f"{t.kind.replace('egfr', 'eGFR')}{t.op}{t.value}" for t in row.population
                     if t.kind in ("egfr", "ckd_stage")), "")
        verb = {"contraindicated": "禁用", "avoid": "应避免使用", "reduce": "需减量", "caution": "需慎用"}[row.action]
        return f"患者肾功能下降（{kidney}），{shown(rec, ingredient)}在{band}时{verb}" + \
            (f"（{row.effect}）" if row.effect else "") + "。"


# 不需要根据肾功能调整 / 肾功能差也不用减量 / 肾功能方面不需要调整剂量: the draft says the kidneys change nothing
ADJUSTMENT_DENIED = re.compile(r"(?:肾功能|肾脏|肾)[^，,。；;！!？?\n]{0,6}?(?:也)?\s*(?:不需要|不需|不用|无需|不必|没必要)\s*"
                               r"(?:调整|减量|减少剂量|调剂量|调量|减药|改剂量)|"
                               r"(?:不需要|不需|不用|无需|不必|没必要)\s*(?:根据|按|因为|看)\s*(?:肾功能|肾脏|肾)\s*"
                               r"(?:来)?\s*(?:调整|减量|减少剂量|调剂量|调量|减药|改剂量)")


# 肾功能轻度下降不影响 / 肌酐稍高没关系 / eGFR 40问题不大: the draft names the reduced kidneys and dismisses them (round 15)
KIDNEY_DISMISSED = re.compile(r"(?:肾功能|肾脏功能|肾小球滤过率|肌酐清除率|肌酐|eGFR|egfr|GFR)[^，,。；;！!？?\n和跟与同正]{0,8}?"
                              r"(?:不影响|没影响|没有影响|影响不大|关系不大|没关系|没啥关系|问题不大|不碍事|不要紧|无妨)")
# (not 肾功能下降跟这个药没关系, not 肾功能正常的话不影响) …nor on the kidneys: 对肾功能没有影响 says the drug spares the
# kidneys, not that the dose stays
ON_THE_KIDNEYS = re.compile(r"(?:对|伤|损伤|损害|加重)\s*(?:您的|你的|患者的)?\s*$")
# 左乙拉西坦照常吃 / 二甲双胍不用减量 / 加巴喷丁按原剂量: right after the drug's name, the dose stays as it is
DOSE_KEPT = re.compile(r"^[^，,。；;！!？?\n]{0,6}?(?:照常|照旧|按原(?:来的?)?(?:剂量|量)|原剂量|剂量不变|"
                       r"(?:也)?(?:不需要|不需|不用|无需|不必|没必要)\s*(?:调整|减量|减少剂量|调剂量|调量|减药|改剂量|改量))")
KEPT_REFUSED = re.compile(r"不能|不要|不可|不宜|别|不再|不应|不建议|是否|能否|可否")
# what every denial above contains: the draft is read for a denial only where one of these words is in it
DENIAL_WORDS = re.compile(r"不需要|不需|不用|无需|不必|没必要|照常|照旧|原剂量|按原|剂量不变|不影响|没影响|没有影响|影响不大|"
                          r"关系不大|没关系|没啥关系|问题不大|不碍事|不要紧|无妨")
KIDNEY_WORD = re.compile(r"肾|肌酐|eGFR|egfr|GFR|透析")


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    return span_start(text, start), span_end(text, end)


# …但左乙拉西坦要减到每次500mg: the draft that dismisses the kidneys and still reduces the dose denies nothing
REDUCED = re.compile(r"(?<!不用)(?<!不需)(?<!无需)(?<!不必)(?<!不需要)(?<!没必要)"
                     r"(?:减量|减到|减为|减至|减半|减少剂量|减少用量|降到|降为|降至|调整为|改为|改成|不要超过|不超过|延长|调整剂量|"
                     r"调整用量|(?:根据|按)(?:肾功能|肌酐清除率|eGFR)调整)")


def _kidneys_dismissed(text: str) -> bool:
    return not REDUCED.search(text) and \
        any(not ON_THE_KIDNEYS.search(text[max(0, m.start() - 6):m.start()]) for m in KIDNEY_DISMISSED.finditer(text))


def _dose_kept(ctx, drug: str) -> bool:
    """The drug's name followed by 照常 / 不用减量 / 按原剂量, in a sentence that names the kidneys (or, for an explicit
    不用减量/不需要调整, where the question does): the draft keeps the dose the kidney band asks to change."""
    for rec in ctx.recommended:
        if rec.origin != "draft" or (rec.display != drug and rec.name != drug):
            continue
        kept = DOSE_KEPT.search(ctx.draft[rec.mention.end:rec.mention.end + 24])
        if not kept or KEPT_REFUSED.search(kept.group(0)):
            continue
        low, high = _sentence(ctx.draft, rec.mention.start, rec.mention.end)
        if KIDNEY_WORD.search(ctx.draft[low:high]) or \
                ("照" not in kept.group(0) and "原" not in kept.group(0) and KIDNEY_WORD.search(ctx.question or "")):
            return True
    return False


def _adjustment_denied(ctx, drug: str) -> bool:
    """Whether the draft, in the sentence of this drug (or anywhere, when it recommends nothing else), denies that the
    kidneys call for a change of dose."""
    if _dose_kept(ctx, drug):
        return True
    if not ADJUSTMENT_DENIED.search(ctx.draft) and not _kidneys_dismissed(ctx.draft):
        return False
    recs = [rec for rec in ctx.recommended if rec.origin == "draft"]
    if len({rec.name for rec in recs}) <= 1:
        return True
    for rec in recs:
        if rec.display != drug and rec.name != drug:
            continue
        low, high = _sentence(ctx.draft, rec.mention.start, rec.mention.end)
        if ADJUSTMENT_DENIED.search(ctx.draft[low:high]) or _kidneys_dismissed(ctx.draft[low:high]):
            return True
    return False


# ---- kidney failure without a number: dialysis and end-stage kidney disease are CKD G5 / G5D -----------------------
# KDIGO 2012 CKD guideline (Kidney Int Suppl 2013;3:1-150), ch. 1.2: GFR category G5 is GFR < 15 ml/min/1.73m² or
# "kidney failure"; a patient treated by dialysis is G5D (haemodialysis or peritoneal dialysis), whatever the
# measured eGFR. Every renal row (egfr<N, ckd_stage>=N, an ungraded 肾功能不全/肾衰竭 row) and every renal dose cap
# reads the kidney band, so the stage is set once, where the profile is normalised, and no row needs a dialysis copy.
# 肾衰竭 on its own is not mapped: Chinese usage (慢性肾衰竭 代偿期/失代偿期) also covers eGFR well above 15.
KIDNEY_FAILURE_CONDITIONS = frozenset({"终末期肾病", "血液透析", "腹膜透析"})
KIDNEY_FAILURE_TEXT = re.compile(r"透析|洗肾|尿毒症|终末期肾|末期肾|肾脏替代治疗|ESRD|ESKD|CKD\s*5D|G5D", re.IGNORECASE)
KIDNEY_FAILURE_STAGE = 5


def on_kidney_failure(lexicon, stated: str, canonical: str | None) -> bool:
    """A stated condition that means dialysis or end-stage kidney disease (维持性血液透析, 尿毒症, 末期腎病, 洗腎, ESRD)."""
    if canonical and KIDNEY_FAILURE_CONDITIONS & lexicon.condition_ancestors(canonical):
        return True
    from medq.agent.text import to_simplified

    return bool(KIDNEY_FAILURE_TEXT.search(to_simplified(stated)))


def apply_kidney_failure(lexicon, facts) -> None:
    """Set CKD stage 5 on a normalised profile whose conditions say dialysis / end-stage kidney disease: a lower stated
    stage yields to it (a dialysed patient is G5D); a measured eGFR is kept (the rules read the number first)."""
    if any(on_kidney_failure(lexicon, stated, canonical) for stated, canonical in facts.conditions):
        if facts.ckd_stage is None or facts.ckd_stage < KIDNEY_FAILURE_STAGE:
            facts.ckd_stage = KIDNEY_FAILURE_STAGE
            facts.egfr_band = None
