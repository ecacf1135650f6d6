"""What every rule kind shares: the finding with its CDS-Hooks-style card, the audit context a rule reads, and the
population predicate evaluated against the patient.

A rule kind is a class with `name`, `check(ctx) -> Iterable[Finding]` and, optionally, `expand(ctx)` (run before any
check, to add what the draft implicitly recommends). The auditor runs the kinds listed in
conf/agent/auditor/default.yaml (`rules:` by `_target_`), in that order.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from medq.agent.facts import Fact, PatientProfile
from medq.agent.knowledge import CKD_BANDS, Ingredient, Lexicon, Mention, Rule, Term

Severity = Literal["block", "warn"]
Indicator = Literal["info", "warning", "critical"]
SUMMARY_MAX = 140
SOURCE_LABELS = {"insert": "药品说明书", "NMPA": "国家药品监督管理局公告", "NEML2018": "国家基本药物目录（2018年版）", "ChP-CDG": "中国药典临床用药须知",
                 "China-PIM-2017": "中国老年人潜在不适当用药判断标准（2017年版）", "Beers2023": "AGS Beers Criteria 2023",
                 "KDIGO2012": "KDIGO 2012 CKD 指南", "BNFC": "BNF for Children", "WHO-EML": "WHO 基本药物标准清单",
                 "FDA-label": "FDA 说明书", "Stockley": "Stockley 药物相互作用", "expert": "专家经验（待药师审核）",
                 "DDInter": "DDInter（非商业许可）", "ATC": "WHO ATC", "OTC-list": "国家非处方药目录"}


@dataclass(frozen=True)
class Card:
    """A CDS Hooks card: what the UI and the API show as they are (the UI holds no medical vocabulary)."""

    summary: str            # ≤ 140 characters
    indicator: Indicator
    detail: str
    source: dict[str, str]  # {"label": ..., "rule_id": ..., "reviewed_by": ...}

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "indicator": self.indicator, "detail": self.detail,
                "source": dict(self.source)}


@dataclass(frozen=True)
class Finding:
    drug: str               # as recommended: a substance, a product (新康泰克) or a class
    ingredient: str         # the substance (or class) the rule applies to
    rule: str               # the rule kind (allergy, contraindicated_condition, interaction, max_daily_dose, ...)
    patient_fact: str       # "allergy:青霉素类", "condition:胃溃疡", "medication:华法林", "pregnancy:true", "age:8"
    source_message_id: str | None
    severity: Severity
    reason: str             # one plain sentence, for the patient-facing fallback and the eval log
    card: Card | None = None
    rule_id: str = ""       # the rules.csv row ("" for rules that read no row, e.g. class allergy)
    reviewed: bool = False  # the row has a reviewed_by

    def as_dict(self) -> dict[str, Any]:
        return {"drug": self.drug, "ingredient": self.ingredient, "rule": self.rule,
                "patient_fact": self.patient_fact, "source_message_id": self.source_message_id,
                "severity": self.severity, "reason": self.reason, "rule_id": self.rule_id,
                "reviewed": self.reviewed, "card": self.card.as_dict() if self.card else None}


@dataclass
class Recommended:
    """One thing the draft recommends: a mention (or a drug from the question the draft endorses)."""

    mention: Mention
    substances: list[str]                    # ingredients (a class recommended as a whole: the class)
    dose_text: str = ""
    origin: Literal["draft", "question"] = "draft"
    strength: Ingredient | None = None       # a concentration stated with it (西替利嗪滴剂（10mg/ml）)
    topical: bool = False                    # on the skin (外用双氯芬酸乳胶剂, 涂…软膏): no systemic exposure to speak of
    ocular: bool = False                     # into the eye (妥布霉素滴眼液): eye conditions count, systemic rows do not
    intrauterine: bool = False               # a levonorgestrel intrauterine system: local, no systemic interaction
    after_pregnancy: bool = False            # advised for after the birth (分娩后再补种…): no pregnancy row applies
    from_trimester: int | None = None        # advised from a later trimester on (孕中期后换X): earlier trimesters' rows do not apply

    @property
    def local(self) -> bool:
        """On the skin, into the eye or the uterus: exempt from the rows about systemic exposure (interaction, dose…);
        the population rules (condition, elderly, renal) exempt only the skin and the eye (see PopulationRule)."""
        return self.topical or self.ocular or self.intrauterine

    @property
    def name(self) -> str:
        return self.mention.canonical

    @property
    def display(self) -> str:
        """How the draft named it: a product by the name written (新康泰克, not its full registered name)."""
        if self.mention.kind == "product" and self.mention.text.strip():
            return self.mention.text.strip()
        return self.mention.canonical


@dataclass
class NormalisedProfile:
    """The profile's names resolved through the knowledge base; what could not be resolved, kept and reported."""

    allergies: list[tuple[str, str]] = field(default_factory=list)       # (as stated, canonical or as stated)
    conditions: list[tuple[str, str]] = field(default_factory=list)
    medications: list[tuple[str, str]] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)                  # "condition:…", "medication:…"
    ckd_stage: int | None = None
    egfr: float | None = None
    egfr_band: tuple[float, float] | None = None    # from a CKD stage (3b → 30-45) when no eGFR is known
    age_years: float | None = None                    # an infant's age in months from the question (age 0 → 0.5)

    def kidney_band(self) -> tuple[float, float] | None:
        if self.egfr is not None:
            return self.egfr, self.egfr
        if self.egfr_band is not None:
            return self.egfr_band
        return CKD_BANDS.get(self.ckd_stage) if self.ckd_stage is not None else None


@dataclass
class AuditContext:
    lexicon: Lexicon
    profile: PatientProfile
    facts: NormalisedProfile
    draft: str
    question: str
    recommended: list[Recommended]
    warned: list[Mention]
    endorsed: set[str]                       # behaviours/foods the draft endorses (饮酒, 驾驶)
    cautioned: set[str] = field(default_factory=set)   # words of behaviours/foods the draft warns against (西柚)
    # the predicate of one population, asked by every rule and every mention of a drug: decided once per audit
    _populations: dict = field(default_factory=dict, repr=False, compare=False)

    # -- names ------------------------------------------------------------------------------------------------------
    def names(self, substance: str) -> frozenset[str]:
        """A substance with all its classes (and their parents)."""
        return self.lexicon.names_of(substance)

    def medication_substances(self) -> list[tuple[str, str, list[str]]]:
        """(as stated, canonical, substances) of each current medication."""
        out = []
        for stated, canonical in self.facts.medications:
            found = self.lexicon.lookup(canonical)
            if found and found[0] == "class":
                subs = [canonical]
            else:
                subs = self.lexicon.ingredients(canonical) or [canonical]
            out.append((stated, canonical, subs))
        return out

    def rows(self, substance: str, kinds: Iterable[str]) -> list[Rule]:
        """Rules whose subject is the substance or one of its classes."""
        return _rows(self.lexicon, substance, tuple(sorted(kinds)))

    def population_rows(self, substance: str, topics: tuple[str, ...]) -> tuple[Rule, ...]:
        """The substance's contraindication/warning rows whose population is one of `topics` (Rule.topic), in the
        order of `rows`: each population rule reads only its own rows, not every row of the drug."""
        return _population_rows(self.lexicon, substance, topics)

    def source(self, kind: str, value: str = "") -> str | None:
        fact: Fact | None = self.profile.sources.get((kind, value)) or self.profile.sources.get((kind, ""))
        return fact.source_message_id if fact else None

    # -- the population predicate -----------------------------------------------------------------------------------
    def population(self, terms: Iterable[Term]) -> list[tuple[str, str | None]] | None:
        """(patient fact, source message id) for every term when all hold; None when one does not (or is unknown).
        An empty population holds for everyone: []."""
        if isinstance(terms, tuple):
            # keyed by the row's own tuple (kept alive by the lexicon; the entry holds it, so no id is reused)
            entry = self._populations.get(id(terms))
            if entry is None or entry[0] is not terms:
                entry = self._populations[id(terms)] = (terms, self._population(terms))
            return None if entry[1] is None else list(entry[1])
        return self._population(terms)

    def _population(self, terms: Iterable[Term]) -> list[tuple[str, str | None]] | None:
        matched: list[tuple[str, str | None]] = []
        for term in terms:
            found = self.term(term)
            if found is None:
                return None
            matched.append(found)
        return matched

    def term(self, term: Term) -> tuple[str, str | None] | None:
        p, lex = self.profile, self.lexicon
        if term.kind == "pregnant":
            return ("pregnancy:true", self.source("pregnancy")) if p.pregnant else None
        if term.kind == "lactating":
            return ("lactation:true", self.source("lactation")) if p.lactating else None
        if term.kind == "planning_pregnancy":
            return None   # read from the question and the draft by PreconceptionRule, never a profile fact
        if term.kind == "sex":
            return (f"sex:{p.sex}", self.source("sex")) if p.sex == term.value else None
        if term.kind == "condition":
            band = self.facts.kidney_band()
            if term.value in RENAL_CONDITIONS and band is not None:
                # graded kidney function decides an ungraded kidney row: 肾功能不全 rows are about eGFR < 30
                if band[0] < RENAL_CONDITIONS[term.value]:
                    fact = f"egfr:{self.facts.egfr:g}" if self.facts.egfr is not None else \
                        f"ckd_stage:{self.facts.ckd_stage}"
                    return fact, self.source("egfr") or self.source("ckd_stage") or self.source("condition")
                return None
            for stated, canonical in self.facts.conditions:
                # graded kidney data says how far an unspecified kidney condition goes: it does not meet its
                # subtypes' rows (肾功能不全 with eGFR 50 is not 无尿)
                downward = not (band is not None and canonical in (*RENAL_CONDITIONS, "慢性肾脏病"))
                if condition_matches(lex, canonical, term.value, downward):
                    return f"condition:{stated}", self.source("condition", stated)
            return None
        if term.kind == "allergy":
            for allergy in p.allergies:
                direct, cross = lex.allergy_closure(allergy)
                target = lex.resolve_any(term.value) or term.value
                if target in direct | cross:
                    return f"allergy:{allergy}", self.source("allergy", allergy)
            return None
        if term.kind == "with":
            # a dose cap that holds with a co-medication (辛伐他汀 with 地尔硫䓬 ≤ 10 mg, 阿司匹林 with 替格瑞洛
            # ≤ 100 mg, round 18): one the patient takes now, or one the draft recommends beside the drug
            target = lex.resolve_any(term.value) or term.value
            for stated, _canonical, subs in self.medication_substances():
                if any(target in self.names(s) for s in subs):
                    return f"medication:{stated}", self.source("medication", stated)
            for rec in self.recommended:
                if any(target in self.names(s) for s in rec.substances):
                    return f"draft:{rec.display}", None
            return None
        if term.kind == "occupation":
            if p.occupation and occupation_matches(p.occupation, term.value):
                return f"occupation:{p.occupation}", self.source("occupation")
            return None
        limit = float(term.value)
        if term.kind == "age":
            age = self.facts.age_years if self.facts.age_years is not None else p.age
            return (f"age:{p.age}", self.source("age")) if age is not None and _compare(age, term.op, limit) \
                else None
        if term.kind == "weight":
            return (f"weight:{p.weight_kg:g}kg", self.source("weight")) if p.weight_kg is not None and \
                _compare(p.weight_kg, term.op, limit) else None
        if term.kind == "trimester":
            if p.trimester is not None and p.pregnant is not False and _compare(p.trimester, term.op, limit):
                return f"trimester:{p.trimester}", self.source("trimester")
            return None
        if term.kind == "egfr":
            if self.facts.egfr is not None:
                return (f"egfr:{self.facts.egfr:g}", self.source("egfr")) \
                    if _compare(self.facts.egfr, term.op, limit) else None
            band = self.facts.kidney_band()
            if band is not None:   # only a stage: the term holds when some eGFR of its band meets it (fail closed)
                low, high = band
                holds = low < limit if term.op in ("<", "<=") else high > limit if term.op in (">", ">=") else \
                    low <= limit < high
                stage = f"{self.facts.ckd_stage}" if self.facts.ckd_stage is not None else f"{low:g}-{high:g}"
                return (f"ckd_stage:{stage}", self.source("ckd_stage") or self.source("condition")) \
                    if holds else None
            return None
        if term.kind == "ckd_stage":
            stage = self.facts.ckd_stage
            if stage is None and self.facts.egfr is not None:
                stage = next(s for s, (low, high) in CKD_BANDS.items() if low <= self.facts.egfr < high or s == 5)
            if stage is not None and _compare(stage, term.op, limit):
                return f"ckd_stage:{stage}", self.source("ckd_stage") or self.source("egfr")
            return None
        return None


RANK = {"critical": 0, "warning": 1, "info": 2}


@functools.lru_cache(maxsize=16384)
def _rows(lexicon: Lexicon, substance: str, kinds: tuple[str, ...]) -> list[Rule]:
    found = {r for name in lexicon.names_of(substance) for r in lexicon.rules_by_subject.get(name, ())
             if r.kind in kinds}
    # blocking rows first, then by severity: when two rows say the same thing, the stricter one is reported
    return sorted(found, key=lambda r: (not r.blocks, RANK[r.severity], r.id))


@functools.lru_cache(maxsize=16384)
def _population_rows(lexicon: Lexicon, substance: str, topics: tuple[str, ...]) -> tuple[Rule, ...]:
    return tuple(r for r in _rows(lexicon, substance, ("contraindication", "warning")) if r.topic in topics)


# an ungraded kidney condition in a row, read against a graded profile: it holds below this eGFR
RENAL_CONDITIONS = {"肾功能不全": 30.0, "肾衰竭": 15.0}


def _compare(value: float, op: str, limit: float) -> bool:
    return {"<": value < limit, "<=": value <= limit, ">": value > limit, ">=": value >= limit,
            "=": value == limit}[op]


def condition_matches(lexicon: Lexicon, patient: str, rule: str, downward: bool = True) -> bool:
    """A rule for `rule` applies to the patient's condition when the patient's condition is it or below it (胃溃疡 →
    消化性溃疡), or when the patient states only a broader condition that `rule` refines (青光眼, unspecified, for a
    rule on 闭角型青光眼: the auditor fails closed). A named sibling (开角型青光眼) does not match."""
    if rule in lexicon.condition_ancestors(patient):
        return True
    return downward and patient != rule and rule not in NOT_IMPLIED and patient in lexicon.condition_ancestors(rule)


# subtypes an unspecified broader condition does not stand for: an adult's "糖尿病" is type 2 in about 95 % of Chinese
# patients, and the type-1 rows (sulfonylureas, SGLT2 inhibitors) would withdraw ordinary diabetes care
# (an acute myocardial infarction is an emergency on a ward, not what a patient who writes 冠心病 or 心梗 has now: the
# thyroid hormones' 急性心肌梗死 rows would withdraw the low starting dose their inserts give for coronary disease, round 19)
NOT_IMPLIED = frozenset({"1型糖尿病", "急性心肌梗死"})


OCCUPATIONS = {"驾驶": ("司机", "驾驶", "开车", "代驾", "货车", "出租车", "网约车", "公交", "卡车", "飞行员", "机长"),
               "高空作业": ("高空", "建筑工人", "电工", "架线", "外墙"),
               "操作机械": ("机械", "车床", "操作工", "机床", "叉车", "吊车")}


def occupation_matches(occupation: str, value: str) -> bool:
    words = OCCUPATIONS.get(value, (value,))
    return any(word in occupation for word in words)


def make_card(summary: str, indicator: Indicator, detail: str, rule: Rule | None) -> Card:
    if len(summary) > SUMMARY_MAX:
        summary = summary[:SUMMARY_MAX - 1] + "…"
    source = {"label": SOURCE_LABELS.get(rule.source, rule.source) if rule else "知识库药物类别",
              "rule_id": rule.id if rule else "", "reviewed_by": rule.reviewed_by if rule else ""}
    return Card(summary, indicator, detail, source)


def shown(rec: Recommended, ingredient: str) -> str:
    return rec.display if ingredient == rec.name else f"{rec.display}（含{ingredient}）"


def finding(ctx: AuditContext, rec: Recommended, ingredient: str, rule_name: str, fact: str, source: str | None,
            reason: str, row: Rule | None, block: bool | None = None, indicator: Indicator | None = None) -> Finding:
    block = row.blocks if block is None else block
    indicator = indicator or (row.severity if row else "critical")  # type: ignore[assignment]
    detail_parts = [reason]
    if row is not None and row.effect:
        detail_parts.append(f"风险：{row.effect}。")
    if row is not None and row.management:
        detail_parts.append(f"处理：{row.management}。")
    card = make_card(reason, indicator, "".join(detail_parts), row)
    return Finding(rec.display, ingredient, rule_name, fact, source, "block" if block else "warn", reason, card,
                   row.id if row else "", bool(row and row.reviewed_by))


def population_words(terms: Iterable[Term]) -> str:
    """A population in plain words: 孕期, 12岁以下, 体重≤15kg, eGFR<30, 高血压患者 ..."""
    words = []
    for t in terms:
        if t.kind == "pregnant":
            words.append("孕期")
        elif t.kind == "lactating":
            words.append("哺乳期")
        elif t.kind == "planning_pregnancy":
            words.append("备孕期")
        elif t.kind == "condition":
            words.append(f"{t.value}患者")
        elif t.kind == "age":
            words.append(f"{t.value}岁以下" if t.op in ("<", "<=") else f"{t.value}岁以上")
        elif t.kind == "weight":
            words.append(f"体重{t.op.replace('<=', '≤').replace('>=', '≥')}{t.value}kg")
        elif t.kind == "egfr":
            words.append(f"eGFR{t.op.replace('<=', '≤').replace('>=', '≥')}{t.value}")
        elif t.kind == "trimester":
            words.append(f"孕{t.value}期" if t.op == "=" else f"孕期（第{t.value}期起）")
        elif t.kind == "with":
            words.append(f"与{t.value}合用时")
        else:
            words.append(str(t))
    return "、".join(words)


ACTION_WORDS = {"contraindicated": "禁用", "avoid": "应避免使用", "reduce": "需减量", "caution": "需慎用"}


def action_words(row: Rule) -> str:
    return ACTION_WORDS[row.action]


def clean(text: str) -> str:
    return re.sub(r"\s+", "", text)
