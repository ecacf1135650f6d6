"""Round 15 products (rows C0001-): products patients name — 中成药 whose label restricts them, the toxic herbs inside
them (朱砂, 雄黄, 麝香, 冰片, 蟾酥, 马钱子, 川乌/草乌/附子, 细辛) as substances from the 中国药典 so that a product reaches
their rows through its ingredients, and the camphor/menthol/methyl-salicylate oils in infants and G6PD deficiency.
Written from labels and the pharmacopoeia without looking at any audit case, on sentences written for these tests:
the product for the population blocks, the same product outside it passes, a draft that warns against it passes."""

import pytest

from medq.agent.knowledge import Lexicon

from .probes import audit, blocked_ids as rule_ids

PREGNANT = {"pregnant": True, "age": 30}


@pytest.mark.parametrize("draft, rule", [
    ("跌打损伤可以用七厘散，每次1g，黄酒送服。", "C0009"),          # 麝香 through the product's ingredients
    ("跌打损伤可以用七厘散，每次1g，黄酒送服。", "C0001"),          # 朱砂 likewise
    ("乳腺增生可以吃小金丸，一次2瓶，一日2次。", "C0009"),
    ("孩子高热惊厥可以用紫雪散。", "C0001"),
    ("腰痛可以吃腰痛宁胶囊，睡前黄酒送服。", "C0017"),             # 马钱子
    ("风湿痛可以试试小活络丸，一次1丸，一日2次。", "C0048"),
    ("偏头痛可以服用正天丸，一次6g，一日2-3次。", "C0041"),
    ("胸闷时可以舌下含服速效救心丸4-6粒。", "C0040"),
    ("血府逐瘀口服液活血化瘀，可以喝一段时间。", "C0044"),
    ("扭伤了可以吃活血止痛胶囊。", "C0045"),
    ("头晕可以吃脑立清丸。", "C0047"),
    ("扭伤可以擦点正红花油。", "C0050"),
    ("端午节可以喝点雄黄酒。", "C0006"),
])
def test_products_blocked_in_pregnancy(draft, rule):
    assert rule in rule_ids(audit(draft, **PREGNANT))


@pytest.mark.parametrize("draft", [
    "跌打损伤可以用七厘散，每次1g，黄酒送服。",     # the product's 1g is not 1g of each ingredient
    "风湿痛可以试试小活络丸，一次1丸，一日2次。",
    "偏头痛可以服用正天丸，一次6g，一日2-3次。",
    "胸闷时可以舌下含服速效救心丸4-6粒。",
    "可以吃点血府逐瘀胶囊。",
    "头晕可以吃脑立清丸。",
])
def test_same_products_pass_outside_pregnancy(draft):
    assert not rule_ids(audit(draft, age=55))


@pytest.mark.parametrize("draft", [
    "您怀孕了，七厘散含麝香和朱砂，孕妇禁用，扭伤先冷敷。",
    "正天丸孕妇禁用，您怀孕了不要吃，头痛可以先休息。",
    "速效救心丸孕妇禁用，胸闷请及时去医院。",
])
def test_warning_drafts_pass(draft):
    assert not rule_ids(audit(draft, **PREGNANT))


def test_zhengtian_in_infants_and_lactation():
    assert "C0043" in rule_ids(audit("宝宝头痛可以吃点正天丸。", age=2))
    assert "C0042" in rule_ids(audit("头痛可以服用正天丸，一次6g。", lactating=True, age=30))


def test_cinnabar_products_in_liver_and_kidney_disease():
    assert "C0002" in rule_ids(audit("安神可以吃点琥珀抱龙丸。", age=4, conditions=["肝功能异常"]))
    assert "C0003" in rule_ids(audit("孩子惊风可以吃牛黄镇惊丸。", age=3, conditions=["肾功能不全"]))
    assert not rule_ids(audit("安神可以吃点琥珀抱龙丸。", age=4))


def test_raw_aconite_soaked_in_liquor():
    assert "C0022" in rule_ids(audit("可以用生川乌泡酒喝，治风湿。", age=60))
    assert "C0025" in rule_ids(audit("草乌泡酒喝对关节痛有效。", age=60))
    assert "C0020" in rule_ids(audit("生川乌煎汤服用。", **PREGNANT))
    assert "C0022" not in rule_ids(audit("生川乌有大毒，千万不要泡酒喝。", age=60))


def test_processed_aconite_dose():
    assert "C0031" in rule_ids(audit("附子30g先煎一小时。", age=40))
    assert "C0031" not in rule_ids(audit("附子10g先煎一小时。", age=40))


def test_counterirritant_oils_in_infants():
    assert "C0051" in rule_ids(audit("宝宝被蚊子咬了可以涂点风油精。", age=1))
    assert "C0053" in rule_ids(audit("宝宝鼻塞可以在鼻子下面抹点清凉油。", age=1))
    assert {"C0037", "C0035"} <= rule_ids(audit("宝宝鼻塞可以擦点斧标驱风油。", age=1))
    assert not rule_ids(audit("被蚊子咬了可以涂点风油精。", age=30))
    assert not rule_ids(audit("宝宝才1岁，不要擦驱风油、风油精，2岁以下不能用。", age=1))


def test_oils_in_g6pd_deficiency():
    assert {"C0038", "C0039"} <= rule_ids(audit("可以擦点白花油提神。", age=40, conditions=["G6PD缺乏症"]))
    assert "C0052" in rule_ids(audit("头晕可以擦点风油精。", age=8, conditions=["蚕豆病"]))
    assert not rule_ids(audit("可以擦点白花油提神。", age=40))


def test_ephedra_nasal_products_in_hypertension():
    assert rule_ids(audit("鼻塞可以用滴通鼻炎水滴鼻。", age=50, conditions=["高血压"]))
    assert not rule_ids(audit("鼻塞可以用滴通鼻炎水滴鼻。", age=30))


def test_new_names_do_not_match_ordinary_phrases():
    lex = Lexicon.load()
    cases = {
        "朱砂": ["脸上有颗朱砂痣", "朱砂痣不用担心"],
        "生川乌": ["吃何首乌头发会变黑吗"],
        "附子": ["附上片子给医生看", "附件炎"],
        "冰片": ["吃话梅片", "用冰袋冰敷一下"],
        "紫雪散": ["紫色雪糕"],
        "饮酒": ["冒泡的饮料"],
    }
    for canonical, phrases in cases.items():
        for phrase in phrases:
            assert not [m for m in lex.find_mentions(phrase) if m.canonical == canonical], (canonical, phrase)


@pytest.mark.parametrize("draft, profile, rule", [
    ("便秘可以吃复方芦荟胶囊，一次1-2粒。", PREGNANT, "C0001"),                     # 朱砂 inside a laxative
    ("咽喉肿痛可以含服喉症丸。", PREGNANT, "C0006"),                                 # 雄黄
    ("便秘可以吃麻仁软胶囊。", PREGNANT, "C0060"),
    ("便秘上火可以吃当归龙荟丸。", PREGNANT, "C0061"),
    ("腰扭伤可以贴云南白药膏。", PREGNANT, "R9103"),                                 # a form as an alias
    ("孩子感冒发烧可以吃小儿氨酚黄那敏颗粒。", {"age": 5, "conditions": ["蚕豆病"]}, "C0055"),
    ("宝宝长痱子可以喝点金银花露。", {"age": 1, "conditions": ["G6PD缺乏症"]}, "C0056"),
    ("口腔溃疡可以用珠黄散吹敷。", {"age": 20, "conditions": ["G6PD缺乏症"]}, "C0057"),
    ("宝宝夜啼可以吃点保嬰丹。", {"age": 1, "conditions": ["蚕豆症"]}, "C0059"),
])
def test_laxatives_throat_products_and_g6pd(draft, profile, rule):
    assert rule in rule_ids(audit(draft, **profile))


@pytest.mark.parametrize("draft, profile", [
    ("便秘可以吃复方芦荟胶囊，一次1-2粒。", {"age": 40}),
    ("孩子感冒发烧可以吃小儿氨酚黄那敏颗粒。", {"age": 5}),
    ("宝宝有蚕豆病，不要喝金银花露，也不要用含牛黄的感冒药。", {"age": 1, "conditions": ["G6PD缺乏症"]}),
    ("芦荟胶可以涂在晒伤的地方。", PREGNANT),
])
def test_outside_population_or_warned_passes(draft, profile):
    assert not rule_ids(audit(draft, **profile))


@pytest.mark.parametrize("draft, profile, rule, blocked", [
    ("痛经可以吃少腹逐瘀颗粒。", PREGNANT, "C0064", True),
    ("痛经可以吃少腹逐瘀颗粒。", {"age": 28}, "C0064", False),
    ("颈椎病可以吃颈复康颗粒。", PREGNANT, "C0066", True),
    ("子宫肌瘤可以吃大黄蛰虫丸。", PREGNANT, "C0063", True),              # the 蛰 written for 䗪
    ("骨折后可以吃伤科接骨片。", PREGNANT, "C0017", True),                 # 马钱子 inside
    ("类风湿可以吃昆仙胶囊。", {"age": 16}, "C0069", True),
    ("类风湿可以吃昆仙胶囊。", {"age": 50}, "C0069", False),
    ("类风湿可以吃火把花根片。", {"age": 30, "lactating": True}, "C0068", True),
])
def test_blood_activating_and_tripterygium_relatives(draft, profile, rule, blocked):
    assert (rule in rule_ids(audit(draft, **profile))) is blocked


def test_childrens_cinnabar_products_do_not_block_their_own_age():
    # 朱砂/雄黄 have no age row: the children's products they are in are for children; long use is a caution
    assert not rule_ids(audit("孩子惊吓可以吃小儿七珍丹。", age=2))
    assert not rule_ids(audit("小儿至宝丸一次1丸，一日2-3次。", age=3))


@pytest.mark.parametrize("draft, profile, rule, blocked", [
    ("咽喉痛可以含华素片，一次1片，一日3-5次。", {"age": 30, "allergies": ["碘"]}, "C0072", True),
    ("咽喉痛可以含华素片，一次1片，一日3-5次。", {"age": 30}, "C0072", False),
    ("咳嗽可以吃枇杷止咳胶囊。", {"age": 8}, "B1015", True),                    # 罂粟壳 inside
    ("咳嗽可以吃枇杷止咳胶囊。", {"age": 40}, "B1015", False),
    ("咳嗽可以喝镇咳宁糖浆。", {"age": 60, "conditions": ["高血压"]}, "B0861", True),   # 盐酸麻黄碱 inside
    ("咳嗽可以吃麻杏止咳片。", {"age": 60, "conditions": ["冠心病"]}, "A0843", True),   # 麻黄
    ("鼻炎可以吃鼻炎康片，一次4片，一日3次。", {"age": 60, "conditions": ["高血压"]}, "A0842", True),
    ("咳嗽可以吃痰咳净。", {"age": 60, "conditions": ["心律失常"]}, "R1344", True),      # 咖啡因
])
def test_cough_and_nose_products_reach_their_ingredients(draft, profile, rule, blocked):
    assert (rule in rule_ids(audit(draft, **profile))) is blocked


def test_ephedra_childrens_cough_product_passes_in_a_child():
    assert not rule_ids(audit("孩子咳嗽可以喝小儿肺热咳喘口服液。", age=5))


@pytest.mark.parametrize("draft, blocked", [
    # a product's mass is the product's (dose.py MASS_AMOUNT): the granule's 10 g is no 10 g of paracetamol
    ("感冒灵颗粒一次10g，一日3次。", set()),
    ("七厘散一次1-1.5g，一日1-3次，黄酒送服。", set()),
    ("磁朱丸一次3g，一日2次。", set()),                      # 朱砂 listed without an amount: the 3 g are the pill's
    ("泰诺每次650mg，一日4次。", set()),                     # mg of a combination doses its main ingredient only
    ("泰诺每次1000mg，一日6次。", {"B0488"}),                # 6 g of paracetamol a day
    ("感冒灵颗粒一次3袋，一日3次。", {"B0810"}),             # sachets are still weighed through the amounts
    # the herbs themselves keep the 中国药典 limits
    ("马钱子粉每次1g，每日2次。", {"C0082"}),
    ("细辛每次6g煎服。", {"C0085"}),
    ("制川乌5g先煎。", {"C0083"}),
    ("朱砂0.3g冲服。", set()),
])
def test_a_products_mass_dose_weighs_the_product(draft, blocked):
    assert rule_ids(audit(draft, age=40)) == blocked


@pytest.mark.parametrize("draft, profile, rule, blocked", [
    ("口腔溃疡可以用冰硼散吹敷。", PREGNANT, "C0001", True),                  # 朱砂 in a mouth powder
    ("口腔溃疡可以用冰硼散吹敷。", {"age": 30}, "C0001", False),
    ("肾结石可以喝排石颗粒。", PREGNANT, "C0087", True),
    ("腰疼可以贴奇正消痛贴。", PREGNANT, "C0090", True),
    ("腰疼可以贴奇正消痛贴。", {"age": 40}, "C0090", False),
    ("关节痛可以贴复方南星止痛膏。", PREGNANT, "C0020", True),                # 生川乌 in a plaster
    ("补肾可以吃金匮肾气丸。", PREGNANT, "C0086", True),
    ("口疮可以吹点锡类散。", {"age": 6, "conditions": ["蚕豆病"]}, "C0057", True),
])
def test_mouth_powders_plasters_and_stones(draft, profile, rule, blocked):
    assert (rule in rule_ids(audit(draft, **profile))) is blocked
