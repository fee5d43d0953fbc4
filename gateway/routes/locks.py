"""Leases (admin): acquire, renew and release a fenced lock. The database checks the role."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, TypedDict

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import BIGINT_MAX, Text
from gateway.http.problems import Problem
from gateway.http.responses import caller, json_response
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import body_of, path_of
from gateway.state import gateway

Owner = Annotated[Text, Meta(description="default: the token's subject")]
Ttl = Annotated[int, Meta(ge=1, le=86400)]
Token = Annotated[int, Meta(ge=1, le=BIGINT_MAX)]
ROLE_REFUSED = ("42501",)  # a caller role without EXECUTE on the lease functions
KEY_PATTERN = "^[^/\\u0000]*$"  # one path segment, no NUL


class LockPath(Struct, frozen=True):
    key: Annotated[str, Meta(min_length=1, max_length=200, pattern=KEY_PATTERN)]


class LockRequest(Struct, kw_only=True, frozen=True):
    owner: Owner | UnsetType = UNSET
    ttl_seconds: Ttl = 30


class LockRenewRequest(Struct, kw_only=True, frozen=True):
    token: Token
    owner: Owner | UnsetType = UNSET
    ttl_seconds: Ttl = 30


class LockReleaseRequest(Struct, kw_only=True, frozen=True):
    token: Token
    owner: Owner | UnsetType = UNSET


class Lock(TypedDict):
    """A lease: its fencing token, to pass to whatever the lease protects."""

    key: str
    owner: str
    token: int


class LockRenewed(TypedDict):
    key: str
    owner: str
    renewed: Literal[True]


def _lock_lost(key: str) -> Problem:
    return Problem(
        409,
        "lock-not-held",
        "Lock not held",
        f"lock {key!r} is held by another owner, lapsed, or the token is stale",
    )


async def acquire_lock(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    key = path_of(request, LockPath).key
    b = await body_of(request, LockRequest, g.settings.max_body_bytes)
    owner = b.owner or who.sub
    token = await g.engine.acquire_lock(who, key, owner, timedelta(seconds=b.ttl_seconds))
    if token is None:
        raise Problem(
            409, "lock-held", "Lock held by another owner", f"lock {key!r} is held by another owner"
        )
    lock: Lock = {"key": key, "owner": owner, "token": token}
    return json_response(lock, 201)


async def renew_lock(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    key = path_of(request, LockPath).key
    b = await body_of(request, LockRenewRequest, g.settings.max_body_bytes)
    owner = b.owner or who.sub
    if not await g.engine.renew_lock(who, key, owner, b.token, timedelta(seconds=b.ttl_seconds)):
        raise _lock_lost(key)
    renewed: LockRenewed = {"key": key, "owner": owner, "renewed": True}
    return json_response(renewed)


async def release_lock(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    key = path_of(request, LockPath).key
    b = await body_of(request, LockReleaseRequest, g.settings.max_body_bytes)
    owner = b.owner or who.sub
    if not await g.engine.release_lock(who, key, owner, b.token):
        raise _lock_lost(key)
    return Response(status_code=204)


SPECS = [
    RouteSpec(
        "POST",
        "/v1/locks/{key}",
        acquire_lock,
        "Acquire a fenced lease (admin)",
        "locks",
        {
            201: Answer(
                "Acquired", Lock, example={"key": "nightly-cleanup", "owner": "ops", "token": 17}
            )
        },
        sql="api.acquire_lock",
        body=LockRequest,
        body_required=False,
        body_example={"ttl_seconds": 30},
        path_params=LockPath,
        errors=ROLE_REFUSED,
        problems={409: "`lock-held`: held by another owner"},
    ),
    RouteSpec(
        "POST",
        "/v1/locks/{key}/renew",
        renew_lock,
        "Renew a lease with its token (admin)",
        "locks",
        {200: Answer("Renewed", LockRenewed)},
        sql="api.renew_lock",
        body=LockRenewRequest,
        body_example={"token": 17, "ttl_seconds": 30},
        path_params=LockPath,
        errors=ROLE_REFUSED,
        problems={409: "`lock-not-held`: not held with that token"},
    ),
    RouteSpec(
        "DELETE",
        "/v1/locks/{key}",
        release_lock,
        "Release a lease with its token (admin)",
        "locks",
        {204: Answer("Released")},
        sql="api.release_lock",
        body=LockReleaseRequest,
        body_example={"token": 17},
        path_params=LockPath,
        errors=ROLE_REFUSED,
        problems={409: "`lock-not-held`: not held with that token"},
    ),
]
