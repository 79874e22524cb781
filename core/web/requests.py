"""The portal's Request: a JSON body that is not JSON, not UTF-8 or nested past reason is the client's error."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class PortalRequest(Request):
    """Every JSON body of the app is decoded here, so the checks hold for every route, plugins' included."""

    async def json(self) -> Any:
        body = await self.body()
        # A client that labels its body otherwise may mean something else by it; say so instead of guessing.
        if body and not _is_json(self.content_type[0]):
            raise HTTPException(
                status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                detail="body: send the request body as JSON with Content-Type: application/json",
            )
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise ClientException("body: JSON must be encoded in UTF-8") from None
        except RecursionError:
            # msgspec stops at Python's recursion limit; no request of this API nests anywhere near that deep.
            raise ClientException("body: JSON nests too deeply") from None
