"""The shared shape of the rules that read contraindication/warning rows with a population (condition, pregnancy,
lactation, age, elderly, renal): for every recommended ingredient, the rows of its substance and classes whose
topic is this kind's and whose population holds for the patient. Each subclass has its own wording."""

from __future__ import annotations

import re
from typing import Iterable

from medq.agent.knowledge import Rule
from medq.agent.rules.base import AuditContext, Finding, Recommended, action_words, finding, shown


# a row about the immediate-release form only (its wording says 速释/短效), and how a draft names a modified-release one
MODIFIED_RELEASE = re.compile(r"缓释|控释|长效|拜新同|伲福达|GITS|XL|CR|SR", re.IGNORECASE)


def _immediate_release_only(row: Rule) -> bool:
    return "速释" in f"{row.effect}{row.management}" or "短效制剂" in f"{row.effect}{row.management}"


def _modified_release(ctx: AuditContext, rec: Recommended) -> bool:
    # a drug the draft endorses from the question (拜新同能继续吃吗 → 可以): the question's own words name the form
    text = ctx.draft if rec.origin == "draft" else ctx.question
    return bool(MODIFIED_RELEASE.search(rec.mention.text + text[rec.mention.end:rec.mention.end + 6]))


# a gel or patch that acts through the blood (雌二醇凝胶, 芬太尼贴剂) or is swallowed (氢氧化铝凝胶): its substance is in
# this class (classes.csv), and the population rows about systemic exposure still apply
TRANSDERMAL_SYSTEMIC = "凝胶贴剂全身作用药"


def _transdermal(ctx: AuditContext, rec: Recommended) -> bool:
    return any(TRANSDERMAL_SYSTEMIC in ctx.names(s) for s in rec.substances)


# a row that names the eye (its subject 眼用β受体阻滞剂, or 新生儿禁用(含滴眼液) in its text) is about the eye drops too
EYE_ROW = re.compile(r"眼用|滴眼|眼药|眼膏|点眼")


def _reaches_eye(rec: Recommended, row) -> bool:
    """Whether an age row reaches a preparation put into the eye: a row on the eye product itself, or one that names
    the eye; a row on the substance (左氧氟沙星 age<18, about the tablets) does not."""
    if rec.mention.kind == "product" and row.subject == rec.name:
        return True
    return bool(EYE_ROW.search(f"{row.subject} {row.effect or ''} {row.management or ''}"))


class PopulationRule:
    name = "population"
    topics: tuple[str, ...] = ()
    systemic = False     # rows about systemic exposure (condition, elderly, renal) do not apply on the skin


    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        for rec in ctx.recommended:
            if self.systemic and (rec.topical and not _transdermal(ctx, rec) or
                                  rec.ocular and self.name != "contraindicated_condition"):
                continue   # on the skin: no systemic row; into the eye: its conditions (青光眼, 角膜炎) still count
            for ingredient in rec.substances:
                for row in ctx.rows(ingredient, ("contraindication", "warning")):
                    if row.topic not in self.topics:
                        continue
                    if rec.ocular and self.name == "min_age" and not _reaches_eye(rec, row):
                        continue   # 氨基糖苷类 age<18 (ear and kidney toxicity) is about systemic use, not 妥布霉素滴眼液;
                        # so is 左氧氟沙星 age<18 (cartilage) about the tablets, not 左氧氟沙星滴眼液
                    if _immediate_release_only(row) and _modified_release(ctx, rec):
                        continue   # 老年人避免速释片 does not reach 硝苯地平控释片 / 拜新同
                    matched = ctx.population(row.population)
                    if matched is None:
                        continue
                    fact, source = matched[0] if matched else ("", None)
                    yield finding(ctx, rec, ingredient, self.name, fact, source,
                                  self.wording(ctx, rec, ingredient, row, [m[0] for m in matched]), row)

    def wording(self, ctx: AuditContext, rec: Recommended, ingredient: str, row: Rule, facts: list[str]) -> str:
        return f"{shown(rec, ingredient)}{action_words(row)}。"

    @staticmethod
    def value(fact: str) -> str:
        return fact.partition(":")[2]
