"""Campaign tests share the dispatch tests' SMS world (a stand-in SMSC, a rate plan, a funded end user)."""

from tests.core.dispatch.conftest import sms  # noqa: F401 — the fixture, shared
