"""Issue 18's untranslated-text crawl: every page as every role in the pseudo-language, no text outside markers.

Every user and portal speaks the pseudo-language (tests/core/web/pseudo.py), where each catalogue string shows
as ⟦…⟧. What a page shows outside the markers either is user data (a name, a number, a date) or was never
looked up in the catalogue: the failure names the role, the page, where the text is and the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import available_timezones

import pytest

from core.accounts.tables import User
from core.contacts.tables import ContactImport
from core.message_templates.tables import MessageTemplate, ReplyTemplate
from core.settings import load_settings
from core.tenancy.resolver import resolver
from core.tenancy.tables import PartnerRequest, PortalHost, PortalRecord
from core.web.i18n import LANGUAGE_NAMES, LANGUAGES
from core.web.templating import DATE_FORMATS
from core.web.themes import available_themes, load_theme
from tests.conftest import asgi_client, reset_state
from tests.core.web.crawl import WRITABLE, add_objects, page_urls, shown_texts
from tests.core.web.pseudo import PSEUDO, pseudo_language, unmarked
from tests.factories import World, make_world, sign_in

# What may show outside markers once the fixture's own texts are cut out: digits with their separators and
# signs (amounts, counts, dates, times, phone numbers, ids), punctuation, the symbols of the pages' controls and
# emoji (the wizard's picker: pictures, the same in every language).
NEUTRAL = re.compile(
    r"^[\s\d.,:;/+\-–—−%#·•|()\[\]{}<>=×*…'\"«»!?@_&→←↑↓▼↕✓✕✗⠿⋯└\u2300-\u27bf\u2b00-\u2bff\U0001f300-\U0001faff]*$"  # noqa: RUF001
)
# Words that are the same in every language, by pattern: a message variable ({first_name}), a URL, and an audit
# action's key (the log's filter lists them as its table's code column shows them).
VARIABLE = re.compile(r"\{[a-z][a-z0-9_]*\}")
CODES = re.compile(r"\{[a-z][a-z0-9_]*\}|https?://\S*|^[a-z_]+(?:\.[a-z_]+)+$")
# ... and by value: the currency of the fixture; product, program and format names; the date formats' patterns
# (the pickers show them as written); the theme folders; the IANA time zone names (the time zone picker); codes
# that placeholders give as examples (an ISO country code, a host name).
NAMES = {
    *("EUR", "SMS", "Viber", "WhatsApp", "cURL", "Python", "JavaScript", "Node.js", "CSV", "UTF-8"),
    *("PT", "go.example.com"),
    *DATE_FORMATS,
    *available_themes(),
    *available_timezones(),
}


class Crawl:
    def __init__(self, world: World, pages: list[str], data: list[str]) -> None:
        self.world, self.pages = world, pages
        # Whole words only: a two-letter language code must not eat the middle of an English word.
        self.data = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, data)) + r")(?!\w)")


@pytest.fixture(autouse=True)
async def clean_state() -> AsyncIterator[None]:
    """One world for the module's tests (built once by ``crawl``) instead of conftest's empty one per test."""
    yield


@pytest.fixture(scope="module")
async def crawl(app: object, redis_url: str) -> AsyncIterator[Crawl]:
    await reset_state(redis_url)
    world = await make_world()
    client = asgi_client(app, world.a.host)
    await add_objects(app, world, client)
    await client.aclose()
    # Sign-up open, so that its pages render too.
    await PortalRecord.update({PortalRecord.self_registration: True}, force=True)
    # Every user and portal speaks the pseudo-language, as if they had chosen it.
    await User.update({User.language: PSEUDO}, force=True)
    await PortalRecord.update(
        {PortalRecord.default_language: PSEUDO, PortalRecord.languages: ["en", PSEUDO]}, force=True
    )
    resolver.clear()
    with pseudo_language():
        yield Crawl(world, page_urls(app, world), await _user_data())
    await reset_state(redis_url)


async def _user_data() -> list[str]:
    """The fixture's own texts (names, e-mails, hosts, free text), longest first so that none is cut in two."""
    # Language names are written in their own language; the picker shows the codes too.
    texts = (
        NAMES | set(LANGUAGE_NAMES.values()) | {code.upper() for code in [*LANGUAGES, PSEUDO]} | {*LANGUAGES, PSEUDO}
    )
    # Themes' brand names and taglines are the tenant's own words.
    texts |= {text for slug in available_themes() for text in (load_theme(slug).brand_name, load_theme(slug).tagline)}
    columns = {
        **WRITABLE,
        User: ("first_name", "last_name", "email"),
        PortalHost: ("host",),
        PortalRecord: ("slug", "brand_name"),
        PartnerRequest: ("subject", "payload", "attachments"),
        MessageTemplate: ("name", "content"),
        ReplyTemplate: ("name", "keywords", "text"),
    }
    for table, names in columns.items():
        for row in await table.select(*(getattr(table, name) for name in names)):
            texts.update(_strings(row))
    # The mapping page shows the uploaded file's first row.
    for upload in await ContactImport.select(ContactImport.stored_path):
        texts.update(_first_row(upload["stored_path"]))
    # A message text may be shown in pieces around its variables ("Hello {first_name}").
    texts |= {piece.strip() for text in list(texts) for piece in VARIABLE.split(text) if piece.strip()}
    # The avatar shows the user's initials.
    texts |= {f"{u['first_name'][:1]}{u['last_name'][:1]}" for u in await User.select(User.first_name, User.last_name)}
    return sorted(texts, key=len, reverse=True)


def _first_row(stored_path: str) -> list[str]:
    return (Path(load_settings().var_dir) / stored_path).read_text().splitlines()[0].split(",")


def _strings(value: object) -> set[str]:
    """Every string in a row, JSON columns (a request's comment and file names) included."""
    if isinstance(value, str):
        try:
            return {value} | _strings(json.loads(value)) if value[:1] in "[{" else {value}
        except ValueError:
            return {value}
    if isinstance(value, dict):
        return {s for item in value.values() for s in _strings(item)}
    if isinstance(value, list):
        return {s for item in value for s in _strings(item)}
    return set()


def _english(text: str, data: re.Pattern[str]) -> str:
    """The part of ``text`` that is neither marked nor user data nor neutral; empty when there is none."""
    rest = data.sub(" ", CODES.sub(" ", unmarked(text)))
    return "" if NEUTRAL.match(rest) else " ".join(rest.split())


ROLES = {
    "visitor": (lambda w: w.a.host, None),
    "owner-admin": (lambda w: w.owner_host, lambda w: "owner@main.test"),
    "reseller-admin": (lambda w: w.a.host, lambda w: w.a.reseller_admin),
    "reseller-operator": (lambda w: w.a.host, lambda w: w.a.reseller_operator),
    "end-user-admin": (lambda w: w.a.host, lambda w: w.a.end_user_admin),
    "end-user-operator": (lambda w: w.a.host, lambda w: w.a.end_user_operator),
}


@pytest.mark.parametrize("role", list(ROLES))
async def test_every_page_shows_only_catalogue_text_or_user_data(app, crawl: Crawl, role: str) -> None:
    host, email = ROLES[role]
    client = asgi_client(app, host(crawl.world))
    try:
        if email is not None:
            assert (await sign_in(client, email(crawl.world))).status_code in (302, 303)
        english, broken, seen = [], [], 0
        for url in crawl.pages:
            response = await client.get(url)
            if response.status_code >= 500:
                broken.append(f"GET {url}: {response.status_code}")
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            seen += 1
            for shown in shown_texts(response.text):
                if shown.where == "code":
                    continue
                left = _english(shown.text, crawl.data)
                if left:
                    english.append(f"{url} [{shown.where}] {left!r}")
    finally:
        await client.aclose()
    assert not broken, broken
    assert not english, f"{role} sees text outside the catalogue:\n" + "\n".join(sorted(set(english)))
    assert seen >= (4 if email is None else 20), seen
