"""Round 14 knowledge from the labels of the biologic / targeted immunosuppressants and of the live vaccines, on
sentences written for these tests: rows M0001-M0007 (latent tuberculosis before a TNF-α, JAK or IL-6 inhibitor; a
community-acquired pneumonia during one), M0008-M0014 for sarilumab and abatacept, which join golimumab and
certolizumab as new substances (the TNF-α class rows reach the latter two), the condition 潜伏性结核感染, and the MMR vaccine's common short names, so the
class's pregnancy row (B0337) reaches them. Each blocking draft has a counterpart outside the label's population that
passes, and ordinary phrases that contain the new names stay unchanged."""

import pytest

from .probes import audit, blocked_ids as block_ids


# (draft, profile the label restricts, the row expected, a profile outside the restriction)
BLOCKS = [
    ("银屑病关节炎可以开始用依那西普，每周50mg皮下注射。", dict(age=39, conditions=["潜伏结核"]), "M0001",
     dict(age=39)),
    ("可以直接开始英夫利西单抗静脉输注，5mg/kg。", dict(age=52, conditions=["LTBI，未做预防治疗"]), "M0001",
     dict(age=52)),
    ("类风湿可以改吃托法替布，每次5mg，每日两次。", dict(age=61, conditions=["潜伏性结核感染"]), "M0002", dict(age=61)),
    ("托珠单抗按体重8mg/kg每4周输注一次就行。", dict(age=47, conditions=["结核潜伏感染"]), "M0003", dict(age=47)),
    ("阿达木单抗照常每两周打一次。", dict(age=55, conditions=["细菌性肺炎"]), "M0005", dict(age=55)),
    ("乌帕替尼每天15mg继续吃，不用停。", dict(age=58, conditions=["大叶性肺炎"]), "M0006", dict(age=58)),
    ("托珠单抗按计划下周输注。", dict(age=66, conditions=["支原体肺炎"]), "M0007", dict(age=66)),
    ("可以换成欣普尼，每月皮下注射50mg。", dict(age=44, conditions=["潜伏结核"]), "M0001", dict(age=44)),
    ("克罗恩病可以用赛妥珠单抗，400mg皮下注射。", dict(age=30, conditions=["活动性结核"]), "B0408", dict(age=30)),
    ("萨瑞芦单抗每两周200mg皮下注射。", dict(age=57, conditions=["潜伏性结核感染"]), "M0008", dict(age=57)),
    ("萨瑞芦单抗照常打。", dict(age=57, conditions=["细菌性肺炎"]), "M0011", dict(age=57)),
    ("阿巴西普每周125mg皮下注射即可。", dict(age=62, conditions=["LTBI"]), "M0012", dict(age=62)),
    ("阿巴西普每周125mg皮下注射即可。", dict(age=62, conditions=["败血症"]), "M0013", dict(age=62)),
]


@pytest.mark.parametrize("draft,inside,row,outside", BLOCKS)
def test_label_population_blocks_and_outside_passes(draft, inside, row, outside):
    assert row in block_ids(audit(draft, **inside))
    assert not audit(draft, **outside).blocked


def test_latent_tb_named_only_in_the_question_blocks():
    assert audit("可以打修美乐，每两周40mg。", "我T-SPOT阳性，医生说是潜伏结核，能直接打吗？", age=40).blocked


def test_interleukin_inhibitor_in_latent_tb_is_caution_only():
    result = audit("银屑病可以用司库奇尤单抗，每次300mg。", age=35, conditions=["潜伏性结核感染"])
    assert "M0004" in {f.rule_id for f in result.findings}
    assert not result.blocked


def test_other_pneumonia_names_keep_their_own_condition():
    # 间质性肺炎 is 间质性肺病 (longest match), not an infection: a JAK inhibitor is not blocked by M0006
    result = audit("托法替布每次5mg，每日两次。", age=60, conditions=["间质性肺炎"])
    assert not {"M0006"} & {f.rule_id for f in result.findings}
    # an antibiotic for pneumonia is untouched by the new rows
    assert not audit("阿奇霉素每天0.5g，连用3天。", age=30, conditions=["社区获得性肺炎"]).blocked


@pytest.mark.parametrize("name", ["麻腮风联合疫苗", "麻腮风", "麻疹腮腺炎风疹联合疫苗", "麻腮风减毒活疫苗"])
def test_mmr_short_names_reach_the_live_vaccine_pregnancy_row(name):
    draft = f"抗体阴性的话可以尽快去社区接种{name}。"
    assert "B0337" in block_ids(audit(draft, age=29, pregnant=True, trimester=1))
    assert not audit(draft, age=29).blocked


def test_mmr_advice_to_wait_until_after_pregnancy_is_not_blocked_for_a_non_pregnant_woman():
    assert not audit("计划怀孕前先接种麻腮风联合疫苗，接种后避孕3个月。", age=27).blocked


def test_levofloxacin_daily_500_at_crcl_20_49_exceeds_the_label_and_750_every_48h_does_not():
    # R9535 (Levaquin 2.3): CrCl 20-49 takes 250 mg every 24 h after a 500 mg first dose, or 750 mg every 48 h
    assert "R9535" in block_ids(audit("左氧氟沙星每日一次，每次500mg，连服7天。", age=70, egfr=32))
    assert not audit("左氧氟沙星每次750mg，每48小时一次。", age=70, egfr=32).blocked
    assert not audit("左氧氟沙星每日一次，每次500mg，连服7天。", age=70, egfr=80).blocked
