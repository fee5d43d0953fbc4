"""The human-readable API page, /docs, as a browser gets it: Swagger UI from the gateway's own
copy (the swagger-ui-bundle-v2 package, 5.x, which renders OpenAPI 3.1), nothing from another
server, and the websocket protocol written out beside the HTTP operations. (It is loaded and
clicked through in a real browser in tests/test_browser_pages.py.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from gateway.web.assets import STATIC_DIR, SWAGGER_UI_VERSION


class Links(HTMLParser):
    """Every src and href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def links(page: str) -> list[str]:
    parser = Links()
    parser.feed(page)
    return parser.urls


def test_docs_is_swagger_ui_5_from_the_gateway_itself(gateway_url: str) -> None:
    r = httpx.get(gateway_url + "/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    urls = links(r.text)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in urls
    assert "/static/swagger-ui/swagger-ui.css" in urls
    assert int(SWAGGER_UI_VERSION.split(".")[0]) >= 5, SWAGGER_UI_VERSION
    bundle = httpx.get(gateway_url + "/static/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 500_000


def test_every_file_the_page_loads_is_served_here_and_none_comes_from_elsewhere(
    gateway_url: str,
) -> None:
    page = httpx.get(gateway_url + "/docs").text
    for url in links(page):
        assert not re.match(r"^(https?:)?//", url), f"{url} is not on this gateway"
        if url.startswith("#"):
            continue
        r = httpx.get(gateway_url + url)
        assert r.status_code == 200, url
    initializer = (STATIC_DIR / "docs.js").read_text(encoding="utf-8")
    assert 'url: "/openapi.json"' in initializer
    assert "validatorUrl: null" in initializer  # the default badge calls a server on the internet


def test_the_packages_own_index_and_its_internet_demo_document_are_not_served(
    gateway_url: str,
) -> None:
    for name in ("index.html", "swagger-initializer.js", "../__init__.py"):
        assert httpx.get(f"{gateway_url}/static/swagger-ui/{name}").status_code == 404, name


def test_the_page_documents_the_websocket_protocol(gateway_url: str) -> None:
    page = httpx.get(gateway_url + "/docs").text
    for needle in ("/v1/ws", '"bearer", token', "since", "resync", "availability:", "4001"):
        assert needle in page, needle


def test_the_pages_style_sheet_is_whole_rules(gateway_url: str) -> None:
    css = httpx.get(gateway_url + "/static/docs.css").text
    rules = re.findall(r"([^{}]+)\{([^{}]*)\}", css)
    # Every character belongs to a `selector{declarations}` rule: a stray brace would end one
    # rule early and make the browser drop the next.
    assert "".join(f"{selector}{{{body}}}" for selector, body in rules) == css.rstrip(), css
    selectors = {selector.strip() for selector, _ in rules}
    assert {"body", ".realtime th, .realtime td"} <= selectors
