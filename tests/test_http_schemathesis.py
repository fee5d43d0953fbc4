"""Property-based test of the whole HTTP API from its own /openapi.json (schemathesis): the
server and its document agree.

Every check schemathesis has for one response runs (no 5xx; status, content type, headers and body
as documented; a request the document forbids is refused; a method the document does not list is
405 with an `Allow` that lists exactly the documented methods), plus our own: a request the
document allows is never refused as malformed (tests/support/schemathesis_hooks.py). Phases:
the document's examples, coverage (boundary values, every kind of invalid value, missing parts,
undocumented methods) and fuzzing, each as an admin and as a customer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable

import pytest

from gateway.paths import PROJECT_ROOT
from tests.fixtures import HttpCatalogue

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


@pytest.mark.parametrize("role", ["admin", "customer"])
def test_the_api_and_its_openapi_document_agree(
    role: str, gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
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
