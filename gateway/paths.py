"""Where the project's SQL lives on disk."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = Path(os.environ.get("BOOKING_SQL_DIR", PROJECT_ROOT / "sql"))
MIGRATIONS_DIR = SQL_DIR / "migrations"
FUNCTIONS_DIR = SQL_DIR / "functions"
DEMO_CATALOGUE_FILE = SQL_DIR / "demo" / "demo_salon.yaml"
EMBEDDED_HOME = Path(os.environ.get("BOOKING_HOME", Path.cwd() / ".booking"))
