"""Round 17 memory (extraction): whose fact it is when a relative is named (a proxy's colon, an elder as the subject,
a nursing daughter, a child asked about as 他, a pregnancy a correction gives to the wife), a cue inside a condition's
name, pregnancy idioms, medicines told in a continuation or at a new dose, stops, colloquial conditions and a kidney
figure updated across messages. Sentences written for these tests."""

import pytest

from .probes import profile


# ---- an allergy cue inside a condition's own name makes no sentence about allergies ----------------------------------
def test_condition_named_with_allergy_gives_no_allergen_from_the_clauses_beside_it():
    got = profile("我开出租的，跑长途，过敏性结膜炎犯了")
    assert got.allergies == [] and "过敏性结膜炎" in got.conditions


def test_a_real_allergy_beside_such_a_condition_stays():
    got = profile("我有过敏性鼻炎，还对头孢过敏")
    assert got.allergies == ["头孢菌素类"] and "过敏性鼻炎" in got.conditions


# ---- a relative written as the patient -----------------------------------------------------------------------------------
@pytest.mark.parametrize("message, age, sex", [
    ("我妈住院了，我帮她问：她79岁，吃阿哌沙班", 79, "female"),
    ("替我爸问一下：他68岁，在吃二甲双胍", 68, "male"),
])
def test_facts_after_the_proxy_colon_are_the_relatives(message, age, sex):
    got = profile(message)
    assert got.age == age and got.sex == sex and got.medications


def test_kin_after_a_bought_for_verb_names_the_patients_sex():
    got = profile("我替外婆拿药，她80岁，有高血压")
    assert got.sex == "female" and got.age == 80 and "高血压" in got.conditions


def test_an_elder_opening_the_message_as_the_subject_is_the_patient():
    got = profile("家里老人有帕金森，吃美多芭，血压也高")
    assert "帕金森病" in got.conditions and "高血压" in got.conditions and got.medications


# ---- a relative's fact is not given to the writer -------------------------------------------------------------------------
def test_a_nursing_daughter_is_not_the_writer_breastfeeding():
    got = profile("我闺女正在喂奶，她想问能不能用红霉素，我自己68岁有糖尿病")
    assert got.lactating is None and got.age == 68 and "糖尿病" in got.conditions


def test_a_child_named_first_and_asked_about_as_him_is_the_patient():
    got = profile("我女儿6岁，对青霉素过敏，我自己有甲减，想问问她能不能吃止咳糖浆")
    assert got.age == 6 and got.sex == "female" and got.allergies == ["青霉素类"]
    assert "甲状腺功能减退" not in got.conditions


def test_a_writer_who_asks_for_himself_beside_a_child_stays_the_patient():
    got = profile("我儿子8岁，我自己有痛风，我能吃布洛芬吗")
    assert "痛风" in got.conditions and got.age is None


# ---- a correction that gives a pregnancy to someone else --------------------------------------------------------------------
def test_correction_moving_the_pregnancy_to_the_wife_takes_the_writers_back():
    got = profile("我怀孕了，想问问", "不好意思说错了，是我媳妇怀孕了，她能吃维生素C吗")
    assert not got.pregnant and got.sex is None


def test_a_pregnancy_not_corrected_stays():
    got = profile("我怀孕了", "我老婆说我最近脸色不好")
    assert got.pregnant


# ---- pregnancy idioms ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("messages, trimester", [
    (("我32岁", "昨天测出来两道杠，估计6周左右"), 1),
    (("我肚子里的宝宝已经30周了，腰疼",), 3),
    (("我怀孕了，差不多8个月，宝宝是头胎",), 3),
])
def test_pregnancy_idioms(messages, trimester):
    got = profile(*messages)
    assert got.pregnant and got.trimester == trimester


def test_a_born_baby_gives_no_pregnancy():
    assert not profile("我家宝宝30天了，吃奶粉").pregnant


# ---- medicines: a continuation, a new dose, what the doctor gave, eye drops, a dose count, before the pregnancy ---------------
@pytest.mark.parametrize("messages, drug", [
    (("我在吃华法林", "还有地高辛，早上半片"), "地高辛"),
    (("甲泼尼龙目前减到每天8毫克了",), "甲泼尼龙"),
    (("孕30周，血压高，大夫给了硝苯地平",), "硝苯地平"),
    (("眼压高，滴着拉坦前列素",), "拉坦前列素"),
    (("眼压高，点噻吗洛尔",), "噻吗洛尔"),
    (("痛风，一天吃两回秋水仙碱",), "秋水仙碱"),
    (("孕前有甲亢吃丙硫氧嘧啶，现在怀孕10周还在吃",), "丙硫氧嘧啶"),
    (("要是以后怀孕了，吃的拉莫三嗪要不要停？目前还没怀",), "拉莫三嗪"),
])
def test_medicine_taken(messages, drug):
    assert drug in profile(*messages).medications


def test_a_continuation_undone_in_its_next_clause_is_not_taken():
    assert "地高辛" not in profile("我在吃华法林", "还有地高辛，不过上个月停了").medications


def test_asking_a_bit_about_a_medicine_is_not_taking_it():
    assert profile("想问点退烧药的事", "45岁，男").medications == []


# ---- stops -----------------------------------------------------------------------------------------------------------------
def test_tapered_to_a_stop_ends_the_remembered_medicine():
    assert profile("我在吃甲泼尼龙", "已经减量到停了").medications == []


# ---- colloquial conditions -----------------------------------------------------------------------------------------------------
def test_a_stroke_told_as_had_once_is_asserted():
    assert "脑卒中" in profile("有房颤，前几年还中过风").conditions


def test_pre_uraemia_is_kidney_disease_not_stage_five():
    got = profile("医生说我是尿毒症前期")
    assert "慢性肾脏病" in got.conditions and got.ckd_stage is None


def test_polycystic_ovaries_treated_while_planning_a_pregnancy():
    assert "多囊卵巢综合征" in profile("备孕半年了，在吃二甲双胍治多囊").conditions


def test_cantonese_son_names_the_childs_sex():
    got = profile("我阿仔6歲，對頭孢過敏")
    assert got.sex == "male" and got.age == 6


# ---- an eGFR said as before, then updated ------------------------------------------------------------------------------------
def test_egfr_said_as_before_then_updated():
    assert profile("GFR以前是55", "上个月复查降到了41").egfr == 41


# ---- a baby remembered: its feeding is not the writer's breastfeeding -----------------------------------------------------------
def test_baby_feeding_in_a_later_message_is_not_lactation():
    got = profile("宝宝10个月，8公斤", "拉肚子两天，一直吃母乳")
    assert got.lactating is None and got.age == 0


# ---- a switch whose target is corrected at once ------------------------------------------------------------------------------
def test_switch_target_corrected_keeps_only_the_corrected_drug():
    got = profile("以前吃的缬沙坦，后来换成了厄贝沙坦，说错了，是氯沙坦")
    assert got.medications == ["氯沙坦"]


# ---- allergies: a drug cleared and taken is a medicine; an allergy that is a relative's ----------------------------------------
def test_drug_cleared_in_an_allergy_correction_and_taken_is_a_medicine():
    got = profile("我对阿司匹林过敏", "抱歉记错了，过敏的是青霉素，阿司匹林我每天吃没事")
    assert got.allergies == ["青霉素类"] and "阿司匹林" in got.medications


def test_drug_cleared_but_only_usable_is_no_medicine():
    got = profile("我吃过头孢起过疹子", "后来知道那次是湿疹，不是头孢过敏，我现在用头孢没问题")
    assert got.allergies == [] and got.medications == []


def test_allergy_said_to_be_a_relatives_is_taken_back():
    got = profile("我对尘螨过敏，还对磺胺过敏", "磺胺那个我记不清了，原来是我哥过敏，我自己没事")
    assert got.allergies == ["尘螨"]


# ---- a past use is no current medicine --------------------------------------------------------------------------------------
def test_a_drug_used_last_time_is_not_taken_now():
    got = profile("我有癫痫，吃丙戊酸钠，上回吃氯丙嗪发作过一次")
    assert got.medications == ["丙戊酸钠"]


# ---- a re-examination rules out the one condition remembered ---------------------------------------------------------------
def test_reexamination_rules_out_the_remembered_condition():
    assert profile("以前说我有痛风", "后来复查以后说不是，尿酸也正常").conditions == []


def test_reexamination_with_a_new_condition_named_keeps_it():
    assert "胆囊息肉" in profile("我有胆结石", "复查说不是，是胆囊息肉").conditions


# ---- a condition dated to last week is the writer's ----------------------------------------------------------------------------
def test_a_bleed_last_week_is_asserted():
    assert "消化道出血" in profile("上星期胃出血住了几天院，现在吃泮托拉唑").conditions


# ---- names: a common spelling of gliclazide, the short name of degludec, a premix of degludec and aspart ------------------------
def test_gliclazide_spelling_and_degludec_names():
    assert profile("现在吃格列齐德").medications == ["格列齐特"]
    assert "德谷胰岛素" in profile("睡前打一针德谷").medications
    got = profile("我打诺和灵30R", "医生给我改成了诺和佳，原来那个不打了")
    assert got.medications == ["德谷门冬双胰岛素"]


# ---- knowledge: brands that carry two ingredients, a typo of an azole name, syncope -----------------------------------------
def test_combination_brands_name_the_combination():
    assert profile("帕金森，在吃息宁").medications == ["卡比多巴左旋多巴"]
    assert profile("有氣喘，用使肺泰").medications == ["沙美特罗替卡松吸入剂（Seretide）"]


def test_azole_typo_and_syncope():
    assert profile("医生开了阿立哌挫").medications == ["阿立哌唑"]
    assert "晕厥" in profile("我有晕厥，吃米多君").conditions


# ---- the nerve pain after shingles, told across clauses ----------------------------------------------------------------------
def test_pain_after_shingles_is_postherpetic_neuralgia():
    assert profile("前年得过带状疱疹，现在还是神经痛，吃加巴喷丁").conditions == ["带状疱疹后神经痛"]


def test_shingles_now_stays_shingles():
    assert profile("我得了带状疱疹，很疼").conditions == ["带状疱疹"]
