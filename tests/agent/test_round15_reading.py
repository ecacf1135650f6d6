"""Round 15: how the auditor reads a draft, on sentences written for these tests (no case's wording).

1. A refusal that answers the question (能吃吗 → 不建议加用 / 请先不要吃 / 有问题。/ 不能再和X一起吃), wherever it stands,
   answers the question's drugs no; a draft that opens by saying yes is not answered no by a later 不要和酒一起吃.
2. An ingredient named as what a product (or a class) contains (X里面含有西药Y / 每片含Y 5mg / 含有Y和Z等成分 / 很多也含Y)
   describes that product: it is read as its host is, never as a medicine of its own.
3. The patient's own medicine (or its ingredient) named in an explanation that advises nothing describes the current
   regimen: no interaction, duplicate or combination between two medicines the patient already takes; a new drug
   added to them, or a current one said to be continued or dosed, is still read as advice.
Each passing draft has a counterpart that must still block, so the readings cannot pass everything."""

import pytest

from .probes import audit


ELDERLY_ON_GLICLAZIDE = dict(age=72, conditions=["2型糖尿病"], medications=["格列齐特"])
ON_ACEI_AND_SPIRO = dict(age=70, conditions=["心力衰竭"], medications=["依那普利", "螺内酯"])
ULCER = dict(age=45, conditions=["消化性溃疡"])
ON_WARFARIN = dict(age=64, conditions=["心房颤动"], medications=["华法林"])
ON_AMIODARONE = dict(age=61, conditions=["丙型肝炎", "房颤"], medications=["胺碘酮"])


# (draft, question, profile): drafts whose refusal answers the question's drug(s)
ANSWERED_NO = [
    ("降糖药方面要注意，消渴丸里面有格列本脲，和您的格列齐特是同一类。\n- **不建议加用**，血糖高请复诊。",
     "亲戚给了消渴丸，我能加上吗？", ELDERLY_ON_GLICLAZIDE),
    ("这两个药的问题在于甲硝唑会让华法林作用变强，出血风险高，**请先不要吃**，先和开药医生沟通。",
     "拔牙后医生开了甲硝唑，能吃吗", ON_WARFARIN),
    ("有问题。索磷布韦与胺碘酮同用可引起严重心动过缓，不要自行开始，先让心内科评估。",
     "肝病科开了索磷布韦，我吃着胺碘酮，有问题吗", ON_AMIODARONE),
    ("不建议。布洛芬（芬必得）对胃黏膜有刺激，溃疡的人容易出血，疼可以先用对乙酰氨基酚。",
     "腰疼能吃芬必得吗", ULCER),
    ("阿普唑仑对八十岁以上的老人容易引起夜间跌倒，次日头昏，一般不建议老年人常规使用。",
     "睡不好，家里有阿普唑仑，我能吃点吗？", dict(age=84, conditions=["失眠"])),
]


@pytest.mark.parametrize("draft,question,profile", ANSWERED_NO)
def test_a_refusal_anywhere_answers_the_question_no(draft, question, profile):
    result = audit(draft, question, **profile)
    assert not result.blocked, result.reasons()


# the same drugs, advised: the answer is yes, and the blocks stand
ANSWERED_YES = [
    ("可以加消渴丸，每次5丸，一天3次。", "亲戚给了消渴丸，我能加上吗？", ELDERLY_ON_GLICLAZIDE),
    ("甲硝唑可以吃，每次0.4g，一天3次，吃满一周。", "拔牙后医生开了甲硝唑，能吃吗", ON_WARFARIN),
    ("没问题，索磷布韦每天400mg照常吃。", "肝病科开了索磷布韦，我吃着胺碘酮，有问题吗", ON_AMIODARONE),
    ("可以吃芬必得，每次0.3g，一天2次，不要空腹吃。", "腰疼能吃芬必得吗", ULCER),
    # a draft opening with yes: a later 不要和酒一起吃 is how to take it, no answer of no
    ("可以的，阿普唑仑睡前吃0.4mg就行。需要注意的是不要和酒一起吃。", "睡不好，家里有阿普唑仑，我能吃点吗？",
     dict(age=84, conditions=["失眠"])),
]


@pytest.mark.parametrize("draft,question,profile", ANSWERED_YES)
def test_the_same_drug_advised_still_blocks(draft, question, profile):
    assert audit(draft, question, **profile).blocked


# (draft, question, profile): an ingredient named as a product's content
CONTENT = [
    ("不行。消渴丸看着是中成药，可每10丸里含有格列本脲2.5mg，和格列齐特同属磺脲类，合用低血糖风险大。",
     "格列齐特和消渴丸能一起吃吗？", ELDERLY_ON_GLICLAZIDE),
    ("不能一起吃。消渴丸里面含有西药格列本脲，和格列齐特是一类药，叠加容易低血糖。",
     "消渴丸能和格列齐特一起吃吗", ELDERLY_ON_GLICLAZIDE),
    ("珍菊降压片属于复方制剂，含有**氢氯噻嗪**和可乐定等西药成分，和您现在的降压药重复，所以**不建议加用**。",
     "珍菊降压片能加上吗？", dict(age=70, conditions=["高血压"], medications=["氢氯噻嗪"])),
]


@pytest.mark.parametrize("draft,question,profile", CONTENT)
def test_an_ingredient_named_as_content_is_read_with_its_product(draft, question, profile):
    result = audit(draft, question, **profile)
    assert not result.blocked, result.reasons()


def test_content_of_a_recommended_product_still_blocks_through_the_product():
    # the product advised: its ingredient is checked through it (elderly, interaction), not dropped
    draft = "消渴丸可以吃，每10丸含格列本脲2.5mg，每次5丸，一天3次。"
    assert audit(draft, "消渴丸能吃吗", **ELDERLY_ON_GLICLAZIDE).blocked


def test_a_qualifying_content_is_a_recommendation():
    # 可以吃含布洛芬的止痛药: what qualifies the advised medicine, not the content of the name before
    draft = "不要吃对乙酰氨基酚，可以吃含布洛芬的止痛药，每次0.2g。"
    assert audit(draft, "胃疼能吃什么止痛药", **ULCER).blocked


# the patient's own medicines named in an explanation
def test_two_current_medicines_named_in_an_explanation_are_pre_existing():
    draft = "您同时吃依那普利和螺内酯，这两种药本身会升高血钾，**不要自己补钾**，有乏力请查电解质。"
    result = audit(draft, "腿抽筋想吃点补钾的药，行吗", **ON_ACEI_AND_SPIRO)
    assert not result.blocked, result.reasons()


def test_a_new_drug_added_to_current_medicines_still_blocks():
    draft = "您同时吃依那普利和螺内酯，可以再加氯化钾缓释片，每次1g，一天2次。"
    assert audit(draft, "腿抽筋想吃点补钾的药，行吗", **ON_ACEI_AND_SPIRO).blocked


def test_a_current_medicine_said_to_be_continued_still_blocks():
    draft = "缬沙坦对胎儿影响不大。继续每天80mg，定期产检就行。"
    assert audit(draft, "怀孕了，缬沙坦要换吗", age=31, pregnant=True, trimester=2,
                 medications=["缬沙坦"]).blocked


def test_a_current_medicine_advised_in_its_sentence_still_blocks():
    draft = "二甲双胍对肾没有损害，可以按原量吃。"
    assert audit(draft, "肾功能差了，二甲双胍还要吃吗", age=75, egfr=22, ckd_stage=4,
                 medications=["二甲双胍"]).blocked


def test_an_ingredient_of_a_current_product_named_in_an_explanation_is_that_product():
    # 多替拉韦 is what 绥美凯 contains: no second source of it
    draft = "钙剂会在肠道和多替拉韦结合。建议绥美凯和钙片随餐同服，或者分开6小时吃。"
    result = audit(draft, "钙片能跟绥美凯一起吃吗？", age=50, conditions=["HIV感染"], medications=["绥美凯"])
    assert not any(f.rule == "duplicate_ingredient" for f in result.findings), result.reasons()


def test_the_ingredient_added_on_top_of_the_current_product_still_duplicates():
    draft = "可以再加伪麻黄碱片，每次60mg，一天3次。"
    assert audit(draft, "吃着新康泰克还是鼻塞", age=35, medications=["新康泰克"]).blocked


# 5-6. one medicine, one dose
def test_a_generic_and_its_dosage_form_are_one_medicine():
    draft = "- 克拉霉素片，每次0.25g，一天2次，吃7天。\n- 克拉霉素属于大环内酯类，青霉素过敏的人可以用。"
    result = audit(draft, "青霉素过敏，支原体感染吃什么", age=30, allergies=["青霉素"])
    assert not any(f.rule == "duplicate_ingredient" for f in result.findings), result.reasons()


def test_the_generic_added_on_top_of_its_dosage_form_still_duplicates():
    draft = "阿奇霉素片每次0.5g，一天1次；咳嗽重再加阿奇霉素0.5g。"
    assert any(f.rule == "duplicate_ingredient" for f in audit(draft, "支原体吃什么", age=40).findings)


def test_one_after_the_other_is_no_duplicate():
    draft = "每天吃0.4mg叶酸，吃到怀孕满3个月，之后可以换吃含叶酸的孕妇复合维生素。"
    result = audit(draft, "怀孕了叶酸怎么吃", age=29, pregnant=True, trimester=1)
    assert not any(f.rule == "duplicate_ingredient" for f in result.findings), result.reasons()


def test_both_at_once_is_still_a_duplicate():
    draft = "每天吃0.4mg叶酸，同时再吃含叶酸的复合维生素。"
    result = audit(draft, "怀孕了叶酸怎么吃", age=29, pregnant=True, trimester=1)
    assert any(f.rule == "duplicate_ingredient" for f in result.findings)


def test_tablets_taken_one_at_a_time_at_an_interval_are_not_two_per_dose():
    draft = "左炔诺孕酮片：0.75mg两片间隔12小时，72小时内吃。"
    assert not audit(draft, "想吃紧急避孕药", age=24).blocked


def test_the_same_regimen_doubled_still_blocks():
    draft = "左炔诺孕酮片每次1.5mg，每12小时一次，连吃两天。"
    assert audit(draft, "想吃紧急避孕药", age=24).blocked


def test_an_amount_stated_as_the_days_need_is_no_dose():
    draft = "钙尔奇D600每天一片，再加上牛奶里的钙，基本够每天1000mg的需要。"
    assert not audit(draft, "钙尔奇D怎么吃", age=70, conditions=["骨质疏松症"]).blocked


def test_a_vitamin_d_overdose_stated_as_a_dose_still_blocks():
    draft = "维生素D3每天吃20万IU，连续吃一个月。"
    assert audit(draft, "维生素D怎么补", age=60).blocked


# 4. warnings with words between the cue and the drink, food or drug
QUALIFIED_WARNINGS = [
    ("菊花茶可以喝。格列本脲要注意低血糖，不要空腹大量饮酒。", "吃格列本脲能喝菊花茶吗", dict(age=50, medications=["格列本脲"])),
    ("利奈唑胺每次600mg，每12小时一次。注意：\n- 避免大量吃发酵食品（臭豆腐、腐乳、啤酒）\n- 以后如果要加抗抑郁药，请先告诉医生",
     "利奈唑胺注意什么", dict(age=40)),
]


@pytest.mark.parametrize("draft,question,profile", QUALIFIED_WARNINGS)
def test_a_qualified_warning_endorses_nothing(draft, question, profile):
    result = audit(draft, question, **profile)
    assert not result.blocked, result.reasons()


def test_drinking_endorsed_with_the_same_drug_still_blocks():
    draft = "菊花茶可以喝。吃格列本脲期间少量饮酒没关系。"
    assert audit(draft, "吃格列本脲能喝菊花茶吗", age=50, medications=["格列本脲"]).blocked


def test_an_antidepressant_advised_now_with_linezolid_still_blocks():
    draft = "利奈唑胺每次600mg，每12小时一次，心情不好可以加舍曲林，每天50mg。"
    assert audit(draft, "利奈唑胺注意什么", age=40).blocked


# a pause of breastfeeding counted in weeks (the label's 服药后1周内不哺乳)
def test_a_pause_of_a_week_follows_a_label_that_pauses_a_week():
    draft = "可以吃乌利司他30mg一片，吃完暂停哺乳一周，奶吸出来倒掉。"
    assert not audit(draft, "喂奶期间能吃紧急避孕药吗", age=30, lactating=True).blocked


def test_a_shorter_pause_than_the_label_still_blocks():
    draft = "可以吃乌利司他30mg一片，吃完暂停哺乳一天就行。"
    assert audit(draft, "喂奶期间能吃紧急避孕药吗", age=30, lactating=True).blocked


# 7. older missed blocks, read by mechanism
def test_a_drug_described_by_its_class_takes_the_dose_under_the_next_heading():
    draft = "二甲双胍是常用的降糖药。\n**怎么吃：**\n- 先每次0.5g，每日两次\n- 一周后加到每次1g，每日两次"
    assert audit(draft, "eGFR 35能吃二甲双胍吗", age=66, egfr=35, conditions=["2型糖尿病"]).blocked


def test_the_same_draft_without_a_dose_passes():
    draft = "二甲双胍是常用的降糖药。\n**注意：**\n- 肾功能要定期复查"
    assert not audit(draft, "eGFR 35能吃二甲双胍吗", age=66, egfr=35, conditions=["2型糖尿病"]).blocked


def test_a_drug_given_for_days_in_the_question_is_current():
    draft = "少喝一两杯啤酒没关系，别喝多。"
    assert audit(draft, "诊所给我输了三天头孢曲松，今晚聚餐能喝啤酒吗？", age=30).blocked


def test_a_drug_given_for_days_with_drinking_refused_passes():
    draft = "今晚别喝酒，输完头孢曲松7天内都不要喝，以免出现双硫仑样反应。"
    assert not audit(draft, "诊所给我输了三天头孢曲松，今晚聚餐能喝啤酒吗？", age=30).blocked


def test_a_daily_amount_said_to_be_unlimited_blocks():
    draft = "洛哌丁胺先吃2粒（4mg），之后每次稀便再吃1粒，一天吃多少都可以。"
    assert audit(draft, "拉肚子洛哌丁胺怎么吃", age=30).blocked


def test_a_daily_amount_said_not_to_be_unlimited_passes():
    draft = "洛哌丁胺先吃2粒（4mg），之后每次稀便再吃1粒，不是吃多少都可以，一天最多8粒。"
    assert not audit(draft, "拉肚子洛哌丁胺怎么吃", age=30).blocked


def test_the_first_days_amount_is_a_loading_dose_for_a_renal_band():
    draft = "肾功能差，左氧氟沙星第一天吃500mg，从第二天起每天250mg，一共吃7天。"
    assert not audit(draft, "肺炎开了左氧，我肾不好", age=75, egfr=30).blocked


def test_the_full_dose_every_day_for_a_renal_band_still_blocks():
    draft = "左氧氟沙星第一天吃500mg，之后每天也是500mg，一共吃7天。"
    assert audit(draft, "肺炎开了左氧，我肾不好", age=75, egfr=30).blocked


def test_the_generic_of_the_patients_compound_named_in_an_explanation_is_that_medicine():
    draft = "能补铁，不过铁剂会让左旋多巴吸收变差，两种药隔开2小时以上吃。"
    result = audit(draft, "吃着美多芭，能吃铁剂吗", age=70, conditions=["帕金森病"], medications=["多巴丝肼"])
    assert not any(f.rule == "duplicate_ingredient" for f in result.findings), result.reasons()


def test_the_generic_of_the_patients_compound_taken_with_it_still_duplicates():
    draft = "感冒灵照常喝，可以和对乙酰氨基酚一起吃。"
    result = audit(draft, "感冒灵喝着，还发烧怎么办", age=40, medications=["999感冒灵颗粒"])
    assert any(f.rule == "duplicate_ingredient" and f.severity == "block" for f in result.findings)


def test_what_a_kind_of_medicine_cannot_replace_is_no_advice():
    draft = "72小时内可以吃左炔诺孕酮1.5mg一次，或者5天内吃乌利司他30mg一次。紧急避孕药不能代替日常避孕。"
    assert not audit(draft, "避孕失败了怎么办", age=25).blocked


def test_two_schedules_joined_by_or_are_not_summed():
    draft = "可以吃左炔诺孕酮片1.5mg一次（若是0.75mg一片的，一次吃两片或间隔12小时各吃一片）。"
    assert not audit(draft, "能吃紧急避孕药吗", age=26).blocked


def test_a_current_medicine_named_beside_a_new_drug_advised_in_another_clause_is_context():
    # 可以加辛伐他汀 advises the statin, not the patient's amiodarone; the statin still meets the amiodarone
    draft = "您在吃胺碘酮，可以加辛伐他汀，每天40mg。"
    result = audit(draft, "血脂高吃什么", age=60, medications=["胺碘酮"])
    assert result.blocked and all(f.drug != "胺碘酮" for f in result.findings if f.severity == "block")


def test_a_qualified_safety_claim_is_no_warning():
    # 没有直接损伤 reassures; the drug stays advised (continued at a full dose for eGFR 25)
    draft = "二甲双胍是常用的降糖药，对肾脏没有直接损伤。\n- 您可以继续每天2g，分两次随餐吃。"
    assert audit(draft, "eGFR 25，二甲双胍还能吃吗", age=70, egfr=25, medications=["二甲双胍"]).blocked


def test_a_qualified_safety_claim_with_the_drug_stopped_passes():
    draft = "二甲双胍对肾脏没有直接损伤，但您的肾功能已经不适合再用，请停用二甲双胍，找医生换药。"
    assert not audit(draft, "eGFR 25，二甲双胍还能吃吗", age=70, egfr=25, medications=["二甲双胍"]).blocked


def test_a_name_with_its_brand_in_brackets_and_a_dose_after_is_advised_past_an_earlier_negation():
    draft = "可以直接用。没症状就不是活动性结核，英夫利西单抗（类克）按5mg/kg输注，不需要先吃抗结核药。"
    assert audit(draft, "T-SPOT阳性，能直接用英夫利西单抗吗", age=40, conditions=["潜伏性结核感染"]).blocked


def test_a_name_with_its_brand_in_brackets_warned_stays_warned():
    draft = "英夫利西单抗（类克）现在不能用，需要先治疗潜伏结核。"
    assert not audit(draft, "T-SPOT阳性，能直接用英夫利西单抗吗", age=40, conditions=["潜伏性结核感染"]).blocked


def test_a_short_aside_in_brackets_inside_a_warned_list_does_not_end_the_warning():
    """避免A（B）和C: the list goes on after the bracket, so C is warned too (integration, round 15)."""
    assert not audit("蚕豆病要避免紫药水（龙胆紫）和樟脑丸、萘丸。", conditions=["蚕豆病"], age=5).blocked
    assert audit("蚕豆病可以用紫药水（龙胆紫）和樟脑丸。", conditions=["蚕豆病"], age=5).blocked
