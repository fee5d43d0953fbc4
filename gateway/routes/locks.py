"""Leases (admin): acquire, renew and release a fenced lock. The database checks the role."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.problems import Problem
from gateway.http.responses import caller, json_response
from gateway.http.validate import Fields, path_fields, read_json
from gateway.state import gateway


def _lock_lost(key: str) -> Problem:
    return Problem(
        409,
        "lock-not-held",
        "Lock not held",
        f"lock {key!r} is held by another owner, lapsed, or the token is stale",
    )


def _key(request: Request) -> str:
    return path_fields(request).req_text("key")


def _ttl(f: Fields) -> timedelta:
    return timedelta(seconds=f.req_integer("ttl_seconds"))


async def acquire_lock(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    key = _key(request)
    f = await read_json(request, g.settings.max_body_bytes)
    owner = f.text("owner") or who.sub
    token = await g.engine.acquire_lock(who, key, owner, _ttl(f))
    if token is None:
        raise Problem(
            409, "lock-held", "Lock held by another owner", f"lock {key!r} is held by another owner"
        )
    return json_response({"key": key, "owner": owner, "token": token}, 201)


async def renew_lock(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    key = _key(request)
    f = await read_json(request, g.settings.max_body_bytes)
    owner = f.text("owner") or who.sub
    if not await g.engine.renew_lock(who, key, owner, f.req_integer("token"), _ttl(f)):
        raise _lock_lost(key)
    return json_response({"key": key, "owner": owner, "renewed": True})


async def release_lock(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    key = _key(request)
    f = await read_json(request, g.settings.max_body_bytes)
    owner = f.text("owner") or who.sub
    if not await g.engine.release_lock(who, key, owner, f.req_integer("token")):
        raise _lock_lost(key)
    return Response(status_code=204)
