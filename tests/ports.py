"""Ports for servers the tests start in other processes, which cannot be handed a socket bound to port 0."""

from __future__ import annotations

import itertools
import os
import random
import socket

# Below Linux's ephemeral range (32768 and up), where every bind to port 0 lands: a port picked here cannot be
# taken by another test's port-0 server between the pick and the child's bind. Each pytest-xdist process has
# a block of its own, so two processes never pick the same port either.
BASE = 20_000
BLOCK = 2_000
_picks = itertools.count(random.randrange(BLOCK))


def free_port() -> int:
    """A loopback port nobody listens on, from this test process's block."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    start = BASE + worker * BLOCK
    for _ in range(BLOCK):
        port = start + next(_picks) % BLOCK
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + BLOCK - 1}")
