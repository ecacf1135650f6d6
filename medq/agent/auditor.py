"""The deterministic contraindication auditor: every drug a draft recommends, checked against the patient's memory.

No model, no randomness, no network: the same draft and profile always give the same findings, and a finding
names the drug, the rule, the patient fact and the message that fact came from, so a blocked draft can be
explained to the patient and to the reviewer.

What counts as a recommendation: every drug, combination product (checked ingredient by ingredient) or drug class
the lexicon finds in the draft, unless the clause names it only to warn against it — a warning cue right before it
(禁用/避免/不宜/不要/不能/慎用/不建议/勿/停用 …, possibly across a list 布洛芬、阿司匹林等) or after it in the same
clause (…禁用, …不宜使用, …过敏). Everything else is treated as recommended: the auditor fails closed.

Rules, in the order they are checked:
  allergy                   the drug (or the product's ingredient) is, or belongs to, what the patient is allergic to
  allergy_cross_reactivity  it belongs to a class that cross-reacts with the allergy (青霉素 ↔ 头孢菌素类, 阿司匹林 →
                            非甾体抗炎药) — classes with `allergy_group=yes` in classes.csv
  contraindicated_condition one of the drug's contraindicated conditions, or a parent of the patient's condition
  interaction               a current medication (or its class) is in the drug's interaction list, or the reverse
  pregnancy / lactation     the drug's category is avoid or contraindicated (caution gives a non-blocking warning)
  min_age                   the patient is younger than the drug's minimum age
  max_daily_dose            a stated dose above the lexicon's maximum adult daily dose. Parsed: 每次/一次 N mg|g|μg|
                            片|粒|袋 (片/粒/袋 through the lexicon's unit strength), 每日/一天 N 次, 每 N 小时一次, or a
                            daily total (每日 N mg); ranges take the upper bound. Not parsed: mg/kg doses, doses of
                            combination products, doses spread over several sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from medq.agent.facts import Fact, PatientProfile
from medq.agent.knowledge import Lexicon, Mention

Severity = Literal["block", "warn"]
BLOCKING = ("avoid", "contraindicated")

CLAUSE = re.compile(r"[^，,。；;！!？?\n]+")
# A warning cue, then only these filler words (or other drug names) up to the drug: the drug is warned against.
WARN_BEFORE = re.compile(r"(禁用|禁止|避免|不宜|不要|不能|不可|不应|慎用|不建议|不推荐|不适合|勿|切勿|(?<!禁)忌|(?<![特分区级类性告识辨个])别|停用|停服|"
                         r"停掉|停止|而不是|而非|代替|替代|不用|绝对不能|谨慎使用)")
FILLER = re.compile(r"^(同时|再|继续|自行|擅自|长期|随意|私自|给孩子|给宝宝|口服|服用|使用|用|吃|服|注射|打|选用|选择|"
                    r"联用|合用|与|和|及|以及|或|或者|、|\s|含有|含|任何|这类|此类|类|等|药物|药|的|了|您|你|其他|"
                    r"一切|所有|如|比如|包括|像|都|也|再用|同时服用|同时使用|含服|外用|使用过|的药)*$")
WARN_AFTER = re.compile(r"禁用|慎用|不宜|不能用|不能吃|不能服用|不可用|不适合|不要用|不要吃|不建议|应避免|需避免|要避免|"
                        r"避免使用|禁忌|过敏|需要停用|需停用|应停用|暂停|停用|不要服用|不宜使用|不能使用|不能注射|"
                        r"也不要用|也不能用|都不要用|都不能用|绝对禁止")
NUMBER = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十半]+)"
UNIT = r"(mg|毫克|g|克|μg|ug|微克|片|粒|袋|支|颗)"
PER_DOSE = re.compile(rf"(?:每次|一次|单次|每回|每顿)?\s*{NUMBER}(?:\s*[-~～到至]\s*{NUMBER})?\s*{UNIT}")
TIMES_PER_DAY = re.compile(rf"(?:每日|每天|一日|一天|日)\s*{NUMBER}(?:\s*[-~～到至]\s*{NUMBER})?\s*次|"
                           rf"{NUMBER}\s*次\s*/\s*(?:日|天)")
EVERY_HOURS = re.compile(rf"每\s*{NUMBER}\s*(?:个)?小时")
DAILY_TOTAL = re.compile(rf"(?:每日|每天|一日|一天|日)(?:总量|剂量|最大剂量|最多|不超过|总剂量)?\s*{NUMBER}"
                         rf"(?:\s*[-~～到至]\s*{NUMBER})?\s*{UNIT}")
CN_NUM = {"半": 0.5, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    if text in CN_NUM:
        return CN_NUM[text]
    if text.startswith("十") and len(text) == 2 and text[1] in CN_NUM:
        return 10 + CN_NUM[text[1]]
    if len(text) == 2 and text[1] == "十" and text[0] in CN_NUM:
        return CN_NUM[text[0]] * 10
    return None


@dataclass(frozen=True)
class Finding:
    drug: str               # as recommended: a generic, a product (新康泰克) or a class
    ingredient: str         # the generic (or class) the rule applies to
    rule: str
    patient_fact: str       # "allergy:青霉素类", "condition:胃溃疡", "medication:华法林", "pregnancy:true", "age:8"
    source_message_id: str | None
    severity: Severity
    reason: str             # one plain sentence, for the patient-facing fallback and the eval log

    def as_dict(self) -> dict[str, str | None]:
        return {"drug": self.drug, "ingredient": self.ingredient, "rule": self.rule,
                "patient_fact": self.patient_fact, "source_message_id": self.source_message_id,
                "severity": self.severity, "reason": self.reason}


@dataclass
class Recommendation:
    mention: Mention
    dose_text: str = ""     # the clause text after the drug, where its dose is stated


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    recommended: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return any(f.severity == "block" for f in self.findings)

    @property
    def verdict(self) -> Literal["block", "pass"]:
        return "block" if self.blocked else "pass"

    def reasons(self) -> list[str]:
        return [f.reason for f in self.findings]


class ContraindicationAuditor:
    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    # ---- what the draft recommends -------------------------------------------------------------------------
    def recommendations(self, draft: str) -> tuple[list[Recommendation], list[Mention]]:
        """(recommended mentions with their dose text, mentions only warned against)."""
        recommended: list[Recommendation] = []
        warned: list[Mention] = []
        for clause_match in CLAUSE.finditer(draft):
            clause = clause_match.group(0)
            mentions = [m for m in self.lexicon.find_mentions(clause) if m.kind in ("drug", "product", "class")]
            for index, mention in enumerate(mentions):
                if self._warned(clause, mentions, index):
                    warned.append(mention)
                    continue
                end = mentions[index + 1].start if index + 1 < len(mentions) else len(clause)
                # the dose may follow in the next clause(s) of the same sentence: 布洛芬，每次300mg，每日2次
                sentence_end = re.search(r"[。；;！!？?\n]", draft[clause_match.end():])
                tail = draft[clause_match.end():clause_match.end() + (sentence_end.start() if sentence_end else
                                                                      len(draft))]
                if index + 1 < len(mentions) or self._names_drug(tail):
                    tail = ""
                recommended.append(Recommendation(mention, clause[mention.end:end] + tail))
        return recommended, warned

    def _names_drug(self, text: str) -> bool:
        return any(m.kind in ("drug", "product") for m in self.lexicon.find_mentions(text))

    @staticmethod
    def _warned(clause: str, mentions: list[Mention], index: int) -> bool:
        mention = mentions[index]
        before = clause[:mention.start]
        for cue in WARN_BEFORE.finditer(before):
            between = before[cue.end():]
            for other in mentions[:index]:  # earlier drug names in a list count as filler
                if other.start >= cue.end():
                    between = between.replace(other.text, "")
            if FILLER.match(between):
                return True
        after = clause[mention.end:]
        return bool(WARN_AFTER.search(after))

    # ---- the audit -----------------------------------------------------------------------------------------
    def audit(self, draft: str, profile: PatientProfile) -> AuditResult:
        recommendations, warned = self.recommendations(draft)
        result = AuditResult(recommended=[r.mention.canonical for r in recommendations],
                             warned=[m.canonical for m in warned])
        seen: set[tuple[str, str, str, str]] = set()
        for recommendation in recommendations:
            for finding in self._check(recommendation, profile):
                key = (finding.drug, finding.ingredient, finding.rule, finding.patient_fact)
                if key not in seen:
                    seen.add(key)
                    result.findings.append(finding)
        return result

    def _source(self, profile: PatientProfile, kind: str, value: str) -> str | None:
        fact: Fact | None = profile.sources.get((kind, value)) or profile.sources.get((kind, ""))
        return fact.source_message_id if fact else None

    def _check(self, recommendation: Recommendation, profile: PatientProfile) -> list[Finding]:
        lex = self.lexicon
        mention = recommendation.mention
        drug_name = mention.canonical
        if mention.kind == "class":
            targets = [(drug_name, {drug_name})]            # a class recommended as a whole (头孢类抗生素)
        else:
            targets = [(g, {g} | lex.classes_of(g)) for g in lex.ingredients(drug_name)]
        findings: list[Finding] = []

        def add(ingredient: str, rule: str, kind: str, value: str, reason: str, severity: Severity = "block"):
            fact_value = value if kind in ("allergy", "condition", "medication") else ""
            findings.append(Finding(drug_name, ingredient, rule, f"{kind}:{value}",
                                    self._source(profile, kind, fact_value or value), severity, reason))

        for ingredient, names in targets:
            drug = lex.drugs.get(ingredient)
            shown = drug_name if ingredient == drug_name else f"{drug_name}（含{ingredient}）"
            # allergy and class cross-reactivity
            for allergy in profile.allergies:
                direct, cross = lex.allergy_closure(allergy)
                if names & direct:
                    add(ingredient, "allergy", "allergy", allergy, f"患者对{allergy}过敏，{shown}属于过敏药物。")
                elif names & cross:
                    klass = sorted(names & cross)[0]
                    add(ingredient, "allergy_cross_reactivity", "allergy", allergy,
                        f"患者对{allergy}过敏，{shown}属于{klass}，可能发生交叉过敏。")
            if drug is None:
                continue
            # contraindicated conditions (a stated condition covers its parents: 胃溃疡 → 消化性溃疡)
            for condition in profile.conditions:
                canonical = lex.canonical(condition, ("condition",)) or condition
                hit = lex.condition_ancestors(canonical) & set(drug.contraindicated_conditions)
                if hit:
                    add(ingredient, "contraindicated_condition", "condition", condition,
                        f"患者有{condition}，{shown}禁用或不宜用于{sorted(hit)[0]}。")
            # interactions with current medications, in either direction
            for medication in profile.medications:
                med_names: set[str] = set()
                for generic in lex.ingredients(medication) or [lex.canonical(medication, ("class",)) or medication]:
                    med_names |= {generic} | lex.classes_of(generic)
                if ingredient in med_names and ingredient == (lex.resolve_drug(medication) or medication):
                    continue  # continuing the drug the patient already takes is not an interaction
                theirs = set()
                for generic in med_names:
                    if generic in lex.drugs:
                        theirs |= {lex.resolve_drug(t) or t for t in lex.drugs[generic].interacts_with}
                ours = {lex.resolve_drug(t) or t for t in drug.interacts_with}
                if ours & med_names or theirs & names:
                    add(ingredient, "interaction", "medication", medication,
                        f"患者正在使用{medication}，与{shown}存在需要避免的相互作用。")
            if profile.pregnant:
                if drug.pregnancy in BLOCKING:
                    add(ingredient, "pregnancy", "pregnancy", "true", f"患者怀孕，{shown}孕期{_category(drug.pregnancy)}。")
                elif drug.pregnancy == "caution":
                    add(ingredient, "pregnancy", "pregnancy", "true", f"患者怀孕，{shown}孕期需权衡利弊使用。", "warn")
            if profile.lactating:
                if drug.lactation in BLOCKING:
                    add(ingredient, "lactation", "lactation", "true", f"患者哺乳期，{shown}哺乳期{_category(drug.lactation)}。")
                elif drug.lactation == "caution":
                    add(ingredient, "lactation", "lactation", "true", f"患者哺乳期，{shown}哺乳期需谨慎。", "warn")
            if profile.age is not None and drug.min_age_years is not None and profile.age < drug.min_age_years:
                add(ingredient, "min_age", "age", str(profile.age),
                    f"患者{profile.age}岁，{shown}用于{_years(drug.min_age_years)}以上。")
            if mention.kind == "drug" and drug.max_daily_mg is not None:
                daily = self.daily_dose_mg(recommendation.dose_text, drug.unit_mg)
                if daily is not None and daily > drug.max_daily_mg * (1 + 1e-9):
                    add(ingredient, "max_daily_dose", "dose", f"{daily:g}mg",
                        f"建议的{shown}日剂量约{daily:g}mg，超过成人每日最大剂量{drug.max_daily_mg:g}mg。")
        return findings

    # ---- doses ---------------------------------------------------------------------------------------------
    @staticmethod
    def daily_dose_mg(text: str, unit_mg: float | None) -> float | None:
        """The daily amount a dose text states, in mg; None when it states none the parser understands."""

        def to_mg(amount: float, unit: str) -> float | None:
            if unit in ("mg", "毫克"):
                return amount
            if unit in ("g", "克"):
                return amount * 1000
            if unit in ("μg", "ug", "微克"):
                return amount / 1000
            return amount * unit_mg if unit_mg else None

        def upper(match: re.Match[str], first: int) -> float | None:
            low, high = _number(match.group(first)), _number(match.group(first + 1))
            return high if high is not None else low

        total = DAILY_TOTAL.search(text)
        if total:
            amount = upper(total, 1)
            return to_mg(amount, total.group(3)) if amount is not None else None
        dose = PER_DOSE.search(text)
        if not dose:
            return None
        amount = upper(dose, 1)
        if amount is None:
            return None
        per_dose = to_mg(amount, dose.group(3))
        if per_dose is None:
            return None
        times = TIMES_PER_DAY.search(text)
        if times:
            count = upper(times, 1) if times.group(1) else _number(times.group(3))
        else:
            hours = EVERY_HOURS.search(text)
            count = 24 / _number(hours.group(1)) if hours and _number(hours.group(1)) else 1.0
        return per_dose * (count or 1.0)


def _category(category: str) -> str:
    return "禁用" if category == "contraindicated" else "应避免使用"


def _years(years: float) -> str:
    return f"{years:g}岁" if years >= 1 else f"{round(years * 12)}个月"
