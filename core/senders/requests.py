"""Sender ID requests (SID-1, SID-2): a partner asks its parent for a sender ID; confirmed, the sender is enabled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from core.actor import Actor
from core.db import json_value, must_exist, unique_or, write_transaction
from core.errors import Conflict, InvalidInput, NotFound
from core.numbering.normalise import InvalidNumber, normalise
from core.plugins import registries
from core.senders.schemas import SenderRequestCreate, SenderRequestDocument, SenderView
from core.senders.services import REQUEST_KIND, check_name, sender_view
from core.senders.tables import Sender
from core.tenancy import audit
from core.tenancy import requests as chain
from core.tenancy.schemas import PartnerOptions, RequestView
from core.tenancy.scope import owned
from core.tenancy.tables import Partner
from core.web.forms import check_web_address
from core.web.i18n import N_

KIND = REQUEST_KIND
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS = 10
PDF_MAGIC = b"%PDF-"
DOCUMENTS_DIR = "sender_requests"
WHATSAPP = "whatsapp"
MAX_LOGO_BYTES = 5 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
IMAGE_MAGIC = (PNG_MAGIC, b"\xff\xd8\xff")  # PNG, JPEG


async def _enable(view: RequestView) -> None:
    await Sender.update({Sender.status: "enabled"}).where(
        (Sender.id == view.payload["sender_id"]) & (Sender.status == "waiting")
    )


async def _drop(view: RequestView) -> None:
    """A declined or canceled request leaves no sender behind, so the same name can be asked for again."""
    await Sender.delete().where((Sender.id == view.payload["sender_id"]) & (Sender.status == "waiting"))


def register() -> None:
    """Tie the sender-ID kind into the one request chain (called at start-up)."""
    chain.register_kind(chain.RequestKind(name=KIND, label=N_("Sender ID"), on_confirmed=_enable, on_dropped=_drop))


def check_documents(documents: list[SenderRequestDocument]) -> None:
    """PDFs of at most 10 MB each, judged by their content: a renamed picture is not a PDF."""
    if len(documents) > MAX_DOCUMENTS:
        raise InvalidInput(f"Attach at most {MAX_DOCUMENTS} documents", field="documents")
    for document in documents:
        if len(document.content) > MAX_DOCUMENT_BYTES:
            raise InvalidInput(f"{document.filename}: a document may have at most 10 MB", field="documents")
        if not document.content.startswith(PDF_MAGIC):
            raise InvalidInput(f"{document.filename}: not a PDF document", field="documents")


async def _check_channel(actor: Actor, channel: str) -> None:
    provider = registries().channels.get(channel)
    if provider is None:
        raise InvalidInput(f"Unknown channel {channel!r}", field="channel")
    row = must_exist(await Partner.select(Partner.options).where(Partner.id == actor.partner_id).first())
    options = msgspec.convert(json_value(row["options"]) or {}, PartnerOptions, strict=False)
    if options.channels and channel not in options.channels:
        raise InvalidInput(f"Your company may not send on {provider.label}; ask your provider", field="channel")


def check_whatsapp(data: SenderRequestCreate, logo: SenderRequestDocument | None) -> dict[str, str]:
    """The WhatsApp profile of a request (SID-1): the Business Manager ID and a phone number are required, the
    rest optional; the values to keep, normalised. Raises InvalidInput naming the first wrong field."""
    manager = data.business_manager_id.strip()
    if not manager:
        raise InvalidInput(N_("Give the Business Manager ID of the WhatsApp account"), field="business_manager_id")
    if not manager.isdigit() or not 5 <= len(manager) <= 20:
        raise InvalidInput(N_("A Business Manager ID has 5 to 20 digits"), field="business_manager_id")
    if not data.phone.strip():
        raise InvalidInput(N_("Give the phone number the WhatsApp account signs up with"), field="phone")
    try:
        phone = normalise(data.phone)
    except InvalidNumber as exc:
        raise InvalidInput(f"Invalid phone number: {exc}", field="phone") from None
    check_web_address(data.website.strip(), "website")
    if logo is not None:
        if len(logo.content) > MAX_LOGO_BYTES:
            raise InvalidInput(N_("The logo may have at most 5 MB"), field="logo")
        if not logo.content.startswith(IMAGE_MAGIC):
            raise InvalidInput(N_("The logo must be a PNG or JPEG picture"), field="logo")
    return {
        "business_manager_id": manager,
        "phone": phone,
        "description": data.description.strip(),
        "address": data.address.strip(),
        "email": data.email.strip(),
        "website": data.website.strip(),
    }


def _safe_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name.strip() or "document.pdf"
    return name[:120]


def _store(var_dir: str, partner_id: int, documents: list[SenderRequestDocument]) -> list[dict[str, object]]:
    """Write the files under the var dir by a random name; the user's file name is kept only as a label."""
    folder = Path(DOCUMENTS_DIR) / str(partner_id)
    (Path(var_dir) / folder).mkdir(parents=True, exist_ok=True)
    stored = []
    for document in documents:
        relative = folder / f"{uuid.uuid4().hex}{Path(_safe_name(document.filename)).suffix.lower() or '.pdf'}"
        (Path(var_dir) / relative).write_bytes(document.content)
        stored.append({"name": _safe_name(document.filename), "path": str(relative), "size": len(document.content)})
    return stored


async def request_sender(
    actor: Actor,
    data: SenderRequestCreate,
    documents: list[SenderRequestDocument],
    *,
    var_dir: str,
    logo: SenderRequestDocument | None = None,
) -> RequestView:
    """Reserve the name as a waiting sender and put the request into the parent's inbox, in one transaction.

    ``logo``: WhatsApp's profile picture, kept as the request's first attachment.
    """
    name = data.name.strip()
    check_name(name)
    await _check_channel(actor, data.channel)
    check_documents(documents)
    profile = check_whatsapp(data, logo) if data.channel == WHATSAPP else {}
    if logo is not None and profile:
        suffix = ".png" if logo.content.startswith(PNG_MAGIC) else ".jpg"
        documents = [SenderRequestDocument(filename=f"logo{suffix}", content=logo.content), *documents]
    taken = Conflict(f"You already have or asked for the {data.channel} sender ID {name!r}", field="name")
    if await Sender.exists().where(owned(Sender, actor) & (Sender.channel == data.channel) & (Sender.name == name)):
        raise taken
    stored = _store(var_dir, actor.partner_id, documents)
    try:
        with unique_or(taken):  # the same request sent twice at once: the sender's unique index keeps one
            async with write_transaction():
                rows = await Sender.insert(
                    Sender(
                        partner=actor.partner_id,
                        channel=data.channel,
                        name=name,
                        status="waiting",
                        created_at=datetime.now(UTC),
                    )
                ).returning(Sender.id)
                request_id = await chain.create_request(
                    actor,
                    kind=KIND,
                    subject=f"{data.channel} sender ID {name}",
                    payload={
                        "sender_id": int(rows[0]["id"]),
                        "channel": data.channel,
                        "name": name,
                        "comment": data.comment.strip(),
                        **profile,
                    },
                    attachments=stored,
                )
    except BaseException:
        for item in stored:
            (Path(var_dir) / str(item["path"])).unlink(missing_ok=True)
        raise
    return await chain.get_request(actor, request_id)


async def own_requests(actor: Actor) -> list[RequestView]:
    return await chain.list_own(actor, kind=KIND)


async def own_senders(actor: Actor) -> list[SenderView]:
    """Every sender ID of the actor's partner, whatever its status (SID-2)."""
    rows = await Sender.select().where(owned(Sender, actor)).order_by(Sender.channel).order_by(Sender.name)
    return [sender_view(r) for r in rows]


async def unsubscribe(actor: Actor, sender_id: int, *, ip: str = "") -> SenderView:
    """The partner gives an enabled sender ID up; only its parent's owner could enable it again."""
    row = await Sender.select().where((Sender.id == sender_id) & owned(Sender, actor)).first()
    if row is None:
        raise NotFound("Sender ID")
    if row["status"] != "enabled":
        raise Conflict("Only an enabled sender ID can be unsubscribed")
    async with write_transaction():
        await Sender.update({Sender.status: "disabled"}).where((Sender.id == sender_id) & (Sender.status == "enabled"))
        await chain.follow_up(KIND, actor.partner_id, "sender_id", sender_id, "unsubscribed")
        await audit.record(
            actor,
            "sender.unsubscribe",
            f"Unsubscribed from {row['channel']} sender ID {row['name']!r}",
            object_type="sender",
            object_id=sender_id,
            ip=ip,
            name=row["name"],
            params={"channel": row["channel"]},
        )
    return sender_view(must_exist(await Sender.select().where(Sender.id == sender_id).first()))
