"""The ``hf`` backend on tiny randomly initialised VLMs built here from configs (no download).

The model is a LLaVA-architecture VLM (CLIP vision tower + Llama text model) with a character-level
tokenizer made with ``tokenizers``; it loads through ``AutoProcessor`` and
``AutoModelForImageTextToText`` exactly as a Hub checkpoint does. Skipped without torch and
transformers (the ``hf`` extra).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evalkit import ROWS, png

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from spar3d.bench.eval import evaluate, make_backend  # noqa: E402
from spar3d.bench.eval.backends import GenerationConfig, Request  # noqa: E402
from spar3d.bench.eval.dataset import BenchSample  # noqa: E402
from spar3d.io import read_jsonl  # noqa: E402

SPECIALS = ["<pad>", "<eos>", "<image>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>"
    "{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}<eos>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def char_tokenizer(
    specials: list[str], pad: str, eos: str, first_token: str | None = None
) -> tuple[Any, dict[str, int]]:
    """A one-character-per-token fast tokenizer over printable ASCII plus ``specials``.

    ``first_token`` is moved to index 0 (see :func:`build_tiny_vlm`).
    """
    tokens = specials + [chr(c) for c in range(32, 127)] + ["\n"]
    if first_token is not None:
        tokens.remove(first_token)
        tokens.insert(0, first_token)
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab=vocab, unk_token=pad))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Split("", "isolated")
    tok.decoder = tokenizers.decoders.Fuse()
    extra = [t for t in specials if t not in (pad, eos)]
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=eos, pad_token=pad, additional_special_tokens=extra
    )
    return fast, vocab


def build_tiny_vlm(folder: Path, first_token: str | None = None, zero_head: bool = False) -> Path:
    """Save a ~30k-parameter LLaVA-style VLM and its processor to ``folder``.

    Args:
        first_token: Put this token at vocabulary index 0 (greedy argmax breaks ties towards
            the lowest index, so a zeroed output head then always emits it).
        zero_head: Zero the LM head so every logit is equal.
    """
    fast, vocab = char_tokenizer(SPECIALS, pad="<pad>", eos="<eos>", first_token=first_token)
    image_processor = transformers.CLIPImageProcessor(
        size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}
    )
    processor = transformers.LlavaProcessor(
        image_processor=image_processor,
        tokenizer=fast,
        chat_template=CHAT_TEMPLATE,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    config = transformers.LlavaConfig(
        vision_config=dict(
            model_type="clip_vision_model", hidden_size=16, intermediate_size=32,
            num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14,
            projection_dim=16,
        ),
        text_config=dict(
            model_type="llama", vocab_size=len(vocab), hidden_size=16, intermediate_size=32,
            num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
            max_position_embeddings=512, eos_token_id=vocab["<eos>"],
            pad_token_id=vocab["<pad>"], bos_token_id=None,
        ),
        image_token_index=vocab["<image>"],
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
        pad_token_id=vocab["<pad>"],
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.LlavaForConditionalGeneration(config)
    model.generation_config.eos_token_id = vocab["<eos>"]
    model.generation_config.pad_token_id = vocab["<pad>"]
    if zero_head:
        with torch.no_grad():
            model.get_output_embeddings().weight.zero_()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def random_vlm(tmp_path_factory) -> Path:
    return build_tiny_vlm(tmp_path_factory.mktemp("random_vlm"))


@pytest.fixture(scope="module")
def sevens_vlm(tmp_path_factory) -> Path:
    return build_tiny_vlm(tmp_path_factory.mktemp("sevens_vlm"), first_token="7", zero_head=True)


def _requests() -> list[Request]:
    out = []
    for i, n_images in enumerate((1, 2, 3)):
        images = tuple(png((40 * i, 90, 30 * j), size=(20 + 8 * j, 16)) for j in range(n_images))
        sample = BenchSample(i, "depth_prediction_oc", f"question {i}", "1.0", images)
        out.append(Request(sample, f"How deep is object {i}?" + " pad" * i, images))
    return out


def test_batched_generation_matches_one_at_a_time(random_vlm):
    config = GenerationConfig(max_new_tokens=6)
    batched = make_backend("hf", model=str(random_vlm), device="cpu", dtype="float32", batch_size=3)
    single = make_backend("hf", model=str(random_vlm), device="cpu", dtype="float32", batch_size=1)
    together = batched.generate(_requests(), config)
    alone = [single.generate([r], config)[0] for r in _requests()]
    assert [o.text for o in together] == [o.text for o in alone]
    assert all(o.status in ("ok", "empty", "truncated") for o in together)
    # The tokenizer is one character per token, so 6 new tokens decode to at most 6 characters.
    assert all(len(o.text) <= 6 for o in together)
    assert batched.settings["batch_size"] == 3 and "batch_size" not in batched.answer_settings()


def test_constant_model_is_truncated_at_max_new_tokens(sevens_vlm):
    backend = make_backend("hf", model=str(sevens_vlm), device="cpu", dtype="float32")
    outcomes = backend.generate(_requests(), GenerationConfig(max_new_tokens=4))
    assert [(o.status, o.text) for o in outcomes] == [("truncated", "7777")] * 3


def test_evaluate_with_hf_backend(sevens_vlm, bench, tmp_path):
    backend = make_backend("hf", model=str(sevens_vlm), device="cpu", dtype="float32", batch_size=4)
    run = tmp_path / "run"
    gen = GenerationConfig(max_new_tokens=3)
    result = evaluate(bench, backend, run, generation=gen, concurrency=4, progress=False)
    # One model answers one batch at a time, whatever concurrency was asked for.
    assert json.loads((run / "config.json").read_text())["concurrency"] == 1
    assert result.n_selected == len(ROWS) and result.requested == len(ROWS)
    # Every answer is "777" cut at 3 tokens: truncated; the numeric rows still read 777 m.
    assert result.status_counts == {"truncated": len(ROWS)}
    preds = list(read_jsonl(tmp_path / "run" / "predictions.jsonl"))
    assert [p["prediction"] for p in preds[:3]] == ["777", "777", "777"]
    assert all(p["raw"] == "777" for p in preds)


def _tiny_qwen2_vl_processor(monkeypatch):
    """A Qwen2-VL processor with a character tokenizer; skips when this transformers cannot build
    one offline."""
    from transformers.processing_utils import ProcessorMixin

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>",
                "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]  # fmt: skip
    fast, vocab = char_tokenizer(specials, pad="<|endoftext|>", eos="<|im_end|>")
    template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
        "{% for c in m['content'] %}{% if c['type'] == 'image' %}"
        "<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
        "{% endfor %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    image_cls = getattr(transformers, "Qwen2VLImageProcessorPil", None)
    image_cls = image_cls or transformers.Qwen2VLImageProcessor
    image_processor = image_cls(min_pixels=56 * 56, max_pixels=112 * 112)
    # Without torchvision, transformers 5 refuses a processor with no video processor; images
    # alone need none, so let the check accept its absence.
    original = ProcessorMixin.check_argument_for_proper_class

    def lenient(self, name, arg):
        return None if name == "video_processor" and arg is None else original(self, name, arg)

    monkeypatch.setattr(ProcessorMixin, "check_argument_for_proper_class", lenient)
    try:
        processor = transformers.Qwen2VLProcessor(
            image_processor=image_processor, tokenizer=fast, video_processor=None,
            chat_template=template,
        )  # fmt: skip
    except Exception as exc:  # another transformers version: nothing to test here
        pytest.skip(f"cannot build a Qwen2-VL processor offline: {exc}")
    return processor, vocab


def test_qwen2_vl_batches_match_one_at_a_time(monkeypatch):
    """Qwen2-VL's 3D rotary positions must survive left padding in a mixed batch."""
    from spar3d.bench.eval.backends.hf import HFBackend

    processor, vocab = _tiny_qwen2_vl_processor(monkeypatch)
    config = transformers.Qwen2VLConfig(
        text_config=dict(
            vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
            num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
            rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
            eos_token_id=vocab["<|im_end|>"], pad_token_id=vocab["<|endoftext|>"],
            bos_token_id=None,
        ),
        vision_config=dict(
            depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2, patch_size=14,
            spatial_merge_size=2, temporal_patch_size=2, in_chans=3,
        ),
        image_token_id=vocab["<|image_pad|>"], video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"], vision_end_token_id=vocab["<|vision_end|>"],
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.Qwen2VLForConditionalGeneration(config)
    model.generation_config.eos_token_id = vocab["<|im_end|>"]
    model.generation_config.pad_token_id = vocab["<|endoftext|>"]
    batched = HFBackend(model, processor, "cpu", batch_size=3)
    gen = GenerationConfig(max_new_tokens=6)
    together = batched.generate(_requests(), gen)
    alone = [batched.generate([r], gen)[0] for r in _requests()]
    assert all(o.error is None for o in together)
    assert [o.text for o in together] == [o.text for o in alone]
    assert all(o.status in ("ok", "empty", "truncated") for o in together)


def test_bfloat16_and_device_map(random_vlm):
    """bf16 weights (pixel values cast to match) and accelerate placement load and answer."""
    config = GenerationConfig(max_new_tokens=4)
    bf16 = make_backend("hf", model=str(random_vlm), device="cpu", dtype="bfloat16", batch_size=3)
    assert bf16.model.dtype == torch.bfloat16
    outcomes = bf16.generate(_requests(), config)
    assert all(o.error is None and o.status in ("ok", "empty", "truncated") for o in outcomes)
    placed = make_backend("hf", model=str(random_vlm), dtype="float32", device_map="cpu")
    assert placed.device == "cpu" and "device_map" not in placed.answer_settings()
    plain = make_backend("hf", model=str(random_vlm), device="cpu", dtype="float32")
    assert [o.text for o in placed.generate(_requests(), config)] == [
        o.text for o in plain.generate(_requests(), config)
    ]


def test_data_parallel_matches_one_process(random_vlm, bench, tmp_path):
    """Two worker processes (both on CPU here) give the same answers as one, merged in order."""
    from spar3d.bench.eval.backends.parallel import DataParallelBackend

    kwargs = {"model": str(random_vlm), "device": "cpu", "dtype": "float32", "batch_size": 2}
    gen = GenerationConfig(max_new_tokens=4)
    single = evaluate(bench, make_backend("hf", **kwargs), tmp_path / "one", generation=gen,
                      progress=False)  # fmt: skip
    parallel = DataParallelBackend("hf", kwargs, 2, ["cpu", "cpu"])
    try:
        assert parallel.max_concurrency == 2 and parallel.batch_size == 2 and parallel.sort_batches
        assert parallel.answer_settings() == make_backend("hf", **kwargs).answer_settings()
        both = evaluate(bench, parallel, tmp_path / "two", generation=gen, progress=False)
    finally:
        parallel.close()
    one = [(p["id"], p["raw"]) for p in read_jsonl(tmp_path / "one" / "predictions.jsonl")]
    two = [(p["id"], p["raw"]) for p in read_jsonl(tmp_path / "two" / "predictions.jsonl")]
    assert one == two and single.scores == both.scores
    config = json.loads((tmp_path / "two" / "config.json").read_text())
    assert config["concurrency"] == 2
    # Same cache keys as one process: a rerun in one process asks nothing again.
    again = evaluate(bench, make_backend("hf", **kwargs), tmp_path / "two", generation=gen,
                     progress=False)  # fmt: skip
    assert again.requested == 0 and again.from_cache == len(ROWS)


def test_llava_onevision_multi_image_batches(monkeypatch):
    """LLaVA-OneVision (SigLIP + Qwen2, anyres tiling): 1, 2 and 3 images in one left-padded batch
    give what each request gives alone; with a zeroed head every answer is the forced token."""
    from transformers.processing_utils import ProcessorMixin

    from spar3d.bench.eval.backends.hf import HFBackend

    if not hasattr(transformers, "LlavaOnevisionImageProcessorPil"):
        pytest.skip("this transformers has no PIL LLaVA-OneVision image processor")
    specials = ["<pad>", "<eos>", "<image>", "<video>", "<|user|>", "<|assistant|>"]
    fast, vocab = char_tokenizer(specials, pad="<pad>", eos="<eos>", first_token="7")
    grid = [[28, 28], [28, 56], [56, 28]]
    image_processor = transformers.LlavaOnevisionImageProcessorPil(
        size={"height": 28, "width": 28}, crop_size={"height": 28, "width": 28},
        image_grid_pinpoints=grid,
    )  # fmt: skip
    original = ProcessorMixin.check_argument_for_proper_class

    def lenient(self, name, arg):  # images need no video processor (it needs torchvision)
        return None if name == "video_processor" and arg is None else original(self, name, arg)

    monkeypatch.setattr(ProcessorMixin, "check_argument_for_proper_class", lenient)
    processor = transformers.LlavaOnevisionProcessor(
        image_processor=image_processor, tokenizer=fast, video_processor=None,
        chat_template=CHAT_TEMPLATE, num_image_tokens=4, vision_feature_select_strategy="full",
    )  # fmt: skip
    config = transformers.LlavaOnevisionConfig(
        vision_config=dict(
            model_type="siglip_vision_model", hidden_size=16, intermediate_size=32,
            num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14,
        ),
        text_config=dict(
            model_type="qwen2", vocab_size=len(vocab), hidden_size=16, intermediate_size=32,
            num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
            max_position_embeddings=2048, eos_token_id=vocab["<eos>"],
            pad_token_id=vocab["<pad>"], bos_token_id=None,
        ),
        image_token_index=vocab["<image>"], video_token_index=vocab["<video>"],
        vision_feature_select_strategy="full", vision_feature_layer=-1,
        image_grid_pinpoints=grid, vision_aspect_ratio="anyres_max_9",
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.LlavaOnevisionForConditionalGeneration(config)
    model.generation_config.eos_token_id = vocab["<eos>"]
    model.generation_config.pad_token_id = vocab["<pad>"]
    backend = HFBackend(model, processor, "cpu", batch_size=3)
    gen = GenerationConfig(max_new_tokens=5)
    together = backend.generate(_requests(), gen)
    alone = [backend.generate([r], gen)[0] for r in _requests()]
    assert all(o.error is None for o in together + alone)
    assert [o.text for o in together] == [o.text for o in alone]
    with torch.no_grad():
        model.get_output_embeddings().weight.zero_()
    forced = backend.generate(_requests(), gen)
    assert [(o.status, o.text) for o in forced] == [("truncated", "77777")] * 3
