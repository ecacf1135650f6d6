"""Minimum age (children): rows whose population is age<N."""

from medq.agent.rules.population import PopulationRule


def years(value: float) -> str:
    return f"{value:g}岁" if value >= 1 else f"{round(value * 12)}个月"


class AgeRule(PopulationRule):
    name = "min_age"
    topics = ("age",)

    def wording(self, ctx, rec, ingredient, row, facts):
        from medq.agent.rules.base import shown

        limit = next(float(t.value) for t in row.population if t.kind == "age")
        return f"患者{ctx.profile.age}岁，{shown(rec, ingredient)}用于{years(limit)}以上" + \
            (f"（{row.effect}）" if row.effect else "") + "。"
