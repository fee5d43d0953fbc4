"""A server's processes as /proc shows them: a postmaster's backends, uvicorn's workers."""

from __future__ import annotations

from pathlib import Path


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
