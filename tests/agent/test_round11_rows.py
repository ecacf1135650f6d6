"""Round 11 knowledge rows, on sentences written for these tests: eye and ear products (萘敏维, 酚甘油, pilocarpine in
iritis), HLA-B*15:02 named by the patient, non-dihydropyridine calcium-channel blockers in HFrEF only, alpha-1 blockers
as an elderly antihypertensive, gatifloxacin in diabetes, griseofulvin in pregnancy."""

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(Lexicon.load())


def audit(draft: str, question: str = "", **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "r11-msg"), question)


def rule_ids(result) -> set[str]:
    return {f.rule_id for f in result.findings if f.severity == "block"}


def test_naphazoline_eye_drops_product_in_angle_closure_glaucoma():
    lex = Lexicon.load()
    found = [m for m in lex.find_mentions("眼睛充血点萘敏维就好") if m.kind == "product"]
    assert found and "萘甲唑林" in lex.ingredients(found[0].canonical)
    assert "U0004" in rule_ids(audit("眼睛发红点萘敏维滴眼液，一次1滴，一天3次。", conditions=["急性闭角型青光眼"], age=70))
    assert not audit("眼睛发红点萘敏维滴眼液，一次1滴，一天3次。", age=40).blocked


def test_phenol_ear_drops_with_a_perforated_drum():
    assert "U0005" in rule_ids(audit("耳朵痛可以滴酚甘油，每次3滴，一日3次。", conditions=["耳膜穿孔"], age=50))
    assert not audit("耳朵痛可以滴酚甘油，每次3滴，一日3次。", age=50).blocked


def test_pilocarpine_in_iritis_not_in_open_angle_glaucoma():
    assert "U0003" in rule_ids(audit("毛果芸香碱滴眼液每日4次滴眼即可。", conditions=["虹膜炎"], age=40))
    assert "U0003" not in rule_ids(audit("毛果芸香碱滴眼液每日4次滴眼即可。", conditions=["开角型青光眼"], age=40))


def test_hla_b1502_positive_in_profile_or_in_the_patients_message():
    assert "U0006" in rule_ids(audit("三叉神经痛首选卡马西平，每次100mg每日2次起。", conditions=["HLA-B*15:02阳性"], age=40))
    stated = audit("三叉神经痛首选卡马西平，每次100mg每日2次起。", "我查过基因，HLA-B*1502阳性，这个药行吗", age=40)
    assert "U0006" in rule_ids(stated)
    assert "U0007" in rule_ids(audit("可以换奥卡西平，每次150mg每日2次。", "之前查了HLA-B1502阳性", age=35))
    # a negative result and a relative's result are not the patient's
    assert "U0006" not in rule_ids(audit("三叉神经痛首选卡马西平，每次100mg每日2次起。", "我查过HLA-B*1502阴性", age=40))
    assert "U0006" not in rule_ids(audit("三叉神经痛首选卡马西平，每次100mg每日2次起。", "我哥哥HLA-B*1502阳性", age=40))


@pytest.mark.parametrize("condition, blocked", [("射血分数降低的心衰", True), ("心力衰竭", True),
                                                # chronic / acute heart failure without an ejection fraction: parents
                                                # of the HFrEF row (r11-conditions' rows), so they still meet it
                                                ("慢性心力衰竭", True), ("急性左心衰", True),
                                                ("HFpEF", False), ("舒张性心力衰竭", False)])
def test_non_dihydropyridine_ccb_in_hfref_only(condition, blocked):
    ids = rule_ids(audit("控制房颤心室率可用维拉帕米缓释片，每日240mg。", conditions=[condition], age=62))
    assert bool(ids & {"A0500", "R0555"}) is blocked


def test_alpha_blocker_as_an_elderly_antihypertensive():
    assert "U0009" in rule_ids(audit("降压就单用多沙唑嗪控释片，每晚4mg。", conditions=["高血压"], age=78))
    # for the prostate alone the Beers row on blood pressure does not apply
    assert "U0009" not in rule_ids(audit("排尿不畅可用多沙唑嗪控释片，每晚4mg。", conditions=["前列腺增生"], age=78))
    assert "U0010" not in rule_ids(audit("降压可以用特拉唑嗪，每晚2mg。", conditions=["高血压"], age=50))


def test_gatifloxacin_in_diabetes_and_griseofulvin_in_pregnancy():
    assert "U0001" in rule_ids(audit("肺炎可以口服加替沙星400mg，每日一次。", conditions=["2型糖尿病"], age=58))
    assert "U0001" not in rule_ids(audit("肺炎可以口服加替沙星400mg，每日一次。", age=40))
    assert "U0002" in rule_ids(audit("头癣口服灰黄霉素，每日500mg，连服6周。", pregnant=True, trimester=2, age=29))


@pytest.mark.parametrize("name, ingredient", [("可善挺", "司库奇尤单抗"), ("达必妥", "度普利尤单抗"), ("喜达诺", "乌司奴单抗"),
                                              ("瑞福", "乌帕替尼"), ("碘伏", "碘"), ("呋麻滴鼻液", "麻黄碱"),
                                              ("新乐敦", "萘甲唑林"), ("左氧氟沙星眼药水", "左氧氟沙星")])
def test_specialty_brands_and_products_are_known(name, ingredient):
    lex = Lexicon.load()
    found = [m for m in lex.find_mentions(f"最近在用{name}") if m.kind in ("drug", "product")]
    assert found and ingredient in {*lex.ingredients(found[0].canonical), found[0].canonical}


def test_biologics_keep_live_vaccine_and_tuberculosis_rows():
    assert audit("银屑病可以继续打可善挺，每月一次。", conditions=["活动性结核"], age=40).blocked
    assert audit("可以接种水痘减毒活疫苗。", medications=["司库奇尤单抗"], age=30).blocked
    assert "U0013" in rule_ids(audit("特应性皮炎可以口服乌帕替尼15mg每日一次。", pregnant=True, trimester=1, age=30))


def test_iodine_allergy_reaches_povidone_iodine():
    assert audit("伤口用碘伏消毒，一天两次。", allergies=["碘"], age=50).blocked
    assert not audit("伤口用碘伏消毒，一天两次。", age=50).blocked


def test_levofloxacin_eye_drops_are_not_the_tablets_for_a_child():
    assert not audit("左氧氟沙星滴眼液每次1滴，一日4次，用5天。", age=6).blocked
    assert audit("左氧氟沙星片每次0.2g，一日2次。", age=6).blocked


def test_ephedrine_nasal_drops_in_hypertension():
    assert audit("鼻塞滴呋麻滴鼻液，每次2滴，一日3次。", conditions=["高血压"], age=70).blocked


def test_kidney_binders_iguratimod_and_hormone_brands():
    lex = Lexicon.load()
    for name, canonical in [("福斯利诺", "碳酸镧"), ("碳酸司维拉姆", "司维拉姆"), ("利倍卓", "环硅酸锆钠"),
                            ("优思悦", "屈螺酮炔雌醇"), ("黄芪", "黄芪")]:
        assert [m.canonical for m in lex.find_mentions(f"每天在吃{name}")] == [canonical]
    assert "U0017" in rule_ids(audit("类风湿可以加艾拉莫德25mg，每日2次。", medications=["华法林"], age=58))
    assert "U0020" in rule_ids(audit("血钾高就口服聚磺苯乙烯钠15g，每日3次。", conditions=["肠梗阻"], age=66))
    assert audit("潮热可以吃芬吗通，每天1片。", conditions=["乳腺癌"], sex="female", age=53).blocked
