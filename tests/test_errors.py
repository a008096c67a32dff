"""The CLI maps errors to one line and an exit code in one place (spar3d.cli.main.run)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from spar3d.cli.main import run
from spar3d.errors import ConfigError, InputError, Spar3dError, describe_os_error
from spar3d.registry import Registry, RegistryError


def test_hierarchy_keeps_builtin_bases() -> None:
    assert issubclass(InputError, ValueError) and issubclass(InputError, Spar3dError)
    assert issubclass(ConfigError, ValueError)
    assert issubclass(RegistryError, LookupError) and issubclass(RegistryError, Spar3dError)


def test_registry_error_message_is_not_quoted() -> None:
    reg: Registry[int] = Registry("thing")
    with pytest.raises(RegistryError) as info:
        reg.get("nope")
    assert str(info.value).startswith("unknown thing 'nope'")


def test_os_error_names_the_file() -> None:
    exc = FileNotFoundError(2, "No such file or directory", "/data/x.json")
    assert describe_os_error(exc) == "/data/x.json: No such file or directory"


def test_missing_file_is_one_line_without_traceback(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spar3d", "show", str(tmp_path / "absent"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "absent" in lines[0]


def test_debug_env_shows_traceback(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SPAR3D_DEBUG", "1")
    with pytest.raises(OSError):
        run(["show", str(tmp_path / "absent"), "--out", str(tmp_path / "o")])


def test_exit_code_of_spar3d_error(tmp_path, capsys) -> None:
    code = run(["show", str(tmp_path / "absent"), "--out", str(tmp_path / "o")])
    assert code == 3
    assert "absent" in capsys.readouterr().err
