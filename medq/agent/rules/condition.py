"""Condition contraindications: 胃溃疡 → 消化性溃疡 (a stated condition covers its parents); an unspecified broader
condition (青光眼) meets a rule on its subtype (闭角型青光眼), a named sibling (开角型青光眼) does not."""

from medq.agent.rules.population import PopulationRule


class ConditionRule(PopulationRule):
    name = "contraindicated_condition"
    topics = ("condition", "general", "sex", "weight")
    systemic = True

    def wording(self, ctx, rec, ingredient, row, facts):
        from medq.agent.rules.base import shown

        condition = next((self.value(f) for f in facts if f.startswith("condition:")), "")
        target = next((t.value for t in row.population if t.kind == "condition"), condition)
        if not condition:
            return f"{shown(rec, ingredient)}：{row.effect or '存在用药风险'}。"
        verb = "禁用或不宜用于" if row.blocks else "慎用于"
        effect = f"（{row.effect}）" if row.effect else ""
        return f"患者有{condition}，{shown(rec, ingredient)}{verb}{target}{effect}。"
