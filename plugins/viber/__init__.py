"""Viber channel plugin: the vendor's HTTP JSON API, status callbacks and inbound messages."""
