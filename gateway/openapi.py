"""OpenAPI document (placeholder)."""

from typing import Any


def openapi_document() -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "description": "d", "version": "0"},
            "paths": {}}
