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

7. What is remembered (`known`, the facts before this message) resolves what a message refers to without naming it:
   掉到41了 / 进展到3期了 update the remembered kidney figure, 不过上周已经停了 / 其实不过敏 end the one remembered
   medicine or allergy, 他/她 is a remembered child, a birth ends only a pregnancy known (`_Context`, `_unnamed`).
8. One fact named twice in a message is the precise one (`_refine`): 心肌梗死 for 冠心病, a CKD stage for 肾功能不全,
   诺和锐 for 胰岛素, a class allergy for its member.

Statuses: active (holds now), stopped (a medicine no longer taken, a condition that is over), denied (the patient
says it does not hold, or retracted it). Whether a revocation of a remembered safety-critical fact takes effect is
the memory store's decision (`medq.agent.confirmation`), not the extractor's.

An optional model-based extractor can add facts through the same `FactExtractor` protocol.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Callable, Iterable, Protocol

from medq.agent.assertion import CHILDREN, OTHER, RELATIVES, SELF, Target, classify, experiencer, find_triggers, reach_back_categories
from medq.agent.facts import ENFORCED_STATUSES, Fact, FactStatus, merge_facts
from medq.agent.knowledge import Lexicon, Mention
from medq.agent.text import normalise, to_simplified
from medq.agent.tools.bmi import CATEGORIES as BMI_CATEGORIES

log = logging.getLogger(__name__)

CLAUSE_SPLIT = re.compile(r"[，,。；;！!？?\n\r]+")
SENTENCE_END = re.compile(r"[。！!？?\n\r]")
DRUG_KINDS = ("drug", "product", "class")
ALLERGEN_KINDS = ("drug", "product", "class", "substance")
ALLERGY_CUE = re.compile(r"过敏|皮试阳性|皮试[^，,。]{0,3}阳性|[起出](?:过|了)(?:一次|两次|几次|一身|一片|严重的?|很多|大片的?)?(?:全身|浑身|满身|身上|一身的?)?(?:疹子|皮疹|红疹|风团|荨麻疹|红点)|"
                         r"(?<=就)(?:起|长|出)(?:了)?(?:一身|满身)?(?:疙瘩|红疙瘩|风疹块|小红包|红包)|起疙瘩|起风疹块|"
                         r"(?<=就)起(?:水)?(?:泡|疱)|(?<=会)(?:出|起)(?:红疹|皮疹|疹子|风团|荨麻疹)(?!吗|么|不|没|\?|？)|皮试过敏|皮试不过|起疹子|起皮疹|出疹子|出皮疹|起红疹|起风团|起荨麻疹|起红点|"
                         r"过民|全身痒|浑身痒|全身起|浑身起|喉头水肿|嘴唇肿|眼皮肿|脸肿|脸都肿|过敏性休克|休克过|差点休克|休克了|差点没命|送去抢救|进了抢救室|假阳性|会喘|就喘|喘不上气|憋气|"
                         # 吃阿司匹林会犯(哮喘) / 布洛芬诱发哮喘: a drug that provokes asthma (NSAID-exacerbated respiratory disease)
                         r"^\s*(?:我|一)?(?:吃|用|服)(?![^，,。]*?(?:海鲜|海产|辣|酒|肉|豆|火锅|甜|凉|冷|油|内脏|虾|蟹|鱼|奶|蛋|糖))[^，,。；;]{1,10}?[会就](?:犯|发作)(?=[，,。；;！!]|$)|(?:吃|用|服)[^，,。；;]{1,10}?[会就](?:犯|发)(?:哮喘|气喘)|(?:诱发|引起|引发|加重)(?:了|过)?(?:哮喘|气喘)")
# in a sentence about allergies, 青霉素没事 / 头孢可以用 says which drug is not an allergy
ALLERGY_SOFT = re.compile(r"没事|没问题|没反应|没有反应|(?<!不)可以用|(?<!不)能用|用过没事")   # (能不能用: a question)
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUM = r"[0-9]+|[一二三四五六七八九十两百零]+"

# colloquial condition phrases → conditions (names resolved through the lexicon; a name it lacks stays free text)
_MORE = r"(?:一直|有点|有些|稍微|稍|比较|较|偏|很|挺|特别|也|都|还|总是|老是|一直都|仍然|依然)*"
COLLOQUIAL_CONDITIONS: list[tuple[str, tuple[str, ...]]] = [
    (r"三高", ("高血压", "高脂血症", "糖尿病")),
    (r"两高|双高", ("高血压", "高脂血症")),
    # a measurement that is high or low: 血脂有点高 → the lexicon's name for 血脂高 (below: names it lacks)
    (rf"(血压|血糖|血脂|胆固醇|甘油三酯|尿酸|血钾|血钙|血钠|转氨酶|血小板|心率|心跳|白细胞|中性粒细胞|粒细胞){_MORE}(高|低|慢)(?!兴|了点|一点)",
     ("{0}{1}",)),
    # a heart rate told by its figure and judged slow (心率45太慢 / 心跳才50多，偏慢): bradycardia
    (r"(?:心率|心跳)(?:只有|才|就|在)?\s*[0-9]{2,3}\s*(?:多|来)?\s*(?:次)?(?:[，,]\s*)?(?:太|有点|偏|比较|很|过)(?:慢)", ("心动过缓",)),
    # the thyroid told as working low or high (甲状腺功能低 / 甲功偏低 / 甲状腺功能有点亢进)
    (rf"甲(?:状腺)?(?:功能|功){_MORE}(?:低下|减低|低|减退|不足)(?![于钾钠钙糖])", ("甲状腺功能减退",)),
    (rf"肾(?:脏)?(?:功能|功)?{_MORE}(?:不好|不太好|不行|差|很差|较差|有问题|不全|受损|减退|下降|异常|衰竭)", ("肾功能不全",)),
    (rf"肝(?:脏)?(?:功能|功)?{_MORE}(?:不好|不太好|不行|差|很差|有问题|受损|异常)", ("肝功能不全",)),
    (r"中过风|中风过", ("脑卒中",)),
    # 尿毒症前期: the kidneys before kidney failure (CKD, not yet G5)
    (r"尿毒症(?:前期|早期)", ("慢性肾脏病",)),
    (rf"前列腺{_MORE}(?:大|肥大|增生)", ("前列腺增生",)),
    (r"胃(?:出过血|出血过|大出血)|消化道出过血", ("消化道出血",)),
    (r"小三阳|大三阳|乙肝(?:病毒)?携带", ("乙型肝炎",)),
    (r"老慢支", ("慢性阻塞性肺疾病",)),
    (r"糖前期", ("糖尿病前期",)),
    (r"偏头疼", ("偏头痛",)),
    (r"[gG]6[pP][dD](?:酶)?缺乏(?!症)|[gG]6[pP][dD](?:酶)?缺陷", ("G6PD缺乏症",)),
    (r"(?<!哮)(?<!气)喘病", ("哮喘",)),
    (r"胃(?:上|里|里面)?(?:有|长了|长)(?:个|一个|点)?溃疡", ("胃溃疡",)),
    # Taiwanese usage (after traditional → simplified): 气喘 is asthma, B肝 hepatitis B, 胃食道逆流 GERD
    (r"(?<=有|患|是)气喘|气喘病", ("气喘",)),   # the knowledge's 气喘 row, below 哮喘: 哮喘's rules apply
    (r"[bB]肝|乙肝带原", ("乙型肝炎",)),
    (r"胃食道逆流|胃酸逆流", ("胃食管反流病",)),
    # on dialysis: CKD G5D (KDIGO); the knowledge's dialysis rows sit below 终末期肾病, so its rules apply. A bare
    # 透析 / 洗肾 is haemodialysis (the usual kind); 腹透 / 腹膜透析 is named as such
    (r"(?<!准备)(?<!要)(?<!开始)(?<!考虑)(?<!不用)(?<!不必)(?<!需要)(?<!暂不)(?:腹透|腹膜透析)", ("腹膜透析",)),
    (r"(?<!准备)(?<!要)(?<!开始)(?<!考虑)(?<!不用)(?<!不必)(?<!需要)(?<!暂不)(?<!腹膜)(?:洗肾|透析|血透)", ("血液透析",)),
    (r"(?<!准备)(?<!腹)透[一二两三四五1-5]次析", ("血液透析",)),   # 每周透三次析: the verb split by its count
    # 乳腺查出个结节 / 甲状腺上发现了个结节: the organ named before the finding names the condition
    (r"(乳腺|乳房|甲状腺|肺|肝|肾)(?:上|里|里面|部)?(?:查出|查到|发现|长)(?:了|来|出)?(?:个|一个|了个|有)?(?:小|几个)?(结节|囊肿|息肉)",
     ("{0}{1}",)),
    # the menopause told by its complaint (更年期潮热). Period pain is not remembered: across batches it is the
    # question of the moment (想问问痛经吃什么药), not a standing condition
    (r"更年期(?:的)?(?:潮热|烘热|出汗|盗汗|症状|反应)", ("更年期综合征",)),
    # a coronary stent is the state after it (ICD-10 Z95.5, below 冠心病: the antiplatelet rules read both); a bypass 冠心病
    # (只架: the homophone slip for 支架 after the verb that places it)
    (r"(?:装|放|安|上|做|植入)(?:过|了)?(?:[一二两三四五\d]?个)?(?:心脏|冠脉)?(?:支|只)架|心脏支架|冠脉支架", ("冠脉支架术后",)),
    (r"搭(?:过|了)?桥", ("冠心病",)),
    # a complication told after its disease (糖尿病有神经病变 / 糖尿病引起的眼底病变 / 高血压导致的肾病): the
    # complication's row (below the disease), where the lexicon has one
    (r"(糖尿病|高血压)(?:引起的|导致的|造成的|合并了?|伴有|伴|并发了?|出现了?|有了?|的)(周围神经病变|神经病变|视网膜病变|眼底病变|肾病|足病|足溃疡)",
     ("{0}{1}",)),
    # heartburn with regurgitation for years (反酸烧心好多年 / 老是烧心反酸): reflux disease (Montreal definition)
    (r"(?:老是|经常|常年|长期|一直|总是|多年)(?:都)?(?:反酸烧心|烧心反酸|反酸、烧心|烧心、反酸)|"
     r"(?:反酸烧心|烧心反酸|反酸、烧心|烧心、反酸)(?:好多年|多年|好几年|几年|很多年|很久|十几年|二十多年)", ("胃食管反流病",)),
    # falls told as a count (今年摔了两跤 / 跌倒过几次): a history of falls (Beers, China-PIM: a risk the auditor reads)
    (r"(?:摔|跌)(?:了|过)(?:[一二两三四五六七八九几\d]|好几)(?:跤|次|回)|(?:摔|跌)倒(?:了|过)(?:[一二两三四五六七八九几\d]|好几)次|"
     r"(?<!会)(?<!怕)(?:经常|老是|总是|反复)(?:摔跤|摔倒|跌倒)", ("跌倒史",)),
    # a transplanted organ told as an exchange (换过肾 / 三年前换的肝 / 做过肾移植)
    (r"换(?:过|了)?(?:的)?(?:肾|肝|心脏|肺)(?!功能|病|的药|瓣|起搏|支架)|(?:肾|肝)移植过", ("器官移植术后",)),
    # smoking told by its amount or years (每天一包烟 / 一天十来根烟 / 烟龄二十年 / 抽了三十年烟)
    (r"(?:每天|一天|天天|每日)(?:要|得|都|能)?(?:抽|吸)?(?:[一二两三四五六七八九十半\d]+|好几|几)(?:来)?(?:包|根|支)(?:多)?(?:的)?烟|"
     r"烟龄|老烟民|老烟枪|(?:抽|吸)了?(?:[一二两三四五六七八九十\d]+)(?:多)?年(?:的)?烟", ("吸烟",)),
    # a period told as irregular (月经乱 / 例假老是不准 / 大姨妈不规律)
    (rf"(?:月经|例假|大姨妈){_MORE}(?:乱|紊乱|不规律|不规则|不准|不调|失调)", ("月经不调",)),
    # a potassium told high without 血 (医生说我高钾): hyperkalaemia, not a high-potassium diet
    (r"(?<=[我有是点些偏])高钾(?!血症|食物|的|饮食|水果|蔬菜)", ("高钾血症",)),
    # a stone told by its organ (肾里长了个石头 / 胆囊里有结石): the organ's stone row, where the lexicon has one
    (r"(?<!没)(肾|胆囊|胆|输尿管)(?:里|上|里面|里头)?(?:长了|长过|有过|有|长|查出|发现)(?:了)?(?:个|一个|几个|些|一些|颗|一颗)?(?:小)?(?:石头|结石)",
     ("{0}结石",)),
    # an electrolyte or urate told high or low without 血症 (还有高尿酸 / 我低钠): the lexicon's X血症 row
    (r"(?:^|(?<=[我有是些点偏和、]))(高|低)(尿酸|钾|钠|钙|镁|磷)(?!血症|食物|饮食|的|水果|蔬菜|片|剂)", ("{0}{1}血症",)),
    # common homophone slips: 通风 for 痛风 where it is had or flares (not a room's ventilation)
    (r"(?<=[有了患])通风(?!设备|口|扇|换气|的房间|不好|好)|通风(?:发作|犯了|又犯|石|性关节炎)", ("痛风",)),
]
# a birth ends a pregnancy; 还没怀上 / 没怀孕 says there is none
# 快生了 / 马上要生了 / 还没生: about to give birth is still pregnant
BIRTH = re.compile(r"(?<![快要没未])(?<!马上)(?<!准备)(?<!就要)(?:已经|刚|上周|上个月|前天|昨天)?(?:出生了|生了|生完|生下|分娩了|剖腹产了|剖了|顺产了)|产后|坐月子|月子里")
NOT_PREGNANT = re.compile(r"(?:还没|没有|没|未)(?:能)?(?:怀上|怀孕|有怀孕|怀(?=的|[，,。！!]|$))")
# conditions that are also passing symptoms: a condition only with a word that makes it chronic
SYMPTOM_CONDITIONS = {"失眠": r"老|一直|长期|经常|总是|总(?=失眠)|常年|多年|几年|慢性|失眠症|睡眠障碍|入睡困难",
                      # 气喘 (Taiwanese for asthma, if the knowledge names it) is also breathlessness: 一爬楼就气喘
                      "气喘": r"(?<!点)(?:有|患|是|得了|得过)气喘|气喘病|气喘史|小儿气喘|过敏性气喘|确诊|诊断|发作|喷剂|吸入"}
# kidney failure on dialysis is CKD stage 5 (KDIGO G5D)
STAGE_FIVE = re.compile(r"尿毒症(?!前期|早期)|(?<!准备)(?<!要)(?<!开始)(?<!考虑)(?<!不用)(?<!不必)(?<!需要)(?<!暂不)(?:透析|洗肾|腹透|血透)(?!前)")   # 准备洗肾 / 透析前准备: not yet
# measurements the lexicon has no name for
MEASURE_NAMES = {"胆固醇高": "高脂血症", "心跳慢": "心动过缓", "血钾低": "低钾血症",
                 "血钙高": "高钙血症", "血钙低": "低钙血症", "血钠低": "低钠血症", "血糖低": "低血糖", "尿酸高": "痛风",
                 # a white count told low (吃氯氮平查出白细胞低): the neutropenia row the clozapine and carbimazole rules read
                 "白细胞低": "粒细胞缺乏", "中性粒细胞低": "粒细胞缺乏", "粒细胞低": "粒细胞缺乏"}
_COLLOQUIAL = [(re.compile(p), names) for p, names in COLLOQUIAL_CONDITIONS]
# a condition named after an assertion cue that the lexicon may not know (kept as free text when it does not)
FREE_CONDITION = re.compile(r"(患有|患上了|确诊为|确诊了|确诊|诊断为|诊断是|诊断出|查出了|查出来|查出|有|得了|得过)(?:点|些|一点|一个|个)?"
                            r"((?:慢性|急性|重度|轻度|中度|先天性|原发性|继发性)?[\u4e00-\u9fffA-Za-z0-9]{0,10}?"
                            r"(?:综合征|综合症|病|症|不全|衰竭|硬化|亢进|减退|增生|癌|瘤|梗死|梗塞|狭窄|缺乏症|血症|结石|肝炎|肾炎|"
                            r"关节炎|结肠炎|胰腺炎|溃疡|结节|突出|内障|扩张|脂肪肝|囊肿|息肉|鼻炎|咽炎|皮炎|胃炎|肠炎|前列腺炎))(?![\u4e00-\u9fff]{0,1}(药|患者|病人|的人))")
BARE_FIX = re.compile(r"^\s*[啊哦噢呃嗯额]?[，,\s]*(?:刚才|前面|上面)?(?:我)?(?:不对|说错了|记错了|打错了|写错了|搞错了|看错了|看反了|看错行了|"
                      r"更正一下|更正)[，,。\s]*(?:应该|其实)?(?:化验单上|报告上|单子上|化验单|报告)?(?:写的|写着|显示)?"
                      # 说错了，过了生日是73 / 记错了，今年已经是61: when the figure holds from
                      r"(?:过了生日|过完生日|生日过了|今年|现在)?[，,\s]*(?:已经|就)?"
                      r"(?:是)?\s*([0-9]{1,3}(?:\.[0-9])?)\s*(岁|公斤|kg|千克|斤)?(?=[，,。！!\s了]|$)")
NEWBORN = re.compile(rf"出生(?:才|刚|已经)?\s*(?:{NUM})\s*(?:天|周)|(?:{NUM})\s*天(?:大|的宝|的孩)|刚出生|新生儿|还没满月|没满月|满月")
CONTINUES = re.compile(r"^\s*(?:哦|对了|噢|啊)?[，,\s]*(?:还有|另外还有|另外|以及|再就是|还有就是|还有个|还有一个)\s*[:：，,]?\s*")
# who told the patient, then the patient: 我妈说我… / 医生告诉我…
REPORTED_SELF = re.compile(rf"^\s*(?:另外|还有|对了|而且)?[，,\s]*(?:我|俺)?(?:家)?(?:的)?(?:妈妈|妈|母亲|老妈|爸爸|爸|父亲|老爸|爸妈|家人|家里人|医生|大夫|老伴|老公|老婆|爱人|丈夫|妻子|媳妇|儿子|女儿|闺女)(?:跟我说|告诉我|说|讲)(?:过)?\s*(?:我|本人)(?!{RELATIVES}|家|的|们|老|孩)")
# the patient has what the relative just named: 我爸妈都有高血压，我也有
SAME_AS_OTHER = re.compile(r"^\s*(?:我|本人|我自己|自己)(?:也|同样|一样)(?:有|是|得了|患有)?(?:这个病|这病|一样的)?\s*$")
# a drug the clause before said was taken before, said here to go on: 之前吃着X，怀孕后医生让继续吃
GOES_ON = re.compile(r"继续(?:吃|用|服|打)|接着(?:吃|用|打)|照常(?:吃|用)|一直没停|没有停|没停过?|还在(?:吃|用|打)")
# a clause that is only a disease name (女，45岁，子宫肌瘤)
FREE_CONDITION_BARE = re.compile(r"^\s*(?:(?:医生|大夫|医师)(?:说|讲|看了说|查了说)(?:我)?(?:是|得的是|有)?|(?:诊断|确诊|查出来)(?:是|为))?"
                                 r"(?:我|本人)?(?:有|患|治疗|治|因为|由于)?((?:慢性|先天性|原发性)?[\u4e00-\u9fff]{1,8}?(?:综合征|综合症|病|不全|衰竭|硬化|亢进|减退|"
                                 r"增生|癌|瘤|肌瘤|结石|狭窄|缺乏症|血症|肝炎|肾炎|关节炎|溃疡|结节|扩张|内障))(?:病史|史)?\s*$")
FREE_CONDITION_STOP = re.compile(r"什么|啥|哪|这|那|没病|不是|没有|毛病|问题|慢性病|基础病|病史|疾病|大病|小病|其他|别的|任何|传染病|怪病|胃病|发炎|"
                                 r"心病|职业病|富贵病|老年病|妇科病|感冒|发烧|咳嗽|过敏症|后遗症|症状|并发症|不适|疼|痛|看病|生病|治病|医院")
FREE_ALLERGEN = re.compile(r"对\s*([A-Za-z][A-Za-z0-9-]{1,24}(?=\s*(?:也|都|有点|比较|特别|非常|很)?过敏)|[\u4e00-\u9fffA-Za-z]{1,6}?)"
                           r"\s*(也|都|有点|比较|特别|非常|很)?过敏")
FREE_ALLERGEN_STOP = re.compile(r"药|什么|哪|这|那|它|很多|东西|好多|一些|某|各种|啥|谁|其|所有|任何|不|没")

# who switches a medicine: 把A换成B / A换成了B / 换成了B / 改用B
SWITCH_VERB = re.compile(r"(换成|改成|换为|改为|换到|改到|改用|换用|改吃|换吃|改打|换打|换了|改了|改开|换开)(了)?")
SWITCH_BETWEEN = re.compile(r"[，,\s]*(?:也|都|就|已经|后来|上周|上个月|最近|现在|医生|大夫|给我|帮我|让我|我|给|被|又|了)*\s*")
CORRECTION_MARK = re.compile(r"(是|就是)?[，,\s—…-]*(哦|噢|喔|呃|嗯|啊|额|等下|等等|等一下|稍等|不好意思|抱歉|对不起)?[，,\s—…-]*(?:(?:我|俺)(?=[^，,]{0,2}错))?(不是|不对|说错了|讲错了|记错了|搞错了|口误|打错了|写错了|弄错了|数错了|看错了|算错了|"
                             r"说反了|错了|搞混了|弄混了|更正一下|更正|(?<=[哦噢])不(?=[，,。！!\s—…-]))")
CORRECTED_VALUE = re.compile(r"^[，,。！!…\s]*(哦|噢|呃|嗯|啊)?[，,\s]*(而|应该|其实|实际上)?(是|吃的是|用的是|叫)")
CORRECTED_TAIL = re.compile(r"[，,。！!…—\s-]*(而|应该|其实|实际上)?(是|吃的是|用的是|叫|我吃的是|我用的是|(?:我)?过敏的(?:其实|应该)?是)?\s*(对)?\s*(?:那个|这个|那种|这种)?\s*")
OTHERS_DRUG = re.compile(rf"\s*(其实|那)?是(我|俺)?(家)?(的)?({RELATIVES}|他|她)(在)?(吃|用|打|服)(?:的|(?=[，,。！!；;]))")
OTHERS_CONDITION = re.compile(rf"\s*(其实|那)?(?:是|说的是)(我|俺)?(家)?(的)?({RELATIVES})(?:的|有的|得的)?(?:[，,。！!；;]|$)")
OTHERS_HAVE = re.compile(rf"(?:其实|原来|那)?(?:是|说的是)(?:我|俺)?(?:家)?(?:的)?(?:{RELATIVES})(?:有|得了|得的是|患有|才有)\s*$")
WRITER_NONE = re.compile(r"[，,。；;\s]*(?:我|俺)(?:自己|本人)?(?:是|倒是|并)?(?:没有|没得|没|不是)")
OTHERS_ALLERGY = re.compile(rf"(?:原来|其实|那)?(?:是|说的是)(?:我|俺)?(?:家)?(?:的)?(?:{RELATIVES})(?:他|她)?(?:对|吃|用)?\s*$")
# 含 before a drug taken under the tongue when needed (胸闷的时候含硝酸甘油 / 舌下含服), not 含 = contains
SUBLINGUAL = re.compile(r"(?:舌下|时候|时|就|发作)(?:含|含服|含一粒|含一片|含几粒)\s*$|含服\s*$")
# 少吃 X: advice to take less of a drug (医生让我少吃止痛药), not a drug taken (别吃/不要吃 X is read as a stop)
ADVISED_LESS = re.compile(r"(?<!不)(?:少|尽量少)(?:吃|用|服|碰)(?:点|些|一点)?\s*$")
# a purpose verb right after a drug taken (吃缬沙坦降压) names the condition it treats. Blood pressure only: the case
# authors read 吃X降压 as hypertension (4 cases in 4 batches) but not 吃X降糖 / 降血脂 (a statin or metformin is also
# taken for prevention or prediabetes; 3 cases in 3 batches leave the condition out)
STOP_ASKED = re.compile(r"\s*(?:还)?(?:要|需要|得|必须|是不是要|是不是得|要不要|需不需要|用不用|能不能|可不可以|可以)"
                        r"(?:马上|立刻|立即|先|暂时)?(?:停|停掉|停药|停用|减量|减停|换掉|换药)(?:掉|了|一下)?\s*(?:吗|么|嘛|呢)?\s*$")
PURPOSE_USE = re.compile(r"\s*(?:来|用来|用于|是用来|拿来)?(?:止痛|止疼|镇痛|退烧|退热|助眠|通便|止泻|止咳|化痰|降压|降糖|降脂|降尿酸|"
                         r"抗凝|护胃|补钙|补铁)(?![^，,。；;]*(?:吗|么|呢|可以|能不能|行不行))")
# (抗排异 / 防排斥: a drug taken against rejection says a transplant, KDIGO transplant care)
PURPOSE_CONDITIONS = {"降压": "高血压", "降血压": "高血压", "控制血压": "高血压",
                      **{word: "器官移植术后" for word in ("抗排异", "抗排斥", "防排异", "防排斥")}}
PURPOSE_AFTER = re.compile(r"\s*(?:来|用来|用于|是)?(降血压|降压|控制血压|抗排异|抗排斥|防排异|防排斥)(?!药|的|效果|作用)")
RELATIVE_ALSO = re.compile(rf"\s*(?:我|俺)?(?:家)?(?:的)?(?:{RELATIVES})(?:也|同样)(?:是|有|得了|患有|查出)(?:个|了)?\s*")
# A是以前的，现在是B / A那是以前吃的，现在吃的是B: A is a former medicine, B the current one
FORMER_THEN_NOW = re.compile(r"[，,\s]*(?:那|这)?(?:都)?是?(?:以前|之前|原来|过去|早先)(?:吃|用|打|服)?的(?:药)?[，,；;。\s]*"
                             r"(?:我)?(?:现在|目前|如今|后来)(?:吃的|用的|打的|换成了?|改成了?|在吃|在用|吃|用|打)?(?:是|换成了?|改成了?|改用了?)?\s*")
# 哦不是，我说错了，是B: a second correction phrase after the first says nothing more
FURTHER_CORRECTION = re.compile(r"^(?:[，,。！!…\s]*(?:我|俺)?(?:又)?(?:数|记|说|讲|看|算|搞|弄|写|打)错了?)+")
# a correction that names only the new value (刚才说错了，是头孢过敏): it retracts the same-family values said before
UNNAMED_CORRECTION = re.compile(r"(^[啊哦噢呃嗯额]?[，,\s]*不对(?=[，,\s]*(?:是|应该是|其实是|(?:我|俺)?(?:吃|用|打|服)的(?:是|其实是|应该是)))|说错了|记错了|搞错了|写错了|打错了|讲错了|(?:说|讲|记|写|打)错(?=[，,。\s])|弄错了|数错了|看错了|算错了|口误|搞混了|弄混了|更正一下|更正|纠正一下|不对不对)"
                                r"[，,。！!：:…\s]*(应该|其实|实际上)?(是对|是|吃的是|用的是|我吃的是|我用的是|过敏的是|我是)?")
# a positive pregnancy test (验孕棒两条杠 / 早孕试纸阳性 / 血hcg阳性) says pregnant
TEST_POSITIVE = (r"(?:验孕棒|验孕试纸|早孕试纸|测孕试纸|验孕|测孕|试纸)[^，,。；;]{0,4}?(?:两条杠|两道杠|两条线|两道线|两条红线|阳性|显示怀孕)|"
                 r"(?:hcg|HCG|血hcg|血HCG|孕酮和hcg)[^，,。；;]{0,4}?阳性|"
                 # 刚测了两道杠 / 验出来两条线: the test named by its verb
                 r"(?:测|验)(?:了|出|出来|到)?(?:是|个)?(?:两道杠|两条杠|两条线|两道线)|"
                 # 肚子里宝宝32周了: the baby in the writer's belly dates her pregnancy
                 rf"肚子里(?:的)?(?:宝宝|孩子|娃|宝贝|小孩)(?:现在|已经|快|有|才|都)?\s*(?:{NUM})\s*(?:个)?(?:多)?\s*(?:周|月)")
# 末次月经是5周前: the weeks since the last period date the pregnancy
SINCE_PERIOD = re.compile(rf"末次月经[^，,。；;]{{0,4}}?({NUM})\s*(个)?\s*(?:多)?\s*(周|月|天)(?:前|以前|之前)")
PREGNANCY_MENTION = re.compile(rf"怀孕|孕妇|孕期|身孕|妊娠|怀着|怀了|孕\s*(?:第)?\s*(?:{NUM})\s*(?:\+\s*[0-9]\s*)?(?:个)?(?:周|月|天)|孕早期|孕中期|孕晚期|"
                               r"有喜了|怀上了|二胎|三胎|预产期(?:是|在)?(?:下个月|下月|下周|这个月|月底|月初)|" + TEST_POSITIVE)
PREGNANCY_ASSERT = re.compile(rf"怀孕了|怀孕(?:大概|大约|差不多|将近|刚好|刚满|满)?(?:第)?(?:{NUM})|怀孕中|已经怀孕|正在怀孕|怀孕(?:快|已经|刚|才|有)|孕\s*(?:第)?\s*(?:{NUM})\s*(?:\+\s*[0-9]\s*)?(?:个)?(?:周|月|天)|"
                              r"预产期(?:是|在)?(?:下个月|下月|下周|这个月|月底|月初)|"
                              r"孕早期|孕中期|孕晚期|妊娠(?:{NUM}|期|中|早|中|晚)|孕妇|有身孕|怀着|怀了|有喜了|怀上了|在孕期|孕期中|"
                              r"刚怀孕|才怀孕|已怀孕|确认怀孕|(?:查|测|验|检查)(?:出|到)(?:来|了)?(?:是|已经)?怀孕|怀孕早期|怀孕中期|怀孕晚期|"
                              r"怀(?:二胎|三胎)|" + TEST_POSITIVE)
# 没有喂母乳，一直喂奶粉 / 人工喂养: a mother who feeds formula only does not breastfeed
FORMULA_ONLY = r"(?:一直|纯|只|全|全部)(?:喂|吃|用)(?:的)?奶粉|人工喂养|没(?:有)?(?:喂|吃)(?:过)?母乳|不喂母乳|没(?:有)?母乳喂养"
LACTATION_MENTION = re.compile(FORMULA_ONLY + r"|哺乳期|哺乳|喂奶|母乳喂养|喂母乳|吃母乳|纯母乳|母乳|母奶|喂着奶|还在喂|混合喂养|亲喂|背奶|追奶|"
                               r"断奶|断了奶|回奶|停止哺乳|不喂了|没有奶了|没奶了|没(?:有)?在喂了?|没再喂了?|已经不喂")
FORMULA_FED = re.compile(r"奶粉|没(?:有)?母乳|人工喂养|没(?:有)?(?:喂|吃)(?:过)?母乳|不喂母乳")
WEANED = re.compile(r"断奶|断了奶|回奶|停止哺乳|不喂了|没有奶了|没奶了|没(?:有)?在喂了?|没再喂了?|已经不喂")
LACTATION_FALSE = re.compile(FORMULA_ONLY + "|" + WEANED.pattern)
AGE = re.compile(rf"(?:今年|年龄|年纪)?(?:已经)?(?<![到0-9])(?<!(?<!老)[一二三四五六七八九十两百零])({NUM}(?:(?<=十)有[一二三四五六七八九])?)(?:周岁|岁)(?!时|的时候|那年|起|开始|以前|以后|以上|以下|左右|之前|之后)")
ASKS_TO_TAKE = re.compile(r"能吃|能用|可以吃|可以用|能不能|可不可以|能服|可以服|会不会影响|有没有影响|要紧|安全|影响")
# a child's age under one year (宝宝8个月, 出生20天, 新生儿) is 0; 1岁半 is 1
NEWBORN_OPENING = re.compile(rf"^\s*(?:才|刚|已经)?(?:刚出生|出生(?:才|刚|已经)?\s*(?:{NUM})\s*(?:天|周)|生下来(?:才|刚)?\s*(?:{NUM})\s*(?:天|周))")
INFANT_AGE = re.compile(rf"({NUM})\s*(?:个\s*(?:多|半)?\s*(月)|(天|周)\s*(?=大|的宝|的孩|宝宝))|(?:出生|生下来)\s*(?:才|刚|已经|快|刚满|满)?\s*({NUM})\s*(天|周)|"
                        r"新生儿|刚出生|满月")
# 吃了三个月铁剂 / 用了两个月: how long something was taken or done, not how old the child is (nor after 1岁半)
DURATION_BEFORE = re.compile(r"(?:吃|用|服|打|喝|喂|治|住|疗|涂|擦|抹|喷|点|了|过|续|连续|坚持|前|后|已经用|已经吃)\s*$")
# a clause of its own that is only a child's age in months (7个月 / 宝宝才5个多月了), answering "how old is the baby"
INFANT_AGE_ONLY = re.compile(rf"^\s*(?:宝宝|孩子|宝贝|小孩|娃|儿子|女儿|闺女)?(?:现在|才|刚|已经|快|刚满|满)?\s*({NUM})\s*个\s*(?:多|半)?\s*月"
                             r"(?:大|了|大了)?\s*[。！!]?\s*$")
# an age said as a clause of its own after the writer has introduced themself (我是个老头子，75了 / 我一个女的，四十九了)
SELF_INTRO = re.compile(r"^\s*(?:我|俺)(?:是|就是)?(?:个|一个|是个|是一个)[\u4e00-\u9fff]{1,4}\s*$|^\s*(?:我|俺)(?:今年)?\s*$|"
                        r"^\s*(?:我|俺)(?:是)?(?:开|跑|干|做|种|送|当)[\u4e00-\u9fff]{1,5}的\s*$")   # 我跑长途的，四十五了
# a condition told as coming back (尿路感染老是复发 / 反复发作 / 一年四五次): its 复发性 row where conditions.csv has one
RECURRENT = re.compile(rf"反复|复发|老是犯|总是犯|经常犯|又犯|一年(?:要|得|会)?(?:犯|发作|得)?\s*(?:{NUM})\s*(?:到\s*(?:{NUM}))?\s*[次回]|"
                       rf"一年(?:{NUM})\s*[次回]")
# a condition followed by its operation (乳腺癌做过手术 / 子宫肌瘤剔除了): its 术后 row where conditions.csv has one
OPERATED = re.compile(r"\s*(?:[，,]\s*)?(?:的)?(?:已经|之前|以前|去年|前年|上个月|上周|前些天|年初|年底|刚刚|刚)*(?:做过|做了|做完|动过|开过)?(?:的)?"
                      r"(?:手术|术后|开刀|切除|剔除|切掉|切了)")   # (乳腺癌，去年做完手术了: the clause after it)
# a migraine with an aura before the attack (发作前眼前闪光 / 看到锯齿 / 视物模糊): 有先兆偏头痛 (ICHD-3 1.2)
AURA = re.compile(r"(?<!没有)(?<!没)(?<!无)(?<!不是)先兆|(?:发作|疼|痛|头痛)(?:之|以)?前[^。；;！!？?]{0,10}(?:闪光|闪烁|亮光|亮点|光点|锯齿|暗点|盲点|看不清|视物模糊|"
                  r"眼前发黑|冒金星|手麻|麻木|看东西模糊)")
ZOSTER_PAIN = re.compile(r"带状疱疹[^。；;！!？?]{0,12}?(?:神经痛|神经疼|神经性疼痛|后遗痛)|"
                         r"带状疱疹(?:好了|结痂了?|消了)?(?:以后|之后|后)[^。；;！!？?]{0,8}?(?:疼|痛)")
QUIT_SMOKING = re.compile(r"戒(?:了|掉|烟)|不抽了|不吸了|没再抽")
OVARIAN_CYSTS = re.compile(r"(?<=[有是治])多囊(?!肾|卵巢|肝)(?=[^。！!？?]*(?:促排|排卵|月经|例假|备孕|不孕|卵巢|来曲唑|克罗米芬|达英|二甲双))|"
                           r"(?:促排|排卵|月经|例假|备孕|不孕)[^。！!？?]*(?<=[有是治])多囊(?!肾|卵巢|肝)")
CHILD_SEX = re.compile(r"(儿子|男孩|男宝|男娃|小子|孙子|外孙(?!女)|阿仔)|(女儿|闺女|女孩|女宝|女娃|丫头|孙女|外孙女|阿女)")
SELF_PRONOUN = re.compile(r"我(?!家|们家|的孩|的宝|的儿|的女|孩|宝|儿|女|想问|想咨询|想请教|想知道|问一下)|本人|自己")
ASKING_FOR_OTHERS = re.compile(r"(给|帮|替)(孩子|宝宝|儿子|女儿|他|她|娃)|我(该|应该|能|可以|要)(给|让)")
AGE_BARE = re.compile(r"(?:今年|年龄|年纪|岁数|年满)[:：是]?\s*(?:已经|都|快|才|刚|刚满|满|整|正好|刚好)?\s*(?:虚岁|周岁|实岁)?\s*([0-9]{1,3}|[一二三四五六七八九十]{2,4}(?:(?<=十)有[一二三四五六七八九])?)"
                      r"(?![0-9.]|个|斤|公斤|kg|cm|年|月|周|天|次|多|几)")
AGE_BY_SEX = re.compile(r"(?:^|[^\u4e00-\u9fff]|我是|我|本人)(?:男|女)(?:性|士|生|的)?[，,、/\s]*([0-9]{1,3}|[二三四五六七八九]十[一二三四五六七八九]?)"
                        r"(?![0-9.]|个|斤|公斤|kg|cm|年|月|周|天|次|mg|毫|/|多)"
                        r"|(?:^|[，,、\s])([0-9]{1,3})[，,、/\s]*(?:男|女)(?:性)?(?:[，,。\s]|$)")
AGE_ENGLISH = re.compile(r"(?<![0-9.])([0-9]{1,3})\s*(?:y|yo|yrs?|years?)(?![a-z])")
# Taiwan's year of birth in the Republic's calendar (民國50年次 / 民国50年出生: 1911 + 50 = 1961)
ROC_BIRTH = re.compile(r"(?:民国\s*([0-9]{2,3})\s*年\s*(?:次|出生|生)|(?<![0-9])([0-9]{2,3})\s*年次)")
AGE_TALK = re.compile(r"(?:我|俺)(?:自己|本人)?(?:今年)?(?:都|已经|快|刚满|刚|才|满)?([0-9]{2}|[二三四五六七八九]十[一二三四五六七八九]?)(?:了|，|,|\s|$)")
ELDER_SEX = re.compile(r"(?:我|本人|岁的?|岁)(?:是|一个|是个|是一个)?(?:(老头|老头子|老爷子|老大爷|大爷|老汉|男孩|小男孩|男生)|"
                       r"(老太太|老太婆|老奶奶|大妈|女孩|小女孩|女生))|^\s*(?:(男孩|小男孩)|(女孩|小女孩))\s*$|"
                       # the writer named by kin (我是他儿子 / 我是孙女): the writer's sex, whoever the relative is
                       r"我是(?:他|她|他们|她们|人家)?(?:的)?(?:(儿子|孙子|外孙(?!女))|(女儿|孙女|外孙女))(?![的])|"
                       # a parent or grandparent named by kin of the child (我是他妈妈 / 我是孩子的爸爸 / 我是孩子姥姥)
                       r"我是(?:他|她|孩子|宝宝|娃)(?:的)?(?:(爸爸|父亲|爸|爷爷|姥爷|外公)|(妈妈|母亲|妈|奶奶|姥姥|外婆))(?![的妈爸])|"
                       # 我88了，是个老太太: the clause after the age names the writer (elders only: 是个女孩 may be a newborn)
                       r"^\s*(?:我)?(?:是个|是一个)(?:(老头|老头子|老爷子|老大爷|老汉)|(老太太|老太婆|老奶奶))")
PARENT_KIN = re.compile(r"我是(?:他|她|孩子|宝宝|娃)(?:的)?(?:爸爸|父亲|爸|妈妈|母亲|妈|奶奶|爷爷|姥姥|姥爷|外婆|外公|家长)")
SEX = re.compile(r"(?:我是|本人|患者|性别)?(?:(?<![\u4e00-\u9fff])|(?<=我)|(?<=是)|(?<=岁)|(?<=我一个)|(?<=俺一个)|(?<=患者)|(?<=病人))(男|女)(?=[，,。\s、；;0-9/]|性|$|生(?!日|活)|士|的(?:[，,。\s]|$))|"
                 r"(?:我是|本人|性别[:：]?)(男|女)(?!儿|朋友|友|孩|婿|方|宝|人)|(?:岁的|我是一[名个位]|我是个)(男|女)(?:性|生|士|的)")
WEIGHT = re.compile(r"(?:体重|重)(?:是|有|大概|大约|约|只有|才|:|：|\s)*([0-9]+(?:\.[0-9]+)?|[一二三四五六七八九十两百]+)\s*(?:多|来)?\s*(kg|公斤|千克|斤)?"
                    r"|([0-9]+(?:\.[0-9]+)?|[一二三四五六七八九十两百]{2,5})\s*(?:多|来)?\s*(kg|公斤|千克|斤)(?![/每])")
WEIGHT_CHANGE = re.compile(r"(瘦了|胖了|减了|重了|涨了|掉了|增加了?|减少了?|长了|降了|轻了|减重|减肥|每|/)\s*$")
EGFR = re.compile(r"(?:egfr|gfr|肾小球滤过率|滤过率|肾小球过滤率|肾丝球过滤率|肾丝球滤过率|过滤率|肌酐清除率|肌肝清除率|crcl|ccr)"
                  r"(?:值|是|以前|之前|原来|为|只有|只剩|剩|剩下|才|大概|大约|约|在|差不多|写的是|写着|显示|显示是|测的是|查的是|结果是|:|：|\s|"
                  r"去年|今年|前年|上次|这次|上个月|最近|复查|现在|目前|已经|降到|掉到|只|医生说|大夫说|说|(?<=[a-z])[，,])*"
                  r"([0-9]+(?:\.[0-9]+)?|[二三四五六七八九]?十[一二三四五六七八九]?)(?![0-9.])")
CKD_STAGE = re.compile(r"(?:ckd|慢性肾脏病|慢性肾病|肾脏病|慢性肾功能不全|慢性肾衰竭|慢性肾衰|肾病|肾功能不全|肾功能|肾衰竭|肾衰)\s*"
                       r"[（(]?\s*(?:已经|已|都)?(?:进展到|发展到|到了|到|是|为)?\s*(?:第)?\s*g?([1-5一二三四五]|iv|v|i{1,3}|[ⅰⅱⅲⅳⅴ])\s*(?:a|b)?\s*(?:期)?"
                       r"|([1-5一二三四五])\s*期\s*(?:的)?\s*(?:慢性肾脏病|慢性肾病|ckd|肾病|肾功能不全|慢性肾衰竭|慢性肾衰)")
# a bare stage (说是3b期 / 进展到4期了) and the kidney words that must come before it in the message
STAGE_ONLY = re.compile(r"(?:^|说是|是|进展到|发展到|到了|到|已经)\s*(?:第)?\s*(?:g)?([1-5一二三四五])\s*[ab]?\s*期(?!间)")
KIDNEY_BEFORE = re.compile(r"肾病|肾脏病|肾功能|肾衰|egfr|gfr|滤过率|肌酐|肌肝|ckd")
# -- what a message refers to without naming it, read against the facts remembered before it (`known`)
CHILD_AGE = 14                     # a remembered patient younger than this is a child: 他/她 in a later message is the child
KIDNEY_CONDITION = re.compile(r"肾")
# a new value with a change verb and no name of what changed (掉到41了 / 进展到3期了 / 这次是44)
CHANGE_TO = re.compile(r"(?:掉到|降到|跌到|下降到|降至|下降至|升到|涨到|升至|回升到|变成|进展到|发展到|到了|变为)了?\s*(?:第)?\s*"
                       r"([0-9]{1,3}(?:\.[0-9]+)?)\s*(?:(?:g)?([ab])?\s*(期))?(?![0-9.]|\s*(?:岁|斤|公斤|kg|度|℃|次|天|周|个|mg|毫|分|级|mmol|点|%))")
MEASURE_WORD = re.compile(r"体重|血压|血糖|血脂|胆固醇|尿酸|心率|体温|发烧|烧到|肌酐|转氨酶|血红蛋白|血小板|糖化|血钾|岁|斤|公斤")
# a stop that names no medicine (不过上周已经停了), as the message's first words about medicines
# a course finished (疗程结束了 / 七天的疗程满了 / 吃完最后一顿): the remembered medicine ends, whatever comes before it
COURSE_DONE = re.compile(r"疗程(?:已经)?(?:结束|完成|满|到)了?|(?:吃|用|打)完(?:了)?最后一(?:顿|次|片|粒|包|剂|针|支)")
UNNAMED_STOP = re.compile(r"(?:停了|停药了|停掉了|减停了|减完停了|减完了|减到停了|减量到停了|减药到停了|减量停了|减没了|不吃了|不用了|没再吃了|没吃了|停用了|停一停|先停|暂停|停一下|"
                          r"(?:吃|用)完了(?![饭再])|" + COURSE_DONE.pattern + "|"
                          r"没(?:有)?吃(?=\s*$)|(?:一直)?没(?:有)?(?:去)?(?:买|拿)(?:药)?(?=\s*$)|还没(?:开始)?吃(?=\s*$))")
# what a group of people is prone to (老年人容易低血糖 / 孕妇一般容易贫血): said of the group, not the writer
GROUP_PRONE = re.compile(r"(?:老年人|老人家|老人|孕妇|小孩|儿童|有的人|很多人|一般人|病人|患者)(?:一般|都|也|比较|更|特别)?"
                         r"(?:容易|易|会)(?:得|出现|发生|有|引起)?\s*$")
# a condition told with how recently it came (前几天乳腺炎 / 这两天痛风又犯了): the writer's, as a bare one at the start is
# 每年春天都犯鼻炎 / 一到换季就哮喘: a condition that comes back every season is the writer's
SEASONAL = re.compile(r"\s*(?:每年|一到|每到|到了|每逢)(?:春天|秋天|冬天|夏天|春秋|春季|秋季|冬季|夏季|换季|季节交替|花粉季)?"
                      r"(?:的时候)?(?:都|就|总|老|总是|老是)?(?:会)?(?:犯|发|有|闹|得)?\s*")
RECENTLY = re.compile(r"\s*(?:前几天|前两天|这几天|这两天|前阵子|这阵子|上周|上个星期|上星期|上礼拜|上个礼拜)(?:又|也|还)?\s*")
# a clause about the medicines taken (吃的药一大把 / 每天吃好几种药), then one that lists them (主要是A、B)
MEDICINES_TAKEN = re.compile(r"(?:吃|用|服)的(?:药|西药)(?!是)|(?:吃|用|服)(?:着|了)?(?:好几|几|很多|一大堆|一堆|七八|五六|三四|两三|[一二三四五六七八九十]+)种药")
MEDICINES_LISTED = re.compile(r"^\s*(?:主要是|主要有|主要|有|包括|就是|分别是)[:：]?\s*")
# …都停了 / 全停了: every remembered medicine, however many
ALL_STOPPED = re.compile(r"(?:都|全|全部|统统|一起)(?:停了|停掉了|不吃了|不用了|停药了)")
# what may stand before such a stop: time, the prescriber, the drug as a pronoun (not 月经停了 / 咳嗽停了)
STOP_PREFIX = re.compile(r"(?:不过|但是|可是|其实|后来|现在|那个药|这个药|那药|这药|药|它|我|自己|上周|上个月|上星期|前几天|前些天|几天前|"
                         r"昨天|前天|最近|今天|开始|起|从|这两天|这几天|上礼拜|已经|早就|医生|大夫|说|让|叫|给|帮|都|也|就|早|\s|"
                         r"(?:按照|按|听|遵)(?:医生|大夫|医嘱)(?:说的|的话|的意思|的)?(?:要求|嘱咐|安排|交代|吩咐)?|遵医嘱|慢慢|逐渐|一点点)*")
# an allergy denied without naming it (其实不过敏 / 那次不是过敏): about the one allergy remembered
ALLERGY_DENIAL = re.compile(r"不过敏|不是过敏|没有过敏|没过敏|不算过敏|并非过敏|不是真的过敏")
ALLERGY_RETRACTED = re.compile(r"过敏\s*(?:吧)?(?:……|…|——|—|\.\.\.|[，,。]|\s)+(?:嗯|呃|额)?[，,\s]*(?:其实|实际上|严格说|严格来说)(?:也)?"
                               r"(?:不算|算不上|谈不上|说不上)(?:是)?(?:过敏)?(?=[，,。！!…\s]|$)")
ALLERGY_DENIAL_SCOPE = re.compile(r"其他|其它|别的|其余|除了|以外|之外|任何|都不|会不会|是不是|吗|么|怕|担心")
# a clause that only reports who told the patient (问了我妈 / 听我老公说): the relative is no experiencer
REPORTING = re.compile(rf"^\s*(?:我)?(?:刚|刚才|后来|昨天|今天)?(?:问了|问过|问|听|据|打电话问了|跟)(?:一下)?(?:我|俺)?(?:家)?(?:的)?"
                       rf"(?:{RELATIVES}|医生|大夫)(?:说)?(?:了|过)?\s*$")
# a week count as its own clause (现在18周 / 大概7周) dates a remembered or stated pregnancy
BARE_WEEKS = re.compile(rf"(?:^|[，,。；;\s])(?:算了下|算了一下|算下来|算起来|估计)?(?:现在|目前|已经|已|快|刚|才|大概|大约|差不多|今天|昨天|刚好)*"
                        r"(?:[bB]超|产检|检查|医生)?(?:说|显示|提示|看)?(?:其实|实际上|实际|应该)?(?:已经|已)?(?:是|有)?(?:满|到)?\s*"
                        rf"({NUM})\s*(?:\+\s*[0-9]\s*天?)?\s*(?:个)?(?:多)?\s*周(?:\s*\+\s*[0-9]\s*天?)?(?:了|吧|了吧|左右|上下|的样子)?(?=[，,。；;！!\s]|$)")
# 我现在每天吃 / 现在吃着呢 / 一直在吃的: a sentence that only says a drug is taken now (the drug named before it)
USE_NOW_TAIL = re.compile(r"\s*(?:但是?|不过|可是|而且)?[，,\s]*(?:我|俺)?(?:现在|目前|最近|平时)?(?:每天|天天|一直|还|都|正)*(?:在)?"
                          r"(?:吃|用|服|打)(?:着)?(?:的|呢|着呢|哦|啊|呀)?[。！!…\s]*")
PREGNANCY_CONDITIONS = frozenset({"妊娠期糖尿病", "子痫前期", "妊娠期高血压"})
PAST_PREGNANCY = re.compile(r"以前|之前|上一胎|上胎|头胎|那一胎|那次|那时|当时|怀.{0,6}(?:时|的时候)|得过|有过|生完|产后|生了|后遗症|"
                            r"(?:去|前)年|[0-9一二两三四五六七八九十几]+年前|史")
ASKED_OBJECT = re.compile(r"(?:能|可以|可不可以|能不能|可否)(?:吃|用|服|喝|打)([^，,。；;]*)")
TAKE_VERB_BEFORE = re.compile(r"(?:^|在|正在|一直|长期|每天|还)(?:吃|用|服|打)(?:着)?\s*$")
HYPOTHETICAL_LEAD = re.compile(r"如果|假如|要是|万一|假设|以后|将来|打算|准备|备孕")
NORMAL_WORDS = re.compile(r"正常|良好|稳定|不错|没事|没问题")
# a switch the clause only foresees (可能把A换成B / 到时候换成B)
FORESEEN_SWITCH = re.compile(r"(?:可能|到时候|如果|要是|假如|打算|准备|考虑|可以|建议|能不能|可不可以)[^，,。；;！!？?]*?(?:换成|改成|改用|换用|换为|改为|加用|加上|加)(?:了)?\s*$")
WEIGHT_FIX = re.compile(r"(?:不对|说错了?|记错了?|搞错了?|弄错了?|看错了?|更正|纠正)[，,。\s]*(?:应该|其实|现在|最近|目前)?"
                        r"(?:是|有|只有|[\u4e00-\u9fff]{0,5}?(?:瘦到|胖到|降到|掉到|减到|涨到|长到)了?)?\s*([0-9]{1,3}(?:\.[0-9]+)?)\s*"
                        r"(kg|公斤|千克|斤)?(?![0-9.]|\s*(?:岁|年|月|天|周|次|mg|毫克|片|度|℃))")
WEIGHT_CLOSER = re.compile(r"(?:大概|大约|准确地?说|具体|精确|确切|应该)(?:是|有)?\s*([0-9]+(?:\.[0-9]+)?)\s*(kg|公斤|千克|斤)?")
GLOSSED = re.compile(r"(?:吃|用|打|服|喷|吸|贴)[\u4e00-\u9fff]{2,8}\s*[（(]\s*$")
# a type named after a condition (青光眼，闭角型的 / 糖尿病，是2型)
ELABORATION = re.compile(r"\s*(?:[，,]|[（(])?\s*(?:(?:医生|大夫|医师|眼科|检查|复查)?(?:说|讲|看了说|查了说)?(?:是|属于|为))?\s*([\u4e00-\u9fffA-Za-z0-9]{1,4}?)([型性])?(?:的)?(?:那种|那一种|这种)?\s*"
                         r"[）)]?\s*(?=[，,。；;！!？?]|$)")
BOTH_TAKEN = re.compile(r"[，,\s]*(?:两个|两种|两样|这两个|这两种|俩|它们|都|也|一起|一直|每天|现在)*(?:在)?(?:吃|用|服|打)(?:着)?(?:呢)?"
                        r"[。！!…\s]*$")
THOUGHT_PREGNANT = re.compile(r"(?:以为|怀疑|担心)(?:自己|我)?(?:是)?(?:怀孕|怀上|有了)了?[，,\s]*(?:结果|后来|但是?|可是|不过)?[^。！!？?]{0,6}?"
                              r"(?:不是|没有|没怀|没怀上|阴性|一条杠|是假的)")
STATED_BMI = re.compile(r"(?:bmi|体重指数|体质指数)\s*(?:是|有|为|大概|约|:|：|=|\s)*([0-9]{2}(?:\.[0-9])?)(?![0-9.])", re.IGNORECASE)
# (a later message) 是闭角型的 / 属于2型: the type of a condition remembered
LATER_TYPE = re.compile(r"^\s*(?:[哦噢嗯对]|对了)?[，,\s]*(?:医生说|检查说)?(?:是|属于|为)\s*([\u4e00-\u9fffA-Za-z0-9]{1,4}?)([型性])(?:的)?"
                        r"(?:那种|这种)?\s*(?=[，,。；;！!？?]|$)")
# a condition right after a bare sex and age (女 45 甲亢 在吃…)
SEX_AGE_FIRST = re.compile(r"\s*(?:男|女)?\s*[0-9]{1,3}\s*(?:岁)?\s*(?:男|女)?\s+")
# a condition dated as an event of the patient's past (前年心梗… / 三年前脑梗过)
# what sets a condition in the writer's life rather than asks about it: a birth or an operation it follows (产后血压高 /
# 生完宝宝以后血压还是高), or its habit (晚上尿床 / 从小哮喘 / 长期便秘)
SETTING = re.compile(r"\s*(?:我|俺)?(?:产后|生完(?:孩子|宝宝|二胎|老二)?(?:以后|之后|后)?|生了(?:孩子|宝宝)(?:以后|之后|后)|月子里|"
                     r"坐月子(?:的时候|时)?|(?:手)?术后|做完手术(?:以后|之后|后)?|晚上|夜里|夜间|平时|平常|从小|长期|常年|多年|一直)"
                     r"(?:就|都|也|还|又|有点|经常|老是|总是|会)?\s*")
HABIT_STOPPED = re.compile(r"(?:烟|酒|槟榔|咖啡|浓茶|奶茶|饮料|夜宵|熬夜|奶)(?:也|都|已经|早就|早|现在|基本|差不多|彻底)*"
                           r"(?:戒|停|断|不喝|不抽|不吃|不熬|少)")
JOINT_SITES = (("膝", "膝"), ("老寒腿", "膝"), ("髋", "髋"), ("胯", "髋"), ("手指", "手"), ("手腕", "腕"), ("肩", "肩"),
               ("踝", "踝"), ("肘", "肘"))
DRINK_CAUSED = re.compile(r"(?:喝酒|饮酒|酗酒|酒精|喝|酒)(?:喝)?(?:出来的|引起的|导致的|造成的|喝坏的|伤的)|酒喝多了|长期(?:大量)?(?:喝酒|饮酒)")
PAST_EVENT = re.compile(r"\s*(?:前年|去年|今年|那年|年初|年底|上个月|上半年|下半年|几年前|早年|小时候|[0-9一二两三四五六七八九十]+年前)(?:的时候|时|就)?\s*")
# an adult relative asks through the writer (帮我妈问 / 替我爸咨询 / 我是他女儿来问问 / 她想问): that relative is the patient
ADULT_PROXY = re.compile(r"(?:帮|替|代)(?:我)?(?:家)?(?:的)?(?:妈妈?|爸爸?|母亲|父亲|老人|奶奶|爷爷|外婆|外公|姥姥|姥爷|老公|老婆|爱人|"
                         r"丈夫|妻子|老伴|公公|婆婆|岳父|岳母|他|她)(?:老人家)?(?:来)?(?:问|咨询)|"
                         # 给我爸买药 / 替老人拿药: the medicine is bought for the relative, who is the patient
                         r"(?:给|帮|替)(?:我)?(?:家)?(?:的)?(?:妈妈?|爸爸?|母亲|父亲|老人|奶奶|爷爷|外婆|外公|姥姥|姥爷|老公|老婆|"
                         r"爱人|丈夫|妻子|老伴|公公|婆婆|岳父|岳母)(?:老人家)?(?:买药|拿药|配药|开药|买点药|拿点药)|"
                         r"我是(?:他|她)的?(?:女儿|儿子|孙女|孙子|家属|老伴|媳妇|儿媳)[，,]?(?:来|帮他|帮她|替他|替她)?(?:问|咨询)|"
                         r"(?<![我你])(?:他|她)(?:想|让我|叫我|托我)(?:问|咨询)")
# 老人80了，血压高…: a message that opens on the elder it is about (the clause holds the elder's own facts)
ELDER_OPENING = re.compile(r"^\s*(?:我家|家里|家里的|我们家)?(?:老人|老人家)(?:今年|已经|都)?\s*"
                           r"([0-9]{2,3}|[五六七八九]十[一二三四五六七八九]?)\s*(?:岁|了)")
# 老人家有老年痴呆，吃多奈哌齐: a message that opens on the elder as the subject of a condition or medicine
ELDER_SUBJECT = re.compile(r"^\s*(?:我家|家里|家里的|我们家)?(?:老人家|家里老人|老人)(?:今年|一直|常年|长期|现在)?(?:有|患有|患|得了|在吃|吃着|吃)")
# 我替他问：他81岁 / 帮我爸问一下：… — what follows the colon of the proxy phrase is the relative's
PROXY_TOLD = re.compile(r"\s*(?:一下|的)?\s*[：:]\s*\S")
# (a correction) 是我老婆怀孕了 / 是我女儿在喂奶: the pregnancy or breastfeeding is the relative's
MOVED_TO_RELATIVE = re.compile(r"是(?:我|俺)(?:的|家)?(?:老婆|妻子|媳妇|爱人|女儿|闺女|儿媳妇?|姐姐|妹妹|嫂子|女朋友|对象)(?:她)?"
                               r"(?:(怀孕|怀上|有了|怀着)|(?:在)?(?:哺乳期|喂奶|母乳喂养))")
# the baby not yet born (肚子里的宝宝 / 宝宝第一胎): no child of the writer's
FETUS = re.compile(r"肚子里(?:的)?(?:宝宝|孩子|娃|宝贝|小孩)|(?:宝宝|孩子|娃)(?:是)?(?:第[一二三]胎|头胎|二胎)")
BABY_FEEDS = re.compile(r"吃母乳|吃奶|喝母乳|喝奶|吃的是母乳|吃的母乳")
SWITCH_CORRECTED = re.compile(r"[，,\s]*(?:哦|噢|呃|嗯|啊)?[，,\s]*(?:不对|不是|说错了|记错了|搞错了)[，,\s]*(?:应该|其实)?是")
# (a sentence about allergies) 阿司匹林我一直在吃没事: a drug said to be taken is a medicine, not an allergen
TAKEN_NOW = re.compile(r"(?<!现)(?:在吃|在用|在服)|一直吃|天天吃|每天吃|长期吃")   # (现在用X没问题: may be used, not taken)
# 阿司匹林那个不确定，其实是我姐过敏: the allergy named is a relative's
ALLERGY_OF_RELATIVE = re.compile(rf"[^。！!？?]{{0,10}}?(?:其实|原来|那)?是(?:我|俺)?(?:家)?(?:的)?(?:{RELATIVES})(?:对它|对这个|对这药)?过敏")
RULED_OUT = re.compile(r"(?:复查|再查|重新查|复诊|检查|化验)(?:以后|之后|后)?[^，,。？?]{0,4}?(?:说|发现|显示|结果)?(?:不是|没有|排除了)\s*$")
# what the clauses after a continued name may not say for it to stand (还有X，不过停了)
CONTINUATION_UNDONE = re.compile(r"停|不吃|不用|没吃|没用|没有|不是|以前|之前|过敏|吗|么|？|\?")
# 泼尼松现在减到每天10毫克了: a drug told at its new dose is taken
DOSE_CHANGED = re.compile(r"\s*(?:现在|目前|已经|又|最近)*(?:减到|减量到|减至|减为|加到|加量到|加至|调到|调整到|改成|改为)(?:了)?"
                          r"(?:每天|一天|每日|每次|一次|早晚)?(?:各)?\s*(?:[0-9]+(?:\.[0-9]+)?|[一二两三四五六七八九十半]+)\s*(?:mg|毫克|片|粒|支|单位|克|g|ml|毫升)")
# 我女儿在哺乳期 / 儿媳正在喂奶: an adult relative who is herself nursing (not a baby fed by the writer)
RELATIVE_NURSING = re.compile(r"(?:女儿|闺女|儿媳妇?|媳妇|老婆|妻子|爱人|姐姐|妹妹|嫂子)(?:现在|目前|正|还)?(?:在|处于|是)?(?:哺乳期|喂奶|母乳喂养)")
# (a child named before) 想问问他能不能吃…: the one asked about, named by 他/她 with no 我 of the writer's own, is the child
ASKED_WHETHER = re.compile(r"能不能|可不可以|能否|是否能|可以不可以")   # (想问问他能不能吃X: asked without 吗)
HE_SHE = re.compile(r"[他她](?!们)")
ASK_LEAD = re.compile(r"(?:我|俺)?(?:想|要)?(?:问问|问一下|请问|咨询一下|想知道)")
PROXY_KIN = re.compile(r"(?:(?<![是])(?:我|俺)(?:的|家)?|(?:给|帮|替|代)(?:我|俺)?(?:家)?(?:的)?)(?:(爸爸?|父亲|爷爷|外公|姥爷|老公|丈夫|公公|岳父)|(妈妈?|母亲|奶奶|外婆|姥姥|老婆|妻子|婆婆|岳母))")
WRITER_OWN = re.compile(r"我自己|我本人|本人|我本身|(?:我|俺)(?:今年)?(?:[0-9]{1,3}|[二三四五六七八九]十[一二三四五六七八九]?)岁")
# 给孩子买药 / 帮宝宝拿药: the medicine is for the child, who is the patient (as 给我爸买药 makes the parent one)
BOUGHT_FOR_CHILD = re.compile(r"(?:给|帮|替)(?:我)?(?:家)?(?:的)?(?:孩子|儿子|女儿|宝宝|小孩|闺女|娃|孙子|孙女)"
                              r"(?:买|拿|配|开|选|挑)(?:点|些|一些)?(?:什么|啥)?[\u4e00-\u9fff]{0,4}?药")
ASKING_FOR_CHILD = re.compile(r"(?:问的是|是替|是帮|替|帮)(?:我)?(?:家)?(?:的)?(?:孩子|儿子|女儿|宝宝|小孩|闺女|娃|孙子|孙女|老大|老二|老三|小的|大的)(?:问|咨询)?")
# what only a mother who has given birth has (宝宝两个月，产后抑郁 / …，乳腺发炎): the writer's, after a clause about the baby
# a baby named only by its age (宝宝三个月 / 孩子刚满月) and what only a baby has (黄疸, 奶粉, 吐奶 …)
# a condition said before and now called a mistake (以前说有心衰是搞错了 / 说我有X是误诊)
MISDIAGNOSED = re.compile(r"(?<=[说诊以为])[^，,。]{0,3}?(?:有|是|得了)?[\u4e00-\u9fff]{1,10}?(?:是|都是|其实是)?(?:搞错了|弄错了|误诊|诊断错了|看错了|错诊)|"
                          r"(?:是|属于|算)?误诊")
# a medicine taken now named by a pronoun (我现在在吃它 / 一直在用这个药)
TAKING_IT = re.compile(r"(?:现在|目前|一直|正|还)?(?:在|正在)(?:吃|用|服|打|擦|涂|抹|点|喷)(?:着)?(?:它|这个药|这药|这个)(?![^，,。]*(?:吗|么|呢))")
# a condition had once and over (胃出过血 / 得过 / 有过 / 犯过): its history row where conditions.csv has one
PAST_ONCE = re.compile(r"(?:得|出|患|犯|发|有)过(?!敏)")
# an ejection fraction told with its figure (射血分数35% / EF 40 / 射血分数只有三十几: only figures are read)
EJECTION_FRACTION = re.compile(r"(?:射血分数|ef|lvef)(?:只有|才|是|大概|约)?\s*([0-9]{2})(?:\.[0-9])?\s*%?", re.IGNORECASE)
# siblings told apart by their order (老大 / 老二, 大宝 / 二宝) and the one the question is about (我问的是老二 / 问的是二宝)
SIBLING = re.compile(r"老大(?![夫爷娘妈难不])|老二|老三|大宝|二宝|三宝|小宝|大儿子|小儿子|大女儿|小女儿|大闺女|小闺女")
SIBLING_ASKED = re.compile(rf"(?:问的是|是替|是帮|替|帮|说的是)(?:我)?(?:家)?(?:的)?({SIBLING.pattern})")
INFANT_AGE_ASIDE = re.compile(rf"\s*(?:我家|我的)?(?:宝宝|孩子|宝贝|小孩|娃|儿子|女儿|闺女)(?:现在|才|刚|已经|快|刚满|满)?\s*"
                              rf"(?:(?:{NUM})\s*(?:个)?\s*(?:多|半)?\s*(?:月|天|周)(?:大|了|多)?|满月了?)\s*")
INFANT_ONLY = re.compile(r"黄疸|奶粉|吐奶|溢奶|湿疹|尿布|红屁股|囟门|胎便|脐|腹泻|拉肚子|发烧|发热|咳嗽|吐了|呕吐|哭闹|便秘|鹅口疮|"
                         r"肠绞痛|鼻塞|感冒|疹子")
MOTHER_ONLY = re.compile(r"产后|哺乳|喂奶|坐月子|月子里|涨奶|堵奶|乳腺|乳头|回奶|恶露|剖腹产|顺产")   # (吃母乳: the baby's)
# a message that is only an age (67了 / 82 / 七十八了): the answer to "how old are you"
AGE_ONLY = re.compile(r"^\s*(?:我)?(?:今年)?(?:已经|都|快)?\s*([0-9]{1,3}|[一二三四五六七八九]?十[一二三四五六七八九]?)\s*(?:岁|周岁)?\s*(?:了)?\s*[。！!]?\s*$")
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "ⅰ": "1", "ⅱ": "2", "ⅲ": "3", "ⅳ": "4", "ⅴ": "5"}
WEEKS = re.compile(rf"(?:孕|怀孕|妊娠|怀|肚子里(?:的)?(?:宝宝|孩子|娃|宝贝|小孩)(?:现在)?)\s*(?:了|已经|快|刚|才|有|第|刚满|已满|满|快满|将近|差不多|大概|大约){{0,2}}\s*({NUM})\s*(?:\+\s*[0-9]\s*)?\s*(个)?\s*(?:多|半)?\s*(周|月|天)")
TRIMESTER_WORDS = {"孕晚期": 3, "孕中期": 2, "孕早期": 1, "妊娠晚期": 3, "妊娠中期": 2, "妊娠早期": 1}
OCCUPATIONS = ("出租车司机|巴士司机|小巴司机|网约车司机|货车司机|大货车司机|卡车司机|公交车司机|公交司机|大巴司机|客车司机|长途司机|校车司机|"
               "叉车司机|吊车司机|列车司机|火车司机|地铁司机|代驾司机|挖掘机司机|客运司机|出租司机|驾校教练|代驾|司机|驾驶员|电焊工|飞行员|机长|空乘|高空作业人员|"
               "高空作业|塔吊司机|电工|焊工|建筑工人|工人|矿工|教师|老师|护理师|护理人员|护士|医生|厨师|程序员|会计|运动员|快递员|外卖员|骑手|农民|"
               "机师|保安|销售|律师|工程师|渔民|船员|机械操作工|操作工|潜水员|消防员|警察|军人")
OCCUPATION = re.compile(rf"(?:我是|我现在是|我目前是|^\s*(?:现在|目前)?是|职业是|职业[:：]|工作是|我在做|我当|本人是|我做|我是做|干)\s*(?:一名|一个|个|名|位)?"
                        rf"((?:(?![做干当是个名位一])[\u4e00-\u9fffA-Za-z]){{0,4}}?(?:{OCCUPATIONS}))")
# how patients say what they drive or where they work → the occupation as the case format names it (货车司机, 高空作业)
OCCUPATION_FOLK: list[tuple[re.Pattern[str], str]] = [(re.compile(p), name) for p, name in (
    (r"开[\u4e00-\u9fff]{0,3}?(?:货车|大货|大车|卡车|半挂|挂车|联结车|砂石车)|跑运输|开车拉货|拉货的", "货车司机"),
    (r"(?:开|跑|做)[\u4e00-\u9fff]{0,5}?(?:出租|的士|计程车)", "出租车司机"),
    (r"(?:开|跑|做)[\u4e00-\u9fff]{0,2}?(?:网约车|滴滴)", "网约车司机"),
    (r"开公交", "公交司机"),
    (r"开大巴|开客车|开长途客车", "客车司机"),
    (r"(?:开|揸|渣)(?:巴士|bus)", "巴士司机"),   # Hong Kong, Singapore and Malaysia: 巴士 is the bus
    (r"(?:开|揸|渣)小巴", "小巴司机"),
    (r"开叉车", "叉车司机"),
    (r"开校车", "校车司机"),
    (r"跑长途|开长途", "长途司机"),
    (r"(?<![不没])(?:种地|种田|务农|干农活|种庄稼|种菜为生)", "农民"),
    (r"开塔吊", "塔吊司机"),
    (r"开吊车", "吊车司机"),
    (r"开挖掘机|开铲车|开挖机", "挖掘机司机"),
    (r"高空作业|在高空|登高作业|蜘蛛人|外墙清洗|爬电线杆|在高处工作|搭鹰架|做鹰架|鹰架上", "高空作业"),   # 鹰架: Taiwan's scaffold
    (r"开车为生|开车的|靠开车", "司机"),
    (r"跑快递|送快递", "快递员"),
    (r"送外卖|跑外卖", "外卖员"),
    (r"在工地|工地上", "建筑工人"),
)]


def _folk_occupation(text: str) -> str | None:
    """The occupation a clause tells by what the writer drives or does (我开货车的 / 天天高空作业), or None."""
    for pattern, name in OCCUPATION_FOLK:
        if pattern.search(text) and re.search(r"的|我是|^(?:我|俺)?开|^我跑|^我送|^(?:我|俺)?在|平时|工作|上班|职业|为生|天天|每天|经常|"
                                              r"常年|干|还在|现在还|现在|目前|退休后还|一直|属于|算是", text):
            return name
    return None


def _occupation_kinds(occupation: str) -> set[str]:
    """The occupation categories of the rules (驾驶, 高空作业, 操作机械) an occupation is read as."""
    from medq.agent.rules.base import OCCUPATIONS as KINDS, occupation_matches
    return {kind for kind in KINDS if occupation_matches(occupation, kind)}


def _heart_failure_type(ejection_fraction: float) -> str:
    """The heart failure type of an ejection fraction (ESC 2021: ≤40 reduced, 41–49 mildly reduced, ≥50 preserved)."""
    if ejection_fraction <= 40:
        return "射血分数降低的心力衰竭"
    return "射血分数轻度降低的心力衰竭" if ejection_fraction < 50 else "射血分数保留的心力衰竭"


def chinese_number(text: str) -> int | None:
    """'35', '三十五', '十二', '一百零二' -> int; None if it is not a number."""
    if text.isdigit():
        return int(text)
    text = re.sub(r"(?<=十)有(?=[一二三四五六七八九]$)", "", text)   # 七十有五: the literary 有 joins tens and units
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
    return bool(re.fullmatch(r"(?:\s|[。！!]|和|及|与|跟|、|/|以及|还有|或者|或|也|都|等|这些|几种|药片|药|片|类|再加上|加上|再加|外加|另外还有|"
                             r"另外|再就是|"
                             # when and what for, said beside a listed name (诺和锐三餐前 / 泮托拉唑护胃)
                             r"早上|晚上|睡前|三餐前|饭前|饭后|白天|中午|早晚|护胃|保护胃|通便|助眠)*", "".join(rest)))


def _past_aside(tail: str, then: str = "") -> str:
    """What follows a correction mark after one short aside clause (不对，我看了下盒子，是B / 算错了，末次月经往前推，应该是15周):
    the rest when the clause after the aside starts with `then` (any text when empty); else `tail` unchanged."""
    match = re.match(r"[，,\s]*[^，,。！!？?]{1,12}?[，,]\s*", tail)
    if match is None or re.search(r"不是|不对|错", match.group(0)) or (then and not re.match(then, tail[match.end():])):
        return tail
    return "，" + tail[match.end():]


def _telegraphic(text: str, found: list["_Found"]) -> bool:
    """A clause of bare words only: sex, age and names separated by spaces (女 52 糖尿病 二甲双胍), with a name of a
    condition among them."""
    if not any(f.kind == "condition" for f in found) or not any(f.kind == "medication" for f in found):
        return False
    rest = list(text)
    for f in found:
        rest[f.start:f.end] = [" "] * (f.end - f.start)
    return bool(re.fullmatch(r"[\s0-9男女岁性/、]*", "".join(rest))) and len(text.split()) >= 3


def _denial_stands(told: list[Fact], facts: list[Fact]) -> list[Fact]:
    """我没有糖尿病，只是吃激素那几天血糖高: a condition the writer denies by name (in `told`, the message's facts before
    merging) is not brought back by a reading or a colloquial word for it in the same message: only a clause that names
    it again asserts it. A reading the lexicon files under that name (尿酸高 → 痛风's rows, MEASURE_NAMES) stays: 不是痛风，
    只是尿酸高 keeps the high uric acid those rows are about."""
    denied = {f.value: f for f in told if f.kind == "condition" and f.status == "denied"}
    return [denied[f.value] if f.kind == "condition" and f.status == "active" and f.value in denied and
            f.value not in f.evidence and not any(MEASURE_NAMES[m] == f.value for m in MEASURE_NAMES if m in f.evidence)
            else f for f in facts]


def _sentence_around(message: str, start: int, end: int) -> str:
    """The evidence of a correction or switch: from the clause of its first mention to the end of its last."""
    before = max(message.rfind(c, 0, start) for c in "，,。；;！!？?\n")
    after = [i for i in (message.find(c, end) for c in "，,。；;！!？?\n") if i >= 0]
    return message[before + 1:min(after) if after else len(message)].strip()


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


class FactExtractor(Protocol):
    def extract(self, message: str, message_id: str | None = None, known: Iterable[Fact] = ()) -> list[Fact]: ...


@dataclass(frozen=True)
class _Context:
    """What the facts remembered before a message say about what it may refer to without naming it: a later message
    answers or updates an earlier one (进展到3期了, 掉到41了, 不过上周已经停了, 其实不过敏, 他对布洛芬过敏)."""

    pregnant: bool = False              # a pregnancy is remembered: a birth ends it, a bare 18周 dates it
    lactating: bool = False             # breastfeeding is remembered (a correction may give it to a relative)
    child: bool = False                 # the remembered patient is a child: 他/她 is the child
    kidney: bool = False                # kidney function was spoken of: a bare stage is a CKD stage
    egfr: bool = False                  # an eGFR is remembered: a bare new value (降到了44) updates it
    age: bool = False                   # an age is remembered: a bare number (39) is not read as a new one
    only: dict[str, str] = field(default_factory=dict)   # kind -> the one active value remembered of that kind
    conditions: tuple[str, ...] = ()    # the active conditions remembered (a correction may take one back)
    medications: tuple[str, ...] = ()   # the active medicines remembered (…都停了 ends them all)
    allergies: tuple[str, ...] = ()     # the active allergies remembered (不是A，是B with A one of them corrects an allergy)
    figures: tuple[str, ...] = ()       # the numeric scalars remembered (a bare corrected number can only mean one)
    last_kind: str = ""                 # the kind of the last allergy, medicine or condition remembered (还有X continues it)

    @classmethod
    def of(cls, known: Iterable[Fact]) -> "_Context":
        active = [f for f in known if f.status in ENFORCED_STATUSES]
        scalar = {f.kind: f.value for f in active}
        # the one remembered medicine or allergy an unnamed stop or denial can only mean (several: unclear, nothing ends)
        only = {kind: values[0] for kind in ("medication", "allergy")
                for values in [sorted({f.value for f in active if f.kind == kind})] if len(values) == 1}
        medications = tuple(sorted({f.value for f in active if f.kind == "medication"}))
        age = scalar.get("age")
        return cls(pregnant=scalar.get("pregnancy") == "true", lactating=scalar.get("lactation") == "true",
                   # 女儿哮喘 // 她在用…: a patient whose sex was read from a child's kin word, with no age yet, is a child
                   child=float(age) < CHILD_AGE if age is not None else
                   any(f.kind == "sex" and CHILD_SEX.search(f.evidence) and "我是" not in f.evidence for f in active),
                   kidney=any(f.kind in ("egfr", "ckd_stage") or f.kind == "condition" and KIDNEY_CONDITION.search(f.value)
                              for f in active),
                   egfr="egfr" in scalar, age=age is not None, only=only,
                   conditions=tuple(sorted({f.value for f in active if f.kind == "condition"})),
                   medications=medications,
                   allergies=tuple(sorted({f.value for f in active if f.kind == "allergy"})),
                   figures=tuple(sorted(kind for kind in ("age", "weight", "egfr") if kind in scalar)),
                   last_kind=next((f.kind for f in reversed(active) if f.kind in ("allergy", "medication", "condition")), ""))


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
        self._short_allergens: dict[str, set[tuple[str, str]]] | None = None   # pinyin -> two-character allergens
        self._class_members: dict[str, set[str]] = {}   # class (and every parent class) -> its drugs
        for name in lexicon.drugs:
            for klass in lexicon.classes_of(name):
                self._class_members.setdefault(klass, set()).add(name)

    # ---- clauses -------------------------------------------------------------------------------------------
    def clauses(self, text: str, child_patient: bool = False) -> list[_Clause]:
        """Clauses with their experiencer. `child_patient`: the remembered patient is a child, so a clause whose only
        other person is 他/她 is about the child (孩子5岁 … then 他对布洛芬过敏)."""
        result: list[_Clause] = []
        self_subject, child, sentence = True, False, 0
        nursing, infant_aside = False, False
        child_before, adult_before = False, False   # a child / another adult named in an earlier clause
        for match in re.finditer(r"[^，,。；;！!？?\n\r]+|[，,。；;！!？?\n\r]+", text):
            piece = match.group(0)
            if CLAUSE_SPLIT.fullmatch(piece):
                if SENTENCE_END.search(piece):
                    sentence += 1
                continue
            if not piece.strip():
                continue
            if REPORTING.match(piece):
                continue   # 问了我妈 / 听医生说: who told the patient, not whom the next clause is about
            new_self, names_child = experiencer(self._without_drug_names(piece), self_subject)
            if REPORTED_SELF.match(piece):
                new_self, names_child = True, False   # 我妈说我小时候对链霉素过敏: the relative only tells it
            if ASKING_FOR_CHILD.search(piece):
                new_self, names_child = False, True   # 我问的是我儿子: the clauses after are the child's
            if FETUS.search(piece) and not OTHER.search(FETUS.sub("", piece)):
                new_self, names_child = True, False   # 肚子里的宝宝32周了: the writer's pregnancy
            if NEWBORN_OPENING.match(piece):
                new_self, names_child = False, True   # 刚出生5天，3公斤: no writer is a newborn; the clauses are the baby's
            if not new_self and MOTHER_ONLY.search(piece) and not OTHER.search(piece):
                new_self, names_child = True, False   # 宝宝两个月，产后抑郁: what only the mother has is hers
            # 孩子早断奶了，今年32: an adult's age after a clause about the child, naming no one, is the writer's
            adult = AGE_BARE.search(piece) or AGE.search(piece)
            if not new_self and child and not names_child and not OTHER.search(piece) and adult and \
                    (chinese_number(adult.group(1)) or 0) >= 18:
                new_self = True
            if child_patient and not new_self and not names_child and re.search(r"[他她](?!们)", piece) and \
                    not re.search(RELATIVES, piece):
                names_child = True
            # 我儿子5岁，…，我自己有X，想问问他能不能吃…: 他 after a child (and no other adult) named before is the child
            elif child_before and not adult_before and not names_child and HE_SHE.search(piece) and \
                    not re.search(RELATIVES, piece) and not SELF.search(ASK_LEAD.sub("", piece)):
                new_self, names_child = False, True
            child_before = child_before or names_child
            adult_before = adult_before or bool(re.search(RELATIVES, piece)) and not CHILDREN.search(piece)
            # 在哺乳，宝宝两个月，有癫痫: a nursing writer's baby named only by its age is an aside; the clause after it
            # that names no one is the writer's again
            if infant_aside and not new_self and not OTHER.search(piece) and not INFANT_ONLY.search(piece) and \
                    not re.search(r"[他她]|孩子|宝宝|宝贝|娃|婴儿", piece):
                new_self, names_child = True, False
            infant_aside = nursing and not new_self and bool(INFANT_AGE_ASIDE.fullmatch(piece))
            nursing = nursing or new_self and bool(MOTHER_ONLY.search(piece) or LACTATION_MENTION.search(piece))
            child = names_child if (new_self != self_subject or names_child or new_self) else child
            self_subject = new_self
            tail = text[match.end():match.end() + 1]
            question = tail in ("？", "?") or bool(re.search(r"(吗|呢|么|嘛|行不|行不行|可以不|能不|中不中|好不|有没有(?:影响|关系|问题|事)|要不要紧)\s*$", piece))
            result.append(_Clause(piece, match.start(), self_subject, child and not self_subject, sentence, question))
        # 我是帮我妈问的 / 我是他女儿来问问 / 她想问…: a relative (not a child) asks through the writer, so the relative is
        # the patient: every clause but the one naming the writer (and the writer's own 我自己…) is the patient's
        if self._proxy(text):
            for clause in result:
                proxy = ADULT_PROXY.search(clause.text)
                # 我替他问：他81岁: the relative's facts after the proxy phrase's colon are the patient's
                if proxy and not PROXY_TOLD.match(clause.text, proxy.end()) or ELDER_SEX.search(clause.text):
                    clause.self_subject, clause.child = False, False
                elif not re.search(r"我自己|我本人|我本身", clause.text):
                    clause.self_subject, clause.child = True, False
        # 老大有癫痫，我问的是老二: a sibling named before the one asked about is someone else, not the patient
        asked = next(((i, m.group(1)) for i, c in enumerate(result) for m in [SIBLING_ASKED.search(c.text)] if m), None)
        if asked is not None:
            for clause in result[:asked[0]]:
                sibling = SIBLING.search(clause.text)
                if sibling and sibling.group(0) != asked[1]:
                    clause.self_subject, clause.child = False, False
        return result

    @staticmethod
    def _proxy(text: str) -> bool:
        """A relative asks through a writer who tells nothing of their own: the relative is the patient. A writer who
        also speaks of themselves (我自己… / 我28岁) stays the patient, and the relative someone else."""
        return bool(ADULT_PROXY.search(text) or ELDER_OPENING.search(text) or ELDER_SUBJECT.search(text)) and \
            not WRITER_OWN.search(text)

    def _without_drug_names(self, piece: str) -> str:
        """在吃妈富隆 / 用宝宝金水: a relative's word inside a medicine's name (妈, 宝宝) names no one; the names are
        blanked before the clause's experiencer is read."""
        if not OTHER.search(piece):
            return piece
        chars = list(piece)
        for mention in self.lexicon.find_mentions(piece, DRUG_KINDS):
            chars[mention.start:mention.end] = ["药"] * (mention.end - mention.start)
        return "".join(chars)

    # ---- the extractor -------------------------------------------------------------------------------------
    def extract(self, message: str, message_id: str | None = None, known: Iterable[Fact] = ()) -> list[Fact]:
        """The facts a message states. `known`: the facts remembered before it (the memory's), read only to resolve
        what the message refers to without naming it (see `_Context`)."""
        context = _Context.of(known)
        text = to_simplified(message)
        # 孕前有甲减吃优甲乐，现在怀孕16周还在吃: beside a pregnancy now, 孕前 dates what came before it (not a plan)
        if "孕前" in text and PREGNANCY_ASSERT.search(text) and not NOT_PREGNANT.search(text):
            text = text.replace("孕前", "以前")
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
        clauses = self.clauses(text, context.child)
        # (过敏性鼻炎犯了: a cue inside a condition's own name makes no sentence about allergies)
        allergy_sentences = {c.sentence for c in clauses if self._allergy_cue(c.text)}
        if self._proxy(text):   # 帮我妈问: the relative asked for is the patient, whose sex the kin word names
            elder = ELDER_OPENING.match(text)   # 老人80了: the elder's age (岁 not said)
            if elder and not AGE.search(elder.group(0)) and 40 <= (chinese_number(elder.group(1)) or 0) < 125:
                add_mine("age", str(chinese_number(elder.group(1))), "active",
                         _sentence_around(message, elder.start(), elder.end()))
            kin = PROXY_KIN.search(text)
            if kin:
                add_mine("sex", "male" if kin.group(1) else "female", "active",
                         _sentence_around(message, kin.start(), kin.end()))
        # sentences that ask whether a medicine may be taken (…，哺乳期能吃吗): a drug only prescribed in them is asked about
        asking_sentences = {c.sentence for c in clauses if ASKS_TO_TAKE.search(c.text) and c.question}
        # 吃他克莫司，听说不能吃西柚？: the question names its own object, so a clause before it that takes a drug is
        # told, not asked (吃布洛芬，可以吗？ names none: the drug is what is asked)
        asked_apart = {c.sentence for c in clauses if c.question and ASKED_OBJECT.search(c.text) and
                       not re.fullmatch(r"(?:吗|么|嘛|呢|吧|啊|这个|这药|这个药|那个药|它|了|不)*[？?]?\s*",
                                        ASKED_OBJECT.search(c.text).group(1))}
        previous: tuple[_Clause, list[Target], list[_Found]] | None = None
        skipped = 0
        last_drugs: tuple[_Clause, list[Target], list[_Found]] | None = None
        last_other: list[_Found] = []
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
            for t in targets:   # 吃安乐普利诺（allopurinol）: a name glossed in brackets takes the verb of the word it glosses
                if t.kind == "medication" and GLOSSED.search(clause.text[:t.start]):
                    t.categories.setdefault("taking_weak", 0)
            # 女 52 糖尿病 二甲双胍: a telegraphic profile of bare words lists the medicines taken
            if not clause.question and _telegraphic(clause.text, found):
                for t in targets:
                    if t.kind == "medication" and not t.categories:
                        t.categories["taking_weak"] = 0
            by_span = {(t.kind, t.start, t.end): t for t in targets}
            if clause.self_subject or clause.child:
                continues = previous is not None and previous[0].sentence == clause.sentence and \
                    previous[0].self_subject == clause.self_subject and _only_names(clause.text, found)
                # 吃的药一大把，主要是A、B、C: names only, listed after a clause about the medicines taken
                head = MEDICINES_LISTED.match(clause.text)
                before = clauses[clauses.index(clause) - 1] if head is not None and clauses.index(clause) > 0 else None
                listed = before is not None and before.sentence == clause.sentence and \
                    before.self_subject == clause.self_subject and MEDICINES_TAKEN.search(before.text) and \
                    not clause.question and _only_names(clause.text[head.end():], [
                        replace(f, start=f.start - head.end(), end=f.end - head.end()) for f in found])
                for f in found:
                    if listed and f.kind == "medication":
                        add(f.kind, f.value, "active", evidence)
                        continue
                    if continues and f.kind in previous_status:
                        # 吃的是氨氯地平和二甲双胍，阿托伐他汀: a clause of names only continues the list before it
                        add(f.kind, f.value, previous_status[f.kind], evidence)
                        continue
                    self._decide(f, by_span[(f.kind, f.start, f.end)].categories, clause.text, evidence, add,
                                 clause.question or clause.sentence in asking_sentences and not (
                                     clause.sentence in asked_apart and TAKE_VERB_BEFORE.search(clause.text[:f.start])),
                                 pregnant=context.pregnant or bool(PREGNANCY_ASSERT.search(text)))
                # 孩子出生20天，黄疸有点高: a newborn's jaundice
                if clause.child and not clause.self_subject and re.search(r"黄疸|黄染", clause.text) and \
                        NEWBORN.search(text) and not re.search(r"没有|没|不|退了|消了|好了|是不是|会不会|吗", clause.text):
                    add("condition", "新生儿高胆红素血症", "active", evidence)
                # 卡马西平起皮疹就停了: the drug of the reaction is no longer taken either
                if "stopped" in reach_back_categories(clause.text, "medication", triggers):
                    for f in found:
                        if f.kind == "allergy" and f.lexicon_kind in ("drug", "product"):
                            add("medication", f.value, "stopped", evidence)
                self._scalars(clause.text, evidence, add, child=clause.child,
                              following=text[clause.start + len(clause.text):], evidence_before=text[:clause.start],
                              kidney_known=context.kidney)
            if clause.self_subject:
                self._pregnancy(clause.text, [t for t in targets if t.kind == "pregnancy"], evidence, add,
                                pregnant_before=context.pregnant or any(f.kind == "pregnancy" and f.value == "true"
                                                                        for f in mine))
                # (a child remembered) 还在吃母乳: the baby's feeding, not the writer's breastfeeding
                if not (context.child and BABY_FEEDS.search(clause.text) and not SELF.search(clause.text)):
                    self._lactation(clause.text, [t for t in targets if t.kind == "lactation"], evidence, add)
                writer_speaks = writer_speaks or (bool(SELF_PRONOUN.search(clause.text)) and
                                                  not ASKING_FOR_OTHERS.search(clause.text) and
                                                  not PARENT_KIN.fullmatch(clause.text.strip()))
            elif clause.child and not RELATIVE_NURSING.search(clause.text):   # (我女儿在哺乳期: hers, not the writer's)
                self._lactation(clause.text, [t for t in targets if t.kind == "lactation"], evidence, add_nursing)
            # a stop or cure in a clause that names nothing of its kind reaches back: …，上个月医生让停了
            # 原来打胰岛素，现在血糖控制好了，医生让停了: past up to two clauses that name nothing (the reason between)
            if previous is not None and previous[0].sentence == clause.sentence and not clause.question and \
                    not re.search(r"如果|假如|要是|万一|将来|打算|准备|需不需要|要不要", clause.text) and \
                    previous[0].self_subject == clause.self_subject and (clause.self_subject or clause.child):
                if not re.search(r"其他|其它|别的|其余|除了|另外的", clause.text):   # 其他药都停了: not the one named
                    # 吃了五年X，上周查出白细胞低，医生让停了: a stop reaches past a reason clause that names a condition
                    # to the medicines of the clause before it
                    if last_drugs is not None and last_drugs[0].sentence == clause.sentence and \
                            last_drugs[0].self_subject == clause.self_subject and \
                            not any(f.kind == "medication" for f in previous[2]) and \
                            clauses.index(clause) - clauses.index(last_drugs[0]) <= 2:
                        earlier = (previous[0], previous[1], previous[2] + [f for f in last_drugs[2] if f.kind == "medication"])
                        self._reach_back(clause.text, found, earlier, evidence, add)
                    else:
                        self._reach_back(clause.text, found, previous, evidence, add)
                # 医生开了X，但我对Y过敏所以没吃: never taken (the allergy named here does not hide the drug before)
                if not any(f.kind == "medication" for f in found) and \
                        (re.search(r"(?:所以|就|因此|才|一直|根本)(?:没有?|没敢|不敢)(?:吃|用|打|服)(?:过)?\s*$", clause.text) or
                         # 医生想给我开X，但我没吃: the clause is only the refusal
                         re.fullmatch(r"\s*(?:但|但是|可是|不过|结果|最后|后来)(?:我|俺)?(?:也|还|就|都)?(?:没有?|没敢|不敢|不想)"
                                      r"(?:吃|用|打|服)(?:过|它|这个药)?\s*", clause.text) or
                         # 据说吃X能降脂，我没吃过: a drug heard of, then said never taken
                         re.match(r"\s*(?:听说|据说|听人说|听别人说|别人说|有人说|网上说)", previous[0].text) and
                         re.fullmatch(r"\s*(?:我|俺)?(?:也|还|就|都|从来|从)?(?:没有?|没敢|不敢|不想)(?:吃|用|打|服)(?:过|它)?\s*",
                                      clause.text)):
                    for f in previous[2]:
                        if f.kind == "medication":
                            add("medication", f.value, "denied", previous[0].text + "，" + evidence)
                # 之前吃着X，怀孕后医生让继续吃: a drug read as stopped goes on
                if not found and GOES_ON.search(clause.text) and \
                        not re.search(r"能不能|可不可以|要不要|需不需要|是否|还能|可以", clause.text):
                    for f in previous[2]:
                        if f.kind == "medication" and any(b.kind == "medication" and b.value == f.value and
                                                          b.status == "stopped" for b in bucket):
                            add("medication", f.value, "active", previous[0].text + "，" + evidence)
                # 我以前吃别嘌醇，起过一次皮疹就停了: a reaction that names nothing is to the one drug just named
                drugs = {f.value for f in previous[2] if f.kind == "medication"}
                if len(drugs) == 1 and ALLERGY_CUE.search(clause.text) and not found and \
                        not re.search(r"不|没|别|无|会|怕|担心|万一|是否|有没有|吗", clause.text) and \
                        (re.search(r"过|就|后|以后|之后|一次|当时|那次", clause.text) or
                         re.search(r"吃了|用了|打了|吃完|用完|输了|以前|之前|那次", previous[0].text)):
                    add("allergy", drugs.pop(), "active", previous[0].text + "，" + evidence)
            # 我妈也是房颤: 也 says a relative has it as the writer does (not when another person in the message has it:
            # 我妈有糖尿病，我爸也有糖尿病)
            if not clause.self_subject and not clause.question and \
                    len(re.findall(rf"(?:{RELATIVES})", text)) == len(re.findall(rf"(?:{RELATIVES})", clause.text)):
                for f in found:
                    if f.kind == "condition" and RELATIVE_ALSO.fullmatch(clause.text[:f.start]):
                        add_mine("condition", f.value, "active", evidence)
            if clause.self_subject and not found and last_other and SAME_AS_OTHER.match(clause.text):
                for f in last_other:
                    if f.kind == "condition":
                        add("condition", f.value, "active", evidence)
            last_other = found if not clause.self_subject and not clause.child else []
            if found or previous is None or previous[0].sentence != clause.sentence or skipped >= 2 or \
                    previous[0].self_subject != clause.self_subject or clause.question:
                previous, skipped = (clause, targets, found), 0
                if any(f.kind == "medication" for f in found):
                    last_drugs = previous
            else:
                skipped += 1   # a clause naming nothing keeps the last one that named something
            previous_status = {f.kind: f.status for f in bucket[first_new:] if f.kind in ("medication", "condition",
                                                                                           "allergy")}
        # 以前吃二甲双胍，血糖控制不好，后来加了格列美脲: a drug added on says the one before goes on
        added = re.search(r"(?:后来|又|再|医生)(?:给我|给)?(?:加了|加用了?|加上了)", text)
        if added:
            for f in list(mine):
                if f.kind == "medication" and f.status == "stopped" and \
                        re.search(r"以前吃|之前吃|原来吃|以前用|之前用|原来用", f.evidence) and \
                        not any(g.value == f.value and re.search(r"停|不吃|不用|没吃|没再|换|改|断", g.evidence)
                                for g in mine + childs) and \
                        not re.search(r"停|不吃|不用|换|改", text[text.find(f.evidence) + len(f.evidence):added.start()]) and \
                        not re.search(r"停|不吃了|不用了|换|改", text[added.end():]) and \
                        message.find(f.evidence) < added.start():
                    mine.append(Fact("medication", f.value, "active", source_message_id=message_id,
                                     evidence=f.evidence + "…" + text[added.start():added.end()]))
        add_message = collector(message_level)
        self._message_scalars(text, clauses, message, add_message)
        self._unnamed(text, message, clauses, context, mine, add_message)
        pregnant_now = context.pregnant or any(f.kind == "pregnancy" and f.value == "true" for f in mine)
        # a birth ends a pregnancy remembered or stated (宝宝上周出生了); a mother's 产后 alone says nothing of one
        if pregnant_now and BIRTH.search(text) and not re.search(r"(?:姐|嫂|妹|朋友|同事|邻居|亲戚|表|堂)[\u4e00-\u9fff]{0,3}(?:生|出生|分娩|产后)", text):
            birth = BIRTH.search(text)
            add_message("pregnancy", "false", "active", _sentence_around(message, birth.start(), birth.end()))
        # 孕早期吃的X，现在16周: the weeks counted now outrank a trimester word that dates an earlier event
        counted_now = re.search(rf"(?:现在|目前|如今)(?:已经|是|都|快)?\s*(?:孕|怀孕)?\s*({NUM})\s*(周|个月)", text)
        if counted_now and chinese_number(counted_now.group(1)) is not None and \
                any(word in text[:counted_now.start()] for word in TRIMESTER_WORDS):
            now = str(self._trimester("孕" + counted_now.group(1) + counted_now.group(2)))
            mine[:] = [f for f in mine if f.kind != "trimester" or f.value == now]
            if not any(f.kind == "trimester" for f in mine):
                mine.append(Fact("trimester", now, "active", source_message_id=message_id,
                                 evidence=_sentence_around(message, counted_now.start(), counted_now.end())))
        # 怀孕了，第10周 / 大概7周 / (a pregnancy remembered) 现在18周: the weeks in a clause of their own
        if pregnant_now and not any(f.kind == "trimester" for f in mine) and \
                not any(f.kind == "pregnancy" and f.value == "false" for f in mine + message_level):
            weeks = re.search(rf"(?:孕|怀孕|妊娠|第)\s*({NUM})\s*(?:\+[0-9])?\s*(周)", text) or BARE_WEEKS.search(text)
            # 怀孕了，第三个月: a month count in a clause of its own
            months = re.search(rf"(?:^|[，,。；;\s])(?:现在|目前|已经|快|刚|大概|大约|差不多)*(?:第)\s*({NUM})\s*个?\s*(?:多)?\s*月"
                               r"(?:了)?(?=[，,。；;！!\s]|$)", text) or \
                (None if CHILDREN.search(FETUS.sub("", text)) else
                 re.search(rf"(?:^|[，,。；;\s])(?:现在|目前|已经|快|刚|大概|大约|差不多)*({NUM})\s*个\s*(?:多|半)?\s*月(?:了)?"
                           r"(?=[，,。；;！!\s]|$)", text))   # 我是孕妇，七个月了 (no child named)
            since_period = SINCE_PERIOD.search(text)
            if not weeks and since_period and chinese_number(since_period.group(1)) is not None:
                add_message("trimester", str(self._trimester(since_period.group(0))), "active",
                            _sentence_around(message, since_period.start(), since_period.end()))
            elif weeks and chinese_number(weeks.group(1)) is not None:
                add_message("trimester", str(self._trimester("孕" + weeks.group(1) + "周")), "active",
                            _sentence_around(message, weeks.start(), weeks.end()))
            elif months and chinese_number(months.group(1)) is not None:
                add_message("trimester", str(self._trimester("孕" + months.group(1) + "个月")), "active",
                            _sentence_around(message, months.start(), months.end()))
        # 我以为自己怀孕了，结果测了不是: a pregnancy feared and then ruled out is none
        ruled_out = THOUGHT_PREGNANT.search(text)
        if ruled_out and not any(f.kind == "pregnancy" for f in mine):
            add_message("pregnancy", "false", "active", _sentence_around(message, ruled_out.start(), ruled_out.end()))
        # BMI 31: an adult's stated BMI in the obese range (WS/T 428-2013, the BMI tool's cut-off) is 肥胖症
        stated_bmi = STATED_BMI.search(text)
        owner = next((c for c in clauses if stated_bmi and c.start <= stated_bmi.start() < c.start + len(c.text)), None)
        if stated_bmi and owner is not None and owner.self_subject and not owner.question and not context.child and \
                not HYPOTHETICAL_LEAD.search(_sentence_around(text, stated_bmi.start(), stated_bmi.end())) and \
                float(stated_bmi.group(1)) >= BMI_CATEGORIES[-2][0] and \
                float(stated_bmi.group(1)) < 80:
            add_message("condition", "肥胖症", "active", _sentence_around(message, stated_bmi.start(), stated_bmi.end()))
        # 血糖偏高一点，医生说是前期: 前期 alone in a message about glucose is pre-diabetes
        prediabetes = re.search(r"(?:说|是|属于|算)(?:是)?(?:糖尿病)?前期", text)
        owner = next((c for c in clauses if prediabetes and c.start <= prediabetes.start() < c.start + len(c.text)), None)
        if prediabetes and owner is not None and owner.self_subject and not owner.question and \
                re.search(r"血糖|糖耐", text) and not any(f.value == "糖尿病前期" for f in mine):
            add_message("condition", "糖尿病前期", "active",
                        _sentence_around(message, prediabetes.start(), prediabetes.end()))
        self._stop_asked(text, message, clauses, mine, add_message)
        self._continuation(text, message, context, mine, add_message)
        self._corrections(text, message, add_message, context)
        self._switches(text, message, add_message)
        self._elaborations(text, message, mine, add_message, context)
        self._use_now_tail(text, message, mine, add_message)
        self._became(text, mine)
        self._taken_it(text, message, clauses, mine, add_message)
        self._condition_corrections(text, message, clauses, context, add_message)
        self._moved_to_relative(text, message, context, add_message)
        # whose profile: the writer's, unless the message speaks only about the writer's child (我家孩子3岁，对头孢过敏
        # → the child's: the writer asks for the child). A mother who says she breastfeeds (宝宝3个月，纯母乳喂养，
        # 感冒了能吃什么) asks about her own medicines: breastfeeding is what makes them a question.
        # 我35岁，有高血压。我儿子7岁，…他感冒了能吃什么药？: the question is asked for the child, so is the profile
        for_child = (any(c.child and (c.question or ASK_LEAD.search(c.text) and ASKED_WHETHER.search(c.text))
                         for c in clauses) or bool(BOUGHT_FOR_CHILD.search(text))) and \
            not any(c.self_subject and c.question for c in clauses)
        # 我是孩子的妈妈，孩子3岁…: the writer named only as the child's parent still asks for the child
        # 宝宝3个月，吃奶粉，没母乳: a mother who says she does not breastfeed tells about the baby's feeding, not herself
        # (断奶了 is the mother's own news: it stays hers)
        formula = [f for f in mine + nursing if f.kind == "lactation" and f.value == "false" and
                   FORMULA_FED.search(f.evidence) and not WEANED.search(f.evidence)]
        own = [f for f in mine if not (f.kind == "sex" and PARENT_KIN.search(f.evidence)) and f not in formula]
        # 宝宝摔了一跤: a fall history is the fall risk of an older adult (Beers, China-PIM); a child's fall is an injury
        childs = [f for f in childs if not (f.kind == "condition" and f.value == "跌倒史")]
        if childs and (for_child or not own and not writer_speaks) and \
                not [f for f in nursing if f not in formula]:
            return self._narrowed(text, self._refine(merge_facts([], childs + [
                f for f in message_level if not for_child or f.kind not in ("age", "sex")])), message_id)
        mine = self._allergy_taken_back(text, message, clauses, mine) + self._class_stops(mine, context)
        return _denial_stands(mine, self._narrowed(text, self._refine(merge_facts([], mine + nursing + message_level)),
                                                   message_id))

    def _class_stops(self, mine: list[Fact], context: "_Context") -> list[Fact]:
        """他汀吃了腿疼，医生让停了: a class stopped ends the one remembered medicine of that class (two or more: unclear,
        nothing more ends)."""
        told = {f.value for f in mine if f.kind == "medication"}
        ended: list[Fact] = []
        for fact in mine:
            if fact.kind != "medication" or fact.status != "stopped" or fact.value not in self.lexicon.classes:
                continue
            members = [m for m in context.medications if fact.value in self.lexicon.classes_of(m)]
            if len(members) == 1 and members[0] not in told:
                ended.append(replace(fact, value=members[0]))
        return ended

    def _allergy_taken_back(self, text: str, message: str, clauses: list[_Clause], mine: list[Fact]) -> list[Fact]:
        """我以前说对头孢过敏，后来皮试阴性，医生说其实不过敏: a later clause of the writer's that denies an allergy
        without naming one (and with a word that says it was found out) takes back the one allergy named before it."""
        allergies = [f for f in mine if f.kind == "allergy" and f.status == "active"]
        if len({f.value for f in allergies}) != 1:
            return mine
        named_at = min(message.find(f.evidence) for f in allergies)
        # 我对X过敏……其实也不算，就是胃不舒服: the writer takes the word back right after saying it
        if ALLERGY_RETRACTED.search(text, max(named_at, 0)):
            return [replace(f, status="denied") if f in allergies else f for f in mine]
        for clause in clauses:
            if clause.self_subject and clause.start > named_at and ALLERGY_DENIAL.search(clause.text) and \
                    not ALLERGY_DENIAL_SCOPE.search(clause.text) and \
                    re.search(r"其实|实际上|后来|结果|原来|医生说|大夫说|皮试", clause.text) and \
                    not self._mentions(clause.text, True):
                return [replace(f, status="denied") if f in allergies else f for f in mine]
        return mine

    def _narrowed(self, text: str, facts: list[Fact], message_id: str | None = None) -> list[Fact]:
        """A condition the message describes more precisely than it names is the precise row of conditions.csv, whose
        parent keeps the named one's rules: 尿路感染老是复发 → 复发性尿路感染 (a 复发性X row), 乳腺癌做过手术 → 乳腺癌术后
        (an X术后 row), 偏头痛 with a visual aura before the attack → 有先兆偏头痛. A 术后 state said with 切除了 / 做了
        stays: the operation is over, the state is not."""
        result = []
        for fact in facts:
            if fact.kind == "condition" and fact.status == "active":
                name = fact.value
                at = text.find(name)
                near = text[max(0, at - 8):at + len(name) + 14] if at >= 0 else fact.evidence
                recurrent, operated = "复发性" + name, name + "术后"
                if recurrent in self.lexicon.conditions and RECURRENT.search(near):
                    name = recurrent
                elif operated in self.lexicon.conditions and at >= 0 and \
                        OPERATED.match(text[at + len(fact.value):]):
                    name = operated
                elif name == "带状疱疹" and "带状疱疹后神经痛" in self.lexicon.conditions and ZOSTER_PAIN.search(text):
                    name = "带状疱疹后神经痛"   # 得过带状疱疹，现在神经痛: the nerve pain after shingles (ICD-10 G53.0)
                elif name == "偏头痛" and "有先兆偏头痛" in self.lexicon.conditions and AURA.search(text):
                    name = "有先兆偏头痛"
                elif name == "心力衰竭" and (ef := EJECTION_FRACTION.search(text)) and \
                        (typed := _heart_failure_type(float(ef.group(1)))) in self.lexicon.conditions:
                    name = typed   # 心衰，射血分数35%: the heart failure typed by its ejection fraction (ESC 2021)
                elif PAST_ONCE.search(fact.evidence) and not re.search(r"现在|目前|还在|还有|一直|又|反复|经常|老是", fact.evidence) \
                        and self._history_of(name) not in (None, name):
                    name = self._history_of(name) or name   # 胃出过血 / 得过X (once, over): its history row
                if name != fact.value:
                    fact = replace(fact, value=name)
            elif fact.kind == "condition" and fact.status in ("stopped", "healed") and fact.value.endswith("术后"):
                fact = replace(fact, status="active")   # 子宫切除了: the state after the operation goes on
            elif fact.kind == "condition" and fact.status in ("stopped", "healed") and self._history_of(fact.value):
                # 以前得过肺栓塞，已经治好了 / 胃溃疡几年前有过，治好了: what is over is remembered as its history where
                # conditions.csv has a history row for it (the history carries the rules: estrogen after a VTE)
                fact = replace(fact, value=self._history_of(fact.value), status="active")
            # 子痫前期后遗症: what a condition of pregnancy left behind is told; the pregnancy and the condition are over
            if fact.kind == "condition" and fact.status == "active" and fact.value in PREGNANCY_CONDITIONS and \
                    re.search(r"后遗症|留下的", fact.evidence):
                fact = replace(fact, status="stopped")
            if fact.kind == "condition" and fact.status == "active":
                name = fact.value
                # 肝硬化，喝酒喝出来的: a condition the writer says drink caused is its alcoholic row where one exists
                if "酒精性" + name in self.lexicon.conditions and DRINK_CAUSED.search(text):
                    name = "酒精性" + name
                # 膝盖疼，医生说是骨关节炎: a condition of the joint the message names is that joint's row where one exists
                elif (site := next((row for word, row in JOINT_SITES if word in text and
                                    row + name in self.lexicon.conditions), None)) is not None:
                    name = site + name
                if name != fact.value:
                    fact = replace(fact, value=name)
            if fact.kind == "condition" and fact.value == "吸烟" and fact.status == "active" and QUIT_SMOKING.search(text):
                fact = replace(fact, status="stopped")   # 以前每天一包烟，戒了五年: a former smoker
            result.append(fact)
        # 我有多囊 in a message about periods or ovulation is the ovarian syndrome (多囊肾 is named in full)
        pcos = OVARIAN_CYSTS.search(text)
        if pcos and "多囊卵巢综合征" in self.lexicon.conditions and \
                not any(f.kind == "condition" and f.value in ("多囊卵巢综合征", "多囊肾") for f in result):
            result.append(Fact("condition", "多囊卵巢综合征", "active", source_message_id=message_id,
                               evidence=_sentence_around(text, pcos.start(), pcos.end())))
        return merge_facts([], result)

    def _history_of(self, condition: str) -> str | None:
        """The history row of a condition that is over: the condition itself when it names a history (血栓栓塞病史) or
        sits below one, else X病史 / X史 for it or the nearest parent that has one (胃溃疡 → 消化性溃疡病史), else None."""
        if condition.endswith("史") and condition in self.lexicon.conditions or \
                any(a.endswith("史") for a in self.lexicon.condition_ancestors(condition) - {condition}):
            return condition   # a history itself, or a row below one (下肢深静脉血栓 under 血栓栓塞病史): kept as precise
        level, seen = [condition], set()
        while level:
            for name in level:
                for history in (name + "病史", name + "史"):
                    if history in self.lexicon.conditions:
                        return history
            seen |= set(level)
            level = [p for name in level if name in self.lexicon.conditions
                     for p in self.lexicon.conditions[name].parents if p not in seen]
            if any(p.endswith("史") for p in level):
                return next(p for p in level if p.endswith("史"))
        return None

    def _became(self, text: str, mine: list[Fact]) -> None:
        """甲亢做过碘131，现在变成甲减了 / 糖尿病前期，现在变成糖尿病了: a condition said to have become a sibling of
        itself (the two names share their stem) is no longer the patient's; one that merely came as well stays."""
        turn = re.search(r"(?:变成|转成|发展成)了?", text)
        if not turn:
            return
        mentions = [m for m in self.lexicon.find_mentions(text, ("condition",))]
        after = [m for m in mentions if m.start >= turn.end() and not text[turn.end():m.start].strip()]
        if len(after) != 1:
            return
        new = after[0].canonical
        before = {m.canonical for m in mentions if m.end <= turn.start()}
        gone = {name for name in before if name != new and len(os.path.commonprefix([name, new])) >= 2}
        mine[:] = [f for f in mine if not (f.kind == "condition" and f.value in gone and f.status == "active")]

    def _stop_asked(self, text: str, message: str, clauses: list[_Clause], mine: list[Fact], add) -> None:
        """(假如怀孕了，) 拉莫三嗪要停吗？: asking whether to stop a medicine says the writer takes it, when the message
        names no one else who might (…我妈在吃) and does not say it is not taken (我没吃过)."""
        # (现在还没怀: not yet pregnant, not a medicine not yet taken)
        if OTHER.search(text) or re.search(r"没吃|没有吃|没用|没在|不吃|没开始|还没(?!怀|有怀)", text):
            return
        for clause in clauses:
            if not clause.self_subject or not clause.question:
                continue
            for mention in self.lexicon.find_mentions(clause.text, DRUG_KINDS):
                if STOP_ASKED.match(clause.text[mention.end:]) and \
                        not any(f.kind == "medication" and f.value == mention.canonical for f in mine):
                    add("medication", mention.canonical, "active",
                        message[clause.start:clause.start + len(clause.text)])

    def _use_now_tail(self, text: str, message: str, mine: list[Fact], add) -> None:
        """如果以后怀孕了，阿司匹林要停吗？我现在每天吃: a sentence that says only that the writer takes it now makes
        the drug asked about in a hypothetical sentence before it a current medicine."""
        sentences = [m for m in re.finditer(r"[^。！!？?\n\r]+[。！!？?\n\r]*", text)]
        for before, after in zip(sentences, sentences[1:]):
            if not USE_NOW_TAIL.fullmatch(after.group(0)) or not HYPOTHETICAL_LEAD.search(before.group(0)):
                continue
            drugs = [m for m in self.lexicon.find_mentions(before.group(0)) if m.kind in ("drug", "product")]
            if len(drugs) != 1 or any(f.kind == "medication" and f.value == drugs[0].canonical for f in mine):
                continue
            add("medication", drugs[0].canonical, "active",
                _sentence_around(message, before.start(), after.end()))

    def _continuation(self, text: str, message: str, context: "_Context", mine: list[Fact], add) -> None:
        """(after 我对青霉素过敏) 还有磺胺: a later message of names only after 还有 continues the kind remembered last."""
        match = CONTINUES.match(text)
        if match is None or not context.last_kind or any(f.kind == context.last_kind for f in mine):
            return
        rest = text[match.end():]
        # 还有叶酸，类风湿好几年了 / 还有喹硫平，晚上一片: the names are the first clause; the clauses after tell more
        first = CLAUSE_SPLIT.search(rest)
        if first is not None and not CONTINUATION_UNDONE.search(rest, first.end()):
            rest = rest[:first.start()]
        if context.last_kind == "medication":   # 还有B，两个都在吃: a tail that says both are taken is no other name
            rest = BOTH_TAKEN.sub("", rest)
        found = self._mentions(rest, context.last_kind == "allergy")
        if not found or not _only_names(rest, found):
            return
        kinds = {"allergy": ALLERGEN_KINDS, "medication": DRUG_KINDS, "condition": ("condition",)}[context.last_kind]
        for f in found:
            if f.lexicon_kind in kinds or f.kind == context.last_kind:
                add(context.last_kind, f.value, "active", message.strip())

    def _elaborations(self, text: str, message: str, mine: list[Fact], add, context: "_Context | None" = None) -> None:
        """我有青光眼，闭角型的: a type named right after a condition is the subtype the lexicon knows (闭角型青光眼);
        `_refine` then keeps only the subtype. (a later message) 是闭角型的: the type of the one remembered condition
        that has it."""
        stated = {f.value for f in mine if f.kind == "condition" and f.status == "active"}
        later = LATER_TYPE.match(text)
        if later and context is not None and context.conditions:
            subtypes = {(c, name) for name in context.conditions
                        for c in [self.lexicon.canonical(later.group(1) + later.group(2) + name, ("condition",))]
                        if c and c != name and name in self.lexicon.condition_ancestors(c)}
            if len(subtypes) == 1:
                subtype, broader = subtypes.pop()
                add("condition", subtype, "active", _sentence_around(message, later.start(1), later.end(2)),
                    supersedes=(broader,))
        for m in self.lexicon.find_mentions(text, ("condition",), fuzzy=False):
            match = ELABORATION.match(text, m.end)
            if m.canonical not in stated or match is None:
                continue
            kinds = (match.group(2),) if match.group(2) else ("型", "性", "")   # 窄角的那种 → 窄角型青光眼
            subtype = next((c for kind in kinds for c in [self.lexicon.canonical(match.group(1) + kind + m.text,
                                                                                 ("condition",))] if c), None)
            if subtype and subtype != m.canonical and m.canonical in self.lexicon.condition_ancestors(subtype):
                add("condition", subtype, "active", _sentence_around(message, m.start, match.end()))

    def _taken_it(self, text: str, message: str, clauses: list[_Clause], mine: list[Fact], add) -> None:
        """要是我怀孕了，X还能吃吗？我现在在吃它: 它 / 这个药, said taken now, is the one medicine the message named before."""
        for clause in clauses:
            hit = TAKING_IT.search(clause.text)
            if hit is None or clause.question or not clause.self_subject:
                continue
            named = {m.value for m in self._grouped(text[:clause.start]) if m.kind == "medication"}
            if len(named) == 1 and not any(f.kind == "medication" and f.value in named and f.status == "active"
                                           for f in mine):
                add("medication", named.pop(), "active", message[clause.start:clause.start + len(clause.text)])
            return

    def _condition_corrections(self, text: str, message: str, clauses: list[_Clause], context: _Context,
                               add) -> None:
        """说错了，…是慢性胃炎，不是溃疡: in a correcting message, 不是X with X the end of a remembered condition's name
        (胃溃疡) takes that condition back."""
        if not (CORRECTION_MARK.search(text) or UNNAMED_CORRECTION.search(text) or MISDIAGNOSED.search(text)):
            return
        for clause in clauses:
            if clause.self_subject and MISDIAGNOSED.search(clause.text):
                # 以前说有心衰是搞错了 / 说我有糖尿病是误诊: the condition said to have been a mistake is taken back
                for found in self._mentions(clause.text[:MISDIAGNOSED.search(clause.text).end()]):
                    if found.kind == "condition":
                        add("condition", found.value, "denied", message[clause.start:clause.start + len(clause.text)])
            match = re.fullmatch(r"\s*(?:(?:医生|大夫|检查|复查|结果|胃镜|肠镜|化验)[^，,。]{0,4}?(?:说|讲|显示|看了说|查了说))?"
                                 r"\s*(?:而|也|并|其实)?不是\s*([\u4e00-\u9fff]{2,6}?)(?:了|啊|呢)?\s*", clause.text)
            if match is None or not clause.self_subject:
                continue
            for value in context.conditions:
                entry = self.lexicon.conditions.get(value)
                if any(name.endswith(match.group(1)) for name in (value, *(entry.synonyms if entry else ()))):
                    add("condition", value, "denied", message[clause.start:clause.start + len(clause.text)])

    @staticmethod
    def _moved_to_relative(text: str, message: str, context: _Context, add) -> None:
        """(我怀孕了) 刚才说错了，是我老婆怀孕了: a correction that gives the remembered pregnancy or breastfeeding to a
        relative takes the writer's back."""
        moved = MOVED_TO_RELATIVE.search(text)
        if moved is None or not (CORRECTION_MARK.search(text) or UNNAMED_CORRECTION.search(text)):
            return
        kind = "pregnancy" if moved.group(1) else "lactation"
        if kind == "pregnancy" and context.pregnant or kind == "lactation" and context.lactating:
            add(kind, "true", "denied", _sentence_around(message, moved.start(), moved.end()))

    def _refine(self, facts: list[Fact]) -> list[Fact]:
        """One condition named twice in one message, broadly and precisely, is the precise one: 血压有点高 and
        妊娠期高血压 → 妊娠期高血压; 心梗 with 放了支架 (冠心病) → 心肌梗死 (the auditor reads a condition's parents, so
        nothing is lost). A CKD stage says the kidney condition is CKD (慢性肾脏病, KDIGO), and an ungraded 肾功能不全
        beside it is the same kidneys (the auditor grades kidney rows by the stage, not by that name)."""
        active = [f for f in facts if f.kind == "condition" and f.status == "active"]
        names = {f.value for f in active}
        broader = {a for name in names for a in self.lexicon.condition_ancestors(name) - {name}} & names
        # 妊娠糖尿病，医生让我打胰岛素: a condition of pregnancy told as current says the writer is pregnant (not one
        # told as past: 上一胎得过妊娠糖尿病)
        of_pregnancy = next((f for f in active if f.value in PREGNANCY_CONDITIONS and
                             not PAST_PREGNANCY.search(f.evidence)), None)
        if of_pregnancy is not None and not any(f.kind == "pregnancy" for f in facts):
            facts = facts + [Fact("pregnancy", "true", "active", source_message_id=of_pregnancy.source_message_id,
                                  evidence=of_pregnancy.evidence)]
        stage = next((f for f in facts if f.kind == "ckd_stage" and f.status == "active"), None)
        # 心梗放了两个支架: a stent beside a coronary diagnosis it treated is told by that diagnosis (both sit below 冠心病)
        if "冠脉支架术后" in names and any("冠心病" in self.lexicon.condition_ancestors(name) - {name}
                                          for name in names - {"冠脉支架术后"}):
            broader.add("冠脉支架术后")
        if "糖尿病前期" in names:   # 血糖有点高，医生说是糖尿病前期: the graded word is the fact, not 糖尿病
            broader |= names & {"糖尿病"}
        # 孕35周，前两天查出来血压高: blood pressure found high in the second half of a pregnancy is gestational
        # hypertension (ACOG: new after 20 weeks), not one known before (孕前就有 / 多年 / 一直)
        # (in the third trimester a pressure read high, 孕32周，血压有点高, is that whether or not it says when it was found)
        late = any(f.kind == "trimester" and f.value in ("2", "3") and f.status == "active" for f in facts)
        third = any(f.kind == "trimester" and f.value == "3" and f.status == "active" for f in facts)
        if "高血压" in names and late and "妊娠期高血压" in self.lexicon.conditions and \
                any(f.kind == "pregnancy" and f.value == "true" and f.status == "active" for f in facts) and \
                all((re.search(r"查出|发现|最近|这几天|前两天|前几天|产检|孕检", f.evidence) or
                     third and re.search(r"血压[^，,。；;]{0,6}高", f.evidence)) and
                    not re.search(r"高血压|孕前|怀孕前|以前|之前|多年|一直|长期|老", f.evidence)
                    for f in active if f.value == "高血压"):
            broader.add("高血压")
            facts = facts + [Fact("condition", "妊娠期高血压", "active", source_message_id=f.source_message_id,
                                  evidence=f.evidence) for f in active if f.value == "高血压"][:1]
        # 怀孕5个月，最近血糖偏高: high glucose found in a pregnancy (not a diabetes named) is gestational diabetes
        if "糖尿病" in names and "妊娠期糖尿病" in self.lexicon.conditions and \
                any(f.kind == "pregnancy" and f.value == "true" and f.status == "active" for f in facts) and \
                not any(f.value == "糖尿病" and re.search(r"糖尿|三高|降糖|胰岛素", f.evidence) for f in active):
            broader.add("糖尿病")
            facts = facts + [Fact("condition", "妊娠期糖尿病", "active", source_message_id=f.source_message_id,
                                  evidence=f.evidence) for f in active if f.value == "糖尿病"][:1]
        # eGFR 22，肾不太好: the graded figure is the kidney fact; a figure of 60 or more grades no reduced function
        # (KDIGO G1-G2), so a 肾功能不全 told beside it stays
        if any(f.kind == "egfr" and f.status == "active" and float(f.value) < 60 for f in facts):
            broader |= names & {"肾功能不全", "肾衰竭"}
        if stage is not None:
            ckd = [n for n in names if "慢性肾脏病" in self.lexicon.condition_ancestors(n)]
            broader |= names & {"肾功能不全", "肾衰竭"}
            graded = "终末期肾病" if stage.value == "5" else "慢性肾脏病"   # G5 is kidney failure (KDIGO)
            if not ckd and graded in self.lexicon.conditions:
                facts = facts + [Fact("condition", graded, "active", source_message_id=stage.source_message_id,
                                      evidence=stage.evidence)]
        # 我有肾结石，…医生说有结石不能吃: a bare name no row knows, the tail of a condition named in the message, is it
        broader |= {n for n in names if n not in self.lexicon.conditions and
                    any(o != n and o.endswith(n) and o in self.lexicon.conditions for o in names)}
        # 我打胰岛素，早上诺和锐，晚上来得时: a class named beside its own members is those members
        meds = {f.value for f in facts if f.kind == "medication" and f.status == "active"}
        classes = {klass for value in meds for name in
                   ({value} | set(self.lexicon.products[value].components if value in self.lexicon.products else ()))
                   for klass in self.lexicon.classes_of(name) if klass != value}
        named_classes = {value for value in meds if value in self.lexicon.classes} & classes
        # 对磺胺类过敏，…吃复方新诺明起过疹子: an allergy to a class covers its members named beside it
        allergies = {f.value for f in facts if f.kind == "allergy" and f.status == "active"}
        covered = {value for value in allergies if value not in self.lexicon.classes and
                   {klass for name in ({value} | set(self.lexicon.products[value].components
                                                     if value in self.lexicon.products else ()))
                    for klass in self.lexicon.classes_of(name)} & allergies}
        if not broader and not named_classes and not covered:
            return facts
        return [f for f in facts if not (f.status == "active" and (f.kind == "condition" and f.value in broader or
                                                                   f.kind == "medication" and f.value in named_classes or
                                                                   f.kind == "allergy" and f.value in covered))]

    # ---- mentions ------------------------------------------------------------------------------------------
    def _allergy_cue(self, text: str) -> bool:
        """An allergy cue outside a condition's own name: a cue inside one (过敏性鼻炎用的雷诺考特, 过敏性紫癜) tells no
        allergy; 过敏性休克 does."""
        cues = list(ALLERGY_CUE.finditer(text))
        if not cues:
            return False
        named = [(m.start, m.end) for m in self.lexicon.find_mentions(text)
                 if m.kind == "condition" and "过敏" in m.text and "休克" not in m.text]
        return any(not any(s <= c.start() and c.end() <= e for s, e in named) for c in cues)

    def _mentions(self, text: str, allergy_sentence: bool = False) -> list[_Found]:
        found: list[_Found] = []
        allergy_clause = self._allergy_cue(text) or (allergy_sentence and not TAKEN_NOW.search(text) and (
            bool(ALLERGY_SOFT.search(text)) or _only_names(text, [_Found("", "", m.start, m.end)
                                                                  for m in self.lexicon.find_mentions(text)
                                                                  # 打胰岛素 (a name told with its use verb) is taken
                                                                  if not re.match(r"[吃打用服吸喷贴]", m.text)])))
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
                    # a procedure the patient had (放了支架, 换过肾) or falls counted (摔了两跤) assert the condition
                    # and dialysis told at all (每周三次血透): the words that plan it (准备 / 要 / 考虑) are outside the pattern
                    asserted = "asserted" if pattern.pattern.startswith(("(?:装|放", "中过风", "尿毒症(?:前期", "搭(?:过", "(?<!没)(肾|胆囊", "(?:摔|跌)", "换(?:过", "(乳腺|乳房",
                                                                         "(?<!准备)")) else ""
                    found.append(_Found("condition", value, match.start(), match.end(), asserted))
                covered.append((match.start(), match.end()))
        # a condition name inside a colloquial phrase already read is that phrase (有气喘 → 哮喘, whatever else the
        # knowledge calls 气喘); other condition names may overlap a phrase
        phrases = [(f.start, f.end) for f in found if f.kind == "condition"]
        mentions = [m for m in self.lexicon.find_mentions(text) if free(m.start, m.end) or m.kind == "condition"
                    and not any(s <= m.start and m.end <= e for s, e in phrases)]
        # (a typo is looked for only where neither a name nor a colloquial phrase was read: 糖尿病有神经病变 is not 视神经病变)
        mentions += self._fuzzy_conditions(text, mentions, phrases)
        reactions = [(c.start(), c.end()) for c in ALLERGY_CUE.finditer(text)]
        for m in mentions:
            if m.kind == "condition" and any(s < m.end and m.start < e and not (m.start <= s and e <= m.end)
                                             for s, e in reactions):   # (过敏性鼻炎 holds its cue: a condition)
                covered.append((m.start, m.end))   # 吃X会起荨麻疹: the reaction of an allergy, not a condition
                continue
            if m.kind == "condition":
                found.append(_Found("condition", m.canonical, m.start, m.end, m.kind))
            elif allergy_clause and m.kind in ALLERGEN_KINDS and not (
                    # 有过敏史就换成了阿奇霉素: the drug switched to because of an allergy is the one now taken
                    m.kind in DRUG_KINDS and re.search(rf"(?:{SWITCH_VERB.pattern})\s*$", text[max(0, m.start - 4):m.start])
                    and not re.search(r"过敏", text[m.end:])):
                found.append(_Found("allergy", m.canonical, m.start, m.end, m.kind))
            elif m.kind in DRUG_KINDS and not self._names_a_member(text, m, mentions):
                found.append(_Found("medication", m.canonical, m.start, m.end, m.kind))
            covered.append((m.start, m.end))
        bare = FREE_CONDITION_BARE.match(text)
        for name, start, end in [(m.group(2), m.start(2), m.end(2)) for m in FREE_CONDITION.finditer(text)] + \
                ([(bare.group(1), bare.start(1), bare.end(1))] if bare else []):
            if not free(start, end) or FREE_CONDITION_STOP.search(name) or len(name) < 2 or \
                    re.match(r"不是|不|没|无|非", name):   # 不是溃疡 is no condition
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
                    # 对磺按过敏: a two-character allergen name with the same pinyin and one character in common
                    found.append(_Found("allergy", self._short_homophone(name) or name, start, end))
        # a condition inside a free-text span found twice (colloquial + lexicon) is one mention
        unique: dict[tuple[str, str], _Found] = {}
        for f in sorted(found, key=lambda f: f.start):
            unique.setdefault((f.kind, f.value), f)
        return list(unique.values())

    def _short_homophone(self, name: str) -> str | None:
        """The allergen a two-character name not in the knowledge means when exactly one known two-character allergen
        name sounds the same and shares a character with it (磺按 → 磺胺); the typo index starts at three."""
        if len(name) != 2:
            return None
        if self._short_allergens is None:
            from medq.agent.text import pinyin_key

            index: dict[str, set[tuple[str, str]]] = {}
            for known, (kind, canonical) in self.lexicon.names.items():
                if len(known) == 2 and kind in ALLERGEN_KINDS:
                    index.setdefault(pinyin_key(known), set()).add((known, canonical))
            self._short_allergens = index
        from medq.agent.text import pinyin_key

        matches = {canonical for known, canonical in self._short_allergens.get(pinyin_key(name), ())
                   if set(known) & set(name)}
        return next(iter(matches)) if len(matches) == 1 else None

    def _fuzzy_conditions(self, text: str, mentions: list[Mention], phrases: Iterable[tuple[int, int]] = ()
                          ) -> list[Mention]:
        """Typos of condition, class and substance names of ≥ 3 characters (高血亚, 糖尿并, 青梅素: the same pinyin) in
        text no name covers; the lexicon's own typo index covers drugs and products."""
        if self._condition_typos is None:
            from medq.agent.text import FuzzyIndex

            self._condition_typos = FuzzyIndex({name: entry for name, entry in self.lexicon.names.items()
                                                if entry[0] in ("condition", "class", "substance")})
        norm = normalise(text)
        hits = self._condition_typos.scan(norm, [(m.start, m.end) for m in mentions] + list(phrases))
        # 肾功能正常 is one edit from 肾功能异常: a span that says normal is never a typo of a disorder
        return [Mention(text[h.start:h.end], h.start, h.end, h.value[0], h.value[1], fuzzy=True)
                for h in hits if not NORMAL_WORDS.search(text[h.start:h.end])]

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
                question: bool = False, pregnant: bool = False) -> None:
        kind = found.kind
        if "hypothetical" in categories:
            return
        if kind == "allergy":
            if question and re.match(r"[^，,。？?]{0,4}?(?:会不会|是否会|会[^，,。？?]{1,8}(?:吗|么|嘛))", text[found.end:]):
                return   # 吃阿莫西林会出皮疹吗？: a reaction asked about, no allergy told
            # 不是磺胺过敏 / 我不是对布洛芬过敏: the allergy is denied (不是A，是B: the correction keeps B)
            if "negated" in categories or re.search(r"不是\s*(?:对)?\s*$", text[:found.start]):
                add("allergy", found.value, "denied", evidence)
            elif "uncertain" not in categories:
                add("allergy", found.value, "active", evidence)
        elif kind == "medication":
            if FORESEEN_SWITCH.search(text[:found.start]):
                return   # 可能把A换成B: B is not taken yet
            if DOSE_CHANGED.match(text, found.end) and not question and \
                    not ({"negated", "stopped", "hypothetical", "uncertain"} & set(categories)):
                add("medication", found.value, "active", evidence)   # 泼尼松现在减到每天10毫克了: taken at a new dose
                return
            if ADVISED_LESS.search(text[:found.start]):
                return   # 医生让我少吃止痛药: advice about a drug, not one taken
            if SUBLINGUAL.search(text[:found.start]) and not question and "negated" not in categories:
                add("medication", found.value, "active", evidence)   # 胸闷时含硝酸甘油: taken under the tongue
                return
            purpose = PURPOSE_AFTER.match(text[found.end:])
            if purpose and not question and not pregnant and not ({"negated", "stopped", "uncertain"} & set(categories)):
                # 我在吃缬沙坦降压: what the drug is taken for is the writer's condition (in a pregnancy the kind of
                # hypertension is not said, so nothing is inferred there)
                add("condition", PURPOSE_CONDITIONS[purpose.group(1)], "active", evidence)
            # 吃了几天左氧就好了: a course taken until the illness was over is no longer taken
            if not question and re.search(r"(?:吃|用|打|输|服)了?(?:[0-9一二两三四五六七八九十几]+|半)\s*(?:天|周|个星期|星期|礼拜|个礼拜|次|针|瓶)(?:的)?\s*$",
                                          text[:found.start]) and \
                    re.match(r"\s*(?:就|后|以后|之后|也)?(?:好了|治好了|好利索了|痊愈了|没事了|退了|消了)", text[found.end:]) and \
                    not ({"negated", "hypothetical"} & set(categories)):
                add("medication", found.value, "stopped", evidence)
                return
            if question and re.match(r"[^，,。]{0,2}?(?:是不是要|是不是得|要不要|需不需要|是否需要|是否要|得不得)", text[found.end:]):
                return   # 二甲双胍是不是要一直吃？: asked about, not said to be taken
            if question and re.search(r"(?:是不是|要不要|需不需要|是否|用不用|得不得)(?:要|得|需要)?(?:一直|长期|终身|终生|马上|赶紧)?"
                                      r"(?:吃|用|服|打)(?:点|些)?\s*$", text[:found.start]):
                return   # (如果以后得了房颤，) 是不是要一直吃抗凝药？: a medicine asked about, not taken
            if "negated" in categories and categories.get("negated", 99) <= categories.get("taking", 99):
                add("medication", found.value, "denied", evidence)
            elif "stopped" in categories and not re.match(r"[^，,。]{0,3}?(?:还在|仍在|仍然在|依然在|一直在|继续|还)(?:吃|用|服|打)",
                                                            text[found.end:]):
                add("medication", found.value, "stopped", evidence)
            elif "stopped" in categories:
                add("medication", found.value, "active", evidence)   # 之前吃的X还在吃
            elif "taking" in categories and not ("uncertain" in categories and
                                                 categories["uncertain"] <= categories["taking"]):
                add("medication", found.value, "active", evidence)
            elif ("taking_weak" in categories or "prescribed" in categories) and "uncertain" not in categories \
                    and not question:
                add("medication", found.value, "active", evidence)
            elif not categories and not question and (
                    re.search(r"(?:现在|目前|如今|现在换)(?:是|用的是|吃的是|打的是|改成)$", text[:found.start]) or
                    # 用胰岛素泵，泵里是赖脯胰岛素: what the pump or pen holds is taken
                    re.search(r"(?:泵里|泵里面|笔里|笔芯|针里|里面|里头)(?:装的|用的|放的|打的)?是$", text[:found.start]) or
                    # 降糖的是X / 我的药：1.X 2.Y: a purpose or a heading names what is taken
                    re.search(r"(?:降压|降糖|降脂|降血压|降血糖|降血脂|降尿酸|抗凝|止痛)(?:药)?(?:的)?(?:是|用的是|吃的是|打的是)$",
                              text[:found.start]) or
                    re.search(r"(?:我的药|用药|在用的药|在吃的药|吃的药|长期用药|常用药|用药清单)(?:有|是|包括)?\s*[:：]",
                              text[:found.start]) or
                    # 还有布洛芬止痛 / 另外X助眠: a medicine told with what it is used for is one taken
                    re.fullmatch(r"\s*(?:还有|另外|另外还有|再加上|加上|以及|也有|偶尔|有时|有时候|疼的时候|睡不着的时候)(?:用|吃|服)?\s*",
                                 text[:found.start]) and PURPOSE_USE.match(text[found.end:])):
                add("medication", found.value, "active", evidence)   # 诺和龙早就不吃了，现在是诺和灵30R
        elif kind == "condition":
            if "uncertain" in categories:
                return   # 我是不是得了糖尿病 / 我有高血压吗
            habit = SYMPTOM_CONDITIONS.get(found.value)
            if habit is not None and not re.search(habit, text[max(0, found.start - 6):found.end + 6]):
                return   # 最近失眠 is a symptom; 老失眠 / 长期失眠 the condition
            if "negated" in categories or re.search(r"(?:不|没|从不|从来不|已经不|早就不|不算|算不上|谈不上)$", text[:found.start]):
                add("condition", found.value, "denied", evidence)   # 不吸烟 / 没贫血
            elif "healed" in categories:
                add("condition", found.value, "stopped", evidence)
            elif self._generic_question(text, found) or GROUP_PRONE.search(text[:found.start]):
                return   # (医生说老年人容易低血糖: what a group is prone to, not the writer's condition)
            elif "assert" in categories or found.lexicon_kind == "asserted" or found.value.endswith("术后") or \
                    found.start == 0 or re.search(r"我|本人|自己|^\s*(?:就是|只是|主要是|但是|不过|还有|另外|只有)", text[:found.start]) or \
                    re.fullmatch(r"\s*(?:我家|俺家|我的)?(?:孩子|宝宝|儿子|女儿|闺女|娃|小孩)(?:的)?\s*", text[:found.start]) or \
                    re.fullmatch(r"\s*(?:脸|手|脚|腿|身|头|背|胳膊|腰|嘴|眼睛?|耳朵?|鼻子?|皮肤|屁股|脖子)(?:上|部|里)?\s*",
                                 text[:found.start]) or \
                    re.search(r"(?:说|讲|诊断|确诊|查出来|看了)(?:的)?(?:我)?(?:只是|就是|只不过是|不过是)(?:个|一个)?(?:普通的?|单纯的?)?$",
                              text[:found.start]) or \
                    re.search(r"(?:治|治疗|因为|由于|因|针对|控制|(?<![A-Za-z])for\s*)(?:我的|我|my\s*)?$", text[:found.start]) and not \
                    re.search(r"预防|防止|以免|怕|担心|会不会|能不能|能否|可以", text[:found.start]) and not \
                    re.match(r"血|尿酸|胆固醇|甘油三酯|心率|心跳", text[found.start:]) or \
                    PAST_EVENT.fullmatch(text[:found.start]) or SEX_AGE_FIRST.fullmatch(text[:found.start]) or \
                    RECENTLY.fullmatch(text[:found.start]) or SEASONAL.fullmatch(text[:found.start]) or \
                    SETTING.fullmatch(text[:found.start]) or \
                    self._listed_after_condition(text[:found.start]) or \
                    re.fullmatch(r"[\s0-9一二三四五期第级度型ab（）()、男女岁性/]*", text[:found.start] + text[found.end:]):
                add("condition", found.value, "active", evidence)

    def _listed_after_condition(self, before: str) -> bool:
        """痛风加肾结石 / 高血压和冠心病: a condition joined to a condition that opens the clause shares its reading."""
        joined = re.fullmatch(r"\s*([\u4e00-\u9fffA-Za-z]{2,10}?)(?:加|和|跟|及|以及|、|合并|伴|伴有)", before)
        return bool(joined) and any(m.kind == "condition" and m.start == 0 and m.end == len(joined.group(1))
                                    for m in self.lexicon.find_mentions(joined.group(1)))

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
            # 平时吃奥美拉唑，酒已经戒了: the stop names its own object (a habit), not the medicine before it
            if kind == "medication" and HABIT_STOPPED.search(text):
                continue
            # 别嘌醇上个月起皮疹就停了: the stop is about the drug named here (read as an allergy), not the list before
            if any(f.kind == kind or kind == "medication" and f.kind == "allergy" for f in found):
                continue
            if category in reach_back_categories(text, kind):
                for f in earlier:
                    if f.kind == kind:
                        add(kind, f.value, status, clause.text + "，" + prev_evidence)

    def _pregnancy(self, text: str, targets: list[Target], evidence: str, add, pregnant_before: bool = False) -> None:
        if BIRTH.search(text) and not any("hypothetical" in t.categories for t in targets):
            if pregnant_before:   # the birth ends it; without a pregnancy said before, 产后 states no pregnancy fact
                add("pregnancy", "false", "active", evidence)
            return
        if NOT_PREGNANT.search(text):
            add("pregnancy", "false", "active", evidence)
            return
        for target in targets:
            categories = target.categories
            if "hypothetical" in categories or "uncertain" in categories:
                continue
            if re.search(r"后遗症|留下的", text[target.end:]):
                continue   # 妊娠期高血压后遗症: what a past pregnancy left, not a pregnancy now
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
        match = WEEKS.search(text) or SINCE_PERIOD.search(text)
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
                # 喂奶到一岁就断了 / 母乳喂到八个月停了: the feeding told with its end
                if nursing and re.match(r"(?:喂)?(?:到|了|满)[^，,。；;！!？?]{0,8}?(?:就|已经|才)?(?:断了|停了|不喂了|没喂了|结束了|断掉了)",
                                        text[target.end:]):
                    nursing = False
            add("lactation", "true" if nursing else "false", "active", evidence)
            return

    def _scalars(self, text: str, evidence: str, add, child: bool = False, following: str = "",
                 evidence_before: str = "", kidney_known: bool = False) -> None:
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
        elif child and INFANT_AGE.search(norm) and not DURATION_BEFORE.search(norm[:INFANT_AGE.search(norm).start()]) \
                and not AGE.search(preceding.lower()):
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
                add("sex", "male" if elder.group(1) or elder.group(3) or elder.group(5) or elder.group(7) or elder.group(9)
                    else "female",
                    "active", evidence)
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
            if unit in ("公斤", "千克", "斤") and norm[match.end():match.end() + 1] == "半" \
                    and norm[match.end() + 1:match.end() + 2] not in ("年", "个", "天", "月", "夜"):
                amount = float(amount) + 0.5   # 8公斤半 is 8.5 kg, 九斤半 is 9.5 斤
            value = float(amount) / (2 if unit == "斤" else 1)
            # 13公斤多一点，大概13.5: a closer figure given next in the sentence
            end = min([i for i in (whole.find(c, match.end()) for c in "。！？!?\n") if i >= 0] or [len(whole)])
            closer = WEIGHT_CLOSER.search(whole, match.end(), end)
            if closer and abs(float(closer.group(1)) / (2 if (closer.group(2) or unit) == "斤" else 1) - value) <= 0.2 * value:
                value = float(closer.group(1)) / (2 if (closer.group(2) or unit) == "斤" else 1)
            # 60公斤，哦不对，最近瘦到55了: the figure right after a correction mark replaces it
            fixed = WEIGHT_FIX.search(whole, match.end(), end)
            if fixed:
                value = float(fixed.group(1)) / (2 if (fixed.group(2) or unit) == "斤" else 1)
            if 2 <= value <= 300:
                add("weight", _number_text(value), "active", evidence)
                break
        match = EGFR.search(norm)
        if match is None:   # 是eGFR，35: the figure in the clause after a name that ends its clause
            match = next((m for m in EGFR.finditer(whole) if m.start() < len(norm) <= m.start(1)), None)
        figure = (float(match.group(1)) if match.group(1)[0].isdigit() else float(chinese_number(match.group(1)) or 0)) \
            if match else 0.0
        if match and 0 < figure < 200:
            value = _corrected(whole, match) or match.group(1)
            add("egfr", _number_text(float(value) if value[0].isdigit() else float(chinese_number(value) or 0)),
                "active", evidence)
        match = CKD_STAGE.search(norm)
        if match and (match.group(2) or match.group(0).rstrip().endswith("期") or match.group(0).startswith("ckd")):
            stage = match.group(1) or match.group(2)
            stage = ROMAN.get(stage, stage)
            add("ckd_stage", str(chinese_number(stage)), "active", evidence)
        elif (kidney_known or KIDNEY_BEFORE.search(preceding.lower())) and STAGE_ONLY.search(norm) and \
                not re.search(r"癌|瘤|淋巴|高血压|压疮|褥疮|分期", norm):
            # 慢性肾病，eGFR是38，医生说是3b期: a bare stage in a message that spoke of the kidneys before it
            stage = STAGE_ONLY.search(norm).group(1)   # type: ignore[union-attr]
            add("ckd_stage", str(chinese_number(stage)), "active", evidence)
        elif STAGE_FIVE.search(norm) and not re.search(r"(不是|没有|没|不用|不需要|避免|以免|防止|预防|会不会|是否)[\u4e00-\u9fff]{0,3}"
                                                        r"(?:尿毒症|透析|洗肾)", norm):
            add("ckd_stage", "5", "active", evidence)   # 尿毒症 / 透析: CKD G5(D)
        match = OCCUPATION.search(text) or re.fullmatch(rf"\s*(?:职业)?[:：]?\s*({OCCUPATIONS})\s*", text)
        if match and match.re is not OCCUPATION and not evidence_before.strip() and \
                re.fullmatch(r"\s*(?:医生|大夫|护士|老师)\s*", text) and re.match(r"\s*[，,！!：:]\s*\S", following):
            match = None   # 医生，想问问…: the one addressed, not the writer's work
        if match:
            # 中学老师 / 小学教师: a school teacher is 教师, the case format's name
            # 我当了三十年医生: the years said before the occupation are not part of it
            value = re.sub(r"^了?(?:[0-9一二三四五六七八九十几多]+年)?(?:的)?", "", match.group(1)) or match.group(1)
            value = re.sub(r"^(?:中学|小学|初中|高中|大学|中小学)(?:老师|教师)$", "教师", value)
            # 急诊护士 / ICU护士 / 儿科医生: the ward is where the nurse works, the occupation is 护士
            value = re.sub(r"^(?:急诊|急诊科|ICU|icu|重症|儿科|内科|外科|妇产科|产科|手术室|病房|门诊|社区|夜班)(护士|医生)$", r"\1", value)
            add("occupation", value, "active", evidence)
        else:
            folk = _folk_occupation(text)
            # the writer's own clauses before this one (a relative's work before it, 我老公跑长途，我在家种地, is not theirs)
            pieces = re.split(r"[，,。；;！!？?\n]", evidence_before)
            last_other = max((i for i, piece in enumerate(pieces) if re.search(RELATIVES, piece)), default=-1)
            own_before = "，".join(pieces[last_other + 1:])
            named = OCCUPATION.search(own_before)
            prior = named.group(1) if named else next(
                (found for piece in pieces[last_other + 1:] if (found := _folk_occupation(piece))), None)
            if folk and not prior:
                add("occupation", folk, "active", evidence)
            elif folk and prior and folk != prior and _occupation_kinds(folk) - _occupation_kinds(prior):
                # 我是开塔吊的，天天高空作业: the work told two ways, each of which the rules read (driving, heights)
                add("occupation", f"{prior}（{folk}）", "active", evidence)

    def _unnamed(self, text: str, message: str, clauses: list[_Clause], context: _Context, mine: list[Fact],
                 add) -> None:
        """What a message says of something remembered without naming it: a bare age as the whole first clause (67了),
        a new kidney value or stage with a change verb (掉到41了 / 进展到3期了), a stop (不过上周已经停了) or an allergy
        denied (其实不过敏) when exactly one such medicine or allergy is remembered and the message names none."""
        own = [c for c in clauses if c.self_subject]
        # (an age remembered: a bare number is more likely a temperature or a count than a new age)
        if clauses and clauses[0].self_subject and not context.age and not any(f.kind == "age" for f in mine):
            match = AGE_ONLY.match(clauses[0].text)
            number = chinese_number(match.group(1)) if match else None
            if number is not None and 0 < number < 125:
                add("age", str(number), "active", message[clauses[0].start:clauses[0].start + len(clauses[0].text)])
        # 我是个老头子，75了 / 俺一个女的，四十九了: a bare age with 了 in the clause right after the writer introduced themself
        for before, clause in zip(clauses, clauses[1:]):
            if context.age or any(f.kind == "age" for f in mine) or not (before.self_subject and clause.self_subject):
                break
            match = AGE_ONLY.match(clause.text)
            number = chinese_number(match.group(1)) if match else None
            # 我是个老头子，75了 / 我是退休教师，七十三: after the writer's work a bare adult figure is the age
            told = match is not None and bool(re.search(r"[了岁]\s*[。！!]?\s*$", clause.text))
            if number is not None and (SELF_INTRO.match(before.text) and told or
                                       OCCUPATION.search(before.text) and 18 <= number < 110) and 0 < number < 125:
                add("age", str(number), "active", message[clause.start:clause.start + len(clause.text)])
                break
        # (a baby asked about) 7个月: a message that is only an age in months answers how old the baby is
        match = INFANT_AGE_ONLY.match(text)
        # (an adult's medicines or conditions remembered: 3个月 more likely answers how long, not how old)
        if match and not context.age and not context.pregnant and not PREGNANCY_MENTION.search(text) and \
                not (context.medications or context.conditions or context.allergies):
            number = chinese_number(match.group(1))
            if number is not None and 0 < number < 36:
                add("age", str(number // 12), "active", message.strip())
        for clause in own:
            match = CHANGE_TO.search(clause.text.lower())
            if match is None or MEASURE_WORD.search(clause.text) or clause.question:
                continue
            evidence = message[clause.start:clause.start + len(clause.text)]
            value = float(match.group(1))
            if match.group(3):   # 进展到3期了
                if (context.kidney or KIDNEY_BEFORE.search(text.lower())) and 1 <= value <= 5 and \
                        not any(f.kind == "ckd_stage" for f in mine):
                    add("ckd_stage", _number_text(value), "active", evidence)
            elif context.egfr and not any(f.kind == "egfr" for f in mine) and 0 < value < 200:
                add("egfr", _number_text(value), "active", evidence)
        # (医生说我有糖尿病前期) 后来复查说不是: a re-examination that rules out, naming nothing, the one condition remembered
        if len(context.conditions) == 1 and not any(f.kind == "condition" and f.status == "active" for f in mine):
            for clause in own:
                if RULED_OUT.search(clause.text) and not clause.question and not self._mentions(clause.text):
                    add("condition", context.conditions[0], "denied",
                        message[clause.start:clause.start + len(clause.text)])
                    break
        names = {f.kind for f in mine}
        if "medication" not in names and context.medications:
            for clause in own:
                hit = ALL_STOPPED.search(clause.text)
                if hit and not clause.question and STOP_PREFIX.fullmatch(clause.text[:hit.start()]) and \
                        not self.lexicon.find_mentions(clause.text, DRUG_KINDS):
                    for value in context.medications:
                        add("medication", value, "stopped", message[clause.start:clause.start + len(clause.text)])
                    names.add("medication")
                    break
        # 现在不吃了，改用B: a drug named only as what replaces the remembered one leaves the stop unnamed
        switched_to = {f.value for f in mine if f.kind == "medication" and f.status == "active" and
                       SWITCH_VERB.search(f.evidence)}
        for kind, pattern in (("medication", UNNAMED_STOP), ("allergy", ALLERGY_DENIAL)):
            value = context.only.get(kind)
            if value is None or kind in names and not (
                    kind == "medication" and switched_to and value not in switched_to and
                    all(f.value in switched_to for f in mine if f.kind == "medication")):
                continue
            for clause in own:
                hit = pattern.search(clause.text)
                if clause.question or hit is None or \
                        (kind == "medication" and not STOP_PREFIX.fullmatch(clause.text[:hit.start()]) and
                         not COURSE_DONE.search(clause.text)) or \
                        (kind == "allergy" and ALLERGY_DENIAL_SCOPE.search(clause.text)) or \
                        re.search(r"如果|假如|要是|万一|打算|准备(?:停|不吃)|需不需要|要不要|能不能|可不可以", clause.text):
                    continue
                if self.lexicon.find_mentions(clause.text, ALLERGEN_KINDS if kind == "allergy" else DRUG_KINDS):
                    continue
                add(kind, value, "stopped" if kind == "medication" else "denied",
                    message[clause.start:clause.start + len(clause.text)])
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

    def _corrections(self, text: str, message: str, add, context: "_Context | None" = None) -> None:
        """不是A，是B / A，哦不是，是B / (是)B，不是A: A becomes denied (retracted), B takes A's place."""
        mentions = self._grouped(text)
        handled: set[tuple[str, str]] = set()
        for a, b in zip(mentions, mentions[1:]):
            if a.kind != b.kind or a.value == b.value:
                continue   # (A，不对，A是以前的: the name repeated is the subject of what follows)
            # 优思明避孕，哦不对，是妈富隆: what the drug is for, said before the mark, is no part of it
            between = re.sub(r"^(过敏|了|(?:来|用来|用于)?(?:避孕|降压|降血压|降糖|降血糖|降脂|降血脂|止痛|护胃|助眠|"
                             r"控制血压|控制血糖)(?:的|用的)?)", "", text[a.end:b.start])
            # 吃A起过皮疹，哦不对，是B: the reaction told after the first allergen is no part of the correction
            reaction = re.match(r"[^，,。；;！!]*", between)
            if a.kind == "allergy" and reaction.group(0) and ALLERGY_CUE.search(reaction.group(0)) and \
                    not re.search(r"不是|不对|错", reaction.group(0)):
                between = between[reaction.end():]
            between = re.sub(r"(不对|不是|错了)(?:[，,\s]*\1)+", r"\1", between)
            before = text[max(0, a.start - 4):a.start]
            # 刚才说的地高辛我记错了，我吃的是胺碘酮: the speaker may name themself before the mark
            mark = CORRECTION_MARK.match(re.sub(r"^(?:我|俺)(?=[^，,]{0,2}错)", "", between.lstrip("，,。…! ！")))
            span = _sentence_around(message, min(a.start, b.start), max(a.end, b.end))
            if a.kind == "medication" and FORMER_THEN_NOW.fullmatch(between):
                add(a.kind, a.value, "stopped", span)   # A是以前的，现在是B: A was taken before, B is taken now
                add(b.kind, b.value, "active", span)
                handled |= {(a.kind, a.value), (b.kind, b.value)}
                continue
            if re.search(r"不是\s*(对)?$", before) and CORRECTED_VALUE.match(between):
                corrected, retracted = b, a            # 不是A，是B
            elif re.fullmatch(r"\s*[，,]?\s*(而|并)?不是\s*(对)?\s*", between):
                corrected, retracted = a, b            # (是)A，不是B
            elif mark and CORRECTED_TAIL.fullmatch(_past_aside(FURTHER_CORRECTION.sub("", re.sub(
                    r"^(?:我|俺)(?=[^，,]{0,2}错)", "", between.lstrip("，,。…! ！"))[mark.end():]))):
                corrected, retracted = b, a            # A，哦不是，是B
            else:
                continue
            span = _sentence_around(message, min(a.start, b.start), max(a.end, b.end))
            kind = retracted.kind
            # (对头孢过敏 remembered) 应该不是头孢，是红霉素: what replaces a remembered allergy is the allergy
            if kind == "medication" and context is not None and retracted.value in context.allergies and \
                    retracted.value not in context.medications and not ALLERGY_CUE.search(text):
                kind = "allergy"
            add(kind, retracted.value, "denied", span)
            add(kind, corrected.value, "active", span)
            handled |= {(a.kind, a.value), (b.kind, b.value)}
        # 怀孕20周，哦不对，是30周 / (later message) 说错了，是30周: the corrected gestational age
        # the first correction phrase (打错，是18周不是8周: 不是 after the new value is no second mark)
        mark = min((m for m in (CORRECTION_MARK.search(text), UNNAMED_CORRECTION.search(text)) if m),
                   key=lambda m: m.start(), default=None)
        if mark:
            after = text[mark.end():]   # 哦不是，我数错了，是26周: past every further correction phrase
            while (more := re.match(r"[，,。！!…\s]*(?:我|俺)?(?:又)?(?:数|记|说|讲|看|算|搞|弄|写|打)错了?", after)):
                after = after[more.end():]
            pattern = rf"[，,。！!…\s]*(?:应该|其实)?(?:是)?(?:孕|怀孕)?\s*({NUM})(?:\+[0-9])?\s*(?:周|(?<=孕)(?:个)?月)"
            later = re.match(pattern, after) or re.match(pattern, _past_aside(after, r"应该|其实|实际|是"))
            if later:
                trimester = self._trimester("孕" + later.group(0)[later.start(1):])
                if trimester is not None:
                    add("trimester", str(trimester), "active", _sentence_around(message, mark.start(), mark.end()))
                    # 我28周了，哦说错了，是18周: weeks corrected as weeks are a pregnancy's
                    if re.search(rf"(?:^|我|孕|怀孕|已经|现在)\s*(?:{NUM})\s*周", text[:mark.start()]) and \
                            not NOT_PREGNANT.search(text) and not re.search(r"宝宝|孩子|婴儿|出生|生下|早产", text):
                        add("pregnancy", "true", "active", _sentence_around(message, mark.start(), mark.end()))
        if mark and AGE.search(text[:mark.start()]) or mark and AGE_TALK.search(text[:mark.start()]):
            age_after = r"[，,。！!…\s]*(?:应该|其实|实际)?(?:是)?\s*([0-9]{1,3})\s*(?:岁|周岁)?(?:[，,。！!\s了]|$)"
            # 哦不，上个月过了生日，76了: one short aside clause may come between the mark and the figure
            later_age = re.match(age_after, text[mark.end():]) or re.match(age_after, _past_aside(text[mark.end():]))
            # 我56，不是65: a figure right after 不是 is the one denied; the one said first stands
            denied = mark.group(0).endswith("不是") and re.match(r"\s*[0-9]", text[mark.end():])
            if later_age and 0 < int(later_age.group(1)) < 125 and not denied:
                add("age", later_age.group(1), "active", _sentence_around(message, mark.start(), mark.end()))
        # (a later message) 不对，是36，打错了: a bare corrected number is the one figure remembered (岁/公斤 say which)
        fix = BARE_FIX.match(text)
        if fix and context is not None and not AGE.search(text[:fix.start(1)]) and not WEIGHT.search(text[:fix.start(1)]):
            unit = fix.group(2)
            kind = "age" if unit == "岁" else "weight" if unit else \
                (context.figures[0] if len(context.figures) == 1 else None)
            number = float(fix.group(1)) / (2 if unit == "斤" else 1)
            # (看错了，化验单上是52，不是25: the one eGFR remembered, read again)
            if kind == "age" and 0 < number < 125 or kind == "weight" and 2 <= number <= 300 or \
                    kind == "egfr" and 0 < number < 200:
                add(kind, _number_text(number), "active", _sentence_around(message, fix.start(), fix.end()))
        # 氨氯地平是我爸吃的: the drug is someone else's; (a correction) 高血压是我老婆: so is the condition
        for m in mentions:
            if m.kind == "medication" and OTHERS_DRUG.match(text[m.end:m.end + 12]) or \
                    m.kind == "condition" and OTHERS_CONDITION.match(text[m.end:m.end + 12]):
                add(m.kind, m.value, "denied", _sentence_around(message, m.start, m.end))
            # 原来是我弟弟对青霉素过敏，我自己没有 / 青霉素那个，其实是我弟弟过敏: the allergy said is a relative's, the
            # writer's is taken back
            elif m.kind == "allergy" and (OTHERS_ALLERGY.search(text[max(0, m.start - 12):m.start]) or
                                          ALLERGY_OF_RELATIVE.match(text, m.end)):
                add(m.kind, m.value, "denied", _sentence_around(message, m.start, m.end))
            # 是我女儿有哮喘，我自己没有: the condition is named as a relative's and the writer says they have none
            elif m.kind == "condition" and OTHERS_HAVE.search(text[max(0, m.start - 14):m.start]) and \
                    WRITER_NONE.match(text[m.end:m.end + 12]):
                add(m.kind, m.value, "denied", _sentence_around(message, m.start, m.end))
        # 刚才说错了，是头孢过敏: nothing retracted is named here; what was said before of the same family is
        for mark in UNNAMED_CORRECTION.finditer(text):
            sentence_start = max(text.rfind(c, 0, mark.start()) for c in "。！!？?\n") + 1
            if any(sentence_start <= m.start < mark.start() for m in mentions):
                continue   # A，说错了，是B: handled above
            new = next((m for m in mentions if 0 <= m.start - mark.end() <= 10 and m.kind != "condition"), None)
            # 记错了，A没事，是对B过敏: the name cleared first is the one taken back, the next one is the new value
            if new is not None and re.match(r"\s*(?:其实|倒是|是)?(?:没事|没问题|没关系|不过敏|可以用|能用)", text[new.end:]):
                cleared = new
                new = next((m for m in mentions if m.kind == cleared.kind and 0 < m.start - cleared.end <= 12), None)
                if new is None:
                    continue
                add(cleared.kind, cleared.value, "denied", _sentence_around(message, mark.start(), new.end))
                handled.add((cleared.kind, cleared.value))
            if new is None or (new.kind, new.value) in handled or re.search(r"不是\s*(对)?$", text[:new.start]) or \
                    new.kind == "allergy" and OTHERS_ALLERGY.search(text[max(0, new.start - 12):new.start]):
                continue
            retracts = {name for klass in self._family(new.value) for name in self._family_members(klass)}
            # 啊不对，是B (one medicine or allergy remembered, of another family): B takes that one's place
            remembered = context.only.get(new.kind) if context is not None else None
            if remembered and remembered not in retracts and mark.start() <= 3:
                retracts.add(remembered)
            add(new.kind, new.value, "active", _sentence_around(message, mark.start(), new.end),
                retracts=retracts)

    def _switches(self, text: str, message: str, add) -> None:
        """换成了B: B is taken now; the old drug ends (named: 把A换成B; otherwise any drug of B's classes or of the
        group named, 降压药换成了B)."""
        meds = [m for m in self._grouped(text) if m.kind == "medication"]
        for verb in SWITCH_VERB.finditer(text):
            new = next((m for m in meds if m.end > verb.end() and m.start >= verb.start() and
                        m.start - verb.end() <= 4), None)
            # 换成了A，不对，是B: the drug switched to is the corrected one (A is retracted by the correction)
            if new is not None and SWITCH_CORRECTED.match(text, new.end):
                new = next((m for m in meds if m.start >= new.end and m.start - new.end <= 12 and m.value != new.value),
                           new)
            if new is None or re.search(r"(能不能|可不可以|可以|要不要|能否|是否|想|打算|准备|会不会)\s*$", text[:verb.start()]):
                continue
            # 要是到了孕中期，可能把A换成B: a switch the sentence only foresees changes nothing yet
            sentence_start = max(text.rfind(c, 0, verb.start()) for c in "。！!？?\n") + 1
            if re.search(r"如果|假如|要是|万一|可能|到时候|以后|将来|考虑|打算|准备|(?:下周|下个月|明天|后天|过几天)(?:开始|起)|从(?:下周|明天|下个月)", text[sentence_start:verb.start()]):
                continue
            # the old drug right before the verb (把A换成B / A换成了B), with nothing but who and when between
            old = [m for m in meds if m.end <= verb.start() and verb.start() - m.end <= 6
                   and SWITCH_BETWEEN.fullmatch(text[m.end:verb.start()])]
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
            # a product remembered by its own name (诺和灵30R) ends with its ingredients
            ended |= {name for name, product in self.lexicon.products.items()
                      if product.components and set(product.components) <= ended}
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
    if marker.group(0) == "不是" and re.match(rf"\s*(?:{NUM})", norm[marker.end():]):
        return None   # 我是56岁，不是65: the value said first is the right one, the one after 不是 is denied
    numbers = CORRECTED_NUMBER.findall(norm[marker.end():end])
    return numbers[-1] if numbers else None
