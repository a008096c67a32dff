"""SPAR-Bench prompts, as lmms-eval's ``sparbench`` task builds them (see docs/scoring.md).

Each task's suffix after the question is a column of :mod:`spar3d.task_table` (numeric tasks
have a default and an API variant; the two box-coordinate choice tasks add a sentence).
``pre_prompt`` goes before the question (empty by default, as in the published config).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from spar3d.task_table import bench_row

#: The prompt-suffix variants (lmms-eval uses ``api`` for API models); see ``TaskRow.suffix``.
NUMERIC_POST_VARIANTS: tuple[str, ...] = ("default", "api")


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
        if self.numeric_post not in NUMERIC_POST_VARIANTS:
            raise ValueError(
                f"numeric_post must be one of {list(NUMERIC_POST_VARIANTS)}, "
                f"got {self.numeric_post!r}"
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
        ``pre + "\\n" + question + "\\n" + ...`` with the suffix of the task's row.
    """
    config = config or PromptConfig()
    row = bench_row(task)  # a LookupError naming the task when it is not a benchmark task
    return f"{config.pre_prompt}\n{question}\n{row.suffix(config.numeric_post)}"
