"""Dose limits (dosingGuideline rows, kind dosing): absolute per dose and per day, and mg/kg per dose and per day
for a patient with a known weight (children). A dose in the draft is read after the drug, in its clause and the
rest of its sentence: 每次/一次 N mg|g|μg|ml|片|粒|袋|包|支 (ml through the product's concentration, 片/袋 through
its amount per unit; a bare substance through its first single-ingredient product), 每日/一天 N 次, 每 N 小时一次,
a daily total (每日 N mg), or N mg/kg; ranges take the upper bound."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable

from medq.agent.knowledge import Ingredient, Lexicon
from medq.agent.rules.base import AuditContext, Finding, Recommended, finding, population_words, shown

NUMBER = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十半]+)"
UNIT = r"(mg|毫克|g|克|μg|ug|mcg|微克|ml|毫升|万iu|万IU|万国际单位|万单位|iu|IU|国际单位|单位|片|粒|袋|包|支|颗|丸)"
# mass of one international unit, for the vitamins dosed in IU (WHO: 1 IU vitamin A = 0.3 μg retinol, vitamin D =
# 0.025 μg, vitamin E = 0.67 mg RRR-α-tocopherol)
IU_MG = {"维生素A": 0.0003, "维生素D": 0.000025, "维生素D2": 0.000025, "维生素D3": 0.000025, "维生素AD": 0.0003,
         "维生素E": 0.67}
RANGE = rf"{NUMBER}(?:\s*[-~～到至]\s*{NUMBER})?"
PER_KG = re.compile(rf"(?:每公斤体重|每千克体重|每公斤|每千克)?\s*{RANGE}\s*(mg|毫克)\s*(?:/\s*(?:kg|公斤|千克)|每公斤)"
                    rf"(?:\s*[·/]?\s*(d|日|天|day))?|(?:每公斤体重|每千克体重|每公斤|每千克)\s*{RANGE}\s*(mg|毫克)")
PER_DOSE = re.compile(rf"(?:每次|一次|单次|每回|每顿)?\s*{RANGE}\s*{UNIT}")
TIMES_PER_DAY = re.compile(rf"(?:每日|每天|一日|一天|日|1日|1天)\s*(?:吃|服|服用|口服|用)?\s*{RANGE}\s*次|"
                           rf"{NUMBER}\s*次\s*/\s*(?:日|天)")
ABBREVIATED = {"qd": 1.0, "bid": 2.0, "tid": 3.0, "qid": 4.0, "q12h": 2.0, "q8h": 3.0, "q6h": 4.0, "q4h": 6.0}
ONCE = re.compile(r"每晚|睡前|每早|早上一次|晨起")
# a stated cap on the number of doses (24小时内不超过4次 / 每日最多3次 / 一天不超过4次)
CAP = re.compile(rf"(?:24\s*小时|二十四小时|每日|每天|一日|一天)(?:内)?\s*(?:不超过|不得超过|不要超过|别超过|勿超过|不可超过|最多|至多|不宜超过)\s*(?:吃|服|服用|用)?\s*{NUMBER}\s*次")
BETWEEN_TWO = re.compile(r"(?:两者|二者|两药|两种药|两个药|两种|和|与|跟)[^，,。；;]{0,8}$")
# 每7天服用0.5mg / 每隔2天一次 / 每3日1次: a dose every few days (a week is left to the weekly rows)
EVERY_DAYS = re.compile(r"每(?:隔)?\s*(\d+|[二两三四五六七八九十])\s*(?:天|日)\s*(?=一次|1次|服|吃|口服|用|给药|\d)")
# 隔日一次 / 隔天吃 / 每周3次: a dose every other day, or a few times a week (乙胺丁醇15-25mg/kg每周3次 at eGFR < 30):
# the day's amount is the dose times 1/2 or N/7 (a weekly dose, 每周一次, is left to the weekly rows)
# (隔天 alone is also colloquial for 第二天, the next day: only 隔天一次 counts)
ALTERNATE_DAYS = re.compile(r"隔日|隔天\s*(?:吃|服|用|服用|口服)?\s*(?:一|1)\s*次|隔一天|每两天|每二天")
TIMES_PER_WEEK = re.compile(r"(?:每周|一周|每星期|一星期|每礼拜|一礼拜)\s*(?:吃|服|服用|口服|用|给药|注射|静滴)?\s*([2-6二两三四五六])\s*次")
# (每两个钟 / 每两个钟头: Cantonese and colloquial words for an hour)
EVERY_HOURS = re.compile(rf"(?:每(?:隔)?|间隔)\s*{RANGE}\s*(?:个)?(?:小时|钟头|钟(?!点))|每(小)时")
# a concentration stated with the drug: 西替利嗪滴剂（10mg/ml）, 阿奇霉素干混悬剂 100mg/5ml
CONCENTRATION = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|毫克|g|克)\s*[/∕]\s*(\d+(?:\.\d+)?)?\s*(?:ml|毫升|mL)")
# the content of a volume (每5ml含布洛芬100mg / 每1ml含对乙酰氨基酚100mg): a concentration, no dose
PER_VOLUME_CONTENT = re.compile(r"每\s*(\d+(?:\.\d+)?)?\s*(?:ml|毫升|mL)\s*(?:中)?\s*(?:含有|含)[^\d，,。；;！!？?\n]{0,12}"
                                r"(\d+(?:\.\d+)?)\s*(mg|毫克|g|克)")
# a concentration stated volume first right after the name, in brackets or after 含 (（每5毫升15毫克） / 每5ml含15mg):
# 每 and a volume, then an amount with no clause break between (每5ml，每天3次 states no amount)
VOLUME_HOLDS = re.compile(r"每\s*(\d+(?:\.\d+)?)?\s*(?:ml|毫升|mL)\s*(?:中)?\s*(?:含有|含|[:：])?[^\d，,。；;！!？?\n]{0,12}?"
                          r"(\d+(?:\.\d+)?)\s*(mg|毫克|g|克)(?!\s*[/∕]\s*(?:kg|公斤|千克))")
# the amount in one unit, stated as the product's strength (每片10mg / 每粒含0.25g / 60mg/片): no dose, but what a
# count of units (每次2片) weighs
UNIT_STRENGTH = re.compile(r"每\s*(片|粒|袋|包|支|颗|丸)\s*(?:含|是|为|含有)?\s*(\d+(?:\.\d+)?)\s*(mg|毫克|g|克|μg|ug|mcg|微克)"
                           r"|(\d+(?:\.\d+)?)\s*(mg|毫克|g|克|μg|ug|mcg|微克)\s*(?:[/∕]\s*(片|粒|袋|包|支|颗|丸)|"
                           r"(?:的)?(?:片剂|药片|片子|胶囊|咀嚼片|分散片|肠溶片|缓释片|控释片|口崩片|泡腾片))")
# 0.1g片剂2片 (round 18); 5mg咀嚼片，每晚1片 (round 19)
LOADING = re.compile(r"(?:首剂|首次|第一次|第一剂|首日|第一天|负荷剂量|负荷量|起始剂量)\s*(?:剂量)?\s*(?:为|是|吃|服|服用|口服|用)?\s*$")
PER_DAY_AFTER = re.compile(r"\s*/\s*(?:天|日|d\b|day)")
LOADING_PAIR = re.compile(r"\s*[，,]\s*(?:\d+|[一两二三])\s*(?:个)?\s*小时后\s*(?:再|可再)")
NORMAL_KIDNEY = re.compile(r"(?:肾功能|肾脏功能|肌酐清除率|eGFR|egfr)\s*正常(?:时|者|的人|的患者|情况下|的话|的成人)"
                           r"[^；;。！!？?\n]*")
PER_DAY_BEFORE = re.compile(r"(?:每日|每天|一日|一天|日)\s*(?:按|总量|剂量)?\s*(?:约|大约|大概|约为|共|合计|总共)?\s*$")
# a daily total or cap (每天总量不超过1000mg / 每天总量控制在200~700mg / 一天不要超过3片): the day's amount
DAILY_TOTAL = re.compile(rf"(?:每日|每天|一日|一天|日|24小时)(?:内)?(?:(?:总量|剂量|最大剂量|总剂量)\s*"
                         rf"(?:宜|应|应该|要|需|需要|最好|可)?\s*"
                         rf"(?:不超过|不得超过|不要超过|别超过|勿超过|不可超过|不宜超过|不能超过|控制在|最多|为|是)?|"
                         rf"最多|不超过|不要超过|别超过|勿超过|不可超过|不得超过|不能超过|不宜超过|共)?\s*"
                         rf"(?:吃|服|服用|口服|用)?\s*(?:约|大约|共约)?\s*{RANGE}\s*{UNIT}(?!\s*/\s*(?:kg|公斤|千克))")
# the most the label allows, stated beside the patient's own dose (每天最大量是400mg，您每次200mg、一天两次): read apart
# from the dose, and the day counted as the larger of the two, so a wrong maximum still counts (round 12)
STATED_MAX = re.compile(rf"(?:(?:(?:每日|每天|一日|一天|日)\s*(?:的)?\s*)?(?:最大量|最大用量|最大剂量|最高剂量|上限)|"
                        rf"(?:每日|每天|一日|一天)\s*(?:的)?\s*(?:最大|最高|最多))\s*"
                        rf"(?:是|为|在)?\s*(?:约|大约)?\s*{RANGE}\s*(mg|毫克|g|克)")
AMOUNT_CAP = re.compile(r"(?:最多|不超过|不要超过|别超过|勿超过|不可超过|不得超过|不宜超过|不能超过|至多|总共|总量)\s*(?:连续)?\s*"
                        r"(?:吃|服|用|含|服用|使用)?\s*$|\d\s*次\s*[（(]\s*(?:共|即|约)?\s*$")
EMPHASIS = re.compile(r"\*\*|__")
CN_NUM = {"半": 0.5, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
MASS = {"mg": 1.0, "毫克": 1.0, "g": 1000.0, "克": 1000.0, "μg": 0.001, "ug": 0.001, "mcg": 0.001, "微克": 0.001}


def number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    if text in CN_NUM:
        return CN_NUM[text]
    if text.startswith("十") and len(text) == 2 and text[1] in CN_NUM:
        return 10 + CN_NUM[text[1]]
    if len(text) == 2 and text[1] == "十" and text[0] in CN_NUM:
        return CN_NUM[text[0]] * 10
    return None


def _upper(match: re.Match[str], first: int) -> float | None:
    low, high = number(match.group(first)), number(match.group(first + 1))
    return high if high is not None else low


@dataclass
class Dose:
    per_dose_mg: float | None = None
    per_day_mg: float | None = None
    per_kg_dose: float | None = None
    per_kg_day: float | None = None
    upkeep_day_mg: float | None = None   # the day's upkeep dose, a loading dose left out (None: no loading dose)
    # 按每次25mg/kg…，也可以每次直接喂1g: one of two regimens given in mg alone (its per-kg weight is the patient's)
    absolute_option: bool = False


def to_mg(amount: float, unit: str, strength: Ingredient | None) -> float | None:
    if unit in MASS:
        return amount * MASS[unit]
    if "iu" in unit.lower() or "单位" in unit:
        factor = IU_MG.get(strength.substance) if strength is not None else None
        if factor is None:
            return None
        return amount * factor * (10000 if unit.startswith("万") else 1)
    if strength is None or strength.amount_mg is None:
        return None
    if unit in ("ml", "毫升"):
        return amount * strength.amount_mg if strength.per_ml else None
    return None if strength.per_ml else amount * strength.amount_mg


def unit_strength(text: str) -> tuple[str, float | None]:
    """(text without the strength statements, the mg per unit they state, or None)."""
    found = UNIT_STRENGTH.search(text)
    if not found:
        return text, None
    amount, unit = (found.group(2), found.group(3)) if found.group(2) else (found.group(4), found.group(5))
    return UNIT_STRENGTH.sub(" ", text), float(amount) * MASS[unit]


def _weighs(unit: str) -> bool:
    """A mass or an amount in international units (a count or a volume is weighed through the strength)."""
    return unit in MASS or "iu" in unit.lower() or "单位" in unit


# 第一天300mg，第二天每次300mg、每天2次，第三天起…: a titration, each step a day of its own
FIRST_DAY = re.compile(r"^\s*(?:第一天|第1天|首日)")
TITRATION_STEP = re.compile(r"第\s*[一二三四五六七八九十\d]+\s*(?:天|日|周)")
# 第一天300mg，逐渐加到每次600mg，每日3次: the dose the schedule is raised to, a step of its own after a first day's
RAISED_TO = re.compile(r"(?:逐渐|逐步|慢慢|之后|以后|然后|再)?\s*(?:加到|加量到|增加到|增量到|增至|加至|提高到|加大到)")

# …加到每次150mg / 增加到每天1800mg: a raise to an amount (not 加到100ml温水中: what a dose is mixed into)
RAISED_AMOUNT = re.compile(r"(?:加到|加量到|增加到|增量到|增至|加至|提高到|加大到)(?=[^，,。；;\n]{0,8}?\d+(?:\.\d+)?\s*"
                           r"(?:mg|毫克|g|克|μg|微克|ml|毫升|片|粒|袋|包)(?!\s*(?:的)?(?:温|凉|开|白)?(?:水|奶|牛奶|果汁|饮料|粥)))")

# 每次2.5mg、每日2次，或每日一次5mg: two regimens offered as alternatives, each read alone (the larger counts)
ALTERNATIVE_DOSE = re.compile(r"[，,；;（(]\s*(?:或者|或是|或)\s*(?=[^，,。；;]*\d)|"
                              # …每天3次，也可以每次直接喂1g，每天2次: a second regimen offered, an amount of its own
                              # in its first clause (也可以分2次 only divides the first: read together) (round 19)
                              r"[，,；;]\s*(?:也可以|也可|还可以|或者也可以)\s*"
                              r"(?=[^，,。；;]*\d\s*(?:mg|g|毫克|克|ml|毫升|片|粒|袋|包|μg|微克))|"
                              # 一次吃两片或间隔12小时各一片: two schedules joined by 或 after a count (round 15)
                              r"(?<=[片粒])\s*(?:或者|或)\s*(?=(?:间隔|相隔|隔|分)[^，,。；;]*\d)")
# 常规是800mg每日5次，肌酐清除率10-25时改为800mg每8小时一次: the usual dose stated, then the one the draft gives instead
# (read so only for a patient whose kidneys are not normal, and for a first dose the draft itself calls too much)
USUAL = re.compile(r"常规|通常|一般|标准|正常|普通人|普通成人|说明书")
TOO_MUCH = re.compile(r"超过了|超量了|过量了|偏大|偏多|太大|太多")   # …是750mg，超过了；建议改为…
KIDNEY_WORDS = re.compile(r"肾|肌酐|egfr|eGFR|crcl|CrCl|透析")
INSTEAD = re.compile(r"(?:改为|改成|减为|减到|减至|减量为|降为|降到|降至|调整为|调为)\s*(?=[^，,。；;]{0,6}\d)")


# 肾功能正常为1000mg一天三次，eGFR 30-49时建议1000mg一天两次: after the usual dose, a clause for a kidney band gives
# the dose for the patients in it
KIDNEY_BAND = re.compile(r"[，,；;]\s*(?:egfr|eGFR|肌酐清除率|crcl|CrCl|肾小球滤过率|肾功能(?:不全|下降|减退|不好|差))"
                         r"[^，,。；;]{0,14}?(?:时|者|的话|的患者|患者)")


def kidney_dose_text(text: str) -> str:
    """For a patient whose kidneys are not normal: the part of a dose text after the usual dose that gives the dose for
    reduced kidneys (常规是…，肌酐清除率10-25时改为… / 肾功能正常为…，eGFR 30-49时建议…); the whole text otherwise."""
    band = KIDNEY_BAND.search(text)
    if band and USUAL.search(text[:band.start()]) and PER_DOSE.search(text[:band.start()]):
        return text[band.start() + 1:]
    instead = INSTEAD.search(text)
    if instead and USUAL.search(text[:instead.start()]) and PER_DOSE.search(text[:instead.start()]) and \
            KIDNEY_WORDS.search(text[:instead.start()]):
        return text[instead.end():]
    return text


# 不需要加到20mg / 不建议自行加到20mg: the amount the draft refuses to raise to is no dose it gives
REFUSED_RAISE = re.compile(r"(?:不需要|不需|不用|无需|不必|不要|别|不建议|不能|不可|不宜|不应)\s*(?:再|自行|自己|擅自|随意)?\s*"
                           r"(?:加到|加量到|增加到|增量到|增至|加至|提高到|升到|加大到|吃到|用到)\s*"
                           r"[\d.～~\-一二两三四五六七八九十]+\s*(?:mg|g|μg|ug|毫克|克|微克|片|粒)?")


# 应减为50mg每日1次，不要吃100mg / 禁止使用40mg: an amount named only to forbid it is no dose the draft gives (round 17);
# a cap (不要超过100mg) is the most it allows, read as such
REFUSED_AMOUNT = re.compile(r"(?:不要|别|不能|不可|不可以|禁止|禁用|切勿|切忌|勿|不宜|不应|避免|千万不要|千万别|不建议)\s*"
                            r"(?:再|自行|自己|擅自|直接|一下子)?\s*(?:吃|服|服用|用|使用|口服|喂|打|给)?\s*"
                            r"\d+(?:\.\d+)?\s*(?:mg|毫克|g|克|μg|ug|微克|片|粒)(?![/∕\d.])(?!\s*(?:以上|以内|以下|左右|多))")
REFUSAL_HINT = re.compile(r"不|别|禁|勿|避免")
# 您目前每天0.25mg，对于86岁…的老人已经偏高: an amount the draft calls too high already is no dose it gives (round 19)
TOO_HIGH_AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:mg|毫克|g|克|μg|ug|微克)(?=[^。；;\n]{0,40}?"
                             r"(?:已经|已|都|明显|有些|有点|其实)\s*(?:偏高|过高|太高|偏大|过大|太大|超量|过量))")
TOO_HIGH_HINT = ("偏高", "过高", "太高", "偏大", "过大", "太大", "超量", "过量")
# 每天只吃一次20mg，不要按常规一天两次吃: a schedule the draft forbids is no schedule it gives (round 19)
REFUSED_SCHEDULE = re.compile(r"(?:不要|别|不能|不可|不宜|不应|不用|不必|无需|不需要|千万不要|避免)\s*(?:再)?\s*"
                              r"(?:按|像|照)?\s*(?:常规|平常|平时|以前|原来|说明书|一般)?\s*(?:的|那样)?\s*"
                              r"(?:一天|每天|每日|日)\s*(?:[两二三四]|\d)\s*次")
# 标准剂量（1g每日三次）容易蓄积: the usual amount named as the one that harms this patient is no dose the draft gives
# (round 18)
RISKY_AMOUNT = re.compile(r"(?:标准|常规|普通|通常|一般|成人|原来的?)(?:的)?\s*(?:剂量|用量|用法)\s*[（(][^（()）]{1,30}[）)]\s*"
                          r"(?:就|会|可能|容易|易|很容易)\s*(?:蓄积|积蓄|过量|中毒|引起|导致|诱发|加重|损伤|太大|偏大|过大)")


# 碳酸钙D3片每天600mg钙: an amount named as calcium is the calcium's, not the vitamin D's of the same product
CALCIUM_AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:[-~～到至]\s*\d+(?:\.\d+)?\s*)?(?:mg|毫克|g|克)\s*(?:的)?\s*(?:元素)?钙(?!尔奇|片)")

# 加上饮食中的钙能满足每天1000-1200mg的需要: an amount stated as the day's need or intake is no dose of anything (round 15)
NEED_AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:[-~～到至]\s*\d+(?:\.\d+)?\s*)?(?:mg|毫克|g|克|μg|微克|iu|IU|国际单位)\s*"
                         r"(?:左右)?\s*(?:的)?\s*(?:需要|需求|推荐摄入|摄入)")


# 感冒灵颗粒一次10g / 七厘散每次1g / 泰诺每次650mg: a mass given for a product is no dose of each ingredient. Where the
# knowledge lists an ingredient without an amount (a patent medicine listed by what matters in it) the mass weighs the
# product; for a product of several ingredients a mass in grams weighs the product (a granule, a pill, a powder) and
# one in mg doses its main ingredient (the largest amount) only; an amount beside an ingredient's own name doses it
MASS_AMOUNT = re.compile(rf"{RANGE}\s*(?:mg|毫克|g|克)(?!\s*[/∕]\s*(?:kg|公斤|千克|ml|毫升|mL))")
GRAM_AMOUNT = re.compile(rf"{RANGE}\s*(?:g|克)(?![a-zA-Z])(?!\s*[/∕]\s*(?:kg|公斤|千克|ml|毫升|mL))")


@functools.lru_cache(maxsize=256)
def _named_in(lexicon: Lexicon, text: str) -> frozenset[str]:
    """The names in a dose text (asked once per product, not once per ingredient)."""
    return frozenset(m.canonical for m in lexicon.find_mentions(text, fuzzy=False))


def own_dose_text(text: str, rec: Recommended, ingredient: str, lexicon: Lexicon | None = None) -> str:
    """The dose text as it doses one ingredient of a product: amounts named as calcium left out for its others, and
    a mass that weighs the whole product left out for each ingredient (MASS_AMOUNT above)."""
    if "需" in text or "摄入" in text:
        text = NEED_AMOUNT.sub(" ", text)
    if len(rec.substances) > 1 and "钙" not in ingredient:
        text = CALCIUM_AMOUNT.sub(" ", text)
        if lexicon is not None and "含" in text:
            text = CONTENT_BRACKET.sub(lambda m: _own_content(m.group(1), ingredient, lexicon), text)
    if lexicon is None or rec.mention.kind != "product" or "钙" in ingredient:
        return text
    product = lexicon.products.get(rec.name)
    item = next((i for i in product.ingredients if i.substance == ingredient), None) if product else None
    if item is None or item.per_ml:
        return text
    if (item.amount_mg is not None and len(product.ingredients) < 2) or not MASS_AMOUNT.search(text):
        return text
    named = _named_in(lexicon, text)
    if ingredient in named:
        return text
    if item.amount_mg is None:
        return MASS_AMOUNT.sub(" ", text)
    main = max(product.ingredients, key=lambda i: i.amount_mg or 0.0).substance
    if ingredient != main or named & set(product.components):
        return MASS_AMOUNT.sub(" ", text)
    return GRAM_AMOUNT.sub(" ", text)


# 每天1片（含钙600mg、维生素D 125IU）: a product's content listed per ingredient in brackets; each amount is its own
# ingredient's, never another's (round 17)
CONTENT_BRACKET = re.compile(r"[（(]\s*(?:每片|每粒|每袋|每包|每支|每丸)?\s*(?:含有|含)([^（）()]{2,60})[）)]")
CONTENT_PART = re.compile(r"[^、，,；;和及与]+")


def _own_content(listed: str, ingredient: str, lexicon: Lexicon) -> str:
    """The parts of a content list that name the ingredient (with their amounts); the others' amounts left out."""
    own = [part.group(0) for part in CONTENT_PART.finditer(listed)
           if MASS_AMOUNT.search(part.group(0)) or "单位" in part.group(0) or "IU" in part.group(0).upper()]
    if len(own) < 2:
        return f"（含{listed}）"    # one amount, or none: not a list per ingredient
    return " " + " ".join(part for part in own if ingredient in _named_in(lexicon, part)) + " "


# 用XX 30mg: a verb of taking, a word of two to six letters that is no form, route, amount or schedule, then the dose
OTHER_NAMED = re.compile(r"(?:用|吃|服|服用|口服|改用|换用|换成|选用|选)\s*([\u4e00-\u9fff]{2,6}|[A-Za-z][A-Za-z\-]{2,})\s*\d")
NOT_A_NAME = re.compile(r"片|粒|丸|胶囊|颗粒|冲剂|溶液|糖浆|混悬|滴剂|针|注射|静脉|静滴|肌注|口服|外用|栓|贴|乳膏|剂|药|量|次|每|"
                        r"一|两|二|三|半|早|晚|睡前|饭|餐|天|日|周|小时|首|剂量|原来|同样|相同|这个|该|此|它")


def _names_another(part: str) -> bool:
    found = OTHER_NAMED.search(part)
    return bool(found) and not NOT_A_NAME.search(found.group(1))


# 0.75mg两片间隔12小时: the tablets of a regimen taken one at a time at an interval (each the amount stated), not two
# at each interval (round 15); …间隔6小时一次 keeps its reading
SPREAD_TABLETS = re.compile(r"(\d+(?:\.\d+)?\s*(?:mg|毫克))\s*(?:[两二三四]|\d)\s*片\s*"
                            r"(?=[，,]?\s*(?:间隔|相隔|隔)\s*\d+\s*(?:个)?小时(?!\s*(?:一次|1次|服一次|吃一次)))")


# 每次1片（含钙600mg+维生素D3 125IU）: a bracket after a count of units that lists what one unit holds (two amounts or
# more) is the product's composition, which the product's own row weighs; none of its amounts is a dose (round 19)
UNIT_COMPOSITION = re.compile(r"([片粒袋包支丸])\s*[（(](?:每片|每粒|每袋)?(?:含有|含)[^（()）]*?\d[^（()）]*?"
                              r"(?:\+|＋|、|和|及|与)[^（()）]*?\d[^（()）]*[）)]")


# 每片含西格列汀50mg和二甲双胍（500mg或850mg）: a compound's composition per unit, stated as a sentence (round 19)
UNIT_COMPOSITION_SAID = re.compile(r"每(?:片|粒|袋|支|丸)\s*(?:含有|含)[^。；;\n]*?\d[^。；;\n]*?(?:\+|＋|、|和|及|与)"
                                   r"[^。；;\n]*?\d[^。；;\n]*?(?=[。；;\n]|$)")


def read_dose(text: str, strength: Ingredient | None) -> Dose:
    if "含" in text:
        if "（" in text or "(" in text:
            text = UNIT_COMPOSITION.sub(r"\1", text)
        if "每" in text:
            text = UNIT_COMPOSITION_SAID.sub(" ", text)
    if "片" in text and "隔" in text:
        text = SPREAD_TABLETS.sub(r"每次\1，", text)
    if "到" in text or "至" in text:
        text = REFUSED_RAISE.sub(" ", text)
    if REFUSAL_HINT.search(text):
        text = REFUSED_SCHEDULE.sub(" ", REFUSED_AMOUNT.sub(" ", text))
    if any(word in text for word in TOO_HIGH_HINT):
        text = TOO_HIGH_AMOUNT.sub(" ", text)
    if "剂量" in text or "用量" in text or "用法" in text:
        text = RISKY_AMOUNT.sub(" ", text)
    instead = INSTEAD.search(text)
    if instead and TOO_MUCH.search(text[:instead.start()]) and PER_DOSE.search(text[:instead.start()]):
        return read_dose(text[instead.end():], strength)   # the draft itself says the first dose is too much
    options = [m.end() for m in ALTERNATIVE_DOSE.finditer(text)]
    if options and PER_DOSE.search(text[:options[0]]):
        parts = [text[low:high] for low, high in zip([0] + options, options + [len(text)])]
        # …，或者120小时内用另一种药30mg: an alternative that names something else to take (a name the knowledge lacks,
        # so the dose text ran on past it) doses that, not this drug
        parts = parts[:1] + [part for part in parts[1:] if not _names_another(part)]
        read = [read_dose(part, strength) for part in parts]

        def larger(values: list[float | None]) -> float | None:
            known = [v for v in values if v is not None]
            return max(known) if known else None

        return Dose(larger([d.per_dose_mg for d in read]), larger([d.per_day_mg for d in read]),
                    larger([d.per_kg_dose for d in read]), larger([d.per_kg_day for d in read]),
                    absolute_option=any(d.per_kg_dose is not None or d.per_kg_day is not None for d in read) and
                    any(d.per_kg_dose is None and d.per_kg_day is None and
                        (d.per_dose_mg is not None or d.per_day_mg is not None) for d in read))
    steps = [m.start() for m in TITRATION_STEP.finditer(text)]
    if steps:
        steps = sorted(steps + [m.start() for m in RAISED_TO.finditer(text) if m.start() > steps[0]])
    if len(steps) >= 2:
        # the most the schedule gives at any step: each step read alone, the rest of the text after the last one
        parts = [text[low:high] for low, high in zip([0] + steps[1:], steps[1:] + [len(text)])]
        read = [read_dose(part, strength) for part in parts]

        def most(values: list[float | None]) -> float | None:
            known = [v for v in values if v is not None]
            return max(known) if known else None

        # 第一天500mg，从第二天起每天250mg: the first day a loading day, the upkeep is the most of the later steps
        upkeep = most([d.per_day_mg for d in read[1:]]) if FIRST_DAY.match(text) else None
        return Dose(most([d.per_dose_mg for d in read]), most([d.per_day_mg for d in read]),
                    most([d.per_kg_dose for d in read]), most([d.per_kg_day for d in read]), upkeep)
    if not steps and ("加" in text or "增" in text or "提高" in text):
        # 起始每次75mg，每天2次；一周后…可以加到每次150mg，每天2次: a schedule raised to an amount of its own, with no
        # numbered days, gives that amount too; the most it gives counts (round 20)
        raises = [m.start() for m in RAISED_AMOUNT.finditer(text) if m.start() > 0]
        if raises and PER_DOSE.search(text[:raises[0]]):
            parts = [text[low:high] for low, high in zip([0] + raises, raises + [len(text)])]
            read = [read_dose(part, strength) for part in parts]

            def largest(values: list[float | None]) -> float | None:
                known = [v for v in values if v is not None]
                return max(known) if known else None

            return Dose(largest([d.per_dose_mg for d in read]), largest([d.per_day_mg for d in read]),
                        largest([d.per_kg_dose for d in read]), largest([d.per_kg_day for d in read]))
    stated = STATED_MAX.search(text)
    if stated is not None and PER_DOSE.search(text[:stated.start()] + text[stated.end():]):
        dose = read_dose(text[:stated.start()] + " " + text[stated.end():], strength)
        if dose.per_day_mg is not None and (amount := _upper(stated, 1)) is not None:
            dose.per_day_mg = max(dose.per_day_mg, to_mg(amount, stated.group(3), strength) or 0.0)
            return dose
    dose = Dose()
    text = EMPHASIS.sub("", text)    # 每天总量**不超过1000mg**: markdown emphasis is no part of the dose
    # 每片10mg。每次2片: the stated strength weighs the count (and is no dose itself)
    text, per_unit = unit_strength(text)
    content = PER_VOLUME_CONTENT.search(text)
    if content is not None:
        # 每5ml含布洛芬100mg: the concentration the ml in the text are read at
        mg = float(content.group(2)) * (1000.0 if content.group(3) in ("g", "克") else 1.0)
        strength = Ingredient(strength.substance if strength is not None else "", mg / float(content.group(1) or 1.0),
                              per_ml=True)
        text = PER_VOLUME_CONTENT.sub(" ", text)
    if per_unit is not None and (strength is None or not strength.per_ml):
        strength = Ingredient(strength.substance if strength is not None else "", per_unit)
    # 首剂4mg/kg，之后每次2mg/kg一天两次: a loading dose per kg is taken once; the upkeep amount after it is the dose
    # the day is counted from (round 16)
    kgs = list(PER_KG.finditer(text))
    kg = next((k for k in kgs if not LOADING.search(text[max(0, k.start() - 8):k.start()])), None) if len(kgs) > 1 \
        else (kgs[0] if kgs else None)
    if kg:
        value = _upper(kg, 1) if kg.group(1) else _upper(kg, 5)
        # 每天80-90mg/kg, 分2次: the day stated before the amount
        if kg.group(4) or PER_DAY_BEFORE.search(text[max(0, kg.start() - 8):kg.start()]):
            dose.per_kg_day = value
        else:
            dose.per_kg_dose = value
    times = TIMES_PER_DAY.search(text)
    if times and text[max(0, times.start() - 1):times.start()] == "隔":
        times = None        # 隔日一次 / 隔一天吃一次: every other day, not once a day
    count: float | None = None
    if times:
        count = _upper(times, 1) if times.group(1) else number(times.group(3))
    else:
        # 两者间隔1-2小时 / 和X间隔2小时: the gap between two medicines, no dosing interval
        hours = next((h for h in EVERY_HOURS.finditer(text) if not (
            h.group(0).startswith("间隔") and BETWEEN_TWO.search(text[max(0, h.start() - 8):h.start()]))), None)
        lowered = text.lower().replace(" ", "")
        abbreviated = next((n for key, n in ABBREVIATED.items() if key in lowered), None)
        if hours and hours.group(3):       # 每小时 (hourly until relieved)
            count = 24.0
        elif hours and number(hours.group(1)):
            # 间隔4-6小时: the interval the labels themselves give beside their daily count (对乙酰氨基酚 每4-6小时，
            # 每日不超过4次) — a range of hours is read at its longer end, a single interval as it is
            # 每日不超过4次) — a range of hours is read at its longer end, a single interval as it is; a stated cap on
            # the doses then decides (间隔4-6小时，24小时不超过5次 allows 5), read against the shorter end
            low_hours, high_hours = number(hours.group(1)), number(hours.group(2))
            count = 24 / (high_hours or low_hours)  # type: ignore[operator]
            capped = CAP.search(text)
            if high_hours and capped and number(capped.group(1)):
                count = min(24 / low_hours, number(capped.group(1)))  # type: ignore[operator,type-var]
        elif days_apart := EVERY_DAYS.search(text):
            count = 1 / number(days_apart.group(1))  # type: ignore[operator]
        elif weekly := TIMES_PER_WEEK.search(text):
            count = number(weekly.group(1)) / 7  # type: ignore[operator]
        elif ALTERNATE_DAYS.search(text):
            count = 0.5
        elif abbreviated is not None:
            count = abbreviated
        elif ONCE.search(text):
            count = 1.0
    cap = CAP.search(text)
    if cap and number(cap.group(1)):   # the doses the draft allows at most
        count = min(count, number(cap.group(1))) if count else number(cap.group(1))  # type: ignore[type-var]
    if dose.per_kg_dose is not None and count:
        dose.per_kg_day = dose.per_kg_dose * count
    # 每天10mg开始，…加到每天20mg: every daily total the draft states counts, the largest is the most it gives
    # (第一天500mg，之后每天250mg: the first day's amount is a loading dose, the upkeep is the other day's, round 15)
    first_days = [to_mg(amount, total.group(3), strength) for total in DAILY_TOTAL.finditer(text)
                  if text[max(0, total.start() - 1):total.start()] == "第" and text[total.start():total.start() + 1] == "一"
                  and (amount := _upper(total, 1)) is not None]
    totals = [to_mg(amount, total.group(3), strength) for total in DAILY_TOTAL.finditer(text)
              if not (text[max(0, total.start() - 1):total.start()] == "第" and
                      text[total.start():total.start() + 1] == "一") and (amount := _upper(total, 1)) is not None]
    if any(t is not None for t in totals):
        dose.per_day_mg = max(t for t in totals if t is not None)
        if any(t is not None for t in first_days):
            dose.upkeep_day_mg = dose.per_day_mg
            dose.per_day_mg = max([dose.per_day_mg] + [t for t in first_days if t is not None])
        return dose
    if any(t is not None for t in first_days):
        dose.per_day_mg = max(t for t in first_days if t is not None)
        return dose
        # 每天吃一粒25000IU: a count the strength cannot weigh is read on, with the amount stated beside it
    text_wo_kg = PER_KG.sub(" ", text)
    # the first amount the strength can read: 每次1ml（10mg） with no known concentration is read as its 10mg
    plain = CONCENTRATION.sub(" ", text_wo_kg)
    matches = list(PER_DOSE.finditer(plain))
    lead_start = {id(m): m.start() for m in matches}
    for first, second in list(zip(matches, matches[1:])):
        # 每次1ml（10mg） / 每次2片（共1g） / 每次1片60mg: the mass stated beside a volume or a count is the dose
        if first.group(3) not in MASS and _weighs(second.group(3)) and not _weighs(first.group(3)) and \
                re.fullmatch(r"\s*(?:[（(]\s*(?:共|即|约|相当于)?)?\s*", plain[first.end():second.start()]):
            matches.remove(first)
            lead_start[id(second)] = first.start()
    # a loading dose (首剂1mg，1小时后再吃0.5mg，之后每次0.5mg，每天2次) is taken once: it is not multiplied by the doses
    # a day; the day is the larger of the loading doses together and the upkeep dose times its count. Only with an
    # upkeep dose stated beside it: a lone 首次2片，每天3次 is read as before, every amount times the count
    loading: list[float] = []
    upkeep: list[float] = []
    caps: list[float] = []
    days: list[float] = []
    for m in matches:
        amount = _upper(m, 1)
        mg = to_mg(amount, m.group(3), strength) if amount is not None else None
        if mg is None:
            continue
        # 一天最多不超过8粒（16mg） / 最多连续3片 / 一天最多3次（180mg）: the most the draft allows in a day, no single dose
        if AMOUNT_CAP.search(plain[max(0, lead_start[id(m)] - 8):lead_start[id(m)]]):
            caps.append(mg)
            continue
        # （1.5g/天，…）: an amount per day stated beside the doses is the day's, no single dose
        if PER_DAY_AFTER.match(plain, m.end()):
            days.append(mg)
            continue
        # 第一次1mg: the lead is read up to the number (每次/一次 opens the amount's own match)
        lead = plain[max(0, m.start(1) - 6):m.start(1)]
        after_loading = bool(loading) and not upkeep and re.search(r"小时后\s*(?:再|可再)?\s*(?:吃|服|服用|用)?\s*$", lead)
        # 尽早吃1mg，1小时后再吃0.5mg: an amount another follows an hour later is the first of a loading pair
        followed = not upkeep and LOADING_PAIR.match(plain, m.end())
        (loading if LOADING.search(lead) or after_loading or followed else upkeep).append(mg)
    amounts = loading + upkeep
    if amounts:
        dose.per_dose_mg = max(amounts)
        if loading and upkeep:
            dose.per_day_mg = max(sum(loading), max(upkeep) * (count or 1.0))
            dose.upkeep_day_mg = max(upkeep) * (count or 1.0)
        else:
            dose.per_day_mg = dose.per_dose_mg * (count or 1.0)
    if days:
        dose.per_day_mg = max([max(days)] + ([dose.per_day_mg] if dose.per_day_mg is not None else []))
    if caps:
        dose.per_day_mg = max(caps)     # the draft allows this much in a day (or an episode), whatever the doses
    return dose


def stated_concentration(text: str, substance: str) -> Ingredient | None:
    """A concentration written right after a liquid's name (（10mg/ml）, 100mg/5ml): mg per ml."""
    found = CONCENTRATION.search(text[:24])
    if not found:
        # （每5毫升15毫克） / （每5ml含15mg）: the volume first, then what it holds (round 20)
        content = VOLUME_HOLDS.search(text[:24])
        if not content:
            return None
        mg = float(content.group(2)) * (1000.0 if content.group(3) in ("g", "克") else 1.0)
        return Ingredient(substance, mg / float(content.group(1) or 1.0), per_ml=True)
    mg = float(found.group(1)) * (1000.0 if found.group(2) in ("g", "克") else 1.0)
    return Ingredient(substance, mg / float(found.group(3) or 1.0), per_ml=True)


def strength_of(lexicon: Lexicon, rec: Recommended, ingredient: str, text: str) -> Ingredient | None:
    """The amount of `ingredient` per unit (or per ml) of what was recommended (for IU doses: the substance)."""
    if re.search(r"\d\s*(?:万)?\s*(?:iu|IU|国际单位|单位)", text):
        return Ingredient(ingredient, None)
    wants_ml = bool(re.search(r"\d\s*(ml|毫升)", text))
    if wants_ml and rec.strength is not None and rec.strength.substance == ingredient:
        return rec.strength      # the concentration the draft or the question states
    if rec.mention.kind == "product":
        for item in lexicon.products[rec.name].ingredients:
            if item.substance == ingredient:
                return item
        return None
    if wants_ml:
        # a bare name dosed in ml: the lowest concentration among its liquids (布洛芬 每次5ml is the 20mg/ml
        # suspension, not the 40mg/ml drops) — a stated volume is then never read as more than it can be
        liquids = [p.ingredients[0] for p in lexicon.products.values() if len(p.ingredients) == 1 and
                   p.ingredients[0].substance == ingredient and p.ingredients[0].per_ml and
                   p.ingredients[0].amount_mg is not None]
        return min(liquids, key=lambda i: i.amount_mg or 0.0) if liquids else None
    unit = re.search(r"\d\s*(片|粒|袋|包|支|丸)|[一二两三四五六七八九十半]\s*(片|粒|袋|包|支|丸)", text)
    found = unit.group(1) or unit.group(2) if unit else None
    if found in ("袋", "包"):
        # a count of sachets is no dose of a drug sold only as tablets or capsules (the dose is another drug's)
        forms = {p.form for p in lexicon.products.values() if len(p.ingredients) == 1 and
                 p.ingredients[0].substance == ingredient}
        if forms and forms <= {"tablet", "capsule"}:
            return None
    return lexicon.unit_strength.get(ingredient)


def _straddles(ctx: AuditContext, row) -> bool:
    """A renal dose band (egfr<45) read against a CKD stage alone whose eGFR range lies on both sides of it (stage 3:
    30-60): the limit may or may not apply, so exceeding it warns instead of blocking (a stated eGFR decides)."""
    if ctx.facts.egfr is not None:
        return False
    band = ctx.facts.kidney_band()
    return band is not None and any(t.kind == "egfr" and band[0] < float(t.value) < band[1] for t in row.population)


# a drug given once a week (its row says 每周一次: oral methotrexate for RA/psoriasis) advised on a daily schedule
WEEKLY_ROW = re.compile(r"每周一次|每周1次|一周一次")
DAILY_SCHEDULE = re.compile(r"每天|每日|一天|一日|天天|每晚|每早|睡前|早晚|\bqd\b|\bbid\b|\btid\b|次\s*/\s*日")
# 把每周剂量分开吃，每天1片: the week's dose split over the days names the week and gives it daily
SPLIT_WEEKLY = re.compile(r"(?:每周|一周)的?(?:剂量|量|药量|总量)[^。；;！!？?\n]{0,6}(?:分开|分成|分到|分摊|拆开|平摊)")
WEEKLY_SCHEDULE = re.compile(r"每周|一周|每星期|一星期|每礼拜|一礼拜|周[一二三四五六日天]")


def weekly_rows(ctx: AuditContext, ingredient: str) -> list:
    # which rows say 每周一次 depends on the knowledge base only: looked up once per lexicon and ingredient
    cache = ctx.lexicon.__dict__.setdefault("_weekly_rows", {})
    if ingredient not in cache:
        cache[ingredient] = [r for r in ctx.rows(ingredient, ("warning", "contraindication", "dosing"))
                             if WEEKLY_ROW.search(f"{r.effect}{r.management}")]
    return [r for r in cache[ingredient] if ctx.population(r.population) is not None]


def population_key(row) -> str:
    """A row's population as one comparable key (the same terms in any order give the same key)."""
    return str(sorted(map(str, row.population)))


def dosing_rows(ctx: AuditContext, ingredient: str) -> list:
    """The dosing rows of an ingredient (and its classes), per population the cited rows outranking the v1 'expert'
    rows they cover (对乙酰氨基酚 adult: the insert's 4 g/day, its management keeping the OTC 2 g, over the v1 2 g).
    Depends on the knowledge base only: computed once per lexicon and ingredient."""
    cache = ctx.lexicon.__dict__.setdefault("_dosing_rows", {})
    if ingredient not in cache:
        by_population: dict[str, list] = {}
        for row in ctx.rows(ingredient, ("dosing",)):
            by_population.setdefault(population_key(row), []).append(row)
        cache[ingredient] = [r for group in by_population.values() for r in _cited_limits(group)]
    return cache[ingredient]


LIMITS = ("max_mg_day", "max_mg_dose", "max_mg_per_kg_day", "max_mg_per_kg_dose")


def _cited_limits(group: list) -> list:
    """Dose rows for one population: an unsourced v1 'expert' row gives way to the rows citing a reference (insert,
    FDA label, BNFC …) when they set every limit it sets — 对乙酰氨基酚 adult: the insert's 4 g/day (its management
    keeps the OTC 2 g) over the v1 row's 2 g; 丙戊酸钠's v1 3 g/day stays where the cited row gives only mg/kg."""
    if len(group) < 2:
        return group
    cited = [r for r in group if r.source != "expert"]
    if not cited:
        return group
    covered = {name for r in cited for name in LIMITS if getattr(r, name) is not None}
    return cited + [r for r in group if r.source == "expert" and
                    not {name for name in LIMITS if getattr(r, name) is not None} <= covered]


# a one-off regimen (阿奇霉素1g单次口服 / 替硝唑2g顿服): one dose, no daily schedule
ONE_OFF = re.compile(r"单次|顿服|一次性|单剂|一剂")
REPEATED = re.compile(r"每日|每天|一日|一天|每晚|每早|每次|每\s*\d+\s*(?:个)?小时|连用|连服|连续|疗程|共\s*\d+\s*天|"
                      r"\d+\s*天|\d+\s*次|[二两三四五六七八九十]\s*次|\b(?:bid|tid|qid|qd)\b", re.IGNORECASE)
# the one-off amount a row's own wording allows (衣原体感染1g单次顿服 / 驱虫400mg顿服 / 紧急避孕1.5mg单次)
ROW_ONE_OFF = re.compile(r"(\d+(?:\.\d+)?)\s*(mg|g|毫克|克)(?!\s*/)\s*(?:单次|顿服|一次顿服|单剂|一次性)|"
                         r"(?:单次|顿服|单剂)\s*(?:口服)?\s*(\d+(?:\.\d+)?)\s*(mg|g|毫克|克)(?!\s*/)")


def one_off_allowance(rows: list) -> float | None:
    """The largest one-off amount (mg) the rows' own wording gives for a single-dose regimen, or None."""
    amounts = []
    for row in rows:
        for m in ROW_ONE_OFF.finditer(f"{row.effect}；{row.management}"):
            amount, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            amounts.append(float(amount) * MASS[unit])
    return max(amounts) if amounts else None


def one_off(text: str) -> bool:
    """Whether a dose text gives a single one-off dose (单次/顿服, nothing that repeats it)."""
    return bool(ONE_OFF.search(text)) and not REPEATED.search(ONE_OFF.sub(" ", text))


# a daily amount said to be unlimited (一天吃多少都可以 / 不限量 / 想吃多少吃多少), not where it is denied (不是吃多少都可以)
UNLIMITED = re.compile(r"(?:吃|服|用|喝)?\s*多少(?:片|粒|次|袋|包)?\s*都\s*(?:可以|行|没问题|没关系|没事)|不限量|不限次数|"
                       r"没有(?:剂量|用量)?上限|想吃多少(?:就)?吃多少|想吃就吃")
UNLIMITED_NEGATED = re.compile(r"(?:不是|并非|并不是|别以为|不能)\s*(?:一天|每天)?\s*(?:吃|服|用|喝)?\s*多少(?:片|粒|次)?\s*都|"
                               r"不是想吃就吃")


# a dosing table by weight band, one band a line (- 15kg以下：30mg 每日2次 / - 15-23kg：45mg / - 40kg以上：75mg): for a
# patient whose weight is known, the band holding it is the dose the draft gives, the other lines are the table's
# (round 17); a table with no band for the weight is read whole (fail closed)
BAND_LINE = re.compile(r"^[ \t\-*•·+>|]*(?:\d{1,2}[.、)）]\s*)?(?:\d{1,2}\s*[～~\-到至]\s*\d{1,2}\s*岁\s*[、，,]?\s*)?"
                       r"\**\s*(?:体重)?\s*"
                       r"(?P<op>[<≤＜>≥＞]=?|小于|低于|不足|不到|大于|超过|高于)?\s*(?P<low>\d+(?:\.\d+)?)\s*"
                       r"(?:(?:kg|公斤|千克)\s*)?(?:[-~～到至—–]\s*(?P<high>\d+(?:\.\d+)?)\s*)?(?:kg|公斤|千克)\s*"
                       r"(?P<side>及以下|或以下|以下|以内|及以上|或以上|以上)?", re.M)


def weight_band_text(text: str, weight: float) -> str:
    """A dose text that lays out a table by weight band: the lines of the patient's band kept, the others left out."""
    bands = []
    for line in BAND_LINE.finditer(text):
        low, high = float(line.group("low")), line.group("high")
        op, side = line.group("op") or "", line.group("side") or ""
        if high is not None:
            span = (low, float(high))
        elif op[:1] in "<≤＜" and op or op in ("小于", "低于", "不足", "不到") or side in ("及以下", "或以下", "以下", "以内"):
            span = (0.0, low)
        elif op or side:
            span = (low, float("inf"))
        else:
            continue
        end = text.find("\n", line.end())
        bands.append((line.start(), end if end >= 0 else len(text), span))
    if len(bands) < 2 or not any(low <= weight <= high for _, _, (low, high) in bands):
        return text
    for start, end, (low, high) in reversed(bands):
        if not low <= weight <= high:
            text = text[:start] + text[end:]
    return text


class DoseRule:
    name = "max_daily_dose"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        weight = ctx.profile.weight_kg
        for rec in ctx.recommended:
            if not rec.dose_text or rec.local:
                continue
            for ingredient in rec.substances:
                weekly = weekly_rows(ctx, ingredient) if DAILY_SCHEDULE.search(rec.dose_text) and \
                    (not WEEKLY_SCHEDULE.search(rec.dose_text) or SPLIT_WEEKLY.search(rec.dose_text)) else []
                if weekly:
                    # 甲氨蝶呤每天1次: a weekly drug taken daily is an overdose whatever the amount
                    yield finding(ctx, rec, ingredient, "dose_schedule", "dose:daily", None,
                                  f"{shown(rec, ingredient)}应每周一次给药，回答建议每日服用，可致严重中毒。",
                                  weekly[0], block=True, indicator="critical")
            for ingredient in rec.substances:
                rows = [r for r in dosing_rows(ctx, ingredient) if ctx.population(r.population) is not None]
                if not rows:
                    continue
                text = own_dose_text(rec.dose_text, rec, ingredient, ctx.lexicon)
                capped = [r for r in rows if r.max_mg_day is not None]
                if capped and UNLIMITED.search(text) and not UNLIMITED_NEGATED.search(text):
                    # 一天吃多少都可以: a drug with a daily maximum said to have none (round 15)
                    row = min(capped, key=lambda r: r.max_mg_day)
                    yield finding(ctx, rec, ingredient, self.name, "dose:unlimited", None,
                                  f"回答称{shown(rec, ingredient)}每日用量不限，但{population_words(row.population) or '成人'}"
                                  f"每日最大剂量为{row.max_mg_day:g}mg。", row, block=not _straddles(ctx, row))
                    continue
                band = ctx.facts.kidney_band()
                if band is not None and band[1] < 90:
                    # 肾功能正常时是1g每天3次；…减为1g每12小时: for a patient whose kidneys are not normal, the dose
                    # stated for normal kidneys is a reference, not this patient's dose
                    text = kidney_dose_text(NORMAL_KIDNEY.sub(" ", text))
                if weight is not None and ("kg" in text or "公斤" in text or "千克" in text):
                    text = weight_band_text(text, weight)
                dose = read_dose(text, strength_of(ctx.lexicon, rec, ingredient, text))
                per_kg_dose = dose.per_kg_dose if dose.per_kg_dose is not None else \
                    (dose.per_dose_mg / weight if weight and dose.per_dose_mg is not None else None)
                per_kg_day = dose.per_kg_day if dose.per_kg_day is not None else \
                    (dose.per_day_mg / weight if weight and dose.per_day_mg is not None else None)
                per_day = dose.per_day_mg if dose.per_day_mg is not None else \
                    (per_kg_day * weight if weight and per_kg_day is not None else None)
                per_dose = dose.per_dose_mg if dose.per_dose_mg is not None else \
                    (per_kg_dose * weight if weight and per_kg_dose is not None else None)
                if dose.absolute_option and weight:
                    # the regimen given in mg alone weighs against the patient's weight too (the larger counts)
                    per_kg_dose = max(v for v in (per_kg_dose, dose.per_dose_mg and dose.per_dose_mg / weight, 0.0)
                                      if v is not None) or None
                    per_kg_day = max(v for v in (per_kg_day, dose.per_day_mg and dose.per_day_mg / weight, 0.0)
                                     if v is not None) or None
                # 阿奇霉素1g单次口服: a one-off dose within the single-dose regimen a row states is read against no daily
                # cap (the day is that one dose); the per-dose and per-kg limits still hold
                allowance = one_off_allowance(rows) if per_day is not None and one_off(text) else None
                single = allowance is not None and per_day <= allowance * (1 + 1e-9)   # type: ignore[operator]
                for row in rows:
                    # 首剂500mg，之后每48小时250mg: a renal band limits the upkeep dose, the labels give the first dose
                    # unchanged
                    kidney_row = any(t.kind in ("egfr", "ckd_stage") for t in row.population)
                    day = dose.upkeep_day_mg if kidney_row and dose.upkeep_day_mg is not None \
                        else per_day
                    for value, limit, rule, unit, words in (
                            (day, row.max_mg_day, "max_daily_dose", "mg", "每日最大剂量"),
                            (per_dose, row.max_mg_dose, "max_single_dose", "mg", "单次最大剂量"),
                            (per_kg_day, row.max_mg_per_kg_day, "max_daily_dose_per_kg", "mg/kg", "每日每公斤最大剂量"),
                            (per_kg_dose, row.max_mg_per_kg_dose, "max_single_dose_per_kg", "mg/kg",
                             "单次每公斤最大剂量")):
                        if value is None or limit is None or value <= limit * (1 + 1e-9):
                            continue
                        if single and rule == "max_daily_dose":
                            continue
                        who = population_words(row.population) or "成人"
                        fact = f"dose:{value:g}{unit}" if rule == "max_daily_dose" else \
                            f"dose:{value:.3g}{unit}"
                        period = "日剂量" if "daily" in rule else "单次剂量"
                        yield finding(ctx, rec, ingredient, rule, fact, ctx.source("weight") if "kg" in unit
                                      else None, f"建议的{shown(rec, ingredient)}{period}约{value:.4g}{unit}，超过"
                                      f"{who}"
                                      f"{words}{limit:g}{unit}。", row, block=not _straddles(ctx, row))
                        break
