"""Reading and writing catalogue files: YAML (.yaml, .yml) or JSON (.json), typed by msgspec."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import msgspec

from gateway.cli.catalogue.durations import Duration
from gateway.cli.catalogue.errors import CatalogueError
from gateway.cli.catalogue.model import Catalogue, Moment, TimeRange

FileFormat = Literal["yaml", "json"]
SUFFIXES: dict[str, FileFormat] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}


def format_of(path: Path) -> FileFormat:
    """The format a file name says, by its suffix."""
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise CatalogueError("", "name a .yaml, .yml or .json file")
    return found


def _decode_hook(kind: type, value: Any) -> Any:
    if kind is Duration:
        if value == 0 and not isinstance(value, bool):
            return Duration()
        if not isinstance(value, str):
            raise ValueError(f'{value!r} is not a duration: write it as text, e.g. "45 minutes"')
        return Duration.parse(value)
    if kind is TimeRange:
        if not isinstance(value, str):
            raise ValueError(f'{value!r} is not a time range: write e.g. "09:00-17:00"')
        return TimeRange.parse(value)
    if kind is Moment:
        return Moment.parse(value)
    raise NotImplementedError(kind)


def _encode_hook(value: Any) -> Any:
    if isinstance(value, Duration | TimeRange | Moment):
        return str(value)
    raise NotImplementedError(type(value))


def parse_catalogue(text: bytes, file_format: FileFormat) -> Catalogue:
    """The catalogue a file's contents describe; CatalogueError naming the path of what is wrong."""
    try:
        if file_format == "json":
            return msgspec.json.decode(text, type=Catalogue, dec_hook=_decode_hook)
        return msgspec.yaml.decode(text, type=Catalogue, dec_hook=_decode_hook)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).rpartition(" - at `")
        if not message:
            raise CatalogueError("", str(exc)) from None
        raise CatalogueError(where.rstrip("`").removeprefix("$").lstrip("."), message) from None
    except msgspec.DecodeError as exc:
        raise CatalogueError("", f"not valid {file_format.upper()}: {exc}") from None


def read_catalogue(path: Path) -> Catalogue:
    """The catalogue in a file, by its suffix YAML or JSON."""
    file_format = format_of(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise CatalogueError("", f"cannot read it: {exc.strerror or exc}") from None
    return parse_catalogue(text, file_format)


def encode_catalogue(catalogue: Catalogue, file_format: FileFormat) -> bytes:
    """A catalogue as a file's contents: YAML, or JSON indented by two spaces."""
    if file_format == "json":
        return msgspec.json.format(msgspec.json.encode(catalogue, enc_hook=_encode_hook)) + b"\n"
    return msgspec.yaml.encode(catalogue, enc_hook=_encode_hook)
