"""The OpenAPI page: Swagger UI from our own static files, started by a script file (no CDN, no inline script)."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import SwaggerRenderPlugin

VENDOR = "/static/vendor/swagger"


class LocalSwaggerPlugin(SwaggerRenderPlugin):
    """Swagger UI at /schema/swagger, fed /schema/openapi.json by /static/api-docs.js."""

    def __init__(self) -> None:
        super().__init__(
            js_url=f"{VENDOR}/swagger-ui-bundle.js",
            css_url=f"{VENDOR}/swagger-ui.css",
            standalone_preset_js_url=f"{VENDOR}/swagger-ui-standalone-preset.js",
            favicon="",
        )

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        csrf = request.app.csrf_config
        title = escape(str(openapi_schema["info"]["title"]))
        schema_path = escape((request.app.openapi_config.path if request.app.openapi_config else None) or "/schema")
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link href="{self.css_url}" rel="stylesheet">
  <script src="{self.js_url}" defer></script>
  <script src="{self.standalone_preset_js_url}" defer></script>
  <script src="/static/api-docs.js" defer></script>
</head>
<body>
  <div id="swagger-container" data-spec-url="{schema_path}/openapi.json"
       data-csrf-cookie="{escape(csrf.cookie_name if csrf else "")}"
       data-csrf-header="{escape(csrf.header_name if csrf else "")}"></div>
</body>
</html>
""".encode()
