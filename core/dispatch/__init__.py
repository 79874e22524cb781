"""Dispatch: expansion, batching, sending, delivery reports and sweeping (DSP-1…6)."""
