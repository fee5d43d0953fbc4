"""Schema migration: yoyo applies sql/migrations/, then every sql/functions/ file is re-applied.

Migrations are forward-only and never edited once landed. Function bodies are `CREATE OR REPLACE`
definitions, one file per area, applied in file-name order in one transaction, so a migrate
either installs the whole API or none of it. Running migrate twice changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

from gateway.paths import FUNCTIONS_DIR, MIGRATIONS_DIR

# Serializes concurrent `booking migrate` runs on one database (see docs/OPERATIONS.md).
MIGRATE_ADVISORY_LOCK = 7_310_001

# Told each migration's id and how many seconds it took, as soon as it is applied.
OnApplied = Callable[[str, float], None]


def yoyo_uri(database_url: str) -> str:
    """Translate a libpq URL or conninfo into the URI yoyo's psycopg 3 backend expects."""
    params = {k: str(v) for k, v in conninfo_to_dict(database_url).items() if v is not None}
    return "postgresql+psycopg:///?" + urlencode(params)


def function_files(directory: Path = FUNCTIONS_DIR) -> list[Path]:
    """The function files in the fixed order they are applied: by file name."""
    return sorted(directory.glob("*.sql"))


def apply_migrations(
    database_url: str, directory: Path = MIGRATIONS_DIR, on_applied: OnApplied | None = None
) -> list[str]:
    """Apply pending yoyo migrations one by one; return the ids of those applied now."""
    backend = get_backend(yoyo_uri(database_url))
    try:
        migrations = read_migrations(str(directory))
        with backend.lock():
            pending = backend.to_apply(migrations)
            for migration in pending:
                started = time.monotonic()
                backend.apply_one(migration)
                if on_applied is not None:
                    on_applied(migration.id, time.monotonic() - started)
            if pending:
                backend.run_post_apply(pending)
    finally:
        backend.connection.close()  # else it stays open until garbage collection
    return [m.id for m in pending]


def apply_functions(database_url: str, files: list[Path] | None = None) -> int:
    """Re-apply every function file in one transaction; return how many files were applied."""
    chosen = function_files() if files is None else files
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (MIGRATE_ADVISORY_LOCK,))
        for path in chosen:
            conn.execute(path.read_text(encoding="utf-8").encode())
    return len(chosen)


def migrate(database_url: str, on_applied: OnApplied | None = None) -> list[str]:
    """Bring the database to the current schema and API; safe to run any number of times."""
    applied = apply_migrations(database_url, on_applied=on_applied)
    apply_functions(database_url)
    return applied


def schema_version(database_url: str) -> str | None:
    """The newest migration applied to the database (what `api.health()` reports)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("select booking.schema_version()").fetchone()
    return None if row is None else row[0]
