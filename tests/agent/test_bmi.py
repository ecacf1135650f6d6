"""The BMI tool: Chinese adult categories at their boundaries, refused inputs, and the Haystack Tool schema."""

import pytest

from medq.agent.tools.bmi import ToolInputError, bmi, bmi_tool, compute_bmi


@pytest.mark.parametrize("weight, height, expected_bmi, category", [
    (50.0, 170.0, 17.3, "偏瘦"),
    (53.5, 170.0, 18.5, "正常"),    # 18.51 -> 18.5: the lower bound of 正常
    (69.2, 170.0, 23.9, "正常"),    # 23.94
    (69.3, 170.0, 24.0, "超重"),    # 23.979 rounds to 24.0, the standard's first 超重 value
    (80.9, 170.0, 28.0, "肥胖"),    # 27.99 -> 28.0
    (80.0, 170.0, 27.7, "超重"),
    (120.0, 165.0, 44.1, "肥胖"),
])
def test_categories_follow_the_chinese_adult_cut_offs(weight, height, expected_bmi, category):
    result = compute_bmi(weight, height)
    assert (result.bmi, result.category) == (expected_bmi, category)
    assert result.advice


@pytest.mark.parametrize("kwargs, message", [
    ({"weight_kg": 70, "height_cm": 1.7}, "centimetres"),
    ({"weight_kg": 0, "height_cm": 170}, "weight_kg=0"),
    ({"weight_kg": 140 * 10, "height_cm": 170}, "weight_kg=1400"),
    ({"weight_kg": float("nan"), "height_cm": 170}, "must be a number"),
    ({"weight_kg": "70", "height_cm": 170}, "must be a number"),
    ({"weight_kg": 30, "height_cm": 140, "age": 10}, "growth charts"),
])
def test_implausible_input_is_refused_with_the_reason(kwargs, message):
    with pytest.raises(ToolInputError, match=message):
        compute_bmi(**kwargs)


def test_haystack_tool_schema_and_invocation():
    tool = bmi_tool()
    assert tool.name == "bmi"
    assert set(tool.parameters["properties"]) == {"weight_kg", "height_cm", "age"}
    assert set(tool.parameters["required"]) == {"weight_kg", "height_cm"}
    result = tool.invoke(weight_kg=72, height_cm=175)
    assert result == bmi(72, 175) and result["category"] == "正常" and result["bmi"] == 23.5
