"""The plans a session actually runs, nested statements included, read from auto_explain.

auto_explain logs the plan of every statement the executor runs, also the ones inside PL/pgSQL
and SQL functions (`log_nested_statements`), and it logs the plan that was run: a plan a function
keeps for the whole session shows up as kept, not as a fresh EXPLAIN would plan it. With
`log_level = notice` each plan comes back to the client as a NOTICE, so a test reads the plans of
its own session without touching the server log. Loading auto_explain takes a superuser.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

SETTINGS = {
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_nested_statements": "on",
    "auto_explain.log_format": "json",
    "auto_explain.log_level": "notice",
}


@dataclass(frozen=True)
class Scan:
    """One scan of a table: the statement it belongs to, the table, the node type, and the index
    it reads (None for a sequential scan; the indexes joined by '+' for a bitmap scan)."""

    query: str
    table: str
    node: str
    index: str | None


def load_auto_explain(conn: psycopg.Connection[Any]) -> None:
    conn.execute("load 'auto_explain'")
    for name, value in SETTINGS.items():
        conn.execute(f"set {name} = '{value}'")


@contextmanager
def captured_scans(conn: psycopg.Connection[Any]) -> Iterator[list[Scan]]:
    """Collects the scans of every statement the session runs inside the block."""
    scans: list[Scan] = []

    def on_notice(diag: psycopg.errors.Diagnostic) -> None:
        message = diag.message_primary or ""
        if "plan:" in message:
            scans.extend(_scans(json.loads(message.split("plan:", 1)[1])))

    conn.add_notice_handler(on_notice)
    try:
        yield scans
    finally:
        conn.remove_notice_handler(on_notice)


def _scans(explained: dict[str, Any]) -> list[Scan]:
    query = " ".join(str(explained.get("Query Text", "")).split())
    found: list[Scan] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        if kind == "Bitmap Heap Scan":
            indexes = sorted(set(_bitmap_indexes(node)))
            found.append(Scan(query, node["Relation Name"], kind, "+".join(indexes)))
        elif "Relation Name" in node and kind.endswith("Scan"):
            found.append(Scan(query, node["Relation Name"], kind, node.get("Index Name")))
        for child in node.get("Plans", []):
            if child["Node Type"] != "Bitmap Index Scan":
                walk(child)

    walk(explained["Plan"])
    return found


def _bitmap_indexes(node: dict[str, Any]) -> Iterator[str]:
    for child in node.get("Plans", []):
        if child["Node Type"] == "Bitmap Index Scan":
            yield child["Index Name"]
        else:
            yield from _bitmap_indexes(child)
