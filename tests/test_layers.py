"""Lower layers never import upper ones (``geometry`` is the bottom: boxes, cameras, ray casts)."""

from __future__ import annotations

import ast
from pathlib import Path

import spar3d

SRC = Path(spar3d.__file__).parent

#: package -> the spar3d packages/modules it may import besides itself.
ALLOWED = {
    "geometry": {"errors", "registry"},
    "task_table.py": {"errors", "registry"},  # read by every layer
}


def _spar3d_imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        out |= {n.split(".")[1] for n in names if n.startswith("spar3d.")}
    return out


def test_lower_layers_import_nothing_above_them() -> None:
    for layer, allowed in ALLOWED.items():
        root = SRC / layer
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        own = root.stem if root.is_file() else layer
        for f in files:
            bad = _spar3d_imports(f) - allowed - {own}
            assert not bad, f"{f.relative_to(SRC)} imports spar3d.{sorted(bad)} (layer {layer})"


def test_src_and_docs_stand_alone() -> None:
    """No file a user gets cites the developers' design notes (FORMATS.md, SCORING.md, ...)."""
    root = SRC.parents[1]
    cited = []
    for path in [*SRC.rglob("*.py"), *(root / "docs").rglob("*.md"), root / "README.md"]:
        text = path.read_text(encoding="utf-8")
        for name in ("FORMATS.md", "SCORING.md", "TASKS.md", "STYLE.md", "shared/design"):
            if name in text:
                cited.append(f"{path.relative_to(root)}: {name}")
    assert not cited, cited
