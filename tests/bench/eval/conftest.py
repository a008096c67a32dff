"""Fixtures for the eval tests (helpers live in ``evalkit``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from evalkit import ROWS, bench_table


@pytest.fixture
def make_bench(tmp_path: Path) -> Callable[..., Path]:
    """Write a tiny benchmark Parquet file and return its path."""

    def make(rows: Sequence[tuple[str, str, str, int]] = ROWS, name: str = "bench.parquet") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(bench_table(rows), path)
        return path

    return make


@pytest.fixture
def bench(make_bench: Callable[..., Path]) -> Path:
    return make_bench()
