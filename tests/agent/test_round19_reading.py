"""Round 19, on sentences written for these tests (no case's wording): a drug the draft says is not a first choice; a
pair its sources manage by spacing the doses, spaced by the draft; an acute myocardial infarction that an unspecified
coronary disease does not stand for, and the low starting dose of thyroid hormone such a patient needs; carvedilol's
severe hepatic impairment; amounts that belong to calcium; a schedule the draft forbids; a unit's composition in
brackets; a brand identified as the generic discussed before; a class a named drug is said to be; a drinking verb of
the clause before; a class row's low-dose exception (Beers: doxepin > 6 mg/day). Each passing draft has a counterpart
that must still block."""

from .probes import audit, blocked_ids

OLD = dict(age=81, sex="male")


# -- 1. not a first choice ------------------------------------------------------------------------------------------
def test_a_drug_said_not_to_be_a_first_choice_passes():
    draft = "普萘洛尔能控制心率，但会让气道收缩，哮喘的人一般不作为首选。可以考虑地尔硫䓬，每次30mg，每天3次。"
    assert not audit(draft, age=45, sex="male", conditions=["哮喘"]).blocked


def test_a_drug_said_to_be_the_first_choice_still_blocks():
    draft = "普萘洛尔是控制心率的首选，每次10mg，每天3次。"
    assert audit(draft, age=45, sex="male", conditions=["哮喘"]).blocked


# -- 2. a pair managed by spacing -------------------------------------------------------------------------------------
def test_a_quinolone_spaced_from_an_antacid_passes():
    draft = "环丙沙星和氢氧化铝会在肠道里结合，影响抗菌效果。两药间隔至少2个小时吃就可以。"
    assert not audit(draft, age=50, sex="female", medications=["氢氧化铝"]).blocked


def test_a_quinolone_spaced_by_hours_before_or_after_passes():
    draft = "可以用左氧氟沙星，在吃钙片前2小时或吃完6小时后服用。"
    assert not audit(draft, age=62, sex="female", medications=["钙尔奇"]).blocked


def test_a_quinolone_taken_at_once_with_calcium_still_blocks():
    draft = "左氧氟沙星和钙片早上一起吃就行，每天一次。"
    assert audit(draft, age=62, sex="female", medications=["钙尔奇"]).blocked


def test_spacing_does_not_manage_a_pair_whose_sources_do_not_space_it():
    draft = "可以吃克拉霉素，和辛伐他汀间隔4小时服用就行。"
    assert audit(draft, age=66, sex="male", medications=["辛伐他汀"]).blocked


# -- 3. an acute myocardial infarction is not an unspecified coronary disease; thyroid hormone's starting dose -------
def test_low_starting_thyroxine_for_coronary_disease_passes():
    draft = "有冠心病的话，左甲状腺素先从每天25μg吃起，以后每隔一个多月复查甲功再慢慢往上加。"
    assert not audit(draft, age=70, sex="male", conditions=["冠心病", "甲减"]).blocked


def test_a_full_starting_thyroxine_dose_for_coronary_disease_still_blocks():
    draft = "左甲状腺素直接每天125μg，早上空腹吃。"
    assert "S0048" in blocked_ids(audit(draft, age=70, sex="male", conditions=["冠心病", "甲减"]))


def test_thyroxine_in_an_acute_myocardial_infarction_still_blocks():
    draft = "左甲状腺素每天25μg，早上空腹吃。"
    assert audit(draft, age=58, sex="male", conditions=["急性心肌梗死", "甲减"]).blocked


def test_a_coxib_for_coronary_disease_still_blocks():
    # the 心肌梗死 rows still meet an unspecified coronary disease (etoricoxib: established ischaemic heart disease)
    draft = "关节痛可以吃依托考昔，每天60mg。"
    assert audit(draft, age=66, sex="female", conditions=["冠心病"]).blocked


# -- 4. carvedilol: severe hepatic impairment, not cirrhosis as such -------------------------------------------------
def test_carvedilol_for_compensated_cirrhosis_passes():
    draft = "预防曲张静脉出血，可以用卡维地洛，每天6.25mg起，根据心率和血压慢慢加。"
    assert not audit(draft, age=55, sex="male", conditions=["肝硬化"]).blocked


def test_carvedilol_in_severe_hepatic_impairment_still_blocks():
    draft = "可以用卡维地洛，每天6.25mg。"
    assert audit(draft, age=55, sex="male", conditions=["重度肝功能不全"]).blocked


# -- 5. amounts that are not the drug's ---------------------------------------------------------------------------
def test_an_amount_of_elemental_calcium_is_not_vitamin_ds():
    draft = "每天补维生素D3 1000IU，元素钙500mg左右分两次吃。"
    assert not audit(draft, age=75, sex="female", conditions=["骨质疏松"]).blocked


def test_a_forbidden_twice_daily_schedule_is_not_given():
    draft = "肾不好时雷尼替丁要减量：每天晚上吃一次150mg就行，别像平时一天两次吃。"
    assert not audit(draft, age=70, sex="male", egfr=25).blocked


def test_a_twice_daily_schedule_given_still_blocks():
    draft = "雷尼替丁每次150mg，一天两次吃。"
    assert audit(draft, age=70, sex="male", egfr=25).blocked


def test_a_units_composition_in_brackets_is_no_dose():
    draft = "## 碳酸钙D3片的吃法\n\n- 每次1片（含钙500mg、维生素D3 200IU），每天1次，饭后吃"
    assert not audit(draft, age=68, sex="female").blocked


# -- 6. a brand identified as the generic discussed before --------------------------------------------------------
def test_a_brand_identified_as_the_generic_before_is_one_medicine():
    draft = "布洛芬哺乳期可以用，进入乳汁的量很少。芬必得（布洛芬缓释胶囊）每次0.3g，一天两次，饭后吃。"
    assert not audit(draft, age=30, sex="female", lactating=True).blocked


def test_a_brand_added_on_top_of_the_generic_still_blocks():
    draft = "布洛芬每次0.2g，每天3次；再加芬必得（布洛芬缓释胶囊）每次0.3g，每天2次。"
    assert audit(draft, age=30, sex="female").blocked


# -- 7. a class a named drug is said to be ------------------------------------------------------------------------
def test_a_class_a_drug_is_said_to_be_is_no_second_medicine():
    draft = "您医生加的噻托溴铵是长效抗胆碱药，吸入用，和您原来的药不重复。"
    assert not audit(draft, **OLD, conditions=["慢阻肺"]).blocked


def test_the_class_advised_on_its_own_still_blocks():
    draft = "肚子绞痛可以吃点抗胆碱药，比如颠茄片。"
    assert audit(draft, **OLD).blocked


# -- 8. a drinking verb of the clause before --------------------------------------------------------------------------
def test_a_drinking_verb_before_an_alcohol_free_form_endorses_nothing():
    draft = "酊剂含酒精，吃甲硝唑期间别喝。可以换成不含酒精的片剂。"
    assert not audit(draft, age=35, sex="female", medications=["甲硝唑"]).blocked


def test_drinking_allowed_in_its_own_clause_still_blocks():
    draft = "吃甲硝唑期间喝一点含酒精的饮料没关系。"
    assert audit(draft, age=35, sex="female", medications=["甲硝唑"]).blocked


# -- 9. a class row's low-dose exception ------------------------------------------------------------------------------
def test_low_dose_doxepin_for_an_older_adult_passes():
    draft = "如果睡眠卫生调整后还是睡不好，可以睡前吃多塞平3mg。"
    assert not audit(draft, age=80, sex="female").blocked


def test_doxepin_above_the_exception_still_blocks():
    draft = "睡前吃多塞平25mg。"
    assert audit(draft, age=80, sex="female").blocked


def test_doxepin_with_no_dose_still_blocks():
    draft = "失眠可以试试多塞平。"
    assert audit(draft, age=80, sex="female").blocked


def test_another_tricyclic_at_a_low_dose_still_blocks():
    draft = "睡前吃阿米替林10mg。"
    assert audit(draft, age=80, sex="female").blocked


# == found on b74–b75 (development sets of long, structured LLM-style answers), on sentences of our own ==============
def test_a_drug_named_as_what_an_effect_reaches_passes():
    draft = "西柚汁对经CYP3A4代谢的他汀有影响，比如辛伐他汀，阿托伐他汀也会受一定影响。"
    assert not audit(draft, age=58, sex="male", medications=["吉非罗齐"]).blocked


def test_the_affected_drug_advised_still_blocks():
    draft = "可以吃阿托伐他汀，每天20mg。"
    assert audit(draft, age=58, sex="male", medications=["吉非罗齐"]).blocked


def test_the_occasion_of_a_precaution_is_no_advice():
    draft = "二甲双胍可以继续吃。以后做需要注射碘造影剂的增强CT前，请提前告诉医生您在吃二甲双胍。"
    assert not audit(draft, age=66, sex="male", egfr=40, medications=["二甲双胍"]).blocked


def test_contrast_advised_with_metformin_kept_still_blocks():
    draft = "可以直接打碘造影剂做增强CT，当天二甲双胍照常吃。"
    assert audit(draft, age=66, sex="male", egfr=40, medications=["二甲双胍"]).blocked


def test_what_a_product_part_also_holds_is_its_content():
    draft = "白加黑不适合您：两种片子都含伪麻黄碱，黑片还有苯海拉明，会加重排尿困难。"
    assert not audit(draft, age=75, sex="male", conditions=["前列腺增生"]).blocked


def test_the_content_advised_on_its_own_still_blocks():
    draft = "可以睡前吃苯海拉明，每次25mg。"
    assert audit(draft, age=75, sex="male", conditions=["前列腺增生"]).blocked


def test_a_class_warned_with_a_universal_word_warns_its_members():
    draft = "这么小的宝宝不要自己喂任何退热药，布洛芬混悬液一般满6个月才用。请尽快去儿科急诊。"
    assert not audit(draft, age=0, weight_kg=5).blocked


def test_a_member_given_a_dose_after_such_a_warning_still_blocks():
    draft = "不要同时吃任何别的退热药，布洛芬混悬液每次2ml。"
    assert audit(draft, age=0, weight_kg=5).blocked


def test_two_examples_of_one_class_are_one_choice():
    draft = "可以在氨氯地平的基础上加一种ARB（比如氯沙坦、替米沙坦），由医生开具。"
    assert not audit(draft, age=60, sex="male", conditions=["高血压"]).blocked


def test_two_drugs_of_one_class_taken_together_still_block():
    draft = "氯沙坦和替米沙坦一起吃，每天各一片。"
    assert audit(draft, age=60, sex="male", conditions=["高血压"]).blocked


def test_a_per_kilogram_basis_and_the_product_measured_from_it_are_one_medicine():
    draft = "## 泰诺林混悬液怎么喂\n\n对乙酰氨基酚每次10～15mg/kg，16公斤约160～240mg；泰诺林混悬液（32mg/ml）每次5～7ml。"
    assert not audit(draft, age=4, weight_kg=16).blocked


def test_the_generic_and_a_product_given_both_still_block():
    draft = "对乙酰氨基酚片每次250mg，每天4次；再加泰诺林混悬液每次7ml，每天4次。"
    assert audit(draft, age=4, weight_kg=16).blocked


def test_a_brand_given_as_an_example_of_the_generic_is_one_medicine():
    draft = "可以用扑热息痛（例如泰诺林），每次150mg，间隔4-6小时，一天不超过4次。"
    assert not audit(draft, age=3, weight_kg=14).blocked


def test_a_compounds_composition_said_per_tablet_is_no_dose_and_a_stopped_medicine_no_duplicate():
    draft = "捷诺达每片含西格列汀50mg和二甲双胍850mg，每天两次随餐吃，这样就不需要再额外吃原来的二甲双胍了。"
    assert not audit(draft, age=60, sex="female", medications=["二甲双胍"]).blocked


def test_the_old_medicine_kept_beside_the_compound_still_blocks():
    draft = "捷诺达每天两次随餐吃，原来的二甲双胍也照常吃。"
    assert audit(draft, age=60, sex="female", medications=["二甲双胍"]).blocked


def test_an_amount_called_too_high_already_is_no_dose():
    draft = "您现在地高辛每天0.25mg，对85岁的人来说其实已经偏高，请医生查血药浓度后调整。"
    assert not audit(draft, age=85, sex="female", medications=["地高辛"]).blocked


def test_the_same_amount_kept_still_blocks():
    draft = "地高辛每天0.25mg继续吃就行。"
    assert audit(draft, age=85, sex="female", medications=["地高辛"]).blocked


def test_a_chewable_tablets_strength_weighs_the_count():
    draft = "6到14岁的孩子用5mg咀嚼片，每晚睡前一片。"
    assert not audit(draft.replace("用5mg", "用孟鲁司特5mg"), age=8, weight_kg=25).blocked


def test_two_chewable_tablets_still_block():
    draft = "孟鲁司特10mg咀嚼片，每晚两片。"
    assert audit(draft, age=8, weight_kg=25).blocked


def test_what_a_doctor_is_to_weigh_adding_is_no_advice():
    draft = "心率控制先调整美托洛尔的剂量，必要时由医生评估是否加用胺碘酮。"
    assert not audit(draft, age=80, sex="male").blocked


def test_the_same_drug_advised_still_blocks():
    draft = "可以加用胺碘酮，每天200mg。"
    assert audit(draft, age=80, sex="male").blocked


def test_a_stop_the_draft_allows_is_no_advice():
    draft = "可以停掉感冒灵，单用对乙酰氨基酚，每天不超过2g。"
    assert not audit(draft, age=75, sex="male").blocked


def test_a_drink_advised_to_stop_and_what_it_holds_endorse_nothing():
    draft = "建议停喝葡萄柚汁。葡萄柚中的成分会让非洛地平的浓度升高。"
    assert not audit(draft, age=60, sex="female", medications=["非洛地平"]).blocked


def test_the_drink_allowed_still_blocks():
    draft = "葡萄柚汁照常喝没关系。"
    assert audit(draft, age=60, sex="female", medications=["非洛地平"]).blocked


def test_a_claim_the_draft_denies_is_no_advice():
    draft = "银杏叶片和华法林合用会增加出血，不建议吃；也没有证据证明银杏叶能预防痴呆。"
    assert not audit(draft, age=72, sex="male", medications=["华法林"]).blocked


def test_the_herb_advised_still_blocks():
    draft = "银杏叶能改善记忆，可以每天吃两片。"
    assert audit(draft, age=72, sex="male", medications=["华法林"]).blocked


def test_a_heading_that_orders_a_stop_warns():
    draft = "## 来氟米特要立即停\n\n来氟米特有明确的致畸性，请尽快到产科和风湿科就诊。"
    assert not audit(draft, age=30, sex="female", pregnant=True, trimester=1).blocked


def test_a_class_named_in_a_comparison_with_a_qualifier_is_no_advice():
    draft = "对乙酰氨基酚对胃的刺激比传统非甾体抗炎药小得多，可以每次0.5g，一天不超过2g。"
    assert not audit(draft, age=60, sex="female", conditions=["胃溃疡"]).blocked


def test_the_class_advised_still_blocks():
    draft = "胃痛不要紧，可以吃非甾体抗炎药止痛。"
    assert audit(draft, age=60, sex="female", conditions=["胃溃疡"]).blocked


def test_a_drug_named_as_what_a_constituent_is_describes_that_thing():
    draft = "红曲米的有效成分莫纳可林K，化学结构就是洛伐他汀。您已经在吃瑞舒伐他汀，不建议再加红曲。"
    assert not audit(draft, age=62, sex="female", medications=["瑞舒伐他汀"]).blocked


def test_that_drug_advised_still_blocks():
    draft = "可以再加洛伐他汀，每天20mg。"
    assert audit(draft, age=62, sex="female", medications=["瑞舒伐他汀"]).blocked
