"""docs/ERRORS.md tells the truth: it is what the error registry generates, and its tables list
exactly the codes the engine raises and the gateway maps, each with the HTTP status and problem
type the gateway really answers."""

from __future__ import annotations

import re

import psycopg

from gateway.cli.errordoc import ERRORS_DOC, render
from gateway.http.problems import CONFLICT_PROBLEMS, SQLSTATE_PROBLEMS
from gateway.services.db import RETRYABLE

EXACT_CODE = re.compile(r"^[0-9A-Z]{5}$")
RAISED_BK_CODES = r"""
    select distinct m[1]
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace,
         regexp_matches(p.prosrc, 'errcode\s*=\s*''(BK\d{3})''', 'g') as m
    where n.nspname in ('api', 'booking')
"""


def test_the_committed_errors_doc_is_what_the_registry_generates() -> None:
    assert ERRORS_DOC.read_text(encoding="utf-8") == render(), (
        "docs/ERRORS.md is stale: run `make error-docs` (python -m gateway.cli.errordoc)"
    )


def documented(section: str) -> dict[str, tuple[str, str]]:
    """code -> (HTTP status, problem slug) from the table under the `## <section>` heading."""
    text = ERRORS_DOC.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in body.splitlines():
        if not line.startswith("| ") or line.startswith(("| code ", "| conflict_type ")):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        status, slug = cells[-2], cells[-1].strip("`")
        for code in cells[0].split(", "):
            rows[code] = (status, slug)
    return rows


def mapped(codes: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """The rows of exact SQLSTATEs the gateway answers itself (not classes, not retried)."""
    return {c: row for c, row in codes.items() if EXACT_CODE.match(c) and row[0] != "—"}


def test_the_engine_codes_table_lists_exactly_the_codes_the_sql_raises(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        raised = {str(row[0]) for row in conn.execute(RAISED_BK_CODES)}
    assert raised, "no BKnnn code found in the functions: the query is wrong"
    assert set(documented("Engine codes (`BKnnn`)")) == raised


def test_every_documented_code_has_the_status_and_problem_type_the_gateway_answers() -> None:
    rows = mapped(documented("Engine codes (`BKnnn`)")) | mapped(
        documented("PostgreSQL codes the gateway maps")
    )
    answered = {code: (str(k.status), k.slug) for code, k in SQLSTATE_PROBLEMS.items()}
    assert rows == answered


def test_the_codes_documented_as_retried_are_the_ones_the_gateway_retries() -> None:
    retried = {
        code
        for code, (status, _) in documented("PostgreSQL codes the gateway maps").items()
        if status == "—"
    }
    assert retried == set(RETRYABLE)


def test_every_conflict_type_has_the_status_and_problem_type_the_gateway_answers() -> None:
    answered = {ctype: (str(k.status), k.slug) for ctype, k in CONFLICT_PROBLEMS.items()}
    assert documented("Conflicts (normal results, not errors)") == answered
