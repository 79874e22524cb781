"""A lean keep-alive HTTP/1.1 client for the aggregator's send calls, answering as httpx does (ViberClient.http)."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import h11
import httpx

READ_SIZE = 65_536


class _Connection:
    __slots__ = ("h11", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT)

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing() and self.h11.our_state is h11.IDLE

    def close(self) -> None:
        self.writer.close()


class LeanClient:
    """POSTs to one host over at most ``size`` kept-alive connections, one request on each at a time.

    httpx's pool looks at every idle connection (a poll and a getpeername each) for every request: with ten
    connections that cost more CPU than the send itself, and the webhooks of the same process waited for it. The
    caller (HttpVendorClient) keeps at most ``size`` requests in flight, so a free connection is taken from a
    stack or a new one opened, never waited for. Errors are httpx's: ``ConnectError`` when nothing was written,
    ``ReadTimeout`` and other transport errors when the request may have reached the vendor.
    """

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float) -> None:
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port or (443 if url.scheme == "https" else 80)
        self.ssl: ssl.SSLContext | None = ssl.create_default_context() if url.scheme == "https" else None
        self.prefix = url.raw_path.rstrip(b"/")
        authority = url.host if url.port is None else f"{url.host}:{url.port}"
        self.headers = [("host", authority), *headers.items()]
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def _connect(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            self._drop(connection)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=self.ssl, limit=READ_SIZE), self.timeout
            )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {self.host}:{self.port} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or exc.__class__.__name__) from exc
        connection = _Connection(reader, writer)
        self._open.add(connection)
        return connection

    def _drop(self, connection: _Connection) -> None:
        self._open.discard(connection)
        connection.close()

    async def post(self, path: str, *, content: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST ``content`` to the base URL's path + ``path``, with ``headers`` besides the client's own."""
        connection = await self._connect()
        try:
            answer = await asyncio.wait_for(
                self._exchange(connection, path, content, [*self.headers, *(headers or {}).items()]), self.timeout
            )
        except TimeoutError as exc:
            self._drop(connection)
            raise httpx.ReadTimeout(f"no answer from {self.host}:{self.port} within {self.timeout} s") from exc
        except (OSError, h11.ProtocolError, httpx.TransportError) as exc:
            self._drop(connection)
            if isinstance(exc, httpx.TransportError):
                raise
            raise httpx.ReadError(str(exc) or exc.__class__.__name__) from exc
        except BaseException:  # cancelled midway: the connection's state is unknown
            self._drop(connection)
            raise
        if connection.h11.our_state is h11.DONE and connection.h11.their_state is h11.DONE:
            connection.h11.start_next_cycle()
            self._idle.append(connection)
        else:
            self._drop(connection)
        return answer

    async def _exchange(
        self, connection: _Connection, path: str, content: bytes, headers: list[tuple[str, str]]
    ) -> httpx.Response:
        state = connection.h11
        headers = [*headers, ("content-length", str(len(content)))]
        request = h11.Request(method="POST", target=self.prefix + path.encode(), headers=headers)
        connection.writer.write(b"".join((state.send(request) or b"", state.send(h11.Data(data=content)) or b"")))
        connection.writer.write(state.send(h11.EndOfMessage()) or b"")
        await connection.writer.drain()
        response: Any = None
        body = bytearray()
        while True:
            event = state.next_event()
            if event is h11.NEED_DATA:
                data = await connection.reader.read(READ_SIZE)
                if not data and state.their_state is h11.SEND_RESPONSE:
                    raise httpx.RemoteProtocolError("the server closed the connection without answering")
                state.receive_data(data)
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError("the server closed the connection mid-answer")
        return httpx.Response(
            response.status_code,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers],
            content=bytes(body),
        )

    async def aclose(self) -> None:
        for connection in list(self._open):
            self._drop(connection)
        self._idle.clear()
