"""What a catalogue file says about itself, checked before anything is written: ids listed once,
every resource a service, a pool or an exception names is one of the file's, a resource is in one
pool of a service, and a closed location lists nothing active."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from gateway.cli.catalogue.errors import CatalogueError
from gateway.cli.catalogue.model import Catalogue


@dataclass(frozen=True)
class References:
    """The resource ids the file's references stand for."""

    service_resources: list[list[UUID]]  # per service, in preference order
    service_pools: list[list[list[UUID]]]  # per service, per further pool, in preference order
    exception_resources: list[UUID | None]  # per exception


def resolve_references(catalogue: Catalogue) -> References:
    """Resolve every resource reference to an id; CatalogueError at the first one that fails."""
    _check_unique_ids("resources", [r.id for r in catalogue.resources])
    _check_unique_ids("services", [s.id for s in catalogue.services])
    _check_closed_location(catalogue)
    ids = {str(r.id): r.id for r in catalogue.resources}
    named: dict[str, list[UUID]] = {}
    for r in catalogue.resources:
        named.setdefault(r.name, []).append(r.id)

    def resolve(reference: str, where: str) -> UUID:
        spelled = reference.strip().lower()
        if spelled in ids:
            return ids[spelled]
        matches = named.get(reference, [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise CatalogueError(
                where, f"{len(matches)} resources are called {reference!r}: name it by its id"
            )
        raise CatalogueError(
            where,
            f"no resource {reference!r} in this file (name one of its resources by id or name)",
        )

    service_resources = [
        [resolve(ref, f"services[{i}].resources[{j}]") for j, ref in enumerate(s.resources)]
        for i, s in enumerate(catalogue.services)
    ]
    service_pools = [
        [
            [
                resolve(ref, f"services[{i}].pools[{k}].resources[{j}]")
                for j, ref in enumerate(pool.resources)
            ]
            for k, pool in enumerate(s.pools)
        ]
        for i, s in enumerate(catalogue.services)
    ]
    for i, (main, pools) in enumerate(zip(service_resources, service_pools, strict=True)):
        _check_one_pool_each(i, main, pools)
    return References(
        service_resources=service_resources,
        service_pools=service_pools,
        exception_resources=[
            None if e.resource is None else resolve(e.resource, f"exceptions[{i}].resource")
            for i, e in enumerate(catalogue.exceptions or [])
        ],
    )


def _check_one_pool_each(i: int, main: list[UUID], pools: list[list[UUID]]) -> None:
    """A resource is in one pool of a service: among its resources or in one of its pools."""
    seen = {rid: f"services[{i}].resources" for rid in main}
    for k, members in enumerate(pools):
        for j, rid in enumerate(members):
            where = f"services[{i}].pools[{k}].resources[{j}]"
            if rid in seen:
                raise CatalogueError(
                    where,
                    f"{rid} is already in {seen[rid]}: a resource is in one pool of a service",
                )
            seen[rid] = f"services[{i}].pools[{k}]"


def _check_unique_ids(section: str, ids: list[UUID]) -> None:
    first: dict[UUID, int] = {}
    for i, entry_id in enumerate(ids):
        if entry_id in first:
            raise CatalogueError(
                f"{section}[{i}].id",
                f"{entry_id} is listed twice (also {section}[{first[entry_id]}])",
            )
        first[entry_id] = i


def _check_closed_location(catalogue: Catalogue) -> None:
    """Closing a location closes everything at it, so a closed location lists nothing active."""
    if catalogue.location.active:
        return
    active = [f"resources[{i}]" for i, r in enumerate(catalogue.resources) if r.active]
    active += [f"services[{i}]" for i, s in enumerate(catalogue.services) if s.active]
    if active:
        raise CatalogueError(
            f"{active[0]}.active",
            "the location is closed (location.active: false), so everything at it is"
            " inactive: write active: false",
        )
