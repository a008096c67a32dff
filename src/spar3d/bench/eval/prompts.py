"""SPAR-Bench prompts, named after the harness whose prompts they reproduce (prompt presets).

Every preset builds the prompt the way lmms-eval's ``sparbench`` task does (``doc_to_text`` in
``lmms_eval/tasks/sparbench/utils.py``); they differ only in the sentence after numeric questions,
which lmms-eval takes from ``lmms_eval_specific_kwargs`` in ``_default_template_yaml``:

- ``lmms-eval``: the ``default`` kwargs, what lmms-eval sends every model class except its
  ``gpt4v`` and ``gemini_api`` ones (its ``openai_compatible`` model for vLLM/SGLang included):
  "Please answer the question using a single word or phrase." VLMEvalKit's ``SparBench``
  dataset sends the same text.
- ``api``: the ``gpt4v`` / ``gemini_api`` kwargs: "Do not response anything other than a single
  number!" (sic), the text behind the paper's rows for API models.
- ``spar-paper``: what produced the SPAR paper's table-4 row for this kind of model: ``api`` for
  a backend talking to a commercial API (:attr:`Backend.api_model`), ``lmms-eval`` otherwise
  (SPAR's README runs open models through lmms-eval with the ``default`` kwargs).

Each task's suffix after the question is a column of :mod:`spar3d.task_table` (numeric tasks
have a default and an API variant; the two box-coordinate choice tasks add a sentence); a preset
names the variant. ``pre_prompt`` goes before the question (empty by default, as in the
published config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spar3d.errors import ConfigError
from spar3d.task_table import NUMERIC_POST as _NUMERIC_DEFAULT
from spar3d.task_table import NUMERIC_POST_API, bench_row

#: The table's suffix variants by their old ``numeric_post`` names.
NUMERIC_POST = {"default": _NUMERIC_DEFAULT, "api": NUMERIC_POST_API}


@dataclass(frozen=True)
class PromptPreset:
    """One harness's prompt texts.

    Attributes:
        name: Preset name (``--prompt-preset``).
        variant: The :meth:`spar3d.task_table.TaskRow.suffix` variant (``default`` or ``api``).
        source: Where the text comes from (file and key in the harness's repository).
    """

    name: str
    variant: str
    source: str

    @property
    def numeric_post(self) -> str:
        return NUMERIC_POST[self.variant]


PRESETS: dict[str, PromptPreset] = {
    "lmms-eval": PromptPreset(
        "lmms-eval",
        "default",
        "EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/sparbench/_default_template_yaml, "
        "lmms_eval_specific_kwargs.default.na_post_prompt",
    ),
    "api": PromptPreset(
        "api",
        "api",
        "EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/sparbench/_default_template_yaml, "
        "lmms_eval_specific_kwargs.gpt4v.na_post_prompt (and gemini_api)",
    ),
}
#: Names accepted by ``--prompt-preset``; ``spar-paper`` resolves to one of :data:`PRESETS`.
PRESET_NAMES: tuple[str, ...] = ("spar-paper", "lmms-eval", "api")
DEFAULT_PRESET = "spar-paper"


def resolve_preset(name: str, api_model: bool) -> PromptPreset:
    """The concrete preset for ``name`` (``spar-paper`` depends on the kind of model).

    Raises:
        ConfigError: An unknown preset name, listing the known ones.
    """
    if name == "spar-paper":
        return PRESETS["api" if api_model else "lmms-eval"]
    if name not in PRESETS:
        raise ConfigError(
            f"--prompt-preset: unknown preset {name!r}; expected one of {', '.join(PRESET_NAMES)}"
        )
    return PRESETS[name]


@dataclass(frozen=True)
class PromptConfig:
    """How questions are turned into prompts.

    Attributes:
        pre_prompt: Text placed before the question (followed by a newline).
        preset: A concrete preset name from :data:`PRESETS` (``lmms-eval`` or ``api``).
        requested: The name the user asked for (``spar-paper`` resolves to a concrete preset).
        numeric_post: Deprecated spelling: ``"default"`` means ``lmms-eval``, ``"api"`` ``api``.
    """

    pre_prompt: str = ""
    preset: str = "lmms-eval"
    requested: str | None = None
    numeric_post: str | None = None

    def __post_init__(self) -> None:
        if self.numeric_post is not None:
            if self.numeric_post not in NUMERIC_POST:
                raise ConfigError(
                    f"numeric_post must be one of {sorted(NUMERIC_POST)}, got {self.numeric_post!r}"
                )
            mapped = "lmms-eval" if self.numeric_post == "default" else "api"
            object.__setattr__(self, "preset", mapped)
            object.__setattr__(self, "numeric_post", None)
        resolve_preset(self.preset, api_model=False)  # validates the name

    @classmethod
    def for_backend(cls, preset: str, api_model: bool, pre_prompt: str = "") -> PromptConfig:
        """Resolve ``preset`` (e.g. ``spar-paper``) for a backend and keep the requested name."""
        return cls(pre_prompt, resolve_preset(preset, api_model).name, requested=preset)

    def to_dict(self) -> dict[str, Any]:
        chosen = PRESETS[self.preset]
        return {
            "pre_prompt": self.pre_prompt,
            "preset": self.preset,
            "requested_preset": self.requested or self.preset,
            "numeric_post": chosen.numeric_post,
            "source": chosen.source,
        }


def build_prompt(task: str, question: str, config: PromptConfig | None = None) -> str:
    """The text prompt for one sample (images are passed separately, before the text).

    Args:
        task: SPAR-Bench task name.
        question: The sample's question.
        config: Pre-prompt and preset.

    Returns:
        ``pre + "\\n" + question + "\\n" + ...`` exactly as lmms-eval's ``doc_to_text`` builds it
        per task kind (see ``docs/cli/eval.md``).
    """
    config = config or PromptConfig()
    row = bench_row(task)  # a LookupError naming the task when it is not a benchmark task
    return f"{config.pre_prompt}\n{question}\n{row.suffix(PRESETS[config.preset].variant)}"
