"""Round 13 label sweep, cardiovascular (ATC C) and blood (ATC B) rows W0001-W0257, on sentences written for these
tests (no audit case was read): a draft that recommends the drug to the population the label names blocks on the
row, the same draft for a patient outside it passes, and a draft that warns against the drug passes."""

import pytest

from .probes import audit, lexicon, blocked_ids as rule_ids


# (draft, profile that the label restricts, the W row expected, a profile outside the restriction)
BLOCKS = [
    ("房颤心室率快，可以静推西地兰0.4mg。", dict(conditions=["预激综合征"], age=40), "W0001", dict(age=40)),
    ("降脂可以吃普罗布考片，每次0.5g，每日2次。", dict(conditions=["长QT综合征"], age=60), "W0005", dict(age=60)),
    ("降脂可以吃普罗布考片，每次0.5g，每日2次。", dict(age=31, pregnant=True), "W0010", dict(age=31)),
    ("防血栓可以服用吲哚布芬片，每次100mg，每日2次。", dict(age=30, lactating=True), "W0032", dict(age=30)),
    ("间歇性跛行可以吃贝前列素钠片，每次40μg，每日3次。", dict(conditions=["血友病"], age=50), "W0038", dict(age=50)),
    ("可以继续用醋硝香豆素抗凝，按INR调整剂量。", dict(conditions=["严重肝功能不全"], age=66), "W0045", dict(age=66)),
    ("心绞痛可以加用尼可地尔，每次5mg，每日3次。", dict(conditions=["心源性休克"], age=68), "W0046", dict(age=68)),
    ("降脂可以用阿昔莫司胶囊0.25g，每日3次。", dict(conditions=["胃溃疡"], age=52), "W0050", dict(age=52)),
    ("肺动脉高压可以用安立生坦5mg，每日1次。", dict(conditions=["特发性肺纤维化"], age=63), "W0071", dict(age=63)),
    ("改善心肌代谢可以吃曲美他嗪，每次20mg，每日3次。", dict(conditions=["不安腿综合征"], age=72), "W0096", dict(age=72)),
    ("心衰心率偏快可以加伊伐布雷定5mg，每日2次。", dict(age=34, lactating=True), "W0106", dict(age=34)),
    ("心衰可以换成诺欣妥，每次50mg，每日2次。", dict(conditions=["血管神经性水肿"], age=64), "W0119", dict(age=64)),
    ("降脂可以每两周打一针瑞百安140mg。", dict(age=33, pregnant=True, trimester=2), "W0123", dict(age=33)),
    ("心衰可以加用唯可同，2.5mg每日1次起始。", dict(age=32, pregnant=True), "W0128", dict(age=52)),
    ("房颤复律可以口服氟卡尼200mg。", dict(conditions=["心衰"], age=65), "W0142", dict(age=45)),
    ("心律失常可以用丙吡胺100mg，每日3次。", dict(age=78), "W0152", dict(age=55)),
    ("糖尿病视网膜病变可以吃导升明，每次500mg，每日3次。", dict(age=28, lactating=True), "W0163", dict(age=28)),
    ("脑梗后可以静滴奥扎格雷钠80mg，每日2次。", dict(conditions=["脑出血"], age=70), "W0165", dict(age=70)),
    ("下肢动脉硬化闭塞症可以吃安步乐克100mg，每日3次。", dict(age=33, pregnant=True), "W0168", dict(age=63)),
    ("术中止血可以静注巴曲亭1单位。", dict(conditions=["深静脉血栓"], age=60), "W0173", dict(age=60)),
    ("扩容可以输万汶500ml。", dict(conditions=["脓毒症"], age=60), "W0176", dict(age=60)),
    ("降压可以用乐卡地平10mg，每日1次。", dict(age=30, lactating=True), "W0208", dict(age=50)),
    ("血压高可以用贝尼地平4mg，每日1次。", dict(age=30, pregnant=True), "W0201", dict(age=50)),
    ("水肿可以用托拉塞米20mg每日1次利尿。", dict(conditions=["肝性脑病"], age=60), "W0223", dict(age=60)),
    ("心率快可以静脉推注艾司洛尔控制心室率。", dict(conditions=["心源性休克"], age=60), "W0194", dict(age=60)),
    ("PCI术中可以用依替巴肽静脉推注后持续输注。", dict(conditions=["脑出血"], age=70), "W0139", dict(age=70)),
    ("下肢循环差可以吃巡能泰400mg，每日3次。", dict(conditions=["脑出血"], age=70), "W0246", dict(age=70)),
    ("腿肿可以静滴七叶皂苷钠消肿。", dict(conditions=["肾功能不全"], age=50), "W0251", dict(age=50)),
    ("血压低头晕可以服用米多君2.5mg，每日3次。", dict(conditions=["尿潴留"], age=75), "W0021", dict(age=75)),
    ("高血压可以用纳多洛尔40mg，每日1次。", dict(conditions=["支气管哮喘"], age=40), "W0268", dict(age=40)),
    ("高血压可以用阿折地平8mg，每日1次。", dict(age=30, pregnant=True), "W0271", dict(age=50)),
]


@pytest.mark.parametrize("draft, inside, row, outside", BLOCKS, ids=[b[2] for b in BLOCKS])
def test_the_label_restriction_blocks_inside_and_passes_outside(draft, inside, row, outside):
    assert row in rule_ids(audit(draft, **inside))
    assert row not in rule_ids(audit(draft, **outside))


@pytest.mark.parametrize("draft, interactant_row", [
    ("伊伐布雷定5mg每日2次，平时多喝西柚汁也没关系。", "W0110"),
    ("雷诺嗪缓释片500mg每日2次，可以和利福平一起吃。", "W0113"),
    ("心衰可以加用维立西呱2.5mg每日1次，伟哥照常吃。", "W0131"),
    ("肺高压可以用优拓比，血脂高就同时吃诺衡。", "W0184"),
    ("可以口服尼莫地平30mg每日3次，继续吃苯巴比妥。", "W0214"),
    ("降脂吃普罗布考0.5g每日2次，同时吃红霉素。", "W0009"),
])
def test_interactions_the_label_forbids(draft, interactant_row):
    assert interactant_row in rule_ids(audit(draft, age=55))


@pytest.mark.parametrize("draft, profile", [
    ("你有胃溃疡，阿昔莫司不能用，降脂请改用他汀。", dict(conditions=["胃溃疡"], age=52)),
    ("孕期禁用安步乐克，下肢动脉病变请到产科和血管外科就诊。", dict(age=33, pregnant=True)),
    ("有脑出血时不能用奥扎格雷钠，请神经科评估。", dict(conditions=["脑出血"], age=70)),
])
def test_a_draft_that_warns_against_the_drug_passes(draft, profile):
    assert not audit(draft, **profile).blocked


def test_dose_limits_from_the_label():
    assert "W0033" in rule_ids(audit("可以服用吲哚布芬片，每次200mg，每日3次。", age=60))
    assert "W0033" not in rule_ids(audit("可以服用吲哚布芬片，每次100mg，每日2次。", age=60))
    assert "W0133" in rule_ids(audit("维立西呱可以加到每日20mg。", age=66))
    assert not audit("痔疮发作吃爱脉朗，每天2片。", age=30).blocked


@pytest.mark.parametrize("alias, target", [("唯可同", "维立西呱"), ("导升明", "羟苯磺酸钙"), ("安步乐克", "沙格雷酯"),
                                           ("巴曲亭", "蛇毒血凝酶"), ("万汶", "羟乙基淀粉"), ("巡能泰", "己酮可可碱"),
                                           ("思尔明", "尼麦角林"), ("阿度那", "卡络磺钠"), ("维脑路通", "曲克芦丁")])
def test_brand_and_folk_names_reach_the_ingredient(alias, target):
    found = lexicon().find_mentions(f"医生让我用{alias}")
    assert any(target in lexicon().ingredients(m.canonical) or m.canonical == target for m in found)


def test_chinese_fixed_dose_antihypertensive_products():
    # 复傲坦 = olmesartan + HCTZ: ARB rows in pregnancy; 开素达 = perindopril + amlodipine: ACEI angioedema row
    assert audit("降压可以吃复傲坦，每日1片。", age=30, pregnant=True).blocked
    assert not audit("降压可以吃复傲坦，每日1片。", age=50).blocked
    assert audit("血压高可以换开素达，每天一片。", conditions=["血管性水肿"], age=50).blocked


def test_renal_dose_bands_from_the_label():
    # bezafibrate: CrCl 40-60 at most 400 mg a day; disopyramide: CrCl 15-30 at most 100 mg every 12 hours
    assert "W0261" in rule_ids(audit("降脂吃苯扎贝特200mg，每日3次。", age=55, egfr=50))
    assert not audit("降脂吃苯扎贝特200mg，每日2次。", age=55, egfr=50).blocked
    assert not audit("降脂吃苯扎贝特200mg，每日3次。", age=55, egfr=90).blocked
    assert rule_ids(audit("心律失常可以用丙吡胺，每次150mg，每日3次。", age=55, egfr=25)) & {"W0258", "W0259"}
    assert not audit("心律失常可以用丙吡胺，每次100mg，每日2次。", age=55, egfr=25).blocked


def test_olmesartan_renal_cap_and_hepatic_rows():
    assert "W0282" in rule_ids(audit("降压用傲坦40mg，每日1次。", age=60, egfr=45))
    assert not audit("降压用傲坦20mg，每日1次。", age=60, egfr=45).blocked
    assert not audit("降压用傲坦40mg，每日1次。", age=60, egfr=75).blocked
    assert "W0287" in rule_ids(audit("心梗后心衰可以加依普利酮25mg，每日1次。", conditions=["重度肝功能不全"], age=66))
    # an unspecified liver problem is not the severe impairment the label names
    assert "W0287" not in rule_ids(audit("心梗后心衰可以加依普利酮25mg，每日1次。", conditions=["脂肪肝"], age=66))


def test_lmwh_after_intracerebral_haemorrhage_is_a_caution_not_a_block():
    # the label's "recent haemorrhagic stroke" cannot be told from an old one, and VTE prophylaxis after an ICH is
    # guideline care: W0186 shows on the card without blocking
    result = audit("脑出血后卧床，可以用克赛4000IU皮下注射每日1次预防血栓。", conditions=["脑出血"], age=70)
    assert "W0186" not in rule_ids(result)
    assert "W0186" in {f.rule_id for f in result.findings}
    assert "W0288" in rule_ids(audit("下肢动脉闭塞可以吃培达100mg，每日2次。", age=30, lactating=True))


def test_severity_the_label_names_is_kept():
    # the dihydropyridine labels name severe aortic stenosis (重度主动脉瓣狭窄, a child of 主动脉瓣狭窄); an
    # unspecified aortic stenosis still meets it, as the auditor fails closed on a broader condition
    assert "W0218" in rule_ids(audit("降压可以用尼群地平10mg，每日2次。", conditions=["严重主动脉瓣狭窄"], age=70))
    assert "W0218" in rule_ids(audit("降压可以用尼群地平10mg，每日2次。", conditions=["主动脉瓣狭窄"], age=70))
    assert "W0218" not in rule_ids(audit("降压可以用尼群地平10mg，每日2次。", conditions=["二尖瓣狭窄"], age=70))
    # niacin's contraindications are those of lipid doses; the vitamin-dose insert says 慎用 (caution, no block)
    assert not audit("可以补充维生素B3，每天20mg。", conditions=["胃溃疡"], age=45).blocked


def test_paediatric_mg_per_kg_limits_from_bnfc():
    assert "W0297" in rule_ids(audit("孩子高血压可以吃氨氯地平10mg，每日1次。", age=8, weight_kg=20))
    assert not audit("孩子高血压可以吃氨氯地平5mg，每日1次。", age=8, weight_kg=20).blocked
    assert "W0301" in rule_ids(audit("孩子可以吃普萘洛尔20mg，每日3次。", age=6, weight_kg=10))
    assert not audit("孩子可以吃普萘洛尔10mg，每日3次。", age=6, weight_kg=20).blocked
    assert "W0304" in rule_ids(audit("鼻出血可以口服氨甲环酸1g。", age=10, weight_kg=30))
    assert not audit("鼻出血可以口服氨甲环酸0.5g，每日3次。", age=10, weight_kg=30).blocked


def test_arni_with_aliskiren_is_not_recommended():
    assert "W0295" in rule_ids(audit("心衰可以用诺欣妥，降压药阿利吉仑也继续吃。", age=60))


@pytest.mark.parametrize("usual", ["美西律200mg每8小时一次。", "决奈达隆400mg每日2次。", "艾多沙班60mg每日1次。",
                                   "吉非罗齐600mg每日2次。", "多沙唑嗪控释片4mg每晚一次。", "瑞百安每月420mg皮下注射。",
                                   "蛛网膜下腔出血后口服尼莫地平60mg每4小时一次。", "可乐定贴片2.5mg每周一贴。"])
def test_label_maxima_leave_usual_doses_alone(usual):
    assert not audit(usual, age=60).blocked


def test_label_maxima_block_an_overdose():
    assert rule_ids(audit("血压控制不好，哌唑嗪可以加到每次10mg，每日3次。", age=60)) & {"W0336"}
    assert rule_ids(audit("赖诺普利可以加到每日100mg。", age=60)) & {"W0305"}
