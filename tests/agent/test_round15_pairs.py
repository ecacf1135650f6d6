"""Round 15 interaction pairs (rows changed in place with "R15复核" and rows P0001-P0037), on sentences written for
these tests (no audit case was read): a guideline-standard combination whose label says 慎用/监测 passes for a patient
on the partner, the forbidden part of the same pair still blocks, every partner a strong CYP3A4 inhibitor's or a
booster's label forbids blocks (the booster reached through its brand and combination products), and the pairs
written twice now agree on whether they block."""

import pytest

from .probes import audit, blocked_ids, lexicon


# ---- standard care the label manages by monitoring: the draft adding the partner passes ------------------------
@pytest.mark.parametrize("draft, meds", [
    ("急性冠脉综合征，每天服阿司匹林肠溶片100mg抗血小板。", ["依诺肝素"]),
    ("放支架后加用氯吡格雷75mg每日1次，一般联用不超过12个月，注意有无出血。", ["华法林"]),
    ("支架术后加氯吡格雷75mg每日1次，和利伐沙班一起用，注意黑便和牙龈出血。", ["利伐沙班"]),
    ("支架术后加氯吡格雷75mg每日1次，按心内科方案定期复查。", ["达比加群酯"]),
    ("冠脉介入术中术后可以用替格瑞洛90mg每日2次。", ["依诺肝素"]),
    ("房颤抗凝可以用华法林，起始3mg每日1次，每周查INR。", ["胺碘酮"]),
    ("房颤心室率快可以加地高辛，剂量减半为0.0625mg每日1次，定期查血药浓度。", ["胺碘酮"]),
    ("甘油三酯高可以加非诺贝特200mg每晚1次，留意肌肉酸痛。", ["阿托伐他汀"]),
    ("降脂可以吃阿托伐他汀20mg每晚1次。", ["地尔硫䓬"]),
    ("帕金森病出现幻觉，可以睡前服喹硫平12.5mg。", ["左旋多巴"]),
    ("喘憋时可以吸沙丁胺醇气雾剂，每次1到2喷。", ["美托洛尔"]),
    ("甲减可以吃左甲状腺素钠片50μg每日1次，服药后一个月复查INR。", ["华法林"]),
    ("甲亢可以用甲巯咪唑10mg每日3次，期间加测INR。", ["华法林"]),
    ("痛风降尿酸可以吃别嘌醇100mg每日1次，注意复查INR。", ["华法林"]),
    ("降尿酸可以吃苯溴马隆50mg每日1次，多喝水，复查INR。", ["华法林"]),
])
def test_a_standard_combination_the_label_calls_caution_passes(draft, meds):
    assert not audit(draft, medications=meds, age=62).blocked


def test_a_relaxed_pair_still_warns_and_a_draft_that_denies_it_blocks():
    result = audit("甲减可以吃左甲状腺素钠片50μg每日1次。", medications=["华法林"], age=70)
    assert not result.blocked and any(f.rule == "interaction" for f in result.findings)
    # the caution's management is monitoring: a draft that says there is no interaction is refused
    assert audit("左甲状腺素钠片50μg每日1次，和华法林没有相互作用，不用查INR。", medications=["华法林"], age=70).blocked
    assert not audit("氯吡格雷和华法林一起用出血风险高，是否联用请心内科决定。", medications=["华法林"], age=70).blocked


# ---- the forbidden part of the same pairs still blocks --------------------------------------------------------
@pytest.mark.parametrize("draft, meds, rows", [
    ("关节痛可以吃布洛芬缓释胶囊0.3g每日2次。", ["华法林"], {"R0475", "A0246", "R0009", "B0429"}),
    ("头痛可以吃阿司匹林0.5g。", ["华法林"], {"A0243", "R0475", "A0246"}),
    ("头痛可以吃阿司匹林0.5g。", ["利伐沙班"], {"A0299", "R0490"}),
    ("腰痛可以服用布洛芬0.3g每日2次。", ["依诺肝素"], {"R0009"}),
    ("膝关节痛可以吃依托考昔60mg每日1次。", ["醋硝香豆素"], {"P0002"}),
    ("躁动可以加氟哌啶醇2mg每晚1次。", ["左旋多巴"], {"P0001"}),
    ("可以补钾，氯化钾缓释片1g每日3次。", ["螺内酯"], {"R0708", "R0715"}),
    # ACEI/ARB with spironolactone or a potassium supplement stays avoid (integration: outside authors block the
    # add-on with or without a monitoring plan, b1-b49; labels warn of hyperkalaemia)
    ("心衰可以加螺内酯20mg每日1次，两周后查血钾和肌酐。", ["依那普利"], {"R0620"}),
    ("心衰可以加用螺内酯20mg每日1次，定期查血钾。", ["缬沙坦"], {"R0644", "R0707"}),
    ("血钾偏低，可以口服氯化钾缓释片1g每日2次，一周后复查血钾。", ["氯沙坦"], {"R0653", "R0714"}),
    ("降脂可以加阿托伐他汀20mg每晚1次。", ["吉非罗齐"], {"A0604"}),
    ("房颤可以静脉用地尔硫䓬控制心室率。", ["美托洛尔"], {"A0492", "R0550", "R0569"}),
])
def test_the_forbidden_part_still_blocks(draft, meds, rows):
    assert blocked_ids(audit(draft, medications=meds, age=62)) & rows


# ---- strong CYP3A4 inhibitors and boosters: the partners their labels forbid -------------------------------------
@pytest.mark.parametrize("draft, meds, row", [
    ("心衰心率快可以加伊伐布雷定5mg每日2次。", ["泊沙康唑"], "P0007"),
    ("心衰心率快可以加伊伐布雷定5mg每日2次。", ["捷扶康"], "P0007"),
    ("心衰可以加依普利酮25mg每日1次。", ["泊沙康唑"], "P0010"),
    ("低钠可以口服托伐普坦15mg每日1次。", ["伏立康唑"], "P0012"),
    ("心绞痛可以加雷诺嗪缓释片500mg每日2次。", ["Symtuza"], "P0008|Y0129"),
    ("胃胀可以吃多潘立酮10mg每日3次饭前。", ["泊沙康唑"], "P0018"),
    ("冠心病支架后可以用替格瑞洛90mg每日2次。", ["Stribild"], "P0017"),
    ("前列腺增生可以吃赛洛多辛4mg每日2次。", ["普泽力"], "P0014"),
    ("偏头痛发作可以吃乌布吉泮50mg。", ["利托那韦"], "P0023"),
    ("心律失常可以口服氟卡尼100mg每日2次。", ["帕罗韦德"], "P0034"),
    ("心情低落可以吃圣约翰草提取物。", ["Stribild"], "P0035|B0335"),
    ("哮喘可以吸沙美特罗替卡松，每次1吸每日2次。", ["Tybost"], "P0031"),
    ("过敏性鼻炎可以喷布地奈德鼻喷剂，每侧1喷。", ["捷扶康"], "P0037"),
    ("心律不齐可以口服普罗帕酮150mg每日3次。", ["克力芝"], "Y0002"),
    ("降脂可以吃辛伐他汀20mg每晚1次。", ["克力芝"], "P0003|Y0028|B0329"),
    ("痛风发作可以吃秋水仙碱0.5mg每日2次。", ["Norvir"], "P0030|B0064"),
    ("前列腺增生可以吃坦索罗辛0.2mg每晚1次。", ["捷扶康"], "P0039"),
    ("肺动脉高压可以加马昔腾坦10mg每日1次。", ["泊沙康唑"], "P0040"),
    ("失眠可以睡前吃苏沃雷生10mg。", ["伏立康唑"], "P0041"),
    ("偏头痛发作可以含服瑞美吉泮75mg。", ["Tybost"], "P0042"),
    ("肾移植后可以用依维莫司0.75mg每日2次。", ["Stribild"], "P0044"),
])
def test_a_partner_the_label_forbids_with_a_strong_cyp3a4_inhibitor_blocks(draft, meds, row):
    # a product of two boosted ingredients (达芦那韦 + 考比司他) reports the first ingredient's row
    assert blocked_ids(audit(draft, medications=meds, age=55)) & set(row.split("|"))
    assert not audit(draft, medications=["二甲双胍"], age=55).blocked


@pytest.mark.parametrize("draft, meds", [
    ("吃泊沙康唑期间不能用伊伐布雷定，心率的问题请心内科换药。", ["泊沙康唑"]),
    ("辛伐他汀不要和强效CYP3A4抑制剂（如克拉霉素、伊曲康唑）一起吃，需要抗感染时请告诉医生。", ["辛伐他汀"]),
    ("在吃捷扶康，不要自行加用替格瑞洛，请心内科评估换药。", ["捷扶康"]),
])
def test_a_draft_that_warns_against_the_partner_passes(draft, meds):
    assert not audit(draft, medications=meds, age=55).blocked


def test_the_boosters_reach_their_brand_and_combination_products():
    lex = lexicon()
    for name, booster in [("克力芝", "利托那韦"), ("Paxlovid", "利托那韦"), ("捷扶康", "考比司他"),
                          ("Symtuza", "考比司他"), ("Stribild", "考比司他"), ("普泽力", "考比司他"),
                          ("Norvir", "利托那韦"), ("Tybost", "考比司他")]:
        target = lex.resolve_any(name)
        assert booster == target or booster in lex.ingredients(target), (name, target)
    for member in ("伊曲康唑", "酮康唑", "伏立康唑", "泊沙康唑", "克拉霉素", "利托那韦", "考比司他"):
        assert "强效CYP3A4抑制剂" in lex.classes_of(member)
    assert "强效CYP3A4抑制剂" not in lex.classes_of("氟康唑")   # moderate: its partners stay row by row


def test_the_new_aliases_sit_in_no_ordinary_phrase():
    lex = lexicon()
    for text in ("我爱治疗威胁生命的疾病", "注意休息，多喝水"):
        assert not [m for m in lex.find_mentions(text, ("drug", "product")) if m.canonical in ("利托那韦", "考比司他")]


# ---- the pairs written twice agree on their action -------------------------------------------------------------
@pytest.mark.parametrize("a, b", [("B0079", "Q0095"), ("B0595", "Y0248"), ("B0841", "Y0288"), ("V0135", "Y0253"),
                                  ("X0353", "Y0020"), ("Y0249", "Q0094")])
def test_a_pair_written_twice_agrees(a, b):
    rules = lexicon().rules
    assert rules[a].action == rules[b].action
    assert "R15复核" in rules[a].management + rules[b].management


@pytest.mark.parametrize("draft, meds", [
    ("抗感染可以用克拉霉素0.5g每日2次。", ["西罗莫司"]),
    ("戒毒维持可以用美沙酮口服液。", ["伊曲康唑"]),
    ("失眠烦躁可以睡前吃喹硫平25mg，剂量减到平时的六分之一。", ["洛匹那韦利托那韦片"]),
    ("真菌预防可以口服泊沙康唑300mg每日1次。", ["西罗莫司"]),
])
def test_the_pairs_written_twice_block(draft, meds):
    assert audit(draft, medications=meds, age=50).blocked
