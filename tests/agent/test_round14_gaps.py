"""Round 14 gap sweep (rows K0001-): drugs that had at most one row of their own after round 13, written from their
labels without looking at any audit case, on sentences written for these tests: the drug for the population blocks,
the same drug outside it passes, a draft that warns against it passes."""

import pytest

from medq.agent.knowledge import Lexicon

from .probes import audit, blocked_ids as rule_ids


def test_phosphate_binders_in_hypophosphataemia_only():
    draft = "透析后血磷的问题，可以随餐嚼服碳酸镧，每次500mg，一日3次。"
    assert "K0001" in rule_ids(audit(draft, conditions=["低磷血症"], age=60))
    assert "K0001" not in rule_ids(audit(draft, conditions=["终末期肾病"], age=60))
    assert "K0002" in rule_ids(audit(draft, pregnant=True, age=30))
    assert "K0003" in rule_ids(audit("司维拉姆每次800mg随餐服用。", "我有低磷血症", age=55))
    # a dietary target for a dialysis patient is no hypophosphataemia
    assert "K0003" in rule_ids(audit("司维拉姆每次800mg随餐服用。", conditions=["低血磷"], age=55))
    assert "K0003" not in rule_ids(audit("司维拉姆每次800mg随餐服用，注意低磷饮食，把血磷控制在1.78mmol/L以下。",
                                         conditions=["血液透析"], age=55))


def test_new_condition_synonyms_do_not_match_ordinary_phrases():
    lex = Lexicon.load()
    for phrase in ("低磷饮食很重要", "控制血磷低于1.78", "高磷血症"):
        assert not [m for m in lex.find_mentions(phrase) if m.canonical == "低磷血症"], phrase


def test_sodium_polystyrene_in_hypokalaemia_and_with_sorbitol():
    draft = "可以口服聚苯乙烯磺酸钠散降钾，每次15g，一日3次。"
    assert "K0004" in rule_ids(audit(draft, conditions=["低钾血症"], age=70))
    assert "K0004" not in rule_ids(audit(draft, conditions=["高钾血症"], age=70))
    assert "K0005" in rule_ids(audit("聚苯乙烯磺酸钠15g加山梨醇一起口服，帮助排便。", conditions=["高钾血症"], age=70))


@pytest.mark.parametrize("draft, rule, blocked", [
    ("阿比多尔一次0.2g，一日3次，连服5天。", "K0006", False),
    ("阿比多尔一次0.4g，一日3次。", "K0006", True),
    ("苯丙哌林片每次20mg，每天3次。", "K0007", False),
    ("苯丙哌林每次60mg，每天3次。", "K0007", True),
    ("氯哌斯汀一次20mg，一日3次。", "K0008", False),
    ("氯哌斯汀一次50mg，一日3次。", "K0008", True),
    ("硫糖铝片一次1g，一日4次，饭前嚼服。", "K0034", False),
    ("硫糖铝一次2g，一日4次。", "K0034", True),
    ("吗啉胍一次0.2g，一日3次。", "K0035", False),
    ("吗啉胍一次0.4g，一日3次。", "K0035", True),
    ("硫酸氨基葡萄糖每天一次1500mg。", "K0036", False),
    ("氨基葡萄糖每次500mg，一日3次。", "K0036", False),
    ("氨基葡萄糖每次1000mg，一日3次。", "K0036", True),
])
def test_label_doses(draft, rule, blocked):
    assert (rule in rule_ids(audit(draft, age=40))) is blocked


def test_dupilumab_with_live_vaccines():
    assert "K0009" in rule_ids(audit("在用度普利尤单抗的同时可以接种麻腮风减毒活疫苗。", age=8))
    assert "K0009" not in rule_ids(audit("度普利尤单抗每两周皮下注射一次。", age=30))


def test_azelastine_children_and_alcohol():
    draft = "过敏性鼻炎可以用氮卓斯汀鼻喷雾剂，每侧鼻孔一喷，一日2次。"
    assert "K0010" in rule_ids(audit(draft, age=4))
    assert "K0010" not in rule_ids(audit(draft, age=12))
    assert "K0011" in rule_ids(audit("用氮卓斯汀鼻喷剂期间少量喝酒没关系。", age=35))
    assert not audit("用氮卓斯汀鼻喷剂期间不要喝酒。", age=35).blocked


def test_nicotine_replacement_under_twelve():
    assert "K0012" in rule_ids(audit("可以贴尼古丁贴帮助戒烟。", age=10))
    assert "K0012" not in rule_ids(audit("可以贴尼古丁贴帮助戒烟。", age=45))


def test_glucosamine_pregnancy_lactation_adolescents():
    draft = "膝盖痛可以吃氨基葡萄糖，每次500mg，一日3次。"
    assert "K0013" in rule_ids(audit(draft, pregnant=True, age=32))
    assert "K0014" in rule_ids(audit(draft, lactating=True, age=32))
    assert "K0015" in rule_ids(audit(draft, age=15))
    assert not audit(draft, age=60).blocked
    assert "K0013" not in rule_ids(audit("怀孕期间不建议吃氨基葡萄糖，等分娩后再说。", pregnant=True, age=32))


@pytest.mark.parametrize("inducer, rule", [("利福平", "K0016"), ("卡马西平", "K0017"), ("苯妥英钠", "K0018")])
def test_artemether_with_strong_cyp3a4_inducers(inducer, rule):
    assert rule in rule_ids(audit(f"疟疾用复方蒿甲醚片，{inducer}照常服用。", age=40))
    assert rule not in rule_ids(audit("疟疾用复方蒿甲醚片，按疗程服完。", age=40))


def test_atovaquone_with_rifampicin():
    assert "K0020" in rule_ids(audit("阿托伐醌混悬液每日750mg两次，同时继续吃利福平。", age=40))


def test_simnotrelvir_with_inducers():
    assert "K0023" in rule_ids(audit("先诺特韦每次750mg每12小时一次，卡马西平继续吃。", age=50))
    assert "K0023" not in rule_ids(audit("先诺特韦每次750mg每12小时一次，连用5天。", age=50))


def test_amibufenamide_with_rifampicin():
    assert "K0026" in rule_ids(audit("乙肝用艾米替诺福韦，每天25mg，结核的利福平照常服用。", age=45))
    assert not audit("乙肝用艾米替诺福韦，每天25mg，随餐服用。", age=45).blocked


def test_fosfomycin_sachet_in_end_stage_kidney_disease():
    draft = "膀胱炎可以单次口服磷霉素氨丁三醇散3g。"
    assert "K0029" in rule_ids(audit(draft, egfr=8, age=70))
    assert "K0029" not in rule_ids(audit(draft, egfr=50, age=70))


def test_pyrimethamine_in_folate_deficiency_anaemia():
    draft = "弓形虫病用乙胺嘧啶联合磺胺嘧啶治疗。"
    assert "K0030" in rule_ids(audit(draft, conditions=["叶酸缺乏性贫血"], age=40))
    assert "K0030" not in rule_ids(audit(draft, conditions=["恶性贫血"], age=40))


def test_edaravone_while_breastfeeding():
    assert "K0031" in rule_ids(audit("脑梗急性期可以静滴依达拉奉，每次30mg，一日2次。", lactating=True, age=34))


def test_glucagon_in_insulinoma():
    draft = "低血糖昏迷时可以肌注胰高血糖素1mg。"
    assert "K0032" in rule_ids(audit(draft, conditions=["胰岛素瘤"], age=50))
    assert "K0032" not in rule_ids(audit(draft, conditions=["1型糖尿病"], age=20))


def test_sodium_zirconium_cyclosilicate_in_bowel_obstruction():
    draft = "高钾可以口服环硅酸锆钠10g，一日3次。"
    assert "K0033" in rule_ids(audit(draft, conditions=["肠梗阻"], age=66))
    assert "K0033" not in rule_ids(audit(draft, conditions=["慢性肾脏病"], age=66))
