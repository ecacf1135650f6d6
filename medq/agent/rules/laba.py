"""A long-acting β2 agonist without an inhaled corticosteroid for asthma: LABA monotherapy raises asthma-related death
and severe attacks (FDA boxed warning on salmeterol/formoterol; GINA 2023; 支气管哮喘防治指南（2020年版）), so in asthma
a LABA goes only with an ICS. Recommended to a patient with asthma (record or question), it is unopposed unless the
product carries the ICS (舒利迭, 信必可), another recommended medicine or the patient's own is one, or the draft puts an
inhaled steroid into the regimen in words (and does not say none is needed: 不需要再用激素吸入). COPD alone is no
reason (LAMA/LABA is standard there). The row (subject 长效β2受体激动剂, population condition:哮喘未用吸入激素, a marker no
patient states, as 子宫完整 is for unopposed oestrogen) carries the source and the wording."""

from __future__ import annotations

import re
from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding, finding, shown
from medq.agent.rules.unopposed import partner_given

LABA = "长效β2受体激动剂"
ICS = "吸入性糖皮质激素"
MARKER = "哮喘未用吸入激素"
ASTHMA = re.compile(r"哮喘")
ICS_WORDS = re.compile(r"吸入(?:性)?(?:糖皮质)?激素|激素吸入|激素类?吸入剂|ICS|含激素的吸入")


class UnopposedLabaRule:
    name = "unopposed_laba"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        if not any(LABA in ctx.names(s) for rec in ctx.recommended for s in rec.substances):
            return     # the common case, decided first: no LABA recommended
        if not (any(ASTHMA.search(c) for c in ctx.profile.conditions) or ASTHMA.search(ctx.question)):
            return
        if self._opposed(ctx):
            return
        for rec in ctx.recommended:
            names = [ctx.names(s) for s in rec.substances]
            if any(ICS in n for n in names):
                continue     # 舒利迭, 信必可: the product carries its ICS
            for ingredient, n in zip(rec.substances, names):
                if LABA not in n:
                    continue
                for row in ctx.rows(ingredient, ("contraindication",)):
                    if any(t.kind == "condition" and t.value == MARKER for t in row.population):
                        yield finding(ctx, rec, ingredient, self.name, "condition:哮喘", ctx.source("condition", "哮喘"),
                                      f"患者有哮喘，{shown(rec, ingredient)}单用而未联用吸入激素不宜（{row.effect}）。", row)
                        break
                break

    @staticmethod
    def _opposed(ctx: AuditContext) -> bool:
        return partner_given(ctx, ICS_WORDS, lambda names: ICS in names)
