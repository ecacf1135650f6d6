"""Round 10 knowledge rows and forms, on sentences written for these tests: menopause hormone therapy, gels and
patches that act systemically, North American combination products, 美多芭, 拜新同 named in the question,
cetirizine in kidney disease, roxadustat in pregnancy."""

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(Lexicon.load())


def audit(draft: str, question: str = "", **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "r10-msg"), question)


def rule_ids(result) -> set[str]:
    return {f.rule_id for f in result.findings if f.severity == "block"}


def test_oestrogen_gel_is_systemic_after_breast_cancer():
    result = audit("潮热可以每天在手臂涂雌二醇凝胶2.5g。", conditions=["乳腺癌术后"], sex="female", age=54)
    assert result.blocked
    # a cream on the skin still exempts the systemic rows
    assert not audit("湿疹处外涂氢化可的松乳膏，每日2次。", conditions=["糖尿病"]).blocked


def test_aluminium_gel_is_swallowed_so_renal_rows_apply():
    assert "T0009" in rule_ids(audit("血磷高就长期吃氢氧化铝凝胶，一次15ml，一日三次。", conditions=["腹膜透析"]))


def test_tibolone_with_unexplained_bleeding_and_breast_cancer():
    assert "T0005" in rule_ids(audit("替勃龙每日2.5mg可以吃。", conditions=["阴道出血原因未明"], sex="female"))
    assert "T0006" in rule_ids(audit("替勃龙每日2.5mg可以吃。", conditions=["子宫内膜癌"], sex="female"))


@pytest.mark.parametrize("product, ingredient", [("NyQuil", "对乙酰氨基酚"), ("DayQuil", "右美沙芬"),
                                                 ("Mucinex DM", "愈创甘油醚"), ("Coricidin HBP", "氯苯那敏"),
                                                 ("Advil Cold & Sinus", "伪麻黄碱"), ("Excedrin", "阿司匹林")])
def test_north_american_combination_products_carry_their_ingredients(product, ingredient):
    lex = Lexicon.load()
    found = [m for m in lex.find_mentions(f"晚上吃点{product}就好") if m.kind == "product"]
    assert found and ingredient in lex.ingredients(found[0].canonical)


def test_duplicate_paracetamol_through_a_named_product():
    result = audit("头还疼可以再吃对乙酰氨基酚500mg。", "睡前喝了DayQuil，还能吃止痛药吗", medications=["DayQuil"])
    assert result.blocked and any(f.rule == "duplicate_ingredient" for f in result.findings)


def test_otc_cough_products_not_under_four():
    assert "T0007" in rule_ids(audit("可以喝Mucinex DM，一次半片。", age=2, weight_kg=12))
    assert not audit("可以喝Mucinex DM，一次1片，一日2次。", age=30).blocked


def test_madopar_is_levodopa_with_benserazide():
    lex = Lexicon.load()
    mention = lex.find_mentions("美多芭")[0]
    assert set(lex.ingredients(mention.canonical)) == {"左旋多巴", "苄丝肼"}


def test_controlled_release_nifedipine_named_in_the_question_is_not_the_immediate_release_row():
    assert "A0504" not in rule_ids(audit("可以继续吃，每天一片。", "我75岁，拜新同还能吃吗？", age=75))
    assert "A0504" in rule_ids(audit("可以继续吃，每天一片。", "我75岁，硝苯地平片还能吃吗？", age=75))


def test_cetirizine_halved_in_ckd4_passes_but_not_in_end_stage():
    assert not audit("肾功能差，西替利嗪每天5mg就够。", conditions=["慢性肾脏病4期"], egfr=22).blocked
    assert "R0374" in rule_ids(audit("西替利嗪每天5mg。", conditions=["慢性肾病"], egfr=8))


def test_roxadustat_in_pregnancy():
    assert "T0011" in rule_ids(audit("爱瑞卓按原量继续吃。", pregnant=True, conditions=["肾性贫血"]))


@pytest.mark.parametrize("draft, profile, blocked", [
    ("结合雌激素每日0.3mg长期吃就行。", {"sex": "female", "age": 56}, True),
    ("雌二醇凝胶每天涂一泵，不用再加孕激素。", {"sex": "female", "age": 49}, True),
    ("结合雌激素每日0.3mg，每月加用地屈孕酮12天。", {"sex": "female", "age": 56}, False),
    ("结合雌激素每日0.3mg长期吃就行。", {"sex": "female", "age": 56, "conditions": ["全子宫切除术后"]}, False),
    ("结合雌激素每日0.3mg长期吃就行。", {"sex": "female", "age": 56, "medications": ["曼月乐"]}, False),
    ("雌三醇软膏放入阴道，每周两次。", {"sex": "female", "age": 66}, False),
])
def test_unopposed_oestrogen(draft, profile, blocked):
    result = audit(draft, **profile)
    assert ("T0014" in rule_ids(result)) is blocked, [f.reason for f in result.findings]


def test_pm_products_carry_their_sedating_antihistamine():
    lex = Lexicon.load()
    for name, ingredient in [("Tylenol PM", "苯海拉明"), ("Advil PM", "布洛芬"), ("Mucinex D", "伪麻黄碱")]:
        mention = next(m for m in lex.find_mentions(f"睡前吃{name}") if m.kind == "product")
        assert ingredient in lex.ingredients(mention.canonical)


def test_single_gram_azithromycin_is_within_the_label_but_three_grams_is_not():
    assert not audit("衣原体感染可阿奇霉素1g单次顿服。", age=30).blocked
    assert audit("阿奇霉素每次1.5g，每日2次。", age=30).blocked
