"""A behaviour or food the draft endorses (可以少量饮酒, 可以正常开车) that interacts with a drug the draft recommends or
the patient takes (饮酒 with 甲硝唑 or 头孢哌酮: 双硫仑样反应); and interactions with the patient's occupation
(a driver, rows whose interactant is 驾驶) or rows whose population is `occupation:…`."""

from __future__ import annotations

from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding, Recommended, finding, occupation_matches, shown


class BehaviourRule:
    name = "behaviour"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        lex = ctx.lexicon
        occupation = ctx.profile.occupation or ""
        sources: list[tuple[Recommended | None, str, str]] = [(rec, i, rec.name) for rec in ctx.recommended
                                                               for i in rec.substances]
        sources += [(None, s, stated) for stated, _, subs in ctx.medication_substances() for s in subs]
        done: set[tuple[str, str]] = set()
        # 服药后8小时内不要开车: a risk of the patient's work the draft itself warns about is answered
        answered = {lex.canonical(word, ("substance",)) for word in ctx.cautioned}
        rank = {"critical": 0, "warning": 1, "info": 2}
        if not ctx.endorsed and not occupation:
            sources = []   # nothing endorsed and no work to weigh: no row of this loop can apply (saves ~1 ms/audit)
        for rec, ingredient, stated in sources:
            names = set(ctx.names(ingredient))
            if ingredient in lex.classes:   # a class recommended as a whole (头孢类): any member's row counts
                names |= lex.members_of(ingredient)
            rows = sorted({r for name in names for r in lex.rules_by_subject.get(name, ()) if r.kind == "interaction"},
                          key=lambda r: (not r.blocks, rank[r.severity], r.id))
            for row in rows:
                if True:
                    other = lex.interactant_of.get(row.id, row.interactant)
                    substance = lex.substances.get(other)
                    if substance is None or substance.kind not in ("behaviour", "food"):
                        continue
                    endorsed = other in ctx.endorsed
                    by_job = bool(occupation) and occupation_matches(occupation, other)
                    if not (endorsed or (by_job and rec is not None and other not in answered)) or \
                            (ingredient, other) in done:
                        continue
                    done.add((ingredient, other))
                    target = rec or Recommended(_fake_mention(stated), [ingredient])
                    what = f"回答认可{other}" if endorsed else f"患者职业为{occupation}"
                    effect = f"（{row.effect}）" if row.effect else ""
                    fact = f"draft:{other}" if endorsed else f"occupation:{occupation}"
                    # 可以照常开车 for a patient who drives for a living: the draft endorses, every working day, the
                    # behaviour the row cautions about; the caution no longer reaches the patient (round 13)
                    both = endorsed and by_job and rec is not None
                    yield finding(ctx, target, ingredient, self.name, fact,
                                  None if endorsed else ctx.source("occupation"),
                                  f"{what}{f'（患者职业为{occupation}）' if both else ''}，"
                                  f"而{shown(target, ingredient)}与{other}同用有风险{effect}。", row,
                                  block=True if both else None, indicator="critical" if both else None)
        # 胰腺炎出院一个月，少量喝一点是可以的: a behaviour the draft endorses that the patient's own condition rules out
        # (rows whose subject is the behaviour, 饮酒 with condition:胰腺炎) (round 19)
        for other in sorted(ctx.endorsed):
            for row in lex.rules_by_subject.get(other, ()):
                if row.kind != "contraindication" or not row.population:
                    continue
                matched = ctx.population(row.population)
                if not matched:
                    continue
                fact, source = matched[0]
                effect = f"（{row.effect}）" if row.effect else ""
                yield finding(ctx, Recommended(_fake_mention(other), [other]), other, self.name, fact, source,
                              f"患者有{fact.split(':', 1)[-1]}，回答却认可{other}{effect}。", row)
        for rec in ctx.recommended:   # rows with an occupation population (contraindication for drivers)
            for ingredient in rec.substances:
                for row in ctx.rows(ingredient, ("contraindication", "warning")):
                    if row.topic != "occupation":
                        continue
                    matched = ctx.population(row.population)
                    if matched:
                        yield finding(ctx, rec, ingredient, self.name, matched[0][0], matched[0][1],
                                      f"患者职业为{occupation}，{shown(rec, ingredient)}"
                                      f"{'应避免使用' if row.blocks else '需慎用'}" +
                                      (f"（{row.effect}）" if row.effect else "") + "。", row)


def _fake_mention(name: str):
    from medq.agent.knowledge import Mention

    return Mention(name, 0, 0, "drug", name)
