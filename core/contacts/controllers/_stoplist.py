"""Stop List tab (CON-5): contacts with at least one blocked sender ID, and adding numbers to the stop list."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from core.actor import Actor
from core.contacts import services
from core.contacts.controllers._pages import contacts_table
from core.contacts.schemas import ContactFilter
from core.senders.services import list_senders
from core.web.shell import page

# The numbers a search on the "add to stop list" page offers at most; a longer list is narrowed by typing more.
SEARCH_ROWS = 50


class StopListPages(Controller):
    path = "/contacts/stoplist"
    include_in_schema = False

    @get("/")
    async def stoplist(self, request: Request, actor: NamedDependency[Actor]) -> Response:
        return await contacts_table(
            request, actor, "contacts/stoplist.html", "/contacts/stoplist", pinned="blocked_senders", blocked=True
        )

    @get("/add")
    async def add(self, request: Request, actor: NamedDependency[Actor], phone: FromQuery[str] = "") -> Response:
        """Find contacts by phone, then block chosen sender IDs (or all) for the ones ticked."""
        found = None
        if phone.strip():
            found = await services.list_contacts(actor, ContactFilter(phone=phone.strip()[:40], per_page=SEARCH_ROWS))
        return await page(
            request,
            actor,
            "contacts/stoplist_add.html",
            {"phone": phone, "found": found, "senders": await list_senders(actor, actor.partner_id)},
        )
