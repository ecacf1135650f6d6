"""What the agent remembers about a patient: typed facts with provenance, and the profile built from them.

Shared by the extractor (which produces facts), the memory store (which persists them), the auditor (which checks
drafts against the profile) and the case files (whose `profile` keys map onto fact kinds). Facts are merged into
memory one by one, never rewritten wholesale: a new fact with the same identity replaces the old one's status and
provenance, everything else stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Iterable, Literal, Mapping

FactKind = Literal["allergy", "condition", "medication", "pregnancy", "lactation", "age", "sex",
                   "weight", "egfr", "ckd_stage", "trimester", "occupation"]
# disputed: a safety-critical fact (allergy, contraindicated condition, pregnancy) that a later message revoked
# without the patient's confirmation; the auditor keeps enforcing it until the patient confirms or a clinician ends it
FactStatus = Literal["active", "stopped", "denied", "disputed"]
FACT_STATUSES: tuple[str, ...] = ("active", "stopped", "denied", "disputed")
ENFORCED_STATUSES: tuple[str, ...] = ("active", "disputed")
LIST_KINDS: tuple[str, ...] = ("allergy", "condition", "medication")
SCALAR_KINDS: tuple[str, ...] = ("pregnancy", "lactation", "age", "sex", "weight", "egfr", "ckd_stage", "trimester",
                                 "occupation")
# case-file profile key -> fact kind
PROFILE_KEYS: dict[str, str] = {"allergies": "allergy", "conditions": "condition", "medications": "medication",
                                "pregnant": "pregnancy", "lactating": "lactation", "age": "age", "sex": "sex",
                                "weight_kg": "weight", "egfr": "egfr", "ckd_stage": "ckd_stage",
                                "trimester": "trimester", "occupation": "occupation"}
# case-file scalar keys and the JSON types they take (age in whole years; weight in kg; eGFR in ml/min/1.73m²;
# CKD stage 1-5; pregnancy trimester 1-3; occupation free text such as 司机)
SCALAR_TYPES: dict[str, type | tuple[type, ...]] = {"pregnant": bool, "lactating": bool, "age": int, "sex": str,
                                                    "weight_kg": (int, float), "egfr": (int, float),
                                                    "ckd_stage": int, "trimester": int, "occupation": str}
_NUMBER_KINDS = {"age": int, "weight": float, "egfr": float, "ckd_stage": int, "trimester": int}
_PROFILE_ATTR = {"age": "age", "sex": "sex", "weight": "weight_kg", "egfr": "egfr", "ckd_stage": "ckd_stage",
                 "trimester": "trimester", "occupation": "occupation"}

# a sex the patient's other facts settle though no message states it: a condition only one sex has, or the patient's
# own pregnancy, breastfeeding or trimester (said either way: 我没怀孕 is a woman speaking of herself). 多囊肾 and 乳腺
# conditions are not here: both sexes have them.
MALE_ONLY_CONDITION = re.compile(r"前列腺|睾丸|阴茎|勃起功能障碍")
FEMALE_ONLY_CONDITION = re.compile(r"卵巢|子宫|宫颈|阴道|输卵管|盆腔炎|妊娠|产后|绝经|更年期|痛经|月经|流产")
OWN_BODY_KINDS: tuple[str, ...] = ("pregnancy", "lactation", "trimester")


def settled_sex(conditions: Iterable[str], own_pregnancy_or_lactation: bool, age: int | None) -> str | None:
    """The sex that a patient's conditions and own pregnancy/breastfeeding facts settle; None when they settle
    nothing or disagree, and for a child (a baby 还在吃母乳 is fed, not feeding). One reading for the profile (which
    fills an unstated sex with it) and for `audit_eval` (which scores such a sex once, through the fact that settles
    it)."""
    if age is not None and age < 12:
        return None
    male = any(MALE_ONLY_CONDITION.search(c) for c in conditions)
    female = own_pregnancy_or_lactation or any(FEMALE_ONLY_CONDITION.search(c) for c in conditions)
    return None if male == female else "male" if male else "female"


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Fact:
    """One remembered fact.

    value: for allergy/condition/medication the lexicon's canonical name (a drug, a drug class such as 青霉素类, or
    a condition); for pregnancy/lactation "true"/"false"; for age an integer as text ("34"); for sex "male"/"female".
    value for weight (kg), egfr (ml/min/1.73m²), ckd_stage, trimester: a number as text; occupation: free text.
    status: disputed (a later message revoked a safety-critical fact without confirmation: still enforced),
    active (holds now), stopped (a medication no longer taken), denied (the patient said it does not hold,
    e.g. 我对青霉素不过敏).
    """

    kind: FactKind
    value: str
    status: FactStatus = "active"
    source_message_id: str | None = None
    observed_at: str = field(default_factory=utcnow)
    evidence: str = ""          # the span of the message it was read from
    extractor: str = "rules"    # "rules", "llm" or "manual" (a correction through the API)
    id: str | None = None       # assigned by the memory store
    # values of the same kind this fact ends when merged, not stored: `supersedes` → stopped (a switch, 换成了瑞舒伐他汀:
    # the other statins); `retracts` → denied (a correction that names only the new value, 刚才说错了，是头孢)
    supersedes: tuple[str, ...] = field(default=(), compare=False)
    retracts: tuple[str, ...] = field(default=(), compare=False)

    @property
    def identity(self) -> tuple[str, str]:
        """Facts with the same identity are one fact at different times: list kinds by value, scalars by kind."""
        return (self.kind, self.value) if self.kind in LIST_KINDS else (self.kind, "")


def merge_facts(existing: Iterable[Fact], new: Iterable[Fact]) -> list[Fact]:
    """Newer facts replace older ones of the same identity (keeping the stored id). A new fact that `supersedes`
    (a switch) or `retracts` (a correction) values also ends the active facts of its kind with those values: they
    become `stopped` or `denied`, with the new fact's evidence, source message and time as provenance. Nothing else
    changes."""
    merged: dict[tuple[str, str], Fact] = {f.identity: f for f in existing}
    for fact in new:
        for values, status in ((fact.supersedes, "stopped"), (fact.retracts, "denied")):
            for value in values:
                old = merged.get((fact.kind, value))
                if old is not None and old.status == "active" and value != fact.value:
                    merged[old.identity] = replace(old, status=status, evidence=fact.evidence,
                                                   source_message_id=fact.source_message_id,
                                                   observed_at=fact.observed_at, extractor=fact.extractor)
        old = merged.get(fact.identity)
        merged[fact.identity] = replace(fact, id=old.id) if old is not None and fact.id is None else fact
    return list(merged.values())


@dataclass
class PatientProfile:
    """The active facts, as the auditor and the prompts use them; `sources` keeps the fact behind each value."""

    allergies: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    pregnant: bool | None = None
    lactating: bool | None = None
    age: int | None = None
    sex: str | None = None
    weight_kg: float | None = None
    egfr: float | None = None
    ckd_stage: int | None = None
    trimester: int | None = None
    occupation: str | None = None
    sources: dict[tuple[str, str], Fact] = field(default_factory=dict)

    @classmethod
    def from_facts(cls, facts: Iterable[Fact]) -> "PatientProfile":
        profile = cls()
        facts = list(facts)
        for fact in facts:
            if fact.kind in LIST_KINDS:
                if fact.status not in ENFORCED_STATUSES:
                    continue
                target = {"allergy": profile.allergies, "condition": profile.conditions,
                          "medication": profile.medications}[fact.kind]
                if fact.value not in target:
                    target.append(fact.value)
            elif fact.kind in ("pregnancy", "lactation"):
                value = fact.value == "true" and fact.status in ENFORCED_STATUSES
                setattr(profile, "pregnant" if fact.kind == "pregnancy" else "lactating", value)
            elif fact.kind in _PROFILE_ATTR and fact.status in ENFORCED_STATUSES:
                convert = _NUMBER_KINDS.get(fact.kind, str)
                setattr(profile, _PROFILE_ATTR[fact.kind], convert(float(fact.value)) if convert is int
                        else convert(fact.value))
            profile.sources[fact.identity] = fact
        if profile.pregnant is False:
            profile.trimester = None     # a pregnancy that is over (宝宝出生了) or denied has no trimester
        if profile.sex is None:          # 怀孕26周 / 前列腺增生: the sex the other facts settle, its source theirs
            own = [f for f in facts if f.kind in OWN_BODY_KINDS and f.status in ENFORCED_STATUSES]
            profile.sex = settled_sex(profile.conditions, bool(own), profile.age)
            if profile.sex is not None:
                only = MALE_ONLY_CONDITION if profile.sex == "male" else FEMALE_ONLY_CONDITION
                settling = (own if profile.sex == "female" else []) + [
                    profile.sources[("condition", c)] for c in profile.conditions if only.search(c)]
                profile.sources[("sex", "")] = settling[0]
        return profile

    @classmethod
    def from_case(cls, case_profile: Mapping[str, Any], source_message_id: str = "case") -> "PatientProfile":
        """A case file's `profile` ({"allergies": [...], "pregnant": true, "age": 5, ...}; every key optional)."""
        return cls.from_facts(facts_from_profile(case_profile, source_message_id))


def facts_from_profile(case_profile: Mapping[str, Any], source_message_id: str = "case") -> list[Fact]:
    unknown = set(case_profile) - set(PROFILE_KEYS)
    if unknown:
        raise ValueError(f"unknown profile key(s) {sorted(unknown)}; valid: {sorted(PROFILE_KEYS)}")
    facts = []
    for key, value in case_profile.items():
        kind = PROFILE_KEYS[key]
        if value is None:
            continue
        if kind in LIST_KINDS:
            facts += [Fact(kind, str(v), source_message_id=source_message_id) for v in value]
        elif kind in ("pregnancy", "lactation"):
            facts.append(Fact(kind, "true" if value else "false", source_message_id=source_message_id))
        else:
            facts.append(Fact(kind, str(value), source_message_id=source_message_id))
    return facts
