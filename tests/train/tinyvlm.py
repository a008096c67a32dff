"""A tiny randomly initialised LLaVA-architecture VLM saved as a checkpoint folder (no download).

CLIP vision tower + Llama text model, ~30k parameters, a character-level fast tokenizer and a
chat template that renders ``{"type": "image"}`` parts as ``<image>``; it loads through
``AutoProcessor`` / ``AutoModelForImageTextToText`` exactly as a Hub checkpoint does.
"""

from __future__ import annotations

from pathlib import Path

import tokenizers
import torch
import transformers

SPECIALS = ["<pad>", "<eos>", "<image>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>"
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}<eos>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build(folder: Path, hidden: int = 32) -> Path:
    """Write the model, tokenizer and processor to ``folder``; returns it."""
    tokens = SPECIALS + [chr(c) for c in range(32, 127)] + ["\n"]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab=vocab, unk_token="<pad>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Split("", "isolated")
    tok.decoder = tokenizers.decoders.Fuse()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<eos>", pad_token="<pad>",
        additional_special_tokens=["<image>", "<|user|>", "<|assistant|>"],
    )  # fmt: skip
    processor = transformers.LlavaProcessor(
        image_processor=transformers.CLIPImageProcessor(
            size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}
        ),
        tokenizer=fast, chat_template=CHAT_TEMPLATE, patch_size=14,
        vision_feature_select_strategy="default", num_additional_image_tokens=1,
    )  # fmt: skip
    config = transformers.LlavaConfig(
        vision_config=dict(
            model_type="clip_vision_model", hidden_size=16, intermediate_size=32,
            num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14,
            projection_dim=16,
        ),
        text_config=dict(
            model_type="llama", vocab_size=len(vocab), hidden_size=hidden,
            intermediate_size=2 * hidden, num_hidden_layers=1, num_attention_heads=2,
            num_key_value_heads=1, max_position_embeddings=1024, eos_token_id=vocab["<eos>"],
            pad_token_id=vocab["<pad>"], bos_token_id=None,
        ),
        image_token_index=vocab["<image>"], vision_feature_select_strategy="default",
        vision_feature_layer=-1, pad_token_id=vocab["<pad>"],
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.LlavaForConditionalGeneration(config)
    model.generation_config.eos_token_id = vocab["<eos>"]
    model.generation_config.pad_token_id = vocab["<pad>"]
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
