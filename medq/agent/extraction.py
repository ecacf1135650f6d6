"""Rule-based entity extraction: what a patient's message says about the patient, as typed facts.

Deterministic and fast, so it runs on every message before any model. Steps:

1. The text layer: traditional → simplified (`medq.agent.text.to_simplified`, same length, so every span maps back
   to the original message for the evidence).
2. Clauses (cut at ，。；！？ and line breaks) with their experiencer (`medq.agent.assertion.experiencer`): 我妈有糖尿病
   is not the patient's; a clause that names no one keeps the previous clause's experiencer. Whose profile: the
   writer's; a message only about the writer's child (我家孩子3岁，对头孢过敏) gives the child's (the writer asks for the
   child: the case format's rule). In a message about the writer the child's facts stay out, and the writer's
   breastfeeding stays hers even in a clause about the baby; other adults' facts are always dropped.
3. Mentions: lexicon names (drugs, products, classes, conditions, substances), colloquial conditions (三高, 血脂有点高,
   肾功能不好, 胃出血), and condition names the lexicon does not know (我患有X综合征), kept as free text and reported
   (`unresolved`, logged), never silently dropped.
4. ConText (`medq.agent.assertion`): trigger terms with a direction and a scope that terminators end decide whether a
   mention is negated (没有/否认/不过敏/不在哺乳期), hypothetical (如果/备孕), doubted or asked (是不是/…吗), stopped
   (停了/不吃了, also from the next clause: …上个月医生让停了), healed (已经治好了), taken now (在吃/打胰岛素/我吃的降压药是…).
   A 刚才说错了，是B that does not name what it corrects retracts B's family said before (`Fact.retracts`).
5. Corrections and switches: 不是华法林，是阿司匹林 and 倍他乐克，哦不是，是拜新同 keep only the corrected value (the
   retracted one becomes `denied`, with the evidence and source message); 换成了瑞舒伐他汀 takes the new drug and ends
   the old one: named (把A换成B), a class or group named (降压药换成了缬沙坦: every antihypertensive) or, across
   messages, any drug of the new one's own classes (换成了瑞舒伐他汀: the other statins), through
   `Fact.supersedes`, which `merge_facts` applies to the facts already remembered.
6. Scalars: age (35岁, 男，58; a child under one year is 0), sex, weight (kg, 公斤, 斤 → kg), eGFR, CKD stage (CKD3期,
   Ⅳ期), trimester (孕28周 → 3, 怀孕两个月 → 1), occupation (货车司机; 开大货车的 → 货车司机).

Statuses: active (holds now), stopped (a medicine no longer taken, a condition that is over), denied (the patient
says it does not hold, or retracted it). Whether a revocation of a remembered safety-critical fact takes effect is
the memory store's decision (`medq.agent.confirmation`), not the extractor's.

An optional model-based extractor can add facts through the same `FactExtractor` protocol.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable, Protocol

from medq.agent.assertion import RELATIVES, Target, classify, experiencer, find_triggers, reach_back_categories
from medq.agent.facts import Fact, FactStatus, merge_facts
from medq.agent.knowledge import Lexicon, Mention
from medq.agent.text import normalise, to_simplified

log = logging.getLogger(__name__)

CLAUSE_SPLIT = re.compile(r"[，,。；;！!？?\n\r]+")
SENTENCE_END = re.compile(r"[。！!？?\n\r]")
DRUG_KINDS = ("drug", "product", "class")
ALLERGEN_KINDS = ("drug", "product", "class", "substance")
ALLERGY_CUE = re.compile(r"过敏|皮试阳性|皮试过敏|皮试不过|起疹子|起皮疹|出疹子|出皮疹|起红疹|起风团|起荨麻疹|起红点|"
                         r"全身痒|浑身痒|全身起|浑身起|喉头水肿|嘴唇肿|眼皮肿|脸肿|脸都肿|过敏性休克|休克过|假阳性|会喘|就喘|喘不上气|憋气")
# in a sentence about allergies, 青霉素没事 / 头孢可以用 says which drug is not an allergy
ALLERGY_SOFT = re.compile(r"没事|没问题|没反应|没有反应|可以用|能用|用过没事")
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUM = r"[0-9]+|[一二三四五六七八九十两百零]+"

# colloquial condition phrases → conditions (names resolved through the lexicon; a name it lacks stays free text)
_MORE = r"(?:一直|有点|有些|稍微|稍|比较|较|偏|很|挺|特别|也|都|还|总是|老是|一直都)*"
COLLOQUIAL_CONDITIONS: list[tuple[str, tuple[str, ...]]] = [
    (r"三高", ("高血压", "高脂血症", "糖尿病")),
    (r"两高|双高", ("高血压", "高脂血症")),
    # a measurement that is high or low: 血脂有点高 → the lexicon's name for 血脂高 (below: names it lacks)
    (rf"(血压|血糖|血脂|胆固醇|甘油三酯|尿酸|血钾|血钙|血钠|转氨酶|血小板|心率|心跳){_MORE}(高|低|慢)(?!兴|了点|一点)",
     ("{0}{1}",)),
    (rf"肾(?:脏)?(?:功能|功)?{_MORE}(?:不好|不太好|不行|差|很差|较差|有问题|不全|受损|减退|下降|异常|衰竭)", ("肾功能不全",)),
    (rf"肝(?:脏)?(?:功能|功)?{_MORE}(?:不好|不太好|不行|差|很差|有问题|受损|异常)", ("肝功能不全",)),
    (r"中过风|中风过", ("脑卒中",)),
    (rf"前列腺{_MORE}(?:大|肥大|增生)", ("前列腺增生",)),
    (r"胃(?:出过血|出血过|大出血)|消化道出过血", ("消化道出血",)),
    (r"小三阳|大三阳|乙肝(?:病毒)?携带", ("乙型肝炎",)),
    (r"老慢支", ("慢性阻塞性肺疾病",)),
    # Taiwanese usage (after traditional → simplified): 气喘 is asthma, B肝 hepatitis B, 胃食道逆流 GERD
    (r"(?<=有|患|是)气喘|气喘病", ("哮喘",)),
    (r"[bB]肝|乙肝带原", ("乙型肝炎",)),
    (r"胃食道逆流|胃酸逆流", ("胃食管反流病",)),
    (r"洗肾|透析", ("肾衰竭",)),
    (r"(?:装|放|安|上|做|植入)(?:过|了)?(?:[一二两三四五\d]个)?(?:心脏|冠脉)?支架|心脏支架|冠脉支架|搭(?:过|了)?桥", ("冠心病",)),
]
# a birth ends a pregnancy; 还没怀上 / 没怀孕 says there is none
BIRTH = re.compile(r"(?:已经|刚|上周|上个月|前天|昨天)?(?:出生了|生了|生完|生下|分娩了|剖腹产了|剖了|顺产了)|产后|坐月子|月子里")
NOT_PREGNANT = re.compile(r"(?:还没|没有|没|未)(?:能)?(?:怀上|怀孕|有怀孕)")
# conditions that are also passing symptoms: a condition only with a word that makes it chronic
SYMPTOM_CONDITIONS = {"失眠": r"老|一直|长期|经常|总是|常年|多年|几年|慢性|失眠症|睡眠障碍|入睡困难"}
# kidney failure on dialysis is CKD stage 5 (KDIGO G5D)
STAGE_FIVE = re.compile(r"尿毒症|透析|洗肾")
# measurements the lexicon has no name for
MEASURE_NAMES = {"胆固醇高": "高脂血症", "心跳慢": "心动过缓", "血钾低": "低钾血症",
                 "血钙高": "高钙血症", "血钙低": "低钙血症", "血钠低": "低钠血症", "血糖低": "低血糖", "尿酸高": "痛风"}
_COLLOQUIAL = [(re.compile(p), names) for p, names in COLLOQUIAL_CONDITIONS]
# a condition named after an assertion cue that the lexicon may not know (kept as free text when it does not)
FREE_CONDITION = re.compile(r"(患有|患上了|确诊为|确诊了|确诊|诊断为|诊断是|诊断出|查出了|查出来|查出|有|得了|得过)(?:点|些|一点)?"
                            r"((?:慢性|急性|重度|轻度|中度|先天性|原发性|继发性)?[\u4e00-\u9fffA-Za-z0-9]{0,10}?"
                            r"(?:综合征|综合症|病|症|不全|衰竭|硬化|亢进|减退|增生|癌|瘤|梗死|梗塞|狭窄|缺乏症|血症|结石|肝炎|肾炎|"
                            r"关节炎|结肠炎|胰腺炎|溃疡|结节|突出|脂肪肝|囊肿|息肉|鼻炎|咽炎|皮炎|胃炎|肠炎|前列腺炎))(?![\u4e00-\u9fff]{0,1}(药|患者|病人|的人))")
# a clause that is only a disease name (女，45岁，子宫肌瘤)
FREE_CONDITION_BARE = re.compile(r"^\s*(?:有|患)?((?:慢性|先天性|原发性)?[\u4e00-\u9fff]{1,8}?(?:综合征|综合症|病|不全|衰竭|硬化|亢进|减退|"
                                 r"增生|癌|瘤|肌瘤|结石|狭窄|缺乏症|血症|肝炎|肾炎|关节炎|溃疡))(?:病史|史)?\s*$")
FREE_CONDITION_STOP = re.compile(r"什么|哪|这|那|毛病|问题|慢性病|基础病|病史|疾病|大病|小病|其他|别的|任何|传染病|怪病|胃病|发炎|"
                                 r"心病|职业病|富贵病|老年病|妇科病|感冒|发烧|咳嗽|过敏症|后遗症|症状|并发症|不适|疼|痛")
FREE_ALLERGEN = re.compile(r"对([\u4e00-\u9fffA-Za-z]{1,6}?)(也|都|有点|比较|特别|非常|很)?过敏")
FREE_ALLERGEN_STOP = re.compile(r"药|什么|哪|这|那|它|很多|东西|好多|一些|某|各种|啥|谁|其|所有|任何|不|没")

# who switches a medicine: 把A换成B / A换成了B / 换成了B / 改用B
SWITCH_VERB = re.compile(r"(换成|改成|换为|改为|换到|改到|改用|换用|改吃|换吃|改打|换打|换了|改了)(了)?")
CORRECTION_MARK = re.compile(r"(是|就是)?[，,\s—…-]*(哦|噢|呃|嗯|啊|额)?[，,\s—…-]*(不是|不对|说错了|记错了|搞错了|口误|打错了|写错了|弄错了|"
                             r"说反了|错了|搞混了|弄混了|更正一下|更正|(?<=[哦噢])不(?=[，,。！!\s—…-]))")
CORRECTED_VALUE = re.compile(r"^[，,。！!…\s]*(哦|噢|呃|嗯|啊)?[，,\s]*(而|应该|其实|实际上)?(是|吃的是|用的是|叫)")
CORRECTED_TAIL = re.compile(r"[，,。！!…—\s-]*(而|应该|其实|实际上)?(是|吃的是|用的是|叫|我吃的是|我用的是)?\s*(对)?\s*")
OTHERS_DRUG = re.compile(rf"\s*(其实|那)?是(我|俺)?(家)?(的)?({RELATIVES}|他|她)(在)?(吃|用|打|服)的")
# a correction that names only the new value (刚才说错了，是头孢过敏): it retracts the same-family values said before
UNNAMED_CORRECTION = re.compile(r"(说错了|记错了|搞错了|写错了|打错了|弄错了|口误|搞混了|弄混了|更正一下|更正|纠正一下|不对不对)"
                                r"[，,。！!：:…\s]*(应该|其实|实际上)?(是|吃的是|用的是|我吃的是|我用的是|过敏的是|我是)?")
PREGNANCY_MENTION = re.compile(rf"怀孕|孕妇|孕期|身孕|妊娠|怀着|怀了|孕(?:第)?(?:{NUM})(?:个)?(?:周|月|天)|孕早期|孕中期|孕晚期|"
                               r"有喜了|怀上了|二胎|三胎")
PREGNANCY_ASSERT = re.compile(rf"怀孕了|怀孕(?:第)?(?:{NUM})|怀孕中|已经怀孕|正在怀孕|怀孕(?:快|已经|刚|才|有)|孕(?:第)?(?:{NUM})(?:个)?(?:周|月|天)|"
                              r"孕早期|孕中期|孕晚期|妊娠(?:{NUM}|期|中|早|中|晚)|孕妇|有身孕|怀着|怀了|有喜了|怀上了|在孕期|孕期中|"
                              r"刚怀孕|才怀孕|已怀孕|确认怀孕|查出怀孕|测出怀孕|验出怀孕|怀孕早期|怀孕中期|怀孕晚期|"
                              r"怀(?:二胎|三胎)")
LACTATION_MENTION = re.compile(r"哺乳期|哺乳|喂奶|母乳喂养|喂母乳|吃母乳|纯母乳|母乳|母奶|喂着奶|还在喂|混合喂养|亲喂|背奶|追奶|"
                               r"断奶|断了奶|回奶|停止哺乳|不喂了|没有奶了|没奶了")
LACTATION_FALSE = re.compile(r"断奶|断了奶|回奶|停止哺乳|不喂了|没有奶了|没奶了")
AGE = re.compile(rf"(?:今年|年龄|年纪)?(?:已经)?({NUM})(?:周岁|岁)(?!时|的时候|那年|起|开始|以前|以后|以上|以下|左右|之前|之后)")
ASKS_TO_TAKE = re.compile(r"能吃|能用|可以吃|可以用|能不能|可不可以|能服|可以服|会不会影响|有没有影响|要紧|安全|影响")
# a child's age under one year (宝宝8个月, 出生20天, 新生儿) is 0; 1岁半 is 1
INFANT_AGE = re.compile(rf"({NUM})\s*(?:个\s*(?:多|半)?\s*(月)|(天|周)\s*(?=大|的宝|的孩|宝宝))|(?:出生|生下来)\s*({NUM})\s*(天|周)|"
                        r"新生儿|刚出生|满月")
CHILD_SEX = re.compile(r"(儿子|男孩|男宝|男娃|小子)|(女儿|闺女|女孩|女宝|女娃|丫头)")
SELF_PRONOUN = re.compile(r"我(?!家|们家|的孩|的宝|的儿|的女|孩|宝|儿|女|想问|想咨询|想请教|想知道|问一下)|本人|自己")
ASKING_FOR_OTHERS = re.compile(r"(给|帮|替)(孩子|宝宝|儿子|女儿|他|她|娃)|我(该|应该|能|可以|要)(给|让)")
AGE_BARE = re.compile(r"(?:今年|年龄|年纪|岁数|年满)[:：是]?\s*(?:已经|都|快|才|刚|刚满|满)?\s*([0-9]{1,3}|[一二三四五六七八九十]{2,4})"
                      r"(?![0-9.]|个|斤|公斤|kg|cm|年|月|周|天|次|多|几)")
AGE_BY_SEX = re.compile(r"(?:^|[^\u4e00-\u9fff]|我|本人)(?:男|女)(?:性|士|生)?[，,、/\s]*([0-9]{1,3}|[二三四五六七八九]十[一二三四五六七八九]?)"
                        r"(?![0-9.]|个|斤|公斤|kg|cm|年|月|周|天|次|mg|毫|/|多)"
                        r"|(?:^|[，,、\s])([0-9]{1,3})[，,、/\s]*(?:男|女)(?:性)?(?:[，,。\s]|$)")
AGE_ENGLISH = re.compile(r"(?<![0-9.])([0-9]{1,3})\s*(?:y|yo|yrs?|years?)(?![a-z])")
# Taiwan's year of birth in the Republic's calendar (民國50年次 / 民国50年出生: 1911 + 50 = 1961)
ROC_BIRTH = re.compile(r"(?:民国\s*([0-9]{2,3})\s*年\s*(?:次|出生|生)|(?<![0-9])([0-9]{2,3})\s*年次)")
AGE_TALK = re.compile(r"我(?:今年)?(?:都|已经|快)?([0-9]{2}|[二三四五六七八九]十[一二三四五六七八九]?)(?:了|，|,|\s|$)")
ELDER_SEX = re.compile(r"(?:我|本人|岁的?|岁)(?:是|一个|是个|是一个)?(?:(老头|老头子|老爷子|老大爷|大爷|老汉|男孩|小男孩|男生)|"
                       r"(老太太|老太婆|老奶奶|大妈|女孩|小女孩|女生))|^\s*(?:(男孩|小男孩)|(女孩|小女孩))\s*$")
SEX = re.compile(r"(?:我是|本人|患者|性别)?(?:(?<![\u4e00-\u9fff])|(?<=我))(男|女)(?=[，,。\s、；;0-9/]|性|$|生(?!日|活)|士)|"
                 r"(?:我是|本人|性别[:：]?)(男|女)(?!儿|朋友|友|孩|婿|方|宝|人)|(?:岁的|我是一[名个位]|我是个)(男|女)(?:性|生|士|的)")
WEIGHT = re.compile(r"(?:体重|重)(?:是|有|大概|大约|约|只有|才|:|：|\s)*([0-9]+(?:\.[0-9]+)?|[一二三四五六七八九十两百]+)\s*(kg|公斤|千克|斤)?"
                    r"|([0-9]+(?:\.[0-9]+)?|[一二三四五六七八九十两百]{2,5})\s*(kg|公斤|千克|斤)(?![/每])")
WEIGHT_CHANGE = re.compile(r"(瘦了|胖了|减了|重了|涨了|掉了|增加了?|减少了?|长了|降了|轻了|减重|减肥|每|/)\s*$")
EGFR = re.compile(r"(?:egfr|gfr|肾小球滤过率|滤过率|肾小球过滤率|肌酐清除率|crcl|ccr)(?:值|是|为|只有|才|大概|大约|约|:|：|\s)*([0-9]+(?:\.[0-9]+)?)")
CKD_STAGE = re.compile(r"(?:ckd|慢性肾脏病|慢性肾病|慢性肾功能不全|慢性肾衰竭|慢性肾衰|肾病|肾功能不全|肾功能|肾衰竭|肾衰)\s*"
                       r"[（(]?\s*(?:已经|已|都)?(?:进展到|发展到|到了|到|是|为)?\s*(?:第)?\s*g?([1-5一二三四五]|iv|v|i{1,3}|[ⅰⅱⅲⅳⅴ])\s*(?:a|b)?\s*(?:期)?"
                       r"|([1-5一二三四五])\s*期\s*(?:的)?\s*(?:慢性肾脏病|慢性肾病|ckd|肾病|肾功能不全|慢性肾衰竭|慢性肾衰)")
# a bare stage (说是3b期 / 进展到4期了) and the kidney words that must come before it in the message
STAGE_ONLY = re.compile(r"(?:^|说是|是|进展到|发展到|到了|到|已经)\s*(?:第)?\s*(?:g)?([1-5一二三四五])\s*[ab]?\s*期(?!间)")
KIDNEY_BEFORE = re.compile(r"肾病|肾脏病|肾功能|肾衰|egfr|gfr|滤过率|肌酐|ckd")
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "ⅰ": "1", "ⅱ": "2", "ⅲ": "3", "ⅳ": "4", "ⅴ": "5"}
WEEKS = re.compile(rf"(?:孕|怀孕|妊娠|怀)(?:了|已经|快|刚|才|有|第)?\s*({NUM})(?:\+[0-9])?\s*(个)?\s*(?:多|半)?\s*(周|月|天)")
TRIMESTER_WORDS = {"孕晚期": 3, "孕中期": 2, "孕早期": 1, "妊娠晚期": 3, "妊娠中期": 2, "妊娠早期": 1}
OCCUPATIONS = ("出租车司机|网约车司机|货车司机|大货车司机|卡车司机|公交车司机|公交司机|大巴司机|客车司机|长途司机|校车司机|"
               "叉车司机|吊车司机|列车司机|火车司机|地铁司机|代驾司机|挖掘机司机|客运司机|出租司机|驾校教练|代驾|司机|驾驶员|电焊工|飞行员|机长|空乘|高空作业人员|"
               "高空作业|塔吊司机|电工|焊工|建筑工人|工人|矿工|教师|老师|护士|医生|厨师|程序员|会计|运动员|快递员|外卖员|骑手|农民|"
               "保安|销售|律师|工程师|渔民|船员|机械操作工|操作工|潜水员|消防员|警察|军人")
OCCUPATION = re.compile(rf"(?:我是|职业是|职业[:：]|工作是|我在做|我当|本人是|我做|我是做|干)\s*(?:一名|一个|个|名|位)?"
                        rf"((?:(?![做干当是个名位一])[\u4e00-\u9fff]){{0,4}}?(?:{OCCUPATIONS}))")
# how patients say what they drive or where they work → the occupation as the case format names it (货车司机, 高空作业)
OCCUPATION_FOLK: list[tuple[re.Pattern[str], str]] = [(re.compile(p), name) for p, name in (
    (r"开[\u4e00-\u9fff]{0,3}?(?:货车|大货|大车|卡车|半挂|挂车|联结车|砂石车)|跑运输|开车拉货|拉货的", "货车司机"),
    (r"(?:开|跑|做)[\u4e00-\u9fff]{0,5}?(?:出租|的士|计程车)", "出租车司机"),
    (r"(?:开|跑|做)[\u4e00-\u9fff]{0,2}?(?:网约车|滴滴)", "网约车司机"),
    (r"开公交", "公交司机"),
    (r"开大巴|开客车|开长途客车", "客车司机"),
    (r"开叉车", "叉车司机"),
    (r"开吊车|开塔吊", "吊车司机"),
    (r"开挖掘机|开铲车|开挖机", "挖掘机司机"),
    (r"高空作业|在高空|登高作业|蜘蛛人|外墙清洗|爬电线杆|在高处工作|搭鹰架|做鹰架|鹰架上", "高空作业"),   # 鹰架: Taiwan's scaffold
    (r"开车为生|开车的|靠开车", "司机"),
    (r"跑快递|送快递", "快递员"),
    (r"送外卖|跑外卖", "外卖员"),
    (r"在工地|工地上", "建筑工人"),
)]


def chinese_number(text: str) -> int | None:
    """'35', '三十五', '十二', '一百零二' -> int; None if it is not a number."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for char in text:
        if char in CN_DIGITS:
            current = CN_DIGITS[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _only_names(text: str, found: list["_Found"]) -> bool:
    """A clause that is nothing but names and list words (阿托伐他汀 / 还有糖尿病 / 以及头孢)."""
    if not found:
        return False
    rest = list(text)
    for f in found:
        rest[f.start:f.end] = [" "] * (f.end - f.start)
    # list words only: a lone 有 asserts (不吸烟不喝酒，有糖尿病 is no continuation of the denied list)
    return bool(re.fullmatch(r"(?:\s|和|及|与|跟|、|/|以及|还有|或者|或|也|都|等|这些|几种|药片|药|片|类)*", "".join(rest)))


def _sentence_around(message: str, start: int, end: int) -> str:
    """The evidence of a correction or switch: from the clause of its first mention to the end of its last."""
    before = max(message.rfind(c, 0, start) for c in "，,。；;！!？?\n")
    after = [i for i in (message.find(c, end) for c in "，,。；;！!？?\n") if i >= 0]
    return message[before + 1:min(after) if after else len(message)].strip()


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


class FactExtractor(Protocol):
    def extract(self, message: str, message_id: str | None = None) -> list[Fact]: ...


@dataclass
class _Clause:
    text: str
    start: int
    self_subject: bool
    child: bool
    sentence: int
    question: bool = False   # ends in ？ or a question particle


@dataclass
class _Found:
    """A mention in one clause: its span (clause offsets), kind ("medication", "condition", "allergy") and value."""

    kind: str
    value: str
    start: int
    end: int
    lexicon_kind: str = ""


class RuleBasedExtractor:
    """Facts the patient states about themself, normalised through the lexicon (see the module docstring)."""

    def __init__(self, lexicon: Lexicon, report_unresolved: Callable[[str, str], None] | None = None):
        self.lexicon = lexicon
        self.report_unresolved = report_unresolved or (lambda name, evidence: log.info(
            "condition %r is not in the lexicon: kept as free text (evidence: %s)", name, evidence))
        self._condition_typos = None   # built on first use (medq.agent.text.FuzzyIndex)
        self._class_members: dict[str, set[str]] = {}   # class (and every parent class) -> its drugs
        for name in lexicon.drugs:
            for klass in lexicon.classes_of(name):
                self._class_members.setdefault(klass, set()).add(name)

    # ---- clauses -------------------------------------------------------------------------------------------
    def clauses(self, text: str) -> list[_Clause]:
        result: list[_Clause] = []
        self_subject, child, sentence = True, False, 0
        for match in re.finditer(r"[^，,。；;！!？?\n\r]+|[，,。；;！!？?\n\r]+", text):
            piece = match.group(0)
            if CLAUSE_SPLIT.fullmatch(piece):
                if SENTENCE_END.search(piece):
                    sentence += 1
                continue
            if not piece.strip():
                continue
            new_self, names_child = experiencer(piece, self_subject)
            child = names_child if (new_self != self_subject or names_child or new_self) else child
            self_subject = new_self
            tail = text[match.end():match.end() + 1]
            question = tail in ("？", "?") or bool(re.search(r"(吗|呢|么|嘛)\s*$", piece))
            result.append(_Clause(piece, match.start(), self_subject, child and not self_subject, sentence, question))
        return result

    # ---- the extractor -------------------------------------------------------------------------------------
    def extract(self, message: str, message_id: str | None = None) -> list[Fact]:
        text = to_simplified(message)
        if len(text) != len(message):   # cannot happen with a one-to-one table; keep the evidence honest anyway
            message = text
        # facts about the writer, about the writer's child, and the writer's lactation read in a clause about the baby
        mine: list[Fact] = []
        childs: list[Fact] = []
        nursing: list[Fact] = []
        message_level: list[Fact] = []

        def collector(bucket: list[Fact]):
            def add(kind: str, value: str, status: FactStatus, evidence: str, supersedes: Iterable[str] = (),
                    retracts: Iterable[str] = ()) -> None:
                bucket.append(Fact(kind, value, status, source_message_id=message_id, evidence=evidence,  # type: ignore
                                   supersedes=tuple(sorted(set(supersedes) - {value})),
                                   retracts=tuple(sorted(set(retracts) - {value}))))
            return add

        add_mine, add_child, add_nursing = collector(mine), collector(childs), collector(nursing)
        writer_speaks = False
        clauses = self.clauses(text)
        allergy_sentences = {c.sentence for c in clauses if ALLERGY_CUE.search(c.text)}
        # sentences that ask whether a medicine may be taken (…，哺乳期能吃吗): a drug only prescribed in them is asked about
        asking_sentences = {c.sentence for c in clauses if ASKS_TO_TAKE.search(c.text) and c.question}
        previous: tuple[_Clause, list[Target], list[_Found]] | None = None
        previous_status: dict[str, FactStatus] = {}
        for clause in clauses:
            bucket = mine if clause.self_subject else childs
            add = add_mine if clause.self_subject else add_child
            first_new = len(bucket)
            evidence = message[clause.start:clause.start + len(clause.text)]
            found = self._mentions(clause.text, clause.sentence in allergy_sentences)
            targets = [Target(f.kind, f.start, f.end) for f in found]
            targets += [Target("pregnancy", m.start(), m.end()) for m in PREGNANCY_MENTION.finditer(clause.text)]
            targets += [Target("lactation", m.start(), m.end()) for m in LACTATION_MENTION.finditer(clause.text)]
            triggers = find_triggers(clause.text)
            classify(clause.text, targets, triggers)
            by_span = {(t.kind, t.start, t.end): t for t in targets}
            if clause.self_subject or clause.child:
                continues = previous is not None and previous[0].sentence == clause.sentence and \
                    previous[0].self_subject == clause.self_subject and _only_names(clause.text, found)
                for f in found:
                    if continues and f.kind in previous_status:
                        # 吃的是氨氯地平和二甲双胍，阿托伐他汀: a clause of names only continues the list before it
                        add(f.kind, f.value, previous_status[f.kind], evidence)
                        continue
                    self._decide(f, by_span[(f.kind, f.start, f.end)].categories, clause.text, evidence, add,
                                 clause.question or clause.sentence in asking_sentences)
                self._scalars(clause.text, evidence, add, child=clause.child,
                              following=text[clause.start + len(clause.text):], evidence_before=text[:clause.start])
            if clause.self_subject:
                self._pregnancy(clause.text, [t for t in targets if t.kind == "pregnancy"], evidence, add)
                self._lactation(clause.text, [t for t in targets if t.kind == "lactation"], evidence, add)
                writer_speaks = writer_speaks or (bool(SELF_PRONOUN.search(clause.text)) and
                                                  not ASKING_FOR_OTHERS.search(clause.text))
            elif clause.child:
                self._lactation(clause.text, [t for t in targets if t.kind == "lactation"], evidence, add_nursing)
            # a stop or cure in a clause that names nothing of its kind reaches back: …，上个月医生让停了
            if previous is not None and previous[0].sentence == clause.sentence and not clause.question and \
                    not re.search(r"如果|假如|要是|万一|将来|打算|准备|需不需要|要不要", clause.text) and \
                    previous[0].self_subject == clause.self_subject and (clause.self_subject or clause.child):
                self._reach_back(clause.text, found, previous, evidence, add)
            previous = (clause, targets, found)
            previous_status = {f.kind: f.status for f in bucket[first_new:] if f.kind in ("medication", "condition",
                                                                                           "allergy")}
        add_message = collector(message_level)
        self._message_scalars(text, clauses, message, add_message)
        if BIRTH.search(text) and not re.search(r"(?:姐|嫂|妹|朋友|同事|邻居|亲戚|表|堂)[\u4e00-\u9fff]{0,3}(?:生|出生|分娩|产后)", text):
            birth = BIRTH.search(text)
            add_message("pregnancy", "false", "active", _sentence_around(message, birth.start(), birth.end()))
        # 怀孕了，第10周: the weeks in a clause of their own
        if any(f.kind == "pregnancy" and f.value == "true" for f in mine) and not any(f.kind == "trimester" for f in mine):
            weeks = re.search(rf"(?:孕|怀孕|妊娠|第)\s*({NUM})\s*(?:\+[0-9])?\s*(周)", text)
            if weeks and chinese_number(weeks.group(1)) is not None:
                add_message("trimester", str(self._trimester("孕" + weeks.group(1) + "周")), "active",
                            _sentence_around(message, weeks.start(), weeks.end()))
        self._corrections(text, message, add_message)
        self._switches(text, message, add_message)
        # whose profile: the writer's, unless the message speaks only about the writer's child (我家孩子3岁，对头孢过敏
        # → the child's: the writer asks for the child). A mother who says she breastfeeds (宝宝3个月，纯母乳喂养，
        # 感冒了能吃什么) asks about her own medicines: breastfeeding is what makes them a question.
        if childs and not mine and not writer_speaks and not nursing:
            return merge_facts([], childs + message_level)
        return merge_facts([], mine + nursing + message_level)

    # ---- mentions ------------------------------------------------------------------------------------------
    def _mentions(self, text: str, allergy_sentence: bool = False) -> list[_Found]:
        found: list[_Found] = []
        allergy_clause = bool(ALLERGY_CUE.search(text)) or (allergy_sentence and (
            bool(ALLERGY_SOFT.search(text)) or _only_names(text, [_Found("", "", m.start, m.end)
                                                                  for m in self.lexicon.find_mentions(text)])))
        covered: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            return not any(s < end and start < e for s, e in covered)

        # colloquial phrases first: 甘油三酯偏高 is a condition, not the drug 甘油
        for pattern, names in _COLLOQUIAL:
            for match in pattern.finditer(text):
                if not free(match.start(), match.end()):
                    continue
                for name in names:
                    if "{" in name:   # a measurement: 血脂 + 高
                        name = name.format(*match.groups())
                        name = self.lexicon.canonical(name, ("condition",)) or MEASURE_NAMES.get(name)
                        if name is None:
                            continue
                    value = self.lexicon.canonical(name, ("condition",)) or name
                    # a procedure the patient had (放了支架) asserts the condition by itself
                    asserted = "asserted" if pattern.pattern.startswith("(?:装|放") else ""
                    found.append(_Found("condition", value, match.start(), match.end(), asserted))
                covered.append((match.start(), match.end()))
        mentions = [m for m in self.lexicon.find_mentions(text) if free(m.start, m.end) or m.kind == "condition"]
        mentions += self._fuzzy_conditions(text, mentions)
        for m in mentions:
            if m.kind == "condition":
                found.append(_Found("condition", m.canonical, m.start, m.end, m.kind))
            elif allergy_clause and m.kind in ALLERGEN_KINDS:
                found.append(_Found("allergy", m.canonical, m.start, m.end, m.kind))
            elif m.kind in DRUG_KINDS and not self._names_a_member(text, m, mentions):
                found.append(_Found("medication", m.canonical, m.start, m.end, m.kind))
            covered.append((m.start, m.end))
        bare = FREE_CONDITION_BARE.match(text)
        for name, start, end in [(m.group(2), m.start(2), m.end(2)) for m in FREE_CONDITION.finditer(text)] + \
                ([(bare.group(1), bare.start(1), bare.end(1))] if bare else []):
            if not free(start, end) or FREE_CONDITION_STOP.search(name) or len(name) < 2:
                continue
            value = self.lexicon.canonical(name, ("condition",))
            if value is None:
                name = re.sub(r"^(轻度|中度|重度|轻微|轻)", "", name)   # 轻度脂肪肝: the condition, not its degree
                value = self.lexicon.canonical(name, ("condition",))
                if value is None:
                    value = name
                    self.report_unresolved(name, text)
            found.append(_Found("condition", value, start, end))
            covered.append((start, end))
        if allergy_clause:
            for match in FREE_ALLERGEN.finditer(text):
                name, start, end = match.group(1), match.start(1), match.end(1)
                if free(start, end) and not FREE_ALLERGEN_STOP.search(name):
                    found.append(_Found("allergy", name, start, end))
        # a condition inside a free-text span found twice (colloquial + lexicon) is one mention
        unique: dict[tuple[str, str], _Found] = {}
        for f in sorted(found, key=lambda f: f.start):
            unique.setdefault((f.kind, f.value), f)
        return list(unique.values())

    def _fuzzy_conditions(self, text: str, mentions: list[Mention]) -> list[Mention]:
        """Typos of condition, class and substance names of ≥ 3 characters (高血亚, 糖尿并, 青梅素: the same pinyin) in
        text no name covers; the lexicon's own typo index covers drugs and products."""
        if self._condition_typos is None:
            from medq.agent.text import FuzzyIndex

            self._condition_typos = FuzzyIndex({name: entry for name, entry in self.lexicon.names.items()
                                                if entry[0] in ("condition", "class", "substance")})
        norm = normalise(text)
        return [Mention(text[h.start:h.end], h.start, h.end, h.value[0], h.value[1], fuzzy=True)
                for h in self._condition_typos.scan(norm, [(m.start, m.end) for m in mentions])]

    @staticmethod
    def _names_a_member(text: str, mention: Mention, mentions: list[Mention]) -> bool:
        """我吃的他汀是瑞舒伐他汀: the class only introduces the drug named after it."""
        if mention.kind != "class":
            return False
        after = [m for m in mentions if m.start >= mention.end and m.kind in ("drug", "product")]
        return bool(after) and bool(re.match(r"^\s*(是|叫|就是|用的是|吃的是|主要是|有|吃的|用的|打的|吃着|用着|一直吃|在吃)",
                                             text[mention.end:after[0].start]))

    # ---- decisions -----------------------------------------------------------------------------------------
    def _decide(self, found: _Found, categories: dict[str, int], text: str, evidence: str, add,
                question: bool = False) -> None:
        kind = found.kind
        if "hypothetical" in categories:
            return
        if kind == "allergy":
            if "negated" in categories:
                add("allergy", found.value, "denied", evidence)
            elif "uncertain" not in categories:
                add("allergy", found.value, "active", evidence)
        elif kind == "medication":
            if "negated" in categories and categories.get("negated", 99) <= categories.get("taking", 99):
                add("medication", found.value, "denied", evidence)
            elif "stopped" in categories:
                add("medication", found.value, "stopped", evidence)
            elif "taking" in categories and not ("uncertain" in categories and
                                                 categories["uncertain"] <= categories["taking"]):
                add("medication", found.value, "active", evidence)
            elif ("taking_weak" in categories or "prescribed" in categories) and "uncertain" not in categories \
                    and not question:
                add("medication", found.value, "active", evidence)
        elif kind == "condition":
            if "uncertain" in categories:
                return   # 我是不是得了糖尿病 / 我有高血压吗
            habit = SYMPTOM_CONDITIONS.get(found.value)
            if habit is not None and not re.search(habit, text[max(0, found.start - 6):found.end + 6]):
                return   # 最近失眠 is a symptom; 老失眠 / 长期失眠 the condition
            if "negated" in categories or re.search(r"(?:不|没|从不|从来不|已经不|早就不)$", text[:found.start]):
                add("condition", found.value, "denied", evidence)   # 不吸烟 / 没贫血
            elif "healed" in categories:
                add("condition", found.value, "stopped", evidence)
            elif self._generic_question(text, found):
                return
            elif "assert" in categories or found.lexicon_kind == "asserted" or found.start == 0 or re.search(r"我|本人|自己|^\s*(?:就是|只是|主要是|但是|不过|还有|另外|只有)", text[:found.start]) or \
                    re.fullmatch(r"[\s0-9一二三四五期第级度型ab（）()、男女岁性/]*", text[:found.start] + text[found.end:]):
                add("condition", found.value, "active", evidence)

    @staticmethod
    def _generic_question(text: str, found: _Found) -> bool:
        """糖尿病人能吃西瓜吗 / 高血压患者能喝咖啡吗: a question about a group of people, not a fact."""
        after = text[found.end:found.end + 3]
        return bool(re.match(r"(的)?(人|病人|患者|病友)", after)) and not re.search(r"我是|本人是|我属于", text[:found.start])

    def _reach_back(self, text: str, found: list[_Found], previous, evidence: str, add) -> None:
        clause, _targets, earlier = previous
        prev_evidence = evidence  # the later clause says why the earlier fact changed
        for kind, category, status in (("medication", "negated", "denied"), ("medication", "stopped", "stopped"),
                                       ("condition", "healed", "stopped")):
            if any(f.kind == kind for f in found):
                continue
            if category in reach_back_categories(text, kind):
                for f in earlier:
                    if f.kind == kind:
                        add(kind, f.value, status, clause.text + "，" + prev_evidence)

    def _pregnancy(self, text: str, targets: list[Target], evidence: str, add) -> None:
        if BIRTH.search(text) and not any("hypothetical" in t.categories for t in targets):
            add("pregnancy", "false", "active", evidence)
            return
        if NOT_PREGNANT.search(text):
            add("pregnancy", "false", "active", evidence)
            return
        for target in targets:
            categories = target.categories
            if "hypothetical" in categories or "uncertain" in categories:
                continue
            if "negated" in categories:
                add("pregnancy", "false", "active", evidence)
                return
            window = text[max(0, target.start - 3):target.end + 4]
            if PREGNANCY_ASSERT.search(window):
                add("pregnancy", "true", "active", evidence)
                trimester = self._trimester(text)
                if trimester is not None:
                    add("trimester", str(trimester), "active", evidence)
                return

    @staticmethod
    def _trimester(text: str) -> int | None:
        """From the weeks, months or days stated (孕28周, 怀孕两个月), else the named trimester (孕中期); not 早孕反应."""
        match = WEEKS.search(text)
        number = chinese_number(match.group(1)) if match else None
        if number is None:
            return next((value for word, value in TRIMESTER_WORDS.items() if word in text), None)
        unit = match.group(3)
        if unit == "天":
            return 1
        if unit == "月":
            return 1 if number <= 3 else 2 if number <= 6 else 3
        return 1 if number < 14 else 2 if number < 28 else 3

    def _lactation(self, text: str, targets: list[Target], evidence: str, add) -> None:
        for target in targets:
            categories = target.categories
            if "hypothetical" in categories or "uncertain" in categories:
                continue
            if LACTATION_FALSE.fullmatch(text[target.start:target.end]):   # 断奶了 / 不喂了; 还没断奶: still feeding
                nursing = bool(re.search(r"(还没|没有|没|还未|未|不想|不打算)$", text[:target.start]))
            else:
                nursing = not ("negated" in categories or re.search(r"(不|没|没有|不再)(喂|哺乳)",
                                                                    text[max(0, target.start - 3):target.start + 1]))
            add("lactation", "true" if nursing else "false", "active", evidence)
            return

    def _scalars(self, text: str, evidence: str, add, child: bool = False, following: str = "",
                 evidence_before: str = "") -> None:
        norm = text.lower()
        whole = norm + following.lower()   # a correction may come in the clauses after (52，不对，53了)
        preceding = evidence_before
        match = AGE.search(norm) or AGE_BARE.search(norm) or AGE_TALK.search(norm) or AGE_ENGLISH.search(norm)
        if match:
            age = chinese_number(_corrected(whole, match) or match.group(1))
            if age is not None and 0 < age < 125 and not re.search(r"多$|几$", match.group(0)[:-1]):
                add("age", str(age), "active", evidence)
        elif ROC_BIRTH.search(norm):
            roc = ROC_BIRTH.search(norm)
            age = date.today().year - 1911 - int(roc.group(1) or roc.group(2))   # type: ignore[union-attr]
            if 0 < age < 125:
                add("age", str(age), "active", evidence)
        elif child and INFANT_AGE.search(norm):
            months = INFANT_AGE.search(norm)
            amount = months.group(1) or months.group(4)
            number = chinese_number(amount) if amount else 0
            if number is not None:
                add("age", str(number // 12 if months.group(2) else 0), "active", evidence)
        if child:
            match = CHILD_SEX.search(text)
            if match:
                add("sex", "male" if match.group(1) else "female", "active", evidence)
        else:
            sex = SEX.search(text)
            elder = ELDER_SEX.search(text)
            if elder and not sex:
                add("sex", "male" if elder.group(1) or elder.group(3) else "female", "active", evidence)
            if sex:
                add("sex", "male" if (sex.group(1) or sex.group(2) or sex.group(3)) == "男" else "female", "active",
                    evidence)
        for match in WEIGHT.finditer(norm):
            number, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            if match.group(1) and unit is None and "体重" not in match.group(0):
                continue   # 重 alone needs a unit
            if WEIGHT_CHANGE.search(norm[:match.start()]) or re.match(r"\s*(/|每)", norm[match.end():]):
                continue
            amount = float(number) if number[0].isdigit() else chinese_number(number)
            if amount is None:
                continue
            value = float(amount) / (2 if unit == "斤" else 1)
            if 2 <= value <= 300:
                add("weight", _number_text(value), "active", evidence)
                break
        match = EGFR.search(norm)
        if match and 0 < float(match.group(1)) < 200:
            value = _corrected(whole, match) or match.group(1)
            add("egfr", _number_text(float(value) if value[0].isdigit() else float(chinese_number(value) or 0)),
                "active", evidence)
        match = CKD_STAGE.search(norm)
        if match and (match.group(2) or match.group(0).rstrip().endswith("期") or match.group(0).startswith("ckd")):
            stage = match.group(1) or match.group(2)
            stage = ROMAN.get(stage, stage)
            add("ckd_stage", str(chinese_number(stage)), "active", evidence)
        elif KIDNEY_BEFORE.search(preceding.lower()) and STAGE_ONLY.search(norm) and \
                not re.search(r"癌|瘤|淋巴|高血压|压疮|褥疮|分期", norm):
            # 慢性肾病，eGFR是38，医生说是3b期: a bare stage in a message that spoke of the kidneys before it
            stage = STAGE_ONLY.search(norm).group(1)   # type: ignore[union-attr]
            add("ckd_stage", str(chinese_number(stage)), "active", evidence)
        elif STAGE_FIVE.search(norm) and not re.search(r"(不是|没有|没|不用|不需要|避免|以免|防止|预防|会不会|是否)[\u4e00-\u9fff]{0,3}"
                                                        r"(?:尿毒症|透析|洗肾)", norm):
            add("ckd_stage", "5", "active", evidence)   # 尿毒症 / 透析: CKD G5(D)
        match = OCCUPATION.search(text) or re.fullmatch(rf"\s*(?:职业)?[:：]?\s*({OCCUPATIONS})\s*", text)
        if match:
            add("occupation", match.group(1), "active", evidence)
        else:
            for pattern, name in OCCUPATION_FOLK:
                if pattern.search(text) and re.search(r"的|我是|^我开|^我跑|^我送|^我在|平时|工作|上班|职业|为生|天天|每天|经常|"
                                                      r"常年|干", text):
                    add("occupation", name, "active", evidence)
                    break

    def _message_scalars(self, text: str, clauses: list[_Clause], message: str, add) -> None:
        """A bare age beside the sex (男，58 / 58，女) spans two clauses."""
        for match in AGE_BY_SEX.finditer(text):
            owner = next((c for c in clauses if c.start <= match.start() + 1 < c.start + len(c.text) + 1), None)
            if owner is not None and not owner.self_subject:
                continue
            number = chinese_number(match.group(1) or match.group(2)) or 0
            if 0 < number < 125:
                add("age", str(number), "active", message[match.start():match.end()].strip("，, "))
            return

    # ---- corrections and switches -------------------------------------------------------------------------
    def _grouped(self, text: str) -> list[_Found]:
        """Every mention in the message, kinds as the correction patterns need them."""
        result = []
        allergy = bool(ALLERGY_CUE.search(text))
        for m in self.lexicon.find_mentions(text):
            if m.kind == "condition":
                result.append(_Found("condition", m.canonical, m.start, m.end, m.kind))
            elif allergy and m.kind in ALLERGEN_KINDS:
                result.append(_Found("allergy", m.canonical, m.start, m.end, m.kind))
            elif m.kind in DRUG_KINDS:
                result.append(_Found("medication", m.canonical, m.start, m.end, m.kind))
        return result

    def _corrections(self, text: str, message: str, add) -> None:
        """不是A，是B / A，哦不是，是B / (是)B，不是A: A becomes denied (retracted), B takes A's place."""
        mentions = self._grouped(text)
        handled: set[tuple[str, str]] = set()
        for a, b in zip(mentions, mentions[1:]):
            if a.kind != b.kind:
                continue
            between = re.sub(r"^(过敏|了)", "", text[a.end:b.start])
            between = re.sub(r"(不对|不是|错了)(?:[，,\s]*\1)+", r"\1", between)
            before = text[max(0, a.start - 4):a.start]
            mark = CORRECTION_MARK.match(between.lstrip("，,。…! ！"))
            if re.search(r"不是\s*(对)?$", before) and CORRECTED_VALUE.match(between):
                corrected, retracted = b, a            # 不是A，是B
            elif re.fullmatch(r"\s*[，,]?\s*(而|并)?不是\s*(对)?\s*", between):
                corrected, retracted = a, b            # (是)A，不是B
            elif mark and CORRECTED_TAIL.fullmatch(between.lstrip("，,。…! ！")[mark.end():]):
                corrected, retracted = b, a            # A，哦不是，是B
            else:
                continue
            span = _sentence_around(message, min(a.start, b.start), max(a.end, b.end))
            add(retracted.kind, retracted.value, "denied", span)
            add(corrected.kind, corrected.value, "active", span)
            handled |= {(a.kind, a.value), (b.kind, b.value)}
        # 怀孕20周，哦不对，是30周 / (later message) 说错了，是30周: the corrected gestational age
        mark = CORRECTION_MARK.search(text) or UNNAMED_CORRECTION.search(text)
        if mark:
            later = re.match(rf"[，,。！!…\s]*(?:应该|其实)?(?:是)?(?:孕|怀孕)?\s*({NUM})(?:\+[0-9])?\s*(?:周|(?<=孕)(?:个)?月)",
                             text[mark.end():])
            if later:
                trimester = self._trimester("孕" + later.group(0)[later.start(1):])
                if trimester is not None:
                    add("trimester", str(trimester), "active", _sentence_around(message, mark.start(), mark.end()))
        if mark and AGE.search(text[:mark.start()]) or mark and AGE_TALK.search(text[:mark.start()]):
            later_age = re.match(r"[，,。！!…\s]*(?:应该|其实|实际)?(?:是)?\s*([0-9]{1,3})\s*(?:岁|周岁)?(?:[，,。！!\s了]|$)",
                                 text[mark.end():])
            if later_age and 0 < int(later_age.group(1)) < 125:
                add("age", later_age.group(1), "active", _sentence_around(message, mark.start(), mark.end()))
        # 氨氯地平是我爸吃的: the drug is someone else's
        for m in mentions:
            if m.kind == "medication" and OTHERS_DRUG.match(text[m.end:m.end + 12]):
                add("medication", m.value, "denied", _sentence_around(message, m.start, m.end))
        # 刚才说错了，是头孢过敏: nothing retracted is named here; what was said before of the same family is
        for mark in UNNAMED_CORRECTION.finditer(text):
            sentence_start = max(text.rfind(c, 0, mark.start()) for c in "。！!？?\n") + 1
            if any(sentence_start <= m.start < mark.start() for m in mentions):
                continue   # A，说错了，是B: handled above
            new = next((m for m in mentions if 0 <= m.start - mark.end() <= 10 and m.kind != "condition"), None)
            if new is None or (new.kind, new.value) in handled or re.search(r"不是\s*(对)?$", text[:new.start]):
                continue
            retracts = {name for klass in self._family(new.value) for name in self._family_members(klass)}
            add(new.kind, new.value, "active", _sentence_around(message, mark.start(), new.end),
                retracts=retracts)

    def _switches(self, text: str, message: str, add) -> None:
        """换成了B: B is taken now; the old drug ends (named: 把A换成B; otherwise any drug of B's classes or of the
        group named, 降压药换成了B)."""
        meds = [m for m in self._grouped(text) if m.kind == "medication"]
        for verb in SWITCH_VERB.finditer(text):
            new = next((m for m in meds if m.end > verb.end() and m.start >= verb.start() and
                        m.start - verb.end() <= 4), None)
            if new is None or re.search(r"(能不能|可不可以|可以|要不要|能否|是否|想|打算|准备|会不会)\s*$", text[:verb.start()]):
                continue
            old = [m for m in meds if m.end <= verb.start() and verb.start() - m.end <= 6
                   and not re.search(r"[。！？?]", text[m.end:verb.start()])]
            if not old:   # 吃的厄贝沙坦，不过上周医生给换成了氨氯地平: the nearest earlier drug of the same family
                family = self._family(new.value)
                old = [m for m in reversed(meds) if m.end <= verb.start() and m.value != new.value
                       and self._family(m.value) & family][:1]
            ended: set[str] = {m.value for m in old}
            # a class or group named as the old one (降压药换成了缬沙坦) ends its members; nothing named: B's classes
            classes = {m.value for m in old if m.value in self.lexicon.classes} or \
                (set() if old else self._family(new.value))
            for klass in classes:
                ended |= self._class_members.get(klass, set()) | {klass}
            span = _sentence_around(message, min([new.start, verb.start()] + [m.start for m in old]), new.end)
            for m in old:
                if m.value != new.value:
                    add("medication", m.value, "stopped", span)
            add("medication", new.value, "active", span, supersedes=ended)

    def _family_members(self, klass: str) -> set[str]:
        """Drugs and classes under a class (its own name included)."""
        return self._class_members.get(klass, set()) | {c for c in self.lexicon.classes
                                                         if klass in self.lexicon.class_ancestors(c)}

    def _family(self, value: str) -> set[str]:
        """Classes with their parents, without the organ-system groups (心血管系统用药 joins too much)."""
        names = {value} | set(self.lexicon.products[value].components if value in self.lexicon.products else ())
        classes = {c for name in names for c in self.lexicon.classes_of(name)}
        if value in self.lexicon.classes:
            classes |= self.lexicon.class_ancestors(value)
        return {c for c in classes if not c.endswith("系统用药") and c != "抗感染药"}

    def _classes(self, value: str) -> set[str]:
        """The direct classes of a drug, of a product's ingredients, or the class itself (not the parents: a
        switch within 他汀类 must not end every 调脂药)."""
        if value in self.lexicon.drugs:
            return set(self.lexicon.drugs[value].classes)
        if value in self.lexicon.products:
            return {c for part in self.lexicon.products[value].components
                    for c in getattr(self.lexicon.drugs.get(part), "classes", ())}
        if value in self.lexicon.classes:
            return {value}
        return set()

    def unresolved(self, facts: Iterable[Fact]) -> list[Fact]:
        """The condition and allergy facts whose value the lexicon does not know (kept as free text)."""
        kinds = {"condition": ("condition",), "allergy": ALLERGEN_KINDS}
        return [f for f in facts if f.kind in kinds and self.lexicon.canonical(f.value, kinds[f.kind]) is None]


__all__ = ["FactExtractor", "RuleBasedExtractor", "chinese_number"]


# a value the speaker corrects (我今年52，不对，53了 / 滤过率是35，啊不是，我看错了，是53): the number after the correction
CORRECTION = re.compile(r"不对|不是|说错|看错|记错|搞错|弄错|更正|纠正")
CORRECTED_NUMBER = re.compile(r"(?<![0-9.])([0-9]{1,3}(?:\.[0-9]+)?|[一二三四五六七八九十]{2,4})(?![0-9.]|\s*(?:年|月|天|周|次|个|mg|毫克|片))")


def _corrected(norm: str, match: "re.Match[str]") -> str | None:
    """The last number after a correction that follows the value matched, in its sentence; None when none."""
    end = min([i for i in (norm.find(mark, match.end()) for mark in "。！？!?\n") if i >= 0] or [len(norm)])
    marker = CORRECTION.search(norm, match.end(), end)
    if not marker:
        return None
    numbers = CORRECTED_NUMBER.findall(norm[marker.end():end])
    return numbers[-1] if numbers else None
