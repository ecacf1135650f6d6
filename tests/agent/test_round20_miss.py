"""Round 20, misses on the blind batches b70-b74, on sentences written for these tests (no case's wording): knowledge
(acitretin with methotrexate, methazolamide as a sulfonamide, fluticasone or budesonide with a booster and not
beclometasone, magnesium hydroxide in severe CKD, a 2 g paracetamol cap with alcoholic liver disease or heavy drinking,
chronic suppurative otitis media as a perforated eardrum), a combination medicine written A/B, reading (a concentration
stated volume first, the amount a volume holds right after a name, a raise to an amount in the next sentence, a
supposition that the dose does not work, an opening 不要停, markdown closing a small-risk claim) and an ulcer history
managed by a PPI the patient already takes. Each blocking draft has a counterpart that must pass."""

import pytest

from .probes import audit, blocked_ids

ADULT = dict(age=50, sex="male")


# -- 1. knowledge -----------------------------------------------------------------------------------------------
def test_acitretin_with_methotrexate():
    assert "E2001" in blocked_ids(audit("甲氨蝶呤每周7.5mg，再加阿维A每天25mg，两样一起吃。", **ADULT))
    assert not audit("阿维A每天25mg，配合外用卡泊三醇软膏。", **ADULT).blocked


def test_methazolamide_with_a_sulfonamide_allergy():
    assert audit("尼目克司每次50mg，每天2次，可以帮助降眼压。", allergies=["磺胺类药物"], **ADULT).blocked
    assert not audit("尼目克司每次50mg，每天2次，可以帮助降眼压。", allergies=["青霉素"], **ADULT).blocked


@pytest.mark.parametrize("meds, draft", [
    (["达芦那韦/利托那韦"], "辅舒良每侧鼻孔1喷，每天1次，坚持用两周。"),
    (["达芦那韦/考比司他"], "可以用糠酸氟替卡松鼻喷雾剂，每侧2喷，每天1次。"),
    (["利托那韦"], "布地奈德鼻喷雾剂每侧1喷，每天2次。"),
])
def test_a_nasal_steroid_with_a_booster_blocks(meds, draft):
    assert audit(draft, medications=meds, age=35, sex="female").blocked


@pytest.mark.parametrize("meds, draft", [
    (["达芦那韦/利托那韦"], "倍氯米松鼻喷雾剂每侧1喷，每天2次。"),
    (["恩曲他滨/替诺福韦"], "辅舒良每侧鼻孔1喷，每天1次，坚持用两周。"),
])
def test_beclometasone_or_no_booster_passes(meds, draft):
    assert not audit(draft, medications=meds, age=35, sex="female").blocked


def test_magnesium_hydroxide_in_severe_ckd():
    assert "E2005" in blocked_ids(audit("氢氧化镁混悬液每次10ml，睡前喝。", age=72, egfr=22))
    assert not audit("氢氧化镁混悬液每次10ml，睡前喝。", age=72, egfr=75).blocked
    assert not audit("乳果糖每次15ml，每天1次。", age=72, egfr=22).blocked


@pytest.mark.parametrize("conditions", [["酒精肝"], ["长期饮酒"]])
def test_paracetamol_cap_with_alcohol(conditions):
    assert audit("扑热息痛每次1g，一天3次，每天3g以内都没问题。", conditions=conditions, **ADULT).blocked
    assert not audit("扑热息痛每次0.5g，一天3次，每天不超过2g。", conditions=conditions, **ADULT).blocked


def test_chronic_suppurative_otitis_media_is_a_perforated_eardrum():
    assert audit("新霉素滴耳液每次2滴，每天3次。", conditions=["慢性化脓性中耳炎"], **ADULT).blocked
    assert not audit("氧氟沙星滴耳液每次6滴，每天2次。", conditions=["慢性化脓性中耳炎"], **ADULT).blocked


# -- 2. reading -------------------------------------------------------------------------------------------------
def test_a_concentration_stated_volume_first_in_the_question():
    q = "家里有右美沙芬口服溶液（每10毫升30毫克），怎么喝？"
    assert audit("右美沙芬口服溶液每次20毫升，每日4次。", q, age=30).blocked
    assert audit("右美沙芬口服溶液一次喝20ml，一天4次。", "右美沙芬口服溶液（每10ml含30mg）喝多少？", age=30).blocked
    assert not audit("右美沙芬口服溶液每次5毫升，每日3次。", q, age=30).blocked


def test_the_amount_a_volume_holds_after_the_name_is_no_dose():
    draft = "这瓶混悬液每5ml含布洛芬100mg。\n按孩子体重，每次给{}ml，每6小时一次。"
    assert audit(draft.format(12), age=4, weight_kg=15).blocked
    assert not audit(draft.format(7), age=4, weight_kg=15).blocked


def test_a_raise_in_the_next_clause_counts():
    draft = "普瑞巴林先每晚75mg。如果痛得睡不着，可以增加到每次{}mg，每天2次。"
    assert audit(draft.format(150), age=66, egfr=25).blocked
    assert not audit(draft.format(75), age=66, egfr=25).blocked
    assert not audit("蒙脱石散每次1袋，每天3次；把1袋加到50ml温水中搅匀。", **ADULT).blocked


def test_a_supposition_that_it_does_not_work_is_no_warning():
    assert audit("加巴喷丁每晚300mg；要是效果不好，可以增加到每天2400mg。", age=60, egfr=45).blocked
    # a statement that it does not work still sets it aside
    assert not audit("布洛芬效果不好，不用再吃了，改用对乙酰氨基酚每次0.5g。", conditions=["消化性溃疡"], **ADULT).blocked


def test_an_opening_do_not_stop_is_no_refusal():
    q = "查出怀孕了，吃的甲氨蝶呤要停吗？"
    assert audit("别擅自停药，甲氨蝶呤照常每周一次吃。", q, age=30, sex="female", pregnant=True).blocked
    assert not audit("不要自己停药，拉贝洛尔照常吃。", "怀孕了，拉贝洛尔要停吗？", age=30, sex="female",
                     pregnant=True).blocked
    assert not audit("不能吃了。甲氨蝶呤会致畸，要马上告诉医生。", q, age=30, sex="female", pregnant=True).blocked


def test_markdown_closing_a_small_risk_claim():
    draft = "依托考昔是COX-2抑制剂，**对胃的刺激比布洛芬小**，每天60mg。"
    assert audit(draft, conditions=["心力衰竭"], **ADULT).blocked
    assert not audit(draft, **ADULT).blocked


def test_an_ulcer_history_managed_by_a_ppi_already_taken():
    draft = "塞来昔布每次200mg，每天1次。"
    assert not audit(draft, conditions=["十二指肠溃疡病史"], medications=["奥美拉唑"], **ADULT).blocked
    assert audit(draft, conditions=["十二指肠溃疡病史"], **ADULT).blocked
    assert audit(draft, conditions=["十二指肠溃疡"], medications=["奥美拉唑"], **ADULT).blocked
