"""The docs stand alone: nothing cites a design document that is not in the repository.

A reader has README.md, docs/ and the code, and nothing else, so a reference like "DESIGN §7",
"§12" or "../shared/..." points nowhere: each such place must say the reasoning itself. Checked
are the docs and every source that writes or explains them (gateway/ renders SQL_API.md and
/docs, bench/ writes PERFORMANCE.md, sql/ carries the COMMENTs SQL_API.md is made of). A section
of a public standard ("RFC 9110 §13.1.2") is a citation anyone can follow and is allowed.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = (
    "README.md",
    "Makefile",
    "pyproject.toml",
    ".ci",
    "docs",
    "gateway",
    "testkit",
    "bench",
    "scripts",
    "sql",
    "tests",
)
TEXT_SUFFIXES = {".md", ".py", ".sql", ".sh", ".toml", ".txt", ".html", ""}
ELSEWHERE = re.compile(r"\bDESIGN\b|§|\.\./shared\b")
STANDARD_SECTION = re.compile(r"\bRFC \d+ $")


def checked_files() -> list[Path]:
    files: list[Path] = []
    for name in CHECKED:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        files += [
            f
            for f in candidates
            if f.is_file()
            and f.suffix in TEXT_SUFFIXES
            and "__pycache__" not in f.parts
            and f != Path(__file__).resolve()
        ]
    return files


def citations_of_missing_documents(text: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if any(
            not (m.group() == "§" and STANDARD_SECTION.search(line[: m.start()]))
            for m in ELSEWHERE.finditer(line)
        )
    ]


def test_the_check_tells_a_missing_document_from_a_public_standard() -> None:
    assert citations_of_missing_documents("the order (DESIGN §7) holds") != []
    assert citations_of_missing_documents("as §12 warns") != []
    assert citations_of_missing_documents("see ../shared/notes.md") != []
    assert citations_of_missing_documents("weak comparison (RFC 9110 §13.1.2)") == []
    assert citations_of_missing_documents("a design decision") == []


def test_no_doc_or_doc_source_cites_a_document_outside_the_repository() -> None:
    files = checked_files()
    assert ROOT / "docs" / "ARCHITECTURE.md" in files and ROOT / "bench" / "run.py" in files
    offenders = {
        str(f.relative_to(ROOT)): hits
        for f in files
        if (hits := citations_of_missing_documents(f.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "say the reasoning instead of citing a document readers do not have"
