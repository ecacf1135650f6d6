"""A meal the patient skips, and a draft that has the mealtime glucose-lowering medicine taken as usual: a rapid- or
short-acting insulin (诺和锐, 优泌乐, 普通胰岛素), a sulfonylurea or a glinide taken without the meal it covers causes
severe hypoglycaemia (the inserts: 注射后须进餐 / 进餐服药，不进餐不服药; 中国2型糖尿病防治指南（2020年版）). Basal insulin
(甘精, 地特, 德谷) and metformin carry no such row and are left alone. The medicine is the patient's own or one the
draft recommends; the rows (population condition:跳过进餐, a marker no record states) carry the source and wording."""

from __future__ import annotations

import re
from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding, Recommended, finding, shown

MARKER = "跳过进餐"
# 今天胃口不好中午不想吃饭 / 早饭没吃 / 不吃晚饭了 / 吃不下饭 / 要禁食做胃镜
SKIPPED_MEAL = re.compile(r"(?:不想|不打算|没|不|没有|吃不下|不能)\s*吃\s*(?:早|午|中午|晚)?饭|(?:早|午|晚)饭\s*(?:不吃|没吃|吃不下|不想吃)|"
                          r"(?:不吃|没吃|跳过|省掉)\s*(?:这|那)?(?:一)?(?:顿|餐)|禁食|空腹做|吃不下东西|不想吃东西|没胃口不吃")
# 照常注射平时的剂量 / 按时按量打 / 不用减量 / 还是要打: the dose kept whatever the meal
AS_USUAL = re.compile(r"照常|照样|照旧|照打|照吃|按时按量|按平时|平时的剂量|原来的剂量|原剂量|正常(?:打|注射|吃|服)|"
                      r"一样(?:打|吃|注射)|不用减|不需要减|不必减|不要减|还是要打|还要打|还是得打|也要打|也得打|"
                      r"不能(?:随意)?漏打|不能不打")


class SkippedMealRule:
    name = "skipped_meal"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        if not ctx.question or not SKIPPED_MEAL.search(ctx.question) or not AS_USUAL.search(ctx.draft):
            return     # the common case, decided first: no skipped meal asked about, or no dose kept
        kept = self._kept(ctx)
        if not kept:
            return
        sources: list[tuple[Recommended | None, str, str]] = [(rec, s, rec.name) for rec in ctx.recommended
                                                              for s in rec.substances]
        sources += [(None, s, stated) for stated, _, subs in ctx.medication_substances() for s in subs]
        done: set[str] = set()
        for rec, ingredient, stated in sources:
            if ingredient in done or not self._applies(ctx, ingredient, stated, kept):
                continue
            for row in ctx.rows(ingredient, ("contraindication",)):
                if any(t.kind == "condition" and t.value == MARKER for t in row.population):
                    done.add(ingredient)
                    target = rec or Recommended(_mention(stated), [ingredient])
                    yield finding(ctx, target, ingredient, self.name, "question:不进餐", None,
                                  f"患者这一餐不吃，回答却让{shown(target, ingredient)}照常使用（{row.effect}）。", row)
                    break

    @staticmethod
    def _kept(ctx: AuditContext) -> list[set[str]]:
        """For each 'as usual' the draft gives before the meal is eaten again (恢复进食再按平时打 is after it), the
        names its clause holds (empty: the clause names none, so it speaks of the medicine asked about)."""
        from medq.agent.text import CLAUSE_MARKS, span_end, span_start

        draft, out = ctx.draft, []
        for m in AS_USUAL.finditer(draft):
            low, high = span_start(draft, m.start(), CLAUSE_MARKS), span_end(draft, m.end(), CLAUSE_MARKS)
            if AFTER_MEAL.search(draft, low, m.start()):
                continue
            out.append({n.canonical for n in ctx.lexicon.find_mentions(draft[low:high], ("drug", "product", "class"))})
        return out

    @staticmethod
    def _applies(ctx: AuditContext, ingredient: str, stated: str, kept: list[set[str]]) -> bool:
        """An 'as usual' that keeps this medicine: its clause names it (or its class, 胰岛素 for 门冬胰岛素) or names
        nothing; and the draft does not hold it elsewhere (门冬胰岛素不要打 / 格列美脲先不吃 are warned)."""
        lex = ctx.lexicon
        own = {ingredient, stated, lex.canonical(stated, ("drug", "product")) or stated}
        if any(m.canonical in own or ingredient in lex.ingredients(m.canonical) for m in ctx.warned):
            return False
        family = own | lex.classes_of(ingredient)
        return any(not names or names & family or any(ingredient in lex.ingredients(n) for n in names)
                   for names in kept)


# 恢复进食再按平时打 / 术后能正常吃饭再恢复 / 吃饭后再照常: the usual dose once the meal is eaten again
AFTER_MEAL = re.compile(r"恢复(?:进食|饮食|吃饭)|(?:进食|吃饭|进餐|开始吃)(?:后|以后|之后)|能(?:正常)?吃饭|检查后|术后|做完")


def _mention(name: str):
    from medq.agent.knowledge import Mention

    return Mention(name, 0, 0, "drug", name)
