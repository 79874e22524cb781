"""deliver_sm → DeliveryReport or InboundMessage (multipart MO reassembled), and the batching report buffer."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from core import DeliveryReport, InboundMessage
from plugins.sms import encoding
from plugins.sms.pdu import (
    ESM_RECEIPT,
    ESM_TYPE_MASK,
    ESM_UDHI,
    TLV_MESSAGE_PAYLOAD,
    TLV_MESSAGE_STATE,
    TLV_NETWORK_ERROR_CODE,
    TLV_RECEIPTED_MESSAGE_ID,
    TLV_SAR_MSG_REF_NUM,
    TLV_SAR_SEGMENT_SEQNUM,
    TLV_SAR_TOTAL_SEGMENTS,
    ShortMessage,
)

log = logging.getLogger(__name__)

# Twice the core's recording interval for answers of a running batch (core.dispatch.submission.FLUSH_S).
HOLD_S = 0.5

# message_state TLV (SMPP 3.4 §5.3.2.35) → (our DELIVERY_STATES key, the receipt text's stat word).
MESSAGE_STATES: dict[int, tuple[str, str]] = {
    1: ("enroute", "ENROUTE"),
    2: ("delivered", "DELIVRD"),
    3: ("expired", "EXPIRED"),
    4: ("deleted", "DELETED"),
    5: ("undelivered", "UNDELIV"),
    6: ("accepted", "ACCEPTD"),
    7: ("unknown", "UNKNOWN"),
    8: ("rejected", "REJECTD"),
}
STAT_WORDS: dict[str, str] = {word: state for state, word in MESSAGE_STATES.values()}
# An intermediate notification (0x20) carries a state too; SME acks (0x08, 0x10) are not reports.
_REPORT_TYPES = (ESM_RECEIPT, 0x20)

_FIELD = re.compile(r"\b(id|stat|err|done date)\s*:\s*(\S+)", re.IGNORECASE)
_TEXT_LABEL = re.compile(r"\btext\s*:", re.IGNORECASE)


def is_report(sm: ShortMessage) -> bool:
    return sm.esm_class & ESM_TYPE_MASK in _REPORT_TYPES


def _receipt_date(value: str) -> datetime | None:
    # YYMMDDhhmm (spec) or YYMMDDhhmmss (some vendors); anything else is ignored, not fatal. Sliced by hand:
    # strptime cost 7 % of a campaign's CPU at thousands of receipts a second.
    if not value.isdigit() or len(value) not in (10, 12):
        return None
    try:
        return datetime(
            2000 + int(value[0:2]),
            int(value[2:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[8:10]),
            int(value[10:12]) if len(value) == 12 else 0,
            tzinfo=UTC,
        )
    except ValueError:
        return None


def parse_receipt(sm: ShortMessage, connection: int | None = None) -> DeliveryReport | None:
    """A receipt's report: the TLVs when present, the receipt text for whatever they lack; None if no id.

    ``connection`` is the id of the vendor connection it arrived on: the message id means something only there.
    """
    fields: dict[str, str] = {}
    text = sm.short_message or sm.tlvs.get(TLV_MESSAGE_PAYLOAD, b"")
    if text:
        decoded = text.decode("latin-1")
        label = _TEXT_LABEL.search(decoded)
        # The quoted message text comes last and may itself contain "stat:"; never read fields from it.
        for key, value in _FIELD.findall(decoded[: label.start()] if label else decoded):
            fields.setdefault(key.lower(), value)
    tlvs = sm.tlvs
    raw_id = tlvs.get(TLV_RECEIPTED_MESSAGE_ID)
    message_id = raw_id.rstrip(b"\0").decode("latin-1") if raw_id else fields.get("id", "")
    if not message_id:
        return None
    raw_state = tlvs.get(TLV_MESSAGE_STATE)
    stat = fields.get("stat", "").upper()
    if raw_state and raw_state[0] in MESSAGE_STATES:
        state, word = MESSAGE_STATES[raw_state[0]]
        vendor_status = stat or word
    else:
        state, vendor_status = STAT_WORDS.get(stat, "unknown"), stat
    raw_error = tlvs.get(TLV_NETWORK_ERROR_CODE)
    if raw_error and len(raw_error) == 3:
        error_code = f"{int.from_bytes(raw_error[1:], 'big'):03d}"  # octet 0 is the network type
    else:
        error_code = fields.get("err", "")
    return DeliveryReport(
        vendor_message_id=message_id,
        state=state,
        vendor_status=vendor_status,
        error_code=error_code,
        done_at=_receipt_date(fields.get("done date", "")),
        connection=connection,
    )


class MoAssembler:
    """Reassembles multipart MO (UDH 8/16-bit reference or SAR TLVs); incomplete sets expire after ``ttl`` s."""

    def __init__(self, ttl: float = 600.0) -> None:
        self.ttl = ttl
        self._pending: dict[tuple[str, str, int, int], tuple[float, dict[int, bytes]]] = {}

    def add(self, sm: ShortMessage) -> InboundMessage | None:
        payload = sm.short_message or sm.tlvs.get(TLV_MESSAGE_PAYLOAD, b"")
        ref = total = seq = 0
        if sm.esm_class & ESM_UDHI and payload:
            header_len = payload[0]
            header, payload = payload[1 : 1 + header_len], payload[1 + header_len :]
            pos = 0
            while pos + 2 <= len(header):
                iei, size = header[pos], header[pos + 1]
                data = header[pos + 2 : pos + 2 + size]
                if iei == 0x00 and size == 3:
                    ref, total, seq = data[0], data[1], data[2]
                elif iei == 0x08 and size == 4:
                    ref, total, seq = int.from_bytes(data[:2], "big"), data[2], data[3]
                pos += 2 + size
        elif TLV_SAR_MSG_REF_NUM in sm.tlvs:
            ref = int.from_bytes(sm.tlvs[TLV_SAR_MSG_REF_NUM], "big")
            total = sm.tlvs.get(TLV_SAR_TOTAL_SEGMENTS, b"\1")[0]
            seq = sm.tlvs.get(TLV_SAR_SEGMENT_SEQNUM, b"\1")[0]
        if total > 1:
            now = time.monotonic()
            if len(self._pending) > 1000:  # an unfinished set must not live forever
                self._pending = {k: v for k, v in self._pending.items() if now - v[0] < self.ttl}
            key = (sm.source_addr, sm.destination_addr, ref, total)
            _, parts = self._pending.setdefault(key, (now, {}))
            parts[seq] = payload
            if len(parts) < total:
                return None
            del self._pending[key]
            # Join the octets before decoding: a handset may split a UCS-2 surrogate pair across parts.
            payload = b"".join(parts[i] for i in sorted(parts))
        return InboundMessage(
            channel="sms",
            source=sm.source_addr,
            destination=sm.destination_addr,
            text=encoding.decode(payload, sm.data_coding),
            received_at=datetime.now(UTC),
        )


class ReportSink(Protocol):
    """What the buffer hands reports to: the Portal, or a recorder in tests."""

    async def record_deliveries(self, channel: str, reports: Sequence[DeliveryReport]) -> None: ...

    async def record_inbound(self, messages: Sequence[InboundMessage]) -> None: ...


class ReportBuffer:
    """Collects reports and MO from every bind and hands them over in batches (every ``interval`` s or
    ``max_batch`` items), so a burst of receipts costs the core one call per batch, never one per report.

    A report ``add_report(..., hold=True)`` is handed over only after ``hold_s``: its message was answered in a
    batch still submitting, whose answers the core records every 0.25 s (core.dispatch.submission). Held in
    memory, not stored as early in the database: a fast vendor's receipts would all take that detour.
    """

    def __init__(
        self,
        sink: ReportSink,
        channel: str = "sms",
        interval: float = 0.1,
        max_batch: int = 1000,
        hold_s: float = HOLD_S,
    ) -> None:
        self.sink, self.channel, self.interval, self.max_batch = sink, channel, interval, max_batch
        self.hold_s = hold_s
        self._reports: list[DeliveryReport] = []
        self._inbound: list[InboundMessage] = []
        self._held: list[DeliveryReport] = []
        self._timer: asyncio.TimerHandle | None = None
        self._release: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    def add_report(self, report: DeliveryReport, *, hold: bool = False) -> None:
        if hold:
            self._held.append(report)
            if self._release is None:
                self._release = asyncio.get_running_loop().call_later(self.hold_s, self._release_held)
            return
        self._reports.append(report)
        self._schedule(len(self._reports) >= self.max_batch)

    def _release_held(self) -> None:
        # Everything held so far goes at once: the newest waited less than hold_s, but at least one flush interval.
        self._release = None
        held, self._held = self._held, []
        self._reports.extend(held)
        self._schedule(True)

    def add_inbound(self, message: InboundMessage) -> None:
        self._inbound.append(message)
        self._schedule(len(self._inbound) >= self.max_batch)

    def _schedule(self, now: bool) -> None:
        if self._task is not None:
            return  # the running flush loops until both lists are empty
        if now:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._task = asyncio.get_running_loop().create_task(self._flush_loop())
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._schedule_now)

    def _schedule_now(self) -> None:
        self._timer = None
        self._schedule(True)

    async def _flush_loop(self) -> None:
        try:
            while self._reports or self._inbound:
                await self._flush_once()
        finally:
            self._task = None

    async def _flush_once(self) -> None:
        reports, self._reports = self._reports[: self.max_batch], self._reports[self.max_batch :]
        inbound, self._inbound = self._inbound[: self.max_batch], self._inbound[self.max_batch :]
        try:
            if reports:
                await self.sink.record_deliveries(self.channel, reports)
            if inbound:
                await self.sink.record_inbound(inbound)
        except Exception:
            # The SMSC has its deliver_sm_resp already; losing these would lose the reports for good.
            log.exception("recording %d SMS reports and %d MO failed; retrying", len(reports), len(inbound))
            self._reports[:0], self._inbound[:0] = reports, inbound
            await asyncio.sleep(1.0)

    async def flush(self) -> None:
        """Hand over everything buffered now (stop() and tests)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._release is not None:
            self._release.cancel()
            self._release = None
        held, self._held = self._held, []
        self._reports.extend(held)
        if self._task is not None:
            await asyncio.wait((self._task,), timeout=5.0)
            if self._task is not None:
                self._task.cancel()  # still failing: give up below after a last few tries
                self._task = None
        for _ in range(3):  # a sink that keeps failing must not hold a shutdown forever
            if not (self._reports or self._inbound):
                return
            await self._flush_once()
        log.error("%d SMS reports and %d MO could not be recorded", len(self._reports), len(self._inbound))
