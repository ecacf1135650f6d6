"""The drug lookup tool as a Haystack 3.4 Tool (Haystack 3 has no ToolInvoker component: the Agent invokes
`Tool.invoke` with the model's JSON arguments, which is what these tests do)."""

import json

from medq.agent.knowledge import Lexicon
from medq.agent.tools.drug_lookup import drug_lookup_tool, lookup_drug


def test_tool_spec_is_openai_shaped():
    tool = drug_lookup_tool(Lexicon.load())
    assert tool.name == "drug_lookup"
    assert tool.parameters["required"] == ["drug"]
    assert set(tool.parameters["properties"]) == {"drug", "other_drug"}


def test_pair_lookup_through_tool_invoke_with_model_json_arguments():
    tool = drug_lookup_tool(Lexicon.load())
    arguments = json.loads('{"drug": "芬必得", "other_drug": "华法林"}')   # as an OpenAI tool call carries them
    payload = tool.invoke(**arguments)
    assert json.loads(json.dumps(payload, ensure_ascii=False)) == payload   # JSON-safe for the tool message
    assert payload["found"] is True and payload["interaction"] is True
    assert [d["ingredients"] for d in payload["drugs"]] == [["布洛芬"], ["华法林"]]   # 芬必得 is a product of 布洛芬
    assert any("抗凝药" in reason for reason in payload["interaction_reasons"])


def test_single_drug_product_and_unknown_names():
    lexicon = Lexicon.load()
    single = lookup_drug(lexicon, "泰诺林")
    assert single["drugs"][0]["name"] == "对乙酰氨基酚" and "重度肝功能不全" in single["drugs"][0]["contraindicated_conditions"]
    product = lookup_drug(lexicon, "新康泰克")["drugs"][0]
    assert product["ingredients"] == ["伪麻黄碱", "氯苯那敏"] and product["pregnancy"] == "avoid"
    assert lookup_drug(lexicon, "阿莫西林", "对乙酰氨基酚")["interaction"] is False
    unknown = lookup_drug(lexicon, "不存在的药")
    assert unknown["found"] is False and "不存在的药" in unknown["message"]
