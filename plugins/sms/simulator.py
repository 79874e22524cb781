"""Stand-in SMSC: a real SMPP 3.4 server on asyncio for the demo, the tests and the benchmarks (CHN-4)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections import Counter, deque
from typing import Any, ClassVar, cast

from plugins.sms import encoding, pdu
from plugins.sms.pdu import ShortMessage

log = logging.getLogger(__name__)

# Outcome → (receipt stat word, message_state TLV, err); "never" sends no receipt at all.
OUTCOMES: dict[str, tuple[str, int, int]] = {
    "delivered": ("DELIVRD", 2, 0),
    "undelivered": ("UNDELIV", 5, 1),
    "expired": ("EXPIRED", 3, 0),
    "rejected": ("REJECTD", 8, 2),
    "deleted": ("DELETED", 4, 0),
}
NEVER = "never"


class _Session(asyncio.Protocol):
    """One ESME connection to the stand-in."""

    def __init__(self, smsc: StandInSmsc) -> None:
        self.smsc = smsc
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.bound = False
        self.closed = False
        self._seq = itertools.count(1)
        self._out: list[bytes] = []
        self._flush_pending = False
        self.acks: dict[int, asyncio.Future[int]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a TCP connection's, a full Transport
        self.smsc._sessions.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.bound = False
        self.smsc._sessions.discard(self)
        for future in self.acks.values():
            if not future.done():
                future.set_exception(ConnectionError("ESME disconnected"))

    def write(self, data: bytes) -> None:
        # Coalesce a loop iteration's PDUs into one write: the stand-in shares the CPU with the client.
        self._out.append(data)
        if not self._flush_pending:
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        if self._out and not self.closed and self.transport is not None:
            self.transport.write(b"".join(self._out))
        self._out = []

    def close(self) -> None:
        self.flush()
        self.closed = True  # frames already read in this data_received call are ignored
        if self.transport is not None:
            self.transport.close()

    def next_seq(self) -> int:
        return next(self._seq)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            frames = pdu.split_frames(self.buffer)
        except pdu.PduError:
            self.write(pdu.generic_nack(0, pdu.ESME_RINVCMDLEN))
            self.close()
            return
        smsc = self.smsc
        for command_id, _status, seq, body in frames:
            if command_id == pdu.SUBMIT_SM:
                if self.bound:
                    smsc._on_submit(self, seq, body)
                else:
                    self.write(pdu.submit_sm_resp(seq, pdu.ESME_RINVBNDSTS))
                if self.closed:
                    return
            elif command_id == pdu.DELIVER_SM_RESP:
                future = self.acks.pop(seq, None)
                if future is not None and not future.done():
                    future.set_result(_status)
            elif command_id == pdu.BIND_TRANSCEIVER:
                smsc._on_bind(self, seq, body)
            elif command_id == pdu.ENQUIRE_LINK:
                smsc.enquire_links += 1
                if not smsc.mute:
                    self.write(pdu.enquire_link_resp(seq))
            elif command_id == pdu.UNBIND:
                self.write(pdu.unbind_resp(seq))
                self.bound = False
                self.close()
            elif not command_id & pdu.RESPONSE_BIT:
                self.write(pdu.generic_nack(seq, pdu.ESME_RINVCMDID))


OUTCOMES_ENV = "PORTAL_STANDIN_SMS_OUTCOMES"


def outcomes_from_env() -> dict[str, str]:
    """``PORTAL_STANDIN_SMS_OUTCOMES="4915100000003=undelivered,3469=expired"``: outcomes by destination prefix for a
    stand-in started without explicit ones (`portal run`, `portal simulate`), so the demo shows every status."""
    pairs = (item.split("=", 1) for item in os.environ.get(OUTCOMES_ENV, "").split(",") if "=" in item)
    return {prefix.strip(): outcome.strip() for prefix, outcome in pairs}


class StandInSmsc:
    """An SMSC on loopback: checks credentials, accepts submit_sm, sends receipts and MO.

    Knobs (attributes, changeable while it runs): ``receipt_delay`` (s), ``outcomes`` (destination prefix →
    delivered / undelivered / expired / rejected / deleted / never; longest prefix wins, else ``default_outcome``),
    ``throttle_rate`` (submits per second above which it answers ESME_RTHROTTLED; 0 = never), ``drop_after``
    (close the connection on receiving the N-th submit from now, leaving it unanswered; 0 = never),
    ``cross_receipts`` (each receipt on another bind than the submit's, as SMSCs may), ``mute``
    (receive submits and enquire_link but answer neither), ``hold_answers`` (keep the submits unanswered until
    ``release_answers()``: a slow SMSC that answers late), ``id_prefix`` and ``next_id`` (message ids are the
    prefix and the counter as 8 hex digits; the prefix defaults to the start time, so ids stay unique across
    restarts; ``""`` and ``next_id = 1`` play an SMSC that counts from 1 again, as many do after a restart),
    ``hold_receipts`` (keep receipts until ``release_receipts()``: a test decides when the handsets answer).

    Observations: ``submitted`` (Counter per destination of accepted submits, plus a dropped or unanswered one,
    since the client cannot know it was not taken), ``last_submits`` (the last ``keep_last`` decoded submit_sm),
    ``binds``, ``refused_binds``, ``enquire_links``, ``receipts_sent``, ``throttled``, ``bound_sessions``.
    """

    channel: ClassVar[str] = "sms"

    def __init__(
        self,
        system_id: str = "portal",
        password: str = "secret",  # noqa: S107 - the stand-in's documented demo credential
        *,
        receipt_delay: float = 0.0,
        outcomes: dict[str, str] | None = None,
        default_outcome: str = "delivered",
        throttle_rate: int = 0,
        drop_after: int = 0,
        keep_last: int = 1000,
    ) -> None:
        self.system_id = system_id
        self.password = password
        self.receipt_delay = receipt_delay
        self.outcomes: dict[str, str] = dict(outcomes if outcomes is not None else outcomes_from_env())
        self.default_outcome = default_outcome
        self.throttle_rate = throttle_rate
        self.drop_after = drop_after
        self.mute = False
        self.hold_answers = False
        self._held_answers: list[tuple[_Session, int, ShortMessage]] = []
        self.cross_receipts = False
        self.submitted: Counter[str] = Counter()
        self.last_submits: deque[ShortMessage] = deque(maxlen=keep_last)
        self.binds = 0
        self.refused_binds = 0
        self.enquire_links = 0
        self.receipts_sent = 0
        self.throttled = 0
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self.id_prefix = f"{int(time.time()) & 0xFFFFFF:06x}"
        self.next_id = 1
        self.hold_receipts = False
        self._held: list[tuple[_Session, str, ShortMessage, str]] = []
        self._mo_ref = 0
        self._window_second = 0
        self._window_count = 0
        self._waiting_receipts: list[bytes] = []  # receipts due while no ESME was bound
        self._date_second = 0
        self._date = ""

    # --- StandIn ------------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Session(self), host, port)
        self.host = host
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("stand-in SMSC listening on %s:%d", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in list(self._sessions):
                if session.transport is not None:
                    session.transport.abort()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def connection_settings(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "system_id": self.system_id,
            "password": self.password,
            "throughput": 1000,
            "window": 64,
        }

    # --- behaviour ----------------------------------------------------------------------------------------------

    @property
    def bound_sessions(self) -> int:
        return sum(1 for s in self._sessions if s.bound)

    def outcome_for(self, destination: str) -> str:
        best, best_len = self.default_outcome, -1
        for prefix, outcome in self.outcomes.items():
            if len(prefix) > best_len and destination.startswith(prefix):
                best, best_len = outcome, len(prefix)
        return best

    def _on_bind(self, session: _Session, seq: int, body: bytes) -> None:
        try:
            bind = pdu.decode_bind(body)
        except pdu.PduError:
            session.write(pdu.bind_transceiver_resp(seq, pdu.ESME_RINVCMDLEN, self.system_id))
            return
        if session.bound:
            session.write(pdu.bind_transceiver_resp(seq, pdu.ESME_RALYBND, self.system_id))
        elif bind.system_id != self.system_id:
            self.refused_binds += 1
            session.write(pdu.bind_transceiver_resp(seq, pdu.ESME_RINVSYSID, self.system_id))
            session.close()
        elif bind.password != self.password:
            self.refused_binds += 1
            session.write(pdu.bind_transceiver_resp(seq, pdu.ESME_RINVPASWD, self.system_id))
            session.close()
        else:
            self.binds += 1
            session.bound = True
            session.write(pdu.bind_transceiver_resp(seq, pdu.ESME_ROK, "StandInSMSC"))
            waiting, self._waiting_receipts = self._waiting_receipts, []
            for receipt in waiting:
                session.write(pdu.pdu(pdu.DELIVER_SM, session.next_seq(), receipt))

    def _on_submit(self, session: _Session, seq: int, body: bytes) -> None:
        if self.throttle_rate:
            second = int(time.monotonic())
            if second != self._window_second:
                self._window_second, self._window_count = second, 0
            self._window_count += 1
            if self._window_count > self.throttle_rate:
                self.throttled += 1
                session.write(pdu.submit_sm_resp(seq, pdu.ESME_RTHROTTLED))
                return
        try:
            sm = pdu.decode_short_message(body)
        except pdu.PduError:
            session.write(pdu.submit_sm_resp(seq, pdu.ESME_RINVMSGLEN))
            return
        destination = sm.destination_addr
        self.submitted[destination] += 1
        self.last_submits.append(sm)
        if self.drop_after:
            self.drop_after -= 1
            if self.drop_after == 0:
                session.close()  # the answers written so far still go out; this submit stays unanswered
                return
        if self.mute:
            return
        if self.hold_answers:
            self._held_answers.append((session, seq, sm))
            return
        self._answer(session, seq, sm)

    def _answer(self, session: _Session, seq: int, sm: ShortMessage) -> None:
        destination = sm.destination_addr
        message_id = f"{self.id_prefix}{self.next_id:08x}"
        self.next_id += 1
        session.write(pdu.submit_sm_resp(seq, pdu.ESME_ROK, message_id))
        if not sm.registered_delivery & 0x03:
            return
        outcome = self.outcome_for(destination) if self.outcomes else self.default_outcome
        if outcome == NEVER:
            return
        if self.hold_receipts:
            self._held.append((session, message_id, sm, outcome))
        elif self.receipt_delay > 0:
            asyncio.get_running_loop().call_later(
                self.receipt_delay, self._send_receipt, session, message_id, sm, outcome
            )
        else:
            self._send_receipt(session, message_id, sm, outcome)

    def release_answers(self) -> int:
        """Answer, late and in order, the submits held so far (see ``hold_answers``) on binds still open; how many."""
        held, self._held_answers = self._held_answers, []
        self.hold_answers = False
        answered = [(session, seq, sm) for session, seq, sm in held if session in self._sessions]
        for answer in answered:
            self._answer(*answer)
        return len(answered)

    def release_receipts(self) -> int:
        """Send the receipts held so far (see ``hold_receipts``), in submit order; how many."""
        held, self._held = self._held, []
        for receipt in held:
            self._send_receipt(*receipt)
        return len(held)

    def _now_date(self) -> str:
        second = int(time.time())
        if second != self._date_second:
            self._date_second, self._date = second, time.strftime("%y%m%d%H%M", time.gmtime(second))
        return self._date

    def _send_receipt(self, session: _Session, message_id: str, sm: ShortMessage, outcome: str) -> None:
        stat, state, err = OUTCOMES.get(outcome, OUTCOMES["delivered"])
        payload = sm.short_message
        if sm.esm_class & pdu.ESM_UDHI and payload:
            payload = payload[1 + payload[0] :]
        quoted = encoding.decode(payload[:40], sm.data_coding)[:20]
        date = self._now_date()
        text = (
            f"id:{message_id} sub:001 dlvrd:{'001' if state == 2 else '000'} submit date:{date} done date:{date} "
            f"stat:{stat} err:{err:03d} text:{quoted}"
        ).encode("ascii", "replace")
        receipt = pdu.short_message_body(
            ShortMessage(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=sm.destination_addr,
                dest_addr_ton=sm.source_addr_ton,
                dest_addr_npi=sm.source_addr_npi,
                destination_addr=sm.source_addr,
                esm_class=pdu.ESM_RECEIPT,
                short_message=text[:254],
                tlvs={
                    pdu.TLV_RECEIPTED_MESSAGE_ID: pdu.cstr(message_id),
                    pdu.TLV_NETWORK_ERROR_CODE: bytes((3,)) + err.to_bytes(2, "big"),
                    pdu.TLV_MESSAGE_STATE: bytes((state,)),
                },
            )
        )
        self.receipts_sent += 1
        # A receipt goes to any bind of the account, like a real SMSC; kept until one exists.
        if not session.bound or self.cross_receipts:
            others = [s for s in self._sessions if s.bound and s is not session]
            session = others[self.receipts_sent % len(others)] if others else session
        if session.bound:
            session.write(pdu.pdu(pdu.DELIVER_SM, session.next_seq(), receipt))
        else:
            self._waiting_receipts.append(receipt)

    async def inject_mo(self, source: str, destination: str, text: str, ack_within: float = 5.0) -> None:
        """Send an MO message to a bound ESME (as UDH parts when long) and wait for its deliver_sm_resp."""
        session = next((s for s in self._sessions if s.bound), None)
        if session is None:
            raise RuntimeError("no ESME is bound to the stand-in SMSC")
        self._mo_ref += 1
        ucs2, chunks = encoding.split(text, self._mo_ref)
        loop = asyncio.get_running_loop()
        acks = []
        for chunk in chunks:
            seq = session.next_seq()
            future: asyncio.Future[int] = loop.create_future()
            session.acks[seq] = future
            acks.append(future)
            sm = ShortMessage(
                source_addr_ton=1,
                source_addr_npi=1,
                source_addr=source.removeprefix("+"),
                dest_addr_ton=1,
                dest_addr_npi=1,
                destination_addr=destination.removeprefix("+"),
                esm_class=pdu.ESM_UDHI if len(chunks) > 1 else 0,
                data_coding=encoding.data_coding(ucs2, False),
                short_message=chunk,
            )
            session.write(pdu.deliver_sm(seq, sm))
        statuses = await asyncio.wait_for(asyncio.gather(*acks), ack_within)
        if any(statuses):
            raise RuntimeError(f"the ESME refused the MO: {[pdu.status_text(s) for s in statuses]}")
