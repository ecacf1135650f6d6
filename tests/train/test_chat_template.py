"""The pinned chat template: what is masked, what the generation prompt is, and refusals of drifted templates."""

import json

import pytest

from medq.errors import MedqError
from medq.model.chat_template import ChatTemplate
from medq.model.loading import load_tokenizer

CONVERSATION = [{"role": "system", "content": "你是医生助手。"}, {"role": "user", "content": "头痛怎么办？"},
                {"role": "assistant", "content": "建议休息，必要时就医。"}]


def test_assistant_mask_covers_exactly_the_answer_and_its_stop_token(base):
    template = ChatTemplate.load(base["chat_template"])
    tokenizer = load_tokenizer(base["model"], template)
    out = tokenizer.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True, enable_thinking=False)
    ids, mask = out["input_ids"], out["assistant_masks"]
    learned = tokenizer.decode([i for i, m in zip(ids, mask) if m])
    ignored = tokenizer.decode([i for i, m in zip(ids, mask) if not m])
    assert learned == "<think>\n\n</think>\n\n建议休息，必要时就医。<|im_end|>"
    assert "头痛怎么办" in ignored and "你是医生助手" in ignored and "建议" not in ignored


def test_generation_prompt_matches_the_trained_prefix(base):
    template = ChatTemplate.load(base["chat_template"])
    tokenizer = load_tokenizer(base["model"], template)
    prompt = tokenizer.decode(template.prompt_ids(tokenizer, CONVERSATION[:2]))
    full = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert full.startswith(prompt), "serving must format the prompt exactly as training did"
    assert template.stop_token_ids(tokenizer) == [tokenizer.convert_tokens_to_ids("<|im_end|>"),
                                                  tokenizer.convert_tokens_to_ids("<|endoftext|>")]


def test_template_file_round_trips_and_an_edited_file_is_refused(tmp_path):
    template = ChatTemplate.builtin("qwen3", enable_thinking=True)
    path = template.save(tmp_path / "chat_template.json")
    assert ChatTemplate.load(path) == template
    data = json.loads(path.read_text())
    data["template"] = data["template"].replace("<|im_start|>", "<|start|>")
    path.write_text(json.dumps(data))
    with pytest.raises(MedqError, match="does not match its recorded sha256"):
        ChatTemplate.load(path)


def test_missing_template_file_names_the_stage_to_run(tmp_path):
    with pytest.raises(MedqError, match=r"chat_template.json: the pinned chat template is missing; run the base_model"):
        ChatTemplate.load(tmp_path / "chat_template.json")


def test_tokenizer_with_a_different_template_is_refused(base, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base["model"]))
    tokenizer.chat_template = tokenizer.chat_template.replace("<think>", "<thinking>")
    tokenizer.save_pretrained(tmp_path / "drifted")
    with pytest.raises(MedqError, match=r"drifted: the tokenizer's chat template \(sha256 \w+\) differs from the pinned"):
        load_tokenizer(tmp_path / "drifted", ChatTemplate.load(base["chat_template"]))


def test_saved_tokenizer_carries_the_template_and_stop_tokens(base):
    from transformers import AutoTokenizer

    template = ChatTemplate.load(base["chat_template"])
    tokenizer = AutoTokenizer.from_pretrained(str(base["model"]))
    assert tokenizer.chat_template == template.template
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"


def test_thinking_mode_learns_the_reasoning_and_leaves_the_think_block_to_the_model(base):
    thinking = ChatTemplate.builtin("qwen3", enable_thinking=True)
    tokenizer = load_tokenizer(base["model"], ChatTemplate.load(base["chat_template"]))
    tokenizer.chat_template = thinking.template
    answer = {"role": "assistant", "content": "建议休息。", "reasoning_content": "头痛多为紧张性。"}
    out = tokenizer.apply_chat_template([*CONVERSATION[:2], answer], tokenize=True, return_dict=True,
                                        return_assistant_tokens_mask=True, enable_thinking=True)
    learned = tokenizer.decode([i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m])
    assert learned == "<think>\n头痛多为紧张性。\n</think>\n\n建议休息。<|im_end|>"
    prompt = tokenizer.decode(thinking.prompt_ids(tokenizer, CONVERSATION[:2]))
    assert prompt.endswith("<|im_start|>assistant\n"), "with thinking on, the model opens its own <think> block"
