"""Round 10: how the auditor reads a draft, by mechanism (our own sentences, not any case's): a dose written after one
drug stays with it when a second drug is joined after it; a one-off regimen a label allows; an opening no that answers
a question about a drink; a refusal that points back (尽量不要选 / 不要换成这两种); a breastfeeding pause the label gives;
a second contraceptive method the label gives for an inducer. Each with the unsafe twin the mechanism must not pass."""

from __future__ import annotations

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon
from medq.agent.rules.lactation import draft_pause_hours, label_pause_hours


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(Lexicon.load())


def audit(draft: str, question: str = "", **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "msg-1"), question=question)


def blocking(result, rule: str | None = None) -> list:
    return [f for f in result.findings if f.severity == "block" and (rule is None or f.rule == rule)]


# ---- a dose stays with the drug it is written after ------------------------------------------------------------
@pytest.mark.parametrize("draft", [
    "可以用厄贝沙坦150mg联合苯磺酸氨氯地平片5mg，每天一次。",
    "美托洛尔缓释片47.5mg每日1次加用氨氯地平5mg也可以。",
    "选美托洛尔缓释片47.5mg每天一次或氨氯地平5mg每天一次。",
    "缬沙坦80mg 配合 氨氯地平 5mg 一起吃。",
])
def test_a_dose_before_a_joined_drug_is_the_first_drugs(draft):
    result = audit(draft, age=55)
    assert not blocking(result, "max_daily_dose"), result.findings


def test_the_joined_drug_keeps_its_own_overdose():
    # the join leaves the first dose behind; the second drug's own dose is still read
    result = audit("可以用厄贝沙坦150mg联合氨氯地平50mg，每天一次。", age=55)
    assert any(f.ingredient == "氨氯地平" for f in blocking(result, "max_daily_dose"))


def test_a_dose_after_a_join_word_without_a_first_dose_still_counts():
    # 联合 with no dose of its own before it: the amount before the name is the name's
    result = audit("建议联合 50mg 氨氯地平每天一次。", age=55)
    assert any(f.ingredient == "氨氯地平" for f in blocking(result, "max_daily_dose"))


# ---- a one-off regimen the label allows ----------------------------------------------------------------------
def test_a_one_off_dose_within_the_labels_single_dose_regimen_passes():
    result = audit("宫颈衣原体感染可以口服阿奇霉素1g，顿服一次即可。", age=30, sex="female")
    assert not blocking(result), result.findings


@pytest.mark.parametrize("draft, profile", [
    ("阿奇霉素每天1g，连服3天。", {"age": 30}),        # repeated: the daily cap holds
    ("阿奇霉素3g单次口服。", {"age": 30}),             # above the one-off amount the label gives
    ("阿奇霉素1g单次口服。", {"age": 9}),              # the adult regimen does not reach a child
    ("阿奇霉素1g单次口服。", {}),                      # nor a patient of unknown age
])
def test_a_one_off_dose_is_still_checked_outside_that_regimen(draft, profile):
    assert blocking(audit(draft, **profile)), draft


# ---- an opening no answers the question's drink ----------------------------------------------------------------
def test_an_opening_no_warns_the_drink_the_question_asks_about():
    result = audit("最好别这样。西柚汁会让非洛地平在体内蓄积，血压可能掉得太低。换成白开水更稳妥。",
                   question="我吃非洛地平，早上能配西柚汁吗", medications=["非洛地平"])
    assert not blocking(result), result.findings


def test_an_opening_yes_still_endorses_the_drink():
    result = audit("可以，西柚汁和非洛地平一起喝没关系。", question="我吃非洛地平，早上能配西柚汁吗",
                   medications=["非洛地平"])
    assert blocking(result)


# ---- a refusal that points back --------------------------------------------------------------------------------
def test_a_refusal_after_the_risk_clause_warns_the_drug_it_names():
    result = audit("胃药可以用雷贝拉唑20mg每天一次。要提醒的是奥美拉唑会削弱氯吡格雷的疗效，尽量不要选。",
                   medications=["氯吡格雷"], age=60)
    assert not blocking(result, "interaction"), result.findings


def test_these_two_are_the_subjects_not_the_medicine_they_act_on():
    result = audit("克拉霉素、伏立康唑会明显升高他克莫司的血药浓度，千万不要换成这两种。",
                   medications=["他克莫司"])
    assert not blocking(result), result.findings


def test_a_drug_recommended_beside_the_refusal_is_still_read():
    result = audit("可以吃克拉霉素，每次0.5g，每天2次。", medications=["他克莫司"])
    assert blocking(result, "interaction")


# ---- a breastfeeding pause the label gives ---------------------------------------------------------------------
@pytest.mark.parametrize("text, hours", [("停药3天后再哺乳", 72.0), ("用药期间及停药后24-48小时内暂停哺乳", 48.0),
                                         ("哺乳期禁用", None)])
def test_the_labels_pause(text, hours):
    assert label_pause_hours(text) == hours


@pytest.mark.parametrize("text, hours", [("吃药后先停喂奶，4天后再恢复哺乳", 96.0), ("不需要暂停哺乳", None),
                                         ("暂停哺乳", None), ("服药后12小时后再喂奶", 12.0)])
def test_the_drafts_pause(text, hours):
    assert draft_pause_hours(text) == hours


def test_a_pause_as_long_as_the_labels_makes_the_finding_a_warning():
    result = audit("替硝唑2g一次吃完，之后暂停哺乳4天，奶水挤出来倒掉。", lactating=True, sex="female")
    assert not blocking(result, "lactation")
    assert any(f.rule == "lactation" for f in result.findings)


@pytest.mark.parametrize("draft", ["替硝唑2g一次吃完，之后暂停哺乳1天。", "替硝唑2g一次吃完，不需要暂停哺乳。",
                                   "替硝唑2g一次吃完。"])
def test_a_shorter_or_no_pause_still_blocks(draft):
    assert blocking(audit(draft, lactating=True, sex="female"), "lactation")


# ---- a second method the label gives for an inducer -------------------------------------------------------------
def test_a_backup_method_and_not_relying_on_the_pill_manage_the_inducer():
    result = audit("利福平会让避孕药失效。治疗期间请加用避孕套，别只靠优思明。", medications=["优思明"], sex="female", age=30)
    assert not blocking(result, "interaction"), result.findings
    assert any(f.rule == "interaction" for f in result.findings)


def test_the_inducer_with_no_backup_still_blocks():
    result = audit("可以吃利福平，每天600mg，优思明照常吃。", medications=["优思明"], sex="female", age=30)
    assert blocking(result, "interaction")


# ---- an interval given as a range, and hours in colloquial words -------------------------------------------------
@pytest.mark.parametrize("text, per_kg_day", [
    ("每次12mg/kg，每隔4-6小时一次", 48.0),                       # the range at its longer end
    ("每次12mg/kg，每隔4-6小时一次，一天不超过5次", 60.0),          # a stated cap decides, against the shorter end
    ("每次12mg/kg，每4小时一次", 72.0),                            # a single interval as it is
])
def test_an_interval_range_is_read_with_the_labels_count(text, per_kg_day):
    from medq.agent.rules.dose import read_dose

    assert read_dose(text, None).per_kg_day == per_kg_day


def test_hours_in_colloquial_words_set_the_count():
    from medq.agent.rules.dose import read_dose

    assert read_dose("每三个钟头吃0.5mg", None).per_day_mg == 4.0
    assert read_dose("每两个钟食1mg", None).per_day_mg == 12.0
    assert read_dose("每次2mg，每10分钟测一次血压", None).per_day_mg == 2.0


# ---- what the draft compares the advised drug with, and a refusal of a way of taking it -----------------------------
def test_a_drug_the_advised_one_is_said_not_to_be_like_is_not_advised():
    result = audit("索利那新副作用较轻，不像奥昔布宁那样容易口干和糊涂。每天5mg。", age=76)
    assert not any(f.ingredient == "奥昔布宁" and f.severity == "block" for f in result.findings), result.findings


def test_a_drug_said_to_be_like_the_advised_one_is_still_read():
    result = audit("可以吃奥昔布宁，每次5mg，每天2次。", age=76)
    assert any(f.ingredient == "奥昔布宁" and f.severity == "block" for f in result.findings)


def test_an_opening_no_in_markdown_answers_the_questions_drug():
    result = audit("**千万不要**。他达拉非和单硝酸异山梨酯同用会让血压骤降。", question="在吃单硝酸异山梨酯，能吃他达拉非吗",
                   medications=["单硝酸异山梨酯"], age=60, sex="male")
    assert not blocking(result), result.findings


# ---- an allergy the drug works on is its indication --------------------------------------------------------------
def test_a_drug_said_to_work_on_allergy_is_still_advised():
    result = audit("氯苯那敏对过敏很有效，每次4mg，每天3次。开车也没关系。", occupation="出租车司机")
    assert blocking(result), result.findings


def test_an_allergy_to_the_drug_is_still_a_warning():
    result = audit("您对青霉素过敏，阿莫西林不能吃。", allergies=["青霉素"])
    assert not blocking(result), result.findings


# ---- the same drug added on top, by another name ---------------------------------------------------------------
def test_a_brand_added_on_top_of_the_patients_generic_is_a_duplicate():
    result = audit("络活喜是原研药。可以在原来氨氯地平5mg的基础上加用络活喜5mg，每天早上吃。",
                   medications=["氨氯地平"], age=60)
    assert blocking(result, "duplicate_ingredient"), result.findings


def test_a_second_brand_added_with_a_count_is_a_second_source():
    result = audit("头痛先吃一片 Advil，再加两片 Nurofen，好得更快。", age=40)
    assert any(f.rule == "duplicate_ingredient" for f in result.findings), result.findings


def test_the_same_drug_named_twice_without_an_addition_is_one_source():
    result = audit("络活喜（氨氯地平）每天5mg，早上吃。", medications=["氨氯地平"], age=60)
    assert not any(f.rule == "duplicate_ingredient" for f in result.findings), result.findings


# ---- an alternative that names something else to take ------------------------------------------------------------
@pytest.mark.parametrize("text, per_day", [
    ("每次5mg，或者改用某某宁20mg每天一次", 5.0),          # another name (one the knowledge may lack): its dose, not ours
    ("每次5mg，或者改用缓释片20mg每天一次", 20.0),         # a form of this drug: still this drug's dose
    ("每次5mg，或者用同样的药20mg", 20.0),
])
def test_an_alternative_naming_another_medicine_doses_that_one(text, per_day):
    from medq.agent.rules.dose import read_dose

    assert read_dose(text, None).per_day_mg == per_day


# ---- a product named only for what it contains, its ingredient warned later ------------------------------------------
def test_a_product_whose_contained_drug_a_later_sentence_refuses_is_warned():
    result = audit("珍菊降压片其实含有氢氯噻嗪。您在吃的吲达帕胺和氢氯噻嗪作用相近，一起吃容易低钾，所以不建议加。",
                   medications=["吲达帕胺"], age=58)
    assert "珍菊降压片" not in result.recommended, result.recommended


@pytest.mark.parametrize("draft", ["珍菊降压片含有氢氯噻嗪，每次1片，每日3次。氢氯噻嗪片不要再另外吃。",
                                   "可以吃珍菊降压片，它含有氢氯噻嗪。不要再加氢氯噻嗪片。",
                                   "珍菊降压片含有氢氯噻嗪，降压效果好。"])
def test_a_product_dosed_or_advised_in_its_own_sentence_stays_advice(draft):
    assert "珍菊降压片" in audit(draft, age=58).recommended
