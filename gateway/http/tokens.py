"""Signed JSON Web Tokens: HS256 only, `exp` always required."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import jwt

from gateway.principal import ROLES, Role

ALGORITHM = "HS256"


def mint_token(
    secret: str,
    subject: str,
    role: Role,
    ttl_seconds: int = 3600,
    locations: Sequence[str] | None = None,
) -> str:
    """A token for `subject` acting as `role`, valid for `ttl_seconds`; staff and admins may be
    limited to `locations` (ids), the claim the database scopes them by."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "role": role, "iat": now, "exp": now + ttl_seconds}
    if locations is not None:
        claims["locations"] = list(locations)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> dict[str, Any]:
    """The token's claims; raises jwt.InvalidTokenError when forged, expired or malformed."""
    claims: dict[str, Any] = jwt.decode(
        token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]}
    )
    if claims.get("role") not in ROLES:
        raise jwt.InvalidTokenError("unknown role")
    return claims
