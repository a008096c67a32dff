"""The SPAR-mix arithmetic and the chat-format conversion, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from spar3d.errors import InputError
from spar3d.train.data import structured, uniform_indices


def test_uniform_indices_whole_passes_then_distinct_rest() -> None:
    idx = uniform_indices(4, 10, np.random.default_rng(0))
    assert len(idx) == 10
    # 10 = 2 whole passes over 4 rows + 2 distinct rows: every row 2 or 3 times.
    counts = np.bincount(idx, minlength=4)
    assert sorted(counts.tolist()) == [2, 2, 3, 3]
    assert sorted(idx[:4].tolist()) == [0, 1, 2, 3] and sorted(idx[4:8].tolist()) == [0, 1, 2, 3]


def test_structured_places_images_where_the_placeholders_are() -> None:
    msgs = [
        {"role": "user", "content": "A <image> then <image>"},
        {"role": "assistant", "content": "ok"},
    ]
    out = structured(msgs, 2, "x:1")
    assert [p["type"] for p in out[0]["content"]] == ["text", "image", "text", "image"]
    assert out[1]["content"] == [{"type": "text", "text": "ok"}]
    # No placeholder: images go first in the first user turn (TRL's rule).
    out = structured([{"role": "user", "content": "Q"}], 1, "x:2")
    assert [p["type"] for p in out[0]["content"]] == ["image", "text"]
    with pytest.raises(InputError, match="x:3: 1 image placeholders for 2 images"):
        structured([{"role": "user", "content": "<image> Q"}], 2, "x:3")
