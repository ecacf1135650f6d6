"""Round 11 condition vocabulary (conditions.csv): the common outpatient diagnoses of each specialty with the
colloquial and traditional-script names patients use, parents that carry an existing row's rules, and names that
must not swallow a drug, a vaccine or a longer condition. Sentences written for these tests."""

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.extraction import RuleBasedExtractor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon.load()


@lru_cache(maxsize=1)
def extractor() -> RuleBasedExtractor:
    return RuleBasedExtractor(lexicon())


def conditions(message: str) -> set[str]:
    return {f.value for f in extractor().extract(message) if f.kind == "condition" and f.status == "active"}


def audit(draft: str, **profile):
    return ContraindicationAuditor(lexicon()).audit(draft, PatientProfile.from_case(profile, "r11-msg"))


@pytest.mark.parametrize("name, canonical", [
    # paediatrics
    ("高热惊厥", "热性惊厥"), ("多动症", "注意力缺陷多动障碍"), ("過動症", "注意力缺陷多动障碍"),
    ("妥瑞氏症", "抽动秽语综合征"), ("室缺", "室间隔缺损"), ("先心病", "先天性心脏病"), ("早产宝宝", "早产儿"),
    ("手口足病", "手足口病"), ("奶癣", "婴儿湿疹"), ("異位性皮膚炎", "特应性皮炎"),
    # dermatology
    ("长痘痘", "寻常痤疮"), ("脚气", "足癣"), ("香港脚", "足癣"), ("脚气病", "脚气病"), ("蛇缠腰", "带状疱疹"),
    ("牛皮癣", "银屑病"), ("黄水疮", "脓疱疮"), ("鬼剃头", "斑秃"),
    # ENT, eye, dental
    ("副鼻窦炎", "鼻窦炎"), ("慢性咽喉炎", "慢性咽炎"), ("美尼尔综合征", "梅尼埃病"), ("红眼病", "结膜炎"),
    ("麦粒肿", "睑腺炎"), ("蛀牙", "龋齿"), ("智齿发炎", "冠周炎"),
    # cardiology, neurology, GI, rheumatology, urology, psychiatry, infections
    ("收缩性心衰", "射血分数降低的心力衰竭"), ("阵发性房颤", "阵发性心房颤动"), ("室上速", "阵发性室上性心动过速"),
    ("机械瓣", "机械瓣膜置换术后"), ("小中风", "短暂性脑缺血发作"), ("腔梗", "腔隙性脑梗死"),
    ("幽门螺旋杆菌", "幽门螺杆菌感染"), ("五十肩", "肩周炎"), ("阳痿", "勃起功能障碍"), ("自闭症", "孤独症谱系障碍"),
    ("新冠", "新型冠状病毒感染"), ("甲状腺功能低下", "甲状腺功能减退"),
    # Taiwanese standard names (traditional script)
    ("第二型糖尿病", "糖尿病"), ("蠶豆症", "G6PD缺乏症"), ("隅角開放性青光眼", "开角型青光眼"), ("退化性膝關節炎", "膝骨关节炎"),
])
def test_colloquial_and_traditional_names_resolve(name, canonical):
    assert lexicon().canonical(name, ("condition",)) == canonical


@pytest.mark.parametrize("child, parent", [
    ("射血分数降低的心力衰竭", "心力衰竭"), ("慢性心力衰竭", "心力衰竭"), ("咳嗽变异性哮喘", "哮喘"),
    ("机械瓣膜置换术后", "机械心脏瓣膜"), ("冠脉支架术后", "冠心病"), ("陈旧性心肌梗死", "冠心病"),
    ("短暂性脑缺血发作", "脑卒中"), ("糖尿病视网膜病变", "糖尿病"), ("手足口病", "病毒感染"),
    ("二度Ⅱ型房室传导阻滞", "房室传导阻滞"), ("自身免疫性肝炎", "肝功能不全"),
    ("先天性长QT综合征", "QT间期延长"), ("原发性免疫缺陷病", "免疫缺陷"), ("路易体痴呆", "痴呆"),
    ("脑卒中后遗症", "脑卒中"), ("糖尿病足", "糖尿病"),
])
def test_a_specific_type_inherits_its_parents_rules(child, parent):
    assert parent in lexicon().condition_ancestors(child)


def test_bundle_branch_block_is_not_an_av_block():
    # 传导阻滞 names an AV block; a bundle branch block is its own row below 心律失常, not below 房室传导阻滞
    assert "房室传导阻滞" not in lexicon().condition_ancestors(lexicon().canonical("右束支传导阻滞", ("condition",)))


@pytest.mark.parametrize("text, kind, canonical", [
    ("支气管扩张药", "class", "平喘药"), ("带状疱疹疫苗", "class", "疫苗"), ("新冠疫苗", "drug", "新冠病毒灭活疫苗"),
    ("百日咳疫苗", "drug", "百白破疫苗"), ("腮腺炎疫苗", "drug", "腮腺炎减毒活疫苗"), ("皮炎平", "product", "复方醋酸地塞米松乳膏"),
    ("马应龙痔疮膏", "drug", "马应龙麝香痔疮膏"), ("干燥性角结膜炎", "condition", "干燥性角结膜炎"),
    ("鹅口疮", "condition", "鹅口疮"), ("维生素D3", "drug", None), ("玫瑰痤疮", "condition", "玫瑰痤疮"), ("慢性鼻炎", "condition", "慢性鼻炎"),
])
def test_a_new_name_swallows_no_drug_vaccine_or_longer_condition(text, kind, canonical):
    found = lexicon().find_mentions("我用过" + text)
    assert [(m.text, m.kind) for m in found] == [(text, kind)]
    assert canonical is None or found[0].canonical == canonical


def test_the_memory_extractor_reads_the_new_vocabulary():
    assert conditions("我儿子6岁，有多动症，在吃哌甲酯") == {"注意力缺陷多动障碍"}
    assert conditions("我有脚气好几年了") == {"足癣"}
    assert conditions("医生说我是射血分数降低的心衰") == {"射血分数降低的心力衰竭"}
    assert conditions("我有慢性鼻窦炎，还有过敏性鼻炎") == {"慢性鼻窦炎", "过敏性鼻炎"}
    assert conditions("我妈有白内障") == set()                       # a relative's condition stays out
    assert conditions("如果得了带状疱疹要吃什么药") == set()          # a hypothetical is not remembered


def test_a_mechanical_valve_said_colloquially_keeps_the_doac_contraindication():
    # 机械瓣 was a synonym of 心脏瓣膜置换术后 (no rules); it now names the mechanical-valve row (DOACs contraindicated)
    assert audit("可以改用利伐沙班20mg每日一次，不用再查INR。", conditions=["机械瓣"]).blocked
    assert audit("可以改用利伐沙班20mg每日一次。", conditions=["心脏机械瓣膜置换术后"]).blocked
    assert not audit("继续华法林，按时复查INR。", conditions=["机械瓣"]).blocked


def test_a_heart_failure_type_keeps_the_nsaid_contraindication():
    assert audit("膝盖疼可以吃布洛芬缓释胶囊，一次0.3g，一天两次。", conditions=["射血分数保留的心衰"], age=70).blocked
