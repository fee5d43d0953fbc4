"""Who may import whom among the top-level packages, read from the code with `ast`.

gateway/ is the service: it imports none of the development packages. testkit/ holds what tests/
and bench/ share (throwaway servers, seeded catalogues), so neither reaches into the other, and
testkit/ itself depends on neither.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "gateway": {"testkit", "tests", "bench"},
    "bench": {"tests"},
    "testkit": {"tests", "bench"},
}


def imported_modules(source: str) -> set[str]:
    """Every module a source imports by absolute name: `import`, `from ... import` and
    importlib.import_module("..."). Relative imports are left out: they cannot leave the
    top-level package they are written in."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


def forbidden_imports(source: str, package: str) -> set[str]:
    """The imports in a source file of the top-level `package` that it may not make."""
    banned = FORBIDDEN[package]
    return {m for m in imported_modules(source) if m.split(".")[0] in banned}


def test_the_check_sees_every_form_of_import() -> None:
    assert forbidden_imports("import tests.support.racing", "bench") == {"tests.support.racing"}
    assert forbidden_imports("from tests.support import racing", "bench") != set()
    assert forbidden_imports("if True:\n    from tests import fixtures", "bench") != set()
    assert forbidden_imports("import importlib\nimportlib.import_module('tests.x')", "bench")
    assert forbidden_imports("from .. import bench", "gateway") == set()
    assert forbidden_imports("from testkit.ports import free_port", "gateway") != set()
    assert forbidden_imports("from testkit.ports import free_port", "bench") == set()
    assert forbidden_imports("from bench.report import table", "testkit") != set()
    assert forbidden_imports("from gateway.config import Settings", "bench") == set()


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_what_it_must_not(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    offenders = {
        str(f.relative_to(ROOT)): sorted(found)
        for f in files
        if (found := forbidden_imports(f.read_text(encoding="utf-8"), package))
    }
    assert offenders == {}, f"{package}/ may not import {sorted(FORBIDDEN[package])}"
