""".ci/run runs exactly the README's test command (the second bash block)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), flags=re.S)
    command = blocks[1].strip()
    assert "pytest" in command
    ci = [
        ln
        for ln in (ROOT / ".ci" / "run").read_text().splitlines()
        if ln and not ln.startswith("#")
    ]
    assert ci[-1] == command
    assert (ROOT / "scripts" / "ensure-chromium.sh").is_file()
