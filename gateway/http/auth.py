"""Bearer authentication: a verified HS256 JWT becomes a Principal, anything else a 401."""

from __future__ import annotations

import json
import uuid
from typing import Any

import jwt
from starlette.requests import Request

from gateway.http.problems import forbidden, unauthorized
from gateway.http.tokens import verify_token
from gateway.principal import Principal, Role


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def authenticate(request: Request, secret: str) -> Principal | None:
    """The caller, or None when no token was sent; a bad token is a 401 even where optional."""
    token = _bearer(request)
    if token is None:
        return None
    try:
        claims: dict[str, Any] = verify_token(secret, token)
    except jwt.ExpiredSignatureError as exc:
        raise unauthorized("the token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise unauthorized(f"invalid token: {exc}") from exc
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub or len(sub) > 200:
        raise unauthorized("invalid token: sub must be a non-empty string")
    role: Role = claims["role"]
    passed: dict[str, Any] = {"sub": sub, "role": role}
    if "locations" in claims:
        passed["locations"] = _locations(claims["locations"])
    return Principal(sub=sub, role=role, claims_json=json.dumps(passed, separators=(",", ":")))


def _locations(value: Any) -> list[str]:
    """The "locations" claim: the location ids a staff member or admin is limited to."""
    refused = unauthorized("invalid token: locations must be a list of location ids")
    if not isinstance(value, list) or len(value) > 1000:
        raise refused
    try:
        return [str(uuid.UUID(v)) for v in value]
    except (TypeError, ValueError, AttributeError) as exc:
        raise refused from exc


def require(request: Request, secret: str, *roles: Role) -> Principal:
    """The caller, who must be authenticated and (when roles are given) have one of them."""
    principal = authenticate(request, secret)
    if principal is None:
        raise unauthorized("this route needs a Bearer token")
    if roles and principal.role not in roles:
        raise forbidden(f"this route is for {' or '.join(roles)} only")
    return principal
