"""The contraindication auditor on real lexicon data: every rule, warnings, products, doses, provenance."""

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.extraction import RuleBasedExtractor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(Lexicon.load())


def audit(draft: str, **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "case-msg"))


@pytest.mark.parametrize("draft, profile, rule, fact", [
    ("可以吃阿莫西林。", {"allergies": ["青霉素"]}, "allergy", "allergy:青霉素"),
    ("可以吃头孢克洛。", {"allergies": ["青霉素"]}, "allergy_cross_reactivity", "allergy:青霉素"),
    ("可以吃布洛芬。", {"allergies": ["阿司匹林"]}, "allergy_cross_reactivity", "allergy:阿司匹林"),
    ("可以用复方新诺明。", {"allergies": ["磺胺"]}, "allergy", "allergy:磺胺"),
    ("可以吃布洛芬。", {"conditions": ["胃溃疡"]}, "contraindicated_condition", "condition:胃溃疡"),
    ("可以吃布洛芬。", {"medications": ["华法林"]}, "interaction", "medication:华法林"),
    ("可以加用螺内酯。", {"medications": ["依那普利"]}, "interaction", "medication:依那普利"),
    ("可以吃左氧氟沙星。", {"pregnant": True}, "pregnancy", "pregnancy:true"),
    ("可以吃可待因。", {"lactating": True}, "lactation", "lactation:true"),
    ("可以吃多西环素。", {"age": 5}, "min_age", "age:5"),
    ("布洛芬每次800mg，每日4次。", {}, "max_daily_dose", "dose:3200mg"),
])
def test_each_rule_blocks_with_drug_rule_fact_and_source(draft, profile, rule, fact):
    result = audit(draft, **profile)
    assert result.blocked and result.verdict == "block"
    finding = next(f for f in result.findings if f.rule == rule)
    assert finding.patient_fact == fact and finding.severity == "block" and finding.reason
    if rule != "max_daily_dose":
        assert finding.source_message_id == "case-msg"


def test_combination_products_are_checked_ingredient_by_ingredient():
    result = audit("鼻塞可以吃新康泰克。", conditions=["高血压"])
    [finding] = result.findings
    assert (finding.drug, finding.ingredient, finding.rule) == ("新康泰克", "伪麻黄碱", "contraindicated_condition")


@pytest.mark.parametrize("draft", [
    "您对青霉素过敏，禁用阿莫西林，可以改用阿奇霉素。",
    "不要服用阿莫西林、氨苄西林等药物。",
    "阿莫西林不宜使用。",
    "用阿奇霉素代替阿莫西林。",
])
def test_a_drug_named_only_to_warn_against_it_is_not_recommended(draft):
    result = audit(draft, allergies=["青霉素"])
    assert not result.blocked, result.findings
    assert "阿莫西林" in result.warned and "阿莫西林" not in result.recommended


def test_a_warning_in_one_clause_does_not_cover_a_recommendation_in_the_next():
    result = audit("不要吃阿奇霉素，可以吃阿莫西林。", allergies=["青霉素"])
    assert result.blocked and result.recommended == ["阿莫西林"]


def test_cue_words_inside_other_words_do_not_hide_a_recommendation():
    assert audit("早晚分别服用阿莫西林一次。", allergies=["青霉素"]).blocked
    assert audit("为避免感染加重，可以服用阿莫西林。", allergies=["青霉素"]).blocked


def test_patients_without_a_relevant_fact_pass():
    assert not audit("可以口服阿莫西林，每次500mg，每日3次。").blocked
    assert not audit("可以吃阿奇霉素。", allergies=["青霉素"]).blocked
    assert not audit("多喝水，注意休息。", allergies=["青霉素"], pregnant=True).findings


@pytest.mark.parametrize("text, unit_mg, daily", [
    ("每次300mg，每日2次", None, 600), ("每次0.5克，每日3次", None, 1500), ("每次2片，每日3次", 500, 3000),
    ("每次1-2片，一天三次", 200, 1200), ("每次1g，每6小时一次", None, 4000), ("每日20毫克", None, 20),
    ("每次2片", None, None), ("多喝水", None, None),
])
def test_daily_dose_parsing(text, unit_mg, daily):
    assert ContraindicationAuditor.daily_dose_mg(text, unit_mg) == daily


def test_pregnancy_caution_is_a_warning_not_a_block():
    result = audit("可以吃氨溴索。", pregnant=True)
    assert not result.blocked and [f.severity for f in result.findings] == ["warn"]


def test_audit_uses_facts_extracted_from_the_conversation():
    lexicon = Lexicon.load()
    facts = RuleBasedExtractor(lexicon).extract("我对头孢过敏，在吃华法林", "turn-7")
    result = auditor().audit("可以吃阿莫西林克拉维酸钾和布洛芬。", PatientProfile.from_facts(facts))
    rules = {(f.ingredient, f.rule, f.source_message_id) for f in result.findings}
    assert ("阿莫西林克拉维酸钾", "allergy_cross_reactivity", "turn-7") in rules
    assert ("布洛芬", "interaction", "turn-7") in rules


def test_the_audit_is_deterministic():
    draft = "可以吃芬必得，每次2粒，每日4次，也可以吃新康泰克。"
    profile = {"conditions": ["高血压"], "medications": ["华法林"], "age": 70}
    first = [f.as_dict() for f in audit(draft, **profile).findings]
    assert first and all(first == [f.as_dict() for f in audit(draft, **profile).findings] for _ in range(3))
