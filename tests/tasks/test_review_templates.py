"""Template wording: no indefinite article in front of a label placeholder.

"a [label_A]" reads "a office chair" for half the labels; "the [label_A]" is always right.
"""

from __future__ import annotations

import re
from pathlib import Path

import spar3d.tasks

TEMPLATES = Path(spar3d.tasks.__file__).parent / "templates"


def test_review_no_article_before_label_placeholder():
    bad = []
    for path in sorted(TEMPLATES.glob("*.yaml")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\b(a|an|A|An) \[label_", line):
                bad.append(f"{path.name}:{n}")
    assert not bad, bad
