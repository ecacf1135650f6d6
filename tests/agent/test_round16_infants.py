"""Round 16 infants (rows H0001-): neonates, infants and live vaccines, swept from labels, BNFC and ACIP / 国家免疫规划
without looking at any audit case, on sentences written for these tests: the drug for the population blocks, the same
drug outside it passes, a draft that warns against it passes. Also the two mechanisms the sweep needed: a row that says
(含外用) reaches a gel on the skin or gums, and an infant's age in days or weeks (出生20天 / 6周大) read from the
question when the profile says only age 0."""

import pytest

from medq.agent.rules.population import _local_too

from .probes import audit, blocked_ids as rule_ids


@pytest.mark.parametrize("draft, question, profile, rule", [
    ("早产宝宝肺炎可以用头孢曲松静滴。", "", {"age": 0, "conditions": ["早产儿"]}, "H0001"),
    ("宝宝尿路感染可以吃呋喃妥因。", "宝宝2个月大", {"age": 0}, "H0002"),
    ("宝宝尿路感染可以吃呋喃妥因。", "宝宝6周大", {"age": 0}, "H0002"),
    ("出牙疼可以给宝宝牙龈涂点利多卡因凝胶。", "", {"age": 1, "conditions": ["出牙"]}, "H0003"),
    ("长牙不舒服可以涂苯佐卡因凝胶。", "", {"age": 1, "conditions": ["在长牙"]}, "H0004"),
    ("可以用溴莫尼定滴眼液降眼压。", "", {"age": 1}, "H0005"),
    ("湿疹严重可以在尿布区涂丙酸氯倍他索乳膏。", "宝宝8个月", {"age": 0}, "H0006"),
    ("湿疹可以涂糠酸莫米松乳膏，一天一次。", "", {"age": 1}, "H0007"),
    ("可以用硼酸洗液给宝宝洗屁屁。", "", {"age": 0}, "H0009"),
    ("青霉素可以用苯甲醇做溶媒肌注，不那么疼。", "", {"age": 6}, "H0010"),
    ("可以接种鼻喷流感减毒活疫苗。", "", {"age": 3, "conditions": ["哮喘"]}, "H0011"),
    ("可以接种鼻喷流感减毒活疫苗。", "", {"age": 4, "conditions": ["喘息性支气管炎"]}, "H0012"),
    ("可以接种鼻喷流感减毒活疫苗。", "", {"age": 10, "conditions": ["脑脊液鼻漏"]}, "H0013"),
    ("可以接种鼻喷流感减毒活疫苗。", "", {"age": 8, "conditions": ["人工耳蜗"]}, "H0014"),
    ("去非洲前可以打黄热病疫苗。", "", {"age": 45, "conditions": ["胸腺瘤"]}, "H0015"),
    ("去非洲前可以打黄热病疫苗。", "", {"age": 45, "conditions": ["胸腺切除术后"]}, "H0015"),
    ("打完丙种球蛋白可以接着打风疹减毒活疫苗。", "", {"age": 20, "medications": ["静注人免疫球蛋白"]}, "H0017"),
    ("可以补种卡介苗。", "", {"age": 6}, "H0019"),
    ("可以口服轮状病毒疫苗。", "", {"age": 4}, "H0020"),
    ("宝宝感染可以用头孢曲松。", "", {"age": 0, "conditions": ["宝宝黄疸"]}, "B0023"),   # 婴儿黄疸 → its parent's row
    ("出国前可以口服伤寒Ty21a活疫苗。", "", {"age": 4}, "H0021"),
    ("前几天吃了速福达，现在可以接种鼻喷流感减毒活疫苗。", "", {"age": 8}, "H0022"),
    ("可以接种卡介苗。", "", {"age": 0, "conditions": ["HIV感染"]}, "B0338"),    # HIV under the class's 免疫缺陷
])
def test_blocked_for_the_population(draft, question, profile, rule):
    assert rule in rule_ids(audit(draft, question, **profile))


@pytest.mark.parametrize("draft, question, profile", [
    ("肺炎可以用头孢曲松静滴。", "", {"age": 3, "conditions": ["早产儿"]}),        # born early, now a child
    ("宝宝尿路感染可以吃呋喃妥因。", "宝宝5个月大", {"age": 0}),
    ("牙痛可以涂点利多卡因凝胶。", "", {"age": 30}),
    ("可以用溴莫尼定滴眼液降眼压。", "", {"age": 40}),
    ("湿疹可以涂糠酸莫米松乳膏，一天一次。", "", {"age": 6}),
    ("可以接种鼻喷流感减毒活疫苗。", "", {"age": 8}),
    ("可以接种鼻喷流感减毒活疫苗。", "", {"age": 8, "conditions": ["哮喘"]}),    # ACIP: 5 years and over a caution
    ("去非洲前可以打黄热病疫苗。", "", {"age": 45}),
    ("可以口服轮状病毒疫苗。", "", {"age": 1}),
    ("可以接种卡介苗。", "", {"age": 0}),
    ("出国前可以口服伤寒Ty21a活疫苗。", "", {"age": 30}),
    ("膀胱癌术后需要膀胱灌注卡介苗，每周一次。", "", {"age": 62}),   # BCG for bladder cancer, not a catch-up dose
])
def test_passes_outside_the_population(draft, question, profile):
    assert not rule_ids(audit(draft, question, **profile))


@pytest.mark.parametrize("draft, profile", [
    ("宝宝长牙疼不要涂利多卡因凝胶，可以让他咬冰过的牙胶。", {"age": 1, "conditions": ["出牙"]}),
    ("溴莫尼定滴眼液2岁以下禁用，孩子眼压的问题请看小儿眼科。", {"age": 1}),
    ("孩子3岁有哮喘，不建议接种鼻喷流感减毒活疫苗，可以打灭活流感疫苗。", {"age": 3, "conditions": ["哮喘"]}),
    ("胸腺瘤患者禁用黄热病疫苗，出行前请到国际旅行卫生保健中心评估。", {"age": 45, "conditions": ["胸腺瘤"]}),
    ("硼酸洗液婴儿禁用，尿布疹可以涂氧化锌软膏。", {"age": 0}),
])
def test_warning_drafts_pass(draft, profile):
    assert not rule_ids(audit(draft, **profile))


def test_local_too_marker_is_narrow():
    """(含外用) in a row's text lets a condition row reach the skin; a row without it stays systemic-only (a knee
    gel for a patient with 消化性溃疡 still passes)."""
    class Row:
        effect = ""
        management = "出牙疼痛不用（含外用）"
    assert _local_too(Row())
    Row.management = "外用避免大面积"
    assert not _local_too(Row())
    assert not rule_ids(audit("膝盖疼可以外用双氯芬酸二乙胺乳胶剂。", age=60, conditions=["消化性溃疡"]))


@pytest.mark.parametrize("question, neonatal", [
    ("宝宝出生20天", True), ("出生后十天的宝宝", True), ("宝宝6周大", False), ("八周的宝宝", False),
    ("宝宝发烧3天了", True),      # an illness's course is no age: age 0 stays the youngest
])
def test_infant_age_in_days_or_weeks(question, neonatal):
    ids = rule_ids(audit("宝宝尿路感染可以吃呋喃妥因。", question, age=0))
    assert ("B0209" in ids) == neonatal and bool(ids)


@pytest.mark.parametrize("text", ["孩子生长牙齿不齐", "哮喘控制得很好", "气管切开术后"])
def test_new_condition_names_stay_out_of_ordinary_words(text):
    from .probes import lexicon
    found = {m.canonical for m in lexicon().find_mentions(text, ("condition",))}
    assert not found & {"出牙", "喘息", "胸腺疾病", "人工耳蜗植入", "脑脊液漏"}
