"""Tables of the built-in shortener: one short link per recipient and the clicks on them."""

from __future__ import annotations

from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class ShortLinkRow(Table, tablename="short_link"):
    """One recipient's code on a short domain (URL-2); partner and campaign are plain ids (the core's rows)."""

    id: Serial  # Piccolo adds this primary key itself; declared so type checkers see it

    code = Varchar(length=16, unique=True)
    domain = Varchar(length=253)
    url = Text()
    partner = Integer(index=True)
    campaign = Integer(null=True, default=None, index=True)
    destination = Varchar(length=15, default="", help_text="The recipient's number")
    created_at = Timestamptz()
    inactive_at = Timestamptz(null=True, default=None, index=True, help_text="Archived from then on: 404")


class LinkClick(Table, tablename="link_click"):
    """One visit of a short link, copied with its partner, campaign and domain so statistics need no join."""

    id: Serial

    link = Integer(index=True)
    partner = Integer(index=True)
    campaign = Integer(null=True, default=None, index=True)
    domain = Varchar(length=253, index=True)
    clicked_at = Timestamptz(index=True)
    os = Varchar(length=60, default="")
    browser = Varchar(length=60, default="")
    device = Varchar(length=60, default="")
    entry = Varchar(length=40, null=True, default=None, help_text="The stream entry it came from: stored once")
