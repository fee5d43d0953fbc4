"""The routes for browsers that are not API operations, so not in the OpenAPI document: static
files, and the demo customers' token endpoint, which exists only while the gateway uses the
development secret."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Mount, Route

from gateway.config import Settings
from gateway.web.assets import STATIC_DIR, SWAGGER_UI_DIR, SWAGGER_UI_FILES, AssetFiles
from gateway.web.demo_tokens import DemoTokens

DEMO_TOKENS_PATH = "/demo/tokens"


def browser_routes(settings: Settings) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        # before /static, which would otherwise take its paths
        Mount("/static/swagger-ui", app=AssetFiles(SWAGGER_UI_DIR, SWAGGER_UI_FILES)),
        Mount("/static", app=AssetFiles(STATIC_DIR)),
    ]
    if settings.uses_dev_secret:
        tokens = DemoTokens(settings.jwt_secret)
        routes += [
            Route(DEMO_TOKENS_PATH, tokens.customers, methods=["GET"]),
            Route(DEMO_TOKENS_PATH, tokens.mint, methods=["POST"]),
        ]
    return routes


def route_templates(routes: list[BaseRoute]) -> dict[Any, str]:
    """Endpoint -> path, as the request metrics label them (a mount by its prefix)."""
    templates: dict[Any, str] = {}
    for route in routes:
        if isinstance(route, Mount):
            templates[route.app] = route.path + "/{path}"
        elif isinstance(route, Route):
            templates[route.endpoint] = route.path
    return templates
