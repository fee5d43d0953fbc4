"""What every benchmark family shares: its report section, tables, the machine's description."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Section:
    """One benchmark family's part of docs/PERFORMANCE.md, and what it prints."""

    title: str
    markdown: str


def replace_sections(document: str, sections: Sequence[Section]) -> str:
    """The document with each section's `## <title>` part replaced by the section (added at the
    end when it has none): what a run of some families writes, leaving the others' figures."""
    parts: list[list[str]] = [[]]
    for line in document.rstrip("\n").split("\n"):
        if line.startswith("## "):
            parts.append([])
        parts[-1].append(line)
    titled = {p[0][3:]: i for i, p in enumerate(parts) if p and p[0].startswith("## ")}
    for section in sections:
        block = [f"## {section.title}", "", *section.markdown.split("\n"), ""]
        if section.title in titled:
            parts[titled[section.title]] = block
        else:
            if parts[-1] and parts[-1][-1] != "":
                parts[-1].append("")
            parts.append(block)
    return "\n".join(line for p in parts for line in p).rstrip("\n") + "\n"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table (also readable as printed text)."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def cpu_model() -> str:
    try:
        for raw in Path("/proc/cpuinfo").read_text().splitlines():
            if raw.startswith("model name"):
                return raw.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    return f"{os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}"
