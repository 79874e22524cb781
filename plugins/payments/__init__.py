"""Payments plugin: payment systems partners top up their balance with."""
