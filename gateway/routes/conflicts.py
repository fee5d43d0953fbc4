"""The conflict desk: list open conflicts, metrics, recommendations (staff, admin); resolve
(admin); confirm an offered alternative (the requester). The database checks every role."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, TypedDict
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import Text1000
from gateway.http.responses import caller, json_response
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import body_of, given, query_of
from gateway.services.results import (
    ActiveConflict,
    ConflictDecision,
    ConflictMetrics,
    Recommendation,
)
from gateway.sharding import reads
from gateway.state import gateway


class ConflictList(TypedDict):
    items: list[ActiveConflict]


class RecommendationList(TypedDict):
    items: list[Recommendation]


# Not a Literal: msgspec would list a Literal's values sorted, and the document (and the
# validation message naming them) keeps this order; the schema allows these texts only.
DECISIONS = ["keep_existing", "grant_requester", "offer_alternative"]
Decision = Annotated[Any, Meta(extra_json_schema={"enum": DECISIONS})]


class MetricsQuery(Struct, kw_only=True, frozen=True):
    window_seconds: Annotated[int, Meta(ge=1, le=366 * 86400)] = 3600


class ConflictPath(Struct, frozen=True):
    id: UUID


class ResolveRequest(Struct, kw_only=True, frozen=True):
    decision: Decision
    note: Text1000 | UnsetType = UNSET


class ConfirmRequest(Struct, kw_only=True, frozen=True):
    accept: bool


async def list_conflicts(request: Request) -> Response:
    g = gateway(request)
    answer: ConflictList = {"items": await reads.active_conflicts(g.router, caller(request))}
    return json_response(answer)


async def conflict_metrics(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    seconds = query_of(request, MetricsQuery).window_seconds
    result = await g.engine.conflict_metrics(who, timedelta(seconds=seconds))
    return json_response(result)


async def conflict_recommendations(request: Request) -> Response:
    g = gateway(request)
    answer: RecommendationList = {
        "items": await reads.conflict_recommendations(g.router, caller(request))
    }
    return json_response(answer)


async def resolve_conflict(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, ResolveRequest, g.settings.max_body_bytes)
    result = await (await g.router.entity(request.path_params["id"])).resolve_conflict(
        who, request.path_params["id"], str(b.decision), given(b.note)
    )
    return json_response(result)


async def confirm_conflict(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, ConfirmRequest, g.settings.max_body_bytes)
    result = await (await g.router.entity(request.path_params["id"])).confirm_conflict(
        who, request.path_params["id"], b.accept
    )
    return json_response(result)


ROLE_REFUSED = ("42501",)  # a caller role without EXECUTE on the function

SPECS = [
    RouteSpec(
        "GET",
        "/v1/conflicts",
        list_conflicts,
        "Open conflicts and those awaiting confirmation (staff, admin)",
        "conflicts",
        {200: Answer("Oldest first", ConflictList)},
        sql="api.active_conflicts",
        errors=ROLE_REFUSED,
    ),
    RouteSpec(
        "GET",
        "/v1/conflicts/metrics",
        conflict_metrics,
        "Conflict metrics over a window (staff, admin)",
        "conflicts",
        {200: Answer("Metrics", ConflictMetrics)},
        sql="api.conflict_metrics",
        query=MetricsQuery,
        errors=ROLE_REFUSED,
    ),
    RouteSpec(
        "GET",
        "/v1/conflicts/recommendations",
        conflict_recommendations,
        "Hot services and hours, and the change that would help (staff, admin)",
        "conflicts",
        {200: Answer("Recommendations", RecommendationList)},
        sql="api.conflict_recommendations",
        errors=ROLE_REFUSED,
    ),
    RouteSpec(
        "POST",
        "/v1/conflicts/{id:uuid}/resolve",
        resolve_conflict,
        "Settle an escalated conflict (admin)",
        "conflicts",
        {200: Answer("Resolved", ConflictDecision)},
        sql="api.resolve_conflict",
        body=ResolveRequest,
        body_example={"decision": "offer_alternative", "note": "called the customer"},
        path_params=ConflictPath,
        errors=(*ROLE_REFUSED, "BK008", "BK010"),
    ),
    RouteSpec(
        "POST",
        "/v1/conflicts/{id:uuid}/confirm",
        confirm_conflict,
        "Accept or decline the alternative offered to you",
        "conflicts",
        {
            200: Answer(
                "Done (success false: the offered time was taken meanwhile)", ConflictDecision
            )
        },
        sql="api.confirm_conflict",
        body=ConfirmRequest,
        body_example={"accept": True},
        path_params=ConflictPath,
        errors=("BK008", "BK010", "BK016"),
    ),
]
