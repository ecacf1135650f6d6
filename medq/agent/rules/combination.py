"""Two drugs the draft recommends together that interact with each other (阿司匹林 + 华法林 in one answer)."""

from __future__ import annotations

import re
from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding, finding, shown
from medq.agent.rules.interaction import (_family, dose_kept, dose_managed, held_off, interacting_rows,
                                          monitoring_skipped, one_drug, spacing_managed, taken_together)
from medq.agent.text import CLAUSE_MARKS, span_start


# 加用ACEI或ARB / 选泮托拉唑（每日40mg）或雷贝拉唑 / 左炔诺孕酮一片顿服，或者五天内服用乌利司他: two drugs offered as
# alternatives in one clause run, one or the other (what follows 或者 before the second drug says when or how to take it)
ALTERNATIVES = re.compile(r"^[^。；;！!？?\n和加]{0,20}?(?:或者|或是|或)(?:者)?[^。；;！!？?\n和加同]{0,12}$")
TOGETHER = re.compile(r"一起|同时|合用|联用|联合|并用|同服|叠加")
# ACEI或ARB（如缬沙坦、厄贝沙坦）: two drugs of one class given as examples of it are one choice among them, not two
# drugs to take (round 19)
EXAMPLE_LEAD = re.compile(r"(?:如|比如|例如|像|譬如|诸如)\s*$")


class CombinationRule:
    name = "combination"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        recs = [r for r in ctx.recommended if not r.local]
        seen: set[tuple[str, str]] = set()
        for i, first in enumerate(recs):
            for second in recs[i + 1:]:
                if first.name == second.name:
                    continue
                if first.origin == second.origin == "draft" and first.mention.end <= second.mention.start:
                    between = ctx.draft[first.mention.end:second.mention.start]
                    after = ctx.draft[second.mention.end:second.mention.end + 8]
                    if ALTERNATIVES.match(between) and not TOGETHER.search(between + after):
                        continue
                    if between.strip(" *_") in ("、", "，", ",", "/") and _family(ctx, first.name) & _family(ctx, second.name) \
                            and EXAMPLE_LEAD.search(ctx.draft[max(0, first.mention.start - 4):first.mention.start]) and \
                            not TOGETHER.search(ctx.draft[span_start(ctx.draft, first.mention.start, CLAUSE_MARKS):first.mention.start]):
                        continue
                for a in first.substances:
                    for b in second.substances:
                        if a == b or (a, b) in seen or one_drug(ctx, a, b):   # ARB，比如厄贝沙坦: one drug
                            continue
                        rows = interacting_rows(ctx, a, b)
                        if not rows:
                            continue
                        # 服用克拉霉素期间暂停辛伐他汀，疗程结束后再恢复: the one held for the other's course is not
                        # taken with it
                        if held_off(ctx, first.name) or held_off(ctx, second.name):
                            continue
                        seen.add((a, b))
                        row = dose_managed(ctx, rows) or rows[0]
                        effect = f"（{row.effect}）" if row.effect and not row.effect.startswith("DDInter") else ""
                        together = not row.blocks and taken_together(ctx, first, row)
                        skipped = not together and (monitoring_skipped(ctx, row) or dose_kept(ctx, row))
                        # 两者至少间隔2小时: the draft spaces a pair its sources manage by spacing (round 19)
                        managed = row.blocks and spacing_managed(ctx, rows)
                        yield finding(ctx, first, a, self.name, f"draft:{second.name}", None,
                                      f"回答同时推荐了{shown(first, a)}和{shown(second, b)}，二者存在"
                                      f"{'需要避免的' if row.blocks else '需注意的'}相互作用{effect}"
                                      f"{'，且让二者同时服用' if together else '，且说不必监测或调整剂量' if skipped else ''}。", row,
                                      block=True if together or skipped else (False if managed else None),
                                      indicator="critical" if together or skipped else None)
