"""The Makefile installs for each target what that target needs: `make run` serves, so it
installs the project and its runtime dependencies only, not the test and benchmark tools."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def planned_commands(target: str, tmp_path: Path) -> str:
    """What `make <target>` would run on a machine with no virtualenv yet (a dry run)."""
    proc = subprocess.run(
        ["make", "-n", target, f"VENV={tmp_path / 'venv'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return proc.stdout


def test_make_run_installs_the_runtime_dependencies_only(tmp_path: Path) -> None:
    plan = planned_commands("run", tmp_path)
    assert "pip install -q -e ." in plan
    assert "[dev" not in plan and "bench]" not in plan, plan
    assert "booking serve" in plan


def test_make_test_adds_the_test_tools_and_make_bench_the_plotting_ones(tmp_path: Path) -> None:
    assert "-e '.[dev]'" in planned_commands("test", tmp_path)
    assert "-e '.[dev,bench]'" in planned_commands("bench", tmp_path)
