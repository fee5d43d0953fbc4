"""The gateway's one way to the database: each call runs as its caller in a transaction of its
own, and nothing of one call (role, claims) is left on the pooled connection for the next."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from gateway.http.auth import Principal
from gateway.http.problems import Problem
from gateway.services.db import Database, Reachability

WHO_AM_I = (
    "select current_user::text, coalesce(current_setting('request.jwt.claims', true), ''),"
    " %(text)s::text, %(at)s::timestamptz"
)


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[Database]:
    """A Database whose pool has a single connection, so every call reuses it."""
    reachability = Reachability()
    pool: AsyncConnectionPool[psycopg.AsyncConnection[object]] = AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=1,
        kwargs={"autocommit": True, "options": "-c TimeZone=UTC"},
        open=False,
    )
    await pool.open()
    try:
        yield Database(pool, 0, reachability, 1.0)
    finally:
        await pool.close()


def customer(sub: str) -> Principal:
    return Principal(sub=sub, role="customer", claims_json=json.dumps({"sub": sub}))


async def test_a_call_runs_as_its_caller_and_the_next_call_as_the_login_role(
    one_connection: Database,
) -> None:
    at = datetime(2031, 5, 6, 7, 8, tzinfo=UTC)
    as_customer = await one_connection.fetch_one(
        customer("o'brien; drop table x --"),
        WHO_AM_I,
        {"text": "it's %(quoted)s", "at": at},
        tuple_row,
    )
    assert as_customer[0] == "booking_customer"
    assert json.loads(as_customer[1]) == {"sub": "o'brien; drop table x --"}
    assert as_customer[2] == "it's %(quoted)s", "values reach the database verbatim"
    assert as_customer[3] == at
    after = await one_connection.fetch_one(None, WHO_AM_I, {"text": "x", "at": at}, tuple_row)
    assert after[0] != "booking_customer" and after[1] == "", "nothing of the caller is left"


async def test_a_failed_call_leaves_neither_role_nor_transaction_behind(
    one_connection: Database,
) -> None:
    with pytest.raises(Problem):
        await one_connection.fetch_one(customer("failing"), "select 1 / 0", {}, tuple_row)
    after = await one_connection.fetch_one(
        None, WHO_AM_I, {"text": "x", "at": datetime.now(UTC)}, tuple_row
    )
    assert after[0] != "booking_customer" and after[1] == ""
    async with one_connection.pool.connection() as conn:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


async def test_an_offset_python_accepts_but_postgresql_would_not_is_the_same_instant(
    one_connection: Database,
) -> None:
    far = datetime(2031, 5, 6, 7, 8, tzinfo=timezone(-timedelta(hours=21, minutes=38)))
    row = await one_connection.fetch_one(
        customer("offsets"), WHO_AM_I, {"text": "x", "at": far}, tuple_row
    )
    assert row[3] == far
