"""Potentially inappropriate medication in older people (中国老年人潜在不适当用药判断标准 2017, Beers 2023): rows whose
population is age>=N, possibly with a condition (age>=65&condition:良性前列腺增生)."""

from medq.agent.rules.population import PopulationRule


class ElderlyRule(PopulationRule):
    name = "elderly"
    topics = ("elderly",)
    systemic = True
    dose_exceptions = True    # Beers: doxepin > 6 mg/day (a class row, its member's own limit the exception)

    def wording(self, ctx, rec, ingredient, row, facts):
        from medq.agent.rules.base import shown

        limit = next(t.value for t in row.population if t.kind == "age")
        verb = "应避免使用" if row.blocks else "需慎用"
        return f"患者{ctx.profile.age}岁，{shown(rec, ingredient)}在{limit}岁以上老人{verb}" + \
            (f"（{row.effect}）" if row.effect else "") + "。"
