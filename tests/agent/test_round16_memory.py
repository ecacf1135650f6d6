"""Round 16 memory (extraction): the writer named as the child's grandparent, an eGFR figure told in the clause after
its name, a child named as the one a medicine is bought for, formula feeding, a condition known since before a
pregnancy, an operation finished (…以后), a later 她 about a child named before, a sibling's ordinal before an age,
确诊就是X, an occupation clause opening on 是, a newborn's clause, typo and brand names. Sentences written for these
tests."""

import pytest

from .probes import profile


# ---- the writer named by kin of the child: a grandparent's sex -----------------------------------------------------
@pytest.mark.parametrize("messages, sex", [
    (("我是宝宝外婆，今年66", "我自己有糖尿病，在吃阿卡波糖"), "female"),
    (("我是孩子的姥爷，70岁了，有前列腺增生",), "male"),
    (("我是他爷爷，75岁", "我血压高，吃氨氯地平"), "male"),
])
def test_grandparent_names_the_writers_sex(messages, sex):
    assert profile(*messages).sex == sex


def test_grandparent_asking_for_the_child_gives_no_sex():
    # the writer named only as the child's grandmother, the facts the child's: no sex for the patient
    got = profile("我是她奶奶，孩子4岁，有哮喘")
    assert got.sex is None and got.age == 4 and "哮喘" in got.conditions


# ---- eGFR: the figure in the clause after the name, after 医生说是; a figure of 60+ keeps 肾功能不全 ---------------------
@pytest.mark.parametrize("message, egfr", [
    ("化验单上eGFR，42", 42),
    ("我的肾小球滤过率医生说是52", 52),
    ("先说的是肌酐，不对，是GFR，33", 33),
])
def test_egfr_figure_read(message, egfr):
    assert profile(message).egfr == egfr


def test_egfr_sixty_keeps_renal_insufficiency_low_figure_replaces_it():
    high = profile("肾功能不全，滤过率医生说是65")
    assert high.egfr == 65 and "肾功能不全" in high.conditions
    low = profile("肾功能不全，滤过率是35")
    assert low.egfr == 35 and "肾功能不全" not in low.conditions


def test_egfr_name_with_no_figure_after_reads_none():
    assert profile("eGFR，肌酐都还正常，今年60了").egfr is None


# ---- a medicine bought for the child: the child is the patient --------------------------------------------------------
def test_bought_for_the_child_makes_the_child_the_patient():
    got = profile("儿子7岁，对头孢过敏，我自己对磺胺过敏，想给孩子买点退烧药")
    assert got.age == 7 and got.sex == "male" and got.allergies == ["头孢菌素类"]   # not the writer's 磺胺


def test_writer_asking_for_herself_while_buying_for_the_child_stays_the_patient():
    got = profile("我有哮喘，给孩子买药的时候想问下我能吃布洛芬吗")
    assert "哮喘" in got.conditions


# ---- formula feeding ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("message", [
    "生完两个月了，没有喂母乳",
    "我剖腹产后一直喂奶粉",
    "产后五周，人工喂养",
])
def test_formula_only_is_not_lactating(message):
    assert profile(message).lactating is False


def test_mixed_feeding_is_still_lactating():
    assert profile("宝宝3个月，母乳加奶粉混着喂").lactating is True


def test_formula_fed_baby_stays_the_patient_but_weaning_is_the_mothers_news():
    baby = profile("宝宝两个月大，喝奶粉的，没母乳，这两天拉肚子")
    assert baby.age == 0 and baby.lactating is None
    assert profile("孩子一岁了，上个月已经断奶").lactating is False


# ---- 孕前就有: a condition since before the pregnancy, not a plan -----------------------------------------------------
@pytest.mark.parametrize("message, condition", [
    ("现在孕18周，孕前就有甲亢", "甲状腺功能亢进"),
    ("怀孕前已经确诊癫痫，现在怀孕12周", "癫痫"),
])
def test_condition_since_before_pregnancy(message, condition):
    assert condition in profile(message).conditions


def test_pre_pregnancy_check_is_still_a_plan():
    assert profile("孕前要不要查一下有没有贫血").conditions == []


# ---- X以后 after a finished operation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("message, condition", [
    ("去年换了机械瓣以后一直吃华法林", "机械瓣膜置换术后"),
    ("膝关节置换以后在打低分子肝素", "膝关节置换术后"),
])
def test_after_an_operation_is_not_a_plan(message, condition):
    assert condition in profile(message).conditions


def test_if_after_an_operation_stays_hypothetical():
    assert profile("如果做完搭桥手术以后还要吃阿司匹林吗").medications == []


# ---- a later 她/他 about a child named before; a sibling's ordinal before an age ----------------------------------------
def test_later_pronoun_reaches_the_child_named_before():
    got = profile("儿子有过敏性鼻炎", "他现在用内舒拿，还有氯雷他定，今年8岁")
    assert got.age == 8 and {"氯雷他定"} <= set(got.medications) and len(got.medications) == 2


def test_later_pronoun_after_the_writers_own_facts_is_not_the_patient():
    got = profile("我有高血压，我女儿有癫痫", "她在吃左乙拉西坦")
    assert "左乙拉西坦" not in got.medications


@pytest.mark.parametrize("message, age", [("老二5岁，18公斤", 5), ("老三两岁", 2), ("我今年四十二岁", 42)])
def test_age_after_a_siblings_ordinal(message, age):
    assert profile(message).age == age


# ---- 确诊就是X / 只是单纯的X ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("message, condition", [
    ("查了一圈，确诊就是普通的胃溃疡", "胃溃疡"),
    ("医生说只是单纯的高血压，没有别的", "高血压"),
])
def test_diagnosis_told_with_jiushi(message, condition):
    assert condition in profile(message).conditions


# ---- occupation: a clause opening on 是; a ward before 护士/医生 -----------------------------------------------------------
def test_occupation_clause_opening_on_shi():
    assert profile("我42，男的，是焊工").occupation == "焊工"


@pytest.mark.parametrize("message", ["我是ICU护士，经常倒班", "我是手术室护士"])
def test_ward_before_nurse_is_dropped(message):
    assert profile(message).occupation == "护士"


def test_relatives_occupation_is_not_the_writers():
    assert profile("我爱人是护士，我有糖尿病").occupation is None


# ---- a newborn's clause ----------------------------------------------------------------------------------------------------
def test_newborn_opening_is_the_babys():
    got = profile("出生8天，3.4公斤，男孩，皮肤有点黄疸")
    assert got.age == 0 and got.sex == "male" and "新生儿高胆红素血症" in got.conditions


# ---- typo and brand names ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("message, drug", [
    ("甲亢在吃甲筑咪唑", "甲巯咪唑"),
    ("哺乳期避孕吃的思再乐", "去氧孕烯"),
])
def test_typo_and_brand_aliases(message, drug):
    assert drug in profile(message).medications


def test_asthma_typo():
    assert "哮喘" in profile("孩子有哮踹，用的布地奈德").conditions


# ---- a drug that provokes asthma is an allergy (NSAID-exacerbated respiratory disease); a food that sets off gout is not --
@pytest.mark.parametrize("message, drug", [
    ("有哮喘好多年，吃布洛芬会犯", "布洛芬"),
    ("我一用阿司匹林就犯哮喘", "阿司匹林"),
    ("吃双氯芬酸诱发过哮喘", "双氯芬酸"),
])
def test_drug_provoked_asthma_is_an_allergy(message, drug):
    got = profile(message)
    assert drug in got.allergies and drug not in got.medications


@pytest.mark.parametrize("message", ["痛风，吃虾就犯", "偏头痛，喝红酒就发作"])
def test_food_that_sets_off_a_condition_is_no_allergy(message):
    assert profile(message).allergies == []


# ---- a correction after a reaction (吃A起过皮疹，哦不对，是B); a condition that comes back every season ---------------------
def test_allergen_corrected_after_the_reaction():
    assert profile("我吃头孢起过风团，不对，是红霉素").allergies == ["红霉素"]


def test_second_allergen_after_a_reaction_is_kept():
    assert set(profile("吃阿莫西林起过皮疹，还有阿奇霉素").allergies) == {"阿莫西林", "阿奇霉素"}


@pytest.mark.parametrize("message, condition", [
    ("对尘螨过敏，一到换季就犯哮喘", "哮喘"),
    ("对花粉过敏，每年春天都犯鼻炎", "过敏性鼻炎"),
])
def test_seasonal_condition_is_the_writers(message, condition):
    assert condition in profile(message).conditions


def test_seasonal_question_is_no_condition():
    assert profile("每年冬天都犯支气管炎吗").conditions == []


def test_artificial_tears_is_a_medicine():
    # 人工泪液: ATC S01XA20 (artificial tears and other indifferent preparations), one row for the whole category
    assert "人工泪液" in profile("干眼症，每天点人工泪液").medications


# ---- the ways a pregnancy's length is written: 孕12+3周, spaces, 怀了快九个月, 预产期下个月 -----------------------------------------
@pytest.mark.parametrize("message, trimester", [
    ("孕12+3周，最近感冒了", 1),
    ("现在孕 28 周", 3),
    ("怀了快九个月，脚肿", 3),
    ("孕 20+5 周，查出贫血", 2),
])
def test_pregnancy_length_forms(message, trimester):
    got = profile(message)
    assert got.pregnant is True and got.trimester == trimester


def test_due_next_month_is_pregnant():
    assert profile("预产期是下个月，能吃感冒药吗").pregnant is True


# ---- a statin said by its stem (阿托伐, 瑞舒伐), a brand family (诺和灵), a short Chinese-medicine name (通心络); 今年整60 --------
@pytest.mark.parametrize("message, drug", [
    ("血脂高，在吃阿托伐，一天一片", "阿托伐他汀"),
    ("瑞舒伐吃了两年", "瑞舒伐他汀"),
    ("我在吃辛伐，晚上一片", "辛伐他汀"),
    ("打诺和灵，一天两次", "人胰岛素"),
    ("冠心病吃通心络", "通心络胶囊"),
])
def test_shortened_and_brand_names(message, drug):
    assert drug in profile(message).medications


def test_full_statin_name_is_not_cut():
    assert profile("我在吃阿托伐他汀钙片").medications == ["阿托伐他汀"]


@pytest.mark.parametrize("message, age", [("今年整60", 60), ("年纪正好65，有高血压", 65)])
def test_age_told_as_exactly(message, age):
    assert profile(message).age == age
