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


def test_make_test_installs_debians_chromium_for_the_browser_tests(tmp_path: Path) -> None:
    """Before pytest runs, Chromium and its driver are there: installed with apt-get (after one
    `apt-get update`) when missing, never a browser downloaded by a test tool."""
    plan = planned_commands("test", tmp_path)
    assert plan.index("scripts/ensure-chromium.sh") < plan.index("-m pytest"), plan
    script = (ROOT / "scripts" / "ensure-chromium.sh").read_text(encoding="utf-8")
    code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert sum("apt-get update" in line for line in code) == 1
    assert any("apt-get install -y -qq chromium chromium-driver" in line for line in code)
    assert "playwright install" not in plan + script


def test_make_test_installs_nginx_and_haproxy_for_the_load_balancer_test(tmp_path: Path) -> None:
    """Before pytest runs, both balancers are there: Debian's packages installed with apt-get when
    missing (the test runs each as a process of its own, so no service is configured)."""
    plan = planned_commands("test", tmp_path)
    assert plan.index("scripts/ensure-load-balancers.sh") < plan.index("-m pytest"), plan
    script = (ROOT / "scripts" / "ensure-load-balancers.sh").read_text(encoding="utf-8")
    code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert sum("apt-get update" in line for line in code) == 1
    assert sum("apt-get install -y -qq" in line for line in code) == 1
    assert {"missing+=(nginx)", "missing+=(haproxy)"} <= {w for line in code for w in line.split()}
