"""The record and corpus lines assembled from escaped pieces are the bytes orjson writes for the record dicts."""

import orjson
import pytest

from medq.prepare.cleaning import CleaningRules
from medq.prepare.dedup import DedupRules
from medq.prepare.columnar import RecordRules
from medq.prepare.sources import Example
from medq.prepare.stage import LengthFilters, SplitRatios

from tests.prepare.reference import RecordProcessor

TEXTS = ['头痛三天了，"怎么办"？', "反斜杠\\和\x01控制\x1f字符\t制表\r\n换行", "emoji 😷 and \u2028 separators \x7f",
         "</script> & <b>", "问：答：\n"]


def expected_lines(example, prompt, response, example_id, split, system_prompt, corpus_content):
    """The definition: the dicts of the record and corpus lines, serialised by orjson."""
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages = [*system, {"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
    metadata = {**example.metadata, "source": example.where}
    record = orjson.dumps({"id": example_id, "messages": messages, "metadata": metadata},
                          option=orjson.OPT_APPEND_NEWLINE)
    content = response if corpus_content == "response" else f"问：{prompt}\n答：{response}"
    corpus = orjson.dumps({"id": f"doc-{example_id}", "content": content,
                           "metadata": {**metadata, "question": prompt, "split": split, "example_id": example_id}},
                          option=orjson.OPT_APPEND_NEWLINE)
    return record, corpus


@pytest.mark.parametrize("system_prompt", ["", '你是"医生"\n'])
@pytest.mark.parametrize("corpus_content", ["response", "qa"])
def test_assembled_lines_equal_the_dict_serialisation(system_prompt, corpus_content):
    rules = RecordRules("full", system_prompt, CleaningRules(scrub_pii=False), DedupRules(near=False),
                        LengthFilters(prompt_min_chars=1, response_min_chars=1), SplitRatios(), 3, corpus_content, 8)
    processor = RecordProcessor(rules)
    metadatas = [{}, {"question_id": "7", "answer_id": 'a"1'}, {"n": 3, "none": None, "键": "值\n"},
                 {"split": "mine", "source": "theirs"}]  # keys the stage adds: taken by the dict path
    examples = [Example(p, r, group=f"g{i}", where=f"data/x.csv:{i}", metadata=dict(metadatas[i % len(metadatas)]))
                for i, (p, r) in enumerate((p, r) for p in TEXTS for r in TEXTS)]
    chunk = processor(examples)
    assert len(chunk.records) == len(examples) and all(r.problem is None for r in chunk.records)
    for example, record in zip(examples, chunk.records):
        assert (record.record_line, record.corpus_line) == expected_lines(
            example, record.prompt, record.response, record.example_id, record.split, system_prompt, corpus_content)
