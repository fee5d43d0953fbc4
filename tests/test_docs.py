"""Docs that are generated from the database stay true."""

from __future__ import annotations

from gateway.cli.sqldoc import SQL_API_DOC, missing_examples, render


def test_every_api_function_has_a_psql_example(database_url: str) -> None:
    assert missing_examples(database_url) == []


def test_sql_api_reference_matches_the_catalog(database_url: str) -> None:
    expected = render(database_url)
    assert SQL_API_DOC.read_text(encoding="utf-8") == expected, (
        "docs/SQL_API.md is stale: run `.venv/bin/python -m gateway.cli.sqldoc $DATABASE_URL`"
    )
