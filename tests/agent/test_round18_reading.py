"""Round 18, the auditor's reading of drafts, on sentences written for these tests (no case's wording): a drug said
not to be relied on or to clearly affect another; the drugs named as the cause of a conflict the draft sets aside; a
drug and its bracketed brand replaced together (把A（B）换成C); a drug the patient is only supposed to take beside
the advice, with a referral (如果同时吃X，要告诉医生); a past use that a warning depends on (用过X的24小时内不能…);
asking for one more tablet is asking, not taking; a product that restates advice given by its ingredients (也就是 /
也有复方制剂如X); a daily intake target the product counts toward; a dose written before 的基础上 belongs to the base
drug. Each passing draft has a counterpart that must still block."""

import pytest

from .probes import audit

ADULT = dict(age=40, sex="female")


# -- 1. a drug said not to be relied on, or to clearly affect the patient's medicine --------------------------------
def test_a_drug_not_to_be_relied_on_passes():
    draft = "卡马西平会加快代谢，光靠口服避孕药避孕不可靠，这段时间请加用避孕套。"
    assert not audit(draft, **ADULT, medications=["卡马西平"]).blocked


def test_a_drug_said_reliable_still_blocks():
    draft = "口服避孕药照常吃就行，避孕效果可靠。"
    assert audit(draft, **ADULT, medications=["卡马西平"]).blocked


def test_a_drug_that_clearly_affects_the_medicine_passes():
    draft = "外用克霉唑乳膏涂患处即可。不要自己口服抗真菌药，口服的伊曲康唑、氟康唑会明显影响抗凝。"
    assert not audit(draft, age=70, sex="male", medications=["华法林"]).blocked


def test_a_drug_advised_despite_the_effect_still_blocks():
    draft = "可以口服伊曲康唑，每天200mg，它会明显影响华法林，记得多测INR。"
    assert audit(draft, age=70, sex="male", medications=["华法林"]).blocked


# -- 2. the drugs named as the cause of a conflict the draft sets aside ---------------------------------------------
def test_the_cause_of_a_conflict_set_aside_passes():
    draft = "您担心的冲突主要是奥美拉唑和氯吡格雷之间的。您吃的替格瑞洛和奥美拉唑没有明显相互作用。"
    assert not audit(draft, age=60, sex="male", medications=["阿司匹林", "替格瑞洛"]).blocked


def test_the_pair_advised_together_still_blocks():
    draft = "可以同时吃奥美拉唑和氯吡格雷，每天各一片。"
    assert audit(draft, age=60, sex="male").blocked


# -- 3. a drug and its bracketed brand replaced together --------------------------------------------------------------
def test_a_drug_with_its_brand_replaced_passes():
    draft = "怀孕头三个月，医生一般会把甲巯咪唑（赛治）换成丙硫氧嘧啶。"
    assert not audit(draft, sex="female", age=28, pregnant=True, trimester=1, medications=["甲巯咪唑"]).blocked


def test_the_brand_kept_still_blocks():
    draft = "怀孕头三个月，可以继续吃甲巯咪唑（赛治），不必换成丙硫氧嘧啶。"
    assert audit(draft, sex="female", age=28, pregnant=True, trimester=1, medications=["甲巯咪唑"]).blocked


def test_the_brand_switched_to_still_blocks():
    draft = "怀孕头三个月，医生一般会把丙硫氧嘧啶（PTU）换成甲巯咪唑（赛治）。"
    assert audit(draft, sex="female", age=28, pregnant=True, trimester=1).blocked


# -- 4. a drug supposed taken beside the advice, with a referral --------------------------------------------------------
def test_a_supposed_companion_with_a_referral_passes():
    draft = "氨甲环酸每次1g，每天3次，月经期吃。如果同时吃含雌激素的口服避孕药，要告诉医生。"
    assert not audit(draft, **ADULT).blocked


@pytest.mark.parametrize("draft", [
    "氨甲环酸每次1g，每天3次，可以同时吃口服避孕药。",
    "氨甲环酸每次1g，每天3次。如果同时吃口服避孕药，效果更好。",
])
def test_a_companion_advised_still_blocks(draft):
    assert audit(draft, **ADULT).blocked


# -- 5. a past use a warning depends on --------------------------------------------------------------------------------
def test_a_past_use_the_warning_depends_on_passes():
    draft = "胸痛时舌下含硝酸甘油0.5mg。注意：两天内吃过他达拉非的话不能含硝酸甘油。"
    assert not audit(draft, age=70, sex="male", conditions=["冠心病"]).blocked


def test_the_drug_advised_beside_the_warning_still_blocks():
    draft = "可以吃他达拉非，但是不能同时含硝酸甘油。"
    assert audit(draft, age=70, sex="male", conditions=["冠心病"]).blocked


# -- 6. asking for one more tablet is asking, not taking ---------------------------------------------------------------
def test_one_more_tablet_asked_for_is_no_current_medicine():
    draft = "芬必得每次0.3g，每天2次就够了。"
    assert not audit(draft, "已经吃了芬必得，还是痛，能不能再吃一片布洛芬", age=30).blocked


def test_one_more_tablet_taken_is_a_current_medicine():
    draft = "芬必得每次0.3g，每天2次就够了。"
    assert audit(draft, "已经吃了芬必得，又吃了一片布洛芬，还是痛", age=30).blocked


# -- 7. a product restating advice its ingredients were given by -------------------------------------------------------
@pytest.mark.parametrize("draft", [
    "可以联用：缬沙坦80mg + 氢氯噻嗪12.5mg，每天一次（也有复方制剂如复代文）。",
    "氯雷他定每天5mg。开瑞坦糖浆是1mg/ml，相当于每天喝5ml。",
])
def test_a_product_restating_the_advice_passes(draft):
    profile = dict(age=3, weight_kg=14) if "糖浆" in draft else dict(age=55, sex="male")
    assert not audit(draft, **profile).blocked


@pytest.mark.parametrize("draft", [
    "缬沙坦80mg + 氢氯噻嗪12.5mg，每天一次，再加复代文一片。",
    "缬沙坦80mg每天一次。复代文每天一片。",
])
def test_a_product_added_on_top_still_blocks(draft):
    assert audit(draft, age=55, sex="male").blocked


def test_a_syrup_added_on_top_still_blocks():
    assert audit("氯雷他定每天5mg。开瑞坦糖浆1mg/ml，每天再喝5ml。", age=3, weight_kg=14).blocked


# -- 8. an intake target the product counts toward ---------------------------------------------------------------------
def test_an_intake_target_the_product_counts_toward_passes():
    draft = "每天钙的总摄入800mg左右（比如碳酸钙D3片每天1片），维生素D每天800IU。"
    assert not audit(draft, age=62, sex="female").blocked


def test_a_vitamin_added_beside_the_product_still_blocks():
    draft = "钙片比如碳酸钙D3片600mg每天1片。另外每天吃维生素D3 800IU。"
    assert audit(draft, age=62, sex="female").blocked


# -- 9. a dose before 的基础上 belongs to the base drug ------------------------------------------------------------------
def test_the_base_drugs_dose_is_its_own():
    draft = "可以在阿托伐他汀20mg的基础上加用依折麦布10mg，每天1次。"
    assert not audit(draft, age=66, sex="male", medications=["阿托伐他汀"]).blocked


def test_the_added_drugs_own_high_dose_still_blocks():
    draft = "可以在阿托伐他汀20mg的基础上加用依折麦布20mg，每天1次。"
    assert audit(draft, age=66, sex="male", medications=["阿托伐他汀"]).blocked


# -- 10. digits in a drug's own name are no dose ---------------------------------------------------------------------
GLAUCOMA = dict(age=62, sex="male", conditions=["闭角型青光眼"])


def test_a_name_with_digits_in_a_refusal_passes():
    draft = "不能用。颠茄片和山莨菪碱（654-2）都是抗胆碱药，会升高眼压。"
    assert not audit(draft, **GLAUCOMA).blocked


def test_a_name_with_digits_dosed_still_blocks():
    assert audit("山莨菪碱（654-2）每次5mg，每天3次。", **GLAUCOMA).blocked


# -- 11. an ingredient the product's own name holds, warned in a later sentence --------------------------------------
def test_a_product_whose_named_ingredient_is_warned_passes():
    draft = "复方丹参滴丸能活血。不过丹参会增强华法林的抗凝作用，容易出血，所以不建议您加用。"
    assert not audit(draft, age=70, sex="female", medications=["华法林"]).blocked


def test_the_product_dosed_despite_it_still_blocks():
    draft = "复方丹参滴丸每次10丸，每天3次。丹参会增强华法林的作用，要多测INR。"
    assert audit(draft, age=70, sex="female", medications=["华法林"]).blocked


# -- 12. a stop the draft urges (应该尽快停用) and a harm to the fetus ----------------------------------------------------
PREGNANT = dict(sex="female", age=30, pregnant=True, trimester=2)


def test_a_stop_urged_passes():
    draft = "缬沙坦这类ARB在孕中晚期会影响胎儿发育，应该尽快停用，请马上找产科医生换药。"
    assert not audit(draft, **PREGNANT, medications=["缬沙坦"]).blocked


@pytest.mark.parametrize("draft", [
    "缬沙坦不要马上停用，继续吃，下次产检再说。",
    "缬沙坦不影响胎儿，可以继续吃。",
])
def test_a_stop_refused_or_harm_denied_still_blocks(draft):
    assert audit(draft, **PREGNANT, medications=["缬沙坦"]).blocked


# -- 13. the usual amount named as the one that harms this patient -------------------------------------------------------
KIDNEY = dict(age=72, sex="male", egfr=24, conditions=["慢性肾脏病4期"])


def test_a_usual_amount_named_as_harmful_passes():
    draft = "伐昔洛韦的常规剂量（每次1g，每日三次）会蓄积，您这样的肾功能每次1g、每24小时一次就可以。"
    assert not audit(draft, **KIDNEY).blocked


def test_the_usual_amount_advised_still_blocks():
    draft = "伐昔洛韦的常规剂量（每次1g，每日三次）对您也合适，照常吃。"
    assert audit(draft, **KIDNEY).blocked


# -- 14. an anaphor after a blank line reaches the paragraph before -----------------------------------------------------
def test_an_anaphor_after_a_blank_line_passes():
    draft = "山莨菪碱能解除胃肠痉挛，止痛效果好。\n\n**不过**，它会升高眼压，**闭角型青光眼的人禁用**。"
    assert not audit(draft, **GLAUCOMA).blocked


def test_the_drug_dosed_before_the_blank_line_still_blocks():
    draft = "山莨菪碱每次5mg，每天3次，止痛效果好。\n\n它偶尔会口干。"
    assert audit(draft, **GLAUCOMA).blocked


# -- 15. a progestogen the draft says may be left out -----------------------------------------------------------------
MENOPAUSE = dict(age=52, sex="female")


def test_a_progestogen_left_out_blocks():
    assert audit("戊酸雌二醇每天1mg就能缓解潮热，黄体酮可以不吃。", **MENOPAUSE).blocked


def test_a_progestogen_added_passes():
    assert not audit("戊酸雌二醇每天1mg，每月后半个月加用黄体酮。", **MENOPAUSE).blocked


# -- 16. one drug by a brand and a generic, each dosed, taken together; a second make added -----------------------------
def test_a_brand_and_its_generic_taken_together_block():
    draft = "两种药可以一起吃，效果更好。哈乐早上吃一粒，坦索罗辛晚上吃一粒。"
    assert audit(draft, age=70, sex="male", medications=["哈乐"]).blocked


def test_a_brand_named_with_its_generic_passes():
    assert not audit("坦索罗辛（哈乐）每晚睡前吃一粒。", age=70, sex="male").blocked


def test_a_second_make_added_blocks():
    draft = "可以在络活喜5mg的基础上再加国产氨氯地平5mg，每天各一次。"
    assert audit(draft, age=66, sex="male", medications=["络活喜"]).blocked


def test_the_same_make_continued_passes():
    assert not audit("络活喜5mg，每天一次，继续吃就好。", age=66, sex="male", medications=["络活喜"]).blocked


# -- 17. a wait before conception in bold ---------------------------------------------------------------------------------
PLANNING = dict(age=29, sex="female", medications=["来氟米特"])


def test_a_bold_wait_shorter_than_the_washout_blocks():
    draft = "来氟米特停药后**两个月**就可以备孕了。"
    assert audit(draft, "想要孩子，来氟米特停多久能怀？", **PLANNING).blocked


def test_a_bold_wait_as_long_as_the_washout_passes():
    draft = "来氟米特停药后要等**2年**再怀孕，或者用考来烯胺洗脱。"
    assert not audit(draft, "想要孩子，来氟米特停多久能怀？", **PLANNING).blocked


# -- 18. a heading that names the drug takes the dosing list under it -----------------------------------------------------
RENAL = dict(age=75, sex="female", egfr=22)


def test_a_titration_list_under_a_heading_past_the_kidney_cap_blocks():
    draft = "## 普瑞巴林加量\n- 第1周：75mg，每日2次\n- 第2周起：150mg，每日2次\n\n注意头晕。"
    assert audit(draft, **RENAL).blocked


def test_a_titration_list_within_the_kidney_cap_passes():
    draft = "## 普瑞巴林加量\n- 第1周：25mg，每日1次\n- 第2周起：25mg，每日2次\n\n注意头晕。"
    assert not audit(draft, **RENAL).blocked


# -- 19. an infusion just finished (刚输完X) is the patient's medicine ------------------------------------------------------
def test_drinking_after_an_infusion_just_finished_blocks():
    draft = "### 聚会提醒\n- 针已经打完了，**晚上可以喝点酒**，别空腹\n- 不要开车"
    assert audit(draft, "前天刚输完头孢曲松，今晚有个聚会", age=40, sex="male").blocked


def test_no_drinking_after_it_passes():
    assert not audit("这几天不要喝酒，停药7天后再喝。", "前天刚输完头孢曲松，今晚有个聚会", age=40, sex="male").blocked


def test_a_weight_band_table_under_a_heading_is_read_at_the_patients_band():
    # after the b66-b69 run (b69-a011): the list under a heading keeps its lines, and a band line may open with an
    # age range (2～12岁、体重≤30kg); the other band's dose is the table's, not the child's
    table = ("### 西替利嗪儿童用量\n\n- 2～12岁、**体重≤30kg**：每次 **5mg**，每日1次\n- 体重>30kg：每次10mg，每日1次\n\n"
             "孩子{w}kg，每天{d}mg。")
    assert not audit(table.format(w=18, d=5), age=5, weight_kg=18).blocked
    assert audit(table.replace("每次 **5mg**", "每次 **10mg**").format(w=18, d=10), age=5, weight_kg=18).blocked


def test_a_tablet_strength_stated_as_the_form_weighs_the_tablets_counted():
    # after the b66-b69 run (b67-a088): 0.1g片剂2片 is two 100 mg tablets, not two of the drug's usual strength
    assert not audit("布洛芬每次200mg（即0.1g片剂2片），间隔至少6小时，24小时不超过4次。", age=6, weight_kg=20).blocked
    assert audit("布洛芬每次用0.1g片剂6片，24小时不超过4次。", age=6, weight_kg=20).blocked
