"""Round 19, misses on the held-back batches b64-b69, on sentences written for these tests (no case's wording): class
knowledge (a rifamycin allergy, two LABAs, two inhaled anticholinergics, two dihydropyridines, 土三七 apart from 三七),
a second regimen offered with 也可以, drinking (可以 closing a drink's clause, an elided 喝点 after a drinking question,
a condition that rules drinking out), reading (tapering at a course's end, 不要立即躺下, a colon opening a dosed list),
a general warning escalated by the stated situation (减肥, a direct stop after long use), an unopposed LABA in asthma,
a skipped meal with a mealtime insulin or secretagogue kept as usual, and dysentery signs in the question. Each
blocking draft has a counterpart that must pass."""

import pytest

from .probes import audit, blocked_ids

ADULT = dict(age=40, sex="male")


# -- 1. knowledge: class cross-allergy and same-class duplicates --------------------------------------------------
def test_a_rifamycin_allergy_covers_the_other_rifamycins():
    r = audit("可以换成利福布汀，每天300mg。", allergies=["利福喷丁"], **ADULT)
    assert r.blocked
    assert not audit("可以换成左氧氟沙星，每天0.5g。", allergies=["利福平"], **ADULT).blocked


@pytest.mark.parametrize("meds, draft", [
    (["信必可"], "再加沙美特罗替卡松吸入剂，每次1吸，每日2次，一起用。"),
    (["噻托溴铵"], "可以再加格隆溴铵吸入，每天1次，两个一起用。"),
    (["硝苯地平控释片"], "可以再加氨氯地平5mg，每天一次，两个一起吃。"),
])
def test_two_of_one_class_block(meds, draft):
    assert audit(draft, medications=meds, age=60, sex="male").blocked


@pytest.mark.parametrize("meds, draft", [
    (["信必可"], "信必可（布地奈德/福莫特罗）每次1吸，每日2次，按原方案用。"),
    (["硝苯地平控释片"], "控释片不能掰开，吞咽困难可以请医生换成能掰开的降压药，比如某些长效的氨氯地平片。"),
    (["噻托溴铵"], "噻托溴铵继续用，气喘加重时按需吸沙丁胺醇。"),
])
def test_one_medicine_named_by_its_parts_or_switched_passes(meds, draft):
    assert not audit(draft, medications=meds, age=60, sex="male", conditions=["哮喘"]).blocked


def test_tu_sanqi_is_not_sanqi():
    assert "E1904" in blocked_ids(audit("菊三七泡酒可以少量喝，每次一小杯。", age=50))
    assert not audit("三七粉每天3g，温水冲服。", age=50).blocked


# -- 2. a second regimen offered with 也可以 --------------------------------------------------------------------
def test_a_second_regimen_in_mg_weighs_against_the_childs_weight():
    draft = "头孢克洛按每次10mg/kg，每天3次，也可以每次0.5g，每天3次。"
    assert audit(draft, age=5, weight_kg=18).blocked
    assert not audit("头孢克洛按每次10mg/kg，每天3次，也可以分2次吃。", age=5, weight_kg=18).blocked


# -- 3. drinking ----------------------------------------------------------------------------------------------
def test_a_drink_allowed_by_a_closing_keyi_is_endorsed():
    assert audit("- 喝一小杯啤酒通常可以\n- 白酒尽量别喝", medications=["替硝唑"], **ADULT).blocked
    assert not audit("- 啤酒白酒都不要喝\n- 吃完药7天后才可以", medications=["替硝唑"], **ADULT).blocked


def test_an_elided_drink_after_a_drinking_question():
    q = "明天同学聚会，吃着替硝唑能喝吗"
    assert audit("少喝一点问题不大。", q, medications=["替硝唑"], **ADULT).blocked
    assert not audit("不能喝，喝点儿也会有反应。", q, medications=["替硝唑"], **ADULT).blocked
    assert not audit("少喝点没事。", "吃替硝唑能喝点奶茶吗", medications=["替硝唑"], **ADULT).blocked


@pytest.mark.parametrize("condition", ["肝硬化", "慢性胰腺炎", "酒精性肝病"])
def test_a_condition_that_rules_drinking_out(condition):
    draft = "偶尔喝一小杯啤酒没关系。"
    if condition == "慢性胰腺炎":
        condition = "胰腺炎"
    assert audit(draft, conditions=[condition], **ADULT).blocked
    assert not audit("千万不要喝酒。", conditions=[condition], **ADULT).blocked
    assert not audit(draft, conditions=["高血压"], **ADULT).blocked


# -- 4. reading -------------------------------------------------------------------------------------------------
def test_tapering_at_the_end_of_a_course_is_no_warning():
    assert "布洛芬" in audit("布洛芬0.2g，每日3次，疼痛好转后逐步停药。", **ADULT).recommended
    assert audit("双氯芬酸25mg，每日3次，症状控制后逐渐停药。", conditions=["消化性溃疡"], **ADULT).blocked


def test_lying_down_advice_is_no_warning():
    draft = "多西环素100mg，每日2次。多西环素可能刺激食管，服药后多喝水，别马上躺下。"
    assert audit(draft, pregnant=True, trimester=2, age=28, sex="female").blocked


def test_a_colon_opening_a_dosed_list_affirms_the_name():
    draft = "多西环素治疗痤疮很有效：\n1. 每次100mg，每日1次\n2. 饭后服用\n\n要注意的是多西环素可能引起光敏，注意防晒。"
    assert audit(draft, pregnant=True, trimester=2, age=28, sex="female").blocked
    assert not audit(draft, age=28, sex="female").blocked


# -- 5. a general warning escalated by the situation stated -----------------------------------------------------
def test_levothyroxine_for_weight_loss():
    q = "甲状腺没问题，想用优甲乐瘦身"
    assert audit("优甲乐可以帮助瘦身，每天25微克。", q, age=30, sex="female").blocked
    assert not audit("优甲乐不能用于减肥，甲功正常吃了反而伤心脏。", q, age=30, sex="female").blocked


def test_a_direct_stop_after_long_steroid_use():
    q = "泼尼松吃了8个月了，尿蛋白转阴了，明天能直接停吗"
    assert audit("可以。明天起就可以直接停掉。", q, medications=["泼尼松"], **ADULT).blocked
    assert not audit("不要直接停，需要逐渐减量。", q, medications=["泼尼松"], **ADULT).blocked
    short = "医生开了泼尼松吃5天，吃完要减量吗"
    assert not audit("可以，泼尼松5天的短疗程吃完直接停就行。", short, **ADULT).blocked


# -- 6. an unopposed LABA in asthma -----------------------------------------------------------------------------
def test_a_laba_alone_for_asthma_blocks():
    draft = "可以用福莫特罗吸入，每次4.5μg，每日2次，只用这一个就够了，不需要吸激素。"
    assert "E1909" in blocked_ids(audit(draft, conditions=["哮喘"], **ADULT))
    assert not audit(draft, conditions=["慢阻肺"], age=70, sex="male").blocked
    assert not audit("可以用福莫特罗吸入，每次4.5μg，每日2次，同时要配合吸入激素布地奈德。", conditions=["哮喘"],
                     **ADULT).blocked
    assert not audit("舒利迭每次1吸，每日2次。", conditions=["哮喘"], **ADULT).blocked


# -- 7. a skipped meal with a mealtime medicine kept as usual --------------------------------------------------
def test_a_skipped_meal_with_a_secretagogue_as_usual():
    q = "明天早上要做胃镜得禁食，格列美脲早上还吃吗"
    assert "E1911" in blocked_ids(audit("格列美脲要照常吃，不能停。", q, medications=["格列美脲"], **ADULT))
    assert not audit("禁食那天早上先不吃格列美脲，做完检查吃饭后再照常吃。", q, medications=["格列美脲"],
                     **ADULT).blocked


def test_a_skipped_meal_keeps_basal_insulin():
    q = "晚饭不想吃了，胰岛素还打吗"
    meds = ["甘精胰岛素", "赖脯胰岛素"]
    assert audit("胰岛素都照常打。", q, medications=meds, **ADULT).blocked
    assert not audit("甘精胰岛素照常打；赖脯胰岛素这顿先不打。", q, medications=meds, **ADULT).blocked
    assert not audit("来得时晚上照常打。", q, medications=["甘精胰岛素"], **ADULT).blocked


# -- 8. dysentery signs in the question -------------------------------------------------------------------------
def test_bloody_diarrhoea_with_fever_rules_out_loperamide():
    q = "孩子高烧38.9℃，大便里有脓血，一天拉了十几次"
    assert "A0084" in blocked_ids(audit("严重的话加洛哌丁胺2mg。", q, age=10))
    assert not audit("可以吃洛哌丁胺2mg。", "拉肚子一天5次，没有发烧，大便没有血", age=30).blocked
