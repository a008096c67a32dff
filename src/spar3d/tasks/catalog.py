"""The task catalog (docs/tasks.md), generated from the registry so it never drifts from code.

Regenerate with ``spar3d tasks --markdown > docs/tasks.md``.
"""

from __future__ import annotations

from spar3d.tasks.registry import TASKS

HEADER = """# Task catalog

Generated from the task registry by `spar3d tasks --markdown > docs/tasks.md`; do not edit by hand.
Views: S = one image, MV = 2-5 images, V = frame sequence. Rel: OC = object-camera,
OO = object-object. Bench: SPAR-Bench level and metric. Markers: the sample fields that say which
object a colour refers to ([formats.md §1](formats.md)). Templates: question paraphrases per
format (`spar3d/tasks/templates/<task>.yaml`). How a task is written: [writing_a_task.md](writing_a_task.md).
"""


def rows() -> list[dict[str, str]]:
    """One row per registered task, sorted by name."""
    out = []
    for name in sorted(TASKS.names()):
        cls = TASKS.get(name)
        spec = cls.spec
        out.append(
            {
                "task": name,
                "version": str(spec.version),
                "views": spec.views,
                "rel": spec.relation,
                "formats": " ".join(spec.formats),
                "bench": "-" if spec.bench_level is None else f"{spec.bench_level}, {spec.metric}",
                "markers": ", ".join(spec.markers) or "-",
                "params": ", ".join(f"{k}={v}" for k, v in sorted(cls.defaults.items())) or "-",
                "description": spec.description.replace("|", "\\|"),
            }
        )
    return out


def markdown() -> str:
    """docs/tasks.md."""
    lines = [HEADER, "| task | v | views | rel | formats | bench | markers | what is asked |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    rs = rows()
    for r in rs:
        lines.append(
            f"| `{r['task']}` | {r['version']} | {r['views']} | {r['rel']} | {r['formats']} | "
            f"{r['bench']} | {r['markers']} | {r['description']} |"
        )
    lines += ["", "## Parameters (defaults)", "", "| task | parameters |", "|---|---|"]
    lines += [f"| `{r['task']}` | {r['params']} |" for r in rs]
    return "\n".join(lines) + "\n"
