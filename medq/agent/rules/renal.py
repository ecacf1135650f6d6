"""Kidney function graded by eGFR band or CKD stage (KDIGO 2012): rows whose population is egfr<N / ckd_stage>=N.
A stage alone counts for an eGFR term only when its whole band lies on the term's side (stage 4 → egfr<30 holds;
stage 3 → egfr<45 does not, stage 2 never meets egfr<30): CKD is not merged into renal failure."""

import dataclasses
import re

from medq.agent.rules.population import PopulationRule


class RenalRule(PopulationRule):
    name = "renal"
    topics = ("egfr",)
    systemic = True

    def check(self, ctx):
        for found in super().check(ctx):
            row = ctx.lexicon.rules.get(found.rule_id)
            if found.severity != "block" and row is not None and row.action in ("reduce", "avoid", "contraindicated") \
                    and _adjustment_denied(ctx, found.drug):
                # 不需要根据肾功能调整: the draft refuses the reduction the row asks for this kidney band (round 13)
                reason = found.reason.rstrip("。") + "，回答却说不需要根据肾功能调整。"
                card = dataclasses.replace(found.card, summary=reason[:140], indicator="critical") if found.card else None
                found = dataclasses.replace(found, severity="block", reason=reason, card=card)
            yield found

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


def _adjustment_denied(ctx, drug: str) -> bool:
    """Whether the draft, in the sentence of this drug (or anywhere, when it recommends nothing else), denies that the
    kidneys call for a change of dose."""
    if "肾" not in ctx.draft or not ADJUSTMENT_DENIED.search(ctx.draft):
        return False
    recs = [rec for rec in ctx.recommended if rec.origin == "draft"]
    if len({rec.name for rec in recs}) <= 1:
        return True
    for rec in recs:
        if rec.display != drug and rec.name != drug:
            continue
        low = max(ctx.draft.rfind(mark, 0, rec.mention.start) for mark in "。；;！!？?\n") + 1
        highs = [i for i in (ctx.draft.find(mark, rec.mention.end) for mark in "。；;！!？?\n") if i >= 0]
        if ADJUSTMENT_DENIED.search(ctx.draft[low:min(highs) if highs else len(ctx.draft)]):
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
