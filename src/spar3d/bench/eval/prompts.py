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

The three task kinds (numeric, choice, vci; see :mod:`spar3d.bench.scoring.tasks`) each get their
own suffix after the question; ``pre_prompt`` goes before the question (empty by default, as in
the published config).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spar3d.bench.scoring.tasks import task_kind
from spar3d.errors import ConfigError

# Only these two multiple-choice tasks carry box coordinates, hence the extra sentence.
BOX_COORDINATE_TASKS = frozenset({"position_matching", "camera_motion_infer"})

NUMERIC_POST = {
    "default": "Please answer the question using a single word or phrase.",
    "api": "Do not response anything other than a single number!",
}
MULTIPLE_CHOICE_POST = "Answer with the option's letter from the given choices directly."
BOX_COORDINATE_NOTE = (
    "The values represent the bounding box coordinates normalized to a 0-1000 scale, "
    "with the top-left corner as the origin of the image."
)


@dataclass(frozen=True)
class PromptPreset:
    """One harness's prompt texts.

    Attributes:
        name: Preset name (``--prompt-preset``).
        numeric_post: Sentence after numeric questions.
        source: Where the text comes from (file and key in the harness's repository).
    """

    name: str
    numeric_post: str
    source: str


PRESETS: dict[str, PromptPreset] = {
    "lmms-eval": PromptPreset(
        "lmms-eval",
        NUMERIC_POST["default"],
        "EvolvingLMMs-Lab/lmms-eval lmms_eval/tasks/sparbench/_default_template_yaml, "
        "lmms_eval_specific_kwargs.default.na_post_prompt",
    ),
    "api": PromptPreset(
        "api",
        NUMERIC_POST["api"],
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
    kind = task_kind(task)  # KeyError naming the task when it is not a SPAR-Bench task
    pre = config.pre_prompt
    if kind == "numeric":
        return f"{pre}\n{question}\n{PRESETS[config.preset].numeric_post}"
    if kind == "choice":
        extra = BOX_COORDINATE_NOTE if task in BOX_COORDINATE_TASKS else ""
        return f"{pre}\n{question}\n{extra}\n{MULTIPLE_CHOICE_POST}"
    # view_change_infer: the question already says the expected format; both suffixes are empty.
    return f"{pre}\n{question}\n\n"
