"""Who is calling: a subject with one of three roles, and the database role each role runs as.

Shared by the HTTP layer (which makes a Principal from a verified token), the websocket
sessions and the services (which run each call as the principal's database role)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["customer", "staff", "admin"]
ROLES: tuple[Role, ...] = ("customer", "staff", "admin")

DB_ROLES: dict[Role, str] = {
    "customer": "booking_customer",
    "staff": "booking_staff",
    "admin": "booking_admin",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's subject and role, and the claims passed to the database."""

    sub: str
    role: Role
    claims_json: str

    @property
    def db_role(self) -> str:
        return DB_ROLES[self.role]
