"""The shared shape of the rules that read contraindication/warning rows with a population (condition, pregnancy,
lactation, age, elderly, renal): for every recommended ingredient, the rows of its substance and classes whose
topic is this kind's and whose population holds for the patient. Each subclass has its own wording."""

from __future__ import annotations

import functools
import math
import re
from typing import Iterable

from medq.agent.knowledge import NUMBER_WORDS, WASHOUT_UNITS, Rule
from medq.agent.rules.base import AuditContext, Finding, Recommended, action_words, finding, shown
from medq.agent.rules.dose import dosing_rows, own_dose_text, population_key, read_dose, strength_of
from medq.agent.text import span_end, span_start


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


# a genetic marker a row warns its carriers about (汉族HLA-B*1502携带者易发SJS/TEN), and the patient's own words or
# record that they carry it (HLA-B*1502阳性 / 携带HLA-B*1502): the general caution is then the patient's
MARKER = re.compile(r"HLA-?B\s*\*?\s*(\d{2})\s*:?\s*(\d{2})", re.IGNORECASE)
POSITIVE_AFTER = re.compile(r"\s*(?:基因)?\s*(?:检测|检查|筛查)?\s*(?:结果)?\s*(?:是|为|呈|显示)?\s*(?:阳性|\(\+\)|（\+）|\+)")
CARRIES_BEFORE = re.compile(r"(?:携带|带有|是)\s*$")


def _carrier(ctx: AuditContext, row) -> str:
    """The marker of a general row the patient is stated to carry ('' when none): HLA-B*1502阳性 in the question or
    the record meets 汉族HLA-B*1502携带者易发SJS/TEN; 阴性 or no statement meets nothing."""
    if "HLA" not in (row.effect or ""):
        return ""    # the usual row: decided without a scan
    marked = MARKER.search(row.effect or "")
    if not marked:
        return ""
    for text in [ctx.question, *ctx.profile.conditions]:
        for found in MARKER.finditer(text or ""):
            if found.groups() == marked.groups() and (POSITIVE_AFTER.match(text, found.end()) or
                                                       CARRIES_BEFORE.search(text[max(0, found.start() - 4):found.start()])):
                return f"HLA-B*{marked.group(1)}{marked.group(2)}"
    return ""


# a row that limits how long a drug is used, to a stated span (连续使用超过7天致药物性鼻炎 / 连续使用不超过2周) or in words
# (不宜长期连续使用 / 避免长期使用), and a draft that says the drug can be used for long (长期用也没关系 / 可以一直用 /
# 长期喝也行) or for a span past the row's (连续用一两个月也行 against 7 days): the draft gives the harm the row limits
DURATION_ROW = re.compile(r"(?:超过|不超过|大于|>)\s*([\d一二三四五六七八九十]+)\s*(天|日|周|个月)")
LONG_USE_ROW = re.compile(r"(?:避免|不宜|不可|不应|勿)长期")
USE_VERB = r"(?:用|使用|吃|服|服用|喷|涂|抹|滴|喝|泡|贴)"
LONG_USE = re.compile(rf"(?<!不)(?<!不要)(?<!不宜)(?<!别)(?<!不能)(?<!避免)(?:长期|一直|长时间|常年|天天)\s*(?:泡水)?\s*{USE_VERB}"
                      r"\s*(?:也|都)?\s*(?:没关系|没问题|没事|不要紧|无妨|可以|行|不会)|"
                      rf"(?:可以|能)\s*(?:长期|一直|长时间|常年)\s*{USE_VERB}")
# 可以每天7.5mg长期吃: a permission whose clause ends in long use, with no negation or 但 between
LONG_USE_LATER = re.compile(rf"(?:可以|能)([^，,。；;：:]{{0,12}}?)(?:长期|一直|长时间|常年)\s*{USE_VERB}")
NOT_BETWEEN = re.compile(r"不|别|勿|避免|但|只|短期")
# 每天7.5mg长期吃。: a daily dose whose clause ends in long use (not 需要长期吃, a prescribed necessity)
DOSE_THEN_LONG = re.compile(rf"(?:每天|每日|一天|一日)([^，,。；;：:]{{0,12}}?)(?:长期|一直|常年)\s*{USE_VERB}\s*(?=$|[。，,；;！!])")
NECESSITY = re.compile(r"需要|需|必须|得|要")
# a span the draft gives for continuous use (连续用一两个月 / 连涂两周 / 连着吃3-4周), unless it is a limit (不超过/最多/以内)
SPAN_NUMBER = r"(?:\d+(?:\s*[-~～到至]\s*\d+)?|[一二两三四五六七八九十]{1,2})"
DRAFT_SPAN = re.compile(rf"(?:连续|连着|连)\s*{USE_VERB}?\s*(?:上|了)?\s*({SPAN_NUMBER})\s*(?:多)?\s*(个月|个星期|星期|周|天|日|月)")
SPAN_LIMIT = re.compile(r"(?:不超过|不要超过|不宜超过|不能超过|别超过|勿超过|最多|最长|不要|不宜|避免|别|勿|不能)\s*$")


def _span_count(text: str) -> float:
    """The longest count a span names: 3-4 → 4, 一两 → 2, 十 → 10."""
    digits = re.findall(r"\d+", text)
    if digits:
        return float(max(int(d) for d in digits))
    return float(max(NUMBER_WORDS[c] for c in text))


@functools.lru_cache(maxsize=8192)
def _row_span(effect: str, management: str) -> float | None:
    """The days a row allows continuous use (连续使用不超过7天 → 7), inf where it limits long use in words only, None
    where it limits nothing. A pure function of the row's text: memoised."""
    text = f"{effect} {management}"
    limit = DURATION_ROW.search(text) if "超过" in text else None
    if limit is not None:
        return _span_count(limit.group(1)) * WASHOUT_UNITS[limit.group(2)]
    return math.inf if LONG_USE_ROW.search(text) else None


def _long_use_endorsed(ctx: AuditContext, rec: Recommended, row) -> bool:
    """Whether the draft, in the sentence that recommends this drug, endorses longer use than the row allows."""
    if rec.origin != "draft":
        return False
    allowed = _row_span(row.effect or "", row.management or "")
    if allowed is None:
        return False
    sentence = ctx.draft[span_start(ctx.draft, rec.mention.start):span_end(ctx.draft, rec.mention.end)]
    if LONG_USE.search(sentence) or LONG_USE.search(rec.dose_text) or any(
            not NOT_BETWEEN.search(m.group(1)) for m in LONG_USE_LATER.finditer(sentence)) or any(
            not NOT_BETWEEN.search(m.group(1)) and not NECESSITY.search(m.group(1))
            for m in DOSE_THEN_LONG.finditer(sentence)):
        return True
    if allowed == math.inf:
        return False
    return any(_span_count(m.group(1)) * WASHOUT_UNITS[m.group(2)] > allowed and
               not SPAN_LIMIT.search(sentence[max(0, m.start() - 5):m.start()]) and
               not re.match(r"\s*(?:以内|之内|为限|为宜)", sentence[m.end():])
               for m in DRAFT_SPAN.finditer(sentence))


# a systemic-topic row (a condition, the elderly, the kidneys) that its source says holds on the skin too: its text
# says (含外用) — 出牙 with a lidocaine or benzocaine gel rubbed on an infant's gums is swallowed and absorbed (round 16)
LOCAL_TOO = re.compile(r"[（(]含外用[）)]")


def _local_too(row) -> bool:
    return bool(LOCAL_TOO.search(row.management or "") or LOCAL_TOO.search(row.effect or ""))


# the profile fact without which no row of a topic can hold (its term needs it): a rule whose topics all lack theirs
# has nothing to check, decided before any row is read
TOPIC_NEEDS = {
    "pregnant": lambda ctx: bool(ctx.profile.pregnant) or ctx.profile.trimester is not None,
    "lactating": lambda ctx: bool(ctx.profile.lactating),
    "age": lambda ctx: ctx.facts.age_years is not None or ctx.profile.age is not None,
    "elderly": lambda ctx: ctx.facts.age_years is not None or ctx.profile.age is not None,
    "egfr": lambda ctx: ctx.facts.kidney_band() is not None,
}


def _within_own_limit(ctx: AuditContext, rec: Recommended, ingredient: str, row: Rule) -> bool:
    """A class row (三环类抗抑郁药 age>=65) for a member whose own dosing row for the same population sets the dose the
    criteria allow (多塞平 age>=65 ≤ 6 mg/day: Beers lists doxepin > 6 mg/day), where the draft states a daily dose within
    it: the low dose is the exception the criteria make. A dose not stated keeps the class row (round 19)."""
    if row.subject == ingredient or not rec.dose_text or not any(c.isdigit() for c in rec.dose_text):
        return False
    population = population_key(row)
    own = [r for r in dosing_rows(ctx, ingredient) if r.subject == ingredient and r.max_mg_day is not None and
           population_key(r) == population]
    if not own:
        return False
    text = own_dose_text(rec.dose_text, rec, ingredient, ctx.lexicon)
    dose = read_dose(text, strength_of(ctx.lexicon, rec, ingredient, text))
    return dose.per_day_mg is not None and dose.per_day_mg <= min(r.max_mg_day for r in own)


class PopulationRule:
    name = "population"
    topics: tuple[str, ...] = ()
    systemic = False     # rows about systemic exposure (condition, elderly, renal) do not apply on the skin
    dose_exceptions = False   # a member's own dosing row for the row's population allows a low dose (elderly)

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        if self.topics and all(t in TOPIC_NEEDS and not TOPIC_NEEDS[t](ctx) for t in self.topics):
            return
        for rec in ctx.recommended:
            local = self.systemic and (rec.topical and not _transdermal(ctx, rec) or
                                       rec.ocular and self.name != "contraindicated_condition")
            # on the skin: no systemic row unless it says (含外用); into the eye: its conditions (青光眼, 角膜炎) count
            for ingredient in rec.substances:
                for row in ctx.population_rows(ingredient, self.topics):
                    if local and not _local_too(row):
                        continue
                    if rec.ocular and self.name in ("min_age", "lactation") and not _reaches_eye(rec, row):
                        continue   # 氨基糖苷类 age<18 (ear and kidney toxicity) is about systemic use, not 妥布霉素滴眼液;
                        # so is 左氧氟沙星 age<18 (cartilage) about the tablets, not 左氧氟沙星滴眼液; and a drop in the
                        # eye puts next to nothing in the milk (哺乳期禁用 on the tablets does not reach the eye drops)
                    if _immediate_release_only(row) and _modified_release(ctx, rec):
                        continue   # 老年人避免速释片 does not reach 硝苯地平控释片 / 拜新同
                    matched = ctx.population(row.population)
                    if matched is None:
                        continue
                    if self.dose_exceptions and _within_own_limit(ctx, rec, ingredient, row):
                        continue
                    fact, source = matched[0] if matched else ("", None)
                    carrier = "" if matched else _carrier(ctx, row)
                    if carrier:
                        yield finding(ctx, rec, ingredient, self.name, f"marker:{carrier}", None,
                                      f"患者{carrier}阳性，{shown(rec, ingredient)}：{row.effect}，不宜使用。", row,
                                      block=True, indicator="critical")
                        continue
                    if _long_use_endorsed(ctx, rec, row):
                        yield finding(ctx, rec, ingredient, self.name, fact, source,
                                      f"{shown(rec, ingredient)}{row.management or row.effect}，回答却说可以长期用。", row,
                                      block=True, indicator="critical")
                        continue
                    yield finding(ctx, rec, ingredient, self.name, fact, source,
                                  self.wording(ctx, rec, ingredient, row, [m[0] for m in matched]), row)

    def wording(self, ctx: AuditContext, rec: Recommended, ingredient: str, row: Rule, facts: list[str]) -> str:
        return f"{shown(rec, ingredient)}{action_words(row)}。"

    @staticmethod
    def value(fact: str) -> str:
        return fact.partition(":")[2]
