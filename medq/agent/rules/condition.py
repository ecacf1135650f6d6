"""Condition contraindications: 胃溃疡 → 消化性溃疡 (a stated condition covers its parents); an unspecified broader
condition (青光眼) meets a rule on its subtype (闭角型青光眼), a named sibling (开角型青光眼) does not."""

import dataclasses
import re

from medq.agent.rules.population import PopulationRule
from medq.agent.text import span_end


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

    def check(self, ctx):
        for found in super().check(ctx):
            if not found.patient_fact and found.severity != "block" and ctx.question and _naive_excluded(ctx, found):
                # 从来没吃过强止痛药 with a fentanyl patch whose label is for opioid-tolerant patients only: the
                # patient's own words put them in the group the row excludes (round 13)
                reason = found.reason.rstrip("。") + "；患者从未用过阿片类（阿片初治），不宜使用。"
                card = dataclasses.replace(found.card, summary=reason[:140], indicator="critical") if found.card else None
                yield dataclasses.replace(found, severity="block", reason=reason, card=card,
                                          patient_fact="question:阿片初治")
                continue
            situation = _situation(ctx, found) if not found.patient_fact and found.severity != "block" else None
            if situation is not None:
                # 想减肥 with 优甲乐 / 吃了一年泼尼松，明天直接停掉: the general warning names the very use or the very way of
                # stopping the question asks about and the draft endorses (round 19)
                fact, words = situation
                reason = found.reason.rstrip("。") + f"；{words}"
                card = dataclasses.replace(found.card, summary=reason[:140], indicator="critical") if found.card else None
                yield dataclasses.replace(found, severity="block", reason=reason, card=card, patient_fact=fact)
                continue
            if found.severity == "block" and found.patient_fact.startswith("condition:") and \
                    HISTORY.search(found.patient_fact) and _history_managed(ctx, found):
                # 胃溃疡病史（已愈合） with 塞来昔布 plus 奥美拉唑: the row's own management for a past episode
                # (活动性溃疡禁用，既往史者合用PPI) is in the draft, so it cautions instead of blocking (round 13)
                found = dataclasses.replace(found, severity="warn")
            yield found


# a condition stated as past (胃溃疡病史 / 既往 / 已愈合): a row that manages a history by a co-medication
HISTORY = re.compile(r"病史|既往|已愈合|已治愈|已痊愈|愈合后|史$|史[（(]")
HISTORY_MANAGED = re.compile(r"既往(?:史)?(?:者|患者)?\s*(?:须|需|应|需要)?\s*(?:合用|联用|加用|同服|并用)\s*"
                             r"([A-Za-z\u4e00-\u9fff]{2,12})")


def _history_managed(ctx, found) -> bool:
    row = ctx.lexicon.rules.get(found.rule_id)
    managed = HISTORY_MANAGED.search(row.management or "") if row is not None else None
    if managed is None:
        return False
    names = {m.canonical for m in ctx.lexicon.find_mentions(managed.group(1), ("drug", "class"), fuzzy=False)}
    if not names:
        return False
    for rec in ctx.recommended:
        if rec.origin != "draft" or rec.name == found.drug:
            continue
        own = {rec.name, *rec.substances}
        for substance in rec.substances:
            own |= ctx.lexicon.classes_of(substance)
        if own & names:
            return True
    # 胃溃疡病史, already on 雷贝拉唑: the co-medication the row manages a history with is one the patient takes
    # (round 20)
    for _, canonical in ctx.facts.medications:
        own = {canonical}
        for substance in ctx.lexicon.ingredients(canonical) or [canonical]:
            own |= {substance} | ctx.lexicon.classes_of(substance)
        if own & names:
            return True
    return False


# a row for opioid-tolerant patients only (透皮贴剂仅用于阿片耐受者 / 阿片初治者禁用), and a question that says the patient has
# never taken an opioid (从来没吃过强止痛药 / 没用过吗啡)
TOLERANT_ONLY = re.compile(r"阿片耐受|阿片初治")
OPIOID_NAIVE = re.compile(r"(?:从来没|从没|从未|从来没有|没|没有)\s*(?:吃|用|打|贴|服)过\s*(?:任何|什么)?\s*"
                          r"(?:(?:强效?的?)?止痛(?:药|针|贴)|阿片|吗啡|羟考酮|芬太尼|强力止痛|麻醉止痛药)")
# 他之前只吃过塞来昔布: the only painkillers named as taken before are no opioids
ONLY_TOOK = re.compile(r"只(?:吃|用|服|打)过")
OPIOIDS = "阿片类"


def _naive_excluded(ctx, found) -> bool:
    row = ctx.lexicon.rules.get(found.rule_id)
    if row is None or not TOLERANT_ONLY.search(f"{row.effect or ''} {row.management or ''}"):
        return False
    question = ctx.question or ""
    if OPIOID_NAIVE.search(question):
        return True
    only = ONLY_TOOK.search(question)
    if only is None:
        return False
    end = span_end(question, only.end())
    taken = ctx.lexicon.find_mentions(question[only.end():end], ("drug", "product", "class"))
    return bool(taken) and not any(OPIOIDS in ctx.lexicon.classes_of(s) or s == OPIOIDS
                                   for m in taken for s in ctx.lexicon.ingredients(m.canonical) or [m.canonical])


# a general warning row that names a use the drug must not be put to (不得用于减肥) or a way it must not be stopped
# (长期使用后突然停药): when the question asks for that use, or the draft endorses that stop after long use, it blocks
NOT_FOR_WEIGHT_LOSS = re.compile(r"(?:不得|不能|不可|禁止|禁|不应)用于(?:减肥|减重)")
WEIGHT_LOSS = re.compile(r"减肥|减重|瘦身|变瘦|瘦得|瘦下来|减脂|掉秤|瘦点|瘦一点")
# 优甲乐不能用于减肥 / 不建议用它来减重: the draft itself refuses the use
WEIGHT_LOSS_REFUSED = re.compile(r"(?:不|别|勿|禁|避免|切忌)[^。；;！!？?\n]{0,8}(?:减肥|减重|瘦身|减脂)")
NO_ABRUPT_STOP = re.compile(r"突然停药|骤然停药|突然停用|逐渐减量停药")
# 明天起就可以直接停掉 / 可以马上停药: a stop at once the draft allows (不要直接停 / 千万别突然停 are refusals)
ABRUPT_STOP = re.compile(r"(?<![不别勿莫])(?:直接|突然|马上|立即|立刻|一下子|一下|当天)\s*(?:就)?\s*(?:可以|能)?\s*停(?:掉|药|用|服|吃|了)?")
ABRUPT_REFUSED = re.compile(r"(?:不要|不能|不可|不宜|别|切勿|千万别|千万不要|不可以|避免|禁止|不建议|不应)[^，,。；;！!？?\n]{0,4}$")
# 吃了一年多 / 服用3个月 / 长期吃: use long enough that the adrenal glands are suppressed
LONG_USE = re.compile(r"(?:\d+|[一二两三四五六七八九十半]+)\s*(?:个多?月|多个月|年|多年)|长期|好几个月|几年|多年|常年")


def _situation(ctx, found):
    row = ctx.lexicon.rules.get(found.rule_id)
    if row is None or row.kind != "warning":
        return None
    text = f"{row.effect or ''} {row.management or ''}"
    if "用于减" in text and NOT_FOR_WEIGHT_LOSS.search(text):
        said = WEIGHT_LOSS.search(ctx.question or "") or WEIGHT_LOSS.search(ctx.draft)
        if said and not WEIGHT_LOSS_REFUSED.search(ctx.draft):
            return f"question:{said.group(0)}", f"问题/回答将其用于{said.group(0)}，不宜使用。"
    if "停" in text and NO_ABRUPT_STOP.search(text) and "停" in ctx.draft and \
            LONG_USE.search(f"{ctx.question or ''} {ctx.draft}"):
        for stop in ABRUPT_STOP.finditer(ctx.draft):
            if not ABRUPT_REFUSED.search(ctx.draft, max(0, stop.start() - 8), stop.start()):
                return "draft:突然停药", "患者已长期使用，回答却认可直接停药，须逐渐减量。"
    return None
