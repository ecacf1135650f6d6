"""Round 13 label sweep, ATC groups N and M (rule ids X…), on sentences written for these tests: a draft that
recommends the drug to the population the label restricts blocks on the row; the same drug for a patient outside
it passes (or at least does not meet the row); a dose above the label's maximum blocks, one within it does not."""

import csv
from functools import lru_cache

import pytest

from medq.agent.knowledge import DEFAULT_DIR

from .probes import audit, lexicon, blocked_ids as rule_ids


@lru_cache(maxsize=None)
def x(subject: str, key: str = "") -> str:
    """The id of this round's row on `subject` whose population or interactant is `key` (a dosing row when key is
    '' or a population): probes name rows by what they say, so they keep meaning the same row if ids move."""
    with open(DEFAULT_DIR / "rules.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["id"].startswith("X") and r["subject"] == subject]
    found = [r["id"] for r in rows if key and key in (r["interactant"], r["population"])] or \
        [r["id"] for r in rows if r["kind"] == "dosing" and r["population"] == key]
    assert len(found) == 1, (subject, key, found)
    return found[0]


# (draft, profile that meets the row, profile that does not, rule id)
POPULATION = [
    ("帕金森可以吃美多芭，每次半片，每日3次。", dict(age=22), dict(age=68), x("苄丝肼", "age<25")),
    ("帕金森可以吃美多芭，每次半片，每日3次。", dict(age=30, pregnant=True, trimester=2), dict(age=30), x("苄丝肼", "pregnant")),
    ("可以加用息宁（卡左双多巴控释片），每次1片每日2次。", dict(age=70, conditions=["闭角型青光眼"]), dict(age=70), x("卡比多巴", "condition:闭角型青光眼")),
    ("可以加恩他卡朋，每次200mg随美多芭一起吃。", dict(age=66, conditions=["肝硬化"]), dict(age=66), x("恩他卡朋", "condition:肝功能不全")),
    ("失眠伴抑郁可以用阿戈美拉汀25mg睡前服。", dict(age=50, conditions=["肝硬化"]), dict(age=50), x("阿戈美拉汀", "condition:肝功能不全")),
    ("失眠伴抑郁可以用阿戈美拉汀25mg睡前服。", dict(age=80), dict(age=60), x("阿戈美拉汀", "age>=75")),
    ("焦虑可以吃丁螺环酮，每次5mg每日3次。", dict(age=40, conditions=["重症肌无力"]), dict(age=40), x("丁螺环酮", "condition:重症肌无力")),
    ("焦虑可以吃丁螺环酮，每次5mg每日3次。", dict(age=28, pregnant=True, trimester=1), dict(age=28), x("丁螺环酮", "pregnant")),
    ("戒烟可以试试安非他酮缓释片，每日150mg。", dict(age=24, conditions=["神经性贪食"]), dict(age=24), x("安非他酮", "condition:神经性贪食")),
    ("抑郁可以用马普替林，每晚25mg起。", dict(age=45, conditions=["癫痫"]), dict(age=45), x("马普替林", "condition:癫痫")),
    ("癫痫可以加拉考沙胺，每次50mg每日2次。", dict(age=60, conditions=["二度Ⅱ型房室传导阻滞"]), dict(age=60), x("拉考沙胺", "condition:二度Ⅱ型房室传导阻滞")),
    ("癫痫可以加唑尼沙胺，每日100mg。", dict(age=35, allergies=["磺胺"]), dict(age=35), x("唑尼沙胺", "allergy:磺胺类")),
    ("戒酒可以在医生指导下服双硫仑，每日250mg。", dict(age=50, conditions=["冠心病"]), dict(age=50), x("双硫仑", "condition:冠心病")),
    ("失眠可以试试苏沃雷生10mg睡前服。", dict(age=30, conditions=["发作性睡病"]), dict(age=30), x("食欲素受体拮抗剂", "condition:发作性睡病")),
    ("骨质疏松可以打罗莫佐单抗，每月210mg皮下注射。", dict(age=70, sex="female", conditions=["心肌梗死"]),
     dict(age=70, sex="female"), x("罗莫佐单抗", "condition:心肌梗死")),
    ("骨质疏松可以吃雷奈酸锶，每晚2g。", dict(age=72, conditions=["下肢深静脉血栓"]), dict(age=72), x("雷奈酸锶", "condition:血栓栓塞病史")),
    ("膝关节炎可以吃双醋瑞因，每次50mg每日2次。", dict(age=70), dict(age=55), x("双醋瑞因", "age>=65")),
    ("痛风降尿酸可以吃别嘌醇，从每日100mg开始。", dict(age=45, conditions=["HLA-B*5801阳性"]), dict(age=45), x("别嘌醇", "condition:HLA-B*5801阳性")),
    ("腰背痛可以吃硫秋水仙苷，每次4mg每日2次。", dict(age=29, pregnant=True, trimester=1), dict(age=29), x("硫秋水仙苷", "pregnant")),
    ("肌肉痛可以吃奥芬那君，每次100mg每日2次。", dict(age=78), dict(age=50), x("奥芬那君", "age>=65")),
    ("全麻用七氟烷诱导就可以。", dict(age=30, conditions=["恶性高热"]), dict(age=30), x("七氟烷", "condition:恶性高热")),
    ("渐冻症可以用利鲁唑，每次50mg每日2次。", dict(age=55, conditions=["肝硬化"]), dict(age=55), x("利鲁唑", "condition:肝功能不全")),
]


@pytest.mark.parametrize("draft, meets, outside, rule", POPULATION)
def test_population_rows_block_inside_and_pass_outside(draft, meets, outside, rule):
    assert rule in rule_ids(audit(draft, **meets))
    assert rule not in rule_ids(audit(draft, **outside))


def test_a_draft_that_warns_against_the_drug_passes():
    assert x("丁螺环酮", "pregnant") not in rule_ids(audit("孕期不能吃丁螺环酮，焦虑请先做心理治疗。", age=28, pregnant=True, trimester=1))
    assert x("阿戈美拉汀", "condition:肝功能不全") not in rule_ids(audit("肝硬化的人不能用阿戈美拉汀，换其他抗抑郁药。", age=50, conditions=["肝硬化"]))


INTERACTIONS = [
    ("抑郁可以加阿戈美拉汀25mg睡前服。", ["氟伏沙明"], x("阿戈美拉汀", "氟伏沙明")),
    ("偏头痛发作时吃乌布吉泮100mg。", ["伊曲康唑"], x("乌布吉泮", "伊曲康唑")),
    ("帕金森可以加吡贝地尔，每次50mg每日2次。", ["氟哌啶醇"], x("吡贝地尔", "典型抗精神病药")),
    ("睡不好可以用雷美替胺8mg睡前服。", ["氟伏沙明"], x("雷美替胺", "氟伏沙明")),
]


# round 15's class rows (partner + 强效CYP3A4抑制剂) report first where they cover the same pair
R15_CLASS_ROW = {x("乌布吉泮", "伊曲康唑"): "P0023", x("鲁拉西酮", "克拉霉素"): "P0015", x("喹硫平", "克拉霉素"): "P0019"}


@pytest.mark.parametrize("draft, meds, rule", INTERACTIONS)
def test_interactions_to_avoid_with_the_patients_medicine(draft, meds, rule):
    assert {rule, R15_CLASS_ROW.get(rule)} & rule_ids(audit(draft, age=50, medications=meds))
    assert rule not in rule_ids(audit(draft, age=50))


def test_disulfiram_with_alcohol_and_with_metronidazole():
    assert x("双硫仑", "饮酒") in rule_ids(audit("吃双硫仑期间偶尔喝点啤酒没关系。", age=45))
    assert x("双硫仑", "甲硝唑") in rule_ids(audit("戒酒可以服双硫仑，每日250mg。", age=45, medications=["甲硝唑"]))


def test_esketamine_and_lasmiditan_before_driving():
    assert x("艾司氯胺酮", "驾驶") in rule_ids(audit("用完艾司氯胺酮鼻喷剂就可以自己开车回家。", age=40))
    assert x("拉米地坦", "驾驶") in rule_ids(audit("吃了拉米地坦100mg，一小时后开车上班没问题。", age=35))


@pytest.mark.parametrize("draft, rule, blocks", [
    ("偏头痛发作时口服酒石酸麦角胺，一次3mg。", x("麦角胺"), True),
    ("偏头痛发作时口服酒石酸麦角胺，一次1mg。", x("麦角胺"), False),
    ("焦虑可以吃丁螺环酮，每次30mg每日3次。", x("丁螺环酮"), True),
    ("焦虑可以吃丁螺环酮，每次10mg每日2次。", x("丁螺环酮"), False),
    ("睡前吃莱博雷生20mg。", x("莱博雷生"), True),
    ("睡前吃莱博雷生5mg。", x("莱博雷生"), False),
    ("抑郁可以吃噻奈普汀，每次25mg每日3次。", x("噻奈普汀"), True),
    ("抑郁可以吃噻奈普汀，每次12.5mg每日3次。", x("噻奈普汀"), False),
])
def test_label_maximum_doses(draft, rule, blocks):
    assert (rule in rule_ids(audit(draft, age=45))) is blocks


def test_lacosamide_renal_cap():
    assert x("拉考沙胺", "egfr<30") in rule_ids(audit("拉考沙胺每次200mg每日2次。", age=66, egfr=20))
    assert x("拉考沙胺", "egfr<30") not in rule_ids(audit("拉考沙胺每次100mg每日2次。", age=66, egfr=20))


@pytest.mark.parametrize("name, canonical", [("戒酒硫", "双硫仑"), ("恩必普", "丁苯酞"), ("达体朗", "噻奈普汀"), ("卫克泰", "吡仑帕奈"),
                                             ("优普洛", "罗替高汀"), ("路滴美", "马普替林"), ("安必丁", "双醋瑞因"),
                                             ("Spravato", "艾司氯胺酮"), ("平痛新", "奈福泮")])
def test_names_patients_use(name, canonical):
    found = [m for m in lexicon().find_mentions(f"医生开了{name}，怎么吃") if m.kind == "drug"]
    assert found and found[0].canonical == canonical


@pytest.mark.parametrize("draft, meets, outside, rule", [
    ("精神分裂症可以用氨磺必利，每日200mg起。", dict(age=12), dict(age=30), ("氨磺必利", "age<15")),
    ("精神症状可以用氯丙嗪，每次25mg每日2次。", dict(age=50, conditions=["青光眼"]), dict(age=50), ("氯丙嗪", "condition:青光眼")),
    ("记忆力差可以吃吡拉西坦，每次0.8g每日3次。", dict(age=70, conditions=["脑出血"]), dict(age=70, conditions=["腔隙性脑梗死"]),
     ("吡拉西坦", "condition:出血性脑卒中")),
    ("偏头痛发作时吃利扎曲普坦10mg。", dict(age=30, conditions=["预激综合征"]), dict(age=30), ("曲普坦类", "condition:预激综合征")),
    ("眩晕可以吃地芬尼多，每次25mg每日3次。", dict(age=70, conditions=["尿毒症"]), dict(age=70), ("地芬尼多", "condition:肾功能不全")),
    ("帕金森可以加雷沙吉兰，每日1mg。", dict(age=70, conditions=["重度肝功能不全"]), dict(age=70), ("雷沙吉兰", "condition:重度肝功能不全")),
])
def test_round13_batch2_population_rows(draft, meets, outside, rule):
    assert x(*rule) in rule_ids(audit(draft, **meets))
    assert x(*rule) not in rule_ids(audit(draft, **outside))


@pytest.mark.parametrize("draft, meds, rule", [
    ("双相抑郁可以用鲁拉西酮，每日40mg随餐服。", ["克拉霉素"], ("鲁拉西酮", "克拉霉素")),
    ("双相抑郁可以用鲁拉西酮，每日40mg随餐服。", ["利福平"], ("鲁拉西酮", "利福平")),
    ("肌肉痉挛可以吃环苯扎林，每次5mg每日3次。", ["吗氯贝胺"], ("环苯扎林", "单胺氧化酶抑制剂")),
    ("术后疼痛可以用酮咯酸，每次10mg。", ["丙磺舒"], ("酮咯酸", "丙磺舒")),
])
def test_round13_batch2_interactions(draft, meds, rule):
    assert {x(*rule), R15_CLASS_ROW.get(x(*rule))} & rule_ids(audit(draft, age=45, medications=meds))
    assert x(*rule) not in rule_ids(audit(draft, age=45))


@pytest.mark.parametrize("draft, age, rule, blocks", [
    ("失眠睡前吃三唑仑0.5mg。", 72, ("三唑仑", "age>=65"), True),
    ("失眠睡前吃三唑仑0.125mg。", 72, ("三唑仑", "age>=65"), False),
    ("肌张力高可以吃替扎尼定，一次吃20mg。", 45, ("替扎尼定", ""), True),
    ("肌张力高可以吃替扎尼定，每次4mg每日3次。", 45, ("替扎尼定", ""), False),
    ("帕金森可以加雷沙吉兰，每日2mg。", 68, ("雷沙吉兰", ""), True),
])
def test_round13_batch2_doses(draft, age, rule, blocks):
    assert (x(*rule) in rule_ids(audit(draft, age=age))) is blocks


@pytest.mark.parametrize("draft, meets, outside, rule", [
    ("脑供血不足可以吃长春西汀，每次5mg每日3次。", dict(age=65, conditions=["脑出血"]), dict(age=65), ("长春西汀", "condition:出血性脑卒中")),
    ("脑供血不足可以吃长春西汀，每次5mg每日3次。", dict(age=31, pregnant=True, trimester=2), dict(age=31), ("长春西汀", "pregnant")),
    ("舞蹈症可以用丁苯那嗪，每次12.5mg每日2次。", dict(age=50, conditions=["抑郁症"]), dict(age=50), ("丁苯那嗪", "condition:抑郁症")),
    ("预防偏头痛可以睡前吃苯噻啶0.5mg。", dict(age=60, conditions=["前列腺增生"]), dict(age=40), ("苯噻啶", "condition:前列腺增生")),
    ("焦虑失眠可以吃眠尔通，每次200mg。", dict(age=80), dict(age=45), ("甲丙氨酯", "age>=65")),
    ("发热头痛可以吃贝诺酯，每次0.5g。", dict(age=10), dict(age=30), ("贝诺酯", "age<16")),
])
def test_round13_batch3_population_rows(draft, meets, outside, rule):
    assert x(*rule) in rule_ids(audit(draft, **meets))
    assert x(*rule) not in rule_ids(audit(draft, **outside))


def test_tetrabenazine_with_reserpine_and_compound_chlorzoxazone_contents():
    assert x("丁苯那嗪", "利血平") in rule_ids(audit("舞蹈症可以用丁苯那嗪，每次12.5mg。", age=60, medications=["利血平"]))
    lex = lexicon()
    found = [m for m in lex.find_mentions("腰扭伤吃复方氯唑沙宗片") if m.kind == "product"]
    assert found and set(lex.ingredients(found[0].canonical)) == {"氯唑沙宗", "对乙酰氨基酚"}


@pytest.mark.parametrize("name, canonical", [("千憂解", "度洛西汀"), ("敏特思", "伏硫西汀"), ("颅通定", "罗通定"),
                                             ("保骼麗", "地舒单抗"), ("扑炎痛", "贝诺酯")])
def test_taiwanese_and_historic_names(name, canonical):
    found = [m for m in lexicon().find_mentions(f"我在吃{name}，可以吗") if m.kind == "drug"]
    assert found and found[0].canonical == canonical


@pytest.mark.parametrize("draft, meds, rule", [
    ("失眠伴焦虑可以睡前吃喹硫平25mg。", ["克拉霉素"], ("喹硫平", "克拉霉素")),
    ("抽动症可以用匹莫齐特，每日1mg起。", ["舍曲林"], ("匹莫齐特", "舍曲林")),
])
def test_round13_batch4_label_interactions(draft, meds, rule):
    assert {x(*rule), R15_CLASS_ROW.get(x(*rule))} & rule_ids(audit(draft, age=40, medications=meds))
    assert x(*rule) not in rule_ids(audit(draft, age=40))


@pytest.mark.parametrize("draft, meets, outside, rule", [
    ("睡不着可以睡前吃唑吡坦5mg。", dict(age=55, conditions=["睡眠呼吸暂停"]), dict(age=55), ("唑吡坦", "condition:睡眠呼吸暂停")),
    ("可以睡前吃氯硝西泮0.5mg。", dict(age=50, conditions=["闭角型青光眼"]), dict(age=50, conditions=["开角型青光眼"]),
     ("氯硝西泮", "condition:闭角型青光眼")),
])
def test_round13_batch4_population_rows(draft, meets, outside, rule):
    assert x(*rule) in rule_ids(audit(draft, **meets))
    assert x(*rule) not in rule_ids(audit(draft, **outside))


def test_rows_that_restate_a_stricter_label_still_block_with_an_older_row_reported():
    # the older rows (R0988 azoles avoid, B0095 QT class) are reported first by id; the draft blocks either way
    assert audit("焦虑发作时吃阿普唑仑0.4mg。", age=40, medications=["伊曲康唑"]).blocked
    assert audit("抽动症可以用匹莫齐特，每日1mg起。", age=16, conditions=["先天性长QT综合征"]).blocked
    assert not audit("抽动症可以用匹莫齐特，每日1mg起。", age=16).blocked


def test_amide_local_anaesthetics_after_a_lidocaine_allergy_and_iv_lidocaine_in_av_block():
    assert x("罗哌卡因", "allergy:利多卡因") in rule_ids(audit("术中用罗哌卡因做神经阻滞。", age=60, allergies=["利多卡因"]))
    assert x("罗哌卡因", "allergy:利多卡因") not in rule_ids(audit("术中用罗哌卡因做神经阻滞。", age=60, allergies=["青霉素"]))
    row = x("利多卡因", "condition:二度Ⅱ型房室传导阻滞")
    assert row in rule_ids(audit("可以用利多卡因静脉推注50mg控制室早。", age=60, conditions=["二度Ⅱ型房室传导阻滞"]))
    # first-degree block is not the label's 二、三度: dental infiltration stays allowed
    assert row not in rule_ids(audit("拔牙用利多卡因局部浸润麻醉即可。", age=60, conditions=["一度房室传导阻滞"]))


@pytest.mark.parametrize("draft, rule, blocks", [
    ("镇静可以口服咪达唑仑30mg。", ("咪达唑仑", ""), True),
    ("镇静可以口服咪达唑仑7.5mg。", ("咪达唑仑", ""), False),
    ("精神分裂症齐拉西酮每次100mg，每日2次。", ("齐拉西酮", ""), True),
    ("精神分裂症齐拉西酮每次40mg，每日2次。", ("齐拉西酮", ""), False),
])
def test_round13_batch5_doses(draft, rule, blocks):
    assert (x(*rule) in rule_ids(audit(draft, age=40))) is blocks


@pytest.mark.parametrize("draft, meets, outside, rule", [
    ("关节痛可以吃依托考昔，每日60mg。", dict(age=14), dict(age=40), ("依托考昔", "age<16")),
    ("抑郁失眠可以吃米氮平，睡前15mg。", dict(age=15), dict(age=40), ("米氮平", "age<18")),
    ("不宁腿可以睡前吃普拉克索0.125mg。", dict(age=30, lactating=True), dict(age=30), ("普拉克索", "lactating")),
    ("失眠可以睡前吃多塞平25mg。", dict(age=30, lactating=True), dict(age=30), ("多塞平", "lactating")),
    ("骨质疏松可以吃利塞膦酸钠，每周35mg。", dict(age=38, lactating=True), dict(age=60, sex="female"), ("双膦酸盐类", "lactating")),
    ("焦虑抑郁可以吃黛力新，每天早上1片。", dict(age=50, conditions=["闭角型青光眼"]), dict(age=50),
     ("氟哌噻吨美利曲辛", "condition:闭角型青光眼")),
])
def test_round13_batch6_population_rows(draft, meets, outside, rule):
    assert x(*rule) in rule_ids(audit(draft, **meets))
    assert x(*rule) not in rule_ids(audit(draft, **outside))


def test_buprenorphine_patch_in_myasthenia_and_with_an_maoi():
    draft = "慢性腰痛可以贴丁丙诺啡透皮贴，每周一贴5μg/h。"
    assert x("丁丙诺啡", "condition:重症肌无力") in rule_ids(audit(draft, age=60, conditions=["重症肌无力"]))
    assert x("丁丙诺啡", "单胺氧化酶抑制剂") in rule_ids(audit(draft, age=60, medications=["吗氯贝胺"]))
    assert not audit(draft, age=60).blocked
