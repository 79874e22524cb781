"""Hypothesis profile for the property tests: derandomized, no example database, a deadline per example."""

from datetime import timedelta

from hypothesis import settings

# Derandomized so a run is reproducible in CI; no database so nothing is written under .hypothesis/.
settings.register_profile("ci", max_examples=100, deadline=timedelta(milliseconds=500), derandomize=True, database=None)
settings.load_profile("ci")
