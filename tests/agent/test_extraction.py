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
                                       ("pregnancy", "true", "active"), ("trimester", "1", "active")}
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


# ---- issue 19: colloquial Chinese, scalars, corrections, switches, ConText -------------------------------------

def scalars(message: str) -> dict[str, str]:
    return {f.kind: f.value for f in extractor().extract(message, "m1") if f.status == "active"
            and f.kind not in ("allergy", "condition", "medication")}


def active(message: str, kind: str) -> set[str]:
    return {f.value for f in extractor().extract(message, "m1") if f.kind == kind and f.status == "active"}


def profile_of(*messages: str) -> PatientProfile:
    merged: list = []
    for number, message in enumerate(messages):
        merged = merge_facts(merged, extractor().extract(message, f"m{number}", known=merged))
    return PatientProfile.from_facts(merged)


@pytest.mark.parametrize("message, conditions", [
    ("我有三高，平时注意饮食", {"高血压", "高脂血症", "糖尿病"}),
    ("体检说我血脂有点高", {"高脂血症"}),
    ("我肾功能不好，医生说要少吃药", {"肾功能不全"}),
    ("我前年胃出血住过院", {"消化道出血"}),
    ("我以前胃出过血", {"消化道出血"}),
    ("我血压一直偏高", {"高血压"}),
])
def test_colloquial_conditions(message, conditions):
    assert active(message, "condition") == conditions


@pytest.mark.parametrize("message, medications", [
    ("我每天打胰岛素", {"胰岛素"}),
    ("我吃的降压药是拜新同", {"硝苯地平"}),
    ("降压药吃的是缬沙坦，一天一片", {"缬沙坦"}),
    ("二甲双胍一天两次，每次一片", {"二甲双胍"}),
    ("我有青光眼，感冒了能吃新康泰克吗", set()),     # asked about, not taken
    ("我对氨苄西林过敏，也不能用阿莫西林吗？", set()),
])
def test_medication_cues(message, medications):
    assert active(message, "medication") == medications


def test_scalars_weight_egfr_ckd_trimester_occupation_and_bare_age():
    assert scalars("男，58") == {"sex": "male", "age": "58"}
    assert scalars("58，女，有高血压") == {"sex": "female", "age": "58"}
    assert scalars("体重120斤") == {"weight": "60"}
    assert scalars("我体重72.5kg") == {"weight": "72.5"}
    assert scalars("最近瘦了5斤") == {}                       # a change, not a weight
    assert scalars("化验eGFR 45，慢性肾病3期") == {"egfr": "45", "ckd_stage": "3"}
    assert scalars("我是CKD4期") == {"ckd_stage": "4"}
    assert scalars("孕28周") == {"pregnancy": "true", "trimester": "3"}
    assert scalars("怀孕两个月了") == {"pregnancy": "true", "trimester": "1"}
    assert scalars("我现在孕中期") == {"pregnancy": "true", "trimester": "2"}
    assert scalars("我是货车司机，经常跑长途") == {"occupation": "货车司机"}
    assert scalars("我是开出租的") == {"occupation": "出租车司机"}
    assert scalars("我平时开大货车，跑长途") == {"occupation": "货车司机"}
    assert scalars("我是做高空作业的") == {"occupation": "高空作业"}


def test_negated_and_hypothetical_facts_are_never_true():
    assert facts("我没有怀孕，也不在哺乳期") == {("pregnancy", "false", "active"), ("lactation", "false", "active")}
    assert facts("如果我有高血压，能吃布洛芬吗") == set()
    assert facts("我妈有糖尿病") == set()
    assert facts("假如怀孕了还能吃吗") == set()
    assert facts("我没吃过布洛芬，不知道会不会过敏") == {("medication", "布洛芬", "denied")}
    assert facts("我宝宝还没断奶") == {("lactation", "true", "active")}
    assert facts("我已经断奶了") == {("lactation", "false", "active")}


def test_the_baby_and_the_patient_keep_their_own_facts():
    # a message about the writer: the baby's facts are not the writer's, the writer's breastfeeding is hers even in
    # a clause about the baby
    assert facts("宝宝四个月，纯母乳喂养，我这两天嗓子疼") == {("lactation", "true", "active")}
    assert facts("我的宝宝对头孢过敏，我有哮喘") == {("condition", "哮喘", "active")}
    profile = profile_of("我儿子3岁，体重15公斤，我今年32岁，对青霉素过敏")
    assert profile.age == 32 and profile.weight_kg is None and profile.allergies == ["青霉素类"]
    # a message only about the writer's child: the profile is the child's (the writer asks for the child;
    # docs/agent.md, blind CASE_FORMAT.md), ages under one year are 0
    assert facts("我家孩子5岁，18公斤，对头孢过敏，发烧了") == {("age", "5", "active"), ("weight", "18", "active"),
                                                   ("allergy", "头孢菌素类", "active")}
    assert facts("我女儿8个月，有湿疹，能用什么药膏") == {("age", "0", "active"), ("sex", "female", "active"),
                                               ("condition", "湿疹", "active")}
    assert facts("我家宝宝3岁，我想问一下能吃布洛芬吗") == {("age", "3", "active")}
    assert facts("孩子他爸有高血压") == set()                       # an adult, not the child


def test_stop_and_cure_in_the_next_clause():
    assert facts("我以前吃华法林，上个月医生让停了") == {("medication", "华法林", "stopped")}
    assert facts("我得过胃溃疡，已经治好了") == {("condition", "胃溃疡", "stopped")}
    assert facts("我血糖高，医生让我吃二甲双胍，我还没开始吃") == {("condition", "糖尿病", "active"),
                                                        ("medication", "二甲双胍", "denied")}
    # a pseudo-trigger is not a stop
    assert facts("我在吃氨氯地平，医生说不能停") == {("medication", "氨氯地平", "active")}


def test_corrections_keep_only_the_corrected_value_with_provenance():
    assert facts("不是华法林，是阿司匹林") == {("medication", "华法林", "denied"), ("medication", "阿司匹林", "active")}
    assert facts("我吃的是倍他乐克，哦不是，是拜新同") == {("medication", "美托洛尔", "denied"),
                                                ("medication", "硝苯地平", "active")}
    # across messages: the earlier fact ends, with the correcting message as its provenance
    merged = merge_facts(extractor().extract("我在吃华法林", "m1"),
                         extractor().extract("说错了，不是华法林，是阿司匹林", "m2"))
    assert PatientProfile.from_facts(merged).medications == ["阿司匹林"]
    [ended] = [f for f in merged if f.value == "华法林"]
    assert ended.status == "denied" and ended.source_message_id == "m2" and "不是华法林" in ended.evidence


def test_switches_end_the_old_drug_of_the_same_class_also_across_messages():
    assert facts("我以前吃阿托伐他汀，后来换成了瑞舒伐他汀") == {("medication", "阿托伐他汀", "stopped"),
                                                    ("medication", "瑞舒伐他汀", "active")}
    merged = merge_facts(extractor().extract("我在吃阿托伐他汀和氨氯地平", "m1"),
                         extractor().extract("医生给我换成了瑞舒伐他汀", "m2"))
    assert sorted(PatientProfile.from_facts(merged).medications) == ["氨氯地平", "瑞舒伐他汀"]
    [old] = [f for f in merged if f.value == "阿托伐他汀"]
    assert old.status == "stopped" and old.source_message_id == "m2" and "换成了瑞舒伐他汀" in old.evidence
    # a group word names what is switched: the other antihypertensive class ends, the statin stays
    profile = profile_of("我在吃氨氯地平和阿托伐他汀", "降压药换成了缬沙坦")
    assert sorted(profile.medications) == ["缬沙坦", "阿托伐他汀"]
    # a question about switching changes nothing
    assert facts("我在吃阿托伐他汀，可以换成瑞舒伐他汀吗") == {("medication", "阿托伐他汀", "active")}


def test_traditional_script_and_typos():
    assert facts("我對青黴素過敏") == {("allergy", "青霉素类", "active")}
    assert facts("我沒有高血壓") == {("condition", "高血压", "denied")}
    assert active("我在吃阿莫西琳", "medication") == {"阿莫西林"}      # same pinyin


def test_an_unknown_condition_is_kept_as_free_text_and_reported():
    reported = []
    extractor_ = RuleBasedExtractor(Lexicon.load(), report_unresolved=lambda name, text: reported.append(name))
    found = {(f.kind, f.value, f.status) for f in extractor_.extract("我患有肢端肥大症，多年了", "m1")}
    assert found == {("condition", "肢端肥大症", "active")} and reported == ["肢端肥大症"]
    assert [f.value for f in extractor_.unresolved(extractor_.extract("我患有肢端肥大症", "m1"))] == ["肢端肥大症"]


def test_the_trigger_table_is_well_formed():
    from typing import get_args

    from medq.agent.assertion import TRIGGERS, Category, find_triggers

    assert all(t.category in get_args(Category) and t.direction in ("forward", "backward", "both") for t in TRIGGERS)
    # leftmost-longest: 是不是 hides 不是, 不吃了 hides 不吃, a pseudo-trigger hides what is inside it
    assert [m.category for m in find_triggers("是不是")] == ["uncertain"]
    assert [m.category for m in find_triggers("不吃了")] == ["stopped"]
    assert [m.category for m in find_triggers("不要停")] == []


def test_measurements_taiwanese_usage_and_name_typos():
    # not the drug 甘油; the precise condition stands for the broad one said beside it (round 5: `_refine`)
    assert active("我血脂有点高，甘油三酯也偏高", "condition") == {"高甘油三酯血症"}
    assert active("我血钾有点低，心跳有点慢", "condition") == {"低钾血症", "心动过缓"}
    # 氣喘 is the knowledge's own 气喘 row, below 哮喘 (哮喘's rules apply through it; a case written 氣喘 is that row)
    assert active("我有氣喘，也有B肝帶原", "condition") == {"气喘", "乙型肝炎"}
    assert active("我有高血亚，还有糖尿并", "condition") == {"高血压", "糖尿病"}       # same pinyin
    assert active("我对青梅素过敏", "allergy") == {"青霉素类"}
    assert facts("我在餵母奶") == {("lactation", "true", "active")}
    assert facts("宝宝10个月了，我已经不喂了") == {("lactation", "false", "active")}


def test_numbers_in_chinese_and_stage_forms():
    assert scalars("我体重一百二十斤，今年五十八") == {"weight": "60", "age": "58"}
    assert scalars("男，六十五") == {"sex": "male", "age": "65"}
    assert scalars("eGFR 40（CKD G3b）") == {"egfr": "40", "ckd_stage": "3"}
    assert scalars("3期慢性肾病") == {"ckd_stage": "3"}
    assert active("3期慢性肾病", "condition") == {"慢性肾脏病"}


def test_allergy_sentences_say_which_drug_is_fine():
    assert facts("我吃阿莫西林起疹子") == {("allergy", "阿莫西林", "active")}
    assert facts("我对头孢过敏，青霉素没事") == {("allergy", "头孢菌素类", "active"), ("allergy", "青霉素类", "denied")}
    assert facts("我吃了布洛芬没事") == {("medication", "布洛芬", "active")}     # not an allergy sentence


def test_corrections_that_name_only_the_new_value_and_drugs_of_others():
    assert profile_of("我对青霉素过敏", "刚才说错了，是对头孢过敏").allergies == ["头孢菌素类"]
    assert profile_of("我在吃阿托伐他汀", "不对，我记错了，我吃的是辛伐他汀").medications == ["辛伐他汀"]
    assert profile_of("我在吃氨氯地平", "哦不对，我吃的降压药是缬沙坦，氨氯地平是我爸吃的").medications == ["缬沙坦"]
    assert profile_of("我之前说青霉素过敏是记错了，是头孢过敏").allergies == ["头孢菌素类"]


def test_roman_numeral_stages_and_more_colloquial_conditions():
    assert scalars("慢性肾脏病Ⅳ期") == {"ckd_stage": "4"}
    assert scalars("CKD III期，eGFR 35") == {"ckd_stage": "3", "egfr": "35"}
    assert active("我肝不好，以前中过风", "condition") == {"肝功能不全", "脑卒中"}


def test_corrected_gestational_age_and_prescribed_drugs_asked_about():
    assert profile_of("怀孕20周，哦不对，是30周").trimester == 3
    assert profile_of("我怀孕20周", "不好意思说错了，是30周了").trimester == 3
    assert profile_of("不是华法林，是阿司匹林，吃了3个月").trimester is None      # not a pregnancy
    assert profile_of("我在吃倍他乐克——哦不，是拜新同").medications == ["硝苯地平"]
    assert facts("我在哺乳期，医生给我开了头孢，能吃吗") == {("lactation", "true", "active")}
    assert facts("我得了带状疱疹，医生开了伐昔洛韦") == {("condition", "带状疱疹", "active"),
                                                ("medication", "伐昔洛韦", "active")}   # a condition the lexicon knows (round 11)
    assert facts("孕中期，早孕反应已经过去了") == {("pregnancy", "true", "active"), ("trimester", "2", "active")}


def test_as_needed_medicines_elder_self_descriptions_and_work_phrases():
    assert facts("我有哮喘，发作时用沙丁胺醇") == {("condition", "哮喘", "active"), ("medication", "沙丁胺醇", "active")}
    assert scalars("我一个老太太，腿疼") == {"sex": "female"}
    assert scalars("患者62y，男") == {"age": "62", "sex": "male"}
    assert scalars("我开大车，经常熬夜") == {"occupation": "货车司机"}
    assert scalars("我在工地上班") == {"occupation": "建筑工人"}


def test_family_history_and_reported_findings():
    assert facts("我有糖尿病家族史") == set()
    assert active("体检发现血压有点高，医生说先观察", "condition") == {"高血压"}


def test_allergy_lists_reactions_added_drugs_and_degrees():
    assert active("过敏药物：青霉素，头孢", "allergy") == {"青霉素类", "头孢菌素类"}
    assert active("我吃布洛芬会喘，医生说是阿司匹林哮喘", "allergy") == {"布洛芬"}
    assert active("我一直吃氨氯地平，最近医生给加了氢氯噻嗪", "medication") == {"氨氯地平", "氢氯噻嗪"}
    assert facts("我一吃阿司匹林就胃疼") == set()
    assert active("我有轻度脂肪肝", "condition") == {"脂肪肝"}


# ---- round 2 of issue 19: the categories the development sets missed (sentences written here) -------------------
def profile_of(*messages: str) -> PatientProfile:
    remembered: list = []
    for number, message in enumerate(messages):
        remembered = merge_facts(remembered, extractor().extract(message, f"m{number}", known=remembered))
    return PatientProfile.from_facts(remembered)


def test_list_joined_drugs_share_their_verb():
    assert set(profile_of("我每天吃拜阿司匹灵跟立普妥").medications) == {"阿司匹林", "阿托伐他汀"}


def test_stents_uraemia_and_named_pregnancy_conditions():
    # round 13: a stent is the state after it (冠脉支架术后), a row below 冠心病, so the coronary rules still apply
    assert "冠脉支架术后" in profile_of("去年放了一个支架，现在吃替格瑞洛").conditions
    profile = profile_of("我尿毒症好几年了，每周洗肾两次")
    assert profile.ckd_stage == 5
    assert profile_of("怀孕31周，医生说我是妊娠糖尿病").conditions == ["妊娠期糖尿病"]
    assert profile_of("我最近失眠").conditions == [] and profile_of("我长期失眠").conditions == ["失眠"]


def test_occupations_with_words_between():
    assert profile_of("我是一名民航机长").occupation == "民航机长"
    assert profile_of("我是开冷链大货车的").occupation == "货车司机"
    assert profile_of("我在跑夜班出租").occupation == "出租车司机"


def test_ages_sex_and_corrections():
    assert profile_of("我今年45，哦说错了，是54").age == 54
    profile = profile_of("70岁老太太，有糖尿病")
    assert (profile.age, profile.sex, profile.conditions) == (70, "female", ["糖尿病"])
    assert profile_of("男 66岁 痛风").conditions == ["痛风"]
    assert profile_of("我吃的是络活喜，不对不对，是拜新同").medications == ["硝苯地平"]
    # a child's days of illness are not its age
    assert profile_of("我家孩子5岁，对头孢过敏，咳嗽三天了").age == 5


def test_pregnancy_ends_with_a_birth_and_stays_false_when_not_conceived():
    profile = profile_of("我怀孕36周", "孩子前天生了，现在母乳喂养")
    assert profile.pregnant is False and profile.trimester is None and profile.lactating is True
    assert profile_of("备孕半年了，还没怀上").pregnant is False
    assert profile_of("怀孕四个多月了").trimester == 2


def test_a_question_about_stopping_does_not_stop_the_drug():
    assert profile_of("我一直吃左甲状腺素，要是怀孕了需要停药吗？").medications == ["左甲状腺素"]


def test_round_two_scalars_and_switches():
    assert profile_of("体重60公斤，肌酐清除率35").egfr == 35
    profile = profile_of("我女，52，有痛风")
    assert (profile.sex, profile.age) == ("female", 52)
    assert profile_of("怀孕了，第9周").trimester == 1
    assert profile_of("我没有糖尿病，就是血压高").conditions == ["高血压"]
    # a switch that names only the new drug ends the old one of its therapeutic group, across messages
    assert profile_of("我一直吃硝苯地平", "这个月医生给我换成了厄贝沙坦").medications == ["厄贝沙坦"]


def test_round_two_insulin_negated_habits_and_prediabetes():
    assert profile_of("我打胰岛素，血糖控制还行").medications == ["胰岛素"]
    assert profile_of("我糖尿病，但是没打胰岛素，只吃二甲双胍").medications == ["二甲双胍"]
    assert profile_of("我不抽烟也不喝酒，有高血压").conditions == ["高血压"]
    assert profile_of("医生说我是糖尿病前期").conditions == ["糖尿病前期"]
    assert "冠心病" in profile_of("我前年搭过桥").conditions
    assert profile_of("我开了十几年出租车了").occupation == "出租车司机"


# ---- round 3 of issue 19 (sentences written here) -----------------------------------------------------------------
def test_round3_a_corrected_value_is_the_one_after_the_correction():
    assert ("age", "61", "active") in facts("我60岁，不对，上个月刚过61。")
    assert ("age", "60", "active") not in facts("我60岁，不对，上个月刚过61。")
    assert ("egfr", "47", "active") in facts("化验单上肌酐清除率是74，我说错了，是47。")
    # no correction: the stated value stays, a later number of days is no age
    assert ("age", "45", "active") in facts("我45岁，不是第一次头疼了，疼了3天。")


def test_round3_a_bare_stage_after_kidney_words_is_the_ckd_stage():
    assert ("ckd_stage", "3", "active") in facts("我有慢性肾病，肌酐偏高，医生说是3a期。")
    assert ("ckd_stage", "4", "active") in facts("我肾功能已经到第4期了。")
    # a stage of something else is not
    assert not any(k == "ckd_stage" for k, _, _ in facts("我有肾功能不全，另外宫颈癌说是2期。"))


def test_round3_condition_names_from_b3_mechanisms():
    # folk name of epilepsy; diabetic kidney disease is its own condition (a child of CKD and diabetes)
    assert ("condition", "癫痫", "active") in facts("我有羊角风，好几年没发作了。")
    assert ("condition", "糖尿病肾病", "active") in facts("我有糖尿病肾病，在打胰岛素。")
    lexicon = Lexicon.load()
    assert {"慢性肾脏病", "糖尿病"} <= set(lexicon.conditions["糖尿病肾病"].parents)


# ---- round 5: a later message refers to what is remembered without naming it (`known`) --------------------------
def test_a_bare_new_kidney_value_or_stage_updates_the_remembered_one():
    assert profile_of("我查了eGFR是58", "过了半年降至45了").egfr == 45
    assert profile_of("我是慢性肾病患者，2期", "今年医生说发展到4期了").ckd_stage == 4
    # nothing remembered about the kidneys: a bare number is nobody's eGFR
    assert profile_of("我在吃阿托伐他汀", "过了半年降至45了").egfr is None
    assert profile_of("我查了eGFR是58", "血糖降到了6.5").egfr == 58


def test_an_unnamed_stop_or_allergy_denial_ends_the_one_remembered_fact():
    assert profile_of("我在吃瑞舒伐他汀", "上个月医生让我停了").medications == []
    # two remembered: which one stopped is unclear, both stay
    assert set(profile_of("我在吃瑞舒伐他汀和二甲双胍", "上个月已经停了").medications) == {"瑞舒伐他汀", "二甲双胍"}
    assert profile_of("我在吃瑞舒伐他汀", "月经停了两个月").medications == ["瑞舒伐他汀"]
    assert profile_of("我对头孢好像过敏", "后来去做了皮试，其实不过敏").allergies == []
    assert profile_of("我对头孢过敏", "其他药都不过敏").allergies == ["头孢菌素类"]
    assert profile_of("我好像对磺胺过敏", "打电话问了我爸，那次其实不是过敏").allergies == []


def test_a_remembered_child_is_who_he_or_she_means():
    profile = profile_of("我家孩子4岁", "她对阿莫西林过敏")
    assert (profile.age, profile.allergies) == (4, ["阿莫西林"])
    # an adult patient's 他 is someone else
    assert profile_of("我今年40岁", "他对阿莫西林过敏").allergies == []


def test_a_birth_ends_only_a_pregnancy_said_before_and_weeks_date_a_remembered_one():
    profile = profile_of("剖腹产后两个月，在喂母乳")
    assert (profile.pregnant, profile.lactating) == (None, True)
    assert profile_of("我现在怀孕了", "现在20周").trimester == 2
    assert profile_of("我在吃二甲双胍", "现在20周").trimester is None


def test_a_message_that_is_only_an_age():
    assert profile_of("想问问老年人吃什么助眠", "76了").age == 76
    assert profile_of("六十九了，腰疼").age == 69
    assert profile_of("咳嗽3天了").age is None


def test_named_allergy_denied_with_bu_shi():
    assert profile_of("我记得对四环素过敏", "医生看了说我不是对四环素过敏").allergies == []
    assert profile_of("我不是青霉素过敏，是头孢过敏").allergies == ["头孢菌素类"]


def test_postpartum_words_are_the_mothers_after_a_clause_about_the_baby():
    profile = profile_of("宝宝一个月，产后一直睡不好，医生开了米氮平")
    assert profile.medications == ["米氮平"] and profile.age is None


def test_a_precise_condition_stands_for_the_broad_one_said_beside_it():
    assert profile_of("去年心肌梗塞，做了搭桥").conditions == ["心肌梗死"]
    assert profile_of("怀孕30周，血压偏高，医生诊断是妊娠期高血压").conditions == ["妊娠期高血压"]
    assert set(profile_of("我有高血压，也有糖尿病").conditions) == {"高血压", "糖尿病"}


def test_a_ckd_stage_makes_the_kidney_condition_ckd():
    profile = profile_of("我肾功能差，CKD3期")
    assert (profile.conditions, profile.ckd_stage) == (["慢性肾脏病"], 3)
    profile = profile_of("尿毒症好几年了，每周血透两次")
    # round 10: dialysis told by its schedule is the 血液透析 row, whose parent 终末期肾病 keeps the rules
    assert (profile.conditions, profile.ckd_stage) == (["血液透析"], 5)
    # no stage: the patient's words stay
    assert profile_of("我肾功能不好").conditions == ["肾功能不全"]


def test_normal_is_never_a_typo_of_abnormal():
    assert profile_of("我肾功能正常，肝功能也正常").conditions == []


def test_corrections_with_the_speaker_named_and_several_marks():
    assert profile_of("我吃的是辛伐他汀", "刚才那个辛伐他汀我说错了，我吃的是普伐他汀").medications == ["普伐他汀"]
    assert profile_of("孕12周，啊不对，我算错了，是16周").trimester == 2
    assert profile_of("我有十二指肠溃疡", "刚才说错了，检查结果是浅表性胃炎，不是溃疡").conditions == ["胃炎"]


def test_switch_reading():
    # a drug named before an unrelated remark is not the one replaced
    profile = profile_of("我在吃兰索拉唑", "医生说兰索拉唑和氯吡格雷不太合适，给我换成了雷贝拉唑，氯吡格雷照常吃")
    assert set(profile.medications) == {"雷贝拉唑", "氯吡格雷"}
    # a switch only foreseen changes nothing
    assert profile_of("我在吃华法林", "医生说以后可能把华法林换成利伐沙班").medications == ["华法林"]
    # a product remembered by its own name ends with its ingredient
    assert profile_of("每天打诺和灵30R", "医生给改成了门冬胰岛素30").medications == ["门冬胰岛素30"]


def test_small_readings_of_round_5():
    assert profile_of("我男的，今年五十").sex == "male"
    assert profile_of("在吃二甲双胍，再加上阿卡波糖").medications == ["二甲双胍", "阿卡波糖"]
    assert profile_of("吃过一阵子氨氯地平，后来血压好了就没吃了").medications == []
    assert profile_of("一天吃三次硝苯地平").medications == ["硝苯地平"]
    assert profile_of("男 60 痛风 在吃别嘌醇").conditions == ["痛风"]
    assert profile_of("我有糖尿病，1型的").conditions == ["1型糖尿病"]
    assert profile_of("我有青光眼，开角型的").conditions == ["开角型青光眼"]
    assert profile_of("孩子体重20斤左右，准确说是21斤").weight_kg == 10.5
    assert profile_of("我怀孕刚满三个月").trimester == 1
    profile = profile_of("我40岁，有哮喘。我女儿6岁，她发烧了能吃什么药？")
    assert (profile.age, profile.sex, profile.conditions) == (6, "female", [])
    assert profile_of("我在工地开塔吊").occupation == "塔吊司机"


def test_round5_taking_words_and_classes_beside_their_members():
    assert set(profile_of("现在打甘精胰岛素和二甲双胍").medications) == {"甘精胰岛素", "二甲双胍"}
    assert set(profile_of("现在打甘精胰岛素，阿卡波糖也吃").medications) == {"甘精胰岛素", "阿卡波糖"}
    assert profile_of("二甲双胍能吃吗？也吃阿司匹林能行吗").medications == []
    assert profile_of("我每天还喝三七粉").medications == ["三七"]
    # the class said first is the members said after it; an unrelated class stays
    assert profile_of("我在吃他汀，早上阿托伐他汀").medications == ["阿托伐他汀"]
    assert set(profile_of("我在吃降压药，还有阿司匹林").medications) == {"抗高血压药", "阿司匹林"}
    # an English name glossed in brackets takes the verb of the word before it
    assert profile_of("我吃美宁达（metformin）").medications == ["二甲双胍"]


def test_round5_corrections_past_an_aside():
    assert profile_of("在吃依那普利，不对，我翻了下药盒，是贝那普利").medications == ["贝那普利"]
    assert profile_of("我怀孕20周", "算错了，按B超推算，应该是30周").trimester == 3


def test_round5_reactions_stops_and_names():
    # the stop after a reaction is about the drug named there, not the list before it
    profile = profile_of("我在吃缬沙坦和卡马西平，卡马西平前几天起皮疹就停了")
    assert profile.medications == ["缬沙坦"]
    # the reaction of an allergy is not a condition; a condition holding the word 过敏 is
    profile = profile_of("我一吃磺胺就起荨麻疹")
    assert (profile.allergies, profile.conditions) == (["磺胺类"], [])
    assert profile_of("我有过敏性鼻炎").conditions == ["过敏性鼻炎"]
    assert profile_of("阿莫西林皮试也是阳性").allergies == ["阿莫西林"]
    assert profile_of("本人男，有攝護腺肥大").conditions == ["前列腺增生"]
    assert profile_of("腎絲球過濾率只有35").egfr == 35
    assert profile_of("化验单上eGFR写的是40").egfr == 40
    assert profile_of("我换过心脏瓣膜，在吃华法林").conditions == ["心脏瓣膜置换术后"]
    assert profile_of("我心率慢，医生说是病窦").conditions == ["病态窦房结综合征"]
    assert profile_of("查了没怀孕，是月经不调").conditions == ["月经不调"]


def test_round5_scalars():
    assert profile_of("是男的，66岁").sex == "male"
    assert profile_of("我怀孕了", "昨天产检说是24周+5天").trimester == 2
    assert profile_of("宝宝出生刚满10天，吃奶少").age == 0
    profile = profile_of("我妈有高血压，我问的是我女儿，5岁，18公斤")
    assert (profile.age, profile.sex, profile.weight_kg, profile.conditions) == (5, "female", 18, [])
    assert profile_of("我有青光眼，窄角的那种").conditions == ["闭角型青光眼"]
    # a graded eGFR is the kidney fact; the colloquial phrase beside it adds no condition
    profile = profile_of("eGFR只有25，肾不太好")
    assert (profile.egfr, profile.conditions) == (25, [])


def test_round5_fail_safe_readings():
    # a bare number after an age is remembered is not a new age (a fever of 39 must not make a child 39)
    assert profile_of("孩子5岁，发烧了", "39").age == 5
    # the baby's milk is the baby's: the clause after it stays the baby's
    # (the writer nurses, so the profile is hers: the baby's eczema is not her condition)
    assert profile_of("宝宝两个月，吃母乳，有湿疹").conditions == []
    # a remembered eGFR is not updated by a score or a count
    assert profile_of("我查了eGFR是58", "疼痛降到了3分").egfr == 58
    # 他们 is a group, not the remembered child
    assert profile_of("我家孩子4岁", "他们班有人得了手足口病").conditions == []


def test_round5_probe_generalisations():
    assert profile_of("吃头孢起过荨麻疹").allergies == ["头孢菌素类"]
    assert profile_of("我在吃二甲双胍", "医生说如果血糖还高，可能会加用西格列汀").medications == ["二甲双胍"]
    assert profile_of("65岁，男，有青光眼（闭角型）").conditions == ["闭角型青光眼"]
    # an allergy to a class covers a member named beside it
    assert profile_of("我对青霉素类过敏，小时候打阿莫西林起过疹子").allergies == ["青霉素类"]


def test_breathlessness_is_not_asthma():
    # a symptom on exertion is no diagnosis, however the knowledge names 气喘; 有气喘 is the Taiwanese diagnosis
    assert profile_of("我一爬楼就气喘").conditions == []
    assert profile_of("最近走路有点气喘").conditions == []
    assert profile_of("我有气喘，用舒利迭").conditions == ["气喘"]     # the knowledge's 气喘 row, below 哮喘 (round 6)


def test_telegraphic_profiles_and_injection_counts():
    assert profile_of("男 67 痛风 秋水仙碱").medications == ["秋水仙碱"]
    # a bare drug name with no profile words around it is no statement of taking
    assert profile_of("秋水仙碱 副作用").medications == []
    assert profile_of("每天打两针甘精胰岛素").medications == ["甘精胰岛素"]


def test_stops_of_every_remembered_medicine_or_a_hold():
    assert profile_of("我在吃氯沙坦和氢氯噻嗪", "上周医生说都停了").medications == []
    assert profile_of("我在吃氯沙坦", "医生让我先停一停").medications == []
    assert set(profile_of("我在吃氯沙坦和氢氯噻嗪", "要不要都停了？").medications) == {"氯沙坦", "氢氯噻嗪"}


def test_two_character_allergen_homophones():
    assert profile_of("我对头包过敏").allergies == ["头孢菌素类"]
    assert profile_of("我对海先过敏").allergies == ["海鲜"]
    # an unknown word that sounds like nothing known stays as written (and is reported)
    assert profile_of("我对柳絮过敏").allergies == ["柳絮"]


def test_round6_taiwanese_kidney_kin_and_stop_readings():
    # a kidney figure after 只剩 is read; dialysis that is only foreseen is no stage 5 and no end-stage disease
    assert facts("化驗單上腎絲球過濾率只剩22，醫師說以後可能要洗腎") == {("egfr", "22", "active")}
    assert ("ckd_stage", "5", "active") in facts("我每週洗腎兩次")
    assert ("ckd_stage", "3", "active") in facts("醫師講我的腎臟病已經第三期")
    # the writer named by kin is the writer's sex; a child named by kin is not the writer
    assert ("sex", "female", "active") in facts("我爸中風住院，我是他女兒，想問我自己能不能吃感冒藥")
    assert ("sex", "male", "active") in facts("外婆有高血壓，我是外孫，今年30歲")
    # 現在 before a stop says when it stopped
    assert facts("華法林現在停了") == {("medication", "华法林", "stopped")}
    # Taiwanese words: 護理師, 過民 (same pinyin as 過敏), 心衰竭, 胃食道逆流, 沒懷
    assert ("occupation", "护理师", "active") in facts("我是護理師，要輪三班")
    assert active("我對布洛芬過民", "allergy") == {"布洛芬"}
    assert active("醫生說我有心衰竭", "condition") == {"心力衰竭"}
    assert active("我有胃食道逆流", "condition") == {"胃食管反流病"}
    assert ("pregnancy", "false", "active") in facts("我現在沒懷，只是想先問問")


def test_round6_chained_and_unpunctuated_corrections():
    # 哦不是，我说错了，是B: the second correction phrase does not hide B
    assert active("我对阿莫西林过敏，哦不是，我记错了，是对红霉素过敏", "allergy") == {"红霉素"}
    # 打错，是B不是A (no 了): the first correction phrase decides, not the 不是 after the new value
    assert profile_of("怀孕6周", "刚刚写错，是26周不是6周").trimester == 2


def test_round7_a_stop_reaches_back_past_a_clause_that_names_nothing():
    # the reason between the drug and its stop does not hide the drug
    assert facts("以前每天吃辛伐他汀，后来肝酶有点高，医生就给停了") == {("medication", "辛伐他汀", "stopped")}
    assert profile_of("头孢克肟吃了五天，昨天已经吃完了，现在只吃氨氯地平").medications == ["氨氯地平"]
    assert profile_of("我在吃头孢克肟", "头孢克肟前天吃完了").medications == []
    # 其他药都停了 stops the others, not the drug named
    assert profile_of("吃着缬沙坦，血压还行，其他药都停了").medications == ["缬沙坦"]
    # 吃完了饭 is a meal, not the end of a course
    assert profile_of("我吃二甲双胍，每天吃完了饭再吃").medications == ["二甲双胍"]
    # 要孩子 / 生孩子 names no one: the drug before it stays the writer's and its stop too
    assert profile_of("原来吃甲巯咪唑，因为想要孩子，医生让停了，换成丙硫氧嘧啶").medications == ["丙硫氧嘧啶"]


def test_round7_corrections_of_values_and_of_whose_fact():
    # 等下，我看错了 is a correction mark
    assert profile_of("我对青霉素过敏，等一下，我看错了，是对红霉素过敏").allergies == ["红霉素"]
    # 记错了，A没事，是对B过敏: A is taken back, B is the allergy
    assert profile_of("我对头孢过敏", "不对，我记错了，头孢没事，是对磺胺过敏").allergies == ["磺胺类"]
    # 我是56岁，不是65: the figure after 不是 is the wrong one
    assert profile_of("我72岁", "刚才说错了，我是27岁，不是72").age == 27
    assert profile_of("我今年40岁，不对，41").age == 41
    # a weight corrected in the sentence
    assert profile_of("体重70公斤，哦不对，这半年瘦到64了").weight_kg == 64
    assert profile_of("体重70公斤，不对，我记错了，今年61岁").weight_kg == 70
    # 糖尿病是我爸: the condition belongs to someone else
    assert profile_of("我有糖尿病", "不对，糖尿病是我爸，我是痛风").conditions == ["痛风"]


def test_round7_the_writer_named_as_a_parent():
    assert profile_of("我女儿对头孢过敏，我是她妈妈，我自己有偏头痛").sex == "female"
    # a writer named only as the child's parent still asks for the child
    child = profile_of("我是孩子的爸爸，孩子6岁，对布洛芬过敏")
    assert child.age == 6 and child.allergies == ["布洛芬"] and child.sex is None


def test_round7_reasons_names_and_prediabetes():
    # a disease named as what a medicine treats, or why it is taken, is the patient's
    assert active("每天吃羟氯喹，治干燥综合征", "condition") == {"干燥综合征"}
    assert "系统性红斑狼疮" in active("我一直吃泼尼松，因为红斑狼疮", "condition")
    # … but not a measurement given as the reason for a stop, nor a disease only prevented
    assert active("氢氯噻嗪因为尿酸高停了", "condition") == set()
    assert active("吃阿司匹林是为了预防冠心病", "condition") == set()
    # the doctor's graded word replaces 血糖高: pre-diabetes is not diabetes
    assert active("空腹血糖有点高，医生说是糖前期", "condition") == {"糖尿病前期"}
    assert active("我不是糖尿病，就是血糖偏高，查了是糖耐量异常", "condition") == {"糖尿病前期"}
    # folk names: 喘病, 胃里有个溃疡
    assert active("我喘病十几年了", "condition") == {"哮喘"}
    assert active("胃里有个溃疡", "condition") == {"胃溃疡"}
    assert active("我自己没啥病", "condition") == set()


def test_round7_small_readings_of_who_and_what():
    # 孙子/孙女 are children; the writer's adult age after a clause about the child is the writer's
    child = profile_of("孙女10个月，8公斤，咳嗽")
    assert child.age == 0 and child.weight_kg == 8
    assert profile_of("我不在哺乳期了，孩子两岁多，今年36").age == 36
    # 行不 ends a question: a drug only asked about is not taken
    assert profile_of("我吃布洛芬行不").medications == []
    # a never-started drug, said in a later message without its name
    assert profile_of("医生给我开了阿托伐他汀", "我没吃，开了药也没去拿").medications == []
    assert profile_of("我在吃阿司匹林", "今天早上没吃").medications == ["阿司匹林"]
    # a reaction right after the drug's clause is an allergy to that drug
    assert profile_of("以前吃过卡马西平，起过一身红疹，后来就停了").allergies == ["卡马西平"]
    assert profile_of("我在吃二甲双胍，没有过敏").allergies == []
    # a rash now, beside a drug taken now, is not yet said to be caused by it
    assert profile_of("我在吃阿卡波糖，最近身上起了红疹").allergies == []
    # 男的，58 / 小学老师
    assert profile_of("我男的，63，有痛风").age == 63
    assert profile_of("我是小学老师").occupation == "教师"


def test_round7_pregnancy_counts_still_taken_and_retractions():
    # two time words before a bare week count; a month count in a clause of its own
    assert profile_of("我怀孕了，目前大概三十周").trimester == 3
    assert profile_of("怀孕了，第五个月").trimester == 2
    # a corrected week count is a pregnancy's
    corrected = profile_of("我32周了，不对，是22周")
    assert corrected.pregnant is True and corrected.trimester == 2
    # 之前吃的X还在吃: a drug begun before and still taken
    assert profile_of("之前开的氨氯地平还在吃").medications == ["氨氯地平"]
    # a drug asked about with a modal verb in a question is not taken
    assert profile_of("要是血糖高了，阿卡波糖是不是得一直吃？").medications == []
    # 现在是X: the drug taken now, after the old one was stopped
    assert profile_of("我吃的是格列美脲", "格列美脲早就不吃了，现在是阿卡波糖").medications == ["阿卡波糖"]
    # 也不算X: a remembered condition taken back
    assert profile_of("我有痛风", "其实也不算痛风，就是脚疼过一次").conditions == []
    # high glucose found in a pregnancy is gestational diabetes, not diabetes
    assert profile_of("孕六个月了，最近血糖有点高").conditions == ["妊娠期糖尿病"]


def test_round7_conditions_listed_and_new_names():
    assert active("高血压加痛风", "condition") == {"高血压", "痛风"}
    assert active("我有冠心病和肾结石", "condition") == {"冠心病", "肾结石"}
    assert active("去医院看了，就是急性支气管炎", "condition") == {"支气管炎"}
    assert active("每天吃拜阿司匹林和氨糖", "medication") == {"阿司匹林", "氨基葡萄糖"}


def test_round7_a_correction_opening_a_later_message():
    # 啊不对，是B: B replaces the one medicine remembered, even of another family
    assert profile_of("我在吃比索洛尔", "哦不对，是氨氯地平").medications == ["氨氯地平"]
    # several remembered: only B's own family is taken back
    assert sorted(profile_of("我吃缬沙坦和二甲双胍", "不对，是厄贝沙坦").medications) == ["二甲双胍", "厄贝沙坦"]
    assert profile_of("本人高血压，60岁男的").sex == "male"


def test_round7_more_readings_and_names():
    # 只吃/就吃 before a drug (with its purpose between) is taking; 戒了 is a stop
    assert profile_of("胃药停了，现在只吃降糖的格列齐特").medications == ["格列齐特"]
    assert profile_of("阿普唑仑吃了两年，上个月已经戒了").medications == []
    assert profile_of("医生告诉我不要再吃萘普生了").medications == []
    # a severe rash is still a rash; 不好意思 before the correction mark
    assert profile_of("吃卡马西平起过严重的皮疹").allergies == ["卡马西平"]
    assert profile_of("我在吃美托洛尔——不好意思记错了，是比索洛尔").medications == ["比索洛尔"]
    # no disease named: 没病 / 不是X
    assert active("我身体挺好，肺没病", "condition") == set()
    # folk and missing names
    assert active("我经常偏头疼", "condition") == {"偏头痛"}
    assert active("我有灰指甲", "condition") == {"甲癣"}
    assert active("我有G6PD缺乏", "condition") == {"G6PD缺乏症"}
    assert active("确诊强直性脊柱炎三年了", "condition") == {"强直性脊柱炎"}
    assert profile_of("我现在是小学老师").occupation == "教师"


def test_round7_not_started_and_month_counts():
    # prescribed but not fetched, or not yet decided: not taken
    assert profile_of("医生开了瑞舒伐他汀，我还没去拿药").medications == []
    assert profile_of("医生让我打胰岛素，我还在犹豫").medications == []
    # a bare month count beside a pregnancy dates it; beside a child it is the child's age
    assert profile_of("我是孕妇，五个多月了").trimester == 2
    assert profile_of("怀孕了，孩子三个月就断奶了").trimester is None


def test_round7_subtype_told_by_the_doctor_and_bare_prediabetes():
    # the subtype after who said it: 医生说是开角型
    assert active("我有青光眼，医生说是开角型的", "condition") == {"开角型青光眼"}
    # 前期 alone in a message about the writer's glucose is pre-diabetes; a relative's is not the writer's
    assert active("体检血糖偏高，医生说是前期", "condition") == {"糖尿病前期"}
    assert active("我爸血糖高，医生说是前期", "condition") == set()


def test_round7_told_by_a_relative_same_as_a_relative_and_going_on():
    # a parent only tells what the patient has; a friend's opinion, or what a parent says of someone else, is not
    assert profile_of("我爸说我小时候对庆大霉素过敏").allergies == ["庆大霉素"]
    assert profile_of("我妈说我姐夫有痛风").conditions == []
    assert profile_of("同事说我有焦虑症").conditions == []
    # 我也有 after a relative's condition; 我没有 takes nothing
    assert profile_of("我妈和我姨都有糖尿病，我也有").conditions == ["糖尿病"]
    assert profile_of("我爸有痛风，我没有").conditions == []
    # a drug taken before and said to go on is taken
    assert profile_of("之前一直吃着拉莫三嗪，怀孕后医生说继续吃").medications == ["拉莫三嗪"]


def test_round7_a_bare_number_corrected_in_a_later_message():
    # the one figure remembered is the one corrected; 岁 or 公斤 says which when several are
    assert profile_of("我今年71", "不对，是17，打错了").age == 17
    assert profile_of("体重48公斤", "说错了，是58").weight_kg == 58
    both = profile_of("我50岁，体重80公斤", "不对，是85")
    assert both.age == 50 and both.weight_kg == 80
    assert profile_of("我50岁，体重80公斤", "不对，是85公斤").weight_kg == 85
    assert profile_of("我女儿4岁，我自己41，有偏头痛").age == 41


def test_round7_free_condition_names_after_the_writer():
    # a name the lexicon lacks, right after 我, is kept as free text without the 我
    assert active("我甲状腺结节，没吃药", "condition") == {"甲状腺结节"}
    assert active("我有白内障，还没做手术", "condition") == {"白内障"}
    assert active("我妈有白内障", "condition") == set()


def test_round7_a_newborns_jaundice():
    assert profile_of("宝宝出生12天，还有点黄疸").conditions == ["新生儿高胆红素血症"]
    assert profile_of("宝宝出生12天，黄疸已经退了").conditions == []
    assert profile_of("孩子3岁，黄疸").conditions == []


def test_round7_never_taken_after_a_reason_and_a_dose_change():
    # 医生开了X，但我对Y过敏所以没吃: X was never taken; the allergy stays
    never = profile_of("医生开了头孢克洛，但我对头孢过敏所以没吃")
    assert never.medications == [] and never.allergies == ["头孢菌素类"]
    assert profile_of("医生给开了塞来昔布，我怕伤胃就没敢吃").medications == []
    # a dose changed is still taken
    assert profile_of("美托洛尔加量了，现在早晚各一片").medications == ["美托洛尔"]


def test_round7_a_purpose_or_a_heading_names_what_is_taken():
    assert sorted(profile_of("降压药是缬沙坦，降脂的是匹伐他汀").medications) == ["匹伐他汀", "缬沙坦"]
    assert sorted(profile_of("目前用药：1.华法林 2.地高辛").medications) == ["华法林", "地高辛"]
    # a heading in a question lists nothing taken
    assert profile_of("用药：华法林可以和布洛芬一起吃吗？").medications == []


def test_round7_approximate_weights_keep_their_unit():
    # 九十多斤 is about 45 kg, never 90 kg
    assert profile_of("体重九十多斤").weight_kg == 45
    assert profile_of("我一百四十多斤").weight_kg == 70
    assert profile_of("最近瘦了十多斤").weight_kg is None
    assert profile_of("我刚满20").age == 20


def test_round7_kidney_figures_in_words_and_with_fillers():
    assert profile_of("eGFR是三十二").egfr == 32
    assert profile_of("肾小球滤过率大概在45左右").egfr == 45


def test_round7_a_later_还有_continues_the_kind_remembered_last():
    assert profile_of("我对头孢过敏", "还有红霉素").allergies == ["头孢菌素类", "红霉素"]
    assert sorted(profile_of("我在吃缬沙坦", "还有二甲双胍").medications) == ["二甲双胍", "缬沙坦"]
    # a question or someone else's drug after 还有 / 另外 is not continued
    assert profile_of("我对头孢过敏", "还有一个问题，布洛芬能吃吗").medications == []
    assert profile_of("我在吃缬沙坦", "另外，我爸吃氯吡格雷").medications == ["缬沙坦"]
    # a switch only allowed by the doctor has not happened
    assert profile_of("我吃华法林", "医生说可以换成达比加群，我还没换").medications == ["华法林"]


def test_round7_a_drug_added_on_keeps_the_one_before():
    assert sorted(profile_of("以前吃缬沙坦，血压降不下来，后来加了氨氯地平").medications) == ["氨氯地平", "缬沙坦"]
    # … but not one stopped or replaced before the add-on
    assert profile_of("以前吃缬沙坦，后来停了，医生又加了氨氯地平").medications == ["氨氯地平"]
    assert profile_of("以前吃缬沙坦，现在吃氨氯地平").medications == ["氨氯地平"]


def test_round7_high_blood_pressure_found_late_in_a_pregnancy():
    assert profile_of("怀孕32周，这几天产检发现血压偏高").conditions == ["妊娠期高血压"]
    # known before the pregnancy, or in its first weeks: hypertension
    assert profile_of("怀孕32周，高血压好多年了").conditions == ["高血压"]
    assert profile_of("孕8周，最近血压有点高").conditions == ["高血压"]


# ---- round 8 (r8-memory): sentences of our own for the mechanisms behind b19-b22's memory failures -------------

def test_round8_a_correction_said_with_讲错_or_记错_without_了():
    assert profile_of("我在吃氯沙坦，不是不是，我讲错，是厄贝沙坦").medications == ["厄贝沙坦"]
    assert profile_of("我对红霉素过敏，不是，我记错，是对阿奇霉素过敏").allergies == ["阿奇霉素"]


def test_round8_a_former_medicine_then_the_current_one():
    # A，不对，A是以前的，现在是B: A was taken before, B now
    assert profile_of("我吃的是格列齐特，不对，格列齐特是以前的，现在是阿卡波糖").medications == ["阿卡波糖"]
    assert profile_of("以前吃硝苯地平，那是以前的，现在吃的是氨氯地平").medications == ["氨氯地平"]
    assert profile_of("我吃的是格列美脲，那是以前的，现在吃西格列汀").medications == ["西格列汀"]


def test_round8_an_age_corrected_after_an_aside():
    assert profile_of("我69岁，哦不，前几天刚过完生日，70了").age == 70
    # an aside with no figure after it changes nothing
    assert profile_of("我69岁，哦不，前几天刚过完生日").age == 69


def test_round8_the_doctor_said_it_is_only_x():
    assert profile_of("医生说只是空腹血糖受损，还不是糖尿病").conditions == ["糖尿病前期"]


def test_round8_an_allergy_that_turns_out_to_be_a_relatives():
    assert profile_of("我好像对头孢过敏", "问了我爸，原来是我姐姐对头孢过敏，我没有").allergies == []
    # a relative's allergy said beside the writer's own leaves the writer's
    assert profile_of("我对青霉素过敏，我姐姐对头孢过敏").allergies == ["青霉素类"]


def test_round8_a_drug_taken_to_lower_blood_pressure_names_hypertension():
    assert profile_of("我每天吃替米沙坦降压").conditions == ["高血压"]
    # asked about, in a pregnancy, or a drug only described: nothing inferred
    assert profile_of("替米沙坦降压效果怎么样？").conditions == []
    assert profile_of("我怀孕28周", "在吃硝苯地平降压").conditions == []
    assert profile_of("我吃降压的替米沙坦").conditions == []


def test_round8_advice_to_take_less_and_a_tablet_under_the_tongue():
    assert profile_of("医生叫我少吃布洛芬").medications == []
    # 别吃 / 不要吃 after a remembered drug is still a stop
    assert profile_of("我在吃氯吡格雷", "医生让我别吃氯吡格雷了").medications == []
    assert profile_of("心绞痛发作时含硝酸甘油").medications == ["硝酸甘油"]
    assert profile_of("这个药里面含对乙酰氨基酚吗").medications == []


def test_round8_a_reaction_that_a_drug_brings_on_is_an_allergy():
    assert profile_of("我用青霉素会起风团").allergies == ["青霉素类"]
    assert profile_of("吃阿莫西林会出皮疹吗？").allergies == []


def test_round8_an_unnamed_stop_as_the_doctor_said_and_a_taper():
    assert profile_of("我在吃劳拉西泮", "前几天按医生的意思减停了").medications == []
    assert profile_of("劳拉西泮已经减停了").medications == []


def test_round8_a_kidney_figure_with_a_time_word_then_a_drop():
    assert profile_of("我肾小球滤过率上次52", "这回掉到44了").egfr == 44


def test_round8_the_doctor_addressed_is_no_occupation_and_a_driver_still_driving():
    assert profile_of("大夫，我想问一下降压药").occupation is None
    # a bare answer that is the whole message stays an occupation
    assert profile_of("医生").occupation == "医生"
    assert profile_of("我都退休了，现在还在跑滴滴").occupation == "网约车司机"
    # the years said before an occupation are not part of it
    assert profile_of("我干了二十年电工").occupation == "电工"


def test_round8_new_condition_names():
    assert profile_of("我有颈椎病").conditions == ["颈椎病"]
    assert profile_of("查出来纤维肌痛综合征").conditions == ["纤维肌痛"]
    assert profile_of("我是肾病综合症，在吃激素").conditions == ["肾病综合征"]
    assert profile_of("我有室性期前收缩").conditions == ["室性早搏"]
    assert profile_of("医生说我是轻度认知损害").conditions == ["轻度认知障碍"]
    assert profile_of("我得了慢性肾衰").conditions == ["慢性肾脏病"]
    assert profile_of("我有胃酸倒流").conditions == ["胃食管反流病"]


def test_round8_a_nursing_writers_baby_named_by_age_is_an_aside():
    profile = profile_of("我在喂母乳，孩子三个月，有甲减，吃优甲乐")
    assert profile.lactating is True and profile.conditions == ["甲状腺功能减退"]
    assert profile.medications == ["左甲状腺素"]
    # what only a baby has stays the baby's
    assert profile_of("我在喂奶，宝宝两个月，有点黄疸").conditions == []
    assert profile_of("我在喂奶，孩子一个多月，有点拉肚子，吃了蒙脱石散").medications == []


def test_round8_falls_counted_and_an_organ_exchanged():
    assert profile_of("这半年跌倒过三次").conditions == ["跌倒史"]
    assert profile_of("我爸摔了两跤").conditions == []
    assert profile_of("医生说这个药容易摔跤").conditions == []
    assert profile_of("五年前换过肝，现在吃他克莫司").conditions == ["器官移植术后"]


def test_round8_list_items_with_their_time_or_purpose():
    assert sorted(profile_of("我打胰岛素，门冬胰岛素早上，甘精胰岛素睡前").medications) == ["甘精胰岛素", "门冬胰岛素"]
    assert sorted(profile_of("在吃阿司匹林，还有奥美拉唑护胃").medications) == ["奥美拉唑", "阿司匹林"]


def test_round8_hong_kong_work_words():
    assert profile_of("我係機師").occupation == "机师"
    assert profile_of("我做外牆，成日要高空作業").occupation == "高空作业"


def test_round8_a_relative_who_also_has_it():
    assert profile_of("我爸也是糖尿病，他打胰岛素，我吃二甲双胍").conditions == ["糖尿病"]
    # a question, or the same condition of two relatives, says nothing of the writer
    assert profile_of("我爸也有糖尿病吗？").conditions == []
    assert profile_of("我妈有糖尿病，我爸也有糖尿病，我自己有痛风").conditions == ["痛风"]


def test_round9_dialysis_is_named_and_stays_stage_five():
    # the kind of dialysis is remembered; it sits below 终末期肾病, so the auditor's kidney rules still apply
    on_pd = profile_of("我做腹透快一年了，每天在家换液")
    assert on_pd.conditions == ["腹膜透析"] and on_pd.ckd_stage == 5
    on_hd = profile_of("一直在透析，每周三次")
    assert on_hd.conditions == ["血液透析"] and on_hd.ckd_stage == 5
    assert "终末期肾病" in Lexicon.load().condition_ancestors("血液透析")
    assert profile_of("下周准备开始透析").conditions == []


def test_round9_womens_health_conditions():
    # round 10: a recurrent infection is its own row (复发性尿路感染), whose parent 尿路感染 keeps the rules
    assert profile_of("反复泌尿系感染").conditions == ["复发性尿路感染"]
    assert profile_of("更年期出汗很厉害，睡不好").conditions == ["更年期综合征"]
    assert profile_of("以前腿上长过下肢静脉血栓").conditions == ["下肢深静脉血栓"]
    assert profile_of("后来乳腺查出个结节").conditions == ["乳腺结节"]
    # period pain is the question of the moment, not a remembered condition
    assert profile_of("我没怀孕，就是想问问来月经肚子疼吃什么").conditions == []


def test_round9_pregnancy_found_by_a_test_with_weeks_after_it():
    found = profile_of("上周测到怀孕了，7周左右")
    assert found.pregnant is True and found.trimester == 1
    assert profile_of("刚验出来怀孕，差不多6周吧").trimester == 1
    assert profile_of("没测出怀孕").pregnant is False
    assert profile_of("我吃这个药两周了吧").pregnant is None


def test_round9_weeks_now_outrank_a_trimester_word_that_dates_the_past():
    assert profile_of("孕早期吃的拉贝洛尔，现在20周医生让继续吃").trimester == 2
    assert profile_of("孕早期吐得厉害，现在10周了").trimester == 1


def test_round9_a_drug_asked_about_hypothetically_then_said_to_be_taken_now():
    assert profile_of("要是以后备孕的话，阿司匹林需要停吗？我现在每天吃").medications == ["阿司匹林"]
    assert profile_of("万一怀孕了，氯沙坦要停吗？现在吃着呢。").medications == ["氯沙坦"]
    assert profile_of("如果血压高，能吃氯沙坦吗？我没吃过").medications == []
    assert profile_of("如果以后怀孕，氯沙坦要停吗？我妈在吃").medications == []


def test_round9_a_drug_told_with_its_use_verb_is_no_allergen_in_an_allergy_sentence():
    child = profile_of("我儿子7岁，打胰岛素，对头孢过敏。")
    assert child.medications == ["胰岛素"] and child.allergies == ["头孢菌素类"]


def test_round9_a_drug_the_writer_wants_to_start_is_not_taken():
    assert profile_of("已经不喂奶了，想开始吃降压药").medications == []
    assert profile_of("我在吃二甲双胍，想问能不能吃布洛芬").medications == ["二甲双胍"]


def test_round9_a_condition_that_became_its_sibling_is_replaced():
    assert profile_of("我以前甲亢，做过碘131，现在变成甲减了").conditions == ["甲状腺功能减退"]
    assert profile_of("糖尿病前期，去年变成糖尿病了").conditions == ["糖尿病"]
    # a different disease that came as well leaves the first one
    assert sorted(profile_of("高血压好多年，现在又变成糖尿病了").conditions) == ["糖尿病", "高血压"]
    assert profile_of("会不会变成糖尿病").conditions == []


def test_round9_egfr_told_with_now():
    assert profile_of("医生说我的肾小球滤过率现在是31").egfr == 31
    assert profile_of("eGFR目前只有35").egfr == 35


def test_round9_a_question_with_its_own_object_leaves_the_drug_taken_before_it():
    assert profile_of("吃华法林，能吃布洛芬吗？").medications == ["华法林"]
    assert profile_of("长期吃他克莫司，听说不能喝西柚汁？").medications == ["他克莫司"]
    # the drug itself asked about
    assert profile_of("吃布洛芬，能吃吗？").medications == []
    assert profile_of("想吃布洛芬，能吃吗？").medications == []


def test_round9_bus_drivers_in_southern_usage():
    assert profile_of("我是开巴士的，想拿点感冒药").occupation == "巴士司机"
    assert profile_of("我揸小巴").occupation == "小巴司机"
    assert profile_of("坐巴士去医院").occupation is None


def test_round9_a_purpose_said_before_the_correction_mark():
    corrected = profile_of("我在吃氨氯地平降压，哦不对，是硝苯地平")
    assert corrected.medications == ["硝苯地平"] and corrected.conditions == ["高血压"]


def test_round9_a_current_condition_of_pregnancy_says_pregnant():
    assert profile_of("我有妊娠期高血压，在吃拉贝洛尔").pregnant is True
    assert profile_of("上一胎得过妊娠糖尿病，现在备孕").pregnant is None
    assert profile_of("以前怀孕时有过子痫前期").pregnant is None


def test_round10_a_take_verb_reaches_over_the_space_before_a_name():
    # a name typed in Latin letters (or any name) after 吃/用 and a space is taken, beside a condition clause too
    assert profile_of("我有高血压，吃 Norvasc 和阿司匹林").medications == ["氨氯地平", "阿司匹林"]
    assert profile_of("哮喘好多年，用 Symbicort").medications == ["布地奈德福莫特罗"]
    assert profile_of("每天吃 二甲双胍").medications == ["二甲双胍"]
    # still only asked about
    assert profile_of("能吃 Advil 吗？").medications == []


def test_round10_a_specific_condition_is_its_own_row_under_its_parent():
    lexicon = extractor().lexicon
    assert profile_of("查出来是IgA肾病，在吃缬沙坦").conditions == ["IgA肾病"]
    assert "慢性肾脏病" in lexicon.condition_ancestors("IgA肾病")   # the parent keeps the kidney rules
    assert profile_of("透析病人，有肾性贫血").conditions[-1] == "肾性贫血"
    assert {"贫血", "慢性肾脏病"} <= lexicon.condition_ancestors("肾性贫血")
    assert profile_of("红斑狼疮累及肾脏，诊断狼疮肾炎").conditions[-1] == "狼疮性肾炎"


def test_round10_recurrence_operation_and_aura_narrow_a_named_condition():
    assert profile_of("膀胱炎不算，尿路感染一年犯三四次").conditions == ["复发性尿路感染"]
    assert profile_of("霉菌性阴道炎总是反复").conditions == ["复发性外阴阴道假丝酵母菌病"]
    assert profile_of("我有尿路感染，在吃呋喃妥因").conditions == ["尿路感染"]
    assert profile_of("前年乳腺癌动过手术，现在吃阿那曲唑").conditions == ["乳腺癌术后"]
    assert profile_of("我有乳腺癌，在化疗").conditions == ["乳腺癌"]
    assert profile_of("去年子宫全切了").conditions == ["子宫切除术后"]
    assert profile_of("偏头痛好多年，每次疼之前眼前有锯齿样的亮光").conditions == ["有先兆偏头痛"]
    assert profile_of("偏头痛好多年，疼起来想吐").conditions == ["偏头痛"]


def test_round10_about_to_give_birth_is_still_pregnant():
    due = profile_of("孕39周了，预产期下周，马上要生了")
    assert due.pregnant is True and due.trimester == 3
    assert profile_of("孕37周，快生了，能吃什么").pregnant is True
    assert profile_of("我怀孕了", "前天生了，顺产").pregnant is False


def test_round10_a_positive_test_and_the_weeks_since_the_last_period():
    tested = profile_of("早孕试纸测出两道杠，末次月经六周前")
    assert tested.pregnant is True and tested.trimester == 1
    assert profile_of("抽血hcg阳性").pregnant is True
    assert profile_of("验孕棒一条杠，没怀上").pregnant is False


def test_round10_weeks_corrected_by_a_scan_in_a_later_message():
    assert profile_of("怀孕大概十周", "今天产检，B超显示其实已经15周").trimester == 2


def test_round10_a_finished_course_ends_the_remembered_medicine():
    assert profile_of("在吃左氧氟沙星", "七天的疗程满了").medications == []
    assert profile_of("在吃阿莫西林", "今天中午用完最后一片").medications == []
    assert profile_of("在吃阿莫西林", "吃完饭有点胃胀").medications == ["阿莫西林"]


def test_round10_an_allergy_told_by_its_reaction_is_not_a_medicine():
    told = profile_of("用过卡马西平，起了满身皮疹，医生判断是药物过敏")
    assert told.allergies == ["卡马西平"] and told.medications == []
    assert profile_of("一吃磺胺就长一身疙瘩").allergies == ["磺胺类"]
    assert profile_of("对 Bactrim 过敏").allergies


def test_round10_literary_ages():
    assert profile_of("家父？不，是我本人，今年六十有八").age == 68
    assert profile_of("我九十有一岁了").age == 91


def test_round10_smoking_periods_potassium_and_pcos_told_colloquially():
    assert profile_of("一天十来根烟，抽了二十年").conditions == ["吸烟"]
    assert profile_of("原来一天两包烟，前年戒掉了").conditions == []   # a former smoker
    assert profile_of("例假老是不准，想问问").conditions == ["月经不调"]
    assert profile_of("化验说我有点高钾").conditions == ["高钾血症"]
    assert profile_of("香蕉是高钾的水果吗").conditions == []
    assert profile_of("在备孕，B超说我是多囊").conditions == ["多囊卵巢综合征"]
    assert profile_of("我有多囊肾").conditions == ["多囊肾"]


def test_round10_homophone_slips_for_gout_and_creatinine():
    slipped = profile_of("我得了通风，肌肝清除率只有40")
    assert slipped.conditions == ["痛风"] and slipped.egfr == 40
    assert profile_of("屋里要经常通风").conditions == []


def test_round10_what_the_doctor_said_and_dialysis_told_by_its_schedule():
    assert profile_of("血糖不算高，医生说空腹血糖受损").conditions == ["糖尿病前期"]
    assert profile_of("医生说没有痛风").conditions == []
    on_hd = profile_of("一周透三次，周一三五血透")
    assert on_hd.conditions == ["血液透析"] and on_hd.ckd_stage == 5
    assert profile_of("医生说暂时不需要透析").conditions == []


def test_round10_a_relatives_word_inside_a_medicine_name_names_no_one():
    assert profile_of("月经刚走，一直在吃妈富隆").medications == ["去氧孕烯炔雌醇片"]
    assert profile_of("我妈在吃华法林").medications == []


def test_round10_a_switch_told_as_prescribed_and_english_take():
    switched = profile_of("原来吃辛伐他汀，医生换开了阿托伐他汀")
    assert switched.medications == ["阿托伐他汀"]
    mixed = profile_of("I take Xarelto for 房颤")
    assert mixed.medications == ["利伐沙班"] and mixed.conditions == ["心房颤动"]
    assert profile_of("Can I take Advil?").medications == []


def test_round10_a_remembered_egfr_read_again():
    assert profile_of("我的eGFR是31", "我看错了，报告上是13，不是31").egfr == 13


def test_round10_an_unknown_list_item_between_the_verb_and_a_known_name():
    # 某某新药 is no name the knowledge holds: the take verb still reaches the known name listed after it
    assert profile_of("每天吃某某新药和骨化三醇").medications == ["骨化三醇"]
    assert profile_of("没吃某某新药和华法林").medications == []


# ---- round 11: mechanisms found on fresh authors (sentences of our own) ---------------------------------------------
def test_round11_ages_told_colloquially():
    assert profile_of("俺七十二了，腿脚不好").age == 72
    told = profile_of("我是个老太太，八十一了，血压高")
    assert told.age == 81 and told.sex == "female"
    woman = profile_of("我一个女的，五十三了，睡不好")
    assert woman.age == 53 and woman.sex == "female"
    assert profile_of("我一个女的朋友有糖尿病").sex is None   # a woman friend: nothing of the writer's sex
    assert profile_of("我发烧了，39了").age is None   # a temperature after a complaint, no self-introduction
    assert profile_of("孩子两岁半，喝了两个月益生菌").age == 2   # a duration is no infant's age
    assert profile_of("宝宝咳嗽三天了", "5个月").age == 0       # a bare age in months answers for the baby
    assert profile_of("怀孕了", "5个月").age is None               # a pregnancy's months are not an age
    assert profile_of("在吃二甲双胍", "3个月").age is None          # how long it has been taken, not an age


def test_round11_occupations_told_by_what_the_writer_drives_or_does():
    assert profile_of("我开校车的，最近鼻塞").occupation == "校车司机"
    assert profile_of("我40岁，在码头开吊车").occupation == "吊车司机"
    assert profile_of("俺在家种地，腰疼").occupation == "农民"
    assert profile_of("我在楼盘外墙高空作业").occupation == "高空作业"
    assert profile_of("我爸以前种地，我在城里上班").occupation is None


def test_round11_relatives_in_a_long_message_and_siblings_told_apart():
    told = profile_of("俺七十了，老头子有冠心病吃阿司匹林，俺自己就是胃不好")
    assert told.age == 70 and "冠心病" not in told.conditions and told.medications == []
    assert profile_of("我是个老头子，有糖尿病").conditions == ["糖尿病"]
    twins = profile_of("大宝有过敏性鼻炎，问的是二宝，4岁，咳嗽能吃什么")
    assert twins.age == 4 and twins.conditions == []
    same = profile_of("我女儿有哮喘，6岁，问的是我女儿")
    assert same.conditions == ["哮喘"]
    assert profile_of("我是他爷爷，孩子3岁，有癫痫").age == 3


def test_round11_a_condition_called_a_mistake_and_a_corrected_allergy():
    assert profile_of("之前说我有糖尿病是搞错了，血糖其实正常").conditions == []
    assert profile_of("以前诊断的冠心病是误诊，现在只有高血压").conditions == ["高血压"]
    assert profile_of("我有高血压，医生说没搞错").conditions == ["高血压"]
    checked = profile_of("我可能有十二指肠溃疡", "做完胃镜，大夫说不是溃疡，是胃炎")
    assert "十二指肠溃疡" not in checked.conditions
    fixed = profile_of("我对青霉素过敏", "不对，应该不是青霉素，是磺胺")
    assert fixed.allergies == ["磺胺类"] and fixed.medications == []


def test_round11_healed_tapered_asked_and_taken_by_pronoun():
    assert profile_of("年轻时得过肺结核，早就好利索了").conditions == []
    assert profile_of("在吃甲泼尼龙", "按医生交代慢慢减完停了").medications == []
    assert profile_of("要是以后查出糖尿病，是不是得一直吃二甲双胍？").medications == []
    told = profile_of("哺乳期特比萘芬能用吗？我现在在用它")
    assert told.medications == ["特比萘芬"]
    assert profile_of("布洛芬和对乙酰氨基酚能一起吃吗？我在吃这个药").medications == []


def test_round11_conditions_told_with_the_child_or_the_word_of_onset():
    assert profile_of("孩子癫痫，在吃左乙拉西坦").conditions == ["癫痫"]
    assert profile_of("手上起了湿疹").conditions == ["湿疹"]
    assert set(profile_of("我三高全占了").conditions) == {"高血压", "高脂血症", "糖尿病"}
    assert "冠脉支架术后" in profile_of("前年放了个支架").conditions   # below 冠心病 (round 13)
    fixed = profile_of("我吃的是络活喜，哦不对，是那个拜新同")
    assert fixed.medications == ["硝苯地平"]
    assert profile_of("慢性肾病4期，在做透析前的准备").ckd_stage == 4


def test_round11_what_is_over_is_remembered_as_its_history_row():
    # a healed VTE is the history the estrogen rules read, not a condition that ended
    assert profile_of("前些年得过肺栓塞，已经治好了").conditions == ["血栓栓塞病史"]
    assert profile_of("以前有过肌腱炎，早就好了").conditions == ["肌腱疾病史"]
    assert profile_of("小时候得过肺炎，已经好了").conditions == []   # no history row: over is over


def test_round11_measures_judged_and_what_the_pump_holds():
    assert profile_of("大夫说我心跳才48太慢了").conditions == ["心动过缓"]   # (one clause: mentions are read per clause)
    assert profile_of("心率70多，挺正常的").conditions == []
    assert profile_of("甲功有点低，在吃优甲乐").conditions == ["甲状腺功能减退"]
    pump = profile_of("一直用胰岛素泵，笔里是优泌乐")
    assert pump.medications == ["赖脯胰岛素"]


def test_round11_a_rambling_message_about_the_family_ends_with_the_writer():
    told = profile_of("当家的有痛风吃别嘌醇，俺闺女有甲亢，我自己好好的，就是胃不太舒服")
    assert told.conditions == [] and told.medications == []
    work = profile_of("我跑长途的，四十五了")
    assert work.occupation == "长途司机" and work.age == 45


def test_round11_a_condition_told_by_where_it_is_and_its_operation_in_the_next_clause():
    assert profile_of("孩子10个月，脖子上湿疹").conditions == ["湿疹"]
    assert profile_of("有乳腺癌，前年做了手术").conditions == ["乳腺癌术后"]
    assert profile_of("有子宫肌瘤，医生说要不要做手术再看").conditions == ["子宫肌瘤"]


def test_round11_the_writers_first_named_work_is_the_occupation():
    assert profile_of("我开大货车，经常跑长途").occupation == "货车司机"
    assert profile_of("我老公开大货车，我在家种地").occupation == "农民"


def test_round11_work_told_two_ways_keeps_both_readings():
    both = profile_of("我是开吊车的，常年在高空作业")
    assert both.occupation == "吊车司机（高空作业）"


def test_round11_heart_failure_typed_by_its_ejection_fraction_where_the_row_exists():
    # the typed rows ship since round 11 (conditions.csv: 射血分数降低 / 保留的心力衰竭, ESC 2021 bands); an ejection
    # fraction between the bands, or none, leaves heart failure untyped
    reader = RuleBasedExtractor(Lexicon.load())

    def conditions(text: str) -> set[str]:
        return {f.value for f in reader.extract(text, "m") if f.kind == "condition"}

    assert conditions("心衰两年，射血分数30%") == {"射血分数降低的心力衰竭"}
    assert conditions("心衰两年，射血分数60%") == {"射血分数保留的心力衰竭"}
    assert conditions("心衰两年，射血分数45%") == {"心力衰竭"}
    assert conditions("心衰两年") == {"心力衰竭"}


def test_round11_a_past_condition_becomes_its_history_row_once_the_row_exists():
    import copy

    from medq.agent.knowledge import Condition
    lexicon = Lexicon.load()
    origin = lexicon.conditions["消化性溃疡"].origin
    with_history = copy.copy(lexicon)
    with_history.conditions = {**lexicon.conditions,
                               "消化性溃疡病史": Condition("消化性溃疡病史", (), (), "test", origin),
                               "消化道出血病史": Condition("消化道出血病史", (), (), "test", origin)}
    reader = RuleBasedExtractor(with_history)

    def active(message: str) -> set[str]:
        return {f.value for f in reader.extract(message, "m") if f.kind == "condition" and f.status == "active"}
    assert active("十二指肠溃疡前几年有过，早治好了") == {"消化性溃疡病史"}   # through its parent 消化性溃疡
    assert active("我用了布洛芬后胃出过血") == {"消化道出血病史"}
    assert active("我现在有消化道出血") == {"消化道出血"}   # not over: no history
