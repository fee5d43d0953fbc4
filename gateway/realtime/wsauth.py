"""Who is on a websocket: a bearer token from `Sec-WebSocket-Protocol: bearer, <token>` or from
the first message `{"type": "auth", "token": ...}`. Never a cookie."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from gateway.http.tokens import verify_token
from gateway.principal import Role

SUBPROTOCOL = "bearer"


@dataclass(frozen=True, slots=True)
class WsPrincipal:
    sub: str
    role: Role
    exp: float
    limited_to_locations: bool = False


class AuthError(Exception):
    """The token is missing, forged, expired or unusable; the socket closes with 4001."""


def principal_from_token(secret: str, token: object) -> WsPrincipal:
    if not isinstance(token, str) or not token:
        raise AuthError("a bearer token is required")
    try:
        claims = verify_token(secret, token)
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("the token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid token: {exc}") from exc
    sub, exp = claims.get("sub"), claims.get("exp")
    if not isinstance(sub, str) or not sub or len(sub) > 200:
        raise AuthError("invalid token: sub must be a non-empty string")
    if not isinstance(exp, int | float):
        raise AuthError("invalid token: exp must be a number")
    role: Role = claims["role"]
    return WsPrincipal(
        sub=sub, role=role, exp=float(exp), limited_to_locations="locations" in claims
    )


def subprotocol_token(subprotocols: list[str]) -> str | None:
    """The token offered as `["bearer", "<token>"]`, or None when not offered that way."""
    if len(subprotocols) >= 2 and subprotocols[0] == SUBPROTOCOL:
        return subprotocols[1]
    return None
