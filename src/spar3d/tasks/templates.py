"""Question/answer template banks, stored as YAML data files under ``spar3d/tasks/templates/``.

``templates/<task>.yaml``::

    task: depth_prediction_oc
    fill:
      instruction: number            # key into _common.yaml instructions.fill
      questions: [{id: q1, text: "... [label_A] ... [depth_A] ..."}, ...]   # >= 5 paraphrases
      answers:   [{id: a1, text: "[answer]"}]
    select:   {questions: [...]}      # options and letters come from _common.yaml
    sentence: {questions: [...], answers: [...]}     # >= 5 answer paraphrases
    judge:    {questions: [...]}      # statements; the answer is Yes / No

``templates/_common.yaml`` holds SPAR's "Calculate or judge based on the 3D center points of these
objects." note, the format instructions (``fill`` by answer kind, ``select`` with ``[options]`` and
``[letters]``, ``judge``) and the judge answers.

A question is ``question + note + instruction``; placeholders ``[name]`` are filled from the
values a task computes. Loading checks that every placeholder is one the task declares; rendering
raises :class:`TemplateError` naming the template id when a value is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from spar3d.errors import InputError

PLACEHOLDER = re.compile(r"\[([A-Za-z_][A-Za-z0-9_]*)\]")
MIN_PARAPHRASES = 5
SELECT_PLACEHOLDERS = ("options", "letters")


class TemplateError(InputError):
    """A malformed template file or an unfilled placeholder (the message names the template)."""


@dataclass(frozen=True)
class Template:
    id: str
    text: str

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.text))


def fill(template: Template, values: dict[str, str], where: str = "") -> str:
    """Replace every ``[name]`` in the template; a missing value raises naming the template."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise TemplateError(f"template {where}{template.id}: placeholder [{name}] has no value")
        return str(values[name])

    return PLACEHOLDER.sub(sub, template.text)


def _templates(raw: Any, where: str) -> list[Template]:
    if not isinstance(raw, list) or not raw:
        raise TemplateError(f"{where}: expected a non-empty list of {{id, text}}")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("id") or not item.get("text"):
            raise TemplateError(f"{where}[{i}]: each template needs a non-empty 'id' and 'text'")
        out.append(Template(str(item["id"]), " ".join(str(item["text"]).split())))
    ids = [t.id for t in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise TemplateError(f"{where}: duplicate template ids {dup}")
    return out


def _read_yaml(name: str, package: str = "spar3d.tasks") -> dict[str, Any]:
    path = resources.files(package).joinpath("templates").joinpath(name)
    if not path.is_file():
        raise TemplateError(f"no template file {package.replace('.', '/')}/templates/{name}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TemplateError(f"templates/{name}: expected a mapping at top level")
    return data


@dataclass(frozen=True)
class FormatTemplates:
    questions: list[Template]
    instructions: list[Template]
    answers: list[Template]


@dataclass(frozen=True)
class CommonTemplates:
    center_note: str
    fill: dict[str, list[Template]]
    select: list[Template]
    judge: list[Template]
    judge_answers: dict[bool, str]


@cache
def load_common() -> CommonTemplates:
    d = _read_yaml("_common.yaml")
    ins = d.get("instructions", {})
    fills = {
        k: _templates(v, f"_common.yaml instructions.fill.{k}") for k, v in ins["fill"].items()
    }
    select = _templates(ins.get("select"), "_common.yaml instructions.select")
    for t in select:
        missing = set(SELECT_PLACEHOLDERS) - t.placeholders()
        if missing:
            raise TemplateError(f"template _common/select/{t.id}: lacks {sorted(missing)}")
    ja = d.get("judge_answers", {})
    return CommonTemplates(
        center_note=str(d["center_note"]),
        fill=fills,
        select=select,
        judge=_templates(ins.get("judge"), "_common.yaml instructions.judge"),
        judge_answers={True: str(ja["true"]), False: str(ja["false"])},
    )


class TemplateBank:
    """The templates of one task, validated against the task's formats and placeholders."""

    def __init__(
        self,
        task: str,
        formats: tuple[str, ...],
        placeholders: tuple[str, ...],
        package: str = "spar3d.tasks",
    ):
        self.task = task
        self.common = load_common()
        data = _read_yaml(f"{task}.yaml", package)
        if data.get("task") != task:
            raise TemplateError(f"templates/{task}.yaml: 'task' is {data.get('task')!r}")
        allowed = set(placeholders) | {"answer"}
        self.formats: dict[str, FormatTemplates] = {}
        for fmt in formats:
            if fmt not in data:
                raise TemplateError(f"templates/{task}.yaml: no templates for format {fmt!r}")
            self.formats[fmt] = self._load_format(data[fmt], fmt, allowed)

    def _load_format(self, d: dict[str, Any], fmt: str, allowed: set[str]) -> FormatTemplates:
        where = f"templates/{self.task}.yaml {fmt}"
        questions = _templates(d.get("questions"), f"{where}.questions")
        answers = _templates(d["answers"], f"{where}.answers") if "answers" in d else []
        if len(questions) < MIN_PARAPHRASES:
            raise TemplateError(f"{where}: {len(questions)} questions, need {MIN_PARAPHRASES}")
        if fmt == "sentence" and len(answers) < MIN_PARAPHRASES:
            raise TemplateError(f"{where}: {len(answers)} answers, need {MIN_PARAPHRASES}")
        if fmt == "fill" and not answers:
            raise TemplateError(f"{where}: fill needs at least one answer template")
        for t in questions + answers:
            unknown = t.placeholders() - allowed
            if unknown:
                raise TemplateError(
                    f"template {self.task}/{fmt}/{t.id}: unknown placeholders {sorted(unknown)}"
                )
        if fmt == "fill":
            kind = str(d.get("instruction", "number"))
            if kind not in self.common.fill:
                raise TemplateError(f"{where}: unknown fill instruction {kind!r}")
            instructions = self.common.fill[kind]
        else:
            instructions = {"select": self.common.select, "judge": self.common.judge}.get(fmt, [])
        return FormatTemplates(questions, instructions, answers)

    def render(
        self,
        fmt: str,
        values: dict[str, str],
        rng: np.random.Generator,
        *,
        center_note: bool = True,
        judge_truth: bool | None = None,
        answer_values: dict[str, str] | None = None,
    ) -> tuple[str, str, str]:
        """Pick paraphrases with ``rng`` and fill them; returns (question, answer, template_id).

        ``answer_values`` (default ``values``) fill the answer.

        The template id is ``<fmt>:<question id>[+<instruction id>][+<answer id>]``.
        """
        ft = self.formats[fmt]
        q = ft.questions[int(rng.integers(len(ft.questions)))]
        where = f"{self.task}/{fmt}/"
        parts = [fill(q, values, where)]
        ids = [q.id]
        if center_note:
            parts.append(self.common.center_note)
        if ft.instructions:
            ins = ft.instructions[int(rng.integers(len(ft.instructions)))]
            parts.append(fill(ins, values, where))
            ids.append(ins.id)
        if fmt == "judge":
            answer = self.common.judge_answers[bool(judge_truth)]
        elif ft.answers:
            a = ft.answers[int(rng.integers(len(ft.answers)))]
            answer = fill(a, answer_values or values, where)
            if fmt == "sentence":  # a sentence may open with a label ("towel's depth ...")
                answer = answer[:1].upper() + answer[1:]
            ids.append(a.id)
        else:
            answer = values["answer"]
        return " ".join(parts), answer, f"{fmt}:" + "+".join(ids)


@cache
def load_templates(
    task: str,
    formats: tuple[str, ...],
    placeholders: tuple[str, ...],
    package: str = "spar3d.tasks",
) -> TemplateBank:
    """The validated template bank of a task (cached: files are read once per process).

    ``package`` holds a ``templates/<task>.yaml`` folder: a third-party task ships its own.
    """
    return TemplateBank(task, formats, placeholders, package)
