"""`booking move-location`: copy one location's rows from one shard to another, the data step of
moving a location (docs/OPERATIONS.md, "Moving a location to another shard"). Run it while the
shard directory lists the location on neither shard (no request reaches its rows), then point
the directory at the target.

In one transaction on the target, as a superuser, with triggers off (the rows are history, not
new bookings: no events, no audit rows, no foreign-key checks in between):
- every table with `location_id` (discovered from the catalog, so a table added later moves
  too), and `booking.locations` by `id`; not `booking.events` (ids are numbered per shard) nor
  the webhook tables (their cursors are event ids of the source's log);
- the customers those rows name, matched by `subject`: a customer the target already knows
  keeps the target's id, and the moved rows are rewritten to it;
- identity sequences of the target moved past the copied ids.
Then the row count of each table is compared on both sides. The source keeps its rows; delete
them once the move is done."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.abc import Params

# tables with location_id left behind: see the module docstring
NOT_MOVED = frozenset({"events", "webhook_endpoints", "webhook_deliveries", "webhook_attempts"})

TABLES = """
select c.relname::text
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'booking' and c.relkind in ('r', 'p')
  and exists (select 1 from pg_attribute a
              where a.attrelid = c.oid and a.attname = 'location_id' and not a.attisdropped)
order by 1
"""

# the columns a COPY can write: not dropped, not generated
COLUMNS = """
select a.attname::text
from pg_attribute a
where a.attrelid = format('booking.%%I', %(table)s::text)::regclass and a.attnum > 0
  and not a.attisdropped and a.attgenerated = ''
order by a.attnum
"""

# (table, column) of every foreign key to booking.customers
CUSTOMER_COLUMNS = """
select c.conrelid::regclass::text, a.attname::text
from pg_constraint c
join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
where c.contype = 'f' and c.confrelid = 'booking.customers'::regclass
order by 1, 2
"""

# identity or serial columns of a table, with their sequence
SEQUENCES = """
select a.attname::text, pg_get_serial_sequence(format('booking.%%I', %(table)s::text), a.attname)
from pg_attribute a
where a.attrelid = format('booking.%%I', %(table)s::text)::regclass and a.attnum > 0
  and not a.attisdropped
  and pg_get_serial_sequence(format('booking.%%I', %(table)s::text), a.attname) is not null
"""


class MoveError(RuntimeError):
    """The move cannot run, or its counts do not match; nothing was committed on the target."""


Conn = psycopg.Connection[tuple[Any, ...]]


def _value(conn: Conn, query: str | sql.Composed, params: Params | None = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _copy(
    src: Conn, dst: Conn, select: sql.Composable, into: sql.Composable, params: Params
) -> None:
    out = sql.SQL("copy ({}) to stdout").format(select)
    inp = sql.SQL("copy {} from stdin").format(into)
    with src.cursor().copy(out, params) as source, dst.cursor().copy(inp) as target:
        for chunk in source:
            target.write(chunk)


def move_location(source_url: str, target_url: str, location_id: UUID) -> dict[str, int]:
    """Copy the location's rows from the source database to the target; return the rows copied
    per table."""
    with (
        psycopg.connect(source_url) as src,
        psycopg.connect(target_url) as dst,
    ):
        versions = [_value(c, "select api.health()->>'schema_version'") for c in (src, dst)]
        if versions[0] != versions[1]:
            raise MoveError(f"schema versions differ: source {versions[0]}, target {versions[1]}")
        if not _value(
            src, "select exists (select 1 from booking.locations where id = %s)", (location_id,)
        ):
            raise MoveError(f"the source holds no location {location_id}")
        if _value(
            dst, "select exists (select 1 from booking.locations where id = %s)", (location_id,)
        ):
            raise MoveError(f"the target already holds location {location_id}")
        tables = [str(r[0]) for r in src.execute(TABLES).fetchall() if r[0] not in NOT_MOVED]
        customer_columns = [
            (str(t).removeprefix("booking."), str(c))
            for t, c in src.execute(CUSTOMER_COLUMNS).fetchall()
        ]
        customer_columns = [(t, c) for t, c in customer_columns if t in tables]
        copied: dict[str, int] = {}
        with dst.transaction():
            dst.execute("set local session_replication_role = replica")
            # the customers the location's rows name
            dst.execute("create temp table moved_customers (like booking.customers) on commit drop")
            named = sql.SQL(" union ").join(
                sql.SQL("select {} from booking.{} where location_id = %(location)s").format(
                    sql.Identifier(c), sql.Identifier(t)
                )
                for t, c in customer_columns
            )
            _copy(
                src,
                dst,
                sql.SQL("select * from booking.customers where id in ({})").format(named),
                sql.SQL("moved_customers"),
                {"location": location_id},
            )
            dst.execute(
                "insert into booking.customers select * from moved_customers on conflict do nothing"
            )
            # the location itself, then every table of its rows
            _copy(
                src,
                dst,
                sql.SQL("select * from booking.locations where id = %(location)s"),
                sql.SQL("booking.locations"),
                {"location": location_id},
            )
            for table in tables:
                columns = [
                    sql.Identifier(str(r[0]))
                    for r in src.execute(COLUMNS, {"table": table}).fetchall()
                ]
                column_list = sql.SQL(", ").join(columns)
                _copy(
                    src,
                    dst,
                    sql.SQL("select {} from booking.{} where location_id = %(location)s").format(
                        column_list, sql.Identifier(table)
                    ),
                    sql.SQL("booking.{} ({})").format(sql.Identifier(table), column_list),
                    {"location": location_id},
                )
            # a customer the target knew keeps its id there
            for table, column in customer_columns:
                dst.execute(
                    sql.SQL(
                        "update booking.{table} t set {column} = c.id"
                        " from moved_customers m join booking.customers c on c.subject = m.subject"
                        " where t.location_id = %(location)s and t.{column} = m.id and c.id <> m.id"
                    ).format(table=sql.Identifier(table), column=sql.Identifier(column)),
                    {"location": location_id},
                )
            # the target's own ids continue after the copied ones
            for table in tables:
                for column, sequence in dst.execute(SEQUENCES, {"table": table}).fetchall():
                    last = sql.SQL(
                        "select setval(%(seq)s::regclass,"
                        " greatest((select max({column}) from booking.{table}),"
                        " (select last_value from {seq})))"
                    ).format(
                        column=sql.Identifier(str(column)),
                        table=sql.Identifier(table),
                        seq=sql.Identifier(*str(sequence).split(".")),
                    )
                    dst.execute(last, {"seq": sequence})
            for table in ["locations", *tables]:
                key = "id" if table == "locations" else "location_id"
                count = sql.SQL("select count(*) from booking.{} where {} = %s").format(
                    sql.Identifier(table), sql.Identifier(key)
                )
                here, there = (int(_value(c, count, (location_id,))) for c in (src, dst))
                if here != there:
                    raise MoveError(f"booking.{table}: {here} rows on the source, {there} copied")
                copied[table] = there
        return copied
