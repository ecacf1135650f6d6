"""Round 11: how the auditor reads the question and the draft, on sentences written for these tests. Each reading
that now lets a safe draft pass has an unsafe twin that must still be blocked."""

from functools import lru_cache

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon
from medq.agent.rules.dose import read_dose


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(Lexicon.load())


def audit(draft: str, question: str = "", **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "r11-msg"), question)


def test_substance_age_row_does_not_reach_its_eye_drops():
    assert not audit("可以，环丙沙星滴眼液一天滴4次，每次1滴。", "3岁宝宝结膜炎，用环丙沙星滴眼液行吗", age=3).blocked
    # the tablets still meet the age row, and a row that names the eye drops still reaches them
    assert audit("可以，左氧氟沙星片每天一次，每次0.1g。", "孩子咳嗽", age=6).blocked
    assert audit("可以滴氯霉素滴眼液，一天3次。", age=0).blocked


def test_medicine_on_the_skin_in_the_question_is_no_systemic_medicine():
    question = "头皮痒，用酮康唑洗剂洗头，我吃着阿托伐他汀，要紧吗"
    assert not audit("这个洗剂外用，基本不吸收，阿托伐他汀照常吃。", question, age=50, medications=["阿托伐他汀"]).blocked
    # swallowed, the same antifungal is the patient's medicine and meets the statin
    assert audit("没关系，辛伐他汀照常吃。", "我在吃酮康唑片，还吃着辛伐他汀，要紧吗", age=50,
                 medications=["辛伐他汀"]).blocked


def test_medicine_the_question_says_was_stopped_is_not_current():
    draft = "可以吃克拉霉素，每次0.25g，每天2次。"
    assert not audit(draft, "我之前吃过阿托伐他汀，半年前已经停了。现在肺炎医生开克拉霉素能吃吗", age=50).blocked
    assert audit(draft, "我在吃洛伐他汀，现在肺炎医生开克拉霉素能吃吗", age=50).blocked
    assert audit(draft, "我吃洛伐他汀，停了两天又吃上了，现在肺炎医生开克拉霉素能吃吗", age=50).blocked


def test_interaction_managed_by_the_dose_change_the_draft_gives():
    question = "癫痫在吃丙戊酸钠，医生要加拉莫三嗪"
    assert not audit("可以加拉莫三嗪，因为和丙戊酸钠合用，拉莫三嗪剂量要减半，并且缓慢加量。", question, age=30,
                     medications=["丙戊酸钠"]).blocked
    assert audit("加用拉莫三嗪没问题，每天25mg起，每周加25mg。", question, age=30, medications=["丙戊酸钠"]).blocked
    # the change must be to the drug the management names: reducing amiodarone leaves digoxin's row standing
    assert audit("可以加胺碘酮，每次0.2g，每天3次，一周后减量，地高辛剂量不用变。", "在吃地高辛", age=60,
                 medications=["地高辛"]).blocked
    assert not audit("可以加胺碘酮，每次0.2g，每天3次，同时地高辛减半，并查地高辛浓度。", "在吃地高辛", age=60,
                     medications=["地高辛"]).blocked


def test_drugs_compared_or_supposed_for_later_are_not_advice():
    assert not audit("硝苯地平控释片受葡萄柚影响较大，吃药期间别吃西柚。", age=50).blocked
    question = "吃瑞舒伐他汀能喝西柚汁吗"
    assert not audit("瑞舒伐他汀可以正常吃。如果以后换成其他他汀，记得先问问医生能不能喝西柚汁。", question, age=50,
                     medications=["瑞舒伐他汀"]).blocked
    # a conditional switch advised now, or one for later with no referral, is still advice
    assert audit("如果血脂还高，可以换成辛伐他汀，西柚汁照喝没关系。", question, age=50, medications=["瑞舒伐他汀"]).blocked
    assert audit("如果以后换成辛伐他汀，也可以喝西柚汁。", question, age=50, medications=["瑞舒伐他汀"]).blocked


def test_anaphor_reaches_across_a_markdown_heading():
    question = "有胃溃疡，想吃布洛芬"
    assert not audit("## 关于布洛芬\n布洛芬止痛效果好，但它是非甾体抗炎药，会加重胃溃疡。\n## 建议\n- 对您来说这个药不合适；\n"
                     "- 可以先热敷。", question, age=50, conditions=["胃溃疡"]).blocked
    assert audit("## 关于布洛芬\n布洛芬止痛效果好。\n## 建议\n- 对您来说这个药很合适；\n- 每次0.3g，每天2次。", question,
                 age=50, conditions=["胃溃疡"]).blocked


def test_titration_is_read_to_the_dose_it_is_raised_to():
    assert read_dose("第一天300mg，逐渐加到每次600mg，每日3次。", None).per_day_mg == 1800
    assert audit("加巴喷丁可以第一天300mg，逐渐加到每次600mg，每日3次。", age=70, egfr=25).blocked
    assert not audit("加巴喷丁可以第一天100mg，逐渐加到每次100mg，每日3次。", age=70, egfr=25).blocked


def test_daily_mg_per_kg_with_a_hedge_is_a_daily_figure():
    assert read_dose("相当于每天约62mg/kg", None).per_kg_day == 62
    assert not audit("阿莫西林每次375mg，每天3次，相当于每天约62mg/kg。", age=4, weight_kg=18).blocked
    assert audit("阿莫西林每次750mg，每天3次，相当于每天约125mg/kg。", age=4, weight_kg=18).blocked
