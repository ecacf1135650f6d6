"""Round 14 memory (extraction): a cue inside a condition's own name, half units of weight, a class stopped, stops
dated by when they began, hearsay then never taken, names continued after a full stop, long-interval doses, and 以后
after a finished event. Sentences written for these tests."""

import pytest

from .probes import profile


# ---- 过敏 inside a condition's name (过敏性鼻炎 / 过敏性紫癜) makes no allergy of the drug beside it --------------
@pytest.mark.parametrize("message, drug, condition", [
    ("孩子过敏性鼻炎喷的内舒拿", "糠酸莫米松", "过敏性鼻炎"),
    ("我有过敏性鼻炎，每天吃西替利嗪", "西替利嗪", "过敏性鼻炎"),
])
def test_allergic_condition_name_is_no_allergy(message, drug, condition):
    found = profile(message)
    assert found.allergies == []
    assert condition in found.conditions


def test_allergy_beside_an_allergic_condition_still_counts():
    found = profile("我有过敏性鼻炎，对头孢过敏")
    assert "头孢菌素类" in found.allergies and "过敏性鼻炎" in found.conditions
    assert "头孢菌素类" in profile("以前得过过敏性紫癜，打头孢会过敏性休克").allergies


# ---- N公斤半 / N斤半 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("message, weight", [
    ("孩子一岁半，十二公斤半", 12.5),
    ("我儿子11公斤半，发烧了", 11.5),
    ("小孙女二十一斤半", 10.75),   # stored to one decimal
    ("体重70公斤半年前称的", 70.0),   # 半年 is a time, not half a kilogram
])
def test_half_unit_weight(message, weight):
    assert profile(message).weight_kg == pytest.approx(weight, abs=0.06)


# ---- a class stopped ends the one remembered member ------------------------------------------------------------
def test_class_stop_ends_the_remembered_member():
    found = profile("我吃辛伐他汀和缬沙坦", "他汀吃了以后转氨酶高，医生叫停了")
    assert "辛伐他汀" not in found.medications and "缬沙坦" in found.medications


def test_class_stop_with_two_members_remembered_ends_neither():
    found = profile("我吃辛伐他汀，我妈说她吃阿托伐他汀", "他汀吃了以后转氨酶高，医生叫停了")
    assert "辛伐他汀" in found.medications or found.medications == []   # unclear which: nothing more ends
    found = profile("我吃辛伐他汀和瑞舒伐他汀", "他汀停了")
    assert {"辛伐他汀", "瑞舒伐他汀"} <= set(found.medications)


# ---- an unnamed stop dated by when it began ------------------------------------------------------------------
@pytest.mark.parametrize("stop", ["从前天起不吃了，烧已经退了", "今天开始不吃了", "这两天不吃了"])
def test_unnamed_stop_with_its_start(stop):
    assert profile("前阵子一直在吃对乙酰氨基酚", stop).medications == []


# ---- a drug heard of, then never taken ---------------------------------------------------------------------------
def test_hearsay_then_never_taken():
    found = profile("据说吃鱼油能降血脂，我从来没吃过，平时只吃二甲双胍")
    assert found.medications == ["二甲双胍"]
    # without the hearsay, a drug taken then a 没吃过 of something else keeps the drug
    assert "二甲双胍" in profile("我吃二甲双胍，胰岛素没打过").medications


# ---- 还有X。 continues the list across a full stop ---------------------------------------------------------------
def test_continuation_with_full_stop():
    found = profile("我在吃缬沙坦。", "还有二甲双胍。", "缬沙坦上个月换成了氨氯地平。")
    assert set(found.medications) == {"二甲双胍", "氨氯地平"}


# ---- a long-interval dose is taken ----------------------------------------------------------------------------
@pytest.mark.parametrize("message, drug", [
    ("骨质疏松，每半年打一针普罗力", "地舒单抗"),
    ("现在一年输一次唑来膦酸", "唑来膦酸"),
    ("克罗恩病，每两个月打一次英夫利西单抗", "英夫利西单抗"),
])
def test_long_interval_dose(message, drug):
    assert drug in profile(message).medications


# ---- 以后 after a finished event tells when, not a plan ------------------------------------------------------
def test_after_a_finished_event_is_past():
    found = profile("我吃达比加群", "房颤做完消融以后达比加群停了，现在吃利伐沙班")
    assert "心房颤动" in found.conditions
    assert found.medications == ["利伐沙班"]


@pytest.mark.parametrize("message", ["以后想吃阿司匹林预防", "以后要是房颤了能吃华法林吗"])
def test_a_plan_with_later_stays_a_plan(message):
    found = profile(message)
    assert found.medications == [] and found.conditions == []


# ---- a dose word inside a list (A和小剂量B) keeps the list's verb ------------------------------------------------
def test_dose_word_inside_a_list():
    assert {"二甲双胍", "阿司匹林"} <= set(profile("每天吃二甲双胍和小剂量阿司匹林").medications)


# ---- eye drops are 滴 -----------------------------------------------------------------------------------------
def test_eye_drops_are_taken():
    assert "拉坦前列素" in profile("青光眼，每晚滴拉坦前列素").medications
    assert profile("我打点滴").medications == []


# ---- dialysis with its verb split by the count (透三次析) --------------------------------------------------------
def test_split_dialysis_verb():
    assert "血液透析" in profile("我每周透两次析，三年了").conditions


# ---- a corrected age said with when it holds from ----------------------------------------------------------------
@pytest.mark.parametrize("fix, age", [("记错了，过完生日就是69了", 69), ("说错了，今年已经是70", 70)])
def test_age_correction_with_birthday(fix, age):
    assert profile("我68岁。", fix).age == age


# ---- names listed after a clause about the medicines taken --------------------------------------------------------
def test_medicines_listed_after_their_clause():
    found = profile("七十多了，吃的药一大把，主要是拜新同、二甲双胍、阿司匹林。")
    assert {"硝苯地平", "二甲双胍", "阿司匹林"} <= set(found.medications)
    assert profile("吃的药有点多，有没有氨氯地平不记得").medications == []
    assert profile("我妈吃的药一大把，主要是氨氯地平").medications == []


# ---- conditions.csv synonyms on existing rows: 类风关, 桥本 / 桥本甲炎 -------------------------------------------------
@pytest.mark.parametrize("message, condition", [
    ("我有类风关，吃来氟米特", "类风湿关节炎"),
    ("甲减，医生说是桥本，吃优甲乐", "桥本甲状腺炎"),
    ("桥本甲炎好几年了", "桥本甲状腺炎"),
])
def test_condition_synonyms(message, condition):
    assert condition in profile(message).conditions


# ---- a condition told with how recently it came is the writer's -------------------------------------------------
@pytest.mark.parametrize("message, condition", [
    ("这两天痛风又犯了，脚趾头肿", "痛风"),
    ("前几天乳腺炎，现在还在喂奶", "乳腺炎"),
])
def test_recent_condition_is_asserted(message, condition):
    assert condition in profile(message).conditions


# ---- what a group is prone to is no condition of the writer -------------------------------------------------------
@pytest.mark.parametrize("message", ["医生讲老年人容易低血糖，换了药", "大夫说老人家容易低血糖，让我少吃点药"])
def test_group_prone_is_no_condition(message):
    assert profile(message).conditions == []


# ---- a bare name no row knows, the tail of a named condition, is that condition --------------------------------------
def test_bare_tail_of_a_named_condition():
    found = profile("我有肾结石，大夫讲有结石就不能用这个")
    assert found.conditions == ["肾结石"]


# ---- a drug taken against rejection says a transplant --------------------------------------------------------------
def test_anti_rejection_purpose_is_a_transplant():
    assert "器官移植术后" in profile("一直吃他克莫司防排斥").conditions
    assert profile("他克莫司抗排异的效果怎么样").conditions == []
