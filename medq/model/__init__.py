"""What training, evaluation, merge, parity and serving share about a model: the pinned chat template
(`chat_template`), loading models, tokenizers and adapters (`loading`), the device and precision (`device`) and the
tiny random-init Qwen3 the demo builds (`tiny`). Nothing here imports a stage."""
