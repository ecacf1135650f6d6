"""Allergy and class cross-reactivity: the drug (or a product's ingredient) is what the patient is allergic to, or
belongs to an allergy-group class of it (头孢菌素类 with 青霉素类, 非甾体抗炎药 for aspirin); rows with an
`allergy:` population (contraindication in people allergic to X) are read too."""

from __future__ import annotations

from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding, finding, shown


class AllergyRule:
    name = "allergy"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        lex = ctx.lexicon
        for rec in ctx.recommended:
            for ingredient in rec.substances:
                names = ctx.names(ingredient)
                reported: set[str] = set()
                for stated, canonical in ctx.facts.allergies:
                    direct, cross = lex.allergy_closure(canonical)
                    source = ctx.source("allergy", stated)
                    if names & direct or names & cross:
                        reported.add(f"allergy:{stated}")
                    if names & direct:
                        yield finding(ctx, rec, ingredient, "allergy", f"allergy:{stated}", source,
                                      f"患者对{stated}过敏，{shown(rec, ingredient)}属于过敏药物。", None, block=True)
                    elif names & cross:
                        klass = sorted(names & cross)[0]
                        yield finding(ctx, rec, ingredient, "allergy_cross_reactivity", f"allergy:{stated}", source,
                                      f"患者对{stated}过敏，{shown(rec, ingredient)}属于{klass}，可能发生交叉过敏。",
                                      None, block=True)
                for row in ctx.rows(ingredient, ("contraindication", "warning")):
                    if row.topic != "allergy":
                        continue
                    matched = ctx.population(row.population)
                    if matched and matched[0][0] not in reported:   # the class closure already said it
                        fact, source = matched[0]
                        reported.add(fact)
                        yield finding(ctx, rec, ingredient, "allergy_cross_reactivity", fact, source,
                                      f"患者对{fact.partition(':')[2]}过敏，{shown(rec, ingredient)}"
                                      f"{'禁用' if row.blocks else '需慎用'}" +
                                      (f"（{row.effect}）" if row.effect else "") + "。", row)
