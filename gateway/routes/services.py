"""Services: what a location offers, who performs it and what else it needs (public); adding,
changing and retiring a service, choosing its resources in preference order and its further pools
(a wash station for its first 20 minutes) (admin, If-Match). Intervals are whole minutes
(gateway/http/catalogue_fields.py)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.catalogue_fields import (
    Buffer,
    CancelFuture,
    CatalogueIfMatch,
    Currency,
    Duration,
    HoldTtl,
    MaxAdvance,
    MaxSeats,
    MinNotice,
    PoolLength,
    PoolNumber,
    PoolStart,
    Price,
    SlotStep,
)
from gateway.http.fields import EXAMPLE_RESOURCE, EXAMPLE_SERVICE, Text
from gateway.http.responses import (
    caller,
    entry_headers,
    expected_version,
    json_response,
    optional_caller,
)
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import body_of, given
from gateway.services.catalogue_results import (
    PerformerList,
    Service,
    ServiceDetails,
    ServiceOfferList,
    ServicePools,
    ServiceResources,
)
from gateway.services.catalogue_sql import PoolSettings, ServiceSettings
from gateway.state import gateway

ROLE_REFUSED = "42501"  # a customer or staff token: no EXECUTE on the admin functions
EXAMPLE_LOCATION = "10000000-0000-4000-8000-000000000001"
Strategy = Literal[
    "first_come_first_serve",
    "last_wins",
    "priority_based",
    "rollback_all",
    "consensus",
    "arbitration",
    "admin_intervention",
]
OFFER_EXAMPLE = {
    "id": EXAMPLE_SERVICE,
    "name": "Manicure",
    "duration_minutes": 60,
    "buffer_before_minutes": 0,
    "buffer_after_minutes": 15,
    "slot_step_minutes": 15,
    "price": 120.0,
    "currency": "PLN",
    "time_zone": "Europe/Warsaw",
    "next_available_day": "2026-12-07",
}


class LocationPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="location id")]


class ServicePath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="service id")]


class NewService(Struct, kw_only=True, frozen=True):
    """A service; intervals in minutes. Nobody performs it until its resources are set."""

    name: Text
    duration_minutes: Duration
    buffer_before_minutes: Buffer = 0
    buffer_after_minutes: Buffer = 0
    slot_step_minutes: SlotStep = 15
    min_notice_minutes: MinNotice = 0
    max_advance_minutes: MaxAdvance = 90 * 24 * 60
    hold_ttl_minutes: HoldTtl = 10
    conflict_strategy: Strategy = "first_come_first_serve"
    price: Price = 0
    currency: Currency = "PLN"
    max_seats: MaxSeats = 1
    id: Annotated[UUID, Meta(description="default: a new id")] | UnsetType = UNSET


class ServiceChange(Struct, kw_only=True, frozen=True):
    """What to change; a member left out keeps its value. `active: false` retires the service."""

    name: Text | UnsetType = UNSET
    duration_minutes: Duration | UnsetType = UNSET
    buffer_before_minutes: Buffer | UnsetType = UNSET
    buffer_after_minutes: Buffer | UnsetType = UNSET
    slot_step_minutes: SlotStep | UnsetType = UNSET
    min_notice_minutes: MinNotice | UnsetType = UNSET
    max_advance_minutes: MaxAdvance | UnsetType = UNSET
    hold_ttl_minutes: HoldTtl | UnsetType = UNSET
    conflict_strategy: Strategy | UnsetType = UNSET
    price: Price | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    max_seats: MaxSeats | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    cancel_future: CancelFuture = False


class ServiceResourcesRequest(Struct, kw_only=True, frozen=True):
    resource_ids: Annotated[
        list[UUID],
        Meta(
            max_length=1000,
            description="resources of the service's location, each once, the first tried first "
            "when the customer asks for anyone; [] for nobody",
        ),
    ]


class PoolRequest(Struct, kw_only=True, frozen=True):
    """A further pool: one of its resources is taken for its part of each appointment."""

    pool: PoolNumber
    name: Annotated[Text, Meta(description="what the pool is, e.g. Wash station")]
    starts_after_minutes: PoolStart = 0
    lasts_minutes: PoolLength | None = None
    resource_ids: Annotated[
        list[UUID],
        Meta(
            min_length=1,
            max_length=1000,
            description="resources of the service's location, each in one pool of the service, "
            "the first tried first",
        ),
    ]


class ServicePoolsRequest(Struct, kw_only=True, frozen=True):
    pools: Annotated[
        list[PoolRequest],
        Meta(max_length=7, description="every further pool of the service; [] for none"),
    ]


def _settings(b: NewService | ServiceChange) -> ServiceSettings:
    return ServiceSettings(
        name=given(b.name),
        duration=given(b.duration_minutes),
        buffer_before=given(b.buffer_before_minutes),
        buffer_after=given(b.buffer_after_minutes),
        slot_step=given(b.slot_step_minutes),
        min_notice=given(b.min_notice_minutes),
        max_advance=given(b.max_advance_minutes),
        hold_ttl=given(b.hold_ttl_minutes),
        conflict_strategy=given(b.conflict_strategy),
        price=given(b.price),
        currency=given(b.currency),
        max_seats=given(b.max_seats),
    )


async def location_services(request: Request) -> Response:
    g = gateway(request)
    location_id: UUID = request.path_params["id"]
    items = await (await g.router.location(location_id)).location_services(
        optional_caller(request), location_id
    )
    answer: ServiceOfferList = {"location_id": str(location_id), "items": items}
    return json_response(answer)


async def get_service(request: Request) -> Response:
    g = gateway(request)
    answer = await (await g.router.entity(request.path_params["id"])).get_service(
        optional_caller(request), request.path_params["id"]
    )
    return json_response(answer)


async def service_resources(request: Request) -> Response:
    g = gateway(request)
    service_id: UUID = request.path_params["id"]
    items = await (await g.router.entity(service_id)).service_resources(
        optional_caller(request), service_id
    )
    answer: PerformerList = {"service_id": str(service_id), "items": items}
    return json_response(answer)


async def create_service(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, NewService, g.settings.max_body_bytes)
    location_id: UUID = request.path_params["id"]
    engine = await g.router.location(location_id)
    row = await engine.create_service(who, location_id, _settings(b), given(b.id))
    g.router.remember(UUID(row["id"]), location_id)
    return json_response(row, 201, entry_headers(row["version"], f"/v1/services/{row['id']}"))


async def update_service(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    b = await body_of(request, ServiceChange, g.settings.max_body_bytes)
    row = await (await g.router.entity(request.path_params["id"])).update_service(
        who,
        request.path_params["id"],
        version,
        _settings(b),
        active=given(b.active),
        cancel_future=b.cancel_future,
    )
    return json_response(row, headers=entry_headers(row["version"]))


async def set_service_resources(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    b = await body_of(request, ServiceResourcesRequest, g.settings.max_body_bytes)
    result = await (await g.router.entity(request.path_params["id"])).set_service_resources(
        who, request.path_params["id"], b.resource_ids, version
    )
    return json_response(result, headers=entry_headers(result["version"]))


async def set_service_pools(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    version = expected_version(request)
    b = await body_of(request, ServicePoolsRequest, g.settings.max_body_bytes)
    pools = [
        PoolSettings(
            pool=p.pool,
            name=p.name,
            starts_after=p.starts_after_minutes,
            lasts=p.lasts_minutes,
            resource_ids=[str(r) for r in p.resource_ids],
        )
        for p in b.pools
    ]
    result = await (await g.router.entity(request.path_params["id"])).set_service_pools(
        who, request.path_params["id"], pools, version
    )
    return json_response(result, headers=entry_headers(result["version"]))


SPECS = [
    RouteSpec(
        "GET",
        "/v1/locations/{id:uuid}/services",
        location_services,
        "What a location offers: durations in minutes, prices, next available day (public)",
        "catalogue",
        {
            200: Answer(
                "By name",
                ServiceOfferList,
                example={"location_id": EXAMPLE_LOCATION, "items": [OFFER_EXAMPLE]},
            )
        },
        sql="api.location_services",
        path_params=LocationPath,
        errors=("BK019",),
        public=True,
    ),
    RouteSpec(
        "POST",
        "/v1/locations/{id:uuid}/services",
        create_service,
        "Add a service to a location (admin); intervals in minutes",
        "catalogue",
        {201: Answer("Added; ETag is its version", Service)},
        sql="api.create_service",
        body=NewService,
        body_example={
            "name": "Manicure",
            "duration_minutes": 60,
            "buffer_after_minutes": 15,
            "price": 120,
            "currency": "PLN",
        },
        path_params=LocationPath,
        errors=(ROLE_REFUSED, "BK017", "BK018", "BK019"),
    ),
    RouteSpec(
        "GET",
        "/v1/services/{id:uuid}",
        get_service,
        "One service as the public sees it (public)",
        "catalogue",
        {200: Answer("Offered", ServiceDetails)},
        sql="api.get_service",
        path_params=ServicePath,
        errors=("BK001", "BK002", "BK019"),
        public=True,
    ),
    RouteSpec(
        "PATCH",
        "/v1/services/{id:uuid}",
        update_service,
        "Change or retire a service (admin); If-Match guards against a stale read",
        "catalogue",
        {200: Answer("Changed (or unchanged); ETag is its version", Service)},
        sql="api.update_service",
        body=ServiceChange,
        body_example={"price": 130, "buffer_after_minutes": 10},
        path_params=ServicePath,
        headers=CatalogueIfMatch,
        errors=(ROLE_REFUSED, "BK001", "BK017", "BK018", "BK019", "BK020", "BK021", "BK023"),
    ),
    RouteSpec(
        "GET",
        "/v1/services/{id:uuid}/resources",
        service_resources,
        "Who performs a service and what else it needs: resources by pool, each pool in the order"
        " 'anyone' tries them (public)",
        "catalogue",
        {200: Answer("In preference order", PerformerList)},
        sql="api.service_resources",
        path_params=ServicePath,
        errors=("BK001", "BK002"),
        public=True,
    ),
    RouteSpec(
        "PUT",
        "/v1/services/{id:uuid}/resources",
        set_service_resources,
        "Set who performs a service, in preference order (admin); If-Match: the service's version",
        "catalogue",
        {200: Answer("Set; ETag is the service's version", ServiceResources)},
        sql="api.set_service_resources",
        body=ServiceResourcesRequest,
        body_example={"resource_ids": [EXAMPLE_RESOURCE]},
        path_params=ServicePath,
        headers=CatalogueIfMatch,
        errors=(ROLE_REFUSED, "BK001", "BK017", "BK018", "BK019", "BK021", "BK024"),
    ),
    RouteSpec(
        "PUT",
        "/v1/services/{id:uuid}/pools",
        set_service_pools,
        "Set what a service needs besides who performs it: its further pools (admin); If-Match:"
        " the service's version",
        "catalogue",
        {
            200: Answer(
                "Set; ETag is the service's version",
                ServicePools,
                example={
                    "service_id": EXAMPLE_SERVICE,
                    "location_id": EXAMPLE_LOCATION,
                    "version": 3,
                    "pools": [
                        {
                            "pool": 2,
                            "name": "Wash station",
                            "starts_after_minutes": 0,
                            "lasts_minutes": 20,
                            "resource_ids": [EXAMPLE_RESOURCE],
                        }
                    ],
                },
            )
        },
        sql="api.set_service_pools",
        body=ServicePoolsRequest,
        body_example={
            "pools": [
                {
                    "pool": 2,
                    "name": "Wash station",
                    "lasts_minutes": 20,
                    "resource_ids": [EXAMPLE_RESOURCE],
                }
            ]
        },
        path_params=ServicePath,
        headers=CatalogueIfMatch,
        errors=(ROLE_REFUSED, "BK001", "BK017", "BK018", "BK019", "BK021", "BK023", "BK024"),
    ),
]
