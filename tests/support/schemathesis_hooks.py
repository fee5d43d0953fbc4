"""Schemathesis hooks for the HTTP API's property test (loaded through SCHEMATHESIS_HOOKS).

- `local-date-time`, the document's own string format (a wall-clock time without an offset, as an
  HTML datetime-local input gives it), gets a generator.
- `well_formed_data_is_not_refused_as_malformed`: a request the document allows (schemathesis'
  positive mode) must never be answered as malformed. The engine may still refuse it for what it
  means (a start in the past is 422 `too-soon`), but a 422 `validation-error`, a 400
  `bad-request` or a 400 `invalid-argument` says the server is stricter than its document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

MALFORMED = ("validation-error", "bad-request", "invalid-argument")


def _wall_clock(moment: datetime, seconds: bool) -> str:
    return moment.isoformat(timespec="seconds" if seconds else "minutes")


schemathesis.openapi.format(
    "local-date-time",
    st.builds(
        _wall_clock,
        st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9000, 12, 31, 23, 59)),
        st.booleans(),
    ),
)


@schemathesis.check
def well_formed_data_is_not_refused_as_malformed(ctx: Any, response: Any, case: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    # a "positive" case may still carry a negative part (schemathesis seeds an optional header it
    # cannot generate, e.g. a quoted entity tag, with an invalid value): every part must be valid
    if any(component.mode.is_negative for component in meta.components.values()):
        return
    if response.status_code not in (400, 422):
        return
    try:
        slug = str(response.json().get("type", "")).rsplit("/", 1)[-1]
    except ValueError:
        slug = ""
    if slug in MALFORMED:
        raise AssertionError(
            f"a request the OpenAPI document allows was refused as {slug}: {response.text}"
        )
