"""Every function in sql/functions is introduced by its purpose lines: directly above its CREATE
(a `drop function if exists` of a former signature may stand in between) a comment block whose
first line is `-- <its name>` and whose second line says what it is for, in a sentence of its own.
"""

from __future__ import annotations

import re

from gateway.paths import FUNCTIONS_DIR

CREATE = re.compile(r"^create (?:or replace )?function \w+\.(\w+)\(", re.IGNORECASE)


def purpose_line_problems(text: str, where: str) -> list[str]:
    """One line per function of an SQL file whose purpose lines are missing or name another."""
    lines = text.splitlines()
    problems: list[str] = []
    for number, line in enumerate(lines):
        created = CREATE.match(line)
        if created is None:
            continue
        name = created.group(1)
        block: list[str] = []
        above = number - 1
        while above >= 0 and lines[above].startswith(("--", "drop function if exists ")):
            block.insert(0, lines[above])
            above -= 1
        comments = [c for c in block if c.startswith("--")]
        if not comments or comments[0] != f"-- {name}":
            first = comments[0] if comments else "no comment"
            problems.append(f"{where}:{number + 1}: {name} is introduced by {first!r}")
        elif len(comments) < 2 or not re.match(r"-- [a-zA-Z]", comments[1]):
            problems.append(f"{where}:{number + 1}: {name} has no purpose line under its name")
    return problems


def test_every_function_has_purpose_lines_naming_it() -> None:
    files = sorted(FUNCTIONS_DIR.glob("*.sql"))
    assert files, f"no SQL files in {FUNCTIONS_DIR}"
    problems = [p for f in files for p in purpose_line_problems(f.read_text("utf-8"), f.name)]
    assert problems == []


def test_the_check_names_a_purpose_line_of_another_function() -> None:
    misnamed = "-- slot_problem\n-- why a start is refused.\ncreate function booking.assert_x(\n"
    unexplained = "-- assert_y\ncreate or replace function booking.assert_y(\n"
    assert purpose_line_problems(misnamed + unexplained, "f.sql") == [
        "f.sql:3: assert_x is introduced by '-- slot_problem'",
        "f.sql:5: assert_y has no purpose line under its name",
    ]
