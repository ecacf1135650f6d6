"""Round 12 knowledge rows, on sentences written for these tests: oral anticancer drugs by class from their labels
(strong CYP3A4 inhibitors and inducers, grapefruit, proton pump inhibitors), denosumab in hypocalcaemia, the
hydrocodone-paracetamol product, sedatives in cirrhosis, diphenoxylate in IBD, mesalazine in salicylate allergy,
rilpivirine with PPIs, rifapentine as a rifamycin inducer, voriconazole with St John's wort, atovaquone-proguanil at
eGFR<30, teriflunomide in pregnancy."""

import pytest

from medq.agent.knowledge import Lexicon

from .probes import audit


@pytest.mark.parametrize("brand, drug", [("达希纳", "尼洛替尼"), ("利普卧", "奥拉帕利"), ("亿珂", "伊布替尼"),
                                         ("爱博新", "哌柏西利"), ("泽珂", "阿比特龙")])
def test_oral_anticancer_brands_resolve(brand, drug):
    lex = Lexicon.load()
    found = [m.canonical for m in lex.find_mentions(f"他一直在吃{brand}")]
    assert drug in found or any(drug in lex.ingredients(c) for c in found)


@pytest.mark.parametrize("drug", ["尼洛替尼", "奥拉帕利", "伊布替尼", "维奈克拉"])
def test_kinase_and_parp_inhibitors_with_a_strong_cyp3a4_inhibitor(drug):
    draft = "这次真菌感染可以口服伊曲康唑胶囊，每次200mg每天1次，原来的药照常吃。"
    assert audit(draft, medications=[drug], age=60).blocked
    assert not audit(draft, age=60).blocked


def test_inducers_and_grapefruit_with_oral_anticancer_drugs():
    assert audit("情绪不好可以试试圣约翰草提取物，每次300mg每日3次。", medications=["伊马替尼"], age=55).blocked
    assert audit("每天早上喝一杯西柚汁补充维生素。", medications=["哌柏西利"], age=55).blocked
    assert not audit("每天早上喝一杯西柚汁补充维生素。", medications=["来曲唑"], age=55).blocked


def test_erlotinib_and_dasatinib_with_proton_pump_inhibitors():
    draft = "反酸可以吃泮托拉唑40mg，每天早饭前1次。"
    assert audit(draft, medications=["厄洛替尼"], age=58).blocked
    assert audit(draft, medications=["施达赛"], age=58).blocked
    assert not audit(draft, medications=["奥希替尼"], age=58).blocked


def test_denosumab_in_hypocalcaemia():
    draft = "骨转移可以用地舒单抗120mg皮下注射，每4周一次。"
    assert audit(draft, conditions=["前列腺癌骨转移", "低钙血症"], age=70).blocked
    assert not audit(draft, conditions=["前列腺癌骨转移"], age=70).blocked


def test_hydrocodone_paracetamol_product_duplicates_paracetamol():
    lex = Lexicon.load()
    assert {"对乙酰氨基酚", "氢可酮"} <= set(lex.ingredients("氨酚氢可酮片"))
    def duplicates(meds):
        result = audit("疼的时候再加对乙酰氨基酚片，每次1片。", medications=meds, age=50)
        return [f for f in result.findings if f.rule == "duplicate_ingredient" and f.severity == "block"]
    assert duplicates(["氨酚氢可酮片"])
    assert not duplicates(["布洛芬"])


def test_sedatives_in_cirrhosis():
    assert audit("睡不着可以睡前吃阿普唑仑0.4mg。", conditions=["肝硬化"], age=60).blocked
    assert audit("睡前吃唑吡坦10mg帮助入睡。", conditions=["乙肝肝硬化"], age=60).blocked
    assert not audit("睡前吃唑吡坦5mg帮助入睡。", conditions=["高血压"], age=50).blocked


def test_diphenoxylate_in_ulcerative_colitis_and_mesalazine_in_salicylate_allergy():
    assert audit("腹泻多可以吃复方地芬诺酯片，每次1片每日3次。", conditions=["溃疡性结肠炎"], age=35).blocked
    assert audit("美沙拉秦每天2g分次口服。", conditions=["溃疡性结肠炎"], allergies=["水杨酸类"], age=35).blocked
    assert not audit("美沙拉秦每天2g分次口服。", conditions=["溃疡性结肠炎"], age=35).blocked


def test_rilpivirine_with_proton_pump_inhibitors():
    assert audit("烧心可以吃奥美拉唑20mg每天1次。", medications=["利匹韦林"], age=40).blocked
    assert not audit("烧心可以吃奥美拉唑20mg每天1次。", medications=["多替拉韦"], age=40).blocked


def test_rifapentine_like_rifampin_and_voriconazole_with_st_johns_wort():
    assert audit("潜伏结核可以用利福喷丁每周1次，共12周。", medications=["环孢素"], age=45).blocked
    assert audit("可以加用圣约翰草胶囊改善情绪。", medications=["伏立康唑"], age=45).blocked


def test_atovaquone_proguanil_prophylaxis_at_low_egfr():
    lex = Lexicon.load()
    assert "氯胍" in lex.ingredients("阿托伐醌氯胍片")
    draft = "去疟区前1天开始吃马拉隆，每天1片，离开后再吃7天。"
    assert audit(draft, egfr=20, age=60).blocked
    assert not audit(draft, egfr=80, age=60).blocked


def test_teriflunomide_in_pregnancy():
    draft = "特立氟胺继续每天14mg吃就行。"
    assert audit(draft, conditions=["多发性硬化"], pregnant=True, age=30, sex="female").blocked
    assert not audit(draft, conditions=["多发性硬化"], age=30, sex="female").blocked
