"""Rule-based entity extraction: what a patient's message says about the patient, as typed facts.

Deterministic and fast, so it runs on every message before any model. The message is cut into clauses (at ，。；！？
and line breaks); each clause has a subject (the patient, or someone else: 我妈妈有冠心病 is not the patient's
fact; a clause without a subject keeps the previous clause's). Within a clause each lexicon mention is read with
the words around it:

- allergy: a drug, class, product or substance in a clause about 过敏 (or 皮试阳性); 不过敏 / 没有…过敏 / 否认 make
  it `denied`; questions (…过敏吗, 是不是过敏) add nothing. 我没有药物过敏史 names nothing, so it adds nothing.
- medication: a drug or product with a taking cue (在吃, 正在服用, 长期, 每天, 开了 …) is `active`; with a stop cue
  (停用, 停了, 不吃了) `stopped`; with 没吃过 `denied`; a drug only asked about (能吃布洛芬吗) adds nothing.
- condition: a condition with a self subject and no doubt cue; 没有/否认 make it `denied`, 已经治好了 `stopped`;
  doubt (是不是, 会不会, 担心, 预防) and generic questions (糖尿病人能吃…吗) add nothing.
- pregnancy / lactation: explicit statements (怀孕8周, 哺乳期, 没有怀孕, 已经断奶); hypotheticals (如果怀孕, 备孕)
  add nothing. age: 35岁 / 三十五岁 / 今年35 (not 3岁时). sex: 男，35岁 / 我是女性.

An optional model-based extractor can add facts through the same `FactExtractor` protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from medq.agent.facts import Fact, FactStatus
from medq.agent.knowledge import Lexicon, Mention

CLAUSE_SPLIT = re.compile(r"[，,。；;！!？?\n\r]+")
OTHER_PERSON = re.compile(r"(我|俺)?(妈妈|妈|母亲|爸爸|爸|父亲|老公|丈夫|爱人|妻子|老婆|媳妇|孩子|儿子|女儿|宝宝|小孩|"
                          r"婴儿|爷爷|奶奶|外公|外婆|姥姥|姥爷|公公|婆婆|岳父|岳母|哥哥|姐姐|弟弟|妹妹|朋友|同事|"
                          r"邻居|家人|家里人|亲戚|男朋友|女朋友|闺蜜|舅舅|叔叔|阿姨|姑姑|病人家属)|(他|她)(有|患|得|在|对|一直|"
                          r"今年|怀孕|是)")
SELF = re.compile(r"我|本人|自己|俺")
QUESTION = re.compile(r"吗|呢$|是不是|会不会|有没有|能不能|可不可以|可以吃|能吃|能用|可以用|能否|可否|是否|要不要|"
                      r"该不该|哪些|什么|怎么|如何")
DOUBT = re.compile(r"是不是|会不会|怀疑|担心|害怕|怕|预防|会得|容易得|检查一下|排除|有没有可能|遗传")
ALLERGY_CUE = re.compile(r"过敏|皮试阳性")
ALLERGY_DENIED = re.compile(r"不过敏|没有过敏|没过敏|无过敏|并不过敏|不会过敏|否认|没(有)?[^，。]{0,8}过敏|"
                            r"无[^，。]{0,8}过敏")
ALLERGY_QUESTION = re.compile(r"过敏吗|是不是[^，。]{0,8}过敏|会不会[^，。]{0,8}过敏|有没有[^，。]{0,8}过敏")
MED_STOPPED = re.compile(r"停用|停了|停药|停掉|已停|停服|不吃了|不用了|不再(吃|服|用)|没再(吃|服|用)|停止(服用|使用)|"
                         r"换掉|换成了别的")
MED_DENIED = re.compile(r"没(有)?(吃|服|用)过|从(来)?没(有)?(吃|服|用)|没(有)?在(吃|服|用)|没有服用|不吃|未服用")
MED_TAKING = re.compile(r"在吃|在服|在用|在打|正在|一直|长期|每天|每日|每晚|每早|目前|现在(吃|用|服)|平时|平常|经常|规律|按时|"
                        r"吃着|用着|服着|打着|服用|口服|吃了|用了|服了|注射|开了|开的|处方|维持|吃[^，。]{0,3}年|"
                        r"吃[^，。]{0,3}个月|吃上了")
MED_STRONG = re.compile(r"在吃|在服|在用|在打|正在|一直|长期|每天|每日|目前|平时|平常|经常|规律|吃着|用着|服着|开了")
LIST_JOIN = re.compile(r"^\s*(和|及|与|跟|、|以及|还有|加|外加)\s*$")
CONDITION_DENIED = re.compile(r"(没有|没|无|否认|不是|并非|并没有|排除了)[^，。]{0,4}$")
CONDITION_HEALED = re.compile(r"已经好了|治好了|痊愈|已治愈|已经治愈|好了|早就好")
CONDITION_ASSERT = re.compile(r"有|患|得了|得过|确诊|诊断|查出|病史|多年|老毛病|一直|年了|是[^，。]{0,6}(患者|病人)|"
                              r"我[^，。]{0,3}(血压|血糖|血脂|尿酸|心率|转氨酶|肝功|肾功)|本身|既往|合并|伴有")
HYPOTHETICAL = re.compile(r"如果|万一|打算|准备|计划|备孕|想要|要是|假如|以后|将来|怀上")
PREGNANT_TRUE = re.compile(r"怀孕了|怀孕\d|怀孕[一二三四五六七八九十两]|怀孕中|已经怀孕|正在怀孕|孕\d+周|孕[一二三四五六七八九十两]+"
                           r"(个)?(周|月)|孕早期|孕中期|孕晚期|妊娠期|妊娠\d|我是孕妇|现在是孕妇|有身孕|怀着|怀了")
PREGNANT_FALSE = re.compile(r"没有怀孕|没怀孕|未怀孕|不是孕妇|没有身孕|未孕|排除怀孕|不在孕期|并未怀孕|没有在孕期")
LACTATING_TRUE = re.compile(r"哺乳期|在哺乳|正在哺乳|喂奶|母乳喂养|喂母乳|在喂母乳|吃母乳|还在喂")
LACTATING_FALSE = re.compile(r"断奶了|已经断奶|没有哺乳|不哺乳|不喂奶|没有喂奶|没在喂|不是哺乳期|已断奶")
AGE = re.compile(r"(?:今年|年龄|年纪)?([0-9]{1,3}|[一二三四五六七八九十两百]{1,4})(?:周岁|岁)(?!时|的时候|那年|起|开始|以前|以后|以上|以下|左右)")
AGE_BARE = re.compile(r"(?:今年|年龄|年纪)([0-9]{1,3})(?![0-9]|个|斤|公斤|kg|cm|年)")
SEX = re.compile(r"(?:我是|本人|患者|性别)?(?<![\u4e00-\u9fff])(男|女)(?=[，,。\s、；;0-9]|性|$|生(?!日|活)|士)|"
                 r"(?:我是|本人|性别)(男|女)(?!儿|朋友|友|孩|婿|方)")
CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


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


class FactExtractor(Protocol):
    def extract(self, message: str, message_id: str | None = None) -> list[Fact]: ...


@dataclass
class _Clause:
    text: str
    start: int
    self_subject: bool


class RuleBasedExtractor:
    """Facts the patient states about themself, normalised through the lexicon (see the module docstring)."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    def clauses(self, message: str) -> list[_Clause]:
        result: list[_Clause] = []
        self_subject = True   # a message speaks about its sender until it names someone else
        position = 0
        for piece in CLAUSE_SPLIT.split(message):
            start = message.find(piece, position) if piece else position
            position = start + len(piece)
            if not piece.strip():
                continue
            other = OTHER_PERSON.search(piece)
            mine = SELF.search(piece)
            if other and (not mine or mine.start() >= other.start() or other.group(0).startswith(("我", "俺"))):
                self_subject = False
            elif mine:
                self_subject = True
            result.append(_Clause(piece, start, self_subject))
        return result

    def extract(self, message: str, message_id: str | None = None) -> list[Fact]:
        facts: dict[tuple[str, str], Fact] = {}

        def add(kind: str, value: str, status: FactStatus, evidence: str) -> None:
            fact = Fact(kind, value, status, source_message_id=message_id, evidence=evidence)  # type: ignore[arg-type]
            facts[fact.identity] = fact  # a later clause about the same thing wins (我以前吃…，现在停了)

        for clause in self.clauses(message):
            text = clause.text
            mentions = self.lexicon.find_mentions(text)
            if clause.self_subject:
                self._allergies(text, mentions, add)
                self._medications(text, mentions, add)
                self._conditions(text, mentions, add)
                self._pregnancy(text, add)
                self._age_and_sex(text, add)
            self._lactation(text, clause.self_subject, add)
        return list(facts.values())

    # ---- kinds ---------------------------------------------------------------------------------------------
    def _allergies(self, text: str, mentions: list[Mention], add) -> None:
        if not ALLERGY_CUE.search(text) or ALLERGY_QUESTION.search(text):
            return
        status: FactStatus = "denied" if ALLERGY_DENIED.search(text) else "active"
        for mention in mentions:
            if mention.kind in ("drug", "class", "product", "substance"):
                add("allergy", mention.canonical, status, text)

    def _medications(self, text: str, mentions: list[Mention], add) -> None:
        if ALLERGY_CUE.search(text):
            return  # 我对阿莫西林过敏 names a drug the patient does not take
        drugs = [m for m in mentions if m.kind in ("drug", "product", "class")]
        previous: FactStatus | None = None
        for index, mention in enumerate(drugs):
            before = text[drugs[index - 1].end if index else 0:mention.start]
            after = text[mention.end:drugs[index + 1].start if index + 1 < len(drugs) else len(text)]
            around = before + "|" + after
            if index and LIST_JOIN.match(before):
                # the second item of a list shares the first one's verb: 在吃呋塞米和螺内酯, 停了A和B
                tail = text[mention.end:len(text) if index + 1 == len(drugs) else drugs[index + 1].start]
                status_of_list = "stopped" if MED_STOPPED.search(tail) else previous
                if status_of_list is not None:
                    if status_of_list == "stopped":
                        for earlier in drugs[:index]:
                            add("medication", earlier.canonical, "stopped", text)
                    add("medication", mention.canonical, status_of_list, text)
                    previous = status_of_list
                    continue
            previous = None
            if MED_STOPPED.search(around):
                status: FactStatus = "stopped"
            elif MED_DENIED.search(before):
                status = "denied"
            elif MED_STRONG.search(around) or (MED_TAKING.search(around) and not QUESTION.search(before)):
                status = "active"
            else:
                continue
            previous = status
            add("medication", mention.canonical, status, text)

    def _conditions(self, text: str, mentions: list[Mention], add) -> None:
        for mention in (m for m in mentions if m.kind == "condition"):
            before = text[:mention.start]
            after = text[mention.end:]
            if DOUBT.search(before) or (QUESTION.search(text) and not CONDITION_ASSERT.search(before + after)):
                continue  # 我是不是得了糖尿病: neither a fact nor a denial
            elif CONDITION_DENIED.search(before):
                add("condition", mention.canonical, "denied", text)
            elif CONDITION_HEALED.search(after):
                add("condition", mention.canonical, "stopped", text)
            elif CONDITION_ASSERT.search(before + after) or SELF.search(before) or mention.start == 0:
                add("condition", mention.canonical, "active", text)

    def _pregnancy(self, text: str, add) -> None:
        if PREGNANT_FALSE.search(text):
            add("pregnancy", "false", "active", text)
        elif PREGNANT_TRUE.search(text) and not HYPOTHETICAL.search(text):
            add("pregnancy", "true", "active", text)

    def _lactation(self, text: str, self_subject: bool, add) -> None:
        # 宝宝在吃母乳 names the baby but says the mother breastfeeds: lactation ignores a child subject
        if not self_subject and not re.search(r"宝宝|孩子|婴儿|小孩|儿子|女儿", text):
            return
        if LACTATING_FALSE.search(text):
            add("lactation", "false", "active", text)
        elif LACTATING_TRUE.search(text) and not HYPOTHETICAL.search(text):
            add("lactation", "true", "active", text)

    def _age_and_sex(self, text: str, add) -> None:
        match = AGE.search(text) or AGE_BARE.search(text)
        if match:
            age = chinese_number(match.group(1))
            if age is not None and 0 < age < 125 and not re.search(r"多$|几$", match.group(0)[:-1]):
                add("age", str(age), "active", text)
        sex = SEX.search(text)
        if sex:
            add("sex", "male" if (sex.group(1) or sex.group(2)) == "男" else "female", "active", text)
