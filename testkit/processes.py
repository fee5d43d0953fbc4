"""A server's processes as /proc shows them (a postmaster's backends, uvicorn's workers), and
the one way tests and benchmarks stop a process they started."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any


def stop(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """Stop a process politely (SIGTERM), by force after `grace` seconds, and reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command; the command may hold spaces and
    parentheses, so the fixed fields are those after the last ')'. Raises OSError when gone."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """The direct children of a process (the server's backends and workers)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except OSError:
            continue
        if parent == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running or sleeping (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        state = _stat_fields(pid)[0]
    except OSError:
        return False
    return state not in ("Z", "X")
