"""The pseudo-language of the tests (issue 18): every string the code marks for the catalogue, wrapped in ⟦…⟧.

Its catalogue is extracted from the sources at test time, as `make i18n` does, so a string marked today is
wrapped even before the lead's next `make i18n`; text a page shows outside the markers was never looked up.
"""

from __future__ import annotations

import gettext
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.web.i18n import install_catalogue
from core.web.templating import environment

ROOT = Path(__file__).resolve().parents[3]
# Two letters, as the language columns hold; assigned to no language in ISO 639-1.
PSEUDO = "zz"
OPEN, CLOSE = "⟦", "⟧"
# The innermost marked text: a translated string may hold another (a status inside a sentence).
_MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")


def pseudo_catalogue() -> gettext.GNUTranslations:
    """Every msgid of the sources, singular, plural and with context, translated as itself in markers."""
    with tempfile.TemporaryDirectory() as folder:
        pot = Path(folder) / "messages.pot"
        ignored = "--ignore-dirs=.* ._ node_modules var tests"
        CommandLineInterface().run(
            ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_", ignored, "-o", str(pot), str(ROOT)]
        )
        with pot.open("rb") as source:
            catalog = read_po(source, locale="en")  # English plural rule: form 0 for one, 1 for the rest
    for message in catalog:
        if message.id:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            wrapped = tuple(f"{OPEN}{text}{CLOSE}" for text in ids)
            message.string = wrapped if message.pluralizable else wrapped[0]
            message.flags.discard("fuzzy")
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@contextmanager
def pseudo_language() -> Iterator[str]:
    """Serve the pseudo-language as ``zz`` while inside; the app's Jinja environments are rebuilt on both sides."""
    install_catalogue(PSEUDO, pseudo_catalogue())
    environment.cache_clear()
    try:
        yield PSEUDO
    finally:
        install_catalogue(PSEUDO, None)
        environment.cache_clear()


def unmarked(text: str) -> str:
    """What is left of ``text`` once every marked string, nested ones included, is cut out."""
    while True:
        cut = _MARKED.sub(" ", text)
        if cut == text:
            return text
        text = cut
