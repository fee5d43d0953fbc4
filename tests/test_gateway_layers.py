"""The gateway's packages import only downwards: the layout in docs/ARCHITECTURE.md, kept true.

Parsed with `ast`, so an import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"

# package -> gateway modules it must not import (a prefix forbids the package and its modules)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "http": ("gateway.routes", "gateway.realtime", "gateway.jobs", "gateway.cli", "gateway.app"),
    "routes": ("gateway.routes", "gateway.realtime", "gateway.jobs", "gateway.cli", "gateway.app"),
    "services": ("gateway.routes", "gateway.http", "gateway.jobs", "gateway.cli", "gateway.app"),
    "realtime": ("gateway.routes", "gateway.jobs", "gateway.cli", "gateway.app"),
    "errors": (
        "gateway.routes",
        "gateway.http",
        "gateway.services",
        "gateway.realtime",
        "gateway.jobs",
        "gateway.cli",
        "gateway.app",
    ),
    "jobs": ("gateway.routes", "gateway.http", "gateway.realtime", "gateway.cli", "gateway.app"),
    # the shard directory and router: which engine serves a request, above services, below routes
    "sharding": (
        "gateway.routes",
        "gateway.realtime",
        "gateway.jobs",
        "gateway.cli",
        "gateway.app",
    ),
    # pages and static files for browsers: plumbing from http, never the engine or the relay
    "web": (
        "gateway.routes",
        "gateway.services",
        "gateway.state",
        "gateway.realtime",
        "gateway.jobs",
        "gateway.cli",
        "gateway.app",
    ),
}
# what services may take from realtime: the event record only (not the hub, the listener, ...)
SERVICES_FROM_REALTIME = frozenset({"gateway.realtime.events", "gateway.realtime.versions"})
# SQL is spoken in services/ (the engine; the listener's own connection in event_log) and by the
# command-line tools in cli/; nowhere else
SPEAKS_SQL = ("services", "cli")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("gateway")}


def modules(package: str) -> list[Path]:
    return sorted((GATEWAY / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_what_its_layer_allows(package: str) -> None:
    offences = []
    for path in modules(package):
        own = f"gateway.{package}." + path.relative_to(GATEWAY / package).with_suffix("").as_posix()
        for name in imports(path):
            if name.startswith(own):
                continue
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]):
                if package == "routes" and name == "gateway.routes":
                    continue
                offences.append(f"{path.relative_to(GATEWAY)} imports {name}")
            if (
                package == "services"
                and name.startswith("gateway.realtime.")
                and not any(name.startswith(m) for m in SERVICES_FROM_REALTIME)
            ):
                offences.append(f"{path.relative_to(GATEWAY)} imports {name}")
    assert offences == []


def test_routes_never_import_another_route() -> None:
    offences = [
        f"{path.name} imports {name}"
        for path in modules("routes")
        for name in imports(path)
        if name.startswith("gateway.routes.")
    ]
    assert offences == []


def test_only_services_and_the_cli_send_sql() -> None:
    """No module outside services/ and cli/ calls execute() or names an api.* function in a
    string: the engine is the one place a reader looks for the gateway's SQL."""
    offences = []
    for path in sorted(GATEWAY.rglob("*.py")):
        rel = path.relative_to(GATEWAY)
        if rel.parts[0] in SPEAKS_SQL:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"execute", "fetch_value", "fetch_all", "fetch_one"}
            ):
                offences.append(f"{rel}:{node.lineno} calls {node.func.attr}()")
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and "select " in node.value.lower()
                and "api." in node.value
            ):
                offences.append(f"{rel}:{node.lineno} holds SQL")
    assert offences == []
