"""Rule-based extraction on real sentences: kinds, normalisation, negation, stopped drugs, other people."""

from functools import lru_cache

import pytest

from medq.agent.extraction import RuleBasedExtractor, chinese_number
from medq.agent.facts import PatientProfile, merge_facts
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def extractor() -> RuleBasedExtractor:
    return RuleBasedExtractor(Lexicon.load())


def facts(message: str) -> set[tuple[str, str, str]]:
    return {(f.kind, f.value, f.status) for f in extractor().extract(message, "m1")}


def test_the_issue_examples():
    assert facts("我没有药物过敏史") == set()
    assert facts("我对鸡蛋不过敏") == {("allergy", "鸡蛋", "denied")}
    assert facts("已经停用二甲双胍") == {("medication", "二甲双胍", "stopped")}
    assert facts("我妈妈有冠心病") == set()


def test_values_are_normalised_through_the_lexicon():
    assert facts("我对青霉素过敏，血压高好几年了，平时吃拜新同") == {
        ("allergy", "青霉素类", "active"), ("condition", "高血压", "active"), ("medication", "硝苯地平", "active")}


def test_facts_carry_provenance():
    [fact] = extractor().extract("我在吃华法林", "msg-42")
    assert fact.source_message_id == "msg-42" and fact.evidence == "我在吃华法林" and fact.extractor == "rules"


def test_a_drug_only_asked_about_is_not_taken():
    assert facts("我在吃华法林，能吃布洛芬吗？") == {("medication", "华法林", "active")}


def test_scalars_pregnancy_lactation_age_sex():
    assert facts("女，28岁，怀孕12周") == {("sex", "female", "active"), ("age", "28", "active"),
                                       ("pregnancy", "true", "active")}
    assert facts("我没有怀孕，已经断奶了") == {("pregnancy", "false", "active"), ("lactation", "false", "active")}
    assert facts("如果怀孕了还能吃吗") == set()
    assert facts("我今年七十二岁") == {("age", "72", "active")}
    assert facts("我3岁时得过肺炎") == set()


def test_other_people_stay_out_until_the_patient_speaks_again():
    assert facts("我爸爸有糖尿病，还有高血压。我有痛风") == {("condition", "痛风", "active")}


def test_denied_and_doubted_conditions():
    assert facts("否认高血压病史") == {("condition", "高血压", "denied")}
    assert facts("我是不是得了糖尿病") == set()


def test_merging_a_stop_into_memory_keeps_everything_else():
    before = extractor().extract("我有高血压，在吃氨氯地平和阿司匹林", "m1")
    after = merge_facts(before, extractor().extract("阿司匹林已经停了", "m2"))
    profile = PatientProfile.from_facts(after)
    assert profile.medications == ["氨氯地平"] and profile.conditions == ["高血压"]
    [stopped] = [f for f in after if f.value == "阿司匹林"]
    assert stopped.status == "stopped" and stopped.source_message_id == "m2"


@pytest.mark.parametrize("text, value", [("35", 35), ("三十五", 35), ("十二", 12), ("两", 2), ("一百零二", 102),
                                          ("abc", None)])
def test_chinese_numbers(text, value):
    assert chinese_number(text) == value
