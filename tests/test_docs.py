"""Docs that are generated from the database stay true."""

from __future__ import annotations

from pathlib import Path

from gateway.app import SPECS
from gateway.cli.sqldoc import SQL_API_DOC, missing_examples, render, render_comments
from gateway.http.openapi import SQL_COMMENTS, load_sql_comments

STALE = "is stale: run `.venv/bin/python -m gateway.cli.sqldoc $DATABASE_URL`"


def test_every_api_function_has_a_psql_example(database_url: str) -> None:
    assert missing_examples(database_url) == []


def test_sql_api_reference_matches_the_catalog(database_url: str) -> None:
    expected = render(database_url)
    assert SQL_API_DOC.read_text(encoding="utf-8") == expected, f"docs/SQL_API.md {STALE}"


def test_openapi_descriptions_are_the_catalogs_function_comments(database_url: str) -> None:
    expected = render_comments(database_url)
    assert SQL_COMMENTS.read_text(encoding="utf-8") == expected, f"{SQL_COMMENTS.name} {STALE}"


def test_every_route_names_an_api_function_that_has_a_comment() -> None:
    comments = load_sql_comments()
    named = [spec.sql for spec in SPECS if spec.sql is not None]
    assert named and all(comments.get(name) for name in named), named


def test_the_readme_shows_the_newest_schema_version() -> None:
    """The health answer in the README's quick start names the migration `make run` ends at."""
    root = Path(__file__).resolve().parent.parent
    newest = sorted(p.stem for p in (root / "sql" / "migrations").glob("*.sql"))[-1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert f'"schema_version":"{newest}"' in readme
