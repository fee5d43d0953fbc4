"""Generates docs/ERRORS.md from the error registry (gateway/errors/registry.py): one table per
source of codes, inside the prose below. `python -m gateway.cli.errordoc` (or `make error-docs`)
writes the file; tests/test_errors_doc.py fails when the committed file differs."""

from __future__ import annotations

import sys

from gateway.errors.problem import PROBLEM_BASE
from gateway.errors.registry import ErrorCode, Source, codes_from
from gateway.paths import PROJECT_ROOT

ERRORS_DOC = PROJECT_ROOT / "docs" / "ERRORS.md"

HEADER = f"""# Error codes

Generated from the error registry, `gateway/errors/registry.py`, by
`python -m gateway.cli.errordoc` (`make error-docs`; a test fails when this file is stale).

Every error the engine raises carries a stable SQLSTATE; the HTTP gateway answers it as
`application/problem+json` (RFC 9457) with `type` = `{PROBLEM_BASE}<slug>`,
`title`, `status`, `detail` (the engine's message), `code` (the SQLSTATE) and, when the engine
gave one, `hint`. The gateway's table from SQLSTATE to problem is built from the same registry.
Tests check that every code the SQL functions raise is registered and every registered engine code
is raised, and they check codes, never message text. Anything not listed is answered 500 and is a
bug.
"""

ENGINE_SECTION = """
## Engine codes (`BKnnn`)

"""

POSTGRESQL_SECTION = """
## PostgreSQL codes the gateway maps

A code written `08xxx` stands for its whole SQLSTATE class.

"""

CONFLICT_SECTION = """
## Conflicts (normal results, not errors)

A taken slot is not an error in SQL: the function returns `{"success": false, "conflict_type",
...}`. The gateway answers it as a problem whose body also carries the whole conflict object
(`conflict_id`, `conflict_type`, `conflict_reason`, `suggested_action`, `requires_retry`,
`retry_after`, `alternatives`, and `conflict` with the object as returned).

"""

GATEWAY_SECTION = """
## Gateway-only problems

"""

# Problems the gateway raises without a database code: (status, problem types, when).
GATEWAY_PROBLEMS: tuple[tuple[int, tuple[str, ...], str], ...] = (
    (400, ("bad-request",), "Body is not JSON; bad `If-Match`; bad `Idempotency-Key` length."),
    (
        401,
        ("unauthorized",),
        "No, expired, forged, `alg: none`, wrong-algorithm or claim-less token "
        "(`WWW-Authenticate: Bearer`).",
    ),
    (403, ("forbidden",), "The route is for another role (cache administration is admin only)."),
    (404, ("not-found",), "No such route (or a malformed id in the path)."),
    (405, ("method-not-allowed",), "Wrong method; `Allow` lists the right ones."),
    (
        409,
        ("lock-held", "lock-not-held"),
        "Lease held by another owner; renew/release with a stale token.",
    ),
    (413, ("payload-too-large",), "Body over `MAX_BODY_BYTES` (64 KiB)."),
    (415, ("unsupported-media-type",), "Body sent with a non-JSON content type."),
    (422, ("validation-error",), "A field has the wrong type or format; `errors` names it."),
    (
        422,
        ("inconsistent-query",),
        "Query parameters, each well-formed, that do not fit together (the booking search: "
        "`after_start` without `after_id` or the reverse, `to` before `from`); `errors` names "
        "one.",
    ),
    (429, ("rate-limited",), "Over the per-user or per-IP rate (`Retry-After` in seconds)."),
    (503, ("unavailable",), "Database unreachable or no pooled connection in time."),
    (500, ("internal-error",), "A bug. Logged with the traceback."),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(first_column: str, codes: tuple[ErrorCode, ...]) -> str:
    """A Markdown table of codes: code, meaning, HTTP status, problem type (— when retried)."""
    lines = [f"| {first_column} | meaning | HTTP | problem type |", "|---|---|---|---|"]
    for e in codes:
        status, slug = ("—", "—") if e.answer is None else (str(e.answer.status), e.answer.slug)
        slug = slug if e.answer is None else f"`{slug}`"
        lines.append(f"| {e.code} | {_cell(e.meaning)} | {status} | {slug} |")
    return "\n".join(lines) + "\n"


def gateway_table() -> str:
    """The Markdown table of GATEWAY_PROBLEMS."""
    lines = ["| status | problem type | when |", "|---|---|---|"]
    for status, slugs, when in GATEWAY_PROBLEMS:
        types = ", ".join(f"`{slug}`" for slug in slugs)
        lines.append(f"| {status} | {types} | {_cell(when)} |")
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole text of docs/ERRORS.md."""
    return "".join(
        [
            HEADER,
            ENGINE_SECTION,
            table("code", codes_from(Source.ENGINE)),
            POSTGRESQL_SECTION,
            table("code", codes_from(Source.POSTGRESQL)),
            CONFLICT_SECTION,
            table("conflict_type", codes_from(Source.CONFLICT)),
            GATEWAY_SECTION,
            gateway_table(),
        ]
    )


def main() -> int:
    ERRORS_DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {ERRORS_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
