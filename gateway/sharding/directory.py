"""The shard directory: the shard databases by name (`BOOKING_SHARDS`, from the environment,
because URLs carry passwords) and which shard holds each location (`BOOKING_SHARD_DIRECTORY`, a
TOML file an operator reviews and versions: placing a location is a decision, not a hash).

    BOOKING_SHARDS="east=postgresql://booking_gateway@db-east/booking,west=postgresql://..."
    BOOKING_SHARD_DIRECTORY=/etc/booking/shards.toml

    # shards.toml
    [locations]
    "10000000-0000-4000-8000-000000000001" = "east"   # Mokotów
    "10000000-0000-4000-8000-000000000002" = "west"   # Wola

Neither set: one database (`DATABASE_URL`), as without sharding. One set without the other, a
location named twice, a shard named in the directory but not in `BOOKING_SHARDS`, or a shard URL
given twice refuses to start."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID


class DirectoryError(ValueError):
    """The shard settings are not usable; the message says why."""


@dataclass(frozen=True, slots=True)
class ShardDirectory:
    shards: dict[str, str]  # shard name -> database URL, in the order given
    locations: dict[UUID, str]  # location id -> shard name

    def shard_of(self, location_id: UUID) -> str | None:
        return self.locations.get(location_id)

    def locations_on(self, shard: str) -> list[UUID]:
        return sorted((loc for loc, s in self.locations.items() if s == shard), key=str)


def parse_shards(value: str) -> dict[str, str]:
    """`name=url,name=url` into {name: url}."""
    shards: dict[str, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        name, sep, url = part.strip().partition("=")
        name = name.strip()
        if not sep or not name or not url.strip():
            raise DirectoryError(f"BOOKING_SHARDS: expected name=url, got {part.strip()!r}")
        if name in shards:
            raise DirectoryError(f"BOOKING_SHARDS: shard {name!r} is named twice")
        shards[name] = url.strip()
    if not shards:
        raise DirectoryError("BOOKING_SHARDS names no shard")
    if len(set(shards.values())) != len(shards):
        raise DirectoryError("BOOKING_SHARDS: two shards have the same URL")
    return shards


def parse_locations(text: str, shards: Mapping[str, str]) -> dict[UUID, str]:
    """The `[locations]` table of a directory file: location id -> shard name."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DirectoryError(f"shard directory: {exc}") from exc
    table = doc.get("locations")
    if not isinstance(table, dict):
        raise DirectoryError("shard directory: no [locations] table")
    locations: dict[UUID, str] = {}
    for key, shard in table.items():
        try:
            location = UUID(key)
        except ValueError as exc:
            raise DirectoryError(f"shard directory: {key!r} is not a location id") from exc
        if location in locations:
            raise DirectoryError(f"shard directory: location {location} is named twice")
        if not isinstance(shard, str) or shard not in shards:
            raise DirectoryError(
                f"shard directory: location {location} names {shard!r}, not a shard of"
                f" BOOKING_SHARDS ({', '.join(shards)})"
            )
        locations[location] = shard
    return locations


def directory_from_env(env: Mapping[str, str]) -> ShardDirectory | None:
    """The directory the environment configures, or None for one database."""
    shards_value = env.get("BOOKING_SHARDS", "").strip()
    path_value = env.get("BOOKING_SHARD_DIRECTORY", "").strip()
    if not shards_value and not path_value:
        return None
    if not shards_value or not path_value:
        raise DirectoryError("set both BOOKING_SHARDS and BOOKING_SHARD_DIRECTORY, or neither")
    shards = parse_shards(shards_value)
    try:
        text = Path(path_value).read_text(encoding="utf-8")
    except OSError as exc:
        raise DirectoryError(f"BOOKING_SHARD_DIRECTORY: cannot read {path_value}: {exc}") from exc
    return ShardDirectory(shards, parse_locations(text, shards))
