"""/demo and /docs in a real browser (Debian's Chromium, driven by Playwright), against a real
gateway in front of a fresh database holding the demo salon, as after a first `make run`.

Every page here is cut off from the internet (tests/support/browser.py: Offline): it must work
offline, and the tests check that it did not even try to reach another host. Each test books a
day of its own. How fast one page learned of another's hold is measured and reported, not
asserted against a tight bound."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest

from gateway.cli.demo_data import load_demo_data
from gateway.config import DEV_JWT_SECRET
from gateway.http.tokens import mint_token
from tests.fixtures import running_gateway, start_gateway, stop_gateway
from tests.support.browser import Lag, Offline, chromium
from tests.support.database import SessionDatabase

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

ROOT = Path(__file__).resolve().parent.parent
# The README's screenshots are taken by these tests. A run writes them beside the other test
# output unless UPDATE_SCREENSHOTS=1 asks for docs/ (so `make test` leaves the checkout clean).
SHOTS_DIR = (
    ROOT / "docs"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "booking-screenshots"
)
SHOTS_DIR.mkdir(parents=True, exist_ok=True)
SCREENSHOTS = {
    "demo": SHOTS_DIR / "screenshot-demo.png",
    "docs": SHOTS_DIR / "screenshot-docs.png",
}
MANICURE = "30000000-0000-4000-8000-000000000001"  # Anna or Celina, 60 min + 10 min after
HAIRCUT = "30000000-0000-4000-8000-000000000002"  # Bartek or Celina, 30 min
CELINA = "20000000-0000-4000-8000-000000000003"
WITHIN_MS = 10_000  # generous: a page that has not updated by then is broken, not slow
DESKTOP = {"width": 1280, "height": 1000}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Site:
    database_url: str
    base: str


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """A fresh database with only the demo salon and a gateway in front of it (no Redis, as
    `make run` has none)."""
    db = SessionDatabase.create()
    try:
        load_demo_data(db.url)
        with running_gateway(db.url, {"REDIS_URL": ""}) as base:
            yield Site(db.url, base)
    finally:
        db.drop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def working_day(n: int) -> date:
    """The n-th weekday (Monday to Friday) from three days on: the salon is open 09:00-18:00."""
    day = date.today() + timedelta(days=3)
    while True:
        if day.isoweekday() <= 5:
            if n == 0:
                return day
            n -= 1
        day += timedelta(days=1)


@dataclass
class Tab:
    """One demo page in a browser context of its own (its own session storage)."""

    context: BrowserContext
    page: Page
    offline: Offline
    errors: list[str]

    def close(self) -> None:
        self.context.close()


def open_demo(
    browser: Browser,
    site: Site,
    customer: str,
    day: date,
    service: str = MANICURE,
    viewport: dict[str, int] = DESKTOP,
    lag: Lag | None = None,
) -> Tab:
    context = browser.new_context(viewport=viewport)
    offline = Offline(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if lag is not None:
        page.route_web_socket(re.compile(r"/v1/ws$"), lag.attach)
    page.goto(f"{site.base}/demo?service={service}&date={day}&customer={customer}")
    page.wait_for_selector("body[data-ready=true]", timeout=WITHIN_MS)
    page.wait_for_selector("#live[data-status=open]", timeout=WITHIN_MS)
    return Tab(context, page, offline, errors)


def slot(staff: str, time_of_day: str) -> str:
    """The button that holds `time_of_day` with `staff` in the grid."""
    return f'#grid button.slot[data-resource-name="{staff}"][data-time="{time_of_day}"]'


def mine(page: Page, status: str, time_of_day: str) -> Locator:
    """The page's own hold (status "held") or booking ("confirmed") starting at `time_of_day`."""
    what = page.locator(".what", has_text=f", {time_of_day}\N{EN DASH}")
    return page.locator(f"#mine li[data-status={status}]").filter(has=what)


def watch_for_removal(page: Page, selector: str) -> None:
    """From now on, `window.__gone` is the Date.now() at which `selector` left the page."""
    page.evaluate(
        """(sel) => {
          window.__gone = null;
          const check = () => {
            if (window.__gone === null && !document.querySelector(sel)) window.__gone = Date.now();
          };
          new MutationObserver(check).observe(document.body, {childList: true, subtree: true});
        }""",
        selector,
    )


def gone_at(page: Page) -> float:
    page.wait_for_function("window.__gone !== null", timeout=WITHIN_MS)
    return float(page.evaluate("window.__gone"))


def book_through_sql(site: Site, day: date, at: str, resource: str, customer: str) -> float:
    """A third client, a plain SQL caller, books `at` with `resource`; when it committed (ms)."""
    with psycopg.connect(site.database_url, autocommit=True) as conn:
        row = conn.execute(
            "select api.create_booking_atomic(%s, %s::timestamptz, %s, '{}'::jsonb, %s)",
            (MANICURE, f"{day} {at} Europe/Warsaw", customer, resource),
        ).fetchone()
        committed = time.time() * 1000
    assert row is not None and row[0]["success"], row
    return committed


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n    {line}", end="")


def test_two_pages_one_salon_day_every_change_reaches_both_and_a_race_shows_alternatives(
    browser: Browser,
    site: Site,
    capsys: pytest.CaptureFixture[str],
    record_property: Any,
) -> None:
    day = working_day(0)
    lag = Lag()
    a = open_demo(browser, site, "alice", day)
    b = open_demo(browser, site, "bob", day, lag=lag)
    try:
        pa, pb = a.page, b.page
        for page in (pa, pb):
            assert page.is_visible(slot("Anna", "10:00")) and page.is_visible(
                slot("Celina", "11:00")
            )

        # page A holds 10:00 with Anna; page B's 10:00 with Anna disappears
        watch_for_removal(pb, slot("Anna", "10:00"))
        clicked = time.time() * 1000
        pa.click(slot("Anna", "10:00"))
        removed = gone_at(pb)
        pa.wait_for_function("window.demo.timings.some(t => t.kind === 'held')")
        answered = float(pa.evaluate("window.demo.timings.find(t => t.kind === 'held').at"))
        after_answer, after_click = removed - answered, removed - clicked
        record_property("page_b_update_after_a_hold_ms", round(after_answer, 1))
        report(
            capsys,
            f"page B lost 10:00 {after_answer:.0f} ms after page A's hold was answered"
            f" ({after_click:.0f} ms after the click)",
        )
        held = mine(pa, "held", "10:00")
        held.wait_for()
        assert re.search(r"expires in (10:00|9:[0-5]\d)", held.locator(".countdown").inner_text())
        assert pa.locator("#grid .yours").count() >= 1  # page A shows the time as its own

        # a third client books 11:00 with Celina through SQL: both pages update
        watch_for_removal(pa, slot("Celina", "11:00"))
        watch_for_removal(pb, slot("Celina", "11:00"))
        committed = book_through_sql(site, day, "11:00", CELINA, "erin")
        lags = [gone_at(page) - committed for page in (pa, pb)]
        record_property("pages_update_after_sql_booking_ms", [round(x, 1) for x in lags])
        report(
            capsys,
            f"pages A and B lost 11:00 {lags[0]:.0f} and {lags[1]:.0f} ms after the SQL commit",
        )

        # bob holds 15:00 with Celina, to have a hold of his own on the screen
        pb.click(slot("Celina", "15:00"))
        mine(pb, "held", "15:00").wait_for()

        # a race: page B is a moment behind (its websocket held back) when page A takes 13:00
        # with Celina; B still shows the time, tries it, and is offered the nearest free times
        lag.holding = True
        pa.click(slot("Celina", "13:00"))
        mine(pa, "held", "13:00").wait_for()
        assert pb.is_visible(slot("Celina", "13:00")), "page B should still be behind"
        pb.click(slot("Celina", "13:00"))
        conflict = pb.locator("#conflict")
        conflict.wait_for(state="visible")
        assert conflict.get_attribute("data-conflict-type") in ("CACHE_CONFLICT", "HOLD_CONFLICT")
        assert "13:00 with Celina" in conflict.inner_text()
        alternatives = pb.locator("#alternatives button")
        assert alternatives.count() >= 1
        first = alternatives.first.inner_text()
        pb.screenshot(path=str(SCREENSHOTS["demo"]))
        alternatives.first.click()
        mine(pb, "held", first.split(" ")[0]).wait_for()
        assert conflict.is_hidden()
        lag.release()

        # page A books its 10:00, then cancels it: page B sees 10:00 with Anna free again
        held.get_by_role("button", name=re.compile("^Book")).click()
        booked = mine(pa, "confirmed", "10:00")
        booked.wait_for()
        assert not pb.is_visible(slot("Anna", "10:00"))
        booked.get_by_role("button", name=re.compile("^Cancel")).click()
        pb.wait_for_selector(slot("Anna", "10:00"), timeout=WITHIN_MS)

        # page A releases 13:00 with Celina: page B can have it again
        mine(pa, "held", "13:00").get_by_role("button", name=re.compile("^Release")).click()
        pb.wait_for_selector(slot("Celina", "13:00"), timeout=WITHIN_MS)

        for tab in (a, b):
            assert tab.offline.refused == [], tab.offline.refused
            assert tab.errors == [], tab.errors
        assert after_answer < WITHIN_MS
    finally:
        a.close()
        b.close()


def test_the_page_is_used_with_the_keyboard_alone(browser: Browser, site: Site) -> None:
    tab = open_demo(browser, site, "dave", working_day(1))
    try:
        page = tab.page
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the free times"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.dataset.time")
        assert focused == "09:00"
        page.keyboard.press("Enter")
        mine(page, "held", "09:00").wait_for()
        # the grid was drawn again under the keyboard user: the focus stayed in it
        assert page.evaluate("!!document.activeElement.closest('#slots')")
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
        assert tab.offline.refused == [] and tab.errors == []
    finally:
        tab.close()


def test_with_a_secret_of_its_own_the_page_takes_a_pasted_token(
    browser: Browser, site: Site
) -> None:
    """No demo customers then (no /demo/tokens): the page asks for a token, and works with it."""
    secret = "a-secret-of-this-deployment-only-0123456789abcdef"
    proc, base = start_gateway(site.database_url, {"REDIS_URL": "", "BOOKING_JWT_SECRET": secret})
    context = browser.new_context(viewport=DESKTOP)
    offline = Offline(context)
    page = context.new_page()
    try:
        page.goto(f"{base}/demo?service={MANICURE}&date={working_day(4)}")
        page.wait_for_selector("body[data-ready=true]", timeout=WITHIN_MS)
        assert page.is_hidden("#customer") and page.is_visible("#token-form")
        page.fill("#token", mint_token(secret, "frank", "customer"))
        page.click("#token-form button")
        page.wait_for_selector("#live[data-status=open]", timeout=WITHIN_MS)
        page.click(slot("Celina", "12:00"))
        mine(page, "held", "12:00").wait_for()
        assert offline.refused == []
    finally:
        context.close()
        stop_gateway(proc)


def test_the_page_reads_on_a_phone(browser: Browser, site: Site) -> None:
    tab = open_demo(browser, site, "carol", working_day(3), viewport=PHONE)
    try:
        page = tab.page
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert (
            page.evaluate("document.querySelector('#grid table').getBoundingClientRect().right")
            <= PHONE["width"]
        )
        assert page.locator(slot("Anna", "10:00")).bounding_box()["height"] >= 30
        font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert font >= 16
    finally:
        tab.close()


def test_docs_works_offline_and_try_it_out_reaches_this_gateway(
    browser: Browser, site: Site
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    offline = Offline(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(site.base + "/docs")
        page.wait_for_selector(".opblock", timeout=WITHIN_MS)
        assert page.locator(".opblock").count() > 30
        assert "OAS 3.1" in page.locator(".info").inner_text()
        assert page.locator("button.authorize").is_visible()
        assert page.locator("#realtime").is_visible()

        def try_it_out(method: str, path: str) -> str:
            block = page.locator(
                f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])"
            )
            block.locator(".opblock-summary").click()
            block.get_by_role("button", name=re.compile("Try it out")).click()
            block.get_by_role("button", name="Execute").click()
            status = block.locator(".live-responses-table tr.response .response-col_status").first
            status.wait_for(timeout=WITHIN_MS)
            return status.inner_text().strip()

        assert try_it_out("get", "/health") == "200"
        # the bearer field: authorize as a demo customer, then an operation that needs a token
        page.click("#demo-authorize")
        page.wait_for_selector("#demo-authorized:has-text('authorized as alice')")
        assert try_it_out("get", "/v1/bookings") == "200"
        bookings = page.locator(".opblock-get:has(.opblock-summary-path[data-path='/v1/bookings'])")
        assert "Authorization: Bearer ey" in bookings.locator(".curl-command").inner_text()
        page.locator(".opblock-get:has(.opblock-summary-path[data-path='/v1/bookings'])").locator(
            ".opblock-summary"
        ).click()  # folded again: the screenshot shows /health's answer
        page.set_viewport_size({"width": 1280, "height": 1500})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS["docs"]))
        assert offline.refused == [], offline.refused
        assert errors == [], errors
    finally:
        context.close()


def test_the_javascript_client_resumes_with_since_after_a_disconnect(
    browser: Browser, site: Site
) -> None:
    """booking-client.js in a page: it authenticates, hears a hold, loses its connection, and
    after reconnecting hears the hold made while it was away (a replay from `since`)."""
    day = working_day(2)
    token = mint_token(DEV_JWT_SECRET, "carol", "customer")
    context = browser.new_context()
    Offline(context)
    page = context.new_page()
    try:
        page.goto(site.base + "/health")
        page.evaluate(
            """async ({token, service, day}) => {
              const { BookingClient } = await import("/static/booking-client.js");
              window.__gate = Promise.resolve();
              const client = new BookingClient({ getToken: () => window.__gate.then(() => token) });
              window.t = { client, events: [], statuses: [] };
              client.on("availability:updated", (p, m) =>
                t.events.push({ id: m.id, reservation: p && p.reservation_id }));
              client.on("status", (s) => t.statuses.push(s));
              client.watchAvailability(service, day);
            }""",
            {"token": token, "service": HAIRCUT, "day": day.isoformat()},
        )
        page.wait_for_function("window.t.client.since !== null", timeout=WITHIN_MS)

        def hold(at: str) -> str:
            r = httpx.post(
                site.base + "/v1/holds",
                headers={
                    "Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'erin', 'customer')}"
                },
                json={"service_id": HAIRCUT, "start_time": f"{day}T{at}"},
            )
            assert r.status_code == 201, r.text
            return str(r.json()["hold_id"])

        first = hold("10:00")
        page.wait_for_function("window.t.events.length === 1", timeout=WITHIN_MS)
        # the network drops, and the client cannot get back before the next hold is made
        page.evaluate(
            """() => { window.__gate = new Promise((r) => { window.__open = r; });
                       window.t.client._ws.close(3000, "network drop"); }"""
        )
        page.wait_for_function("window.t.client.status === 'reconnecting'")
        second = hold("11:00")
        page.evaluate("window.__open()")
        page.wait_for_function("window.t.events.length === 2", timeout=WITHIN_MS)
        events = page.evaluate("window.t.events")
        assert [e["reservation"] for e in events] == [first, second]
        assert events[0]["id"] < events[1]["id"]
        assert page.evaluate("window.t.statuses").count("open") == 2

        # a conflict carries the alternatives
        conflict = page.evaluate(
            """async ({service, day}) => {
              const { ConflictError } = await import("/static/booking-client.js");
              const c = window.t.client;
              await c.hold({ serviceId: service, startTime: `${day}T12:00` });
              await c.hold({ serviceId: service, startTime: `${day}T12:00` });
              try {
                await c.hold({ serviceId: service, startTime: `${day}T12:00` });
              } catch (e) {
                return { conflict: e instanceof ConflictError, type: e.conflictType,
                         alternatives: e.alternatives.length };
              }
            }""",
            {"service": HAIRCUT, "day": day.isoformat()},
        )
        assert conflict["conflict"] and conflict["type"] == "HOLD_CONFLICT"
        assert conflict["alternatives"] >= 1
        page.evaluate("window.t.client.close()")
    finally:
        context.close()
