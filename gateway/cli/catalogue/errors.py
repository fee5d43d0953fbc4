"""The one error a catalogue command reports: what is wrong, and where in the file."""

from __future__ import annotations


class CatalogueError(Exception):
    """A catalogue file that cannot be applied (or a location that cannot be exported); the
    message names the place in the file, e.g. `services[2].duration: ...`."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem
