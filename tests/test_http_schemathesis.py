"""Property-based test of the whole HTTP API from its own /openapi.json (schemathesis): no 5xx,
every status, header and body as documented.

Schemathesis' pytest plugin does not run under this pytest, so the test drives each operation's
Hypothesis strategy itself and reports every operation that failed.
"""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES_PER_OPERATION = 40


def _fuzz(operation: schemathesis.APIOperation, base_url: str, token: str) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        headers = dict(case.headers or {})
        headers.setdefault("Authorization", f"Bearer {token}")
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    run()


def test_the_api_honours_its_openapi_document(gateway_url: str, mint: Callable[..., str]) -> None:
    schema = schemathesis.openapi.from_url(gateway_url + "/openapi.json")
    tokens = {"admin": mint("fuzz-admin", "admin"), "customer": mint("fuzz-customer")}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    for operation in operations:
        for role, token in tokens.items():
            try:
                _fuzz(operation, gateway_url, token)
            except Exception as exc:  # collect every operation's failure, then fail once
                failures.append(f"{operation.label} as {role}: {exc}")
    assert not failures, "\n\n".join(failures)
