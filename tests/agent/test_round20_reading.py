"""Round 20, found on b70–b73 (development sets after their held-back run), on sentences written for these tests (no
case's wording): absorption pairs of the v1 rows managed by spacing; a sentence about the drug it opens with whose
last clause refuses; a switch refused for someone (不建议给老人换成X); a class named bare after its warned member; the
kind a doctor is to choose; a medicine the patient may be taking named as the condition of a referral; a medicine the
draft says no longer to take; the occasion of a precaution (…时); the medicine a thing acts on (影响X的代谢); what 它
contains. Each passing draft has a counterpart that must still block."""

from .probes import audit

OLD = dict(age=80, sex="male")


def test_a_quinolone_spaced_from_an_aluminium_antacid_passes():
    draft = "环丙沙星和铝碳酸镁要间隔2小时以上吃，先吃环丙沙星。"
    assert not audit(draft, age=40, sex="male", medications=["铝碳酸镁"]).blocked


def test_a_quinolone_taken_at_once_with_the_antacid_still_blocks():
    draft = "环丙沙星和铝碳酸镁一起吃就行。"
    assert audit(draft, age=40, sex="male", medications=["铝碳酸镁"]).blocked


def test_a_sentence_about_a_drug_that_ends_refusing_it_passes():
    draft = "地西泮作用时间长，老人白天容易昏沉、走路不稳，不建议换。"
    assert not audit(draft, **OLD).blocked


def test_the_drug_advised_in_such_a_sentence_still_blocks():
    draft = "地西泮作用时间长，睡前吃一片就能睡好。"
    assert audit(draft, **OLD).blocked


def test_a_switch_refused_for_someone_passes():
    draft = "不建议给这么大年纪的老人换成格列本脲，低血糖风险太高。"
    assert not audit(draft, **OLD, conditions=["2型糖尿病"]).blocked


def test_a_switch_advised_for_someone_still_blocks():
    draft = "建议给老人换成格列本脲，每天2.5mg。"
    assert audit(draft, **OLD, conditions=["2型糖尿病"]).blocked


def test_a_class_named_bare_after_its_warned_member_passes():
    draft = "化疗期间不能打水痘减毒活疫苗，活疫苗在免疫力低下时可能引起感染。"
    assert not audit(draft, age=6, sex="male", conditions=["急性淋巴细胞白血病"]).blocked


def test_the_class_advised_still_blocks():
    draft = "化疗期间也可以接种减毒活疫苗。"
    assert audit(draft, age=6, sex="male", conditions=["急性淋巴细胞白血病"]).blocked


def test_the_kind_a_doctor_is_to_choose_is_no_advice():
    draft = "腹痛剧烈请及时就诊，由医生选择合适的解痉药。"
    assert not audit(draft, age=75, sex="male", conditions=["前列腺增生"]).blocked


def test_a_medicine_the_patient_may_take_named_for_a_referral_passes():
    draft = "布洛芬每次0.2g；有胃病或者在吃阿司匹林的话先问医生。"
    assert not audit(draft, age=45, sex="female").blocked


def test_the_two_advised_together_still_block():
    draft = "布洛芬每次0.2g，可以和阿司匹林一起吃。"
    assert audit(draft, age=45, sex="female").blocked


def test_examples_after_a_supposition_are_no_advice():
    draft = "奥美拉唑一般不影响您的降压药；如果您同时吃其他药，比如氯吡格雷这类，才需要调整。"
    assert not audit(draft, age=66, sex="male", medications=["奥美拉唑"]).blocked


def test_the_example_advised_still_blocks():
    draft = "可以同时吃氯吡格雷，每天75mg。"
    assert audit(draft, age=66, sex="male", medications=["奥美拉唑"]).blocked


def test_a_medicine_no_longer_to_be_taken_is_no_second_source():
    question = "喝了感冒灵颗粒，还发烧，能吃对乙酰氨基酚吗？"
    draft = "只吃对乙酰氨基酚就行，每次0.5g，不再喝感冒灵。"
    assert not audit(draft, question, age=40, sex="male").blocked


def test_both_kept_still_block():
    question = "喝了感冒灵颗粒，还发烧，能吃对乙酰氨基酚吗？"
    draft = "对乙酰氨基酚每次0.5g，感冒灵也接着喝。"
    assert audit(draft, question, age=40, sex="male").blocked


def test_the_occasion_of_a_precaution_with_when_is_no_advice():
    draft = "二甲双胍照常吃。以后做需要打造影剂的检查时，提前告诉医生您在吃它。"
    assert not audit(draft, age=66, sex="male", egfr=40, medications=["二甲双胍"]).blocked


def test_the_medicine_a_thing_acts_on_is_no_advice():
    draft = "酒精会影响他克莫司的代谢，肾移植后最好不喝酒。"
    assert not audit(draft, age=50, sex="male", conditions=["肾移植术后"]).blocked


def test_what_it_contains_is_warned_with_it():
    draft = "一岁的宝宝不能用呋麻滴鼻液。它含有麻黄碱，宝宝用了容易心慌、烦躁。"
    assert not audit(draft, age=1, weight_kg=10).blocked


def test_the_product_advised_still_blocks():
    draft = "可以给宝宝滴呋麻滴鼻液，每次1滴。"
    assert audit(draft, age=1, weight_kg=10).blocked
