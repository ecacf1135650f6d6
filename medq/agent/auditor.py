"""The deterministic contraindication auditor: every drug a draft recommends, checked against the patient's memory.

No model, no randomness, no network: the same draft, profile and question always give the same findings, and a
finding names the drug, the rule kind, the rules.csv row, the patient fact and the message that fact came from, and
carries a CDS-Hooks-style card (summary ≤ 140 characters, indicator info/warning/critical, detail, source).

What counts as a recommendation: every drug, product (checked ingredient by ingredient) or drug class the knowledge
base finds in the draft (exactly, or through a typo), unless a warning scope covers it (medq/agent/scope.py, the
table medq/agent/context.csv: forward/backward triggers across clauses, terminators, anaphora, pseudo-negations).
Everything else is treated as recommended: the auditor fails closed. Behaviours and foods (饮酒, 驾驶) named outside
a warning scope are what the draft endorses.

The rule kinds are a registry (conf/agent/auditor/default.yaml, `rules:` by `_target_`, run in that order): allergy
and cross-reactivity, condition, pregnancy (trimester), lactation, age, elderly, renal (eGFR/CKD stage), dose
(absolute and mg/kg, ml through a product's concentration), interaction with current medicines, combination of two
recommended drugs, behaviour/food the draft endorses, duplicate ingredient, and the drug named in the question.

The profile's names are resolved first (synonyms, typos; 慢性肾脏病3期 → condition 慢性肾脏病 + CKD stage 3); what
does not resolve is kept as stated and listed in `AuditResult.unresolved`, never dropped.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Sequence

from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Ingredient, Lexicon, Mention
from medq.agent.rules.base import AuditContext, Card, Finding, NormalisedProfile, Recommended, Severity
from medq.agent.rules.duplicate import ANAPHOR_CONTENT
from medq.agent.rules.renal import apply_kidney_failure
from medq.agent.rules.dose import CONCENTRATION, NORMAL_KIDNEY, PER_VOLUME_CONTENT, RAISED_AMOUNT, VOLUME_HOLDS, number, read_dose, stated_concentration, unit_strength
from medq.agent.text import CLAUSE_MARKS as TEXT_CLAUSE_MARKS
from medq.agent.text import SALT_WORDS, SENTENCE_MARKS, normalise, simplified_fields, span_end, to_simplified
from medq.agent.scope import Span, load_table, read_scope

__all__ = ["AuditResult", "Card", "ContraindicationAuditor", "Finding", "Recommendation", "Severity",
           "default_rules"]

SENTENCE_END = re.compile(r"[。；;！!？?\n]")
# between a drug and a class it is said to be (恩替卡韦是一线抗乙肝病毒药 / 瑞舒伐他汀（他汀类）属于…): a description
DESCRIBED_AS = re.compile(r"\s*(?:[（(][^（()）]*[）)])?\s*(?:是|为|属于|属|作为)[^，,。；;！!？?\n]{0,8}$")
# a medicine the question says the patient takes: a verb of taking right before it, not asked about (能吃…吗), not a
# relative's (我婆婆吃的…)
# (已经在喝含右美沙芬的糖浆: the ingredient of what they drink is theirs too; 输了两天X: the days it was given, round 15)
# (刚输完头孢哌酮: an infusion just finished is still in the body, round 18)
TAKING = re.compile(r"(?:在吃|在用|在服|在喝|服用|输完|打完|挂完|吃|用|服|输|打|喝)\s*(?:了|的|着|过)?\s*(?:是)?\s*"
                    r"(?:[一二两三四五六七八九十\d半]+\s*(?:片|粒|包|袋|支|瓶|盒|次|顿|天|周)\s*)?(?:含有|含)?$")
TAKEN = re.compile(r"第[一二三四五六七八九十\d]+天|[一二三四五六七八九十\d]+天了|期间|以后|之后|后")
# 医生用劳拉西泮，不用安定 / 从没吃过X / 没在吃X: a verb of taking the question negates names no current medicine
NOT_TAKING = re.compile(r"(?:不|没|没有|未|从不|从没|从来没|从未|不再|别|不想|不愿)\s*(?:在)?\s*"
                        r"(?:吃|用|服|服用|输|打|喝)\s*(?:了|的|着|过)?\s*$")
# (能不能再吃一片X: asking for one more is asking too, round 18)
ASKING = re.compile(r"(?:能|可以|可不可以|能不能|想|要不要|该不该|准备|打算)\s*(?:再|还|另外)?\s*(?:吃|用|服|服用|输|打)?\s*"
                    r"(?:[一二两三四五六七八九十\d半]\s*(?:片|粒|包|袋|支|颗))?\s*$")
RELATIVE = re.compile(r"妈|爸|婆婆|公公|老公|老婆|丈夫|妻子|爷爷|奶奶|外婆|姥姥|外公|姥爷|朋友|同事|邻居|病友|别人|哥|姐|弟|妹|儿子|女儿")
HAS = re.compile(r"(?:我有|有|患有|患|得了|得过|我是|是)\s*$")
VOLUME_FIRST = re.compile(r"(\d+(?:\.\d+)?)\s*(ml|毫升|mL)\s*[:：]\s*(\d+(?:\.\d+)?)\s*(mg|毫克|g|克)")
# 晚上应酬能喝点吗？—少量喝点没事: a question about drinking alcohol (酒 named, or a drinking occasion with 喝) answered
# with a drink verb and an amount and no object: the elided object is the question's alcohol (round 19)
ASKS_DRINKING = re.compile(r"酒|(?:应酬|酒局|酒席|聚餐|聚会|婚礼|婚宴|年夜饭|饭局|年会)[^。？?！!]{0,10}喝")
BARE_DRINK = re.compile(r"((?:少量|少|稍微|适量|适当|可以)?喝\s*(?:点儿?|一点儿?|一些|些|一两杯|一两口|一杯|两杯|一口|两口|几口|一小杯|"
                        r"一两小杯))(?=\s*(?:[，,。；;！!\n*]|$|没事|没关系|是可以|可以|问题不大|不要紧|无妨|也行|也没事|应该|一般))")
BLOODY_DIARRHOEA = re.compile(r"(?:拉肚子|腹泻|拉稀|泻肚|大便|便便|拉的)[^。；;！!？?\n]{0,8}(?:带血|脓血|有血|血丝|见血|血便|黏液血|粘液血)|"
                              r"脓血便|黏液脓血|粘液脓血|血性腹泻|拉血")
FEVER = re.compile(r"发烧|发热|高烧|高热|烧到|体温\s*\d|(?:3[89]|4[01])(?:\.\d)?\s*(?:度|℃)")
ALLOWS = re.compile(r"没关系|问题不大|没事|没问题|不要紧|无妨|不会有(?:什么|明显|太大)?(?:的)?影响|影响不大|"
                    # 一两杯红酒一般可以（，别喝白酒）: 可以 closing the drink's clause allows it (round 19)
                    r"(?:一般|通常|还是|是|也|都)?可以(?:的|了|喝)?[\s*_！!~～]*$")
# 我没有哮喘 / 从没得过胃溃疡: a condition the patient says they do not have
HAS_NOT = re.compile(r"(?:没|无|不|未|从没|从未)\s*(?:有|患有|患|得过|得)\s*$")
MONTHS = re.compile(r"(\d+|[一二两三四五六七八九十]+)\s*个\s*(?:多)?月")
# a young infant's age in days or weeks (出生20天 / 6周大的宝宝 / 十天的新生儿): said of the child, not of an illness's
# course (发烧3天), so it needs 出生 before it or 大/龄/的宝宝 after it
AGE_DAYS = re.compile(r"(?:出生|生下来)\s*(?:后|才|刚|刚刚)?\s*(\d+|[一二两三四五六七八九十]+)\s*(天|周|个?星期)|"
                      r"(\d+|[一二两三四五六七八九十]+)\s*(天|周|个?星期)\s*(?:大|龄|的(?:宝宝|宝贝|孩子|婴儿|新生儿|小孩|女儿|儿子))")
# on the skin: the route says so in the mention's clause (外用双氯芬酸二乙胺乳胶剂 / 涂布洛芬凝胶)
TOPICAL = re.compile(r"外用|外涂|涂抹|涂在|涂于|涂擦|搽|乳膏|软膏|凝胶|乳胶剂|贴剂|贴膏|膏药|搽剂|酊剂|洗剂|患处")
TOPICAL_FORMS = ("cream", "ointment", "gel", "patch", "lotion")
# into the eye: the drug is named as eye drops or an eye ointment (妥布霉素滴眼液, 左氧氟沙星眼药水, 红霉素眼膏)
# into the uterus: a levonorgestrel intrauterine system (左炔诺孕酮宫内缓释系统) right after the name acts locally — an
# enzyme inducer that makes the pill fail does not make it fail; its condition, age and pregnancy rows still count
INTRAUTERINE = re.compile(r"\s*(?:宫内(?:节育)?(?:缓释)?(?:系统|节育器|节育环|避孕系统)|节育环|曼月乐)")
OCULAR = re.compile(r"滴眼液|滴眼剂|眼药水|眼药膏|眼膏|眼用凝胶|滴眼睛|点眼")
# the draft naming what the patient already takes, as context (您正在服用华法林，… / 您目前吃的二甲双胍…)
CURRENT_USE = re.compile(r"(?:您|你)(?:(?:目前|现在|一直|长期|已经)?(?:正在|在)|目前|现在|一直|长期|已经)(?:服用|吃|用|使用|打)(?:着)?(?:的)?\s*$|"
                         r"(?:您|你)(?:服用|吃|用|使用)的\s*$")
ON_BASE = re.compile(r"在\s*(?:您|你)?(?:现在|目前|原来|原有)?(?:的)?\s*([^，,。；;！!？?\n]{1,30}?)\s*(?:的)?\s*基础上")
# a screening question in a referral (有胃溃疡或正在吃抗凝药的请先咨询医生 / 接种前告诉医生…正在用免疫抑制剂等情况): the
# drug named after 正在吃 is a condition to report, not advice — only where the sentence refers to a doctor and nothing
# between the name and that referral recommends or doses it
# (告知医生您在服用X / 告诉牙医最近吃过X: what the patient takes or took, told to the doctor; round 16)
SCREEN_LEAD = re.compile(r"(?:(?:正在|同时在|目前在|还在|近期在|最近在|(?:您|你)(?:目前|现在)?在)(?:吃|用|服用|使用|服|打)(?:着)?|"
                         r"(?:最近|近期|之前|以前|曾经|还)(?:吃|用|服用|使用)(?:过|了)|"
                         # 把您正在吃的药（比如X、Y）都告诉医生: the examples of what to report
                         r"(?:正在|在|平时)(?:吃|用|服用|使用)的(?:所有)?(?:药|药物|药品)\s*[（(]\s*(?:比如|例如|如|像|包括))\s*$")
REFERRAL = re.compile(r"(?:咨询|告诉|告知|询问|问问|请教)(?:一下|清楚)?(?:医生|药师|大夫|医师|牙医|主治医生)")
ITEM_LINE = re.compile(r"\s*(?:[-*•·+]|\d{1,2}[.、)）])\s*(?!\*)")
SCREEN_JOIN = ("、", "和", "或", "或者", "及", "以及", "/")
DESCRIBED = re.compile(r"(?:含有|含)(?:较多|大量|少量|不少|很多|一定量)?的?\s*$|"
                       r"(?:成分是|成分为|成分|里面的|里的|属于|是一种|是一类|虽然是|都是|也是)\s*$|"
                       r"(?:含有|含)\s*(?:约|大约)?\s*\d+(?:\.\d+)?\s*(?:mg|毫克|g|克|μg|微克)\s*$")   # 每10丸含约2.5mg X
# what a medicine does to a level in the body (来曲唑会降低雌激素 / 抑制体内的睾酮): the object is the body's own, not
# advice; 降低华法林剂量 (a dose of it) still is (round 12)
LEVEL_CHANGED = re.compile(r"(?:降低|升高|抑制|拮抗|阻断|对抗)(?:了)?(?:体内|血中|血液中|身体里|自身)?(?:的)?\s*$")
DOSE_OF = re.compile(r"\s*(?:的)?\s*(?:剂量|用量|药量|量|片|粒|\d)")
EFFECT = re.compile(r"\s*的?(?:效果|作用|效应|活性|功效|疗效)")
# a medicine named in a supposition about the patient (如果您吃的是其他降压药，例如硝苯地平，就要避免葡萄柚): neither advice
# nor the patient's medicine; its examples in the next clause (例如/比如…) are read with it
HYPOTHETICAL = re.compile(r"(?:如果|若是|假如|要是|万一|若)(?:您|你|患者|孩子|老人)?(?:平时|目前|现在)?"
                          r"(?:(?:吃|用|服用|使用)的(?:是|药是)|(?:正在|在|同时在|还在|已经在)(?:吃|用|服用|使用))"
                          r"[^，,。；;！!？?\n]*$")
# 如果同时吃含雌激素的避孕药…，要告诉医生: a drug supposed taken beside the advice, with a referral in its sentence,
# is a caution to tell the doctor, not advice to take it (round 18)
SUPPOSED_TOGETHER = re.compile(r"(?:如果|假如|要是|万一|若)(?:您|你)?(?:还|也)?同时(?:在)?(?:吃|用|服用|使用)(?:着)?"
                               r"[^，,。；;！!？?\n]*$")
# names the draft mentions without advising them, each when its own clause recommends nothing:
#   an example of a class in an explanation (…的他汀（如辛伐他汀）/ …，比如洛伐他汀 / 洛伐他汀这类…)
EXAMPLE_IN_BRACKET = re.compile(r"[（(]\s*(?:如|比如|例如|像|譬如)[^）)]*$")
CONTENT_OF = re.compile(r"^[^，,。；;！!？?\n]{0,8}?(?:含有|含)\s*$")
EXAMPLE_HINT = re.compile(r"如|比如|例如|像|譬如")
EXAMPLE_OF_KIND = re.compile(r"\s*(?:这类|这一类|之类|一类|这种类型)|"
                             # 影响辛伐他汀、阿托伐他汀这类药: every name of the list before 这类
                             r"(?:\s*[、和及与或]\s*[\u4e00-\u9fffA-Za-z0-9]{2,10}?){1,4}\s*(?:这类|这一类|之类|这些)")
#   a class narrowed by what comes before it (经CYP3A4代谢的他汀): a description, not the class as advice
DESCRIBED_CLASS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]的\s*$")
#   what it is not (非青霉素类药物 / 不含克拉霉素的方案), and what it is compared with (相互作用比奥美拉唑小)
PRIVATIVE = re.compile(r"(?<!除)(?:非|不含|不含有|不包含|不包括|不属于|不是)\s*$")
# 不含抗组胺药和伪麻黄碱的…: every name of the list after the privative (round 17; not past a 的, which ends it)
PRIVATIVE_LIST = re.compile(r"(?<!除)(?:不含|不含有|不包含|不包括)[^，,。；;！!？?\n的]{1,12}?(?:和|、|及|与|以及|或|或者)\s*$")
#   what it is said to be unrelated to (和磺胺无关 / 和阿莫西林（青霉素类）不是一类): the allergen named as context
UNRELATED_BEFORE = re.compile(r"(?:与|和|跟|同)\s*(?:[^，,。；;！!？?\n（(]{1,10}[（(])?\s*$")
UNRELATED_AFTER = re.compile(r"\s*(?:[（(][^（()）]{0,12}[）)]|[）)])?\s*(?:类|药物|药|成分)?\s*(?:也|都|并|完全|根本|毫)?\s*"
                             r"(?:无关|没关系|没有关系|没什么关系|不相关|无交叉|没有交叉|不交叉|"
                             r"不是(?:同)?一类|不属于(?:同)?一类|不是同类|不同类)")
# (口服避孕药 is a class's name, not a way of taking it: round 12)
WAY_OF_TAKING = re.compile(r"吃|服(?!避孕)|用|喝|打针|打一针|涂|滴|喷|含服|注射|输液|接种|补充|换成|改为|加上|选")
# (不会像奥昔布宁那样… / 不像X / 不同于X: what the advised drug is said not to be like)
DOCTOR_SUPPOSED = re.compile(r"(?:如果|假如|要是|万一|若)[^，,。；;！!？?\n]{0,6}(?:医生|大夫|医师)[^，,。；;！!？?\n]{0,8}?"
                             r"(?:给您|给你|为您|为你)?(?:用|开|加用|使用|选用|处方)(?:了)?\s*$")
# 必要时由医生评估是否加用地高辛或胺碘酮: what a doctor is to weigh whether to add, no advice (round 19)
DOCTOR_WHETHER = re.compile(r"(?:医生|大夫|医师)[^，,。；;！!？?\n]{0,6}?(?:评估|判断|决定|考虑|权衡)\s*(?:是否|要不要|能否|可否|需不需要)\s*"
                            r"(?:需要)?\s*(?:加用|换用|改用|使用|用|加|换成|联用|联合)[^，,。；;！!？?\n]{0,16}$")
# 由医生选择合适的解痉药: the kind a doctor is to choose from, no advice (round 20)
DOCTOR_CHOOSES = re.compile(r"(?:医生|大夫|医师)[^，,。；;！!？?\n]{0,6}?(?:选择|选用|挑选)\s*(?:合适的|适合的|其他的?|别的)\s*$")
# 如果在吃补钾药要告诉医生 / 同时服用克拉霉素、环孢素等药物时要先咨询医生 / 在吃抗凝药的话先问医生: a medicine the patient
# may be taking, named as the condition of a referral (round 20)
SUPPOSED_TAKING = re.compile(r"(?:如果|假如|要是|若|万一)?[^，,。；;！!？?\n]{0,10}?(?:正在|同时|还在|在)\s*(?:吃|用|服用|服|使用)\s*"
                             r"(?:其他药[，,]?\s*(?:比如|例如|像|如))?[^，,。；;！!？?\n]{0,12}$")
REFERRAL_AFTER = re.compile(r"[^。；;！!？?\n]{0,16}?(?:的话|时|的时候)?[，,]?\s*(?:要|请|需要|需|务必|一定要|最好)?\s*(?:先|提前)?\s*"
                            r"(?:告诉|告知|咨询|问|询问|请教)(?:一下)?\s*(?:医生|大夫|医师|药师)|"
                            r"[^。；;！!？?\n]{0,16}?才需要(?:避开|注意|调整|避免)")
SUPPOSED_ALLOWED = re.compile(r"可以|建议|放心|没问题|继续|就行|就好|即可|按医嘱|照吃|吃吧|用吧")
COMPARED_AFTER = re.compile(r"\s*(?:不同|不一样|相比|比较起来|比起来|相较|对比)")
COMPARED = re.compile(r"(?:比|比起|相比|相较于|较|不会像|不像|不同于|有别于|区别于|优于|好于)\s*"
                      r"(?:(?:传统|普通|一般|常规|其他|其它|老一代|第一代|老)(?:的)?)?\s*$")   # 比传统非甾体抗炎药小 (round 19)
#   what another drug becomes in the body (会把可待因转化成吗啡 / 代谢为活性产物): a product of metabolism, not advice
METABOLITE = re.compile(r"(?:转化|转变|代谢|转换)(?:成|为)\s*(?:大量|少量|较多|更多|过量)?(?:的)?\s*$")
# a vaccine advised for the people around the patient (家里其他健康成员可以接种水痘疫苗): not for the patient
OTHERS = re.compile(r"(?:其他|其它|别的)[^，,。；;！!？?\n]{0,6}(?:成员|人|家人)|家人|家里人|密切接触者|同住的人|照顾(?:孩子|宝宝|老人)?的人")
# advice for after the pregnancy (分娩后再补种 / 产后可以接种): the pregnancy rows do not reach it
AFTER_PREGNANCY = re.compile(r"(?:分娩|生产|生完(?:孩子|宝宝)?|产|孕期结束|出月子|生了)\s*(?:以)?后")
# advice for a later stage of the pregnancy (孕中期后可考虑换X / 孕14周以后再用): the rows of an earlier trimester do not
# reach it (round 17)
LATER_TRIMESTER = re.compile(r"(?:孕|怀孕)\s*(?:(中|中晚|晚)期|(\d{1,2})\s*周)\s*(?:以后|之后|后|开始|起|以上)")


def later_trimester(before: str) -> int | None:
    """The trimester from which the clause before a name advises it, or None."""
    found = LATER_TRIMESTER.search(before) if "孕" in before else None
    if found is None:
        return None
    if found.group(1):
        return 3 if found.group(1) == "晚" else 2
    weeks = int(found.group(2))
    return 3 if weeks >= 28 else 2 if weeks >= 13 else None


# a name that only says which doctor (告诉开X的医生 / 给您开X的大夫): it names the prescriber, it advises nothing
KEPT_APART_BEFORE = re.compile(r"(?:与|和|同|跟)[^，,。；;！!？?\n]{0,8}$")
KEPT_APART_AFTER = re.compile(r"[^，,。；;！!？?\n]{0,4}?(?:隔开|间隔|错开|分开)")
CAUSE_AFTER = re.compile(r"[^，,。；;！!？?\n]{0,4}?(?:有关|有关系|相关|引起的|导致的|所致|造成的|的副作用|的不良反应)")
OCCASION_AFTER = re.compile(r"\s*(?:前后|之前|以前|前|期间|当天)")
HOLD_WORDS = re.compile(r"停用|停药|暂停|停掉|先停|停服")
PRESCRIBER_BEFORE = re.compile(r"(?:开|开了|给您开|给你开|开出)\s*$")
PRESCRIBER_AFTER = re.compile(r"^\s*(?:的)\s*(?:医生|大夫|医师|专科医生|药师)")
# a reassurance opening the draft (不用太担心 / 别那么紧张): no answer of no to the question's drug
REASSURANCE = re.compile(r"\s*(?:太|过于|过分|那么|这么|特别)?\s*(?:担心|紧张|害怕|焦虑|顾虑)")
# 每1ml含 / 每5毫升中含有 right before a name, and the amount right after it: what that volume holds (round 20)
HOLDS_BEFORE = re.compile(r"每\s*(\d+(?:\.\d+)?)?\s*(?:ml|毫升|mL)\s*(?:中)?\s*(?:含有|含)\s*$")
LEADING_AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(mg|毫克|g|克)(?![/∕a-zA-Z])")
# the joint of a combination written as two names (洛匹那韦/利托那韦, A＋B)
PAIRED_NAME = re.compile(r"\s*[/／+＋]\s*")
# 千万不要自己停药 / 别擅自减量: an opening no to stopping or cutting down is a yes to going on, no refusal (round 20)
NOT_STOPPING = re.compile(r"\s*(?:自己|自行|擅自|随便|随意|轻易|突然|马上|立即)?\s*(?:停|减量|减药|断药)")
IF_WORD = re.compile(r"如果|若|假如|要是|万一")
# 如果以后换成其他他汀，要先问清楚: a switch the draft supposes for later, with a referral in the sentence, advises
# nothing now (如果血脂控制不好，可以换成阿托伐他汀 has no later-time word and no referral: still advice)
FUTURE_SWITCH = re.compile(r"(?:如果|假如|要是|万一|若)\s*(?:以后|将来|今后|日后|哪天)[^，,。；;！!？?\n]{0,6}"
                          r"(?:换成|换用|改用|改成|换|改吃|换吃)\s*(?:了)?\s*(?:其他|别的|其它)?\s*$")
HEART_RATE = re.compile(r"(?:静息|平时|平常|最近|现在|安静时)?\s*(?:心率|心跳|脉搏)\s*(?:只有|才|大概|一般|在|是|基本|就|也就|大约|约|常)?"
                        r"\s*(\d{2})(?!\d)")
RATE_THRESHOLD = re.compile(r"\s*(?:次/分|次每分|次)?\s*(?:以下|以上|以内|的话|时|就要|要停|要来)")
# 可以问神经科医生其他选择 / 找医生评估换别的药: a clause that sends the patient to ask a doctor about the options
ASK_DOCTOR_OPTIONS = re.compile(r"(?:问|咨询|找|请|让)[^，,。；;！!？?\n]{0,6}(?:医生|大夫|医师|药师)[^，,。；;！!？?\n]{0,8}"
                                r"(?:选择|方案|药物|药|替代)\s*$")
# （小剂量X用于预防血栓是另一回事，需医生评估）: another use of the drug set aside and left to a doctor (round 13)
ASIDE = re.compile(r"另一回事|另外一回事|另当别论|是两回事|不在此列")
DOCTOR_DECIDES = re.compile(r"(?:需|需要|须|要|应|应由|由|请|让)\s*(?:专科)?(?:医生|大夫|医师)\s*(?:来)?\s*"
                            r"(?:评估|决定|判断|把关|指导|权衡)|遵医嘱")
# 与酮康唑这类强效抑制剂同服时，…每日最多4mg / 等酮康唑疗程结束后…: the patient's own medicine named as the time a
# dose is for, or as the course to wait out, is context, not advice (round 13)
WITH_BEFORE = re.compile(r"(?:与|和|跟|同)\s*(?:您|你)?(?:正在|在)?(?:吃|用|服用)?(?:的)?\s*$")
WITH_WHEN = re.compile(r"[^，,。；;！!？?\n]{0,16}?(?:同服|合用|同用|联用|并用|一起(?:吃|用|服用))\s*(?:时|期间|的时候|的话)")
UNTIL_BEFORE = re.compile(r"(?:等|待|等到|直到)\s*$")
DONE_AFTER = re.compile(r"\s*(?:的)?\s*(?:疗程|治疗|这个疗程)?\s*(?:结束|用完|吃完|停(?:药|用|掉)?)\s*(?:了)?\s*(?:后|以后|之后)")
TAKEN_TOGETHER = re.compile(r"[^，,。；;！!？?\n]{0,4}?(?:一起|一同|同时|合用|同用|同服|联用|并用)")
# 偏头痛伴先兆 / 偏头痛（有先兆）: a condition with its qualifier after the name (round 13)
QUALIFIED = re.compile(r"^\s*([\u4e00-\u9fff]{2,10}?)\s*(?:伴有|伴|合并|[（(]\s*(?:有|伴有|伴)?)\s*([\u4e00-\u9fff]{1,4}?)\s*[）)]?\s*$")
# the message's medicine stopped: 两年前就不吃了 / 停了好几年 / 早就停了 / 后来停药了
STOPPED_AFTER = re.compile(r"不吃了|不用了|没吃了|没再吃|没有再吃|停了|停掉了|停药了|已经停|早就停|早停了|就停了|给停了")
RESUMED = re.compile(r"又吃|又开始|重新吃|重新开始|恢复|接着吃|继续吃|还在吃|现在还")
# a name followed by a form put on the skin or into the eye (酮康唑洗剂 / 左氧氟沙星滴眼液 / 莫匹罗星软膏)
LOCAL_FORM = re.compile(r"\s*(?:洗剂|洗发水|香波|乳膏|软膏|霜|凝胶|搽剂|酊|喷剂|滴眼液|滴眼剂|眼药水|眼膏|眼用凝胶|滴耳液|"
                        r"滴鼻液|鼻喷剂|贴|栓)")
EXAMPLE_LEAD = re.compile(r"^\s*(?:例如|比如|像是|像|如)")
CONTINUE = re.compile(r"继续|照常|照旧|坚持|不要停|别停|接着")
# what a product or class contains (round 15): 含有 / 含 / 也含 / 成分是, with 西药 or an amount per unit between, or a
# list of its contents (含有氢氯噻嗪和可乐定)
CONTENT_CUE = re.compile(r"(?:含有|含|成分是|成分为|成分有|里面有|里有|(?<=[片丸粒剂])还有)\s*(?:西药|化学药|化学成分|西药成分)?(?:成分)?\s*"
                         r"(?:约|大约)?\s*(?:\d+(?:\.\d+)?\s*(?:mg|毫克|g|克|μg|微克)\s*(?:的)?)?[\s*_]*$")
CONTENT_LIST = re.compile(r"(?:含有|含|成分是|成分为|成分有|里面有|里有)[^，,。；;！!？?\n]{1,20}(?:和|、|及|与|以及|\+|＋)[\s*_]*$")
# 每次1片（含钙600mg+维生素D3 125IU）: a bracket after a count of units says what one unit holds — the unit of the
# product the draft is about, named in its heading or an earlier sentence (round 19)
# 不能给宝宝用呋麻滴鼻液。它含有麻黄碱: what 它 (the product of the sentence before) contains (round 20)
ANAPHOR_CONTENT_LEAD = re.compile(ANAPHOR_CONTENT.pattern + r"[\s*_]*$")
UNIT_CONTENT = re.compile(r"[片粒袋包支丸]\s*[（(](?:每片|每粒)?(?:含有|含)[^（()）。\n]*$")
MODIFIER_AFTER = re.compile(r"[\s*_]*(?:的|成分的|类的)")
IDENTITY_LEAD = re.compile(r"(?:化学结构|结构|分子结构|成分|有效成分|本质)(?:上)?\s*(?:就是|即|即为|相当于|等同于|与|和|跟)[\s*_]*$")
ACTED_ON_WHAT = re.compile(r"\s*(?:的)\s*(?:代谢|吸收|血药浓度|药物浓度|浓度|排泄|药效|疗效)")
HABIT_CONSTITUENT_AFTER = re.compile(r"\s*(?:中的|里的|里面的|中所含的|所含的|含有的)")
UNIVERSAL = re.compile(r"任何|所有|一切|全部|都不|这两类|这几类|这类|此类|各种")
FINAL_REFUSAL_CUES = ("不建议", "不推荐", "避免", "不宜", "不适合", "最好不要")
FINAL_REFUSAL = re.compile(r"(?:不建议|不推荐|建议避免|应避免|最好避免|不宜|不适合|最好不要)\s*(?:再)?\s*"
                           r"(?:换|用|吃|服用|使用|选用|换用|改用|换成这个)?\s*(?:了)?[\s*_]*$")
# 阿托伐他汀也会受一定影响 / 氨氯地平受到的影响较小: a drug named as what an effect reaches (round 19)
AFFECTED_AFTER = re.compile(r"[\s*_]*(?:也|同样|都|则|就)?\s*(?:会|可能|可)?\s*受(?:到)?(?:的)?\s*(?:一定|一些|较大|较小|明显|轻微|很大|很小|少许)?\s*(?:的)?\s*影响")
# 需要打造影剂的检查前，告诉医生您在吃二甲双胍: the thing an occasion needs, the occasion a precaution's time (round 19)
PRECAUTION_AFTER = re.compile(r"[^，,。；;！!？?\n]{0,12}?(?:检查|手术|操作|治疗|拔牙|麻醉)?(?:(?:之)?前|时|的时候)\s*[，,]?\s*"
                              r"(?:要|请|需要|需|记得|务必|一定要|应|应该|先)?\s*(?:主动|提前)?\s*"
                              r"(?:告诉|告知|提醒|通知|说明|咨询)")
SALT_IN_BRACKET = re.compile(rf"\s*[（(]\s*(?:{SALT_WORDS})?\s*")
HOST_ADVISED = re.compile(r"可以|建议|推荐|改用|换成|换用|选用|首选")
QUALIFIED_WARNING = re.compile(r"(?:不要|别|避免|不宜|勿|不能|切忌|禁止|尽量不要|最好不要|不可)\s*(?:在)?\s*"
                               r"(?:(?:空腹|大量|过量|长期|经常|一次性|过多|多|同时|服药期间)\s*(?:地)?\s*)+"
                               r"(?:喝|饮用|饮|吃|食用|摄入)?\s*$")
AVOIDED_EXAMPLES = re.compile(r"(?:不要|别|避免|不宜|勿|不能|切忌|禁止|少吃|少喝)[^，,。；;！!？?\n（(]{0,14}[（(][^）)]*$")
FUTURE_ADD = re.compile(r"(?:如果|假如|要是|万一|若)\s*(?:以后|将来|今后|日后|之后)?\s*(?:要|需要|想|打算|准备)\s*"
                        r"(?:加|加用|加上|用|吃|服用|开始)[^，,。；;！!？?\n]{0,4}$")
NO_SUBSTITUTE = re.compile(r"\s*(?:并|也)?\s*(?:不能|不可|不宜|不应|不可以|不是)\s*(?:用来|拿来)?\s*(?:代替|替代|取代|当作|作为)")
# a sentence that advises something (可以 / 继续 / 建议 / 就行 / 一起用…): the patient's medicine named in it may be advised
ADVICE_IN_SENTENCE = re.compile(r"可以|可(?!能)|继续|建议|推荐|即可|就行|就好|照常|一起用|一起吃|一起服|同服|合用|联用|按时|放心|"
                                r"没问题|没关系|不影响|效果更好|更好|适合|首选|改用|换成|加用|加上|剂量|\d")
CLAUSE_SPAN = re.compile(r"[^，,；;：:。！!？?\n]+")
REFUSING_CLAUSE = re.compile(r"不能|不要|不建议|不宜|不可以|不推荐|不应|别|勿|避免|禁")
# the answer to 能吃吗 / 能一起吃吗 / 能加吗 / 有问题吗 given anywhere in the draft as a refusal with no object of its own
# (**不建议加用** / 不能再和格列美脲一起吃 / **请先不要吃** / 一般不建议老年人常规使用 / 不要自行开始): it answers the
# question's drugs no (round 15); a plain 不要吃 needs 先/暂时 (空腹不要吃 is how to take it, no answer)
ASKS = re.compile(r"吗|？|\?|能不能|可不可以|行不行|要不要|能否|是否")
REFUSAL_ANSWER = re.compile(
    r"(?:(?:不建议|不推荐|不宜)\s*(?:再|自行|自己)?\s*(?:老年人|老人|孕妇|您|你)?\s*(?:常规|长期|继续)?\s*"
    r"(?:加用|加上|加|合用|联用|同服|一起吃|一起用|一起服用|同时吃|同时用|同时服用|使用|服用|用|吃)|"
    r"(?:不要|别|不能|不可以|最好不要|千万不要|千万别)\s*(?:再)?\s*(?:自行|自己|擅自|随便)?\s*"
    r"(?:加用|加上|加|合用|联用|同服|一起吃|一起用|一起服用|同时吃|同时用|同时服用|开始(?:吃|用|服用)?)|"
    r"(?:先不要|请先不要|暂时不要|暂时别|先别|请先别)\s*(?:吃|用|服用|使用|加)|"
    r"(?:不能|不要|不建议|别|不可以)\s*再?\s*(?:和|与|跟|同)(?:(?!酒|饮料|茶|咖啡|果汁|西柚|葡萄柚|牛奶|奶)"
    r"[^，,。；;！!？?\n]){1,12}?"
    r"(?:一起|同时|合用|同服|联用)\s*(?:吃|用|服用|使用)?)"
    r"\s*[*_]*\s*(?=[。，,；;！!？?\n)）]|$)")
# a draft that opens by saying yes (可以的，… / 能。/ 没问题): a refusal later is about how to take it, no answer of no
OPENING_YES = re.compile(r"(?:可以|能|没问题|没事|放心|行|可)")
PROBLEM_ASKED = re.compile(r"有问题吗|有没有问题|有影响吗|有没有影响|安全吗|冲突吗|有冲突")
OPENING_PROBLEM = re.compile(r"^(?:有问题|有影响|有冲突|不安全|有风险)(?:的)?\s*[*_]*\s*[。！!，,]")
# something added on top of what the patient takes (再加 / 加用 / 加上 / 另加 / 换成): a new recommendation (round 15)
ADDED_BEFORE = re.compile(r"(?:再加|加用|加上|另加|再吃|再服|再用|叠加|同时加|加|换成|换用|改用|改成|改为|换)\s*(?:一个|一种|点|些)?\s*$")
HABIT_OF_PEOPLE = re.compile(r"\s*(?:的)?\s*(?:习惯|史|嗜好)\s*(?:的人|者|的患者|患者|人群)|\s*者")
CONSTITUENT = re.compile(r"(?:含|含有|不含|含少量|含一定量的?|成分是|成分为)\s*$")
# the auditor's clause also ends at a colon (用法：每次…): the text layer's clause marks and the colons
CLAUSE_MARKS = TEXT_CLAUSE_MARKS + "：:"
IU_DOSE = re.compile(r"\d\s*(?:万)?\s*(?:iu|IU|国际单位|单位)")
DOSE = re.compile(r"\d\s*(?:mg|g|μg|ug|ml|毫克|克|微克|毫升|片|粒|袋|包|支|丸)|[一二两三四五六七八九十半]\s*(?:片|粒|袋|包|支|丸)")
CN_STAGE = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
CKD_TEXT = re.compile(r"(?:慢性肾脏病|慢性肾病|慢性肾功能不全|肾病|肾功能不全|ckd|CKD)\s*(?:g|G)?([1-5一二三四五])\s*([abAB])?\s*期?|"
                      r"(?:ckd|CKD)\s*(?:stage)?\s*([1-5])([abAB])?")
SUBSTAGE = {"a": (45.0, 60.0), "b": (30.0, 45.0)}
EGFR_TEXT = re.compile(r"(?:egfr|eGFR|肾小球滤过率|肌酐清除率|crcl|CrCl)\s*[:：为是]?\s*(\d+(?:\.\d+)?)")


def _stated_sign(pattern: re.Pattern[str], text: str) -> bool:
    """A sign the message states, not one it denies (没有发烧 / 大便没有血 / 不发热)."""
    return any(not DENIED_SIGN.search(m.group(0)) and not DENIED_SIGN.search(text[max(0, m.start() - 2):m.start()])
               for m in pattern.finditer(text))


DENIED_SIGN = re.compile(r"没|无|不|未|否认")


def _allowing_span(draft: str, position: int) -> str:
    """What follows a drink or food up to its clause's end (一两杯啤酒没关系，别喝白酒); past a comma into the next clause
    when its own is only a few words (喝一两小杯红酒，一般不会有明显影响)."""
    rest = draft[position:position + 16].split("。")[0].split("\n")[0]   # a list item ends its clause
    head, _, tail = rest.partition("，")
    return rest if len(head.strip()) <= 2 else head


def clause_end_of(draft: str, position: int) -> int:
    return span_end(draft, position, CLAUSE_MARKS)


# the last mark before a position: one regex search instead of a scan per mark (called for every name of a draft)
LAST_CLAUSE_MARK = re.compile(rf"[{re.escape(CLAUSE_MARKS)}](?=[^{re.escape(CLAUSE_MARKS)}]*\Z)")
LAST_SENTENCE_MARK = re.compile(rf"[{re.escape(SENTENCE_MARKS)}](?=[^{re.escape(SENTENCE_MARKS)}]*\Z)")


# a dose before a name that belongs to the name before it: in that name's brackets (A（每天180mg）或B, A（之后250mg每日
# 一次）或B: the bracket closed after the schedule, round 17), or followed
# by a join to this name (补钙500mg和维生素D 800IU: the 500mg is the calcium's)
# (氯沙坦50mg联合氨氯地平 / 拉贝洛尔100mg每日2次或硝苯地平: the schedule of the first dose and a word that joins a
# second medicine to it leave the dose with the first; 在普伐他汀20mg的基础上联合依折麦布: so does the base, round 18)
DOSE_SCHEDULE = r"(?:(?:每日|每天|一日|一天|日)\s*(?:\d+|[一二两三四])\s*次|每\s*\d+\s*(?:个)?小时\s*(?:一次|1次)?|" \
                r"(?:qd|bid|tid|qid|QD|BID|TID|QID)|单次|顿服|一次性|睡前|每晚|口服|(?:连用|连服|共)\s*\d+\s*天)"
DOSE_THEN_JOIN = re.compile(r"(?:\d|[一二两三四五六七八九十半])\s*(?:mg|g|μg|ug|ml|毫克|克|微克|毫升|片|粒|袋|包|支|丸|"
                            r"(?:万)?\s*(?:iu|IU|国际单位|单位))?\s*[)）]?\s*"
                            rf"(?:[，,、]?\s*{DOSE_SCHEDULE}\s*){{0,3}}[)）]?\s*(?:的?\s*基础上\s*)?(?:[，,]\s*)?(?:再)?"
                            r"(?:或者|或是|或|和|及|以及|与|、|/|\+|＋|联合|联用|合用|加用|加上|加|配合|搭配|再加|并用)\s*$")
WARNING_OPENS = re.compile(r"\s*[*#>\-\d.、]*\s*(?:但|但是|不过)?\s*(?:不建议|不推荐|不要|不可|不能|不宜|别|切勿|勿|禁止|避免|千万不要)")


def _dose_of_previous(before: str) -> bool:
    """Whether the dose written before a name belongs to the name before it (see DOSE_THEN_JOIN)."""
    return before.lstrip(" *").startswith(("（", "(")) or bool(DOSE_THEN_JOIN.search(before))


def _sentence_end(text: str, position: int) -> int:
    found = SENTENCE_END.search(text, position)
    return found.start() if found else len(text)


def _rest_of_sentence(draft: str, position: int) -> str:
    """The draft from a position to the end of its sentence."""
    end = SENTENCE_END.search(draft, position)
    return draft[position:end.start() if end else len(draft)]


def _dosed(text: str) -> bool:
    """Whether a piece of draft states an amount (mg, ml, tablets … or IU)."""
    return bool(DOSE.search(text) or IU_DOSE.search(text))


def _supposed_low(draft: str, position: int) -> int:
    """Where a supposition about a name may start: its clause, or the clause before when its own opens with an example
    word (如果您同时吃其他药，比如X、Y这类)."""
    low = clause_start_of(draft, position)
    if low > 0 and draft[low:position].lstrip(" *_").startswith(("比如", "例如", "像", "如")):
        return clause_start_of(draft, low - 1)
    return low


def clause_start_of(text: str, position: int) -> int:
    """Where the clause holding `position` starts (after the last clause mark before it)."""
    found = LAST_CLAUSE_MARK.search(text, 0, position)
    return found.end() if found else 0


def sentence_start_of(text: str, position: int) -> int:
    """Where the sentence holding `position` starts (after the last sentence mark before it)."""
    found = LAST_SENTENCE_MARK.search(text, 0, position)
    return found.end() if found else 0


@dataclass
class Recommendation:
    """Kept for callers of the v1 API: a recommended mention and the dose text after it."""

    mention: Mention
    dose_text: str = ""


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    recommended: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)   # profile names the knowledge base did not resolve
    endorsed: list[str] = field(default_factory=list)     # behaviours/foods the draft endorses

    @property
    def blocked(self) -> bool:
        return any(f.severity == "block" for f in self.findings)

    @property
    def verdict(self) -> Literal["block", "pass"]:
        return "block" if self.blocked else "pass"

    def reasons(self) -> list[str]:
        return [f.reason for f in self.findings]

    def cards(self) -> list[dict[str, Any]]:
        return [f.card.as_dict() for f in self.findings if f.card is not None]


def default_rules() -> list[Any]:
    """The rule kinds of conf/agent/auditor/default.yaml (the single list), instantiated."""
    import hydra.utils
    from omegaconf import OmegaConf

    from medq.config import config_dirs

    path = Path(config_dirs()[0]) / "agent" / "auditor" / "default.yaml"
    config = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    return [hydra.utils.instantiate(rule) for rule in config["rules"]]  # type: ignore[index]


class ContraindicationAuditor:
    def __init__(self, lexicon: Lexicon, rules: Sequence[Any] | None = None):
        self.lexicon = lexicon
        if rules is not None:
            import hydra.utils

            rules = [hydra.utils.instantiate(dict(r)) if isinstance(r, dict) or hasattr(r, "keys") else r
                     for r in rules]
        self.rules = list(rules) if rules is not None else default_rules()

    @classmethod
    def from_config(cls, lexicon: Lexicon, rules: Sequence[Any] | None = None) -> "ContraindicationAuditor":
        return cls(lexicon, rules)

    # ---- what the draft recommends -------------------------------------------------------------------------
    def recommendations(self, draft: str) -> tuple[list[Recommendation], list[Mention]]:
        """(recommended mentions with their dose text, mentions only warned against)."""
        recommended, warned, _, _, _ = self._read(to_simplified(draft), ())
        return [Recommendation(r.mention, r.dose_text) for r in recommended], warned

    def _read(self, draft: str, answered_no: Sequence[str], question: str = "", record: set[str] | None = None
              ) -> tuple[list[Recommended], list[Mention], set[str], list[Mention]]:
        lex = self.lexicon
        # a class named for an effect (减弱抗血小板效果 / 降压作用) names no drug: it is neither advice nor an antecedent
        found = lex.find_mentions(draft)
        mentions = [m for m in found if m.kind in ("drug", "product", "class", "substance") and
                    not (m.kind == "class" and EFFECT.match(draft, m.end))]
        # (容易跌倒: 易跌倒 names a condition, but after 容 it states a risk, and shields no risk word)
        conditions = [Span(m.start, m.end) for m in found if m.kind == "condition" and
                      not (m.text.startswith("易") and draft[m.start - 1:m.start] == "容")]
        flags, affirmed_flags = read_scope(draft, [Span(m.start, m.end) for m in mentions], shields=conditions)
        # one drug, several mentions: when one is warned against, another counts as a recommendation only where its
        # own clause recommends (可以/建议/改用 … or a dose): 华法林和布洛芬一起吃会增加出血风险，所以不要吃布洛芬
        warned_names = {m.canonical for m, w in zip(mentions, flags) if w} | set(answered_no)
        # a drink or food allowed in its own clause (一两杯啤酒没关系，别喝白酒) is not warned by another word for it
        flags = [w or (m.canonical in warned_names and not a and not (
                     m.kind == "substance" and lex.substances[m.canonical].kind in ("behaviour", "food") and
                     ALLOWS.search(_allowing_span(draft, m.end))))
                 for m, w, a in zip(mentions, flags, affirmed_flags)]
        # 阿米替林抗胆碱作用强，老年人容易…摔倒，不建议换 / 格列本脲作用强…，两个标准都建议避免: a sentence about the drug
        # it opens with, whose last clause refuses and names nothing, refuses that drug (no dose or affirmation in the
        # sentence) (round 20)
        if any(cue in draft for cue in FINAL_REFUSAL_CUES):
            for index, m in enumerate(mentions):
                if flags[index] or affirmed_flags[index] or m.kind not in ("drug", "product", "class"):
                    continue
                low = sentence_start_of(draft, m.start)
                if draft[low:m.start].strip(" \t\n*_-#>•·0123456789.、") or \
                        (index > 0 and mentions[index - 1].start >= low):
                    continue   # not what the sentence opens with
                end = SENTENCE_END.search(draft, m.end)
                high = end.start() if end else len(draft)
                last = clause_start_of(draft, high)
                if last <= m.end or not FINAL_REFUSAL.search(draft, last, high) or \
                        any(last <= other.start < high for other in mentions):
                    continue
                if _dosed(draft[low:high]):
                    continue
                flags[index] = True
        # a member warned in a sentence names its class bare in that sentence or the next (不能接种乙脑减毒活疫苗，活疫苗可能
        # 在体内复制 / 不建议吃颠茄片。颠茄片含阿托品类生物碱…): the class is said of that member, warned with it (round 20)
        if any(flags) and any(m.kind == "class" for m in mentions):
            for index, m in enumerate(mentions):
                if flags[index] or affirmed_flags[index] or m.kind != "class":
                    continue
                low = sentence_start_of(draft, m.start)
                before = sentence_start_of(draft, max(0, low - 1)) if low > 0 else low
                end = SENTENCE_END.search(draft, m.end)
                high = end.start() if end else len(draft)
                if _dosed(draft[low:high]):
                    continue
                if any(flags[j] and before <= other.start < m.start and other.kind != "class" and
                       m.canonical in lex.classes_of(next(iter(lex.ingredients(other.canonical) or [other.canonical])))
                       for j, other in enumerate(mentions)):
                    flags[index] = True
        # 不建议自己喂任何退热药，美林…一般用于6个月以上 / 您对青霉素和头孢都过敏，这两类都不能用: a class warned in a sentence
        # with a universal word (任何 / 所有 / 都不 / 这两类) warns every member the draft names without advising it (no
        # affirmation, no dose in its clause) — a member named with a dose or an affirmation stays advice (round 19)
        if UNIVERSAL.search(draft) and any(w and m.kind == "class" for m, w in zip(mentions, flags)):
            universal = {m.canonical for m, w in zip(mentions, flags) if w and m.kind == "class" and UNIVERSAL.search(
                draft, sentence_start_of(draft, m.start), span_end(draft, m.end))}
            for index, m in enumerate(mentions):
                if not universal or flags[index] or affirmed_flags[index] or m.kind not in ("drug", "product"):
                    continue
                if not any(universal & lex.classes_of(s) for s in (lex.ingredients(m.canonical) or [m.canonical])):
                    continue
                clause = draft[clause_start_of(draft, m.start):clause_end_of(draft, m.end)]
                if not _dosed(clause):
                    flags[index] = True
        # an ingredient or a class named to describe the name before it (消渴丸里面含有格列本脲 / 都属于磺脲类) shares its
        # reading once the question's drugs were answered no (the scope did this for the warnings it found itself)
        for index, m in enumerate(mentions):
            if flags[index] or affirmed_flags[index] or not DESCRIBED.search(draft[max(0, m.start - 8):m.start]):
                continue
            sentence_start = sentence_start_of(draft, m.start)
            previous = [i for i, other in enumerate(mentions) if sentence_start <= other.start and other.end <= m.start]
            # 代盐里含有氯化钾。…所以不建议用代盐: what a thing the draft warns against contains is warned with it
            if previous and (flags[previous[-1]] or mentions[previous[-1]].canonical in warned_names and
                             not affirmed_flags[previous[-1]]):
                flags[index] = True
        # 消渴丸其实含有格列本脲。…格列本脲和格列美脲一起吃容易低血糖，所以不建议加: a product the draft introduces only to
        # say what it contains, whose ingredient a later sentence warns against, is warned with it (a dose or an
        # affirmation in the product's own sentence keeps it advice)
        warned_later = {(m.canonical, m.start) for m, w in zip(mentions, flags) if w}
        for index, m in enumerate(mentions):
            if flags[index] or affirmed_flags[index] or m.kind != "product":
                continue
            low = sentence_start_of(draft, m.start)
            end = SENTENCE_END.search(draft, m.end)
            high = end.start() if end else len(draft)
            sentence = draft[low:high]
            if DOSE.search(sentence) or IU_DOSE.search(sentence) or \
                    any(affirmed_flags[i] for i, other in enumerate(mentions) if low <= other.start < high):
                continue
            contents = {other.canonical for other in mentions if m.end <= other.start < high and
                        other.canonical in lex.ingredients(m.canonical) and
                        re.search(r"(?:含有|含|成分是|成分为|里面有)[^，,。；;！!？?\n]{0,4}$",
                                  draft[max(m.end, other.start - 8):other.start])}
            # (复方丹参滴丸有活血作用。丹参会增强华法林…: an ingredient the product's own name holds, round 18)
            contents |= {name for name in lex.ingredients(m.canonical) if len(name) > 1 and name in m.text}
            if any(name in contents and start >= high for name, start in warned_later):   # a later sentence
                flags[index] = True
        # 消渴丸虽然是中成药，但每10丸里含有格列本脲2.5mg / 含有**氢氯噻嗪**和可乐定等西药成分 / 复方感冒药，很多也含伪麻黄碱:
        # an ingredient named as what an earlier name of its sentence contains describes that product or class: it is
        # read as its host is (warned with it; a recommended product carries it, the amount being the product's
        # content, no dose), never as a medicine of its own (round 15)
        content = self._contents(draft, mentions)
        for index, host in content.items():
            h = mentions[host]
            if flags[host] or h.canonical in warned_names and not affirmed_flags[host]:
                flags[index] = True
        carried = {id(mentions[index]) for index, host in content.items()
                   if not flags[index] and mentions[host].kind == "product"}
        # a class whose members the draft names in brackets right after it (ACEI（培哚普利/雅施达）停药后…) reads as they do
        for index, m in enumerate(mentions):
            if flags[index] or affirmed_flags[index] or m.kind != "class" or \
                    not draft.startswith(("（", "("), m.end) or index + 1 >= len(mentions):
                continue
            close = min([i for i in (draft.find("）", m.end), draft.find(")", m.end)) if i >= 0] or [len(draft)])
            inside = [i for i in range(index + 1, len(mentions)) if mentions[i].end <= close]
            if inside and all(flags[i] or mentions[i].canonical in warned_names for i in inside):
                flags[index] = True
        recommended: list[Recommended] = []
        warned: list[Mention] = []
        endorsed: set[str] = set()
        context: list[Mention] = []
        drugs = [(m, w) for m, w in zip(mentions, flags) if m.kind != "substance" or
                 lex.substances[m.canonical].kind in ("drug", "herb", "supplement", "vaccine")]
        # 美林每5ml含布洛芬100mg。…每次喂15ml: an ingredient named right after its product to state its content is the
        # product's, neither a second recommendation nor the end of the product's dose text
        drugs = [(m, w) for m, w in drugs if id(m) not in carried]
        drugs = [(m, w) for index, (m, w) in enumerate(drugs) if not (
            index > 0 and m.kind in ("drug", "substance") and drugs[index - 1][0].kind == "product" and
            CONTENT_OF.search(draft[drugs[index - 1][0].end:m.start]) and
            m.canonical in lex.ingredients(drugs[index - 1][0].canonical))]
        # 西柚会影响X的代谢…最好不要吃西柚: a behaviour or food the draft warns against once is endorsed elsewhere only
        # where that clause recommends it (可以喝), as for drugs; naming it in the explanation endorses nothing
        # (by the word: 少喝点啤酒没事，别喝白酒 warns about spirits only, both being 饮酒)
        warned_habits = {m.text for m, w in zip(mentions, flags) if w and m.kind == "substance" and
                         lex.substances[m.canonical].kind in ("behaviour", "food")}
        for m, w, a in zip(mentions, flags, affirmed_flags):
            if m.kind == "substance" and lex.substances[m.canonical].kind in ("behaviour", "food") and not w:
                if m.text in warned_habits and not a:
                    continue
                # 不要空腹大量饮酒 / 避免大量食用高酪胺食物（奶酪、红酒）: a warning whose qualifiers or host noun stand between
                # the cue and the drink or food endorses none of it (round 15)
                low = clause_start_of(draft, m.start)
                if QUALIFIED_WARNING.search(draft, low, m.start) or AVOIDED_EXAMPLES.search(draft, low, m.start):
                    continue
                if HABIT_CONSTITUENT_AFTER.match(draft, m.end):
                    continue   # 西柚中的呋喃香豆素会抑制…: what the food holds explains the effect, no eating endorsed (round 19)
                if HABIT_OF_PEOPLE.match(draft, m.end):
                    continue   # 有喝酒习惯者一天不超过2000mg: the drinkers the advice is for, not drinking endorsed
                # (不要喝。可以改用不含酒精的软胶囊: a drinking verb of the clause before is not this one's, round 19)
                if CONSTITUENT.search(draft[max(0, m.start - 4):m.start]) and \
                        not re.search(r"喝|饮|吃", draft[max(low, m.start - 8):m.start]):   # 可以喝点含酒精的饮料 stays
                    continue   # 藿香正气水含有酒精 / 不含酒精的剂型: what a product contains, not drinking
                endorsed.add(m.canonical)
        affirmed_of = {id(m): a for m, a in zip(mentions, affirmed_flags)}
        screened: set[int] = set()
        # the two readings below need words most drafts lack: decided once per draft, not per name
        may_switch_later = ("换" in draft or "改" in draft) and bool(IF_WORD.search(draft))
        may_ask_doctor = any(word in draft for word in ("医生", "大夫", "医师", "药师"))
        may_set_aside = may_ask_doctor and bool(ASIDE.search(draft))
        for index, (mention, is_warned) in enumerate(drugs):
            if is_warned:
                warned.append(mention)
                continue
            # 您吃的依那普利和螺内酯都会…: a name joined to the patient's own medicine by 和/、 is theirs too
            joined = index > 0 and bool(context) and context[-1] is drugs[index - 1][0] and \
                draft[drugs[index - 1][0].end:mention.start].strip() in ("和", "、", "及", "与", "以及", "跟") and \
                bool(re.match(r"\s*(?:都|均|这两|两者|二者)", draft[mention.end:]))   # describes both, advises nothing
            # 您正在吃的亚莫利（格列美脲）: the generic in brackets right after the patient's own medicine names that same
            # medicine (one ingredient shared), not a second one (round 16)
            if index > 0 and context and context[-1] is drugs[index - 1][0] and \
                    draft[drugs[index - 1][0].end:mention.start].strip() in ("（", "(") and \
                    draft[mention.end:mention.end + 1] in ("）", ")") and not affirmed_of[id(mention)] and \
                    not CONTINUE.search(draft[mention.end:mention.end + 12]) and \
                    set(lex.ingredients(mention.canonical)) & set(lex.ingredients(drugs[index - 1][0].canonical)):
                context.append(mention)
                continue
            # 在二甲双胍、格列美脲基础上加用…: the names of the base are what the patient takes
            base = ON_BASE.search(draft, clause_start_of(draft, mention.start)) if "基础上" in draft else None
            on_base = base is not None and base.start(1) <= mention.start and mention.end <= base.end(1) and \
                bool(record) and (mention.canonical in record or any(   # only what the record holds (fail closed)
                    set(lex.ingredients(mention.canonical)) & set(lex.ingredients(name)) for name in record))
            if (on_base or (joined or CURRENT_USE.search(draft[max(0, mention.start - 8):mention.start])) and
                    not affirmed_of[id(mention)]) and not CONTINUE.search(draft[mention.end:mention.end + 12]):
                context.append(mention)
                continue   # 您正在服用华法林，…: what the patient takes, named as context: a current medicine, not advice
            # 您同时吃贝那普利和螺内酯，这两种药本身就会…/ 钙片会和多替拉韦结合: the patient's own medicine (or its
            # ingredient) named in an explanation, with nothing that advises it (no affirmation, no dose in its clause,
            # no continue, nothing added on top), describes the current regimen: context, not a new recommendation
            # (round 15; only what the record holds: fail closed)
            if record and not affirmed_of[id(mention)] and mention.kind in ("drug", "product") and \
                    self._of_record(mention.canonical, record) and not CONTINUE.search(draft) and \
                    not self._advises(draft, mention, mentions) and \
                    not ADDED_BEFORE.search(draft[max(0, mention.start - 6):mention.start]) and \
                    not CONTINUE.search(draft[clause_start_of(draft, mention.start):clause_end_of(draft, mention.end)]) and \
                    not (DOSE.search(own := draft[mention.end:clause_end_of(draft, mention.end)]) or IU_DOSE.search(own)):
                context.append(mention)
                continue
            if not affirmed_of[id(mention)] and bool(record) and (
                    WITH_BEFORE.search(draft[max(0, mention.start - 12):mention.start]) and
                    WITH_WHEN.match(draft, mention.end) or
                    UNTIL_BEFORE.search(draft[max(0, mention.start - 3):mention.start]) and
                    DONE_AFTER.match(draft, mention.end)) and \
                    (mention.canonical in record or any(set(lex.ingredients(mention.canonical)) &
                                                        set(lex.ingredients(name)) for name in record)):
                context.append(mention)
                continue
            # 低钾和吃氢氯噻嗪有关: the patient's own medicine named as the cause of a finding is context, not advice
            # (only what the record holds: fail closed)
            if not affirmed_of[id(mention)] and CAUSE_AFTER.match(draft, mention.end) and bool(record) and \
                    (mention.canonical in record or any(set(lex.ingredients(mention.canonical)) &
                                                        set(lex.ingredients(name)) for name in record)):
                context.append(mention)
                continue
            # 和牛奶或钙片隔开两小时吃: what the drug is to be kept apart from is named, not advised
            if not affirmed_of[id(mention)] and KEPT_APART_AFTER.match(draft, mention.end) and \
                    KEPT_APART_BEFORE.search(draft, clause_start_of(draft, mention.start), mention.start):
                screened.add(id(mention))
                continue
            # 打造影剂前后要停用二甲双胍: the time around another procedure or drug, when the clause stops something
            if not affirmed_of[id(mention)] and OCCASION_AFTER.match(draft, mention.end) and \
                    HOLD_WORDS.search(draft[mention.end:clause_end_of(draft, mention.end)]):
                screened.add(id(mention))
                continue
            if PRESCRIBER_BEFORE.search(draft[max(0, mention.start - 4):mention.start]) and \
                    PRESCRIBER_AFTER.search(draft[mention.end:mention.end + 6]):
                screened.add(id(mention))
                continue
            if self._hypothetical(draft, mention) and not affirmed_of[id(mention)] or \
                    may_switch_later and self._future_switch(draft, mention) or \
                    may_ask_doctor and self._asked_of_doctor(draft, mention):
                screened.add(id(mention))
                continue   # 如果您吃的是X: a supposition, not advice (the patient's own medicines come from the profile)
            # 以后如果要加抗抑郁药要先告诉医生: a medicine supposed for later with a referral advises nothing now (round 15)
            if may_ask_doctor and not affirmed_of[id(mention)] and self._future_add(draft, mention):
                screened.add(id(mention))
                continue
            # 如果以后医生确实要给您用X，一般会…: what a doctor may decide, supposed, with no dose in its sentence (round 16)
            if may_ask_doctor and not affirmed_of[id(mention)] and \
                    DOCTOR_SUPPOSED.search(draft[sentence_start_of(draft, mention.start):mention.start]):
                end = SENTENCE_END.search(draft, mention.end)
                rest = draft[mention.end:end.start() if end else len(draft)]
                if not (DOSE.search(rest) or IU_DOSE.search(rest) or SUPPOSED_ALLOWED.search(rest)):
                    screened.add(id(mention))
                    continue
            if may_ask_doctor and not affirmed_of[id(mention)] and \
                    DOCTOR_WHETHER.search(draft, clause_start_of(draft, mention.start), mention.start) and \
                    not _dosed(_rest_of_sentence(draft, mention.end)):
                screened.add(id(mention))
                continue
            if may_ask_doctor and not affirmed_of[id(mention)] and \
                    DOCTOR_CHOOSES.search(draft, clause_start_of(draft, mention.start), mention.start):
                screened.add(id(mention))
                continue
            if ("吃" in draft or "用" in draft or "服" in draft) and not affirmed_of[id(mention)] and \
                    SUPPOSED_TAKING.search(draft, _supposed_low(draft, mention.start), mention.start) and \
                    (REFERRAL_AFTER.match(draft, mention.end) or
                     REFERRAL_AFTER.match(draft, clause_end_of(draft, mention.end))) and \
                    not _dosed(_rest_of_sentence(draft, mention.end)):
                screened.add(id(mention))
                continue
            if may_set_aside and self._set_aside(draft, mention):
                screened.add(id(mention))
                continue
            if self._not_advice(draft, mention, mentions, affirmed_of):
                screened.add(id(mention))
                continue
            if mention.kind in ("class", "substance", "drug", "product") and self._for_others(draft, mention):
                screened.add(id(mention))
                continue
            if self._screened(draft, mention, drugs[index - 1][0] if index > 0 else None, screened):
                screened.add(id(mention))
                continue   # neither advice nor the patient's medicine (the patient's own come from the profile)
            # 思力华是长效抗胆碱药（LAMA）: a class a named drug is said to be describes that drug, which is read on its own
            # rows; the class word (whose nearest class in the knowledge may be a wider one) is no second medicine
            # (round 19)
            if mention.kind == "class" and index > 0 and drugs[index - 1][0].kind in ("drug", "product") and \
                    not affirmed_of[id(mention)] and DESCRIBED_AS.match(draft, drugs[index - 1][0].end, mention.start):
                screened.add(id(mention))
                continue
            substances = [mention.canonical] if mention.kind == "class" else lex.ingredients(mention.canonical)
            if mention.kind == "class" and lex.classes[mention.canonical].allergy_group is False and \
                    not lex.rules_by_subject.get(mention.canonical):
                pass
            # 恩替卡韦是一线抗乙肝病毒药：每天0.5mg: a class the drug is said to belong to describes it, and the dose after
            # it is still the drug's
            following = index + 1
            while following < len(drugs) and drugs[following][0].kind == "class" and substances and \
                    DESCRIBED_AS.match(draft[drugs[following - 1][0].end:drugs[following][0].start]) and \
                    all(drugs[following][0].canonical in lex.classes_of(s) for s in substances):
                following += 1
            next_start = drugs[following][0].start if following < len(drugs) else len(draft)
            end = SENTENCE_END.search(draft, mention.end)
            stop = min(next_start, end.start() if end else len(draft))
            # 鱼油和缬沙坦没有相互作用，每天1-2g鱼油是可以的: a dose stated before the next name in that name's own
            # clause is the next name's (read below as its dose before the name), not this one's
            next_clause = clause_start_of(draft, next_start)
            if mention.end < next_clause < stop and \
                    (DOSE.search(draft[next_clause:next_start]) or IU_DOSE.search(draft[next_clause:next_start])):
                stop = next_clause
            # 鱼油和阿托伐他汀一起吃没问题，每天1-2g即可 (想吃鱼油，能和他汀一起吗): the dose in the clauses after a pair taken
            # together is the dose of the one the question asks to take; the first name's, when the question asks
            # about it and not the partner (氨氯地平和西地那非可以合用，…从25mg开始 for 能吃伟哥吗 stays the partner's)
            if index > 0 and question and draft[drugs[index - 1][0].end:mention.start].strip() in ("和", "与", "跟", "同") \
                    and TAKEN_TOGETHER.match(draft, mention.end):
                own_end = clause_end_of(draft, mention.end)
                first = drugs[index - 1][0]
                if own_end < stop and not (DOSE.search(draft[mention.end:own_end]) or
                                           IU_DOSE.search(draft[mention.end:own_end])) and \
                        recommended and recommended[-1].mention is first:
                    asked = self._asked(question)
                    if self._among(first, asked) and not self._among(mention, asked):
                        recommended[-1].dose_text += " " + draft[own_end:stop]
                        stop = own_end
            dose_text = draft[mention.end:stop]
            # 每1ml含对乙酰氨基酚100mg。每次2.5ml…: the amount right after a name that a volume is said to hold is the
            # liquid's concentration, no dose; the dose may come in the next sentence (round 20)
            held = None
            if "含" in draft[max(0, mention.start - 12):mention.start] and len(substances) == 1 and \
                    (volume := HOLDS_BEFORE.search(draft[clause_start_of(draft, mention.start):mention.start])) and \
                    (amount := LEADING_AMOUNT.match(dose_text)):
                mg = float(amount.group(1)) * (1000.0 if amount.group(2) in ("g", "克") else 1.0)
                held = Ingredient(substances[0], mg / float(volume.group(1) or 1.0), per_ml=True)
                dose_text = " " * amount.end() + dose_text[amount.end():]
            read_to = stop   # where the dose text ends in the draft
            sentence_start = sentence_start_of(draft, mention.start)
            own = set(substances)
            # (二甲双胍是首选降糖药。: a class the drug is said to be is the drug described, round 15)
            described = {id(drugs[i][0]) for i in range(index + 1, following)}
            alone = all(other.canonical == mention.canonical or id(other) in described or other.kind != "class" and
                        own & set(lex.ingredients(other.canonical)) for other, _ in drugs
                        if sentence_start <= other.start and (end is None or other.start < end.start()))
            if end is not None and next_start > end.end() and alone and \
                    not DOSE.search(CONCENTRATION.sub(" ", PER_VOLUME_CONTENT.sub(" ", unit_strength(dose_text)[0]))):
                # 可以吃布洛芬。每次400mg，每日3次。— the dose in the next sentence, when no other drug comes first and
                # the sentence names only this drug (鱼油和缬沙坦没有相互作用。每天1-2g: whose dose is unclear); a
                # concentration (浓度是20mg/ml。) or a unit strength is no dose
                # past blank lines; a sentence ending in a colon (用法如下：) takes the list under it, up to a blank line
                low = end.end()
                while low < len(draft) and draft[low] in " \t\r\n":
                    low += 1
                # (## 加巴喷丁加量方案\n- 第1天：300mg…: a heading that names the drug takes the list under it, round 18)
                joint = " "
                if draft[sentence_start:end.start() + 1].rstrip().endswith(("：", ":")) or \
                        draft[sentence_start:sentence_start + 8].lstrip().startswith("#"):
                    block = draft.find("\n\n", low)
                    high = block if block >= 0 else len(draft)
                    # the list keeps its first line a line (a table by weight band reads its bands line by line)
                    joint = "\n" if "\n" in draft[end.end():low] else " "
                else:
                    following = SENTENCE_END.search(draft, low)
                    high = following.start() if following else len(draft)
                    # 甲氨蝶呤是…基础用药。\n**用法：**\n- 每天3片: a heading ending in a colon takes the list under it
                    if draft[low:high].rstrip(" *").endswith(("：", ":")):
                        block = draft.find("\n\n", high)
                        high = block if block >= 0 else len(draft)
                read_to = min(next_start, high)
                # 不建议一次吃超大剂量（如50万IU）: a sentence that warns gives the amount not to take, no dose of it
                if not WARNING_OPENS.match(draft, low):
                    dose_text += joint + draft[low:read_to]
            elif end is not None and next_start > end.end() and alone and "加" in draft[end.end():next_start] and \
                    read_to == end.start():
                # 起始每次75mg，每天2次；一周后可以加到每次150mg…: the sentence after a dose that raises it to an amount of
                # its own, naming no other medicine, is this one's schedule too (round 20)
                following = SENTENCE_END.search(draft, end.end())
                high = min(next_start, following.start() if following else len(draft))
                if RAISED_AMOUNT.search(draft, end.end(), high) and not WARNING_OPENS.match(draft, end.end()):
                    dose_text += " " + draft[end.end():high]
                    read_to = high
            # 肾功能正常时1g每天3次；肌酐清除率低时减为…: the sentence after a dose for normal kidneys holds the dose for
            # the others (the dose rule reads one or the other by the patient's kidneys)
            if NORMAL_KIDNEY.search(dose_text) and read_to < next_start:
                after = SENTENCE_END.search(draft, read_to)
                if after is not None and after.end() < next_start:
                    following = SENTENCE_END.search(draft, after.end())
                    dose_text += "；" + draft[after.end():min(next_start, following.start() if following else len(draft))]
            # a dose stated before the name in its clause (每天吃5万单位维生素D), when no other drug comes between
            clause_start = clause_start_of(draft, mention.start)
            previous_end = drugs[index - 1][0].end if index > 0 else 0
            before = draft[max(clause_start, previous_end):mention.start]
            if (DOSE.search(before) or IU_DOSE.search(before)) and not _dose_of_previous(before):
                dose_text = before + " " + dose_text
            elif (index == 0 or drugs[index - 1][0].end <= sentence_start) and \
                    not (DOSE.search(own_clause := draft[mention.end:clause_end_of(draft, mention.end)]) or
                         IU_DOSE.search(own_clause)):
                # 可以加量到每次400mg，一天2次，塞来昔布对胃比较友好: the first name of its sentence takes a dose stated
                # in the sentence's earlier clauses
                earlier = draft[sentence_start:clause_start]
                if DOSE.search(earlier) or IU_DOSE.search(earlier):
                    dose_text = earlier + " " + dose_text
                elif index == 0 and (mention.text in question or mention.canonical in question) and \
                        (DOSE.search(draft[:sentence_start]) or IU_DOSE.search(draft[:sentence_start])):
                    # 可以加量。建议每次1g，每4小时一次。对乙酰氨基酚对胃刺激小: a draft that doses before it names anything
                    # doses the question's drug; the first name is that drug
                    dose_text = draft[:sentence_start] + " " + dose_text
            strength = None
            if len(substances) == 1 and mention.kind != "class":
                strength = stated_concentration(draft[mention.end:], substances[0]) or held
            clause_end = clause_end_of(draft, mention.end)
            form = lex.products[mention.canonical].form if mention.kind == "product" else ""
            # an eye form (阿托品眼用凝胶 / 红霉素眼膏) is into the eye, not on the skin, though 凝胶 and 膏 read as the
            # skin's: its eye conditions (闭角型青光眼) count (round 12)
            ocular = bool(OCULAR.search(draft[mention.start:clause_end]))
            topical = not ocular and (form in TOPICAL_FORMS or bool(TOPICAL.search(draft[clause_start:clause_end])))
            recommended.append(Recommended(mention, substances, dose_text, strength=strength, topical=topical,
                                           ocular=ocular, intrauterine=bool(INTRAUTERINE.match(draft, mention.end)),
                                           after_pregnancy=bool(AFTER_PREGNANCY.search(draft[clause_start:mention.start])),
                                           from_trimester=later_trimester(draft[clause_start:mention.start])))
        return recommended, warned, endorsed, context, warned_habits

    @staticmethod
    def _advises(draft: str, mention: Mention, mentions: Sequence[Mention]) -> bool:
        """Whether the sentence of a name advises it: a clause that advises (可以 / 继续 / 建议 / a dose…), its refusing
        clauses (所以不能再和X一起吃) set aside, and one that names another medicine (建议选瑞舒伐他汀，与胺碘酮相互作用较小)
        advising that one, not this."""
        low, high = sentence_start_of(draft, mention.start), _sentence_end(draft, mention.end)
        for found in CLAUSE_SPAN.finditer(draft, low, high):
            clause = found.group(0)
            if not ADVICE_IN_SENTENCE.search(clause) or \
                    REFUSING_CLAUSE.search(clause) and not re.search(r"可以|没问题|没关系", clause):
                continue
            if not (found.start() <= mention.start < found.end()) and any(
                    found.start() <= other.start < found.end() and other.canonical != mention.canonical and
                    other.kind in ("drug", "product") for other in mentions):
                continue
            return True
        return False

    def _contents(self, draft: str, mentions: Sequence[Mention]) -> dict[int, int]:
        """{index of an ingredient named as content: index of the product or class it describes} (see _read)."""
        lex = self.lexicon
        out: dict[int, int] = {}
        if "含" not in draft and "成分" not in draft and "里面有" not in draft and "里有" not in draft:
            return out
        for index, m in enumerate(mentions):
            if m.kind not in ("drug", "substance", "class") or index == 0:
                continue
            lead = draft[max(0, m.start - 24):m.start]
            # 含有扑尔敏（马来酸氯苯那敏）: the content named again in brackets, with its salt, is the same content (round 16)
            if index - 1 in out and mentions[index - 1].canonical == m.canonical and \
                    SALT_IN_BRACKET.fullmatch(draft[mentions[index - 1].end:m.start]):
                out[index] = out[index - 1]
                continue
            if not (CONTENT_CUE.search(lead) or CONTENT_LIST.search(lead)) or MODIFIER_AFTER.match(draft, m.end):
                continue   # 含布洛芬的止痛药: what qualifies another name, not the content of the name before
            low = sentence_start_of(draft, m.start)
            own = set(lex.ingredients(m.canonical)) or {m.canonical}
            hosts = [i for i in range(index) if mentions[i].start >= low and i not in out]
            product = next((i for i in reversed(hosts) if mentions[i].kind == "product" and
                            own <= set(lex.ingredients(mentions[i].canonical))), None)
            if product is None and (UNIT_CONTENT.search(lead) or ANAPHOR_CONTENT_LEAD.search(lead)):
                product = next((i for i in reversed(range(index)) if mentions[i].kind == "product" and
                                i not in out and own <= set(lex.ingredients(mentions[i].canonical))), None)
            host = product if product is not None else next(
                (i for i in reversed(hosts) if mentions[i].kind == "class" and mentions[i].canonical != m.canonical),
                None)
            if host is None or HOST_ADVISED.search(draft, mentions[host].end, m.start):
                continue
            out[index] = host
        return out

    def _of_record(self, canonical: str, record: set[str]) -> bool:
        """Whether a name is one of the patient's medicines, or only ingredients of one of them (多替拉韦 of 绥美凯)."""
        if canonical in record:
            return True
        own = set(self.lexicon.ingredients(canonical))
        return bool(own) and any(own <= set(self.lexicon.ingredients(name)) for name in record)

    def _not_advice(self, draft: str, mention: Mention, mentions: Sequence[Mention], affirmed_of: dict) -> bool:
        """An example of a class in an explanation, a narrowed class, what it is not, what it is compared with."""
        lead = draft[max(0, mention.start - 12):mention.start]
        if PRIVATIVE.search(lead) or "不" in lead and PRIVATIVE_LIST.search(lead):
            return True    # 换成不含克拉霉素的方案: whatever the clause recommends, it is not this
        if UNRELATED_AFTER.match(draft, mention.end) and UNRELATED_BEFORE.search(lead):
            return True    # 和磺胺无关 / 和阿莫西林（青霉素类）不是一类: what the advised drug is not related to (round 17)
        if affirmed_of.get(id(mention), False):
            return False
        if COMPARED.search(lead) or METABOLITE.search(lead):
            return True
        if lead.endswith(("与", "和", "跟", "同")) and COMPARED_AFTER.match(draft, mention.end):
            return True    # 与布洛芬不同，… / 和X相比: what the advised drug is compared with (round 16)
        if NO_SUBSTITUTE.match(draft, mention.end):
            return True    # 紧急避孕药不能代替常规避孕: what it is not, said of the kind (round 15)
        if IDENTITY_LEAD.search(draft, max(0, mention.start - 12), mention.start):
            return True    # 红曲…化学结构就是洛伐他汀: what a constituent of another thing is, said of that thing (round 19)
        if lead.endswith(("影响", "干扰", "加快", "减慢", "改变")) and ACTED_ON_WHAT.match(draft, mention.end):
            return True    # 酒精会…影响免疫抑制剂的代谢: the medicine a thing acts on, named in an explanation (round 20)
        if AFFECTED_AFTER.match(draft, mention.end):
            return True    # 阿托伐他汀也会受一定影响: named as what an effect reaches, in an explanation (round 19)
        if ("前" in draft or "时" in draft) and PRECAUTION_AFTER.match(draft, mention.end):
            return True    # 做需要打造影剂的检查前，告诉医生…: the occasion of a precaution, not advice (round 19)
        if LEVEL_CHANGED.search(lead) and not DOSE_OF.match(draft, mention.end):
            return True    # 来曲唑会降低雌激素: the body's own hormone a medicine lowers, no hormone to take
        if not (mention.kind == "class" or EXAMPLE_OF_KIND.match(draft, mention.end) or
                EXAMPLE_HINT.search(draft, max(0, mention.start - 16), mention.start)):
            return False   # nothing that could make it an example or a description: the usual case, decided fast
        low = clause_start_of(draft, mention.start)
        # an explanation names no way of taking anything: 吃点常用的青霉素类 / 吃布洛芬这类药就行 / 吃他汀（如辛伐他汀）
        # are advice however they are phrased
        sentence_low = sentence_start_of(draft, mention.start)
        clause_high = clause_end_of(draft, mention.end)
        if WAY_OF_TAKING.search(draft[sentence_low:clause_high]):
            return False
        if mention.kind == "class" and DESCRIBED_CLASS.search(lead) and mention.start - low > 2:
            return True
        if EXAMPLE_OF_KIND.match(draft, mention.end):
            return True
        bracket = EXAMPLE_IN_BRACKET.search(draft[max(0, low - 1):mention.start])
        if bracket:   # （如辛伐他汀、洛伐他汀）: the host before the bracket decides
            at = max(0, low - 1) + bracket.start()
            host = [m for m in mentions if m.end <= at and at - m.end <= 1]
            return bool(host) and not affirmed_of.get(id(host[-1]), False)
        if EXAMPLE_LEAD.search(draft[low:mention.start]) and low > 0 and draft[low - 1] in "，,":
            # …影响经CYP3A4代谢的他汀，比如洛伐他汀: the clause before names the kind and recommends nothing
            previous = clause_start_of(draft, low - 1)
            before = draft[previous:low - 1]
            kinds = [m for m in mentions if previous <= m.start and m.end <= low - 1 and m.kind == "class"]
            return bool(kinds) and not any(affirmed_of.get(id(m), False) for m in kinds) and \
                not re.search(r"可以|建议|推荐|首选|选用|改用|换成", before)
        return False

    def _for_others(self, draft: str, mention: Mention) -> bool:
        """A vaccine advised for the people around the patient (家里其他成员可以接种…)."""
        if mention.kind == "product" or not self._is_vaccine(mention.canonical):
            return False
        low = clause_start_of(draft, mention.start)
        before = draft[low:mention.start]
        # 孩子和家人都要接种: the patient is among them
        return bool(OTHERS.search(before)) and not re.search(r"孩子|宝宝|您|你|患者|本人|自己|大家|全家", before)

    def _is_vaccine(self, name: str) -> bool:
        lex = self.lexicon
        if name in lex.substances:
            return lex.substances[name].kind == "vaccine"
        return name in lex.classes and "疫苗" in name

    @staticmethod
    def _hypothetical(draft: str, mention: Mention) -> bool:
        """A name in a supposition about what the patient takes (如果您吃的是硝苯地平 / …，例如硝苯地平长效片)."""
        if not IF_WORD.search(draft, max(0, mention.start - 40), mention.start):
            return False
        low = clause_start_of(draft, mention.start)
        if HYPOTHETICAL.search(draft[low:mention.start]):
            return True
        if SUPPOSED_TOGETHER.search(draft[low:mention.start]) and \
                REFERRAL.search(draft, mention.end, span_end(draft, mention.end)):
            return True
        if low == 0 or draft[low - 1] not in "，," or not EXAMPLE_LEAD.search(draft[low:mention.start]):
            return False
        previous = clause_start_of(draft, low - 1)
        return bool(HYPOTHETICAL.search(draft[previous:low - 1]))

    @staticmethod
    def _asked_of_doctor(draft: str, mention: Mention) -> bool:
        """An example of the options the draft sends the patient to ask a doctor about (可以问神经科医生其他选择，比如X),
        with no dose of it in its sentence: a topic for the visit, not advice (比如X每晚5mg is advice)."""
        lead = draft[max(0, mention.start - 6):mention.start]
        if "如" not in lead and "像" not in lead:
            return False    # the usual name: no example lead before it, decided without a scan
        low = clause_start_of(draft, mention.start)
        if low == 0 or draft[low - 1] not in "，,：:" or not EXAMPLE_LEAD.search(draft[low:mention.start]):
            return False
        if not ASK_DOCTOR_OPTIONS.search(draft[clause_start_of(draft, low - 1):low - 1]):
            return False
        return not _dosed(_rest_of_sentence(draft, mention.end))

    def _asked(self, question: str) -> list[set[str]]:
        """The ingredients of each medicine the question asks to take (想吃鱼油 / 能吃伟哥吗)."""
        return [set(self.lexicon.ingredients(m.canonical)) | {m.canonical}
                for m in self.lexicon.find_mentions(question, ("drug", "product", "class", "substance"))
                if ASKING.search(question[max(0, m.start - 6):m.start])]

    def _among(self, mention: Mention, asked: list[set[str]]) -> bool:
        own = set(self.lexicon.ingredients(mention.canonical)) | {mention.canonical}
        return any(own & names for names in asked)

    @staticmethod
    def _set_aside(draft: str, mention: Mention) -> bool:
        """A use of the drug the draft sets aside as another matter and leaves to a doctor, in one sentence
        (小剂量X用于预防血栓是另一回事，需医生评估): no advice for the question asked."""
        low = sentence_start_of(draft, mention.start)
        end = SENTENCE_END.search(draft, mention.end)
        sentence = draft[low:end.start() if end else len(draft)]
        return bool(ASIDE.search(sentence) and DOCTOR_DECIDES.search(sentence))

    @staticmethod
    def _future_add(draft: str, mention: Mention) -> bool:
        """如果以后要加X，先告诉医生: a medicine the draft supposes may be added later, referred to a doctor."""
        low = sentence_start_of(draft, mention.start)
        if not FUTURE_ADD.search(draft[low:mention.start]):
            return False
        rest = _rest_of_sentence(draft, mention.end)
        return not _dosed(rest) and bool(
            REFERRAL.search(rest) or re.search(r"(?:先|要先|请先|需先)\s*(?:告诉|咨询|问|和|跟|让)[^，,。；;]{0,4}(?:医生|药师|大夫)",
                                               rest))

    @staticmethod
    def _future_switch(draft: str, mention: Mention) -> bool:
        """A switch the draft supposes for later, with a referral in its sentence (如果以后换成其他他汀，要先问清楚):
        the switch word affirms nothing now."""
        if "换" not in draft[max(0, mention.start - 12):mention.start] and \
                "改" not in draft[max(0, mention.start - 12):mention.start]:
            return False    # no switch word before the name: decided without a scan
        if not IF_WORD.search(draft, max(0, mention.start - 24), mention.start):
            return False
        if not FUTURE_SWITCH.search(draft[clause_start_of(draft, mention.start):mention.start]):
            return False
        end = SENTENCE_END.search(draft, mention.end)
        rest = draft[mention.end:end.start() if end else len(draft)]
        return bool(REFERRAL.search(rest) or re.search(r"问清楚|先问|再问|问问|问一下", rest))

    @staticmethod
    def _screened(draft: str, mention: Mention, previous: Mention | None, screened: set[int]) -> bool:
        """A name the draft lists among what to report to a doctor (…正在吃抗凝药的请先咨询医生)."""
        led = SCREEN_LEAD.search(draft[max(0, mention.start - 12):mention.start]) or \
            (previous is not None and draft[previous.end:mention.start].strip() in SCREEN_JOIN and
             (id(previous) in screened or   # (the patient's own medicine first in the list: its lead counts)
              bool(SCREEN_LEAD.search(draft[max(0, previous.start - 12):previous.start]))))
        if not led:
            return False
        # **需要告诉医生的情况** / - 最近吃过X: an item under a lead that refers to a doctor (round 16)
        line_low = draft.rfind("\n", 0, mention.start) + 1
        line_high = draft.find("\n", mention.end)
        line_high = len(draft) if line_high < 0 else line_high
        if "\n" in draft and ITEM_LINE.match(draft, line_low):
            rest = draft[mention.end:line_high]
            if DOSE.search(rest) or re.search(r"可以|建议|继续|照常|推荐", rest):
                return False
            lead_high = line_low - 1
            while lead_high > 0:
                lead_low = draft.rfind("\n", 0, lead_high) + 1
                lead = draft[lead_low:lead_high]
                if lead.strip() and not ITEM_LINE.match(lead):
                    if REFERRAL.search(lead):
                        return True
                    break
                lead_high = lead_low - 1
        low = sentence_start_of(draft, mention.start)
        end = SENTENCE_END.search(draft, mention.end)
        high = end.start() if end else len(draft)
        referral = REFERRAL.search(draft, low, high)
        if referral is None:
            return False
        between = draft[mention.end:referral.start()] if referral.start() >= mention.end else ""
        return not (DOSE.search(between) or re.search(r"可以|建议|继续|照常|推荐", between))

    def _question_answered_no(self, draft: str, question: str) -> tuple[str, ...]:
        """Drugs of the question when the draft opens by saying no (不建议，… / 不能吃 / 最好不要): the draft's later
        mentions of them are read as part of that answer unless their own clause recommends them."""
        if not question.strip():
            return ()
        # **绝对不可以**。/ ## 不建议: markdown before the opening word is no word
        head = normalise(draft.strip().lstrip("*#>-_ \t\n"))[:12]
        # a cue inside a drug's name (别嘌醇 opens with 别) is no opening no
        opening = [hit for hit in load_table().find(head) if hit.start <= 2]
        if opening:
            names = [m for m in self.lexicon.find_mentions(head) if m.kind in ("drug", "product", "class", "substance")]
            opening = [hit for hit in opening if not any(m.start < hit.end and hit.start < m.end for m in names)]
        if not any(hit.value.role == "negation" and not REASSURANCE.match(head, hit.end) and
                   not NOT_STOPPING.match(head, hit.end) for hit in opening) and \
                not (PROBLEM_ASKED.search(question) and OPENING_PROBLEM.match(head)) and \
                not (ASKS.search(question) and not OPENING_YES.match(head) and any(not IF_WORD.search(draft, sentence_start_of(draft, hit), hit)
                                                   for hit in (found.start() for found in REFUSAL_ANSWER.finditer(draft)))):
            return ()
        # 能喝西柚汁吗 → 不建议。西柚汁会…: a drink, food or habit the question asks about is answered no with the drugs
        habits = [m.canonical for m in self.lexicon.find_mentions(question, ("substance",))
                  if self.lexicon.substances[m.canonical].kind in ("behaviour", "food")]
        asked = self.lexicon.find_mentions(question, ("drug", "product"))
        # 芬必得能吃吗 → 不建议。芬必得（布洛芬）…: a one-ingredient product's generic is the same medicine (round 15)
        generics = [self.lexicon.ingredients(m.canonical)[0] for m in asked if m.kind == "product" and
                    len(self.lexicon.ingredients(m.canonical)) == 1]
        return tuple(m.canonical for m in asked) + tuple(generics) + tuple(habits)

    # ---- the profile -----------------------------------------------------------------------------------------
    def normalise_profile(self, profile: PatientProfile) -> NormalisedProfile:
        lex = self.lexicon
        out = NormalisedProfile(ckd_stage=profile.ckd_stage, egfr=profile.egfr)
        for stated in profile.allergies:
            canonical = lex.canonical(stated, ("drug", "class", "product", "substance"))
            if canonical is None:
                # a note on the reaction beside the name (青霉素（过敏性休克） / 头孢 皮疹): the one name it contains
                inner = lex.find_mentions(stated, ("drug", "class", "product", "substance"), fuzzy=False)
                canonical = inner[0].canonical if len({m.canonical for m in inner}) == 1 else None
            if canonical is None:
                out.unresolved.append(f"allergy:{stated}")
            out.allergies.append((stated, canonical or stated))
        for stated in profile.conditions:
            canonical = lex.canonical(stated, ("condition",))
            stage = CKD_TEXT.search(stated)
            if stage and out.ckd_stage is None:
                out.ckd_stage = CN_STAGE[stage.group(1) or stage.group(3)]
                sub = (stage.group(2) or stage.group(4) or "").lower()
                if out.ckd_stage == 3 and sub in SUBSTAGE:
                    out.egfr_band = SUBSTAGE[sub]
                canonical = canonical or "慢性肾脏病"
            egfr = EGFR_TEXT.search(stated)
            if egfr and out.egfr is None:
                out.egfr = float(egfr.group(1))
                canonical = canonical or "慢性肾脏病"
            if canonical is None and (qualified := QUALIFIED.match(stated)):
                # 偏头痛伴先兆 → 有先兆偏头痛: a qualifier written after the name, where the name with it before is known
                name, quality = qualified.group(1), qualified.group(2)
                canonical = next((c for c in (lex.canonical(f"{lead}{quality}{joint}{name}", ("condition",))
                                              for lead in ("有", "") for joint in ("", "性"))
                                  if c is not None), None)
            if canonical is None:
                # a longer phrase that contains a known condition (阿司匹林诱发的哮喘 → 哮喘)
                inner = lex.find_mentions(stated, ("condition",), fuzzy=False)
                canonical = inner[-1].canonical if inner else None
            if canonical is None:
                out.unresolved.append(f"condition:{stated}")
            out.conditions.append((stated, canonical or stated))
        for stated in profile.medications:
            canonical = lex.canonical(stated, ("drug", "product", "class"))
            if canonical is None:
                inner = {m.canonical for m in lex.find_mentions(stated, ("drug", "product", "class"))}
                # 薄血丸（华法林）: a class named beside a member of it is that member, not two medicines
                inner = {n for n in inner if not any(n in lex.classes_of(other) for other in inner - {n})}
                canonical = inner.pop() if len(inner) == 1 else None
            if canonical is None and PAIRED_NAME.search(stated):
                # 洛匹那韦/利托那韦, 沙美特罗+氟替卡松: a combination written with a slash or plus is the product of that
                # name when the knowledge has one, else each of its parts (round 20)
                canonical = lex.canonical(PAIRED_NAME.sub("", stated), ("drug", "product"))
                if canonical is None:
                    parts = [lex.canonical(part.strip(), ("drug", "product", "class"))
                             for part in PAIRED_NAME.split(stated)]
                    if parts and all(parts):
                        out.medications += [(stated, part) for part in parts[1:]]  # type: ignore[misc]
                        canonical = parts[0]
            if canonical is None:
                out.unresolved.append(f"medication:{stated}")
            out.medications.append((stated, canonical or stated))
        apply_kidney_failure(lex, out)   # dialysis / end-stage kidney disease → CKD G5 (rules/renal.py)
        return out

    def _question_facts(self, question: str, profile: PatientProfile, facts: NormalisedProfile) -> None:
        """What the patient's own message says about them, for this audit (the turn's memory records it too): a
        medicine they are taking (吃甲硝唑第三天了 / 昨天输了头孢曲松 / 白天吃的白加黑) joins the current medicines;
        an infant's age in months (6个月宝宝) refines an age of 0."""
        if not question.strip():
            return
        if profile.age == 0:
            months = MONTHS.search(question)
            days = None if months else AGE_DAYS.search(question)
            if months and number(months.group(1)) is not None:
                facts.age_years = float(number(months.group(1))) / 12.0  # type: ignore[arg-type]
            elif days and number(days.group(1) or days.group(3)) is not None:
                # 6周大 is past the neonatal period (age<0.1 rows), 出生20天 is within it
                span = number(days.group(1) or days.group(3))
                facts.age_years = float(span) * (1 if (days.group(2) or days.group(4)) == "天" else 7) / 365.0  # type: ignore[arg-type]
        known_conditions = {canonical for _, canonical in facts.conditions}
        for mention in self.lexicon.find_mentions(question, ("condition",), fuzzy=False):
            before = question[max(0, mention.start - 4):mention.start]
            if mention.canonical not in known_conditions and (HAS.search(before) or mention.text.endswith("阳性")) and \
                    not HAS_NOT.search(before) and \
                    not RELATIVE.search(question[max(0, mention.start - 8):mention.start]) and \
                    not re.match(r"\s*(?:吗|么|的人|患者|病人)", question[mention.end:mention.end + 3]):
                known_conditions.add(mention.canonical)
                facts.conditions.append((mention.text, mention.canonical))
        # 我静息心率50左右 / 心跳才48: a resting rate under 60 the patient states is a slow heart (心动过缓) for this
        # audit; a threshold (心率低于50要停药) or a rate of 60 and over is none
        if "心动过缓" not in known_conditions:
            for rate in HEART_RATE.finditer(question):
                value = number(rate.group(1))
                if value is not None and 30 <= value < 60 and not RATE_THRESHOLD.match(question, rate.end()):
                    facts.conditions.append((rate.group(0), "心动过缓"))
                    break
        # 发烧39度，拉肚子带血和黏液: diarrhoea with blood (or pus) and fever the patient describes is the dysentery the
        # antimotility rows name (感染性腹泻: 高热、脓血便者禁用), though the message names no disease (round 19)
        if "血" in question and "感染性腹泻" not in known_conditions and _stated_sign(BLOODY_DIARRHOEA, question) and \
                _stated_sign(FEVER, question):
            facts.conditions.append(("血便伴发热", "感染性腹泻"))
        known = {canonical for _, canonical in facts.medications}
        mentions = self.lexicon.find_mentions(question, ("drug", "product"))
        for mention in mentions:
            low = clause_start_of(question, mention.start)
            before, after = question[low:mention.start], question[mention.end:]
            clause_after = re.split(r"[。；;！!？?，,\n]", after, maxsplit=1)[0]
            if mention.canonical in known or not TAKING.search(before[-6:]) or NOT_TAKING.search(before[-8:]) or \
                    RELATIVE.search(before) or \
                    ASKING.search(before[-8:]) or (clause_after.endswith(("吗", "么", "呢")) and not TAKEN.search(after[:8])):
                continue
            # 用酮康唑洗剂洗头 / 在点左氧氟沙星滴眼液: a medicine on the skin or into the eye is no systemic medicine
            if LOCAL_FORM.match(question, mention.end):
                continue
            # 以前吃过辛伐他汀，两年前就不吃了: a medicine the message says was stopped (up to the next name or the end of
            # the sentence) is not a current one, unless it was taken up again (又吃上了)
            following = [m.start for m in mentions if m.start > mention.start]
            sentence_end = SENTENCE_END.search(question, mention.end)
            high = min(following + [sentence_end.start() if sentence_end else len(question)])
            if STOPPED_AFTER.search(question, mention.end, high) and not RESUMED.search(question, mention.end, high):
                continue
            known.add(mention.canonical)
            facts.medications.append((mention.text, mention.canonical))

    # ---- the audit -----------------------------------------------------------------------------------------
    def audit(self, draft: str, profile: PatientProfile, question: str = "") -> AuditResult:
        # every matcher reads one form: traditional script and Taiwanese words → simplified (medq.agent.text)
        draft, question, profile = to_simplified(draft), to_simplified(question or ""), simplified_fields(profile)
        # 口服溶液（100ml:150mg）: a concentration written volume first reads as 150mg/100ml
        draft, question = VOLUME_FIRST.sub(r"\3\4/\1\2", draft), VOLUME_FIRST.sub(r"\3\4/\1\2", question)
        if "喝" in draft and "喝" in question and ASKS_DRINKING.search(question):
            draft = BARE_DRINK.sub(r"\1酒", draft)
        answered_no = self._question_answered_no(draft, question)
        facts = self.normalise_profile(profile)
        record = {canonical for _, canonical in facts.medications}
        recommended, warned, endorsed, context, cautioned = self._read(draft, answered_no, question, record)
        known = {canonical for _, canonical in facts.medications}
        # (多替拉韦 named for the patient's 绥美凯 is that medicine again, not a second one)
        facts.medications += [(m.text, m.canonical) for m in context if not self._of_record(m.canonical, known)]
        self._question_facts(question or "", profile, facts)
        self._question_concentration(question or "", recommended)
        self._shared_dose(draft, recommended, facts)
        if question and not profile.occupation:
            # the question's own words about the patient's work (我开货车…): the occupation rows read them
            from medq.agent.extraction import OCCUPATION, OCCUPATION_FOLK

            job = OCCUPATION.search(question)
            stated = job.group(1) if job else next((name for pattern, name in OCCUPATION_FOLK
                                                    if pattern.search(question)), None)
            if stated:
                profile = dataclasses.replace(profile, occupation=stated)
        ctx = AuditContext(self.lexicon, profile, facts, draft, question or "", recommended, warned, endorsed,
                           cautioned)
        for rule in self.rules:
            expand = getattr(rule, "expand", None)
            if expand is not None:
                expand(ctx)
        result = AuditResult(recommended=[r.display for r in ctx.recommended], warned=[m.canonical for m in warned],
                             unresolved=list(facts.unresolved), endorsed=sorted(endorsed))
        seen: dict[tuple[str, str, str, str], int] = {}
        for rule in self.rules:
            for finding in rule.check(ctx):
                key = (finding.drug, finding.ingredient, finding.rule, finding.patient_fact)
                if key not in seen:
                    seen[key] = len(result.findings)
                    result.findings.append(finding)
                elif finding.severity == "block" and result.findings[seen[key]].severity != "block":
                    result.findings[seen[key]] = finding     # the stricter of two rows saying the same thing
        return result

    @staticmethod
    def _shared_dose(draft: str, recommended: Sequence[Recommended], facts: NormalisedProfile) -> None:
        """辅酶Q10和阿托伐他汀可以一起吃，常用每天100-200mg: a dose after two names joined by 和 is not the patient's own
        medicine's (named second, it is the context of the question) when nothing doses it in its own clause."""
        current = {canonical for _, canonical in facts.medications}
        # 泰诺林（对乙酰氨基酚）和络活喜（氨氯地平）: a name in a bracket right after another of the same ingredient is
        # that one named twice; the pair is read between the first names, the dose after the bracket
        groups: list[list[Recommended]] = []
        for rec in recommended:
            last = groups[-1][-1] if groups else None
            if last is not None and rec.origin == last.origin == "draft" and \
                    set(rec.substances) & set(groups[-1][0].substances) and \
                    draft[last.mention.end:rec.mention.start].strip() in ("（", "("):
                groups[-1].append(rec)
            else:
                groups.append([rec])
        for before, group in zip(groups, groups[1:]):
            previous, rec = before[0], group[0]
            if rec.name not in current or previous.name in current or rec.origin != "draft" or \
                    previous.origin != "draft":
                continue
            # 鱼油（ω-3脂肪酸）和阿托伐他汀 / 鱼油（每日1-2g）与阿托伐他汀: a bracket after the first name is its own
            gap = draft[before[-1].mention.end:rec.mention.start]
            between = re.sub(r"[（(][^（()）]*[）)]", "", gap).strip().lstrip("）)").strip()
            if between not in ("和", "与", "跟", "同", "加"):
                continue
            tail = group[-1].dose_text
            own = re.split(r"[，,。；;！!？?\n]", tail.split(" ", 1)[-1] if len(group) == 1 and tail.startswith(gap)
                           else tail.lstrip("）) "), maxsplit=1)[0]
            if not (DOSE.search(own) or IU_DOSE.search(own)):
                for member in group:
                    member.dose_text = ""
        # 奥司他韦…。它和络活喜没有相互作用，成人每次75mg: the patient's own medicine as the second of a pair whose
        # first is an anaphor takes no dose the clauses after it state
        for rec in recommended:
            if rec.name in current and rec.origin == "draft" and \
                    re.search(r"(?:它|该药|这个药|此药)\s*(?:和|与|跟|同)\s*$",
                              draft[max(0, rec.mention.start - 6):rec.mention.start]):
                own = re.split(r"[，,。；;！!？?\n]", rec.dose_text, maxsplit=1)[0]
                if not (DOSE.search(own) or IU_DOSE.search(own)):
                    rec.dose_text = ""

    def _question_concentration(self, question: str, recommended: Sequence[Recommended]) -> None:
        """问：西替利嗪滴剂（10mg/ml）怎么用 答：西替利嗪每次1ml: a liquid the draft doses in ml without a concentration
        of its own is read at the concentration the question states after the same substance."""
        if not question.strip() or not (CONCENTRATION.search(question) or VOLUME_HOLDS.search(question)):
            return
        for rec in recommended:
            if rec.strength is not None or len(rec.substances) != 1 or not re.search(r"\d\s*(?:ml|毫升)", rec.dose_text):
                continue
            for mention in self.lexicon.find_mentions(question, ("drug", "product")):
                if self.lexicon.ingredients(mention.canonical) == rec.substances:
                    found = stated_concentration(question[mention.end:], rec.substances[0])
                    if found is not None:
                        rec.strength = found
                        break

    # ---- doses (v1 API) ------------------------------------------------------------------------------------
    @staticmethod
    def daily_dose_mg(text: str, unit_mg: float | None) -> float | None:
        """The daily amount a dose text states, in mg; None when it states none the parser understands."""
        from medq.agent.knowledge import Ingredient

        return read_dose(text, Ingredient("", unit_mg) if unit_mg else None).per_day_mg


def findings_by_row(results: Iterable[AuditResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        for finding in result.findings:
            counts[finding.rule_id or "-"] = counts.get(finding.rule_id or "-", 0) + 1
    return counts
