"""SMPP 3.4 PDU codec: struct-based encode/decode of the PDUs the client and the stand-in exchange."""

from __future__ import annotations

import struct

import msgspec

HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number
HEADER_SIZE = 16
_TLV = struct.Struct(">HH")
_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")

# Command ids; a response is its request's id | 0x80000000.
GENERIC_NACK = 0x80000000
BIND_TRANSCEIVER = 0x00000009
BIND_TRANSCEIVER_RESP = 0x80000009
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015
RESPONSE_BIT = 0x80000000

# command_status values we act on or produce (smpplib/consts.py).
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RSUBMITFAIL = 0x45
ESME_RTHROTTLED = 0x58
ESME_RUNKNOWNERR = 0xFF

STATUS_TEXT = {
    ESME_ROK: "ok",
    ESME_RINVMSGLEN: "invalid message length",
    ESME_RINVCMDLEN: "invalid command length",
    ESME_RINVCMDID: "invalid command id",
    ESME_RINVBNDSTS: "incorrect bind status",
    ESME_RALYBND: "already bound",
    ESME_RSYSERR: "system error",
    ESME_RINVSRCADR: "invalid source address",
    ESME_RINVDSTADR: "invalid destination address",
    ESME_RBINDFAIL: "bind failed",
    ESME_RINVPASWD: "invalid password",
    ESME_RINVSYSID: "invalid system_id",
    ESME_RMSGQFUL: "message queue full",
    ESME_RSUBMITFAIL: "submit_sm failed",
    ESME_RTHROTTLED: "throttled",
    ESME_RUNKNOWNERR: "unknown error",
}


def status_text(status: int) -> str:
    """A person-readable name for a command_status, e.g. "invalid password (0x0000000E)"."""
    return f"{STATUS_TEXT.get(status, 'vendor-specific error')} (0x{status:08X})"


# TLV tags.
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_SC_INTERFACE_VERSION = 0x0210
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_MESSAGE_STATE = 0x0427

# esm_class bits.
ESM_RECEIPT = 0x04
ESM_TYPE_MASK = 0x3C
ESM_UDHI = 0x40


class PduError(ValueError):
    """A PDU that cannot be decoded (truncated, missing terminator)."""


class ShortMessage(msgspec.Struct, kw_only=True, gc=False):
    """The body of a submit_sm or deliver_sm (both share one layout), decoded."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: dict[int, bytes] = {}


class Bind(msgspec.Struct, kw_only=True, gc=False):
    """The body of a bind_transceiver."""

    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = 0x34
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


# --- encoding -------------------------------------------------------------------------------------------------


def cstr(value: str) -> bytes:
    """A C-octet string: ASCII plus the NUL terminator (SMPP addresses and ids are ASCII)."""
    return value.encode("ascii") + b"\0"


def tlv(tag: int, value: bytes) -> bytes:
    return _TLV.pack(tag, len(value)) + value


def tlv_u8(tag: int, value: int) -> bytes:
    return _TLV.pack(tag, 1) + _U8.pack(value)


def tlv_u16(tag: int, value: int) -> bytes:
    return _TLV.pack(tag, 2) + _U16.pack(value)


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    """Header + body; command_length counts the header itself."""
    return HEADER.pack(HEADER_SIZE + len(body), command_id, status, sequence) + body


def bind_transceiver(sequence: int, system_id: str, password: str, system_type: str = "") -> bytes:
    # interface_version 0x34, addr_ton/addr_npi 0, empty address_range: we receive for every address.
    body = cstr(system_id) + cstr(password) + cstr(system_type) + b"\x34\x00\x00\x00"
    return pdu(BIND_TRANSCEIVER, sequence, body)


def bind_transceiver_resp(sequence: int, status: int, system_id: str) -> bytes:
    body = cstr(system_id) + tlv_u8(TLV_SC_INTERFACE_VERSION, 0x34) if status == ESME_ROK else b""
    return pdu(BIND_TRANSCEIVER_RESP, sequence, body, status)


def short_message_body(sm: ShortMessage) -> bytes:
    """The shared submit_sm/deliver_sm body; TLVs follow in tag order."""
    text = sm.short_message
    parts = [
        cstr(sm.service_type),
        bytes((sm.source_addr_ton, sm.source_addr_npi)),
        cstr(sm.source_addr),
        bytes((sm.dest_addr_ton, sm.dest_addr_npi)),
        cstr(sm.destination_addr),
        bytes((sm.esm_class, sm.protocol_id, sm.priority_flag)),
        cstr(sm.schedule_delivery_time),
        cstr(sm.validity_period),
        bytes((sm.registered_delivery, sm.replace_if_present_flag, sm.data_coding, sm.sm_default_msg_id, len(text))),
        text,
    ]
    parts.extend(tlv(tag, value) for tag, value in sm.tlvs.items())
    return b"".join(parts)


def submit_sm_body(
    source_ton: int, source_npi: int, source: bytes, destination: bytes, esm_class: int, coding: int, text: bytes
) -> bytes:
    """The client's hot path: a submit_sm body in one bytes-format call (empty service_type, schedule and
    validity, destination TON/NPI 1/1, registered_delivery 1), equal to short_message_body() of the same."""
    return b"\0%c%c%s\0\x01\x01%s\0%c\0\0\0\0\x01\0%c\0%c%s" % (
        source_ton,
        source_npi,
        source,
        destination,
        esm_class,
        coding,
        len(text),
        text,
    )


def submit_sm(sequence: int, sm: ShortMessage) -> bytes:
    return pdu(SUBMIT_SM, sequence, short_message_body(sm))


def deliver_sm(sequence: int, sm: ShortMessage) -> bytes:
    return pdu(DELIVER_SM, sequence, short_message_body(sm))


def submit_sm_resp(sequence: int, status: int, message_id: str = "") -> bytes:
    # A refused submit carries no body (SMPP 3.4 §4.4.2: message_id only when command_status is 0).
    return pdu(SUBMIT_SM_RESP, sequence, cstr(message_id) if status == ESME_ROK else b"", status)


def deliver_sm_resp(sequence: int, status: int = ESME_ROK) -> bytes:
    return pdu(DELIVER_SM_RESP, sequence, b"\0", status)  # message_id is unused and NULL


def enquire_link(sequence: int) -> bytes:
    return pdu(ENQUIRE_LINK, sequence)


def enquire_link_resp(sequence: int) -> bytes:
    return pdu(ENQUIRE_LINK_RESP, sequence)


def unbind(sequence: int) -> bytes:
    return pdu(UNBIND, sequence)


def unbind_resp(sequence: int) -> bytes:
    return pdu(UNBIND_RESP, sequence)


def generic_nack(sequence: int, status: int) -> bytes:
    return pdu(GENERIC_NACK, sequence, b"", status)


# --- decoding -------------------------------------------------------------------------------------------------


def split_frames(buffer: bytearray) -> list[tuple[int, int, int, bytes]]:
    """Cut every complete PDU off the front of ``buffer`` as (command_id, status, sequence, body).

    Raises PduError on a command_length below 16 or absurdly large: the stream cannot be resynchronised.
    """
    frames = []
    pos, end = 0, len(buffer)
    unpack = HEADER.unpack_from
    while end - pos >= HEADER_SIZE:
        length, command_id, status, sequence = unpack(buffer, pos)
        if length < HEADER_SIZE or length > 70_000:
            raise PduError(f"invalid command_length {length}")
        if end - pos < length:
            break
        frames.append((command_id, status, sequence, bytes(buffer[pos + HEADER_SIZE : pos + length])))
        pos += length
    if pos:
        del buffer[:pos]
    return frames


def _cstring(body: bytes, pos: int) -> tuple[str, int]:
    end = body.find(b"\0", pos)
    if end < 0:
        raise PduError("C-octet string without its NUL terminator")
    return body[pos:end].decode("latin-1"), end + 1


def decode_tlvs(body: bytes, pos: int) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    end = len(body)
    while pos + 4 <= end:
        tag, length = _TLV.unpack_from(body, pos)
        pos += 4
        if pos + length > end:
            raise PduError(f"TLV 0x{tag:04X} runs past the end of the PDU")
        tlvs[tag] = body[pos : pos + length]
        pos += length
    return tlvs


def decode_short_message(body: bytes) -> ShortMessage:
    """Decode a submit_sm or deliver_sm body."""
    try:
        service_type, pos = _cstring(body, 0)
        source_ton, source_npi = body[pos], body[pos + 1]
        source, pos = _cstring(body, pos + 2)
        dest_ton, dest_npi = body[pos], body[pos + 1]
        dest, pos = _cstring(body, pos + 2)
        esm_class, protocol_id, priority = body[pos], body[pos + 1], body[pos + 2]
        schedule, pos = _cstring(body, pos + 3)
        validity, pos = _cstring(body, pos)
        registered, replace, coding, default_id, length = body[pos : pos + 5]
    except (IndexError, ValueError) as exc:
        raise PduError(f"truncated short message PDU: {exc}") from None
    pos += 5
    if pos + length > len(body):
        raise PduError("sm_length runs past the end of the PDU")
    return ShortMessage(
        service_type=service_type,
        source_addr_ton=source_ton,
        source_addr_npi=source_npi,
        source_addr=source,
        dest_addr_ton=dest_ton,
        dest_addr_npi=dest_npi,
        destination_addr=dest,
        esm_class=esm_class,
        protocol_id=protocol_id,
        priority_flag=priority,
        schedule_delivery_time=schedule,
        validity_period=validity,
        registered_delivery=registered,
        replace_if_present_flag=replace,
        data_coding=coding,
        sm_default_msg_id=default_id,
        short_message=body[pos : pos + length],
        tlvs=decode_tlvs(body, pos + length) if pos + length < len(body) else {},
    )


def decode_bind(body: bytes) -> Bind:
    try:
        system_id, pos = _cstring(body, 0)
        password, pos = _cstring(body, pos)
        system_type, pos = _cstring(body, pos)
        version, ton, npi = body[pos], body[pos + 1], body[pos + 2]
        address_range, _ = _cstring(body, pos + 3)
    except (IndexError, ValueError) as exc:
        raise PduError(f"truncated bind PDU: {exc}") from None
    return Bind(
        system_id=system_id,
        password=password,
        system_type=system_type,
        interface_version=version,
        addr_ton=ton,
        addr_npi=npi,
        address_range=address_range,
    )


def decode_message_id(body: bytes) -> str:
    """The message_id of a submit_sm_resp (or the system_id of a bind resp); "" when the body is empty."""
    end = body.find(b"\0")
    return body[: end if end >= 0 else len(body)].decode("latin-1")
