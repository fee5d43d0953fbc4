"""The error registry (gateway/errors/registry.py) is the truth about error codes: every code the
SQL raises is registered, every registered engine code is raised, every registered PostgreSQL
code is one PostgreSQL defines, the gateway answers each as registered, and the OpenAPI document
lists every status the registry answers with.

The SQL is read from whatever files sql/functions and sql/migrations hold when the test runs (the
files are split and renamed over time), by a small scanner of RAISE statements below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.errors

from gateway.app import OPENAPI_DOCUMENT
from gateway.errors.problem import INTERNAL, Problem, from_sqlstate
from gateway.errors.registry import (
    REGISTRY,
    RETRYABLE,
    ErrorCode,
    ProblemKind,
    Source,
    codes_from,
)
from gateway.http.problems import CONFLICT_PROBLEMS, SQLSTATE_PROBLEMS, from_conflict
from gateway.paths import FUNCTIONS_DIR, MIGRATIONS_DIR
from gateway.services import db

# One token of PL/pgSQL as far as RAISE statements go: a string literal ('' is a quote inside
# it), a comment, the keyword RAISE, a statement's end, a word, or any other character.
TOKEN = re.compile(
    r"(?P<string>'(?:[^']|'')*')"
    r"|(?P<comment>--[^\n]*|/\*.*?\*/)"
    r"|(?P<end>;)"
    r"|(?P<word>\w+)"
    r"|(?P<other>\S)",
    re.DOTALL,
)
LEVELS = {"debug", "log", "info", "notice", "warning", "exception"}
ENGINE_CODE = re.compile(r"^BK\d{3}$")
SQLSTATE = re.compile(r"^[0-9A-Z]{5}$")
CONFLICT_TYPE = re.compile(r"'([A-Z]+_CONFLICT)'")


@dataclass(frozen=True)
class Raised:
    """A SQLSTATE a RAISE statement raises, and where."""

    code: str
    where: str


def sql_files() -> list[Path]:
    files = sorted(FUNCTIONS_DIR.glob("*.sql")) + sorted(MIGRATIONS_DIR.glob("*.sql"))
    assert any(f.parent == FUNCTIONS_DIR for f in files), f"no SQL found in {FUNCTIONS_DIR}"
    return files


def statements(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line, tokens) of every RAISE statement, comments left out."""
    tokens: list[str] | None = None
    line = 0
    for match in TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        if kind == "comment":
            continue
        if tokens is None:
            if kind == "word" and token.lower() == "raise":
                tokens, line = [], text.count("\n", 0, match.start()) + 1
            continue
        if kind == "end":
            yield line, tokens
            tokens = None
        else:
            tokens.append(token)


def condition_code(name_or_code: str) -> str:
    """The SQLSTATE of a condition name (`unique_violation`) or of a SQLSTATE itself."""
    if SQLSTATE.match(name_or_code):
        return name_or_code
    return str(psycopg.errors.lookup(name_or_code.upper()).sqlstate)


def raised_code(tokens: list[str]) -> str | None:
    """The SQLSTATE a RAISE raises; None for a re-raise or a message below EXCEPTION level."""
    words = [t.lower() for t in tokens]
    if not tokens:
        return None  # `raise;` re-raises what the handler caught
    if words[0] in LEVELS:
        if words[0] != "exception":
            return None
        tokens, words = tokens[1:], words[1:]
    for i in range(len(tokens) - 2):
        if words[i] == "errcode" and tokens[i + 1] == "=" and tokens[i + 2].startswith("'"):
            return condition_code(tokens[i + 2].strip("'"))
    if len(tokens) > 1 and words[0] == "sqlstate" and tokens[1].startswith("'"):
        return tokens[1].strip("'")
    if words and words[0] != "using" and not tokens[0].startswith("'"):
        return condition_code(tokens[0])  # `raise unique_violation`
    return "P0001"  # raise_exception: no code given


def raised_in_sql() -> list[Raised]:
    found: list[Raised] = []
    for path in sql_files():
        for line, tokens in statements(path.read_text(encoding="utf-8")):
            code = raised_code(tokens)
            if code is not None:
                found.append(Raised(code, f"{path.parent.name}/{path.name}:{line}"))
    return found


def test_the_scanner_reads_every_form_of_raise() -> None:
    sql = """
      -- raise exception 'in a comment' using errcode = 'XX001';
      comment on function f() is 'raise exception ''in a string'' using errcode = ''XX002''';
      raise exception 'a; b' using hint = 'h;', errcode = 'BK001';
      RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = 'm';
      raise sqlstate 'BK002';
      raise check_violation using message = 'm';
      raise exception 'no code';
      raise notice 'just saying %', 1;
      raise;
      raised := true;
    """
    found = [raised_code(tokens) for _, tokens in statements(sql)]
    assert found == ["BK001", "23505", "BK002", "23514", "P0001", None, None]


def test_every_code_the_sql_raises_is_registered() -> None:
    raised = raised_in_sql()
    assert len({r.code for r in raised}) >= 10, "too few codes found: the scanner is wrong"
    sqlstates = {e.code for e in REGISTRY if e.source is not Source.CONFLICT}
    assert [r for r in raised if r.code not in sqlstates] == []


def test_every_registered_engine_code_is_raised_in_the_sql() -> None:
    raised = {r.code for r in raised_in_sql()}
    engine = {e.code for e in codes_from(Source.ENGINE)}
    assert engine - raised == set()
    assert all(ENGINE_CODE.match(code) for code in engine), engine


def test_every_registered_postgresql_code_is_one_postgresql_defines() -> None:
    for e in codes_from(Source.POSTGRESQL):
        code = e.code[:2] + "000" if e.is_class else e.code
        assert psycopg.errors.lookup(code).sqlstate == code, e
        assert not code.startswith("BK"), e


def test_every_conflict_type_the_sql_returns_is_registered_and_back() -> None:
    returned = {m for path in sql_files() for m in CONFLICT_TYPE.findall(path.read_text())}
    assert returned == {e.code for e in codes_from(Source.CONFLICT)}


def test_codes_are_registered_once() -> None:
    codes = [e.code for e in REGISTRY]
    assert len(codes) == len(set(codes))


def test_the_gateway_tables_are_the_registry() -> None:
    answered = {e.code: e.answer for e in REGISTRY if e.answer is not None and not e.is_class}
    assert answered == SQLSTATE_PROBLEMS | CONFLICT_PROBLEMS


def test_the_gateway_retries_exactly_serialization_failures_and_deadlocks() -> None:
    retried = {
        psycopg.errors.SerializationFailure.sqlstate,
        psycopg.errors.DeadlockDetected.sqlstate,
    }
    assert db.RETRYABLE == RETRYABLE == retried


def engine_error(code: str) -> psycopg.Error:
    """An error as psycopg raises it for a SQLSTATE it has no class for (the BKnnn codes)."""
    return type("EngineError", (psycopg.Error,), {"sqlstate": code})()


def postgresql_errors() -> Iterator[psycopg.Error]:
    """One error of every SQLSTATE psycopg knows."""
    pending: list[type[psycopg.Error]] = [psycopg.Error]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if isinstance(cls.__dict__.get("sqlstate"), str):
            yield cls()


def expected_answer(code: str) -> ProblemKind:
    """How the registry says a SQLSTATE is answered once it reaches the client."""
    by_code: dict[str, ErrorCode] = {e.code: e for e in REGISTRY}
    entry = by_code.get(code) or by_code.get(code[:2] + "xxx")
    return INTERNAL if entry is None or entry.answer is None else entry.answer


def answered(problem: Problem) -> ProblemKind:
    return ProblemKind(problem.status, problem.slug, problem.title)


def test_the_database_layer_answers_every_sqlstate_as_registered() -> None:
    errors = [*postgresql_errors(), *(engine_error(e.code) for e in codes_from(Source.ENGINE))]
    assert len(errors) > 200
    wrong = {
        str(exc.sqlstate): answered(db._problem(exc))
        for exc in errors
        if answered(db._problem(exc)) != expected_answer(str(exc.sqlstate))
    }
    assert wrong == {}


def test_a_registered_code_keeps_the_engine_message_and_hint_and_others_do_not_leak() -> None:
    problem = from_sqlstate("BK008", "hold 1 not found", "Check the id.")
    assert problem.body() == {
        "type": "https://booking.example/problems/reservation-not-found",
        "title": "Hold or booking not found",
        "status": 404,
        "detail": "hold 1 not found",
        "code": "BK008",
        "hint": "Check the id.",
    }
    assert from_sqlstate("XX000", "secret internals").detail == "unexpected database error"


def test_every_conflict_is_answered_as_registered() -> None:
    for e in codes_from(Source.CONFLICT):
        assert e.answer is not None
        assert answered(from_conflict({"success": False, "conflict_type": e.code})) == e.answer


def test_the_openapi_document_lists_every_status_the_registry_answers_with() -> None:
    documented = {
        status
        for operations in OPENAPI_DOCUMENT["paths"].values()
        for operation in operations.values()
        for status in operation.get("responses", {})
    }
    statuses = {str(e.answer.status) for e in REGISTRY if e.answer is not None}
    assert statuses - documented == set()
