"""Export formats come from one registry with one signature; the CLI has no per-format branch."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from spar3d.cli.main import run
from spar3d.data.toy import TOY_COUNTS, make_toy_tree
from spar3d.writers.registry import WRITERS, ExportOptions


def test_built_in_formats_are_registered() -> None:
    assert {"llava", "sharegpt", "hf"} <= set(WRITERS.names())


def test_a_plugin_format_is_used_by_the_cli(tmp_path: Path) -> None:
    make_toy_tree(tmp_path / "spar")
    seen: list[str] = []

    def ids_only(records: Iterable, out_dir: Path, options: ExportOptions) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{options.name}.ids.json"
        seen.extend(r.id for r in records)
        path.write_text(json.dumps(seen))
        return [path]

    WRITERS.add("ids-only", ids_only)
    try:
        rc = run(["export", str(tmp_path / "spar"), "--out", str(tmp_path / "x"),
                  "--format", "ids-only", "--name", "toy"])  # fmt: skip
    finally:
        WRITERS._items.pop("ids-only")
    assert rc == 0
    expected = sum(n for (_, _, _), n in TOY_COUNTS.items())  # every toy sample (train split)
    assert len(json.loads((tmp_path / "x" / "toy.ids.json").read_text())) == expected


def test_unknown_format_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_toy_tree(tmp_path / "spar")
    rc = run(["export", str(tmp_path / "spar"), "--out", str(tmp_path / "x"), "--format", "csv"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "unknown export format 'csv'" in err and "llava" in err and "hf" in err


@pytest.mark.parametrize("bad", [{"name": ""}, {"name": "../x"}, {"rows_per_shard": 0}])
def test_bad_options_are_config_errors(bad: dict) -> None:
    from spar3d.errors import ConfigError

    with pytest.raises(ConfigError):
        ExportOptions(**bad)
