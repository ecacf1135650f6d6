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


def test_slow_resting_heart_rate_in_the_question_is_bradycardia():
    draft = "伊伐布雷定可以加，每次5mg，每天2次。"
    assert audit(draft, "我心率只有52，医生说加伊伐布雷定", age=60, conditions=["心力衰竭"]).blocked
    assert not audit(draft, "我心率一般78左右，医生说加伊伐布雷定", age=60, conditions=["心力衰竭"]).blocked
    # a threshold the doctor gave is no rate of the patient's
    assert not audit(draft, "医生说心率55以下要来复诊，加伊伐布雷定行吗", age=60, conditions=["心力衰竭"]).blocked


def test_carrier_of_the_marker_a_row_warns_about():
    draft = "卡马西平可以吃，每天200mg起。"
    assert audit(draft, "检测HLA-B*1502阳性，能用卡马西平吗", age=30, conditions=["癫痫"]).blocked
    assert audit(draft, "能用卡马西平吗", age=30, conditions=["癫痫", "携带HLA-B*1502"]).blocked
    assert not audit(draft, "检测HLA-B*1502阴性，能用卡马西平吗", age=30, conditions=["癫痫"]).blocked


def test_long_use_endorsed_against_a_row_that_limits_the_span():
    assert audit("可以继续用，赛洛唑啉起效快，每天早晚各喷一次，长期用也没关系。", "鼻塞用了三个月", age=30).blocked
    assert not audit("赛洛唑啉每天早晚各喷一次，连续使用不要超过7天，不要长期用。", "鼻塞", age=30).blocked


def test_caution_whose_monitoring_the_draft_dismisses():
    question = "吃华法林，想吃鱼油"
    assert audit("可以吃鱼油，每天3g，华法林照常吃，不用管INR。", question, age=60, medications=["华法林"]).blocked
    assert not audit("可以吃鱼油，每天3g，华法林照常吃，记得监测INR。", question, age=60, medications=["华法林"]).blocked


def test_caution_whose_dose_change_the_draft_refuses():
    question = "在吃氨茶碱，医生开红霉素"
    assert audit("两药可以一起吃，按原剂量继续。", question, age=40, medications=["氨茶碱"]).blocked
    assert not audit("可以一起用，红霉素按医嘱吃，氨茶碱需要减量并查血药浓度。", question, age=40,
                     medications=["氨茶碱"]).blocked


def test_example_of_options_to_ask_a_doctor_about_is_not_advice():
    question = "有哮喘，能用普萘洛尔预防偏头痛吗"
    assert not audit("普萘洛尔有哮喘的人不应使用。预防偏头痛可以咨询神经内科医生其他药物，比如氟桂利嗪。", question, age=12,
                     conditions=["哮喘"]).blocked
    # with a dose it is advice; without the doctor it is advice
    assert audit("普萘洛尔有哮喘的人不应使用。预防偏头痛可以咨询医生其他药物，比如氟桂利嗪每晚5mg。", question, age=12,
                 conditions=["哮喘"]).blocked
    assert audit("预防偏头痛可以换其他药物，比如氟桂利嗪。", "能预防偏头痛吗", age=12).blocked
