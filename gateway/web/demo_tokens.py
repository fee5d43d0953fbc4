"""The demo page's customers: development tokens over HTTP. Served only while the gateway signs
tokens with the development secret, which is published in this repository (anyone can mint any
token for such a gateway with `booking token`). Even then it mints customer tokens only, for the
few demo customers listed here: a page cannot ask it for a staff or admin token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.http.problems import bad_request, validation
from gateway.http.tokens import mint_token

# (subject, name): the customers the demo page offers
DEMO_CUSTOMERS: tuple[tuple[str, str], ...] = (
    ("alice", "Alice"),
    ("bob", "Bob"),
    ("carol", "Carol"),
    ("dave", "Dave"),
)
TOKEN_TTL_SECONDS = 3600
MAX_BODY_BYTES = 1024


class DemoTokens:
    """GET lists the demo customers; POST {"customer": sub} mints one of them a token."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    async def customers(self, request: Request) -> Response:
        return JSONResponse(
            {
                "customers": [{"sub": sub, "name": name} for sub, name in DEMO_CUSTOMERS],
                "role": "customer",
                "ttl_seconds": TOKEN_TTL_SECONDS,
            }
        )

    async def mint(self, request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw) if len(raw) <= MAX_BODY_BYTES else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise bad_request('the body must be a JSON object, {"customer": "alice"}')
        subjects = [sub for sub, _ in DEMO_CUSTOMERS]
        customer = body.get("customer")
        if customer not in subjects:
            message = f"must be one of {', '.join(subjects)}"
            raise validation(
                f"customer {message}",
                [{"field": "customer", "in": "body", "message": message}],
            )
        token = mint_token(self.secret, str(customer), "customer", TOKEN_TTL_SECONDS)
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=TOKEN_TTL_SECONDS)
        return JSONResponse(
            {
                "token": token,
                "sub": customer,
                "role": "customer",
                "expires_at": expires.isoformat(),
            },
            status_code=201,
            headers={"Cache-Control": "no-store"},
        )
