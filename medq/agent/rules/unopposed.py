"""Unopposed oestrogen: a systemic oestrogen (oral, or a gel/patch through the skin) recommended to a woman who has a
uterus, with no progestogen beside it, raises the risk of endometrial hyperplasia and cancer (IMS 2016 / NAMS 2022
hormone therapy statements; FDA oestrogen boxed warning). The patient's uterus is assumed present unless her
conditions or message say it was removed (fail closed). Not unopposed: a product that contains a progestogen
(屈螺酮炔雌醇), a progestogen the draft recommends or names as part of the regimen (加用地屈孕酮 / 序贯 / 周期性加孕激素),
one she already takes (黄体酮, 曼月乐), and low-dose vaginal oestrogen (雌三醇乳膏 into the vagina), which the same
statements exempt. The row (subject 雌激素类, population condition:子宫完整) carries the source and the wording."""

from __future__ import annotations

import re
from typing import Callable, Iterable

from medq.agent.rules.base import AuditContext, Finding, finding, shown

OESTROGENS = "雌激素类"
PROGESTOGENS = ("孕激素类", "口服避孕药")
INTACT_UTERUS = "子宫完整"
NO_UTERUS = re.compile(r"子宫(?:次全|全)?切(?:除|术)?|切除(?:了)?(?:全)?子宫|全子宫|子宫已切|子宫切了|没有子宫|无子宫|子宫摘除|摘除(?:了)?子宫")
# the draft puts a progestogen into the regimen (or names the LNG-IUS) in words, not only by a drug name
PROGESTOGEN_WORDS = re.compile(r"孕激素|孕酮|黄体酮|序贯|周期性加用|曼月乐|宫内缓释系统|宫内节育系统|曼月樂")
# …but not where the draft says none is needed (不需要加孕激素 / 无需黄体酮)
NOT_NEEDED = re.compile(r"(?:不需要|不需|不用|无需|无须|不必|没必要|不要|别)[加用再配合联]{0,3}[^，,。；;]{0,4}$")
# …or says after it that it may be left out (孕激素不加也可以 / 黄体酮可以不吃, round 18)
LEFT_OUT = re.compile(r"\s*(?:可以|也可以|可)?\s*(?:不加|不用|不吃|不服|不配|省掉|省去|去掉)|\s*(?:不需要|不需|无需|不必|没必要)")
VAGINAL = re.compile(r"阴道|陰道")


def partner_given(ctx: AuditContext, words: re.Pattern[str], is_partner: Callable[[frozenset[str]], bool],
                  partner_product: Callable[[str], bool] = lambda canonical: False) -> bool:
    """Whether the drug that must go with another is there (a progestogen with an oestrogen, an inhaled steroid with a
    LABA): named in the draft's words or recommended, and not said to be unneeded (不需要加孕激素) or left out
    (孕激素可以不吃); or among the patient's medicines."""
    draft = ctx.draft
    if any(not NOT_NEEDED.search(draft[max(0, m.start() - 10):m.start()]) and not LEFT_OUT.match(draft, m.end())
           for m in words.finditer(draft)):
        return True
    if any(is_partner(ctx.names(s)) and not (
            r.origin == "draft" and (NOT_NEEDED.search(draft[max(0, r.mention.start - 10):r.mention.start]) or
                                     LEFT_OUT.match(draft, r.mention.end)))
           for r in ctx.recommended for s in r.substances):
        return True
    return any(is_partner(ctx.names(s)) or partner_product(canonical)
               for _, canonical, subs in ctx.medication_substances() for s in subs)


class UnopposedOestrogenRule:
    name = "unopposed_oestrogen"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        if ctx.profile.sex == "male" or \
                not any(OESTROGENS in ctx.names(s) for rec in ctx.recommended for s in rec.substances):
            return     # the common case, decided first: no oestrogen recommended
        if self._no_uterus(ctx) or self._opposed(ctx):
            return
        for rec in ctx.recommended:
            if rec.ocular or (rec.topical and not self._systemic_on_skin(ctx, rec)):
                continue
            if self._vaginal(ctx, rec):
                continue
            names = [ctx.names(s) for s in rec.substances]
            if any(any(p in n for p in PROGESTOGENS) for n in names):
                continue     # 屈螺酮炔雌醇, 戊酸雌二醇/雌二醇环丙孕酮: the product carries its progestogen
            for ingredient, n in zip(rec.substances, names):
                if OESTROGENS not in n:
                    continue
                for row in ctx.rows(ingredient, ("contraindication",)):
                    if any(t.kind == "condition" and t.value == INTACT_UTERUS for t in row.population):
                        reason = f"患者未切除子宫，{shown(rec, ingredient)}单用而未加孕激素不宜（{row.effect}）。"
                        yield finding(ctx, rec, ingredient, self.name, f"condition:{INTACT_UTERUS}",
                                      ctx.source("sex"), reason, row)
                        break
                break

    @staticmethod
    def _no_uterus(ctx: AuditContext) -> bool:
        return any(NO_UTERUS.search(c) for c in ctx.profile.conditions) or bool(NO_UTERUS.search(ctx.question))

    @staticmethod
    def _opposed(ctx: AuditContext) -> bool:
        return partner_given(ctx, PROGESTOGEN_WORDS, lambda names: any(p in names for p in PROGESTOGENS),
                             lambda canonical: "宫内" in canonical)

    @staticmethod
    def _systemic_on_skin(ctx: AuditContext, rec) -> bool:
        from medq.agent.rules.population import _transdermal

        return _transdermal(ctx, rec)

    @staticmethod
    def _vaginal(ctx: AuditContext, rec) -> bool:
        if rec.origin != "draft":
            return False
        low = max(0, rec.mention.start - 12)
        return bool(VAGINAL.search(ctx.draft[low:rec.mention.end + 16]))
