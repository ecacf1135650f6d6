"""ConText for Chinese patient messages: is a mention negated, hypothetical, about someone else, stopped or asked?

The clinical-NLP classic (Chapman et al.'s ConText; medspacy's `ConTextComponent`) as a table, not a growing regex:
each trigger is a phrase with a category, a direction (forward: it modifies mentions after it; backward: before it;
both) and the kinds of mention it applies to. A trigger's scope is its clause, cut short by a terminator (但是, 现在,
换成 …) and by another mention of the same kind unless the two are one list (在吃A和B, A、B都停了). Pseudo-triggers
(不要停, 控制好了, 不知道) are matched first and hide the shorter triggers inside them.

Two extensions that Chinese needs:
- `reach_back`: a backward trigger in a clause that has no mention of its kinds modifies the previous clause's
  mentions (我以前吃华法林，上个月医生让停了 / 得过胃溃疡，已经治好了).
- The experiencer (who a clause is about) is tracked across clauses: `OTHER` opens a scope that runs until `SELF`
  ends it (我妈有糖尿病，还有高血压。我有痛风). Lactation is the mother's even in a clause about the baby.

Categories: negated, hypothetical, uncertain (doubt or a question), stopped (a medicine no longer taken), healed (a
condition that is over), taking (a medicine taken now; taking_weak: a bare verb right before the name, 打胰岛素, that
does not count in a question), assert (a condition stated as the patient's), pseudo,
terminate. Kinds: medication, condition, allergy, pregnancy, lactation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Literal

Category = Literal["negated", "hypothetical", "uncertain", "stopped", "healed", "taking", "taking_weak", "prescribed",
                   "assert", "pseudo", "terminate"]
Direction = Literal["forward", "backward", "both"]
ALL_KINDS = frozenset({"medication", "condition", "allergy", "pregnancy", "lactation"})


@dataclass(frozen=True)
class Trigger:
    pattern: str                 # a regular expression, usually a plain phrase
    category: Category
    direction: Direction = "forward"
    kinds: frozenset[str] = ALL_KINDS
    max_distance: int = 12       # characters between trigger and mention
    reach_back: bool = False     # see the module docstring


def _t(patterns: str, category: Category, direction: Direction = "forward", kinds: Iterable[str] | None = None,
       max_distance: int = 12, reach_back: bool = False) -> list[Trigger]:
    chosen = frozenset(kinds) if kinds is not None else ALL_KINDS
    return [Trigger(p, category, direction, chosen, max_distance, reach_back) for p in _top_level(patterns)]


def _top_level(patterns: str) -> list[str]:
    """Split a|b|c(d|e) at the top-level bars only."""
    parts, depth, current = [], 0, ""
    for char in patterns:
        depth += {"(": 1, ")": -1, "[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return parts + [current]


MED = ("medication",)
COND = ("condition",)
ALLERGY = ("allergy",)
PREG = ("pregnancy",)
LACT = ("lactation",)

TRIGGERS: list[Trigger] = [
    # -- pseudo-triggers: look like a trigger, are not one
    *_t("不要停|不能停|别停|不用停|没停|没有停|不敢停|停不了|控制好了|控制得好|控制得很好|控制得挺好|控制得还行|控制住了|"
        "控制得不错|不知道|不清楚|不确定是不是|不太清楚|好多了|好些了|好一些|没好|还没好|没有好|不见好|"
        "不仅|不只|不光|无论|不管|不少|不舒服|不太舒服|不太好|不好意思|不一定|没关系|不用担心|不怎么|没什么|"
        "没效果|没用处|不管用|不太管用|无效|没开(?!始)|没有开(?!始)|没给开|没给我开", "pseudo"),   # (重症肌无力就没开: 没 is the prescription's)
    # -- negation
    *_t("没有|没|无|否认|不是|并非|并没有|未患|未曾|从未|从来没有|从没|排除了|排除|不存在", "negated", "forward", COND, 6),
    *_t("没有|没", "negated", "backward", COND, 1),   # 高血压没有, 糖尿病没
    *_t("没吃过|没有吃过|没用过|没有用过|没服用过|没服过|从没吃|从来没吃|从来没有吃|没在吃|没有在吃|没在用|没有在用|"
        "没吃|没有吃|没有服用|未服用|没用|没有用|没打过|没打|没有打|没在打|不打|不吃|不用|没有服|没服|未用过|从未用过|从未服用", "negated", "forward",
        MED, 8),
    *_t("不过敏|没有过敏|没过敏|无过敏|并不过敏|不会过敏|没有什么过敏|没什么过敏|也不过敏|从不过敏", "negated", "both", ALLERGY,
        14),
    *_t("没事|没问题|没反应|没有反应|假阳性|不是过敏|可以用|能用|用过没事", "negated", "backward", ALLERGY, 8),  # 青霉素没事
    *_t("否认|没有对|没对|不对|排除", "negated", "forward", ALLERGY, 10),
    *_t("没有|没|未|不是|不在|并没有|排除|并未|不可能|没在", "negated", "forward", PREG, 3),
    *_t("没有|没|不|不在|不是|没在|未|并没有|已经不|不再", "negated", "forward", LACT, 3),
    # -- hypothetical (clause scope)
    # (以后 right after a finished event is when, not a plan: 房颤消融以后华法林停了 / 移植以后一直吃他克莫司)
    *_t("如果|万一|假如|假设|要是|若是|倘若|打算|准备|计划|想要|"
        "(?<!消融)(?<!术)(?<!做完)(?<!生完)(?<!移植)(?<!出院)(?<!确诊)(?<!分娩)(?<!化疗)(?<!放疗)(?<!支架)(?<!瓣)(?<!置换)(?<!搭桥)(?<!手术)(?<!开刀)(?<!切除)以后|"
        "将来|的话|想怀|想生|备孕|要孩子|怀上|能不能怀|可以怀孕|"
        # 孕前就有甲减 / 怀孕前已经确诊: a condition known since before the pregnancy, not a plan for one
        "孕前(?!就|已经|一直|本来|便|查出|确诊|诊断|得)", "hypothetical", "both", None, 20),
    # 下周开始改成B: a change still to come (B not yet taken)
    *_t("下周开始|下个月开始|明天开始|后天开始|过几天开始|下周起|下个月起|从下周|从明天|从下个月", "hypothetical", "forward", MED, 10),
    # 下周要做胆囊切除: an operation still to come leaves no 术后 state yet
    *_t("要做|准备做|打算做|将要做|即将做|需要做|计划做|约了|排了|安排了", "hypothetical", "forward", COND, 4),
    *_t("可能把|可能会把|可能要把|可能换|可能会换|可能要换|到时候", "hypothetical", "both", MED, 20),   # 可能把A换成B: not yet
    # 本来要给我开A，后来没开 / 想打流感疫苗 / 要不要打疫苗: a medicine planned or weighed, not taken
    *_t("本来要|本来想|原本要|原本想|本来打算|原本打算|本想|差点", "hypothetical", "forward", MED, 14),
    *_t("想打|想要打|想去打|要不要打|该不该打|能不能打|可不可以打", "hypothetical", "forward", MED, 10),
    # 医生说去非洲不要吃甲氟喹: a medicine warned against is not one taken
    *_t("不要吃|别吃|不能吃|不可以吃|不宜吃|不要用|别用|不能用|不宜用", "negated", "forward", MED, 10),
    *_t("想开始|想要开始|想吃|想用|想试试|想试一下|想重新吃|想重新用|想再吃|想恢复吃|想重新开始吃", "hypothetical", "forward", MED, 10),   # 想开始吃降尿酸药: not yet taken
    # -- doubt and questions
    *_t("是不是|会不会|有没有|怀疑|担心|害怕|怕|预防|会得|容易得|检查一下|有没有可能|可能是|疑似|不确定|以为|还以为|"
        "遗传|查查|查一下|要不要查|能否|是否", "uncertain", "forward", COND + ALLERGY + PREG + LACT, 10),
    *_t("吗|么|嘛|没有吧", "uncertain", "backward", COND + ALLERGY + PREG + LACT, 3),
    *_t("家族史|家族病史|家族遗传史|遗传史|家族里|家族有", "uncertain", "both", COND + ALLERGY, 3),   # 糖尿病家族史: relatives'
    # a reported finding states the condition (体检发现血脂有点高 → 高脂血症)
    *_t("体检发现|检查发现|化验发现|体检说|报告显示|化验显示|检查显示|体检报告|化验单|产检发现|孕检发现|产检说|查出来|查出",
        "assert", "forward", COND, 12),
    *_t("能吃|能用|能服|可以吃|可以用|能不能吃|能不能用|可不可以吃|可以服用|要不要吃|该不该吃|吃什么|用什么|哪种|换什么|"
        "是否可以|能否服用|能否使用|会不会|有没有|需不需要|推荐|建议|一吃|一用|一打", "uncertain", "forward", MED, 10),
    # -- medicines: stopped and taken
    *_t("停用|停了|停药|停掉|已停|停服|停止服用|停止使用|停吃|不吃了|不用了|不打了|不再吃|不再服|不再用|没再吃|没再服|"
        "没再用|没有再吃|断了|早就不吃|已经不吃|让停|叫停|戒了|戒掉了|已经戒|(?:[叫让]|告诉|嘱咐|交代)我(?:先)?(?:不要|别|不能)(?:再)?吃|"
        "[叫让]我(?:先)?停|换掉了|换掉|吃了一阵|吃过一阵|吃过一段|吃了一段|吃完了(?![饭再])|已经吃完(?![饭再])|用完了|疗程结束了|疗程结束|疗程已经结束|疗程完了|疗程已经完了|"
        # a patch taken off (不贴了) and a course finished (吃完最后一片) end a medicine as 不吃了 does
        "不贴了|没再贴|没贴了|停贴|不用打了|不用吃了|不用再打|不用再吃|不用再用|不需要再打|不需要再吃|不用继续吃|不用继续打|吃完最后一[片粒颗支袋盒]|用完最后一[支瓶盒贴片]", "stopped", "both",
        MED, 14, reach_back=True),
    *_t("没吃了|没有吃了|没再吃|没用了|没打了|没服了", "stopped", "both", MED, 14, reach_back=True),   # …就没吃了
    # X现在停了 / 现在已经停了: 现在 before a stop is when it stopped, not a terminator (longer, so matched first)
    *_t("现在停了|现在已经停了|现在已停|现在停掉了|现在不吃了|现在没吃了|现在没在吃了", "stopped", "both", MED, 14,
        reach_back=True),
    *_t("原来吃(?!着)|原先吃(?!着)|原来用(?!着)|原先用(?!着)|原来打(?!着)|原先打(?!着)|"
        "以前吃|之前吃|以前用|之前用|过去吃|曾经吃|曾吃|以前服|之前服|以前打|之前打|吃过|用过|服用过|"
        "上次用|上回用|上次吃|上回吃|那次用|那次吃", "stopped", "forward", MED, 8),   # (上次用X加重过: a past use)
    *_t("在吃|在服|在用|在打|正在|一直|长期|每天|每日|每晚|每早|每周|目前|现在吃|现在用|现在服|平时|平常|经常|规律|按时|吃着|"
        "用着|服着|打着|服用|口服|吃了|用了|服了|注射|维持|吃上了|吃的是|用的是|吃的|用的|打的|服的|吃药|"
        "在喷|在吸|喷着|吸着|贴着|在点|点着|每天点|在滴|滴着|在嚼|嚼着|改嚼|在擦|在涂|在抹|擦着|涂着|抹着|打胰岛素|皮下注射|一天[一二两三四1-4]|一日[一二两三四1-4]|每次|早晚|早上|晚上|睡前|饭后|"
        "饭前|[0-9.]+ ?(mg|毫克|片|粒|支|单位|iu|IU|g|克)|[一二两三半]片|[一二两三]粒|还在吃|还吃着|天天|吃[^，。]{0,3}年|"
        "吃[^，。]{0,3}个月|打了[^，。]{0,3}年|降压药是|降糖药是|药是|发作时|发作的时候|疼的时候|痛的时候|难受的时候|需要时|必要时|"
        "偶尔|有时候|有时|备着|随身带|加了|加用|加上了|又开了|新开了",
        "taking", "both", MED, 14),
    *_t(r"(?:一天|一日|每天|每日|一周|每周)(?:打|吃|用|服|喷|吸|注射)[一二两三四五1-5](?:次|针|片|粒|支|顿|回)", "taking", "both", MED,
        14),  # 一天打两次X / 一天打三针X
    # a long-interval dose (一年打一次X / 每半年打一针X / 每四周输一次X): the drug is taken on that schedule
    *_t(r"(?:一|每|每隔)?(?:[一二两三四五六1-6半]个?)?(?:年|月|周|星期|礼拜)(?:打|输|用|吃|注射|输液)[一1](?:次|针|支|回)",
        "taking", "both", MED, 14),
    *_t("继续吃|继续用|继续服|继续打|接着吃|照常吃|照吃", "taking", "both", MED, 14),   # X继续吃
    # 现在打X (在打 inside 现在 would sit in the terminator), 二甲双胍也吃, 还喝三七粉
    *_t("现在打|现在喷|现在吸|现在贴|现在注射|目前打|目前吃|目前用|也在打|在喝|每天喝|长期喝|一直喝", "taking", "both", MED, 14),
    *_t("也吃|也用|也服|也打|还吃|还用|都吃|都用|还喝|只吃|只用|只打|只服|就吃|就用|就打|减量了|加量了|减了量|加了量", "taking_weak", "both", MED, 14),   # not in a question
    *_t("换成了|换成|改成了|改成|改用|换用|改吃|换吃|改打|换打|换了|改为|改开了|改开|换开了|换开", "taking_weak", "forward", MED, 4),  # not in a question
    # 医生开了头孢: prescribed; taken unless the sentence asks whether it may be taken (…哺乳期能吃吗)
    *_t("开了|开的|处方|开过来|给我开|医生开", "prescribed", "both", MED, 14),
    # 医生给了拉贝洛尔 / 给我用了X: what the doctor gave
    *_t("医生给了|大夫给了|医生给我用了|给我用了|医生给用了", "prescribed", "forward", MED, 3),
    # (a clause opening on) 点毛果芸香碱: eye drops put in (not 一点 / 有点 / 问点 / 点滴)
    *_t("(?<![\u4e00-\u9fff])点(?![了滴])", "taking_weak", "forward", MED, 0),
    *_t("打|吃|用|服|喷|吸|贴|擦|涂|抹", "taking_weak", "forward", MED, 0),   # (擦A酸 / 涂他克莫司: a cream is put on)
    # 喝中药，里面有丹参、三七: the ingredients named of a medicine taken (not in a question: 里面有布洛芬吗)
    *_t("里面有|里头有|里边有|成分有|成分是|含有", "taking_weak", "forward", MED, 2),   # 打胰岛素 (not in a question: 能吃布洛芬吗)
    # eye and ear drops are 滴 (滴拉坦前列素 / 在滴玻璃酸钠), not 点滴 (an infusion told by its own verb)
    *_t("(?<!点)滴(?!了一|到|在|进)", "taking_weak", "forward", MED, 0),
    # 吃 Januvia / 用 Ventolin: a name in Latin letters is typed after a space, which is no distance from the verb
    *_t(r"(?:打|吃|用|服|喷|吸|贴)[ \t\u3000]+", "taking_weak", "forward", MED, 0),
    # an English verb in a mixed message (I take Eliquis for 房颤 / I'm on Lipitor)
    *_t(r"(?<![A-Za-z])(?:[Ii]|[Ww]e)(?:\s+am|'m|\s+have been)?\s+(?:take|taking|use|using|on)\s+", "taking_weak", "forward", MED, 0),
    *_t(r"(?<![A-Za-z])(?:[Cc]an|[Cc]ould|[Ss]hould|[Dd]o|[Mm]ay)\s+[Ii]\s+(?:take|use)\s+", "uncertain", "forward", MED, 0),
    *_t("还没开始|还没吃|还没有吃|没开始吃|还没用|还没有用|还没打|准备吃|打算吃|考虑吃|想吃|要不要吃|还没去拿|还没拿|还没去买|还没买|"
        "没去拿|没去买|还在犹豫|还没决定|不敢吃|不敢用|不想吃", "negated", "backward",
        MED, 14, reach_back=True),
    # -- conditions: over and stated
    *_t("已经好了|治好了|痊愈|已治愈|已经治愈|治愈了|早就好了|好了|已经没了|已经没有了|切除了|手术切掉|已经康复|康复了|"
        "已经恢复|恢复正常了|不再发作|好利索了|好利落了|早好了|早就好利索|根治了|断根了|除根了", "healed", "backward", COND, 14, reach_back=True),
    *_t("有|患|得了|得过|确诊|诊断|查出|病史|多年|老毛病|一直|年了|患者|病人|本身|既往|合并|伴有|血压|血糖|血脂|尿酸|"
        "心率|转氨酶|肝功|肾功|偏高|很高|有点高|比较高|吃药控制|在治|老是|属于|以前|之前|曾经|过去|早年|年轻时|最近|经常|常常|总是|反复|老|又", "assert",
        "both", COND, 14),
    *_t("过|出过", "assert", "backward", COND, 1),   # 胃出血过, 得过
    *_t("都占全了|占全了|全占了|都占了|都占", "assert", "backward", COND, 4),   # 三高都占全了
    *_t("起了|长了|犯了", "assert", "forward", COND, 2),   # 脸上起了湿疹 / 又犯了痛风
    *_t("是|说是|诊断是|确诊是", "assert", "forward", COND, 1),   # 医生说是肾功能不全
    # 医生说糖耐量异常: what the doctor said the patient has (没有/可能 before the name still win: their own triggers)
    *_t("医生说|大夫说|医生讲|大夫讲|医生判断|医生诊断|医生看了说|医生查了说", "assert", "forward", COND, 2),
    *_t("变成了|变成|转成了|转成|发展成了|发展成", "assert", "forward", COND, 1),   # 甲亢治疗后现在变成甲减了

    # -- terminators end a forward or backward scope
    *_t("但是|但|不过|可是|而是|而且|只是|现在|目前|后来|然后|改|换|就是|其实|同时|另外|以及还有", "terminate", "both",
        None, 99),
]


@dataclass(frozen=True)
class TriggerMatch:
    start: int
    end: int
    trigger: Trigger

    @property
    def category(self) -> Category:
        return self.trigger.category


def _compile(triggers: list[Trigger]) -> list[tuple[re.Pattern[str], Trigger]]:
    return [(re.compile(t.pattern), t) for t in triggers]


_COMPILED = _compile(TRIGGERS)


def find_triggers(text: str) -> list[TriggerMatch]:
    """Every trigger in a clause; pseudo-triggers first, then leftmost-longest, never overlapping a pseudo.
    Triggers of different categories may overlap (在吃 is taking, 没在吃 negated: the longer wins per position)."""
    found: list[TriggerMatch] = []
    for pattern, trigger in _COMPILED:
        for match in pattern.finditer(text):
            if match.end() > match.start():
                found.append(TriggerMatch(match.start(), match.end(), trigger))
    pseudo = [m for m in found if m.category == "pseudo"]
    kept = [m for m in found if m.category != "pseudo" and not any(p.start < m.end and m.start < p.end
                                                                    for p in pseudo)]
    # a longer trigger hides the shorter ones inside it (不吃了 hides 不吃 and 吃; 是不是 hides 不是; 不过敏 hides 不过)
    result: list[TriggerMatch] = []
    for m in sorted(kept, key=lambda m: (m.start, -(m.end - m.start))):
        if any(r.start <= m.start and m.end <= r.end and (r.end - r.start) > (m.end - m.start) and
               r.category != "terminate" for r in result):
            continue
        result.append(m)
    return result


@dataclass
class Target:
    """A mention to classify: its kind and span within the clause."""

    kind: str
    start: int
    end: int
    categories: dict[str, int] = field(default_factory=dict)   # category -> distance to the nearest trigger


UNKNOWN_ITEM = re.compile(r"\s*(?:[\u4e00-\u9fff]{3,8}|[A-Za-z][A-Za-z-]{2,20})\s*(?:和|跟|与|及|以及|、|还有|加)\s*")
# (a dose word after the joiner is still the list: 吃羟氯喹和小剂量阿司匹林; so is a dosage form the knowledge does
# not spell with the name before it: 吃二甲双胍片和阿司匹林)
LIST_JOIN = re.compile(r"^\s*(?:片|片剂|胶囊|缓释片|控释片|肠溶片|分散片|颗粒|丸|滴丸|口服液|糖浆|注射液|针)?\s*(和|同|及|与|跟|、|/|以及|还有|或|或者|加|外加|,|，)?\s*(?:小剂量|低剂量|大剂量|少量的?)?\s*$")


def classify(text: str, targets: list[Target], triggers: list[TriggerMatch] | None = None) -> list[Target]:
    """Fill each target's `categories` with the triggers whose scope covers it (nearest distance per category)."""
    triggers = find_triggers(text) if triggers is None else triggers
    terminators = [m for m in triggers if m.category == "terminate"]
    by_kind: dict[str, list[Target]] = {}
    for target in sorted(targets, key=lambda t: t.start):
        by_kind.setdefault(target.kind, []).append(target)
    for kind, same in by_kind.items():
        for index, target in enumerate(same):
            left = _left_edge(text, same, index, terminators)
            right = _right_edge(text, same, index, terminators)
            for m in triggers:
                trigger = m.trigger
                if m.category == "terminate" or kind not in trigger.kinds:
                    continue
                # a trigger may overlap the name it modifies (改打 + the alias 打胰岛素): then it is adjacent
                if (m.start < target.start or m.start == target.start and m.end <= target.end and
                     m.category.startswith("taking")) and \
                        m.end <= target.end and m.start >= left and \
                        trigger.direction in ("forward", "both"):
                    distance = _gap(text, same, min(m.end, target.start), target.start)
                elif m.end > target.end and m.start >= target.start and m.end <= right and \
                        trigger.direction in ("backward", "both"):
                    distance = _gap(text, same, target.end, max(m.start, target.end))
                else:
                    continue
                if distance <= trigger.max_distance:
                    old = target.categories.get(m.category)
                    target.categories[m.category] = distance if old is None else min(old, distance)
    return targets


def _gap(text: str, same: list[Target], start: int, end: int) -> int:
    """Characters between a trigger and a mention, not counting the other list items in between."""
    inside = sum(max(0, min(t.end, end) - max(t.start, start)) for t in same)
    # the joining words of a list between the items (吃A跟B / A、B和C) are no distance either
    joins = sum(len(m.group(0)) for t, u in zip(same, same[1:]) if start <= t.end and u.start <= end
                for m in [LIST_JOIN.match(text[t.end:u.start])] if m)
    # 吃碳酸镧和骨化三醇: a list item the knowledge does not know stands between the verb and a name it knows
    if UNKNOWN_ITEM.fullmatch(text[start:end]):
        return 0
    return end - start - inside - joins


def _left_edge(text: str, same: list[Target], index: int, terminators: list[TriggerMatch]) -> int:
    """Forward scope: back to a terminator or to another mention of the kind, unless the two are one list (a
    list's items share the first item's forward triggers: 停了A和B)."""
    j = index
    while j > 0 and LIST_JOIN.match(text[same[j - 1].end:same[j].start]):
        j -= 1
    first = same[j]
    edge = same[j - 1].end if j > 0 else 0
    for m in terminators:
        if m.end <= first.start:
            edge = max(edge, m.end)
    return edge


def _right_edge(text: str, same: list[Target], index: int, terminators: list[TriggerMatch]) -> int:
    """Backward scope: on to a terminator or to the next mention of the kind, unless one list (A和B都停了)."""
    j = index
    while j + 1 < len(same) and LIST_JOIN.match(text[same[j].end:same[j + 1].start]):
        j += 1
    last = same[j]
    edge = same[j + 1].start if j + 1 < len(same) else len(text)
    for m in terminators:
        if m.start >= last.end:
            edge = min(edge, m.start)
    return edge


def reach_back_categories(text: str, kind: str, triggers: list[TriggerMatch] | None = None) -> dict[str, int]:
    """Categories of a clause's reach-back triggers for `kind` (used when the clause has no mention of that kind)."""
    triggers = find_triggers(text) if triggers is None else triggers
    return {m.category: m.start for m in triggers if m.trigger.reach_back and kind in m.trigger.kinds}


# -- experiencer: who a clause is about -------------------------------------------------------------------------
RELATIVES = ("妈妈|妈|母亲|老妈|爸爸|爸|父亲|老爸|老公|丈夫|爱人|妻子|老婆|媳妇|对象|孩子|儿子|女儿|宝宝|小孩|婴儿|娃|大宝|二宝|"
             "小宝|闺女|爷爷|奶奶|外公|外婆|姥姥|姥爷|公公|婆婆|岳父|岳母|丈母娘|老丈人|哥哥|姐姐|弟弟|妹妹|哥|姐|朋友|同事|"
             "邻居|家人|家里人|亲戚|男朋友|女朋友|男友|女友|闺蜜|舅舅|叔叔|阿姨|姑姑|病人家属|老人|家里老人|老伴|室友|同学|"
             "孙子|孙女|外孙女|外孙|阿仔|(?<![是个])老头子|(?<![是个])老头儿|老婆子|(?<![是个])老太婆|老大(?![夫爷娘妈难不])|老二|老三|当家的")
CHILDREN = re.compile(r"(孩子|儿子|女儿|宝宝|小孩|婴儿|娃|阿仔|大宝|二宝|小宝|闺女|新生儿|宝贝|男孩|女孩|男宝|女宝|孙子|孙女|外孙女|外孙|老二|老三|老大(?![夫爷娘妈难不]))"
                      r"(?!他|她|的爸|的妈|爸|妈|爹|娘|爷|奶|姥|外公|外婆)")
OTHER = re.compile(rf"(我|俺|我们)?(家)?(的)?(?<![宝孕准手胎])(?<!要|生)({RELATIVES})|(他|她)(有|患|得|在|对|一直|今年|怀孕|是|也|说|的|们)|"
                   r"该患者|此患者|这位患者|这个患者|该病人|该用户|这位病人")
SELF = re.compile(r"我(?!家|们家|妈|爸|老|儿|女|孩|的孩|宝|姐|哥|弟|妹|爷|奶|外|姥|公|婆|朋|同|媳|丈|妻|爱人|对象)|本人|自己|俺(?!家)|宝妈|孕妈|准妈妈|新手妈妈|二胎妈妈")


# the writer does something to or for a child (生完孩子 / 在家带孙子): the child is the object of the writer's verb, so
# it opens no scope of its own (带孩子去看病 / 带娃打疫苗 take the child to care: the child is who is treated)
WRITER_VERB_CHILD = re.compile(r"(?:生完|生下|生了|刚生|带|帮忙带|帮着带|照顾|照看|看|哄|接送)(?:了|着)?(?:二胎|一胎|个)?"
                               r"(?:孙子|孙女|外孙女|外孙|孩子|宝宝|娃|小孩|老二|二宝)(?:以后|之后|后)?"
                               r"(?![^，,。；;！!？?]*(?:看病|医院|就诊|打针|吃药|用药|疫苗|检查|发烧|咳嗽|过敏|吗|么))")


def experiencer(clause: str, previous_self: bool) -> tuple[bool, bool]:
    """(is the clause about the patient, does it name a child). A clause that names no one keeps the previous
    clause's experiencer; a relative named before the patient's own 我 makes the clause someone else's; a child the
    writer only gave birth to or looks after (刚生完孩子两个月 / 平时在家带孙子) names no one else."""
    own_verb = WRITER_VERB_CHILD.search(clause)
    if own_verb and not OTHER.search(clause[:own_verb.start()] + " " * len(own_verb.group(0)) + clause[own_verb.end():]):
        return (True if SELF.search(clause) else previous_self), False
    other = OTHER.search(clause)
    mine = SELF.search(clause)
    child = bool(CHILDREN.search(clause))
    if other and (not mine or mine.start() >= other.start()):
        return False, child
    if mine:
        return True, child
    return previous_self, child
