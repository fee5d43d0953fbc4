"""A small typed async client for the HTTP API (httpx), used by the tests and the benchmarks.

Every method returns the raw `httpx.Response`: callers look at the status (201, 409, ...) and
the JSON body themselves, which is what a test or a benchmark wants to count.

With read replicas, a write's answer carries `Booking-Consistency`; the client sends it back on
its reads for `consistency_seconds` (longer than the gateway's replica lag bound), so it never
reads from a replica older than its own write; clients made with `with_token` share it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any
from uuid import UUID

import httpx

Id = str | UUID


CONSISTENCY = "Booking-Consistency"


def _iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass
class _Fence:
    """The newest write's token, and until when reads carry it."""

    token: str | None = None
    until: float = 0.0


class BookingClient:
    """`async with BookingClient(base_url, token) as c: await c.create_hold(...)`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        consistency_seconds: float = 10.0,
        _fence: _Fence | None = None,
    ) -> None:
        self._own = client is None
        self.http = client or httpx.AsyncClient(base_url=base_url, timeout=timeout)
        self.base_url = base_url
        self.token = token
        self.consistency_seconds = consistency_seconds
        self._fence = _fence or _Fence()

    async def __aenter__(self) -> BookingClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own:
            await self.http.aclose()

    def with_token(self, token: str | None) -> BookingClient:
        """Another client sharing this one's connections, acting with `token`."""
        return BookingClient(
            self.base_url,
            token,
            client=self.http,
            consistency_seconds=self.consistency_seconds,
            _fence=self._fence,
        )

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = self._headers(headers)
        fence = self._fence
        if method == "GET" and fence.token is not None and time.monotonic() < fence.until:
            sent.setdefault(CONSISTENCY, fence.token)
        response = await self.http.request(method, path, json=json, params=params, headers=sent)
        token = response.headers.get(CONSISTENCY)
        if token is not None:
            fence.token, fence.until = token, time.monotonic() + self.consistency_seconds
        return response

    async def availability(
        self,
        service_id: Id,
        day: date,
        days: int = 1,
        resource_id: Id | None = None,
        if_none_match: str | None = None,
    ) -> httpx.Response:
        params: dict[str, Any] = {"date": day.isoformat(), "days": days}
        if resource_id is not None:
            params["resource_id"] = str(resource_id)
        headers = {"If-None-Match": if_none_match} if if_none_match else None
        return await self.request(
            "GET", f"/v1/services/{service_id}/availability", params=params, headers=headers
        )

    async def create_hold(
        self,
        service_id: Id,
        start: datetime | str,
        end: datetime | str | None = None,
        *,
        resource_id: Id | None = None,
        session_id: str | None = None,
        expires_at: datetime | None = None,
        slot_id: str | None = None,
        user_id: str | None = None,
        seats: int | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"service_id": str(service_id), "start_time": _iso(start)}
        optional = {
            "end_time": end and _iso(end),
            "resource_id": resource_id and str(resource_id),
            "session_id": session_id,
            "expires_at": expires_at and _iso(expires_at),
            "slot_id": slot_id,
            "user_id": user_id,
            "seats": seats,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return await self.request("POST", "/v1/holds", json=body)

    async def release_hold(self, hold_id: Id, session_id: str | None) -> httpx.Response:
        headers = {"X-Session-Id": session_id} if session_id else None
        return await self.request("DELETE", f"/v1/holds/{hold_id}", headers=headers)

    async def convert_hold(
        self, hold_id: Id, session_id: str | None, booking_data: dict[str, Any] | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"session_id": session_id}
        if booking_data is not None:
            body["booking_data"] = booking_data
        return await self.request("POST", f"/v1/holds/{hold_id}/booking", json=body)

    async def create_booking(
        self,
        service_id: Id,
        start: datetime | str,
        *,
        resource_id: Id | None = None,
        booking_data: dict[str, Any] | None = None,
        user_id: str | None = None,
        idempotency_key: str | None = None,
        seats: int | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"service_id": str(service_id), "start_time": _iso(start)}
        if resource_id is not None:
            body["resource_id"] = str(resource_id)
        if booking_data is not None:
            body["booking_data"] = booking_data
        if user_id is not None:
            body["user_id"] = user_id
        if seats is not None:
            body["seats"] = seats
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return await self.request("POST", "/v1/bookings", json=body, headers=headers)

    async def get_booking(self, booking_id: Id) -> httpx.Response:
        return await self.request("GET", f"/v1/bookings/{booking_id}")

    async def list_bookings(
        self, user_id: str | None = None, limit: int | None = None
    ) -> httpx.Response:
        params: dict[str, Any] = {}
        if user_id is not None:
            params["user_id"] = user_id
        if limit is not None:
            params["limit"] = limit
        return await self.request("GET", "/v1/bookings", params=params)

    async def cancel_booking(
        self, booking_id: Id, *, version: int | None = None, reason: str | None = None
    ) -> httpx.Response:
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        body = {"reason": reason} if reason else {}
        return await self.request(
            "POST", f"/v1/bookings/{booking_id}/cancel", json=body, headers=headers
        )

    async def reschedule_booking(
        self,
        booking_id: Id,
        start: datetime | str,
        *,
        version: int | None = None,
        resource_id: Id | None = None,
    ) -> httpx.Response:
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        body: dict[str, Any] = {"start_time": _iso(start)}
        if resource_id is not None:
            body["resource_id"] = str(resource_id)
        return await self.request(
            "POST", f"/v1/bookings/{booking_id}/reschedule", json=body, headers=headers
        )

    async def join_waitlist(
        self,
        service_id: Id,
        start: datetime | str,
        *,
        resource_id: Id | None = None,
        seats: int | None = None,
        user_id: str | None = None,
    ) -> httpx.Response:
        body: dict[str, Any] = {"service_id": str(service_id), "start_time": _iso(start)}
        if resource_id is not None:
            body["resource_id"] = str(resource_id)
        if seats is not None:
            body["seats"] = seats
        if user_id is not None:
            body["user_id"] = user_id
        return await self.request("POST", "/v1/waitlist", json=body)

    async def get_waitlist_entry(self, entry_id: Id) -> httpx.Response:
        return await self.request("GET", f"/v1/waitlist/{entry_id}")

    async def leave_waitlist(self, entry_id: Id) -> httpx.Response:
        return await self.request("DELETE", f"/v1/waitlist/{entry_id}")

    async def decline_offer(self, entry_id: Id) -> httpx.Response:
        return await self.request("POST", f"/v1/waitlist/{entry_id}/decline")
