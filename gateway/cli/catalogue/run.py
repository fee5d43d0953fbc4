"""`booking catalogue apply` and `export` against a database: one connection, one transaction."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import psycopg

from gateway.cli.catalogue.apply import ApplyReport, apply_catalogue
from gateway.cli.catalogue.export import export_catalogue
from gateway.cli.catalogue.files import read_catalogue
from gateway.cli.catalogue.model import Catalogue
from gateway.cli.catalogue.references import resolve_references


def apply_file(
    database_url: str, path: Path, *, dry_run: bool = False, cancel_future: bool = False
) -> ApplyReport:
    """Apply a catalogue file in one transaction: all of it, or (on CatalogueError) nothing.
    The file is read and checked before the database is connected to. A dry run rolls back."""
    catalogue = read_catalogue(path)
    resolve_references(catalogue)
    with psycopg.connect(database_url) as conn, conn.transaction():
        report = apply_catalogue(conn, catalogue, cancel_future=cancel_future)
        if dry_run:
            raise psycopg.Rollback()
    return report


def export_location(database_url: str, location_id: UUID) -> Catalogue:
    """A location's catalogue as a file would say it."""
    with psycopg.connect(database_url) as conn:
        return export_catalogue(conn, location_id)
