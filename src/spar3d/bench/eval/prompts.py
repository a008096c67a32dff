"""SPAR-Bench prompts, as lmms-eval's ``sparbench`` task builds them (see SCORING.md).

The three task kinds (numeric, choice, vci; see :mod:`spar3d.bench.scoring.tasks`) each get their
own suffix after the question. ``pre_prompt`` goes before the
question (empty by default, as in the published config).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from spar3d.bench.scoring.tasks import task_kind

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
class PromptConfig:
    """How questions are turned into prompts.

    Attributes:
        pre_prompt: Text placed before the question (followed by a newline).
        numeric_post: ``"default"`` or ``"api"`` (the variant lmms-eval uses for API models),
            selecting the sentence after numeric questions.
    """

    pre_prompt: str = ""
    numeric_post: Literal["default", "api"] = "default"

    def __post_init__(self) -> None:
        if self.numeric_post not in NUMERIC_POST:
            raise ValueError(
                f"numeric_post must be one of {sorted(NUMERIC_POST)}, got {self.numeric_post!r}"
            )

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def build_prompt(task: str, question: str, config: PromptConfig | None = None) -> str:
    """The text prompt for one sample (images are passed separately, before the text).

    Args:
        task: SPAR-Bench task name.
        question: The sample's question.
        config: Pre-prompt and numeric post-prompt variant.

    Returns:
        ``pre + "\\n" + question + "\\n" + ...`` exactly as SCORING.md lists per task kind.
    """
    config = config or PromptConfig()
    kind = task_kind(task)  # KeyError naming the task when it is not a SPAR-Bench task
    pre = config.pre_prompt
    if kind == "numeric":
        return f"{pre}\n{question}\n{NUMERIC_POST[config.numeric_post]}"
    if kind == "choice":
        extra = BOX_COORDINATE_NOTE if task in BOX_COORDINATE_TASKS else ""
        return f"{pre}\n{question}\n{extra}\n{MULTIPLE_CHOICE_POST}"
    # view_change_infer and grounding: the question already says the expected format; both
    # suffixes are empty.
    return f"{pre}\n{question}\n\n"
