"""Reading one value back from a fixture's insert: `one = partial(first_value, conn)` and then
`loc = one("insert ... returning id", ...)`."""

from __future__ import annotations

from typing import Any

import psycopg


def first_value(conn: psycopg.Connection[Any], sql: str, *args: object) -> str:
    """The first column of the first row `sql` (with positional `args`) returns, as text."""
    row = conn.execute(sql, args).fetchone()
    assert row is not None
    return str(row[0])
