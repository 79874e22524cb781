"""The SMS channel provider: binds the enabled SMPP vendor connections and spreads batches across them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from core import (
    ChannelCapabilities,
    OutboundMessage,
    Portal,
    SendResult,
    SubmitProgress,
    TemporaryProviderError,
    VendorConnection,
)
from plugins.sms.client import NOT_BOUND, SmppClient
from plugins.sms.encoding import segments
from plugins.sms.receipts import ReportBuffer
from plugins.sms.schemas import SmppSettings

log = logging.getLogger(__name__)


class SmsChannel:
    """``client_options`` are passed to every SmppClient (tests shorten back-offs and timeouts with them)."""

    name: ClassVar[str] = "sms"
    label: ClassVar[str] = "SMS"
    settings_type: ClassVar[type[SmppSettings]] = SmppSettings
    capabilities: ClassVar[ChannelCapabilities] = ChannelCapabilities(flash=True, submit_progress=True)

    def __init__(self, client_options: dict[str, Any] | None = None) -> None:
        self.client_options = dict(client_options or {})
        self.clients: dict[int, SmppClient] = {}
        self._portal: Any = None
        self._reports: ReportBuffer | None = None

    def segments(self, text: str) -> int:
        return segments(text)

    async def start(self, portal: Portal) -> None:
        """Bind every enabled SMS vendor connection; one that fails is logged and retried in the background."""
        self._portal = portal
        self._reports = ReportBuffer(portal, self.name)
        await self.reload()

    async def reload(self) -> None:
        """Re-read the vendor connections: bind new ones, rebind changed ones, unbind removed ones."""
        if self._portal is None:
            raise RuntimeError("SmsChannel.reload() before start()")
        wanted: dict[int, VendorConnection] = {c.id: c for c in await self._portal.vendor_connections(self.name)}
        gone = [
            client
            for cid, client in self.clients.items()
            if cid not in wanted or client.connection.settings != wanted[cid].settings
        ]
        for client in gone:
            del self.clients[client.connection.id]
        await asyncio.gather(*(client.stop() for client in gone))
        # An SMSC may deliver a receipt on any bind of the account: connections to one account share the id that
        # receipts are matched by (the lowest), or a receipt on the other connection would never find its message.
        accounts: dict[tuple[object, ...], int] = {}
        for cid in sorted(wanted):
            accounts.setdefault(_account(wanted[cid]), cid)
        new = [
            SmppClient(
                conn,
                reports=self._reports,
                redis=getattr(self._portal, "redis", None),
                match_id=accounts[_account(conn)],
                **self.client_options,
            )
            for cid, conn in wanted.items()
            if cid not in self.clients
        ]
        for client in new:
            self.clients[client.connection.id] = client
        for client, bound in zip(new, await asyncio.gather(*(c.start() for c in new)), strict=True):
            if not bound:
                log.error("SMS vendor connection %s is not bound: %s", client.name, client.last_error)

    async def stop(self) -> None:
        """Unbind every connection and hand over the reports still buffered."""
        clients, self.clients = list(self.clients.values()), {}
        await asyncio.gather(*(client.stop() for client in clients))
        if self._reports is not None:
            await self._reports.flush()

    async def send_batch(
        self, messages: Sequence[OutboundMessage], progress: SubmitProgress | None = None
    ) -> Sequence[SendResult]:
        """Spread the batch over the bound connections in proportion to their throughput; results in order."""
        clients = [client for client in self.clients.values() if client.bound]
        if not clients and self.clients:
            # Connections exist but none is up (the vendor is down or refuses binds): nothing is sent, so the
            # core may hold the batch and try later instead of failing messages that could still go out.
            raise TemporaryProviderError(f"{NOT_BOUND}: {next(iter(self.clients.values())).last_error or 'binding'}")
        if not clients:
            return [SendResult(edr_id=m.edr_id, accepted=False, error=NOT_BOUND) for m in messages]
        if len(clients) == 1 or len(messages) < 2:
            return await clients[0].submit(messages, progress)
        # Contiguous slices keep the results' order trivial to restore.
        total_rate = sum(c.settings.throughput for c in clients)
        slices, start = [], 0
        for number, client in enumerate(clients):
            if number == len(clients) - 1:
                end = len(messages)
            else:
                end = start + round(len(messages) * client.settings.throughput / total_rate)
            if end > start:
                slices.append(client.submit(messages[start:end], progress))
            start = end
        results: list[SendResult] = []
        for part in await asyncio.gather(*slices):
            results.extend(part)
        return results


def _account(connection: VendorConnection) -> tuple[object, ...]:
    """The SMSC account a connection binds to: its binds share the receipts."""
    return (connection.settings.get("host"), connection.settings.get("port"), connection.settings.get("system_id"))
