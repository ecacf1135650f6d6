"""Breastfeeding."""

from medq.agent.rules.population import PopulationRule


class LactationRule(PopulationRule):
    name = "lactation"
    topics = ("lactating",)

    def wording(self, ctx, rec, ingredient, row, facts):
        from medq.agent.rules.base import shown

        if row.blocks:
            words = "禁用" if row.action == "contraindicated" else "应避免使用"
            return f"患者哺乳期，{shown(rec, ingredient)}哺乳期{words}" + (f"（{row.effect}）" if row.effect else "") + "。"
        return f"患者哺乳期，{shown(rec, ingredient)}哺乳期需谨慎。"
