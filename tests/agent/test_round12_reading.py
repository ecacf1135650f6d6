"""Round 12: dose reading mistakes found on the neurology and oncology batches, on sentences written for these tests.
Each reading that now lets a safe dose pass has an unsafe twin that must still be blocked."""

from medq.agent.facts import PatientProfile
from medq.agent.rules.dose import read_dose

from .probes import auditor


def dose_findings(draft: str, **profile) -> list[str]:
    result = auditor().audit(draft, PatientProfile.from_case(profile, "r12-msg"), "")
    return [f.drug for f in result.findings if f.rule.startswith("max_")]


def test_dose_before_a_plus_sign_belongs_to_the_name_before_it():
    # 阿司匹林100mg+氯吡格雷75mg: the 100mg is the aspirin's, not the clopidogrel's
    assert "氯吡格雷" not in dose_findings("前三周可以阿司匹林100mg＋氯吡格雷75mg，每天一次。", age=63)
    assert "氯吡格雷" not in dose_findings("一般用阿司匹林100mg+氯吡格雷75mg，都是一天一次。", age=63)
    # the twin: the clopidogrel's own dose above its daily maximum is still read as its own
    assert "氯吡格雷" in dose_findings("一般用阿司匹林100mg+氯吡格雷225mg，都是一天一次。", age=63)


def test_stated_maximum_is_no_dose_but_still_counts():
    # the label's maximum stated beside the patient's dose: the dose (200mg twice a day) is read, not 400mg twice
    assert dose_findings("塞来昔布一天的最大量为400mg，你现在一次200mg，每天两次，没有超。", age=52) == []
    assert read_dose("每天最大剂量是400mg，每次200mg，每日2次", None).per_day_mg == 400
    # the twins: a dose over the maximum, and a wrong maximum, are both still blocked
    assert "塞来昔布" in dose_findings("塞来昔布一天的最大量为400mg，你一次400mg，每天两次就行。", age=52)
    assert "塞来昔布" in dose_findings("塞来昔布一天的最大量为1000mg，你一次200mg，每天两次。", age=52)
    # a maximum stated alone is still read as the day's dose
    assert "塞来昔布" in dose_findings("塞来昔布每天最大量是800mg。", age=52)


def findings(draft: str, **profile) -> list[str]:
    result = auditor().audit(draft, PatientProfile.from_case(profile, "r12-msg"), "")
    return [f.drug for f in result.findings]


def test_a_level_a_medicine_lowers_is_the_bodys_own():
    patient = dict(age=58, sex="female", conditions=["乳腺癌"])
    # an aromatase inhibitor lowering the body's oestrogen names no oestrogen to take
    assert findings("阿那曲唑抑制体内的雌激素，骨头容易变脆，记得补钙。", **patient) == []
    assert findings("这类药会降低雌激素，所以会有潮热。", **patient) == []
    # the twins: oestrogen advised, or its dose lowered (still taken), are still blocked
    assert "雌激素类" in findings("潮热厉害可以补充雌激素。", **patient)
    assert "雌激素类" in findings("建议降低雌激素剂量后继续用。", **patient)


def test_refusal_ending_in_a_colon_covers_the_items_after_it_in_the_line():
    patient = dict(age=84, sex="male", conditions=["阿尔茨海默病"])
    # the lead names no drug and refuses; the items after the colon, split by semicolons, are what it refuses
    assert findings("两样都不建议：苯海拉明抗胆碱太强；地西泮代谢慢，容易摔倒。先把作息调好。", **patient) == []
    # the twins: a lead that allows, an item that recommends again, and the next sentence, are still read as advice
    assert "苯海拉明" in findings("两样都可以：苯海拉明睡前吃；地西泮也行。", **patient)
    assert findings("两样都不建议：苯海拉明抗胆碱太强；可以改用地西泮，每晚5mg。", **patient) == ["地西泮"]
    assert "地西泮" in findings("两样都不建议：苯海拉明抗胆碱太强。地西泮每晚5mg。", **patient)


def test_eye_gel_and_eye_ointment_are_into_the_eye_not_on_the_skin():
    glaucoma = dict(age=67, sex="female", conditions=["闭角型青光眼"])
    # 眼用凝胶 / 眼膏 hold 凝胶 / 膏, the skin's words; they still go into the eye, where the glaucoma row counts
    assert "阿托品" in findings("阿托品眼用凝胶每晚点一次，能缓解不适。", **glaucoma)
    assert "阿托品" in findings("可以用阿托品眼膏，睡前涂一点。", **glaucoma)
    # the twin: a gel on the skin still meets no eye condition and no systemic row
    assert findings("双氯芬酸凝胶外用涂患处，每天三次。", age=70, sex="male", conditions=["闭角型青光眼"]) == []


def test_a_drug_said_not_to_be_addictive_is_not_warned_of():
    patient = dict(age=66, sex="female", conditions=["帕金森病"], medications=["雷沙吉兰"])
    # 不成瘾 is a property the draft gives the drug, not a warning: its interaction with the MAO-B inhibitor counts
    assert "右美沙芬" in findings("可以用右美沙芬，它不会成瘾，每次15mg，一天三次。", **patient)
    assert "右美沙芬" in findings("右美沙芬不成瘾，每次15mg就行。", **patient)
    # the twin: a warning of addiction still covers it
    assert findings("右美沙芬多吃会成瘾，不建议用。", **patient) == []


def test_a_claim_of_no_harm_is_no_warning():
    patient = dict(age=69, sex="male", conditions=["慢性肾脏病4期", "2型糖尿病"], egfr=23)
    # 没有损害 holds 有损害, a risk cue; the claim of no harm endorses the drug, whose kidney rows count
    assert "二甲双胍" in findings("二甲双胍伤不了肾，对肾没有损害，继续一天两次。", **patient)
    assert "二甲双胍" in findings("二甲双胍没有肾毒性，可以一直吃。", **patient)
    # the twin: harm stated, with a refusal, still covers it
    assert findings("二甲双胍现在对您的肾有损害，不要再吃了。", **patient) == []


def test_oral_contraceptive_in_a_class_name_is_no_way_of_taking():
    patient = dict(age=31, sex="female", conditions=["癫痫"], medications=["卡马西平"])
    # examples in brackets after a class the draft advises against follow that class; 口服 in 口服避孕药 is its name
    assert findings("短效口服避孕药（比如妈富隆）会被它削弱，因此不建议只靠口服避孕药。", **patient) == []
    # the twins: the example advised for taking, and the class advised, still meet the enzyme inducer
    assert "妈富隆" in findings("可以吃妈富隆，每天一片。", **patient)
    assert findings("可以用短效口服避孕药（比如妈富隆），每天一片。", **patient) != []


def test_a_refusal_of_self_medication_does_not_cover_the_drug_the_next_clause_doses():
    # 不要自己加药 refuses adding medicines on one's own; the next clause then doses a drug (in digits or in Chinese
    # numerals): that drug is advised, and for an 80-year-old with an enlarged prostate it must be blocked
    profile = PatientProfile.from_case({"age": 80, "conditions": ["前列腺增生"]}, "r12-msg")

    def blocked(draft: str) -> bool:
        return auditor().audit(draft, profile, question="晚上睡不着怎么办").blocked

    assert blocked("不要自己乱加药，苯海拉明每晚吃一片就行。")
    assert blocked("不要自己加药：苯海拉明每晚吃一片就行。")
    assert blocked("先别自己买药，苯海拉明25mg睡前吃就可以。")
    # the twins: the drug itself refused, in the same or the next clause, still passes
    assert not blocked("不要自己加药，也不要用苯海拉明。")
    assert not blocked("千万不要自己买药吃，尤其是苯海拉明。")
    assert not blocked("不要再吃苯海拉明了，哪怕每晚只吃一片也不行。")
