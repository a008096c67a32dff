"""A training recipe: every setting of ``spar3d train``, read from YAML and overridable by flags.

The shipped default, ``recipes/spar_mix.yaml`` (inside the package), is the SPAR paper's
SPAR-mix recipe; each number there says where it comes from. Unknown keys are an error (a typo
would otherwise silently train with the default).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from spar3d.errors import ConfigError, check_number

METHODS = ("lora", "full")
OPTIONAL_INTS = frozenset({"max_length", "eval_limit_per_task"})  # None or a positive int


@dataclass
class Recipe:
    """Settings of one supervised fine-tuning run (see ``docs/training.md`` for each)."""

    model: str = ""
    spar_data: str = ""
    general_data: str | None = None
    spar_ratio: float = 0.4
    budget: int = 2_000_000
    streaming: bool = False
    method: str = "lora"
    freeze_vision: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    learning_rate: float = 4e-5
    weight_decay: float = 0.05
    warmup_ratio: float = 0.03
    lr_scheduler: str = "cosine"
    epochs: float = 1.0
    max_steps: int = -1
    per_device_batch_size: int = 4
    gradient_accumulation_steps: int = 4
    max_length: int | None = 8192
    bf16: bool = True
    gradient_checkpointing: bool = True
    save_steps: int = 200
    save_total_limit: int = 2
    logging_steps: int = 1
    seed: int = 0
    dataloader_num_workers: int = 4
    bench: str | None = None
    eval_limit_per_task: int | None = None
    eval_max_new_tokens: int = 32
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, path: str | Path | None = None) -> Recipe:
        """Read a recipe file; None reads the shipped ``spar_mix.yaml``."""
        if path is None:
            text = resources.files("spar3d.train").joinpath("recipes/spar_mix.yaml").read_text()
            where = "recipes/spar_mix.yaml"
        else:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{path}: cannot read the recipe ({exc.strerror})") from None
            where = str(path)
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: not valid YAML ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: a recipe is a mapping of setting: value")
        return cls().updated(data, where)

    def updated(self, values: dict[str, Any], where: str = "flags") -> Recipe:
        """A copy with ``values`` applied (None values are skipped), each checked by type."""
        known = {f.name: f for f in dataclasses.fields(self)}
        out = dataclasses.replace(self)
        for key, value in values.items():
            if value is None:
                continue
            if key not in known:
                raise ConfigError(f"{where}: unknown setting {key!r}; known: {sorted(known)}")
            setattr(out, key, _coerce(key, value, getattr(self, key), where))
        out.check(where)
        return out

    def check(self, where: str = "recipe") -> None:
        """Raise :class:`ConfigError` naming the setting for a value out of range."""
        if self.method not in METHODS:
            raise ConfigError(f"{where}: method must be one of {METHODS}, got {self.method!r}")
        if not 0 < self.spar_ratio <= 1:
            raise ConfigError(f"{where}: spar_ratio must be in (0, 1], got {self.spar_ratio}")
        if self.budget <= 0:
            raise ConfigError(f"{where}: budget must be > 0, got {self.budget}")
        for name in ("lora_r", "per_device_batch_size", "gradient_accumulation_steps"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}: {name} must be > 0, got {getattr(self, name)}")
        check_number(f"{where}: learning_rate", self.learning_rate, minimum=0, exclusive_minimum=True)
        check_number(f"{where}: weight_decay", self.weight_decay, minimum=0)
        check_number(f"{where}: warmup_ratio", self.warmup_ratio, minimum=0, maximum=1)
        check_number(f"{where}: lora_dropout", self.lora_dropout, minimum=0, maximum=1)
        check_number(f"{where}: epochs", self.epochs, minimum=0, exclusive_minimum=True)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(key: str, value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool) and key not in OPTIONAL_INTS:
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise ConfigError(f"{where}: {key} must be an integer, got {value!r}")
        return int(value)
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
        return float(value)
    if key in OPTIONAL_INTS:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{where}: {key} must be a positive integer, got {value!r}")
        return value
    if key == "extra":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: extra must be a mapping of SFTConfig arguments")
        return value
    return str(value)
