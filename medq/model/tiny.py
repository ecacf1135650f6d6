"""A model and tokenizer built here, without a hub: for tests, the demo and CI.

The tokenizer is a byte-level BPE trained on the prepared training split (so Chinese characters become real
tokens, not only bytes); the model is a randomly initialised Qwen3 with the same architecture code path as
Qwen3-8B/32B, only small.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from medq.model.chat_template import SPECIAL_TOKENS, ChatTemplate


@dataclass
class Qwen3Shape:
    """The architecture of a random-init Qwen3 (its vocabulary is its tokenizer's)."""

    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    num_key_value_heads: int = 1
    head_dim: int = 32        # vLLM's CPU attention supports 32, 64, 80, ... only: the tiny model must be servable
    max_position_embeddings: int = 1024
    tie_word_embeddings: bool = False


@dataclass
class TinyQwen3(Qwen3Shape):
    """The demo's tokenizer and model (defaults: ~1M parameters with a 2k vocabulary)."""

    vocab_size: int = 2048    # the BPE tokenizer trained on the corpus
    # A random base has nothing for LoRA to adapt: a short full-parameter language-model pass over the corpus text
    # (plain text, no chat template: SFT still has to teach the format) stands in for pretraining. 0 disables it.
    pretrain_steps: int = 0
    pretrain_batch_size: int = 16
    pretrain_length: int = 128
    pretrain_learning_rate: float = 3e-3


def conversation_texts(jsonl: Path) -> Iterator[str]:
    from medq.jsonl import read_jsonl

    for _, record in read_jsonl(jsonl, what="ChatML records"):
        for message in record.get("messages", []):
            yield message.get("content", "")


def train_tokenizer(texts: Iterator[str], vocab_size: int, template: ChatTemplate) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, model_max_length=1 << 20)
    wrapped.add_special_tokens({"additional_special_tokens": [t for t in SPECIAL_TOKENS if t != template.pad_token]})
    return template.apply_to(wrapped)


def build_model(size: Qwen3Shape, tokenizer: Any, seed: int) -> Any:
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tokenizer), hidden_size=size.hidden_size, intermediate_size=size.intermediate_size,
        num_hidden_layers=size.num_hidden_layers, num_attention_heads=size.num_attention_heads,
        num_key_value_heads=size.num_key_value_heads, head_dim=size.head_dim,
        max_position_embeddings=size.max_position_embeddings, tie_word_embeddings=size.tie_word_embeddings,
        bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        dtype="float32",
    )
    model = Qwen3ForCausalLM(config)
    model.generation_config.eos_token_id = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|endoftext|>")]
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def pretrain(model: Any, tokenizer: Any, texts: list[str], size: TinyQwen3, seed: int) -> list[float]:
    """Next-token training on the concatenated corpus in fixed-length windows; returns the loss per step."""
    import torch

    ids: list[int] = []
    for text in texts:
        ids += tokenizer.encode(text, add_special_tokens=False) + [tokenizer.pad_token_id]
    length = size.pretrain_length
    windows = torch.tensor(ids[: len(ids) // length * length]).view(-1, length)
    if len(windows) == 0:
        return []
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=size.pretrain_learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / size.pretrain_steps)
    model.train()
    losses = []
    for _ in range(size.pretrain_steps):
        batch = windows[torch.randint(len(windows), (size.pretrain_batch_size,), generator=generator)]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    return losses
