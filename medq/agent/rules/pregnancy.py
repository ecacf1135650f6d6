"""Pregnancy, with the trimester when the row names one (NSAIDs from week 20 / the third trimester)."""

from medq.agent.rules.population import PopulationRule


class PregnancyRule(PopulationRule):
    name = "pregnancy"
    topics = ("pregnant",)

    def check(self, ctx):
        # advice for after the birth (分娩后再补种麻腮风) is not advice during the pregnancy, and advice for a later
        # trimester is not advice in an earlier one (round 17)
        for found in super().check(ctx):
            rec = next((r for r in ctx.recommended if r.display == found.drug or r.name == found.drug), None)
            if rec is not None and rec.after_pregnancy:
                continue
            # 孕中期后可考虑换甲巯咪唑 for a woman in her first trimester: the first trimester's row is not about it
            if rec is not None and rec.from_trimester is not None and found.patient_fact.startswith("trimester:") and \
                    float(found.patient_fact.split(":")[1]) < rec.from_trimester:
                continue
            yield found

    def wording(self, ctx, rec, ingredient, row, facts):
        from medq.agent.rules.base import shown

        trimester = next((t for t in row.population if t.kind == "trimester"), None)
        when = f"孕{'早中晚'[int(float(trimester.value)) - 1]}期" if trimester and trimester.op == "=" and \
            trimester.value in ("1", "2", "3") else ("孕中晚期" if trimester else "孕期")
        if row.blocks:
            words = "禁用" if row.action == "contraindicated" else "应避免使用"
            return f"患者怀孕，{shown(rec, ingredient)}{when}{words}" + (f"（{row.effect}）" if row.effect else "") + "。"
        return f"患者怀孕，{shown(rec, ingredient)}{when}需权衡利弊使用。"
