"""Property-based test of the whole HTTP API from its own /openapi.json (schemathesis): the
server and its document agree.

Every check schemathesis has for one response runs (no 5xx; status, content type, headers and body
as documented; a request the document forbids is refused; a method the document does not list is
405 with an `Allow` that lists exactly the documented methods), plus our own: a request the
document allows is never refused as malformed (tests/support/schemathesis_hooks.py). Phases:
the document's examples, coverage (boundary values, every kind of invalid value, missing parts,
undocumented methods) and fuzzing, each as an admin and as a customer.

Each run has a database and a gateway of its own: schemathesis reuses the ids it finds in answers
(the locations `GET /v1/locations` lists, the service an availability answer names), so an admin
run changes, closes and retires whatever it finds, which other tests must not share.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from gateway.paths import PROJECT_ROOT
from tests.fixtures import HttpCatalogue, create_http_catalogue, running_gateway
from tests.support.database import SessionDatabase

CONFIG = PROJECT_ROOT / "tests" / "support" / "schemathesis.toml"
HOOKS = "tests.support.schemathesis_hooks"
# checks about more than one response at a time (resources created then used, authorization
# across users) need links or stateful data the document does not describe
CROSS_REQUEST_CHECKS = (
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
    # positive_data_acceptance expects 2xx, but well-formed requests are refused for what they mean
    # (a start in the past): well_formed_data_is_not_refused_as_malformed checks the shape instead
    "positive_data_acceptance",
)
EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def fuzzed() -> Iterator[tuple[str, HttpCatalogue]]:
    """A gateway over a database of its own, holding the HTTP tests' salon, for one run."""
    db = SessionDatabase.create()
    try:
        catalogue = create_http_catalogue(db.url)
        with running_gateway(db.url) as base:
            yield base, catalogue
    finally:
        db.drop()


@pytest.mark.parametrize("role", ["admin", "customer"])
def test_the_api_and_its_openapi_document_agree(
    role: str, fuzzed: tuple[str, HttpCatalogue], mint: Callable[..., str]
) -> None:
    gateway_url, http_catalogue = fuzzed
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            f"{gateway_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {mint(f'fuzz-{role}', role)}",
            "--checks",
            "all",
            "--exclude-checks",
            ",".join(CROSS_REQUEST_CHECKS),
            "--phases",
            "examples,coverage,fuzzing",
            "--mode",
            "all",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--workers",
            "1",
            "--no-color",
        ],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": HOOKS,
            "BOOKING_FUZZ_SERVICE_ID": http_catalogue.service_id,
            "PYTHONPATH": str(PROJECT_ROOT),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    tested = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", run.stdout)
    assert tested and len(set(tested.groups())) == 1, run.stdout  # every operation was tested
