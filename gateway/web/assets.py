"""Static files: the gateway's own (gateway/web/static/) and Swagger UI's, read from the installed
swagger-ui-bundle-v2 package. Nothing is fetched from another server: the pages work offline."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from swagger_ui_bundle import swagger_ui_path

STATIC_DIR = Path(__file__).resolve().parent / "static"
SWAGGER_UI_DIR = Path(str(swagger_ui_path))
# swagger-ui-bundle-v2 ships 5.x, which renders OpenAPI 3.1 (4.x cannot)
SWAGGER_UI_VERSION = SWAGGER_UI_DIR.name.removeprefix("swagger-ui-")
# what /docs loads; the package's index.html and initializer point at a demo server on the
# internet, so they are not served
SWAGGER_UI_FILES = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.map",
        "swagger-ui.css",
        "swagger-ui.css.map",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)


class AssetFiles(StaticFiles):
    """The files of a directory (only `names`, when given), revalidated on every use: answers carry
    their ETag and `Cache-Control: no-cache`, so a browser asks again and mostly gets a 304."""

    def __init__(self, directory: Path, names: frozenset[str] | None = None) -> None:
        super().__init__(directory=directory)
        self.names = names

    async def get_response(self, path: str, scope: Scope) -> Response:
        if self.names is not None and path not in self.names:
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response
