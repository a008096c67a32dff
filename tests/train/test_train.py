"""``spar3d train`` end to end on CPU with a tiny random VLM built here (no download).

Data: the real pipeline's output (``generated_spar``) exported with ``spar3d export --format hf``
(single-image samples, to keep steps short) and a general chat JSONL written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tinyvlm
import torch
import transformers
from PIL import Image
from safetensors.torch import load_file
from typer.testing import CliRunner

from spar3d.bench.build import build_bench
from spar3d.cli.main import app, run
from spar3d.train.recipe import Recipe
from spar3d.train.sft import train


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tinyvlm.build(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def hf_export(generated_spar: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hf")
    args = ["export", str(generated_spar), "--out", str(out), "--format", "hf", "--max-images", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def general(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four general-data rows in the chat JSONL format: the colour of a plain image."""
    folder = tmp_path_factory.mktemp("general")
    lines = []
    for k, (name, rgb) in enumerate([("red", (255, 0, 0)), ("blue", (0, 0, 255))] * 2):
        Image.new("RGB", (32, 32), rgb).save(folder / f"{k}.png")
        lines.append(
            {
                "messages": [
                    {"role": "user", "content": "<image>\nWhat colour is this?"},
                    {"role": "assistant", "content": name},
                ],
                "images": [f"{k}.png"],
            }
        )
    path = folder / "general.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


FAST = dict(
    bf16=False, gradient_checkpointing=False, dataloader_num_workers=0, warmup_ratio=0.0,
    lr_scheduler="constant", max_length=None, logging_steps=1,
)  # fmt: skip


def test_full_finetune_loss_drops_on_a_repeated_batch(tiny: Path, hf_export: Path, tmp_path):
    # budget 4 = batch size 4: every step sees the same 4 samples.
    recipe = Recipe.from_yaml().updated(
        dict(model=str(tiny), spar_data=str(hf_export), spar_ratio=1.0, budget=4, method="full",
             freeze_vision=True, max_steps=6, per_device_batch_size=4,
             gradient_accumulation_steps=1, learning_rate=1e-2, save_steps=100, **FAST)
    )  # fmt: skip
    result = train(recipe, tmp_path / "run", log=lambda _: None)
    assert result.steps == 6 and len(result.losses) == 6
    assert result.losses[-1] < 0.7 * result.losses[0], result.losses
    # Frozen vision tower: its weights are the base model's; the language model moved.
    base = load_file(str(tiny / "model.safetensors"))
    final = load_file(str(result.final / "model.safetensors"))
    vision = [k for k in base if "vision_tower" in k]
    language = [k for k in base if "language_model" in k and k.endswith("weight")]
    assert vision and all(torch.equal(base[k], final[k]) for k in vision)
    assert any(not torch.equal(base[k], final[k]) for k in language)


def test_cli_lora_mix_resume_and_eval(tiny, hf_export, general, generated_spar, tmp_path):
    bench = build_bench(generated_spar, tmp_path / "bench", split="train", per_task=1).path
    out = tmp_path / "run"
    base_args = [
        "train", "--out", str(out), "--model", str(tiny), "--spar-data", str(hf_export),
        "--general-data", str(general), "--spar-ratio", "0.5", "--budget", "8",
        "--method", "lora", "--batch-size", "2", "--grad-accum", "1", "--save-steps", "1",
        "--no-bf16", "--no-gradient-checkpointing", "--workers", "0",
        "--set", "warmup_ratio=0", "--set", "max_length=null",
    ]  # fmt: skip
    first = CliRunner().invoke(app, [*base_args, "--max-steps", "2"])
    assert first.exit_code == 0, first.output
    assert "mix: 4 SPAR + 4 general samples" in first.output
    assert "trained 2 steps" in first.output and (out / "checkpoint-2").is_dir()
    # Resume continues from checkpoint-2 to step 3, then evaluates on the bench.
    second = CliRunner().invoke(
        app, [*base_args, "--max-steps", "3", "--resume", "--bench", str(bench),
              "--eval-limit-per-task", "1", "--set", "eval_max_new_tokens=4"],
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    assert "trained 3 steps" in second.output
    assert f"resuming from {out / 'checkpoint-2'}" in second.output
    log = json.loads((out / "train_log.json").read_text())
    assert [h["step"] for h in log if "loss" in h] == [1, 2, 3]  # 1-2 restored from checkpoint
    assert "eval " in second.output and (out / "eval" / "scores.json").is_file()
    assert (out / "eval" / "predictions.jsonl").read_text().count("\n") >= 1
    # The adapter loads onto the base model and gives the merged model's logits.
    from peft import PeftModel

    base = transformers.AutoModelForImageTextToText.from_pretrained(str(tiny))
    adapted = PeftModel.from_pretrained(base, str(out / "adapter")).eval()
    merged = transformers.AutoModelForImageTextToText.from_pretrained(str(out / "final")).eval()
    ids = torch.tensor([[3, 40, 41, 42, 1, 4]])
    with torch.no_grad():
        a, m = adapted(input_ids=ids).logits, merged(input_ids=ids).logits
        plain = transformers.AutoModelForImageTextToText.from_pretrained(str(tiny))(
            input_ids=ids
        ).logits
    assert torch.allclose(a, m, atol=1e-5)
    assert not torch.allclose(plain, m, atol=1e-5)  # training changed something


def test_streaming_mix_trains_for_the_budget(tiny, hf_export, general, tmp_path) -> None:
    # budget 6 at batch 2 -> 3 steps, derived from the budget since a stream has no length.
    recipe = Recipe.from_yaml().updated(
        dict(model=str(tiny), spar_data=str(hf_export), general_data=str(general),
             spar_ratio=0.5, budget=6, streaming=True, method="lora", per_device_batch_size=2,
             gradient_accumulation_steps=1, learning_rate=1e-3, save_steps=100, **FAST)
    )  # fmt: skip
    lines: list[str] = []
    result = train(recipe, tmp_path / "run", log=lines.append)
    assert result.steps == 3 and len(result.losses) == 3
    assert (result.final / "model.safetensors").is_file()


def test_ratio_below_one_needs_general_data(tiny, hf_export, tmp_path, capsys) -> None:
    args = ["train", "--out", str(tmp_path), "--model", str(tiny), "--spar-data", str(hf_export)]
    assert run([*args, "--budget", "4"]) == 2  # ConfigError: a bad setting
    assert "--general-data" in capsys.readouterr().err


def test_recipe_rejects_unknown_and_mistyped_settings(tmp_path: Path, capsys) -> None:
    shipped = Recipe.from_yaml()
    assert (shipped.spar_ratio, shipped.budget, shipped.freeze_vision) == (0.4, 2_000_000, False)
    bad = tmp_path / "r.yaml"
    bad.write_text("spar_ration: 0.5\n")
    assert run(["train", "--out", str(tmp_path), "--recipe", str(bad)]) == 2
    assert "spar_ration" in capsys.readouterr().err
    assert run(["train", "--out", str(tmp_path), "--set", "budget=lots"]) == 2
    assert "budget must be an integer" in capsys.readouterr().err


def test_lora_targets_respect_freeze_vision(tiny: Path) -> None:
    from peft import get_peft_model

    from spar3d.train.sft import lora_config

    for frozen in (True, False):
        base = transformers.AutoModelForImageTextToText.from_pretrained(str(tiny))
        model = get_peft_model(base, lora_config(Recipe(freeze_vision=frozen)))
        names = [n for n, p in model.named_parameters() if p.requires_grad]
        vision = [n for n in names if "vision_tower" in n]
        assert all("lora_" in n for n in names)
        # 7 language projections (q, k, v, o, gate, up, down) x A/B in the one Llama layer.
        assert sum("language_model" in n for n in names) == 14
        assert (len(vision) == 0) if frozen else (len(vision) > 0)
