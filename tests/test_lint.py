"""The house tooling holds for the whole tree: ruff (lint and format) and mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON_TREES = ["gateway", "testkit", "tests", "bench"]


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "ruff", "check", *PYTHON_TREES],
        ["-m", "ruff", "format", "--check", *PYTHON_TREES],
        ["-m", "mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy-strict"],
)
def test_tooling_is_clean(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
