"""Kidney function graded by eGFR band or CKD stage (KDIGO 2012): rows whose population is egfr<N / ckd_stage>=N.
A stage alone counts for an eGFR term only when its whole band lies on the term's side (stage 4 → egfr<30 holds;
stage 3 → egfr<45 does not, stage 2 never meets egfr<30): CKD is not merged into renal failure."""

from medq.agent.rules.population import PopulationRule


class RenalRule(PopulationRule):
    name = "renal"
    topics = ("egfr",)
    systemic = True

    def wording(self, ctx, rec, ingredient, row, facts):
        from medq.agent.rules.base import shown

        fact = facts[0] if facts else ""
        kidney = f"eGFR {fact.partition(':')[2]}" if fact.startswith("egfr") else f"慢性肾脏病{fact.partition(':')[2]}期"
        band = next((f"{t.kind.replace('egfr', 'eGFR')}{t.op}{t.value}" for t in row.population
                     if t.kind in ("egfr", "ckd_stage")), "")
        verb = {"contraindicated": "禁用", "avoid": "应避免使用", "reduce": "需减量", "caution": "需慎用"}[row.action]
        return f"患者肾功能下降（{kidney}），{shown(rec, ingredient)}在{band}时{verb}" + \
            (f"（{row.effect}）" if row.effect else "") + "。"
