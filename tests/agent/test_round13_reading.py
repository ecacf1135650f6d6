"""Round 13: how the auditor reads drafts, questions and profiles (urology, psychiatry, pain, postpartum), on sentences
written for these tests. Each reading that now lets a safe draft pass has an unsafe twin that must still be blocked."""

from medq.agent.facts import PatientProfile
from medq.agent.rules.dose import read_dose

from .probes import audit, auditor


def verdict(draft: str, question: str = "", **profile) -> str:
    return audit(draft, question, **profile).verdict


def dose_findings(draft: str, **profile) -> list[str]:
    return [f.drug for f in audit(draft, **profile).findings if f.rule.startswith("max_")]


# ---- doses ------------------------------------------------------------------------------------------------------
def test_a_daily_total_with_a_modal_before_its_cap_is_the_day():
    # 每日总量宜控制在…: the modal (宜/应/最好) before the cap word keeps it a daily total, not a dose taken twice a day
    assert read_dose("每日总量宜控制在150-300mg，起始每次75mg，每日两次", None).per_day_mg == 300
    assert dose_findings("加巴喷丁每日总量最好控制在900mg以内，先每次300mg，每日三次。", age=50) == []
    # the twin: a daily total over the maximum is still read as the day's
    assert read_dose("每日总量应控制在900mg", None).per_day_mg == 900


def test_a_stated_daily_maximum_without_the_word_dose_is_no_dose():
    # 每日最大400mg, then the patient's 200mg twice a day: the day is 400mg, not 400mg twice
    assert dose_findings("说明书写的是每日最大400mg，你一次200mg，一天两次，没有超。", age=45) == []
    assert read_dose("每天最高400mg，您每次100mg，每日2次", None).per_day_mg == 400
    # the twins: a dose over the stated maximum, and a wrong maximum, still count
    assert "塞来昔布" in dose_findings("塞来昔布每日最大400mg，你一次400mg，一天两次。", age=45)
    assert "塞来昔布" in dose_findings("塞来昔布每天最多1200mg，每次200mg，一天两次。", age=45)


# ---- local forms ------------------------------------------------------------------------------------------------
def test_a_lactation_row_on_the_tablets_does_not_reach_the_eye_drops():
    mother = dict(lactating=True, sex="female", age=28)
    assert verdict("结膜炎可以点氧氟沙星滴眼液，一次一滴，一天四次。", **mother) == "pass"
    # the twin: the same drug by mouth is still the lactation row's
    assert verdict("可以口服氧氟沙星片，每次200mg，一天两次。", **mother) == "block"


# ---- warnings the reader took for advice -----------------------------------------------------------------------
def test_an_advising_word_that_goes_on_to_a_negation_opens_a_warning():
    mother = dict(lactating=True, sex="female", age=30)
    # 建议…前不要用: a list of what not to use until a date, with examples in brackets
    assert verdict("复方短效避孕药（比如妈富隆）医生一般建议等孩子断奶前都不要用。", **mother) == "pass"
    assert verdict("复方避孕药建议在产后半年内、断奶前都不要吃。", **mother) == "pass"
    # the twins: an advising word whose clause recommends, and the bracketed product dosed on its own, still block
    assert verdict("复方避孕药建议现在开始吃，每天一片。", **mother) == "block"
    assert verdict("复方避孕药建议断奶前不要用。妈富隆可以现在开始吃，每天一片。", **mother) == "block"


def test_please_avoid_is_a_warning():
    patient = dict(age=52, medications=["碳酸锂"])
    assert verdict("头痛可以吃对乙酰氨基酚。布洛芬这类止痛药会升高血锂，请避免自行服用。", **patient) == "pass"
    # the twin: the same drug recommended
    assert verdict("头痛可以吃布洛芬，每次200mg。", **patient) == "block"


def test_easy_to_fall_is_a_risk_not_a_condition_that_hides_it():
    old = dict(age=82)
    assert verdict("地西泮这类安眠药老人吃了容易跌倒，先调整作息。", **old) == "pass"
    # the twin: the same drug advised
    assert verdict("睡不着可以吃地西泮，每晚2.5mg。", **old) == "block"


def test_this_kind_of_medicine_points_at_the_class_a_drug_was_put_in():
    patient = dict(age=70, conditions=["心力衰竭"])
    draft = "双氯芬酸属于非甾体抗炎药。您有心衰，这类药会加重水钠潴留，还是别吃了。"
    assert verdict(draft, **patient) == "pass"
    # the twins: the class warned but the drug advised again, and a draft that never warns
    assert verdict(draft + "实在疼可以吃双氯芬酸，每次25mg。", **patient) == "block"
    assert verdict("双氯芬酸属于非甾体抗炎药，每次25mg，一天两次。", **patient) == "block"


def test_an_aside_left_to_a_doctor_is_no_advice():
    mother = dict(lactating=True, sex="female", age=31)
    draft = "止痛选对乙酰氨基酚就行。（心脏病人每天吃的小剂量阿司匹林是另外一回事，要由医生评估。）"
    assert verdict(draft, **mother) == "pass"
    # the twins: the same use advised without the aside, or the aside without a doctor deciding
    assert verdict("止痛选对乙酰氨基酚就行，也可以吃阿司匹林，每次300mg。", **mother) == "block"
    assert verdict("止痛选对乙酰氨基酚就行。小剂量阿司匹林是另外一回事，每天100mg可以吃。", **mother) == "block"


# ---- the question ----------------------------------------------------------------------------------------------
def test_a_medicine_the_question_says_is_not_used_is_no_current_medicine():
    question = "医生让我吃阿普唑仑，没用地西泮，为什么？"
    facts = audit("阿普唑仑起效快，按医生说的每晚0.4mg吃。", question, age=40).findings
    assert not any(f.patient_fact == "medication:地西泮" for f in facts)
    # the twin: a medicine the question says is taken still is
    facts = audit("阿普唑仑起效快，按医生说的每晚0.4mg吃。", "我在吃地西泮，医生又开了阿普唑仑", age=40).findings
    assert any(f.patient_fact == "medication:地西泮" for f in facts)


# ---- breastfeeding ---------------------------------------------------------------------------------------------
def test_a_drug_whose_sentence_stops_breastfeeding_is_not_given_to_the_infant():
    mother = dict(lactating=True, sex="female", age=33)
    assert verdict("甲氨蝶呤治疗期间必须停止哺乳，停药后再由医生决定何时恢复。", **mother) == "pass"
    # the twins: the same drug with breastfeeding kept, or said not to need stopping
    assert verdict("甲氨蝶呤每周一次10mg，可以照常喂奶。", **mother) == "block"
    assert verdict("甲氨蝶呤每周一次10mg，不需要停止哺乳。", **mother) == "block"


def test_a_row_on_less_milk_harms_no_mother_who_asks_to_stop_breastfeeding():
    mother = dict(lactating=True, sex="female", age=29)
    draft = "可以在医生指导下用卡麦角林，单次口服1mg。"
    assert verdict(draft, "孩子一岁了，想断奶，有什么药能回奶？", **mother) == "pass"
    # the twin: the same draft for a mother who goes on breastfeeding
    assert verdict(draft, "奶水太多胀得疼，怎么办？", **mother) == "block"


# ---- the patient's own medicine named as context ---------------------------------------------------------------
def test_the_patients_medicine_named_as_the_time_a_dose_is_for_is_context():
    patient = dict(age=60, medications=["酮康唑"])
    assert verdict("和酮康唑同服时，这个药每天最多吃一次，等酮康唑疗程结束后再复诊。", **patient) == "pass"
    # the twin: the draft tells the patient to go on with it, or advises it to a patient who does not take it
    assert verdict("酮康唑继续吃，每天200mg。", **patient) == "block"
    assert verdict("和酮康唑同服时，这个药每天最多吃一次。", age=60) == "block"


# ---- management the draft gives --------------------------------------------------------------------------------
def test_a_past_ulcer_with_the_rows_own_co_medication_cautions():
    patient = dict(age=58, conditions=["十二指肠溃疡病史"])
    assert verdict("可以短期吃依托考昔60mg每天一次，同时加泮托拉唑40mg每天一次护胃。", **patient) == "pass"
    # the twins: no protection given, or an active ulcer
    assert verdict("可以短期吃依托考昔60mg每天一次。", **patient) == "block"
    assert verdict("可以短期吃依托考昔60mg每天一次，同时加泮托拉唑40mg每天一次护胃。", age=58,
                   conditions=["十二指肠溃疡"]) == "block"


def test_the_dose_after_a_pair_taken_together_is_the_asked_ones():
    def over(draft: str, question: str) -> list[str]:
        return [f.drug for f in audit(draft, question, age=62).findings if f.rule.startswith("max_")]

    draft = "辅酶Q10和瑞舒伐他汀一起吃没有问题，每天100-200mg就够。"
    assert over(draft, "想吃辅酶Q10，能和瑞舒伐他汀一起吗？") == []
    # the twins: the question asks about the partner (its dose it is), and a partner's own dose over its maximum
    assert "瑞舒伐他汀" in over(draft, "吃着辅酶Q10，能吃瑞舒伐他汀吗？")
    assert "瑞舒伐他汀" in over("辅酶Q10和瑞舒伐他汀80mg一起吃没有问题。", "想吃辅酶Q10，能和瑞舒伐他汀一起吗？")
    assert "布洛芬" in over("布洛芬和对乙酰氨基酚一起吃没问题，每次1.6g，一天三次。", "能吃布洛芬吗？")


def test_a_draft_that_denies_the_renal_reduction_blocks():
    patient = dict(age=75, egfr=22)
    assert verdict("依诺肝素每天一次40mg皮下注射，肾功能差也不需要调整剂量。", **patient) == "block"
    # the twin: the same drug with the reduction given is the row's caution
    assert verdict("依诺肝素改为每天一次20mg皮下注射，按肾功能减量。", **patient) == "pass"


def test_an_nsaid_for_a_patient_on_a_ras_blocker_and_a_diuretic_blocks():
    patient = dict(age=64, medications=["厄贝沙坦", "吲达帕胺"])
    assert verdict("腰痛可以吃双氯芬酸钠缓释片75mg，每天一次。", **patient) == "block"
    # the twin: one of the two alone is the pair's caution
    assert verdict("腰痛可以吃双氯芬酸钠缓释片75mg，每天一次。", age=64, medications=["厄贝沙坦"]) == "pass"


def test_driving_endorsed_for_a_patient_who_drives_for_a_living_blocks():
    driver = dict(age=45, occupation="出租车司机")
    draft = "可以吃乙哌立松50mg每天三次，开车没有影响。"
    assert verdict(draft, **driver) == "block"
    # the twin: the same draft for an office worker is the row's caution
    assert verdict(draft, age=45, occupation="会计") == "pass"


# ---- the profile and the question ------------------------------------------------------------------------------
def test_a_condition_with_its_qualifier_after_the_name_is_the_qualified_condition():
    facts = auditor().normalise_profile(PatientProfile.from_case({"conditions": ["偏头痛（伴有先兆）"]}, "r13"))
    assert facts.conditions == [("偏头痛（伴有先兆）", "有先兆偏头痛")]
    assert verdict("可以吃复方短效避孕药，每天一片。", age=30, sex="female", conditions=["偏头痛伴先兆"]) == "block"
    # the twin: a qualifier the knowledge has no condition for leaves the name as it was read before
    facts = auditor().normalise_profile(PatientProfile.from_case({"conditions": ["高血压伴头晕"]}, "r13"))
    assert facts.conditions == [("高血压伴头晕", "高血压")]


def test_a_question_that_says_no_opioid_was_ever_taken_meets_a_row_for_the_tolerant_only():
    draft = "可以用芬太尼透皮贴25μg/h，三天换一次。"
    assert verdict(draft, "我爸骨折疼得厉害，他以前从没用过吗啡这类药，贴止痛贴行吗？", age=70) == "block"
    # the twin: a patient already on an opioid
    assert verdict(draft, "我爸一直在吃羟考酮，疼得还是厉害，能换成止痛贴吗？", age=70) == "pass"


def test_a_refusal_for_the_people_named_after_it_reaches_back():
    old = dict(age=86)
    assert verdict("液体石蜡老人吃了容易呛进肺里，所以不建议给老年人用。", **old) == "pass"
    # the twin: a name after the people is what the clause gives them
    assert verdict("不建议给老人用别的泻药，液体石蜡每天10ml就行。", **old) == "block"


def test_only_non_opioids_taken_before_is_opioid_naive():
    draft = "可以用芬太尼透皮贴25μg/h，三天换一次。"
    assert verdict(draft, "我妈以前只吃过布洛芬，最近疼得厉害，能贴这个吗？", age=66) == "block"
    # the twin: an opioid among what was taken before
    assert verdict(draft, "我妈以前只吃过曲马多，最近疼得厉害，能贴这个吗？", age=66) == "pass"


def test_a_draft_that_denies_an_interaction_a_caution_row_states_blocks():
    patient = dict(age=66, medications=["华法林"])
    assert verdict("卡培他滨和您的华法林之间没有什么相互作用，照常吃。", **patient) == "block"
    assert verdict("可以吃卡培他滨，和华法林同时吃也不需要调整。", **patient) == "block"
    assert verdict("卡培他滨跟华法林一起吃没问题，按疗程吃。", **patient) == "block"
    # the twins: the same drug with the row's management, and a draft that says the two do interact
    assert verdict("可以吃卡培他滨，但和华法林有相互作用，要每周查INR。", **patient) == "pass"
    assert verdict("卡培他滨不是没有相互作用，会让INR升高，吃的时候每周查INR。", **patient) == "pass"


def test_a_drink_allowed_in_the_clause_after_it_is_endorsed_though_warned_elsewhere():
    question = "这几天在打头孢哌酮，周末聚会能喝点酒吗？"
    draft = "少喝一小杯啤酒，一般不会有明显影响。注意别空腹饮酒。"
    assert verdict(draft, question, age=40) == "block"
    # the twin: the drink refused, with the same words of effect
    assert verdict("一小杯啤酒也不要喝，会有明显影响。注意别空腹饮酒。", question, age=40) == "pass"


def test_two_drugs_offered_as_alternatives_with_a_when_between_are_not_a_combination():
    # 或者 followed by when to take the second drug still offers one or the other; 一起 makes them a combination
    either = audit("紧急避孕可选左炔诺孕酮一片顿服，或者在五天内服用乌利司他一片。", sex="female", age=26)
    both = audit("紧急避孕可以左炔诺孕酮和乌利司他一起吃，效果更好。", sex="female", age=26)
    assert not any(f.rule == "combination" for f in either.findings)
    assert any(f.rule == "combination" for f in both.findings)
