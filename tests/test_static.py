"""Lint and type checks run with the tests, so CI holds the code to the configured standards."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_clean():
    if shutil.which("ruff") is None and not _has_module("ruff"):
        pytest.skip("ruff not installed")
    res = _run([sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks"])
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_clean():
    if not _has_module("mypy"):
        pytest.skip("mypy not installed")
    res = _run([sys.executable, "-m", "mypy"])  # files and options: [tool.mypy] in pyproject
    assert res.returncode == 0, res.stdout[-5000:] + res.stderr[-2000:]


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
