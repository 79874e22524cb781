"""Fixtures of the statistics tests: the SMS world of the dispatch tests (a stand-in SMSC, a plan, funds)."""

from tests.core.dispatch.conftest import sms  # noqa: F401 — the fixture, shared
