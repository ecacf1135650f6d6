"""Body-mass index with the Chinese adult categories (WS/T 428-2013: 偏瘦 <18.5, 正常 18.5–23.9, 超重 24.0–27.9,
肥胖 ≥28.0), as a typed function and as a Haystack `Tool` (OpenAI tool-call format).

Inputs outside plausible human ranges are refused with `ToolInputError` rather than answered: a model that passes
height in metres (1.7) or weight in jin (斤) must be told so, not given a BMI of 200000.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from medq.errors import MedqError

BmiCategory = Literal["偏瘦", "正常", "超重", "肥胖"]
HEIGHT_CM_RANGE = (100.0, 250.0)   # adults
WEIGHT_KG_RANGE = (20.0, 350.0)
ADULT_AGE = 18
# (upper bound exclusive, category), applied to the BMI rounded to one decimal as the standard tabulates it
CATEGORIES: tuple[tuple[float, BmiCategory], ...] = ((18.5, "偏瘦"), (24.0, "正常"), (28.0, "超重"),
                                                     (float("inf"), "肥胖"))
ADVICE: dict[str, str] = {
    "偏瘦": "体重偏低，建议关注营养摄入，如伴有体重明显下降请就医查找原因。",
    "正常": "体重在正常范围，继续保持均衡饮食和规律运动。",
    "超重": "体重超重，建议控制饮食总热量并增加运动，关注血压、血糖、血脂。",
    "肥胖": "属于肥胖，建议到内分泌科或营养科评估，在医生指导下减重。",
}


class ToolInputError(MedqError):
    """A tool was called with arguments it cannot answer for; the message says which and why."""


@dataclass(frozen=True)
class BmiResult:
    bmi: float
    category: BmiCategory
    advice: str
    standard: str = "WS/T 428-2013 中国成人体重判定"


def compute_bmi(weight_kg: float, height_cm: float, age: int | None = None) -> BmiResult:
    for name, value, (low, high), unit in (("weight_kg", weight_kg, WEIGHT_KG_RANGE, "kg"),
                                           ("height_cm", height_cm, HEIGHT_CM_RANGE, "cm")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ToolInputError(f"bmi: {name} must be a number, got {value!r}")
        if not low <= value <= high:
            hint = " (height in centimetres, e.g. 170, not metres)" if name == "height_cm" and value < 3 else ""
            raise ToolInputError(f"bmi: {name}={value} is outside {low:g}–{high:g} {unit}{hint}")
    if age is not None and age < ADULT_AGE:
        raise ToolInputError(f"bmi: age={age}: the Chinese adult categories apply from {ADULT_AGE}; children and "
                             "adolescents are judged by age- and sex-specific growth charts (WS/T 586)")
    bmi = round(weight_kg / (height_cm / 100.0) ** 2, 1)
    category = next(name for bound, name in CATEGORIES if bmi < bound)
    return BmiResult(bmi=bmi, category=category, advice=ADVICE[category])


def bmi(weight_kg: Annotated[float, "体重，千克 (kg)"], height_cm: Annotated[float, "身高，厘米 (cm)"],
        age: Annotated[int | None, "年龄（岁），可选；未满18岁不适用成人标准"] = None) -> dict[str, Any]:
    """计算成人体重指数 BMI（kg/m²）并按中国成人标准分类：偏瘦 <18.5，正常 18.5–23.9，超重 24–27.9，肥胖 ≥28。"""
    return asdict(compute_bmi(weight_kg, height_cm, age))


def bmi_tool():
    """The Haystack Tool (name "bmi"); its JSON schema comes from the typed signature above."""
    from haystack.tools import create_tool_from_function

    return create_tool_from_function(bmi, name="bmi")
