"""Campaigns: the model, its state machine, the wizard's rules and scheduling (CMP-1…5)."""
