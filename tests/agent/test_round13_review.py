"""Round 13 review: existing rows the label sweep found stricter than their labels, narrowed in place (steroids in
diabetes are 慎用, SGLT2 inhibitors down to eGFR 25/20, DAPT after a TIA, low-dose aspirin in pregnancy, paracetamol
up to 2 g in cirrhosis, ...), on sentences written for these tests: the standard-care draft passes, the label's real
contraindication still blocks."""

import pytest

from medq.agent.knowledge import Lexicon

from .probes import audit, blocked_ids as rule_ids


def test_short_prednisone_course_in_a_diabetic_passes():
    draft = "慢阻肺急性加重可以按医嘱口服泼尼松每天30mg，连用5天，这几天多测血糖。"
    assert not audit(draft, conditions=["2型糖尿病"], age=66).blocked
    assert not audit(draft, conditions=["骨质疏松"], age=70, sex="female").blocked


def test_steroid_rows_are_caution_not_blocks():
    lex = Lexicon.load()
    rows = lex.rules
    for rid in ("R0450", "R0451", "R0452", "R0458", "R0459", "R0464", "R0465"):
        assert rows[rid].action == "caution" and not rows[rid].blocks


@pytest.mark.parametrize("drug", ["达格列净每天10mg", "恩格列净每天10mg"])
def test_sglt2_in_ckd_stage_3_passes_and_dialysis_blocks(drug):
    draft = f"慢性肾脏病可以加用{drug}，保护肾脏。"
    assert not audit(draft, conditions=["慢性肾脏病"], egfr=35, age=60).blocked
    assert audit(draft, conditions=["血液透析"], age=60).blocked


def test_dapagliflozin_initiation_below_egfr_25_still_blocks():
    assert audit("可以加用达格列净每天10mg。", conditions=["慢性肾脏病"], egfr=18, age=60).blocked


def test_low_dose_aspirin_for_preeclampsia_passes_and_analgesic_dose_blocks():
    low = "子痫前期高危，医生让每晚吃阿司匹林100mg，从孕12周吃到36周。"
    assert not audit(low, pregnant=True, trimester=2, age=32, sex="female").blocked
    high = "头痛可以吃阿司匹林，每次500mg，每天3次。"
    assert "R0023" in rule_ids(audit(high, pregnant=True, trimester=2, age=32, sex="female"))


def test_warfarin_after_ischaemic_stroke_passes_intracranial_haemorrhage_blocks():
    draft = "房颤合并脑梗，可以按医嘱吃华法林，INR控制在2-3。"
    assert not audit(draft, conditions=["脑梗死", "心房颤动"], age=60).blocked
    assert audit(draft, conditions=["脑出血", "心房颤动"], age=60).blocked


def test_dapt_after_tia_passes_ticagrelor_after_haemorrhage_blocks():
    dapt = "TIA后阿司匹林100mg加氯吡格雷75mg双抗21天，之后单药。"
    assert not audit(dapt, conditions=["短暂性脑缺血发作"], age=62).blocked
    tica = "替格瑞洛90mg每天两次，加阿司匹林100mg，双抗30天。"
    assert not audit(tica, conditions=["轻型缺血性卒中"], age=62).blocked
    assert audit(tica, conditions=["颅内出血"], age=62).blocked


def test_paracetamol_two_grams_in_cirrhosis_passes_four_grams_blocks():
    assert not audit("肝硬化可以吃对乙酰氨基酚止痛，每次500mg，每天不超过2g。", conditions=["肝硬化"], age=58).blocked
    assert "B0491" in rule_ids(audit("对乙酰氨基酚每次1g，每天4次。", conditions=["肝硬化"], age=58))
    assert audit("对乙酰氨基酚每次500mg，每天3次。", conditions=["失代偿期肝硬化"], age=58).blocked


def test_azithromycin_for_infant_pertussis_passes():
    assert not audit("百日咳婴儿首选阿奇霉素，按医嘱每天10mg/kg，连用5天。", age=0.2, weight_kg=5).blocked


def test_codeine_in_stable_asthma_is_no_block_acute_asthma_is():
    # asthma with no state named still meets the row on its subtype (condition.py: an unspecified broader condition)
    draft = "咳嗽厉害可以用可待因，每次15mg。"
    assert "R0125" not in rule_ids(audit(draft, conditions=["哮喘稳定期"], age=40))
    assert "R0125" in rule_ids(audit(draft, conditions=["哮喘急性发作"], age=40))


def test_levodopa_with_rasagiline_passes():
    assert not audit("帕金森病可以在左旋多巴基础上加用雷沙吉兰每天1mg。", medications=["多巴丝肼"], age=68).blocked


def test_amiodarone_with_digoxin_blocks_unless_digoxin_is_halved():
    assert audit("可以加用胺碘酮，地高辛照常吃。", medications=["地高辛"], age=60).blocked
    assert not audit("可以加用胺碘酮，同时地高辛减半到每天0.0625mg，监测血药浓度。", medications=["地高辛"], age=60).blocked


def test_iv_cefuroxime_and_fluconazole_candidaemia_doses_pass():
    assert not audit("头孢呋辛1.5g静脉滴注，每8小时一次。", age=50).blocked
    assert not audit("念珠菌血症氟康唑首日800mg，之后每天400mg。", age=50).blocked


def test_aliases_name_the_right_products():
    lex = Lexicon.load()
    for text, ingredients in (("科泰复", {"双氢青蒿素", "哌喹"}), ("沙美特罗替卡松", {"沙美特罗", "氟替卡松"})):
        found = [m for m in lex.find_mentions(f"可以用{text}") if m.kind in ("product", "drug")]
        assert found and set(lex.ingredients(found[0].canonical)) == ingredients
    # 600 alone is a dose, not 钙尔奇D
    assert not [m for m in lex.find_mentions("维生素B12每天600μg") if m.canonical == "钙尔奇D"]


@pytest.mark.parametrize("drug", ["恩格列净10mg", "达格列净10mg"])
def test_sglt2_in_an_adolescent_with_type_2_diabetes_passes_a_young_child_blocks(drug):
    draft = f"可以吃{drug}每天一次。"
    assert not audit(draft, conditions=["2型糖尿病"], age=14, weight_kg=60).blocked
    assert audit(draft, conditions=["2型糖尿病"], age=8, weight_kg=30).blocked


def test_beers_rows_spare_modified_release_nifedipine_and_vaginal_estriol():
    assert not audit("高血压可以吃硝苯地平控释片30mg每天一次。", age=70).blocked
    assert "A0504" in rule_ids(audit("可以吃心痛定10mg每天3次。", age=70))
    assert not audit("萎缩性阴道炎可以用雌三醇乳膏（欧维婷）阴道给药，每周2次。", age=70, sex="female").blocked
    assert "A0710" in rule_ids(audit("可以口服戊酸雌二醇1mg每天一次。", age=70, sex="female"))
