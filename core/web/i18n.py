"""Languages of the UI (X-1): which one a request gets, and its gettext catalogue."""

from __future__ import annotations

import gettext
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar import Request

    from core.tenancy.resolver import PortalContext
    from core.tenancy.schemas import Actor

LANGUAGES = ("en", "es", "ru", "tr")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "ru": "Русский", "tr": "Türkçe"}
LANGUAGE_COOKIE = "lang"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language``; English is the source language and needs none."""
    return gettext.NullTranslations()


def pick_language(request: Request, actor: Actor | None, portal: PortalContext | None) -> str:
    """The signed-in user's language, else the picker's cookie, else the portal's default."""
    offered = portal.languages if portal else LANGUAGES
    if actor is not None and actor.language in offered:
        return actor.language
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in offered:
        return chosen
    return portal.default_language if portal else "en"
