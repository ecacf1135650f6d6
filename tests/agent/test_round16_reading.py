"""Round 16 reading mechanisms, on sentences written for these tests (no case's wording): a risk the draft denies is
reassurance (本身不损伤肾脏 / 没有成瘾性); a risk the draft then uses or doses the drug for is a caveat (有嗜睡作用，可以
作为助眠药); the end of a course (症状好转后停药) is no stop; a medicine stopped before (已经停了) is not taken; 另外 inside a
refusal (不建议再另外吃X) is an adverb; a generic and its one-ingredient brand in one sentence, or a salt name in
brackets after a described ingredient, are one medicine. Each passing draft has a counterpart that must block."""

import pytest

from .probes import audit

CKD4 = dict(age=74, conditions=["慢性肾脏病4期"], egfr=25)
OLD = dict(age=80, sex="male")
PARKINSON = dict(age=72, conditions=["帕金森病"])


@pytest.mark.parametrize("draft", [
    "二甲双胍是一线降糖药，本身不损伤肾脏，可以照常吃，每次0.5g，每日3次。",
    "二甲双胍对肾没有毒性，每次0.5g，每日3次继续吃。",
    "二甲双胍不会引起肾损伤，您按每次0.5g、每日3次服用就行。",
])
def test_a_denied_risk_is_reassurance_and_the_dose_still_blocks(draft):
    assert audit(draft, **CKD4).blocked


@pytest.mark.parametrize("draft", [
    "二甲双胍会加重肾脏负担，您现在的肾功能不能再吃了。",
    "二甲双胍有乳酸酸中毒的风险，肾功能这么差要停用，请找医生换药。",
])
def test_a_stated_risk_with_a_refusal_still_warns(draft):
    assert not audit(draft, **CKD4).blocked


@pytest.mark.parametrize("draft", [
    "苯海拉明有嗜睡作用，正好可以用来助眠，睡前吃25mg。",
    "苯海拉明会让人犯困，可以作为助眠药。睡前服用50mg即可。",
    "苯海拉明没有成瘾性，老人睡前吃25mg就可以。",
])
def test_a_risk_the_draft_then_uses_the_drug_for_is_a_caveat(draft):
    assert audit(draft, **OLD).blocked


@pytest.mark.parametrize("draft", [
    "苯海拉明会让人犯困、走路不稳，老年人不要用来助眠。",
    "苯海拉明容易导致跌倒和意识混乱，建议换成其他办法助眠。",
])
def test_a_risk_followed_by_a_refusal_stays_a_warning(draft):
    assert not audit(draft, **OLD).blocked


@pytest.mark.parametrize("draft", [
    "胃复安每次10mg，一天3次，饭前吃，症状好转后停药。",
    "甲氧氯普胺每次5mg，每日3次，恶心好了就停。",
])
def test_the_end_of_a_course_is_no_stop(draft):
    assert audit(draft, **PARKINSON).blocked


def test_a_stop_the_draft_asks_for_still_warns():
    assert not audit("胃复安会加重帕金森症状，您要停药，请找医生换别的止吐药。", **PARKINSON).blocked


def test_a_medicine_stopped_before_is_not_taken():
    assert not audit("您已经停辛伐他汀一年了，现在可以吃克拉霉素0.5g，每日2次。", age=55).blocked
    assert audit("辛伐他汀继续吃，同时吃克拉霉素0.5g，每日2次。", age=55).blocked


def test_in_addition_inside_a_refusal_is_an_adverb():
    assert not audit("感冒灵里已经有扑尔敏了，不建议再另外吃扑尔敏。", age=40, medications=["感冒灵颗粒"]).blocked
    assert audit("感冒灵吃着，另外吃扑尔敏4mg，一天3次。", age=40, medications=["感冒灵颗粒"]).blocked


def test_a_generic_and_its_brand_in_one_sentence_are_one_medicine():
    assert not audit("布洛芬按每次10mg/kg算，20公斤的孩子每次喂10ml美林。", age=5, weight_kg=20).blocked
    assert audit("先喂美林10ml，再加布洛芬片0.2g一起吃。", age=10, weight_kg=30).blocked


def test_a_salt_name_in_brackets_after_a_described_ingredient_is_the_same_ingredient():
    draft = "维C银翘片本身就含有扑尔敏（马来酸氯苯那敏），单吃维C银翘片就行，每次2片，每天3次。"
    assert not audit(draft, age=38).blocked
    assert audit("维C银翘片每次2片，每天3次，再加扑尔敏4mg一起吃。", age=38).blocked


def test_a_loading_dose_per_kg_is_taken_once():
    child = dict(age=10, weight_kg=30)
    assert not audit("多西环素首剂4mg/kg，之后每次2mg/kg，一天两次。", **child).blocked
    assert audit("多西环素每次4mg/kg，一天两次。", **child).blocked


def test_cefdinir_in_children_follows_the_chinese_insert_range():
    child = dict(age=3, weight_kg=15)
    assert not audit("头孢地尼每天按9-18mg/kg，分3次服用。", **child).blocked
    assert audit("头孢地尼每天25mg/kg，分3次服用。", **child).blocked
